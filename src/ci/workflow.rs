//! `artifact-repos workflow`: the working equivalent of the seed's `argo submit
//! --artifact-repository-ref` (a flag no Argo release has). Builds a Workflow that runs a
//! WorkflowTemplate (or ClusterWorkflowTemplate) and selects a repository with
//! `spec.artifactRepositoryRef`, ready for `argo submit -` or `kubectl create -f -`. Pure: it
//! validates the request and returns YAML text; it does not look at any cluster or manifest.
//!
//! Two forms (#11). The override form sets `spec.artifactRepositoryRef` on the Workflow. Under
//! `workflowRestrictions.templateReferencing: Strict` or `Secure` (Argo v3.7.14+, v4.0.5+) a
//! Workflow that references a template may set only allow-listed spec fields, and
//! `artifactRepositoryRef` is not one (facts.md 11; Argo's ValidateUserOverrides): there the
//! repository must come from the template. The template form therefore references the
//! registration's own WorkflowTemplate, which artifact-repos generates with that registration's
//! `artifactRepositoryRef` and service account, and passes only `arguments`.

use crate::error::Problems;
use crate::rules::k8s::{is_data_key, is_dns1123_label, is_dns1123_subdomain};
use serde_json::{Map, Value, json};

/// What the command line asked for, before validation.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `workflowtemplate/NAME` or `clusterworkflowtemplate/NAME`.
    pub from: String,
    pub registration: String,
    pub namespace: Option<String>,
    /// `NAME=VALUE` strings, in order.
    pub parameters: Vec<String>,
    pub generate_name: Option<String>,
    pub configmap: String,
    pub service_account: Option<String>,
    pub form: Form,
}

/// Which Workflow `build` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Form {
    /// `spec.artifactRepositoryRef` on the Workflow (refused under Strict/Secure).
    #[default]
    Override,
    /// Only `workflowTemplateRef` and `arguments`: the template carries the repository.
    Template,
}

/// What `build` printed, for stdout, and a line for stderr saying which form it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub yaml: String,
    pub note: String,
}

pub use crate::rules::argo::repository_key;

/// Validates the request (every problem at once) and renders the Workflow as YAML.
pub fn build(req: &Request) -> Result<Built, Problems> {
    let mut p = Problems::default();
    let (cluster_scope, template) = match req.from.split_once('/') {
        Some((kind, name)) => match kind.to_ascii_lowercase().as_str() {
            "workflowtemplate" | "workflowtemplates" | "wftmpl" => (false, name),
            "clusterworkflowtemplate" | "clusterworkflowtemplates" | "cwftmpl" => (true, name),
            _ => {
                p.push(
                    "--from",
                    format!(
                        "unknown kind `{kind}`; expected `workflowtemplate/NAME` or `clusterworkflowtemplate/NAME`"
                    ),
                );
                (false, name)
            }
        },
        None => {
            p.push(
                "--from",
                format!(
                    "`{}` has no kind; expected `workflowtemplate/NAME` or `clusterworkflowtemplate/NAME`",
                    req.from
                ),
            );
            (false, "")
        }
    };
    if !template.is_empty() && !is_dns1123_subdomain(template) {
        p.push(
            "--from",
            format!(
                "template name `{template}` is not a valid name: lowercase letters, digits, `-` and `.`, at most 253 characters"
            ),
        );
    }
    let key = repository_key(&req.registration);
    if req.registration.is_empty() || !is_data_key(&key) {
        p.push(
            "--artifact-repository",
            format!(
                "`{}` does not make a valid ConfigMap data key `{key}`: use letters, digits, `-`, `_` and `.`, at most 253 characters in all",
                req.registration
            ),
        );
    }
    if let Some(ns) = &req.namespace
        && !is_dns1123_label(ns)
    {
        p.push(
                "--namespace",
                format!(
                    "`{ns}` is not a valid namespace: lowercase letters, digits and `-`, at most 63 characters"
                ),
            );
    }
    if !is_dns1123_subdomain(&req.configmap) {
        p.push(
            "--configmap",
            format!(
                "`{}` is not a valid ConfigMap name: lowercase letters, digits, `-` and `.`, at most 253 characters",
                req.configmap
            ),
        );
    }
    if let Some(sa) = &req.service_account
        && !is_dns1123_subdomain(sa)
    {
        p.push(
                "--serviceaccount",
                format!(
                    "`{sa}` is not a valid service account name: lowercase letters, digits, `-` and `.`, at most 253 characters"
                ),
            );
    }
    let generate_name = match &req.generate_name {
        Some(g) => g.clone(),
        None => format!("{template}-"),
    };
    // The API server appends five characters to the prefix; the result must be a valid name.
    let probe = format!("{generate_name}abcde");
    if req.generate_name.is_some() && !is_dns1123_subdomain(&probe) {
        p.push(
            "--generate-name",
            format!(
                "`{generate_name}` does not make valid names: lowercase letters, digits, `-` and `.`, at most 248 characters"
            ),
        );
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for (i, raw) in req.parameters.iter().enumerate() {
        let Some((name, value)) = raw.split_once('=') else {
            p.push(
                format!("--parameter[{i}]"),
                format!("`{raw}` has no `=`; expected NAME=VALUE"),
            );
            continue;
        };
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        if !valid {
            p.push(
                format!("--parameter[{i}]"),
                format!(
                    "parameter name `{name}` is not valid: Argo allows letters, digits, `-` and `_`"
                ),
            );
        } else if params.iter().any(|(n, _)| n == name) {
            p.push(
                format!("--parameter[{i}]"),
                format!("parameter `{name}` is given twice; give each parameter once"),
            );
        } else {
            params.push((name.to_string(), value.to_string()));
        }
    }
    if req.form == Form::Template {
        if !cluster_scope && !template.is_empty() && template != req.registration {
            p.push(
                "--artifact-repository",
                format!(
                    "`{}` is not the template's registration: with --form template the repository comes from the template, and artifact-repos generates WorkflowTemplate `{}` with the repository of registration `{}`; use --from workflowtemplate/{} (or --form override where templateReferencing is not Strict or Secure)",
                    req.registration, template, template, req.registration
                ),
            );
        }
        if req.service_account.is_some() {
            p.push(
                "--serviceaccount",
                "not with --form template: under templateReferencing Strict or Secure a Workflow may not set serviceAccountName; the template's (`wf-runner` for generated templates) is used",
            );
        }
        if req.configmap != DEFAULT_CONFIGMAP {
            p.push(
                "--configmap",
                "not with --form template: the template's artifactRepositoryRef names the ConfigMap",
            );
        }
    }
    p.clone().into_result()?;

    let mut metadata = Map::new();
    metadata.insert("generateName".into(), json!(generate_name));
    if let Some(ns) = &req.namespace {
        metadata.insert("namespace".into(), json!(ns));
    }
    let mut template_ref = Map::new();
    template_ref.insert("name".into(), json!(template));
    if cluster_scope {
        template_ref.insert("clusterScope".into(), json!(true));
    }
    let mut spec = Map::new();
    spec.insert("workflowTemplateRef".into(), Value::Object(template_ref));
    if req.form == Form::Override {
        spec.insert(
            "artifactRepositoryRef".into(),
            json!({"configMap": req.configmap, "key": key}),
        );
    }
    if let Some(sa) = &req.service_account {
        spec.insert("serviceAccountName".into(), json!(sa));
    }
    if !params.is_empty() {
        let list: Vec<Value> = params
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        spec.insert("arguments".into(), json!({"parameters": list}));
    }
    let wf = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": Value::Object(metadata),
        "spec": Value::Object(spec),
    });
    // A whole document (leading `---`), so the output can follow a rendered stream:
    // `cat rendered.yaml wf.yaml | artifact-repos check -`.
    let kind = if cluster_scope {
        "ClusterWorkflowTemplate"
    } else {
        "WorkflowTemplate"
    };
    let note = match req.form {
        Form::Override => format!(
            "printed the override form: spec.artifactRepositoryRef selects ConfigMap `{}` key `{key}`; Argo refuses it under workflowRestrictions.templateReferencing Strict or Secure, where --form template works",
            req.configmap
        ),
        Form::Template => format!(
            "printed the template form (works under templateReferencing Strict and Secure): only workflowTemplateRef and arguments; the repository and service account are those {kind} `{template}` sets"
        ),
    };
    Ok(Built {
        yaml: format!("---\n{}", crate::yaml::to_yaml(&wf)),
        note,
    })
}

/// The `--configmap` default.
pub const DEFAULT_CONFIGMAP: &str = "artifact-repositories";
