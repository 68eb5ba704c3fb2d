//! Error vocabulary shared by every stage: a `Problem` is one thing wrong with the user's input,
//! located by a path into it; `Problems` carries all of them at once so a user fixes a values file
//! in one round trip. Exit codes live here because they are part of the interface.

use std::borrow::Cow;
use std::fmt;

/// Input text as it may be shown on a terminal: every character that is not printable as is
/// (control characters such as ESC, CR and LF, invisible format characters such as bidi
/// overrides), backslashes and quotes written as Rust escapes (`\u{1b}`, `\n`, `\\`, `\"`). This is
/// the one escaping function: the values validator shows offending values with it, and `diff`,
/// `check` and `explain` show object names and values from manifests with it, so a hostile
/// manifest can neither send escape sequences to a terminal nor forge a line of output.
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| c.escape_debug().len() == 1) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.escape_debug().collect())
    }
}

/// A line of a report made terminal-safe as a last line of defence: what `escape` would escape,
/// except the quotes and backslashes a report writes itself (values in it were escaped already, so
/// nothing is escaped twice). Applied to every line `check` and `explain` print, and to each
/// line of `diff`'s output, before the line break is added.
pub fn terminal_safe(line: &str) -> Cow<'_, str> {
    let keep = |c: char| matches!(c, '"' | '\'' | '\\') || c.escape_debug().len() == 1;
    if line.chars().all(keep) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if keep(c) {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    Cow::Owned(out)
}

/// Success, no drift, no findings.
pub const EXIT_OK: u8 = 0;
/// `diff` found drift, `check` found findings, `render --check` found stale files.
pub const EXIT_DIFFERENT: u8 = 1;
/// Bad input or a failure: nothing was written to stdout.
pub const EXIT_ERROR: u8 = 2;

/// The README's table of exit codes, one row per command that has codes of its own.
pub fn exit_codes_readme_table() -> String {
    let mut out = String::from("| command | 0 | 1 | 2 |\n|---|---|---|---|\n");
    for (command, codes) in EXIT_CODES {
        let name = command.map_or("(every command)".to_string(), |c| format!("`{c}`"));
        let cell = |code: u8| {
            codes
                .iter()
                .find(|(c, _)| *c == code)
                .map_or("", |(_, meaning)| meaning)
                .replace('|', "\\|")
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            cell(0),
            cell(1),
            cell(2)
        ));
    }
    out
}

/// A command's exit codes with their meaning.
pub type ExitCodes = &'static [(u8, &'static str)];

/// Every command's exit codes, one table: each `--help` footer, the man page and the README come
/// from it. `None` is the top level.
pub const EXIT_CODES: &[(Option<&str>, ExitCodes)] = &[
    (
        None,
        &[
            (
                0,
                "success (render, post-render); no drift (diff, render --check); no findings (check)",
            ),
            (1, "drift (diff, render --check) or findings (check)"),
            (
                2,
                "error: bad input or a failure; nothing is written to stdout",
            ),
        ],
    ),
    (
        Some("render"),
        &[
            (0, "rendered; with --check, the directory is current"),
            (1, "with --check: the directory is stale"),
            (
                2,
                "error: bad input, nothing to render, or a failure; nothing is written to stdout",
            ),
        ],
    ),
    (
        Some("post-render"),
        &[
            (
                0,
                "the stream was passed through with the generated objects added",
            ),
            (
                2,
                "error: bad input or a failure; nothing is written to stdout",
            ),
        ],
    ),
    (
        Some("argocd-generate"),
        &[
            (0, "the Application's objects were written"),
            (
                2,
                "error: bad input, or helm failed; nothing is written to stdout (Argo CD keeps the last good manifests)",
            ),
        ],
    ),
    (
        Some("krm"),
        &[
            (
                0,
                "the ResourceList was written with the generated objects appended",
            ),
            (
                2,
                "error: the ResourceList's `results` say why (also on stderr); its items come back unchanged, nothing is generated",
            ),
        ],
    ),
    (
        Some("diff"),
        &[
            (0, "no drift"),
            (1, "drift"),
            (
                2,
                "error: bad input or a failure; nothing is written to stdout",
            ),
        ],
    ),
    (
        Some("check"),
        &[
            (0, "no findings"),
            (1, "findings"),
            (
                2,
                "error: bad input or a failure; nothing is written to stdout",
            ),
        ],
    ),
    (
        Some("explain"),
        &[
            (
                0,
                "the chain is complete: a repository is found, its credentials produced, results reportable",
            ),
            (1, "the chain is broken somewhere (the output says where)"),
            (
                2,
                "error: bad input or a failure; nothing is written to stdout",
            ),
        ],
    ),
    (
        Some("workflow"),
        &[
            (0, "the Workflow was printed"),
            (2, "error: bad input; nothing is written to stdout"),
        ],
    ),
    (
        Some("policies"),
        &[
            (0, "the policies were written"),
            (
                2,
                "error: bad input, or no S3 repository to write a policy for; nothing is written to stdout",
            ),
        ],
    ),
];

/// One problem with the user's input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Where: `repoRegistrations[3].artifactBucket.bucket`, or a file name and line.
    pub path: String,
    /// What is wrong, the offending value in backticks, and what would be valid.
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one run. Displayed one per line, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// `Ok(())` when empty, the whole list as an error otherwise.
    pub fn into_result(self) -> Result<(), Problems> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_is_the_validators_form() {
        assert_eq!(escape("team-a"), "team-a");
        assert_eq!(
            escape("a\u{1b}[31mb\nc\r\"d\\"),
            "a\\u{1b}[31mb\\nc\\r\\\"d\\\\"
        );
        assert_eq!(escape("\u{202e}x"), "\\u{202e}x");
        assert_eq!(escape("é ü"), "é ü");
    }

    #[test]
    fn terminal_safe_keeps_quotes_and_backslashes() {
        assert_eq!(terminal_safe("name: \"x\" \\ 'y'"), "name: \"x\" \\ 'y'");
        assert_eq!(
            terminal_safe("a\u{1b}]0;t\u{7}b\rc\nd"),
            "a\\u{1b}]0;t\\u{7}b\\rc\\nd"
        );
    }
}
