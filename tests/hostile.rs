//! Hostile and broken input: a corpus of bad values files and post-render streams, each run through
//! the real binary. Every case must exit 2, print nothing on stdout, print exactly the expected
//! message (fixtures/hostile/<case>.stderr; `ARTIFACT_REPOS_BLESS=1` rewrites them, review with
//! `git diff`), name the place of the problem, finish within loose bounds (20 s, 400 MiB peak RSS
//! measured by GNU time, `/usr/bin/time -f %M`), and never echo anything that looks like a credential. Large inputs
//! (100 MB, deep nesting, random bytes) are generated here at test time, never committed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MAX_TIME: Duration = Duration::from_secs(20);
const MAX_RSS_KIB: i64 = 400 * 1024;
/// GNU time, for the child's own peak RSS (`%M`).
const TIME: &str = "/usr/bin/time";

/// Credential-looking strings planted in the corpus; none may reach stderr or stdout.
const PLANTED: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "-----BEGIN RSA PRIVATE KEY-----",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
];

enum How {
    /// `render -f <case>.yaml` (plus extra arguments).
    Render(&'static [&'static str]),
    /// `post-render` with the input on stdin.
    PostRender,
}

struct Case {
    name: &'static str,
    input: Vec<u8>,
    how: How,
}

fn reg(extra: &str) -> String {
    format!(
        "repoRegistrations:\n- name: app\n  repoUrl: https://git.example.com/o/app.git\n  tenant: team-a\n{extra}"
    )
}

fn bucket(extra: &str) -> String {
    reg(&format!(
        "  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: team-a/s3\n{extra}"
    ))
}

/// The Helm 3 carrier with `values` as given (JSON text).
fn carrier(values: &str) -> String {
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
    )
}

fn shared_stream() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/upstream/streams/argo-workflows.helm3-input.yaml");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Deterministic pseudo-random bytes (no crate, no seed drift).
fn garbage(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn values(name: &'static str, text: impl Into<String>) -> Case {
    Case {
        name,
        input: text.into().into_bytes(),
        how: How::Render(&[]),
    }
}

fn stream(name: &'static str, bytes: Vec<u8>) -> Case {
    Case {
        name,
        input: bytes,
        how: How::PostRender,
    }
}

fn corpus() -> Vec<Case> {
    let alias_bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\nrepoRegistrations: [*h]\n";
    let mut big_values =
        b"# a values file padded past every limit\nrepoRegistrations: []\n".to_vec();
    big_values.resize(100 * 1024 * 1024, b'#');
    big_values.push(b'\n');
    let mut big_stream = Vec::with_capacity(101 * 1024 * 1024);
    let piece = shared_stream();
    while big_stream.len() < 100 * 1024 * 1024 {
        big_stream.extend_from_slice(&piece);
    }
    let mut big_stream_bad = big_stream.clone();
    big_stream_bad.extend_from_slice(carrier(r#"{"repoRegistrations": [{"name": "Bad Name", "repoUrl": "x", "tenant": "kube-system"}]}"#).as_bytes());
    let mut truncated = piece.clone();
    let full = carrier(
        r#"{"repoRegistrations": [{"name": "app", "repoUrl": "https://g/o/r.git", "tenant": "team-a"}]}"#,
    );
    truncated.extend_from_slice(&full.as_bytes()[..full.len() - 40]);
    let mut deep_carrier = String::from("{\"artifactRepos\": ");
    for _ in 0..5000 {
        deep_carrier.push('[');
    }
    for _ in 0..5000 {
        deep_carrier.push(']');
    }
    deep_carrier.push('}');

    // #11 class 4: one 5 MB string aliased 2,000 times under a key the tool ignores (few nodes,
    // 10 GB expanded); a carrier over the values size limit (padding the parser skips); a
    // 30,000-level `--set` path and list literal.
    let big_string = "x".repeat(5 * 1024 * 1024);
    let aliases = vec!["*s"; 2000].join(", ");
    let alias_bytes = format!(
        "ignored:\n  a: &s \"{big_string}\"\n  b: [{aliases}]\ns3: {{enabled: true, bucket: b, externalSecretPath: p/s3}}\n"
    );
    let carrier_alias_bytes = carrier(&format!(
        "{{\"s3\": {{\"enabled\": true, \"bucket\": \"b\", \"externalSecretPath\": \"p/s3\"}}, \"ignored\": {{\"a\": &s \"{big_string}\", \"b\": [{aliases}]}}}}"
    ));
    let mut oversized_carrier =
        carrier(r#"{"s3": {"enabled": true, "bucket": "b", "externalSecretPath": "p/s3"}}"#)
            .into_bytes();
    while oversized_carrier.len() < 40 * 1024 * 1024 {
        oversized_carrier.extend_from_slice(&[b'#'; 1023]);
        oversized_carrier.push(b'\n');
    }
    let deep_set: &'static str =
        Box::leak(format!("{}=1", vec!["a"; 30_000].join(".")).into_boxed_str());
    let deep_literal: &'static str = Box::leak(
        format!("s3.bucket={}x{}", "{".repeat(30_000), "}".repeat(30_000)).into_boxed_str(),
    );
    let deep_set_args: &'static [&'static str] =
        Box::leak(vec!["--set", deep_set].into_boxed_slice());
    let deep_literal_args: &'static [&'static str] =
        Box::leak(vec!["--set", deep_literal].into_boxed_slice());

    vec![
        values("yaml-alias-bytes-bomb", alias_bytes),
        stream("stream-carrier-alias-bytes-bomb", carrier_alias_bytes.into_bytes()),
        stream("stream-carrier-over-size-limit", oversized_carrier),
        values("set-deep-path", "").with_args(deep_set_args),
        values("set-deep-list-literal", "").with_args(deep_literal_args),
        // Wrong types, everywhere a type is expected.
        values("type-registrations-string", "repoRegistrations: not-a-list\n"),
        values("type-registration-scalar", "repoRegistrations:\n- just-a-string\n- 42\n"),
        values("type-name-number", "repoRegistrations:\n- name: 12\n  repoUrl: https://g/o/r.git\n  tenant: team-a\n"),
        values("type-tenant-map", "repoRegistrations:\n- name: app\n  repoUrl: https://g/o/r.git\n  tenant: {name: team-a}\n"),
        values("type-repourl-list", "repoRegistrations:\n- name: app\n  repoUrl: [https://g/o/r.git]\n  tenant: team-a\n"),
        values("type-bucket-string", reg("  artifactBucket: team-a-artifacts\n")),
        values("type-bucket-name-bool", reg("  artifactBucket:\n    bucket: true\n    useSDKCreds: true\n")),
        values("type-booleans-as-strings", bucket("    insecure: \"yes\"\n    pathStyle: 1\n    archiveLogs: \"true\"\n")),
        values("type-s3-enabled-string", "s3:\n  enabled: \"true\"\n  bucket: platform\n  useSDKCreds: true\n"),
        values("type-settings-list", "artifactRepos:\n- layout: tenant\n"),
        values("type-settings-scalars", "artifactRepos:\n  layout: 3\n  createNamespaces: \"no\"\n  argoVersion: true\n  readerRole: yes-please\n"),
        values("type-runner-lists", "artifactRepos:\n  workflowTemplates:\n    command: [1, 2]\n    args: run --all\n"),
        values("type-labels-and-store", "artifactRepos:\n  commonLabels: [team]\n  externalSecrets:\n    storeRef: {kind: Secret, name: vault}\n    refreshInterval: 1 day\n"),
        // Unknown keys.
        values("unknown-keys", "artifactRepos:\n  layot: tenant\nrepoRegistrations:\n- name: app\n  repoUrl: https://g/o/r.git\n  tennant: team-a\n  tenant: team-a\n  artifactBucket:\n    endpoint: s3.amazonaws.com\n    bucket: team-a-artifacts\n    useSDKCreds: true\n"),
        // Credentials, never echoed.
        values("credential-inline-keys", bucket("    accessKeyId: AKIAIOSFODNN7EXAMPLE\n    secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")),
        values("credential-as-values", "s3:\n  enabled: true\n  bucket: platform\n  region: AKIAIOSFODNN7EXAMPLE\n  externalSecretPath: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
        values("credential-private-key", reg("  defaultBranch: \"-----BEGIN RSA PRIVATE KEY-----\"\n")),
        values("credential-in-url", "repoRegistrations:\n- name: app\n  repoUrl: https://bot:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/app.git\n  tenant: team-a\n"),
        // Injection attempts: newlines, quotes, templates, YAML tags in names and paths.
        values("inject-newline-name", "repoRegistrations:\n- name: \"app\\nkind: ClusterRole\"\n  repoUrl: https://g/o/r.git\n  tenant: team-a\n"),
        values("inject-quotes-tenant", "repoRegistrations:\n- name: app\n  repoUrl: https://g/o/r.git\n  tenant: \"team-a\\\"\\nnamespace: kube-system\"\n"),
        values("inject-template-name", "repoRegistrations:\n- name: \"{{ .Values.secret }}\"\n  repoUrl: https://g/o/r.git\n  tenant: \"{{ include \\\"x\\\" . }}\"\n"),
        values("inject-tag-tenant", "repoRegistrations:\n- name: app\n  repoUrl: https://g/o/r.git\n  tenant: !!python/object/apply:os.system [\"id\"]\n"),
        values("inject-tag-path", bucket("    keyPrefix: !!python/name:os.system\n")),
        values("inject-local-tag", "artifactRepos:\n  controllerNamespace: !ruby/object:Gem::Installer x\n"),
        values("inject-vault-path", reg("  artifactBucket:\n    bucket: team-a-artifacts\n    externalSecretPath: \"/team-a/s3\\n  property: x\"\n")),
        values("inject-key-prefix", bucket("    keyPrefix: \"/../{{workflow.name}\"\n")),
        values("inject-repourl-space", "repoRegistrations:\n- name: app\n  repoUrl: \"https://g/o/r.git --upload-pack=touch /tmp/x\"\n  tenant: team-a\n  defaultBranch: \"main; rm -rf /\"\n"),
        values("inject-image-newline", "artifactRepos:\n  workflowTemplates:\n    image: \"alpine\\nprivileged: true\"\n    outputPath: ../etc\n"),
        values("inject-secret-name", bucket("    secretName: ../other-tenant/s3\n")),
        values("inject-label-key", "artifactRepos:\n  commonLabels:\n    \"a: b\\nkind\": x\n    app.kubernetes.io/managed-by: someone-else\n"),
        values("inject-reserved-namespaces", "artifactRepos:\n  controllerNamespace: argo\nrepoRegistrations:\n- name: app\n  repoUrl: https://g/o/r.git\n  tenant: kube-system\n- name: other\n  repoUrl: https://g/o/r.git\n  tenant: argo\n"),
        values("inject-set", "").with_args(&["--set", "repoRegistrations[0].name=a\\,b", "--set", "repoRegistrations[0].tenant={x,y}", "--set", "repoRegistrations[0].repoUrl=https://g/o/r.git"]),
        // YAML-level attacks and breakage.
        values("yaml-alias-bomb", alias_bomb),
        values("yaml-deep-nesting", format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))),
        values("yaml-deep-maps", (0..200).map(|i| format!("{}k{i}:\n", "  ".repeat(i))).collect::<String>()),
        values("yaml-duplicate-keys", "repoRegistrations: []\nrepoRegistrations: [{name: x}]\n"),
        values("yaml-tabs", "repoRegistrations:\n\t- name: app\n"),
        values("yaml-unclosed-quote", "repoRegistrations:\n- name: \"app\n  tenant: team-a\n"),
        values("yaml-complex-key", "? [a, b]\n: c\n"),
        values("yaml-two-documents", "repoRegistrations: []\n---\ns3: {enabled: true}\n"),
        values("yaml-top-level-scalar", "just a string\n"),
        Case { name: "bytes-invalid-utf8", input: b"repoRegistrations:\n- name: caf\xe9\n".to_vec(), how: How::Render(&[]) },
        Case { name: "bytes-garbage", input: garbage(64 * 1024, 42), how: How::Render(&[]) },
        Case { name: "bytes-nul", input: b"repoRegistrations:\n- name: a\x00b\n".to_vec(), how: How::Render(&[]) },
        Case { name: "bytes-100mb-values", input: big_values, how: How::Render(&[]) },
        // Streams for the post-renderer.
        stream("stream-truncated-carrier", truncated),
        stream("stream-two-carriers", format!("{}{}", carrier("{}"), carrier("{}")).into_bytes()),
        stream("stream-carrier-bad-values", carrier(r#"{"repoRegistrations": [{"name": "Bad_Name", "repoUrl": "x", "tenant": "team-a", "artifactBucket": {"bucket": "b", "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}]}"#).into_bytes()),
        stream("stream-carrier-values-not-map", carrier("\"text\"").into_bytes()),
        stream("stream-carrier-alias-bomb", format!("{}{}", carrier("{}").replace("values: {}\n", ""), alias_bomb.replace("repoRegistrations: [*h]", "values: {repoRegistrations: [*h]}")).into_bytes()),
        stream("stream-carrier-deep", carrier(&deep_carrier).into_bytes()),
        stream("stream-carrier-invalid-utf8", {
            let mut b = shared_stream();
            b.extend_from_slice(carrier("{\"s3\": {\"bucket\": \"caf\u{e9}\"}}").replace('\u{e9}', "\u{1}").as_bytes());
            let at = b.len() - 10;
            b[at] = 0xff;
            b
        }),
        stream("stream-100mb-bad-carrier", big_stream_bad),
    ]
}

impl Case {
    fn with_args(mut self, args: &'static [&'static str]) -> Case {
        self.how = How::Render(args);
        self
    }
}

struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
    peak_kib: i64,
}

fn run(dir: &Path, case: &Case) -> Outcome {
    let file = format!("{}.yaml", case.name);
    // Peak RSS through GNU time, which forks the binary from its own small process: measured from
    // this (large) test process, wait4 would report our own high-water mark, which a child spawned
    // with CLONE_VM inherits at exec.
    let rss_file = dir.join(format!("{}.rss", case.name));
    let mut cmd = Command::new(TIME);
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_artifact-repos"));
    cmd.current_dir(dir)
        .env_remove("ARTIFACT_REPOS_LOG")
        .env("NO_COLOR", "1");
    match case.how {
        How::Render(extra) => {
            std::fs::write(dir.join(&file), &case.input).unwrap();
            cmd.args(["render", "-f", &file])
                .args(extra)
                .stdin(Stdio::null());
        }
        How::PostRender => {
            cmd.arg("post-render").stdin(Stdio::piped());
        }
    }
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = child.stdin.take().map(|mut stdin| {
        let input = case.input.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let reader_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = child.wait().unwrap();
    let elapsed = start.elapsed();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let code = status.code().unwrap_or(-1);
    let peak_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{TIME} wrote no peak RSS for {}", case.name));
    Outcome {
        code,
        stdout: reader_out.join().unwrap(),
        stderr: reader_err.join().unwrap(),
        elapsed,
        peak_kib,
    }
}

fn bless() -> bool {
    matches!(std::env::var("ARTIFACT_REPOS_BLESS").as_deref(), Ok("1"))
}

#[test]
fn hostile_inputs_fail_cleanly_with_their_exact_message() {
    assert!(
        Path::new(TIME).is_file(),
        "{TIME} (GNU time) is needed to measure peak memory"
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile");
    let dir = std::env::temp_dir().join(format!("artifact-repos-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let corpus = corpus();
    assert!(
        corpus.len() >= 40,
        "the corpus holds {} cases",
        corpus.len()
    );
    let mut failures = Vec::new();
    for case in &corpus {
        let o = run(&dir, case);
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        // Shown with --nocapture: how close each case comes to the bounds.
        eprintln!("{:32} {:>8.1?} {:>6} KiB", case.name, o.elapsed, o.peak_kib);
        let mut fail =
            |what: String| failures.push(format!("{}: {what}\nstderr:\n{stderr}", case.name));
        if o.code != 2 {
            fail(format!("exit code {}, expected 2", o.code));
        }
        if !o.stdout.is_empty() {
            fail(format!("{} bytes on stdout", o.stdout.len()));
        }
        if o.elapsed > MAX_TIME {
            fail(format!("took {:?}", o.elapsed));
        }
        if o.peak_kib > MAX_RSS_KIB {
            fail(format!("peak RSS {} MiB", o.peak_kib / 1024));
        }
        for secret in PLANTED {
            if stderr.contains(secret) {
                fail(format!("stderr echoes `{secret}`"));
            }
        }
        // A message names its place: `error: ...` then `  <place>: <problem>` lines.
        let lines: Vec<&str> = stderr.lines().collect();
        let placed = lines.first().is_some_and(|l| l.starts_with("error: "))
            && (lines.len() == 1 && lines[0].matches(": ").count() >= 2
                || lines[1..]
                    .iter()
                    .all(|l| l.starts_with("  ") && l.contains(": ")));
        if !placed {
            fail("the message does not name a place".into());
        }
        let expected_path = fixtures.join(format!("{}.stderr", case.name));
        if bless() {
            std::fs::create_dir_all(&fixtures).unwrap();
            std::fs::write(&expected_path, &o.stderr).unwrap();
        } else {
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
            if expected != stderr {
                fail(format!("message differs from {}", expected_path.display()));
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n\n")
    );
}
