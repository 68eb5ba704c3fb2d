//! `artifact-repos policies`: a least-privilege bucket policy per credential (issue #11, class 12).
//! For every namespace, the S3 repositories its workflows use (the default, each registration's
//! artifact and data buckets) are grouped by the credential that reaches them: a Vault secret
//! (after its path template is expanded), a Secret the user manages in that namespace, or the
//! namespace's cloud identity. Each credential gets one policy in the IAM policy language (AWS IAM,
//! and MinIO, which reads the same language): `s3:ListBucket` on the bucket limited by an
//! `s3:prefix` condition to the credential's key prefixes, `s3:GetBucketLocation` (minio-go, Argo's
//! S3 client, asks for it when no region is set), and `s3:GetObject`/`s3:PutObject`/
//! `s3:DeleteObject`/`s3:AbortMultipartUpload` on `arn:aws:s3:::<bucket>/<prefix>/*` (only
//! `s3:GetObject` for a data bucket, which workflows read). The prefix is the literal start of the
//! key template (`rules::argo::key_literal_prefix`): with `s3.keyPrefixPerTenant` it ends in the
//! namespace.
//!
//! What else Argo's S3 driver calls (issue 20 item 3; `workflow/artifacts/s3/s3.go` v3.7.18,
//! minio-go v7.0.100), granted only where a repository asks for it:
//! - `createBucketIfNotPresent`: `MakeBucket` before every save (`s3:CreateBucket`); with
//!   `objectLocking` the bucket is created with object lock, which AWS authorizes with
//!   `s3:PutBucketObjectLockConfiguration` and `s3:PutBucketVersioning` too; with
//!   `enableEncryption` a new bucket gets its default encryption (`SetBucketEncryption`,
//!   `s3:PutEncryptionConfiguration`).
//! - objects of 16 MiB or more upload in parts (minio-go `minPartSize`), and a failed upload is
//!   aborted (`s3:AbortMultipartUpload`).
//! - SSE-KMS (`enableEncryption` with a `kmsKeyId`): every put asks KMS for a data key and every
//!   get decrypts it (`kms:GenerateDataKey`, `kms:Decrypt` on the key; a data bucket only
//!   `kms:Decrypt`). Only a key ARN can be named; for a key id or an alias the notes say so. MinIO
//!   authorizes SSE-KMS through its own KMS, not the user's policy: `--format minio` has no `kms:`
//!   statement.
//!
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

/// What a credential reaches in one bucket: prefix -> write access, and what its repositories
/// ask of the bucket.
#[derive(Debug, Default)]
struct BucketGrant {
    prefixes: BTreeMap<String, bool>,
    /// `createBucketIfNotPresent` on a repository written to.
    create: bool,
    /// ... with `objectLocking: true`.
    object_locking: bool,
    /// ... with `encryptionOptions.enableEncryption: true`.
    encrypt_on_create: bool,
    /// SSE-KMS keys: key id -> written with (else only read).
    kms_keys: BTreeMap<String, bool>,
}

/// What a credential reaches: bucket -> its grant.
type Grants = BTreeMap<String, BucketGrant>;

/// A KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`), the only form of
/// `kmsKeyId` an IAM `Resource` can name (an alias is authorized on the key it points to).
fn is_kms_key_arn(k: &str) -> bool {
    let parts: Vec<&str> = k.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kms"
        && parts[5]
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty())
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
        let prefix = repo.key_prefix(Some(ns));
        let create = repo.create_bucket();
        let encryption = repo.encryption();
        let encrypted = encryption
            .and_then(|e| e.get("enableEncryption"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // SSE-C wins over a KMS key in Argo's `buildServerSideEnc`.
        let kms_key = encryption
            .filter(|e| encrypted && !e.contains_key("serverSideCustomerKeySecret"))
            .and_then(|e| e.get("kmsKeyId"))
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty());
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
        let grant = entry.0.entry(bucket.to_string()).or_default();
        *grant.prefixes.entry(prefix).or_insert(false) |= write;
        if write && let Some(c) = create {
            grant.create = true;
            grant.object_locking |= c.get("objectLocking").and_then(Value::as_bool) == Some(true);
            grant.encrypt_on_create |= encrypted;
        }
        if let Some(k) = kms_key {
            *grant.kms_keys.entry(k.to_string()).or_insert(false) |= write;
            if format == Format::Aws && !is_kms_key_arn(k) {
                notes.insert(format!(
                    "{what}: `kmsKeyId` {} is not a key ARN (`arn:aws:kms:<region>:<account>:key/<id>`), so the policy cannot name the key: allow `kms:GenerateDataKey` and `kms:Decrypt` to the credential in the key's own policy, or give the key ARN",
                    crate::rules::credential::show(k)
                ));
            }
        }
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
        let mut kms: BTreeMap<bool, BTreeSet<String>> = BTreeMap::new();
        for (bucket, grant) in &buckets {
            let prefixes = &grant.prefixes;
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
            if grant.create {
                let mut actions = vec!["s3:CreateBucket"];
                if grant.object_locking {
                    actions.extend([
                        "s3:PutBucketObjectLockConfiguration",
                        "s3:PutBucketVersioning",
                    ]);
                }
                if grant.encrypt_on_create {
                    actions.push("s3:PutEncryptionConfiguration");
                }
                statements.push(json!({
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": [bucket_arn],
                }));
            }
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
                    &[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:AbortMultipartUpload",
                    ]
                } else {
                    &["s3:GetObject"]
                };
                statements.push(json!({
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": resources,
                }));
            }
            if format == Format::Aws {
                for (key, write) in &grant.kms_keys {
                    if is_kms_key_arn(key) {
                        kms.entry(*write).or_default().insert(key.clone());
                    }
                }
            }
        }
        // A key both written and read with is granted once, with both actions.
        let written = kms.remove(&true).unwrap_or_default();
        let read: BTreeSet<String> = kms
            .remove(&false)
            .unwrap_or_default()
            .difference(&written)
            .cloned()
            .collect();
        for (keys, actions) in [
            (written, &["kms:GenerateDataKey", "kms:Decrypt"][..]),
            (read, &["kms:Decrypt"][..]),
        ] {
            if !keys.is_empty() {
                statements.push(json!({
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": keys.into_iter().collect::<Vec<_>>(),
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
