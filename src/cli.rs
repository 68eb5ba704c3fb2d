//! Command-line interface: argument definitions and the only place that touches files, stdin,
//! stdout, stderr and the environment. Every subcommand reads its inputs here, calls a pure function
//! of the library, and writes what that function returned. Nothing is written to stdout unless the
//! whole command succeeded, so a failing run never leaves half a manifest behind.

use crate::error::{EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK, Problems};
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::k8s;
use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
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

/// The environment variable naming the helm binary `argocd-generate` runs for chart sources.
pub const HELM_ENV: &str = "ARTIFACT_REPOS_HELM";

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
    #[arg(long, default_value = argo::DEFAULT_CONTROLLER_NAMESPACE)]
    pub controller_namespace: String,
    /// Argo Workflows version the cluster runs (MAJOR.MINOR); decides which repository keys exist
    #[arg(long, value_name = "VERSION", default_value = argo::DEFAULT_TEXT)]
    pub argo_version: String,
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
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Namespace of the Argo workflow controller
    #[arg(long, default_value = argo::DEFAULT_CONTROLLER_NAMESPACE)]
    pub controller_namespace: String,
    /// Argo Workflows version the cluster runs (MAJOR.MINOR); decides which repository keys exist
    #[arg(long, value_name = "VERSION", default_value = argo::DEFAULT_TEXT)]
    pub argo_version: String,
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
            let input = read_stdin()?;
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
        Command::Krm => krm(&read_stdin()?),
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

/// The switch that made warnings errors, for the message.
fn strict_switch(flag: bool) -> &'static str {
    if flag {
        "--strict"
    } else {
        "`artifactRepos.strict: true`"
    }
}

fn print_warnings(warnings: &[crate::error::Problem]) {
    let mut stderr = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
}

/// Reads a manifest file, or stdin for `-`: a regular file (FIFOs, devices and sockets are
/// refused without waiting on them), at most `max` bytes (`ci::input::read`).
pub fn read_input(path: &Path, max: usize) -> Result<Vec<u8>> {
    crate::ci::input::read(path, max)
}

/// What `-f` named: values files in merge order, and RepoRegistration objects (files of them, or
/// directories searched for them).
#[derive(Default)]
struct Inputs {
    values: Vec<(String, Vec<u8>)>,
    registrations: Vec<(crate::yaml::Node, crate::values::reporeg::Origin)>,
    warnings: Vec<crate::error::Problem>,
}

/// Reads every `-f`: a directory is searched for RepoRegistration objects (other files are
/// skipped with a warning); a file holding RepoRegistrations gives them; any other file is values.
fn read_inputs(args: &ValuesArgs) -> Result<Inputs> {
    use crate::values::reporeg;
    let mut inputs = Inputs::default();
    let mut problems = Problems::default();
    let mut files = Vec::new();
    for p in &args.values {
        if p.as_os_str() != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            for (name, bytes) in read_manifest_sources(p, crate::ci::manifests::MAX_MANIFEST_BYTES)?
            {
                let docs =
                    crate::yaml::parse_documents(&name, &bytes, crate::yaml::MAX_VALUES_BYTES)?;
                match reporeg::from_documents(&name, &docs, false, &mut problems) {
                    Some(regs) => inputs.registrations.extend(regs),
                    None => inputs.warnings.push(crate::error::Problem::new(
                        name,
                        format!("holds no {} (`apiVersion: {}`): skipped; pass a values file with its own -f", reporeg::KIND, reporeg::API_VERSION),
                    )),
                }
            }
            continue;
        }
        files.push(p.clone());
    }
    let only_dirs = files.is_empty() && !args.values.is_empty();
    let values = if only_dirs {
        Vec::new()
    } else {
        read_values(&ValuesArgs {
            values: files,
            set: Vec::new(),
            set_string: Vec::new(),
        })?
    };
    for (name, bytes) in values {
        // A file of RepoRegistrations is a YAML stream of them; anything else is a values file
        // (its parse errors are the values reader's).
        let regs = crate::yaml::parse_documents(&name, &bytes, crate::yaml::MAX_VALUES_BYTES)
            .ok()
            .and_then(|docs| reporeg::from_documents(&name, &docs, true, &mut problems));
        match regs {
            Some(regs) => inputs.registrations.extend(regs),
            None => inputs.values.push((name, bytes)),
        }
    }
    problems.into_result()?;
    Ok(inputs)
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
        out.push((
            name,
            crate::fsio::read_input(p, crate::yaml::MAX_VALUES_BYTES)?,
        ));
    }
    Ok(out)
}

/// "Nothing to render" is an error, as for `post-render`: an empty output is almost always a values
/// file that was not passed, or a section name misspelt (warned about before).
fn nothing_to_render(
    sources: &[(String, Vec<u8>)],
    args: &ValuesArgs,
    merged: &crate::yaml::Node,
) -> Problems {
    let names: Vec<&str> = sources.iter().map(|(n, _)| n.as_str()).collect();
    let set = !args.set.is_empty() || !args.set_string.is_empty();
    crate::values::nothing_to_render(&names, set, merged)
}

fn render(args: RenderArgs) -> Result<u8> {
    let inputs = read_inputs(&args.values)?;
    let mut warnings = inputs.warnings;
    let sources = inputs.values;
    let merged = crate::values::merge_sources(&sources, &args.values.set, &args.values.set_string);
    let mut merged = match merged {
        Ok(m) => m,
        Err(e) => {
            print_warnings(&warnings);
            return Err(e.into());
        }
    };
    let origins = crate::values::reporeg::append(&mut merged, inputs.registrations);
    let strict = args.strict || crate::values::strict(&merged);
    // Under strict mode every warning is an error, reported with the other errors and instead
    // of any output (#11, class 8); otherwise warnings go to stderr before the result.
    let finish_warnings = |warnings: &[crate::error::Problem]| -> Result<()> {
        if strict {
            crate::values::strict_errors(warnings, strict_switch(args.strict))?;
        } else {
            print_warnings(warnings);
        }
        Ok(())
    };
    let options = crate::render::Options {
        release: crate::render::Release {
            name: args.release_name.clone(),
            namespace: None,
        },
        ..Default::default()
    };
    let to_files = args.output_dir.is_some() || args.check.is_some();
    if args.output == OutputFormat::Json && !to_files {
        let rendered = crate::render::render(&merged, &options).map_err(|p| {
            print_warnings(&warnings);
            origins.relabel(p)
        })?;
        warnings.extend(origins.relabel_warnings(rendered.warnings.clone()));
        finish_warnings(&warnings)?;
        if rendered.objects.is_empty() {
            return Err(nothing_to_render(&sources, &args.values, &merged).into());
        }
        return write_stdout([crate::render::to_json_list(&rendered).as_bytes()]);
    }
    let (docs, render_warnings) = crate::render::render_docs(&merged, &options).map_err(|p| {
        print_warnings(&warnings);
        origins.relabel(p)
    })?;
    warnings.extend(origins.relabel_warnings(render_warnings));
    finish_warnings(&warnings)?;
    if docs.is_empty() {
        return Err(nothing_to_render(&sources, &args.values, &merged).into());
    }
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

/// `policies`: the values' model, one least-privilege policy per credential.
fn policies(args: PoliciesArgs) -> Result<u8> {
    let inputs = read_inputs(&args.values)?;
    print_warnings(&inputs.warnings);
    let sources = inputs.values;
    let mut merged =
        crate::values::merge_sources(&sources, &args.values.set, &args.values.set_string)?;
    let origins = crate::values::reporeg::append(&mut merged, inputs.registrations);
    let (model, warnings) =
        crate::values::validate::validate(&merged).map_err(|p| origins.relabel(p))?;
    print_warnings(&origins.relabel_warnings(warnings));
    let format = match args.format {
        PolicyFormat::Aws => crate::ci::policies::Format::Aws,
        PolicyFormat::Minio => crate::ci::policies::Format::Minio,
    };
    let (policies, notes) = crate::ci::policies::policies(&model, format);
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
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    for p in &policies {
        let path = dir.join(format!("{}.json", p.name));
        std::fs::write(&path, crate::ci::policies::document_json(p))
            .with_context(|| format!("writing `{}`", path.display()))?;
    }
    eprintln!("wrote {} policies to `{}`", policies.len(), dir.display());
    Ok(EXIT_OK)
}

/// Reads the whole stream Helm sends, runs the post-renderer, and writes the result at once.
/// Errors and warnings also go to the log file when one is set, because Helm 4 never shows a
/// plugin's stderr; the record has no timestamps, so the same run appends the same lines.
fn post_render(args: PostRenderArgs) -> Result<u8> {
    post_render_input(args, read_stdin()?)
}

/// All of stdin.
fn read_stdin() -> Result<Vec<u8>> {
    // Helm's streams are megabytes: start big to skip most of the regrowing.
    let mut input = Vec::with_capacity(1 << 20);
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    Ok(input)
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
/// directory), with the environment Argo CD sets (`crate::deploy::argocd`).
fn argocd_generate(args: ArgocdGenerateArgs) -> Result<u8> {
    use crate::deploy::argocd;
    let var = |k: &str| std::env::var(k).ok();
    let env = argocd::Env {
        app_name: var("ARGOCD_APP_NAME"),
        app_namespace: var("ARGOCD_APP_NAMESPACE"),
        parameters: var("ARGOCD_APP_PARAMETERS"),
        kube_version: var("KUBE_VERSION"),
        kube_api_versions: var("KUBE_API_VERSIONS"),
    };
    let params = argocd::parameters(env.parameters.as_deref())?;
    let release = crate::render::Release {
        name: argocd::release_name(&env)?,
        namespace: env.app_namespace.clone().filter(|s| !s.is_empty()),
    };
    if Path::new("Chart.yaml").exists() {
        let helm_args = argocd::helm_template_args(&env, &params)?;
        let stream = helm_template(&args.helm, &helm_args)?;
        let output = crate::deploy::postrender::post_render(&stream)?;
        if output.strict {
            crate::values::strict_errors(&output.warnings, strict_switch(false))?;
        }
        print_warnings(&output.warnings);
        if output.generated == 0 {
            let mut p = Problems::default();
            p.push("Chart.yaml", format!("the chart renders no values carrier (`apiVersion: {}`, `kind: {}`), so artifact-repos would generate nothing; add the carrier template (charts/artifact-repos/templates/values-carrier.yaml)", crate::deploy::postrender::CARRIER_API_VERSION, crate::deploy::postrender::CARRIER_KIND));
            return Err(p.into());
        }
        return write_stdout(output.parts.iter().map(|p| p.as_ref()));
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
                format!("{} ({})", argocd::PARAM_VALUES_FILES, f.escape_debug()),
                format!("cannot read `{}` in the source directory `{cwd}`: {e:#}; set the plugin parameter `{}` to the values files of this directory (default `{}`)", f.escape_debug(), argocd::PARAM_VALUES_FILES, argocd::DEFAULT_VALUES_FILE),
            );
            p
        })?;
        values.push((f.clone(), bytes));
    }
    let mut problems = Problems::default();
    let mut registrations = Vec::new();
    let mut warnings = Vec::new();
    for (name, bytes) in
        read_manifest_sources(Path::new("."), crate::ci::manifests::MAX_MANIFEST_BYTES)?
    {
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
            None => warnings.push(crate::error::Problem::new(
                name,
                format!("is neither a values file named by the plugin parameter `{}` nor a RepoRegistration manifest: skipped", argocd::PARAM_VALUES_FILES),
            )),
        }
    }
    if let Err(p) = problems.into_result() {
        print_warnings(&warnings);
        return Err(p.into());
    }
    let mut merged = match crate::values::merge_sources(&values, &params.set, &[]) {
        Ok(m) => m,
        Err(p) => {
            print_warnings(&warnings);
            return Err(p.into());
        }
    };
    let origins = crate::values::reporeg::append(&mut merged, registrations);
    let options = crate::render::Options {
        release,
        ..Default::default()
    };
    let (docs, render_warnings) = crate::render::render_docs(&merged, &options).map_err(|p| {
        print_warnings(&warnings);
        origins.relabel(p)
    })?;
    warnings.extend(origins.relabel_warnings(render_warnings));
    if crate::values::strict(&merged) {
        crate::values::strict_errors(&warnings, strict_switch(false))?;
    }
    print_warnings(&warnings);
    if docs.is_empty() {
        let set = ValuesArgs {
            set: params.set.clone(),
            ..Default::default()
        };
        return Err(nothing_to_render(&values, &set, &merged).into());
    }
    write_stdout(docs.iter().flat_map(|d| [&b"---\n"[..], d.yaml.as_bytes()]))
}

/// Runs `helm template` in the working directory and returns its stdout; helm's failure is an
/// error carrying its stderr. Without a usable HOME (the sidecar's user may have none) helm's
/// cache, config and data directories go to a fresh directory under the temp dir.
fn helm_template(helm: &Path, args: &[String]) -> Result<Vec<u8>> {
    let mut cmd = std::process::Command::new(helm);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let home_ok = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .is_some_and(|h| {
            let probe = Path::new(&h).join(format!(".artifact-repos-probe-{}", std::process::id()));
            let ok = std::fs::write(&probe, b"").is_ok();
            let _ = std::fs::remove_file(&probe);
            ok
        });
    let scratch = (!home_ok)
        .then(|| std::env::temp_dir().join(format!("artifact-repos-helm-{}", std::process::id())));
    if let Some(dir) = &scratch {
        for (var, sub) in [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ] {
            if std::env::var_os(var).is_none() {
                cmd.env(var, dir.join(sub));
            }
        }
    }
    let result = cmd.output();
    if let Some(dir) = &scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let out = result.with_context(|| {
        format!(
            "running `{}` (set the helm binary with --helm or {HELM_ENV})",
            helm.display()
        )
    })?;
    if !out.status.success() {
        anyhow::bail!(
            "`{} {}` failed ({}): {}",
            helm.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(out.stdout)
}

fn post_render_input(args: PostRenderArgs, input: Vec<u8>) -> Result<u8> {
    // Under strict mode a run with warnings fails: its warnings are the errors, in the log file
    // too (#11, class 8: Helm drops a successful post-renderer's stderr).
    let result = crate::deploy::postrender::post_render(&input).and_then(|output| {
        if args.strict || output.strict {
            crate::values::strict_errors(&output.warnings, strict_switch(args.strict))?;
        }
        Ok(output)
    });
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
    write_stdout(output.parts.iter().map(|p| p.as_ref()))
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
pub fn read_manifest_sources(path: &Path, max: usize) -> Result<Vec<(String, Vec<u8>)>> {
    if path.as_os_str() == "-" {
        return Ok(vec![("<stdin>".to_string(), read_input(path, max)?)]);
    }
    let meta = std::fs::metadata(path).with_context(|| format!("reading `{}`", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![(path.display().to_string(), read_input(path, max)?)]);
    }
    let mut files = Vec::new();
    collect_yaml_files(path, &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|f| Ok((f.display().to_string(), read_input(&f, max)?)))
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

fn load_manifests(
    paths: &[&Path],
    input: crate::ci::input::InputArgs,
) -> Result<Vec<crate::ci::manifests::Manifest>> {
    let stdin_count = paths.iter().filter(|p| p.as_os_str() == "-").count();
    anyhow::ensure!(
        stdin_count <= 1,
        "`-` given more than once: stdin can be read only once"
    );
    let mut sources = Vec::new();
    for p in paths {
        sources.extend(read_manifest_sources(p, input.max_input)?);
    }
    Ok(crate::ci::manifests::load_bounded(
        &sources,
        input.max_input,
    )?)
}

fn diff(args: DiffArgs) -> Result<u8> {
    let old = load_manifests(&[&args.old], args.limits)?;
    let new = load_manifests(&[&args.new], args.limits)?;
    let outcome = crate::ci::diff::diff(&old, &new, use_color(args.color));
    write_stdout([outcome.text.as_bytes()])?;
    Ok(if outcome.drift() {
        EXIT_DIFFERENT
    } else {
        EXIT_OK
    })
}

fn check_options(
    controller_namespace: &str,
    argo_version: &str,
) -> Result<crate::ci::check::Options> {
    let argo_version = ArgoVersion::parse(argo_version).map_err(|e| {
        let mut p = Problems::default();
        p.push(
            "--argo-version",
            format!("`{}` {e}", argo_version.escape_debug()),
        );
        p
    })?;
    if !k8s::is_dns1123_label(controller_namespace) {
        let mut p = Problems::default();
        p.push(
            "--controller-namespace",
            format!("`{controller_namespace}` is not a valid namespace: lowercase letters, digits and `-`, at most 63 characters"),
        );
        return Err(p.into());
    }
    Ok(crate::ci::check::Options {
        controller_namespace: controller_namespace.to_string(),
        argo_version,
        assumed_templates: Vec::new(),
    })
}

fn check(args: CheckArgs) -> Result<u8> {
    let mut options = check_options(&args.controller_namespace, &args.argo_version)?;
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
    let manifests = load_manifests(&[&input], args.limits)?;
    let report = crate::ci::check::check(&manifests, &options);
    write_stdout([report.to_text().as_bytes()])?;
    Ok(if !report.failed() {
        EXIT_OK
    } else {
        EXIT_DIFFERENT
    })
}

fn explain(args: ExplainArgs) -> Result<u8> {
    let options = check_options(&args.controller_namespace, &args.argo_version)?;
    if let Some(ns) = &args.namespace
        && !k8s::is_dns1123_label(ns)
    {
        let mut p = Problems::default();
        p.push("--namespace", format!("`{ns}` is not a valid namespace: lowercase letters, digits and `-`, at most 63 characters"));
        return Err(p.into());
    }
    let workflows = load_manifests(&[&args.workflow], args.limits)?;
    let paths: Vec<&Path> = args.manifests.iter().map(PathBuf::as_path).collect();
    anyhow::ensure!(
        args.workflow.as_os_str() != "-" || !paths.iter().any(|p| p.as_os_str() == "-"),
        "`-` given more than once: stdin can be read only once"
    );
    let manifests = load_manifests(&paths, args.limits)?;
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
