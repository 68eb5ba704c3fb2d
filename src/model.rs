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
    /// Joined before every Vault path as `<prefix>/<path>` (`kv`).
    pub path_prefix: Option<String>,
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
    /// The template a registration's `workflowTemplateRef` calls (`templateRef.template`).
    pub ref_template: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub controller_namespace: String,
    pub config_map_name: String,
    /// `allowRefLessLookupBreak`: a `config_map_name` other than Argo's is accepted with a default
    /// repository; its ConfigMaps say so (`rules::k8s::REF_LESS_LOOKUP_BREAK_ANNOTATION`).
    pub allow_ref_less_lookup_break: bool,
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
    /// WorkflowTemplates assumed to exist in the cluster (`name` or `namespace/name`), for `check`.
    pub existing_templates: Vec<String>,
    pub common_labels: IndexMap<String, String>,
}

/// Where a repository's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An ExternalSecret named `secret_name` pulls them from this Vault path: `data` holds each
    /// Secret key and the Vault property it comes from, in the backend's order.
    Vault {
        path: String,
        secret_name: String,
        data: Vec<(String, String)>,
    },
    /// A Secret the user manages, already in each namespace that uses the repository.
    ExistingSecret { secret_name: String },
    /// The pod's cloud identity (IRSA, GKE or Azure workload identity, instance profile): no Secret.
    Sdk,
    /// Only what the repository itself references (Argo's shape, `{name, key}`), or nothing.
    AsWritten,
}

impl Credentials {
    pub fn secret_name(&self) -> Option<&str> {
        match self {
            Credentials::Vault { secret_name, .. }
            | Credentials::ExistingSecret { secret_name } => Some(secret_name),
            Credentials::Sdk | Credentials::AsWritten => None,
        }
    }
}

/// One artifact repository, in Argo's terms: exactly one backend block, as Argo reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub archive_logs: bool,
    /// The backend's key (`s3`, `gcs`, `azure`, `oss`, `artifactory`): rules::argo::BACKENDS.
    pub backend: &'static str,
    /// The backend block as it is written, every field checked against the target Argo version,
    /// keys in the table's order, Secret references filled in from the credentials. Stored once,
    /// as written (10,000 registrations hold 20,000 of them): what the tool reads of it is the
    /// typed view below (`location`, `endpoint`, `region`, `key_template`), never its keys.
    spec: serde_json::Map<String, serde_json::Value>,
    pub credentials: Credentials,
    /// Secrets the repository references that the user manages (an `existingSecret`, or `{name,
    /// key}` written in the values): they must exist in every namespace that uses it.
    pub user_secrets: Vec<String>,
    /// The default repository's per-tenant key layout (`s3.keyPrefixPerTenant`); `None` elsewhere.
    pub tenant_key: Option<TenantKey>,
}

/// `s3.keyPrefixPerTenant`: the default repository's key template is written per namespace as
/// `<prefix>/<namespace>/<rest>` (joined as Argo joins keys, `path.Join`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantKey {
    /// The backend's key template field (`keyFormat`, `blobNameFormat`).
    pub field: &'static str,
    /// The bucket-level prefix (`keyPrefix`), before the namespace.
    pub prefix: String,
    /// The key template after the namespace (`keyFormat`, else Argo's default).
    pub rest: String,
}

/// What stands for the namespace in the central ConfigMap, which serves every namespace: Argo
/// substitutes its global variables into `keyFormat` (`workflow.namespace` is one).
pub const WORKFLOW_NAMESPACE_VARIABLE: &str = "{{workflow.namespace}}";

/// Argo's key template when a repository sets none (`workflow/artifacts` `DefaultKeyFormat`).
pub const ARGO_KEY_FORMAT: &str = "{{workflow.name}}/{{pod.name}}";

impl Repository {
    /// A repository of `backend` writing `spec`.
    pub fn new(
        archive_logs: bool,
        backend: &'static crate::rules::argo::Backend,
        spec: serde_json::Map<String, serde_json::Value>,
        credentials: Credentials,
        user_secrets: Vec<String>,
        tenant_key: Option<TenantKey>,
    ) -> Repository {
        Repository {
            archive_logs,
            backend: backend.key,
            spec,
            credentials,
            user_secrets,
            tenant_key,
        }
    }

    /// The backend block as Argo reads it, for writing.
    pub fn spec(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.spec
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.spec.get(key).and_then(|v| v.as_str())
    }

    fn backend_table(&self) -> &'static crate::rules::argo::Backend {
        crate::rules::argo::backend(self.backend).expect("a backend of the table")
    }

    /// Where artifacts go: the block's bucket (container, repository URL; `Backend::location`).
    pub fn location(&self) -> Option<&str> {
        self.text(self.backend_table().location)
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.text("endpoint")
    }

    pub fn region(&self) -> Option<&str> {
        self.text("region")
    }

    /// The key template Argo uses: the block's (`keyFormat`, `blobNameFormat`), else Argo's
    /// default under the deprecated `keyPrefix` (joined as Argo joins them), else Argo's default.
    pub fn key_template(&self) -> std::borrow::Cow<'_, str> {
        let field = self.backend_table().key_format.unwrap_or("keyFormat");
        match (self.text(field), self.text("keyPrefix")) {
            (Some(t), _) => t.into(),
            (None, Some(p)) => crate::rules::formats::argo_key_join(p, ARGO_KEY_FORMAT).into(),
            (None, None) => ARGO_KEY_FORMAT.into(),
        }
    }

    /// The literal key prefix the repository writes under for the workflows of `namespace` (the
    /// key template up to its last `/` before the first `{{`; empty: the whole bucket): what
    /// `policies` grants and `values::isolation` compares.
    pub fn key_prefix(&self, namespace: Option<&str>) -> String {
        crate::rules::argo::key_literal_prefix(&self.key_template(), namespace)
    }

    /// Argo's `createBucketIfNotPresent` block (S3), when set.
    pub fn create_bucket(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.spec
            .get("createBucketIfNotPresent")
            .and_then(|v| v.as_object())
    }

    /// Argo's `encryptionOptions` block (S3), when set.
    pub fn encryption(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.spec
            .get("encryptionOptions")
            .and_then(|v| v.as_object())
    }

    /// The repository as the workflows of `namespace` see it (`None`: the central ConfigMap's,
    /// which serves every namespace): with `keyPrefixPerTenant`, its key template under the
    /// namespace's own prefix.
    pub fn for_namespace(&self, namespace: Option<&str>) -> std::borrow::Cow<'_, Repository> {
        let Some(tk) = &self.tenant_key else {
            return std::borrow::Cow::Borrowed(self);
        };
        let ns = namespace.unwrap_or(WORKFLOW_NAMESPACE_VARIABLE);
        let mut repo = self.clone();
        let key = crate::rules::formats::argo_key_join(
            &crate::rules::formats::argo_key_join(&tk.prefix, ns),
            &tk.rest,
        );
        repo.spec
            .insert(tk.field.into(), serde_json::Value::from(key));
        std::borrow::Cow::Owned(repo)
    }

    /// True when each namespace writes under keys of its own: `keyPrefixPerTenant`, or a key
    /// template holding `{{workflow.namespace}}`.
    pub fn keys_per_namespace(&self) -> bool {
        self.tenant_key.is_some() || self.key_template().contains(WORKFLOW_NAMESPACE_VARIABLE)
    }
}

/// The cloud identity of a tenant's pods: annotations on its service accounts (IRSA, GKE), plus the
/// pod label Azure's webhook needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkloadIdentity {
    pub aws_role_arn: Option<String>,
    pub gcp_service_account: Option<String>,
    pub azure_client_id: Option<String>,
}

impl WorkloadIdentity {
    /// The ServiceAccount annotations, sorted.
    pub fn annotations(&self) -> Vec<(&'static str, &str)> {
        use crate::rules::k8s::identity as id;
        let mut out = Vec::new();
        if let Some(v) = &self.azure_client_id {
            out.push((id::AZURE_CLIENT_ID, v.as_str()));
        }
        if let Some(v) = &self.aws_role_arn {
            out.push((id::AWS_ROLE_ARN, v.as_str()));
        }
        if let Some(v) = &self.gcp_service_account {
            out.push((id::GCP_SERVICE_ACCOUNT, v.as_str()));
        }
        out
    }
    /// Azure Workload Identity also needs a label on the pod.
    pub fn pod_labels(&self) -> Vec<(&'static str, &'static str)> {
        use crate::rules::k8s::identity as id;
        if self.azure_client_id.is_some() {
            vec![(id::AZURE_USE_LABEL, "true")]
        } else {
            Vec::new()
        }
    }
    pub fn is_empty(&self) -> bool {
        self == &WorkloadIdentity::default()
    }
}

/// Argo's workflow-level artifact garbage collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactGc {
    /// `OnWorkflowCompletion`, `OnWorkflowDeletion` or `Never`.
    pub strategy: String,
    /// The GC pods' service account.
    pub service_account_name: String,
}

impl ArtifactGc {
    /// Whether Argo starts GC pods (which then need the GC Role).
    pub fn deletes(&self) -> bool {
        self.strategy != "Never"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Its position in `repoRegistrations`, for messages (`repoRegistrations[3]`).
    pub index: usize,
    pub name: String,
    pub repo_url: String,
    pub default_branch: String,
    /// The tenant as a label value (sanitised: `program/project` becomes `program-project`).
    pub tenant: String,
    /// Where the registration's workflows run and its objects go (`namespace`, else the
    /// `namespaceRule`). Several registrations, of several tenants, may share it.
    pub namespace: String,
    pub repository: Option<Repository>,
    /// Where input data is read from (`dataBucket`), key `artifactRepositories.<name>.data`.
    pub data_repository: Option<Repository>,
    /// A WorkflowTemplate in `namespace` the generated one calls through `templateRef`.
    pub workflow_template_ref: Option<String>,
    /// The artifact GC of its WorkflowTemplate (its own, else the settings').
    pub artifact_gc: Option<ArtifactGc>,
}

/// The whole checked input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub settings: Settings,
    /// The platform default repository (`s3.enabled: true`).
    pub default_repository: Option<Repository>,
    /// In input order; rendering sorts what it emits.
    pub registrations: Vec<Registration>,
    /// Each namespace's workload identity (the settings' default, or its registrations'); only
    /// namespaces with one.
    pub identities: std::collections::BTreeMap<String, WorkloadIdentity>,
}

impl Model {
    /// The workload identity of the pods of a namespace.
    pub fn identity(&self, namespace: &str) -> Option<&WorkloadIdentity> {
        self.identities.get(namespace)
    }
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

    /// The namespaces registrations run in, sorted and deduplicated.
    pub fn namespaces(&self) -> Vec<&str> {
        let mut n: Vec<&str> = self
            .registrations
            .iter()
            .map(|r| r.namespace.as_str())
            .collect();
        n.sort_unstable();
        n.dedup();
        n
    }
}
