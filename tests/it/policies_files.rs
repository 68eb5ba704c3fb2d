//! `policies --output-dir` through the output file layer (#20): it wrote through symbolic links
//! (out of the directory, over any file the link named) and opened FIFOs for writing, which waits
//! forever for a reader. Now a link, a FIFO or a directory where a policy file goes is refused, exit
//! 2, before anything is written.

use crate::support::{root, run};

#[cfg(unix)]
#[test]
fn policies_output_dir_refuses_links_and_fifos() {
    let dir = std::env::temp_dir().join(format!("artifact-repos-policies-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let values = root().join("examples/seed-values.yaml");
    let args = [
        "policies",
        "-f",
        values.to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
    ];
    let target = "argo-platform-s3-default.json";
    let outside = dir.join("outside.txt");
    std::fs::write(&outside, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&outside, out.join(target)).unwrap();
    let o = run(&args, &dir, None);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me\n");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing written"
    );
    std::fs::remove_file(out.join(target)).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(out.join(target))
            .status()
            .unwrap()
            .success()
    );
    let o = run(&args, &dir, None);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a FIFO"), "{stderr}");
    std::fs::remove_file(out.join(target)).unwrap();
    let o = run(&args, &dir, None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);
    std::fs::remove_dir_all(&dir).ok();
}
