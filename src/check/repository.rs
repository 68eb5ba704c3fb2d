//! One artifact-repositories ConfigMap value read as Argo reads it: a single ArtifactRepository
//! document. Argo ignores keys it does not know (so a typo fails silently at run time) and fails the
//! workflow on a value of the wrong type; this module reports both. Key lists come from the upstream
//! JSON schemas (argo-workflows v3.7.18 and v4.1.2, `io.argoproj.workflow.v1alpha1.*`).

use crate::model::ArgoVersion;
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

#[derive(Clone, Copy, PartialEq)]
enum T {
    Bool,
    Str,
    Secret,
    Obj(&'static [(&'static str, T)]),
}

const SECRET: &[(&str, T)] = &[("name", T::Str), ("key", T::Str), ("optional", T::Bool)];
const BUCKET_OPTS: &[(&str, T)] = &[("objectLocking", T::Bool)];
const ENCRYPTION: &[(&str, T)] = &[
    ("kmsKeyId", T::Str),
    ("kmsEncryptionContext", T::Str),
    ("enableEncryption", T::Bool),
    ("serverSideCustomerKeySecret", T::Secret),
];

fn s3_keys(v: ArgoVersion) -> Vec<(&'static str, T)> {
    let mut k = vec![
        ("endpoint", T::Str),
        ("bucket", T::Str),
        ("region", T::Str),
        ("insecure", T::Bool),
        ("keyFormat", T::Str),
        ("keyPrefix", T::Str),
        ("accessKeySecret", T::Secret),
        ("secretKeySecret", T::Secret),
        ("sessionTokenSecret", T::Secret),
        ("roleARN", T::Str),
        ("useSDKCreds", T::Bool),
        ("createBucketIfNotPresent", T::Obj(BUCKET_OPTS)),
        ("encryptionOptions", T::Obj(ENCRYPTION)),
        ("caSecret", T::Secret),
    ];
    if v.has_addressing_style() {
        k.push(("addressingStyle", T::Str));
    }
    k
}

fn top_keys(v: ArgoVersion) -> Vec<&'static str> {
    let mut k = vec![
        "archiveLogs",
        "s3",
        "gcs",
        "azure",
        "oss",
        "hdfs",
        "artifactory",
    ];
    if v.major >= 4 {
        k.push("plugin");
    }
    k
}

/// Hints for keys people write by mistake.
fn hint(key: &str, v: ArgoVersion) -> String {
    match key {
        "pathStyle" | "forcePathStyle" if v.has_addressing_style() => {
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

fn walk(node: &Node, keys: &[(&str, T)], path: &str, v: ArgoVersion, repo: &mut Repository) {
    let Some(map) = node.as_map() else {
        repo.issues.push(Issue {
            field: path.to_string(),
            unknown_key: false,
            message: format!("expected a map, got {}", node.type_name()),
        });
        return;
    };
    for (k, child) in map {
        let field = format!("{path}.{k}");
        let Some((_, t)) = keys.iter().find(|(name, _)| name == k) else {
            repo.issues.push(Issue {
                field: field.clone(),
                unknown_key: true,
                message: format!("unknown key `{k}`{}", hint(k, v)),
            });
            continue;
        };
        check_type(child, *t, &field, v, repo);
    }
}

fn check_type(node: &Node, t: T, field: &str, v: ArgoVersion, repo: &mut Repository) {
    let wrong = |want: &str, repo: &mut Repository| {
        repo.issues.push(Issue {
            field: field.to_string(),
            unknown_key: false,
            message: format!("expected {want}, got {}", node.type_name()),
        })
    };
    match (t, node) {
        (_, Node::Null) => {}
        (T::Bool, Node::Bool(_)) | (T::Str, Node::Str(_)) => {}
        (T::Bool, _) => wrong("true or false", repo),
        (T::Str, _) => wrong("a string", repo),
        (T::Obj(keys), _) => walk(node, keys, field, v, repo),
        (T::Secret, _) => {
            walk(node, SECRET, field, v, repo);
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
    let top = top_keys(v);
    let s3 = s3_keys(v);
    if let Some(map) = node.as_map() {
        for (k, child) in map {
            if !top.contains(&k.as_str()) {
                repo.issues.push(Issue {
                    field: k.clone(),
                    unknown_key: true,
                    message: format!("unknown key `{k}`{}", hint(k, v)),
                });
                continue;
            }
            match k.as_str() {
                "archiveLogs" => check_type(child, T::Bool, k, v, &mut repo),
                "s3" => {
                    repo.storage.push(k.clone());
                    walk(child, &s3, "s3", v, &mut repo)
                }
                _ => repo.storage.push(k.clone()),
            }
        }
    }
    repo.value = Some(node);
    Ok(repo)
}
