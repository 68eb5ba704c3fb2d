//! Command-line interface: clap definitions (options typed by clap) and dispatch. Each subcommand
//! reads its inputs through `inputs`, calls the library (`pipeline` or a CI command), and writes
//! what it returned; stdout, stderr and the environment are touched here only. Nothing is written
//! to stdout unless the whole command succeeded, so a failing run never leaves half a manifest
//! behind.

use crate::error::{EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK, Problems};
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::k8s;
use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The environment variable naming `post-render`'s log file (read once, by clap).
pub const LOG_ENV: &str = "ARTIFACT_REPOS_LOG";

/// The `Exit codes:` footer of a command's `--help`.
pub fn exit_codes_help(command: Option<&str>) -> Option<String> {
    let (_, codes) = crate::error::EXIT_CODES
        .iter()
        .find(|(c, _)| *c == command)?;
    let mut s = String::from("Exit codes:");
    for (code, meaning) in *codes {
        s.push_str(&format!("\n  {code}  {meaning}"));
    }
    Some(s)
}

/// The command line definition with each command's exit-code footer: what parses arguments and
/// what prints help, completions and the man page.
pub fn cli_command() -> clap::Command {
    let mut cmd = Cli::command();
    if let Some(h) = exit_codes_help(None) {
        cmd = cmd.after_help(h);
    }
    for (name, _) in crate::error::EXIT_CODES {
        if let Some(name) = name {
            let footer = exit_codes_help(Some(name)).unwrap_or_default();
            cmd = cmd.mut_subcommand(*name, |c| c.after_help(footer));
        }
    }
    cmd
}

#[derive(Parser, Debug)]
#[command(
    name = "artifact-repos",
    version,
    about = "Generate per-tenant Argo Workflows artifact repositories from Helm values",
    long_about = "Generate per-tenant Argo Workflows artifact repositories from Helm values.\n\n\
From the `repoRegistrations` of a Helm values file, generates the artifact-repositories \
ConfigMaps, ExternalSecrets for bucket credentials, WorkflowTemplates that select the repository \
with artifactRepositoryRef, tenant namespaces, service accounts and RBAC.\n\n\
Called with no arguments and a piped stdin, it acts as a Helm post-renderer (`post-render`), or \
as a KRM function (`krm`) when stdin is one `config.kubernetes.io` ResourceList document."
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
    PostRender(PostRenderArgs),
    /// Argo CD Config Management Plugin: generate an Application's objects (argocd/plugin.yaml)
    ArgocdGenerate(ArgocdGenerateArgs),
    /// Act as a KRM function (kustomize, kpt): a ResourceList on stdin, values from functionConfig
    Krm,
    /// Compare two manifest streams object by object (exit 1 on drift)
    Diff(DiffArgs),
    /// Verify artifact repository resolution, credentials and RBAC in a manifest stream offline
    Check(CheckArgs),
    /// Show the chain Argo would follow to find a workflow's artifact repository
    Explain(ExplainArgs),
    /// Print a Workflow that runs a WorkflowTemplate with a chosen artifact repository
    Workflow(WorkflowArgs),
    /// Print a least-privilege bucket policy (AWS IAM or MinIO) per credential of the values
    Policies(PoliciesArgs),
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

pub use crate::inputs::ValuesArgs;

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Yaml,
    Json,
}

#[derive(Args, Debug)]
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
    #[arg(long, default_value = crate::render::DEFAULT_RELEASE_NAME)]
    pub release_name: String,
    /// Every warning is an error: exit 2, nothing written (also `artifactRepos.strict: true`)
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug, Default)]
pub struct PostRenderArgs {
    /// Append diagnostics to this file (Helm 4 never shows a plugin's stderr)
    #[arg(long, value_name = "PATH", env = LOG_ENV)]
    pub log_file: Option<PathBuf>,
    /// Every warning is an error: exit 2, nothing written (also `artifactRepos.strict: true`,
    /// the switch for Helm 3's `--post-renderer` without arguments)
    #[arg(long)]
    pub strict: bool,
}

pub use crate::deploy::helm::HELM_ENV;

#[derive(Args, Debug)]
pub struct ArgocdGenerateArgs {
    /// The helm binary run for a chart source (`helm template`): a path or a name on PATH
    #[arg(long, value_name = "PATH", env = HELM_ENV, default_value = "helm")]
    pub helm: PathBuf,
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
    #[command(flatten)]
    pub limits: crate::ci::input::InputArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Manifests to verify: a file, a directory of YAML files, or `-` (default)
    pub input: Option<PathBuf>,
    /// Namespace of the Argo workflow controller
    #[arg(long, default_value = argo::DEFAULT_CONTROLLER_NAMESPACE, value_parser = namespace)]
    pub controller_namespace: String,
    /// Argo Workflows version the cluster runs (MAJOR.MINOR); decides which repository keys exist
    #[arg(long, value_name = "VERSION", default_value = argo::DEFAULT_TEXT, value_parser = argo_version)]
    pub argo_version: ArgoVersion,
    /// A WorkflowTemplate that exists in the cluster outside these manifests (repeatable):
    /// `NAMESPACE/NAME`, or `NAME` in any namespace; a `templateRef` or `workflowTemplateRef` to it
    /// is not reported
    #[arg(long = "assume-template", value_name = "[NAMESPACE/]NAME")]
    pub assume_template: Vec<String>,
    #[command(flatten)]
    pub limits: crate::ci::input::InputArgs,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The Workflow to explain: a file or `-`
    pub workflow: PathBuf,
    /// Manifests the cluster holds (repeatable): files, directories, or `-` (when the workflow is a file)
    #[arg(short = 'm', long = "manifests", value_name = "PATH", required = true)]
    pub manifests: Vec<PathBuf>,
    /// Namespace the workflow runs in (default: its own `metadata.namespace`, else `default`)
    #[arg(short = 'n', long, value_parser = namespace)]
    pub namespace: Option<String>,
    /// Namespace of the Argo workflow controller
    #[arg(long, default_value = argo::DEFAULT_CONTROLLER_NAMESPACE, value_parser = namespace)]
    pub controller_namespace: String,
    /// Argo Workflows version the cluster runs (MAJOR.MINOR); decides which repository keys exist
    #[arg(long, value_name = "VERSION", default_value = argo::DEFAULT_TEXT, value_parser = argo_version)]
    pub argo_version: ArgoVersion,
    #[command(flatten)]
    pub limits: crate::ci::input::InputArgs,
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
    #[arg(long, default_value = argo::DEFAULT_CONFIGMAP)]
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

/// `policies --format`.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyFormat {
    /// AWS IAM (ARNs in the partition of the bucket's region)
    #[default]
    Aws,
    /// MinIO (`mc admin policy create`; ARNs `arn:aws:s3:::`)
    Minio,
}

#[derive(Args, Debug)]
pub struct PoliciesArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Policy language dialect
    #[arg(long, value_enum, default_value_t)]
    pub format: PolicyFormat,
    /// Write one `<name>.json` policy document per credential into DIR instead of the list on stdout
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Every warning is an error: exit 2, nothing written (also `artifactRepos.strict: true`)
    #[arg(long)]
    pub strict: bool,
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
    use clap::FromArgMatches;
    let cli = match cli_command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
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
        // Parsed as `post-render` with no flags, so the log file comes from the environment the one
        // way every run reads it (clap's `env`, `LOG_ENV`).
        // Helm 3 runs `--post-renderer artifact-repos`, kustomize and kpt run an exec KRM function,
        // both with no arguments and the input on stdin: one `config.kubernetes.io` ResourceList
        // document is a KRM call, anything else Helm's stream (`krm::is_resource_list`).
        // Post-render is parsed as `post-render` with no flags, so the log file comes from the
        // environment the one way every run reads it (clap's `env`, `LOG_ENV`).
        None if !std::io::stdin().is_terminal() => {
            let input = crate::inputs::read_stdin(crate::inputs::MAX_STDIN_BYTES)?;
            if crate::deploy::krm::is_resource_list(&input) {
                return krm(&input);
            }
            let matches = cli_command().try_get_matches_from(["artifact-repos", "post-render"])?;
            let Some(Command::PostRender(a)) = Cli::from_arg_matches(&matches)?.command else {
                unreachable!("post-render was given")
            };
            return post_render_input(a, input);
        }
        None => {
            cli_command().print_help()?;
            return Ok(EXIT_ERROR);
        }
    };
    match command {
        Command::Render(a) => render(a),
        Command::PostRender(a) => post_render(a),
        Command::Krm => krm(&crate::inputs::read_stdin(crate::inputs::MAX_STDIN_BYTES)?),
        Command::ArgocdGenerate(a) => argocd_generate(a),
        Command::Diff(a) => diff(a),
        Command::Check(a) => check(a),
        Command::Explain(a) => explain(a),
        Command::Workflow(a) => workflow(a),
        Command::Policies(a) => policies(a),
        Command::Schema => write_stdout([crate::values::schema::values_schema().as_bytes()]),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cli_command(), "artifact-repos", &mut out);
            write_stdout([out.as_slice()])
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cli_command()).render(&mut out)?;
            write_stdout([out.as_slice()])
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

/// The one stdout writer: the parts in order, through one buffer, once the command has succeeded
/// (nothing is written before). A closed pipe (`| head`) is not an error.
fn write_stdout<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Result<u8> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = parts
        .into_iter()
        .try_for_each(|p| out.write_all(p))
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

fn render(args: RenderArgs) -> Result<u8> {
    let sources = crate::inputs::values_sources(&args.values)?;
    let to_files = args.output_dir.is_some() || args.check.is_some();
    let options = crate::pipeline::Options {
        release: crate::render::Release {
            name: args.release_name.clone(),
            namespace: None,
        },
        strict_flag: args.strict,
        form: if args.output == OutputFormat::Json && !to_files {
            crate::pipeline::Form::JsonText
        } else {
            crate::pipeline::Form::Yaml
        },
        ..Default::default()
    };
    let generated = generate(sources, &options)?;
    let docs = match generated.objects {
        crate::pipeline::Objects::JsonText(objects) => {
            let parts = crate::render::json_list_parts(&objects);
            return write_stdout(parts.iter().map(|p| p.as_bytes()));
        }
        objects => objects.into_docs(),
    };
    if let Some(dir) = &args.output_dir {
        let s = crate::deploy::outdir::write(dir, &crate::deploy::outdir::files(&docs))?;
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
        let (text, current) =
            crate::deploy::outdir::check(dir, &crate::deploy::outdir::files(&docs), color)?;
        write_stdout([text.as_bytes()])?;
        return Ok(if current { EXIT_OK } else { EXIT_DIFFERENT });
    }
    write_stdout(docs.iter().flat_map(|d| [&b"---\n"[..], d.yaml.as_bytes()]))
}

/// The pipeline, its warnings printed (before the error when it refuses).
fn generate(
    sources: crate::pipeline::Sources,
    options: &crate::pipeline::Options,
) -> Result<crate::pipeline::Generated> {
    match crate::pipeline::generate(sources, options) {
        Ok(g) => {
            print_warnings(&g.warnings);
            Ok(g)
        }
        Err(r) => {
            print_warnings(&r.warnings);
            Err(r.problems.into())
        }
    }
}

/// `policies`: the values' model, one least-privilege policy per credential.
fn policies(args: PoliciesArgs) -> Result<u8> {
    let sources = crate::inputs::values_sources(&args.values)?;
    let mut read = match crate::pipeline::read(sources, args.strict) {
        Ok(r) => r,
        Err(r) => {
            print_warnings(&r.warnings);
            return Err(r.problems.into());
        }
    };
    // Strict mode refuses a run with warnings here too (an isolation warning is a policy that
    // grants one tenant another's keys).
    let warnings = read.strict.check(std::mem::take(&mut read.warnings))?;
    print_warnings(&warnings);
    let format = match args.format {
        PolicyFormat::Aws => crate::ci::policies::Format::Aws,
        PolicyFormat::Minio => crate::ci::policies::Format::Minio,
    };
    let (policies, notes) = crate::ci::policies::policies(&read.model, format);
    for n in &notes {
        eprintln!("note: {n}");
    }
    if policies.is_empty() {
        let mut p = Problems::default();
        p.push("values", "no S3 repository is used by any namespace: there is no policy to write (the default repository needs `s3.enabled: true` and registrations that use it)");
        return Err(p.into());
    }
    let Some(dir) = &args.output_dir else {
        return write_stdout([crate::ci::policies::to_json(&policies).as_bytes()]);
    };
    // The same file layer as `render --output-dir`: no links followed, no FIFO opened (#20).
    let files: Vec<crate::deploy::outdir::File> = policies
        .iter()
        .map(|p| {
            (
                format!("{}.json", p.name),
                crate::ci::policies::document_json(p),
            )
        })
        .collect();
    crate::deploy::outdir::write_files(dir, &files)?;
    eprintln!("wrote {} policies to `{}`", policies.len(), dir.display());
    Ok(EXIT_OK)
}

/// Reads the whole stream Helm sends, runs the post-renderer, and writes the result at once.
/// Errors and warnings also go to the log file when one is set, because Helm 4 never shows a
/// plugin's stderr; the record has no timestamps, so the same run appends the same lines.
fn post_render(args: PostRenderArgs) -> Result<u8> {
    post_render_input(
        args,
        crate::inputs::read_stdin(crate::inputs::MAX_STDIN_BYTES)?,
    )
}

/// The KRM function: the ResourceList goes to stdout even on error (its `results` say why, its
/// items come back unchanged); the messages also go to stderr, which kustomize shows.
fn krm(input: &[u8]) -> Result<u8> {
    let outcome = crate::deploy::krm::run(input);
    let mut stderr = std::io::stderr().lock();
    for m in &outcome.messages {
        let _ = writeln!(stderr, "artifact-repos krm: {m}");
    }
    drop(stderr);
    if let Some(text) = &outcome.output {
        write_stdout([text.as_bytes()])?;
    }
    Ok(if outcome.failed { EXIT_ERROR } else { EXIT_OK })
}

/// The Argo CD plugin's generate command, in the Application's source directory (the working
/// directory), with the environment Argo CD sets.
fn argocd_generate(args: ArgocdGenerateArgs) -> Result<u8> {
    let env = crate::deploy::argocd::Env::read(|k| std::env::var_os(k))?;
    let outcome = crate::deploy::argocd::generate(&env, &args.helm);
    print_warnings(&outcome.warnings);
    write_stdout([outcome.result?.as_slice()])
}

fn post_render_input(args: PostRenderArgs, input: Vec<u8>) -> Result<u8> {
    let result = crate::deploy::postrender::post_render(&input, args.strict);
    if let Ok(output) = &result {
        print_warnings(&output.warnings);
    }
    if let Some(path) = &args.log_file
        && let Err(e) = crate::deploy::postrender::log(path, &result)
    {
        // The run's own outcome matters more than its log: say so and carry on.
        eprintln!(
            "warning: cannot write the log file `{}`: {e}",
            path.display()
        );
    }
    let output = result?;
    // Written part by part: the input's slices are not copied into one buffer first.
    write_stdout(output.parts.iter().map(|p| p.as_ref()))
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

fn diff(args: DiffArgs) -> Result<u8> {
    let old = crate::inputs::load_manifests(&[&args.old], args.limits)?;
    let new = crate::inputs::load_manifests(&[&args.new], args.limits)?;
    let outcome = crate::ci::diff::diff(&old, &new, use_color(args.color));
    write_stdout([outcome.text.as_bytes()])?;
    Ok(if outcome.drift() {
        EXIT_DIFFERENT
    } else {
        EXIT_OK
    })
}

/// `--argo-version`, typed by clap: MAJOR.MINOR (an optional `v` and patch are accepted).
fn argo_version(text: &str) -> Result<ArgoVersion, String> {
    ArgoVersion::parse(text).map_err(|e| e.to_string())
}

/// A namespace flag, checked by clap: a DNS-1123 label.
fn namespace(text: &str) -> Result<String, String> {
    if k8s::is_dns1123_label(text) {
        Ok(text.to_string())
    } else {
        Err(
            "is not a valid namespace: lowercase letters, digits and `-`, at most 63 characters"
                .into(),
        )
    }
}

fn check_options(
    controller_namespace: String,
    argo_version: ArgoVersion,
) -> crate::ci::check::Options {
    crate::ci::check::Options {
        controller_namespace,
        argo_version,
        assumed_templates: Vec::new(),
    }
}

fn check(args: CheckArgs) -> Result<u8> {
    let mut options = check_options(args.controller_namespace, args.argo_version);
    let mut p = Problems::default();
    for (i, t) in args.assume_template.iter().enumerate() {
        let ok = match t.split_once('/') {
            Some((ns, name)) => k8s::dns_label(ns).and_then(|()| k8s::dns_subdomain(name)),
            None => k8s::dns_subdomain(t),
        };
        if let Err(e) = ok {
            p.push(
                format!("--assume-template[{i}]"),
                format!(
                    "`{}` {e}; expected `NAMESPACE/NAME` or `NAME`",
                    t.escape_debug()
                ),
            );
        }
    }
    p.into_result()?;
    options.assumed_templates = args.assume_template;
    let input = args.input.unwrap_or_else(|| PathBuf::from("-"));
    let manifests = crate::inputs::load_manifests(&[&input], args.limits)?;
    let report = crate::ci::check::check(&manifests, &options);
    write_stdout([report.to_text().as_bytes()])?;
    Ok(if !report.failed() {
        EXIT_OK
    } else {
        EXIT_DIFFERENT
    })
}

fn explain(args: ExplainArgs) -> Result<u8> {
    let options = check_options(args.controller_namespace, args.argo_version);
    let workflows = crate::inputs::load_manifests(&[&args.workflow], args.limits)?;
    let paths: Vec<&Path> = args.manifests.iter().map(PathBuf::as_path).collect();
    anyhow::ensure!(
        args.workflow.as_os_str() != "-" || !paths.iter().any(|p| p.as_os_str() == "-"),
        "`-` given more than once: stdin can be read only once"
    );
    let manifests = crate::inputs::load_manifests(&paths, args.limits)?;
    let e =
        crate::ci::explain::explain(&workflows, &manifests, args.namespace.as_deref(), &options);
    write_stdout([e.text.as_bytes()])?;
    Ok(if e.complete { EXIT_OK } else { EXIT_DIFFERENT })
}

fn workflow(args: WorkflowArgs) -> Result<u8> {
    let req = crate::ci::workflow::Request {
        from: args.from,
        registration: args.artifact_repository,
        namespace: args.namespace,
        parameters: args.parameters,
        generate_name: args.generate_name,
        configmap: args.configmap,
        service_account: args.serviceaccount,
        form: match args.form {
            WorkflowForm::Override => crate::ci::workflow::Form::Override,
            WorkflowForm::Template => crate::ci::workflow::Form::Template,
        },
    };
    let built = crate::ci::workflow::build(&req)?;
    eprintln!("note: {}", built.note);
    write_stdout([built.yaml.as_bytes()])
}
