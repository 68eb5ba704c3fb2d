//! Shared by the test binaries that check streams with the independent validator
//! (`tests/tools/validate_stream.py`, installed with its pinned tools by `scripts/test`). A missing
//! tool fails the test; it never skips.
#![allow(dead_code)]

pub mod values_gen;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `ARTIFACT_REPOS_BLESS`, parsed strictly: unset, empty or `0` compares, `1` rewrites the
/// expected files; anything else is a mistake and fails the test rather than guessing.
pub fn bless() -> bool {
    parse_bless(std::env::var("ARTIFACT_REPOS_BLESS").ok().as_deref())
}

pub fn parse_bless(value: Option<&str>) -> bool {
    match value {
        None | Some("") | Some("0") => false,
        Some("1") => true,
        Some(other) => panic!("ARTIFACT_REPOS_BLESS must be unset, `0` or `1`, not `{other}`"),
    }
}

#[test]
fn bless_is_parsed_strictly() {
    assert!(!parse_bless(None) && !parse_bless(Some("")) && !parse_bless(Some("0")));
    assert!(parse_bless(Some("1")));
    for bad in ["true", "yes", "2", " 1"] {
        assert!(
            std::panic::catch_unwind(|| parse_bless(Some(bad))).is_err(),
            "{bad}"
        );
    }
}

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

/// The upstream schemas and Helm streams the suite reads, copied into the repository
/// (`fixtures/upstream/PROVENANCE.md`).
pub fn upstream() -> PathBuf {
    root().join("fixtures/upstream")
}

/// Runs the validator on a stream; returns its JSON report and exit code.
pub fn validate(stream: &Path, extra: &[String]) -> (serde_json::Value, i32) {
    let out = Command::new(python())
        .arg(root().join("tests/tools/validate_stream.py"))
        .args(extra)
        .arg(stream)
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

/// Runs the real binary with `args` in `cwd`, feeding `stdin` when given (none otherwise), without
/// color or a log file from the environment.
pub fn run(args: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_artifact-repos"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ARTIFACT_REPOS_LOG")
        .env_remove("ARTIFACT_REPOS_MAX_INPUT")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        let bytes = bytes.to_vec();
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&bytes);
        });
    }
    child.wait_with_output().unwrap()
}
