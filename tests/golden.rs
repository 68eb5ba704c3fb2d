//! Golden cases: every directory `fixtures/<command>/<case>/` is one run of the real binary.
//!
//! A case holds its input files, `cmd` (the arguments, one per line; lines starting with `#` are
//! comments), optionally `stdin` (piped to the binary; otherwise stdin is empty) and the expected
//! `stdout`, `stderr` and `code` (the exit code). The binary runs in a scratch copy of the case
//! directory, so relative paths in `cmd` and in messages are stable and a case may write files.
//!
//! `ARTIFACT_REPOS_BLESS=1 cargo test --test golden` rewrites the expected files from the actual
//! output; review the result with `git diff`. The variable accepts only `0` or `1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const EXPECTED: [&str; 3] = ["stdout", "stderr", "code"];

fn bless() -> bool {
    match std::env::var("ARTIFACT_REPOS_BLESS") {
        Err(std::env::VarError::NotPresent) => false,
        Ok(v) if v == "0" => false,
        Ok(v) if v == "1" => true,
        Ok(v) => panic!("ARTIFACT_REPOS_BLESS must be unset, `0` or `1`, got `{v}`"),
        Err(e) => panic!("ARTIFACT_REPOS_BLESS is not valid: {e}"),
    }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for cmd in std::fs::read_dir(&root).expect("fixtures/ exists") {
        let cmd = cmd.unwrap().path();
        if !cmd.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&cmd).unwrap() {
            let case = case.unwrap().path();
            if case.join("cmd").is_file() {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

fn copy_inputs(from: &Path, to: &Path, top: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        if top && (EXPECTED.contains(&name_s.as_ref()) || name_s == "cmd" || name_s == "stdin") {
            continue;
        }
        let src = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_inputs(&src, &to.join(&name), false);
        } else {
            std::fs::copy(&src, to.join(&name)).unwrap();
        }
    }
}

struct Outcome {
    stdout: String,
    stderr: String,
    code: String,
}

fn run(case: &Path, scratch: &Path) -> Outcome {
    let cmd = std::fs::read_to_string(case.join("cmd")).unwrap();
    let args: Vec<&str> = cmd
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let _ = std::fs::remove_dir_all(scratch);
    copy_inputs(case, scratch, true);
    let stdin = std::fs::read(case.join("stdin")).ok();
    let mut child = Command::new(env!("CARGO_BIN_EXE_artifact-repos"))
        .args(&args)
        .current_dir(scratch)
        .env_remove("ARTIFACT_REPOS_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = &stdin {
            pipe.write_all(bytes).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(scratch);
    Outcome {
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        code: format!("{}\n", out.status.code().expect("exited, not killed")),
    }
}

#[test]
fn golden() {
    let bless = bless();
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases under fixtures/");
    let scratch_root = std::env::temp_dir().join(format!("artifact-repos-golden-{}", std::process::id()));
    let mut failures = Vec::new();
    for case in &cases {
        let rel = case.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display().to_string();
        let scratch = scratch_root.join(rel.replace('/', "_"));
        let got = run(case, &scratch);
        for (name, actual) in [("stdout", &got.stdout), ("stderr", &got.stderr), ("code", &got.code)] {
            let path = case.join(name);
            if bless {
                std::fs::write(&path, actual).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(expected) if &expected == actual => {}
                Ok(expected) => failures.push(format!(
                    "{rel}/{name} differs\n--- expected\n{expected}\n--- actual\n{actual}"
                )),
                Err(_) => failures.push(format!(
                    "{rel}/{name} is missing (run with ARTIFACT_REPOS_BLESS=1 to create it)\n--- actual\n{actual}"
                )),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch_root);
    assert!(
        failures.is_empty(),
        "{} of {} golden cases differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
