//! Validation: turns the merged values tree into the checked `Model`. It reads only the top-level
//! sections the tool owns (`repoRegistrations`, `s3`, `artifactRepos`) and ignores every other key,
//! so a whole umbrella chart's values can be passed; inside its sections it is strict. Every problem
//! is collected, never just the first, each as `path: what is wrong, `value`, what is valid`.
//! Values that look like credentials are never echoed.

use super::path::{index, join};
use crate::error::{Problem, Problems};
use crate::model::*;
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::credential::show;
use crate::rules::formats;
use crate::rules::k8s;
use crate::yaml::Node;
use indexmap::IndexMap;
use std::collections::BTreeSet;

pub use super::fields::SECTIONS;
use super::fields::{self as f, Section, registration as reg, repository as repo, settings as set};

/// Kubernetes' limit for a name prefix plus the registration name in an ExternalSecret / Secret
/// (mounted as a pod volume, so a DNS-1123 label).
const SECRET_NAME_MAX: usize = k8s::DNS_LABEL_MAX;

/// Argo's own default key layout, kept when only a prefix is given.
const ARGO_KEY_FORMAT: &str = "{{workflow.name}}/{{pod.name}}";

/// Collects problems and warnings while reading the tree.
#[derive(Default)]
struct Reader {
    problems: Problems,
    warnings: Vec<Problem>,
}

fn show_node(n: &Node) -> String {
    match n {
        Node::Str(s) => format!("{} {}", n.type_name(), show(s)),
        Node::Bool(b) => format!("a boolean `{b}`"),
        Node::Int(i) => format!("a number `{i}`"),
        Node::Float(f) => format!("a number `{f}`"),
        other => other.type_name().to_string(),
    }
}

/// For a name YAML typed as a number or a boolean (`name: 12`, `defaultBranch: 2024`): how to quote
/// it.
/// The text as written is gone by then (YAML reads `3.10` as 3.1), so the hint shows what YAML read.
fn quoting_hint(key: &str, node: &Node) -> String {
    if !f::is_name(key) {
        return String::new();
    }
    let (what, read) = match node {
        Node::Int(i) => ("a number", i.to_string()),
        Node::Float(f) => ("a number", f.to_string()),
        Node::Bool(b) => ("a boolean", b.to_string()),
        _ => return String::new(),
    };
    format!("; YAML reads an unquoted `{read}` as {what}: quote it, `{key}: \"{read}\"`")
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn did_you_mean(key: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k.to_string())
}

type Map = IndexMap<String, Node>;

impl Reader {
    fn err(&mut self, path: &str, msg: impl Into<String>) {
        self.problems.push(path, msg);
    }
    fn warn(&mut self, path: &str, msg: impl Into<String>) {
        self.warnings.push(Problem::new(path, msg));
    }

    /// A map at `path`: `None` when absent or null; a problem when of another type.
    fn map<'a>(&mut self, node: Option<&'a Node>, path: &str) -> Option<&'a Map> {
        match node {
            None | Some(Node::Null) => None,
            Some(Node::Map(m)) => Some(m),
            Some(other) => {
                self.err(path, format!("expected a map, got {}", show_node(other)));
                None
            }
        }
    }

    /// Reports keys not in `known`, with a hint; credential-looking keys get their own message and
    /// their values are never shown.
    fn keys(&mut self, map: &Map, path: &str, known: &Section, credential_hint: &str) {
        for key in map.keys() {
            if known.get(key).is_some() {
                continue;
            }
            let p = join(path, key);
            if crate::rules::credential::is_credential_key(key)
                && matches!(map.get(key), Some(Node::Null) | Some(Node::Str(_)))
                && map.get(key).and_then(Node::as_str).unwrap_or("").is_empty()
            {
                // `accessKey: ""` (the origin chart's default) holds no credential.
                continue;
            }
            if crate::rules::credential::is_credential_key(key) {
                let credential_hint = if credential_hint.is_empty() {
                    "credentials are only ever referenced: store them in Vault and set `externalSecretPath`"
                } else {
                    credential_hint
                };
                self.err(
                    &p,
                    format!(
                        "inline credentials are refused (the value is not shown); {credential_hint}"
                    ),
                );
                continue;
            }
            let known: Vec<&str> = known.keys().collect();
            let hint = match did_you_mean(key, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!(
                    "expected one of {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.err(&p, format!("unknown key {}; {hint}", show(key)));
        }
    }

    fn string(&mut self, map: &Map, path: &str, key: &str) -> Option<String> {
        match map.get(key) {
            None | Some(Node::Null) => None,
            Some(Node::Str(s)) => {
                if crate::rules::credential::looks_like_credential(s) {
                    self.err(
                        &join(path, key),
                        "is refused (value hidden: looks like a credential); credentials are only ever referenced: store them in Vault and set `externalSecretPath`",
                    );
                    return None;
                }
                Some(s.clone())
            }
            Some(other) => {
                self.err(
                    &join(path, key),
                    format!(
                        "expected a string, got {}{}",
                        show_node(other),
                        quoting_hint(key, other)
                    ),
                );
                None
            }
        }
    }

    fn required_string(
        &mut self,
        map: &Map,
        path: &str,
        key: &str,
        example: &str,
    ) -> Option<String> {
        if matches!(map.get(key), None | Some(Node::Null)) {
            self.err(
                &join(path, key),
                format!("is required; expected a string like `{example}`"),
            );
            return None;
        }
        self.string(map, path, key)
    }

    fn bool(&mut self, map: &Map, path: &str, key: &str) -> Option<bool> {
        match map.get(key) {
            None | Some(Node::Null) => None,
            Some(Node::Bool(b)) => Some(*b),
            Some(other) => {
                self.err(
                    &join(path, key),
                    format!("expected `true` or `false`, got {}", show_node(other)),
                );
                None
            }
        }
    }

    fn string_list(&mut self, map: &Map, path: &str, key: &str) -> Option<Vec<String>> {
        match map.get(key) {
            None | Some(Node::Null) => None,
            Some(Node::Seq(items)) => {
                let mut out = Vec::new();
                let p = join(path, key);
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Node::Str(s)
                            if crate::rules::credential::looks_like_credential(s)
                                || (i > 0
                                    && !s.is_empty()
                                    && !s.starts_with(['$', '-'])
                                    && !s.starts_with("{{")
                                    && items[i - 1].as_str().is_some_and(
                                        crate::rules::credential::is_credential_flag,
                                    )) =>
                        {
                            self.err(&index(&p, i), "this looks like an inline credential (value hidden: looks like a credential); it would be written into the generated objects: pass credentials through a Secret (an environment variable the runner reads)");
                        }
                        Node::Str(s) => out.push(s.clone()),
                        other => self.err(
                            &index(&p, i),
                            format!("expected a string, got {}", show_node(other)),
                        ),
                    }
                }
                Some(out)
            }
            Some(other) => {
                self.err(
                    &join(path, key),
                    format!("expected a list of strings, got {}", show_node(other)),
                );
                None
            }
        }
    }

    /// Runs a name rule on a value and reports `path: <value> <what is wrong>`.
    fn rule(&mut self, path: &str, value: &str, check: Result<(), String>) -> bool {
        match check {
            Ok(()) => true,
            Err(e) => {
                self.err(path, format!("{} {e}", show(value)));
                false
            }
        }
    }
}

/// Validates merged values into the checked model, or returns every problem found.
///
/// A map entry holding null is not set, wherever the values come from: `render` drops it while
/// merging, but Helm hands the post-renderer a null for a key without a chart default (issue #11,
/// class 9: `commonLabels: {team: null}` in a second `-f`), so it is dropped here too.
pub fn validate(values: &Node) -> Result<(Model, Vec<Problem>), Problems> {
    let stripped;
    let values = if super::has_null_entry(values) {
        stripped = super::strip_nulls(values.clone());
        &stripped
    } else {
        values
    };
    let mut r = Reader::default();
    top_level_typos(&mut r, values);
    let (settings, known) = read_settings(&mut r, values.get("artifactRepos"));
    let default_repository = read_default(&mut r, values.get("s3"), &known);
    let (registrations, identities) =
        read_registrations(&mut r, values.get("repoRegistrations"), &known);
    ref_less_lookup(&mut r, &known, default_repository.is_some());
    registrations_without_repository(&mut r, values);
    if let Some(d) = &default_repository {
        default_isolation(&mut r, d, &registrations);
    }
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    let model = Model {
        settings: settings.expect("settings are valid when no problem was found"),
        default_repository,
        registrations,
        identities,
    };
    super::isolation::check(values, model, r.warnings)
}

/// A `configMapName` other than the one Argo's ref-less lookup reads, with a default repository:
/// the default would be written where workflows without `artifactRepositoryRef` never look
/// (docs/upstream.md, "Argo: how a workflow finds its repository"), so they would silently get the
/// controller's configured default instead. An error unless acknowledged (#11, class 8); without a
/// default repository nothing is lost (ref-less workflows get the controller's default either way).
fn ref_less_lookup(r: &mut Reader, known: &Known, has_default: bool) {
    let Some(name) = &known.config_map_name else {
        return;
    };
    if name == argo::DEFAULT_CONFIGMAP || !has_default || known.allow_ref_less_lookup_break {
        return;
    }
    r.err(
        "artifactRepos.configMapName",
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
fn registrations_without_repository(r: &mut Reader, values: &Node) {
    let default_enabled = values
        .get("s3")
        .and_then(|s| s.get("enabled"))
        .is_some_and(|e| matches!(e, Node::Bool(true)));
    if default_enabled {
        return;
    }
    let Some(Node::Seq(items)) = values.get("repoRegistrations") else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(map) = item.as_map() else { continue };
        if !matches!(map.get("artifactBucket"), None | Some(Node::Null)) {
            continue;
        }
        let name = match map.get("name") {
            Some(Node::Str(n)) => format!("{} ", show(n)),
            _ => String::new(),
        };
        r.err(
            &index("repoRegistrations", i),
            format!(
                "registration {name}has no repository (no `artifactBucket`, and `s3.enabled` is not true): its workflows would have nowhere to store artifacts; add an `artifactBucket` with a `bucket` and a credential source, or enable the default repository (`s3.enabled: true`, `s3.bucket`)"
            ),
        );
    }
}

/// The default repository serves every tenant namespace (issue #11, class 12). A `{tenant}` in its
/// Vault path needs one tenant per namespace; a default shared by several tenants, with one
/// credential or one key space for all, is a warning pointing to the isolation settings.
fn default_isolation(r: &mut Reader, d: &Repository, registrations: &[Registration]) {
    let mut tenants_of: std::collections::BTreeMap<&str, BTreeSet<&str>> = Default::default();
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
                    "s3.externalSecretPath",
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
    if vault.is_some_and(|p| !crate::rules::formats::is_vault_template(p)) {
        missing.push("one Vault credential is synced into every namespace, so any tenant can read and overwrite every other tenant's artifacts: put `{namespace}` in `s3.externalSecretPath` so each namespace pulls its own (`artifact-repos policies` prints each one's bucket policy)");
    }
    if !d.keys_per_namespace() {
        missing.push("every namespace writes under the same keys (workflows of one name in two namespaces overwrite each other's artifacts): set `s3.keyPrefixPerTenant: true`");
    }
    if !missing.is_empty() {
        r.warn(
            "s3",
            format!(
                "the default repository is shared by {} tenants in {} namespaces; {} (README: Tenant isolation)",
                tenants.len(),
                tenants_of.len(),
                missing.join("; and ")
            ),
        );
    }
}

/// The top level is open (an umbrella chart passes all its values), so a key close to one of the
/// tool's sections is a warning, not an error: `repoRegistration:` would otherwise be read as
/// "no registrations" without a word.
fn top_level_typos(r: &mut Reader, values: &Node) {
    let Some(map) = values.as_map() else { return };
    for key in map.keys() {
        if SECTIONS.contains(&key.as_str()) {
            continue;
        }
        // Stricter than inside the sections: any short key is within 2 edits of `s3`.
        let close = SECTIONS
            .iter()
            .map(|k| (edit_distance(key, k), *k))
            .filter(|(d, k)| *d <= (k.len() / 4).max(1) && *d < key.len())
            .min();
        if let Some((_, k)) = close {
            r.warn(
                &join("", key),
                format!("not read by artifact-repos (it reads only `repoRegistrations`, `s3` and `artifactRepos` at the top level); did you mean `{k}`?"),
            );
        }
    }
}

/// What the tool's sections of the values hold, in words, for the "nothing to render" error:
/// `` `repoRegistrations` is empty and `s3.enabled` is not true``.
pub fn why_nothing(values: &Node) -> String {
    let regs = match values.get("repoRegistrations") {
        None | Some(Node::Null) => "there is no `repoRegistrations`",
        Some(_) => "`repoRegistrations` is empty",
    };
    let s3 = match values.get("s3") {
        None | Some(Node::Null) => "no `s3` section",
        Some(_) => "`s3.enabled` is not true",
    };
    format!("{regs} and {s3}")
}

/// The settings the other sections depend on, each known as soon as it is valid by itself: a
/// problem elsewhere in `artifactRepos` must not hide a registration's own problems (a tenant that is
/// the controller namespace is reported next to a bad `layout`, not only once `layout` is fixed).
#[derive(Default)]
struct Known {
    controller_namespace: Option<String>,
    argo_version: Option<ArgoVersion>,
    /// `artifactRepos.namespaceRule`: `Some(prefix)` for `repo`, `None` for `tenant`.
    repo_rule_prefix: Option<String>,
    /// The S3 access and secret key's Secret keys (`credentialKeys`) and Vault properties.
    s3_keys: (String, String),
    s3_properties: (String, String),
    service_account_name: String,
    /// `artifactRepos.artifactGC` and `.workloadIdentity`, the registrations' defaults.
    artifact_gc: Option<ArtifactGc>,
    identity: WorkloadIdentity,
    /// `artifactRepos.namespaces.<ns>.workloadIdentity`, by namespace.
    namespace_identity: IndexMap<String, WorkloadIdentity>,
    /// `artifactRepos.configMapName` when valid, and `allowRefLessLookupBreak`.
    config_map_name: Option<String>,
    allow_ref_less_lookup_break: bool,
}

fn read_settings(r: &mut Reader, node: Option<&Node>) -> (Option<Settings>, Known) {
    let path = "artifactRepos";
    let empty = Map::new();
    let map = r.map(node, path).unwrap_or(&empty);
    r.keys(
        map,
        path,
        &f::SETTINGS,
        "the tool only references credentials",
    );
    let before = r.problems.len();

    let controller_namespace = r
        .string(map, path, "controllerNamespace")
        .unwrap_or_else(|| set::CONTROLLER_NAMESPACE.default_str().into());
    let controller_namespace_ok = r.rule(
        &join(path, "controllerNamespace"),
        &controller_namespace,
        k8s::dns_label(&controller_namespace),
    );
    let config_map_name = r
        .string(map, path, "configMapName")
        .unwrap_or_else(|| set::CONFIG_MAP_NAME.default_str().into());
    let config_map_name_ok = r.rule(
        &join(path, "configMapName"),
        &config_map_name,
        k8s::dns_subdomain(&config_map_name),
    );
    let allow_ref_less_lookup_break = r
        .bool(map, path, "allowRefLessLookupBreak")
        .unwrap_or(false);
    // Read for its type only: the command line applies it (`values::strict`), to every warning,
    // those found outside the values too.
    r.bool(map, path, "strict");
    let default_key = r
        .string(map, path, "defaultKey")
        .unwrap_or_else(|| set::DEFAULT_KEY.default_str().into());
    if r.rule(
        &join(path, "defaultKey"),
        &default_key,
        k8s::data_key(&default_key),
    ) && default_key.starts_with(argo::REPOSITORY_KEY_PREFIX.trim_end_matches('.'))
    {
        r.err(
            &join(path, "defaultKey"),
            format!("{} collides with the repository keys `artifactRepositories.*`; choose another key like `default-v1`", show(&default_key)),
        );
    }

    let argo_version = read_argo_version(r, map, path);
    let namespace_rule = r
        .string(map, path, "namespaceRule")
        .unwrap_or_else(|| set::NAMESPACE_RULE.default_str().into());
    r.rule(
        &join(path, "namespaceRule"),
        &namespace_rule,
        set::NAMESPACE_RULE.rule.check(&namespace_rule),
    );
    let namespace_prefix = r
        .string(map, path, "namespacePrefix")
        .unwrap_or_else(|| set::NAMESPACE_PREFIX.default_str().into());
    let prefix_ok = namespace_prefix.len() <= 40
        && namespace_prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !namespace_prefix.starts_with('-');
    if !prefix_ok {
        r.err(
            &join(path, "namespacePrefix"),
            format!(
                "{} is not a namespace prefix; expected at most 40 lowercase letters, digits and `-`, not starting with `-`, like `wf-`",
                show(&namespace_prefix)
            ),
        );
    }
    let existing_templates = r
        .string_list(map, path, "existingTemplates")
        .unwrap_or_default();
    for (i, t) in existing_templates.iter().enumerate() {
        let ok = match t.split_once('/') {
            Some((ns, name)) => k8s::dns_label(ns).and_then(|()| k8s::dns_subdomain(name)),
            None => k8s::dns_subdomain(t),
        };
        r.rule(
            &index(&join(path, "existingTemplates"), i),
            t,
            ok.map_err(|e| format!("{e}; expected `name` or `namespace/name`")),
        );
    }
    let mut known = Known {
        controller_namespace: controller_namespace_ok.then(|| controller_namespace.clone()),
        argo_version,
        repo_rule_prefix: (namespace_rule == "repo").then(|| namespace_prefix.clone()),
        s3_keys: (
            set::ACCESS_KEY.default_str().into(),
            set::SECRET_KEY.default_str().into(),
        ),
        s3_properties: (
            set::ACCESS_KEY_PROPERTY.default_str().into(),
            set::SECRET_KEY_PROPERTY.default_str().into(),
        ),
        service_account_name: set::SERVICE_ACCOUNT_NAME.default_str().into(),
        artifact_gc: None,
        identity: WorkloadIdentity::default(),
        namespace_identity: IndexMap::new(),
        config_map_name: config_map_name_ok.then(|| config_map_name.clone()),
        allow_ref_less_lookup_break,
    };
    let layout = match r.string(map, path, "layout").as_deref() {
        None | Some("central") => Layout::Central,
        Some("tenant") => Layout::Tenant,
        Some(other) => {
            r.err(
                &join(path, "layout"),
                format!(
                    "{} is not a layout; expected `central` or `tenant`",
                    show(other)
                ),
            );
            Layout::Central
        }
    };
    let create_namespaces = r.bool(map, path, "createNamespaces").unwrap_or(true);
    let service_account_name = r
        .string(map, path, "serviceAccountName")
        .unwrap_or_else(|| set::SERVICE_ACCOUNT_NAME.default_str().into());
    r.rule(
        &join(path, "serviceAccountName"),
        &service_account_name,
        k8s::dns_subdomain(&service_account_name),
    );
    known.service_account_name = service_account_name.clone();
    known.artifact_gc = read_gc(
        r,
        map.get("artifactGC"),
        &join(path, "artifactGC"),
        &service_account_name,
    );
    known.identity = read_identity(
        r,
        map.get("workloadIdentity"),
        &join(path, "workloadIdentity"),
    )
    .unwrap_or_default();
    let ns_path = join(path, "namespaces");
    if let Some(m) = r.map(map.get("namespaces"), &ns_path) {
        for (ns, node) in m {
            let p = join(&ns_path, ns);
            if !r.rule(
                &p,
                ns,
                k8s::dns_label(ns).map_err(|e| format!("{e}: the key is a tenant namespace")),
            ) {
                continue;
            }
            let Some(section) = r.map(Some(node), &p) else {
                continue;
            };
            r.keys(section, &p, &set::NAMESPACE_SECTION, "");
            if let Some(identity) = read_identity(
                r,
                section.get("workloadIdentity"),
                &join(&p, "workloadIdentity"),
            ) && !identity.is_empty()
            {
                known.namespace_identity.insert(ns.clone(), identity);
            }
        }
    }
    let executor_role_name = r
        .string(map, path, "executorRoleName")
        .unwrap_or_else(|| format!("{service_account_name}-executor"));
    r.rule(
        &join(path, "executorRoleName"),
        &executor_role_name,
        k8s::dns_subdomain(&executor_role_name),
    );

    let reader_path = join(path, "readerRole");
    let reader_role_name = match r.map(map.get("readerRole"), &reader_path) {
        None => Some(set::READER_ROLE_NAME.default_str().to_string()),
        Some(m) => {
            r.keys(m, &reader_path, &set::READER_ROLE_SECTION, "");
            let enabled = r.bool(m, &reader_path, "enabled").unwrap_or(true);
            let name = r
                .string(m, &reader_path, "name")
                .unwrap_or_else(|| set::READER_ROLE_NAME.default_str().into());
            r.rule(
                &join(&reader_path, "name"),
                &name,
                k8s::dns_subdomain(&name),
            );
            enabled.then_some(name)
        }
    };

    let external_secrets = read_eso(
        r,
        map.get("externalSecrets"),
        &join(path, "externalSecrets"),
    );

    let ck_path = join(path, "credentialKeys");
    let (access_key_key, secret_key_key) = match r.map(map.get("credentialKeys"), &ck_path) {
        None => (
            set::ACCESS_KEY.default_str().to_string(),
            set::SECRET_KEY.default_str().to_string(),
        ),
        Some(m) => {
            r.keys(
                m,
                &ck_path,
                &set::CREDENTIAL_KEYS_SECTION,
                "these are the names of the Secret's keys, not their values",
            );
            let a = r
                .string(m, &ck_path, "accessKey")
                .unwrap_or_else(|| set::ACCESS_KEY.default_str().into());
            let s = r
                .string(m, &ck_path, "secretKey")
                .unwrap_or_else(|| set::SECRET_KEY.default_str().into());
            r.rule(&join(&ck_path, "accessKey"), &a, k8s::data_key(&a));
            r.rule(&join(&ck_path, "secretKey"), &s, k8s::data_key(&s));
            if a == s {
                r.err(
                    &ck_path,
                    format!(
                        "`accessKey` and `secretKey` are both {}; they must differ",
                        show(&a)
                    ),
                );
            }
            (a, s)
        }
    };

    known.s3_keys = (access_key_key.clone(), secret_key_key.clone());
    if let Some(e) = &external_secrets {
        known.s3_properties = (e.access_key_property.clone(), e.secret_key_property.clone());
    }
    let runner = read_runner(
        r,
        map.get("workflowTemplates"),
        &join(path, "workflowTemplates"),
    );

    let labels_path = join(path, "commonLabels");
    let mut common_labels = IndexMap::new();
    if let Some(m) = r.map(map.get("commonLabels"), &labels_path) {
        for (k, v) in m {
            let p = join(&labels_path, k);
            if crate::rules::credential::looks_like_credential(k)
                || crate::rules::credential::is_credential_key(k)
            {
                r.err(&p, "a label key that names or holds a credential is refused (value hidden: looks like a credential); labels are written on every generated object");
                continue;
            }
            if let Node::Str(s) = v
                && crate::rules::credential::looks_like_credential(s)
            {
                r.err(&p, "this label value looks like a credential (value hidden: looks like a credential); labels are written on every generated object");
                continue;
            }
            r.rule(&p, k, k8s::label_key(k));
            if k8s::labels::RESERVED_PREFIXES
                .iter()
                .any(|p| k.starts_with(p))
            {
                r.err(&p, format!("{} is set by the tool itself; choose a key outside `app.kubernetes.io/` and `artifact-repos/`", show(k)));
            }
            match v {
                Node::Str(s) => {
                    r.rule(&p, s, k8s::label_value(s));
                    common_labels.insert(k.clone(), s.clone());
                }
                other => r.err(
                    &p,
                    format!("expected a string label value, got {}", show_node(other)),
                ),
            }
        }
    }

    let (Some(argo_version), Some(external_secrets), Some(runner)) =
        (argo_version, external_secrets, runner)
    else {
        return (None, known);
    };
    if r.problems.len() > before {
        return (None, known);
    }
    let settings = Settings {
        controller_namespace,
        config_map_name,
        allow_ref_less_lookup_break,
        default_key,
        argo_version,
        layout,
        create_namespaces,
        service_account_name,
        executor_role_name,
        reader_role_name,
        external_secrets,
        access_key_key,
        secret_key_key,
        runner,
        existing_templates,
        common_labels,
    };
    (Some(settings), known)
}

fn read_argo_version(r: &mut Reader, map: &Map, path: &str) -> Option<ArgoVersion> {
    let p = join(path, "argoVersion");
    let text = match map.get("argoVersion") {
        None | Some(Node::Null) => set::ARGO_VERSION.default_str().to_string(),
        Some(Node::Str(s)) => s.clone(),
        Some(Node::Int(i)) => i.to_string(),
        Some(Node::Float(f)) => {
            // YAML reads an unquoted `3.10` as the number 3.1: the text the user typed is gone.
            let read = f.to_string();
            r.warn(&p, format!("YAML read an unquoted number here, `{read}` (it reads `{read}0` as {read} too); quote the version: `argoVersion: \"{read}\"`"));
            read
        }
        Some(other) => {
            r.err(
                &p,
                format!(
                    "expected a version like `\"3.7\"`, got {}",
                    show_node(other)
                ),
            );
            return None;
        }
    };
    match ArgoVersion::parse(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            let quote = if matches!(map.get("argoVersion"), Some(Node::Float(_) | Node::Int(_))) {
                " (YAML read it as a number: quote it, `\"3.10\"`)"
            } else {
                ""
            };
            r.err(&p, format!("{} {e}{quote}", show(&text)));
            None
        }
    }
}

fn read_eso(r: &mut Reader, node: Option<&Node>, path: &str) -> Option<ExternalSecretSettings> {
    let empty = Map::new();
    let map = r.map(node, path).unwrap_or(&empty);
    r.keys(
        map,
        path,
        &set::EXTERNAL_SECRETS_SECTION,
        "credentials stay in Vault",
    );
    let before = r.problems.len();
    let store_path = join(path, "storeRef");
    let (store_kind, store_name) = match r.map(map.get("storeRef"), &store_path) {
        None => (
            StoreKind::ClusterSecretStore,
            set::STORE_NAME.default_str().to_string(),
        ),
        Some(m) => {
            r.keys(m, &store_path, &set::STORE_REF_SECTION, "");
            let kind = match r.string(m, &store_path, "kind").as_deref() {
                None | Some("ClusterSecretStore") => StoreKind::ClusterSecretStore,
                Some("SecretStore") => StoreKind::SecretStore,
                Some(other) => {
                    r.err(&join(&store_path, "kind"), format!("{} is not a store kind; expected `ClusterSecretStore` or `SecretStore`", show(other)));
                    StoreKind::ClusterSecretStore
                }
            };
            let name = r
                .string(m, &store_path, "name")
                .unwrap_or_else(|| set::STORE_NAME.default_str().into());
            r.rule(&join(&store_path, "name"), &name, k8s::dns_subdomain(&name));
            (kind, name)
        }
    };
    let path_prefix = r.string(map, path, "pathPrefix");
    if let Some(p) = &path_prefix {
        r.rule(&join(path, "pathPrefix"), p, formats::vault_path(p));
    }
    let refresh_interval = r
        .string(map, path, "refreshInterval")
        .unwrap_or_else(|| set::REFRESH_INTERVAL.default_str().into());
    r.rule(
        &join(path, "refreshInterval"),
        &refresh_interval,
        formats::go_duration(&refresh_interval),
    );
    let access_key_property = r
        .string(map, path, "accessKeyProperty")
        .unwrap_or_else(|| set::ACCESS_KEY_PROPERTY.default_str().into());
    let secret_key_property = r
        .string(map, path, "secretKeyProperty")
        .unwrap_or_else(|| set::SECRET_KEY_PROPERTY.default_str().into());
    for (k, v) in [
        ("accessKeyProperty", &access_key_property),
        ("secretKeyProperty", &secret_key_property),
    ] {
        if v.is_empty() || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
            r.err(
                &join(path, k),
                format!(
                    "{} is not a Vault property name; expected a field name like `access_key`",
                    show(v)
                ),
            );
        }
    }
    (r.problems.len() == before).then_some(ExternalSecretSettings {
        store_kind,
        store_name,
        refresh_interval,
        path_prefix,
        access_key_property,
        secret_key_property,
    })
}

/// `Some(None)` when WorkflowTemplates are disabled; `None` on problems.
fn read_runner(r: &mut Reader, node: Option<&Node>, path: &str) -> Option<Option<RunnerSettings>> {
    let empty = Map::new();
    let map = r.map(node, path).unwrap_or(&empty);
    r.keys(
        map,
        path,
        &set::WORKFLOW_TEMPLATES_SECTION,
        "pass credentials to the runner through a Secret it mounts",
    );
    let before = r.problems.len();
    let enabled = r.bool(map, path, "enabled").unwrap_or(true);
    let image = r
        .string(map, path, "image")
        .unwrap_or_else(|| set::RUNNER_IMAGE.default_str().into());
    if image.is_empty() || image.chars().any(|c| c.is_control() || c.is_whitespace()) {
        r.err(
            &join(path, "image"),
            format!(
                "{} is not an image reference; expected `registry/name:tag`",
                show(&image)
            ),
        );
    }
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let command = r
        .string_list(map, path, "command")
        .unwrap_or_else(|| owned(set::RUNNER_COMMAND.default_list()));
    let args = r
        .string_list(map, path, "args")
        .unwrap_or_else(|| owned(set::RUNNER_ARGS.default_list()));
    let output_path = r
        .string(map, path, "outputPath")
        .unwrap_or_else(|| set::OUTPUT_PATH.default_str().into());
    r.rule(
        &join(path, "outputPath"),
        &output_path,
        set::OUTPUT_PATH.rule.check(&output_path),
    );
    if r.problems.len() > before {
        return None;
    }
    let ref_template = r
        .string(map, path, "refTemplate")
        .unwrap_or_else(|| set::REF_TEMPLATE.default_str().into());
    r.rule(
        &join(path, "refTemplate"),
        &ref_template,
        set::REF_TEMPLATE.rule.check(&ref_template),
    );
    if r.problems.len() > before {
        return None;
    }
    Some(enabled.then_some(RunnerSettings {
        image,
        command,
        args,
        output_path,
        ref_template,
    }))
}

/// What differs between `s3` and `repoRegistrations[].artifactBucket`.
struct BucketKind<'a> {
    /// The key the section's endpoint is usually given under (`endpoint` is always a synonym).
    endpoint_key: &'static str,
    known: &'static Section,
    default_secret_name: &'a str,
}

/// The seed-shape keys that say where the bucket is: they may not sit next to a backend block.
const SEED_KEYS: &[&str] = &[
    "hostname",
    "endpoint",
    "bucket",
    "region",
    "keyPrefix",
    "keyFormat",
    "insecure",
    "pathStyle",
    "roleARN",
    "addressingStyle",
    "accessKeySecret",
    "secretKeySecret",
    "sessionTokenSecret",
    "caSecret",
    "createBucketIfNotPresent",
    "encryptionOptions",
];

type Json = serde_json::Value;
type JsonMap = serde_json::Map<String, Json>;

/// The tool's credential conveniences of one bucket block.
#[derive(Default)]
struct Conveniences {
    vault: Option<String>,
    existing: Option<String>,
    sdk: bool,
    secret_name: Option<String>,
    keys: IndexMap<String, String>,
    properties: IndexMap<String, String>,
}

/// Reads one bucket block (`s3`, or a registration's `artifactBucket`) into the model: either the
/// seed's shape (`hostname`, `bucket`, ... plus any of Argo's S3 fields) or Argo's own shape (one
/// block `s3:`, `gcs:`, `azure:`, `oss:` or `artifactory:`), with the tool's credential
/// conveniences in both. `None` when a problem was found.
fn read_bucket(
    r: &mut Reader,
    map: &Map,
    path: &str,
    kind: &BucketKind,
    known: &Known,
) -> Option<Repository> {
    let cred_hint = "credentials are only ever referenced: store them in Vault and set `externalSecretPath`, name an `existingSecret`, reference a Secret as Argo does (`accessKeySecret: {name, key}`), or set `useSDKCreds: true`";
    r.keys(map, path, kind.known, cred_hint);
    let before = r.problems.len();
    let version = known.argo_version.unwrap_or(argo::DEFAULT);
    let present = |k: &&str| !matches!(map.get(*k), None | Some(Node::Null));
    let blocks: Vec<&str> = argo::BACKENDS
        .iter()
        .map(|b| b.key)
        .filter(present)
        .collect();
    let seed: Vec<&str> = SEED_KEYS.iter().copied().filter(present).collect();
    if blocks.len() > 1 {
        r.err(
            path,
            format!(
                "has {} blocks; an Argo repository has exactly one backend: keep one of them (a registration stores in one place)",
                blocks.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(" and ")
            ),
        );
        return None;
    }
    if let (Some(b), false) = (blocks.first(), seed.is_empty()) {
        r.err(
            path,
            format!(
                "mixes Argo's repository shape (`{b}:`) with the seed's keys ({}); use one shape: move {} into `{b}:` with Argo's field names (`hostname` is `endpoint` there, without a scheme), or remove `{b}:`",
                seed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                if seed.len() == 1 { "it" } else { "them" },
            ),
        );
        return None;
    }
    let archive_logs = r.bool(map, path, "archiveLogs").unwrap_or(true);
    let conv = read_conveniences(r, map, path);

    let (backend, mut spec) = match blocks.first() {
        Some(b) => {
            let backend = argo::backend(b).expect("a backend key");
            let p = join(path, b);
            let spec = match map.get(*b) {
                Some(Node::Map(m)) => argo_map(r, m, backend.fields, &p, version, b),
                Some(other) => {
                    r.err(
                        &p,
                        format!(
                            "expected Argo's `{b}` repository map, got {}",
                            show_node(other)
                        ),
                    );
                    None
                }
                None => None,
            };
            if let Some(Node::Map(m)) = map.get(*b) {
                for req in backend.required {
                    if matches!(m.get(*req), None | Some(Node::Null)) {
                        r.err(&join(&p, req), format!("is required: Argo's `{b}` repository cannot store artifacts without `{req}`"));
                    }
                }
            }
            (backend, spec.unwrap_or_default())
        }
        None => {
            let spec = read_seed(r, map, path, kind, known, version, &conv);
            (argo::backend("s3").expect("s3"), spec.unwrap_or_default())
        }
    };
    // The Secret the ExternalSecret creates is named after the backend (`gcs-credentials-<name>`).
    let default_secret_name = match kind.default_secret_name.strip_prefix(f::SECRET_PREFIX) {
        Some(rest) if backend.key != "s3" => formats::shorten(
            &format!("{}-credentials-", backend.key),
            rest,
            SECRET_NAME_MAX,
        ),
        _ => kind.default_secret_name.to_string(),
    };
    let kind = &BucketKind {
        default_secret_name: &default_secret_name,
        ..*kind
    };
    let clean = r.problems.len() == before;
    let credentials = fill_credentials(
        r,
        path,
        backend,
        &mut spec,
        &conv,
        kind,
        known,
        blocks.is_empty() && clean,
    );
    if backend.key == "s3" && r.problems.len() == before {
        s3_consistency(r, &spec, path, blocks.is_empty());
    }
    if r.problems.len() > before {
        return None;
    }
    let credentials = credentials?;
    // Every Secret the repository references that the tool does not produce.
    let generated = match &credentials {
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
    Some(Repository {
        archive_logs,
        backend: backend.key,
        spec: order(spec, backend.fields),
        credentials,
        user_secrets,
        tenant_key: None,
    })
}

/// What Argo's S3 driver does with combinations of fields (workflow/artifacts/s3/s3.go): it
/// encrypts only with `enableEncryption: true`, refuses a KMS key together with an SSE-C key and
/// SSE-C over plain HTTP, needs `kmsEncryptionContext` to be JSON, and uses `caSecret` only over
/// HTTPS.
fn s3_consistency(r: &mut Reader, spec: &JsonMap, path: &str, seed: bool) {
    let at = |k: &str| {
        if seed {
            join(path, k)
        } else {
            join(&join(path, "s3"), k)
        }
    };
    let insecure = spec
        .get("insecure")
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

/// `spec` with its keys in the order of `fields` (nested objects too): one order whatever the input's.
fn order(mut spec: JsonMap, fields: &'static [argo::Field]) -> JsonMap {
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

fn read_conveniences(r: &mut Reader, map: &Map, path: &str) -> Conveniences {
    let mut c = Conveniences {
        vault: r.string(map, path, "externalSecretPath"),
        existing: r.string(map, path, "existingSecret"),
        sdk: r.bool(map, path, "useSDKCreds").unwrap_or(false),
        secret_name: r.string(map, path, "secretName"),
        ..Conveniences::default()
    };
    for (key, out) in [
        ("credentialKeys", &mut c.keys),
        ("vaultProperties", &mut c.properties),
    ] {
        let p = join(path, key);
        if let Some(m) = r.map(map.get(key), &p) {
            for (slot, v) in m {
                match v {
                    Node::Str(s) => {
                        out.insert(slot.clone(), s.clone());
                    }
                    other => r.err(
                        &join(&p, slot),
                        format!(
                            "expected a string (a key name, not a value), got {}",
                            show_node(other)
                        ),
                    ),
                }
            }
        }
    }
    c
}

/// The seed's shape, as an S3 block.
fn read_seed(
    r: &mut Reader,
    map: &Map,
    path: &str,
    kind: &BucketKind,
    known: &Known,
    version: ArgoVersion,
    conv: &Conveniences,
) -> Option<JsonMap> {
    let before = r.problems.len();
    // `hostname` and `endpoint` name the same thing; a scheme says `insecure`.
    let hostname = r.string(map, path, "hostname");
    let endpoint_given = r.string(map, path, "endpoint");
    let (endpoint_key, raw) = match (hostname, endpoint_given) {
        (Some(h), Some(e)) if h != e => {
            r.err(
                path,
                format!("`hostname` {} and `endpoint` {} differ; they are one setting (`endpoint` is Argo's name): keep one", show(&h), show(&e)),
            );
            (kind.endpoint_key, h)
        }
        (Some(h), _) => ("hostname", h),
        (None, Some(e)) => ("endpoint", e),
        (None, None) => (kind.endpoint_key, repo::ENDPOINT.to_string()),
    };
    let insecure_given = r.bool(map, path, "insecure");
    let (endpoint, scheme_insecure) = match raw.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (
            rest.trim_end_matches('/').to_string(),
            Some((false, "https://")),
        ),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (
            rest.trim_end_matches('/').to_string(),
            Some((true, "http://")),
        ),
        _ => (raw.clone(), None),
    };
    let ep = join(path, endpoint_key);
    r.rule(&ep, &raw, formats::endpoint(&endpoint));
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
    let bucket = r.required_string(map, path, "bucket", "my-team-artifacts");
    if let Some(b) = &bucket {
        r.rule(&join(path, "bucket"), b, formats::s3_bucket(b));
    }
    let region = r.string(map, path, "region");
    if let Some(reg) = &region {
        r.rule(&join(path, "region"), reg, repo::REGION.rule.check(reg));
    }
    let key_prefix = r.string(map, path, "keyPrefix");
    let key_format = r.string(map, path, "keyFormat");
    for (field, v) in [
        (repo::KEY_PREFIX, &key_prefix),
        (repo::KEY_FORMAT, &key_format),
    ] {
        if let Some(v) = v {
            r.rule(&join(path, field.key), v, field.rule.check(v));
        }
    }
    let key_format = match (key_prefix, key_format) {
        (None, None) => None,
        (None, Some(f)) => Some(f),
        // Joined as Argo joins keyPrefix (Go's path.Join: `a//b/` gives `a/b/...`), #11.
        (Some(p), f) => Some(formats::argo_key_join(
            &p,
            &f.unwrap_or_else(|| ARGO_KEY_FORMAT.into()),
        )),
    };

    // `pathStyle: false` (the origin chart's default) asks for nothing: Argo's automatic choice stays,
    // which already uses path style wherever virtual-hosted cannot work (dotted buckets over HTTPS,
    // endpoints that are not AWS, Google or Aliyun). Forcing `virtual-hosted` there would break them.
    // `pathStyle: true` becomes `addressingStyle: path` where Argo has the field (4.1+); before that
    // it is lost only where the automatic choice is virtual-hosted, and only then is it a warning.
    let auto_path = bucket
        .as_deref()
        .is_some_and(|b| formats::argo_picks_path_style(&endpoint, b, insecure));
    let path_style = r.bool(map, path, "pathStyle");
    let addressing_style = match (path_style, known.argo_version) {
        (Some(true), Some(v)) if argo::has_field(&["s3", "addressingStyle"], v) => Some("path"),
        (Some(true), Some(v)) if !auto_path => {
            r.warn(
                &join(path, "pathStyle"),
                format!("dropped: Argo Workflows has no `pathStyle` field, and Argo {v} cannot force path style (`addressingStyle` exists from 4.1); for `{endpoint}` Argo {v} uses virtual-hosted addressing. Set `artifactRepos.argoVersion: \"4.1\"` to write `addressingStyle: path`"),
            );
            None
        }
        _ => None,
    };
    if path_style.is_some() && map.get("addressingStyle").is_some() {
        r.err(path, "`pathStyle` and `addressingStyle` are one setting; keep `addressingStyle` (Argo's name, Argo ≥ 4.1)");
    }

    let role_arn = r.string(map, path, "roleARN");
    if let Some(a) = &role_arn {
        r.rule(&join(path, "roleARN"), a, formats::role_arn(a));
    }

    // Argo's other S3 fields, as Argo writes them.
    let mut extra = Map::new();
    for f in repo::ARGO_S3 {
        if let Some(n) = map.get(f.key) {
            extra.insert(f.key.to_string(), n.clone());
        }
    }
    let extra = argo_map(r, &extra, argo::S3, path, version, "s3");
    let mut spec = JsonMap::new();
    spec.insert("endpoint".into(), Json::from(endpoint));
    if let Some(b) = bucket {
        spec.insert("bucket".into(), Json::from(b));
    }
    if let Some(reg) = region {
        spec.insert("region".into(), Json::from(reg));
    }
    spec.insert("insecure".into(), Json::from(insecure));
    if let Some(f) = key_format {
        spec.insert("keyFormat".into(), Json::from(f));
    }
    if let Some(a) = addressing_style {
        spec.insert("addressingStyle".into(), Json::from(a));
    }
    if let Some(a) = role_arn {
        spec.insert("roleARN".into(), Json::from(a));
    }
    spec.extend(extra.unwrap_or_default());
    let _ = conv;
    (r.problems.len() == before).then_some(spec)
}

/// Fills the Secret references the conveniences stand for; the credentials of the model.
#[allow(clippy::too_many_arguments)]
fn fill_credentials(
    r: &mut Reader,
    path: &str,
    backend: &argo::Backend,
    spec: &mut JsonMap,
    conv: &Conveniences,
    kind: &BucketKind,
    known: &Known,
    // The seed's shape with no problem so far: a credential source is required.
    seed: bool,
) -> Option<Credentials> {
    let before = r.problems.len();
    let b = backend.key;
    let given: Vec<&str> = [
        conv.vault.as_ref().map(|_| "externalSecretPath"),
        conv.existing.as_ref().map(|_| "existingSecret"),
        conv.sdk.then_some("useSDKCreds"),
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
    let referenced = |spec: &JsonMap, c: &argo::Credential| {
        let mut node = spec.get(c.field[0]);
        for k in &c.field[1..] {
            node = node.and_then(|n| n.get(k));
        }
        node.is_some()
    };
    let any_reference = backend.credentials.iter().any(|c| referenced(spec, c));
    if given.is_empty() && seed && !any_reference {
        r.err(path, "has no credential source; set one of `externalSecretPath` (Vault, through an ExternalSecret), `existingSecret` (a Secret already in the tenant namespace), `useSDKCreds: true` (the pod's cloud identity), or reference Secrets as Argo does (`accessKeySecret: {name, key}`, `secretKeySecret: {name, key}`)");
    }
    if conv.secret_name.is_some() && conv.vault.is_none() {
        r.err(&join(path, "secretName"), "applies only with `externalSecretPath` (it names the Secret the ExternalSecret creates); for a Secret you manage use `existingSecret`");
    }
    let slots = |what: &str| {
        format!(
            "`{b}` credentials are {}",
            backend
                .credentials
                .iter()
                .map(|c| format!("`{}`", c.slot))
                .collect::<Vec<_>>()
                .join(", ")
        ) + what
    };
    for (key, m) in [
        ("credentialKeys", &conv.keys),
        ("vaultProperties", &conv.properties),
    ] {
        for (slot, v) in m {
            let p = join(&join(path, key), slot);
            if !backend.credentials.iter().any(|c| c.slot == slot) {
                r.err(
                    &p,
                    format!(
                        "unknown credential `{}`; {}",
                        slot.escape_debug(),
                        slots("")
                    ),
                );
            } else if key == "credentialKeys" {
                r.rule(&p, v, k8s::data_key(v));
            } else if v.is_empty() || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
                r.err(
                    &p,
                    format!(
                        "{} is not a Vault property name; expected a field name like `access_key`",
                        show(v)
                    ),
                );
            }
        }
    }
    if !conv.properties.is_empty() && conv.vault.is_none() {
        r.err(
            &join(path, "vaultProperties"),
            "applies only with `externalSecretPath`",
        );
    }
    if !conv.keys.is_empty() && conv.vault.is_none() && conv.existing.is_none() {
        r.err(&join(path, "credentialKeys"), "applies only with `externalSecretPath` or `existingSecret` (Secret references written as Argo writes them name their own keys)");
    }
    // The slots a convenience fills: the backend's required ones, and optional ones named.
    let active: Vec<&argo::Credential> = backend
        .credentials
        .iter()
        .filter(|c| {
            c.required || conv.keys.contains_key(c.slot) || conv.properties.contains_key(c.slot)
        })
        .collect();
    let key_of = |c: &argo::Credential| -> String {
        if let Some(k) = conv.keys.get(c.slot) {
            return k.clone();
        }
        match (b, c.slot) {
            ("s3", "accessKey") => known.s3_keys.0.clone(),
            ("s3", "secretKey") => known.s3_keys.1.clone(),
            _ => c.key.to_string(),
        }
    };
    let property_of = |c: &argo::Credential| -> String {
        if let Some(p) = conv.properties.get(c.slot) {
            return p.clone();
        }
        match (b, c.slot) {
            ("s3", "accessKey") => known.s3_properties.0.clone(),
            ("s3", "secretKey") => known.s3_properties.1.clone(),
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
                    &join(path, "credentialKeys"),
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
        let vp = join(path, "externalSecretPath");
        if r.rule(&vp, p, formats::vault_path(p))
            && r.rule(&vp, p, formats::vault_template(p))
            && p.starts_with("data/")
        {
            r.warn(&vp, format!("{} starts with `data/`: with a Vault KV v2 store whose `path` is the mount, `remoteRef.key` is relative to the mount and without `data/`", show(p)));
        }
        let name = match &conv.secret_name {
            Some(n) => {
                r.rule(&join(path, "secretName"), n, k8s::dns_label(n).map_err(|e| format!("{e}: Argo mounts the credential Secret as a pod volume, so its name must be a DNS-1123 label")));
                n.clone()
            }
            None => kind.default_secret_name.to_string(),
        };
        secret_for_slots(r, spec, &name, "externalSecretPath");
        let data = active.iter().map(|c| (key_of(c), property_of(c))).collect();
        Credentials::Vault {
            path: p.clone(),
            secret_name: name,
            data,
        }
    } else if let Some(s) = &conv.existing {
        r.rule(&join(path, "existingSecret"), s, k8s::dns_label(s).map_err(|e| format!("{e}: Argo mounts the credential Secret as a pod volume, so its name must be a DNS-1123 label")));
        secret_for_slots(r, spec, s, "existingSecret");
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
        if argo::lookup_any(backend.fields, "useSDKCreds").is_some() {
            spec.insert("useSDKCreds".into(), Json::Bool(true));
        } else if b != "gcs" {
            r.err(
                &join(path, "useSDKCreds"),
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

/// One of Argo's repository maps, checked field by field against rules::argo's table for the
/// target version, as JSON. Strings under a Secret reference, and strings that look like a
/// credential, are never echoed.
fn argo_map(
    r: &mut Reader,
    map: &Map,
    fields: &'static [argo::Field],
    path: &str,
    version: ArgoVersion,
    backend: &str,
) -> Option<JsonMap> {
    let before = r.problems.len();
    let mut out = JsonMap::new();
    for (k, node) in map {
        let p = join(path, k);
        if matches!(node, Node::Null) {
            continue;
        }
        let Some(f) = argo::lookup(fields, k, version) else {
            if let Some(f) = argo::lookup_any(fields, k) {
                r.err(&p, format!("Argo has `{k}` from {}, and the target is Argo {version}; set `artifactRepos.argoVersion: \"{}\"` or remove `{k}` (Argo {version} would silently ignore it)", f.since, f.since));
            } else if crate::rules::credential::is_credential_key(k) && matches!(node, Node::Str(_))
            {
                r.err(&p, "inline credentials are refused (the value is not shown); reference a Secret as Argo does, `{name, key}`, or use `externalSecretPath` / `existingSecret`");
            } else {
                let known: Vec<&str> = fields
                    .iter()
                    .filter(|f| f.since <= version)
                    .map(|f| f.key)
                    .collect();
                let hint = match did_you_mean(k, &known) {
                    Some(d) => format!("did you mean `{d}`?"),
                    None => format!(
                        "Argo {version} has {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                r.err(
                    &p,
                    format!(
                        "unknown key `{}` (Argo ignores keys it does not know); {hint}",
                        k.escape_debug()
                    ),
                );
            }
            continue;
        };
        if let Some(v) = argo_value(r, node, f, &p, version, backend) {
            out.insert(k.clone(), v);
        }
    }
    (r.problems.len() == before).then_some(out)
}

fn argo_value(
    r: &mut Reader,
    node: &Node,
    f: &argo::Field,
    p: &str,
    version: ArgoVersion,
    backend: &str,
) -> Option<Json> {
    use argo::FieldType as T;
    let wrong = |r: &mut Reader, want: &str| {
        let got = match node {
            Node::Str(_) if matches!(f.ty, T::Secret) => "a string (the value is not shown: a Secret reference names a Secret and a key, it never holds the credential)".to_string(),
            _ => show_node(node),
        };
        r.err(p, format!("expected {want}, got {got}"));
        None
    };
    match (f.ty, node) {
        (T::Bool, Node::Bool(b)) => Some(Json::Bool(*b)),
        (T::Int, Node::Int(i)) if *i >= 0 => Some(Json::from(*i)),
        (T::Str, Node::Str(s)) => {
            if crate::rules::credential::looks_like_credential(s)
                || (backend == "oss" && f.key == "securityToken")
            {
                r.err(p, "this is an inline credential (the value is not shown); Argo reads it from the ConfigMap in plain text: use `useSDKCreds: true` or Secret references instead");
                return None;
            }
            let check = match (backend, f.key) {
                ("s3", "endpoint") => formats::endpoint(s),
                ("s3", "bucket") => formats::s3_bucket(s),
                ("s3", "region") => formats::region(s),
                ("s3", "roleARN") => formats::role_arn(s),
                (_, "keyFormat" | "keyPrefix" | "blobNameFormat") => formats::key_layout(s),
                (_, "bucket" | "container" | "endpoint" | "repoURL") if s.is_empty() => {
                    Err("is empty".to_string())
                }
                _ => Ok(()),
            };
            r.rule(p, s, check).then(|| Json::from(s.clone()))
        }
        (T::Enum(values), Node::Str(s)) if values.contains(&s.as_str()) => {
            Some(Json::from(s.clone()))
        }
        (T::Enum(_), Node::Str(s)) => {
            r.err(p, format!("{} is not {}", show(s), f.ty.describe()));
            None
        }
        (T::Secret, Node::Map(m)) => {
            let spec = argo_map(r, m, argo::SECRET_KEY_SELECTOR, p, version, backend)?;
            let mut ok = true;
            for k in ["name", "key"] {
                if spec.get(k).and_then(Json::as_str).is_none_or(str::is_empty) {
                    r.err(&join(p, k), format!("is required: a Secret reference names a Secret and one of its keys, `{{name: my-secret, key: {}}}`", if k == "key" { "accessKey" } else { "..." }));
                    ok = false;
                }
            }
            if let Some(n) = spec
                .get("name")
                .and_then(Json::as_str)
                .filter(|n| !n.is_empty())
            {
                ok &= r.rule(
                    &join(p, "name"),
                    n,
                    k8s::dns_label(n).map_err(|e| {
                        format!("{e}: Argo mounts the Secret as a pod volume named after it")
                    }),
                );
            }
            if let Some(k) = spec
                .get("key")
                .and_then(Json::as_str)
                .filter(|k| !k.is_empty())
            {
                ok &= r.rule(&join(p, "key"), k, k8s::data_key(k));
            }
            ok.then_some(Json::Object(spec))
        }
        (T::Object(inner), Node::Map(m)) => {
            argo_map(r, m, inner, p, version, backend).map(Json::Object)
        }
        (T::Bool, _) => wrong(r, "`true` or `false`"),
        (T::Int, _) => wrong(r, "a non-negative integer"),
        (T::Str | T::Enum(_), _) => wrong(r, "a string"),
        (T::Secret, _) => wrong(r, "a Secret reference `{name, key}`"),
        (T::Object(_) | T::Opaque, _) => wrong(r, "a map"),
    }
}

fn read_default(r: &mut Reader, node: Option<&Node>, known: &Known) -> Option<Repository> {
    let path = "s3";
    let map = r.map(node, path)?;
    let enabled = r.bool(map, path, "enabled").unwrap_or(false);
    if !enabled {
        r.keys(map, path, &f::S3, "");
        return None;
    }
    let per_tenant = r.bool(map, path, "keyPrefixPerTenant").unwrap_or(false);
    let default_secret_name = format!("{}default", f::SECRET_PREFIX);
    let kind = BucketKind {
        endpoint_key: "endpoint",
        known: &f::S3,
        default_secret_name: &default_secret_name,
    };
    let mut repo = read_bucket(r, map, path, &kind, known)?;
    if per_tenant {
        repo.tenant_key = Some(tenant_key(map, &mut repo));
    }
    Some(repo)
}

/// `s3.keyPrefixPerTenant`: where the namespace goes in the default's key template. The seed's
/// shape: after `keyPrefix`, before `keyFormat` (or Argo's default template); Argo's shape: before
/// the block's key template, or after its (deprecated) `keyPrefix` when it has none, as Argo
/// joins them (`IntoArtifactLocation`).
fn tenant_key(map: &Map, repo: &mut Repository) -> TenantKey {
    let text = |m: &Map, k: &str| m.get(k).and_then(Node::as_str).map(str::to_string);
    let backend = argo::backend(repo.backend).expect("a backend key");
    let field = backend.key_format.unwrap_or("keyFormat");
    let (prefix, format) = match map.get(repo.backend).and_then(Node::as_map) {
        Some(block) => {
            let format = text(block, field);
            let prefix = if format.is_none() {
                text(block, "keyPrefix")
            } else {
                None
            };
            (prefix, format)
        }
        None => (text(map, "keyPrefix"), text(map, "keyFormat")),
    };
    // Written as `keyFormat`, which Argo prefers to `keyPrefix`.
    repo.spec.remove("keyPrefix");
    TenantKey {
        field,
        prefix: prefix.unwrap_or_default(),
        rest: format.unwrap_or_else(|| ARGO_KEY_FORMAT.into()),
    }
}

/// `artifactGC`: `None` when absent or wrong.
fn read_gc(
    r: &mut Reader,
    node: Option<&Node>,
    path: &str,
    default_sa: &str,
) -> Option<ArtifactGc> {
    let map = r.map(node, path)?;
    if map.is_empty() {
        return None;
    }
    r.keys(map, path, &f::ARTIFACT_GC, "");
    let before = r.problems.len();
    let strategy = r.required_string(map, path, "strategy", "OnWorkflowDeletion");
    if let Some(s) = &strategy {
        r.rule(&join(path, "strategy"), s, f::gc::STRATEGY.rule.check(s));
    }
    let sa = r
        .string(map, path, "serviceAccountName")
        .unwrap_or_else(|| default_sa.to_string());
    r.rule(
        &join(path, "serviceAccountName"),
        &sa,
        k8s::dns_subdomain(&sa),
    );
    (r.problems.len() == before).then(|| ArtifactGc {
        strategy: strategy.unwrap_or_default(),
        service_account_name: sa,
    })
}

/// `workloadIdentity`: `None` when absent or wrong.
fn read_identity(r: &mut Reader, node: Option<&Node>, path: &str) -> Option<WorkloadIdentity> {
    let map = r.map(node, path)?;
    r.keys(map, path, &f::IDENTITY, "");
    let before = r.problems.len();
    let mut get = |field: &f::Field| {
        let v = r.string(map, path, field.key)?;
        r.rule(&join(path, field.key), &v, field.rule.check(&v))
            .then_some(v)
    };
    let identity = WorkloadIdentity {
        aws_role_arn: get(&f::identity::AWS_ROLE_ARN),
        gcp_service_account: get(&f::identity::GCP_SERVICE_ACCOUNT),
        azure_client_id: get(&f::identity::AZURE_CLIENT_ID),
    };
    (r.problems.len() == before).then_some(identity)
}

fn read_registrations(
    r: &mut Reader,
    node: Option<&Node>,
    known: &Known,
) -> (
    Vec<Registration>,
    std::collections::BTreeMap<String, WorkloadIdentity>,
) {
    let path = "repoRegistrations";
    let mut identities: std::collections::BTreeMap<String, WorkloadIdentity> = Default::default();
    let mut identity_from: IndexMap<String, String> = IndexMap::new();
    for (ns, identity) in &known.namespace_identity {
        identities.insert(ns.clone(), identity.clone());
        identity_from.insert(
            ns.clone(),
            format!("artifactRepos.namespaces.{ns}.workloadIdentity"),
        );
    }
    let items = match node {
        None | Some(Node::Null) => return (Vec::new(), identities),
        Some(Node::Seq(items)) => items,
        Some(other) => {
            r.err(
                path,
                format!("expected a list of registrations, got {}", show_node(other)),
            );
            return (Vec::new(), identities);
        }
    };
    let mut seen: IndexMap<String, String> = IndexMap::new();
    let mut secrets: IndexMap<(String, String), String> = IndexMap::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        let map = match item {
            Node::Map(m) => m,
            other => {
                r.err(
                    &p,
                    format!(
                        "expected a registration map with `name`, `repoUrl`, `tenant`, got {}",
                        show_node(other)
                    ),
                );
                continue;
            }
        };
        r.keys(
            map,
            &p,
            &f::REGISTRATION,
            "credentials belong in Vault: set `artifactBucket.externalSecretPath`",
        );
        let before = r.problems.len();
        let name = r.required_string(map, &p, "name", "genomics-pipeline");
        if let Some(n) = &name {
            let np = join(&p, "name");
            if r.rule(&np, n, k8s::dns_label(n)) {
                if n == "default" {
                    r.err(&np, "`default` is reserved for the platform default repository (`artifactRepositories.default`); choose another name");
                } else if let Some(first) = seen.get(n) {
                    r.err(&np, format!("duplicate registration name {}, first used at {first}; registration names are unique because each one is a key of the repositories ConfigMap", show(n)));
                } else {
                    seen.insert(n.clone(), np.clone());
                }
            }
        }
        // A URL carrying a credential gets the URL's own advice, not the generic one.
        let url_credential = map
            .get("repoUrl")
            .and_then(Node::as_str)
            .is_some_and(crate::rules::credential::url_carries_credential);
        let repo_url = if url_credential {
            Some(String::new())
        } else {
            r.required_string(map, &p, "repoUrl", "https://github.com/org/repo.git")
        };
        if let Some(u) = &repo_url {
            if url_credential {
                r.err(&join(&p, "repoUrl"), "carries a credential: a password or token in its user info, or a query or fragment (value hidden: looks like a credential); the URL is written into the WorkflowTemplate, so it must not hold one: give the runner a git credential through a Secret, or use an `ssh://` or `git@host:path` URL with a deploy key");
            } else {
                r.rule(&join(&p, "repoUrl"), u, formats::repo_url(u));
            }
        }
        let default_branch = r
            .string(map, &p, "defaultBranch")
            .unwrap_or_else(|| reg::DEFAULT_BRANCH.default_str().into());
        r.rule(
            &join(&p, "defaultBranch"),
            &default_branch,
            formats::git_ref(&default_branch),
        );
        let tenant_text = r.required_string(map, &p, "tenant", "research-team");
        let tp = join(&p, "tenant");
        let tenant = tenant_text.as_ref().and_then(|t| {
            let label = formats::tenant_label(t);
            if label.is_none() {
                r.err(&tp, format!("{} has no letter or digit; the tenant is written as a label value, so it needs at least one", show(t)));
            }
            label
        });
        let namespace = read_namespace(
            r,
            map,
            &p,
            tenant_text.as_deref(),
            repo_url.as_deref(),
            known,
        );

        let template_ref = r.string(map, &p, "workflowTemplateRef");
        if let Some(t) = &template_ref {
            let rp = join(&p, "workflowTemplateRef");
            if r.rule(&rp, t, k8s::dns_subdomain(t)) && name.as_deref() == Some(t.as_str()) {
                r.err(&rp, format!("{} is the registration's own name, which is the name of the WorkflowTemplate generated for it: it would call itself; name the WorkflowTemplate that runs repositories, like `nextflow-repo-runner`", show(t)));
            }
        }
        read_ignored(r, map, &p);

        let bucket_path = join(&p, "artifactBucket");
        let data_path = join(&p, "dataBucket");
        let n = name.clone().unwrap_or_default();
        let repository = r
            .map(map.get("artifactBucket"), &bucket_path)
            .and_then(|b| {
                let default_secret = formats::shorten(f::SECRET_PREFIX, &n, SECRET_NAME_MAX);
                let kind = BucketKind {
                    endpoint_key: "hostname",
                    known: &f::ARTIFACT_BUCKET,
                    default_secret_name: &default_secret,
                };
                read_bucket(r, b, &bucket_path, &kind, known)
            });
        let data_map = r.map(map.get("dataBucket"), &data_path);
        // The same Vault path is the same credentials: one Secret serves both buckets (unless the
        // data bucket names its own `secretName`).
        let shared_secret = match (&repository, data_map) {
            (Some(a), Some(dm)) => match &a.credentials {
                Credentials::Vault {
                    path, secret_name, ..
                } if dm.get("externalSecretPath").and_then(Node::as_str) == Some(path.as_str())
                    && !dm.contains_key("secretName") =>
                {
                    Some(secret_name.clone())
                }
                _ => None,
            },
            _ => None,
        };
        let data_repository = data_map.and_then(|b| {
            let default_secret = shared_secret
                .clone()
                .unwrap_or_else(|| formats::shorten(f::DATA_SECRET_PREFIX, &n, SECRET_NAME_MAX));
            let kind = BucketKind {
                endpoint_key: "hostname",
                known: &f::ARTIFACT_BUCKET,
                default_secret_name: &default_secret,
            };
            read_bucket(r, b, &data_path, &kind, known)
        });
        if let (Some(a), Some(d), Some(sn)) = (&repository, &data_repository, &shared_secret)
            && d.credentials != a.credentials
        {
            r.err(&data_path, format!("has the artifact bucket's `externalSecretPath`, so it shares its Secret {}, but reads other keys or properties from it; give it the same `credentialKeys`/`vaultProperties`, or a `secretName` of its own", show(sn)));
        }
        // Two registrations in one namespace must not produce the same Secret.
        let shared = data_repository
            .as_ref()
            .zip(repository.as_ref())
            .is_some_and(|(d, a)| d.credentials == a.credentials);
        for (repo, rp) in [
            (repository.as_ref(), &bucket_path),
            (data_repository.as_ref().filter(|_| !shared), &data_path),
        ] {
            let (Some(ns), Some(repo)) = (&namespace, repo) else {
                continue;
            };
            let Credentials::Vault {
                secret_name: sn, ..
            } = &repo.credentials
            else {
                continue;
            };
            let key = (ns.clone(), sn.to_string());
            if name.as_deref() == Some("default") {
                // already refused above; its derived Secret name says nothing new
            } else if *sn == format!("{}default", f::SECRET_PREFIX) {
                r.err(rp, format!("its Secret name {} is the one the default repository uses in every namespace; set `secretName`", show(sn)));
            } else if let Some(first) = secrets.get(&key) {
                r.err(rp, format!("its Secret name {} in namespace {} is already produced by {first}; set a distinct `secretName`", show(sn), show(ns)));
            } else {
                secrets.insert(key, rp.clone());
            }
        }
        let artifact_gc = match map.get("artifactGC") {
            None | Some(Node::Null) => known.artifact_gc.clone(),
            node => read_gc(
                r,
                node,
                &join(&p, "artifactGC"),
                &known.service_account_name,
            ),
        };
        // The registrations of a namespace share its service account, so they share its identity.
        let ip = join(&p, "workloadIdentity");
        let identity = match map.get("workloadIdentity") {
            // The namespace's own identity, when it has one, applies as it is.
            None | Some(Node::Null)
                if namespace
                    .as_ref()
                    .is_some_and(|n| known.namespace_identity.contains_key(n)) =>
            {
                None
            }
            None | Some(Node::Null) => Some(known.identity.clone()),
            node => read_identity(r, node, &ip),
        };
        if let (Some(t), Some(identity)) = (&namespace, identity)
            && !identity.is_empty()
        {
            match identities.get(t) {
                Some(first) if first != &identity => {
                    let from = identity_from.get(t).cloned().unwrap_or_default();
                    r.err(&ip, format!("differs from the identity of namespace {} set at {from}; the registrations of a namespace share its service account `{}`, so they share one identity: give them the same `workloadIdentity`, or put this registration in a namespace of its own", show(t), known.service_account_name));
                }
                Some(_) => {}
                None => {
                    identities.insert(t.clone(), identity);
                    let from = if map.get("workloadIdentity").is_some() {
                        ip.clone()
                    } else {
                        "artifactRepos.workloadIdentity".to_string()
                    };
                    identity_from.insert(t.clone(), from);
                }
            }
        }
        if r.problems.len() > before {
            continue;
        }
        out.push(Registration {
            index: i,
            name: name.unwrap(),
            repo_url: repo_url.unwrap(),
            default_branch,
            tenant: tenant.unwrap(),
            namespace: namespace.unwrap(),
            repository,
            data_repository,
            workflow_template_ref: template_ref,
            artifact_gc,
        });
    }
    (out, identities)
}

/// The namespace of a registration: `namespace`, else the `artifactRepos.namespaceRule`.
fn read_namespace(
    r: &mut Reader,
    map: &Map,
    p: &str,
    tenant: Option<&str>,
    repo_url: Option<&str>,
    known: &Known,
) -> Option<String> {
    let np = join(p, "namespace");
    let (ns, at, how) = if let Some(ns) = r.string(map, p, "namespace") {
        if !r.rule(&np, &ns, k8s::dns_label(&ns)) {
            return None;
        }
        (ns, np, "")
    } else if let Some(prefix) = &known.repo_rule_prefix {
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
        let tp = join(p, "tenant");
        if let Err(e) = k8s::dns_label(t) {
            r.err(&tp, format!("{} {e}: without `namespace`, the tenant is the namespace (`artifactRepos.namespaceRule: tenant`); set `namespace`, or `artifactRepos.namespaceRule: repo` to name it after `repoUrl`", show(t)));
            return None;
        }
        (t.to_string(), tp, "")
    };
    if known.controller_namespace.as_ref() == Some(&ns) {
        r.err(&at, format!("{}{how} is the controller namespace (`artifactRepos.controllerNamespace`); a registration's workflows need a namespace of their own", show(&ns)));
        return None;
    }
    if ns.starts_with("kube-") {
        r.err(&at, format!("{}{how} is a namespace reserved for Kubernetes; choose a namespace not starting with `kube-`", show(&ns)));
        return None;
    }
    Some(ns)
}

/// The origin chart's fields the tool has no use for: type-checked, then ignored.
fn read_ignored(r: &mut Reader, map: &Map, p: &str) {
    let ip = join(p, "installationId");
    match map.get("installationId") {
        None | Some(Node::Null) => {}
        Some(Node::Int(i)) if *i >= 1 => {}
        Some(other) => r.err(
            &ip,
            format!(
                "expected an integer of at least 1 (a GitHub App installation id), got {}",
                show_node(other)
            ),
        ),
    }
    for key in ["adminUsers", "readUsers"] {
        for (i, u) in r
            .string_list(map, p, key)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            r.rule(&index(&join(p, key), i), u, formats::email(u));
        }
    }
    r.bool(map, p, "isPublic");
    if let Some(s) = r.string(map, p, "githubSecretName") {
        r.rule(&join(p, "githubSecretName"), &s, k8s::dns_subdomain(&s));
    }
    if let Some(s) = r.string(map, p, "githubSecretPath") {
        r.rule(&join(p, "githubSecretPath"), &s, formats::vault_path(&s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A default repository, for registrations without a bucket of their own.
    const WITH_DEFAULT: &str = "s3: {enabled: true, bucket: platform-default, useSDKCreds: true}\n";

    fn check(yaml: &str) -> Result<(Model, Vec<Problem>), Problems> {
        validate(&crate::yaml::parse_values("t", yaml.as_bytes()).unwrap())
    }

    #[test]
    fn empty_values_are_valid_with_defaults() {
        let (m, w) = check("").unwrap();
        assert!(m.registrations.is_empty() && m.default_repository.is_none() && w.is_empty());
        assert_eq!(m.settings.controller_namespace, "argo-workflows");
        assert_eq!(m.settings.argo_version, ArgoVersion { major: 3, minor: 7 });
    }

    #[test]
    fn every_problem_is_reported() {
        let err = check(
            "repoRegistrations:\n- name: A\n  tenant: t\n  repoUrl: x\n  artifactBucket: {bucket: ab, hostname: 'ftp://h'}\n- name: b\n  tenant: t\n  repoUrl: https://g/r\n  tenantt: x\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for want in [
            "repoRegistrations[0].name: `A` is not a valid DNS-1123 label",
            "repoRegistrations[0].repoUrl: `x` is not a git URL",
            "repoRegistrations[0].artifactBucket.hostname: `ftp://h` has a scheme",
            "repoRegistrations[0].artifactBucket.bucket: `ab` is 2 characters",
            "repoRegistrations[1].tenantt: unknown key `tenantt`; did you mean `tenant`?",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
    }

    #[test]
    fn inline_credentials_are_never_echoed() {
        let err = check("repoRegistrations:\n- name: a\n  tenant: t\n  repoUrl: https://g/r\n  artifactBucket:\n    bucket: abc\n    secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n    externalSecretPath: AKIAIOSFODNN7EXAMPLE\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("inline credentials are refused"), "{text}");
        assert!(
            !text.contains("wJalr") && !text.contains("AKIAIOSF"),
            "{text}"
        );
    }

    #[test]
    fn credential_keys_follow_the_data_key_rule() {
        // Issue #9: `..a` passed here and rendered a Secret key Kubernetes refuses.
        let err = check("artifactRepos:\n  credentialKeys:\n    accessKey: \"..a\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 problem found\n  artifactRepos.credentialKeys.accessKey: `..a` may not start with `..` (Kubernetes refuses such a key: the kubelet writes `..`-prefixed entries into the mounted volume itself)"
        );
    }

    #[test]
    fn argo_versions_share_one_range_with_check() {
        // Issue #9: `5.0` rendered while `check --argo-version 5.0` refused it, 3.0-3.3 the reverse.
        for (text, ok) in [
            ("3.3", false),
            ("3.0", false),
            ("3.4", true),
            ("4.9", true),
            ("5.0", false),
        ] {
            let values = format!("artifactRepos:\n  argoVersion: \"{text}\"\n");
            assert_eq!(check(&values).is_ok(), ok, "{text}");
            assert_eq!(ArgoVersion::parse(text).is_ok(), ok, "{text}");
        }
    }

    #[test]
    fn an_unquoted_version_is_flagged() {
        let (m, w) = check("artifactRepos:\n  argoVersion: 4.1\n").unwrap();
        assert_eq!(m.settings.argo_version.to_string(), "4.1");
        assert_eq!(
            w[0].to_string(),
            "artifactRepos.argoVersion: YAML read an unquoted number here, `4.1` (it reads `4.10` as 4.1 too); quote the version: `argoVersion: \"4.1\"`"
        );
        let err = check("artifactRepos:\n  argoVersion: 3.1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("(YAML read it as a number: quote it"), "{err}");
    }

    #[test]
    fn a_settings_problem_hides_no_registration_problem() {
        // Issue #8: with another `artifactRepos` problem the controller-namespace tenant went unreported.
        let err = check("artifactRepos:\n  layout: sideways\nrepoRegistrations:\n- name: a\n  tenant: argo-workflows\n  repoUrl: https://g/r\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("artifactRepos.layout: `sideways` is not a layout"),
            "{err}"
        );
        assert!(
            err.contains(
                "repoRegistrations[0].tenant: `argo-workflows` is the controller namespace"
            ),
            "{err}"
        );
    }
    const ORIGIN_STYLE: &str = "artifactRepos:\n  externalSecrets: {pathPrefix: kv}\nrepoRegistrations:\n- name: nf-hello\n  repoUrl: https://github.com/bwalsh/nf-hello.git\n  tenant: program/project\n  namespace: wf-poc\n  workflowTemplateRef: nextflow-repo-runner\n  installationId: 12\n  adminUsers: [pi@research.edu]\n  readUsers: []\n  isPublic: false\n  githubSecretName: github-secret-nf\n  githubSecretPath: argo/apps/nf/github\n  artifactBucket: {hostname: s3.us-west-2.amazonaws.com, bucket: nf-artifacts, externalSecretPath: argo/apps/nf/s3}\n  dataBucket: {hostname: s3.us-west-2.amazonaws.com, bucket: nf-data, externalSecretPath: argo/apps/nf/s3}\n- name: genomics\n  repoUrl: https://github.com/genomics-lab/vc.git\n  tenant: genomics-lab\n  namespace: wf-poc\n  artifactBucket: {bucket: g-artifacts, externalSecretPath: g/a}\n  dataBucket: {bucket: g-data, externalSecretPath: g/d}\n";

    #[test]
    fn origin_fields_are_read() {
        let (m, w) = check(ORIGIN_STYLE).unwrap();
        assert!(w.is_empty(), "{w:?}");
        let [a, b] = &m.registrations[..] else {
            panic!()
        };
        assert_eq!(a.tenant, "program-project");
        assert_eq!(
            (a.namespace.as_str(), b.namespace.as_str()),
            ("wf-poc", "wf-poc")
        );
        assert_eq!(
            a.workflow_template_ref.as_deref(),
            Some("nextflow-repo-runner")
        );
        // One Vault path, one Secret; two paths, two Secrets with the origin's data Secret name.
        assert_eq!(
            a.data_repository
                .as_ref()
                .unwrap()
                .credentials
                .secret_name(),
            Some("s3-credentials-nf-hello")
        );
        assert_eq!(
            b.data_repository
                .as_ref()
                .unwrap()
                .credentials
                .secret_name(),
            Some("s3-data-credentials-genomics")
        );
        assert_eq!(
            m.settings.external_secrets.path_prefix.as_deref(),
            Some("kv")
        );
    }

    #[test]
    fn ignored_fields_are_type_checked() {
        let err = check("repoRegistrations:\n- name: a\n  tenant: t\n  repoUrl: https://g/o/r\n  installationId: 0\n  adminUsers: [nobody]\n  readUsers: x\n  isPublic: \"no\"\n  githubSecretName: Bad_Name\n").unwrap_err().to_string();
        for want in [
            "repoRegistrations[0].installationId: expected an integer of at least 1 (a GitHub App installation id), got a number `0`",
            "repoRegistrations[0].adminUsers[0]: `nobody` is not an e-mail address",
            "repoRegistrations[0].readUsers: expected a list of strings",
            "repoRegistrations[0].isPublic: expected `true` or `false`",
            "repoRegistrations[0].githubSecretName: `Bad_Name` is not a valid DNS-1123 subdomain",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
    }

    #[test]
    fn namespace_rules() {
        let regs = "repoRegistrations:\n- name: a\n  tenant: Org/Proj\n  repoUrl: https://github.com/BWalsh/nf_hello.git\n";
        let err = check(regs).unwrap_err().to_string();
        assert!(
            err.contains("repoRegistrations[0].tenant: `Org/Proj` is not a valid DNS-1123 label"),
            "{err}"
        );
        assert!(
            err.contains("set `namespace`, or `artifactRepos.namespaceRule: repo`"),
            "{err}"
        );
        let (m, _) = check(&format!(
            "{WITH_DEFAULT}artifactRepos: {{namespaceRule: repo}}\n{regs}"
        ))
        .unwrap();
        assert_eq!(m.registrations[0].namespace, "wf-bwalsh-nf-hello");
        assert_eq!(m.registrations[0].tenant, "Org-Proj");
        let (m, _) = check(&format!("{WITH_DEFAULT}artifactRepos: {{namespaceRule: repo, namespacePrefix: \"\"}}\nrepoRegistrations:\n- name: a\n  tenant: t\n  repoUrl: git@github.com:org/repo.git\n")).unwrap();
        assert_eq!(m.registrations[0].namespace, "org-repo");
        let err = check("artifactRepos: {namespaceRule: repo}\nrepoRegistrations:\n- name: a\n  tenant: t\n  repoUrl: https://example.org/x\n").unwrap_err().to_string();
        assert!(err.contains("repoRegistrations[0].namespace: is not set, and `artifactRepos.namespaceRule: repo` needs `<org>/<repository>` at the end of `repoUrl`"), "{err}");
        let err = check("repoRegistrations:\n- name: a\n  tenant: t\n  namespace: argo-workflows\n  repoUrl: https://g/o/r\n").unwrap_err().to_string();
        assert!(
            err.contains(
                "repoRegistrations[0].namespace: `argo-workflows` is the controller namespace"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_template_ref_to_itself_is_refused() {
        let err = check("repoRegistrations:\n- name: a\n  tenant: t\n  repoUrl: https://g/o/r\n  workflowTemplateRef: a\n").unwrap_err().to_string();
        assert!(
            err.contains(
                "repoRegistrations[0].workflowTemplateRef: `a` is the registration's own name"
            ),
            "{err}"
        );
    }

    #[test]
    fn secrets_collide_per_namespace_not_per_tenant() {
        let err = check("repoRegistrations:\n- name: a\n  tenant: t1\n  namespace: shared\n  repoUrl: https://g/o/r\n  artifactBucket: {bucket: abc, externalSecretPath: p, secretName: s}\n- name: b\n  tenant: t2\n  namespace: shared\n  repoUrl: https://g/o/r\n  artifactBucket: {bucket: abc, externalSecretPath: q, secretName: s}\n").unwrap_err().to_string();
        assert!(err.contains("repoRegistrations[1].artifactBucket: its Secret name `s` in namespace `shared` is already produced by repoRegistrations[0].artifactBucket"), "{err}");
    }

    fn one(values: &str) -> Repository {
        let (m, _) = check(values).unwrap_or_else(|e| panic!("{e}"));
        m.default_repository.expect("a default repository")
    }

    fn problems(values: &str) -> String {
        check(values).unwrap_err().to_string()
    }

    #[test]
    fn argo_docs_secret_references_are_not_inline_credentials() {
        // Issue #13: Argo's own `accessKeySecret: {name, key}` was refused as an inline credential.
        let r = one(
            "s3:\n  enabled: true\n  bucket: my-bucket\n  accessKeySecret: {name: my-s3-credentials, key: accessKey}\n  secretKeySecret: {name: my-s3-credentials, key: secretKey}\n",
        );
        assert_eq!(r.credentials, Credentials::AsWritten);
        assert_eq!(r.user_secrets, vec!["my-s3-credentials".to_string()]);
        assert_eq!(
            r.spec["accessKeySecret"],
            serde_json::json!({"name": "my-s3-credentials", "key": "accessKey"})
        );
        // The same in Argo's shape.
        let r = one(
            "s3:\n  enabled: true\n  s3:\n    bucket: my-bucket\n    accessKeySecret: {name: my-s3-credentials, key: accessKey}\n",
        );
        assert_eq!(r.backend, "s3");
        // A string where Argo wants a reference is never echoed.
        let e = problems(
            "s3:\n  enabled: true\n  s3:\n    bucket: my-bucket\n    accessKeySecret: AKIAIOSFODNN7EXAMPLE\n",
        );
        assert!(e.contains("s3.s3.accessKeySecret: expected a Secret reference `{name, key}`, got a string (the value is not shown"), "{e}");
        assert!(!e.contains("AKIA"), "{e}");
    }

    #[test]
    fn every_backend_in_argos_shape() {
        let r = one(
            "s3:\n  enabled: true\n  gcs: {bucket: bk1, serviceAccountKeySecret: {name: g, key: k}}\n",
        );
        assert_eq!(
            (r.backend, r.user_secrets.clone()),
            ("gcs", vec!["g".to_string()])
        );
        let r = one(
            "s3:\n  enabled: true\n  azure: {endpoint: 'https://a.blob.core.windows.net', container: c}\n  externalSecretPath: p/azure\n",
        );
        assert_eq!(
            r.spec["accountKeySecret"],
            serde_json::json!({"name": "azure-credentials-default", "key": "accountKey"})
        );
        match &r.credentials {
            Credentials::Vault { data, .. } => assert_eq!(
                data,
                &vec![("accountKey".to_string(), "account_key".to_string())]
            ),
            other => panic!("{other:?}"),
        }
        let r = one(
            "s3:\n  enabled: true\n  oss: {endpoint: 'http://oss-cn-hangzhou.aliyuncs.com', bucket: bk1}\n  useSDKCreds: true\n",
        );
        assert_eq!(r.spec["useSDKCreds"], serde_json::json!(true));
        // GCS workload identity: no key Secret at all.
        let r = one("s3:\n  enabled: true\n  gcs: {bucket: bk1}\n  useSDKCreds: true\n");
        assert!(!r.spec.contains_key("useSDKCreds") && r.credentials == Credentials::Sdk);
        let e = problems("s3:\n  enabled: true\n  azure: {container: c}\n");
        assert!(e.contains("s3.azure.endpoint: is required"), "{e}");
    }

    #[test]
    fn shapes_do_not_mix_and_one_backend_only() {
        let e = problems(
            "s3:\n  enabled: true\n  bucket: bk1\n  region: us-east-1\n  gcs: {bucket: bk2}\n",
        );
        assert!(e.contains("s3: mixes Argo's repository shape (`gcs:`) with the seed's keys (`bucket`, `region`); use one shape"), "{e}");
        let e = problems("s3:\n  enabled: true\n  gcs: {bucket: bk2}\n  s3: {bucket: bk3}\n");
        assert!(e.contains("has `s3` and `gcs` blocks"), "{e}");
    }

    #[test]
    fn fields_follow_the_target_version() {
        let v37 = problems("s3:\n  enabled: true\n  s3: {bucket: bk1, addressingStyle: path}\n");
        assert!(v37.contains("s3.s3.addressingStyle: Argo has `addressingStyle` from 4.1, and the target is Argo 3.7"), "{v37}");
        let r = one(
            "artifactRepos: {argoVersion: \"4.1\"}\ns3:\n  enabled: true\n  s3: {bucket: bk1, addressingStyle: virtual-hosted}\n",
        );
        assert_eq!(r.spec["addressingStyle"], "virtual-hosted");
        let e = problems(
            "artifactRepos: {argoVersion: \"4.1\"}\ns3:\n  enabled: true\n  s3: {bucket: bk1, addressingStyle: dns}\n",
        );
        assert!(
            e.contains("`dns` is not one of `\"\"` (automatic), `path`, `virtual-hosted`"),
            "{e}"
        );
        let e = problems(
            "s3:\n  enabled: true\n  oss: {endpoint: e, bucket: bk1, lifecycleRule: {markDeletionAfterDays: x}}\n",
        );
        assert!(
            e.contains(
                "s3.oss.lifecycleRule.markDeletionAfterDays: expected a non-negative integer"
            ),
            "{e}"
        );
        let e = problems("s3:\n  enabled: true\n  s3: {bucket: bk1, pathStyle: true}\n");
        assert!(
            e.contains("unknown key `pathStyle` (Argo ignores keys it does not know)"),
            "{e}"
        );
    }

    #[test]
    fn encryption_as_argo_does_it() {
        let e = problems(
            "s3:\n  enabled: true\n  s3: {bucket: bk1, encryptionOptions: {kmsKeyId: k}}\n  useSDKCreds: true\n",
        );
        assert!(
            e.contains("s3.s3.encryptionOptions: Argo encrypts only with `enableEncryption: true`"),
            "{e}"
        );
        let e = problems(
            "s3:\n  enabled: true\n  s3: {bucket: bk1, insecure: true, encryptionOptions: {enableEncryption: true}}\n  existingSecret: s\n  credentialKeys: {customerKey: sse}\n",
        );
        assert!(
            e.contains("SSE-C (`serverSideCustomerKeySecret`) needs HTTPS"),
            "{e}"
        );
        let e = problems(
            "s3:\n  enabled: true\n  s3: {bucket: bk1, encryptionOptions: {enableEncryption: true, kmsKeyId: k, kmsEncryptionContext: 'a=b'}}\n  useSDKCreds: true\n",
        );
        assert!(
            e.contains("kmsEncryptionContext: `a=b` is not a JSON object"),
            "{e}"
        );
    }

    #[test]
    fn optional_credentials_from_vault() {
        let r = one(
            "s3:\n  enabled: true\n  bucket: bk1\n  externalSecretPath: p\n  credentialKeys: {caCert: ca.pem}\n  vaultProperties: {sessionToken: token}\n",
        );
        match &r.credentials {
            Credentials::Vault { data, .. } => assert_eq!(
                data.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                [
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN",
                    "ca.pem"
                ]
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.spec["caSecret"]["key"], "ca.pem");
        let e = problems(
            "s3:\n  enabled: true\n  bucket: bk1\n  externalSecretPath: p\n  credentialKeys: {token: t}\n",
        );
        assert!(e.contains("s3.credentialKeys.token: unknown credential `token`; `s3` credentials are `accessKey`, `secretKey`, `sessionToken`, `caCert`, `customerKey`"), "{e}");
        let e = problems(
            "s3:\n  enabled: true\n  bucket: bk1\n  externalSecretPath: p\n  accessKeySecret: {name: a, key: b}\n",
        );
        assert!(
            e.contains("`externalSecretPath` and `accessKeySecret` both give `accessKey`"),
            "{e}"
        );
    }

    #[test]
    fn hostname_schemes_and_synonyms() {
        let r = one(
            "s3:\n  enabled: true\n  hostname: 'http://minio:9000'\n  bucket: bk1\n  useSDKCreds: true\n",
        );
        assert_eq!(
            (r.spec["endpoint"].as_str(), r.spec["insecure"].as_bool()),
            (Some("minio:9000"), Some(true))
        );
        let r = one(
            "s3:\n  enabled: true\n  hostname: 'https://minio:9000'\n  endpoint: 'https://minio:9000'\n  bucket: bk1\n  useSDKCreds: true\n",
        );
        assert_eq!(
            (r.spec["endpoint"].as_str(), r.spec["insecure"].as_bool()),
            (Some("minio:9000"), Some(false))
        );
        // The origin project's own example.
        let e = problems(
            "repoRegistrations:\n- name: a\n  tenant: t\n  repoUrl: https://g/r\n  artifactBucket: {hostname: 'https://minio.storage.local:9000', insecure: true, bucket: bk1, useSDKCreds: true}\n",
        );
        assert_eq!(
            e,
            "1 problem found\n  repoRegistrations[0].artifactBucket.hostname: `https://minio.storage.local:9000` says HTTPS (`https://`) but `insecure: true` says plain HTTP; for plain HTTP write `hostname: minio.storage.local:9000` (no scheme) with `insecure: true`, for HTTPS remove `insecure: true`"
        );
        let e = problems(
            "s3:\n  enabled: true\n  hostname: a.example\n  endpoint: b.example\n  bucket: bk1\n  useSDKCreds: true\n",
        );
        assert!(
            e.contains("`hostname` `a.example` and `endpoint` `b.example` differ"),
            "{e}"
        );
    }

    #[test]
    fn a_disabled_origin_chart_s3_section_is_fine() {
        let (m, w) = check("s3: {enabled: false, hostname: \"\", bucket: \"\", region: \"\", insecure: false, pathStyle: true, accessKey: \"\", secretKey: \"\"}\n").unwrap();
        assert!(m.default_repository.is_none() && w.is_empty());
        let e = problems("s3: {enabled: false, accessKey: AKIAIOSFODNN7EXAMPLE}\n");
        assert!(
            e.contains("s3.accessKey: inline credentials are refused") && !e.contains("AKIA"),
            "{e}"
        );
    }

    #[test]
    fn a_name_yaml_read_as_a_number_gets_a_quoting_hint() {
        let err = check("repoRegistrations:\n- name: 12\n  repoUrl: https://g/r\n  tenant: t\n  defaultBranch: 2024\nartifactRepos:\n  layout: 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("repoRegistrations[0].name: expected a string, got a number `12`; YAML reads an unquoted `12` as a number: quote it, `name: \"12\"`"), "{err}");
        assert!(err.contains("`defaultBranch: \"2024\"`"), "{err}");
        // Not a name: no quoting advice that would only lead to the next error.
        assert!(
            err.contains("artifactRepos.layout: expected a string, got a number `3`\n")
                || err.ends_with("got a number `3`"),
            "{err}"
        );
    }

    #[test]
    fn workload_identity_per_namespace_and_per_registration() {
        let regs = "repoRegistrations:\n- {name: a, tenant: ta, repoUrl: 'https://g/a'}\n- {name: b, tenant: tb, repoUrl: 'https://g/b'}\n- {name: c, tenant: tb, repoUrl: 'https://g/c', workloadIdentity: {gcpServiceAccount: 'c@p.iam.gserviceaccount.com'}}\n";
        let settings = "artifactRepos:\n  workloadIdentity: {awsRoleArn: 'arn:aws:iam::111122223333:role/default'}\n  namespaces:\n    ta: {workloadIdentity: {azureClientId: 00000000-1111-2222-3333-444444444444}}\n";
        let err = check(&format!("{settings}{regs}")).unwrap_err().to_string();
        // tb: `b` takes the default (IRSA), `c` its own (GKE): one service account, two identities.
        assert!(err.contains("repoRegistrations[2].workloadIdentity: differs from the identity of namespace `tb` set at artifactRepos.workloadIdentity"), "{err}");
        let regs = regs.replace("- {name: b, tenant: tb", "- {name: b, tenant: tc");
        let (m, _) = check(&format!("{WITH_DEFAULT}{settings}{regs}")).unwrap();
        assert_eq!(
            m.identity("ta").unwrap().azure_client_id.as_deref(),
            Some("00000000-1111-2222-3333-444444444444")
        );
        assert!(
            m.identity("ta").unwrap().aws_role_arn.is_none(),
            "the namespace's identity replaces the default"
        );
        assert!(m.identity("tc").unwrap().aws_role_arn.is_some());
        assert!(m.identity("tb").unwrap().gcp_service_account.is_some());
        let err = check("artifactRepos:\n  namespaces:\n    Bad_NS: {workloadIdentity: {azureClientId: nope}}\n").unwrap_err().to_string();
        assert!(
            err.contains("artifactRepos.namespaces.Bad_NS: `Bad_NS` is not a valid DNS-1123 label"),
            "{err}"
        );
    }
}
