//! Byte-level splitting of multi-document YAML streams, as Helm hands them to a post-renderer.
//!
//! A stream is cut into `Piece`s at YAML document markers and nothing else is interpreted: the
//! raw bytes of all pieces, concatenated, are the input exactly. This module never parses YAML
//! (that is `yaml`'s job, and only for the few documents the post-renderer must understand), so
//! documents we do not own cannot be altered by a YAML library.
//!
//! Boundaries follow the YAML 1.2 spec: a line starting at column 0 with `---` followed by a space,
//! a tab, CR, LF or the end of input starts a document (the marker line belongs to the document it
//! starts, along with anything after the marker on that line: `--- # comment`, `--- |`); a line
//! starting at column 0 with `...` followed by the same ends one (the line belongs to the document
//! it ends). Both are forbidden inside any scalar at column 0, so an indented `---` in a block
//! scalar is content and needs no special case. A UTF-8 BOM at the start of the stream is a piece of
//! its own, so that nothing can be inserted before it.
//!
//! Two things belong to the document that follows them, so a piece starts before them (#11):
//! directive lines (`%YAML 1.2`, `%TAG ! tag:x,2024:`), which precede a document's `---`, and a BOM,
//! which YAML allows at the start of any document of a stream (`...\n\u{feff}---`). Inserting a
//! document between a directive and its `---` would attach the directive to the wrong document.

use memchr::memmem;

/// One piece of a stream: a document with its marker lines, or the stream's BOM, or the text
/// (comments, blank lines) between a `...` and the next document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The raw bytes, exactly as in the input.
    pub bytes: &'a [u8],
    /// Offset of `bytes` in the input.
    pub offset: usize,
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// True when `rest` (the bytes after a three-byte marker at column 0) ends the marker token.
fn marker_ends(rest: &[u8]) -> bool {
    matches!(rest.first(), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// Whether the line starting at `at` is a document start (`---`) or end (`...`) marker line,
/// possibly after a BOM.
fn marker_at(input: &[u8], at: usize) -> Option<Marker> {
    let rest = &input[at..];
    let rest = rest.strip_prefix(BOM).unwrap_or(rest);
    if rest.len() < 3 || !marker_ends(&rest[3..]) {
        return None;
    }
    match &rest[..3] {
        b"---" => Some(Marker::Start),
        b"..." => Some(Marker::End),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Start,
    End,
}

/// Whether the line starting at `at` is a directive (`%` at column 0, possibly after a BOM).
fn is_directive(input: &[u8], at: usize) -> bool {
    let rest = &input[at..];
    let rest = rest.strip_prefix(BOM).unwrap_or(rest);
    rest.first() == Some(&b'%')
}

/// The start of the directive lines (with comment and blank lines among them) that end right
/// before the marker line at `at`, or `at` when there are none. Never goes below `floor`.
fn directives_start(input: &[u8], floor: usize, at: usize) -> usize {
    let mut start = at;
    let mut line_start = at;
    while line_start > floor {
        // The line ending right before `line_start`.
        let prev =
            memchr::memrchr(b'\n', &input[floor..line_start - 1]).map_or(floor, |i| floor + i + 1);
        if is_directive(input, prev) {
            start = prev;
        } else {
            let t = input[prev..line_start].trim_ascii();
            let t = t.strip_prefix(BOM).unwrap_or(t);
            if !(t.is_empty() || t.starts_with(b"#")) {
                break;
            }
        }
        line_start = prev;
    }
    start
}

/// End of the line starting at `at`: the offset just past its `\n`, or the input's end.
fn line_end(input: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &input[at..]).map_or(input.len(), |i| at + i + 1)
}

/// Cuts a stream into pieces. Never fails; every byte lands in exactly one piece, in order, and no
/// piece is empty.
pub fn split(input: &[u8]) -> Vec<Piece<'_>> {
    let body = if input.starts_with(BOM) { 3 } else { 0 };
    // Every offset where a line starts with a marker (possibly after a BOM). One pass over the
    // line breaks, looking at the byte after each: a separate search per marker (and one more for
    // the BOM) cost a full pass each, which an unoptimized build of a 100 MB stream notices.
    let mut cuts: Vec<(usize, Marker)> = Vec::new();
    if let Some(m) = marker_at(input, body) {
        cuts.push((body, m));
    }
    for i in memchr::memchr_iter(b'\n', &input[body..]) {
        let at = body + i + 1;
        if matches!(input.get(at), Some(b'-' | b'.' | 0xef))
            && let Some(m) = marker_at(input, at)
        {
            cuts.push((at, m));
        }
    }
    // A document's directives (and a BOM before them) start its piece: move each start cut back
    // over the directive lines right before it, never past the previous cut.
    let mut floor = body;
    for c in cuts.iter_mut() {
        if c.1 == Marker::Start {
            c.0 = directives_start(input, floor, c.0);
        }
        floor = match c.1 {
            Marker::Start => c.0 + 1,
            Marker::End => line_end(input, c.0),
        };
    }

    let mut pieces = Vec::with_capacity(cuts.len() + 2);
    let mut push = |start: usize, end: usize| {
        if end > start {
            pieces.push(Piece {
                bytes: &input[start..end],
                offset: start,
            });
        }
    };
    push(0, body);
    let mut start = body;
    for (at, marker) in cuts {
        match marker {
            Marker::Start => {
                push(start, at);
                start = at;
            }
            Marker::End => {
                let end = line_end(input, at);
                push(start, end);
                start = end;
            }
        }
    }
    push(start, input.len());
    pieces
}

/// Lines of a piece, each without its line terminator (`\n` or `\r\n`).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Removes a plain scalar's trailing comment and surrounding quotes. Good enough for the scalars
/// this is used on (`kind`, `apiVersion`, file names); callers confirm with a real parser where it
/// matters.
fn unquote(value: &[u8]) -> &[u8] {
    let v = value.trim_ascii();
    for q in [b'"', b'\''] {
        if v.len() >= 2
            && v[0] == q
            && let Some(close) = v[1..].iter().position(|&b| b == q)
        {
            return &v[1..1 + close];
        }
    }
    // A plain scalar ends at ` #`.
    let end = memmem::find(v, b" #")
        .or_else(|| memmem::find(v, b"\t#"))
        .unwrap_or(v.len());
    v[..end].trim_ascii()
}

impl<'a> Piece<'a> {
    /// Whether the piece begins with a `---` document start marker, or with directives (which
    /// must be followed by one), possibly after a BOM: nothing before it can run into it.
    pub fn has_start_marker(&self) -> bool {
        marker_at(self.bytes, 0) == Some(Marker::Start) || self.has_directives()
    }

    /// Whether the piece begins with YAML directives (`%YAML`, `%TAG`): it may only follow the
    /// stream's start or a document ended by `...`.
    pub fn has_directives(&self) -> bool {
        is_directive(self.bytes, 0)
    }

    /// Whether the piece's last line is a `...` document end marker.
    pub fn ends_with_end_marker(&self) -> bool {
        let trimmed = self.bytes.strip_suffix(b"\n").unwrap_or(self.bytes);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        let last = memchr::memrchr(b'\n', trimmed).map_or(0, |i| i + 1);
        marker_at(self.bytes, last) == Some(Marker::End)
    }

    /// The value of a top-level mapping key written at column 0 (`kind: ConfigMap` -> `ConfigMap`),
    /// quotes and a trailing comment removed. A fast approximation: a document written in flow
    /// style (JSON) has no such line, and a top-level block scalar could fake one.
    pub fn top_level_scalar(&self, key: &str) -> Option<&'a [u8]> {
        let key = key.as_bytes();
        let bytes = self.bytes.strip_prefix(BOM).unwrap_or(self.bytes);
        let mut needle = Vec::with_capacity(key.len() + 1);
        needle.push(b'\n');
        needle.extend_from_slice(key);
        let mut at = 0;
        loop {
            // The key at column 0: at the piece's start or right after a newline.
            let found = if at == 0 && bytes.starts_with(key) {
                0
            } else {
                at + memmem::find(&bytes[at..], &needle)? + 1
            };
            let after = &bytes[found + key.len()..];
            if let Some(rest) = after.strip_prefix(b":")
                && marker_ends(rest)
            {
                let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                let line = &rest[..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                return Some(unquote(line));
            }
            at = found + 1;
        }
    }

    /// The path of a Helm 3 `# Source: <chart>/templates/<file>` comment at column 0.
    pub fn source(&self) -> Option<&'a str> {
        const PREFIX: &[u8] = b"# Source: ";
        lines(self.bytes)
            .find_map(|l| l.strip_prefix(PREFIX))
            .and_then(|v| std::str::from_utf8(v.trim_ascii()).ok())
    }

    /// The value of the first line holding `key:` at any indentation (an annotation such as
    /// Helm 4's `postrenderer.helm.sh/postrender-filename`), quotes removed.
    pub fn keyed_line(&self, key: &str) -> Option<&'a str> {
        let key = key.as_bytes();
        for i in memmem::find_iter(self.bytes, key) {
            let before = &self.bytes[..i];
            let line_start = memchr::memrchr(b'\n', before).map_or(0, |j| j + 1);
            let indent = &before[line_start..];
            // Only spaces before the key, possibly in quotes.
            let indent = indent
                .strip_suffix(b"\"")
                .or_else(|| indent.strip_suffix(b"'"))
                .unwrap_or(indent);
            if !indent.iter().all(|&b| b == b' ') {
                continue;
            }
            let mut rest = &self.bytes[i + key.len()..];
            if let Some(r) = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")) {
                rest = r;
            }
            if let Some(rest) = rest.strip_prefix(b":")
                && marker_ends(rest)
            {
                let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                let line = &rest[..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                return std::str::from_utf8(unquote(line)).ok();
            }
        }
        None
    }

    /// True when the piece holds nothing but marker lines, comments, blank lines and a BOM.
    pub fn is_blank(&self) -> bool {
        lines(self.bytes).all(|l| {
            let l = l.strip_prefix(BOM).unwrap_or(l);
            let t = l.trim_ascii();
            t.is_empty()
                || t.starts_with(b"#")
                || (marker_at(l, 0).is_some() && {
                    let r = l[3..].trim_ascii();
                    r.is_empty() || r.starts_with(b"#")
                })
        })
    }

    /// The document content: the bytes after a leading `---` marker line, when the marker is alone
    /// on its line; the whole piece otherwise.
    pub fn content(&self) -> &'a [u8] {
        if marker_at(self.bytes, 0) == Some(Marker::Start) {
            let end = line_end(self.bytes, 0);
            let marker_line = self.bytes[3..end].trim_ascii();
            if marker_line.is_empty() {
                return &self.bytes[end..];
            }
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<&str> {
        let pieces = split(input.as_bytes());
        let joined: Vec<u8> = pieces
            .iter()
            .flat_map(|p| p.bytes.iter().copied())
            .collect();
        assert_eq!(
            joined,
            input.as_bytes(),
            "pieces must concatenate to the input"
        );
        let mut offset = 0;
        for p in &pieces {
            assert_eq!(p.offset, offset);
            assert!(!p.bytes.is_empty());
            offset += p.bytes.len();
        }
        pieces
            .iter()
            .map(|p| std::str::from_utf8(p.bytes).unwrap())
            .collect()
    }

    #[test]
    fn empty_input_has_no_pieces() {
        assert!(split(b"").is_empty());
    }

    #[test]
    fn helm3_stream() {
        let s = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n";
        assert_eq!(
            texts(s),
            [
                "---\n# Source: c/templates/a.yaml\nkind: A\n",
                "---\n# Source: c/templates/b.yaml\nkind: B\n"
            ]
        );
    }

    #[test]
    fn helm4_stream_starts_without_marker() {
        assert_eq!(
            texts("kind: A\n---\nkind: B\n"),
            ["kind: A\n", "---\nkind: B\n"]
        );
    }

    #[test]
    fn indented_marker_in_block_scalar_is_content() {
        let s = "---\ndata:\n  x: |\n    ---\n    a: 1\n  ---\n---\nkind: B\n";
        assert_eq!(
            texts(s),
            [
                "---\ndata:\n  x: |\n    ---\n    a: 1\n  ---\n",
                "---\nkind: B\n"
            ]
        );
    }

    #[test]
    fn dashes_not_followed_by_space_are_content() {
        let s = "---\na: 1\n----\n---x\n---\t# tab\nb: 2\n";
        assert_eq!(texts(s), ["---\na: 1\n----\n---x\n", "---\t# tab\nb: 2\n"]);
    }

    #[test]
    fn marker_with_comment_and_block_scalar() {
        let s = "--- # first\na: 1\n--- |\n  text\n--- >-\n  folded\n";
        assert_eq!(
            texts(s),
            [
                "--- # first\na: 1\n",
                "--- |\n  text\n",
                "--- >-\n  folded\n"
            ]
        );
    }

    #[test]
    fn empty_and_comment_only_documents() {
        let s = "---\n---\n# just a comment\n---\n\n---\nkind: A\n";
        let t = texts(s);
        assert_eq!(
            t,
            [
                "---\n",
                "---\n# just a comment\n",
                "---\n\n",
                "---\nkind: A\n"
            ]
        );
        let pieces = split(s.as_bytes());
        assert!(pieces[0].is_blank() && pieces[1].is_blank() && pieces[2].is_blank());
        assert!(!pieces[3].is_blank());
    }

    #[test]
    fn document_end_marker() {
        let s = "a: 1\n...\n# between\n---\nb: 2\n...\nc: 3\n";
        let t = texts(s);
        assert_eq!(
            t,
            ["a: 1\n...\n", "# between\n", "---\nb: 2\n...\n", "c: 3\n"]
        );
        let pieces = split(s.as_bytes());
        assert!(pieces[0].ends_with_end_marker());
        assert!(!pieces[1].ends_with_end_marker());
        assert!(!pieces[3].has_start_marker());
    }

    #[test]
    fn dots_inside_content_are_not_markers() {
        let s = "a: |\n  ...\n....\nb: ...\n";
        assert_eq!(texts(s), [s]);
    }

    #[test]
    fn crlf_line_endings() {
        let s = "---\r\n# Source: c/templates/a.yaml\r\nkind: A\r\n---\r\nkind: \"B\"\r\n...\r\n";
        let t = texts(s);
        assert_eq!(
            t,
            [
                "---\r\n# Source: c/templates/a.yaml\r\nkind: A\r\n",
                "---\r\nkind: \"B\"\r\n...\r\n"
            ]
        );
        let p = split(s.as_bytes());
        assert_eq!(p[0].source(), Some("c/templates/a.yaml"));
        assert_eq!(p[0].top_level_scalar("kind"), Some(&b"A"[..]));
        assert_eq!(p[1].top_level_scalar("kind"), Some(&b"B"[..]));
        assert!(p[1].ends_with_end_marker());
        assert_eq!(p[1].content(), b"kind: \"B\"\r\n...\r\n");
    }

    #[test]
    fn bom_is_its_own_piece() {
        let s = "\u{feff}---\nkind: A\n---\nkind: B\n";
        assert_eq!(texts(s), ["\u{feff}", "---\nkind: A\n", "---\nkind: B\n"]);
        let s = "\u{feff}kind: A\n";
        assert_eq!(texts(s), ["\u{feff}", "kind: A\n"]);
    }

    #[test]
    fn directives_belong_to_the_document_they_precede() {
        // #11: a directive must not be cut off from its `---`.
        let s = "kind: A\n...\n%YAML 1.2\n%TAG !e! tag:example.com,2024:\n---\nkind: B\n";
        assert_eq!(
            texts(s),
            [
                "kind: A\n...\n",
                "%YAML 1.2\n%TAG !e! tag:example.com,2024:\n---\nkind: B\n"
            ]
        );
        let p = split(s.as_bytes());
        assert!(p[1].has_start_marker() && p[1].has_directives());
        assert_eq!(p[1].top_level_scalar("kind"), Some(&b"B"[..]));
        // At the stream's start, with a comment between the directive and the marker.
        let s = "%YAML 1.1\n# c\n---\nkind: A\n---\nkind: B\n";
        assert_eq!(
            texts(s),
            ["%YAML 1.1\n# c\n---\nkind: A\n", "---\nkind: B\n"]
        );
        // A comment before the directive stays where it was.
        let s = "kind: A\n...\n# between\n%YAML 1.2\n---\nkind: B\n";
        assert_eq!(
            texts(s),
            ["kind: A\n...\n", "# between\n", "%YAML 1.2\n---\nkind: B\n"]
        );
        // A `%` inside an indented block scalar is content.
        let s = "a: |\n  %x\n---\nb: 1\n";
        assert_eq!(texts(s), ["a: |\n  %x\n", "---\nb: 1\n"]);
    }

    #[test]
    fn a_bom_starts_a_document_anywhere_in_the_stream() {
        // #11: YAML allows a BOM at the start of every document.
        let s = "kind: A\n\u{feff}---\nkind: B\n...\n\u{feff}kind: C\n";
        assert_eq!(
            texts(s),
            [
                "kind: A\n",
                "\u{feff}---\nkind: B\n...\n",
                "\u{feff}kind: C\n"
            ]
        );
        let p = split(s.as_bytes());
        assert!(p[1].has_start_marker());
        assert!(p[1].ends_with_end_marker());
        assert_eq!(p[1].top_level_scalar("kind"), Some(&b"B"[..]));
        assert_eq!(p[2].top_level_scalar("kind"), Some(&b"C"[..]));
        let s = "kind: A\n...\n\u{feff}%YAML 1.2\n---\nkind: B\n";
        assert_eq!(
            texts(s),
            ["kind: A\n...\n", "\u{feff}%YAML 1.2\n---\nkind: B\n"]
        );
    }

    #[test]
    fn missing_final_newline() {
        assert_eq!(texts("---\na: 1\n---\nb: 2"), ["---\na: 1\n", "---\nb: 2"]);
        assert_eq!(texts("a: 1\n---"), ["a: 1\n", "---"]);
        assert_eq!(texts("a: 1\n..."), ["a: 1\n..."]);
        let p = split(b"a: 1\n...");
        assert!(p[0].ends_with_end_marker());
    }

    #[test]
    fn top_level_scalars() {
        let s = "---\n# Source: c/templates/x.yaml\napiVersion: 'artifact-repos/v1'\nkind: ValuesCarrier # ours\nmetadata:\n  kind: nested\n  name: x\n";
        let p = split(s.as_bytes())[0];
        assert_eq!(
            p.top_level_scalar("apiVersion"),
            Some(&b"artifact-repos/v1"[..])
        );
        assert_eq!(p.top_level_scalar("kind"), Some(&b"ValuesCarrier"[..]));
        assert_eq!(p.top_level_scalar("name"), None);
        assert_eq!(p.top_level_scalar("kin"), None);
        assert_eq!(p.source(), Some("c/templates/x.yaml"));
        let p = split(b"kind: A\n")[0];
        assert_eq!(p.top_level_scalar("kind"), Some(&b"A"[..]));
        let p = split(b"kinds: A\nkind:\n")[0];
        assert_eq!(p.top_level_scalar("kind"), Some(&b""[..]));
    }

    #[test]
    fn keyed_line_finds_helm4_annotation() {
        let s = "kind: A\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'c/templates/a.yaml'\n";
        let p = split(s.as_bytes())[0];
        assert_eq!(
            p.keyed_line("postrenderer.helm.sh/postrender-filename"),
            Some("c/templates/a.yaml")
        );
        let s = "data:\n  x: see postrenderer.helm.sh/postrender-filename: no\n";
        let p = split(s.as_bytes())[0];
        assert_eq!(
            p.keyed_line("postrenderer.helm.sh/postrender-filename"),
            None
        );
    }

    #[test]
    fn content_skips_a_bare_marker_line() {
        let p = split(b"---\nkind: A\n")[0];
        assert_eq!(p.content(), b"kind: A\n");
        let p = split(b"--- # c\nkind: A\n")[0];
        assert_eq!(p.content(), b"--- # c\nkind: A\n");
        let p = split(b"kind: A\n")[0];
        assert_eq!(p.content(), b"kind: A\n");
    }
}
