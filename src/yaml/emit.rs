//! A fast block-style YAML emitter for JSON trees that writes exactly the bytes serde_yaml (libyaml
//! with unlimited width and unicode on) writes, for the shapes generated objects have: maps, lists,
//! booleans, integers, null, and strings of printable ASCII (plain, single-quoted, or literal block
//! scalars as map values). For anything else it returns `None` and the caller uses serde_yaml, so
//! output bytes never depend on which path ran. Rendering 10,000 registrations spent half its time
//! in libyaml's emitter (benches/run); this path is several times faster.
//!
//! The scalar rules follow serde_yaml 0.9 `Serializer::serialize_str` (a string that would read back
//! as null, a boolean or a number is single-quoted) and unsafe-libyaml's `yaml_emitter_analyze_scalar`
//! and `yaml_emitter_select_scalar_style`; `tests/it/properties.rs` compares both on random trees.

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
    unpositive.parse::<u128>().is_ok()
}

/// serde_yaml's `parse_negative_int` (i128 accepts whatever i64 does).
fn parses_as_negative(scalar: &str) -> bool {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix)
            && i128::from_str_radix(&format!("-{rest}"), radix).is_ok()
        {
            return true;
        }
    }
    !digits_but_not_number(scalar) && scalar.parse::<i128>().is_ok()
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

/// A typed value written straight to YAML: the bytes of `to_yaml(&to_value(value))`, without
/// building the tree. `None` when a shape is not handled.
pub fn typed_to_yaml<T: serde::Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut w = Writer {
        out: String::with_capacity(2048),
        next: Pos::Top,
        stack: Vec::with_capacity(8),
    };
    value.serialize(&mut w).ok()?;
    if !w.stack.is_empty() {
        return None;
    }
    Some(w.out)
}

#[derive(Clone, Copy)]
enum Pos {
    Top,
    /// After `key:`, the key at this column.
    MapValue(usize),
    /// After `- `, the dash at this column.
    SeqItem(usize),
}

struct Frame {
    is_map: bool,
    pos: Pos,
    ind: usize,
    count: usize,
}

struct Writer {
    out: String,
    next: Pos,
    stack: Vec<Frame>,
}

#[derive(Debug)]
pub struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("shape not handled by the fast emitter")
    }
}
impl std::error::Error for Unsupported {}
impl serde::ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

type R = Result<(), Unsupported>;

impl Writer {
    fn scalar_line(&mut self, text: &str) -> R {
        match self.next {
            Pos::MapValue(_) => self.out.push(' '),
            Pos::Top | Pos::SeqItem(_) => {}
        }
        self.out.push_str(text);
        self.out.push('\n');
        Ok(())
    }

    fn string(&mut self, v: &str) -> R {
        if v.contains('\n') {
            let Pos::MapValue(k) = self.next else {
                return Err(Unsupported);
            };
            self.out.push(' ');
            return literal(v, k + 2, &mut self.out).ok_or(Unsupported);
        }
        if let Pos::MapValue(_) = self.next {
            self.out.push(' ');
        }
        single_line(v, &mut self.out).ok_or(Unsupported)?;
        self.out.push('\n');
        Ok(())
    }

    fn open(&mut self, is_map: bool) -> R {
        let pos = self.next;
        let ind = match (pos, is_map) {
            (Pos::Top, _) => 0,
            (Pos::MapValue(k), true) => k + 2,
            (Pos::MapValue(k), false) => k,
            (Pos::SeqItem(s), true) => s + 2,
            (Pos::SeqItem(_), false) => return Err(Unsupported),
        };
        self.stack.push(Frame {
            is_map,
            pos,
            ind,
            count: 0,
        });
        Ok(())
    }

    /// Before an entry or item: the opening line break, or the indentation of a later entry.
    fn entry(&mut self) -> R {
        let f = self.stack.last_mut().ok_or(Unsupported)?;
        if f.count == 0 {
            if let Pos::MapValue(_) = f.pos {
                self.out.push('\n');
                indent(f.ind, &mut self.out);
            }
        } else {
            indent(f.ind, &mut self.out);
        }
        f.count += 1;
        Ok(())
    }

    fn close(&mut self) -> R {
        let f = self.stack.pop().ok_or(Unsupported)?;
        if f.count == 0 {
            self.next = f.pos;
            self.scalar_line(if f.is_map { "{}" } else { "[]" })?;
        }
        Ok(())
    }

    fn key(&mut self, k: &str) -> R {
        self.entry()?;
        if k.is_empty() || k.len() > 128 || k.contains('\n') {
            return Err(Unsupported);
        }
        single_line(k, &mut self.out).ok_or(Unsupported)?;
        self.out.push(':');
        self.next = Pos::MapValue(self.stack.last().map_or(0, |f| f.ind));
        Ok(())
    }

    fn item(&mut self) -> R {
        self.entry()?;
        self.out.push_str("- ");
        self.next = Pos::SeqItem(self.stack.last().map_or(0, |f| f.ind));
        Ok(())
    }
}

/// Map keys: strings only.
struct KeyWriter<'a>(&'a mut Writer);

macro_rules! unsupported {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> { Err(Unsupported) })*
    };
}

impl serde::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = serde::ser::Impossible<(), Unsupported>;
    type SerializeTuple = serde::ser::Impossible<(), Unsupported>;
    type SerializeTupleStruct = serde::ser::Impossible<(), Unsupported>;
    type SerializeTupleVariant = serde::ser::Impossible<(), Unsupported>;
    type SerializeMap = serde::ser::Impossible<(), Unsupported>;
    type SerializeStruct = serde::ser::Impossible<(), Unsupported>;
    type SerializeStructVariant = serde::ser::Impossible<(), Unsupported>;

    fn serialize_str(self, v: &str) -> R {
        self.0.key(v)
    }
    unsupported!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );
    fn serialize_some<T: serde::Serialize + ?Sized>(self, _: &T) -> R {
        Err(Unsupported)
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(self, _: &'static str, _: &T) -> R {
        Err(Unsupported)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

impl serde::Serializer for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = serde::ser::Impossible<(), Unsupported>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = serde::ser::Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> R {
        self.scalar_line(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.scalar_line(&v.to_string())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> R {
        self.scalar_line(&v.to_string())
    }
    fn serialize_f32(self, _: f32) -> R {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> R {
        Err(Unsupported)
    }
    fn serialize_char(self, v: char) -> R {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> R {
        self.string(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Err(Unsupported)
    }
    fn serialize_none(self) -> R {
        self.scalar_line("null")
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.scalar_line("null")
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        self.scalar_line("null")
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Unsupported> {
        self.open(false)?;
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Unsupported> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Unsupported> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Unsupported> {
        self.open(true)?;
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unsupported> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

impl serde::ser::SerializeSeq for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
        self.item()?;
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl serde::ser::SerializeTuple for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
        serde::ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl serde::ser::SerializeTupleStruct for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
        serde::ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl serde::ser::SerializeMap for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: serde::Serialize + ?Sized>(&mut self, k: &T) -> R {
        k.serialize(KeyWriter(self))
    }
    fn serialize_value<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl serde::ser::SerializeStruct for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: serde::Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        self.key(key)?;
        v.serialize(&mut **self)
    }
    fn end(self) -> R {
        self.close()
    }
}
