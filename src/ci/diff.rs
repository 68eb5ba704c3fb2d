//! Object-by-object comparison of two manifest streams, and the only owner of the `similar` crate.
//! Objects are paired by identity, each side rendered canonically (`manifests::canonical`), so
//! order and formatting never count as drift. Secret values are masked the way `kubectl diff` masks
//! them: the output says that a value changed, never what it is. The same masking covers
//! annotations that carry credentials on any kind (#11): `kubectl.kubernetes.io/last-applied-configuration`
//! holds a whole earlier copy of the object (a Secret's data included), and any annotation whose key
//! names a credential or whose value looks like one. Secrets inside a `List` are items like any
//! other (`manifests` expands them), so they are masked too. Pure: text in, text out.

use crate::ci::manifests::{Manifest, canonical};
use crate::rules::identity::Identity;
use crate::yaml::Node;
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeMap;

/// What a comparison found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOutcome {
    /// Headers, unified diffs and the summary line.
    pub text: String,
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
}

impl DiffOutcome {
    pub fn drift(&self) -> bool {
        self.changed + self.added + self.removed > 0
    }
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Compares OLD with NEW. Objects are reported in identity order (group, kind, namespace, name), so
/// the output does not depend on stream order either.
pub fn diff(old: &[Manifest], new: &[Manifest], color: bool) -> DiffOutcome {
    let mut pairs: BTreeMap<&Identity, (Option<&Manifest>, Option<&Manifest>)> = BTreeMap::new();
    for m in old {
        pairs.entry(&m.identity).or_default().0 = Some(m);
    }
    for m in new {
        pairs.entry(&m.identity).or_default().1 = Some(m);
    }
    let mut out = String::new();
    let (mut changed, mut added, mut removed) = (0, 0, 0);
    for (id, (o, n)) in pairs {
        let (mut a, mut b) = (o.map(canonical), n.map(canonical));
        if id.group.is_empty() && id.kind == "Secret" {
            for field in ["data", "stringData"] {
                mask(a.as_mut(), b.as_mut(), &[field], |_, _| true);
            }
        }
        mask(
            a.as_mut(),
            b.as_mut(),
            &["metadata", "annotations"],
            credential_annotation,
        );
        // Equal trees (both sorted) write equal text: most objects of a diff are unchanged, and
        // writing them cost as much as reading them.
        if a.is_some() && a == b {
            continue;
        }
        let a_text = a.as_ref().map(crate::yaml::to_yaml).unwrap_or_default();
        let b_text = b.as_ref().map(crate::yaml::to_yaml).unwrap_or_default();
        if a.is_some() && b.is_some() && a_text == b_text {
            continue;
        }
        let (verb, a_name, b_name) = match (o, n) {
            (Some(o), Some(n)) => {
                changed += 1;
                ("changed", o.location(), n.location())
            }
            (None, Some(n)) => {
                added += 1;
                ("added", "/dev/null".to_string(), n.location())
            }
            (Some(o), None) => {
                removed += 1;
                ("removed", o.location(), "/dev/null".to_string())
            }
            (None, None) => unreachable!("every entry has a side"),
        };
        let header = format!("{verb}: {id}");
        if color {
            out.push_str(&format!("{BOLD}{header}{RESET}\n"));
        } else {
            out.push_str(&header);
            out.push('\n');
        }
        unified(&a_text, &b_text, &a_name, &b_name, color, &mut out);
    }
    let summary = format!("{changed} changed, {added} added, {removed} removed\n");
    out.push_str(&summary);
    DiffOutcome {
        text: out,
        changed,
        added,
        removed,
    }
}

/// A unified diff of two texts with three lines of context, colored on request.
fn unified(a: &str, b: &str, a_name: &str, b_name: &str, color: bool, out: &mut String) {
    let diff = TextDiff::from_lines(a, b);
    let paint = |s: &str, c: &str| {
        if color {
            format!("{c}{s}{RESET}")
        } else {
            s.to_string()
        }
    };
    // Names are `location()`s and lines are canonical YAML, both escaped already; made
    // terminal-safe again here, where the line breaks are added, as for `check` and `explain`.
    let safe = crate::error::terminal_safe;
    out.push_str(&paint(&format!("--- {}", safe(a_name)), BOLD));
    out.push('\n');
    out.push_str(&paint(&format!("+++ {}", safe(b_name)), BOLD));
    out.push('\n');
    let mut udiff = diff.unified_diff();
    udiff.context_radius(3);
    for hunk in udiff.iter_hunks() {
        out.push_str(&paint(&hunk.header().to_string(), CYAN));
        out.push('\n');
        for change in hunk.iter_changes() {
            let (sign, c) = match change.tag() {
                ChangeTag::Delete => ("-", RED),
                ChangeTag::Insert => ("+", GREEN),
                ChangeTag::Equal => (" ", ""),
            };
            let line = change.value().trim_end_matches('\n');
            let text = format!("{sign}{}", crate::error::terminal_safe(line));
            if c.is_empty() {
                out.push_str(&text);
            } else {
                out.push_str(&paint(&text, c));
            }
            out.push('\n');
        }
    }
}

/// The annotation that `kubectl apply` fills with the whole object as last applied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether an annotation may carry a credential: kubectl's copy of the object, a key that names a
/// credential (`.../token`, `password`), or a value that looks like one.
fn credential_annotation(key: &str, value: &Node) -> bool {
    let last_segment = key.rsplit('/').next().unwrap_or(key);
    key == LAST_APPLIED
        || crate::rules::credential::is_credential_key(last_segment)
        || value
            .as_str()
            .is_some_and(crate::rules::credential::looks_like_credential)
}

/// Replaces the values of the map at `path` for which `masked(key, value)` holds on either side
/// with `***`, or `*** (before)` / `*** (after)` where the two sides differ, so a diff shows which
/// keys changed without printing what they hold.
fn mask(
    a: Option<&mut Node>,
    b: Option<&mut Node>,
    path: &[&str],
    masked: impl Fn(&str, &Node) -> bool,
) {
    let at = |n: Option<&Node>| {
        n.and_then(|n| crate::ci::manifests::get_path(n, path))
            .cloned()
    };
    let before = at(a.as_deref());
    let after = at(b.as_deref());
    let hidden = |key: &str| {
        [&before, &after].iter().any(|m| {
            m.as_ref()
                .and_then(|m| m.get(key))
                .is_some_and(|v| masked(key, v))
        })
    };
    let same = |key: &str| {
        let x = before.as_ref().and_then(|m| m.get(key));
        let y = after.as_ref().and_then(|m| m.get(key));
        x.is_some() && x == y
    };
    for (side, label) in [(a, "before"), (b, "after")] {
        let mut cur = side;
        for k in path {
            cur = match cur {
                Some(Node::Map(m)) => m.get_mut(*k),
                _ => None,
            };
        }
        if let Some(Node::Map(values)) = cur {
            for (k, v) in values.iter_mut() {
                if !hidden(k) {
                    continue;
                }
                *v = Node::Str(if same(k) {
                    "***".to_string()
                } else {
                    format!("*** ({label})")
                });
            }
        }
    }
}
