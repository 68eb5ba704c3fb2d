//! How Argo finds a workflow's artifact repository, encoded from docs/upstream.md ("Argo: how a workflow finds its repository") and shared by
//! `check` and `explain`: with `artifactRepositoryRef`, the ConfigMap (default
//! `artifact-repositories`) in the workflow's namespace, then in the controller's namespace, where
//! only a missing ConfigMap or a missing key falls through; a ref without `key` takes the key from the
//! ConfigMap's `workflows.argoproj.io/default-artifact-repository` annotation. Without a ref, only
//! `artifact-repositories` in the workflow's own namespace (key from that annotation), then the
//! controller's configured default. Also works out what a workflow actually runs with once a
//! `workflowTemplateRef` is merged in.

use crate::ci::manifests::{Manifest, is_cluster_scoped};
use crate::rules::identity::Identity;
use crate::yaml::Node;
use std::collections::HashMap;

pub use crate::rules::argo::{
    DEFAULT_CONFIGMAP, DEFAULT_REPOSITORY_ANNOTATION as DEFAULT_KEY_ANNOTATION,
};
pub use crate::rules::k8s::labels::{REGISTRATION as REGISTRATION_LABEL, TENANT as TENANT_LABEL};

/// The namespace an object lives in: its own, or `default` for a namespaced object without one
/// (what kubectl does without `-n`); empty for cluster-scoped kinds.
pub fn namespace_of(m: &Manifest) -> String {
    if is_cluster_scoped(&m.identity.group, &m.identity.kind) {
        String::new()
    } else if m.identity.namespace.is_empty() {
        "default".to_string()
    } else {
        m.identity.namespace.clone()
    }
}

/// A map of maps, looked up by two borrowed keys.
type Nested<'a, K, V> = HashMap<K, HashMap<&'a str, V>>;

/// The manifests, indexed by identity with namespaces made explicit, and by every other key a
/// question of `check` or `explain` looks objects up by (kind; ExternalSecret target; declared
/// Secret; registration label; RBAC subject), each built in one pass over the stream, so that
/// answering a question for every workflow takes time proportional to the stream, not to the
/// stream times the workflows (issue 20). Every list keeps stream order.
pub struct Index<'a> {
    by_id: HashMap<Identity, &'a Manifest>,
    /// Group -> kind -> objects.
    by_kind: Nested<'a, &'a str, Vec<&'a Manifest>>,
    /// Namespace -> name of the Secret they produce -> ExternalSecrets.
    by_target: Nested<'a, String, Vec<&'a Manifest>>,
    /// Namespace -> Secret name -> the first ConfigMap of the namespace that declares the Secret
    /// as the user's own (`EXISTING_SECRETS_ANNOTATION`).
    declared_secrets: Nested<'a, String, &'a Manifest>,
    /// Objects by their `artifact-repos/registration` label.
    by_registration: HashMap<&'a str, Vec<&'a Manifest>>,
    /// (ConfigMap name, data key) of every ConfigMap, in any namespace.
    configmap_keys: std::collections::HashSet<(&'a str, &'a str)>,
    controller_configmap: std::cell::OnceCell<Option<&'a Manifest>>,
    pub(crate) rbac: super::rbac::RbacIndex<'a>,
    pub controller_namespace: String,
}

impl<'a> Index<'a> {
    pub fn new(all: impl IntoIterator<Item = &'a Manifest>, controller_namespace: &str) -> Self {
        let mut by_id = HashMap::new();
        let mut by_kind: Nested<&str, Vec<&Manifest>> = HashMap::new();
        let mut by_target: Nested<String, Vec<&Manifest>> = HashMap::new();
        let mut declared_secrets: Nested<String, &Manifest> = HashMap::new();
        let mut by_registration: HashMap<&str, Vec<&Manifest>> = HashMap::new();
        let mut configmap_keys = std::collections::HashSet::new();
        for m in all {
            let mut id = m.identity.clone();
            id.namespace = namespace_of(m);
            by_kind
                .entry(m.identity.group.as_str())
                .or_default()
                .entry(m.identity.kind.as_str())
                .or_default()
                .push(m);
            if let Some(reg) = m.label(REGISTRATION_LABEL) {
                by_registration.entry(reg).or_default().push(m);
            }
            if m.is("external-secrets.io", "ExternalSecret") {
                let target = m
                    .get(&["spec", "target", "name"])
                    .and_then(Node::as_str)
                    .filter(|t| !t.is_empty())
                    .unwrap_or(&m.identity.name);
                by_target
                    .entry(id.namespace.clone())
                    .or_default()
                    .entry(target)
                    .or_default()
                    .push(m);
            }
            if m.is("", "ConfigMap") {
                if let Some(data) = m.get(&["data"]).and_then(Node::as_map) {
                    for key in data.keys() {
                        configmap_keys.insert((m.identity.name.as_str(), key.as_str()));
                    }
                }
                if let Some(v) = m.annotation(crate::rules::k8s::EXISTING_SECRETS_ANNOTATION) {
                    let declared = declared_secrets.entry(id.namespace.clone()).or_default();
                    for name in v.split(',') {
                        declared.entry(name.trim()).or_insert(m);
                    }
                }
            }
            by_id.entry(id).or_insert(m);
        }
        let rbac_kind = |kind: &str| {
            by_kind
                .get(crate::rules::k8s::RBAC_GROUP)
                .and_then(|k| k.get(kind))
                .map_or(&[][..], Vec::as_slice)
        };
        let rbac = super::rbac::RbacIndex::new(
            rbac_kind("RoleBinding"),
            rbac_kind("ClusterRoleBinding"),
            rbac_kind("ClusterRole"),
        );
        Index {
            by_id,
            by_kind,
            by_target,
            declared_secrets,
            by_registration,
            configmap_keys,
            controller_configmap: Default::default(),
            rbac,
            controller_namespace: controller_namespace.to_string(),
        }
    }
    /// The ExternalSecrets that produce Secret `name` in `namespace`, in stream order.
    pub fn external_secrets(&self, namespace: &str, name: &str) -> &[&'a Manifest] {
        self.by_target
            .get(namespace)
            .and_then(|n| n.get(name))
            .map_or(&[], Vec::as_slice)
    }
    /// The first ConfigMap of `namespace` that declares Secret `name` as the user's own.
    pub fn declared_secret(&self, namespace: &str, name: &str) -> Option<&'a Manifest> {
        self.declared_secrets
            .get(namespace)
            .and_then(|n| n.get(name))
            .copied()
    }
    /// Objects labelled with registration `reg`, in stream order.
    pub fn with_registration(&self, reg: &str) -> &[&'a Manifest] {
        self.by_registration.get(reg).map_or(&[], Vec::as_slice)
    }
    /// Whether some ConfigMap named `name`, in any namespace, has data key `key`.
    pub fn any_configmap_has(&self, name: &str, key: &str) -> bool {
        self.configmap_keys.contains(&(name, key))
    }
    pub fn find(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&'a Manifest> {
        self.by_id
            .get(&Identity {
                group: group.into(),
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
            })
            .copied()
    }
    /// Every object of a kind, in stream order.
    pub fn of_kind(&self, group: &str, kind: &str) -> impl Iterator<Item = &'a Manifest> + '_ {
        self.by_kind
            .get(group)
            .and_then(|k| k.get(kind))
            .into_iter()
            .flatten()
            .copied()
    }
    pub fn configmap(&self, namespace: &str, name: &str) -> Option<&'a Manifest> {
        self.find("", "ConfigMap", namespace, name)
    }
}

/// `spec.artifactRepositoryRef` as it applies to a workflow.
#[derive(Debug, Clone)]
pub struct RefSetting<'a> {
    pub configmap: String,
    /// `None` when the ref has no `key`: the ConfigMap's annotation names it.
    pub key: Option<String>,
    /// Path of the ref field in `from`.
    pub field: String,
    /// The object that holds the ref (the workflow itself or its template).
    pub from: &'a Manifest,
}

/// The service account the workflow's pods run as.
#[derive(Debug, Clone)]
pub struct SaSetting<'a> {
    pub name: String,
    /// Path of the field, or empty when the name is Kubernetes' implied `default`.
    pub field: String,
    pub from: &'a Manifest,
}

/// Where a workflow's template comes from.
#[derive(Debug, Clone)]
pub enum TemplateLink<'a> {
    None,
    Found(&'a Manifest),
    Missing {
        kind: &'static str,
        name: String,
        field: String,
    },
}

/// Something that runs as a workflow: a Workflow, a WorkflowTemplate (a Workflow made from it runs
/// in the template's namespace), a CronWorkflow (its `spec.workflowSpec`), or a Workflow made from a
/// ClusterWorkflowTemplate (in the Workflow's namespace).
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    pub object: &'a Manifest,
    /// Where its pods run: empty for a ClusterWorkflowTemplate on its own.
    pub namespace: String,
    pub spec_path: &'static str,
    pub repo_ref: Option<RefSetting<'a>>,
    pub service_account: SaSetting<'a>,
    pub template: TemplateLink<'a>,
}

impl Workload<'_> {
    /// The tenant a workload belongs to: its `artifact-repos/tenant` label, else its namespace.
    pub fn tenant(&self) -> String {
        self.object
            .label(TENANT_LABEL)
            .map(str::to_string)
            .unwrap_or_else(|| self.namespace.clone())
    }
}

/// The kinds that run as workflows and where their workflow spec sits.
pub fn spec_path(m: &Manifest) -> Option<&'static str> {
    if m.identity.group != "argoproj.io" {
        return None;
    }
    match m.identity.kind.as_str() {
        "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" => Some("spec"),
        "CronWorkflow" => Some("spec.workflowSpec"),
        _ => None,
    }
}

pub fn spec_of<'a>(m: &'a Manifest, path: &str) -> Option<&'a Node> {
    let keys: Vec<&str> = path.split('.').collect();
    m.get(&keys)
}

fn own_ref<'a>(m: &'a Manifest, path: &str) -> Option<RefSetting<'a>> {
    let r = spec_of(m, path)?.get("artifactRepositoryRef")?;
    let s = |k: &str| r.get(k).and_then(Node::as_str).filter(|v| !v.is_empty());
    Some(RefSetting {
        configmap: s("configMap").unwrap_or(DEFAULT_CONFIGMAP).to_string(),
        key: s("key").map(str::to_string),
        field: format!("{path}.artifactRepositoryRef"),
        from: m,
    })
}

fn own_sa<'a>(m: &'a Manifest, path: &str) -> Option<SaSetting<'a>> {
    let spec = spec_of(m, path)?;
    // The executor reports outputs with its own account when one is set.
    let (field, name) = match spec
        .get("executor")
        .and_then(|e| e.get("serviceAccountName"))
        .and_then(Node::as_str)
    {
        Some(n) if !n.is_empty() => ("executor.serviceAccountName", n),
        _ => (
            "serviceAccountName",
            spec.get("serviceAccountName")
                .and_then(Node::as_str)
                .filter(|n| !n.is_empty())?,
        ),
    };
    Some(SaSetting {
        name: name.to_string(),
        field: format!("{path}.{field}"),
        from: m,
    })
}

/// The workload of one object, with a referenced template merged in as Argo merges it: the
/// workflow's own settings win, the template fills the gaps. `namespace` overrides where it runs
/// (`explain -n`).
pub fn workload<'a>(
    index: &Index<'a>,
    m: &'a Manifest,
    namespace: Option<&str>,
) -> Option<Workload<'a>> {
    let path = spec_path(m)?;
    let namespace = match namespace {
        Some(ns) => ns.to_string(),
        None => namespace_of(m),
    };
    let mut repo_ref = own_ref(m, path);
    let mut sa = own_sa(m, path);
    let mut template = TemplateLink::None;
    if let Some(tref) = spec_of(m, path).and_then(|s| s.get("workflowTemplateRef")) {
        let name = tref
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let cluster = matches!(tref.get("clusterScope"), Some(Node::Bool(true)));
        let found = if cluster {
            index.find("argoproj.io", "ClusterWorkflowTemplate", "", &name)
        } else {
            index.find("argoproj.io", "WorkflowTemplate", &namespace, &name)
        };
        template = match found {
            Some(t) => {
                if repo_ref.is_none() {
                    repo_ref = own_ref(t, "spec");
                }
                if sa.is_none() {
                    sa = own_sa(t, "spec");
                }
                TemplateLink::Found(t)
            }
            None => TemplateLink::Missing {
                kind: if cluster {
                    "ClusterWorkflowTemplate"
                } else {
                    "WorkflowTemplate"
                },
                name,
                field: format!("{path}.workflowTemplateRef"),
            },
        };
    }
    Some(Workload {
        object: m,
        namespace,
        spec_path: path,
        repo_ref,
        service_account: sa.unwrap_or(SaSetting {
            name: "default".into(),
            field: String::new(),
            from: m,
        }),
        template,
    })
}

/// A field of the workflow's spec as Argo sees it after merging its template (the workflow's own
/// field wins), with the object that sets it.
pub fn spec_field<'a>(w: &Workload<'a>, key: &str) -> Option<(&'a Node, &'a Manifest)> {
    if let Some(v) = spec_of(w.object, w.spec_path).and_then(|s| s.get(key)) {
        return Some((v, w.object));
    }
    match &w.template {
        TemplateLink::Found(t) => spec_of(t, "spec").and_then(|s| s.get(key)).map(|v| (v, *t)),
        _ => None,
    }
}

/// Argo's artifact GC of a workload that deletes artifacts: its strategy, service account (the
/// GC's own, else the workflow's) and where it is set; `None` without GC or with `Never`.
pub fn artifact_gc<'a>(w: &Workload<'a>) -> Option<(String, String, &'a Manifest)> {
    let (gc, from) = spec_field(w, "artifactGC")?;
    let strategy = gc.get("strategy").and_then(Node::as_str).unwrap_or("");
    if strategy.is_empty() || strategy == "Never" {
        return None;
    }
    let sa = gc
        .get("serviceAccountName")
        .and_then(Node::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| w.service_account.name.clone());
    Some((strategy.to_string(), sa, from))
}

/// How many of a ConfigMap's keys a message lists.
pub const LISTED_KEYS: usize = 8;

/// What one lookup of Argo's search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    NoConfigMap,
    /// The ConfigMap exists but has no such data key (`key` is empty when neither the ref nor the
    /// annotation names one); `keys` lists the first `LISTED_KEYS` keys it has, of `count`.
    NoKey {
        key: String,
        keys: Vec<String>,
        count: usize,
    },
    Found {
        key: String,
    },
}

#[derive(Debug, Clone)]
pub struct Step {
    pub namespace: String,
    pub configmap: String,
    pub result: StepResult,
}

/// The repository Argo settles on, when it is a ConfigMap value.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    pub configmap: &'a Manifest,
    pub namespace: String,
    pub key: String,
    /// Borrowed from the ConfigMap: one value may be found for every workflow.
    pub value: std::borrow::Cow<'a, str>,
}

/// The whole search, step by step.
#[derive(Debug, Clone)]
pub struct Resolution<'a> {
    pub steps: Vec<Step>,
    pub found: Option<Found<'a>>,
    /// No ref, no default in the workflow's namespace: the controller's configured default applies.
    /// Holds the controller ConfigMap when it is in the manifests and configures one.
    pub controller_default: Option<Option<&'a Manifest>>,
}

fn lookup<'a>(
    index: &Index<'a>,
    namespace: &str,
    configmap: &str,
    key: Option<&str>,
) -> (Step, Option<Found<'a>>) {
    let step = |result| Step {
        namespace: namespace.to_string(),
        configmap: configmap.to_string(),
        result,
    };
    let Some(cm) = index.configmap(namespace, configmap) else {
        return (step(StepResult::NoConfigMap), None);
    };
    let key = key
        .map(str::to_string)
        .or_else(|| cm.annotation(DEFAULT_KEY_ANNOTATION).map(str::to_string))
        .unwrap_or_default();
    let data = cm.get(&["data"]).and_then(Node::as_map);
    match data.and_then(|d| d.get(&key)) {
        Some(v) => {
            let value = match v {
                Node::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
                other => std::borrow::Cow::Owned(crate::yaml::to_yaml(other)),
            };
            (
                step(StepResult::Found { key: key.clone() }),
                Some(Found {
                    configmap: cm,
                    namespace: namespace.to_string(),
                    key,
                    value,
                }),
            )
        }
        None => {
            // Only the keys a message lists: a ConfigMap may hold a key per registration, and
            // every workflow that misses one would copy them all.
            let keys = data
                .map(|d| d.keys().take(LISTED_KEYS).cloned().collect())
                .unwrap_or_default();
            let count = data.map_or(0, |d| d.len());
            (step(StepResult::NoKey { key, keys, count }), None)
        }
    }
}

/// Searches as Argo does for a workflow running in `namespace`.
pub fn resolve<'a>(
    index: &Index<'a>,
    namespace: &str,
    repo_ref: Option<&RefSetting>,
) -> Resolution<'a> {
    let mut steps = Vec::new();
    match repo_ref {
        Some(r) => {
            let mut namespaces = vec![namespace.to_string()];
            if index.controller_namespace != namespace {
                namespaces.push(index.controller_namespace.clone());
            }
            for ns in namespaces {
                let (step, found) = lookup(index, &ns, &r.configmap, r.key.as_deref());
                steps.push(step);
                if found.is_some() {
                    return Resolution {
                        steps,
                        found,
                        controller_default: None,
                    };
                }
            }
            Resolution {
                steps,
                found: None,
                controller_default: None,
            }
        }
        None => {
            let (step, found) = lookup(index, namespace, DEFAULT_CONFIGMAP, None);
            steps.push(step);
            let controller_default = if found.is_none() {
                Some(controller_configmap(index))
            } else {
                None
            };
            Resolution {
                steps,
                found,
                controller_default,
            }
        }
    }
}

/// The controller's own ConfigMap (`workflow-controller-configmap`, with or without a Helm release
/// prefix) in its namespace, when it configures `artifactRepository`.
pub fn controller_configmap<'a>(index: &Index<'a>) -> Option<&'a Manifest> {
    // The same for every workflow: found once.
    *index
        .controller_configmap
        .get_or_init(|| find_controller_configmap(index))
}

fn find_controller_configmap<'a>(index: &Index<'a>) -> Option<&'a Manifest> {
    index.of_kind("", "ConfigMap").find(|m| {
        namespace_of(m) == index.controller_namespace
            && m.identity.name.ends_with("workflow-controller-configmap")
            && m.get(&["data"]).and_then(Node::as_map).is_some_and(|d| {
                d.contains_key("artifactRepository")
                    || d.get("config").and_then(Node::as_str).is_some_and(|c| {
                        crate::yaml::parse_documents("", c.as_bytes(), usize::MAX)
                            .ok()
                            .and_then(|docs| docs.into_iter().next())
                            .is_some_and(|n| n.get("artifactRepository").is_some())
                    })
            })
    })
}
