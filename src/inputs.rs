//! The reading edge: what the command line (or an Argo CD source directory) names, read into what
//! the library takes. `-f` files and directories become `pipeline::Sources` (values files in merge
//! order; files and folders of RepoRegistration objects); manifest inputs of the CI commands become
//! (name, bytes) sources for `ci::manifests`. Every byte comes through `fsio` (regular files only,
//! bounded); nothing here interprets values beyond telling a RepoRegistration file from a values
//! file.

use crate::error::Problems;
use crate::pipeline::{Sources, Values};
use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Reads a manifest file, or stdin for `-`: a regular file (FIFOs, devices and sockets are
/// refused without waiting on them), at most `max` bytes (`ci::input::read`, whose error names
/// `--max-input`).
pub fn read_input(path: &Path, max: usize) -> Result<Vec<u8>> {
    crate::ci::input::read(path, max)
}

/// What the command line names as values (`render`, `policies`): the library's options type is the
/// CLI's, so nothing maps one onto the other.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ValuesArgs {
    /// Values file (repeatable; later files win; `-` reads stdin), or a directory of RepoRegistration files
    #[arg(short = 'f', long = "values", value_name = "VALUES")]
    pub values: Vec<PathBuf>,
    /// Set a value on top of the files, as Helm does: `repoRegistrations[0].tenant=team-a`
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Set a string value, never converted to a number or boolean
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    pub set_string: Vec<String>,
    /// Read the values under this top-level key: an umbrella chart's values file, where this
    /// chart's values live under its name (`--values-key artifact-repos`)
    #[arg(long = "values-key", value_name = "KEY")]
    pub values_key: Option<String>,
    /// Use the bundled example (the seed document's registrations) as the values
    #[arg(long, conflicts_with = "values")]
    pub example: bool,
}

/// Reads every `-f` into the pipeline's sources: a directory is searched for RepoRegistration
/// objects (other files are skipped with a warning); a file holding RepoRegistrations gives them;
/// any other file is values, merged in order, with `set` and `set_string` applied on top. No `-f`
/// is an error (in CI a forgotten `-f` must not look like success, #21); `--example` names the
/// bundled example.
pub fn values_sources(args: &ValuesArgs) -> Result<Sources> {
    use crate::values::reporeg;
    let ValuesArgs {
        values: paths,
        set,
        set_string,
        values_key,
        example,
    } = args;
    if *example {
        return Ok(Sources {
            values: Values::Files {
                files: vec![(
                    crate::values::EXAMPLE_NAME.to_string(),
                    crate::values::EXAMPLE.as_bytes().to_vec(),
                )],
                set: set.clone(),
                set_string: set_string.clone(),
            },
            values_key: values_key.clone(),
            ..Default::default()
        });
    }
    if paths.is_empty() {
        let mut p = Problems::default();
        p.push(
            "-f",
            "no values given: pass the values file with `-f VALUES` (repeatable; `-f -` reads stdin; a directory of RepoRegistration files works too), or `--example` for the bundled example",
        );
        return Err(p.into());
    }
    let mut registrations = Vec::new();
    let mut warnings = Vec::new();
    let mut values_files = Vec::new();
    let mut problems = Problems::default();
    let mut files = Vec::new();
    for p in paths {
        if p.as_os_str() != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            if p.join("Chart.yaml").is_file() {
                let mut problems = Problems::default();
                problems.push(
                    format!("-f {}", crate::fsio::show(p)),
                    "is a Helm chart, not values: render it with `helm template` and `--post-renderer artifact-repos`, or pass its values file (`-f CHART/values.yaml`)",
                );
                return Err(problems.into());
            }
            for (name, bytes) in read_manifest_sources(p, crate::ci::manifests::MAX_MANIFEST_BYTES)?
            {
                let docs =
                    crate::yaml::parse_documents(&name, &bytes, crate::yaml::MAX_VALUES_BYTES)?;
                match reporeg::from_documents(&name, &docs, false, &mut problems) {
                    Some(regs) => registrations.extend(regs),
                    None => warnings.push(crate::error::Problem::new(
                        name,
                        format!("holds no {} (`apiVersion: {}`): skipped; pass a values file with its own -f", reporeg::KIND, reporeg::API_VERSION),
                    )),
                }
            }
            continue;
        }
        files.push(p.clone());
    }
    let only_dirs = files.is_empty() && !paths.is_empty();
    let values = if only_dirs {
        Vec::new()
    } else {
        read_values(&files)?
    };
    for (name, bytes) in values {
        // A file of RepoRegistrations is a YAML stream of them; anything else is a values file
        // (its parse errors are the values reader's).
        let regs = crate::yaml::parse_documents(&name, &bytes, crate::yaml::MAX_VALUES_BYTES)
            .ok()
            .and_then(|docs| reporeg::from_documents(&name, &docs, true, &mut problems));
        match regs {
            Some(regs) => registrations.extend(regs),
            None => values_files.push((name, bytes)),
        }
    }
    problems.into_result()?;
    Ok(Sources {
        values: Values::Files {
            files: values_files,
            set: set.clone(),
            set_string: set_string.clone(),
        },
        values_key: values_key.clone(),
        registrations,
        warnings,
    })
}

/// The values sources of a command line, in merge order, as (name, bytes).
fn read_values(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut stdin_used = false;
    let mut out = Vec::new();
    for p in paths {
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

/// The largest stream read from stdin by the post-renderer, the Helm 4 plugin and the KRM
/// function (kustomize hands over a whole build): `krm::MAX_INPUT_BYTES`.
pub const MAX_STDIN_BYTES: usize = crate::deploy::krm::MAX_INPUT_BYTES;

/// Stdin, at most `max` bytes: the read stops one byte past the limit, so an endless or huge
/// stream is refused (exit 2) without being held in memory first (#20).
pub fn read_stdin(max: usize) -> Result<Vec<u8>> {
    read_stdin_from(std::io::stdin().lock(), max)
}

fn read_stdin_from(r: impl Read, max: usize) -> Result<Vec<u8>> {
    // Helm's streams are megabytes: start big to skip most of the regrowing.
    let mut input = Vec::with_capacity((1 << 20).min(max + 1));
    r.take(max as u64 + 1)
        .read_to_end(&mut input)
        .context("reading stdin")?;
    if input.len() > max {
        let mut p = Problems::default();
        p.push(
            "<stdin>",
            format!("input is more than the limit of {max} bytes; split it or check that the right stream was given"),
        );
        return Err(p.into());
    }
    Ok(input)
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

pub fn load_manifests(
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

#[cfg(test)]
mod tests {
    #[test]
    fn stdin_is_bounded_before_it_is_read_whole() {
        // An endless stream: the read stops one byte past the limit.
        let endless = std::io::repeat(b'a');
        let err = super::read_stdin_from(endless, 1000).unwrap_err();
        assert!(
            format!("{err:#}").contains("more than the limit of 1000 bytes"),
            "{err:#}"
        );
        assert_eq!(super::read_stdin_from(&b"12345"[..], 5).unwrap(), b"12345");
    }
}
