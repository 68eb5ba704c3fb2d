//! Regression tests for issue #11 ("Hardening"), one section per defect class, each run through the
//! real binary on inputs written for the purpose. Every test here failed before its fix, except the
//! ones marked as guards (they pin behaviour a fix must not break).

use crate::support::{self, run};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "artifact-repos-harden-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Class 11: terminal safety. Names and values from manifests never reach the terminal raw.

/// True when `s` holds a control character other than the line breaks and the ESC of our colors.
fn has_raw_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n')
}

/// A workflow whose names and values carry an ANSI sequence, an OSC title change, a bell, a
/// carriage return and a forged line.
const HOSTILE_WORKFLOW: &str = "apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: \"wf\\e[2J\\e]0;pwned\\a\"
  namespace: \"team-a\\nfinding[fake]: all good\"
spec:
  serviceAccountName: \"sa\\rchain: complete\"
  artifactRepositoryRef:
    configMap: \"cm\\e[31m\"
    key: \"k\\nforged: line\"
  templates: []
";

const HOSTILE_CONFIGMAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: \"artifact-repositories\\e[1m\"
  namespace: \"team-a\\u202e\"
  annotations:
    workflows.argoproj.io/default-artifact-repository: \"default\\ninjected\"
data:
  default: |
    s3:
      bucket: \"b\\e[5m\"
      endpoint: s3.example.com
";

#[test]
fn check_escapes_names_and_values() {
    let dir = scratch("check-escape");
    std::fs::write(
        dir.join("m.yaml"),
        format!("{HOSTILE_WORKFLOW}---\n{HOSTILE_CONFIGMAP}"),
    )
    .unwrap();
    let out = run(&["check", "m.yaml"], &dir, None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(!has_raw_control(&stdout), "{stdout:?}");
    assert!(stdout.contains("\\u{1b}[2J"), "{stdout}");
    // The forged lines stay inside the line they were written in.
    assert!(
        !stdout.lines().any(|l| l.starts_with("finding[fake]")),
        "{stdout}"
    );
    assert!(
        stdout.contains("team-a\\nfinding[fake]: all good"),
        "{stdout}"
    );
}

#[test]
fn explain_escapes_names_and_values() {
    let dir = scratch("explain-escape");
    std::fs::write(dir.join("wf.yaml"), HOSTILE_WORKFLOW).unwrap();
    std::fs::write(dir.join("m.yaml"), HOSTILE_CONFIGMAP).unwrap();
    let out = run(&["explain", "wf.yaml", "-m", "m.yaml"], &dir, None);
    let stdout = text(&out.stdout);
    assert!(!has_raw_control(&stdout), "{stdout:?}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("forged:")),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("chain: complete")),
        "{stdout}"
    );
    assert!(stdout.contains("\\u{1b}]0;pwned\\u{7}"), "{stdout}");
}

#[test]
fn diff_escapes_names_values_and_file_names() {
    let dir = scratch("diff-escape");
    let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\\e[2Jy\"\n  namespace: n\ndata:\n  a: \"1\\r+forged\"\n";
    let new = old.replace("1\\r+forged", "2\\e]0;t\\a");
    std::fs::write(dir.join("old.yaml"), old).unwrap();
    std::fs::write(dir.join("new\u{1b}[1m.yaml"), new).unwrap();
    let out = run(&["diff", "old.yaml", "new\u{1b}[1m.yaml"], &dir, None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(!has_raw_control(&stdout), "{stdout:?}");
    assert!(
        stdout.contains("changed: ConfigMap n/x\\u{1b}[2Jy"),
        "{stdout}"
    );
    assert!(stdout.contains("+++ new\\u{1b}[1m.yaml:1"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// Class 2 (diff part): credential-bearing annotations are masked like Secret data.

fn diff_of(name: &str, old: &str, new: &str) -> (Option<i32>, String) {
    let dir = scratch(name);
    std::fs::write(dir.join("old.yaml"), old).unwrap();
    std::fs::write(dir.join("new.yaml"), new).unwrap();
    let out = run(&["diff", "old.yaml", "new.yaml"], &dir, None);
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

#[test]
fn diff_masks_last_applied_configuration_on_any_kind() {
    let old = "apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: n
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"password\":\"hunter2-old\"}}'
    owner: team-a
data:
  a: \"1\"
";
    let new = old
        .replace("hunter2-old", "hunter2-new")
        .replace("owner: team-a", "owner: team-b");
    let (code, out) = diff_of("diff-last-applied", old, &new);
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
    assert!(
        out.contains("-    kubectl.kubernetes.io/last-applied-configuration: '*** (before)'"),
        "{out}"
    );
    assert!(
        out.contains("+    kubectl.kubernetes.io/last-applied-configuration: '*** (after)'"),
        "{out}"
    );
    // Ordinary annotations still show.
    assert!(out.contains("+    owner: team-b"), "{out}");
}

#[test]
fn diff_masks_annotations_that_carry_or_name_credentials() {
    let old = "apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: w
  namespace: n
  annotations:
    example.com/token: ghp_abcdefghijklmnopqrstuvwxyz0123456789
    example.com/note: AKIAIOSFODNN7EXAMPLE
spec: {}
";
    let new = old
        .replace("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_zyx")
        .replace("spec: {}", "spec: {entrypoint: main}");
    let (code, out) = diff_of("diff-credential-annotations", old, &new);
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("ghp_"), "{out}");
    assert!(!out.contains("AKIAIOSFODNN7EXAMPLE"), "{out}");
    assert!(out.contains("example.com/note: '***'"), "{out}");
}

#[test]
fn diff_masks_secrets_and_their_annotations_inside_lists() {
    let old = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: s
    namespace: n
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"k\":\"c2VjcmV0LW9sZA==\"}}'
  data:
    k: c2VjcmV0LW9sZA==
";
    let new = old.replace("c2VjcmV0LW9sZA==", "c2VjcmV0LW5ldw==");
    let (code, out) = diff_of("diff-list-secret", old, &new);
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("c2VjcmV0"), "{out}");
    assert!(out.contains("+  k: '*** (after)'"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Shared by the post-render classes: a Helm 3 carrier with one registration for tenant `team-a`.

const VALUES: &str = r#"{"repoRegistrations":[{"name":"app","repoUrl":"https://git.example.com/o/app.git","tenant":"team-a","artifactBucket":{"bucket":"team-a-artifacts","externalSecretPath":"team-a/s3"}}]}"#;

fn carrier() -> String {
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {VALUES}\n"
    )
}

fn post_render(input: &str) -> std::process::Output {
    run(
        &["post-render"],
        &std::env::temp_dir(),
        Some(input.as_bytes()),
    )
}

fn parses(s: &str) -> bool {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(s).all(|d| serde_yaml::Value::deserialize(d).is_ok())
}

/// Parses every document of `s` as YAML (panics with the error otherwise); returns the kinds.
fn kinds(s: &str) -> Vec<String> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(s) {
        let v = serde_yaml::Value::deserialize(doc)
            .unwrap_or_else(|e| panic!("output does not parse: {e}\n{s}"));
        if let Some(k) = v.get("kind").and_then(|k| k.as_str()) {
            out.push(k.to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Class 5: directives and BOMs.

/// A Deployment whose spec uses a tag handle that only its own `%TAG` directive defines.
const TAGGED_DEPLOYMENT: &str = "%TAG !e! tag:example.com,2024:\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec: !e!spec\n  replicas: 1\n";

#[test]
fn generated_documents_never_separate_a_directive_from_its_document() {
    let sa = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n...\n";
    for input in [
        format!("{sa}{TAGGED_DEPLOYMENT}{}", carrier()),
        format!("{}...\n{TAGGED_DEPLOYMENT}", carrier()),
        format!("{sa}%YAML 1.1\n{TAGGED_DEPLOYMENT}{}", carrier()),
    ] {
        let out = post_render(&input);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let k = kinds(&stdout);
        assert!(
            k.contains(&"Deployment".to_string()) && k.contains(&"ConfigMap".to_string()),
            "{k:?}"
        );
        // The directive still directly precedes its document, byte for byte.
        assert!(stdout.contains(TAGGED_DEPLOYMENT), "{stdout}");
    }
}

#[test]
fn a_bom_before_a_document_after_the_carrier_is_accepted() {
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n";
    for tail in [
        format!("\u{feff}---\n{dep}"),
        format!("...\n\u{feff}{dep}"),
        format!("\u{feff}%YAML 1.2\n---\n{dep}"),
        format!("...\n\u{feff}%YAML 1.2\n---\n{dep}"),
    ] {
        let input = format!("{}{tail}", carrier());
        let out = post_render(&input);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{tail:?}: {}",
            text(&out.stderr)
        );
        // Passed through byte for byte (the `...` may move: it ends whatever precedes).
        assert!(stdout.contains(&tail.replace("...\n", "")), "{stdout}");
        // libyaml (and go-yaml, its port) count a BOM as a column, so a BOM before `---` or `%`
        // in mid-stream does not parse there, in the input as in the output; where the input
        // parses, the output must too.
        if parses(&input) {
            assert!(
                kinds(&stdout).contains(&"Deployment".to_string()),
                "{stdout}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Class 1: a foreign document that claims a generated identity is caught however it is written.

/// Runs post-render on `doc` beside the carrier (carrier `namespace`), expecting a refusal that
/// names `identity`.
fn assert_collision(doc: &str, release_namespace: &str, identity: &str) {
    let input = format!(
        "{doc}{}",
        carrier().replace(
            "namespace: \"argo\"",
            &format!("namespace: \"{release_namespace}\"")
        )
    );
    let out = post_render(&input);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{doc}\nstderr: {stderr}");
    assert!(out.stdout.is_empty(), "{doc}: nothing on stdout");
    assert!(
        stderr.contains(&format!("{identity} is also generated by artifact-repos")),
        "{doc}\nstderr: {stderr}"
    );
}

const CM: &str = "ConfigMap team-a/artifact-repositories";

#[test]
fn collision_inside_a_list() {
    assert_collision(
        "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: artifact-repositories\n    namespace: team-a\n  data: {}\n",
        "argo",
        CM,
    );
    // A typed list: items without a kind take the list's kind minus `List`.
    assert_collision(
        "---\napiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: artifact-repositories, namespace: team-a}\n",
        "argo",
        CM,
    );
    // Any document with `items` is a list to Kubernetes' unstructured decoder.
    assert_collision(
        "---\napiVersion: v1\nkind: Whatever\nItems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: team-a}}\n",
        "argo",
        "Namespace team-a",
    );
}

#[test]
fn collision_through_merge_keys_and_anchors() {
    assert_collision(
        "---\nbase: &b {apiVersion: v1, kind: ConfigMap}\n<<: *b\nmetadata:\n  <<: {namespace: team-a}\n  name: artifact-repositories\n",
        "argo",
        CM,
    );
    assert_collision(
        "---\napiVersion: v1\n<<: [{kind: ConfigMap}, {kind: Secret}]\nmetadata: {name: artifact-repositories, namespace: team-a}\n",
        "argo",
        CM,
    );
}

#[test]
fn collision_through_tags() {
    // base64 of `ConfigMap` and of `artifact-repositories`.
    assert_collision(
        "---\napiVersion: v1\nkind: !!binary Q29uZmlnTWFw\nmetadata:\n  name: !!binary YXJ0aWZhY3QtcmVwb3NpdG9yaWVz\n  namespace: team-a\n",
        "argo",
        CM,
    );
    assert_collision(
        "---\napiVersion: !!str v1\nkind: !local ConfigMap\nmetadata: !meta\n  name: !<tag:example.com,2024:n> artifact-repositories\n  namespace: team-a\n",
        "argo",
        CM,
    );
}

#[test]
fn collision_through_escapes() {
    assert_collision(
        "---\napiVersion: v1\nkind: \"Config\\u004dap\"\nmetadata:\n  name: artifact-repositories\n  namespace: \"team\\x2da\"\n",
        "argo",
        CM,
    );
    assert_collision(
        "---\n{\"apiVersion\": \"v1\", \"kind\": \"Service\\u0041ccount\", \"metadata\": {\"name\": \"wf-runner\", \"namespace\": \"team-a\"}}\n",
        "argo",
        "ServiceAccount team-a/wf-runner",
    );
}

#[test]
fn collision_despite_duplicate_keys() {
    // A duplicate key elsewhere made the strict parser give up on the document.
    assert_collision(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: team-a\ndata:\n  a: \"1\"\n  a: \"2\"\n",
        "argo",
        CM,
    );
    // The last of duplicate keys is what Kubernetes applies (sigs.k8s.io/yaml, non-strict).
    assert_collision(
        "---\napiVersion: v1\nkind: Secret\nkind: ConfigMap\nmetadata:\n  name: other\n  name: artifact-repositories\n  namespace: team-a\n",
        "argo",
        CM,
    );
}

#[test]
fn collision_with_an_omitted_or_ignored_namespace() {
    // Omitted: Helm puts the object in the release namespace.
    assert_collision(
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: wf-runner\n",
        "team-a",
        "ServiceAccount team-a/wf-runner",
    );
    // A namespace on a cluster-scoped object is ignored by the API server.
    assert_collision(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  namespace: elsewhere\n",
        "argo",
        "Namespace team-a",
    );
}

#[test]
fn a_document_that_may_collide_and_cannot_be_read_is_refused() {
    let doc = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: team-a\ndata: {a: [\n";
    let out = post_render(&format!("{doc}{}", carrier()));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("document 1: invalid YAML"), "{stderr}");
    assert!(stderr.contains("cannot be checked"), "{stderr}");
}

#[test]
/// Guard.
fn unrelated_odd_documents_still_pass_byte_for_byte() {
    // Lists, merge keys, tags and duplicate keys that claim nothing we generate.
    let others = "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: other, namespace: team-a}}\n---\nb: &b {kind: ConfigMap}\n<<: *b\napiVersion: v1\nmetadata: {name: artifact-repositories, namespace: team-b}\n---\napiVersion: v1\nkind: !!str ConfigMap\nmetadata: {name: x, namespace: team-a}\ndata: {a: 1, a: 2}\n";
    let out = post_render(&format!("{others}{}", carrier()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(others.trim_start_matches("---\n")));
}

// ---------------------------------------------------------------------------------------------
// Class 4 (the collision scan): linear in the stream, whatever the number of generated names.

#[test]
/// Guard (loose bound; see the commit that added it).
fn collision_scan_costs_a_few_times_the_carrier_alone() {
    let n = 5_000;
    let regs: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"name":"repo-{i:05}","repoUrl":"https://git.example.com/t/repo-{i}.git","tenant":"tenant-{t:03}","artifactBucket":{{"bucket":"bucket-{i:05}","externalSecretPath":"tenants/{t}/repo-{i}/s3"}}}}"#, t = i % 500))
        .collect();
    let values = format!(
        r#"{{"artifactRepos":{{"layout":"tenant"}},"repoRegistrations":[{}]}}"#,
        regs.join(",")
    );
    let alone = carrier().replace(VALUES, &values);
    let foreign: String = (0..n)
        .map(|i| format!("---\n# Source: other/templates/cm{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-{i}\n  namespace: tenant-{:03}\ndata:\n  k: v\n", i % 500))
        .collect();
    let timed = |input: &str| {
        let start = std::time::Instant::now();
        let out = post_render(input);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        start.elapsed()
    };
    let t_alone = timed(&alone);
    let t_both = timed(&format!("{foreign}{alone}"));
    // Loose on purpose (shared machines): quadratic scanning took many times the carrier alone.
    assert!(
        t_both < t_alone * 3 + std::time::Duration::from_secs(5),
        "{n} registrations beside {n} foreign ConfigMaps took {t_both:?}, the carrier alone {t_alone:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Class 6 (render part): Helm lifecycles.

fn render_values(name: &str, values: &str) -> String {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let out = run(&["render", "-f", "v.yaml"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_default_namespace_is_used_but_never_owned() {
    let out = render_values(
        "default-tenant",
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: default\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n- name: other\n  repoUrl: https://git.example.com/o/other.git\n  tenant: team-b\n  artifactBucket:\n    bucket: team-b-artifacts\n    externalSecretPath: team-b/s3\n",
    );
    assert!(!out.contains("kind: Namespace\nmetadata:\n  annotations:\n    helm.sh/resource-policy: keep\n  labels:\n    app.kubernetes.io/component: tenant-namespace\n    app.kubernetes.io/instance: artifact-repos\n    app.kubernetes.io/managed-by: artifact-repos\n    app.kubernetes.io/name: artifact-repos\n    app.kubernetes.io/part-of: argo-workflows\n    artifact-repos/tenant: default\n"), "{out}");
    assert_eq!(
        out.matches("kind: Namespace\n").count(),
        1,
        "only team-b's: {out}"
    );
    assert!(out.contains("  name: team-b\n"), "{out}");
    // The tenant's other objects still go to `default`.
    assert!(out.contains("  namespace: default\n"), "{out}");
}

#[test]
fn generated_namespaces_are_kept_by_helm() {
    let out = render_values(
        "keep",
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n",
    );
    assert!(
        out.contains(
            "kind: Namespace\nmetadata:\n  annotations:\n    helm.sh/resource-policy: keep\n"
        ),
        "{out}"
    );
    let out = text(&post_render(&carrier()).stdout);
    assert!(
        out.contains(
            "kind: Namespace\nmetadata:\n  annotations:\n    helm.sh/resource-policy: keep\n"
        ),
        "{out}"
    );
    assert_eq!(out.matches("helm.sh/resource-policy").count(), 1, "{out}");
}

#[test]
fn managed_by_says_what_is_left_on_the_object() {
    let out = text(&post_render(&carrier()).stdout);
    let docs = out.matches("\nkind: ").count();
    assert!(docs > 5, "{out}");
    assert_eq!(
        out.matches("app.kubernetes.io/managed-by: Helm\n").count(),
        docs,
        "{out}"
    );
    assert!(!out.contains("managed-by: artifact-repos"), "{out}");
    let out = render_values("managed-by", &format!("{VALUES}\n"));
    assert_eq!(
        out.matches("app.kubernetes.io/managed-by: artifact-repos\n")
            .count(),
        out.matches("\nkind: ").count(),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Class 7 (part): Argo semantics.

#[test]
fn key_prefix_is_joined_as_argo_joins_it() {
    for (prefix, want) in [
        ("a//b/", "keyFormat: a/b/{{workflow.name}}/{{pod.name}}"),
        (
            "./team/./x//",
            "keyFormat: team/x/{{workflow.name}}/{{pod.name}}",
        ),
        (
            "team/old/../new",
            "keyFormat: team/new/{{workflow.name}}/{{pod.name}}",
        ),
    ] {
        let out = render_values(
            "key-prefix",
            &format!(
                "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n    keyPrefix: \"{prefix}\"\n"
            ),
        );
        assert!(out.contains(want), "{prefix}: {out}");
    }
}

/// A workflow with no artifactRepositoryRef, run in the controller namespace, and the RBAC its
/// executor needs there.
const ADMIN_WORKFLOW: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: admin-job\n  namespace: argo-workflows\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: executor\n  namespace: argo-workflows\nrules:\n- apiGroups: [argoproj.io]\n  resources: [workflowtaskresults]\n  verbs: [create, patch]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: executor\n  namespace: argo-workflows\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: executor\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: argo-workflows\n";

#[test]
fn ref_less_workflows_in_the_controller_namespace_find_the_defaults_credentials() {
    // The central layout (the seed's) annotates the controller namespace's ConfigMap as the
    // default; Argo then uses it for ref-less workflows running there, with credentials read
    // from that namespace (independent check: tests/tools/validate_stream.py).
    for values in ["examples/seed-values.yaml".to_string(), {
        let dir = scratch("central-default");
        let f = dir.join("v.yaml");
        std::fs::write(&f, "s3:\n  enabled: true\n  bucket: platform-default\n  externalSecretPath: platform/s3\nrepoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n").unwrap();
        f.display().to_string()
    }] {
        let out = run(&["render", "-f", &values], support::root(), None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stream = format!("{}---\n{ADMIN_WORKFLOW}", text(&out.stdout));
        let (report, code) = support::validate_text(&stream, &[]);
        assert_eq!(code, 0, "{values}: {report:#}");
        let admin = report["resolutions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "admin-job")
            .cloned()
            .unwrap();
        assert_eq!(admin["source"], "default-annotation", "{admin:#}");
    }
}

#[test]
fn the_template_form_resolves_through_the_generated_template() {
    let root = support::root();
    let rendered = run(&["render", "-f", "examples/seed-values.yaml"], root, None);
    assert_eq!(
        rendered.status.code(),
        Some(0),
        "{}",
        text(&rendered.stderr)
    );
    let wf = run(
        &[
            "workflow",
            "--from",
            "workflowtemplate/my-project",
            "--artifact-repository",
            "my-project",
            "-n",
            "my-tenant-namespace",
            "--form",
            "template",
        ],
        root,
        None,
    );
    assert_eq!(wf.status.code(), Some(0), "{}", text(&wf.stderr));
    let yaml = text(&wf.stdout);
    assert!(!yaml.contains("artifactRepositoryRef"), "{yaml}");
    assert!(!yaml.contains("serviceAccountName"), "{yaml}");
    assert!(text(&wf.stderr).contains("printed the template form"));
    let (report, code) = support::validate_text(&format!("{}{yaml}", text(&rendered.stdout)), &[]);
    assert_eq!(code, 0, "{report:#}");
    let r = report["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "Workflow")
        .cloned()
        .unwrap();
    assert_eq!(r["key"], "artifactRepositories.my-project", "{r:#}");
}

// ---------------------------------------------------------------------------------------------
// Class 1, as a property: every combination of the ways to write a claim is caught.

mod collision_property {
    use super::{VALUES, carrier};
    use crate::support::values_gen::config;
    use proptest::prelude::*;

    /// `kind: ConfigMap` written one of five ways.
    fn kind_value(style: u8) -> &'static str {
        match style {
            0 => "ConfigMap",
            1 => "\"Config\\u004dap\"",
            2 => "!!str ConfigMap",
            3 => "!local ConfigMap",
            _ => "!!binary Q29uZmlnTWFw",
        }
    }

    fn document(style: u8, merge: bool, dup: bool, omit_ns: bool, list: bool) -> String {
        let kind = kind_value(style);
        let mut body = String::from("apiVersion: v1\n");
        if dup && !merge {
            body.push_str("kind: Secret\n");
        }
        if merge {
            body.push_str(&format!("<<: {{kind: {kind}}}\n"));
        } else {
            body.push_str(&format!("kind: {kind}\n"));
        }
        body.push_str("metadata:\n  name: artifact-repositories\n");
        if !omit_ns {
            body.push_str("  namespace: team-a\n");
        }
        body.push_str("data:\n  a: \"1\"\n");
        if dup {
            body.push_str("  a: \"2\"\n");
        }
        if list {
            let items: String = body
                .lines()
                .enumerate()
                .map(|(i, l)| format!("{}{l}\n", if i == 0 { "- " } else { "  " }))
                .collect();
            format!("---\napiVersion: v1\nkind: List\nitems:\n{items}")
        } else {
            format!("---\n{body}")
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_claim_is_caught_however_it_is_written(
            style in 0u8..5,
            merge in any::<bool>(),
            dup in any::<bool>(),
            omit_ns in any::<bool>(),
            list in any::<bool>(),
            before in any::<bool>(),
        ) {
            let doc = document(style, merge, dup, omit_ns, list);
            let release_ns = if omit_ns { "team-a" } else { "argo" };
            let carrier = carrier().replace("namespace: \"argo\"", &format!("namespace: \"{release_ns}\""));
            prop_assert!(carrier.contains(VALUES));
            let input = if before { format!("{doc}{carrier}") } else { format!("{carrier}{doc}") };
            match artifact_repos::postrender::post_render(input.as_bytes()) {
                Ok(_) => prop_assert!(false, "not caught:\n{doc}"),
                Err(e) => prop_assert!(
                    e.to_string().contains("ConfigMap team-a/artifact-repositories is also generated"),
                    "{e}\n{doc}"
                ),
            }
        }
    }
}

#[test]
fn post_render_messages_escape_template_paths() {
    let doc = "---\n# Source: c/templates/x\u{1b}[2J\ry.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: team-a\n";
    let out = post_render(&format!("{doc}{}", carrier()));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!has_raw_control(&stderr), "{stderr:?}");
    assert!(
        stderr.contains("`c/templates/x\\u{1b}[2J\\ry.yaml`"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Class 2 (values): no credential reaches stdout, an error message or the post-render log file,
// from any field: label keys and values, the runner's command and args, a repoUrl's user info,
// query and fragment, path-like fields, unknown keys, `--set` paths and values.

/// Secrets of several shapes, none of which may be printed anywhere.
const SECRETS: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12",
    "ghp_0123456789abcdefABCDEF0123456789abcd",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36",
    "Zm9vYmFyYmF6cXV4UVVYQkFaMTIzNDU2Nzg5MA",
];

const REGISTRATION: &str = "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n";

/// Renders `values` (and `extra` arguments) and post-renders the same values through a carrier
/// with a log file; returns every byte either run printed or logged, and both exit codes.
fn everything_printed(name: &str, values: &str, extra: &[&str]) -> (Vec<Option<i32>>, String) {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let mut args = vec!["render", "-f", "v.yaml"];
    args.extend_from_slice(extra);
    let render = run(&args, &dir, None);
    let mut all = text(&render.stdout) + &text(&render.stderr);
    let mut codes = vec![render.status.code()];
    if extra.is_empty() {
        // The same values as Helm hands them to the post-renderer: JSON in the carrier.
        let tree = artifact_repos::yaml::parse_values("v", values.as_bytes()).unwrap();
        let json = serde_json::to_string(&tree).unwrap();
        let carrier = format!(
            "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {json}\n"
        );
        let log = dir.join("post-render.log");
        let out = run(
            &["post-render", "--log-file", log.to_str().unwrap()],
            &dir,
            Some(carrier.as_bytes()),
        );
        codes.push(out.status.code());
        all += &text(&out.stdout);
        all += &text(&out.stderr);
        all += &std::fs::read_to_string(&log).unwrap_or_default();
    }
    (codes, all)
}

fn assert_refused_unseen(name: &str, values: &str, extra: &[&str], secret: &str, why: &str) {
    let (codes, all) = everything_printed(name, values, extra);
    assert!(
        codes.iter().all(|c| *c == Some(2)),
        "{name}: {codes:?}\n{all}"
    );
    assert!(
        !all.contains(secret),
        "{name}: the secret was printed:\n{all}"
    );
    assert!(all.contains(why), "{name}: expected `{why}`:\n{all}");
}

#[test]
fn common_labels_never_carry_a_credential() {
    for (i, secret) in SECRETS.iter().enumerate() {
        // Label values hold at most 63 characters of [A-Za-z0-9._-]: the shapes that fit.
        if secret.len() <= 63
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            assert_refused_unseen(
                &format!("label-value-{i}"),
                &format!("{REGISTRATION}artifactRepos:\n  commonLabels:\n    team: {secret}\n"),
                &[],
                secret,
                "(value hidden: looks like a credential)",
            );
        }
        if secret.len() <= 63 {
            assert_refused_unseen(
                &format!("label-key-{i}"),
                &format!(
                    "{REGISTRATION}artifactRepos:\n  commonLabels:\n    example.com/{secret}: x\n"
                ),
                &[],
                secret,
                "looks like a credential",
            );
        }
    }
    // A key that names a credential, with a harmless-looking value.
    assert_refused_unseen(
        "label-key-token",
        &format!("{REGISTRATION}artifactRepos:\n  commonLabels:\n    api-token: s3cr3tvalue\n"),
        &[],
        "s3cr3tvalue",
        "names or holds a credential",
    );
}

#[test]
fn the_runner_command_and_args_never_carry_a_credential() {
    for (i, secret) in SECRETS.iter().enumerate() {
        for (where_, list) in [
            (
                "command",
                format!("command: [\"sh\", \"--token={secret}\"]"),
            ),
            ("args", format!("args: [run, --password, \"{secret}\"]")),
            ("args-inline", format!("args: [\"{secret}\"]")),
        ] {
            assert_refused_unseen(
                &format!("runner-{where_}-{i}"),
                &format!("{REGISTRATION}artifactRepos:\n  workflowTemplates:\n    {list}\n"),
                &[],
                secret,
                "(value hidden: looks like a credential)",
            );
        }
    }
    // A flag naming a credential followed by any literal value: the value is the credential.
    assert_refused_unseen(
        "runner-password-flag",
        &format!(
            "{REGISTRATION}artifactRepos:\n  workflowTemplates:\n    args: [run, --password, hunter2]\n"
        ),
        &[],
        "hunter2",
        "looks like a credential",
    );
}

#[test]
fn repo_urls_with_user_info_query_or_fragment_are_refused_unseen() {
    for (i, url) in [
        "https://user:hunter2@git.example.com/o/app.git",
        "https://hunter2@git.example.com/o/app.git",
        "https://git.example.com/o/app.git?token=hunter2",
        "https://git.example.com/o/app.git?private_token=hunter2",
        "https://git.example.com/o/app.git#hunter2",
        "ssh://git:hunter2@git.example.com/o/app.git",
        "git@git.example.com:o/app.git?hunter2",
    ]
    .iter()
    .enumerate()
    {
        assert_refused_unseen(
            &format!("repo-url-{i}"),
            &REGISTRATION.replace("https://git.example.com/o/app.git", url),
            &[],
            "hunter2",
            "(value hidden: looks like a credential)",
        );
    }
    // Guards: a user name in an ssh URL is not a credential.
    for ok in [
        "ssh://git@git.example.com/o/app.git",
        "git@git.example.com:o/app.git",
    ] {
        let (codes, all) = everything_printed(
            "repo-url-ok",
            &REGISTRATION.replace("https://git.example.com/o/app.git", ok),
            &[],
        );
        assert_eq!(codes, [Some(0), Some(0)], "{ok}: {all}");
    }
}

#[test]
fn path_like_fields_never_carry_a_credential() {
    for (i, secret) in SECRETS.iter().enumerate() {
        for (field, line) in [
            (
                "vault",
                format!("    externalSecretPath: team-a/{secret}/s3\n"),
            ),
            ("prefix", format!("    keyPrefix: runs/{secret}/\n")),
        ] {
            let values = REGISTRATION.replace("    externalSecretPath: team-a/s3\n", &line);
            let values = if field == "prefix" {
                values + "    externalSecretPath: team-a/s3\n"
            } else {
                values
            };
            assert_refused_unseen(
                &format!("path-{field}-{i}"),
                &values,
                &[],
                secret,
                "looks like",
            );
        }
        assert_refused_unseen(
            &format!("path-output-{i}"),
            &format!(
                "{REGISTRATION}artifactRepos:\n  workflowTemplates:\n    outputPath: /tmp/{secret}\n"
            ),
            &[],
            secret,
            "looks like",
        );
    }
}

#[test]
fn unknown_keys_and_invalid_values_that_look_like_credentials_are_not_echoed() {
    for (i, secret) in SECRETS.iter().enumerate() {
        // An unknown key shaped like a credential, in a section the tool reads.
        assert_refused_unseen(
            &format!("unknown-key-{i}"),
            &format!("{REGISTRATION}s3:\n  {secret}: x\n"),
            &[],
            secret,
            "(key hidden: looks like a credential)",
        );
        // An invalid value shaped like a credential where a name belongs.
        assert_refused_unseen(
            &format!("bad-value-{i}"),
            &REGISTRATION.replace("tenant: team-a", &format!("tenant: \"{secret}\"")),
            &[],
            secret,
            "looks like",
        );
        // `--set` with a credential-looking path or value.
        for set in [
            format!("repoRegistrations[0].{secret}=x"),
            format!("repoRegistrations[0].tenant={secret}"),
            format!("{secret}[x]=1"),
            secret.to_string(),
        ] {
            // A `.` splits a `--set` path: a JWT's pieces are keys, none the whole token.
            let why = if secret.contains('.') {
                ""
            } else {
                "looks like a credential"
            };
            assert_refused_unseen(
                &format!("set-{i}"),
                REGISTRATION,
                &["--set", &set],
                secret,
                why,
            );
        }
    }
}
