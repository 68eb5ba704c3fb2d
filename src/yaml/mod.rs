//! The one owner of the YAML library (serde_yaml, deprecated upstream: replacing it touches this file
//! only). Parses user input into `Node`, our own ordered tree, with limits that make hostile input fail
//! fast, and serializes typed objects back to YAML text. It never sees documents that pass through the
//! post-renderer untouched: those are handled as bytes by `stream`.

pub mod emit;
mod helm;
pub mod stream;

use crate::error::{Problem, Problems};
use indexmap::IndexMap;
use serde::Serialize;

/// Largest values input we accept, per file. Real values files are kilobytes; 10,000 registrations
/// are about 3 MB. Anything past this is refused before the parser sees it. The post-renderer's
/// values carrier is held to the same limit: it carries the same values.
pub const MAX_VALUES_BYTES: usize = 32 * 1024 * 1024;

/// How many bytes a document may expand to through aliases, per byte of input limit: scalars
/// (keys included) count their length, every node one byte more. The parser's own repetition
/// limit bounds the number of nodes an alias bomb makes, not their size: one 5 MB string aliased
/// 2,000 times is few nodes and 10 GB (#11). Without aliases a document expands to at most its
/// own size, so twice the input limit refuses no document that is not an alias bomb.
const EXPANSION_FACTOR: usize = 2;

/// A parsed YAML/JSON value with mapping order preserved. Keys are strings: non-string scalar keys
/// are converted the way Helm does when it turns YAML into JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(IndexMap<String, Node>),
}

impl Node {
    /// A short name of the type, for messages: "expected a string, got a list".
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a map",
        }
    }
    pub fn as_map(&self) -> Option<&IndexMap<String, Node>> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match self {
            Node::Seq(items) => Some(items),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }
    /// Field lookup on a map; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(v) => v.serialize(s),
            Node::Map(m) => m.serialize(s),
        }
    }
}

/// Where a node sits in a document, built into a message path (`values::path`) only when a
/// problem is reported there: building it for every field visited cost more than the parse.
#[derive(Clone, Copy)]
enum At<'p> {
    Root,
    Key(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl At<'_> {
    fn path(&self) -> String {
        match self {
            At::Root => String::new(),
            At::Key(parent, key) => crate::values::path::join(&parent.path(), key),
            At::Index(parent, i) => format!("{}[{i}]", parent.path()),
        }
    }
}

#[cfg(test)]
fn from_yaml(v: serde_yaml::Value, at: At, problems: &mut Vec<Problem>) -> Node {
    use serde_yaml::Value as V;
    match v {
        V::Null => Node::Null,
        V::Bool(b) => Node::Bool(b),
        V::Number(n) => {
            if let Some(i) = n.as_i64() {
                Node::Int(i)
            } else {
                Node::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        V::String(s) => Node::Str(s),
        V::Sequence(seq) => Node::Seq(
            seq.into_iter()
                .enumerate()
                .map(|(i, x)| from_yaml(x, At::Index(&at, i), problems))
                .collect(),
        ),
        V::Mapping(m) => {
            let mut out = IndexMap::with_capacity(m.len());
            for (k, x) in m {
                let key = match k {
                    V::String(s) => s,
                    V::Bool(b) => b.to_string(),
                    V::Number(n) => n.to_string(),
                    V::Null => "null".to_string(),
                    other => {
                        problems.push(Problem::new(
                            at.path(),
                            format!(
                                "a map key must be a string, got {}",
                                from_yaml(other, at, &mut Vec::new()).type_name()
                            ),
                        ));
                        continue;
                    }
                };
                let node = from_yaml(x, At::Key(&at, &key), problems);
                out.insert(key, node);
            }
            Node::Map(out)
        }
        // Core tags (`!!str`, `!!int`, ...) are resolved by the parser; any other tag would be
        // dropped silently (`!!python/object:os.system ls` read as `ls`), so it is refused.
        V::Tagged(t) => {
            let tag: String = t.tag.to_string().escape_debug().take(60).collect();
            problems.push(Problem::new(
                at.path(),
                format!("YAML tag `{tag}` is not supported: values are plain YAML (maps, lists, strings, numbers, booleans); remove the tag"),
            ));
            Node::Null
        }
    }
}

/// Builds a `Node` in one pass over the parser's events, exactly as `serde_yaml::Value` and then
/// `from_yaml` would (the same errors: a repeated key, an empty tag; the same problems: a tag, a
/// key that is not a scalar), without the intermediate tree, which cost as much as the parse.
/// Keys are read as `Value`s (they are small, and a repeated key is one equal as a `Value`).
struct Build<'p, 'q> {
    at: At<'p>,
    problems: &'q mut Vec<Problem>,
}

/// serde_yaml's message for a repeated key (`DuplicateKeyError` in its `mapping.rs`).
fn duplicate_key(key: &serde_yaml::Value) -> String {
    use serde_yaml::Value as V;
    match key {
        V::Null => "duplicate entry with null key".to_string(),
        V::Bool(b) => format!("duplicate entry with key `{b}`"),
        V::Number(n) => format!("duplicate entry with key {n}"),
        V::String(s) => format!("duplicate entry with key {s:?}"),
        V::Sequence(_) | V::Mapping(_) | V::Tagged(_) => "duplicate entry in YAML map".to_string(),
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Build<'_, '_> {
    type Value = Node;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Build<'_, '_> {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        // `Value`'s, for the same messages.
        f.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(n) = seq.next_element_seed(Build {
            at: At::Index(&self.at, out.len()),
            problems: &mut *self.problems,
        })? {
            out.push(n);
        }
        Ok(Node::Seq(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        use serde_yaml::Value as V;
        let mut out: IndexMap<String, Node> = IndexMap::new();
        // Every key so far as a `Value`, once one is not a string; until then the string keys of
        // `out` are all the keys, and a repeated one is one `out` holds.
        let mut typed: Option<serde_yaml::Mapping> = None;
        while let Some(k) = map.next_key::<V>()? {
            let repeated = match (&typed, &k) {
                (Some(all), k) => all.contains_key(k),
                (None, V::String(s)) => out.contains_key(s),
                (None, _) => false,
            };
            if repeated {
                return Err(serde::de::Error::custom(duplicate_key(&k)));
            }
            if typed.is_none() && !matches!(k, V::String(_)) {
                typed = Some(
                    out.keys()
                        .map(|s| (V::String(s.clone()), V::Null))
                        .collect(),
                );
            }
            if let Some(all) = &mut typed {
                all.insert(k.clone(), V::Null);
            }
            let key = match k {
                V::String(s) => s,
                V::Bool(b) => b.to_string(),
                V::Number(n) => n.to_string(),
                V::Null => "null".to_string(),
                other => {
                    let got = match other {
                        V::Sequence(_) => "a list",
                        V::Mapping(_) => "a map",
                        _ => "null",
                    };
                    self.problems.push(Problem::new(
                        self.at.path(),
                        format!("a map key must be a string, got {got}"),
                    ));
                    // Read as `Value` read it; nothing in it is reported.
                    map.next_value::<V>()?;
                    continue;
                }
            };
            let node = map.next_value_seed(Build {
                at: At::Key(&self.at, &key),
                problems: &mut *self.problems,
            })?;
            out.insert(key, node);
        }
        // As tight as a map built at its final size: a stream's trees are held whole.
        out.shrink_to_fit();
        Ok(Node::Map(out))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        use serde::de::VariantAccess;
        let (tag, contents) = data.variant::<String>()?;
        if tag.is_empty() {
            return Err(serde::de::Error::custom("empty YAML tag is not allowed"));
        }
        // Read as `Value` read it; nothing in it is reported.
        contents.newtype_variant::<serde_yaml::Value>()?;
        let tag = serde_yaml::value::Tag::new(tag).to_string();
        let tag: String = tag.escape_debug().take(60).collect();
        self.problems.push(Problem::new(
            self.at.path(),
            format!("YAML tag `{tag}` is not supported: values are plain YAML (maps, lists, strings, numbers, booleans); remove the tag"),
        ));
        Ok(Node::Null)
    }
}

/// Counts what a document expands to and stops the parser when it passes the budget. Builds
/// nothing: serde_yaml hands scalars over by reference, so aliases cost no memory here.
struct Budget<'a> {
    left: &'a std::cell::Cell<usize>,
}

/// The message of a document that expands past its budget.
const EXPANSION_MESSAGE: &str = "aliases expand to more bytes than the limit";

impl Budget<'_> {
    fn charge<E: serde::de::Error>(&self, bytes: usize) -> Result<(), E> {
        let cost = bytes.saturating_add(1);
        match self.left.get().checked_sub(cost) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(E::custom(EXPANSION_MESSAGE)),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Budget<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Budget<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.charge(8)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.charge(8)
    }
    fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<(), E> {
        self.charge(16)
    }
    fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<(), E> {
        self.charge(16)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.charge(8)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.charge(v.len())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.charge(0)?;
        while seq.next_element_seed(Budget { left: self.left })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.charge(0)?;
        while map.next_key_seed(Budget { left: self.left })?.is_some() {
            map.next_value_seed(Budget { left: self.left })?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        let (tag, variant) = data.variant::<String>()?;
        self.charge(tag.len())?;
        variant.newtype_variant_seed(Budget { left: self.left })
    }
}

/// Refuses a document whose aliases expand to more than `EXPANSION_FACTOR` times `max` bytes,
/// before anything is built from it. A second, allocation-free pass over the parsed events.
fn check_expansion(name: &str, text: &str, max: usize) -> Result<(), Problems> {
    check_expansion_shifted(name, text, max, 0)
}

/// `check_expansion` with the lines of its messages moved `shift` lines down (`shift_marks`).
fn check_expansion_shifted(
    name: &str,
    text: &str,
    max: usize,
    shift: usize,
) -> Result<(), Problems> {
    let budget = max.saturating_mul(EXPANSION_FACTOR);
    for doc in serde_yaml::Deserializer::from_str(text) {
        let left = std::cell::Cell::new(budget);
        if let Err(e) = serde::de::DeserializeSeed::deserialize(Budget { left: &left }, doc) {
            let mut p = Problems::default();
            p.push(
                name,
                format!("invalid YAML: {}", shift_marks(&describe(&e), shift)),
            );
            return Err(p);
        }
    }
    Ok(())
}

/// A position serde_yaml writes into a message: `line L column C` (1-based), or `position N` (a
/// byte offset, for libyaml's reader errors, whose mark is the stream's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Line(usize, usize),
    Position(usize),
}

/// The decimal number `s` ends with, and where it starts.
fn trailing_number(s: &str) -> Option<(usize, usize)> {
    let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let start = s.len() - digits;
    (digits > 0).then(|| s[start..].parse().ok().map(|n| (start, n)))?
}

/// The ` at line L column C` or ` at position N` that `s` ends with, and where it starts.
fn trailing_mark(s: &str) -> Option<(usize, Mark)> {
    let (at, n) = trailing_number(s)?;
    if let Some(head) = s[..at].strip_suffix(" at position ") {
        return Some((head.len(), Mark::Position(n)));
    }
    let head = s[..at].strip_suffix(" column ")?;
    let (at, line) = trailing_number(head)?;
    let head = head[..at].strip_suffix(" at line ")?;
    Some((head.len(), Mark::Line(line, n)))
}

impl Mark {
    fn shifted(self, shift: usize) -> String {
        match self {
            Mark::Line(l, c) => format!(" at line {} column {c}", l + shift),
            Mark::Position(n) => format!(" at position {}", n + shift),
        }
    }
}

/// A serde_yaml message (after `describe`) about a document parsed `shift` lines higher than it
/// sits in its file (one line break before it instead of `shift + 1`), as it would read had the
/// parser seen the document in place: every mark moved `shift` lines (and bytes) down. serde_yaml
/// writes marks in two shapes only: libyaml's `PROBLEM at MARK[, while CONTEXT[ at MARK]]` (both
/// texts its own, CONTEXT of lowercase words, `%` and `YAML`/`TAG`) and serde's `MESSAGE at MARK`,
/// MESSAGE possibly quoting input; so only a mark that ends the message, or ends its PROBLEM, is
/// moved, and text quoted from the input is never touched. `describe`'s own explanations follow
/// the mark after `: `.
fn shift_marks(msg: &str, shift: usize) -> String {
    if shift == 0 {
        return msg.to_string();
    }
    // `describe` appends `: <explanation>` after serde_yaml's text; those are fixed strings.
    let (body, explanation) = [
        ": the document expands to more than",
        ": aliases expand to far more nodes",
        ": nesting is deeper than 128 levels",
    ]
    .iter()
    .find_map(|e| msg.find(e).map(|i| msg.split_at(i)))
    .unwrap_or((msg, ""));
    let mut tail = String::new();
    let mut head = body;
    if let Some((at, mark)) = trailing_mark(head) {
        tail = mark.shifted(shift);
        head = &head[..at];
    }
    if let Some(i) = head.rfind(", while ") {
        let context = &head[i + 2..];
        let libyaml = context
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b" %YAMLTG".contains(&b));
        if libyaml && let Some((at, mark)) = trailing_mark(&head[..i]) {
            return format!(
                "{}{}{context}{tail}{explanation}",
                &head[..at],
                mark.shifted(shift),
                context = &head[i..]
            );
        }
    }
    format!("{head}{tail}{explanation}")
}

/// Turns a serde_yaml error into "line L column C: message" without echoing input text.
fn describe(err: &serde_yaml::Error) -> String {
    // serde_yaml appends " at line L column C" itself for most errors; keep its wording and explain
    // the two limits that guard against hostile input.
    let msg = err.to_string();
    if msg.contains(EXPANSION_MESSAGE) {
        format!(
            "{msg}: the document expands to more than {EXPANSION_FACTOR} times the input size limit (a YAML alias bomb); expand the anchors by hand"
        )
    } else if msg.contains("repetition limit exceeded") {
        format!(
            "{msg}: aliases expand to far more nodes than the document holds (a YAML alias bomb); expand the anchors by hand"
        )
    } else if msg.contains("recursion limit exceeded") {
        format!("{msg}: nesting is deeper than 128 levels")
    } else {
        msg
    }
}

/// The parser's own nesting limit; deeper flow collections are refused before parsing.
const MAX_FLOW_DEPTH: usize = 128;

/// Where flow collections first nest deeper than `MAX_FLOW_DEPTH`, as (line, column). libyaml takes
/// time quadratic in flow nesting before serde_yaml's recursion limit applies (100,000 `[` took 20
/// seconds), so depth is counted here first. Brackets in quoted scalars and comments do not count;
/// a quote only opens a scalar at the start of a token, as in YAML.
fn too_deep_flow(bytes: &[u8]) -> Option<(usize, usize)> {
    // Nesting is at most the number of openers: most text has too few to need the scan.
    memchr::memchr2_iter(b'[', b'{', bytes).nth(MAX_FLOW_DEPTH)?;
    let (mut depth, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let (mut single, mut double, mut comment) = (false, false, false);
    let mut token_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
            line_start = i + 1;
            comment = false;
            token_start = true;
            i += 1;
            continue;
        }
        if comment {
        } else if double {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                double = false;
            }
        } else if single {
            if c == b'\'' {
                single = false;
            }
        } else {
            match c {
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some((line, i - line_start + 1));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b'#' if token_start => comment = true,
                b'"' if token_start => double = true,
                b'\'' if token_start => single = true,
                _ => {}
            }
        }
        token_start = matches!(c, b' ' | b'\t' | b'[' | b'{' | b',' | b':');
        i += 1;
    }
    None
}

/// Checks the size and encoding limits shared by every YAML input.
fn precheck<'a>(name: &str, bytes: &'a [u8], max: usize) -> Result<&'a str, Problems> {
    precheck_shifted(name, bytes, max, 0)
}

/// `precheck` of a document that starts `shift` lines (and bytes, all of them line breaks) further
/// into its file than `bytes` does: the lines and offsets its messages give are the file's.
fn precheck_shifted<'a>(
    name: &str,
    bytes: &'a [u8],
    max: usize,
    shift: usize,
) -> Result<&'a str, Problems> {
    let mut problems = Problems::default();
    if bytes.len() > max {
        problems.push(
            name,
            format!(
                "input is more than the limit of {max} bytes; split it or check that the right file was given"
            ),
        );
        return Err(problems);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Some((line, column)) = too_deep_flow(bytes) {
        let line = line + shift;
        problems.push(
            name,
            format!("invalid YAML: flow collections (`[`, `{{`) nest deeper than {MAX_FLOW_DEPTH} levels at line {line} column {column}; YAML this deep is refused before parsing"),
        );
        return Err(problems);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
                + shift;
            problems.push(
                name,
                format!(
                    "line {line}: input is not valid UTF-8 (invalid byte at offset {}); YAML must be UTF-8 text",
                    e.valid_up_to() + shift
                ),
            );
            Err(problems)
        }
    }
}

/// Where a problem is: the input's name, and the path inside it unless it is the top level.
fn place(name: &str, path: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{name}: {path}")
    }
}

/// YAML core-schema tags, which the parser resolves itself.
const CORE_TAGS: &[&str] = &[
    "str",
    "int",
    "bool",
    "null",
    "float",
    "map",
    "seq",
    "binary",
    "timestamp",
    "merge",
];

/// Tags written with the `!!` handle that are not core-schema tags, as (line, tag). serde_yaml reads
/// the node under such a tag as if the tag were absent (`!!python/object:os.system ls` is the string
/// `ls`), so they are found in the text: a `!!` that starts a node (at the start of a line's content,
/// or after `: `, `- `, `? `, `[`, `{`, `,`), outside quotes, comments and block scalars.
fn unknown_secondary_tags(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut block_indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line.trim_start_matches(' ');
        if let Some(b) = block_indent {
            if content.is_empty() || indent > b {
                continue;
            }
            block_indent = None;
        }
        let bytes = content.as_bytes();
        let (mut single, mut double) = (false, false);
        let mut node_start = true;
        let mut j = 0;
        while j < bytes.len() {
            let c = bytes[j];
            if double {
                if c == b'\\' {
                    j += 1;
                } else if c == b'"' {
                    double = false;
                }
            } else if single {
                if c == b'\'' {
                    single = false;
                }
            } else if node_start && c == b'!' && bytes.get(j + 1) == Some(&b'!') {
                let tag: String = content[j..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                    .collect();
                if !CORE_TAGS.contains(&&tag[2..]) {
                    out.push((i + 1, tag));
                }
            } else if node_start && (c == b'|' || c == b'>') {
                block_indent = Some(indent);
                break;
            } else if c == b'#' && (j == 0 || bytes[j - 1] == b' ') {
                break;
            } else if node_start && c == b'"' {
                double = true;
            } else if node_start && c == b'\'' {
                single = true;
            }
            node_start = match c {
                b' ' => {
                    node_start
                        || matches!(
                            bytes.get(j.wrapping_sub(1)),
                            Some(b':' | b'-' | b'?' | b',')
                        )
                }
                b'[' | b'{' | b',' => !single && !double,
                _ => false,
            };
            j += 1;
        }
    }
    out
}

/// Parses one values document (a Helm values file). An empty file is an empty map.
pub fn parse_values(name: &str, bytes: &[u8]) -> Result<Node, Problems> {
    let text = precheck(name, bytes, MAX_VALUES_BYTES)?;
    let tags = unknown_secondary_tags(text);
    if !tags.is_empty() {
        let mut p = Problems::default();
        for (line, tag) in tags {
            let tag: String = tag.escape_debug().take(60).collect();
            p.push(name, format!("line {line}: YAML tag `{tag}` is not supported: values are plain YAML (maps, lists, strings, numbers, booleans); remove the tag"));
        }
        return Err(p);
    }
    check_expansion(name, text, MAX_VALUES_BYTES)?;
    // Read as Helm reads a values file (`helm::HelmValues`: YAML 1.1 scalars, merge keys in place,
    // numbers through JSON), with its traps refused.
    let shared = helm::Shared::new(text);
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let seed = helm::HelmValues {
            shared: &shared,
            path: String::new(),
        };
        match serde::de::DeserializeSeed::deserialize(seed, doc) {
            Ok(v) => docs.push(v),
            Err(e) => {
                let mut p = Problems::default();
                p.push(name, format!("invalid YAML: {}", describe(&e)));
                return Err(p);
            }
        }
    }
    let node = match docs.len() {
        0 => return Ok(Node::Map(IndexMap::new())),
        1 => docs.pop().unwrap(),
        n => {
            let mut p = Problems::default();
            p.push(
                name,
                format!("a values file holds one YAML document, found {n}: Helm 3 reads the first and ignores the others, Helm 4 merges them; remove the extra `---` separators"),
            );
            return Err(p);
        }
    };
    let problems = shared.into_problems();
    if !problems.is_empty() {
        return Err(Problems(
            problems
                .into_iter()
                .map(|p| Problem::new(place(name, &p.path), p.message))
                .collect(),
        ));
    }
    match node {
        Node::Null => Ok(Node::Map(IndexMap::new())),
        Node::Map(_) => Ok(node),
        other => {
            let mut p = Problems::default();
            p.push(
                name,
                format!(
                    "values must be a map at the top level, got {}",
                    other.type_name()
                ),
            );
            Err(p)
        }
    }
}

/// Parses a single scalar the way Helm's `--set` does (`typedVal` in Helm's `pkg/strvals/parser.go`):
/// `true`, `false` and `null` in any case, `0`, and integers Go's `strconv.ParseInt(s, 10, 64)`
/// reads (`+1`, `-12`) that do not start with `0` (`010` is a string); anything else is a string
/// (`1e3`, `1_000`, `yes`, `0x1F`).
pub fn parse_set_scalar(text: &str) -> Node {
    if text.eq_ignore_ascii_case("true") {
        return Node::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Node::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Node::Null;
    }
    if text == "0" {
        return Node::Int(0);
    }
    match text.parse::<i64>() {
        Ok(i) if !text.starts_with('0') => Node::Int(i),
        _ => Node::Str(text.to_string()),
    }
}

/// Builds a `Node` the way Kubernetes reads a manifest (sigs.k8s.io/yaml's non-strict
/// `YAMLToJSON`, which decodes with go-yaml v2 and converts to JSON): a repeated key keeps its
/// last value, a merge key (`<<`) writes the merged map's keys in place (a sequence of maps: the
/// first map wins), local and unknown tags are ignored, and scalar keys become strings. `!!binary`
/// cannot be told apart here (serde_yaml hands its text over as a plain string): callers that need
/// it decode base64 where it matters. Charges the same expansion budget as `Budget`.
struct Kube<'a> {
    left: &'a std::cell::Cell<usize>,
}

impl Kube<'_> {
    fn budget(&self) -> Budget<'_> {
        Budget { left: self.left }
    }
    fn key<E: serde::de::Error>(key: Node) -> Result<String, E> {
        Ok(match key {
            Node::Str(s) => s,
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Float(f) => f.to_string(),
            Node::Null => "null".to_string(),
            other => {
                return Err(E::custom(format!(
                    "a map key must be a scalar, got {}",
                    other.type_name()
                )));
            }
        })
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Kube<'_> {
    type Value = Node;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Kube<'_> {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        self.budget().charge(0)?;
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        self.budget().charge(8)?;
        Ok(Node::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        self.budget().charge(8)?;
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Node, E> {
        self.budget().charge(16)?;
        Ok(Node::Float(v as f64))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Node, E> {
        self.budget().charge(16)?;
        Ok(Node::Float(v as f64))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        self.budget().charge(8)?;
        Ok(Node::Float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        self.budget().charge(v.len())?;
        Ok(Node::Str(v.to_string()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        self.budget().charge(0)?;
        Ok(Node::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Node, E> {
        self.visit_unit()
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        self.budget().charge(0)?;
        let mut out = Vec::new();
        while let Some(n) = seq.next_element_seed(Kube { left: self.left })? {
            out.push(n);
        }
        Ok(Node::Seq(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        self.budget().charge(0)?;
        let mut out: IndexMap<String, Node> = IndexMap::new();
        while let Some(k) = map.next_key_seed(Kube { left: self.left })? {
            let key = Self::key(k)?;
            let value = map.next_value_seed(Kube { left: self.left })?;
            if key == "<<" {
                // go-yaml v2 `merge`: a map's keys are written in place; a sequence of maps is
                // written last to first, so the first map's keys win.
                let maps = match value {
                    Node::Map(m) => vec![m],
                    Node::Seq(items) => items
                        .into_iter()
                        .rev()
                        .map(|i| match i {
                            Node::Map(m) => Ok(m),
                            _ => Err(serde::de::Error::custom(
                                "a merge key (`<<`) takes a map or a list of maps",
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(serde::de::Error::custom(
                            "a merge key (`<<`) takes a map or a list of maps",
                        ));
                    }
                };
                for m in maps {
                    out.extend(m);
                }
                continue;
            }
            out.insert(key, value);
        }
        Ok(Node::Map(out))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        use serde::de::VariantAccess;
        let (_tag, variant) = data.variant::<String>()?;
        variant.newtype_variant_seed(Kube { left: self.left })
    }
}

/// Reads one document of a manifest stream the way Kubernetes and Helm will (see `Kube`): the
/// first document of `bytes`, `None` when there is none. For the post-renderer's collision check,
/// which must see what the cluster will apply, however the document is written.
pub fn parse_as_kubernetes(name: &str, bytes: &[u8]) -> Result<Option<Node>, Problems> {
    let text = precheck(name, bytes, MAX_EXPANDED_DOCUMENTS)?;
    let Some(doc) = serde_yaml::Deserializer::from_str(text).next() else {
        return Ok(None);
    };
    let left = std::cell::Cell::new(MAX_EXPANDED_DOCUMENTS.saturating_mul(EXPANSION_FACTOR));
    match serde::de::DeserializeSeed::deserialize(Kube { left: &left }, doc) {
        Ok(Node::Null) => Ok(None),
        Ok(node) => Ok(Some(node)),
        Err(e) => {
            let mut p = Problems::default();
            p.push(name, format!("invalid YAML: {}", describe(&e)));
            Err(p)
        }
    }
}

/// The largest expansion budget for a stream read by `parse_documents` without a size limit of
/// its own (a piece of a post-render stream), as for the largest manifest file.
const MAX_EXPANDED_DOCUMENTS: usize = 64 * 1024 * 1024;

/// Parses every document of a multi-document stream (for manifests read by `diff` and `check`).
/// Empty documents are skipped.
pub fn parse_documents(name: &str, bytes: &[u8], max: usize) -> Result<Vec<Node>, Problems> {
    parse_documents_shifted(name, bytes, max, 0)
}

/// `parse_documents` of a part of a text `parse_documents` read whole already (a KRM
/// ResourceList's item, `deploy::resource_list`): its aliases' expansion was bounded there, so
/// it is parsed once, not checked again.
pub fn parse_part(name: &str, part: &str) -> Result<Vec<Node>, Problems> {
    build_documents(name, part, 0)
}

/// `parse_documents` of a piece of a file that starts on line `first_line` (1-based) at column 1:
/// its messages give the file's lines, exactly as if the parser had read the piece after
/// `first_line - 1` line breaks, in time proportional to the piece alone (reading each piece of a
/// stream after that many line breaks made a stream's parse quadratic, issue 20). The piece is
/// parsed as it is; only when that fails is it parsed again after one line break (so that no mark
/// sits at the stream's start, where serde_yaml writes marks differently) with its messages moved
/// the remaining lines down (`shift_marks`).
pub fn parse_documents_at(
    name: &str,
    bytes: &[u8],
    max: usize,
    first_line: usize,
) -> Result<Vec<Node>, Problems> {
    let first = parse_documents(name, bytes, max);
    if first.is_ok() || first_line <= 1 {
        return first;
    }
    let mut padded = Vec::with_capacity(bytes.len() + 1);
    padded.push(b'\n');
    padded.extend_from_slice(bytes);
    parse_documents_shifted(name, &padded, max, first_line - 2)
}

/// `parse_documents` with every line its messages give moved `shift` lines down.
fn parse_documents_shifted(
    name: &str,
    bytes: &[u8],
    max: usize,
    shift: usize,
) -> Result<Vec<Node>, Problems> {
    let text = precheck_shifted(name, bytes, max, shift)?;
    let budget = max.min(MAX_EXPANDED_DOCUMENTS);
    // Without an alias (`*`) a document expands to at most twice its size (every scalar costs
    // its length plus one, every node at least one byte of text), so the budget pass, a whole
    // second parse, cannot fail on it where the parse below succeeds. When the parse below fails,
    // the text is read again the full way, so the message is the one the budget pass would give
    // (it reads every document of the text before any is built).
    let fast = shift == 0 && !text.contains('*') && text.len() + 8 < budget / 2;
    if fast && let Ok(nodes) = build_documents(name, text, shift) {
        return Ok(nodes);
    }
    check_expansion_shifted(name, text, budget, shift)?;
    build_documents(name, text, shift)
}

/// The documents of `text` as `Node`s, the empty ones left out: each built as it is parsed
/// (`Build`), with the errors and problems `serde_yaml::Value` and `from_yaml` give.
fn build_documents(name: &str, text: &str, shift: usize) -> Result<Vec<Node>, Problems> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let mut problems = Vec::new();
        let seed = Build {
            at: At::Root,
            problems: &mut problems,
        };
        match serde::de::DeserializeSeed::deserialize(seed, doc) {
            Ok(node) => {
                if let Some(p) = problems.into_iter().next() {
                    let mut ps = Problems::default();
                    ps.push(place(name, &p.path), p.message);
                    return Err(ps);
                }
                if node != Node::Null {
                    out.push(node);
                }
            }
            Err(e) => {
                let mut p = Problems::default();
                p.push(
                    name,
                    format!("invalid YAML: {}", shift_marks(&describe(&e), shift)),
                );
                return Err(p);
            }
        }
    }
    Ok(out)
}

/// `build_documents` through a `serde_yaml::Value` tree, as it was built before `Build`: what
/// `Build` must equal.
#[cfg(test)]
fn build_documents_via_value(name: &str, text: &str, shift: usize) -> Result<Vec<Node>, Problems> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        match <serde_yaml::Value as serde::Deserialize>::deserialize(doc) {
            Ok(serde_yaml::Value::Null) => {}
            Ok(v) => {
                let mut problems = Vec::new();
                let node = from_yaml(v, At::Root, &mut problems);
                if let Some(p) = problems.into_iter().next() {
                    let mut ps = Problems::default();
                    ps.push(place(name, &p.path), p.message);
                    return Err(ps);
                }
                out.push(node);
            }
            Err(e) => {
                let mut p = Problems::default();
                p.push(
                    name,
                    format!("invalid YAML: {}", shift_marks(&describe(&e), shift)),
                );
                return Err(p);
            }
        }
    }
    Ok(out)
}

/// Serializes a typed object as one YAML document (no leading `---`), ending in a newline. The
/// bytes are serde_yaml's; `emit` writes them directly for the shapes generated objects have.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> String {
    if let Some(text) = emit::typed_to_yaml(value) {
        return text;
    }
    serde_yaml::to_string(value).expect("generated objects always serialize")
}

/// `to_yaml` for a tree that is already a `serde_json::Value` (rendered objects).
pub fn value_to_yaml(value: &serde_json::Value) -> String {
    emit::to_yaml(value).unwrap_or_else(|| {
        serde_yaml::to_string(value).expect("generated objects always serialize")
    })
}

/// Serializes a value as pretty JSON, ending in a newline.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("generated objects always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_tags_are_refused_with_their_place() {
        for (text, want) in [
            (
                "tenant: !!python/object:os.system ls\n",
                "line 1: YAML tag `!!python/object:os.system`",
            ),
            ("a:\n- !!j x\n", "line 2: YAML tag `!!j`"),
            (
                "a: [b, !!python/name:x]\n",
                "line 1: YAML tag `!!python/name:x`",
            ),
            ("a: !custom x\n", "t: a: YAML tag `!custom`"),
        ] {
            let err = parse_values("t", text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        for ok in [
            "a: !!str 1\nb: !!int 2\nc: !!map {d: !!seq []}\n",
            "a: \"x: !!y\"\nb: 'z !!w'\nc: |\n  d: !!e\nf: g !!h\n# i: !!j\n",
        ] {
            assert!(parse_values("t", ok.as_bytes()).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        let err = parse_values("t", deep.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("nest deeper than 128 levels at line 1 column 132"),
            "{err}"
        );
        let quoted = format!(
            "a: \"{}\"\nb: '{}'\n# {}\n",
            "[".repeat(200),
            "{".repeat(200),
            "[".repeat(200)
        );
        assert!(parse_values("t", quoted.as_bytes()).is_ok());
        let balanced = "a: [[1], [2], {b: [3]}]\n".repeat(300);
        assert!(too_deep_flow(balanced.as_bytes()).is_none());
    }

    /// Broken (and valid) documents for `parse_documents_at`: every kind of message serde_yaml
    /// and this module write, with their marks in every place.
    const PIECES: &[&str] = &[
        "a: 1\n",
        "a: [1, 2\n",
        "a: 'x\n",
        "a: \"x\n",
        "a: 1\n b: 2\n",
        "a:\n  - 1\n - 2\n",
        "a: b: c\n",
        "\ta: 1\n",
        "a: 1\na: 2\n",
        "a: 1\n\"line 3 column 4, while parsing a node\": 1\n\"line 3 column 4, while parsing a node\": 2\n",
        "a: *nope\n",
        "a: &x 1\nb: !!binary x\n",
        "%YAML 2.0\n---\na: 1\n",
        "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
        "%TAG !x! y\n%TAG !x! y\n---\na: 1\n",
        "a: \u{1}\n",
        "a: 1\n\u{7f}\n",
        "? [1, 2]\n: x\n",
        "{a: 1, b\n",
        "- [\n",
        "a: |\n  x\n b\n",
        "a: >-\n x\n  y\n",
        "[1, 2]]\n",
        "a: @x\n",
        "a: `x\n",
        "&a [*a]\n",
        "a: !<tag:x> 1\n",
        "key: 'it''s'\nother: \"\\q\"\n",
        "a: 1\n...\nb: 2\nb: 3\n---\nc: [\n",
        "a: &x [1]\nb: *x\nc: *x\nc: 2\n",
        "x: \"*\"\nx: 1\n",
        "a: {b: 1, b: 2}\n",
        "1: a\n\"1\": b\n",
        "[a]: 1\n",
        "a: !x 1\n",
        "- !!python/object:os.system ls\n",
        "a: 1\n---\nb: 1\nb: 2\n---\nc\n",
        "? !x a\n: 1\n? !x a\n: 2\n",
        "? [a]\n: !y 1\nb: !z 2\n",
        "a:\n  - !t {b: !u 1}\n  - c: !v 2\n",
        "a: !t {b: 1, b: 2}\n",
        "~: 1\nnull: 2\n",
        "true: 1\nTrue: 2\n",
        "1: a\n1.0: b\n1e3: c\n.nan: d\n.inf: e\n",
        "x: 9223372036854775808\ny: 18446744073709551616\nz: -9223372036854775809\n",
        "x: 0x1F\ny: 0o17\nz: 1_000\nw: +12\nv: -0.0\n",
        "! a: 1\n",
        "a: ! b\n",
        "? {a: 1}\n: x\n? {a: 1}\n: y\n",
        "- a\n- [b, {c: d}]\n- ~\n-\n- ''\n",
        "--- !x\na: 1\n",
        "--- ~\n",
        "---\n...\n",
        "a: b\n...\n",
        "\u{feff}a: 1\n",
        "a: 1 # c\n# d\nb: |\n  x\n\n  y\nc: >\n  p\n  q\n",
        "k: \"\\L\\P\\N\\_\\x41\\u263A\"\n",
    ];

    /// What `parse_documents_at` must equal: the piece parsed after `first_line - 1` line breaks,
    /// which is what `manifests::parse` did before issue 20 (in time quadratic in a stream).
    /// The budget pass always runs here, as it did before the fast path for text without
    /// aliases.
    fn padded(bytes: &[u8], first_line: usize) -> Result<Vec<Node>, Problems> {
        let mut padded = vec![b'\n'; first_line - 1];
        padded.extend_from_slice(bytes);
        let text = precheck("f.yaml", &padded, usize::MAX)?;
        check_expansion("f.yaml", text, MAX_EXPANDED_DOCUMENTS)?;
        build_documents_via_value("f.yaml", text, 0)
    }

    #[test]
    fn pieces_parse_in_place_without_padding() {
        let deep_block: String = (0..140).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        let deep_flow = format!("a: {}\n", "[".repeat(200));
        let mut pieces: Vec<String> = PIECES.iter().map(|p| p.to_string()).collect();
        pieces.push(deep_block);
        pieces.push(deep_flow);
        let mut failures = 0;
        for piece in &pieces {
            for first_line in [1, 2, 3, 4, 9, 10, 11, 99, 100, 1000, 123_457] {
                let want = padded(piece.as_bytes(), first_line);
                let got = parse_documents_at("f.yaml", piece.as_bytes(), usize::MAX, first_line);
                failures += usize::from(want.is_err());
                match (want, got) {
                    (Ok(w), Ok(g)) => assert_eq!(w, g, "{piece:?} at {first_line}"),
                    (Err(w), Err(g)) => {
                        assert_eq!(w.to_string(), g.to_string(), "{piece:?} at {first_line}")
                    }
                    (w, g) => panic!("{piece:?} at {first_line}: {w:?} / {g:?}"),
                }
            }
        }
        assert!(
            failures > 200,
            "the pieces must exercise the error path: {failures}"
        );
    }

    #[test]
    fn only_the_parsers_marks_move() {
        // Input quoted in a message keeps its text; the marks that end a message and its problem
        // move.
        assert_eq!(
            shift_marks(
                "did not find expected key at line 3 column 1, while parsing a block mapping at line 2 column 1",
                10
            ),
            "did not find expected key at line 13 column 1, while parsing a block mapping at line 12 column 1"
        );
        assert_eq!(
            shift_marks(
                "a: duplicate entry with key \"x at line 1 column 1, while parsing a node\" at line 4 column 1",
                5
            ),
            "a: duplicate entry with key \"x at line 1 column 1, while parsing a node\" at line 9 column 1"
        );
        assert_eq!(
            shift_marks("control characters are not allowed at position 7", 3),
            "control characters are not allowed at position 10"
        );
        assert_eq!(
            shift_marks(
                "recursion limit exceeded at line 130 column 3: nesting is deeper than 128 levels",
                2
            ),
            "recursion limit exceeded at line 132 column 3: nesting is deeper than 128 levels"
        );
        assert_eq!(
            shift_marks("repetition limit exceeded", 2),
            "repetition limit exceeded"
        );
    }

    #[test]
    fn top_level_problems_name_the_file_once() {
        let err = parse_values("k.yaml", b"{[1, 2]: x}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\n  k.yaml: a map key must be a string"),
            "{err}"
        );
    }
}
