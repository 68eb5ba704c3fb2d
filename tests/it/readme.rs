//! The documentation runs as written. Every fenced ```sh / ```bash block of README.md and of every
//! page of docs/ (`pages`: README.md first, then docs/ in path order) is executed, in order, by bash
//! (`set -eo pipefail`). Each page runs in a temporary copy of the repository of its own (the files
//! git tracks when the test starts, made a git repository with one commit) with a temporary HOME of
//! its own, with
//! `artifact-repos` (this build), `helm` and the pinned tools (`.tools/bin`, installed by
//! scripts/install-tools) on PATH, so state flows from one block of a page to the next as it does for a
//! reader following that page from a fresh clone. Where a page shows output (the next fenced block
//! whose info string ends in ` output`, before any other command block), the real output must equal it
//! byte for byte.
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
//!   own commands: one would run this test again, scripts/e2e is a step of scripts/test; measurements,
//!   which take minutes); `\"` and `\\` in a quoted value stand for `"` and `\`.
//!
//! `ARTIFACT_REPOS_BLESS=1` rewrites the shown outputs with the real ones (review with `git diff`).
//!
//! `cargo` in a block builds into `target/readme/` of this repository, so `cargo run --release` costs
//! one release build per machine, not one per run. Not into `target/` itself: cargo does not tell two
//! copies of one package at different paths apart, and would take the copy's build (which embeds the
//! copy's paths) for this checkout's.
//!
//! The other tests here hold the pages together: the generated tables are current
//! (`artifact_repos::generated::splice_pages`), every relative link points at a file and anchor that
//! exist, every page of docs/ is in its index, README.md stays a landing page.

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
                // `\"` and `\\` stand for `"` and `\` (an omitted line may hold quotes).
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => v.extend(chars.next()),
                        c => v.push(c),
                    }
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

fn parse_directives(comment: &str, page: &str, line: usize) -> Directives {
    let mut d = Directives::default();
    let mut because = false;
    for (key, value) in words(comment) {
        match (key.as_str(), value) {
            ("helm", Some(v)) if v == "3" || v == "4" => d.helm = Some(v),
            ("exit", Some(v)) => d.exit = v.parse().expect("exit=N takes a number"),
            ("output", Some(v)) if v == "stderr" => d.stderr = true,
            ("cluster", None) => d.cluster = true,
            // A block that starts the e2e sandbox itself (docs/playground.md): parsed here like a
            // cluster block; scripts/e2e, whose sandbox it is, does not run it inside itself.
            ("sandbox", None) => d.cluster = true,
            ("omit", Some(v)) => d.omit.push(v),
            ("env", Some(v)) => {
                let (k, v) = v.split_once('=').expect("env=\"NAME=VALUE\"");
                d.env.push((k.into(), v.into()));
            }
            ("because", Some(_)) => because = true,
            (k, v) => panic!("{page}:{line}: unknown readme-test directive `{k}` = {v:?}"),
        }
    }
    assert!(
        d.omit.is_empty() || because,
        "{page}:{line}: omit= needs because=\"...\""
    );
    d
}

/// The command blocks of one page (`page` names it in messages).
fn blocks(page: &str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
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
        assert!(i < lines.len(), "{page}:{}: unclosed code fence", start + 1);
        i += 1;
        let lang = info.split_whitespace().next().unwrap_or("");
        if lang == "sh" || lang == "bash" {
            let comment = start
                .checked_sub(1)
                .and_then(|p| lines[p].trim().strip_prefix("<!-- readme-test:"))
                .and_then(|c| c.strip_suffix("-->"));
            let directives = comment
                .map(|c| parse_directives(c, page, start))
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
                "{page}:{}: an output block without a command block before it",
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

/// The pages: README.md, then every `.md` file under docs/ in path order, each as (its path from the
/// repository root, its text).
fn pages() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut docs = Vec::new();
    walk(&root().join("docs"), &mut docs);
    docs.sort();
    let mut out = vec![("README.md".to_string(), read("README.md"))];
    for path in docs {
        let name = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let text = read(&name);
        out.push((name, text));
    }
    out
}

fn read(page: &str) -> String {
    std::fs::read_to_string(root().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"))
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
fn every_command_block_of_every_page_runs_as_written() {
    // A block that runs the suite would run this test again, and again: refuse to recurse.
    assert!(
        std::env::var_os("ARTIFACT_REPOS_README_BLOCK").is_none(),
        "the README test is running inside a page's block: a block runs the suite (see omit=)"
    );
    let tmp = std::env::temp_dir().join(format!("artifact-repos-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    // One snapshot of the repository, taken once, so every page starts from the same files even when
    // the work tree changes while the test runs.
    let snapshot = tmp.join("snapshot");
    std::fs::create_dir_all(&snapshot).unwrap();
    copy_of_repository(&snapshot);
    let mut failures = String::new();
    let mut ran = 0;
    let mut readme_blocks = 0;
    for (i, (page, text)) in pages().iter().enumerate() {
        let blocks = blocks(page, text);
        if page == "README.md" {
            readme_blocks = blocks.len();
        }
        let dir = tmp.join(format!("page-{i}"));
        ran += run_page(page, text, &blocks, &snapshot, &dir, &mut failures);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{failures}");
    assert!(
        readme_blocks >= 5 && ran >= 40,
        "expected the pages' command blocks, found {readme_blocks} in README.md and {ran} in all"
    );
}

/// Runs the blocks of one page in a copy of `snapshot` of its own under `tmp`; adds what failed to
/// `failures`; under bless rewrites the page's shown outputs. Returns how many blocks ran.
fn run_page(
    page: &str,
    text: &str,
    blocks: &[Block],
    snapshot: &Path,
    tmp: &Path,
    failures: &mut String,
) -> usize {
    if blocks.is_empty() {
        return 0;
    }
    let cluster_run = std::env::var_os("ARTIFACT_REPOS_README_CLUSTER").is_some();
    let bless = crate::support::bless();
    let mut blessed: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let work = tmp.join("repo");
    let home = tmp.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(snapshot)
        .arg(&work)
        .status()
        .expect("cp runs");
    assert!(copied.success(), "copying the snapshot for {page} failed");
    let path = std::env::var("PATH").unwrap_or_default();
    let failed_before = failures.len();
    let mut ran = 0;
    for block in blocks {
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
        let bin = bin_dir(tmp, d.helm.as_deref().unwrap_or("4"));
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
            .env(
                "ARTIFACT_REPOS_README_BLOCK",
                format!("{page}:{}", block.line),
            )
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
                "{page}:{}: exited {code}, expected {want_exit}\n--- block\n{}--- stdout\n{stdout}--- stderr\n{stderr}",
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
                    .header(&format!("{page}:{at}"), "real output")
                    .to_string();
                let _ = writeln!(
                    failures,
                    "{page}:{}: the output shown at line {at} is not what the block prints:\n{diff}",
                    block.line
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    if bless && failures.len() == failed_before {
        // Rewrite the shown outputs through the same run that checks them; review with `git diff`.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for (range, text) in blessed.into_iter().rev() {
            lines.splice(range, text.lines().map(str::to_string));
        }
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(root().join(page), text).unwrap();
    }
    ran
}

#[test]
fn the_first_screen_holds_exactly_the_two_setup_commands() {
    let first = blocks("README.md", &read("README.md"))
        .into_iter()
        .next()
        .expect("a first block");
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
    assert_eq!(
        commands,
        ["cargo run --release -- render --example", "scripts/test"]
    );
}

#[test]
fn the_command_summary_names_every_option_of_every_command() {
    let page = read("docs/commands.md");
    let at = page
        .find("## Commands and exit codes")
        .expect("a Commands section in docs/commands.md");
    let summary = &page[at..];
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
        "options missing from the command summary of docs/commands.md: {missing:?}"
    );
}

#[test]
fn generated_tables_are_current() {
    let pages = pages();
    let current = artifact_repos::generated::splice_pages(&pages).unwrap();
    let mut stale = String::new();
    for ((page, committed), current) in pages.iter().zip(&current) {
        if committed == current {
            continue;
        }
        if crate::support::bless() {
            std::fs::write(root().join(page), current).unwrap();
            continue;
        }
        let _ = write!(
            stale,
            "{}",
            similar::TextDiff::from_lines(committed, current)
                .unified_diff()
                .header(page, "generated")
        );
    }
    assert!(
        stale.is_empty(),
        "generated tables are stale (rerun with ARTIFACT_REPOS_BLESS=1):\n{stale}"
    );
}

/// The `[text](target)` links of a page outside code, as (line, target).
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        // Code spans hold no links: drop them.
        let mut prose = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                prose.push_str(part);
            }
        }
        let mut rest = prose.as_str();
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let Some(end) = rest.find(')') else { break };
            out.push((n + 1, rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_points_at_a_file_and_anchor_that_exist() {
    use artifact_repos::generated::heading_anchors;
    let pages = pages();
    let mut broken = Vec::new();
    let mut checked = 0;
    for (page, text) in &pages {
        for (line, target) in links(text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let dir = Path::new(page).parent().unwrap();
            let path = if file.is_empty() {
                PathBuf::from(page)
            } else {
                dir.join(file)
            };
            let full = root().join(&path);
            if !full.exists() {
                broken.push(format!(
                    "{page}:{line}: `{target}`: no file {}",
                    path.display()
                ));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            let ok = full.extension().is_some_and(|e| e == "md")
                && heading_anchors(&std::fs::read_to_string(&full).unwrap())
                    .iter()
                    .any(|a| a == anchor);
            if !ok {
                broken.push(format!(
                    "{page}:{line}: `{target}`: {} has no heading with anchor `{anchor}`",
                    path.display()
                ));
            }
        }
    }
    assert!(checked >= 50, "found only {checked} relative links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_docs_is_in_its_index() {
    let index = read("docs/README.md");
    let linked: Vec<String> = links(&index)
        .into_iter()
        .map(|(_, t)| t.split('#').next().unwrap().to_string())
        .collect();
    let missing: Vec<String> = pages()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with("docs/") && p != "docs/README.md")
        .filter(|p| !linked.iter().any(|l| *l == p["docs/".len()..]))
        .collect();
    assert!(
        missing.is_empty(),
        "pages docs/README.md does not list: {missing:?}"
    );
    assert!(
        read("README.md").contains("(docs/README.md)"),
        "README.md links the docs index"
    );
}

#[test]
fn the_readme_is_a_landing_page_of_at_most_400_lines() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 400,
        "README.md has {lines} lines; move detail to docs/"
    );
}

#[test]
fn a_directive_value_may_hold_escaped_quotes() {
    let w = words(r#"omit="T=\"a 'b'\" c\\d" because="why""#);
    assert_eq!(w[0], ("omit".into(), Some(r#"T="a 'b'" c\d"#.into())));
    assert_eq!(w[1], ("because".into(), Some("why".into())));
}
