//! The helm subprocess of `argocd-generate` for chart sources: `helm template` in the source
//! directory, with a scratch HOME for helm when the sidecar's user has none. The only place that
//! runs another program.

use anyhow::{Context, Result};
use std::path::Path;

/// The environment variable naming the helm binary `argocd-generate` runs for chart sources.
pub const HELM_ENV: &str = "ARTIFACT_REPOS_HELM";

/// Runs `helm template` in the working directory and returns its stdout; helm's failure is an
/// error carrying its stderr. Without a usable HOME (the sidecar's user may have none) helm's
/// cache, config and data directories go to a fresh directory under the temp dir.
pub fn template(helm: &Path, args: &[String]) -> Result<Vec<u8>> {
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
            "`{} {}` failed ({}): {}",
            helm.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(out.stdout)
}
