//! Command-line interface: argument definitions and the only place that touches files, stdin,
//! stdout, stderr and the environment. Every subcommand reads its inputs here, calls a pure function
//! of the library, and writes what that function returned. Nothing is written to stdout unless the
//! whole command succeeded, so a failing run never leaves half a manifest behind.

use crate::error::{EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK, Problems};
use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (render, post-render); no drift (diff, render --check); no findings (check)
  1  drift (diff, render --check) or findings (check)
  2  error: bad input or a failure; nothing is written to stdout";

const EXPLAIN_EXIT_CODES: &str = "\
Exit codes:
  0  the chain is complete: a repository is found, its credentials produced, results reportable
  1  the chain is broken somewhere (the output says where)
  2  error: bad input or a failure; nothing is written to stdout";

#[derive(Parser, Debug)]
#[command(
    name = "artifact-repos",
    version,
    about = "Generate per-tenant Argo Workflows artifact repositories from Helm values",
    long_about = "Generate per-tenant Argo Workflows artifact repositories from Helm values.\n\n\
From the `repoRegistrations` of a Helm values file, generates the artifact-repositories \
ConfigMaps, ExternalSecrets for bucket credentials, WorkflowTemplates that select the repository \
with artifactRepositoryRef, tenant namespaces, service accounts and RBAC.\n\n\
Called with no arguments and a piped stdin, it acts as a Helm post-renderer (`post-render`).",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render every generated object from values files to stdout
    Render(RenderArgs),
    /// Act as a Helm post-renderer: consume the carrier document on stdin, add the generated objects
    #[command(after_help = EXIT_CODES)]
    PostRender(PostRenderArgs),
    /// Compare two manifest streams object by object (exit 1 on drift)
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Verify artifact repository resolution, credentials and RBAC in a manifest stream offline
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Show the chain Argo would follow to find a workflow's artifact repository
    Explain(ExplainArgs),
    /// Print a Workflow that runs a WorkflowTemplate with a chosen artifact repository
    Workflow(WorkflowArgs),
    /// Print the JSON schema of the values this tool reads (charts/artifact-repos/values.schema.json)
    Schema,
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff)
    Man,
}

#[derive(Args, Debug, Default)]
pub struct ValuesArgs {
    /// Values file (repeatable; later files win; `-` reads stdin). Without any, the bundled example
    #[arg(short = 'f', long = "values", value_name = "VALUES")]
    pub values: Vec<PathBuf>,
    /// Set a value on top of the files, as Helm does: `repoRegistrations[0].tenant=team-a`
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Set a string value, never converted to a number or boolean
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    pub set_string: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Yaml,
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct RenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Write one file per object into DIR instead of stdout (stale files there are removed)
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    pub output_dir: Option<PathBuf>,
    /// Compare with the files in DIR (as written by --output-dir); exit 1 when they are stale
    #[arg(long, value_name = "DIR")]
    pub check: Option<PathBuf>,
    /// Release name used in labels (helm passes it through the carrier)
    #[arg(long, default_value = "artifact-repos")]
    pub release_name: String,
}

#[derive(Args, Debug, Default)]
pub struct PostRenderArgs {
    /// Append diagnostics to this file (Helm 4 never shows a plugin's stderr)
    #[arg(long, value_name = "PATH", env = "ARTIFACT_REPOS_LOG")]
    pub log_file: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Old manifests: a file, a directory of YAML files, or `-`
    pub old: PathBuf,
    /// New manifests: a file, a directory of YAML files, or `-`
    pub new: PathBuf,
    /// Color the diff
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Manifests to verify: a file, a directory of YAML files, or `-` (default)
    pub input: Option<PathBuf>,
    /// Namespace of the Argo workflow controller
    #[arg(long, default_value = "argo-workflows")]
    pub controller_namespace: String,
    /// Argo Workflows version the cluster runs (MAJOR.MINOR); decides which repository keys exist
    #[arg(long, value_name = "VERSION", default_value = "3.7")]
    pub argo_version: String,
}

#[derive(Args, Debug)]
#[command(after_help = EXPLAIN_EXIT_CODES)]
pub struct ExplainArgs {
    /// The Workflow to explain: a file or `-`
    pub workflow: PathBuf,
    /// Manifests the cluster holds (repeatable): files, directories, or `-` (when the workflow is a file)
    #[arg(short = 'm', long = "manifests", value_name = "PATH", required = true)]
    pub manifests: Vec<PathBuf>,
    /// Namespace the workflow runs in (default: its own `metadata.namespace`, else `default`)
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Namespace of the Argo workflow controller
    #[arg(long, default_value = "argo-workflows")]
    pub controller_namespace: String,
    /// Argo Workflows version the cluster runs (MAJOR.MINOR); decides which repository keys exist
    #[arg(long, value_name = "VERSION", default_value = "3.7")]
    pub argo_version: String,
}

#[derive(Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct WorkflowArgs {
    /// The template to run: `workflowtemplate/NAME` or `clusterworkflowtemplate/NAME`
    #[arg(long = "from", value_name = "KIND/NAME")]
    pub from: String,
    /// Registration whose repository stores the artifacts (`artifactRepositories.REGISTRATION`)
    #[arg(long = "artifact-repository", value_name = "REGISTRATION")]
    pub artifact_repository: String,
    /// Namespace of the workflow
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Workflow parameter (repeatable)
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Prefix of the generated workflow name
    #[arg(long, value_name = "PREFIX")]
    pub generate_name: Option<String>,
    /// ConfigMap holding the repositories
    #[arg(long, default_value = "artifact-repositories")]
    pub configmap: String,
    /// Service account the workflow runs as (default: the template's)
    #[arg(long)]
    pub serviceaccount: Option<String>,
    /// `override`: set spec.artifactRepositoryRef on the Workflow; `template`: reference the
    /// registration's own WorkflowTemplate, which carries the repository (works under Argo's
    /// templateReferencing Strict/Secure, which refuse the override)
    #[arg(long, value_enum, default_value_t = WorkflowForm::Override)]
    pub form: WorkflowForm,
}

/// `workflow --form`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkflowForm {
    Override,
    Template,
}

/// Parses arguments and runs one command. Returns the exit code for success paths (0 or 1);
/// errors are returned and reported by `report_error` with exit code 2.
pub fn run(args: Vec<OsString>) -> Result<u8> {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; usage errors exit 2 like every other error.
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return Ok(code);
        }
    };
    let command = match cli.command {
        Some(c) => c,
        // Helm 3 runs `--post-renderer artifact-repos` with no arguments and the manifests on stdin.
        None if !std::io::stdin().is_terminal() => Command::PostRender(PostRenderArgs {
            log_file: std::env::var_os("ARTIFACT_REPOS_LOG").map(PathBuf::from),
        }),
        None => {
            Cli::command().print_help()?;
            return Ok(EXIT_ERROR);
        }
    };
    match command {
        Command::Render(a) => render(a),
        Command::PostRender(a) => post_render(a),
        Command::Diff(a) => diff(a),
        Command::Check(a) => check(a),
        Command::Explain(a) => explain(a),
        Command::Workflow(a) => workflow(a),
        Command::Schema => write_stdout(crate::schema::values_schema().as_bytes()),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "artifact-repos", &mut out);
            write_stdout(&out)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            write_stdout(&out)
        }
    }
}

/// Prints an error once, as `error: ...` with its whole context chain. Problems print one per line.
pub fn report_error(err: &anyhow::Error) {
    let mut stderr = std::io::stderr().lock();
    if let Some(p) = err.downcast_ref::<Problems>() {
        let _ = writeln!(stderr, "error: {p}");
    } else {
        let _ = writeln!(stderr, "error: {err:#}");
    }
}

/// Writes the whole output at once. A closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

/// `write_stdout` for output built in parts (each generated document), without joining them.
fn write_stdout_parts(parts: &[String]) -> Result<u8> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = parts
        .iter()
        .try_for_each(|p| out.write_all(p.as_bytes()))
        .and_then(|_| out.flush());
    match result {
        Ok(()) => Ok(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

fn print_warnings(warnings: &[crate::error::Problem]) {
    let mut stderr = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .context("reading stdin")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))
    }
}

/// Reads at most `max + 1` bytes of a file or stdin: enough for the parser to refuse an oversized
/// input without holding all of it.
fn read_limited(path: &Path, max: usize) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let limit = max as u64 + 1;
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut buf)
            .context("reading stdin")?;
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("reading `{}`", path.display()))?;
        file.take(limit)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading `{}`", path.display()))?;
    }
    Ok(buf)
}

/// The values sources of a command line, in merge order, as (name, bytes).
fn read_values(args: &ValuesArgs) -> Result<Vec<(String, Vec<u8>)>> {
    if args.values.is_empty() {
        eprintln!(
            "note: no -f given: rendering the bundled example ({})",
            crate::values::EXAMPLE_NAME
        );
        return Ok(vec![(
            crate::values::EXAMPLE_NAME.to_string(),
            crate::values::EXAMPLE.as_bytes().to_vec(),
        )]);
    }
    let mut stdin_used = false;
    let mut out = Vec::new();
    for p in &args.values {
        if p.as_os_str() == "-" {
            anyhow::ensure!(
                !stdin_used,
                "`-f -` given more than once: stdin can be read only once"
            );
            stdin_used = true;
        }
        let name = if p.as_os_str() == "-" {
            "<stdin>".to_string()
        } else {
            p.display().to_string()
        };
        out.push((name, read_limited(p, crate::yaml::MAX_VALUES_BYTES)?));
    }
    Ok(out)
}

fn render(args: RenderArgs) -> Result<u8> {
    let sources = read_values(&args.values)?;
    let merged = crate::values::merge_sources(&sources, &args.values.set, &args.values.set_string)?;
    let options = crate::render::Options {
        release: crate::render::Release {
            name: args.release_name.clone(),
            namespace: None,
        },
        ..Default::default()
    };
    if args.output == OutputFormat::Yaml && args.output_dir.is_none() && args.check.is_none() {
        // The fast path: objects go straight to YAML text, no JSON trees (see docs/benchmarks.md).
        let (docs, warnings) = crate::render::render_yaml(&merged, &options)?;
        print_warnings(&warnings);
        let code = write_stdout_parts(&docs);
        // Freeing a large values tree and output costs more than the process exit does.
        std::mem::forget(merged);
        std::mem::forget(docs);
        return code;
    }
    let rendered = crate::render::render(&merged, &options)?;
    print_warnings(&rendered.warnings);
    if args.output_dir.is_some() || args.check.is_some() {
        let ids: Vec<&crate::render::Identity> =
            rendered.objects.iter().map(|o| &o.identity).collect();
        let files: Vec<(String, String)> = crate::manifests::output_paths(&ids)
            .into_iter()
            .zip(&rendered.objects)
            .map(|(path, o)| (path, crate::yaml::to_yaml(&o.value)))
            .collect();
        if let Some(dir) = &args.output_dir {
            let s = write_output_dir(dir, &files)?;
            eprintln!(
                "wrote {} files to `{}` ({} unchanged), removed {} stale",
                s.written + s.unchanged,
                dir.display(),
                s.unchanged,
                s.removed
            );
            return Ok(EXIT_OK);
        }
        if let Some(dir) = &args.check {
            let color = use_color(ColorChoice::Auto);
            let (text, current) = check_output_dir(dir, &files, color)?;
            write_stdout(text.as_bytes())?;
            return Ok(if current { EXIT_OK } else { EXIT_DIFFERENT });
        }
    }
    let text = match args.output {
        OutputFormat::Yaml => crate::render::to_yaml_stream(&rendered),
        OutputFormat::Json => crate::render::to_json_list(&rendered),
    };
    write_stdout(text.as_bytes())
}

/// Reads the whole stream Helm sends, runs the post-renderer, and writes the result at once.
/// Errors and warnings also go to the log file when one is set, because Helm 4 never shows a
/// plugin's stderr; the record has no timestamps, so the same run appends the same lines.
fn post_render(args: PostRenderArgs) -> Result<u8> {
    // Helm's streams are megabytes: start big to skip most of the regrowing.
    let mut input = Vec::with_capacity(1 << 20);
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    let result = crate::postrender::post_render(&input);
    let mut record = String::new();
    match &result {
        Ok(output) => {
            print_warnings(&output.warnings);
            for w in &output.warnings {
                record.push_str(&format!("artifact-repos post-render: warning: {w}\n"));
            }
        }
        Err(problems) => {
            record.push_str(&format!("artifact-repos post-render: error: {problems}\n"));
        }
    }
    if let Some(path) = &args.log_file
        && !record.is_empty()
        && let Err(e) = append_log(path, &record)
    {
        // The run's own outcome matters more than its log: say so and carry on.
        eprintln!(
            "warning: cannot write the log file `{}`: {e}",
            path.display()
        );
    }
    let output = result?;
    // Written part by part: the input's slices are not copied into one buffer first.
    let mut out = std::io::stdout().lock();
    let written = output
        .parts
        .iter()
        .try_for_each(|part| out.write_all(part))
        .and_then(|_| out.flush());
    match written {
        Ok(()) => Ok(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

fn append_log(path: &Path, record: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(record.as_bytes())
}

// ---- CI commands: diff, check, explain, workflow, render --output-dir/--check ----

/// True when output should be colored: forced either way, or stdout is a terminal and `NO_COLOR`
/// is unset.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The YAML files of a manifest input as (name, bytes): a file, `-` (stdin), or a directory read
/// recursively in sorted path order (`.yaml`, `.yml` and `.json` files; hidden entries skipped).
pub fn read_manifest_sources(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    if path.as_os_str() == "-" {
        return Ok(vec![("<stdin>".to_string(), read_input(path)?)]);
    }
    let meta = std::fs::metadata(path).with_context(|| format!("reading `{}`", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![(path.display().to_string(), read_input(path)?)]);
    }
    let mut files = Vec::new();
    collect_yaml_files(path, &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|f| Ok((f.display().to_string(), read_input(&f)?)))
        .collect()
}

fn collect_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading directory `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading directory `{}`", dir.display()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry
            .file_type()
            .with_context(|| format!("reading `{}`", path.display()))?;
        if ty.is_dir() {
            collect_yaml_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn load_manifests(paths: &[&Path]) -> Result<Vec<crate::manifests::Manifest>> {
    let stdin_count = paths.iter().filter(|p| p.as_os_str() == "-").count();
    anyhow::ensure!(
        stdin_count <= 1,
        "`-` given more than once: stdin can be read only once"
    );
    let mut sources = Vec::new();
    for p in paths {
        sources.extend(read_manifest_sources(p)?);
    }
    Ok(crate::manifests::load(&sources)?)
}

fn diff(args: DiffArgs) -> Result<u8> {
    let old = load_manifests(&[&args.old])?;
    let new = load_manifests(&[&args.new])?;
    let outcome = crate::diff::diff(&old, &new, use_color(args.color));
    write_stdout(outcome.text.as_bytes())?;
    Ok(if outcome.drift() {
        EXIT_DIFFERENT
    } else {
        EXIT_OK
    })
}

fn check_options(controller_namespace: &str, argo_version: &str) -> Result<crate::check::Options> {
    let argo_version = crate::check::parse_argo_version(argo_version).map_err(|m| {
        let mut p = Problems::default();
        p.push("--argo-version", m);
        p
    })?;
    if !crate::manifests::is_dns1123_label(controller_namespace) {
        let mut p = Problems::default();
        p.push(
            "--controller-namespace",
            format!("`{controller_namespace}` is not a valid namespace: lowercase letters, digits and `-`, at most 63 characters"),
        );
        return Err(p.into());
    }
    Ok(crate::check::Options {
        controller_namespace: controller_namespace.to_string(),
        argo_version,
    })
}

fn check(args: CheckArgs) -> Result<u8> {
    let options = check_options(&args.controller_namespace, &args.argo_version)?;
    let input = args.input.unwrap_or_else(|| PathBuf::from("-"));
    let manifests = load_manifests(&[&input])?;
    let report = crate::check::check(&manifests, &options);
    write_stdout(report.to_text().as_bytes())?;
    Ok(if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_DIFFERENT
    })
}

fn explain(args: ExplainArgs) -> Result<u8> {
    let options = check_options(&args.controller_namespace, &args.argo_version)?;
    if let Some(ns) = &args.namespace
        && !crate::manifests::is_dns1123_label(ns)
    {
        let mut p = Problems::default();
        p.push("--namespace", format!("`{ns}` is not a valid namespace: lowercase letters, digits and `-`, at most 63 characters"));
        return Err(p.into());
    }
    let workflows = load_manifests(&[&args.workflow])?;
    let paths: Vec<&Path> = args.manifests.iter().map(PathBuf::as_path).collect();
    anyhow::ensure!(
        args.workflow.as_os_str() != "-" || !paths.iter().any(|p| p.as_os_str() == "-"),
        "`-` given more than once: stdin can be read only once"
    );
    let manifests = load_manifests(&paths)?;
    let e = crate::explain::explain(&workflows, &manifests, args.namespace.as_deref(), &options);
    write_stdout(e.text.as_bytes())?;
    Ok(if e.complete { EXIT_OK } else { EXIT_DIFFERENT })
}

fn workflow(args: WorkflowArgs) -> Result<u8> {
    let req = crate::workflow::Request {
        from: args.from,
        registration: args.artifact_repository,
        namespace: args.namespace,
        parameters: args.parameters,
        generate_name: args.generate_name,
        configmap: args.configmap,
        service_account: args.serviceaccount,
        form: match args.form {
            WorkflowForm::Override => crate::workflow::Form::Override,
            WorkflowForm::Template => crate::workflow::Form::Template,
        },
    };
    let built = crate::workflow::build(&req)?;
    eprintln!("note: {}", built.note);
    write_stdout(built.yaml.as_bytes())
}

/// What `write_output_dir` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

fn marker_text(files: &[(String, String)]) -> String {
    let mut paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    paths.sort();
    let mut s = String::from(
        "# Written by `artifact-repos render --output-dir`: the files it owns in this directory.\n\
         # It deletes only files listed here. Commit this file with them.\n",
    );
    for p in paths {
        s.push_str(p);
        s.push('\n');
    }
    s
}

/// Files listed in a marker, keeping only paths of our layout (a marker is never trusted to point
/// outside its directory).
fn marker_files(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| crate::manifests::is_layout_path(l) && !l.split('/').any(|c| c == ".."))
        .map(str::to_string)
        .collect()
}

/// Writes `files` (relative path, content) under `dir` and deletes files a previous run wrote that
/// are no longer rendered. Refuses a non-empty directory without our marker file, so it never
/// deletes or overwrites anything it did not write.
pub fn write_output_dir(dir: &Path, files: &[(String, String)]) -> Result<WriteSummary> {
    let marker = dir.join(crate::manifests::OUTPUT_MARKER);
    let mut owned = Vec::new();
    if dir.exists() {
        anyhow::ensure!(
            dir.is_dir(),
            "`{}` exists and is not a directory",
            dir.display()
        );
        match std::fs::read_to_string(&marker) {
            Ok(text) => owned = marker_files(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let non_empty = std::fs::read_dir(dir)
                    .with_context(|| format!("reading directory `{}`", dir.display()))?
                    .next()
                    .is_some();
                anyhow::ensure!(
                    !non_empty,
                    "`{}` is not empty and has no `{}` marker: refusing to write into a directory this tool did not create; give a new or empty directory",
                    dir.display(),
                    crate::manifests::OUTPUT_MARKER
                );
            }
            Err(e) => return Err(e).with_context(|| format!("reading `{}`", marker.display())),
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let mut summary = WriteSummary::default();
    for (rel, content) in files {
        let path = dir.join(rel);
        if std::fs::read(&path).is_ok_and(|b| b == content.as_bytes()) {
            summary.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating `{}`", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing `{}`", path.display()))?;
        summary.written += 1;
    }
    let keep: std::collections::HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for rel in owned.iter().filter(|r| !keep.contains(r.as_str())) {
        let path = dir.join(rel);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing `{}`", path.display()))?;
                summary.removed += 1;
                // Only succeeds when the namespace directory became empty.
                if let Some(parent) = path.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
            }
            _ => {}
        }
    }
    std::fs::write(&marker, marker_text(files))
        .with_context(|| format!("writing `{}`", marker.display()))?;
    Ok(summary)
}

/// Compares what `write_output_dir` would write with `dir`: returns a listing of missing, stale
/// and extra files plus an object diff, and whether the directory is current.
pub fn check_output_dir(
    dir: &Path,
    files: &[(String, String)],
    color: bool,
) -> Result<(String, bool)> {
    anyhow::ensure!(
        dir.is_dir(),
        "`{}` is not a directory: run `render --output-dir {}` first",
        dir.display(),
        dir.display()
    );
    let mut lines = Vec::new();
    let mut present = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading directory `{}`", dir.display()))?
    {
        let entry = entry?;
        let sub = entry.file_name().to_string_lossy().to_string();
        if !entry.file_type()?.is_dir() || sub.starts_with('.') {
            continue;
        }
        for f in std::fs::read_dir(entry.path())? {
            let f = f?;
            let rel = format!("{sub}/{}", f.file_name().to_string_lossy());
            if f.file_type()?.is_file() && crate::manifests::is_layout_path(&rel) {
                present.push(rel);
            }
        }
    }
    present.sort();
    let owned: Vec<String> = std::fs::read_to_string(dir.join(crate::manifests::OUTPUT_MARKER))
        .map(|t| marker_files(&t))
        .unwrap_or_default();
    let wanted: std::collections::HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for (rel, content) in files {
        match std::fs::read(dir.join(rel)) {
            Ok(b) if b == content.as_bytes() => {}
            Ok(_) => lines.push(format!("stale: {rel}")),
            Err(_) => lines.push(format!("missing: {rel}")),
        }
    }
    for rel in &present {
        if !wanted.contains(rel.as_str()) {
            let how = if owned.contains(rel) {
                ""
            } else {
                " (not listed in the marker: delete it by hand)"
            };
            lines.push(format!("extra: {rel}{how}"));
        }
    }
    let marker_current = std::fs::read_to_string(dir.join(crate::manifests::OUTPUT_MARKER))
        .is_ok_and(|t| t == marker_text(files));
    if !marker_current {
        lines.push(format!("stale: {}", crate::manifests::OUTPUT_MARKER));
    }
    if lines.is_empty() {
        return Ok((
            format!(
                "`{}` is up to date ({} files)\n",
                dir.display(),
                files.len()
            ),
            true,
        ));
    }
    lines.sort();
    let mut text = lines.join("\n");
    text.push_str(&format!(
        "\n`{}` is stale: run `artifact-repos render` with the same values and `--output-dir {}`, then commit the result\n\n",
        dir.display(),
        dir.display()
    ));
    // Files that are not manifests (hand-written notes in YAML) are left out of the object diff.
    let mut old_sources = Vec::new();
    for rel in &present {
        let path = dir.join(rel);
        let bytes = std::fs::read(&path)?;
        match crate::manifests::parse(&path.display().to_string(), &bytes) {
            Ok(_) => old_sources.push((path.display().to_string(), bytes)),
            Err(p) => text.push_str(&format!("not compared: {p}\n")),
        }
    }
    let new_sources: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, c)| (format!("rendered/{p}"), c.as_bytes().to_vec()))
        .collect();
    match (
        crate::manifests::load(&old_sources),
        crate::manifests::load(&new_sources),
    ) {
        (Ok(old), Ok(new)) => text.push_str(&crate::diff::diff(&old, &new, color).text),
        (Err(p), _) | (_, Err(p)) => text.push_str(&format!("(no object diff: {p})\n")),
    }
    Ok((text, false))
}
