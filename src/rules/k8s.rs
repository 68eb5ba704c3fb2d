//! Kubernetes' rules and constants: name and key formats (apimachinery's `validation` package, see
//! docs/upstream.md "Kubernetes names"), the labels every generated object carries, the ConfigMap
//! size limit and API groups. Each rule returns what is wrong, worded to follow the offending value
//! in a message (`` `A` is not a valid DNS-1123 label``); the `is_*` forms are for callers that only
//! need yes or no. Values validation, render, `check`, `explain` and `workflow` all call these.

/// Kubernetes refuses a ConfigMap whose data values add up to more than 1 MiB
/// (`MaxSecretSize` / the etcd request limit; docs/upstream.md "Kubernetes names").
pub const CONFIGMAP_LIMIT: usize = 1024 * 1024;
/// Longest DNS-1123 label: namespaces, Secret names mounted as pod volumes, label values.
pub const DNS_LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain: ConfigMap, Secret and custom resource names.
pub const DNS_SUBDOMAIN_MAX: usize = 253;

/// Namespaces that exist in every cluster (or hold the Argo controller, added by the caller): a
/// tenant may run in one, but the tool never emits it as a Namespace object, so no release owns
/// it, and none deletes it on uninstall (#11).
pub const UNOWNED_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Helm's annotation that keeps an object when a release drops it (an upgrade that no longer
/// renders it, or `helm uninstall`): generated Namespaces carry it with `keep` (docs/hardening.md).
pub const HELM_RESOURCE_POLICY: &str = "helm.sh/resource-policy";

/// Every deploy path's own mark that keeps an object it no longer renders (a tenant's last
/// registration removed, an uninstall, an Application deleted): (annotation, value, who reads it).
/// Generated Namespaces carry all of them, since a Namespace takes everything a tenant put in it
/// when it goes, and each tool honours only its own (#21).
pub const KEEP_ANNOTATIONS: &[(&str, &str, &str)] = &[
    (
        HELM_RESOURCE_POLICY,
        "keep",
        "Helm 3 and 4: `helm upgrade` and `helm uninstall` leave the object (pkg/kube/client.go)",
    ),
    (
        "argocd.argoproj.io/sync-options",
        "Prune=false,Delete=false",
        "Argo CD: an automated sync with prune, and deleting the Application, leave the object (gitops-engine sync options)",
    ),
    (
        "cli-utils.sigs.k8s.io/on-remove",
        "keep",
        "kpt `live apply` and `live destroy` (cli-utils): the object is left when it leaves the package",
    ),
    (
        "kustomize.toolkit.fluxcd.io/prune",
        "disabled",
        "Flux's kustomize-controller: garbage collection leaves the object",
    ),
];

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// On a tenant's repositories ConfigMap: the Secrets its repositories reference that the user manages
/// (`existingSecret`), comma-separated. `check` and `explain` read it, so a Secret that is
/// deliberately not in the stream is told from a missing one.
pub const EXISTING_SECRETS_ANNOTATION: &str = "artifact-repos/existing-secrets";
/// On a generated WorkflowTemplate: the WorkflowTemplates its `templateRef` calls that the values
/// declare as existing in the cluster (`artifactRepos.existingTemplates`), comma-separated; `check`
/// does not report them missing.
pub const EXISTING_TEMPLATES_ANNOTATION: &str = "artifact-repos/existing-templates";

/// On a repositories ConfigMap named other than `artifact-repositories` that carries the default
/// repository: the values accepted (`artifactRepos.allowRefLessLookupBreak: true`) that workflows
/// without `artifactRepositoryRef` do not get that default. `check` does not report such a
/// ConfigMap (`ref-less-default-unread`).
pub const REF_LESS_LOOKUP_BREAK_ANNOTATION: &str = "artifact-repos/allow-ref-less-lookup-break";

/// Labels set on every generated object; `commonLabels` may not use these prefixes.
pub mod labels {
    pub const NAME: &str = "app.kubernetes.io/name";
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    pub const PART_OF: &str = "app.kubernetes.io/part-of";
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    /// The tenant an object belongs to; `check` reads it to find cross-tenant references.
    pub const TENANT: &str = "artifact-repos/tenant";
    /// The registration an object was generated for.
    pub const REGISTRATION: &str = "artifact-repos/registration";
    /// The value of `app.kubernetes.io/name` and `managed-by`.
    pub const TOOL: &str = "artifact-repos";
    /// The value of `app.kubernetes.io/part-of`.
    pub const PART_OF_VALUE: &str = "argo-workflows";
    /// Prefixes reserved for the labels above.
    pub const RESERVED_PREFIXES: [&str; 2] = ["app.kubernetes.io/", "artifact-repos/"];
}

/// DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty; expected a DNS-1123 label like `team-a`".into());
    }
    if s.len() > DNS_LABEL_MAX {
        return Err(format!(
            "is {} characters, more than 63; expected a DNS-1123 label",
            s.len()
        ));
    }
    label_chars(
        s,
        "DNS-1123 label (lowercase letters, digits and `-`, starting and ending with a letter or digit)",
    )
}

fn label_chars(s: &str, what: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok_inner = b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    let ok_ends = b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric();
    if ok_inner && ok_ends {
        Ok(())
    } else {
        Err(format!("is not a valid {what}"))
    }
}

/// DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty; expected a DNS-1123 subdomain like `artifact-repositories`".into());
    }
    if s.len() > DNS_SUBDOMAIN_MAX {
        return Err(format!(
            "is {} characters, more than 253; expected a DNS-1123 subdomain",
            s.len()
        ));
    }
    for part in s.split('.') {
        if part.is_empty() || label_chars(part, "").is_err() {
            return Err(
                "is not a valid DNS-1123 subdomain (lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// ConfigMap and Secret data keys: `[-._a-zA-Z0-9]+`, at most 253, not `.` or `..`, not starting
/// with `..` (apimachinery `IsConfigMapKey`; docs/upstream.md, "Kubernetes names").
pub fn data_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > DNS_SUBDOMAIN_MAX {
        return Err(
            "must be 1 to 253 characters; expected a data key like `AWS_ACCESS_KEY_ID`".into(),
        );
    }
    if s == "." || s == ".." {
        return Err("may not be `.` or `..`".into());
    }
    if s.starts_with("..") {
        return Err(
            "may not start with `..` (Kubernetes refuses such a key: the kubelet writes `..`-prefixed entries into the mounted volume itself)"
                .into(),
        );
    }
    if s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c))
    {
        Ok(())
    } else {
        Err("is not a valid data key (letters, digits, `-`, `_` and `.`)".into())
    }
}

/// Label values: at most 63, `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.len() > DNS_LABEL_MAX {
        return Err(format!(
            "is {} characters, more than 63 allowed in a label value",
            s.len()
        ));
    }
    if s.is_empty() {
        return Ok(());
    }
    let b = s.as_bytes();
    let inner = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c));
    if inner && b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric() {
        Ok(())
    } else {
        Err("is not a valid label value (letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit)".into())
    }
}

/// Label keys: optional DNS subdomain prefix and `/`, then a name of at most 63 characters.
pub fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns_subdomain(p).map_err(|e| format!("has a prefix that {e}"))?;
    }
    if name.is_empty() {
        return Err(
            "has an empty name; expected a label key like `team` or `example.com/team`".into(),
        );
    }
    label_value(name).map_err(|e| format!("has a name that {e}"))
}

/// The rule a generated object's `metadata.name` follows, by kind: a Namespace's name is a DNS-1123
/// label (63); every other kind the tool writes (ServiceAccount, ConfigMap, Role, RoleBinding,
/// ExternalSecret, WorkflowTemplate) is held to a DNS-1123 subdomain (253). Render checks every
/// name it emits against this, in one place (#11, class 10).
pub fn object_name(kind: &str, name: &str) -> Result<(), String> {
    match kind {
        "Namespace" => dns_label(name),
        _ => dns_subdomain(name),
    }
}

pub fn is_dns1123_label(s: &str) -> bool {
    dns_label(s).is_ok()
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    dns_subdomain(s).is_ok()
}

pub fn is_data_key(s: &str) -> bool {
    data_key(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keys_follow_is_config_map_key() {
        for good in [
            "a",
            "AWS_ACCESS_KEY_ID",
            "a.b-c_d",
            ".a",
            "a..b",
            &"k".repeat(253),
        ] {
            assert!(is_data_key(good), "{good}");
        }
        for bad in ["", ".", "..", "..a", "...", "a/b", "a b", &"k".repeat(254)] {
            assert!(!is_data_key(bad), "{bad}");
        }
    }

    #[test]
    fn dns_names() {
        assert!(is_dns1123_label("team-a") && is_dns1123_label(&"a".repeat(63)));
        for bad in ["", "A", "-a", "a-", "a.b", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
        assert!(is_dns1123_subdomain("a.b-c.d") && is_dns1123_subdomain(&"a".repeat(253)));
        for bad in ["", "a..b", ".a", "a.", "A.b", &"a".repeat(254)] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert!(label_value("").is_ok() && label_value("a.b_c-d").is_ok());
        assert!(label_value("-a").is_err() && label_value(&"a".repeat(64)).is_err());
        assert!(label_key("example.com/team").is_ok() && label_key("team").is_ok());
        assert!(label_key("Example.com/team").is_err() && label_key("a/").is_err());
    }
}

/// Workload identity annotations and labels of the three clouds (docs/upstream.md, "Workload
/// identity").
pub mod identity {
    /// IRSA (EKS): the IAM role the pod's web identity token assumes.
    pub const AWS_ROLE_ARN: &str = "eks.amazonaws.com/role-arn";
    /// GKE Workload Identity: the Google service account the Kubernetes one impersonates.
    pub const GCP_SERVICE_ACCOUNT: &str = "iam.gke.io/gcp-service-account";
    /// Azure Workload Identity: the managed identity's client id (on the ServiceAccount)...
    pub const AZURE_CLIENT_ID: &str = "azure.workload.identity/client-id";
    /// ...and the label on the pod that makes the webhook inject the token.
    pub const AZURE_USE_LABEL: &str = "azure.workload.identity/use";
}
