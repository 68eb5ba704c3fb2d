//! `artifact-repos policies`: a least-privilege bucket policy per credential (issue #11, class 12).
//! For every namespace, the S3 repositories its workflows use (the default, each registration's
//! artifact and data buckets) are grouped by the credential that reaches them: a Vault secret
//! (after its path template is expanded), a Secret the user manages in that namespace, or the
//! namespace's cloud identity. Each credential gets one policy in the IAM policy language (AWS IAM,
//! and MinIO, which reads the same language): `s3:ListBucket` on the bucket limited by an
//! `s3:prefix` condition to the credential's key prefixes, `s3:GetBucketLocation` (minio-go, Argo's
//! S3 client, asks for it when no region is set), and `s3:GetObject`/`s3:PutObject`/
//! `s3:DeleteObject` on `arn:aws:s3:::<bucket>/<prefix>/*` (only `s3:GetObject` for a data bucket,
//! which workflows read). The prefix is the literal start of the key template (`keyFormat`) up
//! to its last `/` before the first `{{`: with `s3.keyPrefixPerTenant` it ends in the namespace.
//! Pure: the model in, policies out, in a fixed order.

use crate::model::{Credentials, Layout, Model, Repository};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// `policies --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// AWS IAM: ARNs in the partition of the bucket's region (`aws-cn`, `aws-us-gov`).
    Aws,
    /// MinIO (`mc admin policy create`): the same language, ARNs always `arn:aws:s3:::`.
    Minio,
}

/// One credential's policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// A file and policy name: letters, digits and `+=,.@_-`, unique.
    pub name: String,
    /// What the credential is: `vault ClusterSecretStore/vault argo/artifacts/team-a`, `secret
    /// team-a/my-s3`, `role arn:...`, `sdk team-a`.
    pub credential: String,
    /// The namespaces whose workflows use it.
    pub namespaces: Vec<String>,
    pub document: Value,
}

/// What a credential reaches: bucket -> prefix -> write access.
type Grants = BTreeMap<String, BTreeMap<String, bool>>;

/// The literal key prefix of a repository's key template, without its trailing `/`.
fn literal_prefix(repo: &Repository) -> String {
    let template = repo.key_template();
    let literal = template.split("{{").next().unwrap_or_default();
    match literal.rfind('/') {
        Some(i) => literal[..i].trim_matches('/').to_string(),
        None => String::new(),
    }
}

/// The partition of an AWS region's ARNs.
fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Every credential's policy, sorted by name, and notes for stderr (repositories no policy covers).
pub fn policies(model: &Model, format: Format) -> (Vec<Policy>, Vec<String>) {
    let s = &model.settings;
    let es = &s.external_secrets;
    let mut grants: BTreeMap<String, (Grants, BTreeSet<String>, String)> = BTreeMap::new();
    // bucket -> region (for the partition).
    let mut regions: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut notes = BTreeSet::new();
    let mut add = |ns: &str, tenant: &str, repo: &Repository, write: bool, what: &str| {
        if repo.backend != "s3" {
            notes.insert(format!(
                "{what}: a `{}` repository; policies are written for S3 (AWS, MinIO) only",
                repo.backend
            ));
            return;
        }
        let Some(bucket) = repo.location() else {
            return;
        };
        let (id, name) = match &repo.credentials {
            Credentials::Vault { path, .. } => {
                let path = crate::rules::formats::expand_vault_path(path, ns, tenant);
                let key = match &es.path_prefix {
                    Some(p) => format!("{p}/{path}"),
                    None => path,
                };
                (
                    format!("vault {}/{} {key}", es.store_kind.as_str(), es.store_name),
                    key,
                )
            }
            Credentials::ExistingSecret { secret_name } => (
                format!("secret {ns}/{secret_name}"),
                format!("{ns}-{secret_name}"),
            ),
            Credentials::AsWritten if !repo.user_secrets.is_empty() => {
                let names = repo.user_secrets.join(",");
                (format!("secret {ns}/{names}"), format!("{ns}-{names}"))
            }
            Credentials::Sdk | Credentials::AsWritten => {
                match model.identity(ns).and_then(|i| i.aws_role_arn.as_deref()) {
                    Some(arn) => (
                        format!("role {arn}"),
                        arn.rsplit('/').next().unwrap_or(arn).to_string(),
                    ),
                    None => (format!("sdk {ns}"), format!("{ns}-sdk")),
                }
            }
        };
        regions
            .entry(bucket.to_string())
            .or_insert(repo.region().map(str::to_string));
        let prefix = literal_prefix(repo);
        let entry = grants.entry(id).or_insert_with(|| {
            let name: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            (Grants::new(), BTreeSet::new(), name)
        });
        let w = entry
            .0
            .entry(bucket.to_string())
            .or_default()
            .entry(prefix)
            .or_insert(false);
        *w |= write;
        entry.1.insert(ns.to_string());
    };
    let mut tenants: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &model.registrations {
        tenants.entry(&r.namespace).or_insert(&r.tenant);
    }
    if let Some(d) = &model.default_repository {
        if s.layout == Layout::Central {
            let cns = s.controller_namespace.as_str();
            add(
                cns,
                cns,
                &d.for_namespace(Some(cns)),
                true,
                "the default repository",
            );
        }
        for (ns, tenant) in &tenants {
            add(
                ns,
                tenant,
                &d.for_namespace(Some(ns)),
                true,
                "the default repository",
            );
        }
    }
    for r in &model.registrations {
        if let Some(repo) = &r.repository {
            add(
                &r.namespace,
                &r.tenant,
                repo,
                true,
                &format!("registration `{}`", r.name),
            );
        }
        if let Some(repo) = &r.data_repository {
            add(
                &r.namespace,
                &r.tenant,
                repo,
                false,
                &format!("the data bucket of registration `{}`", r.name),
            );
        }
    }
    let mut used_names = BTreeSet::new();
    let mut out = Vec::new();
    for (credential, (buckets, namespaces, name)) in grants {
        let mut unique = name.clone();
        let mut n = 2;
        while !used_names.insert(unique.clone()) {
            unique = format!("{name}-{n}");
            n += 1;
        }
        let mut statements = Vec::new();
        for (bucket, prefixes) in &buckets {
            let arn = match format {
                Format::Aws => partition(regions[bucket].as_deref()),
                Format::Minio => "aws",
            };
            let bucket_arn = format!("arn:{arn}:s3:::{bucket}");
            statements.push(json!({
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation"],
                "Resource": [bucket_arn],
            }));
            let whole = prefixes.contains_key("");
            let mut list = json!({
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket_arn],
            });
            if !whole {
                let values: Vec<String> = prefixes
                    .keys()
                    .flat_map(|p| [format!("{p}/"), format!("{p}/*")])
                    .collect();
                list["Condition"] = json!({"StringLike": {"s3:prefix": values}});
            }
            statements.push(list);
            for write in [true, false] {
                let resources: Vec<String> = prefixes
                    .iter()
                    .filter(|(p, w)| **w == write && (whole == p.is_empty() || !whole))
                    .map(|(p, _)| {
                        if p.is_empty() {
                            format!("{bucket_arn}/*")
                        } else {
                            format!("{bucket_arn}/{p}/*")
                        }
                    })
                    .collect();
                if resources.is_empty() {
                    continue;
                }
                let actions: &[&str] = if write {
                    &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
                } else {
                    &["s3:GetObject"]
                };
                statements.push(json!({
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": resources,
                }));
            }
        }
        out.push(Policy {
            name: unique,
            credential,
            namespaces: namespaces.into_iter().collect(),
            document: json!({"Version": "2012-10-17", "Statement": statements}),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let mut notes: Vec<String> = notes.into_iter().collect();
    for p in &out {
        if p.namespaces.len() > 1 {
            notes.push(format!(
                "policy `{}`: one credential ({}) serves {} namespaces ({}): it must reach all their keys, so they are not isolated from each other",
                p.name,
                p.credential,
                p.namespaces.len(),
                p.namespaces.join(", ")
            ));
        }
    }
    (out, notes)
}

/// The stdout form: one JSON object listing every policy with what it is for.
pub fn to_json(policies: &[Policy]) -> String {
    let list: Vec<Value> = policies
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "credential": p.credential,
                "namespaces": p.namespaces,
                "policy": p.document,
            })
        })
        .collect();
    crate::yaml::to_json(&json!({ "policies": list }))
}

/// One policy document as a file holds it (`--output-dir`): what `aws iam create-policy
/// --policy-document file://...` and `mc admin policy create` read.
pub fn document_json(p: &Policy) -> String {
    crate::yaml::to_json(&p.document)
}
