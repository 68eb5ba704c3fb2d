//! Reading a values file the way Helm reads it (issue #11, class 9), so that `render -f` and
//! `helm template -f ... --post-renderer artifact-repos` see the same values.
//!
//! Helm reads a values file with `sigs.k8s.io/yaml` (`chartutil.ReadValues` in Helm 3,
//! `loader.LoadValues` in Helm 4): go-yaml v2 decodes it (YAML 1.1 scalars), the result is converted
//! to JSON and decoded again by `encoding/json`. What follows from it, and is done here:
//!
//! - Plain (unquoted) scalars resolve as go-yaml v2's `resolve.go` resolves them: `y`, `yes`, `on`
//!   (any of `y Y yes Yes YES on On ON true True TRUE`) are `true`, `n`, `no`, `off` and the like are
//!   `false`; `0x1F`, `0o17`, `0b101`, `1_000`, `+12` are integers (Go's `strconv.ParseInt` with
//!   base 0 after removing every `_`); `.5`, `1e3`, `5.` are numbers.
//! - Every number goes through JSON as a float64: an integral value is an integer (`1.0` and `1e3`
//!   are `1` and `1000`), and integers past 2^53 lose precision as they do in Helm.
//! - Merge keys (`<<`, plain) write the merged map's keys in place, a list of maps last to first;
//!   keys written after `<<` override it.
//! - Non-string keys become strings (`true`, `83`, `1.5`); a null key is refused, as Helm refuses it.
//!
//! Where Helm's reading is a trap, the file is refused instead, with a message saying what Helm
//! would read (decided in issue #11; docs/upstream.md):
//!
//! - a number with a leading zero (`0123`: go-yaml v2 reads the octal 83; `08` reads 8);
//! - a repeated key (go-yaml v2 keeps the last value and drops the first without a word);
//! - a merge key after keys it overrides (go-yaml v2 lets the merged map win, the YAML merge-key
//!   spec and go-yaml v3 the key written by hand);
//! - `.inf` and `.nan` (Helm fails to convert them to JSON anyway).

use super::Node;
use crate::error::Problem;
use crate::values::path::{index, join};
use indexmap::{IndexMap, IndexSet};
use std::cell::{Cell, RefCell};

/// State shared by every node of one document.
pub(super) struct Shared<'de> {
    text: &'de str,
    problems: RefCell<Vec<Problem>>,
    /// Set when the scalar just read was a plain `<<` (a merge key, not a quoted `"<<"`).
    merge: Cell<bool>,
    /// Where the scalar just read starts in `text`, when it is a slice of it.
    offset: Cell<Option<usize>>,
}

impl<'de> Shared<'de> {
    pub(super) fn new(text: &'de str) -> Self {
        Shared {
            text,
            problems: RefCell::new(Vec::new()),
            merge: Cell::new(false),
            offset: Cell::new(None),
        }
    }
    pub(super) fn into_problems(self) -> Vec<Problem> {
        self.problems.into_inner()
    }
    fn problem(&self, path: &str, message: String) {
        self.problems
            .borrow_mut()
            .push(Problem::new(path.to_string(), message));
    }
    /// `line N: ` for the scalar just read, when known.
    fn line(&self) -> String {
        self.line_at(self.offset.get())
    }
    /// `line N: ` for an offset into the input, when known. Counted only for a message: counting
    /// for every key made reading quadratic.
    fn line_at(&self, offset: Option<usize>) -> String {
        match offset {
            Some(o) => format!(
                "line {}: ",
                self.text.as_bytes()[..o]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            ),
            None => String::new(),
        }
    }
    /// Whether `v`, a slice of the input, is a plain scalar without an explicit tag: only those
    /// are resolved (a quoted `"yes"` or a `!!str 0123` is a string).
    fn plain(&self, v: &str) -> bool {
        let base = self.text.as_ptr() as usize;
        let Some(start) = (v.as_ptr() as usize).checked_sub(base) else {
            return false;
        };
        if start + v.len() > self.text.len() {
            return false;
        }
        self.offset.set(Some(start));
        let bytes = self.text.as_bytes();
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(start + v.len()).copied();
        if matches!(before, Some(b'"' | b'\'')) && before == after {
            return false;
        }
        // Properties before the scalar: `&anchor` and `!tag`, in either order.
        let mut end = start;
        loop {
            let head = &bytes[..end];
            let trimmed = head.trim_ascii_end();
            if trimmed.len() == head.len() {
                return true;
            }
            let token = trimmed
                .iter()
                .rposition(|b| b.is_ascii_whitespace())
                .map_or(0, |i| i + 1);
            let first = trimmed[token..]
                .iter()
                .position(|b| !b"[{,".contains(b))
                .map(|i| token + i);
            match first.map(|i| (i, trimmed[i])) {
                Some((_, b'!')) => return false,
                Some((i, b'&')) if i == token => end = token,
                _ => return true,
            }
        }
    }
}

/// A node of a values document at `path`.
pub(super) struct HelmValues<'a, 'de> {
    pub(super) shared: &'a Shared<'de>,
    pub(super) path: String,
}

/// What go-yaml v2 makes of a plain scalar that is not a YAML 1.2 null, boolean or number.
enum Resolved {
    Node(Node),
    /// A number written with a leading zero: what Helm reads, refused.
    LeadingZero(Node),
    NonFinite,
}

/// Go's `strconv.ParseInt(s, 0, 64)` (underscores already removed): an optional sign, then `0x`,
/// `0o`, `0b` or a leading `0` (octal) or decimal digits.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    let v = i128::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i;
    if b.first() == Some(&b'.') {
        let n = digits(&b[1..]);
        if n == 0 {
            return false;
        }
        i = 1 + n;
    } else {
        let n = digits(b);
        if n == 0 {
            return false;
        }
        i = n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(&b[i + 1..]);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let n = digits(&b[i..]);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// A number as Helm hands it on: a float64 through JSON, integral values printed as integers.
pub(super) fn helm_number(f: f64) -> Node {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        Node::Int(f as i64)
    } else {
        Node::Float(f)
    }
}

/// go-yaml v2's `resolve` for a plain scalar serde_yaml (YAML 1.2) left a string.
fn resolve(s: &str) -> Resolved {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Resolved::Node(Node::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Resolved::Node(Node::Bool(false));
        }
        "~" | "null" | "Null" | "NULL" => return Resolved::Node(Node::Null),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Resolved::NonFinite,
        _ => {}
    }
    let node = match s.as_bytes().first() {
        Some(b'.') => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(helm_number),
        Some(b'0'..=b'9' | b'+' | b'-') => {
            let plain = s.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                if i64::try_from(i).is_ok() || u64::try_from(i).is_ok() {
                    Some(helm_number(i as f64))
                } else {
                    None
                }
            } else if yaml_style_float(&plain) {
                plain
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(helm_number)
            } else {
                None
            }
        }
        _ => None,
    };
    match node {
        Some(n) => {
            let unsigned = s.trim_start_matches(['-', '+']).replace('_', "");
            let b = unsigned.as_bytes();
            if b.len() > 1 && b[0] == b'0' && b[1].is_ascii_digit() {
                Resolved::LeadingZero(n)
            } else {
                Resolved::Node(n)
            }
        }
        None => Resolved::Node(Node::Str(s.to_string())),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, as sigs.k8s.io/yaml writes a float map key.
fn go_format_g32(f: f64) -> String {
    let f = f as f32;
    if f == 0.0 {
        return "0".into();
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same f32: `1.5e3`.
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let digits = mantissa.trim_start_matches('-');
        let sign = if exp < 0 { '-' } else { '+' };
        let neg = if f < 0.0 { "-" } else { "" };
        return format!("{neg}{digits}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

impl<'de> HelmValues<'_, 'de> {
    fn child(&self, path: String) -> Self {
        HelmValues {
            shared: self.shared,
            path,
        }
    }

    fn scalar(&self, v: &str, plain: bool) -> Node {
        if !plain {
            return Node::Str(v.to_string());
        }
        if v == "<<" {
            self.shared.merge.set(true);
        }
        match resolve(v) {
            Resolved::Node(n) => n,
            Resolved::LeadingZero(n) => {
                let read = match &n {
                    Node::Int(i) => i.to_string(),
                    Node::Float(f) => f.to_string(),
                    _ => String::new(),
                };
                let octal = if go_parse_int(&v.replace('_', "")).is_some() {
                    "the octal number"
                } else {
                    "the number"
                };
                self.shared.problem(
                    &self.path,
                    format!(
                        "{}{} has a leading zero: Helm (YAML 1.1, go-yaml v2) reads it as {octal} {read}; quote it for a string (`\"{}\"`), or write the number without the zero",
                        self.shared.line(),
                        crate::rules::credential::show(v),
                        crate::error::escape(v),
                    ),
                );
                n
            }
            Resolved::NonFinite => {
                self.non_finite();
                Node::Null
            }
        }
    }

    fn non_finite(&self) {
        self.shared.problem(
            &self.path,
            "`.inf` and `.nan` are not values Helm can read (JSON has no infinity or NaN: Helm fails with `json: unsupported value`); quote it for a string".into(),
        );
    }

    fn key(&self, key: Node) -> Option<String> {
        Some(match key {
            Node::Str(s) => s,
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Float(f) => go_format_g32(f),
            Node::Null => {
                self.shared.problem(
                    &self.path,
                    "a map key is null: Helm refuses it (`unsupported map key`); quote it for the key `\"null\"`, or remove it".into(),
                );
                return None;
            }
            other => {
                self.shared.problem(
                    &self.path,
                    format!("a map key must be a string, got {}", other.type_name()),
                );
                return None;
            }
        })
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for HelmValues<'_, 'de> {
    type Value = Node;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for HelmValues<'_, 'de> {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(helm_number(v as f64))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(helm_number(v as f64))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(helm_number(v as f64))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(helm_number(v as f64))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        if !v.is_finite() {
            self.non_finite();
            return Ok(Node::Null);
        }
        Ok(helm_number(v))
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Node, E> {
        let plain = self.shared.plain(v);
        Ok(self.scalar(v, plain))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        // Not a slice of the input: a quoted scalar with escapes, a block scalar, or a plain
        // scalar folded over several lines (which holds a space, so resolves to a string).
        self.shared.offset.set(None);
        Ok(Node::Str(v.to_string()))
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
        let mut out = Vec::new();
        while let Some(n) = seq.next_element_seed(self.child(index(&self.path, out.len())))? {
            out.push(n);
        }
        Ok(Node::Seq(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out: IndexMap<String, Node> = IndexMap::new();
        // Keys written by hand so far (not by a merge key).
        let mut explicit: IndexSet<String> = IndexSet::new();
        loop {
            self.shared.merge.set(false);
            self.shared.offset.set(None);
            let Some(k) = map.next_key_seed(self.child(self.path.clone()))? else {
                break;
            };
            let merge = self.shared.merge.get() && k == Node::Str("<<".into());
            let key_offset = self.shared.offset.get();
            let line = || self.shared.line_at(key_offset);
            let key = if merge { None } else { self.key(k) };
            let child_path = match &key {
                Some(k) => join(&self.path, k),
                None => self.path.clone(),
            };
            let value = map.next_value_seed(self.child(child_path))?;
            if merge {
                let maps = match value {
                    Node::Map(m) => vec![m],
                    Node::Seq(items) if items.iter().all(|i| matches!(i, Node::Map(_))) => items
                        .into_iter()
                        .rev()
                        .filter_map(|i| match i {
                            Node::Map(m) => Some(m),
                            _ => None,
                        })
                        .collect(),
                    _ => {
                        self.shared.problem(
                            &self.path,
                            format!("{}a merge key (`<<`) takes a map or a list of maps", line()),
                        );
                        continue;
                    }
                };
                for m in maps {
                    for (k, v) in m {
                        if explicit.contains(&k) {
                            self.shared.problem(
                                &join(&self.path, &k),
                                format!("{}is written before the merge key (`<<`) that also sets it: Helm (go-yaml v2) keeps the merged value, the YAML merge-key rules keep the one written here; put `<<` first in the map", line()),
                            );
                        }
                        out.insert(k, v);
                    }
                }
                continue;
            }
            let Some(key) = key else { continue };
            if !explicit.insert(key.clone()) {
                self.shared.problem(
                    &join(&self.path, &key),
                    format!("{}the key is repeated in this map: Helm (go-yaml v2) keeps the last value and silently drops the others; keep one", line()),
                );
            }
            out.insert(key, value);
        }
        Ok(Node::Map(out))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        use serde::de::VariantAccess;
        let (tag, variant) = data.variant::<String>()?;
        let tag: String = format!("!{}", tag.trim_start_matches('!'))
            .escape_debug()
            .take(60)
            .collect();
        self.shared.problem(
            &self.path,
            format!("YAML tag `{tag}` is not supported: values are plain YAML (maps, lists, strings, numbers, booleans); remove the tag"),
        );
        variant.newtype_variant_seed(self.child(self.path.clone()))?;
        Ok(Node::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<String, String> {
        crate::yaml::parse_values("t", text.as_bytes())
            .map(|n| serde_json::to_string(&n).unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2_does() {
        // The values Helm 3.18 and 4.1 put in the carrier for these (measured, issue #11).
        for (text, want) in [
            ("yes", "true"),
            ("Y", "true"),
            ("ON", "true"),
            ("off", "false"),
            ("n", "false"),
            ("NO", "false"),
            ("yES", "\"yES\""),
            ("nULL", "\"nULL\""),
            ("~", "null"),
            ("0x1F", "31"),
            ("0X1F", "31"),
            ("-0x1F", "-31"),
            ("0o17", "15"),
            ("0b101", "5"),
            ("-0b101", "-5"),
            ("0b1_0", "2"),
            ("1_000", "1000"),
            ("1__0", "10"),
            ("-_1", "-1"),
            ("1_", "1"),
            ("_1", "\"_1\""),
            ("+1", "1"),
            ("+0x10", "16"),
            (".5", "0.5"),
            ("+.5", "0.5"),
            ("-.5", "-0.5"),
            ("5.", "5"),
            ("1.0", "1"),
            ("1e3", "1000"),
            ("1E3", "1000"),
            ("1e_3", "1000"),
            ("-1.5e+3", "-1500"),
            ("1.5e-3", "0.0015"),
            ("0.1_5", "0.15"),
            ("1.5_", "1.5"),
            ("1e400", "\"1e400\""),
            ("0o8", "\"0o8\""),
            ("0x", "\"0x\""),
            ("1,000", "\"1,000\""),
            ("190:20:30", "\"190:20:30\""),
            ("2024-01-01", "\"2024-01-01\""),
            ("._5", "\"._5\""),
            ("1e", "\"1e\""),
            ("-0", "0"),
            ("99999999999999999999", "1e+20"),
            ("'yes'", "\"yes\""),
            ("\"0123\"", "\"0123\""),
            ("!!str yes", "\"yes\""),
            ("&a !!str 0x1F", "\"0x1F\""),
            ("!!str &a on", "\"on\""),
            ("&a on", "true"),
            ("|\n  yes", "\"yes\\n\""),
        ] {
            let got = read(&format!("k: {text}\n")).unwrap();
            assert_eq!(got, format!("{{\"k\":{want}}}"), "{text}");
        }
        assert_eq!(read("a: &x on\nb: *x\n").unwrap(), r#"{"a":true,"b":true}"#);
        assert!(
            read("[yes, 'no', 0x10]: 1\n")
                .unwrap_err()
                .contains("a map key must be a string, got a list")
        );
        assert_eq!(
            read("y: n\n0x10: 1\n1.5: 2\n").unwrap(),
            r#"{"true":false,"16":1,"1.5":2}"#
        );
        assert_eq!(go_format_g32(1e6), "1e+06");
        assert_eq!(go_format_g32(-1.5e-5), "-1.5e-05");
        assert_eq!(go_format_g32(123456.0), "123456");
    }

    #[test]
    fn traps_are_refused_with_what_helm_would_read() {
        for (text, want) in [
            (
                "k: 0123\n",
                "t: k: line 1: `0123` has a leading zero: Helm (YAML 1.1, go-yaml v2) reads it as the octal number 83",
            ),
            ("k: 08\n", "reads it as the number 8"),
            ("k: -012\n", "reads it as the octal number -10"),
            ("k: 0_123\n", "octal number 83"),
            (
                "a:\n  b: 1\n  b: 2\n",
                "t: a.b: line 3: the key is repeated in this map",
            ),
            ("a: 1\nyes: 2\ntrue: 3\n", "t: true: the key is repeated"),
            (
                "m: &m {b: 1}\nc:\n  b: 2\n  <<: *m\n",
                "t: c.b: line 4: is written before the merge key",
            ),
            (
                "k: .inf\n",
                "t: k: `.inf` and `.nan` are not values Helm can read",
            ),
            ("k: [.NaN]\n", "t: k[0]: `.inf`"),
            ("~: 1\n", "a map key is null"),
            (
                "k: <<\nl: {<<: 1}\n",
                "t: l: line 2: a merge key (`<<`) takes a map",
            ),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        // Merge keys as go-yaml v2 applies them: in place, a list first map first, keys after
        // `<<` override it; a quoted "<<" is a key.
        assert_eq!(
            read("a: &a {x: 1, q: 1}\nb: &b {q: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n\"<<\": 4\n")
                .unwrap(),
            r#"{"a":{"x":1,"q":1},"b":{"q":2,"z":2},"c":{"q":1,"z":3,"x":1},"<<":4}"#
        );
        assert_eq!(read("k: <<\n").unwrap(), r#"{"k":"<<"}"#);
    }
}
