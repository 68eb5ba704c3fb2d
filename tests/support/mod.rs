//! Shared by the test binaries that check streams with the independent validator
//! (`tests/tools/validate_stream.py`, installed with its pinned tools by `scripts/test`). A missing
//! tool fails the test; it never skips.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    let venv = root().join(".tools/venv/bin/python");
    assert!(
        venv.is_file(),
        "{} is missing: run scripts/test (it installs the pinned validators)",
        venv.display()
    );
    venv
}

pub fn shared() -> PathBuf {
    let dir = std::env::var_os("ARTIFACT_REPOS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    assert!(
        dir.join("schemas").is_dir(),
        "{}/schemas is missing: put shared/ beside the repository or set ARTIFACT_REPOS_SHARED",
        dir.display()
    );
    dir
}

/// Runs the validator on a stream; returns its JSON report and exit code.
pub fn validate(stream: &Path, extra: &[String]) -> (serde_json::Value, i32) {
    let out = Command::new(python())
        .arg(root().join("tests/tools/validate_stream.py"))
        .args(extra)
        .arg(stream)
        .env("ARTIFACT_REPOS_SHARED", shared())
        .output()
        .expect("the validator runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validator printed no JSON report for {} ({e}): {}",
            stream.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.code().unwrap_or(-1))
}

/// Writes `stream` to a temporary file and validates it.
pub fn validate_text(stream: &str, extra: &[String]) -> (serde_json::Value, i32) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "artifact-repos-stream-{}-{}.yaml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, stream).unwrap();
    let result = validate(&file, extra);
    std::fs::remove_file(&file).ok();
    result
}
