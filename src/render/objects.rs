//! Builders: one function per generated object, from the checked model to a typed object. Names,
//! labels and namespaces are decided here and nowhere else, so no value in the input can make an
//! object land under another kind, namespace or name than the one its builder gives it.

use super::custom::*;
use crate::model::{Credentials, Model, Registration, Repository, Settings};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

pub use crate::rules::argo::{DEFAULT_REPOSITORY_ANNOTATION, repository_key};
pub use crate::rules::k8s::EXISTING_SECRETS_ANNOTATION;
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

    /// A tenant Namespace, kept by Helm when a release stops generating it (the tenant's last
    /// registration removed) and on `helm uninstall`: Helm deletes dropped objects, Namespaces
    /// and everything in them included, unless annotated `helm.sh/resource-policy: keep`
    /// (facts.md 11, Helm's `pkg/kube/client.go`).
    pub fn namespace(&self, tenant: &str) -> Namespace {
        let mut metadata = self.meta(tenant, None, "tenant-namespace", Some(tenant), None);
        metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                crate::rules::k8s::HELM_RESOURCE_POLICY.into(),
                "keep".into(),
            );
        Namespace {
            metadata,
            ..Default::default()
        }
    }

    pub fn service_account(&self, tenant: &str) -> ServiceAccount {
        ServiceAccount {
            metadata: self.meta(
                &self.settings().service_account_name,
                Some(tenant),
                "workflow-service-account",
                Some(tenant),
                None,
            ),
            ..Default::default()
        }
    }

    /// The Role the Argo executor (wait container) needs to report outputs (Argo >= 3.4).
    pub fn executor_role(&self, tenant: &str) -> Role {
        Role {
            metadata: self.meta(
                &self.settings().executor_role_name,
                Some(tenant),
                "rbac",
                Some(tenant),
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

    fn service_account_subject(&self, tenant: &str) -> Subject {
        Subject {
            kind: "ServiceAccount".into(),
            name: self.settings().service_account_name.clone(),
            namespace: Some(tenant.into()),
            ..Default::default()
        }
    }

    pub fn executor_binding(&self, tenant: &str) -> RoleBinding {
        let name = &self.settings().executor_role_name;
        RoleBinding {
            metadata: self.meta(name, Some(tenant), "rbac", Some(tenant), None),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name: name.clone(),
            },
            subjects: Some(vec![self.service_account_subject(tenant)]),
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

    pub fn reader_binding(&self, role: &str, tenant: &str) -> RoleBinding {
        let s = self.settings();
        RoleBinding {
            metadata: self.meta(
                &format!("{role}-{tenant}"),
                Some(&s.controller_namespace),
                "rbac",
                Some(tenant),
                None,
            ),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name: role.into(),
            },
            subjects: Some(vec![self.service_account_subject(tenant)]),
        }
    }

    /// One repository as Argo reads it.
    pub fn repository<'r>(&'r self, repo: &'r Repository) -> ArtifactRepository<'r> {
        let s = self.settings();
        let secret = repo.credentials.secret_name();
        ArtifactRepository {
            archive_logs: repo.archive_logs,
            s3: S3Repository {
                fields: &repo.s3,
                access_key_secret: secret.map(|name| SecretKeyRef {
                    name,
                    key: &s.access_key_key,
                }),
                secret_key_secret: secret.map(|name| SecretKeyRef {
                    name,
                    key: &s.secret_key_key,
                }),
            },
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
        let s = self.settings();
        let mut data = BTreeMap::new();
        let mut index: Vec<(&str, ArtifactRepository)> = Vec::new();
        if let Some(d) = &self.model.default_repository {
            let doc = crate::yaml::to_yaml(&self.repository(d));
            data.insert(s.default_key.clone(), doc.clone());
            data.insert(repository_key(DEFAULT_NAME), doc);
            index.push((DEFAULT_NAME, self.repository(d)));
        }
        for r in regs {
            if let Some(repo) = &r.repository {
                data.insert(
                    repository_key(&r.name),
                    crate::yaml::to_yaml(&self.repository(repo)),
                );
                index.push((&r.name, self.repository(repo)));
            }
        }
        if with_index && !index.is_empty() {
            let map: indexmap::IndexMap<&str, ArtifactRepository> = index.into_iter().collect();
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
            metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(DEFAULT_REPOSITORY_ANNOTATION.into(), s.default_key.clone());
        }
        // Only a tenant's ConfigMap: its namespace is where its workflows run and mount Secrets.
        if tenant.is_some() {
            let existing: std::collections::BTreeSet<&str> = self
                .model
                .default_repository
                .iter()
                .chain(regs.iter().filter_map(|r| r.repository.as_ref()))
                .filter_map(|repo| match &repo.credentials {
                    Credentials::ExistingSecret { secret_name } => Some(secret_name.as_str()),
                    _ => None,
                })
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
    pub fn external_secret(
        &self,
        secret_name: &str,
        vault_path: &str,
        tenant: &str,
        registration: Option<&str>,
    ) -> ExternalSecret {
        let s = self.settings();
        let e = &s.external_secrets;
        let data = [
            (&s.access_key_key, &e.access_key_property),
            (&s.secret_key_key, &e.secret_key_property),
        ]
        .into_iter()
        .map(|(key, property)| ExternalSecretData {
            secret_key: key.clone(),
            remote_ref: RemoteRef {
                key: vault_path.into(),
                property: property.clone(),
            },
        })
        .collect();
        ExternalSecret {
            metadata: self.meta(
                secret_name,
                Some(tenant),
                "credentials",
                Some(tenant),
                registration,
            ),
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
        let mut wf_labels = BTreeMap::new();
        wf_labels.insert(labels::TENANT.to_string(), r.tenant.clone());
        wf_labels.insert(labels::REGISTRATION.to_string(), r.name.clone());
        Some(WorkflowTemplate {
            metadata: self.meta(
                &r.name,
                Some(&r.tenant),
                "workflow-template",
                Some(&r.tenant),
                Some(&r.name),
            ),
            spec: WorkflowTemplateSpec {
                service_account_name: s.service_account_name.clone(),
                artifact_repository_ref: key.map(|key| ArtifactRepositoryRef {
                    config_map: s.config_map_name.clone(),
                    key,
                }),
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
                templates: vec![Template {
                    name: "run",
                    inputs: Inputs {
                        parameters: vec![
                            Parameter {
                                name: "repo-url",
                                value: None,
                                description: None,
                            },
                            Parameter {
                                name: "revision",
                                value: None,
                                description: None,
                            },
                        ],
                    },
                    container: Container {
                        name: "main",
                        image: runner.image.clone(),
                        command: runner.command.clone(),
                        args: runner.args.clone(),
                    },
                    outputs: Outputs {
                        artifacts: vec![OutputArtifact {
                            name: "outputs",
                            path: runner.output_path.clone(),
                        }],
                    },
                }],
            },
        })
    }
}
