//! Typed shapes of the custom resources we generate (ExternalSecret, WorkflowTemplate) and of the
//! ArtifactRepository documents stored in ConfigMaps. Only the fields we write are modelled; field
//! names follow the upstream JSON names exactly, and tests validate them against the upstream CRDs
//! and Argo's schema. Core kinds come from k8s-openapi instead.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::BTreeMap;

/// One value of an `artifact-repositories` ConfigMap key (Argo's `ArtifactRepository`): `archiveLogs`
/// and one backend block, already checked against Argo's fields for the target version
/// (docs/upstream.md, "Argo: repository fields per version").
#[derive(Serialize, Debug, Clone)]
pub struct ArtifactRepository<'a> {
    #[serde(rename = "archiveLogs")]
    pub archive_logs: bool,
    #[serde(flatten)]
    pub storage: BTreeMap<&'a str, &'a serde_json::Map<String, serde_json::Value>>,
}

/// ESO's `ExternalSecret` (`external-secrets.io/v1`, docs/upstream.md "External Secrets Operator").
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    pub metadata: ObjectMeta,
    pub spec: ExternalSecretSpec,
}

/// `Resource` and `Metadata` as k8s-openapi implements them for its own kinds, so `apiVersion` and
/// `kind` come from the type for every object we write (`render::manifest`).
macro_rules! custom_resource {
    ($ty:ty, $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }
        impl k8s_openapi::Metadata for $ty {
            type Ty = ObjectMeta;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

custom_resource!(
    ExternalSecret,
    "external-secrets.io",
    "v1",
    "ExternalSecret",
    "externalsecrets"
);
custom_resource!(
    WorkflowTemplate,
    "argoproj.io",
    "v1alpha1",
    "WorkflowTemplate",
    "workflowtemplates"
);

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    pub refresh_interval: String,
    pub secret_store_ref: StoreRef,
    pub target: Target,
    pub data: Vec<ExternalSecretData>,
}

#[derive(Serialize, Debug)]
pub struct StoreRef {
    pub kind: &'static str,
    pub name: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub name: String,
    pub creation_policy: &'static str,
    pub deletion_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TargetTemplate>,
}

/// ESO's `target.template` (engine v2, Go templates with ESO's sprig functions): keys whose
/// value is rewritten on its way into the Secret; with `mergePolicy: Merge` every other key is
/// kept as fetched.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct TargetTemplate {
    pub engine_version: &'static str,
    pub merge_policy: &'static str,
    pub data: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

#[derive(Serialize, Debug)]
pub struct RemoteRef {
    pub key: String,
    pub property: String,
}

/// Argo's `WorkflowTemplate` (`argoproj.io/v1alpha1`).
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplate {
    pub metadata: ObjectMeta,
    pub spec: WorkflowTemplateSpec,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplateSpec {
    pub service_account_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_repository_ref: Option<ArtifactRepositoryRef>,
    /// Labels on every pod of the workflow (Azure Workload Identity's `azure.workload.identity/use`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<WorkflowMetadata>,
    #[serde(rename = "artifactGC", skip_serializing_if = "Option::is_none")]
    pub artifact_gc: Option<WorkflowArtifactGc>,
    pub workflow_metadata: WorkflowMetadata,
    pub entrypoint: &'static str,
    pub arguments: Arguments,
    pub templates: Vec<Template>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRepositoryRef {
    pub config_map: String,
    pub key: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct WorkflowMetadata {
    pub labels: BTreeMap<String, String>,
}

/// Argo's `WorkflowLevelArtifactGC`: the fields we write.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowArtifactGc {
    pub strategy: String,
    pub service_account_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<WorkflowMetadata>,
}

#[derive(Serialize, Debug)]
pub struct Arguments {
    pub parameters: Vec<Parameter>,
}

#[derive(Serialize, Debug)]
pub struct Parameter {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
}

#[derive(Serialize, Debug)]
pub struct Template {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Steps: the call of a registration's `workflowTemplateRef`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Vec<Step>>>,
}

/// One step calling a template of another WorkflowTemplate.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: &'static str,
    pub template_ref: TemplateRef,
    pub arguments: Arguments,
}

/// Argo's `templateRef`: a template of a WorkflowTemplate in the workflow's namespace.
#[derive(Serialize, Debug)]
pub struct TemplateRef {
    pub name: String,
    pub template: String,
}

#[derive(Serialize, Debug)]
pub struct Inputs {
    pub parameters: Vec<Parameter>,
}

#[derive(Serialize, Debug)]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct Outputs {
    pub artifacts: Vec<OutputArtifact>,
}

#[derive(Serialize, Debug)]
pub struct OutputArtifact {
    pub name: &'static str,
    pub path: String,
}
