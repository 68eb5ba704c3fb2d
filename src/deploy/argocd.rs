//! The Argo CD Config Management Plugin's generate command (`artifact-repos argocd-generate`, run by
//! the repo-server sidecar in the Application's source directory): the environment Argo CD sets
//! (read by `cli`) and the files of the source directory in (through `fsio`), the stream for Argo
//! CD out. A chart source runs `helm template` (`deploy::helm`) and the post-renderer; a values
//! directory runs the pipeline.
//!
//! Two kinds of Application source:
//! - a chart (`Chart.yaml` in the directory) whose templates hold the values carrier: `helm template`
//!   with the Application's name and namespace as release name and namespace, `KUBE_VERSION` and
//!   `KUBE_API_VERSIONS` passed on, then the post-renderer in-process;
//! - a directory of values files and RepoRegistration manifests: `render`, with the Application's
//!   name as the release name.
//!
//! Parameters (`ARGOCD_APP_PARAMETERS`, JSON; announced in argocd/plugin.yaml for the UI):
//! - `values-files` (array): the values files, relative to the source directory, merged in order;
//!   default `values.yaml` (Argo CD does not send announced defaults: the plugin applies them);
//! - `set` (map): values set on top, as `--set PATH=VALUE`.
//!
//! An error never yields a partial or empty stream: Argo CD would prune the tenant's objects.

use crate::error::{Problem, Problems};
use crate::pipeline::{self, Sources, Values};
use std::path::Path;

/// The parameter naming the values files.
pub const PARAM_VALUES_FILES: &str = "values-files";
/// The parameter setting values on top, as `--set`.
pub const PARAM_SET: &str = "set";
/// `values-files` when the Application sets none.
pub const DEFAULT_VALUES_FILE: &str = "values.yaml";

/// What Argo CD hands the generate command, read from its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `ARGOCD_APP_NAME`: the release name.
    pub app_name: Option<String>,
    /// `ARGOCD_APP_NAMESPACE`: the release namespace.
    pub app_namespace: Option<String>,
    /// `ARGOCD_APP_PARAMETERS`: JSON, `[{"name": ..., "string"|"array"|"map": ...}]`.
    pub parameters: Option<String>,
    /// `KUBE_VERSION`: the destination cluster's version.
    pub kube_version: Option<String>,
    /// `KUBE_API_VERSIONS`: comma-separated `group/version` and `group/version/Kind`.
    pub kube_api_versions: Option<String>,
}

/// The Application's parameters, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    /// The values files the Application names; `None`: not set (a values directory reads
    /// `values.yaml`, a chart only its own values).
    pub values_files: Option<Vec<String>>,
    /// `PATH=VALUE`, in key order.
    pub set: Vec<String>,
}

/// Reads `ARGOCD_APP_PARAMETERS` (absent, empty or `null`: no parameters).
pub fn parameters(json: Option<&str>) -> Result<Parameters, Problems> {
    let mut out = Parameters {
        values_files: None,
        set: Vec::new(),
    };
    let json = json.map(str::trim).unwrap_or("");
    if json.is_empty() || json == "null" {
        return Ok(out);
    }
    let mut problems = Problems::default();
    let at = "ARGOCD_APP_PARAMETERS";
    let list: serde_json::Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            problems.push(at, format!("is not JSON ({e}); Argo CD sets it from the Application's `spec.source.plugin.parameters`"));
            return Err(problems);
        }
    };
    let Some(list) = list.as_array() else {
        problems.push(at, "expected a JSON list of parameters");
        return Err(problems);
    };
    for (i, p) in list.iter().enumerate() {
        let name = p.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let here = format!("{at}[{i}]");
        match name {
            PARAM_VALUES_FILES => match p.get("array").and_then(|a| a.as_array()) {
                Some(files) => {
                    let mut list = Vec::new();
                    for (j, f) in files.iter().enumerate() {
                        match f.as_str() {
                            Some(f) => match check_relative(f) {
                                Ok(()) => list.push(f.to_string()),
                                Err(why) => problems.push(
                                    format!("{here} ({PARAM_VALUES_FILES}).array[{j}]"),
                                    format!("`{}` {why}", f.escape_debug()),
                                ),
                            },
                            None => problems.push(
                                format!("{here} ({PARAM_VALUES_FILES}).array[{j}]"),
                                "expected a string",
                            ),
                        }
                    }
                    out.values_files = Some(list);
                }
                None => problems.push(
                    format!("{here} ({PARAM_VALUES_FILES})"),
                    "expected `array`: a list of values files (`parameters: [{name: values-files, array: [values.yaml]}]`)",
                ),
            },
            PARAM_SET => match p.get("map").and_then(|m| m.as_object()) {
                Some(map) => {
                    let mut pairs: Vec<(&String, &serde_json::Value)> = map.iter().collect();
                    pairs.sort_by(|a, b| a.0.cmp(b.0));
                    for (k, v) in pairs {
                        match v.as_str() {
                            Some(v) => out.set.push(format!("{k}={v}")),
                            None => problems.push(
                                format!("{here} ({PARAM_SET}).map.{k}"),
                                "expected a string",
                            ),
                        }
                    }
                }
                None => problems.push(
                    format!("{here} ({PARAM_SET})"),
                    "expected `map`: values to set, `PATH: VALUE` (`parameters: [{name: set, map: {\"repoRegistrations[0].tenant\": team-a}}]`)",
                ),
            },
            other => problems.push(
                format!("{here}.name"),
                format!(
                    "`{}` is not a parameter of the artifact-repos plugin; it reads `{PARAM_VALUES_FILES}` (array) and `{PARAM_SET}` (map)",
                    other.escape_debug()
                ),
            ),
        }
    }
    problems.into_result()?;
    Ok(out)
}

impl Parameters {
    /// The values files of a values directory: the named ones, else `values.yaml`.
    pub fn values_dir_files(&self) -> Vec<String> {
        self.values_files
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_VALUES_FILE.to_string()])
    }
}

/// A values file must stay inside the Application's source directory.
fn check_relative(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty: name a values file in the source directory");
    }
    if path.starts_with('/') {
        return Err(
            "is an absolute path: values files are read from the Application's source directory, name one relative to it",
        );
    }
    if path.split('/').any(|c| c == "..") {
        return Err("leaves the Application's source directory (`..`): name a file inside it");
    }
    Ok(())
}

/// The release name: the Application's name.
pub fn release_name(env: &Env) -> Result<String, Problems> {
    match env.app_name.as_deref().filter(|s| !s.is_empty()) {
        Some(n) => Ok(n.to_string()),
        None => {
            let mut p = Problems::default();
            p.push("ARGOCD_APP_NAME", "is not set: Argo CD sets it to the Application's name, the release name of the generated objects");
            Err(p)
        }
    }
}

/// The arguments of `helm template` for a chart source directory (the working directory).
pub fn helm_template_args(env: &Env, params: &Parameters) -> Result<Vec<String>, Problems> {
    let mut args = vec!["template".to_string(), release_name(env)?, ".".to_string()];
    if let Some(ns) = env.app_namespace.as_deref().filter(|s| !s.is_empty()) {
        args.extend(["--namespace".to_string(), ns.to_string()]);
    }
    if let Some(v) = env.kube_version.as_deref().filter(|s| !s.is_empty()) {
        args.extend(["--kube-version".to_string(), v.to_string()]);
    }
    for v in env
        .kube_api_versions
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        args.extend(["--api-versions".to_string(), v.to_string()]);
    }
    for f in params.values_files.iter().flatten() {
        args.extend(["--values".to_string(), f.clone()]);
    }
    for s in &params.set {
        args.extend(["--set".to_string(), s.clone()]);
    }
    Ok(args)
}

/// What `generate` produced: the stream for Argo CD, or why not; the warnings either way (printed
/// before the error, as every path does).
pub struct Outcome {
    pub result: anyhow::Result<Vec<u8>>,
    pub warnings: Vec<Problem>,
}

/// The generate command in the Application's source directory (the working directory): a chart
/// source through `helm template` and the post-renderer, a values directory through the pipeline.
pub fn generate(env: &Env, helm: &Path) -> Outcome {
    let mut warnings = Vec::new();
    let result = generate_into(env, helm, &mut warnings);
    Outcome { result, warnings }
}

fn generate_into(env: &Env, helm: &Path, warnings: &mut Vec<Problem>) -> anyhow::Result<Vec<u8>> {
    let params = parameters(env.parameters.as_deref())?;
    let release = crate::render::Release {
        name: release_name(env)?,
        namespace: env.app_namespace.clone().filter(|s| !s.is_empty()),
    };
    if Path::new("Chart.yaml").exists() {
        let helm_args = helm_template_args(env, &params)?;
        let stream = crate::deploy::helm::template(helm, &helm_args)?;
        let output = crate::deploy::postrender::post_render(&stream, false)?;
        warnings.extend(output.warnings.iter().cloned());
        if output.generated == 0 {
            let mut p = Problems::default();
            p.push("Chart.yaml", format!("the chart renders no values carrier (`apiVersion: {}`, `kind: {}`), so artifact-repos would generate nothing; add the carrier template (charts/artifact-repos/templates/values-carrier.yaml)", crate::deploy::postrender::CARRIER_API_VERSION, crate::deploy::postrender::CARRIER_KIND));
            return Err(p.into());
        }
        return Ok(output.to_bytes());
    }
    // A directory of values files and RepoRegistration manifests.
    let files = params.values_dir_files();
    let mut values = Vec::new();
    for f in &files {
        let bytes = crate::fsio::read_regular(
            Path::new(f),
            crate::yaml::MAX_VALUES_BYTES,
            crate::fsio::Links::Follow,
        )
        .map_err(|e| {
            let mut p = Problems::default();
            let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
            p.push(
                format!("{} ({})", PARAM_VALUES_FILES, f.escape_debug()),
                format!("cannot read `{}` in the source directory `{cwd}`: {e:#}; set the plugin parameter `{}` to the values files of this directory (default `{}`)", f.escape_debug(), PARAM_VALUES_FILES, DEFAULT_VALUES_FILE),
            );
            p
        })?;
        values.push((f.clone(), bytes));
    }
    let mut problems = Problems::default();
    let mut registrations = Vec::new();
    for (name, bytes) in crate::inputs::read_manifest_sources(Path::new("."))? {
        let name = name.strip_prefix("./").unwrap_or(&name).to_string();
        if files
            .iter()
            .any(|f| f.strip_prefix("./").unwrap_or(f) == name)
        {
            continue;
        }
        let docs = crate::yaml::parse_documents(&name, &bytes, crate::yaml::MAX_VALUES_BYTES)?;
        match crate::values::reporeg::from_documents(&name, &docs, false, &mut problems) {
            Some(regs) => registrations.extend(regs),
            None => warnings.push(Problem::new(
                name,
                format!("is neither a values file named by the plugin parameter `{}` nor a RepoRegistration manifest: skipped", PARAM_VALUES_FILES),
            )),
        }
    }
    problems.into_result()?;
    let sources = Sources {
        values: Values::Files {
            files: values,
            set: params.set.clone(),
            set_string: Vec::new(),
        },
        registrations,
        warnings: std::mem::take(warnings),
    };
    let options = pipeline::Options {
        release,
        ..Default::default()
    };
    match pipeline::generate(sources, &options) {
        Ok(g) => {
            warnings.extend(g.warnings);
            Ok(g.objects
                .into_docs()
                .iter()
                .flat_map(|d| [&b"---\n"[..], d.yaml.as_bytes()])
                .flatten()
                .copied()
                .collect())
        }
        Err(r) => {
            warnings.extend(r.warnings);
            Err(r.problems.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_defaults_and_errors() {
        for none in [None, Some(""), Some("null"), Some("[]")] {
            assert_eq!(
                parameters(none).unwrap().values_dir_files(),
                ["values.yaml"]
            );
        }
        let p = parameters(Some(r#"[{"name":"values-files","array":["a.yaml","sub/b.yaml"]},{"name":"set","map":{"z":"1","a.b":"x"}}]"#)).unwrap();
        assert_eq!(p.values_dir_files(), ["a.yaml", "sub/b.yaml"]);
        assert_eq!(p.set, ["a.b=x", "z=1"]);
        let err = parameters(Some(r#"[{"name":"values-files","array":["../x.yaml","/etc/passwd"]},{"name":"valuesFiles","string":"a"},{"name":"set","string":"a=b"}]"#)).unwrap_err().to_string();
        for want in [
            "ARGOCD_APP_PARAMETERS[0] (values-files).array[0]: `../x.yaml` leaves",
            "ARGOCD_APP_PARAMETERS[0] (values-files).array[1]: `/etc/passwd` is an absolute path",
            "ARGOCD_APP_PARAMETERS[1].name: `valuesFiles` is not a parameter",
            "ARGOCD_APP_PARAMETERS[2] (set): expected `map`",
        ] {
            assert!(err.contains(want), "missing {want:?} in {err}");
        }
        assert!(
            parameters(Some("{"))
                .unwrap_err()
                .to_string()
                .contains("is not JSON")
        );
    }

    #[test]
    fn helm_arguments() {
        let env = Env {
            app_name: Some("tenants".into()),
            app_namespace: Some("argo".into()),
            kube_version: Some("1.31.0".into()),
            kube_api_versions: Some("v1,apps/v1,external-secrets.io/v1".into()),
            ..Default::default()
        };
        let args = helm_template_args(&env, &parameters(None).unwrap()).unwrap();
        assert_eq!(
            args.join(" "),
            "template tenants . --namespace argo --kube-version 1.31.0 --api-versions v1 --api-versions apps/v1 --api-versions external-secrets.io/v1"
        );
        let p = parameters(Some(
            r#"[{"name":"values-files","array":["prod.yaml"]},{"name":"set","map":{"a":"b"}}]"#,
        ))
        .unwrap();
        let args = helm_template_args(&env, &p).unwrap();
        assert!(
            args.join(" ").ends_with("--values prod.yaml --set a=b"),
            "{args:?}"
        );
        let err = helm_template_args(&Env::default(), &parameters(None).unwrap()).unwrap_err();
        assert!(err.to_string().contains("ARGOCD_APP_NAME: is not set"));
    }
}
