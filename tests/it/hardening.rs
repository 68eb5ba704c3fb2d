//! Regression tests for issue #11 ("Hardening"), one section per defect class, each run through the
//! real binary on inputs written for the purpose. Every test here failed before its fix, except the
//! ones marked as guards (they pin behaviour a fix must not break).
//!
//! A case that is a command and its expected output is a fixture directory under the golden
//! harness (`fixtures/<command>/11-<case>/`, see golden.rs); what stays here needs code: a
//! generated input (links, FIFOs, devices, odd file names), the independent validator, a log
//! file, a timing or a property.

use crate::support::{self, run};
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "artifact-repos-harden-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Class 11: terminal safety. Names and values from manifests never reach the terminal raw
// (fixtures/check/11-escapes-names-and-values, fixtures/explain/11-escapes-names-and-values).

/// True when `s` holds a control character other than the line breaks and the ESC of our colors.
fn has_raw_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn diff_escapes_names_values_and_file_names() {
    let dir = scratch("diff-escape");
    let old = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\\e[2Jy\"\n  namespace: n\ndata:\n  a: \"1\\r+forged\"\n";
    let new = old.replace("1\\r+forged", "2\\e]0;t\\a");
    std::fs::write(dir.join("old.yaml"), old).unwrap();
    std::fs::write(dir.join("new\u{1b}[1m.yaml"), new).unwrap();
    let out = run(&["diff", "old.yaml", "new\u{1b}[1m.yaml"], &dir, None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(!has_raw_control(&stdout), "{stdout:?}");
    assert!(
        stdout.contains("changed: ConfigMap n/x\\u{1b}[2Jy"),
        "{stdout}"
    );
    assert!(stdout.contains("+++ new\\u{1b}[1m.yaml:1"), "{stdout}");
}

// Class 2 (diff part), credential-bearing annotations masked like Secret data:
// fixtures/diff/11-masks-*.

// ---------------------------------------------------------------------------------------------
// Shared by the post-render classes: a Helm 3 carrier with one registration for tenant `team-a`.

const VALUES: &str = r#"{"repoRegistrations":[{"name":"app","repoUrl":"https://git.example.com/o/app.git","tenant":"team-a","artifactBucket":{"bucket":"team-a-artifacts","externalSecretPath":"team-a/s3"}}]}"#;

fn carrier() -> String {
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {VALUES}\n"
    )
}

fn post_render(input: &str) -> std::process::Output {
    run(
        &["post-render"],
        &std::env::temp_dir(),
        Some(input.as_bytes()),
    )
}

// Class 5, directives and BOMs: fixtures/postrender/11-directive-*, 11-bom-*.
// Class 1, a foreign document that claims a generated identity is caught however it is written:
// fixtures/postrender/11-collision-*, 11-odd-documents-*, 11-template-paths-escaped.

// ---------------------------------------------------------------------------------------------
// Class 4 (the collision scan): linear in the stream, whatever the number of generated names.

#[test]
/// Guard (loose bound; see the commit that added it).
fn collision_scan_costs_a_few_times_the_carrier_alone() {
    let n = 5_000;
    let regs: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"name":"repo-{i:05}","repoUrl":"https://git.example.com/t/repo-{i}.git","tenant":"tenant-{t:03}","artifactBucket":{{"bucket":"bucket-{i:05}","externalSecretPath":"tenants/{t}/repo-{i}/s3"}}}}"#, t = i % 500))
        .collect();
    let values = format!(
        r#"{{"artifactRepos":{{"layout":"tenant"}},"repoRegistrations":[{}]}}"#,
        regs.join(",")
    );
    let alone = carrier().replace(VALUES, &values);
    let foreign: String = (0..n)
        .map(|i| format!("---\n# Source: other/templates/cm{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-{i}\n  namespace: tenant-{:03}\ndata:\n  k: v\n", i % 500))
        .collect();
    let timed = |input: &str| {
        let start = std::time::Instant::now();
        let out = post_render(input);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        start.elapsed()
    };
    let t_alone = timed(&alone);
    let t_both = timed(&format!("{foreign}{alone}"));
    // Loose on purpose (shared machines): quadratic scanning took many times the carrier alone.
    assert!(
        t_both < t_alone * 3 + std::time::Duration::from_secs(5),
        "{n} registrations beside {n} foreign ConfigMaps took {t_both:?}, the carrier alone {t_alone:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Class 6 (render part), Helm lifecycles: fixtures/render/11-default-namespace-*, 11-namespaces-*,
// 11-managed-by-*, fixtures/postrender/11-namespaces-kept-and-managed-by-helm.

fn render_values(name: &str, values: &str) -> String {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let out = run(&["render", "-f", "v.yaml"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

// ---------------------------------------------------------------------------------------------
// Class 7 (part): Argo semantics (and fixtures/render/11-key-prefix-joined-as-argo-joins-it-*).

/// A workflow with no artifactRepositoryRef, run in the controller namespace, and the RBAC its
/// executor needs there.
const ADMIN_WORKFLOW: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: admin-job\n  namespace: argo-workflows\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: executor\n  namespace: argo-workflows\nrules:\n- apiGroups: [argoproj.io]\n  resources: [workflowtaskresults]\n  verbs: [create, patch]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: executor\n  namespace: argo-workflows\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: executor\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: argo-workflows\n";

#[test]
fn ref_less_workflows_in_the_controller_namespace_find_the_defaults_credentials() {
    // The central layout (the seed's) annotates the controller namespace's ConfigMap as the
    // default; Argo then uses it for ref-less workflows running there, with credentials read
    // from that namespace (independent check: tests/tools/validate_stream.py).
    for values in ["examples/seed-values.yaml".to_string(), {
        let dir = scratch("central-default");
        let f = dir.join("v.yaml");
        std::fs::write(&f, "s3:\n  enabled: true\n  bucket: platform-default\n  externalSecretPath: platform/s3\nrepoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n").unwrap();
        f.display().to_string()
    }] {
        let out = run(&["render", "-f", &values], support::root(), None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stream = format!("{}---\n{ADMIN_WORKFLOW}", text(&out.stdout));
        let (report, code) = support::validate_text(&stream, &[]);
        assert_eq!(code, 0, "{values}: {report:#}");
        let admin = report["resolutions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "admin-job")
            .cloned()
            .unwrap();
        assert_eq!(admin["source"], "default-annotation", "{admin:#}");
    }
}

#[test]
fn the_template_form_resolves_through_the_generated_template() {
    let root = support::root();
    let rendered = run(&["render", "-f", "examples/seed-values.yaml"], root, None);
    assert_eq!(
        rendered.status.code(),
        Some(0),
        "{}",
        text(&rendered.stderr)
    );
    let wf = run(
        &[
            "workflow",
            "--from",
            "workflowtemplate/my-project",
            "--artifact-repository",
            "my-project",
            "-n",
            "my-tenant-namespace",
            "--form",
            "template",
        ],
        root,
        None,
    );
    assert_eq!(wf.status.code(), Some(0), "{}", text(&wf.stderr));
    let yaml = text(&wf.stdout);
    assert!(!yaml.contains("artifactRepositoryRef"), "{yaml}");
    assert!(!yaml.contains("serviceAccountName"), "{yaml}");
    assert!(text(&wf.stderr).contains("printed the template form"));
    let (report, code) = support::validate_text(&format!("{}{yaml}", text(&rendered.stdout)), &[]);
    assert_eq!(code, 0, "{report:#}");
    let r = report["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "Workflow")
        .cloned()
        .unwrap();
    assert_eq!(r["key"], "artifactRepositories.my-project", "{r:#}");
}

// ---------------------------------------------------------------------------------------------
// Class 1, as a property: every combination of the ways to write a claim is caught.

mod collision_property {
    use super::{VALUES, carrier};
    use crate::support::values_gen::config;
    use proptest::prelude::*;

    /// `kind: ConfigMap` written one of five ways.
    fn kind_value(style: u8) -> &'static str {
        match style {
            0 => "ConfigMap",
            1 => "\"Config\\u004dap\"",
            2 => "!!str ConfigMap",
            3 => "!local ConfigMap",
            _ => "!!binary Q29uZmlnTWFw",
        }
    }

    fn document(style: u8, merge: bool, dup: bool, omit_ns: bool, list: bool) -> String {
        let kind = kind_value(style);
        let mut body = String::from("apiVersion: v1\n");
        if dup && !merge {
            body.push_str("kind: Secret\n");
        }
        if merge {
            body.push_str(&format!("<<: {{kind: {kind}}}\n"));
        } else {
            body.push_str(&format!("kind: {kind}\n"));
        }
        body.push_str("metadata:\n  name: artifact-repositories\n");
        if !omit_ns {
            body.push_str("  namespace: team-a\n");
        }
        body.push_str("data:\n  a: \"1\"\n");
        if dup {
            body.push_str("  a: \"2\"\n");
        }
        if list {
            let items: String = body
                .lines()
                .enumerate()
                .map(|(i, l)| format!("{}{l}\n", if i == 0 { "- " } else { "  " }))
                .collect();
            format!("---\napiVersion: v1\nkind: List\nitems:\n{items}")
        } else {
            format!("---\n{body}")
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_claim_is_caught_however_it_is_written(
            style in 0u8..5,
            merge in any::<bool>(),
            dup in any::<bool>(),
            omit_ns in any::<bool>(),
            list in any::<bool>(),
            before in any::<bool>(),
        ) {
            let doc = document(style, merge, dup, omit_ns, list);
            let release_ns = if omit_ns { "team-a" } else { "argo" };
            let carrier = carrier().replace("namespace: \"argo\"", &format!("namespace: \"{release_ns}\""));
            prop_assert!(carrier.contains(VALUES));
            let input = if before { format!("{doc}{carrier}") } else { format!("{carrier}{doc}") };
            match artifact_repos::deploy::postrender::post_render(input.as_bytes(), false) {
                Ok(_) => prop_assert!(false, "not caught:\n{doc}"),
                Err(e) => prop_assert!(
                    e.to_string().contains("ConfigMap team-a/artifact-repositories is also generated"),
                    "{e}\n{doc}"
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Class 3: `render --output-dir` and `--check` never touch anything outside their folder; every
// read path takes regular files only, bounded.

/// A snapshot of every file under `dir` (path relative to it, and content; links as `-> target`).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                out.push((rel, format!("-> {}", t.display()).into_bytes()));
            } else if m.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A scratch directory holding `gen`, written by `render --output-dir gen` (the bundled example).
fn rendered_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    let out = run(&["render", "--example", "--output-dir", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    dir
}

/// The bundled example without its `my-project` registration, as `values.yaml` in `dir`.
fn write_values_without_my_project(dir: &Path) {
    let s = std::fs::read_to_string(support::root().join("examples/seed-values.yaml")).unwrap();
    let cut = s.find("  - name: my-project").unwrap();
    std::fs::write(dir.join("values.yaml"), &s[..cut]).unwrap();
}

fn assert_refused(out: &std::process::Output, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr}");
    }
}

const TENANT_CM: &str = "gen/my-tenant-namespace/configmap-artifact-repositories.yaml";

#[test]
fn output_dir_never_writes_or_deletes_through_a_linked_namespace_folder() {
    let dir = rendered_dir("outdir-linked-ns");
    // The namespace folder is moved elsewhere and linked back; one of its files is stale.
    std::fs::rename(dir.join("gen/my-tenant-namespace"), dir.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", dir.join("gen/my-tenant-namespace")).unwrap();
    std::fs::write(
        dir.join("elsewhere/configmap-artifact-repositories.yaml"),
        "outside: true\n",
    )
    .unwrap();
    let before = tree(&dir);
    for args in [
        vec!["render", "--example", "--output-dir", "gen"],
        // Dropping the registration would delete files inside the linked folder.
        vec!["render", "-f", "values.yaml", "--output-dir", "gen"],
        vec!["render", "--example", "--check", "gen"],
    ] {
        write_values_without_my_project(&dir);
        let out = run(&args, &dir, None);
        assert_refused(&out, &["`gen/my-tenant-namespace` is a symbolic link"]);
        std::fs::remove_file(dir.join("values.yaml")).unwrap();
        assert_eq!(tree(&dir), before, "{args:?} touched nothing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_dir_never_writes_or_reads_through_a_linked_file() {
    let dir = rendered_dir("outdir-linked-file");
    std::fs::write(dir.join("precious.txt"), "precious\n").unwrap();
    // A generated file, then the marker, linked to a file outside.
    for (link, target) in [
        (TENANT_CM, "../../precious.txt"),
        ("gen/.artifact-repos-files", "../precious.txt"),
    ] {
        let saved = std::fs::read(dir.join(link)).unwrap();
        std::fs::remove_file(dir.join(link)).unwrap();
        std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
        let before = tree(&dir);
        for args in [
            vec!["render", "--example", "--output-dir", "gen"],
            vec!["render", "--example", "--check", "gen"],
        ] {
            let out = run(&args, &dir, None);
            assert_refused(&out, &[&format!("`{link}` is a symbolic link")]);
            assert_eq!(tree(&dir), before, "{args:?} touched nothing");
        }
        std::fs::remove_file(dir.join(link)).unwrap();
        std::fs::write(dir.join(link), saved).unwrap();
    }
    // A link to an identical copy is not read either: `--check` reported it current.
    std::fs::copy(dir.join(TENANT_CM), dir.join("copy.yaml")).unwrap();
    std::fs::remove_file(dir.join(TENANT_CM)).unwrap();
    std::os::unix::fs::symlink("../../copy.yaml", dir.join(TENANT_CM)).unwrap();
    let out = run(&["render", "--example", "--check", "gen"], &dir, None);
    assert_refused(&out, &["is a symbolic link"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_dir_named_through_a_link_is_followed() {
    // Guard: the directory the user names may be a link; only links below it are refused.
    let dir = rendered_dir("outdir-named-link");
    std::os::unix::fs::symlink("gen", dir.join("link")).unwrap();
    let out = run(&["render", "--example", "--check", "link"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(&["render", "--example", "--output-dir", "link"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(dir.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hand_written_file_where_a_generated_file_goes_is_refused() {
    // The marker no longer lists the tenant ConfigMap, and a human wrote one there.
    let dir = rendered_dir("outdir-hand-written");
    let marker = dir.join("gen/.artifact-repos-files");
    let listed = std::fs::read_to_string(&marker).unwrap();
    let rel = TENANT_CM.strip_prefix("gen/").unwrap();
    std::fs::write(&marker, listed.replace(&format!("{rel}\n"), "")).unwrap();
    std::fs::write(dir.join(TENANT_CM), "# mine\nkind: ConfigMap\n").unwrap();
    let before = tree(&dir);
    let out = run(&["render", "--example", "--output-dir", "gen"], &dir, None);
    assert_refused(
        &out,
        &[&format!(
            "`{TENANT_CM}` is not listed in `.artifact-repos-files`"
        )],
    );
    assert_eq!(tree(&dir), before, "touched nothing");

    // A fresh directory holding only a marker that lists nothing, and a hand-written file where a
    // generated one goes: refused too, even when its content is what would be written.
    let dir2 = scratch("outdir-hand-written-2");
    std::fs::create_dir_all(dir2.join("gen/argo-workflows")).unwrap();
    std::fs::write(dir2.join("gen/.artifact-repos-files"), "# listed nothing\n").unwrap();
    let cm = "gen/argo-workflows/configmap-artifact-repositories.yaml";
    std::fs::copy(dir.join(cm), dir2.join(cm)).unwrap();
    let before = tree(&dir2);
    let out = run(&["render", "--example", "--output-dir", "gen"], &dir2, None);
    assert_refused(&out, &[&format!("`{cm}` is not listed")]);
    assert_eq!(tree(&dir2), before, "touched nothing");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn output_dir_writes_are_atomic_and_an_interrupted_run_converges() {
    let dir = rendered_dir("outdir-interrupted");
    // What an interrupted run leaves: temporary files of ours, a 0-byte file the marker lists,
    // a listed file that is gone; plus a foreign hidden file that must survive.
    let wt = "gen/my-tenant-namespace/workflowtemplate-my-project.yaml";
    std::fs::write(dir.join(".artifact-repos-tmp-99999-0"), "x").unwrap();
    std::fs::write(
        dir.join("gen/.artifact-repos-tmp-99999-0"),
        "partial marker",
    )
    .unwrap();
    std::fs::write(
        dir.join("gen/my-tenant-namespace/.artifact-repos-tmp-99999-1"),
        "kind: Conf",
    )
    .unwrap();
    std::fs::write(dir.join("gen/my-tenant-namespace/.notes.swp"), "mine").unwrap();
    std::fs::write(dir.join(TENANT_CM), "").unwrap();
    std::fs::remove_file(dir.join(wt)).unwrap();
    // A hard link from outside to a generated file: an in-place write would change it.
    let rs = "gen/research-team/configmap-artifact-repositories.yaml";
    std::fs::write(dir.join(rs), "stale: true\n").unwrap();
    std::fs::hard_link(dir.join(rs), dir.join("outside-hard-link")).unwrap();

    let out = run(&["render", "--example", "--output-dir", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["render", "--example", "--check", "gen"], &dir, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(!dir.join("gen/.artifact-repos-tmp-99999-0").exists());
    assert!(
        !dir.join("gen/my-tenant-namespace/.artifact-repos-tmp-99999-1")
            .exists()
    );
    assert!(
        dir.join(".artifact-repos-tmp-99999-0").exists(),
        "outside: not ours to clean"
    );
    assert!(dir.join("gen/my-tenant-namespace/.notes.swp").exists());
    assert!(dir.join(wt).is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("outside-hard-link")).unwrap(),
        "stale: true\n",
        "the file was replaced, not written in place"
    );
    assert!(
        !tree(&dir.join("gen"))
            .iter()
            .any(|(p, _)| p.contains(".artifact-repos-tmp-")),
        "no temporary file left"
    );

    // A first run interrupted while writing its marker left only a temporary file: not a foreign
    // directory.
    let dir2 = scratch("outdir-interrupted-first");
    std::fs::create_dir_all(dir2.join("gen")).unwrap();
    std::fs::write(dir2.join("gen/.artifact-repos-tmp-99999-0"), "# Written by").unwrap();
    let out = run(&["render", "--example", "--output-dir", "gen"], &dir2, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!dir2.join("gen/.artifact-repos-tmp-99999-0").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// Runs the binary with a 20 s deadline and 1 GB of address space (`ulimit -v`), stdin from
/// `stdin` (a file) or nothing: a hang or an unbounded read fails the test, not the machine.
fn run_bounded(args: &[&str], cwd: &Path, stdin: Option<&Path>) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_artifact-repos"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ARTIFACT_REPOS_LOG")
        .stdin(match stdin {
            Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
            None => Stdio::null(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn every_read_path_refuses_fifos_devices_and_sockets_without_hanging() {
    let dir = rendered_dir("read-special");
    mkfifo(&dir.join("pipe.yaml"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket.yaml")).unwrap();
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(dir.join("manifests/a.yaml"), "kind: ConfigMap\n").unwrap();
    mkfifo(&dir.join("manifests/b.yaml"));
    let ok = run(&["render", "--example"], &dir, None);
    std::fs::write(dir.join("m.yaml"), &ok.stdout).unwrap();
    std::fs::write(
        dir.join("wf.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: w\n  namespace: research-team\nspec: {}\n",
    )
    .unwrap();
    for (special, what) in [
        ("pipe.yaml", "(a FIFO)"),
        ("socket.yaml", "(a socket)"),
        ("/dev/zero", "(a character device)"),
        ("/dev/null", "(a character device)"),
    ] {
        let needle = format!("`{special}` is not a regular file {what}");
        for args in [
            vec!["render", "-f", special],
            vec!["check", special],
            vec!["diff", special, "m.yaml"],
            vec!["diff", "m.yaml", special],
            vec!["explain", special, "-m", "m.yaml"],
            vec!["explain", "wf.yaml", "-m", special],
        ] {
            let out = run_bounded(&args, &dir, None);
            assert_refused(&out, &[&needle]);
        }
    }
    // Inside a directory given to `check`, `diff` or `render -f`.
    for args in [
        vec!["check", "manifests"],
        vec!["diff", "manifests", "m.yaml"],
        vec!["render", "-f", "manifests"],
    ] {
        let out = run_bounded(&args, &dir, None);
        assert_refused(&out, &["`manifests/b.yaml` is not a regular file (a FIFO)"]);
    }
    // Where a generated file goes, under `--check` and `--output-dir`.
    std::fs::remove_file(dir.join(TENANT_CM)).unwrap();
    mkfifo(&dir.join(TENANT_CM));
    for args in [
        vec!["render", "--example", "--check", "gen"],
        vec!["render", "--example", "--output-dir", "gen"],
    ] {
        let out = run_bounded(&args, &dir, None);
        assert_refused(
            &out,
            &[&format!("`{TENANT_CM}` is a FIFO, not a regular file")],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reads_stop_at_their_bound() {
    let dir = scratch("read-bound");
    // A sparse 100 MB manifest file: refused at the 64 MiB bound, not read whole.
    let big = std::fs::File::create(dir.join("big.yaml")).unwrap();
    big.set_len(100 * 1024 * 1024).unwrap();
    drop(big);
    for args in [
        vec!["check", "big.yaml"],
        vec!["diff", "big.yaml", "big.yaml"],
    ] {
        let out = run_bounded(&args, &dir, None);
        assert_refused(
            &out,
            &["big.yaml: input is more than the limit of 67108864 bytes"],
        );
    }
    // Stdin stays allowed, bounded: `/dev/zero` on stdin stops at the bound.
    let zero = Path::new("/dev/zero");
    for (args, limit) in [
        (vec!["check", "-"], "67108864"),
        (vec!["diff", "-", "big.yaml"], "67108864"),
        (vec!["render", "-f", "-"], "33554432"),
    ] {
        let out = run_bounded(&args, &dir, Some(zero));
        assert_refused(
            &out,
            &[&format!(
                "<stdin>: input is more than the limit of {limit} bytes"
            )],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Class 8: warnings reach Helm users. Helm drops a successful post-renderer's stderr, so strict
// mode (`--strict`, `artifactRepos.strict: true`) makes every warning an error; warnings also go
// to the post-render log file; `check` reports in manifests what render warns about; a
// `configMapName` that hides the default from ref-less workflows is an error unless acknowledged.
// Goldens: fixtures/render/11-strict-*, 11-config-map-name-*, fixtures/check/11-reports-*,
// 11-config-map-name-*, 11-ref-less-*, fixtures/postrender/11-config-map-name-*, fixtures/krm/11-*.

/// Values, each producing exactly one warning, and a piece of that warning's text.
const WARNING_INPUTS: &[(&str, &str)] = &[
    (
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: data/team-a/s3\n",
        "repoRegistrations[0].artifactBucket.externalSecretPath: `data/team-a/s3` starts with `data/`",
    ),
    (
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    hostname: minio.example.com\n    insecure: true\n    externalSecretPath: team-a/s3\n    credentialKeys: {caCert: ca.crt}\n",
        "repoRegistrations[0].artifactBucket.caSecret: Argo uses the CA bundle only over HTTPS",
    ),
    (
        // (A near miss of a section key was a warning here; since #21 it is an error.)
        "s3:\n  enabled: true\n  bucket: shared\n  externalSecretPath: platform/s3\nrepoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n- name: other\n  repoUrl: https://git.example.com/o/other.git\n  tenant: team-b\n",
        "s3: the default repository is shared by 2 tenants",
    ),
    (
        "artifactRepos:\n  argoVersion: 3.7\nrepoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n",
        "artifactRepos.argoVersion: YAML read an unquoted number",
    ),
];

/// `values` with `artifactRepos.strict: true` added.
fn strict_values(values: &str) -> String {
    if values.contains("artifactRepos:\n") {
        values.replace("artifactRepos:\n", "artifactRepos:\n  strict: true\n")
    } else {
        format!("artifactRepos:\n  strict: true\n{values}")
    }
}

#[test]
/// The `--output-dir` form of strict mode (the other forms: fixtures/render/11-strict-warning-*):
/// exit 2 and not one file written.
fn strict_render_writes_no_output_dir() {
    for (i, (values, warning)) in WARNING_INPUTS.iter().enumerate() {
        let dir = scratch(&format!("strict-render-{i}"));
        std::fs::write(dir.join("strict.yaml"), strict_values(values)).unwrap();
        let out = run(
            &["render", "-f", "strict.yaml", "--output-dir", "out"],
            &dir,
            None,
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{values}\n{err}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        assert!(err.starts_with("error: 1 problem found\n"), "{err}");
        assert!(err.contains(&format!("  {warning}")), "{err}");
        assert!(err.contains("an error under"), "{err}");
        assert!(!dir.join("out").exists(), "--output-dir wrote files");
    }
}

/// A Helm 3 carrier of `values` (JSON).
fn carrier_of(values: &str) -> String {
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
    )
}

/// A values file as JSON, for a carrier.
fn json_values(values: &str) -> String {
    let v: serde_yaml::Value = serde_yaml::from_str(values).unwrap();
    serde_json::to_string(&v).unwrap()
}

#[test]
fn strict_post_render_fails_where_helm_would_hide_the_warning() {
    for (i, (values, warning)) in WARNING_INPUTS.iter().enumerate() {
        let dir = scratch(&format!("strict-post-render-{i}"));
        let plain = carrier_of(&json_values(values));
        let strict = carrier_of(&json_values(&strict_values(values)));
        // Without strict: the stream passes, the warning goes to stderr and to the log file.
        let out = run(
            &["post-render", "--log-file", "log"],
            &dir,
            Some(plain.as_bytes()),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(warning), "{}", text(&out.stderr));
        let log = std::fs::read_to_string(dir.join("log")).unwrap();
        assert!(
            log.contains(&format!("artifact-repos post-render: warning: {warning}")),
            "{log}"
        );
        std::fs::remove_file(dir.join("log")).unwrap();
        // `--strict`; the values' `strict: true` with `post-render` and with no arguments at all
        // (Helm 3's `--post-renderer artifact-repos`); each logs the error.
        for (args, input) in [
            (
                &["post-render", "--strict", "--log-file", "log"][..],
                &plain,
            ),
            (&["post-render", "--log-file", "log"], &strict),
        ] {
            let out = run(args, &dir, Some(input.as_bytes()));
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert!(
                err.contains(warning) && err.contains("an error under"),
                "{err}"
            );
            let log = std::fs::read_to_string(dir.join("log")).unwrap();
            assert!(
                log.starts_with("artifact-repos post-render: error: 1 problem found\n")
                    && log.contains(warning),
                "{log}"
            );
            std::fs::remove_file(dir.join("log")).unwrap();
        }
        let out = run(&[], &dir, Some(strict.as_bytes()));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn strict_values_apply_to_the_argo_cd_plugin() {
    // (The KRM function: fixtures/krm/11-warning-as-a-result, 11-strict-warning-as-an-error.)
    let (values, warning) = WARNING_INPUTS[0];
    // Argo CD, a values directory: exit 2, nothing on stdout.
    for (strict, code) in [(false, 0), (true, 2)] {
        let dir = scratch(&format!("strict-argocd-{strict}"));
        let v = if strict {
            strict_values(values)
        } else {
            values.to_string()
        };
        std::fs::write(dir.join("values.yaml"), v).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_artifact-repos"))
            .arg("argocd-generate")
            .current_dir(&dir)
            .env("ARGOCD_APP_NAME", "app")
            .env("ARGOCD_APP_NAMESPACE", "argo")
            .env_remove("ARGOCD_APP_PARAMETERS")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(warning), "{err}");
        assert_eq!(out.stdout.is_empty(), strict, "{err}");
    }
}

// Class 10, a render that cannot work is an error: fixtures/{render,postrender}/11-no-repository-*,
// 11-name-over-limit-*, fixtures/render/11-name-at-limit-*.

// ---------------------------------------------------------------------------------------------
// Class 12: tenants do not share credentials. The default repository can give each tenant
// namespace its own key prefix and its own credential; `policies` prints each credential's
// least-privilege bucket policy; `check` warns about a credential synced to several tenants.
// Goldens: fixtures/render/11-isolated-tenants, 11-key-*, 11-vault-path-*, 11-default-*,
// fixtures/check/11-credentials-across-tenants-*, fixtures/policies/11-*.

/// Two tenants in two namespaces on the default repository, isolated.
const ISOLATED: &str = "s3:
  enabled: true
  bucket: platform-artifacts
  region: us-east-1
  keyPrefix: argo
  keyPrefixPerTenant: true
  externalSecretPath: argo/artifacts/{namespace}
repoRegistrations:
- name: app-a
  repoUrl: https://git.example.com/o/app-a.git
  tenant: team-a
- name: app-b
  repoUrl: https://git.example.com/o/app-b.git
  tenant: team-b
";

#[test]
/// The prefixes and Vault paths per tenant are goldens (fixtures/render/11-isolated-tenants and
/// the other `11-key-*`, `11-vault-path-*`); here the independent validator accepts the stream
/// (every key Argo knows, every Secret produced).
fn isolated_tenants_pass_the_independent_validator() {
    let (report, code) = support::validate_text(&render_values("prefix-validate", ISOLATED), &[]);
    assert_eq!(code, 0, "{report:#}");
}

/// Runs `policies` on `values` with `args`; returns (exit code, stdout, stderr).
fn policies(name: &str, values: &str, args: &[&str]) -> (i32, String, String, PathBuf) {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let mut all = vec!["policies", "-f", "v.yaml"];
    all.extend_from_slice(args);
    let out = run(&all, &dir, None);
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
        dir,
    )
}

#[test]
/// The policies themselves are goldens (fixtures/policies/11-*); `--output-dir` writes one policy
/// document per file.
fn policies_output_dir_writes_one_document_per_file() {
    // --output-dir: one policy document per file.
    let (code, out, err, dir) = policies("policies-dir", ISOLATED, &["--output-dir", "out"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("out/argo-artifacts-team-b.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    assert!(doc.to_string().contains("argo/team-b/*"));
    assert_eq!(std::fs::read_dir(dir.join("out")).unwrap().count(), 3);
}

// ---------------------------------------------------------------------------------------------
// Class 2 (values): no credential reaches stdout, an error message or the post-render log file,
// from any field: label keys and values, the runner's command and args, a repoUrl's user info,
// query and fragment, path-like fields, unknown keys, `--set` paths and values.

/// Secrets of several shapes, none of which may be printed anywhere.
const SECRETS: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12",
    "ghp_0123456789abcdefABCDEF0123456789abcd",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36",
    "Zm9vYmFyYmF6cXV4UVVYQkFaMTIzNDU2Nzg5MA",
];

const REGISTRATION: &str = "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n";

/// Renders `values` (and `extra` arguments) and post-renders the same values through a carrier
/// with a log file; returns every byte either run printed or logged, and both exit codes.
fn everything_printed(name: &str, values: &str, extra: &[&str]) -> (Vec<Option<i32>>, String) {
    let dir = scratch(name);
    std::fs::write(dir.join("v.yaml"), values).unwrap();
    let mut args = vec!["render", "-f", "v.yaml"];
    args.extend_from_slice(extra);
    let render = run(&args, &dir, None);
    let mut all = text(&render.stdout) + &text(&render.stderr);
    let mut codes = vec![render.status.code()];
    if extra.is_empty() {
        // The same values as Helm hands them to the post-renderer: JSON in the carrier.
        let tree = artifact_repos::yaml::parse_values("v", values.as_bytes()).unwrap();
        let json = serde_json::to_string(&tree).unwrap();
        let carrier = format!(
            "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {json}\n"
        );
        let log = dir.join("post-render.log");
        let out = run(
            &["post-render", "--log-file", log.to_str().unwrap()],
            &dir,
            Some(carrier.as_bytes()),
        );
        codes.push(out.status.code());
        all += &text(&out.stdout);
        all += &text(&out.stderr);
        all += &std::fs::read_to_string(&log).unwrap_or_default();
    }
    (codes, all)
}

fn assert_refused_unseen(name: &str, values: &str, extra: &[&str], secret: &str, why: &str) {
    let (codes, all) = everything_printed(name, values, extra);
    assert!(
        codes.iter().all(|c| *c == Some(2)),
        "{name}: {codes:?}\n{all}"
    );
    assert!(
        !all.contains(secret),
        "{name}: the secret was printed:\n{all}"
    );
    assert!(all.contains(why), "{name}: expected `{why}`:\n{all}");
}

#[test]
fn common_labels_never_carry_a_credential() {
    for (i, secret) in SECRETS.iter().enumerate() {
        // Label values hold at most 63 characters of [A-Za-z0-9._-]: the shapes that fit.
        if secret.len() <= 63
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            assert_refused_unseen(
                &format!("label-value-{i}"),
                &format!("{REGISTRATION}artifactRepos:\n  commonLabels:\n    team: {secret}\n"),
                &[],
                secret,
                "(value hidden: looks like a credential)",
            );
        }
        if secret.len() <= 63 {
            assert_refused_unseen(
                &format!("label-key-{i}"),
                &format!(
                    "{REGISTRATION}artifactRepos:\n  commonLabels:\n    example.com/{secret}: x\n"
                ),
                &[],
                secret,
                "looks like a credential",
            );
        }
    }
    // A key that names a credential, with a harmless-looking value.
    assert_refused_unseen(
        "label-key-token",
        &format!("{REGISTRATION}artifactRepos:\n  commonLabels:\n    api-token: s3cr3tvalue\n"),
        &[],
        "s3cr3tvalue",
        "names or holds a credential",
    );
}

#[test]
fn the_runner_command_and_args_never_carry_a_credential() {
    for (i, secret) in SECRETS.iter().enumerate() {
        for (where_, list) in [
            (
                "command",
                format!("command: [\"sh\", \"--token={secret}\"]"),
            ),
            ("args", format!("args: [run, --password, \"{secret}\"]")),
            ("args-inline", format!("args: [\"{secret}\"]")),
        ] {
            assert_refused_unseen(
                &format!("runner-{where_}-{i}"),
                &format!("{REGISTRATION}artifactRepos:\n  workflowTemplates:\n    {list}\n"),
                &[],
                secret,
                "(value hidden: looks like a credential)",
            );
        }
    }
    // A flag naming a credential followed by any literal value: the value is the credential.
    assert_refused_unseen(
        "runner-password-flag",
        &format!(
            "{REGISTRATION}artifactRepos:\n  workflowTemplates:\n    args: [run, --password, hunter2]\n"
        ),
        &[],
        "hunter2",
        "looks like a credential",
    );
}

#[test]
fn repo_urls_with_user_info_query_or_fragment_are_refused_unseen() {
    for (i, url) in [
        "https://user:hunter2@git.example.com/o/app.git",
        "https://hunter2@git.example.com/o/app.git",
        "https://git.example.com/o/app.git?token=hunter2",
        "https://git.example.com/o/app.git?private_token=hunter2",
        "https://git.example.com/o/app.git#hunter2",
        "ssh://git:hunter2@git.example.com/o/app.git",
        "git@git.example.com:o/app.git?hunter2",
    ]
    .iter()
    .enumerate()
    {
        assert_refused_unseen(
            &format!("repo-url-{i}"),
            &REGISTRATION.replace("https://git.example.com/o/app.git", url),
            &[],
            "hunter2",
            "(value hidden: looks like a credential)",
        );
    }
    // Guards: a user name in an ssh URL is not a credential.
    for ok in [
        "ssh://git@git.example.com/o/app.git",
        "git@git.example.com:o/app.git",
    ] {
        let (codes, all) = everything_printed(
            "repo-url-ok",
            &REGISTRATION.replace("https://git.example.com/o/app.git", ok),
            &[],
        );
        assert_eq!(codes, [Some(0), Some(0)], "{ok}: {all}");
    }
}

#[test]
fn path_like_fields_never_carry_a_credential() {
    for (i, secret) in SECRETS.iter().enumerate() {
        for (field, line) in [
            (
                "vault",
                format!("    externalSecretPath: team-a/{secret}/s3\n"),
            ),
            ("prefix", format!("    keyPrefix: runs/{secret}/\n")),
        ] {
            let values = REGISTRATION.replace("    externalSecretPath: team-a/s3\n", &line);
            let values = if field == "prefix" {
                values + "    externalSecretPath: team-a/s3\n"
            } else {
                values
            };
            assert_refused_unseen(
                &format!("path-{field}-{i}"),
                &values,
                &[],
                secret,
                "looks like",
            );
        }
        assert_refused_unseen(
            &format!("path-output-{i}"),
            &format!(
                "{REGISTRATION}artifactRepos:\n  workflowTemplates:\n    outputPath: /tmp/{secret}\n"
            ),
            &[],
            secret,
            "looks like",
        );
    }
}

#[test]
fn unknown_keys_and_invalid_values_that_look_like_credentials_are_not_echoed() {
    for (i, secret) in SECRETS.iter().enumerate() {
        // An unknown key shaped like a credential, in a section the tool reads.
        assert_refused_unseen(
            &format!("unknown-key-{i}"),
            &format!("{REGISTRATION}s3:\n  {secret}: x\n"),
            &[],
            secret,
            "(key hidden: looks like a credential)",
        );
        // An invalid value shaped like a credential where a name belongs.
        assert_refused_unseen(
            &format!("bad-value-{i}"),
            &REGISTRATION.replace("tenant: team-a", &format!("tenant: \"{secret}\"")),
            &[],
            secret,
            "looks like",
        );
        // `--set` with a credential-looking path or value.
        for set in [
            format!("repoRegistrations[0].{secret}=x"),
            format!("repoRegistrations[0].tenant={secret}"),
            format!("{secret}[x]=1"),
            secret.to_string(),
        ] {
            // A `.` splits a `--set` path: a JWT's pieces are keys, none the whole token.
            let why = if secret.contains('.') {
                ""
            } else {
                "looks like a credential"
            };
            assert_refused_unseen(
                &format!("set-{i}"),
                REGISTRATION,
                &["--set", &set],
                secret,
                why,
            );
        }
    }
}
