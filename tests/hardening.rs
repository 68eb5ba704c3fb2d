//! Regression tests for issue #11 ("Hardening"), one section per defect class, each run through the
//! real binary on inputs written for the purpose. Every test here failed before its fix.

mod support;

use std::path::PathBuf;
use support::run;

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
    assert!(!stdout.lines().any(|l| l.starts_with("finding[fake]")), "{stdout}");
    assert!(stdout.contains("team-a\\nfinding[fake]: all good"), "{stdout}");
}

#[test]
fn explain_escapes_names_and_values() {
    let dir = scratch("explain-escape");
    std::fs::write(dir.join("wf.yaml"), HOSTILE_WORKFLOW).unwrap();
    std::fs::write(dir.join("m.yaml"), HOSTILE_CONFIGMAP).unwrap();
    let out = run(&["explain", "wf.yaml", "-m", "m.yaml"], &dir, None);
    let stdout = text(&out.stdout);
    assert!(!has_raw_control(&stdout), "{stdout:?}");
    assert!(!stdout.lines().any(|l| l.starts_with("forged:")), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("chain: complete")), "{stdout}");
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
    assert!(stdout.contains("changed: ConfigMap n/x\\u{1b}[2Jy"), "{stdout}");
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
    let new = old.replace("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_zyx").replace(
        "spec: {}",
        "spec: {entrypoint: main}",
    );
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
