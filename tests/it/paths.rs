//! Issue #18, item 3: the deploy paths held together. Every example (`examples/**`), every golden
//! values input (`fixtures/render/*/`) and every values file of the hostile corpus
//! (`fixtures/hostile/*/` run with `render`) goes through each path the product offers:
//!
//! - `render` (the reference: every other path is compared with it),
//! - `helm3`: `helm template` of charts/artifact-repos with `--post-renderer <binary>` (v3.18.0),
//! - `helm4`: the same with the `artifact-repos` plugin (v4.1.4; messages from `ARTIFACT_REPOS_LOG`,
//!   as Helm 4 never shows a plugin's stderr),
//! - `argocd-values`: `argocd-generate` in a values directory (the values files and registrations),
//! - `argocd-chart`: `argocd-generate` in a chart source (the chart plus the values files),
//! - `krm`: the KRM function, a ResourceList whose functionConfig carries the values (a ConfigMap
//!   with `data.values` for one file, else the ValuesCarrier Helm renders for the merged values),
//!   RepoRegistration manifests as items;
//! - `krm-carrier`: the KRM function with a ValuesCarrier as a user writes one (no `release`), for
//!   one values file, compared with `render` without `--release-name`.
//!
//! Each gives the same objects (parsed, compared by identity and content, without what the chart or
//! the runner owns: the carrier, the input's own RepoRegistrations, `app.kubernetes.io/managed-by`),
//! or the same refusal (exit 2 for the tool's own paths, and the same problem lines once the
//! path-specific prefix is dropped: a file name, `RepoRegistration ns/name: `, `ValuesCarrier x:
//! values.`, `ConfigMap x: data.values: `).
//!
//! Then the published schema (charts/artifact-repos/values.schema.json): for every leaf a value of
//! the wrong type is refused by `render`, naming the key, and by Helm 3 and Helm 4 with the chart.
//!
//! Where the paths disagree today is written down in fixtures/paths/known-disagreements.txt (input,
//! path, kind, one-line reason). The test fails on a disagreement not in that list and on a listed
//! one that no longer occurs, so the list can only shrink; `ARTIFACT_REPOS_BLESS=1` rewrites it
//! (reasons of lines that stay are kept), review with `git diff`.

use crate::helm::{Helm, helm};
use crate::support::{bless, root};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_artifact-repos");
const RELEASE: &str = "rel";
const NAMESPACE: &str = "argo";
/// Inputs run at once (each runs its paths one after the other), one per core of the CI machine.
const THREADS: usize = 2;

fn known_file() -> PathBuf {
    root().join("fixtures/paths/known-disagreements.txt")
}

/// Files by name, with their bytes.
type Files = Vec<(String, Vec<u8>)>;

/// Per input (by index): render's outcome and each other path's, with the reference it is
/// compared with when that is not `render --release-name rel`.
type Results = Vec<(usize, Outcome, Vec<(String, Outcome, Option<Outcome>)>)>;

/// One values input: files merged in order (named by their base name), an optional folder of
/// RepoRegistration manifests (`-f registrations`), and `--set`/`--set-string` arguments.
#[derive(Debug, Clone, PartialEq)]
struct Input {
    id: String,
    files: Files,
    folder: Option<(String, Files)>,
    sets: Vec<(String, String)>,
}

fn read_folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn add_file(files: &mut Vec<(String, Vec<u8>)>, path: &Path, bytes: Vec<u8>) {
    let mut name = path.file_name().unwrap().to_string_lossy().into_owned();
    if files.iter().any(|(n, _)| *n == name) {
        name = format!("{}-{name}", files.len());
    }
    files.push((name, bytes));
}

/// A golden `render` case as an input; `None` when it is not one (no values file: the bundled
/// example, a missing file, only output flags).
fn golden_input(case: &Path) -> Option<Input> {
    let cmd = std::fs::read_to_string(case.join("cmd")).ok()?;
    let args: Vec<&str> = cmd.lines().filter(|l| !l.is_empty()).collect();
    if args.first() != Some(&"render") {
        return None;
    }
    let mut input = Input {
        id: case.strip_prefix(root()).ok()?.display().to_string(),
        files: Vec::new(),
        folder: None,
        sets: Vec::new(),
    };
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match *a {
            "-f" | "--values" => {
                let v = it.next()?;
                if *v == "-" {
                    let bytes = std::fs::read(case.join("stdin")).ok()?;
                    input.files.push(("stdin.yaml".into(), bytes));
                    continue;
                }
                let p = case.join(v);
                if p.is_dir() {
                    let name = p.file_name()?.to_string_lossy().into_owned();
                    input.folder = Some((name, read_folder(&p)));
                } else {
                    let bytes = std::fs::read(&p).ok()?;
                    add_file(&mut input.files, &p, bytes);
                }
            }
            "--set" | "--set-string" => input.sets.push((a.to_string(), it.next()?.to_string())),
            _ => return None,
        }
    }
    (!input.files.is_empty() || input.folder.is_some()).then_some(input)
}

/// Every input, the same content once (the first id wins: examples, goldens, hostile).
fn inputs() -> Vec<Input> {
    let mut all = Vec::new();
    let examples = root().join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.push(examples.join("repo-registrations/values.yaml"));
    files.sort();
    for p in files {
        let mut input = Input {
            id: p.strip_prefix(root()).unwrap().display().to_string(),
            files: Vec::new(),
            folder: None,
            sets: Vec::new(),
        };
        add_file(&mut input.files, &p, std::fs::read(&p).unwrap());
        all.push(input);
    }
    let regs = examples.join("repo-registrations");
    let mut folder = Input {
        id: "examples/repo-registrations".into(),
        files: Vec::new(),
        folder: Some((
            "registrations".into(),
            read_folder(&regs.join("registrations")),
        )),
        sets: Vec::new(),
    };
    let settings = regs.join("settings.yaml");
    add_file(
        &mut folder.files,
        &settings,
        std::fs::read(&settings).unwrap(),
    );
    all.push(folder);

    let mut cases = Vec::new();
    for group in ["render", "hostile"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures").join(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        cases.extend(dirs);
    }
    all.extend(cases.iter().filter_map(|c| golden_input(c)));

    let mut unique: Vec<Input> = Vec::new();
    for i in all {
        let same = |u: &Input| u.files == i.files && u.folder == i.folder && u.sets == i.sets;
        if !unique.iter().any(same) {
            unique.push(i);
        }
    }
    unique
}

/// What a path made of an input.
#[derive(Debug, Clone)]
enum Outcome {
    /// The generated objects by identity (`apiVersion kind namespace/name`).
    Objects(BTreeMap<String, Value>),
    /// A refusal: exit code and the problem lines, prefixes dropped.
    Refused { code: i32, messages: Vec<String> },
    /// The input cannot be given to this path (why).
    NotApplicable(String),
}

const PATHS: [&str; 6] = [
    "helm3",
    "helm4",
    "argocd-values",
    "argocd-chart",
    "krm",
    "krm-carrier",
];

/// The objects of a YAML stream, keyed by identity, without what the chart or the input owns.
fn objects(stream: &[u8]) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    for doc in serde_yaml::Deserializer::from_slice(stream) {
        let v = serde_json::to_value(
            serde_yaml::Value::deserialize(doc).map_err(|e| format!("output is not YAML: {e}"))?,
        )
        .map_err(|e| e.to_string())?;
        if v.is_null() {
            continue;
        }
        insert_object(&mut out, v);
    }
    Ok(out)
}

use serde::Deserialize;

fn insert_object(out: &mut BTreeMap<String, Value>, mut v: Value) {
    let s = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let kind = s(&v, "/kind");
    if kind == "ValuesCarrier" || kind == "RepoRegistration" {
        return;
    }
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove("app.kubernetes.io/managed-by");
    }
    let id = format!(
        "{} {} {}/{}",
        s(&v, "/apiVersion"),
        kind,
        s(&v, "/metadata/namespace"),
        s(&v, "/metadata/name")
    );
    out.insert(id, v);
}

/// Drops the path-specific prefix of a problem line.
fn normalize(line: &str) -> String {
    let mut l = line.trim();
    loop {
        let before = l;
        // A file name: `settings.yaml: `, `registrations/a.yaml: `, `artifact-repos/templates/x.yaml: `.
        if let Some((head, rest)) = l.split_once(": ")
            && !head.contains(' ')
            && (head.ends_with(".yaml") || head.ends_with(".yml"))
        {
            l = rest;
        }
        for kind in ["RepoRegistration ", "ValuesCarrier ", "ConfigMap "] {
            if let Some(rest) = l.strip_prefix(kind)
                && let Some((_, rest)) = rest.split_once(": ")
            {
                l = rest;
            }
        }
        if let Some(rest) = l.strip_prefix("items[")
            && let Some((_, rest)) = rest.split_once("]: ")
        {
            l = rest;
        }
        for p in [
            "functionConfig data.values: ",
            "values.",
            "values: ",
            "data.values: ",
            "functionConfig: ",
        ] {
            if let Some(rest) = l.strip_prefix(p) {
                l = rest;
            }
        }
        if l == before {
            return l.to_string();
        }
    }
}

/// The problem lines of the tool's stderr (`error: N problems found` then indented lines, or one
/// `error: ...`) or of Helm's (`Error: ...`, the schema's `- place: problem`); warnings are not
/// problems.
fn problems(stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_error = false;
    for line in stderr.lines() {
        // argocd-generate's chart source passes helm's failure on behind the command it ran.
        let line = match line.split_once("` failed (exit status: ") {
            Some((cmd, rest)) if cmd.starts_with("error: `") => {
                rest.split_once("): ").map_or(rest, |r| r.1)
            }
            _ => line,
        };
        if let Some(rest) = line.strip_prefix("error: ") {
            in_error = true;
            let counted = rest.ends_with(" problems found") || rest.ends_with(" problem found");
            if !counted {
                out.push(normalize(rest));
            }
        } else if line.starts_with("  ") && in_error {
            out.push(normalize(line));
        } else if let Some(rest) = line.strip_prefix("Error: ") {
            in_error = false;
            out.push(format!("helm: {rest}"));
        } else if let Some(rest) = line.trim_start().strip_prefix("- ") {
            out.push(format!("helm schema: {rest}"));
        } else {
            in_error = false;
        }
    }
    out.sort();
    out.dedup();
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn refused(code: i32, stderr: &str) -> Outcome {
    Outcome::Refused {
        code,
        messages: problems(stderr),
    }
}

fn stream_outcome(out: &Output) -> Outcome {
    if out.status.success() {
        match objects(&out.stdout) {
            Ok(o) => Outcome::Objects(o),
            Err(e) => refused(-1, &format!("error: {e}")),
        }
    } else {
        refused(code(out), &String::from_utf8_lossy(&out.stderr))
    }
}

struct Env {
    h3: Helm,
    h4: Helm,
    helm4_bin: PathBuf,
    scratch: PathBuf,
}

fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn is_registration(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).contains("kind: RepoRegistration")
}

/// The values arguments shared by `render` and Helm: `-f` per file, the folder, the sets.
fn value_args(input: &Input, folder: bool) -> Vec<String> {
    let mut args = Vec::new();
    for (name, _) in &input.files {
        args.extend(["-f".to_string(), name.clone()]);
    }
    if folder && let Some((name, _)) = &input.folder {
        args.extend(["-f".to_string(), name.clone()]);
    }
    for (flag, v) in &input.sets {
        args.extend([flag.clone(), v.clone()]);
    }
    args
}

struct Prepared {
    /// The values directory: the files and the folder (render, Helm's cwd, `argocd-values`).
    src: PathBuf,
    /// A copy of the chart with the folder's registrations among its templates and the files
    /// under `inputs/` (Helm's chart, `argocd-chart`'s source).
    chart: PathBuf,
    base: PathBuf,
}

fn prepare(env: &Env, n: usize, input: &Input) -> Prepared {
    let base = env.scratch.join(n.to_string());
    let _ = std::fs::remove_dir_all(&base);
    let src = base.join("src");
    write_all(&src, &input.files);
    let chart = base.join("chart");
    copy_dir(&crate::helm::chart(), &chart);
    write_all(&chart.join("inputs"), &input.files);
    if let Some((name, files)) = &input.folder {
        write_all(&src.join(name), files);
        let templates: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter(|(_, b)| is_registration(b))
            .cloned()
            .collect();
        write_all(&chart.join("templates"), &templates);
    }
    Prepared { src, chart, base }
}

fn run_render(p: &Prepared, input: &Input) -> Outcome {
    let mut args = vec![
        "render".to_string(),
        "--release-name".into(),
        RELEASE.into(),
    ];
    args.extend(value_args(input, true));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = crate::support::run(&args, &p.src, None);
    stream_outcome(&out)
}

fn helm_args(p: &Prepared, input: &Input) -> Vec<String> {
    let mut args: Vec<String> = [
        "template",
        RELEASE,
        p.chart.to_str().unwrap(),
        "-n",
        NAMESPACE,
    ]
    .map(String::from)
    .to_vec();
    args.extend(value_args(input, false));
    args
}

fn run_helm(h: &Helm, major: u8, p: &Prepared, input: &Input) -> Outcome {
    let mut args = helm_args(p, input);
    args.extend(h.post_renderer().iter().map(|s| s.to_string()));
    let log = p.base.join(format!("helm{major}.log"));
    let out = h
        .command()
        .current_dir(&p.src)
        .env("ARTIFACT_REPOS_LOG", &log)
        .args(&args)
        .output()
        .unwrap();
    if out.status.success() {
        return stream_outcome(&out);
    }
    // Helm 3 shows the post-renderer's stderr inside its own message; Helm 4 never does, the log
    // file has it.
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let ours = if let Some((_, rest)) = stderr.split_once("error output:\n") {
        rest.rsplit_once("\n: exit status")
            .map_or(rest, |r| r.0)
            .to_string()
    } else if !logged.is_empty() {
        logged.replace("artifact-repos post-render: ", "")
    } else {
        stderr
    };
    refused(code(&out), &ours)
}

fn run_argocd(env: &Env, p: &Prepared, input: &Input, chart: bool) -> Outcome {
    let mut params = Vec::new();
    let dir = if chart { "inputs/" } else { "" };
    let files: Vec<String> = input
        .files
        .iter()
        .map(|(n, _)| format!("{dir}{n}"))
        .collect();
    params.push(json!({"name": "values-files", "array": files}));
    if !input.sets.is_empty() {
        let mut map = Map::new();
        for (flag, v) in &input.sets {
            if flag == "--set-string" {
                return Outcome::NotApplicable(
                    "the `set` parameter has no --set-string form".into(),
                );
            }
            let Some((k, v)) = v.split_once('=') else {
                return Outcome::NotApplicable(format!("`{v}` is not PATH=VALUE"));
            };
            if map.insert(k.to_string(), json!(v)).is_some() {
                return Outcome::NotApplicable(format!("`set` cannot hold `{k}` twice"));
            }
        }
        params.push(json!({"name": "set", "map": map}));
    }
    let source = if chart { &p.chart } else { &p.src };
    let home = p.base.join("argocd-home");
    let out = Command::new(BIN)
        .arg("argocd-generate")
        .current_dir(source)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("ARTIFACT_REPOS_HELM", &env.helm4_bin)
        .env("ARGOCD_APP_NAME", RELEASE)
        .env("ARGOCD_APP_NAMESPACE", NAMESPACE)
        .env("ARGOCD_APP_PARAMETERS", Value::Array(params).to_string())
        .env("KUBE_VERSION", "1.31.0")
        .env(
            "KUBE_API_VERSIONS",
            "v1,apps/v1,rbac.authorization.k8s.io/v1,argoproj.io/v1alpha1,external-secrets.io/v1",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    stream_outcome(&out)
}

fn run_krm(env: &Env, p: &Prepared, input: &Input) -> Outcome {
    let mut items = Vec::new();
    if let Some((_, files)) = &input.folder {
        for (name, bytes) in files.iter().filter(|(_, b)| is_registration(b)) {
            for doc in serde_yaml::Deserializer::from_slice(bytes) {
                match serde_yaml::Value::deserialize(doc) {
                    Ok(v) => items.push(serde_json::to_value(v).unwrap()),
                    Err(e) => {
                        return Outcome::NotApplicable(format!(
                            "{name} is not YAML ({e}): no item to hand over"
                        ));
                    }
                }
            }
        }
    }
    let config = match (&input.files[..], input.sets.is_empty()) {
        ([], true) => None,
        ([(name, bytes)], true) => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return Outcome::NotApplicable(format!(
                    "{name} is not UTF-8: `data.values` is text"
                ));
            };
            Some(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "artifact-repos"},
                "data": {"releaseName": RELEASE, "releaseNamespace": NAMESPACE, "values": text},
            }))
        }
        _ => {
            // Several files or sets: the carrier Helm renders for them (schema skipped: what
            // Helm refuses is the helm paths' business, here the function reads the values).
            let mut args = helm_args(p, input);
            args.push("--skip-schema-validation".into());
            let out = env
                .h3
                .command()
                .current_dir(&p.src)
                .args(&args)
                .output()
                .unwrap();
            if !out.status.success() {
                return Outcome::NotApplicable(format!(
                    "helm renders no carrier to hand over: {}",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                ));
            }
            let carrier = serde_yaml::Deserializer::from_slice(&out.stdout)
                .filter_map(|d| serde_yaml::Value::deserialize(d).ok())
                .map(|v| serde_json::to_value(v).unwrap())
                .find(|v| v["kind"] == "ValuesCarrier")
                .expect("the chart renders its carrier");
            Some(carrier)
        }
    };
    let mut list =
        json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items});
    if let Some(c) = config {
        list["functionConfig"] = c;
    }
    let out = crate::support::run(&["krm"], &p.src, Some(list.to_string().as_bytes()));
    krm_outcome(&out)
}

/// A KRM run's objects (the items it added) or its error results.
fn krm_outcome(out: &Output) -> Outcome {
    let result: Value = match serde_yaml::from_slice::<serde_yaml::Value>(&out.stdout) {
        Ok(v) => serde_json::to_value(v).unwrap(),
        Err(_) => return refused(code(out), &String::from_utf8_lossy(&out.stderr)),
    };
    if out.status.success() {
        let mut objs = BTreeMap::new();
        for item in result["items"].as_array().cloned().unwrap_or_default() {
            insert_object(&mut objs, item);
        }
        return Outcome::Objects(objs);
    }
    let mut messages: Vec<String> = result["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|r| r["severity"] == "error")
        .map(|r| {
            let m = r["message"].as_str().unwrap_or("");
            match r.pointer("/field/path").and_then(Value::as_str) {
                Some(f) if f != "values" && f != "data.values" => normalize(&format!("{f}: {m}")),
                _ => normalize(m),
            }
        })
        .collect();
    if messages.is_empty() {
        messages = problems(&String::from_utf8_lossy(&out.stderr));
    }
    messages.sort();
    messages.dedup();
    Outcome::Refused {
        code: code(out),
        messages,
    }
}

/// The KRM function with the values carrier as functionConfig, written as a user writes it: no
/// `release` (the release name defaults, as in the ConfigMap form and in `render`), the values
/// read by the tool's own Helm-compatible reader. For one values file without sets; the reference
/// is `render` without `--release-name`.
fn run_krm_carrier(p: &Prepared, input: &Input) -> (Outcome, Option<Outcome>) {
    let ([(name, bytes)], true, None) = (&input.files[..], input.sets.is_empty(), &input.folder)
    else {
        return (
            Outcome::NotApplicable("a carrier of one values file only".into()),
            None,
        );
    };
    let Ok(values) = artifact_repos::yaml::parse_values(name, bytes) else {
        return (
            Outcome::NotApplicable("the values do not parse: no carrier to write".into()),
            None,
        );
    };
    let list = json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [],
        "functionConfig": {
            "apiVersion": "artifact-repos/v1",
            "kind": "ValuesCarrier",
            "metadata": {"name": "values"},
            "values": serde_json::to_value(&values).unwrap(),
        },
    });
    let out = crate::support::run(&["krm"], &p.src, Some(list.to_string().as_bytes()));
    let outcome = krm_outcome(&out);
    let mut args = vec!["render".to_string()];
    args.extend(value_args(input, true));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let reference = stream_outcome(&crate::support::run(&args, &p.src, None));
    (outcome, Some(reference))
}

/// One disagreement: (input, path, kind) and what was seen.
#[derive(Debug)]
struct Disagreement {
    input: String,
    path: String,
    kind: &'static str,
    detail: String,
}

impl Disagreement {
    fn key(&self) -> (String, String, String) {
        (self.input.clone(), self.path.clone(), self.kind.to_string())
    }
}

/// Where two values differ, as JSON pointers (at most a few).
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= 4 || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{at}/{k}"),
                    out,
                );
            }
        }
        _ => out.push(format!(
            "{at}: render {} / path {}",
            short(&a.to_string()),
            short(&b.to_string())
        )),
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}

fn first_line(o: &Outcome) -> String {
    match o {
        Outcome::Objects(m) => format!("{} objects", m.len()),
        Outcome::Refused { messages, .. } => short(messages.first().map_or("", String::as_str)),
        Outcome::NotApplicable(w) => w.clone(),
    }
}

fn compare(input: &str, path: &str, render: &Outcome, other: &Outcome) -> Option<Disagreement> {
    let d = |kind, detail| {
        Some(Disagreement {
            input: input.into(),
            path: path.into(),
            kind,
            detail,
        })
    };
    match (render, other) {
        (_, Outcome::NotApplicable(_)) | (Outcome::NotApplicable(_), _) => None,
        (Outcome::Objects(a), Outcome::Objects(b)) => {
            if a == b {
                return None;
            }
            let mut lines = Vec::new();
            for id in a.keys().filter(|k| !b.contains_key(*k)) {
                lines.push(format!("only render: {id}"));
            }
            for id in b.keys().filter(|k| !a.contains_key(*k)) {
                lines.push(format!("only {path}: {id}"));
            }
            for (id, x) in a {
                if let Some(y) = b.get(id)
                    && x != y
                {
                    let mut at = Vec::new();
                    differences(x, y, "", &mut at);
                    lines.push(format!("{id} differs: {}", at.join("; ")));
                }
            }
            d("objects", lines.join("\n      "))
        }
        (Outcome::Objects(a), Outcome::Refused { .. }) => d(
            "refuses",
            format!("render: {} objects; {path}: {}", a.len(), first_line(other)),
        ),
        (Outcome::Refused { .. }, Outcome::Objects(b)) => d(
            "accepts",
            format!(
                "render: {}; {path}: {} objects",
                first_line(render),
                b.len()
            ),
        ),
        (
            Outcome::Refused { messages: a, .. },
            Outcome::Refused {
                code, messages: b, ..
            },
        ) => {
            if a != b {
                let mut lines = Vec::new();
                for m in a.iter().filter(|m| !b.contains(m)) {
                    lines.push(format!("only render: {}", short(m)));
                }
                for m in b.iter().filter(|m| !a.contains(m)) {
                    lines.push(format!("only {path}: {}", short(m)));
                }
                d("messages", lines.join("\n      "))
            } else if !path.starts_with("helm") && *code != 2 {
                d("exit", format!("{path} exits {code}, not 2"))
            } else {
                None
            }
        }
    }
}

/// The known list: (input, path, kind) -> reason.
fn read_known() -> BTreeMap<(String, String, String), String> {
    let text = std::fs::read_to_string(known_file()).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(4, ' ');
        let (Some(input), Some(path), Some(kind), Some(reason)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!(
                "{}:{}: expected `INPUT PATH KIND REASON`: {line}",
                known_file().display(),
                i + 1
            );
        };
        assert!(
            !reason.trim().is_empty(),
            "{}:{}: a reason is required",
            known_file().display(),
            i + 1
        );
        let key = (input.to_string(), path.to_string(), kind.to_string());
        assert!(
            out.insert(key, reason.trim().to_string()).is_none(),
            "{}:{}: listed twice: {line}",
            known_file().display(),
            i + 1
        );
    }
    out
}

/// A reason for a disagreement found by the test, for blessing (a human may reword it).
fn suggested_reason(d: &Disagreement) -> String {
    let t = &d.detail;
    let why = [
        ("the key is repeated", "Helm (go-yaml) keeps the last of a repeated key; render refuses it by design"),
        ("generated no objects", "post-render says `the values carrier ... generated no objects` where render says `nothing to render: ...`"),
        ("nothing to generate", "KRM says `nothing to generate: ...` where render says `nothing to render: ...`, with another explanation"),
        ("no functionConfig", "KRM refuses a ResourceList without functionConfig although its RepoRegistration items carry everything"),
        ("a values file holds one YAML document", "render -f reads a file of RepoRegistrations as manifests; named as a values file it is refused"),
        ("first used at", "a duplicate's first place is named by the path's own source (file or chart template)"),
        ("with the seed's keys (`endpoint`)", "the chart's default `s3.endpoint` meets the example's `s3.s3` shape"),
        ("has a leading zero", "Helm reads the leading-zero number before the post-renderer sees the values; render names the trap"),
        ("helm schema: ", "the chart schema refuses first, with Helm's messages"),
        ("values don't meet the specifications", "the chart schema refuses first, with Helm's messages"),
        ("helm: failed to parse", "Helm's YAML reader refuses the file first, with its own message"),
        ("helm: failed parsing --set", "Helm refuses the --set first, with its own message"),
    ]
    .iter()
    .find(|(k, _)| t.contains(k))
    .map(|(_, w)| w.to_string());
    let first = t.lines().next().unwrap_or("").trim();
    let first = first.replace(&format!("{}/", root().display()), "");
    match why {
        Some(w) if d.kind == "messages" || d.kind == "accepts" || d.kind == "refuses" => w,
        _ => first,
    }
}

fn write_known(found: &[Disagreement], old: &BTreeMap<(String, String, String), String>) {
    let mut text = String::from(
        "# Where the deploy paths disagree today (tests/it/paths.rs, issue #18 item 3). One line each:\n\
         # INPUT PATH KIND REASON. PATH: helm3 helm4 argocd-values argocd-chart krm (compared with\n\
         # render), or render/helm3/helm4 for a schema leaf. KIND: objects (both render, the objects\n\
         # differ), accepts (render refuses, the path renders), refuses (the other way), messages (both\n\
         # refuse, the problem lines differ), exit (a refusal with another exit code than 2), unnamed\n\
         # (a wrong-typed leaf refused without naming it). The test fails on a disagreement not listed\n\
         # and on a listed one that no longer occurs: fix a disagreement, delete its line.\n",
    );
    let mut lines: Vec<String> = found
        .iter()
        .map(|d| {
            let reason = old
                .get(&d.key())
                .cloned()
                .unwrap_or_else(|| suggested_reason(d));
            format!("{} {} {} {}", d.input, d.path, d.kind, reason)
        })
        .collect();
    lines.sort();
    lines.dedup();
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    std::fs::create_dir_all(known_file().parent().unwrap()).unwrap();
    std::fs::write(known_file(), text).unwrap();
}

/// The leaves of the published schema: (dotted path as `render` names it, allowed JSON types).
fn schema_leaves() -> Vec<(Vec<Seg>, Vec<String>)> {
    fn walk(n: &Value, at: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Vec<String>)>) {
        if let Some(props) = n.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                at.push(Seg::Key(k.clone()));
                walk(v, at, out);
                at.pop();
            }
            return;
        }
        if let Some(items) = n.get("items")
            && items.get("properties").is_some()
        {
            at.push(Seg::Index);
            walk(items, at, out);
            at.pop();
            return;
        }
        let types = match n.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        out.push((at.clone(), types));
    }
    let schema: Value = serde_json::from_slice(
        &std::fs::read(root().join("charts/artifact-repos/values.schema.json")).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    walk(&schema, &mut Vec::new(), &mut out);
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index,
}

fn dotted(path: &[Seg], index: usize) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index => s.push_str(&format!("[{index}]")),
        }
    }
    s
}

/// A value of none of the allowed types.
fn wrong_value(types: &[String]) -> Value {
    let has = |t: &str| types.iter().any(|x| x == t);
    if !has("array") {
        json!(["wrong-type"])
    } else if !has("boolean") {
        json!(true)
    } else {
        json!({"wrong": "type"})
    }
}

/// Sets `value` at `path` in `root`, each list index being `index`.
fn set_at(root: &mut Value, path: &[Seg], index: usize, value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    let next = match first {
        Seg::Key(k) => {
            if !root.is_object() {
                *root = json!({});
            }
            root.as_object_mut()
                .unwrap()
                .entry(k.clone())
                .or_insert(Value::Null)
        }
        Seg::Index => {
            if !root.is_array() {
                *root = json!([]);
            }
            let list = root.as_array_mut().unwrap();
            while list.len() <= index {
                list.push(json!({}));
            }
            &mut list[index]
        }
    };
    set_at(next, rest, index, value);
}

/// A leaf under one of Argo's repository shapes (`s3.gcs.bucket`): the seed keys of the base beside
/// it (`bucket`, `externalSecretPath`) go, or the mix of shapes is all `render` reports.
fn one_shape(values: &mut Value, path: &[Seg], index: usize) {
    const SHAPES: [&str; 5] = ["s3", "gcs", "azure", "oss", "artifactory"];
    let mut at = values;
    for (depth, seg) in path.iter().enumerate() {
        if depth > 0
            && let Seg::Key(k) = seg
            && SHAPES.contains(&k.as_str())
            && let Some(map) = at.as_object_mut()
        {
            map.remove("bucket");
            map.remove("externalSecretPath");
            return;
        }
        at = match seg {
            Seg::Key(k) => match at.get_mut(k) {
                Some(v) => v,
                None => return,
            },
            Seg::Index => match at.get_mut(index) {
                Some(v) => v,
                None => return,
            },
        };
    }
}

/// The base every wrong-typed leaf is planted in: valid values.
fn schema_base() -> Value {
    json!({
        "s3": {"enabled": true, "bucket": "platform-default", "externalSecretPath": "argo/s3"},
        "repoRegistrations": [{
            "name": "app", "repoUrl": "https://github.com/o/app.git", "tenant": "team-a",
            "artifactBucket": {"bucket": "app-artifacts", "externalSecretPath": "argo/app"},
        }],
    })
}

/// One values file per leaf for `render`; Helm gets them all in one file (the registration
/// leaves each in a registration of its own) and reports every one, so one run per Helm.
fn schema_disagreements(env: &Env) -> Vec<Disagreement> {
    let leaves = schema_leaves();
    assert!(leaves.len() > 50, "only {} schema leaves", leaves.len());
    let dir = env.scratch.join("schema");
    std::fs::create_dir_all(&dir).unwrap();
    let mut found = Vec::new();
    let mut batch = schema_base();
    let mut reg = 0;
    let mut helm_names = Vec::new();
    for (i, (path, types)) in leaves.iter().enumerate() {
        let wrong = wrong_value(types);
        let name = dotted(path, 0);
        let input = format!("schema:{name}");
        let mut values = schema_base();
        set_at(&mut values, path, 0, wrong.clone());
        one_shape(&mut values, path, 0);
        let file = dir.join(format!("leaf-{i}.yaml"));
        std::fs::write(&file, values.to_string()).unwrap();
        let out = crate::support::run(&["render", "-f", file.to_str().unwrap()], &dir, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            found.push(Disagreement {
                input: input.clone(),
                path: "render".into(),
                kind: "accepts",
                detail: format!("render accepts `{name}: {wrong}`"),
            });
        } else if !stderr.contains(&format!("{name}:")) {
            found.push(Disagreement {
                input: input.clone(),
                path: "render".into(),
                kind: "unnamed",
                detail: format!(
                    "render refuses `{name}: {wrong}` without naming it: {}",
                    short(stderr.lines().nth(1).unwrap_or(""))
                ),
            });
        }
        // In the batch: registration leaves in registration `reg`, the others where they are.
        let index = if path.contains(&Seg::Index) {
            reg += 1;
            reg
        } else {
            0
        };
        if index > 0 {
            set_at(
                &mut batch,
                &[Seg::Key("repoRegistrations".into()), Seg::Index],
                index,
                schema_base()["repoRegistrations"][0].clone(),
            );
        }
        set_at(&mut batch, path, index, wrong);
        one_shape(&mut batch, path, index);
        helm_names.push((input, path.clone(), index, file));
    }
    let file = dir.join("all-leaves.yaml");
    std::fs::write(&file, batch.to_string()).unwrap();
    let chart = crate::helm::chart();
    for (major, h) in [(3u8, &env.h3), (4u8, &env.h4)] {
        let out = h
            .command()
            .args([
                "template",
                RELEASE,
                chart.to_str().unwrap(),
                "-n",
                NAMESPACE,
                "-f",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // Helm 3 names `repoRegistrations.3.name`, Helm 4 `/repoRegistrations/3/name`.
        let named = |path: &[Seg], index: usize| {
            let (sep, lead) = if major == 3 { (".", "") } else { ("/", "/") };
            let p: Vec<String> = path
                .iter()
                .map(|s| match s {
                    Seg::Key(k) => k.clone(),
                    Seg::Index => index.to_string(),
                })
                .collect();
            format!("{lead}{}", p.join(sep))
        };
        let names = |text: &str, n: &str| {
            text.contains(&format!("{n}:")) || text.contains(&format!("'{n}'"))
        };
        for (input, path, index, file) in &helm_names {
            let helm_path = format!("helm{major}");
            if !out.status.success() && names(&stderr, &named(path, *index)) {
                continue;
            }
            // Not named in the batch: the leaf alone, as `render` got it.
            let alone = h
                .command()
                .args([
                    "template",
                    RELEASE,
                    chart.to_str().unwrap(),
                    "-n",
                    NAMESPACE,
                    "-f",
                ])
                .arg(file)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&alone.stderr);
            let n = named(path, 0);
            if alone.status.success() {
                found.push(Disagreement {
                    input: input.clone(),
                    path: helm_path,
                    kind: "accepts",
                    detail: format!("Helm {major} renders the chart with `{n}` wrong-typed"),
                });
            } else if !names(&text, &n) {
                found.push(Disagreement {
                    input: input.clone(),
                    path: helm_path,
                    kind: "unnamed",
                    detail: format!(
                        "Helm {major} refuses without naming `{n}`: {}",
                        short(
                            &text
                                .lines()
                                .filter(|l| l.contains("- "))
                                .collect::<Vec<_>>()
                                .join(" ")
                        )
                    ),
                });
            }
        }
    }
    found
}

#[test]
fn every_path_gives_the_same_objects_or_the_same_refusal() {
    let start = std::time::Instant::now();
    let h3 = helm(3, "paths");
    let h4 = helm(4, "paths");
    let helm4_bin = std::env::var_os("HELM4")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/bin/helm4"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paths");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let env = Env {
        h3,
        h4,
        helm4_bin,
        scratch,
    };
    let inputs = inputs();
    assert!(inputs.len() >= 60, "only {} inputs", inputs.len());
    let next = AtomicUsize::new(0);
    let times: std::sync::Mutex<BTreeMap<&str, std::time::Duration>> = Default::default();
    let results: std::sync::Mutex<Results> = Default::default();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(n) else { break };
                    let p = prepare(&env, n, input);
                    let timed = |path: &'static str, f: &dyn Fn() -> Outcome| {
                        let t = std::time::Instant::now();
                        let o = f();
                        *times.lock().unwrap().entry(path).or_default() += t.elapsed();
                        (path.to_string(), o)
                    };
                    let render = timed("render", &|| run_render(&p, input)).1;
                    let mut others: Vec<(String, Outcome, Option<Outcome>)> = [
                        timed("helm3", &|| run_helm(&env.h3, 3, &p, input)),
                        timed("helm4", &|| run_helm(&env.h4, 4, &p, input)),
                        timed("argocd-values", &|| run_argocd(&env, &p, input, false)),
                        timed("argocd-chart", &|| run_argocd(&env, &p, input, true)),
                        timed("krm", &|| run_krm(&env, &p, input)),
                    ]
                    .into_iter()
                    .map(|(path, o)| (path, o, None))
                    .collect();
                    let t = std::time::Instant::now();
                    let (carrier, reference) = run_krm_carrier(&p, input);
                    *times.lock().unwrap().entry("krm-carrier").or_default() += t.elapsed();
                    others.push(("krm-carrier".into(), carrier, reference));
                    results.lock().unwrap().push((n, render, others));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let mut found = Vec::new();
    let (mut agreeing, mut same_objects, mut rendered) = (0, 0, 0);
    let mut not_applicable = Vec::new();
    for (n, render, others) in &results {
        let id = &inputs[*n].id;
        if matches!(render, Outcome::Objects(_)) {
            rendered += 1;
        }
        for (path, o, reference) in others {
            match compare(id, path, reference.as_ref().unwrap_or(render), o) {
                Some(d) => found.push(d),
                None => match o {
                    Outcome::NotApplicable(why) => {
                        not_applicable.push(format!("{id} {path}: {why}"))
                    }
                    Outcome::Objects(_) => {
                        agreeing += 1;
                        same_objects += 1;
                    }
                    Outcome::Refused { .. } => agreeing += 1,
                },
            }
        }
    }
    let paths_time = start.elapsed();
    found.extend(schema_disagreements(&env));
    let known = read_known();
    let keys: BTreeSet<(String, String, String)> = found.iter().map(Disagreement::key).collect();
    eprintln!(
        "paths: {} inputs ({rendered} rendered by render) x {} paths: {agreeing} agree ({same_objects} with the same objects), {} disagree ({} known), {} not applicable; {} schema leaves; {:.1?} for the paths, {:.1?} in all",
        inputs.len(),
        PATHS.len(),
        found.len(),
        keys.iter().filter(|k| known.contains_key(*k)).count(),
        not_applicable.len(),
        schema_leaves().len(),
        paths_time,
        start.elapsed()
    );
    eprintln!(
        "  time per path, summed over the inputs: {:.1?}",
        times.lock().unwrap()
    );
    for na in &not_applicable {
        eprintln!("  not applicable: {na}");
    }
    if bless() {
        write_known(&found, &known);
        return;
    }
    let new: Vec<String> = found
        .iter()
        .filter(|d| !known.contains_key(&d.key()))
        .map(|d| {
            format!(
                "{} {} {}\n      {}\n    as a line: {} {} {} {}",
                d.input,
                d.path,
                d.kind,
                d.detail,
                d.input,
                d.path,
                d.kind,
                suggested_reason(d)
            )
        })
        .collect();
    let gone: Vec<String> = known
        .iter()
        .filter(|(k, _)| !keys.contains(*k))
        .map(|((i, p, k), r)| format!("{i} {p} {k} {r}"))
        .collect();
    let mut report = String::new();
    if !new.is_empty() {
        report.push_str(&format!(
            "{} disagreements not in {}:\n  {}\n",
            new.len(),
            known_file().display(),
            new.join("\n  ")
        ));
    }
    if !gone.is_empty() {
        report.push_str(&format!(
            "{} listed disagreements no longer occur (delete their lines from {}):\n  {}\n",
            gone.len(),
            known_file().display(),
            gone.join("\n  ")
        ));
    }
    assert!(report.is_empty(), "{report}");
    // Not vacuous: most inputs agree on most paths.
    assert!(agreeing >= inputs.len() * 2, "only {agreeing} agreements");
    assert!(
        same_objects >= 50,
        "only {same_objects} paths gave render's objects"
    );
}
