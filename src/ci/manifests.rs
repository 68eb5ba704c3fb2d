//! Manifest streams as `diff`, `check` and `explain` read them: any Kubernetes YAML, ours or anyone's,
//! split into objects that carry their identity (API group, kind, namespace, name) and where they came
//! from (file and line), plus the canonical form both sides of a diff are rendered in and the file
//! layout of `render --output-dir`. Reading files, directories and stdin is `cli`'s job: this module
//! receives bytes. It never deserializes into typed structs, so nothing in the input is lost.

pub use crate::ci::input::MAX_MANIFEST_BYTES;
use crate::error::Problems;
use crate::rules::identity::Identity;
use crate::rules::k8s;
use crate::yaml::Node;
use indexmap::IndexMap;

/// One object of a manifest stream.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub identity: Identity,
    /// `apiVersion` as written (`argoproj.io/v1alpha1`).
    pub api_version: String,
    /// The file it came from (`<stdin>` for `-`).
    pub source: String,
    /// 1-based line where its document starts.
    pub line: usize,
    pub value: Node,
}

impl Manifest {
    /// `file:line`, for messages.
    pub fn location(&self) -> String {
        format!("{}:{}", crate::error::escape(&self.source), self.line)
    }
    /// A field by path of map keys.
    pub fn get(&self, path: &[&str]) -> Option<&Node> {
        get_path(&self.value, path)
    }
    /// `metadata.labels[key]`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.get(&["metadata", "labels", key])
            .and_then(Node::as_str)
    }
    /// `metadata.annotations[key]`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.get(&["metadata", "annotations", key])
            .and_then(Node::as_str)
    }
    /// True for kind in the core or named group: `is("", "ConfigMap")`.
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.identity.group == group && self.identity.kind == kind
    }
}

/// Follows map keys from `node`.
pub fn get_path<'a>(node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let mut cur = node;
    for k in path {
        cur = cur.get(k)?;
    }
    Some(cur)
}

/// Kinds that have no namespace. Objects of other kinds without `metadata.namespace` land in the
/// namespace kubectl or Helm is pointed at, which a static reader cannot know.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace")
            | ("", "PersistentVolume")
            | ("", "Node")
            | (k8s::RBAC_GROUP, "ClusterRole")
            | (k8s::RBAC_GROUP, "ClusterRoleBinding")
            | ("argoproj.io", "ClusterWorkflowTemplate")
            | ("external-secrets.io", "ClusterSecretStore")
            | ("external-secrets.io", "ClusterExternalSecret")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("storage.k8s.io", "StorageClass")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("networking.k8s.io", "IngressClass")
            | ("admissionregistration.k8s.io", _)
            | ("apiregistration.k8s.io", "APIService")
    )
}

/// The documents of a stream, each with the line it starts on: the pieces of `stream::split` (the
/// one splitter, shared with post-render), without the blank ones.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut line = 1;
    let mut at = 0;
    let mut docs = Vec::new();
    for piece in crate::yaml::stream::split(text.as_bytes()) {
        line += memchr::memchr_iter(b'\n', &text.as_bytes()[at..piece.offset]).count();
        at = piece.offset;
        if !piece.is_blank() {
            docs.push((line, &text[piece.offset..piece.offset + piece.bytes.len()]));
        }
    }
    docs
}

/// Parses one source (a file or stdin) into objects, at most `MAX_MANIFEST_BYTES` long.
pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<Manifest>, Problems> {
    parse_bounded(source, bytes, MAX_MANIFEST_BYTES)
}

/// Parses one source (a file or stdin) of at most `max` bytes into objects. `List` kinds are
/// expanded into their items. Errors name the file and line: this is input a user must fix. Each
/// document is parsed once, on its own, in time proportional to its size: the line numbers of its
/// messages are the file's (`yaml::parse_documents_at`), so the whole stream takes time
/// proportional to its size (issue 20).
pub fn parse_bounded(source: &str, bytes: &[u8], max: usize) -> Result<Vec<Manifest>, Problems> {
    let mut problems = Problems::default();
    if bytes.len() > max {
        problems.push(
            source,
            format!(
                "input is {} bytes, more than the limit of {max} bytes; {}",
                bytes.len(),
                crate::ci::input::RAISE
            ),
        );
        return Err(problems);
    }
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)) {
        Ok(t) => t,
        Err(_) => {
            // Let the YAML module produce its located UTF-8 message.
            return crate::yaml::parse_documents(source, bytes, max).map(|_| Vec::new());
        }
    };
    let mut out = Vec::new();
    for (line, doc) in split_documents(text) {
        let nodes = match crate::yaml::parse_documents_at(source, doc.as_bytes(), usize::MAX, line)
        {
            Ok(n) => n,
            Err(p) => {
                problems.0.extend(p.0);
                continue;
            }
        };
        for node in nodes {
            collect(source, line, node, &mut out, &mut problems);
        }
    }
    problems.into_result().map(|_| out)
}

fn collect(
    source: &str,
    line: usize,
    node: Node,
    out: &mut Vec<Manifest>,
    problems: &mut Problems,
) {
    let at = format!("{source}:{line}");
    if !matches!(node, Node::Map(_)) {
        problems.push(
            at,
            format!(
                "a manifest document must be a map with apiVersion, kind and metadata, got {}",
                node.type_name()
            ),
        );
        return;
    }
    let str_field = |path: &[&str]| get_path(&node, path).and_then(Node::as_str).unwrap_or("");
    let api_version = str_field(&["apiVersion"]).to_string();
    let kind = str_field(&["kind"]).to_string();
    if api_version.is_empty() || kind.is_empty() {
        problems.push(
            at,
            "document has no `apiVersion` or no `kind`: every Kubernetes object needs both",
        );
        return;
    }
    if kind.ends_with("List")
        && api_version == "v1"
        && matches!(node.get("items"), Some(Node::Seq(_)))
    {
        let Node::Map(mut map) = node else {
            unreachable!("checked to be a map above")
        };
        let Some(Node::Seq(items)) = map.swap_remove("items") else {
            unreachable!("checked to be a list above")
        };
        for item in items {
            collect(source, line, item, out, problems);
        }
        return;
    }
    let group = match api_version.rsplit_once('/') {
        Some((g, _)) => g.to_string(),
        None => String::new(),
    };
    let name = match (
        str_field(&["metadata", "name"]),
        str_field(&["metadata", "generateName"]),
    ) {
        ("", "") => {
            problems.push(
                at,
                format!(
                    "{} has no `metadata.name` (nor `metadata.generateName`)",
                    crate::error::escape(&kind)
                ),
            );
            return;
        }
        // `*` never occurs in a real name, so a generated name cannot collide with one.
        ("", prefix) => format!("{prefix}*"),
        (n, _) => n.to_string(),
    };
    let namespace = str_field(&["metadata", "namespace"]).to_string();
    out.push(Manifest {
        identity: Identity {
            group,
            kind,
            namespace,
            name,
        },
        api_version,
        source: source.to_string(),
        line,
        value: node,
    });
}

/// `load_bounded` with each source at most `MAX_MANIFEST_BYTES` long.
pub fn load(sources: &[(String, Vec<u8>)]) -> Result<Vec<Manifest>, Problems> {
    load_bounded(sources, MAX_MANIFEST_BYTES)
}

/// Parses every source (each at most `max` bytes) and refuses two objects with the same identity:
/// applying such a stream would silently keep only the last one.
pub fn load_bounded(sources: &[(String, Vec<u8>)], max: usize) -> Result<Vec<Manifest>, Problems> {
    let mut problems = Problems::default();
    let mut all = Vec::new();
    for (name, bytes) in sources {
        match parse_bounded(name, bytes, max) {
            Ok(m) => all.extend(m),
            Err(p) => problems.0.extend(p.0),
        }
    }
    let mut seen: std::collections::HashMap<&Identity, &Manifest> = Default::default();
    for m in &all {
        if m.identity.name.ends_with('*') {
            continue;
        }
        if let Some(first) = seen.insert(&m.identity, m) {
            problems.push(
                m.location(),
                format!(
                    "{} is defined twice (first at {}); each object may appear once",
                    m.identity,
                    first.location()
                ),
            );
        }
    }
    problems.into_result().map(|_| all)
}

/// The object with sorted keys at every level and every ConfigMap data value that holds a YAML map
/// or list replaced by its canonical rendering, so key order, indentation, quoting and comments
/// never count as a difference.
pub fn canonical(m: &Manifest) -> Node {
    let mut node = sorted(&m.value);
    if m.is("", "ConfigMap")
        && let Node::Map(top) = &mut node
        && let Some(Node::Map(data)) = top.get_mut("data")
    {
        for value in data.values_mut() {
            if let Node::Str(s) = value
                && let Some(c) = canonical_yaml_text(s)
            {
                *s = c;
            }
        }
    }
    node
}

/// A string that parses as one YAML map or list, rendered canonically; `None` for anything else
/// (plain text, a scalar, several documents, invalid YAML).
pub fn canonical_yaml_text(s: &str) -> Option<String> {
    let mut docs = crate::yaml::parse_documents("", s.as_bytes(), MAX_MANIFEST_BYTES).ok()?;
    if docs.len() != 1 || !matches!(docs[0], Node::Map(_) | Node::Seq(_)) {
        return None;
    }
    Some(crate::yaml::to_yaml(&sorted(&docs.pop()?)))
}

/// A copy with map keys sorted at every level.
pub fn sorted(node: &Node) -> Node {
    match node {
        Node::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = IndexMap::with_capacity(m.len());
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Node::Map(out)
        }
        Node::Seq(v) => Node::Seq(v.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The canonical YAML text of an object, as both sides of a diff show it.
pub fn canonical_text(m: &Manifest) -> String {
    crate::yaml::to_yaml(&canonical(m))
}

/// Name of the marker file `render --output-dir` writes: it lists every file the tool wrote, so a
/// later run deletes only those.
pub const OUTPUT_MARKER: &str = ".artifact-repos-files";

/// The relative path of each object under `render --output-dir`:
/// `<namespace or _cluster>/<kind>-<name>.yaml` with the kind lowercased. Kind names hold no `-`, so
/// the first `-` always separates kind from name; two kinds that differ only by API group (or by
/// case) get `<kind>.<group>-<name>.yaml` instead, keeping every path unique.
pub fn output_paths(ids: &[&Identity]) -> Vec<String> {
    let short = |id: &Identity| {
        let dir = if id.namespace.is_empty() {
            "_cluster"
        } else {
            id.namespace.as_str()
        };
        format!("{dir}/{}-{}.yaml", id.kind.to_lowercase(), id.name)
    };
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for id in ids {
        *count.entry(short(id)).or_default() += 1;
    }
    ids.iter()
        .map(|id| {
            let s = short(id);
            if count[&s] == 1 {
                s
            } else {
                let dir = if id.namespace.is_empty() {
                    "_cluster"
                } else {
                    id.namespace.as_str()
                };
                let group = if id.group.is_empty() {
                    "core"
                } else {
                    id.group.as_str()
                };
                format!("{dir}/{}.{group}-{}.yaml", id.kind.to_lowercase(), id.name)
            }
        })
        .collect()
}

/// True for a relative path shaped like one `output_paths` produces.
pub fn is_layout_path(rel: &str) -> bool {
    let mut parts = rel.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(dir), Some(file), None) => {
            !dir.is_empty()
                && !dir.starts_with('.')
                && file.ends_with(".yaml")
                && file.contains('-')
        }
        _ => false,
    }
}

pub use crate::rules::k8s::{is_dns1123_label, is_dns1123_subdomain};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_lines() {
        let docs = split_documents("a: 1\n---\nb: 2\n--- \n# c\nc: 3\n");
        assert_eq!(docs.iter().map(|d| d.0).collect::<Vec<_>>(), vec![1, 2, 4]);
    }

    #[test]
    fn errors_carry_absolute_lines() {
        let input =
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [\n";
        let err = parse("f.yaml", input).unwrap_err().to_string();
        assert!(err.contains("line 7") || err.contains("line 6"), "{err}");
    }

    #[test]
    fn layout_paths_are_unique() {
        let a = Identity {
            group: "a.io".into(),
            kind: "Thing".into(),
            namespace: "ns".into(),
            name: "x".into(),
        };
        let b = Identity {
            group: "b.io".into(),
            ..a.clone()
        };
        let paths = output_paths(&[&a, &b]);
        assert_eq!(paths, vec!["ns/thing.a.io-x.yaml", "ns/thing.b.io-x.yaml"]);
        assert!(is_layout_path(&paths[0]));
    }
}
