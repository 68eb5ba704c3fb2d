//! `render --output-dir DIR` and `render --check DIR`: one file per object under DIR, kept in sync.
//! The decisions are pure functions of what is wanted and what the directory holds (`plan`,
//! `compare`); `write` and `check` only read the directory into a `Snapshot` and carry the plan out.
//! The marker file lists what this tool wrote, and nothing it does not list is ever deleted.

use crate::manifests::{OUTPUT_MARKER, is_layout_path};
use crate::render::Document;
use anyhow::{Context, Result};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// One file to write: path relative to DIR, and content.
pub type File = (String, String);

/// The files for rendered documents: `<namespace or _cluster>/<kind>-<name>.yaml`.
pub fn files(docs: &[Document]) -> Vec<File> {
    let ids: Vec<&crate::render::Identity> = docs.iter().map(|d| &d.identity).collect();
    crate::manifests::output_paths(&ids)
        .into_iter()
        .zip(docs)
        .map(|(path, d)| (path, d.yaml.clone()))
        .collect()
}

/// The marker's content for a set of files.
pub fn marker_text(files: &[File]) -> String {
    let mut paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    paths.sort();
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
    /// DIR holds at least one entry.
    pub non_empty: bool,
    /// The marker's text, when there is one.
    pub marker: Option<String>,
    /// The current bytes of each wanted path that exists as a file.
    pub current: BTreeMap<String, Vec<u8>>,
    /// Paths the marker lists that exist as regular files.
    pub owned_files: HashSet<String>,
}

/// What `write` will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Files to create or overwrite.
    pub write: Vec<File>,
    /// Files already current.
    pub unchanged: usize,
    /// Files a previous run wrote that are no longer rendered.
    pub delete: Vec<String>,
    /// The marker's new content.
    pub marker: String,
}

/// The plan for writing `files` into a directory in state `snap`; refuses a non-empty directory
/// without a marker, so it never deletes or overwrites anything it did not write.
pub fn plan(dir: &Path, files: &[File], snap: &Snapshot) -> Result<Plan> {
    anyhow::ensure!(
        !snap.exists || snap.marker.is_some() || !snap.non_empty,
        "`{}` is not empty and has no `{OUTPUT_MARKER}` marker: refusing to write into a directory this tool did not create; give a new or empty directory",
        dir.display(),
    );
    let mut plan = Plan {
        marker: marker_text(files),
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
    let keep: HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let owned = snap.marker.as_deref().map(marker_files).unwrap_or_default();
    plan.delete = owned
        .into_iter()
        .filter(|r| !keep.contains(r.as_str()) && snap.owned_files.contains(r))
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

fn snapshot(dir: &Path, files: &[File]) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    if !dir.exists() {
        return Ok(snap);
    }
    anyhow::ensure!(
        dir.is_dir(),
        "`{}` exists and is not a directory",
        dir.display()
    );
    snap.exists = true;
    let marker = dir.join(OUTPUT_MARKER);
    match std::fs::read_to_string(&marker) {
        Ok(text) => snap.marker = Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading `{}`", marker.display())),
    }
    snap.non_empty = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory `{}`", dir.display()))?
        .next()
        .is_some();
    for (rel, _) in files {
        if let Ok(b) = std::fs::read(dir.join(rel)) {
            snap.current.insert(rel.clone(), b);
        }
    }
    for rel in snap.marker.as_deref().map(marker_files).unwrap_or_default() {
        if std::fs::symlink_metadata(dir.join(&rel)).is_ok_and(|m| m.is_file()) {
            snap.owned_files.insert(rel);
        }
    }
    Ok(snap)
}

/// Writes `files` under `dir` and deletes files a previous run wrote that are no longer rendered.
pub fn write(dir: &Path, files: &[File]) -> Result<WriteSummary> {
    let plan = plan(dir, files, &snapshot(dir, files)?)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    for (rel, content) in &plan.write {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating `{}`", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing `{}`", path.display()))?;
    }
    for rel in &plan.delete {
        let path = dir.join(rel);
        std::fs::remove_file(&path).with_context(|| format!("removing `{}`", path.display()))?;
        // Only succeeds when the namespace directory became empty.
        if let Some(parent) = path.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
    let marker = dir.join(OUTPUT_MARKER);
    std::fs::write(&marker, &plan.marker)
        .with_context(|| format!("writing `{}`", marker.display()))?;
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
/// files plus an object diff, and whether the directory is current.
pub fn check(dir: &Path, files: &[File], color: bool) -> Result<(String, bool)> {
    anyhow::ensure!(
        dir.is_dir(),
        "`{}` is not a directory: run `render --output-dir {}` first",
        dir.display(),
        dir.display()
    );
    let mut present = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading directory `{}`", dir.display()))?
    {
        let entry = entry?;
        let sub = entry.file_name().to_string_lossy().to_string();
        if !entry.file_type()?.is_dir() || sub.starts_with('.') {
            continue;
        }
        for f in std::fs::read_dir(entry.path())? {
            let f = f?;
            let rel = format!("{sub}/{}", f.file_name().to_string_lossy());
            if f.file_type()?.is_file() && is_layout_path(&rel) {
                present.push(rel);
            }
        }
    }
    present.sort();
    let marker = std::fs::read_to_string(dir.join(OUTPUT_MARKER)).ok();
    let lines = compare(
        files,
        &present,
        |rel| std::fs::read(dir.join(rel)).ok(),
        marker.as_deref(),
    );
    if lines.is_empty() {
        return Ok((
            format!(
                "`{}` is up to date ({} files)\n",
                dir.display(),
                files.len()
            ),
            true,
        ));
    }
    let mut text = lines.join("\n");
    text.push_str(&format!(
        "\n`{}` is stale: run `artifact-repos render` with the same values and `--output-dir {}`, then commit the result\n\n",
        dir.display(),
        dir.display()
    ));
    // Files that are not manifests (hand-written notes in YAML) are left out of the object diff.
    let mut old_sources = Vec::new();
    for rel in &present {
        let path = dir.join(rel);
        let bytes = std::fs::read(&path)?;
        match crate::manifests::parse(&path.display().to_string(), &bytes) {
            Ok(_) => old_sources.push((path.display().to_string(), bytes)),
            Err(p) => text.push_str(&format!("not compared: {p}\n")),
        }
    }
    let new_sources: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, c)| (format!("rendered/{p}"), c.as_bytes().to_vec()))
        .collect();
    match (
        crate::manifests::load(&old_sources),
        crate::manifests::load(&new_sources),
    ) {
        (Ok(old), Ok(new)) => text.push_str(&crate::diff::diff(&old, &new, color).text),
        (Err(p), _) | (_, Err(p)) => text.push_str(&format!("(no object diff: {p})\n")),
    }
    Ok((text, false))
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
        };
        let p = plan(Path::new("d"), &files, &snap).unwrap();
        assert_eq!(p.write, vec![f("ns/configmap-a.yaml", "new\n")]);
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.delete, vec!["ns/configmap-gone.yaml".to_string()]);
        assert_eq!(p.marker, marker_text(&files));
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
}
