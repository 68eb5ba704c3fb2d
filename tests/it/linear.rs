//! The CI half stays linear in its input (issues 20 and 22): `check`, `diff` and `explain` of a
//! stream four times as large take about four times as long, where the quadratic readers took
//! sixteen (each document was parsed after as many line breaks as preceded it, and every workflow
//! scanned the whole stream for its ExternalSecrets, bindings and owners). Never a wall time: each
//! test compares two measurements made moments apart in the same run, the fastest of three
//! interleaved runs each, against a bound halfway (geometrically) between linear and quadratic.
//! Also: `--max-input` and `ARTIFACT_REPOS_MAX_INPUT` raise the manifest bound, and the message at
//! the bound names them.

use artifact_repos::ci::manifests::{Manifest, parse};
use std::time::Instant;

/// Input four times as large may take at most this many times as long: linear is 4, quadratic 16.
const BOUND: f64 = 8.0;

/// Held while measuring: the tests of this file take turns, so none measures another's work.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How many times longer `large` takes than `small`: the fastest of three interleaved runs each.
fn ratio(small: impl Fn(), large: impl Fn()) -> f64 {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let (mut s, mut l) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        s = s.min(time(&small));
        l = l.min(time(&large));
    }
    l / s
}

/// A rendered stream of `n` registrations over `n / 10` tenants (the `tenant` layout, as
/// benches/gen_values.py writes them), with `changed` registrations' buckets renamed.
fn rendered(n: usize, changed: usize) -> String {
    let mut y = String::from(
        "artifactRepos:\n  layout: tenant\ns3:\n  enabled: true\n  bucket: platform-default\n  endpoint: s3.amazonaws.com\n  region: us-east-1\n  externalSecretPath: argo/platform/s3/default\nrepoRegistrations:\n",
    );
    let tenants = (n / 10).max(1);
    for i in 0..n {
        let t = i % tenants;
        let bucket = if i < changed {
            format!("moved-{i:05}")
        } else {
            format!("artifacts-{i:05}")
        };
        y.push_str(&format!(
            "- name: repo-{i:05}\n  repoUrl: https://git.example.com/team-{t:04}/repo-{i:05}.git\n  tenant: team-{t:04}\n  artifactBucket:\n    hostname: s3.us-west-2.amazonaws.com\n    bucket: {bucket}\n    region: us-west-2\n    keyPrefix: workflows/\n    externalSecretPath: argo/team-{t:04}/repo-{i:05}/s3\n"
        ));
    }
    let values = artifact_repos::yaml::parse_values("values.yaml", y.as_bytes()).unwrap();
    let out = artifact_repos::render::render(&values, &Default::default()).unwrap();
    artifact_repos::render::to_yaml_stream(&out)
}

fn load(name: &str, text: &str) -> Vec<Manifest> {
    artifact_repos::ci::manifests::load(&[(name.to_string(), text.as_bytes().to_vec())]).unwrap()
}

#[test]
fn many_small_documents_parse_in_time_proportional_to_their_number() {
    // The shape of issue 20's measurement: 12,000 small documents took 30 times as long as 2,000.
    let stream = |n: usize| -> String {
        (0..n)
            .map(|i| {
                format!(
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: ns-{}\ndata:\n  key: value-{i}\n",
                    i % 50
                )
            })
            .collect()
    };
    let (small, large) = (stream(1_500), stream(6_000));
    assert_eq!(parse("s", small.as_bytes()).unwrap().len(), 1_500);
    let r = ratio(
        || drop(parse("s", small.as_bytes()).unwrap()),
        || drop(parse("l", large.as_bytes()).unwrap()),
    );
    eprintln!("parse of 4x the documents: {r:.1}x");
    assert!(r < BOUND, "4x the documents took {r:.1}x as long");
    // A broken document at the end still names its line in the file.
    let broken = format!("{large}---\nkind: [\n");
    let err = parse("l", broken.as_bytes()).unwrap_err().to_string();
    let lines = large.lines().count();
    assert!(
        err.contains(&format!("at line {} column", lines + 3)),
        "{err}"
    );
}

#[test]
fn check_diff_and_explain_take_time_proportional_to_the_stream() {
    let (small, large) = (rendered(150, 0), rendered(600, 0));
    let (small_b, large_b) = (rendered(150, 3), rendered(600, 3));
    let (s, l) = (load("s", &small), load("l", &large));
    let (sb, lb) = (load("s", &small_b), load("l", &large_b));
    let options = artifact_repos::ci::check::Options::default();
    let check = |m: &[Manifest]| artifact_repos::ci::check::check(m, &options);
    let report = check(&l);
    assert_eq!(report.workflows, 600);
    assert!(!report.failed(), "{}", report.to_text());
    let r = ratio(|| drop(check(&s)), || drop(check(&l)));
    eprintln!("check of 4x the registrations: {r:.1}x");
    assert!(
        r < BOUND,
        "check: 4x the registrations took {r:.1}x as long"
    );

    let diff = |a: &[Manifest], b: &[Manifest]| artifact_repos::ci::diff::diff(a, b, false);
    assert_eq!(diff(&l, &lb).changed, 3, "{}", diff(&l, &lb).text);
    let r = ratio(|| drop(diff(&s, &sb)), || drop(diff(&l, &lb)));
    eprintln!("diff of 4x the registrations: {r:.1}x");
    assert!(r < BOUND, "diff: 4x the registrations took {r:.1}x as long");

    // Every WorkflowTemplate explained against the rest of the stream.
    let split = |m: &[Manifest]| -> (Vec<Manifest>, Vec<Manifest>) {
        m.iter()
            .cloned()
            .partition(|m| m.identity.kind == "WorkflowTemplate")
    };
    let (sw, sm) = split(&s);
    let (lw, lm) = split(&l);
    let explain =
        |w: &[Manifest], m: &[Manifest]| artifact_repos::ci::explain::explain(w, m, None, &options);
    let e = explain(&lw, &lm);
    assert!(e.complete, "{}", e.text);
    assert_eq!(e.text.matches("chain: complete").count(), 600);
    let r = ratio(|| drop(explain(&sw, &sm)), || drop(explain(&lw, &lm)));
    eprintln!("explain of 4x the registrations: {r:.1}x");
    assert!(
        r < BOUND,
        "explain: 4x the registrations took {r:.1}x as long"
    );

    // Parsing the stream itself (`load`) scales the same way.
    let r = ratio(|| drop(load("s", &small)), || drop(load("l", &large)));
    eprintln!("load of 4x the registrations: {r:.1}x");
    assert!(r < BOUND, "load: 4x the registrations took {r:.1}x as long");
}

/// `n` tenants, each in its own namespace with the smallest objects a workflow's chain needs: the
/// ConfigMap with its default repository, the ExternalSecret of its credentials, the service
/// account and its binding, and one Workflow. Small documents, so that whatever `check` and
/// `explain` do per workflow for every object of the stream shows at once.
fn tenants(n: usize) -> Vec<Manifest> {
    load("tenants.yaml", &tenants_text(n, "SecretStore"))
}

/// `tenants`, their ExternalSecrets from a store of `store_kind`.
fn tenants_text(n: usize, store_kind: &str) -> String {
    let mut y = String::new();
    for i in 0..n {
        // Through a ClusterSecretStore every tenant reads one Vault secret (the
        // `shared-credentials` warning); through a SecretStore each its own.
        let shared = if store_kind == "SecretStore" {
            format!("t/{i}")
        } else {
            "platform/s3".to_string()
        };
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: ns-{i}\n  annotations:\n    workflows.argoproj.io/default-artifact-repository: default\n  labels:\n    artifact-repos/tenant: t-{i}\ndata:\n  default: |\n    s3:\n      bucket: b-{i}\n      endpoint: s3.amazonaws.com\n      accessKeySecret: {{name: cred, key: accessKey}}\n      secretKeySecret: {{name: cred, key: secretKey}}\n\
---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: cred\n  namespace: ns-{i}\n  labels:\n    artifact-repos/tenant: t-{i}\nspec:\n  secretStoreRef: {{kind: {store_kind}, name: vault}}\n  data:\n  - {{secretKey: accessKey, remoteRef: {{key: {shared}, property: a}}}}\n  - {{secretKey: secretKey, remoteRef: {{key: {shared}, property: s}}}}\n\
---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: ns-{i}\n\
---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: runner\n  namespace: ns-{i}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: executor}}\nsubjects:\n- {{kind: ServiceAccount, name: runner}}\n\
---\napiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: wf\n  namespace: ns-{i}\n  labels:\n    artifact-repos/tenant: t-{i}\nspec:\n  serviceAccountName: runner\n  entrypoint: main\n"
        ));
    }
    y.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: executor\nrules:\n- {apiGroups: [argoproj.io], resources: [workflowtaskresults], verbs: [create, patch]}\n");
    y
}

#[test]
fn a_credential_shared_by_every_tenant_is_reported_in_time_proportional_to_them() {
    // Before, the warning listed every namespace once per ExternalSecret sharing the secret.
    let s = load("s.yaml", &tenants_text(1_000, "ClusterSecretStore"));
    let l = load("l.yaml", &tenants_text(4_000, "ClusterSecretStore"));
    let options = artifact_repos::ci::check::Options::default();
    let check = |m: &[Manifest]| artifact_repos::ci::check::check(m, &options);
    let report = check(&l);
    // One warning per Vault key (the two data entries read one key), every other user in `also`.
    assert_eq!(report.findings.len(), 1, "{}", report.to_text());
    assert_eq!(report.findings[0].also.len(), 3_999);
    assert!(
        report.findings[0]
            .problem
            .contains("is synced into 4000 namespaces of 4000 tenants: `ns-0`, `ns-1`, `ns-10`,"),
        "{}",
        report.findings[0].problem
    );
    assert!(report.findings[0].problem.ends_with(", and 3992 more"));
    let r = ratio(|| drop(check(&s)), || drop(check(&l)));
    eprintln!("check of 4x the tenants sharing a credential: {r:.1}x");
    assert!(r < BOUND, "check: 4x the tenants took {r:.1}x as long");
}

#[test]
fn check_and_explain_look_objects_up_in_constant_time() {
    // Before issue 20 every workflow scanned the stream for its ExternalSecrets, bindings,
    // registration owners and the controller's ConfigMap.
    let (s, l) = (tenants(500), tenants(2_000));
    let options = artifact_repos::ci::check::Options::default();
    let check = |m: &[Manifest]| artifact_repos::ci::check::check(m, &options);
    let report = check(&l);
    assert_eq!(report.workflows, 2_000);
    assert!(report.findings.is_empty(), "{}", report.to_text());
    let r = ratio(|| drop(check(&s)), || drop(check(&l)));
    eprintln!("check of 4x the tenants: {r:.1}x");
    assert!(r < BOUND, "check: 4x the tenants took {r:.1}x as long");
    let explain = |m: &[Manifest]| {
        let (w, rest): (Vec<Manifest>, Vec<Manifest>) = m
            .iter()
            .cloned()
            .partition(|m| m.identity.kind == "Workflow");
        artifact_repos::ci::explain::explain(&w, &rest, None, &options)
    };
    let e = explain(&l);
    assert!(e.complete, "{}", e.text);
    let r = ratio(|| drop(explain(&s)), || drop(explain(&l)));
    eprintln!("explain of 4x the tenants: {r:.1}x");
    assert!(r < BOUND, "explain: 4x the tenants took {r:.1}x as long");
}

#[test]
fn max_input_raises_the_bound_and_the_message_names_it() {
    let dir = std::env::temp_dir().join(format!("artifact-repos-max-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: b\ndata:\n  k: v\n";
    let text = doc.to_string() + &"# padding\n".repeat(300);
    std::fs::write(dir.join("m.yaml"), &text).unwrap();
    let run = |args: &[&str], env: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_artifact-repos"));
        c.args(args)
            .current_dir(&dir)
            .env_remove("ARTIFACT_REPOS_MAX_INPUT");
        if let Some(v) = env {
            c.env("ARTIFACT_REPOS_MAX_INPUT", v);
        }
        c.output().unwrap()
    };
    // Over the bound: exit 2, nothing on stdout, the flag and the variable named.
    for (args, env) in [
        (vec!["check", "m.yaml", "--max-input", "1Ki"], None),
        (vec!["check", "m.yaml"], Some("1Ki")),
        (vec!["diff", "m.yaml", "m.yaml", "--max-input", "2K"], None),
        (vec!["explain", "m.yaml", "-m", "m.yaml"], Some("1000")),
    ] {
        let out = run(&args, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.contains("m.yaml: input is more than the limit of")
                && stderr.contains("`--max-input BYTES` (or ARTIFACT_REPOS_MAX_INPUT)"),
            "{args:?} {env:?}: {stderr}"
        );
    }
    // Raised, by the flag, the variable, or the flag over a variable too small.
    for (args, env) in [
        (vec!["check", "m.yaml", "--max-input", "4Ki"], None),
        (vec!["check", "m.yaml"], Some("1Mi")),
        (vec!["check", "m.yaml", "--max-input", "1M"], Some("1Ki")),
        (vec!["diff", "m.yaml", "m.yaml", "--max-input", "4Ki"], None),
    ] {
        let out = run(&args, env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} {env:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A value that is no size is refused with what would be valid.
    let out = run(&["check", "m.yaml", "--max-input", "lots"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`lots` is not a size"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
