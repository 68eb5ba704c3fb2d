//! The KRM function with the real tools: kustomize v5.8.1 (`build --enable-alpha-plugins
//! --enable-exec`, the tool as an exec generator and as an exec transformer) and kpt v1.0.0-beta.54
//! (`fn eval --exec`, `fn render` with a Kptfile pipeline), both built from the Go module proxy into
//! `.tools/bin` by scripts/install-tools; a missing one fails the test. Both call the tool with no
//! arguments and a ResourceList on stdin, so these also test the sniffing of that call.

use crate::support::root;
use artifact_repos::yaml::{Node, parse_documents};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool(name: &str) -> PathBuf {
    let p = root().join(".tools/bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test (scripts/install-tools builds it)",
        p.display()
    );
    p
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("artifact-repos-krm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// PATH with this build's artifact-repos first (the functions name it `artifact-repos`).
fn path_env() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_artifact-repos"))
        .parent()
        .unwrap();
    format!("{}:/usr/bin:/bin", bin.display())
}

fn run(program: &Path, args: &[&str], cwd: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("PATH", path_env())
        .env("HOME", cwd)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn docs(text: &str) -> Vec<Node> {
    parse_documents("out", text.as_bytes(), usize::MAX).unwrap()
}

fn ids(docs: &[Node]) -> Vec<String> {
    let mut v: Vec<String> = docs
        .iter()
        .map(|d| {
            let s = |n: Option<&Node>| n.and_then(Node::as_str).unwrap_or("").to_string();
            let m = d.get("metadata");
            format!(
                "{} {}/{}",
                s(d.get("kind")),
                s(m.and_then(|m| m.get("namespace"))),
                s(m.and_then(|m| m.get("name")))
            )
        })
        .collect();
    v.sort();
    v
}

const VALUES: &str = "repoRegistrations:\n- name: genomics\n  repoUrl: https://github.com/lab/vc.git\n  tenant: genomics\n  artifactBucket: {bucket: g-artifacts, externalSecretPath: g/a}\n";

/// What `render` makes of VALUES with release name `tenants`.
fn rendered_ids(dir: &Path) -> Vec<String> {
    write(dir, "render-values.yaml", VALUES);
    let out = crate::support::run(
        &[
            "render",
            "-f",
            "render-values.yaml",
            "--release-name",
            "tenants",
        ],
        dir,
        None,
    );
    assert!(out.status.success());
    ids(&docs(&text(&out).0))
}

fn carrier(function_annotation: &str) -> String {
    let values: String = VALUES.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "apiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: tenants\n  annotations:\n{function_annotation}release:\n  name: tenants\nvalues:\n{values}"
    )
}

const EXEC_ANNOTATION: &str =
    "    config.kubernetes.io/function: |\n      exec:\n        path: artifact-repos\n";

const REGISTRATION: &str = "apiVersion: platform.calypr.io/v1alpha1\nkind: RepoRegistration\nmetadata:\n  name: variants\n  namespace: wf-poc\nspec:\n  repoUrl: https://github.com/lab/variants.git\n  tenant: variants\n  artifactBucket: {bucket: v-artifacts, externalSecretPath: v/a}\n";

const OTHER: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: wf-poc\n  annotations:\n    team: variants\ndata:\n  zip: \"012\"\n  flag: \"true\"\n";

#[test]
fn kustomize_runs_it_as_a_generator() {
    let dir = scratch("kustomize-generator");
    write(&dir, "carrier.yaml", &carrier(EXEC_ANNOTATION));
    write(&dir, "kustomization.yaml", "generators:\n- carrier.yaml\n");
    let kustomize = tool("kustomize");
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(ids(&docs(&stdout)), rendered_ids(&dir), "{stdout}");
    assert!(!stdout.contains("ValuesCarrier"));
    // Same input, same bytes.
    let again = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    assert_eq!(again.stdout, out.stdout);

    // Broken values: kustomize fails and shows the function's message.
    write(
        &dir,
        "carrier.yaml",
        &carrier(EXEC_ANNOTATION).replace("g-artifacts", "G_A"),
    );
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(
            "ValuesCarrier tenants: values.repoRegistrations[0].artifactBucket.bucket: `G_A`"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kustomize_runs_it_as_a_transformer() {
    let dir = scratch("kustomize-transformer");
    write(
        &dir,
        "fn.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repos\n  annotations:\n{EXEC_ANNOTATION}data:\n  releaseName: tenants\n  values: |\n    artifactRepos:\n      externalSecrets: {{pathPrefix: kv}}\n"
        ),
    );
    write(&dir, "registration.yaml", REGISTRATION);
    write(&dir, "other.yaml", OTHER);
    write(
        &dir,
        "kustomization.yaml",
        "resources:\n- other.yaml\n- registration.yaml\ntransformers:\n- fn.yaml\n",
    );
    let kustomize = tool("kustomize");
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let got = docs(&stdout);
    // The other object and the registration come back unchanged.
    let other = docs(OTHER).remove(0);
    assert!(got.contains(&other), "{stdout}");
    assert!(got.contains(&docs(REGISTRATION).remove(0)), "{stdout}");
    for want in [
        "ExternalSecret wf-poc/s3-credentials-variants",
        "WorkflowTemplate wf-poc/variants",
        "ConfigMap wf-poc/artifact-repositories",
    ] {
        assert!(
            ids(&got).iter().any(|i| i == want),
            "no {want} in {:?}",
            ids(&got)
        );
    }

    // A broken registration: the message points into the object.
    write(
        &dir,
        "registration.yaml",
        &REGISTRATION.replace("v-artifacts", "V_A"),
    );
    let out = run(
        &kustomize,
        &["build", "--enable-alpha-plugins", "--enable-exec", "."],
        &dir,
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("RepoRegistration wf-poc/variants: spec.artifactBucket.bucket: `V_A`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The objects of every YAML file under `dir`, except the Kptfile and the function's config
/// (outside the package for `fn eval`, kept in it for `fn render`).
fn package_ids(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for f in files(dir) {
        if f == "Kptfile" || f == "carrier.yaml" || f == "render-values.yaml" {
            continue;
        }
        all.extend(docs(&std::fs::read_to_string(dir.join(f)).unwrap()));
    }
    ids(&all)
}

#[test]
fn kpt_fn_eval_runs_it_with_exec() {
    let dir = scratch("kpt-eval");
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    write(&pkg, "other.yaml", OTHER);
    write(&dir, "carrier.yaml", &carrier(""));
    let kpt = tool("kpt");
    let exe = env!("CARGO_BIN_EXE_artifact-repos");
    let args = [
        "fn",
        "eval",
        "pkg",
        "--exec",
        exe,
        "--fn-config",
        "carrier.yaml",
    ];
    let out = run(&kpt, &args, &dir);
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let mut want = rendered_ids(&dir);
    want.push("ConfigMap wf-poc/other".into());
    want.sort();
    assert_eq!(package_ids(&pkg), want);
    // The other object is unchanged.
    assert_eq!(
        docs(&std::fs::read_to_string(pkg.join("other.yaml")).unwrap()),
        docs(OTHER)
    );

    // Broken values: kpt fails, shows the result, and leaves the package as it was.
    let before = files(&pkg);
    write(
        &dir,
        "carrier.yaml",
        &carrier("").replace("g-artifacts", "G_A"),
    );
    let out = run(&kpt, &args, &dir);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("`G_A`"), "{all}");
    assert_eq!(files(&pkg), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kpt_fn_render_runs_it_from_a_kptfile_pipeline() {
    let dir = scratch("kpt-render");
    let carrier = carrier("    config.kubernetes.io/local-config: \"true\"\n");
    write(&dir, "carrier.yaml", &carrier);
    write(&dir, "registration.yaml", REGISTRATION);
    write(
        &dir,
        "Kptfile",
        &format!(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: tenants\npipeline:\n  mutators:\n  - exec: {}\n    configPath: carrier.yaml\n",
            env!("CARGO_BIN_EXE_artifact-repos")
        ),
    );
    let kpt = tool("kpt");
    let out = run(&kpt, &["fn", "render", ".", "--allow-exec"], &dir);
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let got = package_ids(&dir);
    // The carrier's registration and the RepoRegistration item both generate.
    for want in [
        "WorkflowTemplate genomics/genomics",
        "WorkflowTemplate wf-poc/variants",
        "ExternalSecret wf-poc/s3-credentials-variants",
    ] {
        assert!(got.iter().any(|i| i == want), "no {want} in {got:?}");
    }
    assert!(
        got.iter().any(|i| i == "RepoRegistration wf-poc/variants"),
        "{got:?}"
    );
    // The config and the registration come back unchanged.
    assert_eq!(
        docs(&std::fs::read_to_string(dir.join("carrier.yaml")).unwrap()),
        docs(&carrier)
    );
    let registration = std::fs::read_to_string(dir.join("registration.yaml")).unwrap();
    assert_eq!(docs(&registration), docs(REGISTRATION));
    // Rendering again changes nothing: the objects it finds are the ones it would generate.
    let snapshot: Vec<(String, String)> = files(&dir)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read_to_string(dir.join(&f)).unwrap()))
        .collect();
    let out = run(&kpt, &["fn", "render", ".", "--allow-exec"], &dir);
    assert!(out.status.success(), "{}", text(&out).1);
    let again: Vec<(String, String)> = files(&dir)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read_to_string(dir.join(&f)).unwrap()))
        .collect();
    assert_eq!(again, snapshot);
    // Without --allow-exec kpt refuses to run it.
    let out = run(&kpt, &["fn", "render", "."], &dir);
    assert!(!out.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

/// An object the function does not own, written as people write them: comments, an octal-looking
/// `defaultMode`, an integer beyond 64 bits, a tag. #20: it came back as `'0400'`, a float, no
/// comment and no tag.
const UNUSUAL: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: keep # why it is here\n  namespace: wf-poc\nspec:\n  volumes:\n  - name: s\n    secret:\n      secretName: s\n      defaultMode: 0400\n  containers:\n  - name: c\n    image: busybox\n    env:\n    - name: BIG\n      value: !!str 12345678901234567890\n";

/// The files of `dir` as (path, text), for comparing whole packages.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    files(dir)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read_to_string(dir.join(&f)).unwrap()))
        .collect()
}

/// #21 item 3: `kpt fn eval` twice, the values changed in between (a bucket, a new tenant, a
/// removed tenant): each run converges to what a fresh run over the same values gives, and the
/// object the function does not own stays byte for byte what was written.
#[test]
fn kpt_fn_eval_reruns_after_values_changes() {
    let dir = scratch("kpt-eval-rerun");
    let pkg = dir.join("pkg");
    let fresh = dir.join("fresh");
    std::fs::create_dir_all(&pkg).unwrap();
    write(&pkg, "unusual.yaml", UNUSUAL);
    let kpt = tool("kpt");
    let exe = env!("CARGO_BIN_EXE_artifact-repos");
    let eval = |pkg: &Path| {
        let out = run(
            &kpt,
            &[
                "fn",
                "eval",
                pkg.to_str().unwrap(),
                "--exec",
                exe,
                "--fn-config",
                "carrier.yaml",
            ],
            &dir,
        );
        assert!(out.status.success(), "{}", text(&out).1);
    };
    write(&dir, "carrier.yaml", &carrier(""));
    eval(&pkg);
    assert_eq!(
        std::fs::read_to_string(pkg.join("unusual.yaml")).unwrap(),
        UNUSUAL
    );
    let second = "  - {name: variants, repoUrl: 'https://github.com/lab/v.git', tenant: variants, artifactBucket: {bucket: v-b, externalSecretPath: v/a}}\n";
    for values in [
        carrier("").replace("g-artifacts", "g-new"),
        carrier("").replace(
            "  repoRegistrations:\n",
            &format!("  repoRegistrations:\n{second}"),
        ),
        carrier("").replace(
            &VALUES
                .lines()
                .skip(1)
                .map(|l| format!("  {l}\n"))
                .collect::<String>(),
            second,
        ),
    ] {
        write(&dir, "carrier.yaml", &values);
        eval(&pkg);
        let _ = std::fs::remove_dir_all(&fresh);
        std::fs::create_dir_all(&fresh).unwrap();
        write(&fresh, "unusual.yaml", UNUSUAL);
        eval(&fresh);
        assert_eq!(package_ids(&pkg), package_ids(&fresh), "{values}");
        let objects = |d: &Path| {
            let mut all = Vec::new();
            for f in files(d) {
                all.extend(docs(&std::fs::read_to_string(d.join(f)).unwrap()));
            }
            let mut v: Vec<String> = all.iter().map(|n| format!("{n:?}")).collect();
            v.sort();
            v
        };
        assert_eq!(objects(&pkg), objects(&fresh), "{values}");
        assert_eq!(
            std::fs::read_to_string(pkg.join("unusual.yaml")).unwrap(),
            UNUSUAL
        );
    }
    // The last values name only `variants`: nothing of genomics is left.
    assert!(
        !package_ids(&pkg).iter().any(|i| i.contains("genomics")),
        "{:?}",
        package_ids(&pkg)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// #21 item 3: `kpt fn render` twice with a Kptfile pipeline, the bucket changed in between: the
/// second render succeeds and rewrites the earlier output in place; a third changes nothing.
#[test]
fn kpt_fn_render_reruns_after_a_values_change() {
    let dir = scratch("kpt-render-rerun");
    let local = "    config.kubernetes.io/local-config: \"true\"\n";
    write(&dir, "carrier.yaml", &carrier(local));
    write(&dir, "unusual.yaml", UNUSUAL);
    write(
        &dir,
        "Kptfile",
        &format!(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: tenants\npipeline:\n  mutators:\n  - exec: {}\n    configPath: carrier.yaml\n",
            env!("CARGO_BIN_EXE_artifact-repos")
        ),
    );
    let kpt = tool("kpt");
    let render = || {
        let out = run(&kpt, &["fn", "render", ".", "--allow-exec"], &dir);
        assert!(out.status.success(), "{}", text(&out).1);
    };
    render();
    let before = snapshot(&dir);
    write(
        &dir,
        "carrier.yaml",
        &carrier(local).replace("g-artifacts", "g-new"),
    );
    render();
    let all: String = files(&dir)
        .iter()
        .filter(|f| *f != "carrier.yaml")
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    assert!(all.contains("bucket: g-new"), "{all}");
    assert!(!all.contains("g-artifacts"), "{all}");
    // The same files: each object was rewritten where kpt had put it.
    let names = |s: &[(String, String)]| s.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
    assert_eq!(names(&snapshot(&dir)), names(&before));
    assert_eq!(
        std::fs::read_to_string(dir.join("unusual.yaml")).unwrap(),
        UNUSUAL
    );
    let settled = snapshot(&dir);
    render();
    assert_eq!(snapshot(&dir), settled);
    std::fs::remove_dir_all(&dir).ok();
}

/// kustomize over resources that hold the function's earlier output (committed, say) and a
/// changed functionConfig: the output holds the new objects once, not a collision; an object the
/// function does not own comes out as kustomize writes it without the function.
#[test]
fn kustomize_replaces_the_functions_earlier_output() {
    let dir = scratch("kustomize-rerun");
    write(&dir, "carrier.yaml", &carrier(EXEC_ANNOTATION));
    write(&dir, "kustomization.yaml", "generators:\n- carrier.yaml\n");
    let kustomize = tool("kustomize");
    let build = |dir: &Path| {
        let out = run(
            &kustomize,
            &["build", "--enable-alpha-plugins", "--enable-exec", "."],
            dir,
        );
        assert!(out.status.success(), "{}", text(&out).1);
        text(&out).0
    };
    let earlier = build(&dir);
    write(&dir, "earlier.yaml", &earlier);
    write(&dir, "unusual.yaml", UNUSUAL);
    write(
        &dir,
        "fn.yaml",
        &carrier(EXEC_ANNOTATION).replace("g-artifacts", "g-new"),
    );
    write(
        &dir,
        "kustomization.yaml",
        "resources:\n- earlier.yaml\n- unusual.yaml\ntransformers:\n- fn.yaml\n",
    );
    let got = build(&dir);
    assert!(got.contains("bucket: g-new"), "{got}");
    assert!(!got.contains("g-artifacts"), "{got}");
    // What a fresh build with the new values gives, plus the other object.
    let fresh = scratch("kustomize-rerun-fresh");
    write(
        &fresh,
        "carrier.yaml",
        &carrier(EXEC_ANNOTATION).replace("g-artifacts", "g-new"),
    );
    write(
        &fresh,
        "kustomization.yaml",
        "generators:\n- carrier.yaml\n",
    );
    let mut want = ids(&docs(&build(&fresh)));
    want.push("Pod wf-poc/keep".into());
    want.sort();
    assert_eq!(ids(&docs(&got)), want);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&fresh).ok();
}
