//! The README runs as written. Every fenced ```sh / ```bash block of README.md is executed, in order,
//! by bash (`set -eo pipefail`), in one temporary copy of the repository (the files git tracks, made a
//! git repository with one commit), with `artifact-repos` (this build), `helm` and the pinned tools
//! (`.tools/bin`, installed by scripts/install-tools) on PATH and a temporary HOME, so state flows from
//! one block to the next as it does for a reader following along. Where the README shows output (the
//! next fenced block whose info string ends in ` output`, before any other command block), the real
//! output must equal it byte for byte.
//!
//! A block may be preceded by one comment `<!-- readme-test: KEY=VALUE ... -->` (on the line just above
//! the fence). Keys:
//! - `helm=3|4`: which Helm `helm` is for that block (default 4);
//! - `exit=N`: the exit status the block must end with (default 0);
//! - `output=stderr`: compare the shown output with stderr instead of stdout;
//! - `env="NAME=VALUE"`: an environment variable the block's text documents (e.g. the base branch of a
//!   CI job, which a copy with no remote does not have);
//! - `cluster`: the block needs a Kubernetes API server; here it is only parsed (`bash -n`); scripts/e2e
//!   runs these blocks verbatim against a real one (scenario `readme-cluster-blocks` in e2e/run.py)
//!   (`ARTIFACT_REPOS_README_CLUSTER=1` runs them here too, given a KUBECONFIG);
//! - `omit="LINE"`: that exact line is not run here, with the reason in `because="..."` (the suite's
//!   own commands: one would run this test again, scripts/e2e is a step of scripts/test).
//!
//! `ARTIFACT_REPOS_BLESS=1` rewrites the shown outputs with the real ones (review with `git diff`).
//!
//! `cargo` in a block builds into `target/readme/` of this repository, so `cargo run --release` costs
//! one release build per machine, not one per run. Not into `target/` itself: cargo does not tell two
//! copies of one package at different paths apart, and would take the copy's build (which embeds the
//! copy's paths) for this checkout's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Default)]
struct Directives {
    helm: Option<String>,
    exit: i32,
    stderr: bool,
    cluster: bool,
    omit: Vec<String>,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    body: String,
    directives: Directives,
    /// The output shown after the block, the line of its fence, and the 0-based range of its lines.
    expected: Option<(String, usize, std::ops::Range<usize>)>,
}

/// Splits `KEY=VALUE` / `KEY="VALUE WITH SPACES"` / `FLAG` words.
fn words(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut chars = text.trim().chars().peekable();
    while chars.peek().is_some() {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == ' ' || c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = None;
        if chars.peek() == Some(&'=') {
            chars.next();
            let mut v = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    v.push(c);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ' ' {
                        break;
                    }
                    v.push(c);
                    chars.next();
                }
            }
            value = Some(v);
        }
        out.push((key, value));
    }
    out
}

fn parse_directives(comment: &str, line: usize) -> Directives {
    let mut d = Directives::default();
    let mut because = false;
    for (key, value) in words(comment) {
        match (key.as_str(), value) {
            ("helm", Some(v)) if v == "3" || v == "4" => d.helm = Some(v),
            ("exit", Some(v)) => d.exit = v.parse().expect("exit=N takes a number"),
            ("output", Some(v)) if v == "stderr" => d.stderr = true,
            ("cluster", None) => d.cluster = true,
            ("omit", Some(v)) => d.omit.push(v),
            ("env", Some(v)) => {
                let (k, v) = v.split_once('=').expect("env=\"NAME=VALUE\"");
                d.env.push((k.into(), v.into()));
            }
            ("because", Some(_)) => because = true,
            (k, v) => panic!("README.md:{line}: unknown readme-test directive `{k}` = {v:?}"),
        }
    }
    assert!(
        d.omit.is_empty() || because,
        "README.md:{line}: omit= needs because=\"...\""
    );
    d
}

fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out: Vec<Block> = Vec::new();
    let mut i = 0;
    // Whether the last command block may still take an output block.
    let mut open = false;
    while i < lines.len() {
        let Some(info) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i;
        let info = info.trim().to_string();
        let mut body = String::new();
        i += 1;
        let body_start = i;
        while i < lines.len() && lines[i] != "```" {
            body.push_str(lines[i]);
            body.push('\n');
            i += 1;
        }
        assert!(
            i < lines.len(),
            "README.md:{}: unclosed code fence",
            start + 1
        );
        i += 1;
        let lang = info.split_whitespace().next().unwrap_or("");
        if lang == "sh" || lang == "bash" {
            let comment = start
                .checked_sub(1)
                .and_then(|p| lines[p].trim().strip_prefix("<!-- readme-test:"))
                .and_then(|c| c.strip_suffix("-->"));
            let directives = comment
                .map(|c| parse_directives(c, start))
                .unwrap_or_default();
            out.push(Block {
                line: start + 1,
                body,
                directives,
                expected: None,
            });
            open = true;
        } else if info.ends_with(" output") {
            assert!(
                open,
                "README.md:{}: an output block without a command block before it",
                start + 1
            );
            out.last_mut().unwrap().expected = Some((body, start + 1, body_start..i - 1));
            open = false;
        }
    }
    out
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the files git tracks, as a git repository of its own with one commit.
fn copy_of_repository(dest: &Path) {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "git ls-files failed");
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).unwrap();
        let from = root().join(name);
        if !from.exists() {
            continue; // deleted in the work tree
        }
        let to = dest.join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dest)
            .env("GIT_AUTHOR_NAME", "readme")
            .env("GIT_AUTHOR_EMAIL", "readme@example.invalid")
            .env("GIT_COMMITTER_NAME", "readme")
            .env("GIT_COMMITTER_EMAIL", "readme@example.invalid")
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?} failed in the copy");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "a copy of the repository"]);
}

fn bin_dir(tmp: &Path, helm: &str) -> PathBuf {
    let bin = tmp.join(format!("bin-helm{helm}"));
    std::fs::create_dir_all(&bin).unwrap();
    let link = |name: &str, target: &Path| {
        let path = bin.join(name);
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, path).unwrap();
    };
    link(
        "artifact-repos",
        Path::new(env!("CARGO_BIN_EXE_artifact-repos")),
    );
    let helm_bin = root().join(format!(".tools/bin/helm{helm}"));
    assert!(
        helm_bin.is_file(),
        "{} is missing: run scripts/install-tools (scripts/test does)",
        helm_bin.display()
    );
    link("helm", &helm_bin);
    bin
}

#[test]
fn every_readme_command_block_runs_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(
        blocks.len() >= 10,
        "expected the README's command blocks, found {}",
        blocks.len()
    );
    // A block that runs the suite would run this test again, and again: refuse to recurse.
    assert!(
        std::env::var_os("ARTIFACT_REPOS_README_BLOCK").is_none(),
        "the README test is running inside a README block: a block runs the suite (see omit=)"
    );
    let cluster_run = std::env::var_os("ARTIFACT_REPOS_README_CLUSTER").is_some();
    let bless = crate::support::bless();
    let mut blessed: Vec<(std::ops::Range<usize>, String)> = Vec::new();

    let tmp = std::env::temp_dir().join(format!("artifact-repos-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let work = tmp.join("repo");
    let home = tmp.join("home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    copy_of_repository(&work);
    let path = std::env::var("PATH").unwrap_or_default();

    let mut failures = String::new();
    let mut ran = 0;
    for block in &blocks {
        let d = &block.directives;
        let mut script = String::from("set -eo pipefail\n");
        for line in block.body.lines() {
            let command = line.split(" #").next().unwrap_or("").trim();
            if d.omit.iter().any(|o| o == command) {
                continue;
            }
            script.push_str(line);
            script.push('\n');
        }
        let bin = bin_dir(&tmp, d.helm.as_deref().unwrap_or("4"));
        let mut cmd = Command::new("bash");
        if d.cluster && !cluster_run {
            cmd.arg("-n");
        }
        cmd.arg("-c")
            .arg(&script)
            .current_dir(&work)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}:{path}",
                    bin.display(),
                    root().join(".tools/bin").display()
                ),
            )
            .env("HOME", &home)
            .env("CARGO_TARGET_DIR", root().join("target/readme"))
            .env("NO_COLOR", "1")
            .env("ARTIFACT_REPOS_README_BLOCK", block.line.to_string())
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        cmd.envs(d.env.iter().map(|(k, v)| (k, v)));
        for var in ["RUSTUP_HOME", "CARGO_HOME", "KUBECONFIG", "TMPDIR"] {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        let out = cmd.output().expect("bash runs");
        ran += 1;
        let code = out.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want_exit = if d.cluster && !cluster_run { 0 } else { d.exit };
        if code != want_exit {
            let _ = writeln!(
                failures,
                "README.md:{}: exited {code}, expected {want_exit}\n--- block\n{}--- stdout\n{stdout}--- stderr\n{stderr}",
                block.line, block.body
            );
            continue;
        }
        if let (Some((want, at, range)), false) = (&block.expected, d.cluster && !cluster_run) {
            let got = if d.stderr { &stderr } else { &stdout };
            if bless {
                blessed.push((range.clone(), got.to_string()));
            } else if got.as_ref() != want {
                let diff = similar::TextDiff::from_lines(want.as_str(), got.as_ref())
                    .unified_diff()
                    .header(&format!("README.md:{at}"), "real output")
                    .to_string();
                let _ = writeln!(
                    failures,
                    "README.md:{}: the output shown at line {at} is not what the block prints:\n{diff}",
                    block.line
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if bless && failures.is_empty() {
        // Rewrite the shown outputs through the same run that checks them; review with `git diff`.
        let mut lines: Vec<String> = readme.lines().map(str::to_string).collect();
        for (range, text) in blessed.into_iter().rev() {
            lines.splice(range, text.lines().map(str::to_string));
        }
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(root().join("README.md"), text).unwrap();
    }
    assert!(failures.is_empty(), "{failures}");
    assert_eq!(ran, blocks.len());
}

#[test]
fn the_first_screen_holds_exactly_the_two_setup_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let first = blocks(&readme).into_iter().next().expect("a first block");
    assert!(
        first.line < 20,
        "the first command block is at line {}",
        first.line
    );
    let commands: Vec<&str> = first
        .body
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(commands, ["cargo run --release -- render", "scripts/test"]);
}

#[test]
fn the_command_summary_names_every_option_of_every_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let at = readme
        .find("## Commands and exit codes")
        .expect("a Commands section");
    let summary = &readme[at..];
    let summary = &summary[summary.find("```text\n").unwrap()..];
    let summary = &summary[..summary[8..].find("```").unwrap() + 8];
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_artifact-repos"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' ')) // a wrapped description
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    assert!(commands.len() >= 9, "{commands:?}");
    let mut missing = Vec::new();
    for c in &commands {
        assert!(
            summary.contains(&format!("artifact-repos {c}")) || summary.contains(&format!("| {c}")),
            "the summary has no line for `{c}`"
        );
        for line in help(&[c, "--help"]).lines() {
            let line = line.trim_start();
            if !line.starts_with('-') {
                continue;
            }
            // `-f, --values <VALUES>`: the short form stands in the summary when there is one.
            let first = line
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches(',');
            let shown = first.to_string();
            if shown == "-h" || shown == "--help" {
                continue;
            }
            if !summary.contains(&format!("{shown} ")) && !summary.contains(&format!("[{shown}")) {
                missing.push(format!("{c} {shown}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "options missing from the README's command summary: {missing:?}"
    );
}
