//! The rules that involve more than one field, the only rules written by hand: what one field's
//! row cannot say alone. Within a registration (its namespace from the tenant or the URL, a
//! template that calls itself), within a bucket (one shape, one credential source, `hostname` and
//! `endpoint` as one setting, a scheme against `insecure`, what Argo's drivers need of a backend
//! block), across registrations (unique names, one Secret name per namespace, one identity per
//! namespace), and across sections (the ref-less lookup, a registration without a repository, the
//! default repository shared by several tenants).
//!
//! Each rule reads values the walk (`values::read`) has already typed and checked by their rows.

use super::fields::{self as f, Field, Rule, repository as repo};
use super::path::{index, join};
use super::read::{Fields, Json, JsonMap, Map, Reader};
use crate::model::*;
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::credential::show;
use crate::rules::{formats, k8s};
use crate::yaml::Node;
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};

/// What the registrations read of `artifactRepos` besides `Settings`: the defaults a registration
/// takes when it sets nothing, each known as soon as it is valid by itself, so that a problem
/// elsewhere in `artifactRepos` hides no registration's own problem (a tenant that is the
/// controller namespace is reported next to a bad `layout`).
pub(crate) struct Defaults {
    /// `artifactRepos.controllerNamespace` when valid.
    pub controller_namespace: Option<String>,
    /// `artifactRepos.namespaceRule: repo`: its `namespacePrefix`; `None` for `tenant`.
    pub repo_rule_prefix: Option<String>,
    /// `artifactRepos.artifactGC` and `.workloadIdentity`.
    pub artifact_gc: Option<ArtifactGc>,
    pub identity: WorkloadIdentity,
    /// `artifactRepos.namespaces.<ns>.workloadIdentity`, by namespace.
    pub namespace_identity: IndexMap<String, WorkloadIdentity>,
}

/// Kubernetes' limit for a name prefix plus the registration name in an ExternalSecret / Secret
/// (mounted as a pod volume, so a DNS-1123 label).
pub(crate) const SECRET_NAME_MAX: usize = k8s::DNS_LABEL_MAX;

/// What differs between `s3` and `repoRegistrations[].artifactBucket`.
#[derive(Clone, Copy)]
pub(crate) struct BucketKind<'a> {
    /// The key the section's endpoint is usually given under (`endpoint` is always a synonym).
    pub endpoint_key: &'static str,
    pub default_secret_name: &'a str,
}

/// The tool's credential conveniences of one bucket block, as read.
pub(crate) struct Conveniences {
    pub vault: Option<String>,
    pub existing: Option<String>,
    pub sdk: bool,
    pub secret_name: Option<String>,
    pub keys: IndexMap<String, String>,
    pub properties: IndexMap<String, String>,
}

/// A field required only in some context (`bucket` without a backend block, `strategy` once
/// `artifactGC` is set): its value, or "is required".
pub(crate) fn required(r: &mut Reader, fs: &mut Fields, field: &Field) -> Option<String> {
    if !fs.given(field) {
        fs.take(r, field);
        r.err(
            &fs.at(field),
            format!("is required; expected a string like `{}`", field.example),
        );
        return None;
    }
    r.str(fs, field)
}

/// `artifactRepos.credentialKeys`: the two keys of one Secret.
pub(crate) fn distinct_credential_keys(r: &mut Reader, path: &str, access: &str, secret: &str) {
    if access == secret {
        r.err(
            path,
            format!(
                "`accessKey` and `secretKey` are both {}; they must differ",
                show(access)
            ),
        );
    }
}

/// A `configMapName` other than the one Argo's ref-less lookup reads, with a default repository:
/// the default would be written where workflows without `artifactRepositoryRef` never look
/// (docs/upstream.md, "Argo: how a workflow finds its repository"), so they would silently get the
/// controller's configured default instead. An error unless acknowledged (#11, class 8); without a
/// default repository nothing is lost (ref-less workflows get the controller's default either way).
pub(crate) fn ref_less_lookup(r: &mut Reader, s: &Settings, has_default: bool) {
    let name = &s.config_map_name;
    if name == argo::DEFAULT_CONFIGMAP || !has_default || s.allow_ref_less_lookup_break {
        return;
    }
    r.err(
        &join(f::top::SETTINGS.key, f::settings::CONFIG_MAP_NAME.key),
        format!(
            "{} with a default repository (`s3.enabled: true`) breaks ref-less workflows: Argo reads a namespace's default repository only from the ConfigMap named `{}` (annotated `{}`), so workflows without `artifactRepositoryRef` would not get this default but the controller's configured one (the generated WorkflowTemplates set the ref and would still work); keep `configMapName: {}`, or set `artifactRepos.allowRefLessLookupBreak: true` to accept it",
            show(name),
            argo::DEFAULT_CONFIGMAP,
            argo::DEFAULT_REPOSITORY_ANNOTATION,
            argo::DEFAULT_CONFIGMAP,
        ),
    );
}

/// A registration without an `artifactBucket` uses the default repository; with no default
/// enabled it has no repository at all, and its workflows nowhere to store artifacts (#11,
/// class 10: it rendered silently). Read off the tree, so that a registration with other problems
/// is reported too, and a default that is enabled but wrong is reported once, as itself.
pub(crate) fn registrations_without_repository(r: &mut Reader, values: &Node) {
    let default_enabled = values
        .get(f::top::S3.key)
        .and_then(|s| s.get(repo::ENABLED.key))
        .is_some_and(|e| matches!(e, Node::Bool(true)));
    if default_enabled {
        return;
    }
    let Some(Node::Seq(items)) = values.get(f::top::REGISTRATIONS.key) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(map) = item.as_map() else { continue };
        if !matches!(
            map.get(f::registration::ARTIFACT_BUCKET.key),
            None | Some(Node::Null)
        ) {
            continue;
        }
        let name = match map.get(f::registration::NAME.key) {
            Some(Node::Str(n)) => format!("{} ", show(n)),
            _ => String::new(),
        };
        r.err(
            &index(f::top::REGISTRATIONS.key, i),
            format!(
                "registration {name}has no repository (no `artifactBucket`, and `s3.enabled` is not true): its workflows would have nowhere to store artifacts; add an `artifactBucket` with a `bucket` and a credential source, or enable the default repository (`s3.enabled: true`, `s3.bucket`)"
            ),
        );
    }
}

/// The default repository serves every tenant namespace (issue #11, class 12). A `{tenant}` in its
/// Vault path needs one tenant per namespace; a default shared by several tenants, with one
/// credential or one key space for all, is a warning pointing to the isolation settings.
pub(crate) fn default_isolation(r: &mut Reader, d: &Repository, registrations: &[Registration]) {
    let mut tenants_of: BTreeMap<&str, BTreeSet<&str>> = Default::default();
    for reg in registrations {
        tenants_of
            .entry(&reg.namespace)
            .or_default()
            .insert(&reg.tenant);
    }
    let vault = match &d.credentials {
        Credentials::Vault { path, .. } => Some(path.as_str()),
        _ => None,
    };
    if let Some(p) = vault.filter(|p| p.contains("{tenant}")) {
        for (ns, tenants) in &tenants_of {
            if tenants.len() > 1 {
                r.err(
                    &join(f::top::S3.key, repo::EXTERNAL_SECRET_PATH.key),
                    format!(
                        "{} names `{{tenant}}`, but namespace {} holds the registrations of several tenants ({}), which share its one Secret; use `{{namespace}}`, or give each tenant a namespace of its own",
                        show(p),
                        show(ns),
                        tenants.iter().map(|t| show(t)).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
    let tenants: BTreeSet<&str> = tenants_of.values().flatten().copied().collect();
    if tenants_of.len() < 2 || tenants.len() < 2 {
        return;
    }
    let mut missing = Vec::new();
    if vault.is_some_and(|p| !formats::is_vault_template(p)) {
        missing.push("one Vault credential is synced into every namespace, so any tenant can read and overwrite every other tenant's artifacts: put `{namespace}` in `s3.externalSecretPath` so each namespace pulls its own (`artifact-repos policies` prints each one's bucket policy)");
    }
    if !d.keys_per_namespace() {
        missing.push("every namespace writes under the same keys (workflows of one name in two namespaces overwrite each other's artifacts): set `s3.keyPrefixPerTenant: true`");
    }
    if !missing.is_empty() {
        r.warn(
            f::top::S3.key,
            format!(
                "the default repository is shared by {} tenants in {} namespaces; {} (docs/isolation.md)",
                tenants.len(),
                tenants_of.len(),
                missing.join("; and ")
            ),
        );
    }
}

/// Registration names: unique (each is a key of the repositories ConfigMap), and not `default`.
#[derive(Default)]
pub(crate) struct Names {
    seen: IndexMap<String, String>,
}

impl Names {
    pub fn check(&mut self, r: &mut Reader, at: &str, name: &str) {
        if name == "default" {
            r.err(at, "`default` is reserved for the platform default repository (`artifactRepositories.default`); choose another name");
        } else if let Some(first) = self.seen.get(name) {
            r.err(at, format!("duplicate registration name {}, first used at {first}; registration names are unique because each one is a key of the repositories ConfigMap", show(name)));
        } else {
            self.seen.insert(name.to_string(), at.to_string());
        }
    }
}

/// A `workflowTemplateRef` naming the registration's own WorkflowTemplate would call itself.
pub(crate) fn template_ref(r: &mut Reader, at: &str, template: &str, name: Option<&str>) {
    if name == Some(template) {
        r.err(at, format!("{} is the registration's own name, which is the name of the WorkflowTemplate generated for it: it would call itself; name the WorkflowTemplate that runs repositories, like `nextflow-repo-runner`", show(template)));
    }
}

/// The namespace of a registration: `namespace`, else the `artifactRepos.namespaceRule`; never the
/// controller's, never `kube-*`.
pub(crate) fn namespace(
    r: &mut Reader,
    fs: &Fields,
    (given, is_given): (Option<String>, bool),
    tenant: Option<&str>,
    repo_url: Option<&str>,
    d: &Defaults,
) -> Option<String> {
    let np = fs.at(&f::registration::NAMESPACE);
    let (ns, at, how) = if is_given {
        (given?, np, "")
    } else if let Some(prefix) = &d.repo_rule_prefix {
        let url = repo_url?;
        let Some(ns) = formats::repo_namespace(prefix, url) else {
            r.err(&np, format!("is not set, and `artifactRepos.namespaceRule: repo` needs `<org>/<repository>` at the end of `repoUrl`, which {} does not have; set `namespace`", show(url)));
            return None;
        };
        if let Err(e) = k8s::dns_label(&ns) {
            r.err(&np, format!("is not set, and `artifactRepos.namespaceRule: repo` makes {} of `repoUrl`, which {e}; set `namespace`", show(&ns)));
            return None;
        }
        (
            ns,
            np,
            " (made of `repoUrl` by `artifactRepos.namespaceRule: repo`)",
        )
    } else {
        let t = tenant?;
        let tp = fs.at(&f::registration::TENANT);
        if let Err(e) = k8s::dns_label(t) {
            r.err(&tp, format!("{} {e}: without `namespace`, the tenant is the namespace (`artifactRepos.namespaceRule: tenant`); set `namespace`, or `artifactRepos.namespaceRule: repo` to name it after `repoUrl`", show(t)));
            return None;
        }
        (t.to_string(), tp, "")
    };
    if d.controller_namespace.as_ref() == Some(&ns) {
        r.err(&at, format!("{}{how} is the controller namespace (`artifactRepos.controllerNamespace`); a registration's workflows need a namespace of their own", show(&ns)));
        return None;
    }
    if ns.starts_with("kube-") {
        r.err(&at, format!("{}{how} is a namespace reserved for Kubernetes; choose a namespace not starting with `kube-`", show(&ns)));
        return None;
    }
    Some(ns)
}

/// The data bucket shares the artifact bucket's Secret when it names the same Vault path and no
/// `secretName` of its own.
pub(crate) fn shared_secret(artifacts: Option<&Repository>, data: &Fields) -> Option<String> {
    match &artifacts?.credentials {
        Credentials::Vault {
            path, secret_name, ..
        } if data.peek_str(&repo::EXTERNAL_SECRET_PATH) == Some(path.as_str())
            && !data.given(&repo::SECRET_NAME) =>
        {
            Some(secret_name.clone())
        }
        _ => None,
    }
}

/// A data bucket sharing the artifact bucket's Secret reads the same keys from it.
pub(crate) fn same_shared_secret(
    r: &mut Reader,
    at: &str,
    artifacts: &Repository,
    data: &Repository,
    secret: &str,
) {
    if data.credentials != artifacts.credentials {
        r.err(at, format!("has the artifact bucket's `externalSecretPath`, so it shares its Secret {}, but reads other keys or properties from it; give it the same `credentialKeys`/`vaultProperties`, or a `secretName` of its own", show(secret)));
    }
}

/// The Secrets the registrations' ExternalSecrets produce: one name per namespace.
#[derive(Default)]
pub(crate) struct Secrets {
    seen: IndexMap<(String, String), String>,
}

impl Secrets {
    pub fn check(
        &mut self,
        r: &mut Reader,
        name: Option<&str>,
        namespace: Option<&str>,
        (artifacts, artifacts_at): (Option<&Repository>, &str),
        (data, data_at): (Option<&Repository>, &str),
    ) {
        let shared = data
            .zip(artifacts)
            .is_some_and(|(d, a)| d.credentials == a.credentials);
        for (repo, rp) in [
            (artifacts, artifacts_at),
            (data.filter(|_| !shared), data_at),
        ] {
            let (Some(ns), Some(repo)) = (namespace, repo) else {
                continue;
            };
            let Credentials::Vault {
                secret_name: sn, ..
            } = &repo.credentials
            else {
                continue;
            };
            let key = (ns.to_string(), sn.to_string());
            if name == Some("default") {
                // already refused; its derived Secret name says nothing new
            } else if *sn == format!("{}default", f::SECRET_PREFIX) {
                r.err(rp, format!("its Secret name {} is the one the default repository uses in every namespace; set `secretName`", show(sn)));
            } else if let Some(first) = self.seen.get(&key) {
                r.err(rp, format!("its Secret name {} in namespace {} is already produced by {first}; set a distinct `secretName`", show(sn), show(ns)));
            } else {
                self.seen.insert(key, rp.to_string());
            }
        }
    }
}

/// Each namespace's workload identity: the registrations of a namespace share its service
/// account, so they share one identity.
pub(crate) struct Identities<'d> {
    defaults: &'d Defaults,
    by_namespace: BTreeMap<String, WorkloadIdentity>,
    from: IndexMap<String, String>,
}

impl<'d> Identities<'d> {
    pub fn new(defaults: &'d Defaults) -> Self {
        let mut by_namespace = BTreeMap::new();
        let mut from = IndexMap::new();
        for (ns, identity) in &defaults.namespace_identity {
            by_namespace.insert(ns.clone(), identity.clone());
            from.insert(
                ns.clone(),
                format!("artifactRepos.namespaces.{ns}.workloadIdentity"),
            );
        }
        Identities {
            defaults,
            by_namespace,
            from,
        }
    }

    /// The identity of a registration that sets none: its namespace's own applies as it is,
    /// else the settings' default.
    pub fn default_for(&self, namespace: Option<&str>) -> Option<WorkloadIdentity> {
        if namespace.is_some_and(|n| self.defaults.namespace_identity.contains_key(n)) {
            None
        } else {
            Some(self.defaults.identity.clone())
        }
    }

    pub fn check(
        &mut self,
        r: &mut Reader,
        namespace: Option<&str>,
        identity: Option<WorkloadIdentity>,
        at: &str,
        given: bool,
        service_account: &str,
    ) {
        let (Some(t), Some(identity)) = (namespace, identity) else {
            return;
        };
        if identity.is_empty() {
            return;
        }
        match self.by_namespace.get(t) {
            Some(first) if first != &identity => {
                let from = self.from.get(t).cloned().unwrap_or_default();
                r.err(at, format!("differs from the identity of namespace {} set at {from}; the registrations of a namespace share its service account `{service_account}`, so they share one identity: give them the same `workloadIdentity`, or put this registration in a namespace of its own", show(t)));
            }
            Some(_) => {}
            None => {
                self.by_namespace.insert(t.to_string(), identity);
                let from = if given {
                    at.to_string()
                } else {
                    "artifactRepos.workloadIdentity".to_string()
                };
                self.from.insert(t.to_string(), from);
            }
        }
    }

    pub fn into_map(self) -> BTreeMap<String, WorkloadIdentity> {
        self.by_namespace
    }
}

/// One shape per bucket: one backend block, or the seed's keys, never both. `false` when the
/// bucket is refused as a whole.
pub(crate) fn one_shape(
    r: &mut Reader,
    path: &str,
    blocks: &[&'static Field],
    seed: &[&'static str],
) -> bool {
    if blocks.len() > 1 {
        r.err(
            path,
            format!(
                "has {} blocks; an Argo repository has exactly one backend: keep one of them (a registration stores in one place)",
                blocks.iter().map(|b| format!("`{}`", b.key)).collect::<Vec<_>>().join(" and ")
            ),
        );
        return false;
    }
    if let (Some(b), false) = (blocks.first(), seed.is_empty()) {
        let b = b.key;
        r.err(
            path,
            format!(
                "mixes Argo's repository shape (`{b}:`) with the seed's keys ({}); use one shape: move {} into `{b}:` with Argo's field names (`hostname` is `endpoint` there, without a scheme), or remove `{b}:`",
                seed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                if seed.len() == 1 { "it" } else { "them" },
            ),
        );
        return false;
    }
    true
}

/// The fields of a backend block Argo cannot store without.
pub(crate) fn backend_required(r: &mut Reader, at: &str, backend: &argo::Backend, block: &Map) {
    let b = backend.key;
    for req in backend.required {
        if matches!(block.get(*req), None | Some(Node::Null)) {
            r.err(
                &join(at, req),
                format!(
                    "is required: Argo's `{b}` repository cannot store artifacts without `{req}`"
                ),
            );
        }
    }
}

/// `hostname` and `endpoint` name the same thing; a scheme says `insecure`. The endpoint as Argo
/// takes it, and `insecure`.
pub(crate) fn seed_endpoint(
    r: &mut Reader,
    path: &str,
    kind: &BucketKind,
    hostname: Option<String>,
    endpoint: Option<String>,
    insecure_given: Option<bool>,
) -> (String, bool) {
    let (endpoint_key, raw) = match (hostname, endpoint) {
        (Some(h), Some(e)) if h != e => {
            r.err(
                path,
                format!("`hostname` {} and `endpoint` {} differ; they are one setting (`endpoint` is Argo's name): keep one", show(&h), show(&e)),
            );
            (kind.endpoint_key, h)
        }
        (Some(h), _) => (repo::HOSTNAME.key, h),
        (None, Some(e)) => (repo::ENDPOINT_FIELD.key, e),
        (None, None) => (kind.endpoint_key, repo::HOSTNAME.default_str().to_string()),
    };
    let (endpoint, scheme_insecure) = f::seed_endpoint(&raw);
    let ep = join(path, endpoint_key);
    let insecure = match (scheme_insecure, insecure_given) {
        (Some((s, scheme)), Some(i)) if s != i => {
            let word = |insecure: bool| if insecure { "plain HTTP" } else { "HTTPS" };
            r.err(
                &ep,
                format!(
                    "{} says {} (`{scheme}`) but `insecure: {i}` says {}; for {} write `{endpoint_key}: {endpoint}` (no scheme) with `insecure: {i}`, for {} remove `insecure: {i}`",
                    show(&raw),
                    word(s),
                    word(i),
                    word(i),
                    word(s),
                ),
            );
            i
        }
        (Some((s, _)), _) => s,
        (None, i) => i.unwrap_or(false),
    };
    (endpoint, insecure)
}

/// `keyPrefix` and `keyFormat` as one key template, joined as Argo joins them (Go's `path.Join`:
/// `a//b/` gives `a/b/...`, #11); Argo's default template under a prefix alone.
pub(crate) fn key_join(prefix: Option<&str>, format: Option<&str>) -> Option<String> {
    match (prefix, format) {
        (None, None) => None,
        (None, Some(f)) => Some(f.to_string()),
        (Some(p), f) => Some(formats::argo_key_join(p, f.unwrap_or(ARGO_KEY_FORMAT))),
    }
}

/// `pathStyle: false` (the origin chart's default) asks for nothing: Argo's automatic choice stays,
/// which already uses path style wherever virtual-hosted cannot work (dotted buckets over HTTPS,
/// endpoints that are not AWS, Google or Aliyun). Forcing `virtual-hosted` there would break them.
/// `pathStyle: true` becomes `addressingStyle: path` where Argo has the field (4.1+); before that
/// it is lost only where the automatic choice is virtual-hosted, and only then is it a warning.
pub(crate) fn path_style(
    r: &mut Reader,
    fs: &Fields,
    path_style: Option<bool>,
    version: ArgoVersion,
    endpoint: &str,
    bucket: Option<&str>,
    insecure: bool,
) -> Option<&'static str> {
    let auto_path = bucket.is_some_and(|b| formats::argo_picks_path_style(endpoint, b, insecure));
    let style = match path_style {
        Some(true) if argo::has_field(&["s3", repo::ADDRESSING_STYLE.key], version) => Some("path"),
        Some(true) if !auto_path => {
            let v = version;
            r.warn(
                &fs.at(&repo::PATH_STYLE),
                format!("dropped: Argo Workflows has no `pathStyle` field, and Argo {v} cannot force path style (`addressingStyle` exists from 4.1); for `{endpoint}` Argo {v} uses virtual-hosted addressing. Set `artifactRepos.argoVersion: \"4.1\"` to write `addressingStyle: path`"),
            );
            None
        }
        _ => None,
    };
    if path_style.is_some() && fs.given(&repo::ADDRESSING_STYLE) {
        r.err(&fs.path, "`pathStyle` and `addressingStyle` are one setting; keep `addressingStyle` (Argo's name, Argo ≥ 4.1)");
    }
    style
}

/// Fills the Secret references the conveniences stand for; the credentials of the model.
#[allow(clippy::too_many_arguments)]
pub(crate) fn credentials(
    r: &mut Reader,
    path: &str,
    backend: &argo::Backend,
    spec: &mut JsonMap,
    conv: &Conveniences,
    kind: &BucketKind,
    settings: &Settings,
    // The seed's shape with no problem so far: a credential source is required.
    seed: bool,
) -> Option<Credentials> {
    let before = r.problems.len();
    let b = backend.key;
    let given: Vec<&str> = [
        conv.vault.as_ref().map(|_| repo::EXTERNAL_SECRET_PATH.key),
        conv.existing.as_ref().map(|_| repo::EXISTING_SECRET.key),
        conv.sdk.then_some(repo::USE_SDK_CREDS.key),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        r.err(
            path,
            format!(
                "more than one credential source ({}); set exactly one of `externalSecretPath`, `existingSecret`, `useSDKCreds: true`",
                given.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ")
            ),
        );
        return None;
    }
    let slot_field = |c: &argo::Credential| c.field.join(".");
    let any_reference = backend.credentials.iter().any(|c| referenced(spec, c));
    if given.is_empty() && seed && !any_reference {
        r.err(path, "has no credential source; set one of `externalSecretPath` (Vault, through an ExternalSecret), `existingSecret` (a Secret already in the tenant namespace), `useSDKCreds: true` (the pod's cloud identity), or reference Secrets as Argo does (`accessKeySecret: {name, key}`, `secretKeySecret: {name, key}`)");
    }
    if conv.secret_name.is_some() && conv.vault.is_none() {
        r.err(&join(path, repo::SECRET_NAME.key), "applies only with `externalSecretPath` (it names the Secret the ExternalSecret creates); for a Secret you manage use `existingSecret`");
    }
    let slots = || {
        format!(
            "`{b}` credentials are {}",
            backend
                .credentials
                .iter()
                .map(|c| format!("`{}`", c.slot))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    for (field, m, rule) in [
        (&repo::CREDENTIAL_KEYS, &conv.keys, Rule::DataKey),
        (
            &repo::VAULT_PROPERTIES,
            &conv.properties,
            Rule::VaultProperty,
        ),
    ] {
        for (slot, v) in m {
            let p = join(&join(path, field.key), slot);
            if !backend.credentials.iter().any(|c| c.slot == slot) {
                r.err(
                    &p,
                    format!("unknown credential `{}`; {}", slot.escape_debug(), slots()),
                );
            } else {
                r.rule(&p, v, rule.check(v));
            }
        }
    }
    if !conv.properties.is_empty() && conv.vault.is_none() {
        r.err(
            &join(path, repo::VAULT_PROPERTIES.key),
            "applies only with `externalSecretPath`",
        );
    }
    if !conv.keys.is_empty() && conv.vault.is_none() && conv.existing.is_none() {
        r.err(&join(path, repo::CREDENTIAL_KEYS.key), "applies only with `externalSecretPath` or `existingSecret` (Secret references written as Argo writes them name their own keys)");
    }
    // The slots a convenience fills: the backend's required ones, and optional ones named.
    let active: Vec<&argo::Credential> = backend
        .credentials
        .iter()
        .filter(|c| {
            c.required || conv.keys.contains_key(c.slot) || conv.properties.contains_key(c.slot)
        })
        .collect();
    let es = &settings.external_secrets;
    let key_of = |c: &argo::Credential| -> String {
        if let Some(k) = conv.keys.get(c.slot) {
            return k.clone();
        }
        match (b, c.slot) {
            ("s3", "accessKey") => settings.access_key_key.clone(),
            ("s3", "secretKey") => settings.secret_key_key.clone(),
            _ => c.key.to_string(),
        }
    };
    let property_of = |c: &argo::Credential| -> String {
        if let Some(p) = conv.properties.get(c.slot) {
            return p.clone();
        }
        match (b, c.slot) {
            ("s3", "accessKey") => es.access_key_property.clone(),
            ("s3", "secretKey") => es.secret_key_property.clone(),
            _ => c.property.to_string(),
        }
    };
    let secret_for_slots = |r: &mut Reader, spec: &mut JsonMap, name: &str, source: &str| {
        let mut keys: Vec<String> = Vec::new();
        for c in &active {
            let key = key_of(c);
            if referenced(spec, c) {
                r.err(
                    path,
                    format!(
                        "`{source}` and `{}` both give `{}`; keep one",
                        if seed {
                            slot_field(c)
                        } else {
                            format!("{b}.{}", slot_field(c))
                        },
                        c.slot
                    ),
                );
                continue;
            }
            if keys.contains(&key) {
                r.err(
                    &join(path, repo::CREDENTIAL_KEYS.key),
                    format!(
                        "two credentials would use Secret key {}; give each its own key",
                        show(&key)
                    ),
                );
            }
            keys.push(key.clone());
            let mut target = &mut *spec;
            for k in &c.field[..c.field.len() - 1] {
                target = target
                    .entry(k.to_string())
                    .or_insert_with(|| Json::Object(JsonMap::new()))
                    .as_object_mut()
                    .expect("an object field");
            }
            target.insert(
                c.field[c.field.len() - 1].to_string(),
                serde_json::json!({"name": name, "key": key}),
            );
        }
    };
    let credentials = if let Some(p) = &conv.vault {
        let name = conv
            .secret_name
            .clone()
            .unwrap_or_else(|| kind.default_secret_name.to_string());
        secret_for_slots(r, spec, &name, repo::EXTERNAL_SECRET_PATH.key);
        let data = active.iter().map(|c| (key_of(c), property_of(c))).collect();
        Credentials::Vault {
            path: p.clone(),
            secret_name: name,
            data,
        }
    } else if let Some(s) = &conv.existing {
        secret_for_slots(r, spec, s, repo::EXISTING_SECRET.key);
        Credentials::ExistingSecret {
            secret_name: s.clone(),
        }
    } else if conv.sdk {
        if let Some(c) = backend
            .credentials
            .iter()
            .find(|c| c.required && referenced(spec, c))
        {
            r.err(
                path,
                format!(
                    "`useSDKCreds: true` and `{}` are two credential sources; keep one",
                    slot_field(c)
                ),
            );
        }
        if argo::lookup_any(backend.fields, repo::USE_SDK_CREDS.key).is_some() {
            spec.insert(repo::USE_SDK_CREDS.key.into(), Json::Bool(true));
        } else if b != "gcs" {
            r.err(
                &join(path, repo::USE_SDK_CREDS.key),
                format!(
                    "Argo's `{b}` repository has no cloud identity; reference its Secrets (`{}`)",
                    backend
                        .credentials
                        .iter()
                        .map(slot_field)
                        .collect::<Vec<_>>()
                        .join("`, `")
                ),
            );
        }
        // GCS: no key Secret means the pod's identity (GKE Workload Identity).
        Credentials::Sdk
    } else {
        Credentials::AsWritten
    };
    (r.problems.len() == before).then_some(credentials)
}

/// Whether the block references the credential's Secret.
fn referenced(spec: &JsonMap, c: &argo::Credential) -> bool {
    let mut node = spec.get(c.field[0]);
    for k in &c.field[1..] {
        node = node.and_then(|n| n.get(k));
    }
    node.is_some()
}

/// What Argo's drivers need of a backend block once its credentials are filled in (issue #20,
/// item 2; argo-workflows v3.7.18 `workflow/artifacts/artifacts.go` `newDriver`, and the drivers
/// it builds): Artifactory reads `usernameSecret` and `passwordSecret` unconditionally (the
/// executor panics on a missing one); Azure fails every transfer with "accountKey secret is
/// required for Azure Blob Storage if useSDKCreds is false"; OSS signs with empty keys unless
/// `useSDKCreds`; S3 and OSS read `secretKeySecret` whenever `accessKeySecret` names a Secret.
pub(crate) fn usable(
    r: &mut Reader,
    path: &str,
    backend: &argo::Backend,
    spec: &JsonMap,
    seed: bool,
) {
    let has = |k: &str| spec.contains_key(k);
    let sdk = spec.get(repo::USE_SDK_CREDS.key) == Some(&Json::Bool(true));
    let at = |k: &str| {
        if seed {
            join(path, k)
        } else {
            join(&join(path, backend.key), k)
        }
    };
    let how = "set `externalSecretPath` (Vault) or `existingSecret` (a Secret you manage)";
    match backend.key {
        "artifactory" => {
            let missing: Vec<&str> = ["usernameSecret", "passwordSecret"]
                .into_iter()
                .filter(|k| !has(k))
                .collect();
            if !missing.is_empty() {
                r.err(path, format!(
                    "Argo's `artifactory` repository has no {}: Argo reads both `usernameSecret` and `passwordSecret` for every artifact (its executor panics without them); {how}, or reference both Secrets as Argo does (`{{name, key}}`)",
                    missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
                ));
            }
        }
        "azure" if !sdk && !has("accountKeySecret") => {
            r.err(path, format!(
                "Argo's `azure` repository has no credential: without `accountKeySecret` or `useSDKCreds: true` Argo fails every transfer (\"accountKey secret is required for Azure Blob Storage if useSDKCreds is false\"); {how}, set `useSDKCreds: true` (the pod's identity), or reference the key as Argo does (`accountKeySecret: {{name, key}}`)"
            ));
        }
        "oss" if !sdk && !has("accessKeySecret") && !has("secretKeySecret") => {
            r.err(path, format!(
                "Argo's `oss` repository has no credential: without `accessKeySecret` and `secretKeySecret`, or `useSDKCreds: true`, Argo signs its requests with empty keys and OSS refuses them; {how}, set `useSDKCreds: true` (the pod's identity), or reference both Secrets as Argo does (`{{name, key}}`)"
            ));
        }
        _ => {}
    }
    if matches!(backend.key, "s3" | "oss") {
        let (access, secret) = ("accessKeySecret", "secretKeySecret");
        if has(access) && !has(secret) {
            r.err(&at(access), format!("needs `{secret}` next to it: Argo reads `{secret}` whenever `{access}` names a Secret (its executor panics without it)"));
        } else if has(secret) && !has(access) {
            r.err(&at(secret), format!("is ignored without `{access}`: Argo reads the keys only when `{access}` names a Secret; add `{access}`"));
        }
    }
}

/// What Argo's S3 driver does with combinations of fields (workflow/artifacts/s3/s3.go): it
/// encrypts only with `enableEncryption: true`, refuses a KMS key together with an SSE-C key and
/// SSE-C over plain HTTP, needs `kmsEncryptionContext` to be JSON, and uses `caSecret` only over
/// HTTPS.
pub(crate) fn s3_consistency(r: &mut Reader, spec: &JsonMap, path: &str, seed: bool) {
    let at = |k: &str| {
        if seed {
            join(path, k)
        } else {
            join(&join(path, "s3"), k)
        }
    };
    let insecure = spec
        .get(repo::INSECURE.key)
        .and_then(Json::as_bool)
        .unwrap_or(false);
    if let Some(Json::Object(e)) = spec.get("encryptionOptions") {
        let p = at("encryptionOptions");
        let enabled = e
            .get("enableEncryption")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let kms = e.contains_key("kmsKeyId");
        let sse_c = e.contains_key("serverSideCustomerKeySecret");
        if !enabled && (kms || sse_c || e.contains_key("kmsEncryptionContext")) {
            r.err(&p, "Argo encrypts only with `enableEncryption: true`; without it the key is ignored and artifacts are stored with the bucket's default: add `enableEncryption: true`");
        }
        if kms && sse_c {
            r.err(&p, "`kmsKeyId` (SSE-KMS) and `serverSideCustomerKeySecret` (SSE-C) are refused together by Argo; keep one");
        }
        if sse_c && insecure {
            r.err(&p, "SSE-C (`serverSideCustomerKeySecret`) needs HTTPS and the endpoint is plain HTTP (`insecure: true`); Argo refuses it: use HTTPS or SSE-KMS");
        }
        if let Some(c) = e.get("kmsEncryptionContext").and_then(Json::as_str)
            && !c.is_empty()
            && serde_json::from_str::<serde_json::Map<String, Json>>(c).is_err()
        {
            r.err(&join(&p, "kmsEncryptionContext"), format!("{} is not a JSON object; Argo passes it to KMS as JSON, like `{{\"project\":\"clinical\"}}`", show(c)));
        }
    }
    if spec.contains_key("caSecret") && insecure {
        r.warn(&at("caSecret"), "Argo uses the CA bundle only over HTTPS and the endpoint is plain HTTP (`insecure: true`): it is ignored");
    }
}

/// Every Secret the repository references that the tool does not produce.
pub(crate) fn user_secrets(
    backend: &argo::Backend,
    spec: &JsonMap,
    credentials: &Credentials,
) -> Vec<String> {
    let generated = match credentials {
        Credentials::Vault { secret_name, .. } => Some(secret_name.as_str()),
        _ => None,
    };
    let mut user_secrets: Vec<String> = backend
        .credentials
        .iter()
        .filter_map(|c| {
            let mut node = spec.get(c.field[0])?;
            for k in &c.field[1..] {
                node = node.get(k)?;
            }
            node.get("name")?.as_str().map(str::to_string)
        })
        .filter(|n| Some(n.as_str()) != generated)
        .collect();
    user_secrets.sort();
    user_secrets.dedup();
    user_secrets
}

/// `spec` with its keys in the order of `fields` (nested objects too): one order whatever the input's.
pub(crate) fn order(mut spec: JsonMap, fields: &'static [argo::Field]) -> JsonMap {
    let mut out = JsonMap::new();
    for f in fields {
        if let Some(v) = spec.remove(f.key) {
            let v = match (f.ty, v) {
                (argo::FieldType::Object(inner), Json::Object(m)) => Json::Object(order(m, inner)),
                (argo::FieldType::Secret, Json::Object(m)) => {
                    Json::Object(order(m, argo::SECRET_KEY_SELECTOR))
                }
                (_, v) => v,
            };
            out.insert(f.key.into(), v);
        }
    }
    out
}
