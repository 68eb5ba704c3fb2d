//! The Helm post-renderer: finds the values carrier in the stream Helm hands over, generates the
//! objects `render` would generate from the carrier's values, removes the carrier and merges the
//! generated documents into the stream. Pure: bytes in, bytes out.
//!
//! Documents we do not own are never parsed into a tree and written back: `stream` cuts the input
//! at document markers and every piece that is not the carrier is copied byte for byte. Only the
//! carrier, and input documents whose kind is one we generate (to detect identity collisions), are
//! parsed, and only to read them. A stream without the carrier's apiVersion bytes is returned as is
//! without even being split, so the common pass-through costs about as much as a copy.
//!
//! Where the generated documents go: Helm 3 applies a post-renderer's output in stream order and
//! does not re-sort it, and its input is already in Helm's install order. Appending at the end (or
//! at the carrier, which Helm sorts among unknown kinds, i.e. near the end) would create tenant
//! Namespaces after everything else of an umbrella chart. So each generated document is merged in
//! where Helm's install order puts it: right before the first input document whose kind Helm
//! installs later. Input documents keep their relative order, generated ones keep `render`'s order.
//! Helm 4 re-sorts the output itself; the same rule keeps the output deterministic there.
//!
//! Labels for Helm: under Helm 3 (the carrier has a `# Source:` line) every generated document gets
//! a `# Source:` line naming the carrier's template, so `helm template --show-only` finds them;
//! under Helm 4 (the carrier has the `postrenderer.helm.sh/postrender-filename` annotation) every
//! generated object carries the carrier's annotation, which Helm uses to regroup and then strips.

use crate::yaml::stream::{Piece, split};
use crate::error::{Problem, Problems};
use crate::render::{Options, Release};
use crate::rules::identity::{Document, Identity};
use crate::yaml::Node;
use memchr::memmem;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// The carrier's apiVersion: a group no cluster serves, so a carrier that reaches a cluster without
/// the post-renderer fails the install instead of being applied.
pub const CARRIER_API_VERSION: &str = "artifact-repos/v1";
/// The carrier's kind.
pub const CARRIER_KIND: &str = "ValuesCarrier";
/// The annotation Helm 4 puts on every document it hands a post-renderer.
pub const HELM4_FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// Where a kind sorts in Helm's install order (the order `render` emits in).
fn rank(kind: &[u8]) -> (usize, &str) {
    // Kind names are ASCII; anything else sorts with the unknown kinds.
    crate::render::order::kind_rank(std::str::from_utf8(kind).unwrap_or("\u{10ffff}"))
}

/// What `post_render` produced: the whole output stream, and warnings for the user.
#[derive(Debug, Clone, Default)]
pub struct Output<'a> {
    /// The output stream in consecutive parts: slices of the input (the whole input when there
    /// was nothing to do) and generated documents. Nothing is copied that need not be.
    pub parts: Vec<Cow<'a, [u8]>>,
    pub warnings: Vec<Problem>,
    /// How many documents were generated (0 when no carrier was found).
    pub generated: usize,
    /// The carried values ask for strict mode (`artifactRepos.strict: true`): the caller turns
    /// `warnings` into errors.
    pub strict: bool,
}

impl Output<'_> {
    /// The whole output as one buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.parts.concat()
    }
}

/// Which Helm handed us the stream, read off the carrier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Dialect {
    /// Helm 3: the carrier's `# Source:` path.
    source: Option<String>,
    /// Helm 4: the carrier's filename annotation.
    filename: Option<String>,
}

/// A short name for a piece in messages: its template file when Helm said, else its position.
/// Template paths come from the stream: escaped like every value echoed from input (#11).
fn describe_piece(index: usize, piece: &Piece) -> String {
    use crate::error::escape;
    if let Some(s) = piece.source() {
        format!("`{}`", escape(s))
    } else if let Some(f) = piece.keyed_line(HELM4_FILENAME_ANNOTATION) {
        format!("`{}`", escape(f))
    } else {
        format!("document {}", index + 1)
    }
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> Problems {
    Problems(vec![Problem::new(path, message)])
}

/// Parses one piece as a single YAML document; `None` when it is not one (empty, or not YAML).
/// The carrier carries values: it is held to the values files' size limit (#11).
fn parse_piece(piece: &Piece) -> Result<Option<Node>, Problems> {
    let mut docs =
        crate::yaml::parse_documents("carrier", piece.bytes, crate::yaml::MAX_VALUES_BYTES)?;
    Ok(if docs.len() == 1 { docs.pop() } else { None })
}

fn is_carrier_node(node: &Node) -> bool {
    node.get("apiVersion").and_then(Node::as_str) == Some(CARRIER_API_VERSION)
        && node.get("kind").and_then(Node::as_str) == Some(CARRIER_KIND)
}

/// Finds the carrier among the pieces that contain its apiVersion's bytes.
fn find_carrier(input: &[u8], pieces: &[Piece]) -> Result<Option<(usize, Node)>, Problems> {
    let mut candidates: Vec<usize> = memmem::find_iter(input, CARRIER_API_VERSION.as_bytes())
        .map(|at| pieces.partition_point(|p| p.offset + p.bytes.len() <= at))
        .collect();
    candidates.dedup();
    let mut found: Vec<(usize, Node)> = Vec::new();
    for i in candidates {
        let piece = &pieces[i];
        let looks_like = piece.top_level_scalar("apiVersion")
            == Some(CARRIER_API_VERSION.as_bytes())
            && piece.top_level_scalar("kind") == Some(CARRIER_KIND.as_bytes());
        match parse_piece(piece) {
            Ok(Some(node)) if is_carrier_node(&node) => found.push((i, node)),
            Ok(_) if looks_like => {
                return Err(problem(
                    format!("carrier {}", describe_piece(i, piece)),
                    format!(
                        "the document looks like the values carrier (`kind: {CARRIER_KIND}`) but is not one YAML mapping; render the chart's carrier template unchanged"
                    ),
                ));
            }
            Err(e) if looks_like => {
                let detail = e.0.first().map(|p| p.message.clone()).unwrap_or_default();
                return Err(problem(
                    format!("carrier {}", describe_piece(i, piece)),
                    detail,
                ));
            }
            // Mentions our apiVersion without being the carrier (a CRD description, a comment).
            _ => {}
        }
    }
    match found.len() {
        0 | 1 => Ok(found.pop()),
        n => {
            let names: Vec<String> = found
                .iter()
                .map(|(i, _)| describe_piece(*i, &pieces[*i]))
                .collect();
            Err(problem(
                "",
                format!(
                    "found {n} values carriers (`kind: {CARRIER_KIND}`): {}; render the carrier template exactly once per release",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Reads release and values out of the carrier, taking the values out of it rather than copying
/// them (a 100,000-registration carrier's values are hundreds of MB as a tree, #11).
pub(crate) fn read_carrier(mut node: Node, at: &str) -> Result<(Release, Node), Problems> {
    let mut problems = Problems::default();
    let release = node.get("release");
    let name = match release.and_then(|r| r.get("name")) {
        Some(Node::Str(s)) if !s.is_empty() => s.clone(),
        other => {
            problems.push(
                format!("{at}: release.name"),
                format!(
                    "the release name must be a non-empty string, got {}; the carrier template sets it from `.Release.Name`",
                    other.map_or("nothing", Node::type_name)
                ),
            );
            String::new()
        }
    };
    let namespace = match release.and_then(|r| r.get("namespace")) {
        Some(Node::Str(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Node::Null) => None,
        Some(Node::Str(_)) => None,
        Some(other) => {
            problems.push(
                format!("{at}: release.namespace"),
                format!(
                    "the release namespace must be a string, got {}; the carrier template sets it from `.Release.Namespace`",
                    other.type_name()
                ),
            );
            None
        }
    };
    let values = match node {
        Node::Map(ref mut m) => m.shift_remove("values"),
        _ => None,
    };
    let values = match values {
        Some(v @ Node::Map(_)) => v,
        None | Some(Node::Null) => Node::Map(Default::default()),
        Some(ref other) => {
            problems.push(
                format!("{at}: values"),
                format!(
                    "the carried values must be a map, got {}; the carrier template renders them with `toJson`",
                    other.type_name()
                ),
            );
            Node::Null
        }
    };
    problems.into_result()?;
    Ok((Release { name, namespace }, values))
}

/// One generated document, ready to emit.
struct Generated {
    identity: Identity,
    /// `---\n`, the optional `# Source:` line, then the YAML.
    bytes: Vec<u8>,
    /// Where the document's content starts in `bytes` (after the `---` line).
    content_at: usize,
    /// An identical document is already in the input: do not emit it again.
    present: bool,
}

/// The group of an apiVersion: `rbac.authorization.k8s.io/v1` -> `rbac.authorization.k8s.io`.
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Whether `bytes` holds a YAML tag indicator: a `!` that starts a token (`!!binary`, `!local`,
/// `!<tag:...>`). A tag can hide a kind or a name from a text search (`!!binary` base64), so such a
/// document is read before it is ruled out.
fn has_tag(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'!', bytes).any(|i| {
        i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b'-' | b':'
            )
    })
}

/// The maximal runs of name characters (`[A-Za-z0-9._-]`) in `bytes`: every Kubernetes name in a
/// document is one of them, or is spelled with escapes or tags (which `has_tag` and a backslash
/// catch). One pass per document, however many names are generated.
fn tokens(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')))
        .filter(|t| !t.is_empty())
}

/// Standard base64 (what go-yaml decodes a `!!binary` scalar with), whitespace ignored; `None`
/// when the text is not base64 or not UTF-8.
fn base64_text(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// The objects Kubernetes makes of one document: the document itself, or, when it has an `items`
/// list (the unstructured decoder treats any such document as a list, whatever its kind), each
/// item, with the list's apiVersion and its kind minus `List` where the item has none.
fn objects_of(node: &Node, out: &mut Vec<Node>) {
    let Some(items) = list_items(node) else {
        out.push(node.clone());
        return;
    };
    let api_version = node.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let kind = node.get("kind").and_then(Node::as_str).unwrap_or("");
    for item in items {
        let mut item = item.clone();
        if let Node::Map(m) = &mut item {
            let empty = |v: Option<&Node>| v.and_then(Node::as_str).is_none_or(str::is_empty);
            if empty(m.get("apiVersion")) && !api_version.is_empty() {
                m.insert("apiVersion".into(), Node::Str(api_version.into()));
            }
            if empty(m.get("kind"))
                && let Some(k) = kind.strip_suffix("List")
            {
                m.insert("kind".into(), Node::Str(k.into()));
            }
        }
        objects_of(&item, out);
    }
}

/// The `items` of a document Kubernetes decodes as a list: Go's JSON decoding matches the field
/// name without regard to case.
fn list_items(node: &Node) -> Option<&Vec<Node>> {
    let items = node
        .as_map()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("items"))?
        .1;
    match items {
        Node::Seq(items) => Some(items),
        _ => None,
    }
}

/// The identities an object may have once applied: as written, and, for a document with a
/// `!!binary` tag, with each identity field base64-decoded as go-yaml would (which field was
/// tagged cannot be seen after parsing, so every combination is tried).
fn identities_of(object: &Node, binary: bool, release_namespace: &str) -> Vec<Identity> {
    let text = |path: &[&str]| -> Vec<String> {
        let raw = crate::ci::manifests::get_path(object, path)
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let mut v = vec![raw.clone()];
        if binary && let Some(d) = base64_text(&raw).filter(|d| *d != raw) {
            v.push(d);
        }
        v
    };
    let mut out = Vec::new();
    for api_version in text(&["apiVersion"]) {
        for kind in text(&["kind"]) {
            for name in text(&["metadata", "name"]) {
                for namespace in text(&["metadata", "namespace"]) {
                    let group = group_of(&api_version).to_string();
                    let namespace = if crate::ci::manifests::is_cluster_scoped(&group, &kind) {
                        // The API server ignores a namespace on a cluster-scoped object.
                        String::new()
                    } else if namespace.is_empty() {
                        // Helm puts a namespaced object without one in the release namespace.
                        release_namespace.to_string()
                    } else {
                        namespace
                    };
                    out.push(Identity {
                        group,
                        kind: kind.clone(),
                        namespace,
                        name: name.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Checks input documents against the generated identities, reading each document that could
/// claim one the way Kubernetes will (`yaml::parse_as_kubernetes`: duplicate keys, merge keys,
/// tags, escapes; `List` items; the release namespace for an omitted one). An identical document
/// marks the generated one as present; a different one is an error naming both; a document that
/// could claim one and cannot be read is refused (#11: it used to pass unchecked).
fn check_collisions(
    pieces: &[Piece],
    kinds: &[Option<&[u8]>],
    carrier: usize,
    generated: &mut [Generated],
    release_namespace: &str,
    carrier_label: &str,
) -> Result<(), Problems> {
    let mut by_identity: HashMap<&Identity, usize> = HashMap::new();
    for (i, g) in generated.iter().enumerate() {
        by_identity.entry(&g.identity).or_insert(i);
    }
    let generated_kinds: Vec<&str> = {
        let mut k: Vec<&str> = generated.iter().map(|g| g.identity.kind.as_str()).collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    // Parsing is what costs: only documents that mention a generated kind and a generated name,
    // or could hide them (escapes, tags), are read. Names are looked up per token, so the scan is
    // linear in the stream whatever the number of generated objects (#11: it was quadratic).
    let names: HashSet<&[u8]> = generated
        .iter()
        .map(|g| g.identity.name.as_bytes())
        .collect();
    let mut hits: Vec<(usize, usize)> = Vec::new();
    let mut problems = Problems::default();
    for (i, piece) in pieces.iter().enumerate() {
        if i == carrier || piece.is_blank() {
            continue;
        }
        let bytes = piece.bytes;
        let hidden = memchr::memchr(b'\\', bytes).is_some() || has_tag(bytes);
        let maybe_ours = hidden
            || kinds[i].is_some_and(|k| generated_kinds.iter().any(|g| g.as_bytes() == k))
            || generated_kinds
                .iter()
                .any(|g| memmem::find(bytes, g.as_bytes()).is_some());
        if !maybe_ours || !(hidden || tokens(bytes).any(|t| names.contains(t))) {
            continue;
        }
        let node = match crate::yaml::parse_as_kubernetes(&describe_piece(i, piece), bytes) {
            Ok(Some(node)) => node,
            Ok(None) => continue,
            Err(e) => {
                let detail = e.0.first().map(|p| p.message.clone()).unwrap_or_default();
                problems.push(
                    describe_piece(i, piece),
                    format!(
                        "{detail}; the document may define an object that artifact-repos generates from the values carrier {carrier_label}, and it cannot be checked: fix the document (Kubernetes cannot apply it either)"
                    ),
                );
                continue;
            }
        };
        let binary = memmem::find(bytes, b"binary").is_some() && has_tag(bytes);
        let mut objects = Vec::new();
        objects_of(&node, &mut objects);
        let single = list_items(&node).is_none();
        for (k, object) in objects.iter().enumerate() {
            let Some(g) = identities_of(object, binary, release_namespace)
                .iter()
                .find_map(|id| by_identity.get(id).copied())
            else {
                continue;
            };
            let ours = &generated[g].bytes[generated[g].content_at..];
            if single && piece.content() == ours {
                hits.push((i, g));
                continue;
            }
            let place = if single {
                describe_piece(i, piece)
            } else {
                format!("{} items[{k}]", describe_piece(i, piece))
            };
            problems.push(
                place,
                format!(
                    "{} is also generated by artifact-repos from the values carrier {carrier_label}, with different content; remove or rename one of them",
                    generated[g].identity
                ),
            );
        }
    }
    problems.into_result()?;
    for (_, g) in hits {
        generated[g].present = true;
    }
    Ok(())
}

/// Runs the post-renderer over one stream.
pub fn post_render(input: &[u8]) -> Result<Output<'_>, Problems> {
    post_render_with(input, crate::render::render_docs)
}

/// `post_render` with the generator passed in, so the stream handling can be tested on its own.
pub fn post_render_with(
    input: &[u8],
    render: impl Fn(&Node, &Options) -> Result<(Vec<Document>, Vec<Problem>), Problems>,
) -> Result<Output<'_>, Problems> {
    // Fast path: no carrier's apiVersion anywhere, nothing to do.
    if memmem::find(input, CARRIER_API_VERSION.as_bytes()).is_none() {
        return Ok(Output {
            parts: vec![Cow::Borrowed(input)],
            ..Default::default()
        });
    }
    let pieces = split(input);
    let Some((carrier, node)) = find_carrier(input, &pieces)? else {
        return Ok(Output {
            parts: vec![Cow::Borrowed(input)],
            ..Default::default()
        });
    };
    let carrier_piece = &pieces[carrier];
    let carrier_label = describe_piece(carrier, carrier_piece);
    let dialect = Dialect {
        source: carrier_piece.source().map(str::to_string),
        filename: node
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(HELM4_FILENAME_ANNOTATION))
            .and_then(Node::as_str)
            .map(str::to_string),
    };
    let (release, values) = read_carrier(node, &format!("carrier {carrier_label}"))?;
    let release_namespace = release.namespace.clone().unwrap_or_default();
    let options = Options {
        release,
        // Helm labels what it installs `managed-by: Helm` whatever the manifest says.
        managed_by: crate::render::ManagedBy::Helm,
        extra_annotations: dialect
            .filename
            .iter()
            .map(|f| (HELM4_FILENAME_ANNOTATION.to_string(), f.clone()))
            .collect(),
    };
    // RepoRegistration objects in the stream are registrations too; their documents pass through
    // untouched (a cluster with the CRD stores them).
    let mut values = values;
    let mut problems = Problems::default();
    let mut entries = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i == carrier
            || piece.top_level_scalar("kind") != Some(crate::values::reporeg::KIND.as_bytes())
        {
            continue;
        }
        let source = describe_piece(i, piece);
        let source = source.trim_matches('`');
        let mut docs = crate::yaml::parse_documents(source, piece.bytes, usize::MAX)?;
        if docs.len() == 1
            && let Some(node) = docs.pop()
            && crate::values::reporeg::is_repo_registration(&node)
            && let Some(e) = crate::values::reporeg::to_entry(source, &node, &mut problems)
        {
            entries.push(e);
        }
    }
    problems.into_result()?;
    let origins = crate::values::reporeg::append(&mut values, entries);
    let (docs, render_warnings) = render(&values, &options).map_err(|p| origins.relabel(p))?;
    let strict = crate::values::strict(&values);
    // Memory (#11): the values tree is dropped once rendered and each document's text is moved,
    // not copied, so the peak is the generated text, not the text plus the trees behind it.
    drop(values);
    let render_warnings = origins.relabel_warnings(render_warnings);

    let mut generated: Vec<Generated> = docs
        .into_iter()
        .map(|o| {
            let mut bytes = b"---\n".to_vec();
            if let Some(s) = &dialect.source {
                bytes.extend_from_slice(format!("# Source: {s}\n").as_bytes());
            }
            // Helm 3 keeps the `# Source:` line as part of the document: compare it too.
            let content_at = 4;
            bytes.extend_from_slice(o.yaml.as_bytes());
            Generated {
                identity: o.identity,
                bytes,
                content_at,
                present: false,
            }
        })
        .collect();

    let kinds: Vec<Option<&[u8]>> = pieces
        .iter()
        .map(|p| p.top_level_scalar("kind").filter(|k| !k.is_empty()))
        .collect();
    check_collisions(
        &pieces,
        &kinds,
        carrier,
        &mut generated,
        &release_namespace,
        &carrier_label,
    )?;

    let mut warnings = render_warnings;
    let others = pieces
        .iter()
        .enumerate()
        .any(|(i, p)| i != carrier && !p.is_blank());
    if generated.is_empty() && !others {
        // An empty stream is Helm 3's way to delete every object of the release on `upgrade` (a
        // forgotten `-f` would do that silently); Helm 4 refuses it with no reason given.
        return Err(problem(
            "",
            format!(
                "the values carrier {carrier_label} generated no objects and the release holds nothing else, so the output would be empty: Helm 3 `upgrade` would delete every object of the release, Helm 4 refuses it; `repoRegistrations` is empty and `s3.enabled` is not true (was the values file passed with -f?). To remove everything, use `helm uninstall`"
            ),
        ));
    }
    if generated.is_empty() {
        warnings.push(Problem::new(
            "",
            format!(
                "the values carrier {carrier_label} generated no objects: `repoRegistrations` is empty and no default repository is enabled"
            ),
        ));
    }

    let mut out = Writer::new(input);
    let mut cursor = 0;
    for g in generated.iter_mut().filter(|g| !g.present) {
        let r = rank(g.identity.kind.as_bytes());
        while cursor < pieces.len()
            && (cursor == carrier || kinds[cursor].is_none_or(|k| rank(k) <= r))
        {
            out.input(&pieces, cursor, carrier);
            cursor += 1;
        }
        out.generated(std::mem::take(&mut g.bytes));
    }
    while cursor < pieces.len() {
        out.input(&pieces, cursor, carrier);
        cursor += 1;
    }
    Ok(Output {
        parts: out.finish(),
        warnings,
        generated: generated.len(),
        strict,
    })
}

/// What was written last, to know whether a document separator must be added.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    Input(usize),
    Generated,
}

/// Builds the output as parts: runs of consecutive input pieces stay one borrowed slice of the
/// input, so a 50 MB stream is never copied.
struct Writer<'a> {
    input: &'a [u8],
    parts: Vec<Cow<'a, [u8]>>,
    /// Input bytes `[start, end)` waiting to become one part.
    run: Option<(usize, usize)>,
    last: Last,
    /// The last byte written, if any.
    last_byte: Option<u8>,
    /// Only the stream's BOM has been written.
    only_bom: bool,
}

impl<'a> Writer<'a> {
    fn new(input: &'a [u8]) -> Self {
        Writer {
            input,
            parts: Vec::new(),
            run: None,
            last: Last::Nothing,
            last_byte: None,
            only_bom: false,
        }
    }

    fn flush_run(&mut self) {
        if let Some((start, end)) = self.run.take() {
            self.parts.push(Cow::Borrowed(&self.input[start..end]));
        }
    }

    fn owned(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.flush_run();
        self.last_byte = bytes.last().copied();
        self.only_bom = false;
        self.parts.push(Cow::Owned(bytes));
    }

    /// Copies input piece `i` unchanged (the carrier is dropped). A piece without its own `---`
    /// gets one when what precedes it in the output is not what preceded it in the input, so that
    /// it does not merge into the document before it.
    fn input(&mut self, pieces: &[Piece], i: usize, carrier: usize) {
        if i == carrier {
            return;
        }
        let piece = &pieces[i];
        let needs_marker = !piece.has_start_marker()
            && match self.last {
                Last::Nothing => false,
                Last::Generated => true,
                Last::Input(j) => j + 1 != i && !pieces[j].ends_with_end_marker(),
            };
        if needs_marker {
            let mut sep = self.newline();
            sep.extend_from_slice(b"---\n");
            self.owned(sep);
        }
        // Directives may only follow the stream's start or a `...` (YAML 1.2, 9.2): a piece
        // with directives that no longer follows what it followed in the input gets one.
        let needs_end = piece.has_directives()
            && match self.last {
                Last::Nothing => false,
                Last::Generated => true,
                Last::Input(j) => j + 1 != i && !pieces[j].ends_with_end_marker(),
            };
        if needs_end {
            let mut sep = self.newline();
            sep.extend_from_slice(b"...\n");
            self.owned(sep);
        }
        let (start, end) = (piece.offset, piece.offset + piece.bytes.len());
        match &mut self.run {
            Some((_, run_end)) if *run_end == start => *run_end = end,
            _ => {
                self.flush_run();
                self.run = Some((start, end));
            }
        }
        self.only_bom = self.last == Last::Nothing && piece.bytes == b"\xef\xbb\xbf";
        self.last_byte = piece.bytes.last().copied();
        self.last = Last::Input(i);
    }

    fn generated(&mut self, bytes: Vec<u8>) {
        let sep = self.newline();
        self.owned(sep);
        self.owned(bytes);
        self.last = Last::Generated;
    }

    /// A newline ending an unterminated last line (an input without a final newline), if needed
    /// before adding a document.
    fn newline(&self) -> Vec<u8> {
        match self.last_byte {
            Some(b) if b != b'\n' && !self.only_bom => b"\n".to_vec(),
            _ => Vec::new(),
        }
    }

    fn finish(mut self) -> Vec<Cow<'a, [u8]>> {
        self.flush_run();
        self.parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_order_ranks() {
        assert!(rank(b"Namespace") < rank(b"ServiceAccount"));
        assert!(rank(b"ConfigMap") < rank(b"Role"));
        assert!(rank(b"Deployment") < rank(b"ExternalSecret"));
        assert!(rank(b"ExternalSecret") < rank(b"ValuesCarrier"));
        assert!(rank(b"ValuesCarrier") < rank(b"WorkflowTemplate"));
    }

    #[test]
    fn no_carrier_is_identity() {
        for s in ["", "a: 1", "---\nkind: A\n", "\u{feff}x"] {
            assert_eq!(post_render(s.as_bytes()).unwrap().to_bytes(), s.as_bytes());
        }
        // The apiVersion mentioned without a carrier.
        let s = "---\nkind: ConfigMap\ndata:\n  x: artifact-repos/v1\n";
        assert_eq!(post_render(s.as_bytes()).unwrap().to_bytes(), s.as_bytes());
    }

    #[test]
    fn two_carriers_are_an_error() {
        let c = "---\n# Source: c/templates/carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: x\nrelease:\n  name: r\n  namespace: n\nvalues: {}\n";
        let s = format!("{c}{c}");
        let e = post_render(s.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("found 2 values carriers"), "{e}");
    }

    #[test]
    fn broken_carrier_is_an_error() {
        let s = "---\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nrelease: [\n";
        let e = post_render(s.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("carrier document 1"), "{e}");
        let s = "---\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nrelease: {name: 3}\nvalues: []\n";
        let e = post_render(s.as_bytes()).unwrap_err().to_string();
        assert!(
            e.contains("release.name: the release name must be a non-empty string, got a number"),
            "{e}"
        );
        assert!(
            e.contains("values: the carried values must be a map, got a list"),
            "{e}"
        );
    }

    use crate::render::Object;
    use crate::rules::identity::Document;
    use serde_json::json;

    /// Stands in for the generator: for each name in `values.tenants`, a Namespace, a ConfigMap
    /// and a WorkflowTemplate, in install order, with the extra annotations applied.
    fn fake(values: &Node, options: &Options) -> Result<(Vec<Document>, Vec<Problem>), Problems> {
        let mut ns = Vec::new();
        let mut cm = Vec::new();
        let mut wt = Vec::new();
        let annotations: serde_json::Map<String, serde_json::Value> = options
            .extra_annotations
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let Some(Node::Seq(tenants)) = values.get("tenants") else {
            return Err(problem("tenants", "expected a list"));
        };
        for t in tenants {
            let t = t.as_str().unwrap();
            let mut meta =
                json!({"name": t, "labels": {"app.kubernetes.io/instance": options.release.name}});
            if !annotations.is_empty() {
                meta["annotations"] = json!(annotations);
            }
            let id = |group: &str, kind: &str, namespace: &str, name: &str| Identity {
                group: group.into(),
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
            };
            ns.push(Object {
                identity: id("", "Namespace", "", t),
                value: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}),
            });
            let mut m = meta.clone();
            m["name"] = json!("artifact-repositories");
            m["namespace"] = json!(t);
            cm.push(Object {
                identity: id("", "ConfigMap", t, "artifact-repositories"),
                value: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": m, "data": {"k": "v"}}),
            });
            let mut m = meta.clone();
            m["name"] = json!("wt");
            m["namespace"] = json!(t);
            wt.push(Object {
                identity: id("argoproj.io", "WorkflowTemplate", t, "wt"),
                value: json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": m}),
            });
        }
        let docs = ns
            .into_iter()
            .chain(cm)
            .chain(wt)
            .map(|o: Object| Document {
                identity: o.identity,
                yaml: crate::yaml::value_to_yaml(&o.value),
            })
            .collect();
        Ok((docs, Vec::new()))
    }

    const H3_CARRIER: &str = "---\n# Source: c/templates/carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: rel-values\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {\"tenants\":[\"team-a\",\"team-b\"]}\n";
    const H4_CARRIER: &str = "---\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: rel-values\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'c/templates/carrier.yaml'\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {\"tenants\":[\"team-a\"]}\n";

    fn run(input: &str) -> Result<String, Problems> {
        post_render_with(input.as_bytes(), fake).map(|o| String::from_utf8(o.to_bytes()).unwrap())
    }

    /// Asserts that `pieces` occur in `out` in this order, each byte for byte.
    fn assert_in_order(out: &str, pieces: &[&str]) {
        let mut at = 0;
        for p in pieces {
            let found = out[at..]
                .find(p)
                .unwrap_or_else(|| panic!("missing or out of order: {p:?}\nin:\n{out}"));
            at += found + p.len();
        }
    }

    #[test]
    fn helm3_generated_documents_merge_in_install_order() {
        let sa = "---\n# Source: c/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s # kept\n";
        let cm = "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n";
        let dep = "---\n# Source: c/templates/dep.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n";
        let es = "---\n# Source: c/templates/es.yaml\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: e\n";
        let input = format!("{sa}{cm}{dep}{es}{H3_CARRIER}");
        let out = run(&input).unwrap();
        assert!(!out.contains("ValuesCarrier"));
        let src = "---\n# Source: c/templates/carrier.yaml\n";
        let ns_a = format!("{src}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n");
        let ns_b = format!("{src}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n");
        let cm_a = format!("{src}apiVersion: v1\nkind: ConfigMap\n");
        let wt = format!("{src}apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\n");
        assert!(out.starts_with(&ns_a), "{out}");
        assert_in_order(
            &out,
            &[&ns_a, &ns_b, sa, cm, &cm_a, &cm_a, dep, es, &wt, &wt],
        );
        assert_eq!(out.matches("# Source: c/templates/carrier.yaml").count(), 6);
        assert_eq!(out.matches("\n---\n").count() + 1, 10, "{out}");
    }

    #[test]
    fn helm4_first_document_without_marker_gets_one() {
        let first = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'c/templates/sa.yaml'\n";
        let hook = "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n    postrenderer.helm.sh/postrender-filename: 'c/templates/job.yaml'\n";
        let input = format!("{first}{H4_CARRIER}{hook}");
        let out = run(&input).unwrap();
        assert!(
            out.starts_with("---\napiVersion: v1\nkind: Namespace\n"),
            "{out}"
        );
        assert_in_order(
            &out,
            &[
                "---\napiVersion: v1\nkind: Namespace\n",
                &format!("---\n{first}"),
                hook,
            ],
        );
        assert_eq!(
            out.matches("postrenderer.helm.sh/postrender-filename: c/templates/carrier.yaml")
                .count(),
            3,
            "{out}"
        );
        assert!(!out.contains("# Source"));
    }

    #[test]
    fn missing_final_newline_and_end_marker() {
        let input = format!("{H3_CARRIER}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x");
        let out = run(&input).unwrap();
        assert!(
            out.contains(
                "  name: x\n---\n# Source: c/templates/carrier.yaml\napiVersion: argoproj.io"
            ),
            "{out}"
        );
        // A bare document after `...` that loses its predecessor gets a marker.
        let input = format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n{H3_CARRIER}...\nkind: Job\n"
        );
        let out = run(&input).unwrap();
        assert!(out.contains("  name: x\n---\nkind: Job\n"), "{out}");
    }

    #[test]
    fn carrier_first_does_not_hold_back_the_stream() {
        let sa = "---\nkind: ServiceAccount\n";
        let dep = "---\nkind: Deployment\n";
        let out = run(&format!("{H3_CARRIER}{sa}{dep}")).unwrap();
        assert_in_order(
            &out,
            &[
                "kind: Namespace",
                sa,
                "kind: ConfigMap",
                dep,
                "kind: WorkflowTemplate",
            ],
        );
    }

    #[test]
    fn running_twice_does_not_duplicate() {
        let input =
            format!("---\n# Source: c/templates/sa.yaml\nkind: ServiceAccount\n{H3_CARRIER}");
        let once = run(&input).unwrap();
        let again = run(&format!("{once}{H3_CARRIER}")).unwrap();
        assert_eq!(again, once);
        let again = run(&format!("{H3_CARRIER}{once}")).unwrap();
        assert_eq!(again, once);
    }

    #[test]
    fn collision_names_both() {
        let mine = "---\n# Source: c/templates/mine.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n  namespace: team-b\ndata: {}\n";
        let e = run(&format!("{mine}{H3_CARRIER}")).unwrap_err().to_string();
        assert!(
            e.contains("`c/templates/mine.yaml`: ConfigMap team-b/artifact-repositories is also generated by artifact-repos from the values carrier `c/templates/carrier.yaml`"),
            "{e}"
        );
        // Without a namespace the object lands in the release namespace: no collision with team-b.
        let elsewhere = mine.replace("  namespace: team-b\n", "");
        assert!(run(&format!("{elsewhere}{H3_CARRIER}")).is_ok());
        // A name spelled with escapes is found too.
        let escaped = mine.replace(
            "name: artifact-repositories",
            "name: \"artifact\\x2drepositories\"",
        );
        let e = run(&format!("{escaped}{H3_CARRIER}"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ConfigMap team-b/artifact-repositories is also generated"),
            "{e}"
        );
        // A JSON document is found too.
        let json = "---\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"team-a\"}}\n";
        let e = run(&format!("{json}{H3_CARRIER}")).unwrap_err().to_string();
        assert!(
            e.contains("document 1: Namespace team-a is also generated"),
            "{e}"
        );
    }

    #[test]
    fn generator_errors_pass_through() {
        let input = H3_CARRIER.replace(
            "values: {\"tenants\":[\"team-a\",\"team-b\"]}",
            "values: {}",
        );
        let e = run(&input).unwrap_err().to_string();
        assert_eq!(e, "1 problem found\n  tenants: expected a list");
    }
}
