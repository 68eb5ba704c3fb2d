//! End-to-end checks of the CI commands that golden files cannot express: `render --output-dir`
//! writing into and cleaning a real directory, `render --check` against it, the bundled example's
//! render passing `check`, `diff` and `explain`, and completions and man page naming every
//! subcommand. Each test works in its own scratch directory under the system temp dir.

use crate::support::run;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("artifact-repos-ci-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn example_without_my_project() -> String {
    let s = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-values.yaml"),
    )
    .unwrap();
    let cut = s
        .find("  - name: my-project")
        .expect("the example registers my-project");
    s[..cut].to_string()
}

#[test]
fn output_dir_writes_checks_and_removes_only_its_own_files() {
    let dir = scratch("output-dir");
    let out = run(&["render", "--example", "--output-dir", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let cm = dir.join("gen/argo-workflows/configmap-artifact-repositories.yaml");
    let wt = dir.join("gen/my-tenant-namespace/workflowtemplate-my-project.yaml");
    assert!(cm.is_file() && wt.is_file());
    assert!(
        dir.join("gen/_cluster/namespace-research-team.yaml")
            .is_file()
    );

    // Current: exit 0.
    let out = run(&["render", "--example", "--check", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // A foreign file in our layout and one outside it survive; a hand edit is reported stale.
    std::fs::write(
        dir.join("gen/research-team/extra-by-hand.yaml"),
        "kept: true\n",
    )
    .unwrap();
    std::fs::write(dir.join("gen/README.md"), "kept\n").unwrap();
    let edited = std::fs::read_to_string(&cm)
        .unwrap()
        .replace("default-bucket", "other-bucket");
    std::fs::write(&cm, edited).unwrap();
    let out = run(&["render", "--example", "--check", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(1));
    let listing = text(&out.stdout);
    assert!(
        listing.contains("stale: argo-workflows/configmap-artifact-repositories.yaml"),
        "{listing}"
    );
    assert!(
        listing.contains("extra: research-team/extra-by-hand.yaml (not listed in the marker"),
        "{listing}"
    );
    assert!(listing.contains("-      bucket: other-bucket"), "{listing}");
    assert!(
        listing.contains("+      bucket: default-bucket"),
        "{listing}"
    );

    // Dropping a registration removes exactly the files it owned.
    std::fs::write(dir.join("values.yaml"), example_without_my_project()).unwrap();
    let out = run(
        &["render", "-f", "values.yaml", "--output-dir", "gen"],
        &dir,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!wt.exists(), "the stale WorkflowTemplate file is removed");
    assert!(
        !dir.join("gen/my-tenant-namespace").exists(),
        "its emptied directory too"
    );
    assert!(dir.join("gen/research-team/extra-by-hand.yaml").is_file());
    assert!(dir.join("gen/README.md").is_file());
    let out = run(
        &["render", "-f", "values.yaml", "--check", "gen"],
        &dir,
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the hand-made yaml file is still reported: {}",
        text(&out.stdout)
    );
    std::fs::remove_file(dir.join("gen/research-team/extra-by-hand.yaml")).unwrap();
    let out = run(
        &["render", "-f", "values.yaml", "--check", "gen"],
        &dir,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_dir_refuses_a_directory_it_did_not_write() {
    let dir = scratch("refuse");
    std::fs::create_dir_all(dir.join("mine")).unwrap();
    std::fs::write(dir.join("mine/notes.yaml"), "precious: true\n").unwrap();
    let out = run(&["render", "--example", "--output-dir", "mine"], &dir, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("refusing to write"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(dir.join("mine")).unwrap().count(),
        1,
        "nothing written"
    );
    let out = run(
        &["render", "--example", "--check", "missing-dir"],
        &dir,
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bundled_example_render_is_clean_for_check_diff_and_explain() {
    let dir = scratch("flow");
    let render = run(&["render", "--example"], &dir, None);
    assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
    let out = run(&["check", "-"], &dir, Some(&render.stdout));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // The seed's default shares one Vault credential between its two tenants: a warning
    // (issue #11, class 12), which leaves the exit code alone.
    assert!(
        text(&out.stdout).ends_with("no findings, 1 warning\n"),
        "{}",
        text(&out.stdout)
    );

    std::fs::write(dir.join("rendered.yaml"), &render.stdout).unwrap();
    let out = run(
        &["render", "--example", "--output-dir", "committed"],
        &dir,
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["diff", "committed", "rendered.yaml"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "0 changed, 0 added, 0 removed\n");

    // The seed's own test workflow, made by `workflow`, resolves against the render.
    let wf = run(
        &[
            "workflow",
            "--from",
            "workflowtemplate/my-project",
            "--artifact-repository",
            "my-project",
            "-n",
            "my-tenant-namespace",
        ],
        &dir,
        None,
    );
    assert_eq!(wf.status.code(), Some(0));
    let out = run(
        &["explain", "-", "-m", "rendered.yaml"],
        &dir,
        Some(&wf.stdout),
    );
    let explained = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{explained}");
    assert!(
        explained.contains("bucket: my-project-artifacts"),
        "{explained}"
    );
    assert!(
        explained.contains(
            "ExternalSecret.external-secrets.io my-tenant-namespace/s3-credentials-my-project"
        ),
        "{explained}"
    );
    assert!(explained.ends_with("chain: complete\n"), "{explained}");

    // Selecting another tenant's registration is caught.
    let wf = run(
        &[
            "workflow",
            "--from",
            "workflowtemplate/my-project",
            "--artifact-repository",
            "genomics-pipeline",
            "-n",
            "my-tenant-namespace",
        ],
        &dir,
        None,
    );
    let mut stream = render.stdout.clone();
    stream.extend_from_slice(b"---\n");
    stream.extend_from_slice(&wf.stdout);
    let out = run(&["check", "-"], &dir, Some(&stream));
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("finding[cross-tenant-credentials]"),
        "{report}"
    );
    assert!(report.contains("finding[missing-secret]"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_man_page_name_every_subcommand() {
    let dir = scratch("completions");
    let subcommands = [
        "render",
        "post-render",
        "diff",
        "check",
        "explain",
        "workflow",
        "schema",
        "completions",
        "man",
    ];
    // Each subcommand as the shell's own syntax names one (a plain `contains("man")` would also
    // match "command"): bash's `case` arm, zsh's `'name:description'`, fish's `-a "name"`.
    type Form = fn(&str) -> String;
    let forms: [(&str, Form); 3] = [
        ("bash", |sub| format!("artifact__repos,{sub})")),
        ("zsh", |sub| format!("'{sub}:")),
        ("fish", |sub| format!("-f -a \"{sub}\" -d ")),
    ];
    for (shell, form) in forms {
        let out = run(&["completions", shell], &dir, None);
        assert_eq!(out.status.code(), Some(0));
        let script = text(&out.stdout);
        for sub in subcommands {
            assert!(
                script.contains(&form(sub)),
                "{shell} completions lack `{sub}`"
            );
        }
        assert!(
            script.contains("--controller-namespace")
                || script.contains("-l controller-namespace "),
            "{shell} completions lack check's flags"
        );
    }
    let out = run(&["man"], &dir, None);
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout).replace("\\-", "-");
    assert!(
        page.starts_with(".ie") || page.contains(".TH"),
        "roff output"
    );
    for sub in subcommands {
        // The SUBCOMMANDS section lists each as `artifact-repos-NAME(1)`.
        assert!(
            page.contains(&format!("artifact-repos-{sub}(1)")),
            "man page lacks `{sub}`"
        );
    }
    let out = run(&["completions", "powershell-not"], &dir, None);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
