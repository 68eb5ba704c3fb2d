//! The parts of README.md generated from the code's own tables, each between
//! `<!-- generated:NAME -->` and `<!-- end generated -->`: the values tables (from
//! `values::fields`), the table of `check` findings (from `check::Code`) and the exit codes of every
//! command (from `error::EXIT_CODES`). A test compares the
//! committed README with `splice_all` and rewrites it under `ARTIFACT_REPOS_BLESS=1`.

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

/// `text` with every generated part current.
pub fn splice_all(text: &str) -> Result<String, String> {
    let mut text = text.to_string();
    for (name, content) in parts() {
        text = splice(&text, name, &content)?;
    }
    Ok(text)
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
}
