//! Hostile and broken input: the corpus is `fixtures/hostile/<issue>-<case>/`, run by the golden
//! harness (`golden.rs`: exit 2, nothing on stdout, the exact expected message naming its place,
//! within 20 s of CPU time and 400 MiB peak RSS, no credential echoed). The inputs too large to
//! commit (100 MB, 100,000 brackets, random bytes, 5 MB strings aliased 2,000 times) are generated
//! here, a small table, and checked by the same code against the expected files of their case
//! directory (which has no `cmd`: the golden run skips it).

use crate::golden::{check, fixtures, run};
use std::path::Path;

fn shared_stream() -> Vec<u8> {
    let path = fixtures().join("upstream/streams/argo-workflows.helm3-input.yaml");
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

fn carrier(values: &str) -> String {
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
    )
}

/// How a generated case runs.
enum How {
    /// `render -f <name>.yaml ARGS` with the input as that file.
    Render(Vec<u8>, Vec<String>),
    /// `post-render` with the input on stdin.
    PostRender(Vec<u8>),
}

/// The generated cases: (case directory under fixtures/hostile, input).
fn generated() -> Vec<(&'static str, How)> {
    let render = |input: Vec<u8>| How::Render(input, Vec::new());
    let set = |arg: String| How::Render(Vec::new(), vec!["--set".into(), arg]);
    // #11 class 4: one 5 MB string aliased 2,000 times under a key the tool ignores (few nodes,
    // 10 GB expanded), in a values file and in the carrier.
    let big_string = "x".repeat(5 * 1024 * 1024);
    let aliases = vec!["*s"; 2000].join(", ");
    let alias_bytes = format!(
        "ignored:\n  a: &s \"{big_string}\"\n  b: [{aliases}]\ns3: {{enabled: true, bucket: b, externalSecretPath: p/s3}}\n"
    );
    let carrier_alias_bytes = carrier(&format!(
        "{{\"s3\": {{\"enabled\": true, \"bucket\": \"b\", \"externalSecretPath\": \"p/s3\"}}, \"ignored\": {{\"a\": &s \"{big_string}\", \"b\": [{aliases}]}}}}"
    ));
    // A carrier over the values size limit (padding the parser skips).
    let mut oversized =
        carrier(r#"{"s3": {"enabled": true, "bucket": "b", "externalSecretPath": "p/s3"}}"#)
            .into_bytes();
    while oversized.len() < 40 * 1024 * 1024 {
        oversized.extend_from_slice(&[b'#'; 1023]);
        oversized.push(b'\n');
    }
    let mut big_values =
        b"# a values file padded past every limit\nrepoRegistrations: []\n".to_vec();
    big_values.resize(100 * 1024 * 1024, b'#');
    big_values.push(b'\n');
    let mut big_stream = Vec::with_capacity(101 * 1024 * 1024);
    let piece = shared_stream();
    while big_stream.len() < 100 * 1024 * 1024 {
        big_stream.extend_from_slice(&piece);
    }
    big_stream.extend_from_slice(carrier(r#"{"repoRegistrations": [{"name": "Bad Name", "repoUrl": "x", "tenant": "kube-system"}]}"#).as_bytes());
    vec![
        ("11-yaml-alias-bytes-bomb", render(alias_bytes.into_bytes())),
        (
            "11-stream-carrier-alias-bytes-bomb",
            How::PostRender(carrier_alias_bytes.into_bytes()),
        ),
        (
            "11-stream-carrier-over-size-limit",
            How::PostRender(oversized),
        ),
        // A 30,000-level `--set` path and list literal.
        (
            "11-set-deep-path",
            set(format!("{}=1", vec!["a"; 30_000].join("."))),
        ),
        (
            "11-set-deep-list-literal",
            set(format!(
                "s3.bucket={}x{}",
                "{".repeat(30_000),
                "}".repeat(30_000)
            )),
        ),
        (
            "5-yaml-deep-nesting",
            render(format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
        ),
        ("5-bytes-garbage", render(garbage(64 * 1024, 42))),
        ("5-bytes-100mb-values", render(big_values)),
        ("5-stream-100mb-bad-carrier", How::PostRender(big_stream)),
    ]
}

/// The case's name without its issue number: the input file's name, as the messages show it.
fn file_name(case: &str) -> String {
    let name = case.split_once('-').map_or(case, |(_, n)| n);
    format!("{name}.yaml")
}

#[test]
fn generated_hostile_inputs_fail_cleanly_with_their_exact_message() {
    let dir = std::env::temp_dir().join(format!("artifact-repos-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = generated();
    // Every case directory either runs itself (`cmd`) or is generated here; the corpus is big.
    let root = fixtures().join("hostile");
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 40, "the corpus holds {} cases", dirs.len());
    for d in &dirs {
        let generated = table.iter().any(|(n, _)| n == d);
        assert!(
            generated != root.join(d).join("cmd").is_file(),
            "fixtures/hostile/{d}: needs a `cmd` file or an entry in the generated table, not both"
        );
    }
    let mut failures = Vec::new();
    for (name, how) in table {
        let case = root.join(name);
        let out = match how {
            How::Render(input, extra) => {
                let file = file_name(name);
                std::fs::write(dir.join(&file), input).unwrap();
                let mut args = vec!["render".to_string(), "-f".into(), file];
                args.extend(extra);
                run(&args, &dir, None)
            }
            How::PostRender(input) => run(&["post-render".to_string()], &dir, Some(input)),
        };
        // Shown with --nocapture: how close each case comes to the bounds.
        eprintln!(
            "{name:36} {:>8.1?} wall {:>8.1?} CPU {:>6} KiB",
            out.elapsed, out.cpu, out.peak_kib
        );
        failures.extend(check(Path::new(&case), &out));
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
