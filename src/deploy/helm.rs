//! The helm subprocess of `argocd-generate` for chart sources: `helm template` (and `helm
//! dependency build` for an umbrella chart) in the source directory, with a scratch HOME for helm
//! when the sidecar's user has none. The only place that runs another program. What it prints of
//! helm's command line and of helm's stderr is screened by the credential detector (#20: `--set`
//! values and Helm's schema errors were relayed verbatim).

use anyhow::{Context, Result};
use std::path::Path;

/// The environment variable naming the helm binary `argocd-generate` runs for chart sources.
pub const HELM_ENV: &str = "ARTIFACT_REPOS_HELM";

/// Runs `helm template` in the working directory and returns its stdout (`run`).
pub fn template(helm: &Path, args: &[String]) -> Result<Vec<u8>> {
    run(helm, args)
}

/// What a message may show of text from helm or from the Application: each word that looks like
/// a credential (`rules::credential::looks_like_credential`) withheld, and a line that still
/// does withheld whole.
pub fn screen(text: &str) -> String {
    use crate::rules::credential::looks_like_credential;
    const HIDDEN: &str = "(value hidden: looks like a credential)";
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !looks_like_credential(line) {
            out.push_str(line);
            continue;
        }
        let words: Vec<&str> = line
            .split(' ')
            .map(|w| if looks_like_credential(w) { HIDDEN } else { w })
            .collect();
        let line = words.join(" ");
        if looks_like_credential(&line) {
            out.push_str("(line hidden: it looks like it holds a credential)");
        } else {
            out.push_str(&line);
        }
    }
    out
}

/// A command line for messages: each `--set` value and each argument screened (`screen`).
pub fn shown_command(helm: &Path, args: &[String]) -> String {
    let mut out = vec![screen(&helm.display().to_string())];
    let mut after_set = false;
    for a in args {
        let shown = match a.split_once('=') {
            Some((k, v)) if after_set => format!("{}={}", screen(k), screen(v)),
            _ => screen(a),
        };
        after_set = matches!(
            a.as_str(),
            "--set" | "--set-string" | "--set-json" | "--set-file"
        );
        out.push(shown);
    }
    out.join(" ")
}

/// Runs helm with `args` in the working directory and returns its stdout; helm's failure is an
/// error carrying its stderr, both screened (`shown_command`, `screen`). Without a usable HOME
/// (the sidecar's user may have none) helm's cache, config and data directories go to a fresh
/// directory under the temp dir.
pub fn run(helm: &Path, args: &[String]) -> Result<Vec<u8>> {
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
            "running `{}` (set the helm binary with --helm or {})",
            helm.display(),
            HELM_ENV
        )
    })?;
    if !out.status.success() {
        anyhow::bail!(
            "`{}` failed ({}): {}",
            shown_command(helm, args),
            out.status,
            screen(String::from_utf8_lossy(&out.stderr).trim_end())
        );
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_screened_from_command_lines_and_helm_errors() {
        let key = "AKIAIOSFODNN7EXAMPLE";
        let args: Vec<String> = [
            "template",
            "r",
            ".",
            "--set",
            &format!("s3.accessKey={key}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let shown = shown_command(Path::new("helm"), &args);
        assert!(!shown.contains(key), "{shown}");
        assert!(
            shown.starts_with("helm template r . --set s3.accessKey=(value hidden"),
            "{shown}"
        );
        let err = format!(
            "Error: values don't meet the specifications of the schema(s):\n- at '/s3/endpoint': got '{key}'\nplain line"
        );
        let screened = screen(&err);
        assert!(!screened.contains(key), "{screened}");
        assert!(screened.ends_with("\nplain line"), "{screened}");
        assert!(
            screened.starts_with("Error: values don't meet"),
            "{screened}"
        );
    }
}
