//! The KRM function: kustomize (`--enable-alpha-plugins --enable-exec`) and kpt (`fn eval --exec`,
//! `fn render`) run an exec function with no arguments, a `ResourceList` (`config.kubernetes.io/v1`)
//! on stdin and the transformed `ResourceList` expected on stdout. Pure: bytes in, bytes out.
//!
//! - Values come from `functionConfig`: the values carrier (`apiVersion: artifact-repos/v1`,
//!   `kind: ValuesCarrier`, `release: {name, namespace}`, `values: {...}`), or a `ConfigMap` whose
//!   `data.values` holds a values file as YAML text (`data.releaseName`, `data.releaseNamespace`
//!   optional).
//! - `RepoRegistration` items are registrations. Every item, registrations included (as the
//!   post-renderer passes them through), comes back unchanged, annotations included (kustomize's
//!   `config.kubernetes.io/index`, `internal.config.kubernetes.io/*`): kpt writes the function's
//!   output back into the package, so a dropped item would delete its file. To keep registrations
//!   out of what is applied, annotate them `config.kubernetes.io/local-config: "true"` (kustomize
//!   then leaves them out of its output, kpt out of `live apply`).
//! - Items come back byte for byte (comments, tags, `0400`, big integers) where the input is
//!   block YAML, as kustomize and kpt send it (`resource_list`); flow style and JSON are written
//!   back from their trees.
//! - Idempotent: an item the function generated earlier (its labels: `app.kubernetes.io/name` and
//!   `managed-by` `artifact-repos`, `instance` the release, a `component`) is replaced by what this
//!   run generates for it (kept byte for byte when unchanged), and dropped when this run no longer
//!   generates it, so kpt and kustomize converge after any values change. Any other item that
//!   Kubernetes would apply with a generated identity (read as post-render reads documents: merge
//!   keys, escapes, tags, `List` items) is an error.
//! - The generated objects that replace nothing are appended after the items, in `render`'s order.
//! - Problems are `results` (severity, message, `field.path`, `resourceRef`); on an error the items
//!   come back unchanged with the results, nothing is generated, and the exit code is non-zero.
//!
//! Sniffing (`artifact-repos` with no arguments and a piped stdin): a stream that is exactly one
//! YAML document of kind `ResourceList` with an apiVersion in `config.kubernetes.io`, without the
//! mark Helm puts on every document it hands a post-renderer (Helm 3's `# Source:` line, Helm 4's
//! `postrenderer.helm.sh/postrender-filename` annotation), is a KRM call; anything else is Helm's
//! post-renderer stream, so a chart whose one template is a ResourceList stays post-render.

use crate::deploy::postrender::{CARRIER_API_VERSION, CARRIER_KIND};
use crate::deploy::resource_list::{Action, Layout};
use crate::error::{Problem, Problems};
use crate::pipeline;
use crate::render::Release;
use crate::yaml::Node;
use serde_json::{Map, Value, json};

/// The ResourceList apiVersion written back (what kustomize and kpt send).
pub const API_VERSION: &str = "config.kubernetes.io/v1";
pub const KIND: &str = "ResourceList";
const GROUP_PREFIX: &[u8] = b"config.kubernetes.io/";

/// Largest ResourceList read (kustomize hands over the whole build).
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// Whether a stdin stream is a KRM function call: one document, `kind: ResourceList`,
/// apiVersion `config.kubernetes.io/...` (block style, or flow style/JSON).
pub fn is_resource_list(input: &[u8]) -> bool {
    let pieces = crate::yaml::stream::split(input);
    let mut docs = pieces.iter().filter(|p| !p.is_blank());
    let (Some(piece), None) = (docs.next(), docs.next()) else {
        return false;
    };
    if from_helm(piece) {
        return false;
    }
    if piece.top_level_scalar("kind") == Some(KIND.as_bytes()) {
        return piece
            .top_level_scalar("apiVersion")
            .is_some_and(|v| v.starts_with(GROUP_PREFIX));
    }
    let content = piece.content().trim_ascii_start();
    if content.starts_with(b"{") {
        return crate::yaml::parse_documents("stdin", content, MAX_INPUT_BYTES)
            .ok()
            .is_some_and(|d| d.len() == 1 && is_list_node(&d[0]));
    }
    false
}

/// Whether a document carries the mark every Helm puts on every document it hands a
/// post-renderer (#20, mode confusion: a chart whose one template is a ResourceList must stay
/// post-render): Helm 3 writes `# Source: <chart>/templates/<file>` before each document
/// (`pkg/action/action.go`, `renderResources`), Helm 4 annotates each document's metadata with
/// `postrenderer.helm.sh/postrender-filename` (`pkg/postrenderer`). kustomize and kpt send neither.
fn from_helm(piece: &crate::yaml::stream::Piece) -> bool {
    // The `# Source:` line heads the document: only comment, blank and marker lines before it.
    let header_source = piece
        .content()
        .split(|&b| b == b'\n')
        .take_while(|l| {
            let t = l.trim_ascii();
            t.is_empty() || t.starts_with(b"#")
        })
        .any(|l| l.starts_with(b"# Source: "));
    if header_source {
        return true;
    }
    // Helm 4's annotation on the document itself (not on one of its items): read only when the
    // bytes are there.
    memchr::memmem::find(
        piece.bytes,
        crate::deploy::postrender::HELM4_FILENAME_ANNOTATION.as_bytes(),
    )
    .is_some()
        && crate::yaml::parse_documents("stdin", piece.bytes, MAX_INPUT_BYTES)
            .ok()
            .and_then(|d| d.into_iter().next())
            .is_some_and(|d| {
                d.get("metadata")
                    .and_then(|m| m.get("annotations"))
                    .and_then(|a| a.get(crate::deploy::postrender::HELM4_FILENAME_ANNOTATION))
                    .is_some()
            })
}

fn is_list_node(node: &Node) -> bool {
    node.get("kind").and_then(Node::as_str) == Some(KIND)
        && node
            .get("apiVersion")
            .and_then(Node::as_str)
            .is_some_and(|v| v.as_bytes().starts_with(GROUP_PREFIX))
}

/// What the function produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The ResourceList to print (YAML), or `None` when the input was not a ResourceList at all.
    pub output: Option<String>,
    /// Problems and warnings, for stderr (kustomize shows stderr, not results).
    pub messages: Vec<String>,
    /// An error result was reported: exit non-zero.
    pub failed: bool,
}

/// One `results` entry.
struct Finding {
    severity: &'static str,
    message: String,
    field: Option<String>,
    resource: Option<Value>,
}

/// The `resourceRef` of an object: apiVersion, kind, name, namespace; each withheld when it looks
/// like a credential (#20: a message hid a value after printing it in the object's name), as
/// every value echoed from input is.
fn resource_ref(node: &Node) -> Value {
    let text = |n: Option<&Node>| {
        n.and_then(Node::as_str).map(|s| {
            if crate::rules::credential::looks_like_credential(s) {
                "(not shown: looks like a credential)".to_string()
            } else {
                s.to_string()
            }
        })
    };
    let meta = node.get("metadata");
    let mut r = Map::new();
    for (k, v) in [
        ("apiVersion", text(node.get("apiVersion"))),
        ("kind", text(node.get("kind"))),
        ("name", text(meta.and_then(|m| m.get("name")))),
        ("namespace", text(meta.and_then(|m| m.get("namespace")))),
    ] {
        if let Some(v) = v {
            r.insert(k.into(), Value::String(v));
        }
    }
    Value::Object(r)
}

/// Where the values came from, to point results into functionConfig.
enum ConfigForm {
    Carrier,
    ConfigMap,
    /// No functionConfig: the values' defaults, registrations from the items.
    None,
}

/// Reads release and values out of functionConfig.
fn read_config(config: Option<&Node>) -> Result<(Release, Node, ConfigForm), Vec<Finding>> {
    let error = |field: Option<&str>, message: String| {
        vec![Finding {
            severity: "error",
            message,
            field: field.map(str::to_string),
            resource: config.map(resource_ref),
        }]
    };
    let config = match config {
        // RepoRegistration items carry everything a registration needs: the values' defaults.
        None | Some(Node::Null) => {
            return Ok((
                Release::default(),
                Node::Map(Default::default()),
                ConfigForm::None,
            ));
        }
        Some(c) => c,
    };
    let api = config
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or("");
    let kind = config.get("kind").and_then(Node::as_str).unwrap_or("");
    match (api, kind) {
        (CARRIER_API_VERSION, CARRIER_KIND) => {
            let (release, values) =
                crate::deploy::postrender::read_carrier(config.clone(), "functionConfig", false)
                    .map_err(|p| {
                        p.0.into_iter()
                            .map(|p| Finding {
                                severity: "error",
                                field: p.path.strip_prefix("functionConfig: ").map(str::to_string),
                                message: p.message,
                                resource: Some(resource_ref(config)),
                            })
                            .collect::<Vec<_>>()
                    })?;
            Ok((release, values, ConfigForm::Carrier))
        }
        ("v1", "ConfigMap") => {
            let data = config.get("data");
            let text = |key: &str| -> Result<Option<String>, Vec<Finding>> {
                match data.and_then(|d| d.get(key)) {
                    None | Some(Node::Null) => Ok(None),
                    Some(Node::Str(s)) => Ok(Some(s.clone())),
                    Some(other) => Err(error(
                        Some(&format!("data.{key}")),
                        format!("expected a string, got {}", other.type_name()),
                    )),
                }
            };
            let Some(values) = text("values")? else {
                return Err(error(
                    Some("data.values"),
                    "is required: the values file as YAML text (`values: |`)".into(),
                ));
            };
            let values = crate::yaml::parse_values("functionConfig data.values", values.as_bytes())
                .map_err(|p| {
                    p.0.into_iter()
                        .map(|p| Finding {
                            severity: "error",
                            message: p.to_string(),
                            field: Some("data.values".into()),
                            resource: Some(resource_ref(config)),
                        })
                        .collect::<Vec<_>>()
                })?;
            let name = text("releaseName")?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| crate::render::DEFAULT_RELEASE_NAME.into());
            let namespace = text("releaseNamespace")?.filter(|s| !s.is_empty());
            Ok((Release { name, namespace }, values, ConfigForm::ConfigMap))
        }
        _ => Err(error(
            None,
            format!(
                "functionConfig is `apiVersion: {}`, `kind: {}`: expected `{CARRIER_API_VERSION}` `{CARRIER_KIND}`, or a `v1` ConfigMap with the values under `data.values`",
                api.escape_debug(),
                kind.escape_debug()
            ),
        )),
    }
}

/// Runs the function over one ResourceList.
pub fn run(input: &[u8]) -> Outcome {
    let fail = |message: String| Outcome {
        output: None,
        messages: vec![message],
        failed: true,
    };
    let mut docs = match crate::yaml::parse_documents("ResourceList", input, MAX_INPUT_BYTES) {
        Ok(d) => d,
        Err(p) => return fail(p.to_string()),
    };
    if docs.len() != 1 || !is_list_node(&docs[0]) {
        return fail(format!(
            "stdin is not one `{API_VERSION}` `{KIND}` document: a KRM function reads the ResourceList kustomize or kpt sends"
        ));
    }
    let list = docs.pop().expect("one document");
    let items: Vec<Node> = match list.get("items") {
        None | Some(Node::Null) => Vec::new(),
        Some(Node::Seq(s)) => s.clone(),
        Some(other) => {
            return fail(format!(
                "ResourceList: items: expected a list, got {}",
                other.type_name()
            ));
        }
    };
    let config = list.get("functionConfig");
    // The input's text, cut so that items come back byte for byte (`resource_list`); `None` for
    // what cannot be copied exactly (flow style, JSON), which is written from its tree.
    let layout = std::str::from_utf8(input)
        .ok()
        .and_then(|t| Layout::read(t, &items));
    let mut findings = Vec::new();
    let plan = generate(&items, layout.as_ref(), config, &mut findings);
    let failed = findings.iter().any(|f| f.severity == "error");
    // On an error the items come back unchanged and nothing is added.
    let (actions, added) = match plan {
        Some(p) if !failed => (p.actions, p.added),
        _ => (vec![Action::Keep; items.len()], Vec::new()),
    };
    let messages = findings
        .iter()
        .map(|f| {
            let at = match (&f.resource, &f.field) {
                (Some(r), field) => {
                    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
                    let id = if s("namespace").is_empty() {
                        format!("{} {}", s("kind"), s("name"))
                    } else {
                        format!("{} {}/{}", s("kind"), s("namespace"), s("name"))
                    };
                    match field {
                        Some(f) => format!("{id}: {f}: "),
                        None => format!("{id}: "),
                    }
                }
                (None, Some(f)) => format!("{f}: "),
                (None, None) => String::new(),
            };
            format!("{}: {at}{}", f.severity, f.message)
        })
        .collect();
    let results = (!findings.is_empty()).then(|| {
        Value::Array(
            findings
                .into_iter()
                .map(|f| {
                    let mut r = Map::new();
                    r.insert("message".into(), json!(f.message));
                    r.insert("severity".into(), json!(f.severity));
                    if let Some(res) = f.resource {
                        r.insert("resourceRef".into(), res);
                    }
                    if let Some(field) = f.field {
                        r.insert("field".into(), json!({ "path": field }));
                    }
                    Value::Object(r)
                })
                .collect(),
        )
    });
    let output = match &layout {
        Some(layout) => layout.write(&actions, &added, results.as_ref()),
        None => {
            let mut out_items: Vec<Value> = Vec::new();
            for (item, action) in items.iter().zip(&actions) {
                match action {
                    Action::Keep => out_items.push(to_value(item)),
                    Action::Drop => {}
                    Action::Replace(v) => out_items.push(v.clone()),
                }
            }
            out_items.extend(added);
            let mut out = Map::new();
            out.insert("apiVersion".into(), json!(API_VERSION));
            out.insert("kind".into(), json!(KIND));
            out.insert("items".into(), Value::Array(out_items));
            if let Some(c) = config {
                out.insert("functionConfig".into(), to_value(c));
            }
            if let Some(r) = results {
                out.insert("results".into(), r);
            }
            crate::yaml::value_to_yaml(&Value::Object(out))
        }
    };
    Outcome {
        output: Some(output),
        messages,
        failed,
    }
}

fn to_value(node: &Node) -> Value {
    serde_json::to_value(node).unwrap_or(Value::Null)
}

/// What becomes of the items, and what is added after them.
struct Plan {
    actions: Vec<Action>,
    added: Vec<Value>,
}

/// The generated objects, set against the items; findings get every problem and warning.
fn generate(
    items: &[Node],
    layout: Option<&Layout>,
    config: Option<&Node>,
    findings: &mut Vec<Finding>,
) -> Option<Plan> {
    let (release, values, form) = match read_config(config) {
        Ok(c) => c,
        Err(f) => {
            findings.extend(f);
            return None;
        }
    };
    // Registrations: each item's source label is `items[K]`, so a problem relabelled into the
    // object (`items[3]: RepoRegistration ns/a: spec.tenant`) finds its item again.
    let mut problems = Problems::default();
    let mut entries = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if crate::values::reporeg::is_repo_registration(item)
            && let Some(e) =
                crate::values::reporeg::to_entry(&format!("items[{i}]"), item, &mut problems)
        {
            entries.push(e);
        }
    }
    let to_finding = |severity: &'static str, p: Problem| -> Finding {
        if let Some(rest) = p.path.strip_prefix("items[")
            && let Some((index, rest)) = rest.split_once(']')
            && let Ok(index) = index.parse::<usize>()
            && let Some(item) = items.get(index)
        {
            // `: RepoRegistration ns/name: spec.field`
            let field = rest.splitn(3, ": ").nth(2).map(str::to_string);
            return Finding {
                severity,
                message: p.message,
                field,
                resource: Some(resource_ref(item)),
            };
        }
        let (field, message) = match form {
            ConfigForm::Carrier if p.path.is_empty() => (Some("values".to_string()), p.message),
            ConfigForm::Carrier => (Some(format!("values.{}", p.path)), p.message),
            ConfigForm::ConfigMap if p.path.is_empty() => (Some("data.values".into()), p.message),
            ConfigForm::ConfigMap => (
                Some("data.values".into()),
                format!("{}: {}", p.path, p.message),
            ),
            ConfigForm::None if p.path.is_empty() => (None, p.message),
            ConfigForm::None => (None, format!("{}: {}", p.path, p.message)),
        };
        Finding {
            severity,
            message,
            field,
            resource: config.map(resource_ref),
        }
    };
    if !problems.is_empty() {
        findings.extend(problems.0.into_iter().map(|p| to_finding("error", p)));
        return None;
    }
    let name = match form {
        ConfigForm::Carrier => "functionConfig values",
        ConfigForm::ConfigMap => "functionConfig data.values",
        ConfigForm::None => "the RepoRegistration items (no functionConfig)",
    };
    let sources = pipeline::Sources {
        values_key: None,
        values: pipeline::Values::Tree {
            name: name.to_string(),
            values,
        },
        registrations: entries,
        warnings: Vec::new(),
    };
    let release_name = release.name.clone();
    let release_namespace = release.namespace.clone().unwrap_or_default();
    let options = pipeline::Options {
        release,
        form: pipeline::Form::Json,
        ..Default::default()
    };
    let generated = match pipeline::generate(sources, &options) {
        Err(r) => {
            findings.extend(r.warnings.into_iter().map(|p| to_finding("warning", p)));
            findings.extend(r.problems.0.into_iter().map(|p| to_finding("error", p)));
            return None;
        }
        Ok(g) => g,
    };
    findings.extend(
        generated
            .warnings
            .into_iter()
            .map(|p| to_finding("warning", p)),
    );
    let objects = generated.objects.into_json();
    Some(set_against_items(
        items,
        layout,
        objects,
        &release_name,
        &release_namespace,
        findings,
    ))
}

/// Sets the generated objects against the items (#20, #21 item 3):
/// - an item this function generated earlier (`is_own`: its labels name artifact-repos as
///   `name` and `managed-by`, this release as `instance`, and a component) with a generated
///   identity is that object: kept byte for byte when unchanged, else replaced in its place by
///   the new one (keeping the annotations kustomize and kpt track it by, so kpt writes it back to
///   the same file); one the run no longer generates is dropped (kpt deletes its file). So a rerun
///   after any values change converges;
/// - any other item that Kubernetes would apply with a generated identity (read as post-render
///   reads a document, `postrender::Claims`: merge keys, escapes, tags, `List` items) is a
///   collision, an error naming it;
/// - a `config.kubernetes.io/local-config` copy of a generated object is replaced by the object
///   (without the annotation): kustomize and kpt leave local-config items out, so keeping it would
///   make the object vanish.
///
/// What remains is appended, in `render`'s order.
fn set_against_items(
    items: &[Node],
    layout: Option<&Layout>,
    objects: Vec<crate::render::Object>,
    release_name: &str,
    release_namespace: &str,
    findings: &mut Vec<Finding>,
) -> Plan {
    let claims = crate::deploy::postrender::Claims::new(
        objects.iter().map(|o| &o.identity),
        release_namespace,
    );
    let mut actions = vec![Action::Keep; items.len()];
    let mut matched: Vec<bool> = vec![false; objects.len()];
    for (i, item) in items.iter().enumerate() {
        let text: String = match layout {
            Some(l) => l.item_text(i),
            None => crate::yaml::value_to_yaml(&to_value(item)),
        };
        let kind = item.get("kind").and_then(Node::as_str).map(str::as_bytes);
        let own = is_own(item, release_name);
        let found = match claims.of(&format!("items[{i}]"), text.as_bytes(), kind) {
            Ok(f) => f,
            Err(detail) => {
                findings.push(Finding {
                    severity: "error",
                    message: format!(
                        "{detail}; the item may define an object that artifact-repos generates from functionConfig, and it cannot be checked: fix the item (Kubernetes cannot apply it either)"
                    ),
                    field: None,
                    resource: Some(resource_ref(item)),
                });
                continue;
            }
        };
        let mut earlier = false;
        for c in found {
            let o = &objects[c.generated];
            if own && c.item.is_none() && same_identity(item, &o.identity) {
                earlier = true;
                if matched[c.generated] {
                    // A second copy of the same earlier output.
                    actions[i] = Action::Drop;
                    continue;
                }
                matched[c.generated] = true;
                if !is_local_config(item) && without_tool_annotations(item) == o.value {
                    continue;
                }
                actions[i] = Action::Replace(with_tool_annotations(o.value.clone(), item));
                continue;
            }
            findings.push(Finding {
                severity: "error",
                message: format!(
                    "{} is also generated by artifact-repos from functionConfig, with different content; remove or rename one of them",
                    o.identity
                ),
                field: c.item.map(|k| format!("items[{k}]")),
                resource: Some(resource_ref(item)),
            });
        }
        if own && !earlier {
            actions[i] = Action::Drop;
        }
    }
    let added = objects
        .into_iter()
        .zip(matched)
        .filter(|(_, m)| !m)
        .map(|(o, _)| o.value)
        .collect();
    Plan { actions, added }
}

/// Whether an item is an object this function generated for `release` (see `set_against_items`):
/// every generated object carries these labels, and the values cannot set them
/// (`labels::RESERVED_PREFIXES`).
fn is_own(item: &Node, release: &str) -> bool {
    use crate::rules::k8s::labels;
    let Some(l) = item.get("metadata").and_then(|m| m.get("labels")) else {
        return false;
    };
    let label = |k: &str| l.get(k).and_then(Node::as_str);
    let kind = item.get("kind").and_then(Node::as_str).unwrap_or("");
    label(labels::NAME) == Some(labels::TOOL)
        && label(labels::MANAGED_BY) == Some(crate::render::ManagedBy::Tool.label())
        && label(labels::INSTANCE) == Some(release)
        && label(labels::COMPONENT).is_some_and(|c| !c.is_empty())
        && !kind.ends_with("List")
        && item.get("items").is_none()
}

/// The annotation that keeps an item out of what kustomize outputs and kpt applies.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

fn is_local_config(item: &Node) -> bool {
    item.get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LOCAL_CONFIG))
        .and_then(Node::as_str)
        .is_some_and(|v| v == "true")
}

/// Whether an annotation is one kustomize or kpt put on an item to track it.
fn is_tool_annotation(k: &str) -> bool {
    k.starts_with("config.kubernetes.io/")
        || k.starts_with("internal.config.kubernetes.io/")
        || k.starts_with("kustomize.config.k8s.io/")
        || k == "config.k8s.io/id"
}

/// A generated object with the tracking annotations of the item it replaces (not local-config).
fn with_tool_annotations(mut value: Value, item: &Node) -> Value {
    let Some(Node::Map(annotations)) = item.get("metadata").and_then(|m| m.get("annotations"))
    else {
        return value;
    };
    let carried: Vec<(String, Value)> = annotations
        .iter()
        .filter(|(k, _)| is_tool_annotation(k) && k.as_str() != LOCAL_CONFIG)
        .map(|(k, v)| (k.clone(), to_value(v)))
        .collect();
    if carried.is_empty() {
        return value;
    }
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        let a = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(a) = a.as_object_mut() {
            a.extend(carried);
        }
    }
    value
}

/// An item as JSON without the annotations kustomize and kpt add to what they hand a function
/// (`config.kubernetes.io/*`, `internal.config.kubernetes.io/*`, `config.k8s.io/id`,
/// `kustomize.config.k8s.io/*`): what to compare with a generated object, so that running the
/// function again over its own output (kpt `fn render`, twice) finds its objects identical.
fn without_tool_annotations(item: &Node) -> Value {
    let mut v = to_value(item);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(Value::Object(a)) = meta.get_mut("annotations")
    {
        a.retain(|k, _| !is_tool_annotation(k));
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
    v
}

fn same_identity(item: &Node, id: &crate::rules::identity::Identity) -> bool {
    fn text(n: Option<&Node>) -> &str {
        n.and_then(Node::as_str).unwrap_or("")
    }
    let meta = item.get("metadata");
    let api = text(item.get("apiVersion"));
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    group == id.group
        && text(item.get("kind")) == id.kind
        && text(meta.and_then(|m| m.get("name"))) == id.name
        && text(meta.and_then(|m| m.get("namespace"))) == id.namespace
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: &str = "repoRegistrations:\n- name: genomics\n  repoUrl: https://github.com/lab/vc.git\n  tenant: genomics\n  artifactBucket: {bucket: g-artifacts, externalSecretPath: g/a}\n";

    fn list(items: &str, config: &str) -> String {
        format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:{items}\nfunctionConfig:\n{config}"
        )
    }

    fn carrier() -> String {
        let values: String = VALUES.lines().map(|l| format!("    {l}\n")).collect();
        format!(
            "  apiVersion: artifact-repos/v1\n  kind: ValuesCarrier\n  metadata: {{name: values}}\n  release: {{name: r1}}\n  values:\n{values}"
        )
    }

    #[test]
    fn sniffing() {
        assert!(is_resource_list(list(" []", &carrier()).as_bytes()));
        assert!(is_resource_list(b"---\n{\"apiVersion\": \"config.kubernetes.io/v1\", \"kind\": \"ResourceList\", \"items\": []}\n"));
        assert!(!is_resource_list(
            b"---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\n"
        ));
        assert!(!is_resource_list(
            format!(
                "{}---\napiVersion: v1\nkind: ConfigMap\n",
                list(" []", &carrier())
            )
            .as_bytes()
        ));
        assert!(!is_resource_list(
            b"apiVersion: example.com/v1\nkind: ResourceList\n"
        ));
        assert!(!is_resource_list(b""));
        // A chart whose one template is a ResourceList: Helm's marks keep it post-render.
        let h3 = format!(
            "---\n# Source: c/templates/list.yaml\n{}",
            list(" []", &carrier())
        );
        assert!(!is_resource_list(h3.as_bytes()));
        let h4 = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: c/templates/list.yaml\nitems: []\n";
        assert!(!is_resource_list(h4.as_bytes()));
        // The annotation on an item is not Helm's mark on the list.
        let item = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n    annotations:\n      postrenderer.helm.sh/postrender-filename: c/t.yaml\n";
        assert!(is_resource_list(item.as_bytes()));
        let json = "{\"apiVersion\": \"config.kubernetes.io/v1\", \"kind\": \"ResourceList\", \"metadata\": {\"annotations\": {\"postrenderer.helm.sh/postrender-filename\": \"c/t.yaml\"}}, \"items\": []}";
        assert!(!is_resource_list(json.as_bytes()));
    }

    #[test]
    fn items_pass_through_and_objects_are_appended() {
        let item = "\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: keep\n    annotations:\n      config.kubernetes.io/index: '0'\n      internal.config.kubernetes.io/path: keep.yaml\n  data: {a: '012', b: 'true'}";
        let out = run(list(item, &carrier()).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        let docs = crate::yaml::parse_documents("out", text.as_bytes(), usize::MAX).unwrap();
        let items = docs[0].get("items").unwrap().as_seq().unwrap();
        let input =
            crate::yaml::parse_documents("in", list(item, &carrier()).as_bytes(), usize::MAX)
                .unwrap();
        assert_eq!(
            &items[0],
            &input[0].get("items").unwrap().as_seq().unwrap()[0]
        );
        assert!(items.len() > 3);
        assert!(text.contains("name: artifact-repositories"), "{text}");
        assert!(docs[0].get("results").is_none());
        // Same input, same bytes.
        assert_eq!(run(list(item, &carrier()).as_bytes()).output.unwrap(), text);
    }

    #[test]
    fn registrations_come_back_and_problems_point_into_them() {
        let reg = "\n- apiVersion: platform.calypr.io/v1alpha1\n  kind: RepoRegistration\n  metadata: {name: b, namespace: wf}\n  spec: {repoUrl: 'https://g/o/r', tenant: t, artifactBucket: {bucket: B_AD, externalSecretPath: p}}";
        let out = run(list(reg, &carrier()).as_bytes());
        assert!(out.failed);
        let text = out.output.unwrap();
        assert!(text.contains("severity: error"), "{text}");
        assert!(text.contains("path: spec.artifactBucket.bucket"), "{text}");
        assert!(text.contains("kind: RepoRegistration"), "{text}");
        assert!(text.contains("`B_AD`"), "{text}");
        assert!(
            !text.contains("artifact-repositories"),
            "nothing generated on error: {text}"
        );
        let good = reg.replace("B_AD", "b-ok");
        let out = run(list(&good, &carrier()).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        assert!(text.contains("kind: RepoRegistration"), "{text}");
        assert!(text.contains("WorkflowTemplate"), "{text}");
        // Run again over its own output: the generated objects are there already, identical.
        let again = run(text.as_bytes());
        assert!(!again.failed, "{:?}", again.messages);
        assert_eq!(again.output.unwrap(), text);
    }

    #[test]
    fn configmap_form_and_value_errors() {
        let values: String = VALUES
            .replace("g-artifacts", "G")
            .lines()
            .map(|l| format!("      {l}\n"))
            .collect();
        let cm = format!(
            "  apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: fn-config}}\n  data:\n    values: |\n{values}"
        );
        let out = run(list(" []", &cm).as_bytes());
        assert!(out.failed);
        let text = out.output.unwrap();
        assert!(text.contains("path: data.values"), "{text}");
        assert!(
            text.contains("repoRegistrations[0].artifactBucket.bucket"),
            "{text}"
        );
        let out = run(list(" []", &cm.replace("bucket: G", "bucket: g-ok")).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let bad = carrier().replace("g-artifacts", "G");
        let out = run(list(" []", &bad).as_bytes());
        assert!(
            out.output
                .unwrap()
                .contains("path: values.repoRegistrations[0].artifactBucket.bucket")
        );
        let out = run(list(" []", "  apiVersion: v1\n  kind: Secret\n").as_bytes());
        assert!(out.failed);
        let out = run(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n");
        assert!(out.failed && out.messages[0].contains("no functionConfig"));
    }

    /// The `items` of a run's output, as sorted JSON texts (replaced objects keep their place,
    /// new ones are appended: a rerun holds the same objects as a fresh run, in another order).
    fn out_items(text: &str) -> Vec<String> {
        let docs = crate::yaml::parse_documents("out", text.as_bytes(), usize::MAX).unwrap();
        let mut v: Vec<String> = docs[0]
            .get("items")
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(|n| to_value(n).to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn items_come_back_byte_for_byte() {
        // #20: `0400` came back as the string '0400', large ints as floats, comments and tags lost.
        let item = "\n- apiVersion: v1\n  kind: Secret # why\n  metadata:\n    name: keep\n  data:\n    mode: 0400\n    big: 12345678901234567890\n    t: !!str 12\n    text: |\n      one\n\n      - two\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: flow}";
        let input = list(item, &carrier());
        let out = run(input.as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        let head =
            format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:{item}\n");
        assert!(text.starts_with(&head), "{text}");
        assert!(
            text.contains("\n- apiVersion: v1\n  kind: Namespace\n"),
            "{text}"
        );
        assert!(
            text.ends_with(&format!("functionConfig:\n{}", carrier())),
            "{text}"
        );
        // Flow style (JSON) is written from the tree, items unchanged as trees.
        let json = r#"{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"a": "012"}}]}"#;
        let out = run(json.as_bytes());
        let text = out.output.unwrap();
        assert!(
            text.contains("a: '012'") || text.contains("a: \"012\""),
            "{text}"
        );
    }

    #[test]
    fn hidden_collisions_are_found_as_post_render_finds_them() {
        for hidden in [
            // A merge key.
            "\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    <<: {name: artifact-repositories, namespace: genomics}\n  data: {x: y}",
            // Inside a List.
            "\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: artifact-repositories, namespace: genomics}",
            // Escapes.
            "\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: \"artifact\\x2drepositories\", namespace: genomics}",
        ] {
            let out = run(list(hidden, &carrier()).as_bytes());
            assert!(out.failed, "{hidden}: {:?}", out.messages);
            assert!(
                out.messages.iter().any(|m| m.contains(
                    "ConfigMap genomics/artifact-repositories is also generated by artifact-repos from functionConfig"
                )),
                "{:?}",
                out.messages
            );
        }
    }

    /// `output`'s items with `config` as the functionConfig: a rerun after a values change.
    fn rerun_input(output: &str, config: &str) -> String {
        let at = output.find("functionConfig:").unwrap();
        format!("{}functionConfig:\n{config}", &output[..at])
    }

    #[test]
    fn reruns_replace_earlier_output_and_converge() {
        // #21 item 3: a rerun after a bucket change failed with "is also generated by
        // artifact-repos from functionConfig, with different content".
        let once = run(list(" []", &carrier()).as_bytes()).output.unwrap();
        let changed = carrier().replace("g-artifacts", "g-new");
        let out = run(rerun_input(&once, &changed).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        let fresh = run(list(" []", &changed).as_bytes()).output.unwrap();
        assert_eq!(out_items(&text), out_items(&fresh));
        assert!(!text.contains("g-artifacts"), "{text}");
        // Again over its own output: the same bytes.
        assert_eq!(run(text.as_bytes()).output.unwrap(), text);
        // A new tenant is added, then the first one removed: what is no longer generated goes.
        let two = changed.replace(
            "    repoRegistrations:\n",
            "    repoRegistrations:\n    - {name: variants, repoUrl: 'https://github.com/lab/v.git', tenant: variants, artifactBucket: {bucket: v-b, externalSecretPath: v/a}}\n",
        );
        let out = run(rerun_input(&text, &two).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        assert!(text.contains("namespace: variants"), "{text}");
        let only_variants = two.replace(
            "    - name: genomics\n      repoUrl: https://github.com/lab/vc.git\n      tenant: genomics\n      artifactBucket: {bucket: g-new, externalSecretPath: g/a}\n",
            "",
        );
        assert_ne!(only_variants, two);
        let out = run(rerun_input(&text, &only_variants).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        assert_eq!(
            out_items(&text),
            out_items(&run(list(" []", &only_variants).as_bytes()).output.unwrap())
        );
        assert!(!text.contains("namespace: genomics"), "{text}");
    }

    #[test]
    fn a_registration_naming_another_namespace_is_a_warning_and_strict_refuses_it() {
        let reg = "\n- apiVersion: platform.calypr.io/v1alpha1\n  kind: RepoRegistration\n  metadata: {name: v, namespace: team-a}\n  spec: {repoUrl: 'https://g/o/r', tenant: t, namespace: team-b, artifactBucket: {bucket: v-b, externalSecretPath: p}}";
        let out = run(list(reg, &carrier()).as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        assert!(text.contains("severity: warning"), "{text}");
        assert!(text.contains("path: spec.namespace"), "{text}");
        let strict = carrier().replace(
            "  values:\n",
            "  values:\n    artifactRepos: {strict: true}\n",
        );
        let out = run(list(reg, &strict).as_bytes());
        assert!(out.failed, "{:?}", out.messages);
        assert!(
            out.messages
                .iter()
                .any(|m| m.contains("`team-b` is another namespace")),
            "{:?}",
            out.messages
        );
    }

    #[test]
    fn a_credential_in_an_items_name_is_not_echoed() {
        let key = "AKIAIOSFODNN7EXAMPLE";
        let reg = format!(
            "\n- apiVersion: platform.calypr.io/v1alpha1\n  kind: RepoRegistration\n  metadata: {{name: {key}, namespace: wf}}\n  spec: {{repoUrl: 'https://g/o/r', tenant: t, artifactBucket: {{bucket: B_AD, externalSecretPath: p}}}}"
        );
        let out = run(list(&reg, &carrier()).as_bytes());
        assert!(out.failed);
        assert!(
            !out.messages.iter().any(|m| m.contains(key)),
            "{:?}",
            out.messages
        );
        let text = out.output.unwrap();
        let results = &text[text.find("results:").unwrap()..];
        assert!(!results.contains(key), "{results}");
    }

    #[test]
    fn foreign_objects_with_a_generated_identity_are_still_errors() {
        let foreign = "\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: artifact-repositories\n    namespace: genomics\n    labels: {app.kubernetes.io/managed-by: someone-else}\n  data: {x: y}";
        let out = run(list(foreign, &carrier()).as_bytes());
        assert!(out.failed);
        // Our own output of another release is not ours to replace either.
        let once = run(list(" []", &carrier()).as_bytes()).output.unwrap();
        let other = carrier().replace("release: {name: r1}", "release: {name: r2}");
        let input = format!(
            "{}functionConfig:\n{other}",
            &once[..once.find("functionConfig:").unwrap()]
        );
        let out = run(input.as_bytes());
        assert!(out.failed, "{:?}", out.messages);
        assert!(
            out.messages.iter().any(|m| m.contains("is also generated")),
            "{:?}",
            out.messages
        );
    }

    #[test]
    fn a_local_config_copy_does_not_make_the_object_vanish() {
        let once = run(list(" []", &carrier()).as_bytes()).output.unwrap();
        let marked = once.replacen(
            "  metadata:\n    labels:\n      app.kubernetes.io/component: artifact-repository\n",
            "  metadata:\n    annotations:\n      config.kubernetes.io/local-config: \"true\"\n    labels:\n      app.kubernetes.io/component: artifact-repository\n",
            1,
        );
        assert_ne!(marked, once);
        let out = run(marked.as_bytes());
        assert!(!out.failed, "{:?}", out.messages);
        let text = out.output.unwrap();
        assert!(!text.contains("local-config"), "{text}");
        assert_eq!(out_items(&text), out_items(&once));
    }
}
