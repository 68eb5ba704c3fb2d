//! The parts of the documentation generated from the code's own tables, each between
//! `<!-- generated:NAME -->` and `<!-- end generated -->` on whichever page (README.md or a page of
//! `docs/`) holds the marker: the values tables (from `values::fields`), the table of `check` findings
//! (from `check::Code`) and the exit codes of every command (from `error::EXIT_CODES`). A test compares
//! the committed pages with `splice_pages` and rewrites them under `ARTIFACT_REPOS_BLESS=1`.
//!
//! A part's links to a section (`[Backends](#backends)`) are written as if every section were on one
//! page; `splice_pages` points each one at the page that holds that section (`values.md#backends`).

/// The end marker every generated part closes with.
pub const END: &str = "<!-- end generated -->";

/// Every generated part, by marker name.
pub fn parts() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = crate::values::fields::README_TABLES
        .iter()
        .map(|name| {
            let table = crate::values::fields::readme_table(name).expect("a known table");
            (*name, table)
        })
        .collect();
    out.push(("check-findings", crate::ci::check::Code::readme_table()));
    out.push(("exit-codes", crate::error::exit_codes_readme_table()));
    out.push(("backend-fields", crate::rules::argo::readme_fields_table()));
    out.push((
        "backend-credentials",
        crate::rules::argo::readme_credentials_table(),
    ));
    out
}

/// `text` with the part `name` replaced by `content`; an error when its markers are missing.
pub fn splice(text: &str, name: &str, content: &str) -> Result<String, String> {
    let start = format!("<!-- generated:{name} -->\n");
    let begin = text
        .find(&start)
        .ok_or_else(|| format!("no `<!-- generated:{name} -->` line"))?
        + start.len();
    let end = text[begin..]
        .find(END)
        .ok_or_else(|| format!("`<!-- generated:{name} -->` has no `{END}`"))?
        + begin;
    Ok(format!("{}{content}{}", &text[..begin], &text[end..]))
}

/// Every page with every generated part current: `pages` are (path from the repository root, text);
/// each part goes into the one page holding its marker, with its section links pointed at the pages
/// holding those sections. An error when no page, or more than one, holds a part's marker.
pub fn splice_pages(pages: &[(String, String)]) -> Result<Vec<String>, String> {
    let anchors: Vec<Vec<String>> = pages.iter().map(|(_, t)| heading_anchors(t)).collect();
    let mut out: Vec<String> = pages.iter().map(|(_, t)| t.clone()).collect();
    for (name, content) in parts() {
        let marker = format!("<!-- generated:{name} -->\n");
        let holders: Vec<usize> = (0..pages.len())
            .filter(|&i| pages[i].1.contains(&marker))
            .collect();
        let at = match holders[..] {
            [one] => one,
            [] => return Err(format!("no page holds a `<!-- generated:{name} -->` line")),
            _ => {
                let names: Vec<&str> = holders.iter().map(|&i| pages[i].0.as_str()).collect();
                return Err(format!(
                    "`<!-- generated:{name} -->` is on several pages: {}",
                    names.join(", ")
                ));
            }
        };
        let content = relink(&content, at, pages, &anchors);
        out[at] = splice(&out[at], name, &content).map_err(|e| format!("{}: {e}", pages[at].0))?;
    }
    Ok(out)
}

/// `content` with every `](#anchor)` that page `at` lacks pointed at the page that has it.
fn relink(content: &str, at: usize, pages: &[(String, String)], anchors: &[Vec<String>]) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(i) = rest.find("](#") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let anchor = &rest[1..end];
        let elsewhere = || (0..pages.len()).find(|&p| anchors[p].iter().any(|a| a == anchor));
        if !anchors[at].iter().any(|a| a == anchor)
            && let Some(other) = elsewhere()
        {
            out.push_str(&relative(&pages[at].0, &pages[other].0));
        }
        out.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The relative link from the page `from` to the page `to`, both paths from the repository root.
pub fn relative(from: &str, to: &str) -> String {
    let mut from_dir: Vec<&str> = from.split('/').collect();
    from_dir.pop();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut link = "../".repeat(from_dir.len() - common);
    link.push_str(&to_parts[common..].join("/"));
    link
}

/// The anchors GitHub gives a Markdown page's headings (outside code fences), in order: the heading's
/// text (a link's text, not its target) lowercased, every character but letters, digits, `-`, `_` and
/// spaces dropped, spaces turned into `-`; a repeated anchor gets `-1`, `-2`, ...
pub fn heading_anchors(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut fence = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fence = !fence;
            continue;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if fence || hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let mut heading = String::new();
        let mut rest = line[hashes..].trim();
        // `[text](target)` reads as `text`.
        while let Some(open) = rest.find("](") {
            let Some(close) = rest[open..].find(')') else {
                break;
            };
            heading.push_str(&rest[..open]);
            rest = &rest[open + close + 1..];
        }
        heading.push_str(rest);
        let base: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut anchor = base.clone();
        let mut n = 0;
        while out.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        out.push(anchor);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let t = "a\n<!-- generated:x -->\nold\n<!-- end generated -->\nb\n";
        assert_eq!(
            splice(t, "x", "new\n").unwrap(),
            "a\n<!-- generated:x -->\nnew\n<!-- end generated -->\nb\n"
        );
        assert!(splice(t, "y", "").is_err());
    }

    #[test]
    fn anchors_follow_github() {
        let t = "# A\n## `render --check DIR` and more\n```sh\n# not a heading\n```\n## A\n### With Helm: the post-renderer\n## See [docs](x.md)\n";
        assert_eq!(
            heading_anchors(t),
            [
                "a",
                "render---check-dir-and-more",
                "a-1",
                "with-helm-the-post-renderer",
                "see-docs"
            ]
        );
    }

    #[test]
    fn relative_links_between_pages() {
        assert_eq!(relative("README.md", "docs/values.md"), "docs/values.md");
        assert_eq!(relative("docs/values.md", "README.md"), "../README.md");
        assert_eq!(
            relative("docs/values.md", "docs/isolation.md"),
            "isolation.md"
        );
    }

    #[test]
    fn a_part_goes_to_the_page_holding_its_marker_and_its_links_follow_their_sections() {
        let page = |path: &str, text: &str| (path.to_string(), text.to_string());
        let mut pages = vec![
            page("README.md", "# R\n"),
            page("docs/b.md", "# Backends\n"),
        ];
        for (name, _) in parts() {
            pages[0]
                .1
                .push_str(&format!("<!-- generated:{name} -->\n{END}\n"));
        }
        let out = splice_pages(&pages).unwrap();
        assert!(out[0].contains("(docs/b.md#backends)"), "{}", out[0]);
        assert!(!out[0].contains("](#backends)"));
        assert_eq!(out[1], pages[1].1);
        pages[1].1.push_str("<!-- generated:exit-codes -->\n");
        assert!(splice_pages(&pages).unwrap_err().contains("several pages"));
        pages[0].1 = "# R\n".into();
        assert!(splice_pages(&pages).is_err());
    }
}
