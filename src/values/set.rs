//! Helm's `--set` syntax: `a.b=c`, several assignments separated by commas, list indexes
//! `a[0].b=c`, list literals `{x,y}`, and backslash escapes for `,` `.` `=` `[`. Values are typed like
//! Helm's (`true`, `false`, `null`, integers) unless given with `--set-string`.

use crate::yaml::Node;

/// Deepest `--set` path (keys and indexes) and list-literal nesting accepted: as deep as the YAML
/// parser lets a values file nest. Deeper input would nest the tree past what the rest of the
/// pipeline can walk (a 30,000-level path overflowed the stack, #11).
pub const MAX_SET_DEPTH: usize = 128;

/// A path for a message: escaped and cut, never echoed whole (it may be 60 KB).
fn shown(path: &str) -> String {
    crate::rules::credential::show(path)
}

/// One step of a `--set` path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits on `sep` outside braces, honouring backslash escapes (kept in the pieces).
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.last_mut().unwrap().push(c);
                if let Some(n) = chars.next() {
                    out.last_mut().unwrap().push(n);
                }
            }
            '{' => {
                depth += 1;
                out.last_mut().unwrap().push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                out.last_mut().unwrap().push(c);
            }
            c if c == sep && depth == 0 => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for seg in split_unescaped(path, '.') {
        let (name, mut rest) = match seg.find('[') {
            Some(i) if !seg[..i].ends_with('\\') => (&seg[..i], &seg[i..]),
            _ => (seg.as_str(), ""),
        };
        if name.is_empty() && steps.is_empty() {
            return Err(format!(
                "path {} starts with an empty key; expected `key.sub[0]=value`",
                shown(path)
            ));
        }
        if !name.is_empty() {
            steps.push(Step::Key(unescape(name)));
        } else if rest.is_empty() {
            return Err(format!(
                "path {} has an empty key; expected `key.sub[0]=value`",
                shown(path)
            ));
        }
        if steps.len() > MAX_SET_DEPTH {
            return Err(format!(
                "path {} is more than {MAX_SET_DEPTH} levels deep; values nest at most {MAX_SET_DEPTH} levels, as in a values file",
                shown(path)
            ));
        }
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(|| {
                format!(
                    "path {} has `[` without `]`; expected `key[0]`",
                    shown(path)
                )
            })?;
            let idx = &rest[1..close];
            let n: usize = idx.parse().map_err(|_| {
                format!(
                    "list index {} in {} is not a whole number; expected `key[0]`",
                    shown(idx),
                    shown(path)
                )
            })?;
            if n > 10_000 {
                return Err(format!(
                    "list index `{n}` in {} is too large (at most 10000)",
                    shown(path)
                ));
            }
            steps.push(Step::Index(n));
            if steps.len() > MAX_SET_DEPTH {
                return Err(format!(
                    "path {} is more than {MAX_SET_DEPTH} levels deep; values nest at most {MAX_SET_DEPTH} levels, as in a values file",
                    shown(path)
                ));
            }
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!(
                    "path {} has text after `]`; expected `key[0].sub`",
                    shown(path)
                ));
            }
        }
    }
    Ok(steps)
}

fn parse_value(raw: &str, typed: bool, depth: usize) -> Result<Node, String> {
    if typed && raw.starts_with('{') && raw.ends_with('}') {
        if depth >= MAX_SET_DEPTH {
            return Err(format!(
                "list literal `{{...}}` nests more than {MAX_SET_DEPTH} levels deep; values nest at most {MAX_SET_DEPTH} levels"
            ));
        }
        let inner = &raw[1..raw.len() - 1];
        if inner.is_empty() {
            return Ok(Node::Seq(Vec::new()));
        }
        return split_unescaped(inner, ',')
            .iter()
            .map(|s| parse_value(s, typed, depth + 1))
            .collect::<Result<_, _>>()
            .map(Node::Seq);
    }
    let s = unescape(raw);
    Ok(if typed {
        crate::yaml::parse_set_scalar(&s)
    } else {
        Node::Str(s)
    })
}

fn assign(node: &mut Node, steps: &[Step], value: Node) {
    let Some((first, rest)) = steps.split_first() else {
        *node = value;
        return;
    };
    match first {
        Step::Key(k) => {
            if !matches!(node, Node::Map(_)) {
                *node = Node::Map(Default::default());
            }
            let Node::Map(m) = node else { unreachable!() };
            if rest.is_empty() && value == Node::Null {
                m.shift_remove(k);
                return;
            }
            let child = m.entry(k.clone()).or_insert(Node::Null);
            assign(child, rest, value);
        }
        Step::Index(i) => {
            if !matches!(node, Node::Seq(_)) {
                *node = Node::Seq(Vec::new());
            }
            let Node::Seq(v) = node else { unreachable!() };
            while v.len() <= *i {
                v.push(Node::Null);
            }
            assign(&mut v[*i], rest, value);
        }
    }
}

/// Applies one `--set` argument (possibly several comma-separated assignments) to `values`.
pub fn apply(values: &mut Node, expr: &str, typed: bool) -> Result<(), String> {
    for part in split_unescaped(expr, ',') {
        if part.is_empty() {
            continue;
        }
        let eq = find_unescaped_eq(&part)
            .ok_or_else(|| format!("{} has no `=`; expected `PATH=VALUE`", shown(&part)))?;
        let steps = parse_path(&part[..eq])?;
        assign(values, &steps, parse_value(&part[eq + 1..], typed, 0)?);
    }
    Ok(())
}

fn find_unescaped_eq(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(exprs: &[&str]) -> String {
        let mut v = Node::Map(Default::default());
        for e in exprs {
            apply(&mut v, e, true).unwrap();
        }
        crate::yaml::to_json(&v)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn nested_keys_lists_and_types() {
        assert_eq!(run(&["a.b=c,d=1"]), r#"{ "a": { "b": "c" }, "d": 1 }"#);
        assert_eq!(
            run(&["r[1].name=x"]),
            r#"{ "r": [ null, { "name": "x" } ] }"#
        );
        assert_eq!(
            run(&["l={a,b}", "t=true"]),
            r#"{ "l": [ "a", "b" ], "t": true }"#
        );
        assert_eq!(run(&[r"k=a\,b", r"x\.y=1"]), r#"{ "k": "a,b", "x.y": 1 }"#);
        assert_eq!(run(&["z=007"]), r#"{ "z": "007" }"#);
    }

    #[test]
    fn deep_paths_and_literals_are_refused_not_overflowed() {
        // #11: a 30,000-level path overflowed the stack (exit 134).
        let mut v = Node::Null;
        let deep = format!("{}=1", vec!["a"; 30_000].join("."));
        let e = apply(&mut v, &deep, true).unwrap_err();
        assert!(e.contains("is more than 128 levels deep"), "{e}");
        assert!(e.len() < 300, "the path is cut in the message: {e}");
        let deep = format!("a{}=1", "[0]".repeat(30_000));
        assert!(
            apply(&mut v, &deep, true)
                .unwrap_err()
                .contains("levels deep")
        );
        let deep = format!("a={}x{}", "{".repeat(30_000), "}".repeat(30_000));
        assert!(
            apply(&mut v, &deep, true)
                .unwrap_err()
                .contains("nests more than 128")
        );
        // 128 levels are fine.
        let ok = format!("{}=1", vec!["a"; 128].join("."));
        assert!(apply(&mut v, &ok, true).is_ok());
    }

    #[test]
    fn null_removes_and_errors_are_clear() {
        assert_eq!(run(&["a.b=1", "a.b=null"]), r#"{ "a": {} }"#);
        let mut v = Node::Null;
        assert!(
            apply(&mut v, "novalue", true)
                .unwrap_err()
                .contains("no `=`")
        );
        assert!(
            apply(&mut v, "a[x]=1", true)
                .unwrap_err()
                .contains("not a whole number")
        );
    }
}
