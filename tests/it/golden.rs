//! Golden tests as data: every directory `fixtures/<command>/<case>/` holds a `cmd` file (the
//! arguments, one per line), optionally a `stdin` file, and the expected `stdout`, `stderr` and `code`
//! of the real binary run with the case directory as its working directory. Set
//! `ARTIFACT_REPOS_BLESS=1` to rewrite the expected files through the same code that checks them,
//! then review with `git diff`.

use std::path::{Path, PathBuf};

use crate::support::bless;

pub fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for group in std::fs::read_dir(&root).expect("fixtures/ exists") {
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

struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: i32,
}

fn run_case(case: &Path) -> Outcome {
    let cmd = std::fs::read_to_string(case.join("cmd")).unwrap();
    let args: Vec<&str> = cmd.lines().filter(|l| !l.is_empty()).collect();
    let stdin = std::fs::read(case.join("stdin")).ok();
    let out = crate::support::run(&args, case, stdin.as_deref());
    Outcome {
        stdout: out.stdout,
        stderr: out.stderr,
        code: out.status.code().unwrap_or(-1),
    }
}

#[test]
fn golden_cases() {
    let bless = bless();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases found under fixtures/");
    for case in &cases {
        let got = run_case(case);
        let files: [(&str, Vec<u8>); 3] = [
            ("stdout", got.stdout),
            ("stderr", got.stderr),
            ("code", format!("{}\n", got.code).into_bytes()),
        ];
        for (name, actual) in files {
            let path = case.join(name);
            if bless {
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
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (rerun with ARTIFACT_REPOS_BLESS=1 and review with git diff):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue #12: the values form and the RepoRegistration folder of examples/repo-registrations, and
/// the same objects in Helm's stream, render the same objects.
#[test]
fn repo_registration_forms_render_the_same_objects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
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
