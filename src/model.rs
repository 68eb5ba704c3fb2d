//! The checked model: what `values::validate` produces and `render` consumes. Every value here has
//! been validated, every default applied and every derived name computed, so rendering cannot fail
//! on user input. Nothing here knows about YAML or Kubernetes object shapes.

use indexmap::IndexMap;

/// The Argo Workflows version the output targets; it decides which repository keys may be written.
pub use crate::rules::argo::ArgoVersion;

/// Where repositories are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The seed's picture: a central ConfigMap in the controller namespace holding every repository,
    /// plus one ConfigMap per tenant. Limited by the central ConfigMap's 1 MiB.
    Central,
    /// Tenant ConfigMaps only; scales with the number of tenants, not registrations.
    Tenant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    SecretStore,
    ClusterSecretStore,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSecretSettings {
    pub store_kind: StoreKind,
    pub store_name: String,
    pub refresh_interval: String,
    /// Vault properties (fields of the secret at the path) holding the two credentials.
    pub access_key_property: String,
    pub secret_key_property: String,
}

/// The container a generated WorkflowTemplate runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSettings {
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Directory archived as the `outputs` artifact.
    pub output_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub controller_namespace: String,
    pub config_map_name: String,
    pub default_key: String,
    pub argo_version: ArgoVersion,
    pub layout: Layout,
    pub create_namespaces: bool,
    pub service_account_name: String,
    /// Name of the Role and RoleBinding that let the service account report task results.
    pub executor_role_name: String,
    /// The seed's reader Role in the controller namespace; `None` when disabled.
    pub reader_role_name: Option<String>,
    pub external_secrets: ExternalSecretSettings,
    /// Keys of the credential Secret.
    pub access_key_key: String,
    pub secret_key_key: String,
    /// `None` when WorkflowTemplates are disabled.
    pub runner: Option<RunnerSettings>,
    pub common_labels: IndexMap<String, String>,
}

/// Where a repository's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An ExternalSecret named `secret_name` pulls them from this Vault path.
    Vault { path: String, secret_name: String },
    /// A Secret the user manages, already in each namespace that uses the repository.
    ExistingSecret { secret_name: String },
    /// The pod's cloud identity (IRSA, instance profile): no Secret at all.
    Sdk,
}

impl Credentials {
    pub fn secret_name(&self) -> Option<&str> {
        match self {
            Credentials::Vault { secret_name, .. }
            | Credentials::ExistingSecret { secret_name } => Some(secret_name),
            Credentials::Sdk => None,
        }
    }
}

/// One S3 artifact repository, in Argo's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub archive_logs: bool,
    pub s3: S3,
    pub credentials: Credentials,
}

/// The fields of Argo's `S3ArtifactRepository` that values set directly, under Argo's JSON names
/// (docs/upstream.md, "Argo: repository fields per version"). Render writes them as they are, in
/// this order, then the Secret references it derives from `Credentials`: a values field that maps
/// to an Argo field is a row of `values::fields`, a line of the reader and a field here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_format: Option<String>,
    /// `path`; only ever set when the target Argo knows `addressingStyle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addressing_style: Option<&'static str>,
    #[serde(rename = "useSDKCreds", skip_serializing_if = "Option::is_none")]
    pub use_sdk_creds: Option<bool>,
    #[serde(rename = "roleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub repo_url: String,
    pub default_branch: String,
    pub tenant: String,
    pub repository: Option<Repository>,
}

/// The whole checked input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub settings: Settings,
    /// The platform default repository (`s3.enabled: true`).
    pub default_repository: Option<Repository>,
    /// In input order; rendering sorts what it emits.
    pub registrations: Vec<Registration>,
}

impl Model {
    /// Tenant names, sorted and deduplicated.
    pub fn tenants(&self) -> Vec<&str> {
        let mut t: Vec<&str> = self
            .registrations
            .iter()
            .map(|r| r.tenant.as_str())
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    }
}
