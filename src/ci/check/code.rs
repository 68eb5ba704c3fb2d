//! What `check` can find, one variant per rule, with the docs' description of each: the table in
//! docs/commands.md ("`check`") is generated from `Code::ALL` (`readme_table`) and checked by a test.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    UnresolvedRef,
    NoDefaultRepository,
    InvalidRepository,
    UnknownRepositoryKey,
    NoStorage,
    MissingSecret,
    MissingSecretKey,
    InvalidSecretName,
    InvalidSecretKey,
    MissingServiceAccount,
    MissingTaskresultsRbac,
    MissingArtifactGcRbac,
    CrossTenantCredentials,
    SharedCredentials,
    MissingTemplate,
    ConfigmapTooLarge,
    RefLessDefaultUnread,
    CaSecretOverHttp,
    VaultDataPrefix,
}

impl Code {
    pub const ALL: [Code; 19] = [
        Code::UnresolvedRef,
        Code::NoDefaultRepository,
        Code::InvalidRepository,
        Code::UnknownRepositoryKey,
        Code::NoStorage,
        Code::MissingSecret,
        Code::MissingSecretKey,
        Code::InvalidSecretName,
        Code::InvalidSecretKey,
        Code::MissingServiceAccount,
        Code::MissingTaskresultsRbac,
        Code::MissingArtifactGcRbac,
        Code::CrossTenantCredentials,
        Code::SharedCredentials,
        Code::MissingTemplate,
        Code::ConfigmapTooLarge,
        Code::RefLessDefaultUnread,
        Code::CaSecretOverHttp,
        Code::VaultDataPrefix,
    ];

    /// A warning is printed as `warning[NAME]` and does not make `check` exit 1: nothing fails,
    /// but tenants are not isolated.
    pub fn is_warning(self) -> bool {
        matches!(self, Code::SharedCredentials)
    }

    /// The stable name printed as `finding[NAME]`.
    pub fn as_str(self) -> &'static str {
        self.describe().0
    }

    /// (name, what it means, what Argo does).
    fn describe(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Code::UnresolvedRef => (
                "unresolved-ref",
                "`artifactRepositoryRef` names a ConfigMap/key found neither in the workflow's namespace nor in the controller's",
                "the workflow errors: failed to find any artifact repository",
            ),
            Code::NoDefaultRepository => (
                "no-default-repository",
                "no ref, and no annotated `artifact-repositories` ConfigMap in the workflow's own namespace",
                "the controller's configured default is used (the one in the controller namespace is NOT a default for other namespaces)",
            ),
            Code::InvalidRepository => (
                "invalid-repository",
                "the value is not one ArtifactRepository document, or a field has the wrong type",
                "the workflow errors (no fall-through to the next namespace)",
            ),
            Code::UnknownRepositoryKey => (
                "unknown-repository-key",
                "a key Argo does not know (`pathStyle`; `addressingStyle` before 4.1: see `--argo-version`)",
                "silently ignored",
            ),
            Code::NoStorage => (
                "no-storage",
                "no `s3`/`gcs`/... section",
                "saving artifacts fails",
            ),
            Code::MissingSecret => (
                "missing-secret",
                "a credential Secret is neither a Secret nor an ExternalSecret target in the workflow's namespace",
                "pods cannot start (the Secret is mounted as a volume)",
            ),
            Code::MissingSecretKey => (
                "missing-secret-key",
                "the Secret (or the ExternalSecret's `data[].secretKey`) lacks the key",
                "steps fail reading the credential",
            ),
            Code::InvalidSecretName => (
                "invalid-secret-name",
                "the Secret name is not a DNS-1123 label (volume name)",
                "the API server rejects the pod",
            ),
            Code::InvalidSecretKey => (
                "invalid-secret-key",
                "the Secret key is not a valid data key (`[-._a-zA-Z0-9]+`, not starting with `..`)",
                "the API server refuses the Secret, so the credential never exists",
            ),
            Code::MissingServiceAccount => (
                "missing-service-account",
                "`serviceAccountName` does not exist in the namespace",
                "pods are refused",
            ),
            Code::MissingTaskresultsRbac => (
                "missing-taskresults-rbac",
                "no Role/ClusterRole bound to the account grants create and patch on `workflowtaskresults`",
                "the executor cannot report outputs",
            ),
            Code::MissingArtifactGcRbac => (
                "missing-artifactgc-rbac",
                "`artifactGC` deletes artifacts, but its service account is missing or not granted `list`/`watch` on `workflowartifactgctasks` and `patch` on `workflowartifactgctasks/status`",
                "the GC pods fail: artifacts are never deleted, and a workflow with `OnWorkflowDeletion` keeps its finalizer",
            ),
            Code::CrossTenantCredentials => (
                "cross-tenant-credentials",
                "the workflow selects another tenant's registration, or uses a Secret labelled for another tenant",
                "artifacts go to another tenant's bucket",
            ),
            Code::SharedCredentials => (
                "shared-credentials",
                "(a warning: exit 0) one Vault secret (the same `ClusterSecretStore`, `remoteRef.key`) is synced by ExternalSecrets into the namespaces of several tenants (the controller namespace aside)",
                "every one of those tenants' workflows holds the same credential, so each can read and overwrite the others' artifacts; see docs/isolation.md",
            ),
            Code::MissingTemplate => (
                "missing-template",
                "`workflowTemplateRef` or a step's `templateRef` names a WorkflowTemplate not in the stream and not declared to exist (`check --assume-template`, `artifactRepos.existingTemplates`), or a template the called one lacks",
                "the workflow errors unless it exists in the cluster",
            ),
            Code::ConfigmapTooLarge => (
                "configmap-too-large",
                "a ConfigMap's data values exceed 1 MiB",
                "the API server rejects it",
            ),
            Code::RefLessDefaultUnread => (
                "ref-less-default-unread",
                "a ConfigMap other than `artifact-repositories` carries the `default-artifact-repository` annotation, and its namespace has no annotated `artifact-repositories` (not reported when annotated `artifact-repos/allow-ref-less-lookup-break`)",
                "workflows without `artifactRepositoryRef` in that namespace never read it: they get the controller's configured default",
            ),
            Code::CaSecretOverHttp => (
                "ca-secret-over-http",
                "an S3 repository sets `caSecret` with `insecure: true`",
                "the CA bundle is used only over HTTPS: it is ignored",
            ),
            Code::VaultDataPrefix => (
                "vault-data-prefix",
                "an ExternalSecret's `remoteRef.key` starts with `data/`",
                "none (ESO reads Vault): with a KV v2 store whose `path` is the mount, the key is relative to the mount, so `data/` is doubled and the Secret is never produced",
            ),
        }
    }

    /// The README's table of findings.
    pub fn readme_table() -> String {
        let mut s = String::from("| finding | what it means | what Argo does |\n|---|---|---|\n");
        for c in Code::ALL {
            let (name, means, argo) = c.describe();
            s.push_str(&format!("| `{name}` | {means} | {argo} |\n"));
        }
        s
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }
}
