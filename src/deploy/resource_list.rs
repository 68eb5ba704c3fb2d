//! The text of a KRM `ResourceList`, so the function can write its items back unchanged, byte for
//! byte, as the post-renderer passes its documents (#20: items parsed into a tree and written
//! back lost comments and tags, turned `defaultMode: 0400` into the string `'0400'` and large
//! integers into floats).
//!
//! kustomize and kpt (kyaml) send block YAML: top-level keys at column 0, `items:` a block
//! sequence whose entries start with `- ` at one indentation (kyaml writes them at column 0).
//! `Layout::read` cuts the document into its top-level keys and the `items` sequence into its
//! entries, and accepts the cut only when every entry, read on its own, is exactly the item the
//! whole document holds; anything else (flow style, JSON, an entry it cannot delimit) is `None`,
//! and the caller writes the list from its tree instead. `Layout::write` copies everything but the
//! entries it is told to drop or replace, adds new entries after the last one, and puts the
//! function's `results` last (replacing any the input had).

use crate::yaml::Node;
use std::ops::Range;

/// The cut of one ResourceList document.
#[derive(Debug)]
pub struct Layout<'a> {
    text: &'a str,
    /// The top-level keys: (key, byte range of the key's lines).
    keys: Vec<(&'a str, Range<usize>)>,
    /// Where the key regions start: what precedes is a header (`---`, comments) kept as is.
    header_end: usize,
    items: Items,
}

#[derive(Debug)]
enum Items {
    /// A block sequence: the key line ends at `body`, entries start at `starts` (each runs to the
    /// next, the last to `end`), written at `indent`.
    Block {
        key: usize,
        body: usize,
        starts: Vec<usize>,
        end: usize,
        indent: usize,
    },
    /// `items:` with no entries (`[]`, `null`, nothing) in key region `key`: written anew.
    Empty { key: usize },
    /// No `items` key: one is added.
    Absent,
}

/// What becomes of one input item.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Copied byte for byte.
    Keep,
    /// Left out (an earlier output of this function it no longer generates).
    Drop,
    /// Written anew from this tree, in the item's place.
    Replace(serde_json::Value),
}

/// Lines of `text` as (start, end without the newline, next line's start).
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= text.len() {
            return None;
        }
        let start = at;
        let next = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let mut end = if text[..next].ends_with('\n') {
            next - 1
        } else {
            next
        };
        if text[start..end].ends_with('\r') {
            end -= 1;
        }
        at = next;
        Some((start, end, next))
    })
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#')
}

/// The indentation of a sequence entry line (`  - x`, `-`), if it is one.
fn entry_indent(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    (rest == "-" || rest.starts_with("- ") || rest.starts_with("-\t")).then_some(indent)
}

impl<'a> Layout<'a> {
    /// Cuts `text`, a single block-style ResourceList document whose parsed items are `items`;
    /// `None` when it is not one this module can copy from exactly.
    pub fn read(text: &'a str, items: &[Node]) -> Option<Layout<'a>> {
        let mut keys: Vec<(&str, Range<usize>)> = Vec::new();
        let mut header_end = None;
        for (start, end, next) in lines(text) {
            let line = &text[start..end];
            let first = line.as_bytes().first().copied();
            match first {
                None | Some(b' ' | b'\t' | b'#') => {}
                Some(b'-') if entry_indent(line) == Some(0) => {}
                // A second document, an end marker, a directive: not a shape copied from.
                Some(b'-' | b'.' | b'%') => {
                    if keys.is_empty()
                        && header_end.is_none()
                        && (line == "---" || line.starts_with("--- #"))
                    {
                        continue;
                    }
                    return None;
                }
                // A top-level key: `name:` followed by a space, a comment or the line's end.
                Some(b'a'..=b'z' | b'A'..=b'Z') => {
                    let colon = line.find(':')?;
                    let key = &line[..colon];
                    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        return None;
                    }
                    if let Some((_, r)) = keys.last_mut() {
                        r.end = start;
                    }
                    header_end.get_or_insert(start);
                    keys.push((key, start..next));
                    continue;
                }
                _ => return None,
            }
            if let Some((_, r)) = keys.last_mut() {
                r.end = next;
            } else if !is_blank_or_comment(line) && line != "---" {
                return None;
            }
        }
        let header_end = header_end?;
        if let Some((_, r)) = keys.last_mut() {
            r.end = text.len();
        }
        let mut seen = std::collections::HashSet::new();
        if !keys.iter().all(|(k, _)| seen.insert(*k)) {
            return None;
        }
        let items_layout = match keys.iter().position(|(k, _)| *k == "items") {
            None if items.is_empty() => Items::Absent,
            None => return None,
            Some(key) => {
                let region = keys[key].1.clone();
                let (_, key_end, body) = lines(&text[region.clone()]).next()?;
                let after_colon = text[region.start..region.start + key_end]["items".len()..]
                    .strip_prefix(':')?
                    .trim();
                let after_colon = after_colon.split(" #").next().unwrap_or("").trim();
                let body = region.start + body;
                if matches!(after_colon, "[]" | "null" | "~")
                    || after_colon.is_empty() && items.is_empty()
                {
                    if !text[body..region.end].lines().all(is_blank_or_comment) || !items.is_empty()
                    {
                        return None;
                    }
                    Items::Empty { key }
                } else if !after_colon.is_empty() && !after_colon.starts_with('#') {
                    return None;
                } else {
                    let mut indent = None;
                    let mut starts = Vec::new();
                    for (s, e, _) in lines(&text[body..region.end]) {
                        let line = &text[body + s..body + e];
                        if is_blank_or_comment(line) {
                            continue;
                        }
                        match (indent, entry_indent(line)) {
                            (None, Some(i)) => {
                                indent = Some(i);
                                starts.push(body + s);
                            }
                            (None, None) => return None,
                            (Some(i), Some(j)) if i == j => starts.push(body + s),
                            (Some(i), _) => {
                                let n = line.len() - line.trim_start_matches(' ').len();
                                if n <= i {
                                    return None;
                                }
                            }
                        }
                    }
                    Items::Block {
                        key,
                        body,
                        starts,
                        end: region.end,
                        indent: indent.unwrap_or(0),
                    }
                }
            }
        };
        let layout = Layout {
            text,
            keys,
            header_end,
            items: items_layout,
        };
        // Every entry, read alone, must be exactly its item.
        if let Items::Block { starts, indent, .. } = &layout.items {
            if starts.len() != items.len() {
                return None;
            }
            for (k, item) in items.iter().enumerate() {
                let alone = layout.entry_alone(k, *indent);
                // The whole document was read (its expansion bounded) already: parsed once.
                let docs = crate::yaml::parse_part("item", &alone).ok()?;
                if docs.len() != 1 || docs[0] != *item {
                    return None;
                }
            }
        }
        Some(layout)
    }

    fn entry_range(&self, k: usize) -> Range<usize> {
        let Items::Block { starts, end, .. } = &self.items else {
            unreachable!("only a block sequence has entries")
        };
        starts[k]..starts.get(k + 1).copied().unwrap_or(*end)
    }

    /// Item `k`'s text as a document of its own (for reading it as Kubernetes will).
    pub fn item_text(&self, k: usize) -> String {
        match &self.items {
            Items::Block { indent, .. } => self.entry_alone(k, *indent),
            _ => unreachable!("only a block sequence has items"),
        }
    }

    /// Entry `k` as a document of its own: its `-` turned into a space.
    fn entry_alone(&self, k: usize, indent: usize) -> String {
        let mut s = self.text[self.entry_range(k)].to_string();
        s.replace_range(indent..indent + 1, " ");
        s
    }

    /// The document with `actions` applied to the items (one per item), `added` after them and
    /// `results` (a YAML sequence's text, or nothing) as the last key.
    pub fn write(
        &self,
        actions: &[Action],
        added: &[serde_json::Value],
        results: Option<&serde_json::Value>,
    ) -> String {
        let mut out = String::with_capacity(self.text.len() + 4096);
        out.push_str(&self.text[..self.header_end]);
        let items_key = match &self.items {
            Items::Block { key, .. } | Items::Empty { key } => Some(*key),
            Items::Absent => None,
        };
        for (i, (name, range)) in self.keys.iter().enumerate() {
            if *name == "results" {
                continue;
            }
            if Some(i) != items_key {
                push_region(&mut out, &self.text[range.clone()]);
                continue;
            }
            match &self.items {
                Items::Block {
                    body,
                    starts,
                    indent,
                    ..
                } => {
                    push_region(&mut out, &self.text[range.start..*body]);
                    // Comments between `items:` and the first entry.
                    let first = starts.first().copied().unwrap_or(range.end);
                    push_region(&mut out, &self.text[*body..first]);
                    for (k, action) in actions.iter().enumerate() {
                        match action {
                            Action::Keep => push_region(&mut out, &self.text[self.entry_range(k)]),
                            Action::Drop => {}
                            Action::Replace(v) => push_entry(&mut out, v, *indent),
                        }
                    }
                    for v in added {
                        push_entry(&mut out, v, *indent);
                    }
                }
                Items::Empty { .. } => push_items(&mut out, added),
                Items::Absent => unreachable!("no key region for absent items"),
            }
        }
        if items_key.is_none() && !added.is_empty() {
            push_items(&mut out, added);
        }
        if let Some(results) = results {
            let mut m = serde_json::Map::new();
            m.insert("results".into(), results.clone());
            push_region(
                &mut out,
                &crate::yaml::value_to_yaml(&serde_json::Value::Object(m)),
            );
        }
        out
    }
}

/// Appends `region`, first ending an unterminated last line.
fn push_region(out: &mut String, region: &str) {
    if region.is_empty() {
        return;
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(region);
}

/// `items:` with `values` as its entries (`items: []` when there are none).
fn push_items(out: &mut String, values: &[serde_json::Value]) {
    if values.is_empty() {
        push_region(out, "items: []\n");
        return;
    }
    push_region(out, "items:\n");
    for v in values {
        push_entry(out, v, 0);
    }
}

/// One sequence entry at `indent`, written from its tree as the rendered objects are.
fn push_entry(out: &mut String, value: &serde_json::Value, indent: usize) {
    let yaml = crate::yaml::value_to_yaml(value);
    let mut entry = String::with_capacity(yaml.len() + 64);
    for (i, line) in yaml.lines().enumerate() {
        if i == 0 {
            entry.push_str(&" ".repeat(indent));
            entry.push_str("- ");
        } else if !line.is_empty() {
            entry.push_str(&" ".repeat(indent + 2));
        }
        entry.push_str(line);
        entry.push('\n');
    }
    push_region(out, &entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<Node> {
        let docs = crate::yaml::parse_documents("t", text.as_bytes(), usize::MAX).unwrap();
        docs[0]
            .get("items")
            .and_then(Node::as_seq)
            .map(<[Node]>::to_vec)
            .unwrap_or_default()
    }

    const KPT: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: other # a comment\n  data:\n    big: 12345678901234567890\n    mode: 0400\n    t: !!str 12\n    text: |\n      line\n\n      - not an entry\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n";

    #[test]
    fn entries_are_copied_byte_for_byte() {
        let layout = Layout::read(KPT, &items(KPT)).expect("a block list");
        assert_eq!(layout.write(&[Action::Keep, Action::Keep], &[], None), KPT);
        let added =
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}});
        let out = layout.write(
            &[Action::Drop, Action::Keep],
            std::slice::from_ref(&added),
            Some(&serde_json::json!([{"message": "m", "severity": "info"}])),
        );
        assert_eq!(
            out,
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: n\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\nresults:\n- message: m\n  severity: info\n"
        );
        // Indented entries, no final newline.
        let indented = "kind: ResourceList\napiVersion: config.kubernetes.io/v1\nitems:\n  - a: 1\n    b: [1,\n      2]\n  - c";
        let layout = Layout::read(indented, &items(indented)).expect("indented entries");
        let out = layout.write(
            &[Action::Keep, Action::Keep],
            std::slice::from_ref(&added),
            None,
        );
        assert!(out.starts_with(indented), "{out}");
        assert!(
            out.ends_with(
                "  - c\n  - apiVersion: v1\n    kind: Namespace\n    metadata:\n      name: n\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn what_cannot_be_copied_exactly_is_refused() {
        for text in [
            "{\"apiVersion\": \"config.kubernetes.io/v1\", \"kind\": \"ResourceList\", \"items\": [{\"a\": 1}]}",
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{a: 1}]\n",
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a: 1\n---\nkind: X\n",
        ] {
            let items = crate::yaml::parse_documents("t", text.as_bytes(), usize::MAX)
                .map(|d| {
                    d[0].get("items")
                        .and_then(Node::as_seq)
                        .map(<[Node]>::to_vec)
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            assert!(Layout::read(text, &items).is_none(), "{text}");
        }
        // Empty and absent items are written anew.
        let added = serde_json::json!({"kind": "Namespace"});
        for text in [
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig: {}\n",
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig: {}\n",
        ] {
            let layout = Layout::read(text, &[]).expect("no items");
            let out = layout.write(&[], std::slice::from_ref(&added), None);
            assert!(out.contains("items:\n- kind: Namespace\n"), "{out}");
            assert!(out.contains("functionConfig: {}\n"), "{out}");
        }
    }
}
