//! Real post-renderer inputs (`fixtures/upstream/streams/`, captured from Helm 3 and Helm 4 with public
//! charts) through the real binary: without a carrier the output is the input, byte for byte; with a
//! carrier at the start, in the middle or at the end, every other document comes out byte for byte
//! and in order, the generated documents are the ones `render` makes, and Helm 3 streams stay in
//! Helm's install order.

use artifact_repos::yaml::stream::{Piece, split};
use artifact_repos::render::order::kind_rank;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CARRIER_PATH: &str = "artifact-repos/templates/values-carrier.yaml";

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upstream")
}

fn streams() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(shared_dir().join("streams"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 8,
        "expected the 8 captured streams, found {}",
        out.len()
    );
    out
}

fn post_render(input: &[u8]) -> (Vec<u8>, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_artifact-repos"))
        .arg("post-render")
        .env_remove("ARTIFACT_REPOS_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn seed_values_json() -> String {
    let values = artifact_repos::yaml::parse_values(
        "seed",
        include_bytes!("../../examples/seed-values.yaml"),
    )
    .unwrap();
    serde_json::to_string(&values).unwrap()
}

/// The carrier as Helm 3 or Helm 4 would hand it over.
fn carrier(helm4: bool) -> String {
    let values = seed_values_json();
    if helm4 {
        format!(
            "---\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\n  annotations:\n    postrenderer.helm.sh/postrender-filename: '{CARRIER_PATH}'\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
        )
    } else {
        format!(
            "---\n# Source: {CARRIER_PATH}\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {values}\n"
        )
    }
}

fn generated_count() -> usize {
    let values = artifact_repos::yaml::parse_values(
        "seed",
        include_bytes!("../../examples/seed-values.yaml"),
    )
    .unwrap();
    let options = artifact_repos::render::Options {
        release: artifact_repos::render::Release {
            name: "rel".into(),
            namespace: Some("argo".into()),
        },
        ..Default::default()
    };
    artifact_repos::render::render(&values, &options)
        .expect("the seed values render")
        .objects
        .len()
}

fn is_generated(piece: &Piece, helm4: bool) -> bool {
    if helm4 {
        piece.keyed_line("postrenderer.helm.sh/postrender-filename") == Some(CARRIER_PATH)
    } else {
        piece.source() == Some(CARRIER_PATH)
    }
}

fn kind(piece: &Piece) -> String {
    String::from_utf8(piece.top_level_scalar("kind").unwrap_or_default().to_vec()).unwrap()
}

#[test]
fn streams_without_carrier_pass_through_byte_for_byte() {
    for (name, bytes) in streams() {
        let (out, stderr, code) = post_render(&bytes);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(out == bytes, "{name}: output differs from input");
    }
    let (out, _, code) = post_render(b"");
    assert_eq!((out.as_slice(), code), (&b""[..], 0), "empty input");
}

#[test]
fn streams_with_carrier_keep_every_other_document() {
    let expected_generated = generated_count();
    assert!(expected_generated > 0);
    for (name, bytes) in streams() {
        let helm4 = name.contains("helm4");
        let pieces = split(&bytes);
        let carrier = carrier(helm4);
        for (position, at) in [
            ("start", 0),
            ("middle", pieces.len() / 2),
            ("end", pieces.len()),
        ] {
            // The input with the carrier inserted before piece `at`. A document without its own `---`
            // (Helm 4's first one) after the carrier needs the carrier to end with `...`.
            let mut input = Vec::new();
            for p in &pieces[..at] {
                input.extend_from_slice(p.bytes);
            }
            input.extend_from_slice(carrier.as_bytes());
            if pieces.get(at).is_some_and(|p| !p.has_start_marker()) {
                input.extend_from_slice(b"...\n");
            }
            for p in &pieces[at..] {
                input.extend_from_slice(p.bytes);
            }
            let case = format!("{name} carrier at {position}");
            let (out, stderr, code) = post_render(&input);
            assert_eq!(code, 0, "{case}: {stderr}");
            assert!(
                !out.windows(13).any(|w| w == b"ValuesCarrier"),
                "{case}: carrier left"
            );

            let out_pieces = split(&out);
            let (ours, theirs): (Vec<&Piece>, Vec<&Piece>) =
                out_pieces.iter().partition(|p| is_generated(p, helm4));
            assert_eq!(
                ours.len(),
                expected_generated,
                "{case}: generated documents"
            );
            assert_eq!(
                theirs.len(),
                pieces.len(),
                "{case}: passed-through documents"
            );
            for (i, (got, want)) in theirs.iter().zip(&pieces).enumerate() {
                let same = got.bytes == want.bytes
                    || (!want.has_start_marker()
                        && got.bytes.strip_prefix(b"---\n") == Some(want.bytes));
                assert!(
                    same,
                    "{case}: document {} changed:\n--- was:\n{}\n--- now:\n{}",
                    i + 1,
                    String::from_utf8_lossy(want.bytes),
                    String::from_utf8_lossy(got.bytes)
                );
            }
            let docs = artifact_repos::yaml::parse_documents(&case, &out, usize::MAX)
                .unwrap_or_else(|e| panic!("{case}: output is not YAML: {e}"));
            let input_docs =
                artifact_repos::yaml::parse_documents(&name, &bytes, usize::MAX).unwrap();
            assert_eq!(docs.len(), input_docs.len() + expected_generated, "{case}");

            if !helm4 {
                // Helm 3 input is in install order and Helm 3 applies the output as it is: the
                // output must still be in install order.
                let ranks = |ps: &[&Piece]| -> Vec<(usize, String)> {
                    ps.iter()
                        .map(|p| kind(p))
                        .filter(|k| !k.is_empty())
                        .map(|k| {
                            let (r, name) = kind_rank(&k);
                            (r, name.to_string())
                        })
                        .collect()
                };
                let input_ranks = ranks(&pieces.iter().collect::<Vec<_>>());
                assert!(
                    input_ranks.is_sorted(),
                    "{name}: input not in install order"
                );
                let output_ranks = ranks(&out_pieces.iter().collect::<Vec<_>>());
                assert!(
                    output_ranks.is_sorted(),
                    "{case}: output not in install order"
                );
            }
        }
    }
}
