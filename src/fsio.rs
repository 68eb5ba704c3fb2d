//! The one way this tool reads and writes files (issue #11, class 3).
//!
//! Reads: `read_input` (a path the user named, or `-` for stdin) and `read_regular` take a regular
//! file only, refusing FIFOs, devices, sockets and directories before reading a byte (the file is
//! opened non-blocking, so opening a FIFO never waits for a writer, then checked with `fstat` on the
//! open descriptor), and never read more than their bound: more is refused with exit 2. With
//! `Links::Refuse` a symbolic link is refused too (checked with `symlink_metadata`, and the open
//! uses `O_NOFOLLOW`, so a link swapped in after the check fails the open).
//!
//! Writes: `write_atomic` writes a temporary file (`create_new`, mode 0644) in the target's folder,
//! syncs it and renames it over the target, so a reader (or an interrupted run) sees the old file or
//! the new one, never half of one. The temporary names start with `TEMP_PREFIX`.

use crate::error::Problems;
use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Temporary files of `write_atomic` are named `.artifact-repos-tmp-<pid>-<n>`: hidden, never of
/// the `--output-dir` layout (`manifests::is_layout_path`), and recognisable as leftovers of ours.
pub const TEMP_PREFIX: &str = ".artifact-repos-tmp-";

/// Whether a symbolic link at the path itself is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Follow it (a path the user named on the command line).
    Follow,
    /// Refuse it (a path inside a directory this tool manages).
    Refuse,
}

// `open(2)` flags std does not name. Values from the kernel headers (and the libc crate):
// `O_NOFOLLOW` differs between architectures (0o400000 on x86, 0o100000 on arm/aarch64).
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )
))]
mod flags {
    pub const O_NONBLOCK: i32 = 0o4000;
    pub const O_NOFOLLOW: i32 = 0o400000;
}
#[cfg(all(target_os = "linux", any(target_arch = "aarch64", target_arch = "arm")))]
mod flags {
    pub const O_NONBLOCK: i32 = 0o4000;
    pub const O_NOFOLLOW: i32 = 0o100000;
}
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod flags {
    pub const O_NONBLOCK: i32 = 0x4;
    pub const O_NOFOLLOW: i32 = 0x100;
}
/// Elsewhere the checks before opening (`metadata`, `symlink_metadata`) stand alone.
#[cfg(not(any(
    all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "riscv64",
            target_arch = "s390x",
            target_arch = "loongarch64",
            target_arch = "aarch64",
            target_arch = "arm"
        )
    ),
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
mod flags {
    pub const O_NONBLOCK: i32 = 0;
    pub const O_NOFOLLOW: i32 = 0;
}

/// A path as messages show it: escaped like every other name from the input.
pub fn show(path: &Path) -> String {
    crate::error::escape(&path.display().to_string()).into_owned()
}

/// What a file type is, for messages: "a directory", "a FIFO (named pipe)", ...
pub fn describe(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, ft: &std::fs::FileType) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` is not a regular file ({}): refusing to read it; give a regular file, a directory of them, or `-` for stdin",
        show(path),
        describe(ft)
    )
}

/// The refusal of a symbolic link inside a directory this tool manages.
pub fn symlink_refused(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` is a symbolic link: refusing to read, write or delete through it (links inside the output directory are never followed); replace it with a regular file or directory, or remove it",
        show(path)
    )
}

fn over_limit(name: &str, max: usize) -> anyhow::Error {
    let mut p = Problems::default();
    p.push(
        name,
        format!(
            "input is more than the limit of {max} bytes; split it or check that the right file was given"
        ),
    );
    p.into()
}

/// Reads at most `max` bytes from `r`; more is refused (naming `name`).
fn read_bounded(mut r: impl Read, name: &str, max: usize) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    (&mut r)
        .take(max as u64 + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading `{name}`"))?;
    if buf.len() > max {
        return Err(over_limit(name, max));
    }
    Ok(buf)
}

/// A file or `-` (stdin), bounded: the read path of every file the user names (values files,
/// manifests). Symbolic links the user named are followed; what they point to must be a regular
/// file.
pub fn read_input(path: &Path, max: usize) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        return read_bounded(std::io::stdin().lock(), "<stdin>", max);
    }
    read_regular(path, max, Links::Follow)
}

/// A regular file, at most `max` bytes; anything else is refused with a message naming `path`.
pub fn read_regular(path: &Path, max: usize, links: Links) -> Result<Vec<u8>> {
    // Before opening: a socket cannot be opened at all, and a clear message beats ELOOP.
    let meta = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    }
    .with_context(|| format!("reading `{}`", show(path)))?;
    if meta.file_type().is_symlink() {
        return Err(symlink_refused(path));
    }
    if !meta.is_file() {
        return Err(not_regular(path, &meta.file_type()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if links == Links::Refuse {
            flags::O_NOFOLLOW
        } else {
            0
        };
        // Non-blocking: a FIFO swapped in after the check opens at once (and is refused below)
        // instead of waiting for a writer. Regular files ignore the flag.
        options.custom_flags(flags::O_NONBLOCK | nofollow);
    }
    let file = options
        .open(path)
        .with_context(|| format!("reading `{}`", show(path)))?;
    // The descriptor's own type: what was checked above may have been replaced since.
    let meta = file
        .metadata()
        .with_context(|| format!("reading `{}`", show(path)))?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta.file_type()));
    }
    read_bounded(file, &path.display().to_string(), max)
}

/// Writes `bytes` to `path` atomically: a new temporary file in the same folder (`create_new`,
/// mode 0644 before the umask), synced, then renamed over `path`. `rename` replaces a symbolic link
/// at `path` instead of writing through it; the folder itself is the caller's to check.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (tmp, mut file) = create_temp(parent)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing `{}`", show(&tmp)))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
                .with_context(|| format!("renaming `{}` to `{}`", show(&tmp), show(path)))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn create_temp(dir: &Path) -> Result<(PathBuf, std::fs::File)> {
    let pid = std::process::id();
    for n in 0u32.. {
        let tmp = dir.join(format!("{TEMP_PREFIX}{pid}-{n}"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o644);
        }
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("creating `{}`", show(&tmp)));
            }
        }
    }
    unreachable!("the loop returns")
}

/// Syncs a directory's entries (after renames into it); best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Appends to a log file, creating it (the post-renderer's `--log-file`: a path the user chose,
/// outside any folder we own, so it is opened as named).
pub fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("artifact-repos-fsio-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_are_bounded_and_refuse_what_is_not_a_regular_file() {
        let d = scratch("read");
        std::fs::write(d.join("f"), b"12345").unwrap();
        assert_eq!(
            read_regular(&d.join("f"), 5, Links::Refuse).unwrap(),
            b"12345"
        );
        let err = read_regular(&d.join("f"), 4, Links::Refuse).unwrap_err();
        assert!(
            format!("{err:#}").contains("more than the limit of 4 bytes"),
            "{err:#}"
        );
        let err = read_regular(&d, 4, Links::Follow).unwrap_err();
        assert!(format!("{err:#}").contains("a directory"), "{err:#}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("f", d.join("l")).unwrap();
            assert_eq!(
                read_regular(&d.join("l"), 5, Links::Follow).unwrap(),
                b"12345"
            );
            let err = read_regular(&d.join("l"), 5, Links::Refuse).unwrap_err();
            assert!(format!("{err:#}").contains("is a symbolic link"), "{err:#}");
            let err = read_regular(Path::new("/dev/zero"), 5, Links::Follow).unwrap_err();
            assert!(format!("{err:#}").contains("a character device"), "{err:#}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn atomic_writes_replace_and_leave_no_temporary_file() {
        let d = scratch("write");
        write_atomic(&d.join("f"), b"one").unwrap();
        write_atomic(&d.join("f"), b"two").unwrap();
        assert_eq!(std::fs::read(d.join("f")).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join("f")).unwrap().permissions().mode();
            assert_eq!(mode & 0o600, 0o600);
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
