//! Tests as data: every directory `fixtures/<command>/<case>/` holds a `cmd` file (the arguments,
//! one per line), optionally a `stdin` file and input files, and the expected `stdout`, `stderr`
//! and `code` of the real binary run with the case directory as its working directory. Set
//! `ARTIFACT_REPOS_BLESS=1` to rewrite the expected files through the same code that checks them,
//! then review with `git diff`. A case written for a regression names its issue first
//! (`fixtures/hostile/11-set-deep-path`).
//!
//! What a rewrite must not lose is checked beside the expected files:
//! - in every case, no planted credential (`PLANTED`) ever reaches stdout or stderr;
//! - an optional `checks` file, one check a line: `STREAM contains TEXT`, `STREAM lacks TEXT`,
//!   `STREAM no-line-starts TEXT` or `STREAM no-control` (no control character but the line
//!   break), STREAM being `stdout` or `stderr` (TEXT may use `\e`, `\n`, `\r`, `\t`, `\a`);
//! - the hostile corpus (`fixtures/hostile/`): exit 2, nothing on stdout, a message that names its
//!   place (`error: ...` then `  <place>: <problem>` lines), within 20 s of CPU time and 400 MiB
//!   peak RSS (GNU time's `%U`+`%S` and `%M`: the binary's own, not this process's, and not the
//!   machine's load), and within 120 s of wall time (a hang, which costs no CPU).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::bless;

/// Credential-looking strings planted in the corpus; none may reach stderr or stdout.
pub const PLANTED: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "-----BEGIN RSA PRIVATE KEY-----",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
];

/// The binary's own CPU time (user + system): its cost, whatever else the machine runs.
const MAX_CPU: Duration = Duration::from_secs(20);
/// Wall time: only a hang (a blocked read costs no CPU) comes near it.
const MAX_WALL: Duration = Duration::from_secs(120);
const MAX_RSS_KIB: i64 = 400 * 1024;
/// GNU time, for the child's own peak RSS and CPU time (`%M %U %S`).
const TIME: &str = "/usr/bin/time";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in std::fs::read_dir(fixtures()).expect("fixtures/ exists") {
        let group = group.unwrap().path();
        if !group.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&group).unwrap() {
            let case = case.unwrap().path();
            if case.join("cmd").is_file() {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i32,
    pub elapsed: Duration,
    pub cpu: Duration,
    pub peak_kib: i64,
}

/// Runs the binary with `args` in `cwd` (stdin from `stdin`, else none), without color or a log
/// file from the environment, under GNU time for its peak RSS.
pub fn run(args: &[String], cwd: &Path, stdin: Option<Vec<u8>>) -> Outcome {
    assert!(
        Path::new(TIME).is_file(),
        "{TIME} (GNU time) is needed to measure peak memory"
    );
    let rss = tempfile_path("rss");
    let mut cmd = Command::new(TIME);
    cmd.arg("-f")
        .arg("%M %U %S")
        .arg("-o")
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_artifact-repos"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ARTIFACT_REPOS_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let writer = child.stdin.take().map(|mut pipe| {
        let bytes = stdin.unwrap_or_default();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut stderr = Vec::new();
    let _ = err.read_to_end(&mut stderr);
    let status = child.wait().unwrap();
    let elapsed = start.elapsed();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let measured: Vec<f64> = std::fs::read_to_string(&rss)
        .ok()
        .and_then(|t| t.lines().last().map(str::to_string))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        measured.len(),
        3,
        "{TIME} wrote no peak RSS and CPU time for {args:?}"
    );
    let peak_kib = measured[0] as i64;
    let cpu = Duration::from_secs_f64(measured[1] + measured[2]);
    std::fs::remove_file(&rss).ok();
    Outcome {
        stdout: reader.join().unwrap(),
        stderr,
        code: status.code().unwrap_or(-1),
        elapsed,
        cpu,
        peak_kib,
    }
}

fn tempfile_path(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "artifact-repos-golden-{}-{}.{what}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn run_case(case: &Path) -> Outcome {
    let cmd = std::fs::read_to_string(case.join("cmd")).unwrap();
    let args: Vec<String> = cmd
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    run(&args, case, std::fs::read(case.join("stdin")).ok())
}

/// Compares the outcome with the case's expected `stdout`, `stderr` and `code` (or rewrites them
/// when blessing), then checks what a rewrite must not lose; the failures.
pub fn check(case: &Path, got: &Outcome) -> Vec<String> {
    let mut failures = Vec::new();
    let files: [(&str, Vec<u8>); 3] = [
        ("stdout", got.stdout.clone()),
        ("stderr", got.stderr.clone()),
        ("code", format!("{}\n", got.code).into_bytes()),
    ];
    for (name, actual) in files {
        let path = case.join(name);
        if bless() {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read(&path).unwrap_or_default();
        if expected != actual {
            let diff = similar::TextDiff::from_lines(
                String::from_utf8_lossy(&expected).into_owned(),
                String::from_utf8_lossy(&actual).into_owned(),
            )
            .unified_diff()
            .header("expected", "actual")
            .to_string();
            failures.push(format!("{}/{name} differs:\n{diff}", case.display()));
        }
    }
    let stdout = String::from_utf8_lossy(&got.stdout);
    let stderr = String::from_utf8_lossy(&got.stderr);
    let mut fail = |what: String| failures.push(format!("{}: {what}", case.display()));
    for secret in PLANTED {
        if stdout.contains(secret) || stderr.contains(secret) {
            fail(format!("echoes the planted credential `{secret}`"));
        }
    }
    if let Ok(checks) = std::fs::read_to_string(case.join("checks")) {
        for line in checks.lines().filter(|l| !l.trim().is_empty()) {
            let (stream, rest) = line.split_once(' ').unwrap_or((line, ""));
            let text = match stream {
                "stdout" => &stdout,
                "stderr" => &stderr,
                _ => panic!("{}/checks: unknown stream in `{line}`", case.display()),
            };
            let (op, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            let arg = unescape(arg);
            let ok = match op {
                "contains" => text.contains(&arg),
                "lacks" => !text.contains(&arg),
                "no-line-starts" => !text.lines().any(|l| l.starts_with(&arg)),
                "no-control" => !text.chars().any(|c| c.is_control() && c != '\n'),
                _ => panic!("{}/checks: unknown check in `{line}`", case.display()),
            };
            if !ok {
                fail(format!("check `{line}` fails on:\n{text}"));
            }
        }
    }
    if case.parent().and_then(Path::file_name) == Some("hostile".as_ref()) {
        if got.code != 2 {
            fail(format!("exit code {}, expected 2", got.code));
        }
        if !got.stdout.is_empty() {
            fail(format!("{} bytes on stdout", got.stdout.len()));
        }
        if got.cpu > MAX_CPU {
            fail(format!("took {:?} of CPU time", got.cpu));
        }
        if got.elapsed > MAX_WALL {
            fail(format!("took {:?}", got.elapsed));
        }
        if got.peak_kib > MAX_RSS_KIB {
            fail(format!("peak RSS {} MiB", got.peak_kib / 1024));
        }
        let lines: Vec<&str> = stderr.lines().collect();
        let placed = lines.first().is_some_and(|l| l.starts_with("error: "))
            && (lines.len() == 1 && lines[0].matches(": ").count() >= 2
                || lines[1..]
                    .iter()
                    .all(|l| l.starts_with("  ") && l.contains(": ")));
        if !placed {
            fail(format!("the message does not name a place:\n{stderr}"));
        }
    }
    failures
}

/// `\e`, `\n`, `\r`, `\t`, `\a` and `\\` in a check's text.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('e') => out.push('\u{1b}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\u{7}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[test]
fn golden_cases() {
    let mut failures = Vec::new();
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases found under fixtures/");
    for case in &cases {
        let got = run_case(case);
        failures.extend(check(case, &got));
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (rerun with ARTIFACT_REPOS_BLESS=1 and review with git diff):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn checks_are_read_as_written() {
    assert_eq!(unescape(r"a\e[2J\n\\x\a"), "a\u{1b}[2J\n\\x\u{7}");
}

/// Issue #12: the values form and the RepoRegistration folder of examples/repo-registrations, and
/// the same objects in Helm's stream, render the same objects.
#[test]
fn repo_registration_forms_render_the_same_objects() {
    let root = fixtures();
    let values = std::fs::read(root.join("render/repo-registrations-values/stdout")).unwrap();
    let folder = std::fs::read(root.join("render/repo-registrations-folder/stdout")).unwrap();
    assert!(values == folder, "values and folder forms differ");
    // post-render: every generated document (release `rel` instead of `artifact-repos`, Helm 3's
    // `# Source:` line, `managed-by: Helm` as Helm leaves it) is one of render's.
    let stream = String::from_utf8(
        std::fs::read(root.join("postrender/repo-registrations/stdout")).unwrap(),
    )
    .unwrap();
    let values = String::from_utf8(values).unwrap();
    let generated = stream
        .split("---\n")
        .filter(|d| d.contains("app.kubernetes.io/managed-by: Helm"))
        .map(|d| {
            d.lines()
                .filter(|l| !l.starts_with("# Source:"))
                .map(|l| {
                    l.replace("instance: rel", "instance: artifact-repos")
                        .replace("managed-by: Helm", "managed-by: artifact-repos")
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>();
    let rendered: Vec<String> = values
        .split("---\n")
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end().to_string())
        .collect();
    assert_eq!(generated.len(), rendered.len());
    for g in &generated {
        assert!(rendered.contains(g), "not rendered:\n{g}");
    }
}
