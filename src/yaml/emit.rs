//! A fast block-style YAML emitter for JSON trees that writes exactly the bytes serde_yaml (libyaml
//! with unlimited width and unicode on) writes, for the shapes generated objects have: maps, lists,
//! booleans, integers, null, and strings of printable ASCII (plain, single-quoted, or literal block
//! scalars as map values). For anything else it returns `None` and the caller uses serde_yaml, so
//! output bytes never depend on which path ran. Rendering 10,000 registrations spent half its time
//! in libyaml's emitter (benches/run); this path is several times faster.
//!
//! The scalar rules follow serde_yaml 0.9 `Serializer::serialize_str` (a string that would read back
//! as null, a boolean or a number is single-quoted) and unsafe-libyaml's `yaml_emitter_analyze_scalar`
//! and `yaml_emitter_select_scalar_style`; `tests/properties.rs` compares both on random trees.

use serde_json::Value;
use std::fmt::Write as _;

/// The YAML text of `value` as serde_yaml would write it, or `None` when the value has a shape this
/// emitter does not handle.
pub fn to_yaml(value: &Value) -> Option<String> {
    let mut out = String::with_capacity(1024);
    match value {
        Value::Object(m) if !m.is_empty() => map(m, 0, &mut out)?,
        Value::Array(a) if !a.is_empty() => seq(a, 0, &mut out)?,
        other => {
            inline(other, &mut out)?;
            out.push('\n');
        }
    }
    Some(out)
}

fn indent(n: usize, out: &mut String) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// A block map whose first key goes at the current position and the others at column `ind`.
fn map(m: &serde_json::Map<String, Value>, ind: usize, out: &mut String) -> Option<()> {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            indent(ind, out);
        }
        if k.is_empty() || k.len() > 128 {
            return None;
        }
        single_line(k, out)?;
        out.push(':');
        match v {
            Value::Object(c) if !c.is_empty() => {
                out.push('\n');
                indent(ind + 2, out);
                map(c, ind + 2, out)?;
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                indent(ind, out);
                seq(a, ind, out)?;
            }
            Value::String(s) if s.contains('\n') => {
                out.push(' ');
                literal(s, ind + 2, out)?;
            }
            other => {
                out.push(' ');
                inline(other, out)?;
                out.push('\n');
            }
        }
    }
    Some(())
}

/// A block sequence whose first `- ` goes at the current position and the others at column `ind`.
fn seq(items: &[Value], ind: usize, out: &mut String) -> Option<()> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            indent(ind, out);
        }
        out.push_str("- ");
        match item {
            Value::Object(c) if !c.is_empty() => map(c, ind + 2, out)?,
            Value::Array(a) if !a.is_empty() => return None,
            Value::String(s) if s.contains('\n') => return None,
            other => {
                inline(other, out)?;
                out.push('\n');
            }
        }
    }
    Some(())
}

/// A scalar or an empty collection on the current line.
fn inline(v: &Value, out: &mut String) -> Option<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                return None;
            }
        }
        Value::String(s) => single_line(s, out)?,
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        _ => return None,
    }
    Some(())
}

/// A string without line breaks: plain when libyaml allows it and it would read back as the same
/// string, single-quoted otherwise. Only printable ASCII is handled.
fn single_line(s: &str, out: &mut String) -> Option<()> {
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    if !reads_as_non_string(s) && block_plain_allowed(s.as_bytes()) {
        out.push_str(s);
    } else {
        out.push('\'');
        for c in s.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
    }
    Some(())
}

/// A multi-line string as a literal block scalar (`|` or `|-`), content at column `ind`. Strings
/// that need an indentation indicator, keep-chomping, or have trailing spaces are left to libyaml.
fn literal(s: &str, ind: usize, out: &mut String) -> Option<()> {
    let b = s.as_bytes();
    if b[0] == b' ' || b[0] == b'\n' || s.ends_with("\n\n") || s.contains(" \n") || s.ends_with(' ')
    {
        return None;
    }
    if !b.iter().all(|&c| (0x20..0x7f).contains(&c) || c == b'\n') {
        return None;
    }
    out.push('|');
    let body = match s.strip_suffix('\n') {
        Some(body) => body,
        None => {
            out.push('-');
            s
        }
    };
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(ind, out);
            out.push_str(line);
        }
        out.push('\n');
    }
    Some(())
}

/// serde_yaml single-quotes a string that its own deserializer would read as null, a boolean or a
/// number (`serialize_str` with `visit_untagged_scalar`), and one of digits with a leading zero.
fn reads_as_non_string(s: &str) -> bool {
    if s.is_empty() || matches!(s, "~" | "null" | "Null" | "NULL") {
        return true;
    }
    if matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        return true;
    }
    if digits_but_not_number(s) {
        return true;
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        // Integers and floats (including `.inf`, `.nan`) start with a digit, a sign or a dot;
        // Rust also parses `inf`/`nan`, but serde_yaml keeps only finite floats.
        return false;
    }
    parses_as_unsigned(s) || parses_as_negative(s) || parses_as_float(s)
}

fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// serde_yaml's `parse_unsigned_int` (u128 accepts whatever u64 does).
fn parses_as_unsigned(scalar: &str) -> bool {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return false;
            }
            if u128::from_str_radix(rest, radix).is_ok() {
                return true;
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(scalar) {
        return false;
    }
    u128::from_str_radix(unpositive, 10).is_ok()
}

/// serde_yaml's `parse_negative_int` (i128 accepts whatever i64 does).
fn parses_as_negative(scalar: &str) -> bool {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix) {
            if i128::from_str_radix(&format!("-{rest}"), radix).is_ok() {
                return true;
            }
        }
    }
    !digits_but_not_number(scalar) && i128::from_str_radix(scalar, 10).is_ok()
}

fn parses_as_float(s: &str) -> bool {
    let unpositive = match s.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => s,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return true;
    }
    unpositive.parse::<f64>().is_ok_and(f64::is_finite)
}

/// libyaml's `block_plain_allowed` for a non-empty single line of printable ASCII.
fn block_plain_allowed(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 3 && (&b[..3] == b"---" || &b[..3] == b"...") {
        return false;
    }
    if b[0] == b' ' || b[n - 1] == b' ' {
        return false;
    }
    let blank_at = |i: usize| i >= n || b[i] == b' ';
    if b"#,[]{}&*!|>'\"%@`".contains(&b[0]) {
        return false;
    }
    if matches!(b[0], b'?' | b':' | b'-') && blank_at(1) {
        return false;
    }
    for i in 1..n {
        match b[i] {
            b':' if blank_at(i + 1) => return false,
            b'#' if b[i - 1] == b' ' => return false,
            _ => {}
        }
    }
    true
}
