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
    /// `render -f <case>.yaml` plus extra arguments.
    Render(Vec<String>),
    /// `post-render` with the input on stdin.
    PostRender,
}

struct Case {
    name: String,
    input: Vec<u8>,
    how: How,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

/// The committed cases: `fixtures/hostile/<case>.values.yaml` (rendered with `render -f`, extra
/// arguments one per line in `<case>.args`) or `<case>.stream.yaml` (post-render's stdin), each
/// beside its expected `<case>.stderr`.
fn file_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let (name, how) = if let Some(n) = file.strip_suffix(".values.yaml") {
            let args = std::fs::read_to_string(fixtures().join(format!("{n}.args")))
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_default();
            (n.to_string(), How::Render(args))
        } else if let Some(n) = file.strip_suffix(".stream.yaml") {
            (n.to_string(), How::PostRender)
        } else {
            continue;
        };
        out.push(Case {
            name,
            input: std::fs::read(&path).unwrap(),
            how,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
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

/// Inputs too large to commit (100 MB, 200,000 brackets, random bytes), generated here; their
/// expected messages are files like every other case's.
fn generated_cases() -> Vec<Case> {
    let mut big_values =
        b"# a values file padded past every limit\nrepoRegistrations: []\n".to_vec();
    big_values.resize(100 * 1024 * 1024, b'#');
    big_values.push(b'\n');
    let mut big_stream = Vec::with_capacity(101 * 1024 * 1024);
    let piece = shared_stream();
    while big_stream.len() < 100 * 1024 * 1024 {
        big_stream.extend_from_slice(&piece);
    }
    big_stream.extend_from_slice(
        b"---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {\"repoRegistrations\": [{\"name\": \"Bad Name\", \"repoUrl\": \"x\", \"tenant\": \"kube-system\"}]}\n",
    );
    let render = |name: &str, input: Vec<u8>| Case {
        name: name.into(),
        input,
        how: How::Render(Vec::new()),
    };
    // #11 class 4: one 5 MB string aliased 2,000 times under a key the tool ignores (few nodes,
    // 10 GB expanded), in a values file and in the carrier; a carrier over the values size limit
    // (padding the parser skips); a 30,000-level `--set` path and list literal.
    let big_string = "x".repeat(5 * 1024 * 1024);
    let aliases = vec!["*s"; 2000].join(", ");
    let alias_bytes = format!(
        "ignored:\n  a: &s \"{big_string}\"\n  b: [{aliases}]\ns3: {{enabled: true, bucket: b, externalSecretPath: p/s3}}\n"
    );
    let carrier = |values: &str| {
        format!(
            "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
        )
    };
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
    let set = |name: &str, arg: String| Case {
        name: name.into(),
        input: Vec::new(),
        how: How::Render(vec!["--set".into(), arg]),
    };
    let stream = |name: &str, input: Vec<u8>| Case {
        name: name.into(),
        input,
        how: How::PostRender,
    };
    vec![
        render("yaml-alias-bytes-bomb", alias_bytes.into_bytes()),
        stream(
            "stream-carrier-alias-bytes-bomb",
            carrier_alias_bytes.into_bytes(),
        ),
        stream("stream-carrier-over-size-limit", oversized_carrier),
        set(
            "set-deep-path",
            format!("{}=1", vec!["a"; 30_000].join(".")),
        ),
        set(
            "set-deep-list-literal",
            format!("s3.bucket={}x{}", "{".repeat(30_000), "}".repeat(30_000)),
        ),
        render(
            "yaml-deep-nesting",
            format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        render("bytes-garbage", garbage(64 * 1024, 42)),
        render("bytes-100mb-values", big_values),
        Case {
            name: "stream-100mb-bad-carrier".into(),
            input: big_stream,
            how: How::PostRender,
        },
    ]
}

fn corpus() -> Vec<Case> {
    let mut all = file_cases();
    all.extend(generated_cases());
    all
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
    match &case.how {
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

use crate::support::bless;

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
    // Every expected message belongs to a case, and every case has one.
    let mut expected: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .filter_map(|e| {
            let f = e.unwrap().file_name().to_string_lossy().into_owned();
            f.strip_suffix(".stderr").map(str::to_string)
        })
        .collect();
    expected.sort();
    let mut names: Vec<String> = corpus.iter().map(|c| c.name.clone()).collect();
    names.sort();
    if !bless() {
        assert_eq!(
            names, expected,
            "cases and fixtures/hostile/*.stderr differ"
        );
    }
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
