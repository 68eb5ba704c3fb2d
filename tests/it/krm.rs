//! The KRM function with the real tools: kustomize v5.8.1 (`build --enable-alpha-plugins
//! --enable-exec`, the tool as an exec generator and as an exec transformer) and kpt v1.0.0-beta.54
//! (`fn eval --exec`, `fn render` with a Kptfile pipeline), both built from the Go module proxy into
//! `.tools/bin` by scripts/install-tools; a missing one fails the test. Both call the tool with no
//! arguments and a ResourceList on stdin, so these also test the sniffing of that call.

use crate::support::root;
use artifact_repos::yaml::{Node, parse_documents};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool(name: &str) -> PathBuf {
    let p = root().join(".tools/bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test (scripts/install-tools builds it)",
        p.display()
    );
    p
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("artifact-repos-krm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// PATH with this build's artifact-repos first (the functions name it `artifact-repos`).
fn path_env() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_artifact-repos"))
        .parent()
        .unwrap();
    format!("{}:/usr/bin:/bin", bin.display())
}

fn run(program: &Path, args: &[&str], cwd: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("PATH", path_env())
        .env("HOME", cwd)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn docs(text: &str) -> Vec<Node> {
    parse_documents("out", text.as_bytes(), usize::MAX).unwrap()
}

fn ids(docs: &[Node]) -> Vec<String> {
    let mut v: Vec<String> = docs
        .iter()
        .map(|d| {
            let s = |n: Option<&Node>| n.and_then(Node::as_str).unwrap_or("").to_string();
            let m = d.get("metadata");
            format!(
                "{} {}/{}",
                s(d.get("kind")),
                s(m.and_then(|m| m.get("namespace"))),
                s(m.and_then(|m| m.get("name")))
            )
        })
        .collect();
    v.sort();
    v
}

const VALUES: &str = "repoRegistrations:\n- name: genomics\n  repoUrl: https://github.com/lab/vc.git\n  tenant: genomics\n  artifactBucket: {bucket: g-artifacts, externalSecretPath: g/a}\n";

/// What `render` makes of VALUES with release name `tenants`.
fn rendered_ids(dir: &Path) -> Vec<String> {
    write(dir, "render-values.yaml", VALUES);
    let out = crate::support::run(
        &[
            "render",
            "-f",
            "render-values.yaml",
            "--release-name",
            "tenants",
        ],
        dir,
        None,
    );
    assert!(out.status.success());
    ids(&docs(&text(&out).0))
}

fn carrier(function_annotation: &str) -> String {
    let values: String = VALUES.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: tenants\n  annotations:\n{function_annotation}release:\n  name: tenants\nvalues:\n{values}"
    )
}

const EXEC_ANNOTATION: &str =
    "    config.kubernetes.io/function: |\n      exec:\n        path: artifact-repos\n";

const REGISTRATION: &str = "apiVersion: platform.calypr.io/v1alpha1\nkind: RepoRegistration\nmetadata:\n  name: variants\n  namespace: wf-poc\nspec:\n  repoUrl: https://github.com/lab/variants.git\n  tenant: variants\n  artifactBucket: {bucket: v-artifacts, externalSecretPath: v/a}\n";

const OTHER: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: wf-poc\n  annotations:\n    team: variants\ndata:\n  zip: \"012\"\n  flag: \"true\"\n";

#[test]
fn kustomize_runs_it_as_a_generator() {
    let dir = scratch("kustomize-generator");
    write(&dir, "carrier.yaml", &carrier(EXEC_ANNOTATION));
    write(&dir, "kustomization.yaml", "generators:\n- carrier.yaml\n");
    let kustomize = tool("kustomize");
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(ids(&docs(&stdout)), rendered_ids(&dir), "{stdout}");
    assert!(!stdout.contains("ValuesCarrier"));
    // Same input, same bytes.
    let again = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    assert_eq!(again.stdout, out.stdout);

    // Broken values: kustomize fails and shows the function's message.
    write(
        &dir,
        "carrier.yaml",
        &carrier(EXEC_ANNOTATION).replace("g-artifacts", "G_A"),
    );
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(
            "ValuesCarrier tenants: values.repoRegistrations[0].artifactBucket.bucket: `G_A`"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kustomize_runs_it_as_a_transformer() {
    let dir = scratch("kustomize-transformer");
    write(
        &dir,
        "fn.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repos\n  annotations:\n{EXEC_ANNOTATION}data:\n  releaseName: tenants\n  values: |\n    artifactRepos:\n      externalSecrets: {{pathPrefix: kv}}\n"
        ),
    );
    write(&dir, "registration.yaml", REGISTRATION);
    write(&dir, "other.yaml", OTHER);
    write(
        &dir,
        "kustomization.yaml",
        "resources:\n- other.yaml\n- registration.yaml\ntransformers:\n- fn.yaml\n",
    );
    let kustomize = tool("kustomize");
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let got = docs(&stdout);
    // The other object comes back unchanged; the registration is consumed.
    let other = docs(OTHER).remove(0);
    assert!(got.contains(&other), "{stdout}");
    assert!(!stdout.contains("kind: RepoRegistration"), "{stdout}");
    for want in [
        "ExternalSecret wf-poc/s3-credentials-variants",
        "WorkflowTemplate wf-poc/variants",
        "ConfigMap wf-poc/artifact-repositories",
    ] {
        assert!(
            ids(&got).iter().any(|i| i == want),
            "no {want} in {:?}",
            ids(&got)
        );
    }

    // A broken registration: the message points into the object.
    write(
        &dir,
        "registration.yaml",
        &REGISTRATION.replace("v-artifacts", "V_A"),
    );
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("RepoRegistration wf-poc/variants: spec.artifactBucket.bucket: `V_A`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
