//! Regression tests for issue #11 ("Hardening"), one section per defect class, each run through the
//! real binary on inputs written for the purpose. Every test here failed before its fix, except the
//! ones marked as guards (they pin behaviour a fix must not break).

use crate::support::{self, run};
use std::path::{Path, PathBuf};

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
    assert!(!out.contains("kind: Namespace\nmetadata:\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n    cli-utils.sigs.k8s.io/on-remove: keep\n    helm.sh/resource-policy: keep\n    kustomize.toolkit.fluxcd.io/prune: disabled\n  labels:\n    app.kubernetes.io/component: tenant-namespace\n    app.kubernetes.io/instance: artifact-repos\n    app.kubernetes.io/managed-by: artifact-repos\n    app.kubernetes.io/name: artifact-repos\n    app.kubernetes.io/part-of: argo-workflows\n    artifact-repos/tenant: default\n"), "{out}");
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
fn generated_namespaces_are_kept_by_every_deploy_path() {
    let out = render_values(
        "keep",
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n",
    );
    assert!(
        out.contains(
            "kind: Namespace\nmetadata:\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n    cli-utils.sigs.k8s.io/on-remove: keep\n    helm.sh/resource-policy: keep\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"
        ),
        "{out}"
    );
    let out = text(&post_render(&carrier()).stdout);
    assert!(
        out.contains(
            "kind: Namespace\nmetadata:\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n    cli-utils.sigs.k8s.io/on-remove: keep\n    helm.sh/resource-policy: keep\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"
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
            match artifact_repos::deploy::postrender::post_render(input.as_bytes(), false) {
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
// Class 3: `render --output-dir` and `--check` never touch anything outside their folder; every
// read path takes regular files only, bounded.

/// A snapshot of every file under `dir` (path relative to it, and content; links as `-> target`).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                out.push((rel, format!("-> {}", t.display()).into_bytes()));
            } else if m.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A scratch directory holding `gen`, written by `render --output-dir gen` (the bundled example).
fn rendered_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    let out = run(&["render", "--output-dir", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    dir
}

/// The bundled example without its `my-project` registration, as `values.yaml` in `dir`.
fn write_values_without_my_project(dir: &Path) {
    let s = std::fs::read_to_string(support::root().join("examples/seed-values.yaml")).unwrap();
    let cut = s.find("  - name: my-project").unwrap();
    std::fs::write(dir.join("values.yaml"), &s[..cut]).unwrap();
}

fn assert_refused(out: &std::process::Output, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr}");
    }
}

const TENANT_CM: &str = "gen/my-tenant-namespace/configmap-artifact-repositories.yaml";

#[test]
fn output_dir_never_writes_or_deletes_through_a_linked_namespace_folder() {
    let dir = rendered_dir("outdir-linked-ns");
    // The namespace folder is moved elsewhere and linked back; one of its files is stale.
    std::fs::rename(dir.join("gen/my-tenant-namespace"), dir.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", dir.join("gen/my-tenant-namespace")).unwrap();
    std::fs::write(
        dir.join("elsewhere/configmap-artifact-repositories.yaml"),
        "outside: true\n",
    )
    .unwrap();
    let before = tree(&dir);
    for args in [
        vec!["render", "--output-dir", "gen"],
        // Dropping the registration would delete files inside the linked folder.
        vec!["render", "-f", "values.yaml", "--output-dir", "gen"],
        vec!["render", "--check", "gen"],
    ] {
        write_values_without_my_project(&dir);
        let out = run(&args, &dir, None);
        assert_refused(&out, &["`gen/my-tenant-namespace` is a symbolic link"]);
        std::fs::remove_file(dir.join("values.yaml")).unwrap();
        assert_eq!(tree(&dir), before, "{args:?} touched nothing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_dir_never_writes_or_reads_through_a_linked_file() {
    let dir = rendered_dir("outdir-linked-file");
    std::fs::write(dir.join("precious.txt"), "precious\n").unwrap();
    // A generated file, then the marker, linked to a file outside.
    for (link, target) in [
        (TENANT_CM, "../../precious.txt"),
        ("gen/.artifact-repos-files", "../precious.txt"),
    ] {
        let saved = std::fs::read(dir.join(link)).unwrap();
        std::fs::remove_file(dir.join(link)).unwrap();
        std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
        let before = tree(&dir);
        for args in [
            vec!["render", "--output-dir", "gen"],
            vec!["render", "--check", "gen"],
        ] {
            let out = run(&args, &dir, None);
            assert_refused(&out, &[&format!("`{link}` is a symbolic link")]);
            assert_eq!(tree(&dir), before, "{args:?} touched nothing");
        }
        std::fs::remove_file(dir.join(link)).unwrap();
        std::fs::write(dir.join(link), saved).unwrap();
    }
    // A link to an identical copy is not read either: `--check` reported it current.
    std::fs::copy(dir.join(TENANT_CM), dir.join("copy.yaml")).unwrap();
    std::fs::remove_file(dir.join(TENANT_CM)).unwrap();
    std::os::unix::fs::symlink("../../copy.yaml", dir.join(TENANT_CM)).unwrap();
    let out = run(&["render", "--check", "gen"], &dir, None);
    assert_refused(&out, &["is a symbolic link"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_dir_named_through_a_link_is_followed() {
    // Guard: the directory the user names may be a link; only links below it are refused.
    let dir = rendered_dir("outdir-named-link");
    std::os::unix::fs::symlink("gen", dir.join("link")).unwrap();
    let out = run(&["render", "--check", "link"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(&["render", "--output-dir", "link"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(dir.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hand_written_file_where_a_generated_file_goes_is_refused() {
    // The marker no longer lists the tenant ConfigMap, and a human wrote one there.
    let dir = rendered_dir("outdir-hand-written");
    let marker = dir.join("gen/.artifact-repos-files");
    let listed = std::fs::read_to_string(&marker).unwrap();
    let rel = TENANT_CM.strip_prefix("gen/").unwrap();
    std::fs::write(&marker, listed.replace(&format!("{rel}\n"), "")).unwrap();
    std::fs::write(dir.join(TENANT_CM), "# mine\nkind: ConfigMap\n").unwrap();
    let before = tree(&dir);
    let out = run(&["render", "--output-dir", "gen"], &dir, None);
    assert_refused(
        &out,
        &[&format!(
            "`{TENANT_CM}` is not listed in `.artifact-repos-files`"
        )],
    );
    assert_eq!(tree(&dir), before, "touched nothing");

    // A fresh directory holding only a marker that lists nothing, and a hand-written file where a
    // generated one goes: refused too, even when its content is what would be written.
    let dir2 = scratch("outdir-hand-written-2");
    std::fs::create_dir_all(dir2.join("gen/argo-workflows")).unwrap();
    std::fs::write(dir2.join("gen/.artifact-repos-files"), "# listed nothing\n").unwrap();
    let cm = "gen/argo-workflows/configmap-artifact-repositories.yaml";
    std::fs::copy(dir.join(cm), dir2.join(cm)).unwrap();
    let before = tree(&dir2);
    let out = run(&["render", "--output-dir", "gen"], &dir2, None);
    assert_refused(&out, &[&format!("`{cm}` is not listed")]);
    assert_eq!(tree(&dir2), before, "touched nothing");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn output_dir_writes_are_atomic_and_an_interrupted_run_converges() {
    let dir = rendered_dir("outdir-interrupted");
    // What an interrupted run leaves: temporary files of ours, a 0-byte file the marker lists,
    // a listed file that is gone; plus a foreign hidden file that must survive.
    let wt = "gen/my-tenant-namespace/workflowtemplate-my-project.yaml";
    std::fs::write(dir.join(".artifact-repos-tmp-99999-0"), "x").unwrap();
    std::fs::write(
        dir.join("gen/.artifact-repos-tmp-99999-0"),
        "partial marker",
    )
    .unwrap();
    std::fs::write(
        dir.join("gen/my-tenant-namespace/.artifact-repos-tmp-99999-1"),
        "kind: Conf",
    )
    .unwrap();
    std::fs::write(dir.join("gen/my-tenant-namespace/.notes.swp"), "mine").unwrap();
    std::fs::write(dir.join(TENANT_CM), "").unwrap();
    std::fs::remove_file(dir.join(wt)).unwrap();
    // A hard link from outside to a generated file: an in-place write would change it.
    let rs = "gen/research-team/configmap-artifact-repositories.yaml";
    std::fs::write(dir.join(rs), "stale: true\n").unwrap();
    std::fs::hard_link(dir.join(rs), dir.join("outside-hard-link")).unwrap();

    let out = run(&["render", "--output-dir", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["render", "--check", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(!dir.join("gen/.artifact-repos-tmp-99999-0").exists());
    assert!(
        !dir.join("gen/my-tenant-namespace/.artifact-repos-tmp-99999-1")
            .exists()
    );
    assert!(
        dir.join(".artifact-repos-tmp-99999-0").exists(),
        "outside: not ours to clean"
    );
    assert!(dir.join("gen/my-tenant-namespace/.notes.swp").exists());
    assert!(dir.join(wt).is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("outside-hard-link")).unwrap(),
        "stale: true\n",
        "the file was replaced, not written in place"
    );
    assert!(
        !tree(&dir.join("gen"))
            .iter()
            .any(|(p, _)| p.contains(".artifact-repos-tmp-")),
        "no temporary file left"
    );

    // A first run interrupted while writing its marker left only a temporary file: not a foreign
    // directory.
    let dir2 = scratch("outdir-interrupted-first");
    std::fs::create_dir_all(dir2.join("gen")).unwrap();
    std::fs::write(dir2.join("gen/.artifact-repos-tmp-99999-0"), "# Written by").unwrap();
    let out = run(&["render", "--output-dir", "gen"], &dir2, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!dir2.join("gen/.artifact-repos-tmp-99999-0").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// Runs the binary with a 20 s deadline and 1 GB of address space (`ulimit -v`), stdin from
/// `stdin` (a file) or nothing: a hang or an unbounded read fails the test, not the machine.
fn run_bounded(args: &[&str], cwd: &Path, stdin: Option<&Path>) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_artifact-repos"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ARTIFACT_REPOS_LOG")
        .stdin(match stdin {
            Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
            None => Stdio::null(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn every_read_path_refuses_fifos_devices_and_sockets_without_hanging() {
    let dir = rendered_dir("read-special");
    mkfifo(&dir.join("pipe.yaml"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket.yaml")).unwrap();
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(dir.join("manifests/a.yaml"), "kind: ConfigMap\n").unwrap();
    mkfifo(&dir.join("manifests/b.yaml"));
    let ok = run(&["render"], &dir, None);
    std::fs::write(dir.join("m.yaml"), &ok.stdout).unwrap();
    std::fs::write(
        dir.join("wf.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: w\n  namespace: research-team\nspec: {}\n",
    )
    .unwrap();
    for (special, what) in [
        ("pipe.yaml", "(a FIFO)"),
        ("socket.yaml", "(a socket)"),
        ("/dev/zero", "(a character device)"),
        ("/dev/null", "(a character device)"),
    ] {
        let needle = format!("`{special}` is not a regular file {what}");
        for args in [
            vec!["render", "-f", special],
            vec!["check", special],
            vec!["diff", special, "m.yaml"],
            vec!["diff", "m.yaml", special],
            vec!["explain", special, "-m", "m.yaml"],
            vec!["explain", "wf.yaml", "-m", special],
        ] {
            let out = run_bounded(&args, &dir, None);
            assert_refused(&out, &[&needle]);
        }
    }
    // Inside a directory given to `check`, `diff` or `render -f`.
    for args in [
        vec!["check", "manifests"],
        vec!["diff", "manifests", "m.yaml"],
        vec!["render", "-f", "manifests"],
    ] {
        let out = run_bounded(&args, &dir, None);
        assert_refused(&out, &["`manifests/b.yaml` is not a regular file (a FIFO)"]);
    }
    // Where a generated file goes, under `--check` and `--output-dir`.
    std::fs::remove_file(dir.join(TENANT_CM)).unwrap();
    mkfifo(&dir.join(TENANT_CM));
    for args in [
        vec!["render", "--check", "gen"],
        vec!["render", "--output-dir", "gen"],
    ] {
        let out = run_bounded(&args, &dir, None);
        assert_refused(
            &out,
            &[&format!("`{TENANT_CM}` is a FIFO, not a regular file")],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reads_stop_at_their_bound() {
    let dir = scratch("read-bound");
    // A sparse 100 MB manifest file: refused at the 64 MiB bound, not read whole.
    let big = std::fs::File::create(dir.join("big.yaml")).unwrap();
    big.set_len(100 * 1024 * 1024).unwrap();
    drop(big);
    for args in [
        vec!["check", "big.yaml"],
        vec!["diff", "big.yaml", "big.yaml"],
    ] {
        let out = run_bounded(&args, &dir, None);
        assert_refused(
            &out,
            &["big.yaml: input is more than the limit of 67108864 bytes"],
        );
    }
    // Stdin stays allowed, bounded: `/dev/zero` on stdin stops at the bound.
    let zero = Path::new("/dev/zero");
    for (args, limit) in [
        (vec!["check", "-"], "67108864"),
        (vec!["diff", "-", "big.yaml"], "67108864"),
        (vec!["render", "-f", "-"], "33554432"),
    ] {
        let out = run_bounded(&args, &dir, Some(zero));
        assert_refused(
            &out,
            &[&format!(
                "<stdin>: input is more than the limit of {limit} bytes"
            )],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Class 8: warnings reach Helm users. Helm drops a successful post-renderer's stderr, so strict
// mode (`--strict`, `artifactRepos.strict: true`) makes every warning an error; warnings also go
// to the post-render log file; `check` reports in manifests what render warns about; a
// `configMapName` that hides the default from ref-less workflows is an error unless acknowledged.

/// Values, each producing exactly one warning, and a piece of that warning's text.
const WARNING_INPUTS: &[(&str, &str)] = &[
    (
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: data/team-a/s3\n",
        "repoRegistrations[0].artifactBucket.externalSecretPath: `data/team-a/s3` starts with `data/`",
    ),
    (
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    hostname: minio.example.com\n    insecure: true\n    externalSecretPath: team-a/s3\n    credentialKeys: {caCert: ca.crt}\n",
        "repoRegistrations[0].artifactBucket.caSecret: Argo uses the CA bundle only over HTTPS",
    ),
    (
        "repoRegistration: []\nrepoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n",
        "repoRegistration: not read by artifact-repos",
    ),
    (
        "artifactRepos:\n  argoVersion: 3.7\nrepoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n",
        "artifactRepos.argoVersion: YAML read an unquoted number",
    ),
];

/// `values` with `artifactRepos.strict: true` added.
fn strict_values(values: &str) -> String {
    if values.contains("artifactRepos:\n") {
        values.replace("artifactRepos:\n", "artifactRepos:\n  strict: true\n")
    } else {
        format!("artifactRepos:\n  strict: true\n{values}")
    }
}

#[test]
fn strict_render_makes_every_warning_an_error() {
    for (i, (values, warning)) in WARNING_INPUTS.iter().enumerate() {
        let dir = scratch(&format!("strict-render-{i}"));
        std::fs::write(dir.join("v.yaml"), values).unwrap();
        std::fs::write(dir.join("strict.yaml"), strict_values(values)).unwrap();
        // Without strict: rendered, the warning on stderr.
        let out = run(&["render", "-f", "v.yaml"], &dir, None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{values}\n{err}");
        assert!(err.contains(&format!("warning: {warning}")), "{err}");
        assert!(!out.stdout.is_empty());
        // Strict, by flag or by values, in every output form: exit 2, nothing written.
        for args in [
            &["render", "-f", "v.yaml", "--strict"][..],
            &["render", "-f", "v.yaml", "--strict", "-o", "json"],
            &["render", "-f", "strict.yaml"],
            &["render", "-f", "strict.yaml", "-o", "json"],
            &[
                "render",
                "-f",
                "v.yaml",
                "--set",
                "artifactRepos.strict=true",
            ],
            &["render", "-f", "strict.yaml", "--output-dir", "out"],
        ] {
            let out = run(args, &dir, None);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {values}\n{err}");
            assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
            assert!(
                err.starts_with("error: 1 problem found\n"),
                "{args:?}: {err}"
            );
            assert!(err.contains(&format!("  {warning}")), "{args:?}: {err}");
            assert!(err.contains("an error under"), "{args:?}: {err}");
            assert!(
                !dir.join("out").exists(),
                "{args:?}: --output-dir wrote files"
            );
        }
    }
    // Strict without warnings renders as usual.
    let clean = "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n";
    let out = render_values("strict-clean", &strict_values(clean));
    assert!(out.contains("kind: WorkflowTemplate"), "{out}");
}

/// A Helm 3 carrier of `values` (JSON).
fn carrier_of(values: &str) -> String {
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
    )
}

/// A values file as JSON, for a carrier.
fn json_values(values: &str) -> String {
    let v: serde_yaml::Value = serde_yaml::from_str(values).unwrap();
    serde_json::to_string(&v).unwrap()
}

#[test]
fn strict_post_render_fails_where_helm_would_hide_the_warning() {
    for (i, (values, warning)) in WARNING_INPUTS.iter().enumerate() {
        let dir = scratch(&format!("strict-post-render-{i}"));
        let plain = carrier_of(&json_values(values));
        let strict = carrier_of(&json_values(&strict_values(values)));
        // Without strict: the stream passes, the warning goes to stderr and to the log file.
        let out = run(
            &["post-render", "--log-file", "log"],
            &dir,
            Some(plain.as_bytes()),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(warning), "{}", text(&out.stderr));
        let log = std::fs::read_to_string(dir.join("log")).unwrap();
        assert!(
            log.contains(&format!("artifact-repos post-render: warning: {warning}")),
            "{log}"
        );
        std::fs::remove_file(dir.join("log")).unwrap();
        // `--strict`; the values' `strict: true` with `post-render` and with no arguments at all
        // (Helm 3's `--post-renderer artifact-repos`); each logs the error.
        for (args, input) in [
            (
                &["post-render", "--strict", "--log-file", "log"][..],
                &plain,
            ),
            (&["post-render", "--log-file", "log"], &strict),
        ] {
            let out = run(args, &dir, Some(input.as_bytes()));
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert!(
                err.contains(warning) && err.contains("an error under"),
                "{err}"
            );
            let log = std::fs::read_to_string(dir.join("log")).unwrap();
            assert!(
                log.starts_with("artifact-repos post-render: error: 1 problem found\n")
                    && log.contains(warning),
                "{log}"
            );
            std::fs::remove_file(dir.join("log")).unwrap();
        }
        let out = run(&[], &dir, Some(strict.as_bytes()));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn strict_values_apply_to_the_krm_function_and_the_argo_cd_plugin() {
    let (values, warning) = WARNING_INPUTS[0];
    // KRM: the warning becomes an error result; nothing is generated.
    let list = |values: &str| {
        format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: artifact-repos/v1\n  kind: ValuesCarrier\n  metadata:\n    name: values\n  release:\n    name: rel\n  values: {}\n",
            json_values(values)
        )
    };
    let dir = scratch("strict-krm");
    let out = run(&["krm"], &dir, Some(list(values).as_bytes()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("severity: warning"),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        &["krm"],
        &dir,
        Some(list(&strict_values(values)).as_bytes()),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(stdout.contains("severity: error"), "{stdout}");
    assert!(stdout.contains("starts with `data/`"), "{stdout}");
    assert!(!stdout.contains("kind: WorkflowTemplate"), "{stdout}");
    // Argo CD, a values directory: exit 2, nothing on stdout.
    for (strict, code) in [(false, 0), (true, 2)] {
        let dir = scratch(&format!("strict-argocd-{strict}"));
        let v = if strict {
            strict_values(values)
        } else {
            values.to_string()
        };
        std::fs::write(dir.join("values.yaml"), v).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_artifact-repos"))
            .arg("argocd-generate")
            .current_dir(&dir)
            .env("ARGOCD_APP_NAME", "app")
            .env("ARGOCD_APP_NAMESPACE", "argo")
            .env_remove("ARGOCD_APP_PARAMETERS")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(warning), "{err}");
        assert_eq!(out.stdout.is_empty(), strict, "{err}");
    }
}

#[test]
fn a_config_map_name_that_hides_the_default_from_ref_less_workflows_is_an_error() {
    let default =
        "s3:\n  enabled: true\n  bucket: platform-default\n  externalSecretPath: platform/s3\n";
    let reg = "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n";
    for (layout, name) in [("central", "my-repos"), ("tenant", "repos.example.com")] {
        let dir = scratch(&format!("ref-less-{layout}"));
        let values =
            format!("artifactRepos:\n  layout: {layout}\n  configMapName: {name}\n{default}{reg}");
        std::fs::write(dir.join("v.yaml"), &values).unwrap();
        let out = run(&["render", "-f", "v.yaml"], &dir, None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(out.stdout.is_empty());
        assert!(
            err.contains(&format!(
                "  artifactRepos.configMapName: `{name}` with a default repository"
            )),
            "{err}"
        );
        assert!(
            err.contains("keep `configMapName: artifact-repositories`"),
            "{err}"
        );
        assert!(
            err.contains("`artifactRepos.allowRefLessLookupBreak: true`"),
            "{err}"
        );
        // Through post-render too.
        let out = post_render(&carrier_of(&json_values(&values)));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("artifactRepos.configMapName"));
        // Acknowledged: rendered without a warning, the ConfigMaps say so, and check agrees.
        let acked = values.replace(
            "artifactRepos:\n",
            "artifactRepos:\n  allowRefLessLookupBreak: true\n",
        );
        std::fs::write(dir.join("ack.yaml"), &acked).unwrap();
        let out = run(&["render", "-f", "ack.yaml", "--strict"], &dir, None);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        assert!(
            stdout.contains("    artifact-repos/allow-ref-less-lookup-break: 'true'\n"),
            "{stdout}"
        );
        std::fs::write(dir.join("out.yaml"), &stdout).unwrap();
        let out = run(&["check", "out.yaml"], &dir, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        // Without the acknowledgement, check reports each such ConfigMap.
        std::fs::write(
            dir.join("bare.yaml"),
            stdout.replace(
                "    artifact-repos/allow-ref-less-lookup-break: 'true'\n",
                "",
            ),
        )
        .unwrap();
        let out = run(&["check", "bare.yaml"], &dir, None);
        let report = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{report}");
        assert!(
            report.contains(&format!(
                "finding[ref-less-default-unread]: ConfigMap team-a/{name}"
            )),
            "{report}"
        );
    }
    // Without a default repository nothing is lost: no error, no warning.
    let dir = scratch("ref-less-no-default");
    std::fs::write(
        dir.join("v.yaml"),
        format!("artifactRepos:\n  configMapName: my-repos\n{reg}"),
    )
    .unwrap();
    let out = run(&["render", "-f", "v.yaml", "--strict"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The default name with a default repository: fine (guard).
    render_values("ref-less-default-name", &format!("{default}{reg}"));
}

#[test]
fn check_reports_in_manifests_what_render_warns_about() {
    for (values, code) in [
        (
            WARNING_INPUTS[0].0,
            "finding[vault-data-prefix]: ExternalSecret.external-secrets.io team-a/s3-credentials-app",
        ),
        (
            WARNING_INPUTS[1].0,
            "finding[ca-secret-over-http]: ConfigMap team-a/artifact-repositories",
        ),
    ] {
        let dir = scratch("check-warnings");
        std::fs::write(dir.join("v.yaml"), values).unwrap();
        let out = run(&["render", "-f", "v.yaml"], &dir, None);
        assert_eq!(out.status.code(), Some(0));
        std::fs::write(dir.join("out.yaml"), &out.stdout).unwrap();
        let out = run(&["check", "out.yaml"], &dir, None);
        let report = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{report}");
        assert!(report.contains(code), "{report}");
    }
    // A hand-written default under another name, in a namespace without `artifact-repositories`.
    let dir = scratch("check-ref-less");
    std::fs::write(
        dir.join("m.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-repos\n  namespace: team-b\n  annotations:\n    workflows.argoproj.io/default-artifact-repository: default-v1\ndata:\n  default-v1: |\n    s3:\n      bucket: b\n      endpoint: s3.amazonaws.com\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-repos\n  namespace: team-c\n  annotations:\n    workflows.argoproj.io/default-artifact-repository: default-v1\ndata:\n  default-v1: |\n    s3:\n      bucket: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: team-c\n  annotations:\n    workflows.argoproj.io/default-artifact-repository: default-v1\ndata:\n  default-v1: |\n    s3:\n      bucket: b\n",
    )
    .unwrap();
    let out = run(&["check", "m.yaml"], &dir, None);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(
        report.matches("finding[ref-less-default-unread]").count(),
        1,
        "{report}"
    );
    assert!(report.contains("ConfigMap team-b/team-repos"), "{report}");
}

// ---------------------------------------------------------------------------------------------
// Class 10: a render that cannot work is an error.

fn render_error(name: &str, values: &str) -> String {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let out = run(&["render", "-f", "v.yaml"], &dir, None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{values}\n{err}");
    assert!(out.stdout.is_empty());
    // The same through post-render.
    let out = post_render(&carrier_of(&json_values(values)));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    err
}

#[test]
fn a_registration_without_any_repository_is_an_error() {
    let reg = |name: &str, bucket: bool| {
        format!(
            "- name: {name}\n  repoUrl: https://git.example.com/o/{name}.git\n  tenant: team-{name}\n{}",
            if bucket {
                format!(
                    "  artifactBucket:\n    bucket: {name}-artifacts-bucket\n    externalSecretPath: {name}/s3\n"
                )
            } else {
                String::new()
            }
        )
    };
    // One registration, no default at all.
    let err = render_error(
        "no-repo-1",
        &format!("repoRegistrations:\n{}", reg("a", false)),
    );
    assert!(
        err.contains("  repoRegistrations[0]: registration `a` has no repository"),
        "{err}"
    );
    assert!(
        err.contains("add an `artifactBucket`") && err.contains("`s3.enabled: true`"),
        "{err}"
    );
    // The second of three; the default disabled explicitly; an empty bucket entry (`null`).
    let err = render_error(
        "no-repo-2",
        &format!(
            "s3:\n  enabled: false\n  bucket: platform-default\nrepoRegistrations:\n{}{}{}  artifactBucket: null\n",
            reg("a", true),
            reg("b", false),
            reg("c", false)
        ),
    );
    assert!(err.starts_with("error: 2 problems found\n"), "{err}");
    assert!(
        err.contains("  repoRegistrations[1]: registration `b`"),
        "{err}"
    );
    assert!(
        err.contains("  repoRegistrations[2]: registration `c`"),
        "{err}"
    );
    assert!(!err.contains("repoRegistrations[0]"), "{err}");
    // A data bucket is not where artifacts go.
    let err = render_error(
        "no-repo-data",
        &format!(
            "repoRegistrations:\n{}  dataBucket:\n    bucket: a-data-bucket\n    externalSecretPath: a/data\n",
            reg("a", false)
        ),
    );
    assert!(
        err.contains("  repoRegistrations[0]: registration `a` has no repository"),
        "{err}"
    );
    // Guards: a default repository serves registrations without a bucket.
    render_values(
        "no-repo-default",
        &format!(
            "s3:\n  enabled: true\n  bucket: platform-default\n  externalSecretPath: p/s3\nrepoRegistrations:\n{}",
            reg("a", false)
        ),
    );
}

#[test]
fn a_generated_name_over_its_kinds_limit_is_an_error() {
    let base = "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n";
    // The reported case: the reader RoleBinding is `<role>-<namespace>`, 247 + 7 = 254.
    let role = "r".repeat(247);
    let err = render_error(
        "long-binding",
        &format!("artifactRepos:\n  readerRole:\n    name: {role}\n{base}"),
    );
    assert!(err.starts_with("error: 1 problem found\n  artifactRepos.readerRole.name: the generated RoleBinding in namespace `argo-workflows` would be named `rrr"), "{err}");
    assert!(
        err.contains(
            "(built as `<readerRole.name>-<namespace>`), which is 254 characters, more than 253"
        ),
        "{err}"
    );
    // One problem per field however many objects: three tenants.
    let three = format!(
        "artifactRepos:\n  readerRole:\n    name: {}\nrepoRegistrations:\n{}",
        "r".repeat(240),
        ["team-aaaaaaaaaa", "team-bbbbbbbbbbb", "team-ccccccccccccc"]
            .iter()
            .map(|t| format!("- name: {t}\n  repoUrl: https://git.example.com/o/{t}.git\n  tenant: {t}\n  artifactBucket:\n    bucket: {t}-bucket\n    externalSecretPath: {t}/s3\n"))
            .collect::<String>()
    );
    let err = render_error("long-binding-3", &three);
    assert!(err.starts_with("error: 1 problem found\n"), "{err}");
    assert!(err.contains("(and 2 more generated from it)"), "{err}");
    // The GC Role and binding, `<serviceAccountName>-artifact-gc`: 242 + 12 = 254.
    let err = render_error(
        "long-gc-role",
        &format!(
            "artifactRepos:\n  serviceAccountName: {}\n  artifactGC:\n    strategy: OnWorkflowCompletion\n{base}",
            "s".repeat(242)
        ),
    );
    assert!(
        err.contains(
            "  artifactRepos.serviceAccountName: the generated Role in namespace `team-a`"
        ),
        "{err}"
    );
    assert!(
        err.contains("(built as `<serviceAccountName>-artifact-gc`)"),
        "{err}"
    );
    assert!(err.contains("(and 1 more generated from it)"), "{err}");
    // Guards: exactly at the limit.
    render_values(
        "long-binding-253",
        &format!(
            "artifactRepos:\n  readerRole:\n    name: {}\n{base}",
            "r".repeat(246)
        ),
    );
    render_values(
        "long-gc-role-253",
        &format!(
            "artifactRepos:\n  serviceAccountName: {}\n  artifactGC:\n    strategy: OnWorkflowCompletion\n{base}",
            "s".repeat(241)
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// Class 12: tenants do not share credentials. The default repository can give each tenant
// namespace its own key prefix and its own credential; `policies` prints each credential's
// least-privilege bucket policy; `check` warns about a credential synced to several tenants.

/// Two tenants in two namespaces on the default repository, isolated.
const ISOLATED: &str = "s3:
  enabled: true
  bucket: platform-artifacts
  region: us-east-1
  keyPrefix: argo
  keyPrefixPerTenant: true
  externalSecretPath: argo/artifacts/{namespace}
repoRegistrations:
- name: app-a
  repoUrl: https://git.example.com/o/app-a.git
  tenant: team-a
- name: app-b
  repoUrl: https://git.example.com/o/app-b.git
  tenant: team-b
";

/// The documents of a stream of `kind` in `namespace`.
fn docs_of(stream: &str, kind: &str, namespace: &str) -> Vec<serde_yaml::Value> {
    stream
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml::from_str::<serde_yaml::Value>(d).unwrap())
        .filter(|d| d["kind"] == kind && d["metadata"]["namespace"] == namespace)
        .collect()
}

/// The default repository's `keyFormat` in the ConfigMap of `namespace`.
fn default_key_format(stream: &str, namespace: &str) -> String {
    let cm = &docs_of(stream, "ConfigMap", namespace)[0];
    let repo: serde_yaml::Value =
        serde_yaml::from_str(cm["data"]["default-v1"].as_str().unwrap()).unwrap();
    let backend = ["s3", "gcs", "azure"]
        .into_iter()
        .find(|b| !repo[*b].is_null())
        .unwrap();
    let field = if backend == "azure" {
        "blobNameFormat"
    } else {
        "keyFormat"
    };
    repo[backend][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn each_tenant_namespace_writes_the_default_under_its_own_prefix() {
    let out = render_values("prefix-per-tenant", ISOLATED);
    assert_eq!(
        default_key_format(&out, "team-a"),
        "argo/team-a/{{workflow.name}}/{{pod.name}}"
    );
    assert_eq!(
        default_key_format(&out, "team-b"),
        "argo/team-b/{{workflow.name}}/{{pod.name}}"
    );
    // The central ConfigMap serves every namespace: Argo's variable, not a literal.
    assert_eq!(
        default_key_format(&out, "argo-workflows"),
        "argo/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
    );
    // keyFormat without keyPrefix, the tenant layout (no central ConfigMap).
    let out = render_values(
        "prefix-per-tenant-format",
        &ISOLATED
            .replace(
                "  keyPrefix: argo\n",
                "  keyFormat: \"{{workflow.uid}}/{{pod.name}}\"\n",
            )
            .replace("s3:\n", "artifactRepos:\n  layout: tenant\ns3:\n"),
    );
    assert_eq!(
        default_key_format(&out, "team-a"),
        "team-a/{{workflow.uid}}/{{pod.name}}"
    );
    assert!(docs_of(&out, "ConfigMap", "argo-workflows").is_empty());
    // Argo's shape: the block's own keyFormat, and its deprecated keyPrefix (dropped for keyFormat).
    for (block, want) in [
        (
            "    keyFormat: \"wf/{{workflow.name}}\"\n",
            "team-b/wf/{{workflow.name}}",
        ),
        (
            "    keyPrefix: old\n",
            "old/team-b/{{workflow.name}}/{{pod.name}}",
        ),
    ] {
        let values = format!(
            "s3:\n  enabled: true\n  keyPrefixPerTenant: true\n  s3:\n    endpoint: minio.example.com:9000\n    bucket: platform-artifacts\n    insecure: true\n    accessKeySecret: {{name: s3, key: a}}\n    secretKeySecret: {{name: s3, key: s}}\n{block}repoRegistrations:\n- name: app-b\n  repoUrl: https://git.example.com/o/app-b.git\n  tenant: team-b\n"
        );
        let out = render_values("prefix-per-tenant-argo", &values);
        assert_eq!(default_key_format(&out, "team-b"), want, "{out}");
        assert!(!out.contains("keyPrefix"), "{out}");
    }
    // Another backend: Azure's key template is `blobNameFormat`.
    let out = render_values(
        "prefix-per-tenant-azure",
        "s3:\n  enabled: true\n  keyPrefixPerTenant: true\n  azure:\n    endpoint: https://acct.blob.core.windows.net\n    container: artifacts\n    useSDKCreds: true\nrepoRegistrations:\n- name: app-a\n  repoUrl: https://git.example.com/o/app-a.git\n  tenant: team-a\n",
    );
    assert_eq!(
        default_key_format(&out, "team-a"),
        "team-a/{{workflow.name}}/{{pod.name}}"
    );
    // The independent validator accepts the stream (every key Argo knows, every Secret produced).
    let (report, code) = support::validate_text(&render_values("prefix-validate", ISOLATED), &[]);
    assert_eq!(code, 0, "{report:#}");
}

/// The Vault keys of the ExternalSecrets of `namespace`.
fn vault_keys(stream: &str, namespace: &str) -> Vec<String> {
    docs_of(stream, "ExternalSecret", namespace)
        .iter()
        .flat_map(|es| {
            es["spec"]["data"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|d| d["remoteRef"]["key"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_vault_path_template_gives_each_namespace_its_own_credential() {
    let out = render_values("vault-template", ISOLATED);
    assert_eq!(vault_keys(&out, "team-a"), ["argo/artifacts/team-a"; 2]);
    assert_eq!(vault_keys(&out, "team-b"), ["argo/artifacts/team-b"; 2]);
    // The central layout's Secret for ref-less workflows in the controller namespace.
    assert_eq!(
        vault_keys(&out, "argo-workflows"),
        ["argo/artifacts/argo-workflows"; 2]
    );
    // `{tenant}` (the tenant label: `org/team-a` becomes `org-team-a`), under the store's pathPrefix;
    // a registration's own bucket takes the template too.
    let values = ISOLATED
        .replace("{namespace}", "{tenant}/s3")
        .replace(
            "s3:\n  enabled",
            "artifactRepos:\n  externalSecrets:\n    pathPrefix: kv\ns3:\n  enabled",
        )
        .replace(
            "  tenant: team-a\n",
            "  tenant: org/team-a\n  namespace: team-a\n",
        )
        + "- name: app-c\n  repoUrl: https://git.example.com/o/app-c.git\n  tenant: team-c\n  artifactBucket:\n    bucket: team-c-artifacts\n    externalSecretPath: tenants/{tenant}/{namespace}\n";
    let out = render_values("vault-template-tenant", &values);
    assert_eq!(
        vault_keys(&out, "team-a"),
        ["kv/argo/artifacts/org-team-a/s3"; 2]
    );
    let mut c = vault_keys(&out, "team-c");
    c.sort();
    assert_eq!(
        c,
        [
            "kv/argo/artifacts/team-c/s3",
            "kv/argo/artifacts/team-c/s3",
            "kv/tenants/team-c/team-c",
            "kv/tenants/team-c/team-c"
        ]
    );
    assert_eq!(
        vault_keys(&out, "argo-workflows"),
        ["kv/argo/artifacts/argo-workflows/s3"; 2]
    );
}

#[test]
fn vault_path_templates_are_validated() {
    for (path, want) in [
        (
            "argo/{team}",
            "s3.externalSecretPath: `argo/{team}` has the unknown placeholder `{team}`; the placeholders of a Vault path are `{namespace}`",
        ),
        (
            "argo/{NAMESPACE}/s3",
            "has the unknown placeholder `{NAMESPACE}`",
        ),
        ("argo/{namespace", "has a `{` without its `}`"),
        ("argo/namespace}", "has a `}` without its `{`"),
        ("argo/{}", "has the unknown placeholder `{}`"),
    ] {
        let dir = scratch("vault-template-bad");
        std::fs::write(
            dir.join("v.yaml"),
            ISOLATED.replace("argo/artifacts/{namespace}", path),
        )
        .unwrap();
        let out = run(&["render", "-f", "v.yaml"], &dir, None);
        assert_eq!(out.status.code(), Some(2), "{path}");
        assert!(out.stdout.is_empty(), "{path}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{path}: {err}");
        assert!(err.contains("`{tenant}`"), "{path}: {err}");
    }
    // A registration's path is checked the same way.
    let dir = scratch("vault-template-bad-reg");
    std::fs::write(dir.join("v.yaml"), "repoRegistrations:\n- name: a\n  repoUrl: https://git.example.com/o/a.git\n  tenant: t\n  artifactBucket:\n    bucket: team-artifacts\n    externalSecretPath: x/{registration}\n").unwrap();
    let out = run(&["render", "-f", "v.yaml"], &dir, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("repoRegistrations[0].artifactBucket.externalSecretPath: `x/{registration}` has the unknown placeholder `{registration}`"),
        "{}",
        text(&out.stderr)
    );
    // `{tenant}` needs one tenant per namespace: two tenants sharing one would share its Secret.
    let dir = scratch("vault-template-two-tenants");
    std::fs::write(
        dir.join("v.yaml"),
        ISOLATED.replace("{namespace}", "{tenant}")
            + "- name: app-c\n  repoUrl: https://git.example.com/o/app-c.git\n  tenant: team-c\n  namespace: team-b\n",
    )
    .unwrap();
    let out = run(&["render", "-f", "v.yaml"], &dir, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("s3.externalSecretPath: `argo/artifacts/{tenant}` names `{tenant}`, but namespace `team-b` holds the registrations of several tenants (`team-b`, `team-c`)"), "{}", text(&out.stderr));
}

/// Renders `values` and returns (stdout, stderr), exit 0.
fn render_both(name: &str, values: &str) -> (String, String) {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let out = run(&["render", "-f", "v.yaml"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

#[test]
fn render_warns_when_the_default_is_shared_by_several_tenants() {
    // The seed's values keep working as they are, with a warning naming the settings.
    let out = run(
        &["render", "-f", "examples/seed-values.yaml"],
        support::root(),
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: s3: the default repository is shared by 2 tenants in 2 namespaces; one Vault credential is synced into every namespace"),
        "{err}"
    );
    assert!(err.contains("`s3.keyPrefixPerTenant: true`"), "{err}");
    assert!(
        err.contains("`{namespace}` in `s3.externalSecretPath`"),
        "{err}"
    );
    // Half isolated: only what is missing is named.
    let (_, err) = render_both(
        "shared-keys",
        &ISOLATED.replace("  keyPrefixPerTenant: true\n", ""),
    );
    assert!(
        err.contains("every namespace writes under the same keys"),
        "{err}"
    );
    assert!(!err.contains("one Vault credential"), "{err}");
    let (_, err) = render_both("shared-credential", &ISOLATED.replace("/{namespace}", ""));
    assert!(err.contains("one Vault credential"), "{err}");
    assert!(!err.contains("same keys"), "{err}");
    // Quiet: isolated; a keyFormat of its own with `{{workflow.namespace}}`; one tenant.
    for values in [
        ISOLATED.to_string(),
        ISOLATED.replace(
            "  keyPrefixPerTenant: true\n",
            "  keyFormat: \"{{workflow.namespace}}/{{workflow.name}}\"\n",
        ),
        ISOLATED.replace(
            "  tenant: team-b\n",
            "  tenant: team-a\n  namespace: team-a\n",
        ),
    ] {
        let (_, err) = render_both("isolated", &values);
        assert!(!err.contains("warning"), "{values}: {err}");
    }
}

/// Renders `values` (in `dir`) and runs `check` on the output.
fn check_rendered(name: &str, values: &str) -> (i32, String) {
    let (stream, _) = render_both(name, values);
    let out = run(&["check"], &scratch(name), Some(stream.as_bytes()));
    (out.status.code().unwrap(), text(&out.stdout))
}

#[test]
fn check_reports_credentials_shared_across_tenants() {
    let (code, out) = check_rendered("check-shared", &ISOLATED.replace("/{namespace}", ""));
    // A warning: exit 0, but said.
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[shared-credentials]: ExternalSecret.external-secrets.io team-a/s3-credentials-default"), "{out}");
    assert!(out.contains("Vault secret `argo/artifacts` (ClusterSecretStore `vault`) is synced into 2 namespaces of 2 tenants: `team-a`, `team-b`"), "{out}");
    assert!(
        out.contains("also: ExternalSecret.external-secrets.io team-b/s3-credentials-default"),
        "{out}"
    );
    assert!(out.ends_with("no findings, 1 warning\n"), "{out}");
    // Registrations' own buckets on one Vault secret, too.
    let (_, out) = check_rendered(
        "check-shared-own",
        "repoRegistrations:\n- name: a\n  repoUrl: https://git.example.com/o/a.git\n  tenant: team-a\n  artifactBucket:\n    bucket: shared-artifacts\n    externalSecretPath: shared/s3\n- name: b\n  repoUrl: https://git.example.com/o/b.git\n  tenant: team-b\n  artifactBucket:\n    bucket: shared-artifacts\n    externalSecretPath: shared/s3\n",
    );
    assert!(out.contains("warning[shared-credentials]: ExternalSecret.external-secrets.io team-a/s3-credentials-a"), "{out}");
    // Quiet: per-tenant credentials; one tenant in two namespaces; a namespaced SecretStore
    // (one name may point at a different Vault in each namespace).
    for (name, values) in [
        ("check-isolated", ISOLATED.to_string()),
        (
            "check-one-tenant",
            ISOLATED
                .replace("/{namespace}", "")
                .replace("  tenant: team-b\n", "  tenant: team-a\n  namespace: team-b\n"),
        ),
        (
            "check-secret-store",
            ISOLATED.replace("/{namespace}", "").replace(
                "s3:\n  enabled",
                "artifactRepos:\n  externalSecrets:\n    storeRef:\n      kind: SecretStore\ns3:\n  enabled",
            ),
        ),
    ] {
        let (code, out) = check_rendered(name, &values);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(!out.contains("shared-credentials"), "{name}: {out}");
    }
}

/// Runs `policies` on `values` with `args`; returns (exit code, stdout, stderr).
fn policies(name: &str, values: &str, args: &[&str]) -> (i32, String, String, PathBuf) {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let mut all = vec!["policies", "-f", "v.yaml"];
    all.extend_from_slice(args);
    let out = run(&all, &dir, None);
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
        dir,
    )
}

/// The policy of the credential named `name` in `policies`' stdout.
fn policy_named(out: &str, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no policy {name}: {out}"))
        .clone()
}

#[test]
fn policies_grant_each_credential_only_its_own_prefix() {
    let (code, out, err, _) = policies("policies", ISOLATED, &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "argo-artifacts-argo-workflows",
            "argo-artifacts-team-a",
            "argo-artifacts-team-b"
        ]
    );
    let a = policy_named(&out, "argo-artifacts-team-a");
    assert_eq!(
        a["credential"],
        "vault ClusterSecretStore/vault argo/artifacts/team-a"
    );
    assert_eq!(a["namespaces"], serde_json::json!(["team-a"]));
    let statements = a["policy"]["Statement"].as_array().unwrap();
    assert_eq!(a["policy"]["Version"], "2012-10-17");
    let list = statements
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["s3:ListBucket"]))
        .unwrap();
    assert_eq!(
        list["Resource"],
        serde_json::json!(["arn:aws:s3:::platform-artifacts"])
    );
    assert_eq!(
        list["Condition"]["StringLike"]["s3:prefix"],
        serde_json::json!(["argo/team-a/", "argo/team-a/*"])
    );
    let objects = statements
        .iter()
        .find(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .contains(&"s3:PutObject".into())
        })
        .unwrap();
    assert_eq!(
        objects["Action"],
        // minio-go uploads 16 MiB and more in parts and aborts a failed upload (issue 20 item 3).
        serde_json::json!([
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload"
        ])
    );
    assert_eq!(
        objects["Resource"],
        serde_json::json!(["arn:aws:s3:::platform-artifacts/argo/team-a/*"])
    );
    // Nothing reaches another tenant's keys, nor the whole bucket.
    assert!(!a.to_string().contains("team-b"), "{a:#}");
    assert!(!a.to_string().contains("platform-artifacts/*"), "{a:#}");
    assert!(err.is_empty(), "{err}");
    // The same bytes every time.
    let (_, again, _, _) = policies("policies-again", ISOLATED, &[]);
    assert_eq!(out, again);
}

#[test]
fn policies_follow_the_format_the_credentials_and_the_buckets() {
    // AWS ARNs carry the region's partition; MinIO's are always `arn:aws`.
    let china = ISOLATED.replace("us-east-1", "cn-north-1");
    let (_, aws, _, _) = policies("policies-aws", &china, &["--format", "aws"]);
    let (_, minio, _, _) = policies("policies-minio", &china, &["--format", "minio"]);
    assert!(
        aws.contains("arn:aws-cn:s3:::platform-artifacts/argo/team-a/*"),
        "{aws}"
    );
    assert!(!aws.contains("arn:aws:s3"), "{aws}");
    assert!(
        minio.contains("arn:aws:s3:::platform-artifacts/argo/team-a/*"),
        "{minio}"
    );
    // A shared credential: one policy reaching every namespace's keys, and a note saying so.
    let (code, out, err, _) = policies(
        "policies-shared",
        &ISOLATED.replace("/{namespace}", ""),
        &[],
    );
    assert_eq!(code, 0);
    let shared = policy_named(&out, "argo-artifacts");
    assert_eq!(
        shared["namespaces"],
        serde_json::json!(["argo-workflows", "team-a", "team-b"])
    );
    assert!(
        err.contains("note: policy `argo-artifacts`: one credential"),
        "{err}"
    );
    // A registration's own bucket (whole bucket: no literal prefix) and its data bucket (read only).
    let values = "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n  dataBucket:\n    bucket: reference-data\n    keyPrefix: genomes\n    existingSecret: data-reader\n- name: gcs\n  repoUrl: https://git.example.com/o/gcs.git\n  tenant: team-b\n  artifactBucket:\n    gcs:\n      bucket: team-b\n";
    let (code, out, err, _) = policies("policies-own", values, &[]);
    assert_eq!(code, 0, "{err}");
    let own = policy_named(&out, "team-a-s3");
    let s = own["policy"]["Statement"].as_array().unwrap();
    assert!(s.iter().all(|x| x.get("Condition").is_none()), "{own:#}");
    assert!(
        own.to_string().contains("arn:aws:s3:::team-a-artifacts/*"),
        "{own:#}"
    );
    let data = policy_named(&out, "team-a-data-reader");
    assert_eq!(data["credential"], "secret team-a/data-reader");
    let objects = data["policy"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["Action"]
                .as_array()
                .unwrap()
                .contains(&"s3:GetObject".into())
        })
        .unwrap()
        .clone();
    assert_eq!(objects["Action"], serde_json::json!(["s3:GetObject"]));
    assert_eq!(
        objects["Resource"],
        serde_json::json!(["arn:aws:s3:::reference-data/genomes/*"])
    );
    assert!(
        err.contains("registration `gcs`: a `gcs` repository; policies are written for S3"),
        "{err}"
    );
    // --output-dir: one policy document per file.
    let (code, out, err, dir) = policies("policies-dir", ISOLATED, &["--output-dir", "out"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("out/argo-artifacts-team-b.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    assert!(doc.to_string().contains("argo/team-b/*"));
    assert_eq!(std::fs::read_dir(dir.join("out")).unwrap().count(), 3);
    // Nothing to write a policy for is an error.
    let (code, out, err, _) = policies(
        "policies-none",
        "repoRegistrations:\n- name: gcs\n  repoUrl: https://git.example.com/o/gcs.git\n  tenant: team-b\n  artifactBucket:\n    gcs:\n      bucket: team-b\n",
        &[],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("no S3 repository"), "{err}");
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
