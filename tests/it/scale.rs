//! Scale: the central ConfigMap is refused before it passes Kubernetes' 1 MiB limit, and the
//! `tenant` layout renders 10,000 registrations with every ConfigMap under the limit.

use artifact_repos::render::{Options, render};

fn values(registrations: usize, tenants: usize, layout: &str) -> artifact_repos::yaml::Node {
    let mut y = format!(
        "artifactRepos:\n  layout: {layout}\ns3:\n  enabled: true\n  bucket: platform-default\n  externalSecretPath: platform/s3\nrepoRegistrations:\n"
    );
    for i in 0..registrations {
        let t = i % tenants;
        y.push_str(&format!(
            "- name: repo-{i:05}\n  repoUrl: https://git.example.com/t{t}/repo-{i}.git\n  tenant: tenant-{t:04}\n  artifactBucket:\n    hostname: s3.us-west-2.amazonaws.com\n    bucket: bucket-{i:05}\n    region: us-west-2\n    keyPrefix: workflows/\n    externalSecretPath: tenants/{t}/repo-{i}/s3\n"
        ));
    }
    artifact_repos::yaml::parse_values("generated", y.as_bytes()).unwrap()
}

#[test]
fn central_configmap_over_one_mebibyte_is_refused_with_the_fix() {
    let err = render(&values(3000, 300, "central"), &Options::default()).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.len(), 1, "{text}");
    assert!(
        text.contains("ConfigMap argo-workflows/artifact-repositories would hold"),
        "{text}"
    );
    assert!(
        text.contains("over Kubernetes' limit of 1048576 bytes"),
        "{text}"
    );
    assert!(text.contains("artifactRepos.layout: tenant"), "{text}");
}

#[test]
fn tenant_layout_renders_ten_thousand_registrations_within_limits() {
    let rendered = render(&values(10_000, 1_000, "tenant"), &Options::default()).unwrap();
    let configmaps: Vec<_> = rendered
        .objects
        .iter()
        .filter(|o| o.identity.kind == "ConfigMap")
        .collect();
    assert_eq!(
        configmaps.len(),
        1_000,
        "one ConfigMap per tenant and no central one"
    );
    assert!(
        configmaps
            .iter()
            .all(|c| c.identity.namespace != "argo-workflows")
    );
    for cm in &configmaps {
        let size: usize = cm.value["data"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap().len())
            .sum();
        assert!(size < 1024 * 1024);
    }
    let templates = rendered
        .objects
        .iter()
        .filter(|o| o.identity.kind == "WorkflowTemplate")
        .count();
    assert_eq!(templates, 10_000);
}
