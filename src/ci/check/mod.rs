//! `artifact-repos check`: a static verifier that reads a manifest stream the way Argo Workflows
//! and Kubernetes would and reports, per finding, the object and field, what Argo would do, and how
//! to fix it. Checks, for every Workflow, WorkflowTemplate, CronWorkflow (its `spec.workflowSpec`) and
//! Workflow made from a ClusterWorkflowTemplate:
//! - `artifactRepositoryRef` resolves (`resolve`), and without one a default exists in the
//!   workflow's own namespace (else the finding says the controller's default applies);
//! - the value found is one ArtifactRepository with only keys Argo knows (`repository`);
//! - every Secret it names is produced in the workflow's namespace (a Secret, or an ExternalSecret
//!   whose target yields the key), under a name that is a valid volume name;
//! - the service account exists and may create and patch workflowtaskresults (`rbac`);
//! - no tenant uses another tenant's registration or credentials (labels `artifact-repos/tenant` and
//!   `artifact-repos/registration`, the namespace where a tenant label is absent).
//!
//! and that every ConfigMap fits in 1 MiB. A ClusterWorkflowTemplate runs in the namespace of
//! whoever submits it: on its own only its ref is checked (it must resolve somewhere: in the
//! controller namespace or in some namespace of the stream); its credentials and service account
//! are checked through each Workflow or CronWorkflow in the stream that uses it. A Workflow made
//! from a namespaced WorkflowTemplate without overriding the ref or the service account is covered
//! by the template's own checks. Pure: manifests in, a report out.

pub mod code;
pub mod rbac;
pub mod repository;
pub mod resolve;

use crate::ci::manifests::Manifest;
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::k8s::CONFIGMAP_LIMIT as MAX_CONFIGMAP_BYTES;
use crate::rules::k8s::{self, is_dns1123_label};
use crate::yaml::Node;
pub use code::Code;
use resolve::{Index, Resolution, StepResult, TENANT_LABEL, TemplateLink, Workload, namespace_of};
use std::collections::{BTreeSet, HashMap};

/// Largest ConfigMap the API server stores: all data values together (docs/upstream.md, "Kubernetes names").

#[derive(Debug, Clone)]
pub struct Options {
    pub controller_namespace: String,
    pub argo_version: ArgoVersion,
    /// WorkflowTemplates that exist in the cluster outside the manifests (`--assume-template`):
    /// `name` (any namespace) or `namespace/name`.
    pub assumed_templates: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            controller_namespace: argo::DEFAULT_CONTROLLER_NAMESPACE.into(),
            argo_version: argo::DEFAULT,
            assumed_templates: Vec::new(),
        }
    }
}

impl Options {
    /// Whether a WorkflowTemplate `namespace/name` is assumed to exist, by `--assume-template` or
    /// by the annotation of the object that calls it.
    fn assumed(&self, caller: &Manifest, namespace: &str, name: &str) -> bool {
        let declared = caller
            .annotation(crate::rules::k8s::EXISTING_TEMPLATES_ANNOTATION)
            .unwrap_or("");
        self.assumed_templates
            .iter()
            .map(String::as_str)
            .chain(declared.split(',').map(str::trim))
            .any(|a| match a.split_once('/') {
                Some((ns, n)) => ns == namespace && n == name,
                None => a == name,
            })
    }
}

/// One thing Argo or Kubernetes would trip over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Short stable name of the rule: `unresolved-ref`, `missing-secret`, ...
    pub code: Code,
    /// `WorkflowTemplate.argoproj.io my-tenant/my-project`.
    pub object: String,
    /// `file:line` of the object.
    pub location: String,
    /// The field at fault, as a path (through the ConfigMap value where that is the place).
    pub field: String,
    pub problem: String,
    /// What Argo (or Kubernetes) would do.
    pub argo: String,
    pub fix: String,
    /// Other objects with the same finding.
    pub also: Vec<String>,
}

/// Everything `check` found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub workflows: usize,
    pub configmaps: usize,
}

impl Report {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        // Findings quote names and values from the manifests: each line is made terminal-safe
        // before its line break, so no value can forge a line or reach the terminal raw.
        let mut line = |s: String| {
            out.push_str(&crate::error::terminal_safe(&s));
            out.push('\n');
        };
        for f in &self.findings {
            line(format!(
                "{}[{}]: {} ({})",
                if f.code.is_warning() {
                    "warning"
                } else {
                    "finding"
                },
                f.code,
                f.object,
                f.location
            ));
            line(format!("  field: {}", f.field));
            line(format!("  problem: {}", f.problem));
            line(format!("  argo: {}", f.argo));
            line(format!("  fix: {}", f.fix));
            if !f.also.is_empty() {
                line(format!("  also: {}", f.also.join(", ")));
            }
            line(String::new());
        }
        let w = self.warnings();
        let n = self.findings.len() - w;
        out.push_str(&format!(
            "checked {} workflow object{} and {} ConfigMap{}: {}{}\n",
            self.workflows,
            plural(self.workflows),
            self.configmaps,
            plural(self.configmaps),
            if n == 0 {
                "no findings".to_string()
            } else {
                format!("{n} finding{}", plural(n))
            },
            if w == 0 {
                String::new()
            } else {
                format!(", {w} warning{}", plural(w))
            }
        ));
        out
    }

    /// Findings that are warnings (`Code::is_warning`).
    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.code.is_warning()).count()
    }

    /// True when a finding other than a warning was found: `check` exits 1.
    pub fn failed(&self) -> bool {
        self.findings.len() > self.warnings()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What produces a Secret in a namespace.
#[derive(Debug, Clone)]
pub struct Producer<'a> {
    pub object: &'a Manifest,
    /// Keys it yields; `None` when they cannot be known statically (`dataFrom`, `templateFrom`).
    pub keys: Option<BTreeSet<String>>,
    /// False for an ExternalSecret with `creationPolicy` `Merge` or `None`: it creates nothing.
    pub creates: bool,
}

/// Every Secret or ExternalSecret that yields Secret `name` in `ns`.
pub fn producers<'a>(index: &Index<'a>, ns: &str, name: &str) -> Vec<Producer<'a>> {
    let mut out = Vec::new();
    if let Some(s) = index.find("", "Secret", ns, name) {
        let mut keys = BTreeSet::new();
        for field in ["data", "stringData"] {
            if let Some(m) = s.get(&[field]).and_then(Node::as_map) {
                keys.extend(m.keys().cloned());
            }
        }
        out.push(Producer {
            object: s,
            keys: Some(keys),
            creates: true,
        });
    }
    for &es in index.external_secrets(ns, name) {
        let policy = es
            .get(&["spec", "target", "creationPolicy"])
            .and_then(Node::as_str)
            .unwrap_or("Owner");
        let non_empty = |p: &[&str]| matches!(es.get(p), Some(Node::Seq(v)) if !v.is_empty());
        let keys = if non_empty(&["spec", "dataFrom"])
            || non_empty(&["spec", "target", "template", "templateFrom"])
        {
            None
        } else {
            let mut keys = BTreeSet::new();
            if let Some(Node::Seq(items)) = es.get(&["spec", "data"]) {
                keys.extend(
                    items
                        .iter()
                        .filter_map(|i| i.get("secretKey").and_then(Node::as_str))
                        .map(str::to_string),
                );
            }
            if let Some(m) = es
                .get(&["spec", "target", "template", "data"])
                .and_then(Node::as_map)
            {
                // A template replaces the data keys unless its mergePolicy is Merge.
                if es
                    .get(&["spec", "target", "template", "mergePolicy"])
                    .and_then(Node::as_str)
                    != Some("Merge")
                {
                    keys.clear();
                }
                keys.extend(m.keys().cloned());
            }
            Some(keys)
        };
        out.push(Producer {
            object: es,
            keys,
            creates: matches!(policy, "Owner" | "Orphan"),
        });
    }
    if out.is_empty() {
        // A Secret the user manages (`existingSecret`), declared on a ConfigMap of the namespace by
        // the generator: it exists in the cluster, not in the stream; its keys cannot be known here.
        if let Some(cm) = index.declared_secret(ns, name) {
            out.push(Producer {
                object: cm,
                keys: None,
                creates: true,
            });
        }
    }
    out
}

/// The tenant an object belongs to: its label, else its namespace.
fn tenant_of(m: &Manifest) -> String {
    m.label(TENANT_LABEL)
        .map(str::to_string)
        .unwrap_or_else(|| namespace_of(m))
}

fn list(keys: &[String]) -> String {
    list_of(keys, keys.len())
}

/// `keys`, the first of `count`, as a message lists them: at most `LISTED_KEYS`, then how many more.
fn list_of(keys: &[String], count: usize) -> String {
    if count == 0 {
        return "none".into();
    }
    let listed = resolve::LISTED_KEYS;
    let mut shown: Vec<String> = keys.iter().take(listed).map(|k| format!("`{k}`")).collect();
    if count > listed {
        shown.push(format!("and {} more", count - listed));
    }
    shown.join(", ")
}

struct Checker<'a, 'o> {
    index: Index<'a>,
    options: &'o Options,
    findings: Vec<Finding>,
    /// Dedup key -> position in `findings`.
    seen: HashMap<String, usize>,
    /// (position in `findings`, object) of every name in a finding's `also`.
    also: std::collections::HashSet<(usize, String)>,
    /// Registration -> the tenants that own it (`tenancy`).
    owners: HashMap<String, BTreeSet<String>>,
    /// Template names of each WorkflowTemplate a `templateRef` names (`template_refs`).
    template_names: HashMap<*const Manifest, std::collections::HashSet<&'a str>>,
    /// Each (ConfigMap, key) value read as a repository (`repository`).
    repositories:
        HashMap<(*const Manifest, String), Result<std::rc::Rc<repository::Repository>, String>>,
}

impl<'a> Checker<'a, '_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        dedup: Option<String>,
        code: Code,
        m: &Manifest,
        field: String,
        problem: String,
        argo: String,
        fix: String,
    ) {
        if let Some(k) = &dedup {
            if let Some(&i) = self.seen.get(k) {
                let name = m.identity.to_string();
                let f = &mut self.findings[i];
                if f.object != name && self.also.insert((i, name.clone())) {
                    f.also.push(name);
                }
                return;
            }
            self.seen.insert(k.clone(), self.findings.len());
        }
        self.findings.push(Finding {
            code,
            object: m.identity.to_string(),
            location: m.location(),
            field,
            problem,
            argo,
            fix,
            also: Vec::new(),
        });
    }

    fn workload(&mut self, w: &Workload<'a>) {
        let m = w.object;
        if let TemplateLink::Missing { kind, name, field } = &w.template
            && !(*kind == "WorkflowTemplate" && self.options.assumed(m, &w.namespace, name))
        {
            let scope = if *kind == "WorkflowTemplate" {
                format!(" in namespace `{}`", w.namespace)
            } else {
                String::new()
            };
            self.add(
                None,
                Code::MissingTemplate,
                m,
                field.clone(),
                format!("{kind} `{name}` is not in these manifests{scope}, so its artifactRepositoryRef and service account cannot be checked"),
                format!("the workflow errors unless `{name}` exists in the cluster: {}.argoproj.io \"{name}\" not found", kind.to_lowercase() + "s"),
                format!("add the {kind} to the manifests checked, or correct the name"),
            );
        }
        let res = resolve::resolve(&self.index, &w.namespace, w.repo_ref.as_ref());
        if !self.resolution(w, &res) {
            return;
        }
        let Some(found) = res.found.clone() else {
            return;
        };
        let repo = self.repository(w, &found);
        let via = format!(
            "ConfigMap {}/{} data.{}",
            found.namespace, found.configmap.identity.name, found.key
        );
        if let Some(repo) = repo {
            self.secrets(w, &repo, &via);
        }
        self.tenancy(w, &found, &via);
    }

    /// Reports an unresolved search; true when a ConfigMap value was found.
    fn resolution(&mut self, w: &Workload<'a>, res: &Resolution<'a>) -> bool {
        let m = w.object;
        let describe = |res: &Resolution| {
            res.steps
                .iter()
                .map(|s| match &s.result {
                    StepResult::NoConfigMap => format!(
                        "namespace `{}` has no ConfigMap `{}`",
                        s.namespace, s.configmap
                    ),
                    StepResult::NoKey { key, .. } if key.is_empty() => format!(
                        "ConfigMap {}/{} has no `{}` annotation to name a key",
                        s.namespace,
                        s.configmap,
                        resolve::DEFAULT_KEY_ANNOTATION
                    ),
                    StepResult::NoKey { key, keys, count } => format!(
                        "ConfigMap {}/{} has no key `{key}` (it has {})",
                        s.namespace,
                        s.configmap,
                        list_of(keys, *count)
                    ),
                    StepResult::Found { .. } => String::new(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        if res.found.is_some() {
            return true;
        }
        if let Some(r) = &w.repo_ref {
            let key = r.key.clone().unwrap_or_default();
            let field = if std::ptr::eq(r.from, m) {
                format!("{}.key", r.field)
            } else {
                format!("{}.key (from {})", r.field, r.from.identity)
            };
            let fix = if key.is_empty() {
                format!(
                    "set `key` in the ref, or annotate ConfigMap `{}` with `{}`",
                    r.configmap,
                    resolve::DEFAULT_KEY_ANNOTATION
                )
            } else {
                format!(
                    "add data key `{key}` to ConfigMap `{}` in `{}` (searched first) or in `{}`, or correct the key",
                    r.configmap, w.namespace, self.index.controller_namespace
                )
            };
            self.add(
                None,
                Code::UnresolvedRef,
                m,
                field,
                describe(res),
                "the workflow errors: failed to find any artifact repository (Argo does not fall back to the controller's default when a ref is set)".into(),
                fix,
            );
        } else if let Some(ctrl) = res.controller_default
            && ctrl.is_none()
        {
            let central = self
                    .index
                    .configmap(&self.index.controller_namespace, resolve::DEFAULT_CONFIGMAP)
                    .filter(|_| self.index.controller_namespace != w.namespace)
                    .map(|_| {
                        format!(
                            "; ConfigMap `{}` in the controller namespace `{}` is not a default for other namespaces",
                            resolve::DEFAULT_CONFIGMAP,
                            self.index.controller_namespace
                        )
                    })
                    .unwrap_or_default();
            self.add(
                    None,
                    Code::NoDefaultRepository,
                    m,
                    format!("{}.artifactRepositoryRef (not set)", w.spec_path),
                    format!("no artifactRepositoryRef, and {}{central}", describe(res)),
                    "the workflow falls back to the controller's configured default (`artifactRepository` in workflow-controller-configmap), which is not in these manifests; without one, steps that save artifacts or archive logs fail".into(),
                    format!(
                        "set {}.artifactRepositoryRef, or create ConfigMap `{}` in `{}` annotated with `{}`",
                        w.spec_path,
                        resolve::DEFAULT_CONFIGMAP,
                        w.namespace,
                        resolve::DEFAULT_KEY_ANNOTATION
                    ),
                );
        }
        false
    }

    fn repository(
        &mut self,
        w: &Workload<'a>,
        found: &resolve::Found<'a>,
    ) -> Option<std::rc::Rc<repository::Repository>> {
        let cm = found.configmap;
        let dedup = |what: &str| Some(format!("{what}|{}|{}", cm.identity, found.key));
        let used = format!("used by {}", w.object.identity);
        // Many workflows read one value (a shared default): it is parsed once.
        let parsed = self
            .repositories
            .entry((std::ptr::from_ref(cm), found.key.clone()))
            .or_insert_with(|| {
                repository::parse(&found.value, self.options.argo_version).map(std::rc::Rc::new)
            })
            .clone();
        match parsed {
            Err(e) => {
                self.add(
                    dedup("invalid"),
                    Code::InvalidRepository,
                    cm,
                    format!("data.{}", found.key),
                    format!("the value is not one ArtifactRepository document: {e} ({used})"),
                    "the workflow errors: Argo cannot parse the repository and does not try the next namespace".into(),
                    "make the value a single YAML map such as `archiveLogs: true` + `s3: {...}`".into(),
                );
                None
            }
            Ok(repo) => {
                for issue in &repo.issues {
                    let (code, argo, fix) = if issue.unknown_key {
                        (
                            Code::UnknownRepositoryKey,
                            "Argo silently ignores the key, so the setting has no effect"
                                .to_string(),
                            "remove the key or use the field Argo knows".to_string(),
                        )
                    } else {
                        (
                            Code::InvalidRepository,
                            "the workflow errors: Argo cannot parse the repository".to_string(),
                            "give the field a value of the expected type".to_string(),
                        )
                    };
                    self.add(
                        dedup(&issue.field),
                        code,
                        cm,
                        format!("data.{} {}", found.key, issue.field),
                        format!(
                            "{} ({used}; Argo {})",
                            issue.message, self.options.argo_version
                        ),
                        argo,
                        fix,
                    );
                }
                let s3 = |k: &str| repo.s3(k);
                if s3("caSecret").is_some() && matches!(s3("insecure"), Some(Node::Bool(true))) {
                    self.add(
                        dedup("ca"),
                        Code::CaSecretOverHttp,
                        cm,
                        format!("data.{} s3.caSecret", found.key),
                        format!("`caSecret` is set and `insecure: true` makes the endpoint plain HTTP ({used})"),
                        "Argo uses the CA bundle only over HTTPS: it is ignored, and credentials and artifacts travel unencrypted".into(),
                        "set `insecure: false` to use the private CA over HTTPS, or drop `caSecret`".into(),
                    );
                }
                if repo.storage.is_empty() {
                    self.add(
                        dedup("storage"),
                        Code::NoStorage,
                        cm,
                        format!("data.{}", found.key),
                        format!("the repository configures no storage (no `s3`, `gcs`, `azure`, `oss`, `hdfs` or `artifactory`) ({used})"),
                        "steps that save output artifacts or archive logs fail: there is nowhere to put them".into(),
                        "add an `s3:` section (endpoint, bucket, region, credentials)".into(),
                    );
                }
                Some(repo)
            }
        }
    }

    fn secrets(&mut self, w: &Workload<'a>, repo: &repository::Repository, via: &str) {
        let m = w.object;
        let ns = &w.namespace;
        for s in &repo.secrets {
            if s.name.is_empty() {
                continue;
            }
            let field = format!("{via} {}.name", s.field);
            if !is_dns1123_label(&s.name) {
                self.add(
                    Some(format!("name|{via}|{}", s.field)),
                    Code::InvalidSecretName,
                    m,
                    field.clone(),
                    format!("Secret name `{}` is not a DNS-1123 label (lowercase letters, digits and `-`, at most 63 characters, no dots)", s.name),
                    "the controller mounts the Secret as a pod volume named after it, and the API server rejects the pod: the workflow's steps fail".into(),
                    "rename the Secret (and the ExternalSecret target producing it) to a name of at most 63 characters without dots".into(),
                );
            }
            if let Err(e) = k8s::data_key(&s.key) {
                self.add(
                    Some(format!("key|{via}|{}", s.field)),
                    Code::InvalidSecretKey,
                    m,
                    format!("{via} {}.key", s.field),
                    format!("Secret key `{}` {e}", s.key.escape_debug()),
                    "the API server refuses a Secret with this key, so the credential never exists and steps that save or load artifacts fail".into(),
                    "rename the key (`artifactRepos.credentialKeys`, the ExternalSecret's `data[].secretKey`) to letters, digits, `-`, `_` and `.`, not starting with `..`".into(),
                );
            }
            let prods = producers(&self.index, ns, &s.name);
            let creating: Vec<&Producer> = prods
                .iter()
                .filter(|p| p.creates || p.object.is("", "Secret"))
                .collect();
            let dedup = Some(format!("secret|{ns}|{}|{}", s.name, s.key));
            if creating.is_empty() {
                let why = if prods.is_empty() {
                    String::new()
                } else {
                    " (an ExternalSecret targets it with creationPolicy `Merge` or `None`, which creates nothing)".to_string()
                };
                self.add(
                    dedup,
                    Code::MissingSecret,
                    m,
                    field,
                    format!("no Secret `{}` and no ExternalSecret targeting it in namespace `{ns}`{why}; credentials must be in the workflow's namespace, wherever the repository was found", s.name),
                    format!("the workflow's pods cannot start: the Secret is mounted as a volume and `{}` does not exist in `{ns}`", s.name),
                    format!("create an ExternalSecret (or Secret) `{}` in `{ns}` yielding key `{}`", s.name, s.key),
                );
                continue;
            }
            let has_key = creating
                .iter()
                .any(|p| p.keys.as_ref().is_none_or(|k| k.contains(&s.key)));
            if !has_key {
                let keys: Vec<String> = creating
                    .iter()
                    .flat_map(|p| p.keys.clone().unwrap_or_default())
                    .collect();
                let who = creating
                    .iter()
                    .map(|p| p.object.identity.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.add(
                    dedup,
                    Code::MissingSecretKey,
                    m,
                    format!("{via} {}.key", s.field),
                    format!("Secret `{}` in `{ns}` (from {who}) has no key `{}`; it has {}", s.name, s.key, list(&keys)),
                    "steps that save or load artifacts fail: the executor cannot read the credential".into(),
                    format!("add `{}` to the Secret (an ExternalSecret `data[].secretKey`), or correct the key in the repository", s.key),
                );
            }
            let tenant = w.tenant();
            for p in &creating {
                if let Some(t) = p.object.label(TENANT_LABEL)
                    && t != tenant
                {
                    self.add(
                            Some(format!("tenant-secret|{}|{}", m.identity, p.object.identity)),
                            Code::CrossTenantCredentials,
                            m,
                            format!("{via} {}.name", s.field),
                            format!("the workflow belongs to tenant `{tenant}` but uses credentials from {} labelled {TENANT_LABEL}=`{t}`", p.object.identity),
                            "the workflow reads and writes with another tenant's bucket credentials".into(),
                            "point the workflow at its own tenant's repository (artifactRepositories.<registration of this tenant>)".into(),
                        );
                }
            }
        }
    }

    fn tenancy(&mut self, w: &Workload<'a>, found: &resolve::Found<'a>, via: &str) {
        let Some(reg) = found.key.strip_prefix(argo::REPOSITORY_KEY_PREFIX) else {
            return;
        };
        // A registration's data bucket (`artifactRepositories.<name>.data`) is the registration's.
        let reg = reg.strip_suffix(argo::DATA_KEY_SUFFIX).unwrap_or(reg);
        let index = &self.index;
        // The same for every workflow that selects the registration: found once.
        let owners = self.owners.entry(reg.to_string()).or_insert_with(|| {
            index
                .with_registration(reg)
                .iter()
                .filter(|o| {
                    o.label(TENANT_LABEL).is_some() || namespace_of(o) != index.controller_namespace
                })
                .map(|o| tenant_of(o))
                .filter(|t| !t.is_empty())
                .collect()
        });
        let tenant = w.tenant();
        if owners.is_empty() || owners.contains(&tenant) {
            return;
        }
        let owners = owners
            .iter()
            .map(|o| format!("`{o}`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.add(
            None,
            Code::CrossTenantCredentials,
            w.object,
            via.to_string(),
            format!("the workflow belongs to tenant `{tenant}` but selects registration `{reg}`, which belongs to tenant {owners}"),
            "the workflow stores its artifacts in another tenant's bucket (or fails on credentials it should not have)".into(),
            "select a registration of this tenant, or move the registration to this tenant".into(),
        );
    }

    fn service_account(&mut self, w: &Workload<'a>) {
        let sa = &w.service_account;
        let ns = &w.namespace;
        let field = if sa.field.is_empty() {
            format!("{}.serviceAccountName (not set: `default`)", w.spec_path)
        } else if std::ptr::eq(sa.from, w.object) {
            sa.field.clone()
        } else {
            format!("{} (from {})", sa.field, sa.from.identity)
        };
        if sa.name != "default"
            && self
                .index
                .find("", "ServiceAccount", ns, &sa.name)
                .is_none()
        {
            self.add(
                Some(format!("sa|{ns}|{}", sa.name)),
                Code::MissingServiceAccount,
                w.object,
                field.clone(),
                format!("ServiceAccount `{}` is not in namespace `{ns}`", sa.name),
                format!("the API server refuses the workflow's pods: error looking up service account {ns}/{}: serviceaccount \"{}\" not found", sa.name, sa.name),
                format!("create ServiceAccount `{}` in `{ns}`, or correct serviceAccountName", sa.name),
            );
        }
        let grant = rbac::taskresult_verbs(&self.index, ns, &sa.name);
        let missing: Vec<&str> = ["create", "patch"]
            .into_iter()
            .filter(|v| !grant.allows(v))
            .collect();
        if !missing.is_empty() {
            self.add(
                Some(format!("rbac|{ns}|{}", sa.name)),
                Code::MissingTaskresultsRbac,
                w.object,
                field,
                format!(
                    "no Role or ClusterRole bound to ServiceAccount {ns}/{} grants {} on `workflowtaskresults` (group `argoproj.io`)",
                    sa.name,
                    missing.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" and ")
                ),
                format!("the executor cannot report step outputs (workflowtaskresults.argoproj.io is forbidden for system:serviceaccount:{ns}:{}); steps fail or hang", sa.name),
                format!("bind a Role in `{ns}` with apiGroups [argoproj.io], resources [workflowtaskresults], verbs [create, patch] to ServiceAccount `{}`", sa.name),
            );
        }
    }

    fn artifact_gc(&mut self, w: &Workload<'a>) {
        let Some((strategy, sa, from)) = resolve::artifact_gc(w) else {
            return;
        };
        let ns = &w.namespace;
        let field = if std::ptr::eq(from, w.object) {
            format!("{}.artifactGC", w.spec_path)
        } else {
            format!("spec.artifactGC (from {})", from.identity)
        };
        let exists = sa == "default" || self.index.find("", "ServiceAccount", ns, &sa).is_some();
        let missing = rbac::artifact_gc_missing(&self.index, ns, &sa);
        if exists && missing.is_empty() {
            return;
        }
        let problem = if exists {
            format!(
                "strategy `{strategy}` runs GC pods as ServiceAccount {ns}/{sa}, which may not {}",
                missing.join(", ")
            )
        } else {
            format!(
                "strategy `{strategy}` runs GC pods as ServiceAccount `{sa}`, which is not in namespace `{ns}`"
            )
        };
        self.add(
            Some(format!("gc|{ns}|{sa}")),
            Code::MissingArtifactGcRbac,
            w.object,
            field,
            problem,
            "the GC pods fail: the artifacts stay in the bucket, and with `OnWorkflowDeletion` the workflow keeps its finalizer".into(),
            format!("create ServiceAccount `{sa}` in `{ns}` and bind it a Role with apiGroups [argoproj.io], resources [workflowartifactgctasks] verbs [list, watch] and resources [workflowartifactgctasks/status] verbs [patch]"),
        );
    }

    fn cluster_template(&mut self, m: &'a Manifest) {
        let Some(r) = resolve::workload(&self.index, m, None).and_then(|w| w.repo_ref) else {
            return;
        };
        let ctrl = self.index.controller_namespace.clone();
        let res = resolve::resolve(&self.index, &ctrl, Some(&r));
        if let Some(found) = &res.found {
            let w = Workload {
                object: m,
                namespace: ctrl,
                spec_path: "spec",
                repo_ref: Some(r.clone()),
                service_account: resolve::SaSetting {
                    name: "default".into(),
                    field: String::new(),
                    from: m,
                },
                template: TemplateLink::None,
            };
            self.repository(&w, found);
            return;
        }
        // Some tenant namespace may hold it: workflows submitted there resolve.
        let anywhere = r
            .key
            .as_deref()
            .is_some_and(|k| self.index.any_configmap_has(&r.configmap, k));
        if !anywhere {
            self.add(
                None,
                Code::UnresolvedRef,
                m,
                format!("{}.key", r.field),
                format!(
                    "no namespace in these manifests has ConfigMap `{}` with key `{}`, not even the controller namespace `{}`",
                    r.configmap,
                    r.key.clone().unwrap_or_default(),
                    self.index.controller_namespace
                ),
                "every workflow made from this template errors: failed to find any artifact repository".into(),
                "add the key to ConfigMap `artifact-repositories` in the controller namespace or in each namespace that uses the template".into(),
            );
        }
    }

    /// A default repository where Argo's ref-less lookup never reads it: a ConfigMap not named
    /// `artifact-repositories` with the default annotation, in a namespace without an annotated
    /// `artifact-repositories` (what `render` refuses unless `allowRefLessLookupBreak`, #11).
    fn ref_less_default(&mut self, cm: &Manifest) {
        use crate::rules::argo::{DEFAULT_CONFIGMAP, DEFAULT_REPOSITORY_ANNOTATION};
        let Some(key) = cm.annotation(DEFAULT_REPOSITORY_ANNOTATION) else {
            return;
        };
        if cm.identity.name == DEFAULT_CONFIGMAP
            || cm
                .annotation(crate::rules::k8s::REF_LESS_LOOKUP_BREAK_ANNOTATION)
                .is_some_and(|v| v == "true")
        {
            return;
        }
        let ns = namespace_of(cm);
        if self
            .index
            .configmap(&ns, DEFAULT_CONFIGMAP)
            .is_some_and(|d| d.annotation(DEFAULT_REPOSITORY_ANNOTATION).is_some())
        {
            return;
        }
        self.add(
            None,
            Code::RefLessDefaultUnread,
            cm,
            format!("metadata.annotations.{DEFAULT_REPOSITORY_ANNOTATION}"),
            format!("names the default repository (key `{}`), but Argo reads a namespace's default only from ConfigMap `{DEFAULT_CONFIGMAP}`, and namespace `{ns}` has no annotated one", crate::error::escape(key)),
            "workflows without `artifactRepositoryRef` in this namespace do not get this default: they fall back to the controller's configured default (a ref naming this ConfigMap without a key still reads it)".into(),
            format!("name the ConfigMap `{DEFAULT_CONFIGMAP}` (`artifactRepos.configMapName`), or annotate it `{}: \"true\"` to accept this (`artifactRepos.allowRefLessLookupBreak: true`)", crate::rules::k8s::REF_LESS_LOOKUP_BREAK_ANNOTATION),
        );
    }

    /// `remoteRef.key` under `data/`: the Vault KV v2 API path, doubled by a store whose `path` is
    /// the mount (the values reader warns about the same `externalSecretPath`).
    fn vault_data_prefix(&mut self, es: &Manifest) {
        let Some(Node::Seq(items)) = es.get(&["spec", "data"]) else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let Some(key) = item
                .get("remoteRef")
                .and_then(|r| r.get("key"))
                .and_then(Node::as_str)
            else {
                continue;
            };
            if !key.starts_with("data/") {
                continue;
            }
            self.add(
                Some(format!("vault-data|{}", es.identity)),
                Code::VaultDataPrefix,
                es,
                format!("spec.data[{i}].remoteRef.key"),
                format!("`{}` starts with `data/`", crate::error::escape(key)),
                "with a Vault KV v2 store whose `path` is the mount, the key is relative to the mount: ESO reads `<mount>/data/data/...`, finds nothing, and the Secret is never produced (the workflow's pods cannot start)".into(),
                "drop `data/` from the key (`externalSecretPath`), unless the store really is a KV v1 mount holding a `data` folder".into(),
            );
        }
    }

    fn configmap_size(&mut self, cm: &Manifest) {
        let mut total = 0usize;
        if let Some(d) = cm.get(&["data"]).and_then(Node::as_map) {
            total += d
                .values()
                .map(|v| v.as_str().map_or(0, str::len))
                .sum::<usize>();
        }
        if let Some(d) = cm.get(&["binaryData"]).and_then(Node::as_map) {
            total += d
                .values()
                .map(|v| {
                    v.as_str()
                        .map_or(0, |s| s.trim_end_matches('=').len() * 3 / 4)
                })
                .sum::<usize>();
        }
        if total > MAX_CONFIGMAP_BYTES {
            self.add(
                None,
                Code::ConfigmapTooLarge,
                cm,
                "data".into(),
                format!("the data values hold {total} bytes, more than the {MAX_CONFIGMAP_BYTES} bytes (1 MiB) a ConfigMap may hold"),
                format!("the API server rejects the ConfigMap (Too long: must have at most {MAX_CONFIGMAP_BYTES} bytes), so no workflow finds the repositories in it"),
                "split the repositories into per-tenant ConfigMaps (Argo searches the workflow's namespace first)".into(),
            );
        }
    }

    /// One Vault secret synced into the namespaces of several tenants (issue #11, class 12). Only
    /// through a `ClusterSecretStore`: a namespaced `SecretStore` of one name may point elsewhere
    /// in each namespace. The controller namespace is the platform's, not a tenant's.
    fn shared_credentials(&mut self, manifests: &'a [Manifest]) {
        use std::collections::BTreeMap;
        // (store, Vault key) -> (tenant -> namespaces), and the ExternalSecrets, in stream order.
        type Users<'m> = (
            BTreeMap<String, BTreeSet<String>>,
            Vec<(&'m Manifest, String)>,
        );
        let mut by_key: BTreeMap<(String, String), Users> = BTreeMap::new();
        for es in manifests
            .iter()
            .filter(|m| m.is("external-secrets.io", "ExternalSecret"))
        {
            let ns = namespace_of(es);
            if ns == self.options.controller_namespace {
                continue;
            }
            let store_kind = es
                .get(&["spec", "secretStoreRef", "kind"])
                .and_then(Node::as_str);
            let Some(store) = es
                .get(&["spec", "secretStoreRef", "name"])
                .and_then(Node::as_str)
            else {
                continue;
            };
            if store_kind != Some("ClusterSecretStore") {
                continue;
            }
            let mut keys: Vec<(String, String)> = Vec::new();
            for (list, at) in [("data", "remoteRef"), ("dataFrom", "extract")] {
                if let Some(Node::Seq(items)) = es.get(&["spec", list]) {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(k) = item
                            .get(at)
                            .and_then(|r| r.get("key"))
                            .and_then(Node::as_str)
                        {
                            keys.push((k.to_string(), format!("spec.{list}[{i}].{at}.key")));
                        }
                    }
                }
            }
            let tenant = tenant_of(es);
            for (key, field) in keys {
                let users = by_key.entry((store.to_string(), key)).or_default();
                users
                    .0
                    .entry(tenant.clone())
                    .or_default()
                    .insert(ns.clone());
                // An ExternalSecret's keys are added together: it is listed already only when
                // it is the last one listed.
                if !users.1.last().is_some_and(|(m, _)| std::ptr::eq(*m, es)) {
                    users.1.push((es, field));
                }
            }
        }
        for ((store, key), (tenants, users)) in by_key {
            if tenants.len() < 2 {
                continue;
            }
            let namespaces: BTreeSet<&String> = tenants.values().flatten().collect();
            let dedup = format!("shared-credentials {store} {key}");
            // One message for every user: listing the namespaces once per user cost users times
            // namespaces (a default credential shared by 10,000 tenants: 10^8 copies).
            let problem = format!(
                "Vault secret `{key}` (ClusterSecretStore `{store}`) is synced into {} namespaces of {} tenants: {}",
                namespaces.len(),
                tenants.len(),
                list_of(
                    &namespaces
                        .iter()
                        .take(resolve::LISTED_KEYS)
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>(),
                    namespaces.len()
                )
            );
            for (m, f) in &users {
                self.add(
                    Some(dedup.clone()),
                    Code::SharedCredentials,
                    m,
                    f.clone(),
                    problem.clone(),
                    "each of these tenants' workflows holds the same credential: any of them can read and overwrite the others' artifacts".into(),
                    "give each tenant its own credential: for the default repository, `s3.externalSecretPath` with `{namespace}` (and `s3.keyPrefixPerTenant: true`); `artifact-repos policies` prints each credential's least-privilege bucket policy".into(),
                );
            }
        }
    }

    /// Every step or task `templateRef` of a workload names a template that exists: a
    /// WorkflowTemplate in the workload's namespace (a ClusterWorkflowTemplate with `clusterScope`)
    /// holding the named template. A namespaced ref of a ClusterWorkflowTemplate resolves where it
    /// is submitted, so it is not checked here.
    fn template_refs(&mut self, m: &'a Manifest) {
        let Some(path) = resolve::spec_path(m) else {
            return;
        };
        let namespace = namespace_of(m);
        let Some(templates) = resolve::spec_of(m, path)
            .and_then(|s| s.get("templates"))
            .and_then(Node::as_seq)
        else {
            return;
        };
        let mut refs: Vec<(String, &Node)> = Vec::new();
        for (t, template) in templates.iter().enumerate() {
            let at = format!("{path}.templates[{t}]");
            if let Some(groups) = template.get("steps").and_then(Node::as_seq) {
                for (g, group) in groups.iter().enumerate() {
                    for (s, step) in group.as_seq().into_iter().flatten().enumerate() {
                        if let Some(r) = step.get("templateRef") {
                            refs.push((format!("{at}.steps[{g}][{s}].templateRef"), r));
                        }
                    }
                }
            }
            let tasks = template
                .get("dag")
                .and_then(|d| d.get("tasks"))
                .and_then(Node::as_seq);
            for (k, task) in tasks.into_iter().flatten().enumerate() {
                if let Some(r) = task.get("templateRef") {
                    refs.push((format!("{at}.dag.tasks[{k}].templateRef"), r));
                }
            }
        }
        for (field, r) in refs {
            let s = |k: &str| r.get(k).and_then(Node::as_str).unwrap_or("").to_string();
            let (name, inner) = (s("name"), s("template"));
            let cluster = matches!(r.get("clusterScope"), Some(Node::Bool(true)));
            if m.identity.kind == "ClusterWorkflowTemplate" && !cluster {
                continue;
            }
            let (kind, ns) = if cluster {
                ("ClusterWorkflowTemplate", "")
            } else {
                ("WorkflowTemplate", namespace.as_str())
            };
            let found = self.index.find("argoproj.io", kind, ns, &name);
            let scope = if cluster {
                String::new()
            } else {
                format!(" in namespace `{namespace}`")
            };
            match found {
                None if !cluster && self.options.assumed(m, &namespace, &name) => {}
                None => self.add(
                    Some(format!("template-ref {kind} {ns}/{name}")),
                    Code::MissingTemplate,
                    m,
                    field,
                    format!("{kind} `{name}` is not in these manifests{scope}, and is not declared to exist in the cluster"),
                    format!("the step errors unless `{name}` exists in the cluster: {}.argoproj.io \"{name}\" not found", kind.to_lowercase() + "s"),
                    if cluster {
                        format!("add the {kind} to the manifests checked, or correct the name")
                    } else {
                        format!("add the {kind} to the manifests checked; when it exists in the cluster, declare it: `check --assume-template {namespace}/{name}`, or `artifactRepos.existingTemplates` in the values; or correct the name")
                    },
                ),
                Some(t) => {
                    let has = self
                        .template_names
                        .entry(std::ptr::from_ref(t))
                        .or_insert_with(|| {
                            t.get(&["spec", "templates"])
                                .and_then(Node::as_seq)
                                .into_iter()
                                .flatten()
                                .filter_map(|x| x.get("name").and_then(Node::as_str))
                                .collect()
                        })
                        .contains(inner.as_str());
                    if !has {
                        self.add(
                            None,
                            Code::MissingTemplate,
                            m,
                            format!("{field}.template"),
                            format!("{} has no template `{inner}`", t.identity),
                            format!("the step errors: the template `{inner}` is not found in {kind} `{name}`"),
                            "name one of its `spec.templates` (for generated WorkflowTemplates: `artifactRepos.workflowTemplates.refTemplate`)".into(),
                        );
                    }
                }
            }
        }
    }
}

/// Runs every check over a manifest stream.
pub fn check(manifests: &[Manifest], options: &Options) -> Report {
    let mut c = Checker {
        index: Index::new(manifests, &options.controller_namespace),
        options,
        findings: Vec::new(),
        seen: HashMap::new(),
        also: Default::default(),
        owners: HashMap::new(),
        template_names: HashMap::new(),
        repositories: HashMap::new(),
    };
    let mut workflows = 0;
    for m in manifests {
        if resolve::spec_path(m).is_none() {
            continue;
        }
        workflows += 1;
        c.template_refs(m);
        if m.identity.kind == "ClusterWorkflowTemplate" {
            c.cluster_template(m);
            continue;
        }
        let Some(w) = resolve::workload(&c.index, m, None) else {
            continue;
        };
        // A Workflow that takes everything from a namespaced template in its own namespace is
        // covered by the template's checks.
        if let TemplateLink::Found(t) = &w.template {
            let own_ref = w.repo_ref.as_ref().is_some_and(|r| std::ptr::eq(r.from, m));
            let sa = &w.service_account;
            let own_sa = std::ptr::eq(sa.from, m) && !sa.field.is_empty();
            if t.identity.kind == "WorkflowTemplate" && !own_ref && !own_sa {
                continue;
            }
        }
        c.workload(&w);
        c.service_account(&w);
        c.artifact_gc(&w);
    }
    let mut configmaps = 0;
    for cm in manifests.iter().filter(|m| m.is("", "ConfigMap")) {
        configmaps += 1;
        c.configmap_size(cm);
        c.ref_less_default(cm);
    }
    for es in manifests
        .iter()
        .filter(|m| m.is("external-secrets.io", "ExternalSecret"))
    {
        c.vault_data_prefix(es);
    }
    c.shared_credentials(manifests);
    Report {
        findings: c.findings,
        workflows,
        configmaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configmap(bytes: usize) -> Vec<Manifest> {
        let doc = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: argo-workflows\ndata:\n  a: {}\n",
            "x".repeat(bytes)
        );
        crate::ci::manifests::parse("cm.yaml", doc.as_bytes()).unwrap()
    }

    #[test]
    fn configmap_limit_is_exactly_one_mib() {
        let at_limit = check(&configmap(MAX_CONFIGMAP_BYTES), &Options::default());
        assert!(at_limit.findings.is_empty(), "{:?}", at_limit.findings);
        let over = check(&configmap(MAX_CONFIGMAP_BYTES + 1), &Options::default());
        assert_eq!(over.findings.len(), 1);
        assert_eq!(over.findings[0].code, Code::ConfigmapTooLarge);
        assert!(over.to_text().contains("1048577 bytes"));
    }
}
