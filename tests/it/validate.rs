//! Every stream `render` produces in the golden cases is checked by an independent validator,
//! `tests/tools/validate_stream.py` (shares no code with the tool): `kubernetes-validate --strict`
//! (Kubernetes 1.33) for core kinds, the ExternalSecret CRD (ESO v2.9.0), the WorkflowTemplate CRD and
//! Argo's JSON schema, every repository value against Argo's ArtifactRepository schema refusing
//! unlisted keys, and Argo's artifactRepositoryRef resolution (docs/upstream.md, "Argo: how a workflow finds its repository") with the credential
//! Secret produced in the workflow's namespace. The tools come from `scripts/test`; a missing tool
//! fails the test, it never skips.

use std::path::PathBuf;

use crate::support;
use support::{root, validate, validate_text};

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
        let (report, code) = match std::fs::read_to_string(case.join("cluster.yaml")) {
            Ok(cluster) => {
                let stdout = std::fs::read_to_string(case.join("stdout")).unwrap();
                validate_text(&format!("{stdout}---\n{cluster}"), &extra)
            }
            Err(_) => validate(&case.join("stdout"), &extra),
        };
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
    let (report, code) = validate_text(&stream, &[]);
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
