//! Every stream `render` produces in the golden cases is checked by an independent validator,
//! `tests/tools/validate_stream.py` (shares no code with the tool): `kubernetes-validate --strict`
//! (Kubernetes 1.33) for core kinds, the ExternalSecret CRD (ESO v2.9.0), the WorkflowTemplate CRD and
//! Argo's JSON schema, every repository value against Argo's ArtifactRepository schema refusing
//! unlisted keys, and Argo's artifactRepositoryRef resolution (facts.md section 1) with the credential
//! Secret produced in the workflow's namespace. The tools come from `scripts/test`; a missing tool
//! fails the test, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let venv = root().join(".tools/venv/bin/python");
    assert!(
        venv.is_file(),
        "{} is missing: run scripts/test (it installs the pinned validators)",
        venv.display()
    );
    venv
}

fn shared() -> PathBuf {
    let dir = std::env::var_os("ARTIFACT_REPOS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    assert!(
        dir.join("schemas").is_dir(),
        "{}/schemas is missing: put shared/ beside the repository or set ARTIFACT_REPOS_SHARED",
        dir.display()
    );
    dir
}

/// Runs the validator on a stream; returns its JSON report and exit code.
fn validate(stream: &Path, extra: &[String]) -> (serde_json::Value, i32) {
    let out = Command::new(python())
        .arg(root().join("tests/tools/validate_stream.py"))
        .args(extra)
        .arg(stream)
        .env("ARTIFACT_REPOS_SHARED", shared())
        .output()
        .expect("the validator runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validator printed no JSON report for {} ({e}): {}",
            stream.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.code().unwrap_or(-1))
}

fn render_cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/render"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::read_to_string(p.join("code")).is_ok_and(|c| c.trim() == "0"))
        .filter(|p| {
            !std::fs::read_to_string(p.join("cmd"))
                .unwrap()
                .lines()
                .any(|l| l == "json")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_rendered_golden_stream_passes_the_independent_validator() {
    let cases = render_cases();
    assert!(
        cases.len() >= 7,
        "expected the render golden cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let extra: Vec<String> = std::fs::read_to_string(case.join("validate-args"))
            .map(|s| s.lines().map(String::from).collect())
            .unwrap_or_default();
        // `cluster.yaml`: objects the cluster already holds (an `existingSecret`), read with the stream.
        let stream = match std::fs::read_to_string(case.join("cluster.yaml")) {
            Ok(cluster) => {
                let mut s = std::fs::read_to_string(case.join("stdout")).unwrap();
                s.push_str("---\n");
                s.push_str(&cluster);
                let file = std::env::temp_dir().join(format!(
                    "artifact-repos-cluster-{}.yaml",
                    std::process::id()
                ));
                std::fs::write(&file, s).unwrap();
                file
            }
            Err(_) => case.join("stdout"),
        };
        let (report, code) = validate(&stream, &extra);
        if code != 0 || report["ok"] != true {
            failures.push(format!(
                "{}: {}",
                case.display(),
                serde_json::to_string_pretty(&report["errors"]).unwrap()
            ));
        }
        // Every WorkflowTemplate resolves to a repository (none falls back to the controller default).
        for r in report["resolutions"].as_array().unwrap() {
            if r["kind"] == "WorkflowTemplate" && r["bucket"].is_null() {
                let default_disabled = case.ends_with("merge-files-and-set");
                if !default_disabled {
                    failures.push(format!(
                        "{}: {} resolves to no bucket",
                        case.display(),
                        r["name"]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The seed's promise: apply the output, submit the seed's own Workflow with
/// `key: artifactRepositories.genomics-pipeline`, and artifacts land in `genomics-artifacts`.
#[test]
fn the_seeds_workflow_lands_in_genomics_artifacts_with_its_secret_in_its_namespace() {
    let mut stream =
        std::fs::read_to_string(root().join("fixtures/render/seed-example/stdout")).unwrap();
    stream.push_str(
        "---\napiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: artifact-test\n  namespace: research-team\nspec:\n  serviceAccountName: wf-runner\n  artifactRepositoryRef:\n    configMap: artifact-repositories\n    key: artifactRepositories.genomics-pipeline\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n      command: [sh, -c]\n      args: [\"echo test > /tmp/test.txt\"]\n    outputs:\n      artifacts:\n      - name: result\n        path: /tmp/test.txt\n",
    );
    let dir = std::env::temp_dir().join(format!("artifact-repos-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stream.yaml");
    std::fs::write(&file, &stream).unwrap();
    let (report, code) = validate(&file, &[]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{report:#}");
    let find = |kind: &str, name: &str| {
        report["resolutions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind && r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no resolution for {kind} {name}: {report:#}"))
    };
    for (kind, name, ns, bucket, secret) in [
        (
            "Workflow",
            "artifact-test",
            "research-team",
            "genomics-artifacts",
            "s3-credentials-genomics-pipeline",
        ),
        (
            "WorkflowTemplate",
            "genomics-pipeline",
            "research-team",
            "genomics-artifacts",
            "s3-credentials-genomics-pipeline",
        ),
        (
            "WorkflowTemplate",
            "my-project",
            "my-tenant-namespace",
            "my-project-artifacts",
            "s3-credentials-my-project",
        ),
    ] {
        let r = find(kind, name);
        assert_eq!(r["namespace"], ns);
        assert_eq!(r["bucket"], bucket, "{r:#}");
        assert_eq!(
            r["configMapNamespace"], ns,
            "found in the workflow's own namespace first: {r:#}"
        );
        for s in r["secrets"].as_array().unwrap() {
            assert_eq!(s["name"], secret);
            assert_eq!(s["producedBy"], format!("ExternalSecret {ns}/{secret}"));
        }
    }
}

/// `-o json` is the same objects as the YAML stream.
#[test]
fn json_output_holds_the_same_objects_as_yaml() {
    let dir = root().join("fixtures/render");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("seed-example-json/stdout")).unwrap(),
    )
    .unwrap();
    let yaml = std::fs::read_to_string(dir.join("seed-example/stdout")).unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    assert_eq!(json["kind"], "List");
    assert_eq!(json["items"].as_array().unwrap(), &docs);
}
