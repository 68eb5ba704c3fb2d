//! The JSON schema (draft-07, what Helm validates with) of the values sections this tool reads,
//! committed as `charts/artifact-repos/values.schema.json` so Helm rejects bad values before
//! rendering. It mirrors `values::validate`: a test holds the two to the same keys, and the
//! validator stays the authority (Helm's schema check cannot express every rule, for example
//! duplicate names across registrations or Kubernetes' size limits). Only the tool's own sections
//! are closed with `additionalProperties: false`; the top level stays open for umbrella charts.

use crate::values::validate::defaults as d;
use serde_json::{Value, json};

const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const DATA_KEY: &str = "^[-._a-zA-Z0-9]+$";

fn bucket(endpoint_key: &str, default_secret: &str) -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert(
        endpoint_key.into(),
        json!({"type": "string", "description": "S3 endpoint as host[:port], no scheme, no path", "default": d::ENDPOINT, "pattern": "^[^/]+$", "not": {"pattern": "://"}}),
    );
    p.insert("bucket".into(), json!({"type": "string", "description": "S3 bucket name (AWS naming rules)", "minLength": 3, "maxLength": 63, "pattern": "^[a-z0-9][a-z0-9.-]*[a-z0-9]$"}));
    p.insert("region".into(), json!({"type": "string", "description": "bucket region, like us-west-2", "pattern": "^[a-z0-9-]+$"}));
    p.insert("keyPrefix".into(), json!({"type": "string", "description": "key prefix; becomes keyFormat `<prefix>/{{workflow.name}}/{{pod.name}}` (Argo deprecates keyPrefix)", "pattern": "^[^/]"}));
    p.insert("keyFormat".into(), json!({"type": "string", "description": "Argo keyFormat template, under keyPrefix when both are set", "pattern": "^[^/]"}));
    p.insert(
        "insecure".into(),
        json!({"type": "boolean", "description": "plain HTTP to the endpoint", "default": false}),
    );
    p.insert("pathStyle".into(), json!({"type": "boolean", "description": "path-style addressing: written as addressingStyle for Argo >= 4.1, dropped with a warning before (Argo 3.x chooses by itself)"}));
    p.insert("archiveLogs".into(), json!({"type": "boolean", "description": "archive container logs to the repository", "default": true}));
    p.insert("externalSecretPath".into(), json!({"type": "string", "description": "Vault path (relative to the store's mount) of the credentials; an ExternalSecret produces the Secret", "pattern": "^[^/\\s]([^\\s]*[^/\\s])?$"}));
    p.insert("existingSecret".into(), json!({"type": "string", "description": "a Secret already in each namespace that uses the repository (DNS-1123 label)", "maxLength": 63, "pattern": DNS_LABEL}));
    p.insert("useSDKCreds".into(), json!({"type": "boolean", "description": "use the pod's cloud identity (IRSA, instance profile) instead of a Secret"}));
    p.insert("roleARN".into(), json!({"type": "string", "description": "IAM role to assume", "pattern": "^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/.+$"}));
    p.insert("secretName".into(), json!({"type": "string", "description": format!("name of the Secret the ExternalSecret creates (default {default_secret})"), "maxLength": 63, "pattern": DNS_LABEL}));
    p
}

fn strings(description: &str, default: &[&str]) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description, "default": default})
}

/// The schema as a JSON value.
pub fn schema_value() -> Value {
    let mut s3 = bucket("endpoint", "s3-credentials-default");
    s3.insert("enabled".into(), json!({"type": "boolean", "description": "render the platform default repository", "default": false}));
    let s3 = json!({
        "type": ["object", "null"],
        "description": "the platform's default artifact repository (default-v1 and artifactRepositories.default)",
        "additionalProperties": false,
        "properties": s3,
        "if": {"properties": {"enabled": {"const": true}}, "required": ["enabled"]},
        "then": {"required": ["bucket"]},
    });
    let registration = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "repoUrl", "tenant"],
        "properties": {
            "name": {"type": "string", "description": "registration name: WorkflowTemplate name and repository key suffix (DNS-1123 label, not `default`)", "maxLength": 63, "pattern": DNS_LABEL},
            "repoUrl": {"type": "string", "description": "git URL the WorkflowTemplate runs", "pattern": "^(https?://|ssh://|git://|file://|[^/@\\s]+@[^:\\s]+:)\\S+$"},
            "defaultBranch": {"type": "string", "description": "default revision", "default": d::DEFAULT_BRANCH},
            "tenant": {"type": "string", "description": "tenant namespace (DNS-1123 label)", "maxLength": 63, "pattern": DNS_LABEL},
            "artifactBucket": {
                "type": ["object", "null"],
                "description": "the registration's own S3 bucket; without it the registration uses the default repository",
                "additionalProperties": false,
                "required": ["bucket"],
                "properties": bucket("hostname", "s3-credentials-<name>"),
            },
        },
    });
    let settings = json!({
        "type": ["object", "null"],
        "description": "what a platform team tunes",
        "additionalProperties": false,
        "properties": {
            "controllerNamespace": {"type": "string", "default": d::CONTROLLER_NAMESPACE, "pattern": DNS_LABEL, "maxLength": 63, "description": "namespace of the Argo workflow controller"},
            "configMapName": {"type": "string", "default": d::CONFIG_MAP_NAME, "pattern": DNS_SUBDOMAIN, "maxLength": 253, "description": "name of the repositories ConfigMaps"},
            "defaultKey": {"type": "string", "default": d::DEFAULT_KEY, "pattern": DATA_KEY, "description": "legacy default key, named by the default-artifact-repository annotation"},
            "argoVersion": {"type": ["string", "number"], "default": d::ARGO_VERSION, "description": "target Argo Workflows version (3.4 or later); 4.1 and later can express pathStyle as addressingStyle"},
            "layout": {"type": "string", "enum": ["central", "tenant"], "default": "central", "description": "central: a ConfigMap in the controller namespace with every repository plus one per tenant; tenant: tenant ConfigMaps only (scales past the 1 MiB ConfigMap limit)"},
            "createNamespaces": {"type": "boolean", "default": true, "description": "create a Namespace per tenant"},
            "serviceAccountName": {"type": "string", "default": d::SERVICE_ACCOUNT, "pattern": DNS_SUBDOMAIN, "description": "workflow service account in each tenant namespace"},
            "executorRoleName": {"type": "string", "pattern": DNS_SUBDOMAIN, "description": "Role/RoleBinding granting workflowtaskresults create/patch (default <serviceAccountName>-executor)"},
            "readerRole": {
                "type": ["object", "null"], "additionalProperties": false,
                "description": "the seed's reader Role on the ConfigMap; Argo itself does not need it",
                "properties": {
                    "enabled": {"type": "boolean", "default": true},
                    "name": {"type": "string", "default": d::READER_ROLE, "pattern": DNS_SUBDOMAIN},
                },
            },
            "externalSecrets": {
                "type": ["object", "null"], "additionalProperties": false,
                "properties": {
                    "storeRef": {
                        "type": ["object", "null"], "additionalProperties": false,
                        "properties": {
                            "kind": {"type": "string", "enum": ["ClusterSecretStore", "SecretStore"], "default": d::STORE_KIND},
                            "name": {"type": "string", "default": d::STORE_NAME, "pattern": DNS_SUBDOMAIN},
                        },
                    },
                    "refreshInterval": {"type": "string", "default": d::REFRESH_INTERVAL, "pattern": "^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$", "description": "Go duration"},
                    "accessKeyProperty": {"type": "string", "default": d::ACCESS_KEY_PROPERTY, "description": "Vault property holding the access key id"},
                    "secretKeyProperty": {"type": "string", "default": d::SECRET_KEY_PROPERTY, "description": "Vault property holding the secret access key"},
                },
            },
            "credentialKeys": {
                "type": ["object", "null"], "additionalProperties": false,
                "description": "keys of the credential Secret",
                "properties": {
                    "accessKey": {"type": "string", "default": d::ACCESS_KEY_KEY, "pattern": DATA_KEY},
                    "secretKey": {"type": "string", "default": d::SECRET_KEY_KEY, "pattern": DATA_KEY},
                },
            },
            "workflowTemplates": {
                "type": ["object", "null"], "additionalProperties": false,
                "description": "the runner of the generated WorkflowTemplates",
                "properties": {
                    "enabled": {"type": "boolean", "default": true},
                    "image": {"type": "string", "default": d::RUNNER_IMAGE, "description": "runner image"},
                    "command": strings("runner command (no shell: each item is one argv element)", d::RUNNER_COMMAND),
                    "args": strings("runner arguments; {{inputs.parameters.repo-url}} and {{inputs.parameters.revision}} are available", d::RUNNER_ARGS),
                    "outputPath": {"type": "string", "default": d::OUTPUT_PATH, "pattern": "^/", "description": "directory archived as the `outputs` artifact"},
                },
            },
            "commonLabels": {"type": ["object", "null"], "additionalProperties": {"type": "string"}, "description": "labels added to every generated object"},
        },
    });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "artifact-repos values",
        "description": "Sections read by artifact-repos; every other top-level key is ignored. Generated by `artifact-repos schema`.",
        "type": "object",
        "properties": {
            "repoRegistrations": {"type": ["array", "null"], "items": registration, "description": "one entry per git repository"},
            "s3": s3,
            "artifactRepos": settings,
        },
    })
}

/// The schema as pretty JSON text.
pub fn values_schema() -> String {
    crate::yaml::to_json(&schema_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::validate::{BUCKET_KEYS, REGISTRATION_KEYS, S3_KEYS, SETTINGS_KEYS};

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }
    fn sorted(k: &[&str]) -> Vec<String> {
        let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    }

    #[test]
    fn schema_lists_exactly_the_keys_the_validator_accepts() {
        let s = schema_value();
        let p = &s["properties"];
        assert_eq!(
            keys(&p["repoRegistrations"]["items"]),
            sorted(REGISTRATION_KEYS)
        );
        assert_eq!(
            keys(&p["repoRegistrations"]["items"]["properties"]["artifactBucket"]),
            sorted(BUCKET_KEYS)
        );
        assert_eq!(keys(&p["s3"]), sorted(S3_KEYS));
        assert_eq!(keys(&p["artifactRepos"]), sorted(SETTINGS_KEYS));
    }
}
