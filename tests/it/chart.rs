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
        committed == artifact_repos::values::schema::values_schema(),
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

/// Every key of the chart's values.yaml is a field of the table, holding the table's default; every
/// settings section is written out (the repository fields of `s3` are documented in comments).
#[test]
fn chart_values_yaml_follows_the_field_table() {
    use artifact_repos::values::fields::{Default, Section, TOP, Type};
    use artifact_repos::yaml::Node;
    fn walk(section: &Section, node: &Node, path: &str, problems: &mut Vec<String>) {
        let map = node.as_map().cloned().unwrap_or_default();
        for key in map.keys() {
            if section.get(key).is_none() {
                problems.push(format!("{path}{key}: not a field of the table"));
            }
        }
        for f in section.fields() {
            let p = format!("{path}{}", f.key);
            let v = map.get(f.key);
            match (f.ty, f.default, v) {
                (Type::Map(inner), _, Some(v)) => walk(inner, v, &format!("{p}."), problems),
                (Type::Map(_), _, None) => problems.push(format!("{p}: missing")),
                (_, Default::Str(d), Some(Node::Str(s))) if s == d => {}
                (_, Default::Bool(d), Some(Node::Bool(b))) if *b == d => {}
                (_, Default::List(d), Some(Node::Seq(items)))
                    if items
                        .iter()
                        .map(Node::as_str)
                        .eq(d.iter().map(|s| Some(*s))) => {}
                (_, Default::Str(_) | Default::Bool(_) | Default::List(_), None) => {}
                (_, Default::Str(_) | Default::Bool(_) | Default::List(_), other) => {
                    problems.push(format!("{p}: {other:?} is not the table's default"))
                }
                (Type::Labels, _, Some(Node::Map(m))) if m.is_empty() => {}
                (Type::List(_), _, Some(Node::Seq(items))) if items.is_empty() => {}
                (_, _, None) => {}
                (_, _, Some(other)) => problems.push(format!("{p}: {other:?} has no default")),
            }
        }
    }
    let bytes = std::fs::read(chart().join("values.yaml")).unwrap();
    let values = artifact_repos::yaml::parse_values("values.yaml", &bytes).unwrap();
    let mut problems = Vec::new();
    // `s3.enabled: false` leaves `bucket` (required when enabled) to a comment.
    walk(&TOP, &values, "", &mut problems);
    problems.retain(|p| p != "s3.bucket: missing");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
