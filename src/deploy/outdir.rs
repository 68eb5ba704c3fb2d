//! `render --output-dir DIR` and `render --check DIR`: one file per object under DIR, kept in sync.
//! The decisions are pure functions of what is wanted and what the directory holds (`plan`,
//! `compare`); `write` and `check` only read the directory into a `Snapshot` and carry the plan out.
//! The marker file lists what this tool wrote, and nothing it does not list is ever deleted.

use crate::ci::manifests::{OUTPUT_MARKER, is_layout_path};
use crate::rules::identity::Document;
use anyhow::{Context, Result};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// One file to write: path relative to DIR, and content.
pub type File = (String, String);

/// The files for rendered documents: `<namespace or _cluster>/<kind>-<name>.yaml`.
pub fn files(docs: &[Document]) -> Vec<File> {
    let ids: Vec<&crate::rules::identity::Identity> = docs.iter().map(|d| &d.identity).collect();
    crate::ci::manifests::output_paths(&ids)
        .into_iter()
        .zip(docs)
        .map(|(path, d)| (path, d.yaml.clone()))
        .collect()
}

/// The marker's content for a set of files.
pub fn marker_text(files: &[File]) -> String {
    marker_of(files.iter().map(|(p, _)| p.as_str()))
}

/// The marker listing `paths` (sorted, each once).
fn marker_of<'a>(paths: impl IntoIterator<Item = &'a str>) -> String {
    let paths: std::collections::BTreeSet<&str> = paths.into_iter().collect();
    let mut s = String::from(
        "# Written by `artifact-repos render --output-dir`: the files it owns in this directory.\n\
         # It deletes only files listed here. Commit this file with them.\n",
    );
    for p in paths {
        s.push_str(p);
        s.push('\n');
    }
    s
}

/// Files listed in a marker, keeping only paths of our layout (a marker is never trusted to point
/// outside its directory).
pub fn marker_files(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| is_layout_path(l) && !l.split('/').any(|c| c == ".."))
        .map(str::to_string)
        .collect()
}

/// What the directory holds, as far as the plan needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// DIR exists (as a directory: anything else is refused before the plan).
    pub exists: bool,
    /// DIR holds at least one entry besides leftover temporary files of ours.
    pub non_empty: bool,
    /// The marker's text, when there is one.
    pub marker: Option<String>,
    /// The current bytes of each wanted path that exists (as a regular file: anything else is
    /// refused while reading the directory).
    pub current: BTreeMap<String, Vec<u8>>,
    /// Paths the marker lists that exist (as regular files, likewise).
    pub owned_files: HashSet<String>,
    /// Temporary files an interrupted run left (`fsio::TEMP_PREFIX`), relative to DIR.
    pub leftovers: Vec<String>,
}

/// What `write` will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The marker written before any file, when a file it does not list yet is written: what it
    /// listed plus every wanted file, so that at every moment the marker lists every file this
    /// tool may have written (an interrupted run leaves nothing unlisted behind).
    pub intent: Option<String>,
    /// Files to create or overwrite.
    pub write: Vec<File>,
    /// Files already current.
    pub unchanged: usize,
    /// Files a previous run wrote that are no longer rendered.
    pub delete: Vec<String>,
    /// Leftover temporary files of ours to remove.
    pub cleanup: Vec<String>,
    /// The marker's new content, written last.
    pub marker: String,
}

/// The plan for writing `files` into a directory in state `snap`; refuses a non-empty directory
/// without a marker, and a file where a generated file goes that the marker does not list, so it
/// never deletes or overwrites anything it did not write.
pub fn plan(dir: &Path, files: &[File], snap: &Snapshot) -> Result<Plan> {
    anyhow::ensure!(
        !snap.exists || snap.marker.is_some() || !snap.non_empty,
        "`{}` is not empty and has no `{OUTPUT_MARKER}` marker: refusing to write into a directory this tool did not create; give a new or empty directory",
        show(dir),
    );
    let listed: Vec<String> = snap.marker.as_deref().map(marker_files).unwrap_or_default();
    let listed_set: HashSet<&str> = listed.iter().map(String::as_str).collect();
    let foreign: Vec<String> = files
        .iter()
        .filter(|(rel, _)| snap.current.contains_key(rel) && !listed_set.contains(rel.as_str()))
        .map(|(rel, _)| format!("`{}`", show(&dir.join(rel))))
        .collect();
    anyhow::ensure!(
        foreign.is_empty(),
        "{} {} not listed in `{OUTPUT_MARKER}`: refusing to overwrite a file this tool did not write; move it away (or delete it) and run again",
        foreign.join(", "),
        if foreign.len() == 1 { "is" } else { "are" },
    );
    let mut plan = Plan {
        marker: marker_text(files),
        cleanup: snap.leftovers.clone(),
        ..Default::default()
    };
    for (rel, content) in files {
        if snap
            .current
            .get(rel)
            .is_some_and(|b| b == content.as_bytes())
        {
            plan.unchanged += 1;
        } else {
            plan.write.push((rel.clone(), content.clone()));
        }
    }
    if snap.marker.is_none()
        || plan
            .write
            .iter()
            .any(|(rel, _)| !listed_set.contains(rel.as_str()))
    {
        plan.intent = Some(marker_of(
            listed
                .iter()
                .map(String::as_str)
                .chain(files.iter().map(|(p, _)| p.as_str())),
        ));
    }
    let keep: HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    plan.delete = listed
        .iter()
        .filter(|r| !keep.contains(r.as_str()) && snap.owned_files.contains(*r))
        .cloned()
        .collect();
    Ok(plan)
}

/// What `write` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

fn show(path: &Path) -> String {
    crate::fsio::show(path)
}

/// The largest file read back from the directory (a manifest's limit).
const MAX_FILE_BYTES: usize = crate::ci::manifests::MAX_MANIFEST_BYTES;

/// Whether `dir/rel` exists as a regular file, checking every component below `dir` without
/// following links: a symbolic link (a namespace folder or a file linked elsewhere) or anything but
/// a directory or a regular file where one belongs is refused, naming it.
fn inspect(dir: &Path, rel: &str) -> Result<bool> {
    let parts: Vec<&str> = rel.split('/').collect();
    let mut path = dir.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e).with_context(|| format!("reading `{}`", show(&path))),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            return Err(crate::fsio::symlink_refused(&path));
        }
        let last = i + 1 == parts.len();
        anyhow::ensure!(
            if last { ft.is_file() } else { ft.is_dir() },
            "`{}` is {}, not a {}: refusing to read, replace or delete it; move it away and run again",
            show(&path),
            crate::fsio::describe(&ft),
            if last { "regular file" } else { "directory" },
        );
    }
    Ok(true)
}

/// A directory below DIR (a namespace folder), created when missing; a link or anything else is
/// refused. Checked again just before each write, narrowing the window a swap could use.
fn ensure_dir(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(crate::fsio::symlink_refused(path)),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) => anyhow::bail!(
            "`{}` is {}, not a directory",
            show(path),
            crate::fsio::describe(&m.file_type())
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => ensure_dir(path),
            r => r.with_context(|| format!("creating `{}`", show(path))),
        },
        Err(e) => Err(e).with_context(|| format!("reading `{}`", show(path))),
    }
}

fn is_temp(name: &str) -> bool {
    name.starts_with(crate::fsio::TEMP_PREFIX)
}

/// Reads what the plan needs, refusing links and non-regular files at every path it reads or may
/// write or delete. DIR itself, named on the command line, may be a link (it is followed); nothing
/// below it is.
fn snapshot(dir: &Path, files: &[File]) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(snap),
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", show(dir))),
        Ok(m) => anyhow::ensure!(m.is_dir(), "`{}` exists and is not a directory", show(dir)),
    }
    snap.exists = true;
    let marker = dir.join(OUTPUT_MARKER);
    match std::fs::symlink_metadata(&marker) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        _ => {
            let bytes =
                crate::fsio::read_regular(&marker, MAX_FILE_BYTES, crate::fsio::Links::Refuse)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!(
                    "`{}` is not UTF-8: it is not a marker this tool wrote",
                    show(&marker)
                )
            })?;
            snap.marker = Some(text);
        }
    }
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading directory `{}`", show(dir)))?
    {
        let entry = entry.with_context(|| format!("reading directory `{}`", show(dir)))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ft = entry
            .file_type()
            .with_context(|| format!("reading `{}`", show(&entry.path())))?;
        if is_temp(&name) && ft.is_file() {
            snap.leftovers.push(name);
            continue;
        }
        snap.non_empty = true;
        // Leftovers of ours inside real namespace folders (links are never entered).
        if ft.is_dir() && !name.starts_with('.') {
            let sub = std::fs::read_dir(entry.path())
                .with_context(|| format!("reading directory `{}`", show(&entry.path())))?;
            for f in sub.flatten() {
                let file = f.file_name().to_string_lossy().into_owned();
                if is_temp(&file) && f.file_type().is_ok_and(|t| t.is_file()) {
                    snap.leftovers.push(format!("{name}/{file}"));
                }
            }
        }
    }
    snap.leftovers.sort();
    for (rel, _) in files {
        if inspect(dir, rel)? {
            let bytes = crate::fsio::read_regular(
                &dir.join(rel),
                MAX_FILE_BYTES,
                crate::fsio::Links::Refuse,
            )?;
            snap.current.insert(rel.clone(), bytes);
        }
    }
    for rel in snap.marker.as_deref().map(marker_files).unwrap_or_default() {
        if inspect(dir, &rel)? {
            snap.owned_files.insert(rel);
        }
    }
    Ok(snap)
}

/// Writes `files` under `dir` and deletes files a previous run wrote that are no longer rendered.
/// Every check happens before the first change: a refused directory is left as it was. Each file
/// and the marker are written atomically (`fsio::write_atomic`); the marker is written before the
/// files when it must list new ones, and last, so it always lists every file a run may have left.
///
/// What remains racy: a process that can write inside DIR could swap a namespace folder for a link
/// between the check of that folder (`ensure_dir`, just before each file) and the file's
/// creation and rename; closing that needs `openat`/`renameat` on directory descriptors.
pub fn write(dir: &Path, files: &[File]) -> Result<WriteSummary> {
    let plan = plan(dir, files, &snapshot(dir, files)?)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", show(dir)))?;
    for rel in &plan.cleanup {
        let path = dir.join(rel);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing `{}`", show(&path)));
            }
            _ => {}
        }
    }
    let marker = dir.join(OUTPUT_MARKER);
    if let Some(intent) = &plan.intent {
        crate::fsio::write_atomic(&marker, intent.as_bytes())?;
        crate::fsio::sync_dir(dir);
    }
    let mut touched = std::collections::BTreeSet::new();
    for (rel, content) in &plan.write {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            ensure_dir(parent)?;
            touched.insert(parent.to_path_buf());
        }
        crate::fsio::write_atomic(&path, content.as_bytes())?;
    }
    for parent in &touched {
        crate::fsio::sync_dir(parent);
    }
    for rel in &plan.delete {
        let path = dir.join(rel);
        // Checked again: still a regular file in a real folder.
        if !inspect(dir, rel)? {
            continue;
        }
        std::fs::remove_file(&path).with_context(|| format!("removing `{}`", show(&path)))?;
        // Only succeeds when the namespace directory became empty.
        if let Some(parent) = path.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
    crate::fsio::write_atomic(&marker, plan.marker.as_bytes())?;
    crate::fsio::sync_dir(dir);
    Ok(WriteSummary {
        written: plan.write.len(),
        unchanged: plan.unchanged,
        removed: plan.delete.len(),
    })
}

/// What `compare` found: listing lines (`missing:`, `stale:`, `extra:`), sorted.
pub fn compare(
    files: &[File],
    present: &[String],
    read: impl Fn(&str) -> Option<Vec<u8>>,
    marker: Option<&str>,
) -> Vec<String> {
    let owned = marker.map(marker_files).unwrap_or_default();
    let wanted: HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let mut lines = Vec::new();
    for (rel, content) in files {
        match read(rel) {
            Some(b) if b == content.as_bytes() => {}
            Some(_) => lines.push(format!("stale: {rel}")),
            None => lines.push(format!("missing: {rel}")),
        }
    }
    for rel in present {
        if !wanted.contains(rel.as_str()) {
            let how = if owned.contains(rel) {
                ""
            } else {
                " (not listed in the marker: delete it by hand)"
            };
            lines.push(format!("extra: {rel}{how}"));
        }
    }
    if marker != Some(marker_text(files).as_str()) {
        lines.push(format!("stale: {OUTPUT_MARKER}"));
    }
    lines.sort();
    lines
}

/// Compares what `write` would write with `dir`: returns a listing of missing, stale and extra
/// files plus an object diff, and whether the directory is current. Reads as `write` does: never
/// through a link below `dir`, only regular files, each bounded.
pub fn check(dir: &Path, files: &[File], color: bool) -> Result<(String, bool)> {
    anyhow::ensure!(
        dir.is_dir(),
        "`{}` is not a directory: run `render --output-dir {}` first",
        show(dir),
        show(dir)
    );
    let snap = snapshot(dir, files)?;
    // Layout files present: regular ones are compared; links and other odd entries where our files
    // go are listed, never opened.
    let mut present = Vec::new();
    let mut odd = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading directory `{}`", show(dir)))?
    {
        let entry = entry.with_context(|| format!("reading directory `{}`", show(dir)))?;
        let sub = entry.file_name().to_string_lossy().to_string();
        let ty = entry
            .file_type()
            .with_context(|| format!("reading `{}`", show(&entry.path())))?;
        if !ty.is_dir() || sub.starts_with('.') {
            continue;
        }
        for f in std::fs::read_dir(entry.path())
            .with_context(|| format!("reading directory `{}`", show(&entry.path())))?
        {
            let f = f.with_context(|| format!("reading directory `{}`", show(&entry.path())))?;
            let rel = format!("{sub}/{}", f.file_name().to_string_lossy());
            if !is_layout_path(&rel) {
                continue;
            }
            let ft = f
                .file_type()
                .with_context(|| format!("reading `{}`", show(&f.path())))?;
            if ft.is_file() {
                present.push(rel);
            } else if !ft.is_dir() {
                odd.push((rel, crate::fsio::describe(&ft)));
            }
        }
    }
    present.sort();
    let wanted: HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let mut lines = compare(
        files,
        &present,
        |rel| snap.current.get(rel).cloned(),
        snap.marker.as_deref(),
    );
    for (rel, what) in &odd {
        if !wanted.contains(rel.as_str()) {
            lines.push(format!(
                "extra: {rel} ({what}, not read: delete it by hand)"
            ));
        }
    }
    lines.sort();
    if lines.is_empty() {
        return Ok((
            format!("`{}` is up to date ({} files)\n", show(dir), files.len()),
            true,
        ));
    }
    let mut text = lines.join("\n");
    text.push_str(&format!(
        "\n`{}` is stale: run `artifact-repos render` with the same values and `--output-dir {}`, then commit the result\n\n",
        show(dir),
        show(dir)
    ));
    // Files that are not manifests (hand-written notes in YAML) are left out of the object diff.
    let mut old_sources = Vec::new();
    for rel in &present {
        let path = dir.join(rel);
        let bytes = match snap.current.get(rel) {
            Some(b) => b.clone(),
            None => crate::fsio::read_regular(&path, MAX_FILE_BYTES, crate::fsio::Links::Refuse)?,
        };
        match crate::ci::manifests::parse(&path.display().to_string(), &bytes) {
            Ok(_) => old_sources.push((path.display().to_string(), bytes)),
            Err(p) => text.push_str(&format!("not compared: {p}\n")),
        }
    }
    let new_sources: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, c)| (format!("rendered/{p}"), c.as_bytes().to_vec()))
        .collect();
    match (
        crate::ci::manifests::load(&old_sources),
        crate::ci::manifests::load(&new_sources),
    ) {
        (Ok(old), Ok(new)) => text.push_str(&crate::ci::diff::diff(&old, &new, color).text),
        (Err(p), _) | (_, Err(p)) => text.push_str(&format!("(no object diff: {p})\n")),
    }
    Ok((text, false))
}

/// Writes `files` (plain names, no folders) into `dir` through the same file layer as `write`
/// (`policies --output-dir`, #20: it wrote through symbolic links and hung on FIFOs): every
/// target is checked before the first change (a symbolic link, a FIFO, a directory or anything
/// but a regular file where a file goes is refused, naming it), then each file is written
/// atomically (`fsio::write_atomic`: a temporary file renamed over the target). `dir` itself, named
/// on the command line, may be a link. Existing regular files are overwritten; nothing is deleted.
pub fn write_files(dir: &Path, files: &[File]) -> Result<WriteSummary> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", show(dir))),
        Ok(m) => anyhow::ensure!(m.is_dir(), "`{}` exists and is not a directory", show(dir)),
    }
    let mut summary = WriteSummary::default();
    let mut write = Vec::new();
    for (name, content) in files {
        anyhow::ensure!(
            !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']),
            "`{}` is not a plain file name: refusing to write it",
            crate::error::escape(name)
        );
        let exists = inspect(dir, name)?;
        if exists
            && crate::fsio::read_regular(
                &dir.join(name),
                MAX_FILE_BYTES,
                crate::fsio::Links::Refuse,
            )? == content.as_bytes()
        {
            summary.unchanged += 1;
        } else {
            write.push((name, content));
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", show(dir)))?;
    for (name, content) in write {
        // Checked again just before: still nothing but a regular file (or nothing) there.
        inspect(dir, name)?;
        crate::fsio::write_atomic(&dir.join(name), content.as_bytes())?;
        summary.written += 1;
    }
    crate::fsio::sync_dir(dir);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(p: &str, c: &str) -> File {
        (p.to_string(), c.to_string())
    }

    #[test]
    fn a_plan_writes_what_changed_and_deletes_only_what_the_marker_lists() {
        let files = [
            f("ns/configmap-a.yaml", "new\n"),
            f("ns/role-b.yaml", "same\n"),
        ];
        let snap = Snapshot {
            exists: true,
            non_empty: true,
            marker: Some(marker_text(&[
                f("ns/role-b.yaml", ""),
                f("ns/configmap-gone.yaml", ""),
                f("ns/configmap-already-deleted.yaml", ""),
            ])),
            current: [("ns/role-b.yaml".to_string(), b"same\n".to_vec())].into(),
            owned_files: ["ns/role-b.yaml", "ns/configmap-gone.yaml"]
                .map(String::from)
                .into(),
            leftovers: vec!["ns/.artifact-repos-tmp-1-0".to_string()],
        };
        let p = plan(Path::new("d"), &files, &snap).unwrap();
        assert_eq!(p.write, vec![f("ns/configmap-a.yaml", "new\n")]);
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.delete, vec!["ns/configmap-gone.yaml".to_string()]);
        assert_eq!(p.marker, marker_text(&files));
        assert_eq!(p.cleanup, vec!["ns/.artifact-repos-tmp-1-0".to_string()]);
        // The marker written first lists the new file and everything listed before.
        assert_eq!(
            p.intent.as_deref(),
            Some(
                marker_text(&[
                    f("ns/configmap-a.yaml", ""),
                    f("ns/configmap-already-deleted.yaml", ""),
                    f("ns/configmap-gone.yaml", ""),
                    f("ns/role-b.yaml", ""),
                ])
                .as_str()
            )
        );
    }

    #[test]
    fn a_file_the_marker_does_not_list_is_never_overwritten() {
        let files = [f("ns/configmap-a.yaml", "new\n")];
        let snap = Snapshot {
            exists: true,
            non_empty: true,
            marker: Some(marker_text(&[])),
            current: [("ns/configmap-a.yaml".to_string(), b"mine\n".to_vec())].into(),
            ..Default::default()
        };
        let err = plan(Path::new("d"), &files, &snap).unwrap_err().to_string();
        assert!(
            err.contains("`d/ns/configmap-a.yaml` is not listed in `.artifact-repos-files`"),
            "{err}"
        );
        // Listed: it is ours, and rewritten without a marker written first.
        let snap = Snapshot {
            marker: Some(marker_text(&files)),
            ..snap
        };
        let p = plan(Path::new("d"), &files, &snap).unwrap();
        assert_eq!(p.write, files.to_vec());
        assert_eq!(p.intent, None);
    }

    #[test]
    fn a_foreign_directory_is_refused() {
        let snap = Snapshot {
            exists: true,
            non_empty: true,
            ..Default::default()
        };
        let err = plan(Path::new("d"), &[], &snap).unwrap_err().to_string();
        assert!(
            err.contains("has no `.artifact-repos-files` marker"),
            "{err}"
        );
        let empty = Snapshot {
            exists: true,
            ..Default::default()
        };
        assert!(plan(Path::new("d"), &[], &empty).is_ok());
    }

    #[test]
    fn a_marker_never_points_outside_its_directory() {
        let text = "# c\nns/configmap-a.yaml\n../etc/passwd\n/abs/x-y.yaml\nns/../x-y.yaml\n";
        assert_eq!(marker_files(text), vec!["ns/configmap-a.yaml".to_string()]);
    }

    #[cfg(unix)]
    #[test]
    fn flat_files_refuse_links_and_fifos_before_writing() {
        let d =
            std::env::temp_dir().join(format!("artifact-repos-outdir-flat-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let outside = d.with_extension("outside");
        std::fs::write(&outside, "keep").unwrap();
        std::os::unix::fs::symlink(&outside, d.join("b.json")).unwrap();
        let files = vec![
            ("a.json".to_string(), "{}".to_string()),
            ("b.json".to_string(), "{}".to_string()),
        ];
        let err = write_files(&d, &files).unwrap_err();
        assert!(format!("{err:#}").contains("is a symbolic link"), "{err:#}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert!(
            !d.join("a.json").exists(),
            "nothing written before every check passed"
        );
        std::fs::remove_file(d.join("b.json")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(d.join("b.json"))
            .status()
            .unwrap();
        assert!(fifo.success());
        let err = write_files(&d, &files).unwrap_err();
        assert!(format!("{err:#}").contains("a FIFO"), "{err:#}");
        std::fs::remove_file(d.join("b.json")).unwrap();
        let s = write_files(&d, &files).unwrap();
        assert_eq!((s.written, s.unchanged), (2, 0));
        let s = write_files(&d, &files).unwrap();
        assert_eq!((s.written, s.unchanged), (0, 2));
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_file(&outside);
    }
}
