//! Argo Workflows' rules and constants: the versions this tool targets, how a workflow finds its
//! artifact repository (the ConfigMap name, the default-key annotation, the key format), and which
//! fields an `ArtifactRepository` has in which Argo release. docs/upstream.md ("Argo: how a workflow
//! finds its repository", "Argo: repository fields per version") cites the upstream sources.
//!
//! The field table drives `render` (which optional fields it may write), `check` (which keys a
//! ConfigMap value may hold, and their types) and the property tests.

use std::fmt;

/// An Argo Workflows release, `MAJOR.MINOR` (a patch part is accepted and ignored: fields only
/// change between minor releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArgoVersion {
    pub major: u32,
    pub minor: u32,
}

const fn v(major: u32, minor: u32) -> ArgoVersion {
    ArgoVersion { major, minor }
}

/// The oldest release supported: 3.4 introduced `workflowtaskresults`, which the generated executor
/// Role grants (and `check` requires).
pub const OLDEST: ArgoVersion = v(3, 4);
/// The first release not supported: a major release may rename or remove repository fields, and the
/// field table below is only known up to 4.x. A later 4.x minor gets 4.1's fields.
pub const FIRST_UNSUPPORTED: ArgoVersion = v(5, 0);
/// The version targeted when none is given (values `artifactRepos.argoVersion`, `--argo-version`).
pub const DEFAULT: ArgoVersion = v(3, 7);
/// `DEFAULT` as text, for clap's `default_value` and the values defaults.
pub const DEFAULT_TEXT: &str = "3.7";

/// Why a text is not a supported version. `Display` follows the offending value in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionError {
    NotAVersion,
    TooOld,
    TooNew,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionError::NotAVersion => write!(
                f,
                "is not a version; expected MAJOR.MINOR like `3.7` or `4.1`"
            ),
            VersionError::TooOld => write!(
                f,
                "is older than Argo Workflows {OLDEST}, the first release with `workflowtaskresults`; expected {OLDEST} or later"
            ),
            VersionError::TooNew => write!(
                f,
                "is not supported: this tool knows Argo Workflows' repository fields from {OLDEST} up to, not including, {FIRST_UNSUPPORTED}; expected a version like `3.7` or `4.1`"
            ),
        }
    }
}

impl ArgoVersion {
    /// The one parser of a version, for values, `--argo-version` and `check`: `3.7`, `v3.7`,
    /// `3.7.18`, within `OLDEST..FIRST_UNSUPPORTED`.
    pub fn parse(text: &str) -> Result<ArgoVersion, VersionError> {
        let t = text.strip_prefix('v').unwrap_or(text);
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 9 && s.bytes().all(|c| c.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let mut parts = t.split('.');
        let major = parts.next().and_then(number);
        let minor = parts.next().and_then(number);
        let patch_ok = parts.next().is_none_or(|p| number(p).is_some()) && parts.next().is_none();
        let (Some(major), Some(minor), true) = (major, minor, patch_ok) else {
            return Err(VersionError::NotAVersion);
        };
        let version = v(major, minor);
        if version < OLDEST {
            Err(VersionError::TooOld)
        } else if version >= FIRST_UNSUPPORTED {
            Err(VersionError::TooNew)
        } else {
            Ok(version)
        }
    }
}

impl fmt::Display for ArgoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The ConfigMap name Argo reads a namespace's default repository from (`artifact-repositories`).
pub const DEFAULT_CONFIGMAP: &str = "artifact-repositories";
/// The annotation on that ConfigMap naming its default key.
pub const DEFAULT_REPOSITORY_ANNOTATION: &str = "workflows.argoproj.io/default-artifact-repository";
/// Namespace of the workflow controller when none is given.
pub const DEFAULT_CONTROLLER_NAMESPACE: &str = "argo-workflows";
/// Every registration's repository is stored under `artifactRepositories.<name>`; Argo looks the
/// ref's `key` up literally (no nesting).
pub const REPOSITORY_KEY_PREFIX: &str = "artifactRepositories.";

/// The ConfigMap data key of a registration's repository.
pub fn repository_key(registration: &str) -> String {
    format!("{REPOSITORY_KEY_PREFIX}{registration}")
}

/// The suffix of a registration's data repository key: `artifactRepositories.<name>.data`. A
/// registration name is a DNS-1123 label (no `.`), so no registration's own key can take this form.
pub const DATA_KEY_SUFFIX: &str = ".data";

/// The ConfigMap data key of a registration's data bucket (`dataBucket`).
pub fn data_repository_key(registration: &str) -> String {
    format!("{REPOSITORY_KEY_PREFIX}{registration}{DATA_KEY_SUFFIX}")
}

/// The JSON type of a repository field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Str,
    /// A JSON integer (`oss.lifecycleRule.markDeletionAfterDays`).
    Int,
    /// A string that Argo compares against these values (the empty string means Argo's default).
    Enum(&'static [&'static str]),
    /// A `SecretKeySelector`: `{name, key, optional}` of a Secret in the workflow's namespace.
    Secret,
    /// A nested object with its own fields.
    Object(&'static [Field]),
    /// A storage backend this tool does not generate: present, not inspected.
    Opaque,
}

impl FieldType {
    /// The type in words, for messages and the README (`a string`, `a Secret reference`).
    pub fn describe(self) -> String {
        match self {
            FieldType::Bool => "`true` or `false`".into(),
            FieldType::Str => "a string".into(),
            FieldType::Int => "an integer".into(),
            FieldType::Enum(values) => format!(
                "one of {}",
                values
                    .iter()
                    .map(|v| if v.is_empty() {
                        "`\"\"` (automatic)".to_string()
                    } else {
                        format!("`{v}`")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            FieldType::Secret => "a Secret reference `{name, key}`".into(),
            FieldType::Object(_) => "a map".into(),
            FieldType::Opaque => "a map".into(),
        }
    }
}

/// One field of an Argo repository object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub ty: FieldType,
    /// The first Argo release with the field.
    pub since: ArgoVersion,
}

const fn field(key: &'static str, ty: FieldType) -> Field {
    Field {
        key,
        ty,
        since: OLDEST,
    }
}

const fn since(key: &'static str, ty: FieldType, since: ArgoVersion) -> Field {
    Field { key, ty, since }
}

/// `SecretKeySelector`.
pub const SECRET_KEY_SELECTOR: &[Field] = &[
    field("name", FieldType::Str),
    field("key", FieldType::Str),
    field("optional", FieldType::Bool),
];

pub const CREATE_BUCKET: &[Field] = &[field("objectLocking", FieldType::Bool)];
pub const ENCRYPTION: &[Field] = &[
    field("kmsKeyId", FieldType::Str),
    field("kmsEncryptionContext", FieldType::Str),
    field("enableEncryption", FieldType::Bool),
    field("serverSideCustomerKeySecret", FieldType::Secret),
];
pub const OSS_LIFECYCLE: &[Field] = &[
    field("markInfrequentAccessAfterDays", FieldType::Int),
    field("markDeletionAfterDays", FieldType::Int),
];

/// The first release with `s3.caSecret`, `oss.useSDKCreds` and `artifactory.keyFormat` (v3.5.0).
pub const V3_5: ArgoVersion = v(3, 5);
/// The first release with `s3.sessionTokenSecret` and Azure SAS tokens in `accountKeySecret`
/// (`isSASAccountKey`, `workflow/artifacts/azure/azure.go`, v3.6.0).
pub const V3_6: ArgoVersion = v(3, 6);
/// The first release that takes a SAS token in Azure's `accountKeySecret` (3.5 hands it to
/// `NewSharedKeyCredential`, which fails on it).
pub const AZURE_SAS_SINCE: ArgoVersion = V3_6;

/// The first release with `s3.addressingStyle`.
pub const ADDRESSING_STYLE_SINCE: ArgoVersion = v(4, 1);
/// `s3.addressingStyle` values (`""` is automatic, Argo's default).
pub const ADDRESSING_STYLES: &[&str] = &["", "path", "virtual-hosted"];

/// `S3ArtifactRepository` (Argo v3.7.x and v4.1.x `pkg/apis/workflow/v1alpha1`). The order is the
/// order the tool writes the keys in.
pub const S3: &[Field] = &[
    field("endpoint", FieldType::Str),
    field("bucket", FieldType::Str),
    field("region", FieldType::Str),
    field("insecure", FieldType::Bool),
    field("keyFormat", FieldType::Str),
    field("keyPrefix", FieldType::Str),
    since(
        "addressingStyle",
        FieldType::Enum(ADDRESSING_STYLES),
        ADDRESSING_STYLE_SINCE,
    ),
    field("useSDKCreds", FieldType::Bool),
    field("roleARN", FieldType::Str),
    field("accessKeySecret", FieldType::Secret),
    field("secretKeySecret", FieldType::Secret),
    since("sessionTokenSecret", FieldType::Secret, V3_6),
    since("caSecret", FieldType::Secret, V3_5),
    field("createBucketIfNotPresent", FieldType::Object(CREATE_BUCKET)),
    field("encryptionOptions", FieldType::Object(ENCRYPTION)),
];

/// `GCSArtifactRepository`.
pub const GCS: &[Field] = &[
    field("bucket", FieldType::Str),
    field("keyFormat", FieldType::Str),
    field("serviceAccountKeySecret", FieldType::Secret),
];

/// `AzureArtifactRepository` (`endpoint` and `container` required).
pub const AZURE: &[Field] = &[
    field("endpoint", FieldType::Str),
    field("container", FieldType::Str),
    field("blobNameFormat", FieldType::Str),
    field("useSDKCreds", FieldType::Bool),
    field("accountKeySecret", FieldType::Secret),
];

/// `OSSArtifactRepository`.
pub const OSS: &[Field] = &[
    field("endpoint", FieldType::Str),
    field("bucket", FieldType::Str),
    field("keyFormat", FieldType::Str),
    field("createBucketIfNotPresent", FieldType::Bool),
    field("lifecycleRule", FieldType::Object(OSS_LIFECYCLE)),
    since("useSDKCreds", FieldType::Bool, V3_5),
    field("securityToken", FieldType::Str),
    field("accessKeySecret", FieldType::Secret),
    field("secretKeySecret", FieldType::Secret),
];

/// `ArtifactoryArtifactRepository`.
pub const ARTIFACTORY: &[Field] = &[
    field("repoURL", FieldType::Str),
    since("keyFormat", FieldType::Str, V3_5),
    field("usernameSecret", FieldType::Secret),
    field("passwordSecret", FieldType::Secret),
];

/// `ArtifactRepository`, one value of an `artifact-repositories` ConfigMap.
pub const ARTIFACT_REPOSITORY: &[Field] = &[
    field("archiveLogs", FieldType::Bool),
    field("s3", FieldType::Object(S3)),
    field("gcs", FieldType::Object(GCS)),
    field("azure", FieldType::Object(AZURE)),
    field("oss", FieldType::Object(OSS)),
    field("artifactory", FieldType::Object(ARTIFACTORY)),
    field("hdfs", FieldType::Opaque),
    since("plugin", FieldType::Opaque, v(4, 0)),
];

/// One Secret reference of a backend that the tool's credential conveniences fill
/// (`externalSecretPath`, `existingSecret`): the Secret key it points at and, from Vault, the
/// property of the Vault secret that holds the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    /// The name in `credentialKeys` / `vaultProperties` (`accessKey`, `caCert`).
    pub slot: &'static str,
    /// Path of the `SecretKeySelector` inside the backend block.
    pub field: &'static [&'static str],
    /// The Secret's data key when none is given.
    pub key: &'static str,
    /// The Vault property when none is given.
    pub property: &'static str,
    /// Filled by every convenience; an optional slot only when named in `credentialKeys` or
    /// `vaultProperties`.
    pub required: bool,
    /// What the value is, for the README.
    pub what: &'static str,
}

const fn cred(
    slot: &'static str,
    field: &'static [&'static str],
    key: &'static str,
    property: &'static str,
    required: bool,
    what: &'static str,
) -> Credential {
    Credential {
        slot,
        field,
        key,
        property,
        required,
        what,
    }
}

/// A storage backend: its block's key and fields, where it stores (bucket or container), the
/// fields Argo requires, and its credentials.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    pub key: &'static str,
    pub fields: &'static [Field],
    /// The field naming the bucket (or container, repository URL) artifacts go to.
    pub location: &'static str,
    /// Fields the tool requires (Argo cannot store anything without them).
    pub required: &'static [&'static str],
    pub credentials: &'static [Credential],
    /// The key template field, if any (`keyFormat`, `blobNameFormat`).
    pub key_format: Option<&'static str>,
    /// The URL scheme of a stored artifact, for `explain` (`s3://bucket/key`).
    pub scheme: &'static str,
}

/// Every backend the tool generates, in the order of the README.
pub const BACKENDS: &[Backend] = &[
    Backend {
        key: "s3",
        fields: S3,
        location: "bucket",
        required: &["bucket"],
        credentials: &[
            cred(
                "accessKey",
                &["accessKeySecret"],
                "AWS_ACCESS_KEY_ID",
                "access_key",
                true,
                "the access key id",
            ),
            cred(
                "secretKey",
                &["secretKeySecret"],
                "AWS_SECRET_ACCESS_KEY",
                "secret_key",
                true,
                "the secret access key",
            ),
            cred(
                "sessionToken",
                &["sessionTokenSecret"],
                "AWS_SESSION_TOKEN",
                "session_token",
                false,
                "a session token (temporary credentials)",
            ),
            cred(
                "caCert",
                &["caSecret"],
                "ca.crt",
                "ca_crt",
                false,
                "the PEM CA bundle of a private CA",
            ),
            cred(
                "customerKey",
                &["encryptionOptions", "serverSideCustomerKeySecret"],
                "SSE_C_KEY",
                "sse_c_key",
                false,
                "the SSE-C customer key",
            ),
        ],
        key_format: Some("keyFormat"),
        scheme: "s3",
    },
    Backend {
        key: "gcs",
        fields: GCS,
        location: "bucket",
        required: &["bucket"],
        credentials: &[cred(
            "serviceAccountKey",
            &["serviceAccountKeySecret"],
            "serviceAccountKey",
            "service_account_key",
            true,
            "the service account's JSON key",
        )],
        key_format: Some("keyFormat"),
        scheme: "gs",
    },
    Backend {
        key: "azure",
        fields: AZURE,
        location: "container",
        required: &["endpoint", "container"],
        credentials: &[cred(
            "accountKey",
            &["accountKeySecret"],
            "accountKey",
            "account_key",
            true,
            "the storage account key, or (Argo 3.6 and later) a SAS token without its leading `?` (`sv=...&sig=...`; Argo adds the `?`, and the generated ExternalSecret drops one)",
        )],
        key_format: Some("blobNameFormat"),
        scheme: "azblob",
    },
    Backend {
        key: "oss",
        fields: OSS,
        location: "bucket",
        required: &["endpoint", "bucket"],
        credentials: &[
            cred(
                "accessKey",
                &["accessKeySecret"],
                "accessKey",
                "access_key",
                true,
                "the AccessKey id",
            ),
            cred(
                "secretKey",
                &["secretKeySecret"],
                "secretKey",
                "secret_key",
                true,
                "the AccessKey secret",
            ),
        ],
        key_format: Some("keyFormat"),
        scheme: "oss",
    },
    Backend {
        key: "artifactory",
        fields: ARTIFACTORY,
        location: "repoURL",
        required: &["repoURL"],
        credentials: &[
            cred(
                "username",
                &["usernameSecret"],
                "username",
                "username",
                true,
                "the user name",
            ),
            cred(
                "password",
                &["passwordSecret"],
                "password",
                "password",
                true,
                "the password or API key",
            ),
        ],
        key_format: Some("keyFormat"),
        scheme: "",
    },
];

/// The README's table of every backend's fields, generated from this table (the one the values
/// reader, `check` and the schema test use): `| backend | field | type | since |`.
pub fn readme_fields_table() -> String {
    fn rows(backend: &str, prefix: &str, fields: &'static [Field], out: &mut Vec<String>) {
        for f in fields {
            let key = format!("{prefix}{}", f.key);
            match f.ty {
                FieldType::Object(inner) => rows(backend, &format!("{key}."), inner, out),
                ty => out.push(format!(
                    "| `{backend}` | `{key}` | {} | {} |",
                    ty.describe().replace('|', "\\|"),
                    if f.since > OLDEST {
                        format!("**{}**", f.since)
                    } else {
                        OLDEST.to_string()
                    }
                )),
            }
        }
    }
    let mut out = vec![
        "| backend | field | type | from Argo |".to_string(),
        "|---|---|---|---|".to_string(),
        format!(
            "| (all) | `archiveLogs` | {} | {OLDEST} |",
            FieldType::Bool.describe()
        ),
    ];
    for b in BACKENDS {
        rows(b.key, "", b.fields, &mut out);
    }
    out.join("\n") + "\n"
}

/// The README's table of the credentials the tool's conveniences fill, per backend.
pub fn readme_credentials_table() -> String {
    let mut out = vec![
        "| backend | credential | Argo field | Secret key | Vault property | filled |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    for b in BACKENDS {
        for c in b.credentials {
            out.push(format!(
                "| `{}` | `{}`: {} | `{}` | `{}` | `{}` | {} |",
                b.key,
                c.slot,
                c.what,
                c.field.join("."),
                c.key,
                c.property,
                if c.required {
                    "always"
                } else {
                    "when named in `credentialKeys` or `vaultProperties`"
                }
            ));
        }
    }
    out.join("\n") + "\n"
}

/// The variable Argo substitutes with the workflow's namespace in a key template.
pub const WORKFLOW_NAMESPACE_VARIABLE: &str = "{{workflow.namespace}}";

/// The literal start of the keys an S3 repository writes, without its trailing `/`: its key
/// template (`keyFormat`, else Argo's `path.Join(keyPrefix, "{{workflow.name}}/{{pod.name}}")`)
/// up to its last `/` before the first `{{`. `namespace` is the namespace of the workflows that
/// use the repository, when only one does: it stands for `{{workflow.namespace}}`. The empty
/// string is the whole bucket. What `policies` grants and `values::isolation` compares.
pub fn key_literal_prefix(template: &str, namespace: Option<&str>) -> String {
    let template = match namespace {
        Some(ns) => template.replace(WORKFLOW_NAMESPACE_VARIABLE, ns),
        None => template.to_string(),
    };
    let literal = template.split("{{").next().unwrap_or_default();
    match literal.rfind('/') {
        Some(i) => literal[..i].trim_matches('/').to_string(),
        None => String::new(),
    }
}

/// The characters of a key prefix that an IAM policy's `Resource` or `s3:prefix` would read as
/// a wildcard (`*`, `?`) or a policy variable (`${`): IAM has no escape for them in a resource.
pub fn iam_wildcard(prefix: &str) -> Option<&'static str> {
    ["*", "?", "${"].into_iter().find(|w| prefix.contains(w))
}

/// True when the keys under prefix `a` include those under `b` (`""` is the whole bucket; `a`
/// and `a/b` nest, `a` and `ab` do not).
pub fn prefix_covers(a: &str, b: &str) -> bool {
    a.is_empty() || a == b || b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

/// The backend of a block key.
pub fn backend(key: &str) -> Option<&'static Backend> {
    BACKENDS.iter().find(|b| b.key == key)
}

/// The field `key` of `fields` as Argo `version` has it, if it has it.
pub fn lookup(fields: &'static [Field], key: &str, version: ArgoVersion) -> Option<&'static Field> {
    fields.iter().find(|f| f.key == key && f.since <= version)
}

/// The field `key` in any supported version (for "exists from Argo X" hints).
pub fn lookup_any(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.key == key)
}

/// True when Argo `version` has the field at `path` (`["s3", "addressingStyle"]`).
pub fn has_field(path: &[&str], version: ArgoVersion) -> bool {
    let mut fields = ARTIFACT_REPOSITORY;
    for (i, key) in path.iter().enumerate() {
        let Some(f) = lookup(fields, key, version) else {
            return false;
        };
        if i + 1 == path.len() {
            return true;
        }
        match f.ty {
            FieldType::Object(inner) => fields = inner,
            FieldType::Secret => fields = SECRET_KEY_SELECTOR,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_one_range() {
        assert_eq!(ArgoVersion::parse("4.1"), Ok(v(4, 1)));
        assert_eq!(ArgoVersion::parse("v3.7.18"), Ok(v(3, 7)));
        assert_eq!(ArgoVersion::parse("3.4"), Ok(OLDEST));
        assert_eq!(ArgoVersion::parse("4.99"), Ok(v(4, 99)));
        for old in ["3.0", "3.3", "2.12", "0.1"] {
            assert_eq!(ArgoVersion::parse(old), Err(VersionError::TooOld), "{old}");
        }
        for new in ["5.0", "5.1.2", "6.1"] {
            assert_eq!(ArgoVersion::parse(new), Err(VersionError::TooNew), "{new}");
        }
        for bad in [
            "",
            "4",
            "5",
            "4.x",
            "4.1.2.3",
            "latest",
            "3.",
            ".7",
            "3.7.1.2",
            "3.x",
            "+3.7",
            "3.-1",
            "99999999999.1",
        ] {
            assert_eq!(
                ArgoVersion::parse(bad),
                Err(VersionError::NotAVersion),
                "{bad}"
            );
        }
        assert_eq!(ArgoVersion::parse(DEFAULT_TEXT), Ok(DEFAULT));
        // Formerly check's own parser: `2.9` refused there, as everywhere.
        assert!(ArgoVersion::parse("2.9").is_err());
    }

    #[test]
    fn key_prefixes_as_argo_forms_keys() {
        let p = |t: &str| key_literal_prefix(t, Some("team-a"));
        assert_eq!(p("a/b/{{workflow.name}}"), "a/b");
        // A keyPrefix alone: Argo's default key under it (Repository::key_template).
        assert_eq!(p("a/b/{{workflow.name}}/{{pod.name}}"), "a/b");
        assert_eq!(p("c/{{pod.name}}"), "c");
        assert_eq!(p("{{workflow.name}}/{{pod.name}}"), "");
        assert_eq!(p("t/{{workflow.namespace}}/{{workflow.name}}"), "t/team-a");
        assert_eq!(iam_wildcard("team-*"), Some("*"));
        assert_eq!(iam_wildcard("a/${aws:username}"), Some("${"));
        assert_eq!(iam_wildcard("team-a/x"), None);
        assert!(prefix_covers("", "a") && prefix_covers("a", "a") && prefix_covers("a", "a/b"));
        assert!(!prefix_covers("a", "ab") && !prefix_covers("a/b", "a"));
    }

    #[test]
    fn fields_by_version() {
        assert!(!has_field(&["s3", "addressingStyle"], v(4, 0)));
        assert!(has_field(&["s3", "addressingStyle"], v(4, 1)));
        assert!(has_field(&["s3", "accessKeySecret", "key"], OLDEST));
        assert!(!has_field(&["plugin"], v(3, 7)) && has_field(&["plugin"], v(4, 0)));
        assert!(!has_field(&["s3", "pathStyle"], v(4, 1)));
        // From the schemas of 3.4.18, 3.5.15 and 3.6.0 (issue 20 item 1).
        assert!(!has_field(&["s3", "caSecret"], v(3, 4)) && has_field(&["s3", "caSecret"], V3_5));
        assert!(!has_field(&["s3", "sessionTokenSecret"], V3_5));
        assert!(has_field(&["s3", "sessionTokenSecret"], V3_6));
        assert!(!has_field(&["oss", "useSDKCreds"], v(3, 4)));
        // The README's word on SAS tokens names the release the table gates them on.
        let azure = backend("azure").unwrap().credentials[0].what;
        assert!(
            azure.contains(&format!("Argo {AZURE_SAS_SINCE} and later")),
            "{azure}"
        );
        assert!(azure.contains("without its leading `?`"), "{azure}");
    }

    /// The table against Argo's own JSON schema of each version in fixtures/upstream: every field
    /// the table lists for a version exists there with the same type, and every field of a backend
    /// the tool generates is in the table (so nothing Argo has is refused as unknown).
    #[test]
    fn the_table_is_argos_schema() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upstream/schemas");
        for (file, version) in [
            ("argo-workflows.jsonschema.v3.4.18.json", v(3, 4)),
            ("argo-workflows.jsonschema.v3.5.15.json", v(3, 5)),
            ("argo-workflows.jsonschema.v3.6.0.json", v(3, 6)),
            ("argo-workflows.jsonschema.v3.7.18.json", v(3, 7)),
            ("argo-workflows.jsonschema.v4.1.2.json", v(4, 1)),
        ] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
            let defs = &schema["definitions"];
            let def = |r: &str| {
                let name = r.rsplit('/').next().unwrap();
                defs[name].clone()
            };
            fn compare(
                fields: &'static [Field],
                def: &serde_json::Value,
                defs: &dyn Fn(&str) -> serde_json::Value,
                version: ArgoVersion,
                path: &str,
            ) {
                let props = def["properties"].as_object().unwrap();
                for f in fields.iter().filter(|f| f.since <= version) {
                    let p = &props.get(f.key).unwrap_or_else(|| {
                        panic!("{path}.{} is not in Argo {version}'s schema", f.key)
                    });
                    let reference = p["$ref"].as_str().unwrap_or("");
                    match f.ty {
                        FieldType::Bool => assert_eq!(p["type"], "boolean", "{path}.{}", f.key),
                        FieldType::Str | FieldType::Enum(_) => {
                            assert_eq!(p["type"], "string", "{path}.{}", f.key)
                        }
                        FieldType::Int => assert_eq!(p["type"], "integer", "{path}.{}", f.key),
                        FieldType::Secret => {
                            assert!(reference.ends_with("SecretKeySelector"), "{path}.{}", f.key)
                        }
                        FieldType::Object(inner) => compare(
                            inner,
                            &defs(reference),
                            defs,
                            version,
                            &format!("{path}.{}", f.key),
                        ),
                        FieldType::Opaque => assert!(!reference.is_empty(), "{path}.{}", f.key),
                    }
                }
                for key in props.keys() {
                    assert!(
                        lookup(fields, key, version).is_some(),
                        "Argo {version} has {path}.{key}, the table does not"
                    );
                }
            }
            let root = def("io.argoproj.workflow.v1alpha1.ArtifactRepository");
            compare(
                ARTIFACT_REPOSITORY,
                &root,
                &def,
                version,
                "ArtifactRepository",
            );
            // Argo requires what the table's backends require.
            let azure = def("io.argoproj.workflow.v1alpha1.AzureArtifactRepository");
            for r in azure["required"].as_array().unwrap() {
                assert!(
                    backend("azure")
                        .unwrap()
                        .required
                        .contains(&r.as_str().unwrap())
                );
            }
        }
        // A field newer than 3.7 is missing from 3.7's schema.
        let text =
            std::fs::read_to_string(dir.join("argo-workflows.jsonschema.v3.7.18.json")).unwrap();
        assert!(!text.contains("addressingStyle"));
    }

    #[test]
    fn every_credential_slot_is_a_secret_field() {
        for b in BACKENDS {
            assert_eq!(
                lookup_any(ARTIFACT_REPOSITORY, b.key).map(|f| f.ty),
                Some(FieldType::Object(b.fields))
            );
            for c in b.credentials {
                let mut path = vec![b.key];
                path.extend(c.field);
                assert!(has_field(&path, DEFAULT), "{path:?}");
                let mut fields = b.fields;
                for (i, k) in c.field.iter().enumerate() {
                    let f = lookup_any(fields, k).unwrap();
                    match f.ty {
                        FieldType::Object(inner) => fields = inner,
                        FieldType::Secret => assert_eq!(i + 1, c.field.len()),
                        other => panic!("{k}: {other:?}"),
                    }
                }
            }
        }
    }
}
