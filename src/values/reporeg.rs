//! RepoRegistration objects as input: `apiVersion: platform.calypr.io/v1alpha1, kind:
//! RepoRegistration`, the custom resource of the calypr/argo-helm chart (one per git repository in a
//! GitOps folder). Each becomes one entry of `repoRegistrations`: `metadata.name` is its `name`, its
//! `spec` holds the same fields as a values entry, and `metadata.namespace` is its workflows'
//! namespace unless `spec.namespace` says otherwise. The entries are appended after the values'
//! own, validated by the same reader, and every problem found in them is relabelled to point into
//! the object: `regs/genomics.yaml: RepoRegistration wf-poc/genomics: spec.artifactBucket.bucket`.

use crate::error::{Problem, Problems};
use crate::yaml::Node;
use indexmap::IndexMap;

/// The API group of RepoRegistration (any version is read: the fields are the same).
pub const GROUP: &str = "platform.calypr.io";
pub const API_VERSION: &str = "platform.calypr.io/v1alpha1";
pub const KIND: &str = "RepoRegistration";

/// Where one appended registration came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file (or Helm template) that holds the object.
    pub source: String,
    /// `RepoRegistration wf-poc/genomics`.
    pub label: String,
    /// Its namespace is `metadata.namespace` (no `spec.namespace`).
    pub namespace_from_metadata: bool,
    /// `spec.namespace` names another namespace than the object's own `metadata.namespace`:
    /// (its own, the one it names). See `Origins::namespace_warnings`.
    pub other_namespace: Option<(String, String)>,
}

/// The registrations appended to the values, by their index in `repoRegistrations`.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    first: usize,
    origins: Vec<Origin>,
}

/// Whether a parsed document is a RepoRegistration.
pub fn is_repo_registration(doc: &Node) -> bool {
    doc.get("kind").and_then(Node::as_str) == Some(KIND)
        && doc
            .get("apiVersion")
            .and_then(Node::as_str)
            .is_some_and(|v| v.split('/').next() == Some(GROUP))
}

/// The values entry of one RepoRegistration, or the problems that keep it from being one (paths
/// already point into the object).
pub fn to_entry(source: &str, doc: &Node, problems: &mut Problems) -> Option<(Node, Origin)> {
    let meta = doc.get("metadata").and_then(Node::as_map);
    let name = meta.and_then(|m| m.get("name"));
    let namespace = meta.and_then(|m| m.get("namespace")).and_then(Node::as_str);
    // Names as the path shows them: escaped and cut, never a line break or a credential.
    let shown = |s: &str| {
        if crate::rules::credential::looks_like_credential(s) {
            return "(name not shown)".to_string();
        }
        let e: String = s.escape_debug().collect();
        if e.chars().count() > 80 {
            format!("{}...", e.chars().take(77).collect::<String>())
        } else {
            e
        }
    };
    let shown_name = shown(name.and_then(Node::as_str).unwrap_or("?"));
    let label = match namespace {
        Some(ns) => format!("{KIND} {}/{shown_name}", shown(ns)),
        None => format!("{KIND} {shown_name}"),
    };
    let at = |field: &str| format!("{source}: {label}: {field}");
    let before = problems.len();
    let name = match name {
        Some(Node::Str(s)) => Some(s.clone()),
        None | Some(Node::Null) => {
            problems.push(
                at("metadata.name"),
                "is required: it is the registration's name",
            );
            None
        }
        Some(other) => {
            problems.push(
                at("metadata.name"),
                format!("expected a string, got {}", other.type_name()),
            );
            None
        }
    };
    let spec = match doc.get("spec") {
        Some(Node::Map(m)) => Some(m),
        None | Some(Node::Null) => {
            problems.push(
                at("spec"),
                "is required: it holds `repoUrl`, `tenant` and the buckets",
            );
            None
        }
        Some(other) => {
            problems.push(
                at("spec"),
                format!("expected a map, got {}", other.type_name()),
            );
            None
        }
    };
    if let Some(spec) = spec
        && spec.contains_key("name")
    {
        problems.push(
            at("spec.name"),
            "is not a RepoRegistration field: the registration's name is `metadata.name`",
        );
    }
    if problems.len() > before {
        return None;
    }
    let spec = spec?;
    let mut entry: IndexMap<String, Node> = IndexMap::new();
    entry.insert("name".into(), Node::Str(name?));
    let mut from_metadata = false;
    for (k, v) in spec {
        entry.insert(k.clone(), v.clone());
    }
    if !matches!(spec.get("namespace"), Some(n) if *n != Node::Null)
        && let Some(ns) = namespace
    {
        entry.insert("namespace".into(), Node::Str(ns.to_string()));
        from_metadata = true;
    }
    let other_namespace = match (namespace, spec.get("namespace")) {
        (Some(own), Some(Node::Str(named))) if !own.is_empty() && own != named => {
            Some((own.to_string(), named.clone()))
        }
        _ => None,
    };
    Some((
        Node::Map(entry),
        Origin {
            source: source.to_string(),
            label,
            namespace_from_metadata: from_metadata,
            other_namespace,
        },
    ))
}

/// Appends the entries to the values' `repoRegistrations` (created when absent). When the values'
/// `repoRegistrations` is not a list the entries are dropped: the reader reports that first.
pub fn append(values: &mut Node, entries: Vec<(Node, Origin)>) -> Origins {
    if entries.is_empty() {
        return Origins::default();
    }
    if !matches!(values, Node::Map(_)) {
        return Origins::default();
    }
    let Node::Map(map) = values else {
        unreachable!()
    };
    let list = map
        .entry("repoRegistrations".to_string())
        .or_insert_with(|| Node::Seq(Vec::new()));
    if *list == Node::Null {
        *list = Node::Seq(Vec::new());
    }
    let Node::Seq(items) = list else {
        return Origins::default();
    };
    let first = items.len();
    let mut origins = Vec::new();
    for (node, origin) in entries {
        items.push(node);
        origins.push(origin);
    }
    Origins { first, origins }
}

impl Origins {
    /// A values path rewritten to point into the object it came from: `repoRegistrations[3].tenant`
    /// becomes `regs/a.yaml: RepoRegistration wf-poc/a: spec.tenant`.
    pub fn relabel_path(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix("repoRegistrations[")?;
        let (index, rest) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        let origin = self.origins.get(index.checked_sub(self.first)?)?;
        let field = rest.strip_prefix('.').unwrap_or(rest);
        let head = field.split(['.', '[']).next().unwrap_or("");
        let field = match head {
            "" => String::new(),
            "name" => format!("metadata.{field}"),
            "namespace" if origin.namespace_from_metadata => format!("metadata.{field}"),
            _ => format!("spec.{field}"),
        };
        Some(if field.is_empty() {
            format!("{}: {}", origin.source, origin.label)
        } else {
            format!("{}: {}: {field}", origin.source, origin.label)
        })
    }

    fn relabel_one(&self, mut p: Problem) -> Problem {
        if let Some(path) = self.relabel_path(&p.path) {
            p.path = path;
        }
        // Messages that name another entry ("first used at repoRegistrations[0].name").
        if p.message.contains("repoRegistrations[") {
            let mut out = String::new();
            let mut rest = p.message.as_str();
            while let Some(at) = rest.find("repoRegistrations[") {
                out.push_str(&rest[..at]);
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| c.is_whitespace() || c == ';' || c == ',')
                    .unwrap_or(tail.len());
                let path = &tail[..end];
                match self.relabel_path(path) {
                    Some(r) => out.push_str(&format!("`{r}`")),
                    None => out.push_str(path),
                }
                rest = &tail[end..];
            }
            out.push_str(rest);
            p.message = out;
        }
        p
    }

    pub fn relabel(&self, problems: Problems) -> Problems {
        if self.origins.is_empty() {
            return problems;
        }
        Problems(
            problems
                .0
                .into_iter()
                .map(|p| self.relabel_one(p))
                .collect(),
        )
    }

    /// A warning for each RepoRegistration whose `spec.namespace` names another namespace than
    /// the one the object lives in (#20, isolation): whoever may create RepoRegistrations in one
    /// namespace would otherwise write objects, and a registration's identity, into another one
    /// silently. A reading warning: printed on every path, an error under `--strict` and
    /// `artifactRepos.strict`.
    pub fn namespace_warnings(&self) -> Vec<Problem> {
        use crate::rules::credential::show;
        self.origins
            .iter()
            .filter_map(|o| {
                let (own, named) = o.other_namespace.as_ref()?;
                Some(Problem::new(
                    format!("{}: {}: spec.namespace", o.source, o.label),
                    format!(
                        "{} is another namespace than the object's own ({}): its ConfigMap, ExternalSecrets, WorkflowTemplate and RBAC would be written into {}, with this registration's identity; a RepoRegistration registers the namespace it lives in: remove `spec.namespace`, or create the object in {}",
                        show(named),
                        show(own),
                        show(named),
                        show(named)
                    ),
                ))
            })
            .collect()
    }

    pub fn relabel_warnings(&self, warnings: Vec<Problem>) -> Vec<Problem> {
        if self.origins.is_empty() {
            return warnings;
        }
        warnings.into_iter().map(|p| self.relabel_one(p)).collect()
    }
}

/// Reads RepoRegistrations out of parsed documents of one source. `Ok(None)` when the source holds
/// no RepoRegistration (it is a values file); `strict` (a file named with `-f`) refuses other
/// documents next to RepoRegistrations, otherwise (a file found in a directory) they are skipped.
pub fn from_documents(
    source: &str,
    docs: &[Node],
    strict: bool,
    problems: &mut Problems,
) -> Option<Vec<(Node, Origin)>> {
    if !docs.iter().any(is_repo_registration) {
        return None;
    }
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        if is_repo_registration(doc) {
            if let Some(e) = to_entry(source, doc, problems) {
                out.push(e);
            }
        } else if strict && *doc != Node::Null {
            let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("none");
            problems.push(
                format!("{source}: document {}", i + 1),
                format!("is not a RepoRegistration (kind {}); a file of RepoRegistrations holds only RepoRegistrations (`apiVersion: {API_VERSION}`, `kind: {KIND}`); put values in a file of their own", crate::rules::credential::show(kind)),
            );
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Node> {
        crate::yaml::parse_documents("t", text.as_bytes(), usize::MAX).unwrap()
    }

    #[test]
    fn metadata_and_spec_become_one_entry() {
        let d = docs(
            "apiVersion: platform.calypr.io/v1alpha1\nkind: RepoRegistration\nmetadata: {name: a, namespace: wf-poc, labels: {x: y}}\nspec: {repoUrl: 'https://g/o/r.git', tenant: t}\n",
        );
        let mut p = Problems::default();
        let e = from_documents("f.yaml", &d, true, &mut p).unwrap();
        assert!(p.is_empty());
        let (node, origin) = &e[0];
        assert_eq!(node.get("name").and_then(Node::as_str), Some("a"));
        assert_eq!(node.get("namespace").and_then(Node::as_str), Some("wf-poc"));
        assert!(origin.namespace_from_metadata);
        let mut values = Node::Map(Default::default());
        let o = append(&mut values, e);
        assert_eq!(
            o.relabel_path("repoRegistrations[0].artifactBucket.bucket")
                .as_deref(),
            Some("f.yaml: RepoRegistration wf-poc/a: spec.artifactBucket.bucket")
        );
        assert_eq!(
            o.relabel_path("repoRegistrations[0].namespace").as_deref(),
            Some("f.yaml: RepoRegistration wf-poc/a: metadata.namespace")
        );
        assert_eq!(o.relabel_path("repoRegistrations[1].name"), None);
    }

    #[test]
    fn another_namespace_in_spec_is_a_warning() {
        let d = docs(
            "apiVersion: platform.calypr.io/v1alpha1\nkind: RepoRegistration\nmetadata: {name: a, namespace: team-a}\nspec: {repoUrl: 'https://g/o/r.git', tenant: t, namespace: team-b}\n---\napiVersion: platform.calypr.io/v1alpha1\nkind: RepoRegistration\nmetadata: {name: b, namespace: team-a}\nspec: {repoUrl: 'https://g/o/r.git', tenant: t, namespace: team-a}\n",
        );
        let mut p = Problems::default();
        let e = from_documents("f.yaml", &d, true, &mut p).unwrap();
        let mut values = Node::Map(Default::default());
        let w = append(&mut values, e).namespace_warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            w[0].path,
            "f.yaml: RepoRegistration team-a/a: spec.namespace"
        );
        assert!(
            w[0].message
                .starts_with("`team-b` is another namespace than the object's own (`team-a`)"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn values_files_are_not_registrations() {
        let mut p = Problems::default();
        assert!(from_documents("v.yaml", &docs("repoRegistrations: []\n"), true, &mut p).is_none());
    }
}
