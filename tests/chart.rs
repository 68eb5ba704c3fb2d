//! The chart's committed files agree with the tool: `values.schema.json` is what
//! `artifact-repos schema` prints, and `values.yaml` holds exactly the tool's defaults.

use std::path::Path;

fn chart() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/artifact-repos")
}

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(chart().join("values.schema.json")).unwrap();
    assert!(
        committed == artifact_repos::schema::values_schema(),
        "charts/artifact-repos/values.schema.json is stale: run `cargo run -q -- schema > charts/artifact-repos/values.schema.json`"
    );
}

#[test]
fn chart_defaults_are_the_tools_defaults() {
    use artifact_repos::values::validate::validate;
    let bytes = std::fs::read(chart().join("values.yaml")).unwrap();
    let chart_values = artifact_repos::yaml::parse_values("values.yaml", &bytes).unwrap();
    let empty = artifact_repos::yaml::parse_values("empty", b"").unwrap();
    let (from_chart, w1) = validate(&chart_values).unwrap();
    let (from_empty, w2) = validate(&empty).unwrap();
    assert!(w1.is_empty() && w2.is_empty());
    assert_eq!(from_chart, from_empty);
}

#[test]
fn bundled_example_is_the_seed_example() {
    let text = artifact_repos::values::EXAMPLE;
    for want in [
        "genomics-pipeline",
        "genomics-artifacts",
        "my-project",
        "argo/apps/genomics-pipeline/s3/artifacts",
    ] {
        assert!(text.contains(want), "{want}");
    }
}
