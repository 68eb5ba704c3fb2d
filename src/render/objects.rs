//! Builders: one function per generated object, from the checked model to a typed object. Names,
//! labels and namespaces are decided here and nowhere else, so no value in the input can make an
//! object land under another kind, namespace or name than the one its builder gives it.

use super::custom::*;
use crate::model::{Credentials, Model, Registration, Repository, Settings};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

pub use crate::rules::argo::{
    DATA_KEY_SUFFIX, DEFAULT_REPOSITORY_ANNOTATION, data_repository_key, repository_key,
};
pub use crate::rules::k8s::{EXISTING_SECRETS_ANNOTATION, EXISTING_TEMPLATES_ANNOTATION};
use crate::rules::k8s::{RBAC_GROUP, labels};
pub const DEFAULT_NAME: &str = "default";
/// The seed's nested index (never read by Argo; kept for people who read the ConfigMap).
pub const INDEX_KEY: &str = "artifactRepositories";

/// What every builder needs besides the model.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub release: &'a str,
    pub annotations: &'a [(String, String)],
    /// `app.kubernetes.io/managed-by` (see `ManagedBy`).
    pub managed_by: &'a str,
}

impl Ctx<'_> {
    fn settings(&self) -> &Settings {
        &self.model.settings
    }

    pub fn meta(
        &self,
        name: &str,
        namespace: Option<&str>,
        component: &str,
        tenant: Option<&str>,
        registration: Option<&str>,
    ) -> ObjectMeta {
        let mut map: BTreeMap<String, String> = self
            .settings()
            .common_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        map.insert(labels::NAME.into(), labels::TOOL.into());
        map.insert(labels::INSTANCE.into(), self.release.into());
        map.insert(labels::MANAGED_BY.into(), self.managed_by.into());
        map.insert(labels::PART_OF.into(), labels::PART_OF_VALUE.into());
        map.insert(labels::COMPONENT.into(), component.into());
        if let Some(t) = tenant {
            map.insert(labels::TENANT.into(), t.into());
        }
        if let Some(r) = registration {
            map.insert(labels::REGISTRATION.into(), r.into());
        }
        let annotations: BTreeMap<String, String> = self.annotations.iter().cloned().collect();
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            labels: Some(map),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }
    }

    /// A namespace's Namespace, kept by every deploy path when it stops generating it (its last
    /// registration removed) and on uninstall: Helm, Argo CD, kpt and Flux delete dropped objects,
    /// Namespaces and everything in them included, unless marked with their own keep annotation
    /// (`rules::k8s::KEEP_ANNOTATIONS`; docs/upstream.md). Objects of one namespace take `tenant`
    /// as their tenant label only when every registration in the namespace is of that tenant.
    pub fn namespace(&self, ns: &str, tenant: Option<&str>) -> Namespace {
        let mut metadata = self.meta(ns, None, "tenant-namespace", tenant, None);
        let annotations = metadata.annotations.get_or_insert_with(Default::default);
        for (key, value, _) in crate::rules::k8s::KEEP_ANNOTATIONS {
            annotations.insert((*key).into(), (*value).into());
        }
        Namespace {
            metadata,
            ..Default::default()
        }
    }

    pub fn service_account(&self, ns: &str, tenant: Option<&str>) -> ServiceAccount {
        self.service_account_named(
            &self.settings().service_account_name,
            ns,
            tenant,
            "workflow-service-account",
        )
    }

    /// A service account of a namespace, annotated with the namespace's workload identity.
    pub fn service_account_named(
        &self,
        name: &str,
        ns: &str,
        tenant: Option<&str>,
        component: &str,
    ) -> ServiceAccount {
        let mut metadata = self.meta(name, Some(ns), component, tenant, None);
        if let Some(identity) = self.model.identity(ns) {
            let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
            for (k, v) in identity.annotations() {
                annotations.insert(k.into(), v.into());
            }
        }
        ServiceAccount {
            metadata,
            ..Default::default()
        }
    }

    /// The Role Argo's artifact GC pods need (docs/walk-through/artifacts.md, "Service Accounts and
    /// Annotations": the minimum recommended permissions).
    pub fn gc_role(&self, ns: &str, tenant: Option<&str>) -> Role {
        Role {
            metadata: self.meta(&self.gc_role_name(), Some(ns), "rbac", tenant, None),
            rules: Some(vec![
                PolicyRule {
                    api_groups: Some(vec!["argoproj.io".into()]),
                    resources: Some(vec!["workflowartifactgctasks".into()]),
                    verbs: vec!["list".into(), "watch".into()],
                    ..Default::default()
                },
                PolicyRule {
                    api_groups: Some(vec!["argoproj.io".into()]),
                    resources: Some(vec!["workflowartifactgctasks/status".into()]),
                    verbs: vec!["patch".into()],
                    ..Default::default()
                },
            ]),
        }
    }

    pub fn gc_role_name(&self) -> String {
        format!("{}-artifact-gc", self.settings().service_account_name)
    }

    /// Binds the GC Role to each GC service account of the namespace.
    pub fn gc_binding(&self, ns: &str, tenant: Option<&str>, accounts: &[&str]) -> RoleBinding {
        let name = self.gc_role_name();
        RoleBinding {
            metadata: self.meta(&name, Some(ns), "rbac", tenant, None),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name,
            },
            subjects: Some(
                accounts
                    .iter()
                    .map(|a| Subject {
                        kind: "ServiceAccount".into(),
                        name: a.to_string(),
                        namespace: Some(ns.into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
        }
    }

    /// The Role the Argo executor (wait container) needs to report outputs (Argo >= 3.4).
    pub fn executor_role(&self, ns: &str, tenant: Option<&str>) -> Role {
        Role {
            metadata: self.meta(
                &self.settings().executor_role_name,
                Some(ns),
                "rbac",
                tenant,
                None,
            ),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec!["argoproj.io".into()]),
                resources: Some(vec!["workflowtaskresults".into()]),
                verbs: vec!["create".into(), "patch".into()],
                ..Default::default()
            }]),
        }
    }

    fn service_account_subject(&self, ns: &str) -> Subject {
        Subject {
            kind: "ServiceAccount".into(),
            name: self.settings().service_account_name.clone(),
            namespace: Some(ns.into()),
            ..Default::default()
        }
    }

    pub fn executor_binding(&self, ns: &str, tenant: Option<&str>) -> RoleBinding {
        let name = &self.settings().executor_role_name;
        RoleBinding {
            metadata: self.meta(name, Some(ns), "rbac", tenant, None),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name: name.clone(),
            },
            subjects: Some(vec![self.service_account_subject(ns)]),
        }
    }

    /// The seed's reader Role. Argo does not need it: the controller reads the ConfigMap itself.
    pub fn reader_role(&self, name: &str) -> Role {
        let s = self.settings();
        Role {
            metadata: self.meta(name, Some(&s.controller_namespace), "rbac", None, None),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["configmaps".into()]),
                resource_names: Some(vec![s.config_map_name.clone()]),
                verbs: vec!["get".into(), "list".into()],
                ..Default::default()
            }]),
        }
    }

    pub fn reader_binding(&self, role: &str, ns: &str, tenant: Option<&str>) -> RoleBinding {
        let s = self.settings();
        RoleBinding {
            metadata: self.meta(
                &format!("{role}-{ns}"),
                Some(&s.controller_namespace),
                "rbac",
                tenant,
                None,
            ),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name: role.into(),
            },
            subjects: Some(vec![self.service_account_subject(ns)]),
        }
    }

    /// One repository as Argo reads it.
    pub fn repository<'r>(&'r self, repo: &'r Repository) -> ArtifactRepository<'r> {
        ArtifactRepository {
            archive_logs: repo.archive_logs,
            storage: [(repo.backend, repo.spec())].into_iter().collect(),
        }
    }

    /// The `artifact-repositories` ConfigMap of one namespace. `with_index` adds the seed's nested
    /// `artifactRepositories` key (central ConfigMap only).
    pub fn config_map(
        &self,
        namespace: &str,
        tenant: Option<&str>,
        regs: &[&Registration],
        with_index: bool,
    ) -> ConfigMap {
        // The central ConfigMap is the one with the index; every other is a workflow namespace's.
        let in_workflow_namespace = !with_index;
        let s = self.settings();
        let mut data = BTreeMap::new();
        let mut index: Vec<(&str, ArtifactRepository)> = Vec::new();
        // With `keyPrefixPerTenant`, the default's keys are the namespace's own: literal here, Argo's
        // `{{workflow.namespace}}` in the central ConfigMap, which serves every namespace.
        let default = self
            .model
            .default_repository
            .as_ref()
            .map(|d| d.for_namespace(in_workflow_namespace.then_some(namespace)));
        if let Some(d) = &default {
            let doc = crate::yaml::to_yaml(&self.repository(d));
            data.insert(s.default_key.clone(), doc.clone());
            data.insert(repository_key(DEFAULT_NAME), doc);
            index.push((DEFAULT_NAME, self.repository(d)));
        }
        let mut data_index: Vec<(String, &Repository)> = Vec::new();
        for r in regs {
            if let Some(repo) = &r.repository {
                data.insert(
                    repository_key(&r.name),
                    crate::yaml::to_yaml(&self.repository(repo)),
                );
                index.push((&r.name, self.repository(repo)));
            }
            if let Some(repo) = &r.data_repository {
                data.insert(
                    data_repository_key(&r.name),
                    crate::yaml::to_yaml(&self.repository(repo)),
                );
                data_index.push((format!("{}{DATA_KEY_SUFFIX}", r.name), repo));
            }
        }
        if with_index && !index.is_empty() {
            let mut map: indexmap::IndexMap<&str, ArtifactRepository> = index.into_iter().collect();
            for (k, repo) in &data_index {
                map.insert(k, self.repository(repo));
            }
            data.insert(INDEX_KEY.into(), crate::yaml::to_yaml(&map));
        }
        let mut metadata = self.meta(
            &s.config_map_name,
            Some(namespace),
            "artifact-repository",
            tenant,
            None,
        );
        if self.model.default_repository.is_some() {
            let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
            annotations.insert(DEFAULT_REPOSITORY_ANNOTATION.into(), s.default_key.clone());
            // The values accepted that ref-less workflows do not read this default (`check`).
            if s.config_map_name != crate::rules::argo::DEFAULT_CONFIGMAP
                && s.allow_ref_less_lookup_break
            {
                annotations.insert(
                    crate::rules::k8s::REF_LESS_LOOKUP_BREAK_ANNOTATION.into(),
                    "true".into(),
                );
            }
        }
        // Only a tenant's ConfigMap: its namespace is where its workflows run and mount Secrets.
        if in_workflow_namespace {
            let existing: std::collections::BTreeSet<&str> = self
                .model
                .default_repository
                .iter()
                .chain(regs.iter().filter_map(|r| r.repository.as_ref()))
                .chain(regs.iter().filter_map(|r| r.data_repository.as_ref()))
                .flat_map(|repo| repo.user_secrets.iter().map(String::as_str))
                .collect();
            if !existing.is_empty() {
                metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(
                        EXISTING_SECRETS_ANNOTATION.into(),
                        existing.into_iter().collect::<Vec<_>>().join(","),
                    );
            }
        }
        ConfigMap {
            metadata,
            data: Some(data),
            ..Default::default()
        }
    }

    /// The ExternalSecret that produces a repository's credential Secret from Vault.
    /// The Secret key of an Azure repository's `accountKeySecret` when it may hold a SAS token
    /// (Argo 3.6 and later, `rules::argo::AZURE_SAS_SINCE`) and the tool writes its
    /// ExternalSecret: Argo appends the token to the container URL after a `?` of its own
    /// (`fmt.Sprintf("%s?%s", containerURL, accountKey)`, `workflow/artifacts/azure/azure.go`),
    /// so a token copied with its leading `?` (as the Azure portal shows it) would give `??sv=`.
    pub fn sas_key(&self, repo: &Repository) -> Option<String> {
        if repo.backend != "azure"
            || self.settings().argo_version < crate::rules::argo::AZURE_SAS_SINCE
            || !matches!(repo.credentials, Credentials::Vault { .. })
        {
            return None;
        }
        repo.spec()
            .get("accountKeySecret")
            .and_then(|s| s.get("key"))
            .and_then(|k| k.as_str())
            .map(str::to_string)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn external_secret(
        &self,
        secret_name: &str,
        vault_path: &str,
        keys: &[(String, String)],
        ns: &str,
        tenant: Option<&str>,
        registration: Option<&str>,
        sas_key: Option<&str>,
    ) -> ExternalSecret {
        let s = self.settings();
        let e = &s.external_secrets;
        let vault_path = match &e.path_prefix {
            Some(prefix) => format!("{prefix}/{vault_path}"),
            None => vault_path.to_string(),
        };
        let data = keys
            .iter()
            .map(|(key, property)| ExternalSecretData {
                secret_key: key.clone(),
                remote_ref: RemoteRef {
                    key: vault_path.clone(),
                    property: property.clone(),
                },
            })
            .collect();
        ExternalSecret {
            metadata: self.meta(secret_name, Some(ns), "credentials", tenant, registration),
            spec: ExternalSecretSpec {
                refresh_interval: e.refresh_interval.clone(),
                secret_store_ref: StoreRef {
                    kind: e.store_kind.as_str(),
                    name: e.store_name.clone(),
                },
                target: Target {
                    name: secret_name.into(),
                    creation_policy: "Owner",
                    deletion_policy: "Retain",
                    // One leading `?` of a SAS token dropped (see `sas_key`); an account key
                    // (base64) never starts with one. A data key is `[-._a-zA-Z0-9]+`, so it
                    // goes between quotes as it is.
                    template: sas_key.map(|k| TargetTemplate {
                        engine_version: "v2",
                        merge_policy: "Merge",
                        data: [(
                            k.to_string(),
                            format!("{{{{ index . \"{k}\" | trimPrefix \"?\" }}}}"),
                        )]
                        .into_iter()
                        .collect(),
                    }),
                },
                data,
            },
        }
    }

    /// The WorkflowTemplate of one registration; `None` when templates are disabled.
    pub fn workflow_template(&self, r: &Registration) -> Option<WorkflowTemplate> {
        let s = self.settings();
        let runner = s.runner.as_ref()?;
        let key = if r.repository.is_some() {
            Some(repository_key(&r.name))
        } else {
            self.model
                .default_repository
                .as_ref()
                .map(|_| repository_key(DEFAULT_NAME))
        };
        let pod_labels: BTreeMap<String, String> = self
            .model
            .identity(&r.tenant)
            .map(|i| {
                i.pod_labels()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let pod_metadata =
            (!pod_labels.is_empty()).then_some(WorkflowMetadata { labels: pod_labels });
        let artifact_gc = r.artifact_gc.as_ref().map(|gc| WorkflowArtifactGc {
            strategy: gc.strategy.clone(),
            service_account_name: gc.service_account_name.clone(),
            pod_metadata: pod_metadata.clone(),
        });
        let mut wf_labels = BTreeMap::new();
        wf_labels.insert(labels::TENANT.to_string(), r.tenant.clone());
        wf_labels.insert(labels::REGISTRATION.to_string(), r.name.clone());
        let params = |value: &dyn Fn(&'static str) -> Option<String>| {
            ["repo-url", "revision"]
                .into_iter()
                .map(|name| Parameter {
                    name,
                    value: value(name),
                    description: None,
                })
                .collect::<Vec<_>>()
        };
        let template = match &r.workflow_template_ref {
            // Argo resolves `templateRef` in the workflow's namespace; the workflow-level
            // `artifactRepositoryRef` above applies to every step, the called ones included.
            Some(called) => Template {
                name: "run",
                inputs: None,
                container: None,
                outputs: None,
                steps: Some(vec![vec![Step {
                    name: "run",
                    template_ref: TemplateRef {
                        name: called.clone(),
                        template: runner.ref_template.clone(),
                    },
                    arguments: Arguments {
                        parameters: params(&|n| Some(format!("{{{{workflow.parameters.{n}}}}}"))),
                    },
                }]]),
            },
            None => Template {
                name: "run",
                inputs: Some(Inputs {
                    parameters: params(&|_| None),
                }),
                container: Some(Container {
                    name: "main",
                    image: runner.image.clone(),
                    command: runner.command.clone(),
                    args: runner.args.clone(),
                }),
                outputs: Some(Outputs {
                    artifacts: vec![OutputArtifact {
                        name: "outputs",
                        path: runner.output_path.clone(),
                    }],
                }),
                steps: None,
            },
        };
        let mut metadata = self.meta(
            &r.name,
            Some(&r.namespace),
            "workflow-template",
            Some(&r.tenant),
            Some(&r.name),
        );
        // A called WorkflowTemplate the values declare as existing in the cluster: `check` reads it.
        if let Some(called) = &r.workflow_template_ref
            && s.existing_templates
                .iter()
                .any(|t| match t.split_once('/') {
                    Some((ns, n)) => ns == r.namespace && n == called,
                    None => t == called,
                })
        {
            metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(EXISTING_TEMPLATES_ANNOTATION.into(), called.clone());
        }
        Some(WorkflowTemplate {
            metadata,
            spec: WorkflowTemplateSpec {
                service_account_name: s.service_account_name.clone(),
                artifact_repository_ref: key.map(|key| ArtifactRepositoryRef {
                    config_map: s.config_map_name.clone(),
                    key,
                }),
                pod_metadata,
                artifact_gc,
                workflow_metadata: WorkflowMetadata { labels: wf_labels },
                entrypoint: "run",
                arguments: Arguments {
                    parameters: vec![
                        Parameter {
                            name: "repo-url",
                            value: Some(r.repo_url.clone()),
                            description: Some("git repository to run"),
                        },
                        Parameter {
                            name: "revision",
                            value: Some(r.default_branch.clone()),
                            description: Some("branch, tag or commit"),
                        },
                    ],
                },
                templates: vec![template],
            },
        })
    }
}
