//! Checks of the finished model, run once at the end of `validate` (issue 20): what only shows
//! once every registration is read, and concerns how tenants are kept apart. Problems are
//! errors (exit 2); warnings become errors under `--strict` / `artifactRepos.strict` like every
//! other warning.
//!
//! - Target version: every field a repository will be written with exists in the target Argo
//!   release. The reader checks the fields a user writes; the conveniences fill more
//!   (`vaultProperties: {caCert}` writes `s3.caSecret`, new in 3.5; `useSDKCreds: true` writes
//!   `oss.useSDKCreds`, new in 3.5), and Argo would drop them silently.
//! - Data buckets are read-only (item 4): `policies` grants a data bucket `s3:GetObject` only, and
//!   a shared input data set is exactly what a tenant must not overwrite, so its repository is
//!   written with `archiveLogs: false` (Argo's `SaveLogs` would fail every step on a read-only
//!   repository); an explicit `archiveLogs: true` on a `dataBucket` (the RepoRegistration chart
//!   writes one) is a warning that says so.
//! - IAM wildcards: a key prefix holding `*`, `?` or `${` becomes a wildcard (or a policy
//!   variable) in the policy's `Resource` and `s3:prefix`, granting other tenants' keys; IAM has no
//!   escape for them, so such a prefix is refused.
//! - A Vault secret pulled by registrations of several tenants (one naming another tenant's path)
//!   syncs one credential into each of their namespaces: a warning at each registration involved.
//! - Key prefixes: one tenant's key prefix equal to, or containing, another tenant's in the same
//!   bucket gives its credential the other's keys: a warning at each registration involved.
//!
//! Two uses of the default repository are never compared with each other (`validate`'s
//! `default_isolation` speaks for those), nor two data buckets (sharing read-only input data
//! between tenants is what a data bucket is for).
//!
//! It reads the values tree only to tell an explicit `archiveLogs` from the default.

use super::path::{index, join};
use crate::error::{Problem, Problems};
use crate::model::{Credentials, Layout, Model, Registration, Repository};
use crate::rules::argo::{self, ArgoVersion, FieldType};
use crate::rules::credential::show;
use crate::yaml::Node;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The model-level checks: the model back with the warnings, or every problem found.
pub fn check(
    values: &Node,
    mut model: Model,
    mut warnings: Vec<Problem>,
) -> Result<(Model, Vec<Problem>), Problems> {
    let mut problems = Problems::default();
    data_buckets_read_only(values, &mut model, &mut warnings);
    let uses = uses(&model);
    let version = model.settings.argo_version;
    let (mut seen, mut wildcards) = (BTreeSet::new(), BTreeSet::new());
    for u in &uses {
        // Each repository once (the default is used by every namespace).
        if seen.insert(u.path.clone()) {
            target_version(
                &u.path,
                u.repo.backend,
                u.repo.spec(),
                version,
                &mut problems,
            );
        }
        iam_wildcards(u, &mut wildcards, &mut problems);
    }
    shared_vault_secrets(&model, &uses, &mut warnings);
    overlapping_prefixes(&uses, &mut warnings);
    problems.into_result()?;
    Ok((model, warnings))
}

/// One namespace's use of a repository.
struct Use<'m> {
    /// Where the repository is in the values (`repoRegistrations[2].dataBucket`, `s3`).
    path: String,
    /// In messages: `registration `a``, `the data bucket of registration `a``.
    what: String,
    namespace: &'m str,
    tenant: &'m str,
    repo: Cow<'m, Repository>,
    default: bool,
    data: bool,
}

fn uses(model: &Model) -> Vec<Use<'_>> {
    let mut out = Vec::new();
    if let Some(d) = &model.default_repository {
        let mut tenants: BTreeSet<(&str, &str)> = BTreeSet::new();
        for r in &model.registrations {
            tenants.insert((&r.namespace, &r.tenant));
        }
        if model.settings.layout == Layout::Central {
            let cns = model.settings.controller_namespace.as_str();
            out.push(Use {
                path: "s3".into(),
                what: "the default repository".into(),
                namespace: cns,
                tenant: cns,
                repo: d.for_namespace(Some(cns)),
                default: true,
                data: false,
            });
        }
        for (ns, tenant) in tenants {
            out.push(Use {
                path: "s3".into(),
                what: "the default repository".into(),
                namespace: ns,
                tenant,
                repo: d.for_namespace(Some(ns)),
                default: true,
                data: false,
            });
        }
    }
    for r in &model.registrations {
        for (repo, data) in [(&r.repository, false), (&r.data_repository, true)] {
            if let Some(repo) = repo {
                out.push(Use {
                    path: bucket_path(r, data),
                    what: if data {
                        format!("the data bucket of registration {}", show(&r.name))
                    } else {
                        format!("registration {}", show(&r.name))
                    },
                    namespace: &r.namespace,
                    tenant: &r.tenant,
                    repo: Cow::Borrowed(repo),
                    default: false,
                    data,
                });
            }
        }
    }
    out
}

fn bucket_path(r: &Registration, data: bool) -> String {
    join(
        &index("repoRegistrations", r.index),
        if data { "dataBucket" } else { "artifactBucket" },
    )
}

/// A data bucket's repository is written with `archiveLogs: false` (see the file's doc).
fn data_buckets_read_only(values: &Node, model: &mut Model, warnings: &mut Vec<Problem>) {
    let items = match values.get("repoRegistrations") {
        Some(Node::Seq(items)) => items.as_slice(),
        _ => &[],
    };
    for r in &mut model.registrations {
        let path = bucket_path(r, true);
        let Some(repo) = &mut r.data_repository else {
            continue;
        };
        let explicit = items
            .get(r.index)
            .and_then(|i| i.get("dataBucket"))
            .and_then(|d| d.get("archiveLogs"));
        if matches!(explicit, Some(Node::Bool(true))) {
            warnings.push(Problem::new(
                join(&path, "archiveLogs"),
                "`true` is not written: a data bucket is read-only (workflows read their inputs from it; `artifact-repos policies` grants it `s3:GetObject` only), so Argo could not archive logs there and every step would fail saving them; the data repository is written with `archiveLogs: false` (remove the key, or make the bucket an `artifactBucket` if workflows are to write to it)",
            ));
        }
        repo.archive_logs = false;
    }
}

/// Every field of `spec` exists in Argo `version`.
fn target_version(
    path: &str,
    backend: &'static str,
    spec: &serde_json::Map<String, serde_json::Value>,
    version: ArgoVersion,
    problems: &mut Problems,
) {
    let Some(b) = argo::backend(backend) else {
        return;
    };
    fn walk(
        fields: &'static [argo::Field],
        map: &serde_json::Map<String, serde_json::Value>,
        at: &str,
        version: ArgoVersion,
        out: &mut Vec<(String, ArgoVersion)>,
    ) {
        for (k, v) in map {
            let field = format!("{at}.{k}");
            match argo::lookup(fields, k, version) {
                Some(f) => {
                    if let (FieldType::Object(inner), Some(m)) = (f.ty, v.as_object()) {
                        walk(inner, m, &field, version, out);
                    }
                }
                None => {
                    if let Some(f) = argo::lookup_any(fields, k) {
                        out.push((field, f.since));
                    }
                }
            }
        }
    }
    let mut missing = Vec::new();
    walk(b.fields, spec, backend, version, &mut missing);
    for (field, since) in missing {
        let slot = b
            .credentials
            .iter()
            .find(|c| format!("{backend}.{}", c.field.join(".")) == field)
            .map(|c| format!(" (filled for the `{}` credential named in `credentialKeys` or `vaultProperties`)", c.slot))
            .unwrap_or_default();
        problems.push(
            path,
            format!(
                "would be written with `{field}`{slot}, which Argo {version} does not have (it exists from Argo {since}): Argo would silently ignore it; target Argo {since} or later (`artifactRepos.argoVersion`), or drop what asks for it"
            ),
        );
    }
}

/// A key prefix an IAM policy cannot grant exactly (see the file's doc). `seen`: the paths
/// reported already (the default repository is used by every namespace).
fn iam_wildcards(u: &Use, seen: &mut BTreeSet<String>, problems: &mut Problems) {
    if u.repo.backend != "s3" {
        return;
    }
    let prefix = u.repo.key_prefix(Some(u.namespace));
    if let Some(w) = argo::iam_wildcard(&prefix)
        && seen.insert(u.path.clone())
    {
        problems.push(
            u.path.clone(),
            format!(
                "the key prefix {} holds `{w}`, which a bucket policy (`artifact-repos policies`) reads as a wildcard or a policy variable, granting keys of other tenants; IAM has no escape for it: use letters, digits, `-`, `_`, `.` and `/` in `keyPrefix` and `keyFormat`",
                show(&prefix)
            ),
        );
    }
}

/// What one use shares with uses of other tenants: how many, and the first few (in input
/// order), so that a message names some and counts the rest. Linear in what it is told.
#[derive(Default)]
struct Shared {
    count: usize,
    first: Vec<usize>,
}

impl Shared {
    const SHOWN: usize = 2;
    fn add(&mut self, other: usize) {
        self.count += 1;
        if self.first.len() < Self::SHOWN {
            self.first.push(other);
        }
    }
    /// `a`, `a and b`, `a, b and 3 more`.
    fn describe(&self, name: impl Fn(usize) -> String) -> String {
        let names: Vec<String> = self.first.iter().map(|&i| name(i)).collect();
        let rest = self.count - names.len();
        match (names.as_slice(), rest) {
            ([a], 0) => a.clone(),
            ([a, b], 0) => format!("{a} and {b}"),
            ([a, b], 1) => format!("{a}, {b} and 1 other"),
            ([a, b], n) => format!("{a}, {b} and {n} others"),
            _ => names.join(", "),
        }
    }
}

/// Two uses that may not share: of different tenants, not both the default repository (the
/// validator's `default_isolation` speaks for those), not both data buckets.
fn apart(a: &Use, b: &Use) -> bool {
    a.tenant != b.tenant && !(a.default && b.default) && !(a.data && b.data)
}

/// Registrations of several tenants pulling one Vault secret (see the file's doc).
fn shared_vault_secrets(model: &Model, uses: &[Use], warnings: &mut Vec<Problem>) {
    let es = &model.settings.external_secrets;
    // Vault key -> the uses pulling it (indexes into `uses`).
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, u) in uses.iter().enumerate() {
        if let Credentials::Vault { path, .. } = &u.repo.credentials {
            let path = crate::rules::formats::expand_vault_path(path, u.namespace, u.tenant);
            let key = match &es.path_prefix {
                Some(p) => format!("{p}/{path}"),
                None => path,
            };
            by_key.entry(key).or_default().push(i);
        }
    }
    let name = |i: usize| format!("{} of tenant {}", uses[i].what, show(uses[i].tenant));
    let mut out = Vec::new();
    for (key, users) in &by_key {
        // Most keys are one tenant's: nothing to compare.
        let first = uses[users[0]].tenant;
        if users.iter().all(|&i| uses[i].tenant == first) {
            continue;
        }
        for &i in users.iter().filter(|&&i| !uses[i].default) {
            let u = &uses[i];
            let mut shared = Shared::default();
            for &j in users {
                if apart(u, &uses[j]) {
                    shared.add(j);
                }
            }
            if shared.count == 0 {
                continue;
            }
            out.push(Problem::new(
                join(&u.path, "externalSecretPath"),
                format!(
                    "Vault secret {} ({} {}) is also pulled by {}: the same credential is synced into namespace {} of tenant {} and theirs, so each can read and overwrite the other's artifacts; give each tenant a Vault path of its own (`{{namespace}}` or `{{tenant}}` in the path)",
                    show(key),
                    es.store_kind.as_str(),
                    show(&es.store_name),
                    shared.describe(name),
                    show(u.namespace),
                    show(u.tenant),
                ),
            ));
        }
    }
    dedup_into(out, warnings);
}

/// One tenant's key prefix covering another's in the same bucket (see the file's doc).
fn overlapping_prefixes(uses: &[Use], warnings: &mut Vec<Problem>) {
    let prefixes: Vec<String> = uses
        .iter()
        .map(|u| u.repo.key_prefix(Some(u.namespace)))
        .collect();
    // (endpoint, bucket) -> uses, sorted by prefix so that the prefixes a prefix covers follow it.
    let mut by_bucket: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, u) in uses
        .iter()
        .enumerate()
        .filter(|(_, u)| u.repo.backend == "s3")
    {
        let text = |k: &str| {
            u.repo
                .spec()
                .get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        by_bucket
            .entry((text("endpoint"), text("bucket")))
            .or_default()
            .push(i);
    }
    let shown = |p: &str| {
        if p.is_empty() {
            "the whole bucket".to_string()
        } else {
            format!("prefix {}", show(p))
        }
    };
    let mut found: BTreeMap<usize, Shared> = BTreeMap::new();
    for ((_, _), mut list) in by_bucket {
        list.sort_by(|&a, &b| prefixes[a].cmp(&prefixes[b]).then(a.cmp(&b)));
        for (n, &a) in list.iter().enumerate() {
            let pa = prefixes[a].as_str();
            for &b in list[n + 1..]
                .iter()
                .take_while(|&&b| prefixes[b].starts_with(pa))
            {
                if !argo::prefix_covers(pa, &prefixes[b]) || !apart(&uses[a], &uses[b]) {
                    continue;
                }
                for (x, y) in [(a, b), (b, a)] {
                    if !uses[x].default {
                        found.entry(x).or_default().add(y);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (x, shared) in found {
        let u = &uses[x];
        let bucket = u
            .repo
            .spec()
            .get("bucket")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let head = if prefixes[x].is_empty() {
            format!(
                "{} (tenant {}) writes anywhere in bucket {}",
                u.what,
                show(u.tenant),
                show(bucket)
            )
        } else {
            format!(
                "{} (tenant {}) writes under prefix {} of bucket {}",
                u.what,
                show(u.tenant),
                show(&prefixes[x]),
                show(bucket)
            )
        };
        out.push(Problem::new(
            u.path.clone(),
            format!(
                "{head}, and so does {}: one prefix contains the other, so a bucket policy granting one grants the other's keys too; give each tenant a key prefix of its own that is not the start of another's (`keyPrefix: <tenant>/...`)",
                shared.describe(|i| format!("{} of tenant {} ({})", uses[i].what, show(uses[i].tenant), shown(&prefixes[i])))
            ),
        ));
    }
    dedup_into(out, warnings);
}

/// Adds what is not there already (the same path and message), in order.
fn dedup_into(found: Vec<Problem>, warnings: &mut Vec<Problem>) {
    let mut have: std::collections::HashSet<(String, String)> = warnings
        .iter()
        .map(|w| (w.path.clone(), w.message.clone()))
        .collect();
    for p in found {
        if have.insert((p.path.clone(), p.message.clone())) {
            warnings.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message names two of those it shares with and counts the rest, however many there are
    /// (2,000 tenants on one Vault path made 2,000 messages of 2,000 names each).
    #[test]
    fn shared_names_two_and_counts_the_rest() {
        let mut s = Shared::default();
        let name = |i: usize| format!("r{i}");
        s.add(1);
        assert_eq!(s.describe(name), "r1");
        s.add(2);
        assert_eq!(s.describe(name), "r1 and r2");
        s.add(3);
        assert_eq!(s.describe(name), "r1, r2 and 1 other");
        for i in 4..2000 {
            s.add(i);
        }
        assert_eq!(s.describe(name), "r1, r2 and 1997 others");
        assert_eq!(s.first.len(), Shared::SHOWN);
    }
}
