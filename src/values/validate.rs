//! Validation: turns the merged values tree into the checked `Model`. It reads only the top-level
//! sections the tool owns (`repoRegistrations`, `s3`, `artifactRepos`) and ignores every other key,
//! so a whole umbrella chart's values can be passed; inside its sections it is strict. Every problem
//! is collected, never just the first, each as `path: what is wrong, `value`, what is valid`.
//! Values that look like credentials are never echoed.

use super::names;
use super::path::{index, join};
use crate::error::{Problem, Problems};
use crate::model::*;
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::k8s;
use crate::yaml::Node;
use indexmap::IndexMap;

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

/// A value for a message: backticked, escaped, cut to a readable length, or withheld when it looks
/// like a credential.
pub fn show(s: &str) -> String {
    if names::looks_like_credential(s) {
        return "(value not shown: it looks like a credential)".into();
    }
    let escaped = crate::error::escape(s);
    if escaped.chars().count() > 80 {
        let cut: String = escaped.chars().take(77).collect();
        format!("`{cut}...`")
    } else {
        format!("`{escaped}`")
    }
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
            if names::is_credential_key(key) {
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
            self.err(&p, format!("unknown key `{}`; {hint}", key.escape_debug()));
        }
    }

    fn string(&mut self, map: &Map, path: &str, key: &str) -> Option<String> {
        match map.get(key) {
            None | Some(Node::Null) => None,
            Some(Node::Str(s)) => {
                if names::looks_like_credential(s) {
                    self.err(
                        &join(path, key),
                        "this looks like an inline credential (the value is not shown); credentials are only ever referenced: store them in Vault and set `externalSecretPath`",
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
pub fn validate(values: &Node) -> Result<(Model, Vec<Problem>), Problems> {
    let mut r = Reader::default();
    top_level_typos(&mut r, values);
    let (settings, known) = read_settings(&mut r, values.get("artifactRepos"));
    let default_repository = read_default(&mut r, values.get("s3"), &known);
    let registrations = read_registrations(&mut r, values.get("repoRegistrations"), &known);
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    let model = Model {
        settings: settings.expect("settings are valid when no problem was found"),
        default_repository,
        registrations,
    };
    Ok((model, r.warnings))
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
    if r.rule(
        &join(path, "configMapName"),
        &config_map_name,
        k8s::dns_subdomain(&config_map_name),
    ) && config_map_name != argo::DEFAULT_CONFIGMAP
    {
        r.warn(
            &join(path, "configMapName"),
            format!(
                "Argo reads a namespace's default repository only from a ConfigMap named `{}`: with {}, workflows without `artifactRepositoryRef` fall back to the controller's configured default (the generated WorkflowTemplates set the ref and still work)",
                argo::DEFAULT_CONFIGMAP,
                show(&config_map_name)
            ),
        );
    }
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
    let known = Known {
        controller_namespace: controller_namespace_ok.then(|| controller_namespace.clone()),
        argo_version,
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
    let refresh_interval = r
        .string(map, path, "refreshInterval")
        .unwrap_or_else(|| set::REFRESH_INTERVAL.default_str().into());
    r.rule(
        &join(path, "refreshInterval"),
        &refresh_interval,
        names::go_duration(&refresh_interval),
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
    Some(enabled.then_some(RunnerSettings {
        image,
        command,
        args,
        output_path,
    }))
}

/// What differs between `s3` and `repoRegistrations[].artifactBucket`.
struct BucketKind<'a> {
    endpoint_key: &'static str,
    known: &'static Section,
    default_secret_name: &'a str,
}

fn read_bucket(
    r: &mut Reader,
    map: &Map,
    path: &str,
    kind: &BucketKind,
    known: &Known,
) -> Option<Repository> {
    let cred_hint = "credentials are only ever referenced: store them in Vault and set `externalSecretPath`, name an `existingSecret`, or set `useSDKCreds: true`";
    r.keys(map, path, kind.known, cred_hint);
    let before = r.problems.len();

    let endpoint = r
        .string(map, path, kind.endpoint_key)
        .unwrap_or_else(|| repo::ENDPOINT.into());
    r.rule(
        &join(path, kind.endpoint_key),
        &endpoint,
        names::endpoint(&endpoint),
    );
    let bucket = r.required_string(map, path, "bucket", "my-team-artifacts");
    if let Some(b) = &bucket {
        r.rule(&join(path, "bucket"), b, names::s3_bucket(b));
    }
    let region = r.string(map, path, "region");
    if let Some(reg) = &region {
        r.rule(&join(path, "region"), reg, repo::REGION.rule.check(reg));
    }
    let insecure = r.bool(map, path, "insecure");
    let archive_logs = r.bool(map, path, "archiveLogs").unwrap_or(true);

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
        (Some(p), f) => Some(names::argo_key_join(
            &p,
            &f.unwrap_or_else(|| ARGO_KEY_FORMAT.into()),
        )),
    };

    let argo = known.argo_version;
    // `pathStyle: false` (the origin chart's default) asks for nothing: Argo's automatic choice stays,
    // which already uses path style wherever virtual-hosted cannot work (dotted buckets over HTTPS,
    // endpoints that are not AWS, Google or Aliyun). Forcing `virtual-hosted` there would break them.
    // `pathStyle: true` becomes `addressingStyle: path` where Argo has the field (4.1+); before that
    // it is lost only where the automatic choice is virtual-hosted, and only then is it a warning.
    let auto_path = bucket
        .as_deref()
        .is_some_and(|b| names::argo_picks_path_style(&endpoint, b, insecure.unwrap_or(false)));
    let addressing_style = match (r.bool(map, path, "pathStyle"), argo) {
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

    let role_arn = r.string(map, path, "roleARN");
    if let Some(a) = &role_arn {
        r.rule(&join(path, "roleARN"), a, names::role_arn(a));
    }

    let vault = r.string(map, path, "externalSecretPath");
    let existing = r.string(map, path, "existingSecret");
    let sdk = r.bool(map, path, "useSDKCreds").unwrap_or(false);
    let secret_name = r.string(map, path, "secretName");
    let given: Vec<&str> = [
        vault.as_ref().map(|_| "externalSecretPath"),
        existing.as_ref().map(|_| "existingSecret"),
        sdk.then_some("useSDKCreds"),
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
    }
    if given.is_empty() && r.problems.len() == before {
        r.err(path, "has no credential source; set one of `externalSecretPath` (Vault, through an ExternalSecret), `existingSecret` (a Secret already in the tenant namespace) or `useSDKCreds: true` (the pod's cloud identity)");
    }
    if secret_name.is_some() && vault.is_none() {
        r.err(&join(path, "secretName"), "applies only with `externalSecretPath` (it names the Secret the ExternalSecret creates); for a Secret you manage use `existingSecret`");
    }
    let credentials = if let Some(p) = vault {
        if r.rule(&join(path, "externalSecretPath"), &p, names::vault_path(&p))
            && p.starts_with("data/")
        {
            r.warn(&join(path, "externalSecretPath"), format!("{} starts with `data/`: with a Vault KV v2 store whose `path` is the mount, `remoteRef.key` is relative to the mount and without `data/`", show(&p)));
        }
        let name = match secret_name {
            Some(n) => {
                r.rule(&join(path, "secretName"), &n, k8s::dns_label(&n).map_err(|e| format!("{e}: Argo mounts the credential Secret as a pod volume, so its name must be a DNS-1123 label")));
                n
            }
            None => kind.default_secret_name.to_string(),
        };
        Some(Credentials::Vault {
            path: p,
            secret_name: name,
        })
    } else if let Some(s) = existing {
        r.rule(&join(path, "existingSecret"), &s, k8s::dns_label(&s).map_err(|e| format!("{e}: Argo mounts the credential Secret as a pod volume, so its name must be a DNS-1123 label")));
        Some(Credentials::ExistingSecret { secret_name: s })
    } else if sdk {
        Some(Credentials::Sdk)
    } else {
        None
    };

    if r.problems.len() > before {
        return None;
    }
    Some(Repository {
        archive_logs,
        s3: S3 {
            endpoint,
            bucket: bucket?,
            region,
            insecure: insecure.unwrap_or(false),
            key_format,
            addressing_style,
            use_sdk_creds: sdk.then_some(true),
            role_arn,
        },
        credentials: credentials?,
    })
}

fn read_default(r: &mut Reader, node: Option<&Node>, known: &Known) -> Option<Repository> {
    let path = "s3";
    let map = r.map(node, path)?;
    let enabled = r.bool(map, path, "enabled").unwrap_or(false);
    if !enabled {
        r.keys(map, path, &f::S3, "");
        return None;
    }
    let default_secret_name = format!("{}default", f::SECRET_PREFIX);
    let kind = BucketKind {
        endpoint_key: "endpoint",
        known: &f::S3,
        default_secret_name: &default_secret_name,
    };
    read_bucket(r, map, path, &kind, known)
}

fn read_registrations(r: &mut Reader, node: Option<&Node>, known: &Known) -> Vec<Registration> {
    let path = "repoRegistrations";
    let items = match node {
        None | Some(Node::Null) => return Vec::new(),
        Some(Node::Seq(items)) => items,
        Some(other) => {
            r.err(
                path,
                format!("expected a list of registrations, got {}", show_node(other)),
            );
            return Vec::new();
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
        let repo_url = r.required_string(map, &p, "repoUrl", "https://github.com/org/repo.git");
        if let Some(u) = &repo_url {
            if names::url_has_password(u) {
                r.err(&join(&p, "repoUrl"), "has a password in its user info (the value is not shown); the URL is written into the WorkflowTemplate, so it must not hold a credential: give the runner a git credential through a Secret, or use an `ssh://` or `git@host:path` URL with a deploy key");
            } else {
                r.rule(&join(&p, "repoUrl"), u, names::repo_url(u));
            }
        }
        let default_branch = r
            .string(map, &p, "defaultBranch")
            .unwrap_or_else(|| reg::DEFAULT_BRANCH.default_str().into());
        r.rule(
            &join(&p, "defaultBranch"),
            &default_branch,
            names::git_ref(&default_branch),
        );
        let tenant = r.required_string(map, &p, "tenant", "research-team");
        if let Some(t) = &tenant {
            let tp = join(&p, "tenant");
            if r.rule(
                &tp,
                t,
                k8s::dns_label(t).map_err(|e| format!("{e}: the tenant is a namespace name")),
            ) {
                if known.controller_namespace.as_ref() == Some(t) {
                    r.err(&tp, format!("{} is the controller namespace (`artifactRepos.controllerNamespace`); a tenant needs a namespace of its own", show(t)));
                } else if t.starts_with("kube-") {
                    r.err(&tp, format!("{} is a namespace reserved for Kubernetes; choose a tenant namespace not starting with `kube-`", show(t)));
                }
            }
        }
        let bucket_path = join(&p, "artifactBucket");
        let repository = match (r.map(map.get("artifactBucket"), &bucket_path), &name) {
            (Some(b), Some(n)) => {
                let default_secret = names::shorten(f::SECRET_PREFIX, n, SECRET_NAME_MAX);
                let kind = BucketKind {
                    endpoint_key: "hostname",
                    known: &f::ARTIFACT_BUCKET,
                    default_secret_name: &default_secret,
                };
                read_bucket(r, b, &bucket_path, &kind, known)
            }
            (Some(b), None) => {
                let kind = BucketKind {
                    endpoint_key: "hostname",
                    known: &f::ARTIFACT_BUCKET,
                    default_secret_name: "x",
                };
                read_bucket(r, b, &bucket_path, &kind, known);
                None
            }
            (None, _) => None,
        };
        // Two registrations of one tenant must not produce the same Secret.
        if let (Some(t), Some(Some(sn))) = (
            &tenant,
            repository.as_ref().map(|x| x.credentials.secret_name()),
        ) && let Credentials::Vault { .. } = repository.as_ref().unwrap().credentials
        {
            let key = (t.clone(), sn.to_string());
            if name.as_deref() == Some("default") {
                // already refused above; its derived Secret name says nothing new
            } else if sn == format!("{}default", f::SECRET_PREFIX) {
                r.err(&bucket_path, format!("its Secret name {} is the one the default repository uses in every tenant namespace; set `secretName`", show(sn)));
            } else if let Some(first) = secrets.get(&key) {
                r.err(&bucket_path, format!("its Secret name {} in namespace {} is already produced by {first}; set a distinct `secretName`", show(sn), show(t)));
            } else {
                secrets.insert(key, bucket_path.clone());
            }
        }
        if r.problems.len() > before {
            continue;
        }
        out.push(Registration {
            name: name.unwrap(),
            repo_url: repo_url.unwrap(),
            default_branch,
            tenant: tenant.unwrap(),
            repository,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "repoRegistrations:\n- name: A\n  tenant: t\n  repoUrl: x\n  artifactBucket: {bucket: ab, hostname: 'https://h'}\n- name: b\n  tenant: t\n  repoUrl: https://g/r\n  tenantt: x\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for want in [
            "repoRegistrations[0].name: `A` is not a valid DNS-1123 label",
            "repoRegistrations[0].repoUrl: `x` is not a git URL",
            "repoRegistrations[0].artifactBucket.hostname: `https://h` has a scheme",
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
}
