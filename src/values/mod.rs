//! Values input: reads the user's values sources, merges them the way Helm does (maps merge deeply,
//! later sources win, lists and scalars replace, `null` removes a key), applies `--set`, and hands the
//! merged tree to `validate`, which turns it into the checked `model`.

pub mod cross;
pub mod fields;
pub mod isolation;
pub mod path;
pub mod read;
pub mod reporeg;
pub mod schema;
pub mod set;
pub mod validate;

use crate::error::Problems;
use crate::yaml::Node;

/// The bundled example rendered when no `-f` is given: the seed document's own registrations.
pub const EXAMPLE: &str = include_str!("../../examples/seed-values.yaml");
pub const EXAMPLE_NAME: &str = "examples/seed-values.yaml";

/// Deep-merges `overlay` into `base` as Helm merges values files.
pub fn merge(base: &mut Node, overlay: Node) {
    match (base, overlay) {
        (Node::Map(b), Node::Map(o)) => {
            for (k, v) in o {
                if v == Node::Null {
                    b.shift_remove(&k);
                    continue;
                }
                match b.get_mut(&k) {
                    Some(existing @ Node::Map(_)) if matches!(v, Node::Map(_)) => {
                        merge(existing, v)
                    }
                    _ => {
                        b.insert(k, strip_nulls(v));
                    }
                }
            }
        }
        (b, o) => *b = strip_nulls(o),
    }
}

/// A `null` inside a newly inserted map also means "not set": removed from every map, also in
/// the maps of lists.
pub(crate) fn strip_nulls(node: Node) -> Node {
    match node {
        Node::Map(m) => Node::Map(
            m.into_iter()
                .filter(|(_, v)| *v != Node::Null)
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Node::Seq(items) => Node::Seq(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Whether a map anywhere in `node` has an entry holding null.
pub(crate) fn has_null_entry(node: &Node) -> bool {
    match node {
        Node::Map(m) => m.values().any(|v| *v == Node::Null || has_null_entry(v)),
        Node::Seq(items) => items.iter().any(has_null_entry),
        _ => false,
    }
}

/// Parses and merges values sources in order, then applies `--set` and `--set-string`.
/// Every source is parsed, so problems from several files are reported together. The warnings
/// say where a later file replaced an earlier file's non-empty `repoRegistrations` (Helm's rule:
/// a list replaces a list), which loses every registration of the earlier file (#21).
pub fn merge_sources(
    sources: &[(String, Vec<u8>)],
    set: &[String],
    set_string: &[String],
) -> Result<(Node, Vec<crate::error::Problem>), Problems> {
    let mut merged = Node::Map(Default::default());
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    let key = fields::top::REGISTRATIONS.key;
    // The file whose non-empty registrations the merged values hold.
    let mut holder: Option<(&str, usize)> = None;
    for (name, bytes) in sources {
        match crate::yaml::parse_values(name, bytes) {
            Ok(node) => {
                match node.get(key) {
                    Some(Node::Seq(items)) => {
                        if let Some((earlier, n)) = holder {
                            warnings.push(crate::error::Problem::new(
                                key,
                                format!(
                                    "{} replaces the {n} registration{} of {}: values files merge as Helm merges them, and a list replaces a list; put every registration in one file, or use RepoRegistration files (`-f DIR`)",
                                    crate::rules::credential::show(name),
                                    if n == 1 { "" } else { "s" },
                                    crate::rules::credential::show(earlier),
                                ),
                            ));
                        }
                        holder = (!items.is_empty()).then_some((name.as_str(), items.len()));
                    }
                    Some(Node::Null) => holder = None,
                    _ => {}
                }
                merge(&mut merged, node)
            }
            Err(p) => problems.0.extend(p.0),
        }
    }
    for (flag, list, typed) in [("--set", set, true), ("--set-string", set_string, false)] {
        for (i, expr) in list.iter().enumerate() {
            if let Err(msg) = set::apply(&mut merged, expr, typed) {
                problems.push(format!("{flag}[{i}]"), msg);
            }
        }
    }
    problems.into_result()?;
    Ok((merged, warnings))
}

/// The top-level keys of a values tree for a message, each through `show`: escaped, cut, and
/// withheld when a key looks like a credential.
pub fn shown_keys(values: &Node) -> Vec<String> {
    values
        .as_map()
        .map(|m| {
            m.keys()
                .map(|k| crate::rules::credential::show(k))
                .collect()
        })
        .unwrap_or_default()
}

/// The error for values that generate no object: what was read (the sources, their top-level keys)
/// and why nothing came out.
pub fn nothing_to_render(sources: &[&str], with_set: bool, merged: &Node) -> Problems {
    let mut read: Vec<String> = sources
        .iter()
        .map(|n| crate::rules::credential::show(n))
        .collect();
    if with_set {
        read.push("the --set values".into());
    }
    let keys = shown_keys(merged);
    let keys = if keys.is_empty() {
        "no keys at all".to_string()
    } else {
        format!("the top-level keys {}", keys.join(", "))
    };
    let mut p = Problems::default();
    p.push(
        "",
        format!(
            "nothing to render: read {} ({keys}), and {}, so no object would be generated; add registrations under `repoRegistrations`, or set `s3.enabled: true` with a bucket",
            read.join(", "),
            validate::why_nothing(merged)
        ),
    );
    p
}

/// Whether the values ask for strict mode (`artifactRepos.strict: true`): every warning is an
/// error. Read off the merged tree, not the model, so that warnings found before or beside
/// validation (a skipped file, a carrier that generates nothing) count too; the validator checks
/// the field's type.
pub fn strict(values: &Node) -> bool {
    matches!(
        values.get("artifactRepos").and_then(|a| a.get("strict")),
        Some(Node::Bool(true))
    )
}

/// Strict mode (#11, class 8): Helm drops a successful post-renderer's stderr, so a warning there
/// is seen by nobody; under `--strict` or `artifactRepos.strict: true` every warning is an error
/// instead, said to be one because of `switch`. `Ok` when there are no warnings.
pub fn strict_errors(warnings: &[crate::error::Problem], switch: &str) -> Result<(), Problems> {
    let mut p = Problems::default();
    for w in warnings {
        p.push(
            w.path.clone(),
            format!("{} (a warning, an error under {switch})", w.message),
        );
    }
    p.into_result()
}
