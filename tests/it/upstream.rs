//! The upstream inputs copied into `fixtures/upstream/` are what `PROVENANCE.md` says they are: every
//! file is listed in `SHA256SUMS` with its digest, and nothing unlisted sits beside them, so a refresh
//! that forgets the digests (or an edit by hand) fails here.

use std::path::Path;
use std::process::Command;

#[test]
fn every_upstream_file_matches_its_recorded_digest() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upstream");
    let out = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .expect("sha256sum runs");
    assert!(
        out.status.success(),
        "fixtures/upstream/SHA256SUMS does not match:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut listed: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split("  ").nth(1))
        .collect();
    listed.sort();
    let mut present = Vec::new();
    for sub in ["schemas", "streams"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            present.push(format!(
                "{sub}/{}",
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    present.sort();
    assert_eq!(
        listed, present,
        "files in fixtures/upstream not listed in SHA256SUMS (or missing)"
    );
    assert!(
        present.len() >= 15,
        "expected the 7 schemas and 8 streams, found {present:?}"
    );
}
