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
use crate::yaml::Node;
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
    /// `ARGOCD_APP_SOURCE_PATH`: the source directory's path in the repository, which tells where
    /// the repository's root is (a chart's `file://` dependencies must stay inside it).
    pub app_source_path: Option<String>,
}

/// The variables `Env` reads.
const ENV_VARS: [&str; 6] = [
    "ARGOCD_APP_NAME",
    "ARGOCD_APP_NAMESPACE",
    "ARGOCD_APP_PARAMETERS",
    "KUBE_VERSION",
    "KUBE_API_VERSIONS",
    "ARGOCD_APP_SOURCE_PATH",
];

impl Env {
    /// Reads the environment through `var` (the process's: `std::env::var_os`). A variable that is
    /// not UTF-8 is an error, never "unset" (#20: a non-UTF-8 `ARGOCD_APP_PARAMETERS` was read as
    /// no parameters, so the Application's values files were silently not used).
    pub fn read(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Env, Problems> {
        let mut problems = Problems::default();
        let mut values: Vec<Option<String>> = Vec::new();
        for name in ENV_VARS {
            values.push(match var(name).map(std::ffi::OsString::into_string) {
                None => None,
                Some(Ok(s)) => Some(s),
                Some(Err(_)) => {
                    problems.push(
                        name,
                        "is not UTF-8: Argo CD sets it as UTF-8 text (JSON for the parameters); refusing to guess what it meant",
                    );
                    None
                }
            });
        }
        problems.into_result()?;
        let mut v = values.into_iter();
        let mut next = || v.next().flatten();
        Ok(Env {
            app_name: next(),
            app_namespace: next(),
            parameters: next(),
            kube_version: next(),
            kube_api_versions: next(),
            app_source_path: next(),
        })
    }
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
    // Helm reads a values path with a URL scheme (`https://`, `s3:`) through its getters: a
    // request from the repo-server to wherever it names (#20, SSRF).
    if path.contains(':') {
        return Err(
            "holds `:`, which helm reads as a URL and fetches from the repo-server: values files are read from the Application's source directory only, name one relative to it",
        );
    }
    if path.contains('\\') {
        return Err("holds a backslash: name a file relative to the source directory with `/`");
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
    let source = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| anyhow::anyhow!("reading the source directory: {e}"))?;
    // Nothing is read (by us or by helm) before every file of the source is known to be a regular
    // file inside it, and the whole bounded (#20).
    confine(&source, &source)?;
    if Path::new("Chart.yaml").exists() {
        build_dependencies(env, helm, &source)?;
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
            // `confine` has checked where every link in the source leads.
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
    for (name, bytes) in crate::inputs::read_manifest_sources(
        Path::new("."),
        crate::ci::manifests::MAX_MANIFEST_BYTES,
    )? {
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
        values_key: None,
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

/// The most a source directory may hold: every byte helm (or the values reader) would read.
pub const MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// Checks every entry under `dir` before anything reads it (#20, source confinement): a
/// directory, or a regular file, or a symbolic link to one of those that resolves inside `root`;
/// a FIFO, a device, a socket, a dangling link or a link out of `root` (`/dev/zero`, a file of
/// the repo-server) is refused, naming it; so is a directory holding more than
/// `MAX_SOURCE_BYTES`. Helm reads every file of a chart directory (`.Files`) and follows links, so
/// this covers the values files and the chart's own files alike.
///
/// What remains: a process that can write in the source directory while the command runs could
/// swap a file after the check; the repo-server's source copy is the plugin's own.
pub fn confine(dir: &Path, root: &Path) -> anyhow::Result<()> {
    let mut total = 0u64;
    let mut seen = std::collections::HashSet::new();
    confine_into(dir, root, &mut total, &mut seen)
}

fn confine_into(
    dir: &Path,
    root: &Path,
    total: &mut u64,
    seen: &mut std::collections::HashSet<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use crate::fsio::{describe, show};
    if !seen.insert(dir.to_path_buf()) {
        return Ok(());
    }
    let refuse = |path: &Path, why: String| -> anyhow::Error {
        let mut p = Problems::default();
        p.push(
            format!("source `{}`", show(path.strip_prefix(root).unwrap_or(path))),
            format!("{why}: the plugin reads only regular files inside the Application's source directory; remove it or replace it with a regular file"),
        );
        p.into()
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| refuse(dir, format!("cannot be read ({e})")))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| refuse(dir, format!("cannot be read ({e})")))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| refuse(&path, format!("cannot be read ({e})")))?;
        let (target, meta) = if meta.file_type().is_symlink() {
            let target = std::fs::canonicalize(&path)
                .map_err(|_| refuse(&path, "is a symbolic link that leads nowhere".into()))?;
            if !target.starts_with(root) {
                return Err(refuse(
                    &path,
                    format!(
                        "is a symbolic link out of the source directory (to `{}`)",
                        show(&target)
                    ),
                ));
            }
            let m = std::fs::metadata(&target)
                .map_err(|e| refuse(&path, format!("cannot be read ({e})")))?;
            (target, m)
        } else {
            (path.clone(), meta)
        };
        if meta.is_dir() {
            confine_into(&target, root, total, seen)?;
        } else if meta.is_file() {
            *total += meta.len();
            if *total > MAX_SOURCE_BYTES {
                return Err(refuse(
                    &path,
                    format!(
                        "takes the source directory over the limit of {MAX_SOURCE_BYTES} bytes"
                    ),
                ));
            }
        } else {
            return Err(refuse(
                &path,
                format!("is {}, not a regular file", describe(&meta.file_type())),
            ));
        }
    }
    Ok(())
}

/// The repository's root: the source directory minus `ARGOCD_APP_SOURCE_PATH`, when the one ends
/// with the other; else the source directory itself.
fn repository_root(env: &Env, source: &Path) -> std::path::PathBuf {
    let Some(path) = env.app_source_path.as_deref() else {
        return source.to_path_buf();
    };
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let mut root = source.to_path_buf();
    for part in parts.iter().rev() {
        if root.file_name().and_then(|n| n.to_str()) != Some(*part) || !root.pop() {
            return source.to_path_buf();
        }
    }
    root
}

/// An umbrella chart's dependencies (#20: Argo CD's plugin runs only `init` and `generate`, so
/// nothing else would build them, and a chart whose dependencies are not vendored failed for
/// good). Done here rather than in plugin.yaml's `init`: the same helm binary, HOME handling and
/// screened errors as `helm template`, the `file://` paths checked before helm reads them, and
/// the same behaviour outside Argo CD. When every dependency is vendored under `charts/` nothing
/// runs. Otherwise `helm dependency build` fetches them from where Chart.yaml says: a `file://`
/// path, which must resolve inside the repository (`ARGOCD_APP_SOURCE_PATH` tells where its root
/// is; without it, inside the source directory) and is confined like the source, or a chart
/// repository, which the repo-server must be able to reach.
fn build_dependencies(env: &Env, helm: &Path, source: &Path) -> anyhow::Result<()> {
    let bytes = crate::fsio::read_regular(
        Path::new("Chart.yaml"),
        crate::yaml::MAX_VALUES_BYTES,
        crate::fsio::Links::Follow,
    )?;
    let chart = crate::yaml::parse_documents("Chart.yaml", &bytes, crate::yaml::MAX_VALUES_BYTES)?;
    let Some(Node::Seq(deps)) = chart.first().and_then(|c| c.get("dependencies")) else {
        return Ok(());
    };
    let root = repository_root(env, source);
    let mut missing = false;
    for (i, dep) in deps.iter().enumerate() {
        let name = dep.get("name").and_then(Node::as_str).unwrap_or("");
        let at = format!("Chart.yaml: dependencies[{i}]");
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            let mut p = Problems::default();
            p.push(format!("{at}.name"), "expected a chart name");
            return Err(p.into());
        }
        let repository = dep.get("repository").and_then(Node::as_str).unwrap_or("");
        if let Some(rel) = repository.strip_prefix("file://") {
            let dir = std::fs::canonicalize(source.join(rel)).map_err(|e| {
                let mut p = Problems::default();
                p.push(format!("{at}.repository"), format!("{} cannot be read ({e}): a `file://` dependency names a chart directory of the repository", crate::rules::credential::show(repository)));
                anyhow::Error::from(p)
            })?;
            if !dir.starts_with(&root) {
                let mut p = Problems::default();
                p.push(format!("{at}.repository"), format!("{} leads out of the repository (`{}`): a `file://` dependency must be a chart of the same repository (ARGOCD_APP_SOURCE_PATH tells where its root is)", crate::rules::credential::show(repository), crate::fsio::show(&root)));
                return Err(p.into());
            }
            confine(&dir, &root)?;
        }
        let vendored = std::fs::read_dir("charts").is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let f = e.file_name().to_string_lossy().into_owned();
                f == name || (f.starts_with(&format!("{name}-")) && f.ends_with(".tgz"))
            })
        });
        missing |= !vendored;
    }
    if missing {
        crate::deploy::helm::run(helm, &["dependency".into(), "build".into(), ".".into()])?;
    }
    Ok(())
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
    fn urls_and_non_utf8_are_refused() {
        let err = parameters(Some(
            r#"[{"name":"values-files","array":["https://169.254.169.254/latest/meta-data","s3:x.yaml","ok.yaml"]}]"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("array[0]: `https://169.254.169.254/latest/meta-data` holds `:`"),
            "{err}"
        );
        assert!(err.contains("array[1]: `s3:x.yaml` holds `:`"), "{err}");
        assert!(!err.contains("array[2]"), "{err}");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let err = Env::read(|k| {
                (k == "ARGOCD_APP_PARAMETERS")
                    .then(|| std::ffi::OsString::from_vec(b"[\xff]".to_vec()))
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains("ARGOCD_APP_PARAMETERS: is not UTF-8"), "{err}");
        }
        let env = Env::read(|k| (k == "ARGOCD_APP_NAME").then(|| "a".into())).unwrap();
        assert_eq!(env.app_name.as_deref(), Some("a"));
        assert_eq!(env.parameters, None);
    }

    #[cfg(unix)]
    #[test]
    fn confinement_refuses_links_out_fifos_and_devices() {
        let d = std::env::temp_dir().join(format!("artifact-repos-confine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("src/sub")).unwrap();
        let src = std::fs::canonicalize(d.join("src")).unwrap();
        std::fs::write(src.join("values.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink("../values.yaml", src.join("sub/inside.yaml")).unwrap();
        confine(&src, &src).unwrap();
        for (name, target) in [
            ("out.yaml", "/etc/hostname"),
            ("zero.yaml", "/dev/zero"),
            ("gone.yaml", "nowhere"),
        ] {
            std::os::unix::fs::symlink(target, src.join(name)).unwrap();
            let err = format!("{:#}", confine(&src, &src).unwrap_err());
            assert!(err.contains(name), "{err}");
            std::fs::remove_file(src.join(name)).unwrap();
        }
        assert!(
            std::process::Command::new("mkfifo")
                .arg(src.join("sub/pipe"))
                .status()
                .unwrap()
                .success()
        );
        let err = format!("{:#}", confine(&src, &src).unwrap_err());
        assert!(err.contains("sub/pipe") && err.contains("a FIFO"), "{err}");
        let _ = std::fs::remove_dir_all(&d);
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
