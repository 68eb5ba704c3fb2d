//! Command-line interface: argument definitions and the only place that touches files, stdin,
//! stdout, stderr and the environment. Every subcommand reads its inputs here, calls a pure function
//! of the library, and writes what that function returned. Nothing is written to stdout unless the
//! whole command succeeded, so a failing run never leaves half a manifest behind.

use crate::error::{EXIT_ERROR, EXIT_OK, Problems};
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
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The Workflow to explain: a file or `-`
    pub workflow: PathBuf,
    /// Manifests the cluster holds (repeatable): files or directories
    #[arg(short = 'm', long = "manifests", value_name = "PATH")]
    pub manifests: Vec<PathBuf>,
    /// Namespace of the Argo workflow controller
    #[arg(long, default_value = "argo-workflows")]
    pub controller_namespace: String,
}

#[derive(Args, Debug)]
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
        Command::Diff(a) => not_yet("diff", a),
        Command::Check(a) => not_yet("check", a),
        Command::Explain(a) => not_yet("explain", a),
        Command::Workflow(a) => not_yet("workflow", a),
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

fn not_yet(name: &str, _args: impl std::fmt::Debug) -> Result<u8> {
    anyhow::bail!("`{name}` is not implemented yet")
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
        out.push((name, read_input(p)?));
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
    let rendered = crate::render::render(&merged, &options)?;
    print_warnings(&rendered.warnings);
    if let Some(dir) = &args.output_dir {
        let _ = dir;
        anyhow::bail!("`--output-dir` is not implemented yet");
    }
    if let Some(dir) = &args.check {
        let _ = dir;
        anyhow::bail!("`--check` is not implemented yet");
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
    if let Some(path) = &args.log_file {
        if !record.is_empty() {
            if let Err(e) = append_log(path, &record) {
                // The run's own outcome matters more than its log: say so and carry on.
                eprintln!(
                    "warning: cannot write the log file `{}`: {e}",
                    path.display()
                );
            }
        }
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
