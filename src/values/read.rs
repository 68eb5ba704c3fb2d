//! The reader: a walk over the field table (`values::fields`). For every field a section declares,
//! it reads the value as the row says (its type, its rule, its credential screening, its Argo
//! version, the "is required" of a required field) into a slot holding the value and the problems
//! found; keys the section does not declare are refused with a did-you-mean. Nothing here knows a
//! field by name: what a field is comes from its row.
//!
//! `values::validate` then takes each slot into the model (`Fields::take`), which reports the
//! slot's problems at that point, so that messages come in the order the model is assembled, and
//! `values::cross` applies the rules that involve several fields. A slot nobody takes is still
//! reported (`Fields::finish`), and debug builds (every test) fail on it: a field cannot be read
//! and then silently dropped.

use super::fields::{Default, Field, Screen, Section, Shape, Type};
use super::path::{index, join};
use crate::error::{Problem, Problems};
use crate::rules::argo::{self, ArgoVersion};
use crate::rules::credential::{self, show};
use crate::rules::{formats, k8s};
use crate::yaml::Node;
use indexmap::IndexMap;

pub(crate) type Map = IndexMap<String, Node>;
pub(crate) type Json = serde_json::Value;
pub(crate) type JsonMap = serde_json::Map<String, Json>;

/// Collects problems and warnings while reading the tree.
#[derive(Default)]
pub(crate) struct Reader {
    pub problems: Problems,
    pub warnings: Vec<Problem>,
    /// Paths of fields that were given and read, but never taken into the model.
    pub untaken: Vec<String>,
    /// While walking: what a string's rule found, reported after the problems of its type
    /// (`Fields::types`).
    ruled: Vec<Problem>,
}

pub(crate) fn show_node(n: &Node) -> String {
    match n {
        Node::Str(s) => format!("{} {}", n.type_name(), show(s)),
        Node::Bool(b) => format!("a boolean `{b}`"),
        Node::Int(i) => format!("a number `{i}`"),
        Node::Float(f) => format!("a number `{f}`"),
        other => other.type_name().to_string(),
    }
}

/// For a name YAML typed as a number or a boolean (`name: 12`, `defaultBranch: 2024`): how to quote
/// it. The text as written is gone by then (YAML reads `3.10` as 3.1), so the hint shows what YAML
/// read.
fn quoting_hint(key: &str, node: &Node) -> String {
    if !super::fields::is_name(key) {
        return String::new();
    }
    let (what, read) = match node {
        Node::Int(i) => ("a number", i.to_string()),
        Node::Float(f) => ("a number", f.to_string()),
        Node::Bool(b) => ("a boolean", b.to_string()),
        _ => return String::new(),
    };
    format!("; YAML reads an unquoted `{read}` as {what}: quote it, `{key}: \"{read}\"`")
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn did_you_mean(key: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k.to_string())
}

impl Reader {
    pub fn err(&mut self, path: &str, msg: impl Into<String>) {
        self.problems.push(path, msg);
    }
    pub fn warn(&mut self, path: &str, msg: impl Into<String>) {
        self.warnings.push(Problem::new(path, msg));
    }

    /// Runs a rule on a value and reports `path: <value> <what is wrong>`.
    pub fn rule(&mut self, path: &str, value: &str, check: Result<(), String>) -> bool {
        match check {
            Ok(()) => true,
            Err(e) => {
                self.err(path, format!("{} {e}", show(value)));
                false
            }
        }
    }

    /// Reports keys of `map` that `known` does not declare, with a hint; credential-looking keys
    /// get their own message and their values are never shown.
    pub fn keys(&mut self, map: &Map, path: &str, known: &Section, credential_hint: &str) {
        for key in map.keys() {
            if known.get(key).is_some() {
                continue;
            }
            let p = join(path, key);
            if credential::is_credential_key(key)
                && matches!(map.get(key), Some(Node::Null) | Some(Node::Str(_)))
                && map.get(key).and_then(Node::as_str).unwrap_or("").is_empty()
            {
                // `accessKey: ""` (the origin chart's default) holds no credential.
                continue;
            }
            if credential::is_credential_key(key) {
                let credential_hint = if credential_hint.is_empty() {
                    "credentials are only ever referenced: store them in Vault and set `externalSecretPath`"
                } else {
                    credential_hint
                };
                self.err(
                    &p,
                    format!(
                        "inline credentials are refused (the value is not shown); {credential_hint}"
                    ),
                );
                continue;
            }
            let known: Vec<&str> = known.keys().collect();
            let hint = match did_you_mean(key, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!(
                    "expected one of {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.err(&p, format!("unknown key {}; {hint}", show(key)));
        }
    }

    /// A string field: its value, else its default (`None` when absent without one, or wrong).
    pub fn str(&mut self, fs: &mut Fields, f: &Field) -> Option<String> {
        match fs.take(self, f) {
            Value::Str(s) => Some(s),
            Value::Absent => match f.default {
                Default::Str(d) => Some(d.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// A boolean field: its value, else its default.
    pub fn bool(&mut self, fs: &mut Fields, f: &Field) -> Option<bool> {
        match fs.take(self, f) {
            Value::Bool(b) => Some(b),
            Value::Absent => match f.default {
                Default::Bool(d) => Some(d),
                _ => None,
            },
            _ => None,
        }
    }

    /// A list of strings: its value, else its default.
    pub fn strs(&mut self, fs: &mut Fields, f: &Field) -> Option<Vec<String>> {
        match fs.take(self, f) {
            Value::Strs(v) => Some(v),
            Value::Absent => match f.default {
                Default::List(d) => Some(d.iter().map(|s| s.to_string()).collect()),
                _ => Some(Vec::new()),
            },
            _ => None,
        }
    }

    /// A map of strings (labels, credential keys): its value, else empty.
    pub fn pairs(&mut self, fs: &mut Fields, f: &Field) -> Option<IndexMap<String, String>> {
        match fs.take(self, f) {
            Value::Pairs(m) => Some(m),
            Value::Absent => Some(IndexMap::new()),
            _ => None,
        }
    }

    /// A nested section, opened (its unknown keys reported); `None` when absent or not a map.
    pub fn section<'a>(&mut self, fs: &mut Fields<'a>, f: &Field) -> Option<Fields<'a>> {
        match fs.take(self, f) {
            Value::Section(inner) => {
                inner.open(self);
                Some(*inner)
            }
            _ => None,
        }
    }

    /// The target Argo version (`Type::Version`), its default when absent.
    pub fn version(&mut self, fs: &mut Fields, f: &Field) -> Option<ArgoVersion> {
        match fs.take(self, f) {
            Value::Version(v) => Some(v),
            Value::Absent => match f.default {
                Default::Str(d) => ArgoVersion::parse(d).ok(),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A field's value as read.
pub(crate) enum Value<'a> {
    /// Not given (or null): the row's default applies.
    Absent,
    /// Given, but wrong: a problem was recorded.
    Invalid,
    Str(String),
    Bool(bool),
    /// An integer (the one integer field, `installationId`, is read for its type only).
    Int,
    Strs(Vec<String>),
    Pairs(IndexMap<String, String>),
    Version(ArgoVersion),
    /// One of Argo's fields, checked, as JSON.
    Json(Json),
    Section(Box<Fields<'a>>),
    /// A map of names to sections (`namespaces`); `None` for an entry with a problem.
    Named(Vec<(String, Option<Fields<'a>>)>),
}

struct Slot<'a> {
    key: &'static str,
    /// What its rule found (a string's), reported after `problems`.
    ruled: Vec<Problem>,
    /// Given in the input (not absent, not null).
    given: bool,
    value: Value<'a>,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
    taken: bool,
}

/// What the walk read of one section: a slot per declared field, in the table's order.
pub(crate) struct Fields<'a> {
    pub path: String,
    pub map: &'a Map,
    section: &'static Section,
    slots: Vec<Slot<'a>>,
    /// Where the last take stopped: takes mostly follow the table's order.
    cursor: usize,
}

/// What reading depends on beyond the value itself: the target Argo version.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub version: ArgoVersion,
}

/// Reads every field `section` declares from `map`.
pub(crate) fn walk<'a>(
    section: &'static Section,
    map: &'a Map,
    path: &str,
    ctx: Ctx,
) -> Fields<'a> {
    let mut slots = Vec::with_capacity(section.fields().count());
    for f in section.fields() {
        let mut sub = Reader::default();
        let node = map.get(f.key);
        let value = match node {
            None | Some(Node::Null) => {
                if matches!(f.default, Default::Required) {
                    let example = f.example;
                    sub.err(
                        &declared(path, f.key),
                        format!("is required; expected a string like `{example}`"),
                    );
                    Value::Invalid
                } else {
                    Value::Absent
                }
            }
            Some(node) => read(&mut sub, f, node, &declared(path, f.key), ctx),
        };
        slots.push(Slot {
            key: f.key,
            ruled: sub.ruled,
            given: !matches!(node, None | Some(Node::Null)),
            value,
            problems: sub.problems.0,
            warnings: sub.warnings,
            taken: false,
        });
    }
    Fields {
        path: path.to_string(),
        map,
        section,
        slots,
        cursor: 0,
    }
}

impl<'a> Fields<'a> {
    /// Reports the keys the section does not declare, with its credential advice.
    pub fn open(&self, r: &mut Reader) {
        r.keys(
            self.map,
            &self.path,
            self.section,
            self.section.credential_hint,
        );
    }

    /// The value of `f`, its problems and warnings reported now.
    pub fn take(&mut self, r: &mut Reader, f: &Field) -> Value<'a> {
        let n = self.slots.len();
        let i = (0..n)
            .map(|k| (self.cursor + k) % n)
            .find(|&i| self.slots[i].key == f.key)
            .unwrap_or_else(|| panic!("`{}` is not a field of {}", f.key, self.path));
        self.cursor = i + 1;
        let slot = &mut self.slots[i];
        slot.taken = true;
        r.problems.0.append(&mut slot.problems);
        r.problems.0.append(&mut slot.ruled);
        r.warnings.append(&mut slot.warnings);
        std::mem::replace(&mut slot.value, Value::Absent)
    }

    /// Reports now the problems of `f`'s type and credential screening, leaving what its rule
    /// found, and its value, to `take`: the bucket's credential sources are typed first and
    /// checked once the bucket is known.
    pub fn types(&mut self, r: &mut Reader, f: &Field) {
        if let Some(slot) = self.slots.iter_mut().find(|s| s.key == f.key) {
            r.problems.0.append(&mut slot.problems);
        }
    }

    /// Whether `f` is given (not absent, not null).
    pub fn given(&self, f: &Field) -> bool {
        self.slots.iter().any(|s| s.key == f.key && s.given)
    }

    /// The fields given, in the table's order.
    pub fn given_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.section
            .fields()
            .zip(&self.slots)
            .filter(|(_, s)| s.given)
            .map(|(f, _)| f)
    }

    /// The value of a string field as read, without taking it (`None` when absent or wrong).
    pub fn peek_str(&self, f: &Field) -> Option<&str> {
        self.slots.iter().find_map(|s| match &s.value {
            Value::Str(v) if s.key == f.key => Some(v.as_str()),
            _ => None,
        })
    }

    /// The path of `f` in the input.
    pub fn at(&self, f: &Field) -> String {
        declared(&self.path, f.key)
    }

    /// Ends the section: a field that was given but not taken is reported with its problems, and
    /// recorded as untaken (debug builds fail on it: see `values::validate`).
    pub fn finish(self, r: &mut Reader) {
        for slot in self.slots {
            if slot.taken || !slot.given {
                continue;
            }
            r.problems.0.extend(slot.problems);
            r.problems.0.extend(slot.ruled);
            r.warnings.extend(slot.warnings);
            r.untaken.push(declared(&self.path, slot.key));
        }
    }

    /// Ends a section whose fields do not apply (`s3` with `enabled: false`, a bucket refused as
    /// a whole): their problems are dropped on purpose.
    pub fn discard(self) {}
}

/// The path of a declared field: its key is one of the table's (letters only, never a
/// credential), so `path::join`'s screening and quoting have nothing to do.
fn declared(parent: &str, key: &'static str) -> String {
    debug_assert!(join("", key) == key, "`{key}` is not a plain key");
    if parent.is_empty() {
        key.to_string()
    } else {
        let mut p = String::with_capacity(parent.len() + 1 + key.len());
        p.push_str(parent);
        p.push('.');
        p.push_str(key);
        p
    }
}

/// One field's value, as its row says.
fn read<'a>(r: &mut Reader, f: &'static Field, node: &'a Node, p: &str, ctx: Ctx) -> Value<'a> {
    match (f.ty, node) {
        (Type::Str, Node::Str(s)) => {
            if f.screen == Screen::Url && credential::url_carries_credential(s) {
                r.err(p, "carries a credential: a password or token in its user info, or a query or fragment (value hidden: looks like a credential); the URL is written into the WorkflowTemplate, so it must not hold one: give the runner a git credential through a Secret, or use an `ssh://` or `git@host:path` URL with a deploy key");
                return Value::Invalid;
            }
            if credential::looks_like_credential(s) {
                r.err(p, "is refused (value hidden: looks like a credential); credentials are only ever referenced: store them in Vault and set `externalSecretPath`");
                return Value::Invalid;
            }
            if let Err(e) = f.rule.check(s) {
                r.ruled.push(Problem::new(p, format!("{} {e}", show(s))));
                Value::Invalid
            } else {
                if let Some(w) = f.rule.warning(s) {
                    r.warn(p, format!("{} {w}", show(s)));
                }
                Value::Str(s.clone())
            }
        }
        (Type::Str, other) => {
            r.err(
                p,
                format!(
                    "expected a string, got {}{}",
                    show_node(other),
                    quoting_hint(f.key, other)
                ),
            );
            Value::Invalid
        }
        (Type::Bool, Node::Bool(b)) => Value::Bool(*b),
        (Type::Bool, other) => {
            r.err(
                p,
                format!("expected `true` or `false`, got {}", show_node(other)),
            );
            Value::Invalid
        }
        (Type::Int, Node::Int(i)) if *i >= 1 => Value::Int,
        (Type::Int, other) => {
            // The one integer field is the origin chart's `installationId`.
            r.err(
                p,
                format!(
                    "expected an integer of at least 1 (a GitHub App installation id), got {}",
                    show_node(other)
                ),
            );
            Value::Invalid
        }
        (Type::Version, node) => version(r, node, p),
        (Type::StrList, node) => string_list(r, f, node, p),
        (Type::Labels, node) => labels(r, node, p),
        (Type::StrMap, Node::Map(m)) => {
            let mut out = IndexMap::new();
            for (slot, v) in m {
                match v {
                    Node::Str(s) => {
                        out.insert(slot.clone(), s.clone());
                    }
                    other => r.err(
                        &join(p, slot),
                        format!(
                            "expected a string (a key name, not a value), got {}",
                            show_node(other)
                        ),
                    ),
                }
            }
            Value::Pairs(out)
        }
        (Type::Map(inner), Node::Map(m)) => Value::Section(Box::new(walk(inner, m, p, ctx))),
        (Type::MapOf(inner), Node::Map(m)) => {
            let mut out = Vec::new();
            for (name, node) in m {
                let np = join(p, name);
                let ok = r.rule(
                    &np,
                    name,
                    k8s::dns_label(name).map_err(|e| format!("{e}: the key is a tenant namespace")),
                );
                let entry = match node {
                    _ if !ok => None,
                    Node::Map(section) => Some(walk(inner, section, &np, ctx)),
                    other => {
                        r.err(&np, format!("expected a map, got {}", show_node(other)));
                        None
                    }
                };
                out.push((name.clone(), entry));
            }
            Value::Named(out)
        }
        (Type::List(_), _) => {
            // A list of sections is the top level's `repoRegistrations`, read by
            // `values::validate` item by item.
            unreachable!("a list of sections inside a section")
        }
        (Type::Argo(argo::FieldType::Object(fields)), Node::Map(m)) if f.shape == Shape::Block => {
            match argo_map(r, m, fields, p, ctx.version, f.key) {
                Some(spec) => Value::Json(Json::Object(spec)),
                None => Value::Invalid,
            }
        }
        (Type::Argo(_), other) if f.shape == Shape::Block => {
            r.err(
                p,
                format!(
                    "expected Argo's `{}` repository map, got {}",
                    f.key,
                    show_node(other)
                ),
            );
            Value::Invalid
        }
        (Type::Argo(ty), node) => {
            // Argo's S3 fields the seed's shape takes as they are: the version that has them is
            // rules::argo's (the row's `argo` where Argo's table does not have the field).
            let since = argo::lookup_any(argo::S3, f.key)
                .map(|a| a.since)
                .or(f.argo)
                .unwrap_or(argo::OLDEST);
            if since > ctx.version {
                let (k, version) = (f.key, ctx.version);
                r.err(p, format!("Argo has `{k}` from {since}, and the target is Argo {version}; set `artifactRepos.argoVersion: \"{since}\"` or remove `{k}` (Argo {version} would silently ignore it)"));
                return Value::Invalid;
            }
            let field = argo::Field {
                key: f.key,
                ty,
                since,
            };
            match argo_value(r, node, &field, p, ctx.version, "s3") {
                Some(v) => Value::Json(v),
                None => Value::Invalid,
            }
        }
        (Type::StrMap | Type::Map(_) | Type::MapOf(_), other) => {
            r.err(p, format!("expected a map, got {}", show_node(other)));
            Value::Invalid
        }
    }
}

fn version<'a>(r: &mut Reader, node: &Node, p: &str) -> Value<'a> {
    let text = match node {
        Node::Str(s) => s.clone(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => {
            // YAML reads an unquoted `3.10` as the number 3.1: the text the user typed is gone.
            let read = f.to_string();
            r.warn(p, format!("YAML read an unquoted number here, `{read}` (it reads `{read}0` as {read} too); quote the version: `argoVersion: \"{read}\"`"));
            read
        }
        other => {
            r.err(
                p,
                format!(
                    "expected a version like `\"3.7\"`, got {}",
                    show_node(other)
                ),
            );
            return Value::Invalid;
        }
    };
    match ArgoVersion::parse(&text) {
        Ok(v) => Value::Version(v),
        Err(e) => {
            let quote = if matches!(node, Node::Float(_) | Node::Int(_)) {
                " (YAML read it as a number: quote it, `\"3.10\"`)"
            } else {
                ""
            };
            r.err(p, format!("{} {e}{quote}", show(&text)));
            Value::Invalid
        }
    }
}

fn string_list<'a>(r: &mut Reader, f: &Field, node: &Node, p: &str) -> Value<'a> {
    let Node::Seq(items) = node else {
        r.err(
            p,
            format!("expected a list of strings, got {}", show_node(node)),
        );
        return Value::Invalid;
    };
    let before = r.problems.len();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Node::Str(s)
                if credential::looks_like_credential(s)
                    || (i > 0
                        && !s.is_empty()
                        && !s.starts_with(['$', '-'])
                        && !s.starts_with("{{")
                        && items[i - 1]
                            .as_str()
                            .is_some_and(credential::is_credential_flag)) =>
            {
                r.err(&index(p, i), "this looks like an inline credential (value hidden: looks like a credential); it would be written into the generated objects: pass credentials through a Secret (an environment variable the runner reads)");
            }
            Node::Str(s) => {
                if r.rule(&index(p, i), s, f.rule.check(s)) {
                    out.push(s.clone());
                }
            }
            other => r.err(
                &index(p, i),
                format!("expected a string, got {}", show_node(other)),
            ),
        }
    }
    if r.problems.len() > before {
        Value::Invalid
    } else {
        Value::Strs(out)
    }
}

/// Labels written on every generated object: valid keys and values, none under the tool's own
/// prefixes, nothing that names or holds a credential.
fn labels<'a>(r: &mut Reader, node: &Node, p: &str) -> Value<'a> {
    let Node::Map(m) = node else {
        r.err(p, format!("expected a map, got {}", show_node(node)));
        return Value::Invalid;
    };
    let before = r.problems.len();
    let mut out = IndexMap::new();
    for (k, v) in m {
        let lp = join(p, k);
        if credential::looks_like_credential(k) || credential::is_credential_key(k) {
            r.err(&lp, "a label key that names or holds a credential is refused (value hidden: looks like a credential); labels are written on every generated object");
            continue;
        }
        if let Node::Str(s) = v
            && credential::looks_like_credential(s)
        {
            r.err(&lp, "this label value looks like a credential (value hidden: looks like a credential); labels are written on every generated object");
            continue;
        }
        r.rule(&lp, k, k8s::label_key(k));
        if k8s::labels::RESERVED_PREFIXES
            .iter()
            .any(|p| k.starts_with(p))
        {
            r.err(&lp, format!("{} is set by the tool itself; choose a key outside `app.kubernetes.io/` and `artifact-repos/`", show(k)));
        }
        match v {
            Node::Str(s) => {
                r.rule(&lp, s, k8s::label_value(s));
                out.insert(k.clone(), s.clone());
            }
            other => r.err(
                &lp,
                format!("expected a string label value, got {}", show_node(other)),
            ),
        }
    }
    if r.problems.len() > before {
        Value::Invalid
    } else {
        Value::Pairs(out)
    }
}

/// One of Argo's repository maps, checked field by field against rules::argo's table for the
/// target version, as JSON. Strings under a Secret reference, and strings that look like a
/// credential, are never echoed.
pub(crate) fn argo_map(
    r: &mut Reader,
    map: &Map,
    fields: &'static [argo::Field],
    path: &str,
    version: ArgoVersion,
    backend: &str,
) -> Option<JsonMap> {
    let before = r.problems.len();
    let mut out = JsonMap::new();
    for (k, node) in map {
        let p = join(path, k);
        if matches!(node, Node::Null) {
            continue;
        }
        let Some(f) = argo::lookup(fields, k, version) else {
            if let Some(f) = argo::lookup_any(fields, k) {
                r.err(&p, format!("Argo has `{k}` from {}, and the target is Argo {version}; set `artifactRepos.argoVersion: \"{}\"` or remove `{k}` (Argo {version} would silently ignore it)", f.since, f.since));
            } else if credential::is_credential_key(k) && matches!(node, Node::Str(_)) {
                r.err(&p, "inline credentials are refused (the value is not shown); reference a Secret as Argo does, `{name, key}`, or use `externalSecretPath` / `existingSecret`");
            } else {
                let known: Vec<&str> = fields
                    .iter()
                    .filter(|f| f.since <= version)
                    .map(|f| f.key)
                    .collect();
                let hint = match did_you_mean(k, &known) {
                    Some(d) => format!("did you mean `{d}`?"),
                    None => format!(
                        "Argo {version} has {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                r.err(
                    &p,
                    format!(
                        "unknown key `{}` (Argo ignores keys it does not know); {hint}",
                        k.escape_debug()
                    ),
                );
            }
            continue;
        };
        if let Some(v) = argo_value(r, node, f, &p, version, backend) {
            out.insert(k.clone(), v);
        }
    }
    (r.problems.len() == before).then_some(out)
}

/// The rule of a string field of Argo's repositories, by backend: what Argo (and the store behind
/// it) can use.
fn argo_rule(backend: &str, key: &str, s: &str) -> Result<(), String> {
    match (backend, key) {
        ("s3", "endpoint") => formats::endpoint(s),
        ("s3", "bucket") => formats::s3_bucket(s),
        ("s3", "region") => formats::region(s),
        ("s3", "roleARN") => formats::role_arn(s),
        (_, "keyFormat" | "keyPrefix" | "blobNameFormat") => formats::key_layout(s),
        (_, "bucket" | "container" | "endpoint" | "repoURL") if s.is_empty() => {
            Err("is empty".to_string())
        }
        _ => Ok(()),
    }
}

fn argo_value(
    r: &mut Reader,
    node: &Node,
    f: &argo::Field,
    p: &str,
    version: ArgoVersion,
    backend: &str,
) -> Option<Json> {
    use argo::FieldType as T;
    let wrong = |r: &mut Reader, want: &str| {
        let got = match node {
            Node::Str(_) if matches!(f.ty, T::Secret) => "a string (the value is not shown: a Secret reference names a Secret and a key, it never holds the credential)".to_string(),
            _ => show_node(node),
        };
        r.err(p, format!("expected {want}, got {got}"));
        None
    };
    match (f.ty, node) {
        (T::Bool, Node::Bool(b)) => Some(Json::Bool(*b)),
        (T::Int, Node::Int(i)) if *i >= 0 => Some(Json::from(*i)),
        (T::Str, Node::Str(s)) => {
            if credential::looks_like_credential(s)
                || (backend == "oss" && f.key == "securityToken")
            {
                r.err(p, "this is an inline credential (the value is not shown); Argo reads it from the ConfigMap in plain text: use `useSDKCreds: true` or Secret references instead");
                return None;
            }
            r.rule(p, s, argo_rule(backend, f.key, s))
                .then(|| Json::from(s.clone()))
        }
        (T::Enum(values), Node::Str(s)) if values.contains(&s.as_str()) => {
            Some(Json::from(s.clone()))
        }
        (T::Enum(_), Node::Str(s)) => {
            r.err(p, format!("{} is not {}", show(s), f.ty.describe()));
            None
        }
        (T::Secret, Node::Map(m)) => {
            let spec = argo_map(r, m, argo::SECRET_KEY_SELECTOR, p, version, backend)?;
            let mut ok = true;
            for k in ["name", "key"] {
                if spec.get(k).and_then(Json::as_str).is_none_or(str::is_empty) {
                    r.err(&join(p, k), format!("is required: a Secret reference names a Secret and one of its keys, `{{name: my-secret, key: {}}}`", if k == "key" { "accessKey" } else { "..." }));
                    ok = false;
                }
            }
            if let Some(n) = spec
                .get("name")
                .and_then(Json::as_str)
                .filter(|n| !n.is_empty())
            {
                ok &= r.rule(
                    &join(p, "name"),
                    n,
                    k8s::dns_label(n).map_err(|e| {
                        format!("{e}: Argo mounts the Secret as a pod volume named after it")
                    }),
                );
            }
            if let Some(k) = spec
                .get("key")
                .and_then(Json::as_str)
                .filter(|k| !k.is_empty())
            {
                ok &= r.rule(&join(p, "key"), k, k8s::data_key(k));
            }
            ok.then_some(Json::Object(spec))
        }
        (T::Object(inner), Node::Map(m)) => {
            argo_map(r, m, inner, p, version, backend).map(Json::Object)
        }
        (T::Bool, _) => wrong(r, "`true` or `false`"),
        (T::Int, _) => wrong(r, "a non-negative integer"),
        (T::Str | T::Enum(_), _) => wrong(r, "a string"),
        (T::Secret, _) => wrong(r, "a Secret reference `{name, key}`"),
        (T::Object(_) | T::Opaque, _) => wrong(r, "a map"),
    }
}
