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

/// The JSON type of a repository field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Str,
    /// A `SecretKeySelector`: `{name, key, optional}` of a Secret in the workflow's namespace.
    Secret,
    /// A nested object with its own fields.
    Object(&'static [Field]),
    /// A storage backend this tool does not generate yet: present, not inspected.
    Opaque,
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

const CREATE_BUCKET: &[Field] = &[field("objectLocking", FieldType::Bool)];
const ENCRYPTION: &[Field] = &[
    field("kmsKeyId", FieldType::Str),
    field("kmsEncryptionContext", FieldType::Str),
    field("enableEncryption", FieldType::Bool),
    field("serverSideCustomerKeySecret", FieldType::Secret),
];

/// The first release with `s3.addressingStyle`.
pub const ADDRESSING_STYLE_SINCE: ArgoVersion = v(4, 1);

/// `S3ArtifactRepository` (Argo v3.7.x and v4.1.x `pkg/apis/workflow/v1alpha1`).
pub const S3: &[Field] = &[
    field("endpoint", FieldType::Str),
    field("bucket", FieldType::Str),
    field("region", FieldType::Str),
    field("insecure", FieldType::Bool),
    field("keyFormat", FieldType::Str),
    field("keyPrefix", FieldType::Str),
    field("accessKeySecret", FieldType::Secret),
    field("secretKeySecret", FieldType::Secret),
    field("sessionTokenSecret", FieldType::Secret),
    field("roleARN", FieldType::Str),
    field("useSDKCreds", FieldType::Bool),
    field("createBucketIfNotPresent", FieldType::Object(CREATE_BUCKET)),
    field("encryptionOptions", FieldType::Object(ENCRYPTION)),
    field("caSecret", FieldType::Secret),
    since("addressingStyle", FieldType::Str, ADDRESSING_STYLE_SINCE),
];

/// `ArtifactRepository`, one value of an `artifact-repositories` ConfigMap.
pub const ARTIFACT_REPOSITORY: &[Field] = &[
    field("archiveLogs", FieldType::Bool),
    field("s3", FieldType::Object(S3)),
    field("gcs", FieldType::Opaque),
    field("azure", FieldType::Opaque),
    field("oss", FieldType::Opaque),
    field("hdfs", FieldType::Opaque),
    field("artifactory", FieldType::Opaque),
    since("plugin", FieldType::Opaque, v(4, 0)),
];

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
    fn fields_by_version() {
        assert!(!has_field(&["s3", "addressingStyle"], v(4, 0)));
        assert!(has_field(&["s3", "addressingStyle"], v(4, 1)));
        assert!(has_field(&["s3", "accessKeySecret", "key"], OLDEST));
        assert!(!has_field(&["plugin"], v(3, 7)) && has_field(&["plugin"], v(4, 0)));
        assert!(!has_field(&["s3", "pathStyle"], v(4, 1)));
    }
}
