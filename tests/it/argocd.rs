//! The Argo CD Config Management Plugin, run as the repo-server sidecar runs it: the generate command
//! of argocd/plugin.yaml, in a copy of the Application's source directory, with only the environment
//! Argo CD sets (ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE, ARGOCD_APP_PARAMETERS built from the shipped
//! Application's `spec.source.plugin.parameters`, KUBE_VERSION, KUBE_API_VERSIONS), no HOME, as an
//! unprivileged user (uid/gid 65534 through `setpriv` when the test runs as root). Both kinds of
//! source (a values directory, a chart with the values carrier), good and broken values. Helm is
//! the pinned `.tools/bin/helm4` (scripts/install-tools); a missing one fails the test.

use crate::support::root;
use artifact_repos::yaml::{Node, parse_documents};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn yaml(path: &Path) -> Node {
    let bytes = std::fs::read(path).unwrap();
    parse_documents(&path.display().to_string(), &bytes, usize::MAX)
        .unwrap()
        .remove(0)
}

/// A fresh directory everyone can read, under the temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "artifact-repos-argocd-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn chmod_readable(dir: &Path) {
    let ok = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// The sidecar's PATH: this build of artifact-repos and the pinned helm, copied where the
/// unprivileged user can run them.
fn sidecar_bin(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_artifact-repos"),
        bin.join("artifact-repos"),
    )
    .unwrap();
    let helm = root().join(".tools/bin/helm4");
    assert!(
        helm.is_file(),
        "{} is missing: run scripts/test (scripts/install-tools installs it)",
        helm.display()
    );
    std::fs::copy(&helm, bin.join("helm")).unwrap();
    bin
}

/// `ARGOCD_APP_PARAMETERS` as Argo CD builds it from an Application's plugin parameters.
fn app_parameters(app: &Node) -> String {
    let params = app
        .get("spec")
        .and_then(|s| s.get("source"))
        .and_then(|s| s.get("plugin"))
        .and_then(|p| p.get("parameters"))
        .cloned()
        .unwrap_or(Node::Seq(Vec::new()));
    serde_json::to_string(&params).unwrap()
}

struct App {
    name: String,
    namespace: String,
    parameters: String,
}

fn shipped_app(file: &str) -> App {
    let app = yaml(&root().join("argocd").join(file));
    let text = |n: Option<&Node>| n.and_then(Node::as_str).unwrap().to_string();
    App {
        name: text(app.get("metadata").and_then(|m| m.get("name"))),
        namespace: text(
            app.get("spec")
                .and_then(|s| s.get("destination"))
                .and_then(|d| d.get("namespace")),
        ),
        parameters: app_parameters(&app),
    }
}

/// Runs plugin.yaml's generate command in `source` as the sidecar would.
fn generate(bin: &Path, source: &Path, app: &App) -> Output {
    generate_env(bin, source, app, &[])
}

/// `generate` with more of the environment Argo CD sets (`ARGOCD_APP_SOURCE_PATH`).
fn generate_env(bin: &Path, source: &Path, app: &App, extra: &[(&str, &str)]) -> Output {
    let plugin = yaml(&root().join("argocd/plugin.yaml"));
    let generate = plugin.get("spec").and_then(|s| s.get("generate")).unwrap();
    let mut argv: Vec<String> = generate
        .get("command")
        .and_then(Node::as_seq)
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    if let Some(args) = generate.get("args").and_then(Node::as_seq) {
        argv.extend(args.iter().map(|n| n.as_str().unwrap().to_string()));
    }
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut cmd = if root_user {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ]);
        c.args(&argv);
        c
    } else {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    let path = format!("{}:/usr/bin:/bin", bin.display());
    if !root_user {
        // The program is looked up on the sidecar's PATH, not the test's.
        cmd = Command::new(bin.join(&argv[0]));
        cmd.args(&argv[1..]);
    }
    cmd.current_dir(source)
        .env_clear()
        .env("PATH", path)
        .env("ARGOCD_APP_NAME", &app.name)
        .env("ARGOCD_APP_NAMESPACE", &app.namespace)
        .env("ARGOCD_APP_PARAMETERS", &app.parameters)
        .env("KUBE_VERSION", "1.31.0")
        .env(
            "KUBE_API_VERSIONS",
            "v1,apps/v1,rbac.authorization.k8s.io/v1,argoproj.io/v1alpha1,external-secrets.io/v1",
        )
        .envs(extra.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the generate command runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn kinds(stdout: &[u8]) -> Vec<String> {
    parse_documents("out", stdout, usize::MAX)
        .unwrap()
        .iter()
        .map(|d| d.get("kind").and_then(Node::as_str).unwrap().to_string())
        .collect()
}

#[test]
fn values_directory_app_as_the_sidecar_runs_it() {
    let dir = scratch("values");
    let bin = sidecar_bin(&dir);
    let app = shipped_app("application-values.yaml");
    assert_eq!(
        app.parameters,
        r#"[{"name":"values-files","array":["settings.yaml"]}]"#
    );
    let source = dir.join("src");
    copy_dir(&root().join("examples/repo-registrations"), &source);
    chmod_readable(&dir);

    let out = generate(&bin, &source, &app);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The same objects `render` makes from the same files, labelled with the Application's name.
    let render = crate::support::run(
        &[
            "render",
            "-f",
            "settings.yaml",
            "-f",
            "registrations",
            "--release-name",
            &app.name,
        ],
        &source,
        None,
    );
    assert!(render.status.success(), "{}", stderr(&render));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&render.stdout)
    );
    assert!(
        stderr(&out).contains("values.yaml: is neither a values file"),
        "{}",
        stderr(&out)
    );
    // Same input, same bytes.
    assert_eq!(generate(&bin, &source, &app).stdout, out.stdout);

    // A broken registration: exit 2, nothing on stdout, the path into the object and the value.
    let reg = source.join("registrations/genomics-variant-calling.yaml");
    let text = std::fs::read_to_string(&reg).unwrap();
    let broken = text.replacen("bucket: ", "bucket: Bad_Bucket #", 1);
    assert_ne!(broken, text);
    std::fs::write(&reg, broken).unwrap();
    let out = generate(&bin, &source, &app);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "partial output: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(&out);
    assert!(
        err.contains("registrations/genomics-variant-calling.yaml: RepoRegistration"),
        "{err}"
    );
    assert!(
        err.contains("spec.artifactBucket.bucket") && err.contains("`Bad_Bucket`"),
        "{err}"
    );
    std::fs::write(&reg, text).unwrap();

    // A values file the parameters name but the directory lacks; no parameters at all reads
    // values.yaml (here the inline registrations of examples/repo-registrations/values.yaml).
    let missing = App {
        parameters: r#"[{"name":"values-files","array":["prod.yaml"]}]"#.into(),
        ..shipped_app("application-values.yaml")
    };
    let out = generate(&bin, &source, &missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("values-files (prod.yaml): cannot read `prod.yaml`"),
        "{}",
        stderr(&out)
    );
    let default = App {
        parameters: "null".into(),
        ..shipped_app("application-values.yaml")
    };
    let out = generate(&bin, &source, &default);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn chart_app_as_the_sidecar_runs_it() {
    let dir = scratch("chart");
    let bin = sidecar_bin(&dir);
    let app = shipped_app("application-chart.yaml");
    let source = dir.join("src");
    copy_dir(&root().join("charts/artifact-repos"), &source);
    chmod_readable(&dir);

    let out = generate(&bin, &source, &app);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let kinds = kinds(&out.stdout);
    for want in [
        "Namespace",
        "ConfigMap",
        "ExternalSecret",
        "WorkflowTemplate",
    ] {
        assert!(kinds.iter().any(|k| k == want), "no {want} in {kinds:?}");
    }
    assert!(
        !text.contains("ValuesCarrier"),
        "the carrier must not reach Argo CD"
    );
    assert!(
        text.contains("app.kubernetes.io/instance: tenants-chart"),
        "{text}"
    );
    assert!(text.contains("g-artifacts"), "{text}");
    assert_eq!(generate(&bin, &source, &app).stdout, out.stdout);

    // Broken values: exit 2, nothing on stdout, the offending value named (here the chart's
    // schema, read by helm, catches it first; helm's message is passed on).
    let broken = App {
        parameters: app.parameters.replace("g-artifacts", "G_Artifacts"),
        ..shipped_app("application-chart.yaml")
    };
    let out = generate(&bin, &source, &broken);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("artifactBucket") && err.contains("G_Artifacts"),
        "{err}"
    );

    // The chart's own values only (no registrations): refused, not an empty stream.
    let empty = App {
        parameters: "[]".into(),
        ..shipped_app("application-chart.yaml")
    };
    let out = generate(&bin, &source, &empty);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("would be empty"), "{}", stderr(&out));

    // helm itself failing (a values file that is not there) is reported with helm's message.
    let missing = App {
        parameters: r#"[{"name":"values-files","array":["prod.yaml"]}]"#.into(),
        ..shipped_app("application-chart.yaml")
    };
    let out = generate(&bin, &source, &missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("prod.yaml"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plugin_and_sidecar_are_what_argo_cd_expects() {
    let plugin = yaml(&root().join("argocd/plugin.yaml"));
    assert_eq!(
        plugin.get("kind").and_then(Node::as_str),
        Some("ConfigManagementPlugin")
    );
    assert_eq!(
        plugin.get("apiVersion").and_then(Node::as_str),
        Some("argoproj.io/v1alpha1")
    );
    let spec = plugin.get("spec").unwrap();
    let announced: Vec<&str> = spec
        .get("parameters")
        .and_then(|p| p.get("static"))
        .and_then(Node::as_seq)
        .unwrap()
        .iter()
        .map(|p| p.get("name").and_then(Node::as_str).unwrap())
        .collect();
    assert_eq!(
        announced,
        [
            artifact_repos::deploy::argocd::PARAM_VALUES_FILES,
            artifact_repos::deploy::argocd::PARAM_SET
        ]
    );
    let patch = yaml(&root().join("argocd/repo-server-patch.yaml"));
    let pod = patch
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"))
        .unwrap();
    let sidecar = pod.get("containers").and_then(Node::as_seq).unwrap()[0].clone();
    let cmd = sidecar.get("command").and_then(Node::as_seq).unwrap();
    assert_eq!(cmd, [Node::Str("/var/run/argocd/argocd-cmp-server".into())]);
    let sc = sidecar.get("securityContext").unwrap();
    assert_eq!(sc.get("runAsNonRoot"), Some(&Node::Bool(true)));
    assert_eq!(sc.get("allowPrivilegeEscalation"), Some(&Node::Bool(false)));
    let mounts: Vec<&str> = sidecar
        .get("volumeMounts")
        .and_then(Node::as_seq)
        .unwrap()
        .iter()
        .map(|m| m.get("mountPath").and_then(Node::as_str).unwrap())
        .collect();
    for want in [
        "/var/run/argocd",
        "/home/argocd/cmp-server/plugins",
        "/home/argocd/cmp-server/config/plugin.yaml",
        "/tmp",
    ] {
        assert!(mounts.contains(&want), "{want} not mounted: {mounts:?}");
    }
}

const UMBRELLA_VALUES: &str = "artifact-repos:\n  repoRegistrations:\n  - name: genomics\n    repoUrl: https://github.com/genomics-lab/vc.git\n    tenant: genomics-lab\n    artifactBucket: {bucket: g-artifacts, externalSecretPath: genomics/s3}\n";

/// #20: an umbrella chart whose dependency is not vendored (`file://` to charts/artifact-repos, as
/// in a platform repository) failed for good: nothing ran `helm dependency build`. Now generate
/// builds it from where Chart.yaml says; a `file://` path out of the repository is refused.
#[test]
fn umbrella_chart_dependencies_are_built() {
    let dir = scratch("umbrella");
    let bin = sidecar_bin(&dir);
    let repo = dir.join("repo");
    copy_dir(
        &root().join("charts/artifact-repos"),
        &repo.join("charts/artifact-repos"),
    );
    let umbrella = repo.join("deploy/umbrella");
    std::fs::create_dir_all(&umbrella).unwrap();
    let version = std::fs::read_to_string(root().join("charts/artifact-repos/Chart.yaml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("version: ").map(str::to_string))
        .unwrap();
    let chart = |repository: &str| {
        format!(
            "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: artifact-repos\n  version: {version}\n  repository: {repository}\n"
        )
    };
    std::fs::write(
        umbrella.join("Chart.yaml"),
        chart("file://../../charts/artifact-repos"),
    )
    .unwrap();
    std::fs::write(umbrella.join("values.yaml"), UMBRELLA_VALUES).unwrap();
    chmod_readable(&dir);
    // helm writes the built dependency into the source's charts/, as in the sidecar's copy.
    assert!(
        Command::new("chmod")
            .args(["-R", "a+w"])
            .arg(&umbrella)
            .status()
            .unwrap()
            .success()
    );
    let app = App {
        name: "tenants".into(),
        namespace: "argo".into(),
        parameters: "[]".into(),
    };
    let source_path = [("ARGOCD_APP_SOURCE_PATH", "deploy/umbrella")];
    let out = generate_env(&bin, &umbrella, &app, &source_path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("g-artifacts"), "{text}");
    assert!(!text.contains("ValuesCarrier"), "{text}");
    let kinds = kinds(&out.stdout);
    assert!(kinds.iter().any(|k| k == "WorkflowTemplate"), "{kinds:?}");
    // Built once, vendored from then on: the same output.
    let again = generate_env(&bin, &umbrella, &app, &source_path);
    assert_eq!(again.stdout, out.stdout, "{}", stderr(&again));

    // A `file://` dependency out of the repository: refused before helm runs.
    let _ = std::fs::remove_dir_all(umbrella.join("charts"));
    let _ = std::fs::remove_file(umbrella.join("Chart.lock"));
    std::fs::write(umbrella.join("Chart.yaml"), chart("file:///etc")).unwrap();
    let out = generate_env(&bin, &umbrella, &app, &source_path);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out)
            .contains("dependencies[0].repository: `file:///etc` leads out of the repository"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// #20, source confinement on both source kinds: a values file that links out of the source, a
/// `/dev/zero` link and a FIFO in a chart source, a values-files URL: each is exit 2 before helm
/// or the reader touches it (a FIFO used to hang helm, `/dev/zero` to grow it without bound).
/// And no credential from the parameters in what is printed when helm fails.
#[test]
fn sources_are_confined_and_errors_screened() {
    let dir = scratch("confine");
    let bin = sidecar_bin(&dir);
    let chart = dir.join("chart");
    copy_dir(&root().join("charts/artifact-repos"), &chart);
    let values = dir.join("values");
    std::fs::create_dir_all(&values).unwrap();
    std::fs::write(
        values.join("values.yaml"),
        UMBRELLA_VALUES
            .replace("artifact-repos:\n", "")
            .replace("\n  ", "\n"),
    )
    .unwrap();
    std::fs::write(dir.join("secret.yaml"), "repoRegistrations: []\n").unwrap();
    chmod_readable(&dir);
    let app = |parameters: &str| App {
        name: "tenants".into(),
        namespace: "argo".into(),
        parameters: parameters.into(),
    };
    let refused = |source: &Path, parameters: &str, want: &str| {
        let out = generate(&bin, source, &app(parameters));
        assert_eq!(out.status.code(), Some(2), "{want}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(stderr(&out).contains(want), "{want}: {}", stderr(&out));
    };
    let files = |f: &str| format!(r#"[{{"name":"values-files","array":["{f}"]}}]"#);
    for source in [&chart, &values] {
        std::os::unix::fs::symlink(dir.join("secret.yaml"), source.join("linked.yaml")).unwrap();
        refused(
            source,
            &files("linked.yaml"),
            "`linked.yaml`: is a symbolic link out of the source directory",
        );
        std::fs::remove_file(source.join("linked.yaml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", source.join("zero.yaml")).unwrap();
        refused(
            source,
            "[]",
            "`zero.yaml`: is a symbolic link out of the source directory",
        );
        std::fs::remove_file(source.join("zero.yaml")).unwrap();
        assert!(
            Command::new("mkfifo")
                .arg(source.join("pipe"))
                .status()
                .unwrap()
                .success()
        );
        refused(source, "[]", "`pipe`: is a FIFO, not a regular file");
        std::fs::remove_file(source.join("pipe")).unwrap();
        refused(
            source,
            &files("http://169.254.169.254/latest/meta-data/"),
            "holds `:`, which helm reads as a URL",
        );
    }
    // helm fails (a missing values file) with a credential among the `set` values: the command
    // line it prints hides it.
    let key = "AKIAIOSFODNN7EXAMPLE";
    let out = generate(
        &bin,
        &chart,
        &app(&format!(
            r#"[{{"name":"values-files","array":["missing.yaml"]}},{{"name":"set","map":{{"s3.accessKeyId":"{key}"}}}}]"#
        )),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.yaml"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(key), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}
