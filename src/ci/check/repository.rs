//! One artifact-repositories ConfigMap value read as Argo reads it: a single ArtifactRepository
//! document. Argo ignores keys it does not know (so a typo fails silently at run time) and fails the
//! workflow on a value of the wrong type; this module reports both. The keys and their types come
//! from the field table in `rules::argo` (docs/upstream.md, "Argo: repository fields per version").

use crate::rules::argo::{self, ArgoVersion, Field, FieldType};
use crate::yaml::Node;

/// A credential the repository names: `{name, key}` of a Secret in the workflow's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// `s3.accessKeySecret`.
    pub field: String,
    pub name: String,
    pub key: String,
    pub optional: bool,
}

/// Something wrong with the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub field: String,
    pub unknown_key: bool,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Repository {
    pub value: Option<Node>,
    /// `s3`, `gcs`, ... (the storage keys present).
    pub storage: Vec<String>,
    pub secrets: Vec<SecretRef>,
    pub issues: Vec<Issue>,
}

impl Repository {
    /// A string field of the S3 section, for `explain`.
    pub fn s3(&self, key: &str) -> Option<&Node> {
        self.value.as_ref()?.get("s3")?.get(key)
    }
}

/// Hints for keys people write by mistake.
fn hint(key: &str, v: ArgoVersion) -> String {
    match key {
        "pathStyle" | "forcePathStyle" if argo::has_field(&["s3", "addressingStyle"], v) => {
            "; for path-style addressing write `addressingStyle: path`".to_string()
        }
        "pathStyle" | "forcePathStyle" => format!(
            "; Argo {v} has no such setting (it picks path style itself for endpoints that are not AWS, Google or Aliyun; `addressingStyle` exists from Argo 4.1)"
        ),
        "addressingStyle" => format!(
            "; `addressingStyle` exists from Argo 4.1, this check targets {v} (see --argo-version)"
        ),
        "plugin" => format!("; `plugin` exists from Argo 4.0, this check targets {v}"),
        "hostname" => "; the S3 host goes in `endpoint` (host[:port], no scheme)".to_string(),
        _ => String::new(),
    }
}

fn walk(node: &Node, fields: &'static [Field], path: &str, v: ArgoVersion, repo: &mut Repository) {
    let Some(map) = node.as_map() else {
        repo.issues.push(Issue {
            field: path.to_string(),
            unknown_key: false,
            message: format!("expected a map, got {}", node.type_name()),
        });
        return;
    };
    for (k, child) in map {
        let field = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let Some(f) = argo::lookup(fields, k, v) else {
            repo.issues.push(Issue {
                field,
                unknown_key: true,
                message: match argo::lookup_any(fields, k) {
                    // A field of a later release (issue 20 item 1: `caSecret` from 3.5).
                    Some(f) if hint(k, v).is_empty() => format!(
                        "unknown key `{k}`; `{k}` exists from Argo {}, this check targets {v} (see --argo-version)",
                        f.since
                    ),
                    _ => format!("unknown key `{k}`{}", hint(k, v)),
                },
            });
            continue;
        };
        check_type(child, f.ty, &field, v, repo);
    }
}

fn check_type(node: &Node, t: FieldType, field: &str, v: ArgoVersion, repo: &mut Repository) {
    let wrong = |want: &str, repo: &mut Repository| {
        repo.issues.push(Issue {
            field: field.to_string(),
            unknown_key: false,
            message: format!("expected {want}, got {}", node.type_name()),
        })
    };
    match (t, node) {
        (FieldType::Opaque, _) | (_, Node::Null) => {}
        (FieldType::Bool, Node::Bool(_))
        | (FieldType::Str, Node::Str(_))
        | (FieldType::Int, Node::Int(_)) => {}
        (FieldType::Enum(values), Node::Str(s)) if values.contains(&s.as_str()) => {}
        (FieldType::Enum(values), Node::Str(s)) => repo.issues.push(Issue {
            field: field.to_string(),
            unknown_key: false,
            message: format!(
                "`{}` is not {}, the values Argo knows",
                s.escape_debug(),
                FieldType::Enum(values).describe()
            ),
        }),
        (FieldType::Bool, _) => wrong("true or false", repo),
        (FieldType::Str | FieldType::Enum(_), _) => wrong("a string", repo),
        (FieldType::Int, _) => wrong("an integer", repo),
        (FieldType::Object(fields), _) => walk(node, fields, field, v, repo),
        (FieldType::Secret, _) => {
            walk(node, argo::SECRET_KEY_SELECTOR, field, v, repo);
            let s = |k: &str| node.get(k).and_then(Node::as_str).unwrap_or("").to_string();
            repo.secrets.push(SecretRef {
                field: field.to_string(),
                name: s("name"),
                key: s("key"),
                optional: matches!(node.get("optional"), Some(Node::Bool(true))),
            });
        }
    }
}

/// Reads one ConfigMap value. `Err` carries the parser's message: Argo fails the workflow on it.
pub fn parse(text: &str, v: ArgoVersion) -> Result<Repository, String> {
    let docs = crate::yaml::parse_documents("", text.as_bytes(), usize::MAX).map_err(|p| {
        p.0.into_iter()
            .map(|x| x.message)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mut repo = Repository::default();
    let node = match docs.len() {
        0 => Node::Map(Default::default()),
        1 => docs.into_iter().next().unwrap_or(Node::Null),
        n => {
            return Err(format!(
                "the value holds {n} YAML documents, Argo reads exactly one"
            ));
        }
    };
    if !matches!(node, Node::Map(_)) {
        return Err(format!(
            "the value is {}, not an ArtifactRepository map",
            node.type_name()
        ));
    }
    walk(&node, argo::ARTIFACT_REPOSITORY, "", v, &mut repo);
    if let Some(map) = node.as_map() {
        // The storage backends present: every known top-level object field.
        repo.storage = map
            .keys()
            .filter(|k| {
                argo::lookup(argo::ARTIFACT_REPOSITORY, k, v)
                    .is_some_and(|f| matches!(f.ty, FieldType::Object(_) | FieldType::Opaque))
            })
            .cloned()
            .collect();
    }
    repo.value = Some(node);
    Ok(repo)
}
