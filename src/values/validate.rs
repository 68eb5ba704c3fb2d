//! Validation: turns the merged values tree into the checked `Model`. It reads only the top-level
//! sections the tool owns (`repoRegistrations`, `s3`, `artifactRepos`) and ignores every other key,
//! so a whole umbrella chart's values can be passed; inside its sections it is strict. Every problem
//! is collected, never just the first, each as `path: what is wrong, `value`, what is valid`.
//! Values that look like credentials are never echoed.
//!
//! Each section is read by the walk over its declarations (`values::read`); this file only takes
//! the walked fields into the model, in the model's order, and calls the cross-field rules
//! (`values::cross`) where they apply. No field is read here by its key, checked by a rule of its
//! own, or given a default: that is the row's.

use super::cross::{self, BucketKind, Conveniences, Defaults};
use super::fields::{
    self as f, Field, Shape, registration as reg, repository as repo, settings as set,
};
use super::path::index;
use super::read::{Ctx, Fields, Json, JsonMap, Map, Reader, Value, show_node, walk};
use crate::error::{Problem, Problems};
use crate::model::*;
use crate::rules::argo;
use crate::rules::formats;
use crate::yaml::Node;
use indexmap::IndexMap;
use std::sync::LazyLock;

pub use super::fields::SECTIONS;

/// A section that is absent reads as an empty map: every field takes its default.
static EMPTY: LazyLock<Map> = LazyLock::new(Map::new);

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
    let (settings, defaults, settings_ok) = read_settings(&mut r, values.get(f::top::SETTINGS.key));
    let ctx = Ctx {
        version: settings.argo_version,
    };
    let default_repository = read_default(&mut r, values.get(f::top::S3.key), &settings, ctx);
    let (registrations, identities) = read_registrations(
        &mut r,
        values.get(f::top::REGISTRATIONS.key),
        &settings,
        &defaults,
        ctx,
    );
    cross::ref_less_lookup(&mut r, &settings, default_repository.is_some());
    cross::registrations_without_repository(&mut r, values);
    if let Some(d) = &default_repository {
        cross::default_isolation(&mut r, d, &registrations);
    }
    // Every field given is taken into the model, or dropped on purpose (`Fields::discard`).
    debug_assert!(
        r.untaken.is_empty(),
        "read but not taken into the model: {:?}",
        r.untaken
    );
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    debug_assert!(settings_ok);
    let model = Model {
        settings,
        default_repository,
        registrations,
        identities,
    };
    super::isolation::check(values, model, r.warnings)
}

/// The top level is open (an umbrella chart passes all its values), but a near miss of one of the
/// tool's sections is an error on every path (#21): `repoRegistration:` read as "no
/// registrations" empties a release, and `helm upgrade` then deletes every tenant's objects.
/// Unrelated keys stay ignored.
fn top_level_typos(r: &mut Reader, values: &Node) {
    let Some(map) = values.as_map() else { return };
    for key in map.keys() {
        if SECTIONS.contains(&key.as_str()) {
            continue;
        }
        let message = match near_section(key) {
            Some(Near::Section(k)) => format!(
                "not read by artifact-repos (it reads only `repoRegistrations`, `s3` and `artifactRepos` at the top level), and so close to `{k}` that it is taken for a misspelling: rename it `{k}` (a key the tool ignores must not look like one it reads)"
            ),
            Some(Near::Chart) => format!(
                "holds this chart's values as an umbrella chart's dependency: pass `--values-key {}` to read them (Helm hands the dependency its own values)",
                key.escape_debug()
            ),
            None => continue,
        };
        r.err(&super::path::join("", key), message);
    }
}

/// What a top-level key is mistaken for.
#[derive(Debug, PartialEq, Eq)]
enum Near {
    Section(&'static str),
    /// The chart's own name (`artifact-repos`): an umbrella chart's values file.
    Chart,
}

/// A near miss of a section key: the same letters in another case, singular for plural (or the
/// other way), within 2 edits of a long section (`repoRegistrations`, `artifactRepos`), or the
/// last word alone (`registrations`). `s3` is matched by case only: every short key is within 2
/// edits of it.
fn near_section(key: &str) -> Option<Near> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let k = fold(key);
    if k == fold(crate::rules::k8s::labels::TOOL) && key.contains(['-', '_']) {
        return Some(Near::Chart);
    }
    SECTIONS.iter().copied().find_map(|section| {
        let s = fold(section);
        let plural = k == format!("{s}s") || s == format!("{k}s");
        let close = section.len() >= 8
            && super::read::edit_distance(&key.to_ascii_lowercase(), &section.to_ascii_lowercase())
                <= 2;
        let last_word = section
            .rfind(|c: char| c.is_ascii_uppercase())
            .filter(|&i| i > 0)
            .map(|i| section[i..].to_ascii_lowercase())
            // `registrations`, not `repos`: a short last word is an ordinary key elsewhere.
            .filter(|w| w.len() >= 8)
            .is_some_and(|w| k == *w || format!("{k}s") == *w);
        (k == s || plural || close || last_word).then_some(Near::Section(section))
    })
}

/// What the tool's sections of the values hold, in words, for the "nothing to render" error:
/// `` `repoRegistrations` is empty and `s3.enabled` is not true``.
pub fn why_nothing(values: &Node) -> String {
    let regs = match values.get(f::top::REGISTRATIONS.key) {
        None | Some(Node::Null) => "there is no `repoRegistrations`",
        Some(_) => "`repoRegistrations` is empty",
    };
    let s3 = match values.get(f::top::S3.key) {
        None | Some(Node::Null) => "no `s3` section",
        Some(_) => "`s3.enabled` is not true",
    };
    format!("{regs} and {s3}")
}

/// A map at `path`: `None` when absent or null; a problem when of another type.
fn map<'a>(r: &mut Reader, node: Option<&'a Node>, path: &str) -> Option<&'a Map> {
    match node {
        None | Some(Node::Null) => None,
        Some(Node::Map(m)) => Some(m),
        Some(other) => {
            r.err(path, format!("expected a map, got {}", show_node(other)));
            None
        }
    }
}

/// A nested section, opened; an absent one as an empty map (its defaults).
fn section_or_empty<'a>(
    r: &mut Reader,
    fs: &mut Fields<'a>,
    field: &Field,
    ctx: Ctx,
) -> Fields<'a> {
    if fs.given(field) {
        if let Some(inner) = r.section(fs, field) {
            return inner;
        }
    } else {
        fs.take(r, field);
    }
    let f::Type::Map(section) = field.ty else {
        unreachable!("`{}` is not a section", field.key)
    };
    walk(section, &EMPTY, &fs.at(field), ctx)
}

/// The value of a string field, else its default (also after a problem, which is reported: the
/// value only lets the other fields be read).
fn str_or_default(r: &mut Reader, fs: &mut Fields, field: &Field) -> String {
    r.str(fs, field)
        .unwrap_or_else(|| field.default_str().to_string())
}

fn read_settings(r: &mut Reader, node: Option<&Node>) -> (Settings, Defaults, bool) {
    let path = f::top::SETTINGS.key;
    let ctx = Ctx {
        version: argo::DEFAULT,
    };
    let map = map(r, node, path).unwrap_or(&EMPTY);
    let mut fs = walk(&f::SETTINGS, map, path, ctx);
    fs.open(r);
    let before = r.problems.len();

    let controller_namespace = r.str(&mut fs, &set::CONTROLLER_NAMESPACE);
    let config_map_name = str_or_default(r, &mut fs, &set::CONFIG_MAP_NAME);
    let allow_ref_less_lookup_break = r
        .bool(&mut fs, &set::ALLOW_REF_LESS_LOOKUP_BREAK)
        .unwrap_or(false);
    // Read for its type only: the command line applies it (`values::strict`), to every warning,
    // those found outside the values too.
    r.bool(&mut fs, &set::STRICT);
    let default_key = str_or_default(r, &mut fs, &set::DEFAULT_KEY);
    let argo_version = r.version(&mut fs, &set::ARGO_VERSION);
    let namespace_rule = r.str(&mut fs, &set::NAMESPACE_RULE);
    let namespace_prefix = str_or_default(r, &mut fs, &set::NAMESPACE_PREFIX);
    let existing_templates = r
        .strs(&mut fs, &set::EXISTING_TEMPLATES)
        .unwrap_or_default();
    let layout = match r.str(&mut fs, &set::LAYOUT).as_deref() {
        Some("tenant") => Layout::Tenant,
        _ => Layout::Central,
    };
    let create_namespaces = r.bool(&mut fs, &set::CREATE_NAMESPACES).unwrap_or(true);
    let service_account_name = str_or_default(r, &mut fs, &set::SERVICE_ACCOUNT_NAME);
    let artifact_gc = match fs.take(r, &set::ARTIFACT_GC) {
        Value::Section(gc) => read_gc(r, *gc, &service_account_name),
        _ => None,
    };
    let identity = match r.section(&mut fs, &set::WORKLOAD_IDENTITY) {
        Some(id) => read_identity(r, id).unwrap_or_default(),
        None => WorkloadIdentity::default(),
    };
    let mut namespace_identity = IndexMap::new();
    if let Value::Named(namespaces) = fs.take(r, &set::NAMESPACES) {
        for (ns, section) in namespaces {
            let Some(mut section) = section else { continue };
            section.open(r);
            if let Some(id) = r.section(&mut section, &set::NAMESPACE_WORKLOAD_IDENTITY)
                && let Some(identity) = read_identity(r, id)
                && !identity.is_empty()
            {
                namespace_identity.insert(ns, identity);
            }
            section.finish(r);
        }
    }
    let executor_role_name = if fs.given(&set::EXECUTOR_ROLE_NAME) {
        r.str(&mut fs, &set::EXECUTOR_ROLE_NAME).unwrap_or_default()
    } else {
        fs.take(r, &set::EXECUTOR_ROLE_NAME);
        let derived = format!("{service_account_name}-executor");
        let at = fs.at(&set::EXECUTOR_ROLE_NAME);
        r.rule(&at, &derived, set::EXECUTOR_ROLE_NAME.rule.check(&derived));
        derived
    };
    let reader_role_name = if fs.given(&set::READER_ROLE) {
        match r.section(&mut fs, &set::READER_ROLE) {
            Some(mut m) => {
                let enabled = r.bool(&mut m, &set::READER_ROLE_ENABLED).unwrap_or(true);
                let name = str_or_default(r, &mut m, &set::READER_ROLE_NAME);
                m.finish(r);
                enabled.then_some(name)
            }
            None => None,
        }
    } else {
        fs.take(r, &set::READER_ROLE);
        Some(set::READER_ROLE_NAME.default_str().to_string())
    };
    let eso = section_or_empty(r, &mut fs, &set::EXTERNAL_SECRETS, ctx);
    let external_secrets = read_eso(r, eso);
    let mut keys = section_or_empty(r, &mut fs, &set::CREDENTIAL_KEYS, ctx);
    let access_key_key = str_or_default(r, &mut keys, &set::ACCESS_KEY);
    let secret_key_key = str_or_default(r, &mut keys, &set::SECRET_KEY);
    cross::distinct_credential_keys(r, &keys.path, &access_key_key, &secret_key_key);
    keys.finish(r);
    let runner = section_or_empty(r, &mut fs, &set::WORKFLOW_TEMPLATES, ctx);
    let runner = read_runner(r, runner);
    let common_labels = r.pairs(&mut fs, &set::COMMON_LABELS).unwrap_or_default();
    fs.finish(r);

    let ok = r.problems.len() == before && argo_version.is_some();
    let defaults = Defaults {
        repo_rule_prefix: (namespace_rule.as_deref() == Some("repo"))
            .then(|| namespace_prefix.clone()),
        controller_namespace: controller_namespace.clone(),
        artifact_gc,
        identity,
        namespace_identity,
    };
    let settings = Settings {
        controller_namespace: controller_namespace
            .unwrap_or_else(|| set::CONTROLLER_NAMESPACE.default_str().into()),
        config_map_name,
        allow_ref_less_lookup_break,
        default_key,
        argo_version: argo_version.unwrap_or(argo::DEFAULT),
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
    (settings, defaults, ok)
}

fn read_eso(r: &mut Reader, mut fs: Fields) -> ExternalSecretSettings {
    let mut store = section_or_empty(
        r,
        &mut fs,
        &set::STORE_REF,
        Ctx {
            version: argo::DEFAULT,
        },
    );
    let store_kind = match r.str(&mut store, &set::STORE_KIND).as_deref() {
        Some("SecretStore") => StoreKind::SecretStore,
        _ => StoreKind::ClusterSecretStore,
    };
    let store_name = str_or_default(r, &mut store, &set::STORE_NAME);
    store.finish(r);
    let path_prefix = r.str(&mut fs, &set::PATH_PREFIX);
    let refresh_interval = str_or_default(r, &mut fs, &set::REFRESH_INTERVAL);
    let access_key_property = str_or_default(r, &mut fs, &set::ACCESS_KEY_PROPERTY);
    let secret_key_property = str_or_default(r, &mut fs, &set::SECRET_KEY_PROPERTY);
    fs.finish(r);
    ExternalSecretSettings {
        store_kind,
        store_name,
        refresh_interval,
        path_prefix,
        access_key_property,
        secret_key_property,
    }
}

/// `None` when WorkflowTemplates are disabled.
fn read_runner(r: &mut Reader, mut fs: Fields) -> Option<RunnerSettings> {
    let enabled = r.bool(&mut fs, &set::RUNNER_ENABLED).unwrap_or(true);
    let image = str_or_default(r, &mut fs, &set::RUNNER_IMAGE);
    let command = r.strs(&mut fs, &set::RUNNER_COMMAND).unwrap_or_default();
    let args = r.strs(&mut fs, &set::RUNNER_ARGS).unwrap_or_default();
    let output_path = str_or_default(r, &mut fs, &set::OUTPUT_PATH);
    let ref_template = str_or_default(r, &mut fs, &set::REF_TEMPLATE);
    fs.finish(r);
    enabled.then_some(RunnerSettings {
        image,
        command,
        args,
        output_path,
        ref_template,
    })
}

/// `artifactGC`: `None` when empty or wrong.
fn read_gc(r: &mut Reader, mut fs: Fields, default_sa: &str) -> Option<ArtifactGc> {
    if fs.map.is_empty() {
        fs.discard();
        return None;
    }
    fs.open(r);
    let before = r.problems.len();
    let strategy = cross::required(r, &mut fs, &f::gc::STRATEGY);
    let sa = r
        .str(&mut fs, &f::gc::SERVICE_ACCOUNT_NAME)
        .unwrap_or_else(|| default_sa.to_string());
    fs.finish(r);
    (r.problems.len() == before).then(|| ArtifactGc {
        strategy: strategy.unwrap_or_default(),
        service_account_name: sa,
    })
}

/// `workloadIdentity`: `None` when wrong.
fn read_identity(r: &mut Reader, mut fs: Fields) -> Option<WorkloadIdentity> {
    let before = r.problems.len();
    let identity = WorkloadIdentity {
        aws_role_arn: r.str(&mut fs, &f::identity::AWS_ROLE_ARN),
        gcp_service_account: r.str(&mut fs, &f::identity::GCP_SERVICE_ACCOUNT),
        azure_client_id: r.str(&mut fs, &f::identity::AZURE_CLIENT_ID),
    };
    fs.finish(r);
    (r.problems.len() == before).then_some(identity)
}

fn read_default(
    r: &mut Reader,
    node: Option<&Node>,
    settings: &Settings,
    ctx: Ctx,
) -> Option<Repository> {
    let path = f::top::S3.key;
    let map = map(r, node, path)?;
    let mut fs = walk(&f::S3, map, path, ctx);
    let enabled = r.bool(&mut fs, &repo::ENABLED).unwrap_or(false);
    if !enabled {
        // Nothing else in the section applies; only its keys are checked (an inline credential
        // there is refused all the same).
        r.keys(map, path, &f::S3, "");
        fs.discard();
        return None;
    }
    let per_tenant = r
        .bool(&mut fs, &repo::KEY_PREFIX_PER_TENANT)
        .unwrap_or(false);
    let default_secret_name = format!("{}default", f::SECRET_PREFIX);
    let kind = BucketKind {
        endpoint_key: repo::ENDPOINT_FIELD.key,
        default_secret_name: &default_secret_name,
    };
    read_bucket(r, fs, &kind, settings, ctx, per_tenant)
}

/// Reads one bucket block (`s3`, or a registration's `artifactBucket`) into the model: either the
/// seed's shape (`hostname`, `bucket`, ... plus any of Argo's S3 fields) or Argo's own shape (one
/// block `s3:`, `gcs:`, `azure:`, `oss:` or `artifactory:`), with the tool's credential
/// conveniences in both. `None` when a problem was found.
fn read_bucket(
    r: &mut Reader,
    mut fs: Fields,
    kind: &BucketKind,
    settings: &Settings,
    ctx: Ctx,
    per_tenant: bool,
) -> Option<Repository> {
    fs.open(r);
    let before = r.problems.len();
    let blocks: Vec<&'static Field> = fs
        .given_fields()
        .filter(|f| f.shape == Shape::Block)
        .collect();
    let seed: Vec<&'static str> = fs
        .given_fields()
        .filter(|f| f.shape == Shape::Seed)
        .map(|f| f.key)
        .collect();
    if !cross::one_shape(r, &fs.path, &blocks, &seed) {
        fs.discard();
        return None;
    }
    let archive_logs = r.bool(&mut fs, &repo::ARCHIVE_LOGS).unwrap_or(true);
    let conveniences = [
        &repo::EXTERNAL_SECRET_PATH,
        &repo::EXISTING_SECRET,
        &repo::USE_SDK_CREDS,
        &repo::SECRET_NAME,
        &repo::CREDENTIAL_KEYS,
        &repo::VAULT_PROPERTIES,
    ];
    for c in conveniences {
        fs.types(r, c);
    }

    // The key layout as given, before it is joined: `s3.keyPrefixPerTenant` puts the namespace
    // between the two.
    let (backend, mut spec, key_parts) = match blocks.first() {
        Some(b) => {
            let backend = argo::backend(b.key).expect("a backend block");
            let spec = match fs.take(r, b) {
                Value::Json(Json::Object(spec)) => spec,
                _ => JsonMap::new(),
            };
            if let Some(block) = fs.map.get(b.key).and_then(Node::as_map) {
                cross::backend_required(r, &fs.at(b), backend, block);
            }
            let text = |k: &str| spec.get(k).and_then(Json::as_str).map(str::to_string);
            let format = text(backend.key_format.unwrap_or("keyFormat"));
            let prefix = if format.is_none() {
                text("keyPrefix")
            } else {
                None
            };
            (backend, spec, (prefix, format))
        }
        None => {
            let (spec, parts) = read_seed(r, &mut fs, kind, ctx);
            (
                argo::backend("s3").expect("s3"),
                spec.unwrap_or_default(),
                parts,
            )
        }
    };
    // The conveniences' rules after the repository: they depend on where it is.
    let conv = Conveniences {
        vault: r.str(&mut fs, &repo::EXTERNAL_SECRET_PATH),
        existing: r.str(&mut fs, &repo::EXISTING_SECRET),
        sdk: r.bool(&mut fs, &repo::USE_SDK_CREDS).unwrap_or(false),
        secret_name: r.str(&mut fs, &repo::SECRET_NAME),
        keys: r.pairs(&mut fs, &repo::CREDENTIAL_KEYS).unwrap_or_default(),
        properties: r
            .pairs(&mut fs, &repo::VAULT_PROPERTIES)
            .unwrap_or_default(),
    };
    let path = fs.path.clone();
    fs.finish(r);
    // The Secret the ExternalSecret creates is named after the backend (`gcs-credentials-<name>`).
    let default_secret_name = match kind.default_secret_name.strip_prefix(f::SECRET_PREFIX) {
        Some(rest) if backend.key != "s3" => formats::shorten(
            &format!("{}-credentials-", backend.key),
            rest,
            cross::SECRET_NAME_MAX,
        ),
        _ => kind.default_secret_name.to_string(),
    };
    let kind = &BucketKind {
        default_secret_name: &default_secret_name,
        ..*kind
    };
    let clean = r.problems.len() == before;
    let credentials = cross::credentials(
        r,
        &path,
        backend,
        &mut spec,
        &conv,
        kind,
        settings,
        blocks.is_empty() && clean,
    );
    if r.problems.len() == before {
        cross::usable(r, &path, backend, &spec, blocks.is_empty());
    }
    if backend.key == "s3" && r.problems.len() == before {
        cross::s3_consistency(r, &spec, &path, blocks.is_empty());
    }
    if r.problems.len() > before {
        return None;
    }
    let credentials = credentials?;
    let user_secrets = cross::user_secrets(backend, &spec, &credentials);
    let tenant_key = per_tenant.then(|| {
        // Written as `keyFormat`, which Argo prefers to `keyPrefix`.
        spec.remove("keyPrefix");
        TenantKey {
            field: backend.key_format.unwrap_or("keyFormat"),
            prefix: key_parts.0.unwrap_or_default(),
            rest: key_parts.1.unwrap_or_else(|| ARGO_KEY_FORMAT.into()),
        }
    });
    Some(Repository::new(
        archive_logs,
        backend,
        cross::order(spec, backend.fields),
        credentials,
        user_secrets,
        tenant_key,
    ))
}

/// The seed's shape, as an S3 block; with the key prefix and template as given.
fn read_seed(
    r: &mut Reader,
    fs: &mut Fields,
    kind: &BucketKind,
    ctx: Ctx,
) -> (Option<JsonMap>, (Option<String>, Option<String>)) {
    let before = r.problems.len();
    let text = |r: &mut Reader, fs: &mut Fields, f: &Field| match fs.take(r, f) {
        Value::Str(s) => Some(s),
        _ => None,
    };
    let hostname = text(r, fs, &repo::HOSTNAME);
    let endpoint = text(r, fs, &repo::ENDPOINT_FIELD);
    let insecure = match fs.take(r, &repo::INSECURE) {
        Value::Bool(b) => Some(b),
        _ => None,
    };
    let (endpoint, insecure) =
        cross::seed_endpoint(r, &fs.path, kind, hostname, endpoint, insecure);
    let bucket = cross::required(r, fs, &repo::BUCKET);
    let region = r.str(fs, &repo::REGION);
    let key_prefix = r.str(fs, &repo::KEY_PREFIX);
    let key_format = r.str(fs, &repo::KEY_FORMAT);
    let joined = cross::key_join(key_prefix.as_deref(), key_format.as_deref());
    let path_style = r.bool(fs, &repo::PATH_STYLE);
    let addressing_style = cross::path_style(
        r,
        fs,
        path_style,
        ctx.version,
        &endpoint,
        bucket.as_deref(),
        insecure,
    );
    let role_arn = r.str(fs, &repo::ROLE_ARN);
    let mut spec = JsonMap::new();
    spec.insert("endpoint".into(), Json::from(endpoint));
    if let Some(b) = bucket {
        spec.insert("bucket".into(), Json::from(b));
    }
    if let Some(reg) = region {
        spec.insert("region".into(), Json::from(reg));
    }
    spec.insert("insecure".into(), Json::from(insecure));
    if let Some(f) = joined {
        spec.insert("keyFormat".into(), Json::from(f));
    }
    if let Some(a) = addressing_style {
        spec.insert("addressingStyle".into(), Json::from(a));
    }
    if let Some(a) = role_arn {
        spec.insert("roleARN".into(), Json::from(a));
    }
    // Argo's other S3 fields, as Argo writes them.
    for field in repo::ARGO_S3 {
        if let Value::Json(v) = fs.take(r, field) {
            spec.insert(field.key.into(), v);
        }
    }
    let spec = (r.problems.len() == before).then_some(spec);
    (spec, (key_prefix, key_format))
}

fn read_registrations(
    r: &mut Reader,
    node: Option<&Node>,
    settings: &Settings,
    defaults: &Defaults,
    ctx: Ctx,
) -> (
    Vec<Registration>,
    std::collections::BTreeMap<String, WorkloadIdentity>,
) {
    let path = f::top::REGISTRATIONS.key;
    let mut identities = cross::Identities::new(defaults);
    let items = match node {
        None | Some(Node::Null) => return (Vec::new(), identities.into_map()),
        Some(Node::Seq(items)) => items,
        Some(other) => {
            r.err(
                path,
                format!("expected a list of registrations, got {}", show_node(other)),
            );
            return (Vec::new(), identities.into_map());
        }
    };
    let mut names = cross::Names::default();
    let mut secrets = cross::Secrets::default();
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
        let mut fs = walk(&f::REGISTRATION, map, &p, ctx);
        fs.open(r);
        let before = r.problems.len();
        let name = r.str(&mut fs, &reg::NAME);
        if let Some(n) = &name {
            names.check(r, &fs.at(&reg::NAME), n);
        }
        let repo_url = r.str(&mut fs, &reg::REPO_URL);
        let default_branch = str_or_default(r, &mut fs, &reg::DEFAULT_BRANCH);
        let tenant_text = r.str(&mut fs, &reg::TENANT);
        let tenant = tenant_text.as_deref().and_then(formats::tenant_label);
        let namespace_given = fs.given(&reg::NAMESPACE);
        let namespace = r.str(&mut fs, &reg::NAMESPACE);
        let namespace = cross::namespace(
            r,
            &fs,
            (namespace, namespace_given),
            tenant_text.as_deref(),
            repo_url.as_deref(),
            defaults,
        );
        let template_ref = r.str(&mut fs, &reg::WORKFLOW_TEMPLATE_REF);
        if let Some(t) = &template_ref {
            cross::template_ref(r, &fs.at(&reg::WORKFLOW_TEMPLATE_REF), t, name.as_deref());
        }
        // The origin chart's fields the tool has no use for: checked by the walk, then ignored.
        for ignored in [
            &reg::INSTALLATION_ID,
            &reg::ADMIN_USERS,
            &reg::READ_USERS,
            &reg::IS_PUBLIC,
            &reg::GITHUB_SECRET_NAME,
            &reg::GITHUB_SECRET_PATH,
        ] {
            fs.take(r, ignored);
        }

        let n = name.clone().unwrap_or_default();
        let repository = match fs.take(r, &reg::ARTIFACT_BUCKET) {
            Value::Section(b) => {
                let default_secret = formats::shorten(f::SECRET_PREFIX, &n, cross::SECRET_NAME_MAX);
                let kind = BucketKind {
                    endpoint_key: repo::HOSTNAME.key,
                    default_secret_name: &default_secret,
                };
                read_bucket(r, *b, &kind, settings, ctx, false)
            }
            _ => None,
        };
        let data_path = fs.at(&reg::DATA_BUCKET);
        let data_repository = match fs.take(r, &reg::DATA_BUCKET) {
            Value::Section(b) => {
                // The same Vault path is the same credentials: one Secret serves both buckets
                // (unless the data bucket names its own `secretName`).
                let shared_secret = cross::shared_secret(repository.as_ref(), &b);
                let default_secret = shared_secret.clone().unwrap_or_else(|| {
                    formats::shorten(f::DATA_SECRET_PREFIX, &n, cross::SECRET_NAME_MAX)
                });
                let kind = BucketKind {
                    endpoint_key: repo::HOSTNAME.key,
                    default_secret_name: &default_secret,
                };
                let data = read_bucket(r, *b, &kind, settings, ctx, false);
                if let (Some(a), Some(d), Some(sn)) = (&repository, &data, &shared_secret) {
                    cross::same_shared_secret(r, &data_path, a, d, sn);
                }
                data
            }
            _ => None,
        };
        secrets.check(
            r,
            name.as_deref(),
            namespace.as_deref(),
            (repository.as_ref(), &fs.at(&reg::ARTIFACT_BUCKET)),
            (data_repository.as_ref(), &data_path),
        );
        let artifact_gc = match fs.take(r, &reg::ARTIFACT_GC) {
            Value::Absent => defaults.artifact_gc.clone(),
            Value::Section(gc) => read_gc(r, *gc, &settings.service_account_name),
            _ => None,
        };
        let identity_at = fs.at(&reg::WORKLOAD_IDENTITY);
        let identity_given = fs.given(&reg::WORKLOAD_IDENTITY);
        let identity = match fs.take(r, &reg::WORKLOAD_IDENTITY) {
            Value::Absent => identities.default_for(namespace.as_deref()),
            Value::Section(id) => {
                id.open(r);
                read_identity(r, *id)
            }
            _ => None,
        };
        identities.check(
            r,
            namespace.as_deref(),
            identity,
            &identity_at,
            identity_given,
            &settings.service_account_name,
        );
        fs.finish(r);
        if r.problems.len() > before {
            continue;
        }
        out.push(Registration {
            index: i,
            name: name.expect("valid"),
            repo_url: repo_url.expect("valid"),
            default_branch,
            tenant: tenant.expect("valid"),
            namespace: namespace.expect("valid"),
            repository,
            data_repository,
            workflow_template_ref: template_ref,
            artifact_gc,
        });
    }
    (out, identities.into_map())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_of_section_keys() {
        for (key, section) in [
            ("repoRegistration", "repoRegistrations"),
            ("registrations", "repoRegistrations"),
            ("registration", "repoRegistrations"),
            ("RepoRegistrations", "repoRegistrations"),
            ("repoRegistratons", "repoRegistrations"),
            ("artifactRepo", "artifactRepos"),
            ("ArtifactRepos", "artifactRepos"),
            ("S3", "s3"),
        ] {
            assert_eq!(near_section(key), Some(Near::Section(section)), "{key}");
        }
        assert_eq!(near_section("artifact-repos"), Some(Near::Chart));
        // An umbrella file's other keys stay ignored.
        for key in [
            "global",
            "minio",
            "argo-workflows",
            "repos",
            "s4",
            "registry",
            "artifacts",
        ] {
            assert_eq!(near_section(key), None, "{key}");
        }
    }
    use crate::rules::argo::ArgoVersion;

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
            r.spec()["accessKeySecret"],
            serde_json::json!({"name": "my-s3-credentials", "key": "accessKey"})
        );
        // The same in Argo's shape.
        let r = one(
            "s3:\n  enabled: true\n  s3:\n    bucket: my-bucket\n    accessKeySecret: {name: my-s3-credentials, key: accessKey}\n    secretKeySecret: {name: my-s3-credentials, key: secretKey}\n",
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
            r.spec()["accountKeySecret"],
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
        assert_eq!(r.spec()["useSDKCreds"], serde_json::json!(true));
        // GCS workload identity: no key Secret at all.
        let r = one("s3:\n  enabled: true\n  gcs: {bucket: bk1}\n  useSDKCreds: true\n");
        assert!(!r.spec().contains_key("useSDKCreds") && r.credentials == Credentials::Sdk);
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
        assert_eq!(r.spec()["addressingStyle"], "virtual-hosted");
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
        assert_eq!(r.spec()["caSecret"]["key"], "ca.pem");
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
            (
                r.spec()["endpoint"].as_str(),
                r.spec()["insecure"].as_bool()
            ),
            (Some("minio:9000"), Some(true))
        );
        let r = one(
            "s3:\n  enabled: true\n  hostname: 'https://minio:9000'\n  endpoint: 'https://minio:9000'\n  bucket: bk1\n  useSDKCreds: true\n",
        );
        assert_eq!(
            (
                r.spec()["endpoint"].as_str(),
                r.spec()["insecure"].as_bool()
            ),
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
