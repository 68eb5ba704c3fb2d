//! The post-renderer under real Helm: v3.18.0 (`--post-renderer <binary>`, with and without
//! `--post-renderer-args`) and v4.1.4 (the plugin in `plugin/artifact-repos`, installed by
//! `scripts/install-helm-plugin` and by `helm plugin install`). Each test runs Helm with its own
//! cache, config, data and plugin directories. The binaries come from `HELM3`/`HELM4` or
//! `.tools/bin/helm3|helm4` (put there by `scripts/test`); a missing one fails the test.
//!
//! What must hold: `helm template` of `charts/artifact-repos` gives exactly the objects `render`
//! gives for the same values and release name; `--set` reaches them; documents the post-renderer
//! does not own (hooks under Helm 4 included) come out as they do without it; Helm 3's
//! `--show-only` finds the generated documents; bad values fail Helm with our message (Helm 3) or
//! in the log file (Helm 4).

use artifact_repos::yaml::stream::split;
use artifact_repos::yaml::{Node, parse_documents};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_artifact-repos");
const CARRIER_SOURCE: &str = "artifact-repos/templates/values-carrier.yaml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An isolated Helm of one major version.
pub(crate) struct Helm {
    bin: PathBuf,
    home: PathBuf,
    major: u8,
}

pub(crate) fn helm(major: u8, test: &str) -> Helm {
    let var = format!("HELM{major}");
    let bin = std::env::var_os(&var)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(format!(".tools/bin/helm{major}")));
    assert!(
        bin.is_file(),
        "helm {major} not found at `{}`: run scripts/test (it installs helm v3.18.0 and v4.1.4 into .tools/bin) or set {var}",
        bin.display()
    );
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("helm{major}-{test}"));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let h = Helm { bin, home, major };
    let version = h.run(&["version", "--short"]);
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.starts_with(&format!("v{major}.")),
        "`{}` is helm {version}, expected helm {major}",
        h.bin.display()
    );
    if major == 4 {
        let out = Command::new(root().join("scripts/install-helm-plugin"))
            .args(["--helm".as_ref(), h.bin.as_os_str()])
            .args(["--binary", BIN])
            .args(["--plugins-dir".as_ref(), h.home.join("plugins").as_os_str()])
            .output()
            .unwrap();
        succeeded(&out);
        // A post-renderer that changes nothing, to tell Helm 4's own rewriting from ours.
        let identity = h.home.join("plugins/identity");
        std::fs::create_dir_all(&identity).unwrap();
        std::fs::write(
            identity.join("plugin.yaml"),
            "apiVersion: v1\ntype: postrenderer/v1\nname: identity\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: /bin/cat\n",
        )
        .unwrap();
    }
    h
}

impl Helm {
    pub(crate) fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("HELM_CACHE_HOME", self.home.join("cache"))
            .env("HELM_CONFIG_HOME", self.home.join("config"))
            .env("HELM_DATA_HOME", self.home.join("data"))
            .env("HELM_PLUGINS", self.home.join("plugins"))
            .env("KUBECONFIG", self.home.join("no-kubeconfig"))
            .env_remove("ARTIFACT_REPOS_LOG")
            .current_dir(root());
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// The flags that attach the post-renderer.
    pub(crate) fn post_renderer(&self) -> Vec<&'static str> {
        if self.major == 3 {
            vec!["--post-renderer", BIN]
        } else {
            vec!["--post-renderer", "artifact-repos"]
        }
    }

    /// `helm template rel CHART -n argo ARGS... [post-renderer]`, which must succeed.
    fn template(&self, chart: &Path, args: &[&str], post_render: bool) -> String {
        let mut all = vec!["template", "rel", chart.to_str().unwrap(), "-n", "argo"];
        all.extend_from_slice(args);
        if post_render {
            all.extend(self.post_renderer());
        }
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "helm {} {all:?} failed:\n{}",
            self.major,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Fails the test with the command's stderr unless it exited 0.
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn chart() -> PathBuf {
    root().join("charts/artifact-repos")
}

/// The chart plus the templates of `fixtures/postrender/helm/templates` (a hook and a document
/// with comments, anchors and an indented `---`).
fn chart_with_extras(helm: &Helm) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let dest = helm.home.join("artifact-repos");
    copy(&chart(), &dest);
    copy(
        &root().join("fixtures/postrender/helm/templates"),
        &dest.join("templates"),
    );
    dest
}

/// The documents `artifact-repos render` prints for the seed values and these extra arguments, as
/// the post-renderer generates them.
fn rendered(extra: &[&str]) -> Vec<Node> {
    let out = Command::new(BIN)
        .args([
            "render",
            "-f",
            "examples/seed-values.yaml",
            "--release-name",
            "rel",
        ])
        .args(extra)
        .current_dir(root())
        .output()
        .unwrap();
    succeeded(&out);
    // What the post-renderer generates: `render`'s objects, labelled `managed-by: Helm` (what
    // Helm leaves on what it installs) instead of the tool's name.
    let text = String::from_utf8(out.stdout).unwrap().replace(
        "app.kubernetes.io/managed-by: artifact-repos\n",
        "app.kubernetes.io/managed-by: Helm\n",
    );
    let docs = parse_documents("render", text.as_bytes(), usize::MAX).unwrap();
    assert!(!docs.is_empty(), "render printed no objects");
    docs
}

fn docs(text: &str) -> Vec<Node> {
    parse_documents("helm output", text.as_bytes(), usize::MAX).unwrap()
}

fn kind_of(n: &Node) -> &str {
    n.get("kind").and_then(Node::as_str).unwrap_or("")
}

/// Pieces of a `helm template` output that did not come from the carrier, as text.
fn foreign_pieces(text: &str) -> Vec<String> {
    split(text.as_bytes())
        .iter()
        .filter(|p| p.source() != Some(CARRIER_SOURCE))
        .map(|p| String::from_utf8(p.bytes.to_vec()).unwrap())
        .collect()
}

fn generated_pieces(text: &str) -> usize {
    split(text.as_bytes())
        .iter()
        .filter(|p| p.source() == Some(CARRIER_SOURCE))
        .count()
}

#[test]
fn helm3_post_renderer_with_and_without_args_gives_render_objects() {
    let h = helm(3, "seed");
    let seed = ["-f", "examples/seed-values.yaml"];
    let plain = h.template(&chart(), &seed, true);
    let mut with_args = seed.to_vec();
    with_args.extend(["--post-renderer-args", "post-render"]);
    let explicit = h.template(&chart(), &with_args, true);
    assert_eq!(plain, explicit);
    assert!(!plain.contains("ValuesCarrier"), "{plain}");
    let expected = rendered(&[]);
    assert_eq!(docs(&plain), expected);
    assert_valid(&plain);
    // Every generated document is labelled with the carrier's template for `--show-only`.
    assert_eq!(generated_pieces(&plain), expected.len());
    // Without the post-renderer the carrier is all there is, and it names the release.
    let bare = h.template(&chart(), &seed, false);
    let carrier = docs(&bare);
    assert_eq!(carrier.len(), 1);
    assert_eq!(kind_of(&carrier[0]), "ValuesCarrier");
    let release = carrier[0].get("release").unwrap();
    assert_eq!(release.get("name").and_then(Node::as_str), Some("rel"));
    assert_eq!(
        release.get("namespace").and_then(Node::as_str),
        Some("argo")
    );
}

#[test]
fn helm4_plugin_gives_render_objects() {
    let h = helm(4, "seed");
    let out = h.template(&chart(), &["-f", "examples/seed-values.yaml"], true);
    assert!(!out.contains("ValuesCarrier"), "{out}");
    // Helm 4 strips the filename annotation it reads back, so what is left is `render`'s output.
    assert!(!out.contains("postrenderer.helm.sh"), "{out}");
    assert_eq!(docs(&out), rendered(&[]));
    assert_valid(&out);
}

/// Helm's output passes the checks the render tests apply: schemas and Argo's resolution.
fn assert_valid(stream: &str) {
    let (report, code) = crate::support::validate_text(stream, &[]);
    assert_eq!(code, 0, "{report:#}");
    let buckets: Vec<&str> = report["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["bucket"].as_str())
        .collect();
    assert_eq!(
        buckets,
        ["my-project-artifacts", "genomics-artifacts"],
        "{report:#}"
    );
}

#[test]
fn helm4_plugin_installs_with_helm_plugin_install() {
    let h = helm(4, "plugin-install");
    // A directory laid out as the plugin expects, installed by Helm itself into its data home.
    let staged = h.home.join("staged/artifact-repos");
    std::fs::create_dir_all(staged.join("bin")).unwrap();
    std::fs::copy(
        root().join("plugin/artifact-repos/plugin.yaml"),
        staged.join("plugin.yaml"),
    )
    .unwrap();
    std::fs::copy(BIN, staged.join("bin/artifact-repos")).unwrap();
    let mut install = h.command();
    install
        .env_remove("HELM_PLUGINS")
        .args(["plugin", "install", staged.to_str().unwrap()]);
    let out = install.output().unwrap();
    succeeded(&out);
    renders_through_the_installed_plugin(&h);
}

/// `helm template` of the seed values through the plugin Helm installed into its own plugin folder
/// gives exactly what `render` gives.
fn renders_through_the_installed_plugin(h: &Helm) {
    let mut template = h.command();
    template.env_remove("HELM_PLUGINS").args([
        "template",
        "rel",
        chart().to_str().unwrap(),
        "-n",
        "argo",
        "-f",
        "examples/seed-values.yaml",
        "--post-renderer",
        "artifact-repos",
    ]);
    let out = template.output().unwrap();
    succeeded(&out);
    assert_eq!(docs(&String::from_utf8(out.stdout).unwrap()), rendered(&[]));
}

/// A signing key made for the test (no passphrase), as `helm plugin package` and `helm plugin
/// install --keyring` take keys: (gnupg home, secret keyring, public keyring).
fn release_key(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let gnupg = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&gnupg).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .args(["--batch", "--homedir"])
            .arg(&gnupg)
            .args(args)
            .output()
            .expect("gpg runs (Debian's gnupg)");
        succeeded(&out);
        out.stdout
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        &format!("{name} <{name}@example.invalid>"),
        "rsa2048",
        "sign",
        "never",
    ]);
    let secret = dir.join(format!("{name}-secring.gpg"));
    let public = dir.join(format!("{name}-pubring.gpg"));
    std::fs::write(&secret, gpg(&["--export-secret-keys"])).unwrap();
    std::fs::write(&public, gpg(&["--export"])).unwrap();
    (gnupg, secret, public)
}

#[test]
fn helm4_installs_the_packaged_plugin_with_signature_verification() {
    let h = helm(4, "plugin-package");
    let (_, secret, public) = release_key(&h.home, "release");
    let (_, _, stranger) = release_key(&h.home, "stranger");
    let dist = h.home.join("dist");
    let out = Command::new(root().join("scripts/package-helm-plugin"))
        .args(["--helm".as_ref(), h.bin.as_os_str()])
        .args(["--key", "release"])
        .args(["--keyring".as_ref(), secret.as_os_str()])
        .args(["--platform", &format!("linux-amd64={BIN}")])
        .args(["-d".as_ref(), dist.as_os_str()])
        .output()
        .unwrap();
    succeeded(&out);
    let version = env!("CARGO_PKG_VERSION");
    let tarball = dist.join(format!("linux-amd64/artifact-repos-{version}.tgz"));
    assert!(tarball.is_file() && tarball.with_extension("tgz.prov").is_file());
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert!(
        sums.contains(&format!("linux-amd64/artifact-repos-{version}.tgz")),
        "{sums}"
    );

    // Installed the way users do (Helm's default plugin folder), verified against the release key.
    let install = |keyring: &Path, file: &Path| {
        let mut c = h.command();
        c.env_remove("HELM_PLUGINS").args([
            "plugin".as_ref(),
            "install".as_ref(),
            file.as_os_str(),
            "--keyring".as_ref(),
            keyring.as_os_str(),
        ]);
        c.output().unwrap()
    };
    // A key Helm was not told to trust: refused, nothing installed.
    let refused = install(&stranger, &tarball);
    assert!(!refused.status.success(), "installed with an untrusted key");
    // A tarball changed after signing: refused.
    let tampered = h
        .home
        .join(format!("tampered/artifact-repos-{version}.tgz"));
    std::fs::create_dir_all(tampered.parent().unwrap()).unwrap();
    let mut bytes = std::fs::read(&tarball).unwrap();
    bytes.extend_from_slice(&[0; 512]);
    std::fs::write(&tampered, bytes).unwrap();
    std::fs::copy(
        tarball.with_extension("tgz.prov"),
        tampered.with_extension("tgz.prov"),
    )
    .unwrap();
    let refused = install(&public, &tampered);
    assert!(!refused.status.success(), "installed a tampered tarball");

    let out = install(&public, &tarball);
    succeeded(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Plugin Hash Verified"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    renders_through_the_installed_plugin(&h);
}

#[test]
fn set_overrides_reach_the_generated_objects() {
    let set = ["--set", "repoRegistrations[1].tenant=team-z"];
    let expected = rendered(&set);
    assert!(expected.iter().any(|d| {
        kind_of(d) == "Namespace"
            && d.get("metadata")
                .unwrap()
                .get("name")
                .and_then(Node::as_str)
                == Some("team-z")
    }));
    for major in [3, 4] {
        let h = helm(major, "set");
        let mut args = vec!["-f", "examples/seed-values.yaml"];
        args.extend(set);
        let out = h.template(&chart(), &args, true);
        assert!(!out.contains("my-tenant-namespace"), "helm {major}: {out}");
        assert_eq!(docs(&out), expected, "helm {major}");
    }
}

#[test]
fn foreign_documents_and_hooks_pass_through() {
    for major in [3, 4] {
        let h = helm(major, "foreign");
        let chart = chart_with_extras(&h);
        let seed = ["-f", "examples/seed-values.yaml"];
        let with = h.template(&chart, &seed, true);
        // Helm 4 parses every post-rendered document to strip its filename annotation and writes
        // it back (comment spacing, list indentation change), so the reference there is Helm 4
        // with a post-renderer that changes nothing; Helm 3 prints what it got.
        let without = if major == 3 {
            h.template(&chart, &seed, false)
        } else {
            let mut args = seed.to_vec();
            args.extend(["--post-renderer", "identity"]);
            h.template(&chart, &args, false)
        };
        // Helm 4 hands hooks to the post-renderer; they must come out as they do without it.
        assert!(
            with.contains("\"helm.sh/hook\": pre-install"),
            "helm {major}: {with}"
        );
        assert!(with.contains("  alias: *x\n"), "helm {major}: {with}");
        assert_eq!(
            foreign_pieces(&with),
            foreign_pieces(&without),
            "helm {major}: documents not ours changed"
        );
        assert_eq!(foreign_pieces(&with).len(), 2, "helm {major}: app and hook");
        assert_eq!(generated_pieces(&with), rendered(&[]).len(), "helm {major}");
        assert_eq!(
            generated_pieces(&without),
            1,
            "helm {major}: the carrier alone"
        );
    }
}

#[test]
fn helm3_show_only_finds_generated_documents() {
    let h = helm(3, "show-only");
    let chart = chart_with_extras(&h);
    let seed = ["-f", "examples/seed-values.yaml"];
    let mut args = seed.to_vec();
    args.extend(["--show-only", "templates/values-carrier.yaml"]);
    let ours = h.template(&chart, &args, true);
    assert_eq!(docs(&ours), rendered(&[]));
    let mut args = seed.to_vec();
    args.extend(["--show-only", "templates/app.yaml"]);
    let app = h.template(&chart, &args, true);
    let app_docs = docs(&app);
    assert_eq!(app_docs.len(), 1, "{app}");
    assert_eq!(kind_of(&app_docs[0]), "ConfigMap");
}

#[test]
fn bad_values_fail_helm_with_our_message() {
    let bad = ["-f", "fixtures/postrender/helm/bad-values.yaml"];
    let message = "repoRegistrations[1].name: duplicate registration name `my-project`";

    let h3 = helm(3, "bad");
    let mut args = vec!["template", "rel", "charts/artifact-repos", "-n", "argo"];
    args.extend(bad);
    args.extend(h3.post_renderer());
    let out = h3.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(message), "{stderr}");

    let h4 = helm(4, "bad");
    let log = h4.home.join("artifact-repos.log");
    let mut args = vec!["template", "rel", "charts/artifact-repos", "-n", "argo"];
    args.extend(bad);
    args.extend(h4.post_renderer());
    let out = h4
        .command()
        .env("ARTIFACT_REPOS_LOG", &log)
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    // Helm 4 hides the plugin's stderr: the reason is in the log file, and only there.
    assert!(stderr.contains("exited with error"), "{stderr}");
    assert!(!stderr.contains(message), "{stderr}");
    let logged = std::fs::read_to_string(&log).expect("the log file was written");
    assert!(
        logged.starts_with("artifact-repos post-render: error: "),
        "{logged}"
    );
    assert!(logged.contains(message), "{logged}");
    // Deterministic: a second failing run appends the same record again.
    let again = h4
        .command()
        .env("ARTIFACT_REPOS_LOG", &log)
        .args(&args)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert_eq!(std::fs::read_to_string(&log).unwrap(), logged.repeat(2));
}

/// A misspelt section key (`repoRegistration:`) fails `helm template` with the post-renderer on
/// Helm 3 and Helm 4 (#21): the carrier names the values' other top-level keys, so the release is
/// never emptied in silence; an umbrella's unrelated keys still pass.
#[test]
fn a_misspelt_section_key_fails_helm() {
    let message = "repoRegistration: not read by artifact-repos";
    for (version, name) in [(3, "typo3"), (4, "typo4")] {
        let h = helm(version, name);
        let log = h.home.join("artifact-repos.log");
        let values = h.home.join("typo.yaml");
        std::fs::write(
            &values,
            std::fs::read_to_string(
                root().join("fixtures/render/21-misspelt-section-key/values.yaml"),
            )
            .unwrap()
                + "someOtherChart:\n  enabled: true\n",
        )
        .unwrap();
        let values = values.to_str().unwrap().to_string();
        let mut args = vec![
            "template",
            "rel",
            "charts/artifact-repos",
            "-n",
            "argo",
            "-f",
            &values,
        ];
        args.extend(h.post_renderer());
        let out = h
            .command()
            .env("ARTIFACT_REPOS_LOG", &log)
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "helm {version} accepted it");
        assert!(out.stdout.is_empty(), "helm {version}");
        let logged = std::fs::read_to_string(&log).expect("the log file was written");
        assert!(logged.contains(message), "helm {version}: {logged}");
        assert!(
            !logged.contains("someOtherChart"),
            "helm {version}: {logged}"
        );
    }
}

/// `values.schema.json` makes Helm itself refuse bad values before anything is rendered.
#[test]
fn the_chart_schema_makes_helm_refuse_bad_values() {
    for major in [3, 4] {
        let h = helm(major, "schema");
        let chart = chart();
        let chart = chart.to_str().unwrap();
        for (set, want) in [
            ("s3.enabled=true", "bucket"),
            ("artifactRepos.layout=sharded", "layout"),
            ("repoRegistrations[0].nmae=x", "nmae"),
        ] {
            let out = h.run(&["template", "rel", chart, "--set", set]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "helm {major} accepted --set {set}");
            assert!(err.contains("schema"), "helm {major}, --set {set}: {err}");
            assert!(
                err.contains(want) || err.contains("then"),
                "helm {major}, --set {set}: {err}"
            );
            assert!(out.stdout.is_empty());
        }
    }
}

/// #20, mode confusion: a chart whose one template is a `ResourceList` made Helm 3's
/// `--post-renderer artifact-repos` (no arguments) run the KRM function. Helm's marks (`# Source:`
/// under Helm 3, the `postrenderer.helm.sh/postrender-filename` annotation under Helm 4, here
/// through a plugin that runs the binary with no arguments too) keep it post-render: the stream
/// comes out as it does without the post-renderer.
#[test]
fn a_chart_rendering_one_resource_list_stays_post_render() {
    for major in [3, 4] {
        let h = helm(major, "resource-list");
        let chart = h.home.join("list-chart");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: list-chart\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(
            chart.join("templates/list.yaml"),
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n  data:\n    a: b\n",
        )
        .unwrap();
        let post_renderer: Vec<&str> = if major == 3 {
            h.post_renderer()
        } else {
            // A Helm 4 plugin that runs the binary with no arguments, as Helm 3 does.
            let dir = h.home.join("plugins/bare");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("plugin.yaml"),
                format!("apiVersion: v1\ntype: postrenderer/v1\nname: bare\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: {BIN}\n"),
            )
            .unwrap();
            vec!["--post-renderer", "bare"]
        };
        // Helm 4 reads a post-renderer's output with kyaml, which unwraps a ResourceList into its
        // items whatever the post-renderer did: compare with a post-renderer that changes nothing.
        let plain = if major == 3 {
            h.template(&chart, &[], false)
        } else {
            h.template(&chart, &["--post-renderer", "identity"], false)
        };
        let mut args = vec!["template", "rel", chart.to_str().unwrap(), "-n", "argo"];
        args.extend(post_renderer);
        let out = h.run(&args);
        assert!(
            out.status.success(),
            "helm {major}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(docs(&stdout), docs(&plain), "helm {major}");
        assert!(!stdout.contains("results:"), "helm {major}: {stdout}");
    }
}
