//! Properties over random inputs (proptest; `PROPTEST_CASES` sets the number of cases, default 64,
//! so CI stays fast and a longer local run means more):
//! - the fast YAML emitter writes exactly serde_yaml's bytes whenever it accepts a tree;
//! - `render` is deterministic and independent of the order of registrations, and the CLI's direct
//!   path (`render_docs`, the YAML sink) writes the same bytes as the JSON-tree path;
//! - every rendered object passes structural validation: valid names and labels, ConfigMap keys and
//!   sizes, every repository value one Argo ArtifactRepository with known keys, every WorkflowTemplate
//!   ref resolvable the way Argo resolves it, every credential Secret produced or declared.
//! - post-render returns a random stream built from real fragments unchanged when it holds no
//!   carrier, and with a carrier keeps every other document byte for byte and adds only whole
//!   generated documents.

use crate::support::values_gen;

use values_gen::config;

use artifact_repos::render::{Options, Rendered, render, to_yaml_stream};
use artifact_repos::rules::argo;
use artifact_repos::rules::k8s as names;
use artifact_repos::yaml::Node;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// The fast emitter against serde_yaml.

/// Strings that stress YAML's scalar rules: indicators, quotes, numbers, null/bool words, document
/// markers, leading/trailing spaces, line breaks, non-ASCII, tabs.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9./:-]{0,12}",
        "[ -~]{0,12}",
        "[ -~\n]{0,20}",
        "[a-z \n]{1,20}\n",
        "[a-z: #'\"\\-\\[\\]{}]{0,10}",
        prop::sample::select(vec![
            "", "~", "null", "Null", "NULL", "true", "False", "TRUE", "yes", "no", "on", "0", "00",
            "012", "-012", "+12", "++1", "+-1", "1e3", "1.5", ".5", "-.inf", ".inf", ".NaN", "inf",
            "nan", "0x1F", "0x", "-0x1f", "0o17", "0b101", "+0x1", "1_000", "---", "...", "--- a",
            "- a", "-a", "? a", "?a", ":a", "a:", "a: b", "a #b", "a#b", "#a", "@a", "`a", "%a",
            "!a", "&a", "*a", "|", ">", "'a'", "\"a\"", " a", "a ", "a\n", "a\n\n", "\na",
            " a\nb\n", "a \nb\n", "a\n b\n", "{{x}}", "{{x}}/y", "x/{{y}}", "é", "a\tb", "a\r\nb",
        ])
        .prop_map(str::to_string),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fast_emitter_writes_serde_yaml_bytes(v in tree()) {
        if let Some(fast) = artifact_repos::yaml::emit::to_yaml(&v) {
            let slow = serde_yaml::to_string(&v).unwrap();
            prop_assert_eq!(fast, slow);
        }
    }
}

#[test]
fn fast_emitter_handles_every_generated_object() {
    // The fast path must not silently fall back for what the tool generates (that would only cost
    // speed, but the benchmark figures assume it).
    let values =
        artifact_repos::yaml::parse_values("seed", artifact_repos::values::EXAMPLE.as_bytes())
            .unwrap();
    let rendered = render(&values, &Options::default()).unwrap();
    for o in &rendered.objects {
        let fast = artifact_repos::yaml::emit::to_yaml(&o.value);
        assert!(fast.is_some(), "fast emitter fell back for {}", o.identity);
        assert_eq!(fast.unwrap(), serde_yaml::to_string(&o.value).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Render: deterministic, order-independent, valid.

fn shuffled(values: &Node, seed: u64) -> Node {
    let mut out = values.clone();
    if let Node::Map(m) = &mut out
        && let Some(Node::Seq(regs)) = m.get_mut("repoRegistrations")
    {
        let mut state = seed | 1;
        for i in (1..regs.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let j = (state >> 33) as usize % (i + 1);
            regs.swap(i, j);
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn render_is_deterministic_and_ignores_registration_order(v in values_gen::values(), seed in any::<u64>()) {
        let a = render(&v, &Options::default());
        let a = match a {
            Ok(r) => r,
            Err(p) => return Err(TestCaseError::fail(format!("generated values refused:\n{p}"))),
        };
        let text = to_yaml_stream(&a);
        prop_assert_eq!(&text, &to_yaml_stream(&render(&v, &Options::default()).unwrap()));
        let b = render(&shuffled(&v, seed), &Options::default()).unwrap();
        prop_assert_eq!(&text, &to_yaml_stream(&b));
        // The CLI's direct path (typed objects straight to YAML) writes the same bytes.
        let (docs, _) = artifact_repos::render::render_docs(&v, &Options::default()).unwrap();
        let direct: String = docs.iter().map(|d| format!("---\n{}", d.yaml)).collect();
        prop_assert_eq!(&text, &direct);
        // The JSON output is the same objects.
        let json = artifact_repos::render::to_json_list(&a.objects);
        // `-o json` writes the same bytes straight from the typed objects (no trees, #22).
        {
            use artifact_repos::pipeline;
            let sources = pipeline::Sources { values: pipeline::Values::Tree { name: "v".into(), values: v.clone() }, ..Default::default() };
            let options = pipeline::Options { form: pipeline::Form::JsonText, allow_empty: true, ..Default::default() };
            let g = pipeline::generate(sources, &options).map_err(|r| TestCaseError::fail(r.problems.to_string()))?;
            let pipeline::Objects::JsonText(texts) = g.objects else { panic!("JSON text asked for") };
            let streamed: String = artifact_repos::render::json_list_parts(&texts).concat();
            prop_assert_eq!(&streamed, &json);
        }
        let parsed: Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(parsed["items"].as_array().unwrap().len(), a.objects.len());
        check_objects(&a).map_err(TestCaseError::fail)?;
    }
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// Structural validation of a whole render; `Err` names the object and what is wrong.
pub fn check_objects(r: &Rendered) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    // namespace -> data keys of its artifact-repositories ConfigMap; namespace -> Secret names.
    let mut cm_keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut secrets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in &r.objects {
        let id = &o.identity;
        let v = &o.value;
        if !seen.insert(id.clone()) {
            return Err(format!("{id} rendered twice"));
        }
        let name = s(v, &["metadata", "name"]).ok_or(format!("{id}: no name"))?;
        if name != id.name || s(v, &["kind"]) != Some(id.kind.as_str()) {
            return Err(format!("{id}: identity does not match the object"));
        }
        let ns = s(v, &["metadata", "namespace"]).unwrap_or("");
        if ns != id.namespace {
            return Err(format!("{id}: namespace does not match"));
        }
        let name_ok = match id.kind.as_str() {
            "Namespace" => names::dns_label(name),
            "ExternalSecret" => names::dns_label(name),
            _ => names::dns_subdomain(name),
        };
        name_ok.map_err(|e| format!("{id}: name {e}"))?;
        if id.kind == "Namespace" {
            if !ns.is_empty() {
                return Err(format!("{id}: a Namespace has no namespace"));
            }
        } else {
            names::dns_label(ns).map_err(|e| format!("{id}: namespace {e}"))?;
        }
        for (k, lv) in v["metadata"]["labels"]
            .as_object()
            .ok_or(format!("{id}: no labels"))?
        {
            names::label_key(k).map_err(|e| format!("{id}: label {k} {e}"))?;
            names::label_value(lv.as_str().unwrap_or("?"))
                .map_err(|e| format!("{id}: label {k} {e}"))?;
        }
        match id.kind.as_str() {
            "ConfigMap" => {
                let data = v["data"].as_object().ok_or(format!("{id}: no data"))?;
                let mut size = 0;
                for (k, dv) in data {
                    names::data_key(k).map_err(|e| format!("{id}: key {k} {e}"))?;
                    let text = dv.as_str().ok_or(format!("{id}: {k} is not a string"))?;
                    size += text.len();
                    if k == "artifactRepositories" {
                        continue; // the seed's index, never read by Argo
                    }
                    let repo: Value = serde_yaml::from_str(text)
                        .map_err(|e| format!("{id}: {k} is not YAML: {e}"))?;
                    let repo = repo.as_object().ok_or(format!("{id}: {k} is not a map"))?;
                    for key in repo.keys() {
                        // Argo's own field table (rules::argo), the one render and check use.
                        if argo::lookup_any(argo::ARTIFACT_REPOSITORY, key).is_none() {
                            return Err(format!("{id}: {k} has key {key} Argo does not know"));
                        }
                    }
                    for key in repo["s3"]
                        .as_object()
                        .ok_or(format!("{id}: {k} no s3"))?
                        .keys()
                    {
                        if argo::lookup_any(argo::S3, key).is_none() {
                            return Err(format!("{id}: {k} has s3.{key} Argo does not know"));
                        }
                    }
                }
                if size > names::CONFIGMAP_LIMIT {
                    return Err(format!("{id}: {size} bytes of data"));
                }
                cm_keys
                    .entry(ns.to_string())
                    .or_default()
                    .extend(data.keys().cloned());
            }
            "ExternalSecret" => {
                let target = s(v, &["spec", "target", "name"]).ok_or(format!("{id}: no target"))?;
                names::dns_label(target).map_err(|e| format!("{id}: target {e}"))?;
                secrets
                    .entry(ns.to_string())
                    .or_default()
                    .insert(target.to_string());
                if s(v, &["apiVersion"]) != Some("external-secrets.io/v1") {
                    return Err(format!("{id}: not external-secrets.io/v1"));
                }
            }
            _ => {}
        }
    }
    // Every WorkflowTemplate's ref resolves: a key of the ConfigMap in its own namespace (Argo looks
    // there first) or, failing that, in the controller's; its Secrets exist there (or are the user's).
    for o in r
        .objects
        .iter()
        .filter(|o| o.identity.kind == "WorkflowTemplate")
    {
        let id = &o.identity;
        let Some(key) = s(&o.value, &["spec", "artifactRepositoryRef", "key"]) else {
            continue;
        };
        let in_ns = cm_keys.get(&id.namespace).is_some_and(|k| k.contains(key));
        let anywhere = cm_keys.values().any(|k| k.contains(key));
        if !in_ns && !anywhere {
            return Err(format!("{id}: ref key {key} is in no ConfigMap"));
        }
        if !in_ns {
            return Err(format!(
                "{id}: ref key {key} is not in its namespace's ConfigMap"
            ));
        }
    }
    for o in r.objects.iter().filter(|o| o.identity.kind == "ConfigMap") {
        let ns = &o.identity.namespace;
        for (k, text) in o.value["data"].as_object().unwrap() {
            if k == "artifactRepositories" {
                continue;
            }
            let repo: Value = serde_yaml::from_str(text.as_str().unwrap()).unwrap();
            if let Some(secret) = s(&repo, &["s3", "accessKeySecret", "name"]) {
                let produced = secrets.get(ns).is_some_and(|s| s.contains(secret));
                if !produced && secret != "my-s3-secret" && !is_controller_cm(r, ns) {
                    return Err(format!(
                        "ConfigMap {ns}: {k} names Secret {secret}, which nothing creates in {ns}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The central ConfigMap: it lives where no workflow runs, so its Secrets live in tenant namespaces.
fn is_controller_cm(r: &Rendered, ns: &str) -> bool {
    r.objects.iter().any(|o| {
        o.identity.kind == "Role"
            && o.identity.namespace == ns
            && o.identity.name == "artifact-repository-reader"
    }) || !r
        .objects
        .iter()
        .any(|o| o.identity.kind == "Namespace" && o.identity.name == ns)
        && !r
            .objects
            .iter()
            .any(|o| o.identity.kind == "ServiceAccount" && o.identity.namespace == ns)
}

// ---------------------------------------------------------------------------------------------
// post-render: random streams built from real fragments.

/// Document bodies of the kinds Helm hands over, each ending in a line break: block scalars holding
/// `---` and `...`, comments, anchors and aliases, flow style, CRLF lines, an empty document,
/// non-ASCII, and documents that mention the carrier's apiVersion without being the carrier (they
/// force the post-renderer off its no-carrier fast path).
const FRAGMENTS: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scripts\ndata:\n  run.sh: |\n    echo one\n    ---\n    echo two\n    ...\n    --- not a marker\n",
    "# Source: chart/templates/only-comments.yaml\n# nothing but comments\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: anchors\n  labels: &labels\n    app: x\n  annotations: *labels\ndata: {}\n",
    "{apiVersion: v1, kind: ServiceAccount, metadata: {name: flow, namespace: ns}}\n",
    "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf\r\ndata:\r\n  k: v\r\n",
    "",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mentions-carrier\ndata:\n  note: |\n    apiVersion: artifact-repos/v1\n    kind: ValuesCarrier\n",
    "# apiVersion: artifact-repos/v1\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: commented\n",
    "apiVersion: example.com/v1\nkind: ValuesCarrier\nmetadata:\n  name: not-ours\nspec:\n  apiVersion: artifact-repos/v1\n",
    "# Source: chart/templates/ns.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: unrelated-ns\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unicode\ndata:\n  s: \"h\u{e9}llo\\tw\u{f6}rld \u{1f600}\"\n  folded: >\n    long\n    text\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: 'x:1', args: [\"--a=b\", '--- c']}]\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: in-list}\n",
];

const SEPARATORS: &[&str] = &["---\n", "--- \n", "---\r\n", "--- # doc\n", "---\t\n"];

/// The Helm 3 values carrier with the seed's values.
fn carrier() -> String {
    let values =
        artifact_repos::yaml::parse_values("seed", artifact_repos::values::EXAMPLE.as_bytes())
            .unwrap();
    format!(
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n  name: \"rel\"\n  namespace: \"argo\"\nvalues: {}\n",
        serde_json::to_string(&values).unwrap()
    )
}

/// A stream: optional BOM, then documents, each a separator (the first may have none), a fragment,
/// and sometimes a `...` end marker; the last may lack its final line break.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(
            (
                prop::sample::select(FRAGMENTS),
                prop::sample::select(SEPARATORS),
                prop::bool::weighted(0.15),
            ),
            0..12,
        ),
        any::<bool>(),
    )
        .prop_map(|(bom, bare_first, docs, cut_last)| {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(b"\xef\xbb\xbf");
            }
            let n = docs.len();
            for (i, (body, sep, end)) in docs.into_iter().enumerate() {
                if !(i == 0 && bare_first) {
                    out.extend_from_slice(sep.as_bytes());
                }
                let mut body = body.as_bytes();
                if i + 1 == n && cut_last && !body.is_empty() && !end {
                    body = body.strip_suffix(b"\n").unwrap_or(body);
                }
                out.extend_from_slice(body);
                if end {
                    out.extend_from_slice(b"...\n");
                }
            }
            out
        })
}

/// Separators that carry what belongs to the document they start (#11 class 5): directives and a
/// BOM. A directive is valid only at the stream's start or after `...`; streams where it is not do
/// not parse, and the property below only asks the output to parse where the input does.
const PREFIXED_SEPARATORS: &[&str] = &[
    "---\n",
    "%YAML 1.2\n---\n",
    "%TAG !e! tag:example.com,2024:\n---\n",
    "%YAML 1.1\n# between\n---\n",
    "\u{feff}---\n",
];

/// Like `stream()`, with directives and BOMs before some separators and a `...` before most.
fn prefixed_stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            prop::sample::select(FRAGMENTS),
            prop::sample::select(PREFIXED_SEPARATORS),
            prop::bool::weighted(0.7),
        ),
        1..10,
    )
    .prop_map(|docs| {
        let mut out = Vec::new();
        for (body, sep, end) in docs {
            out.extend_from_slice(sep.as_bytes());
            out.extend_from_slice(body.as_bytes());
            if end {
                out.extend_from_slice(b"...\n");
            }
        }
        out
    })
}

/// Whether every document of `bytes` parses (serde_yaml, i.e. libyaml, like Helm's go-yaml).
fn parses(bytes: &[u8]) -> bool {
    use serde::Deserialize;
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    serde_yaml::Deserializer::from_str(text).all(|d| serde_yaml::Value::deserialize(d).is_ok())
}

proptest! {
    #![proptest_config(config())]

    /// #11 class 5: generated documents never separate a directive (or a BOM) from its document,
    /// so the output parses wherever the input did, and input documents stay byte for byte.
    #[test]
    fn post_render_output_parses_where_its_input_does(
        input in prefixed_stream(),
        at in any::<prop::sample::Index>(),
    ) {
        let carrier = carrier();
        let mut cuts: Vec<usize> = (0..=input.len())
            .filter(|&i| i == 0 || (input[i - 1] == b'\n' && input[..i].ends_with(b"...\n")))
            .collect();
        cuts.dedup();
        let cut = cuts[at.index(cuts.len())];
        let mut with = input[..cut].to_vec();
        with.extend_from_slice(carrier.as_bytes());
        with.extend_from_slice(b"...\n");
        with.extend_from_slice(&input[cut..]);
        let out = artifact_repos::deploy::postrender::post_render(&with, false)
            .map_err(|p| TestCaseError::fail(format!("refused: {p}")))?;
        prop_assert!(out.generated > 0);
        let bytes = out.to_bytes();
        if parses(&with) {
            prop_assert!(
                parses(&bytes),
                "the output does not parse:\n{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let kept: Vec<u8> = out
            .parts
            .iter()
            .filter(|p| matches!(p, std::borrow::Cow::Borrowed(_)))
            .flat_map(|p| p.iter().copied())
            .collect();
        // The carrier's own `...` goes with it.
        prop_assert!(kept == input, "input documents changed:\n{}", String::from_utf8_lossy(&kept));
    }

    #[test]
    fn post_render_without_carrier_returns_the_stream_unchanged(input in stream()) {
        let out = artifact_repos::deploy::postrender::post_render(&input, false)
            .map_err(|p| TestCaseError::fail(format!("refused: {p}")))?;
        prop_assert_eq!(out.generated, 0);
        prop_assert!(out.to_bytes() == input, "output differs from input");
    }

    #[test]
    fn post_render_with_carrier_keeps_every_other_document_byte_for_byte(
        input in stream(),
        at in any::<prop::sample::Index>(),
    ) {
        let carrier = carrier();
        // Insert the carrier at a line start where a document may begin: before a separator, or at
        // the end of a stream that ends in a line break.
        let mut cuts: Vec<usize> = (0..input.len())
            .filter(|&i| {
                (i == 0 || input[i - 1] == b'\n')
                    && SEPARATORS.iter().any(|sep| input[i..].starts_with(sep.as_bytes()))
            })
            .collect();
        if input.is_empty() || input.ends_with(b"\n") {
            cuts.push(input.len());
        }
        cuts.sort_unstable();
        cuts.dedup();
        prop_assume!(!cuts.is_empty());
        let cut = cuts[at.index(cuts.len())];
        let mut with = input[..cut].to_vec();
        with.extend_from_slice(carrier.as_bytes());
        with.extend_from_slice(&input[cut..]);

        let out = artifact_repos::deploy::postrender::post_render(&with, false)
            .map_err(|p| TestCaseError::fail(format!("refused: {p}")))?;
        prop_assert!(out.generated > 0);
        // What came from the input, in order, is the input without the carrier, byte for byte.
        let kept: Vec<u8> = out
            .parts
            .iter()
            .filter(|p| matches!(p, std::borrow::Cow::Borrowed(_)))
            .flat_map(|p| p.iter().copied())
            .collect();
        prop_assert!(kept == input, "input documents changed:\n{}", String::from_utf8_lossy(&kept));
        // What was added is whole generated documents and not the carrier.
        let added: Vec<u8> = out
            .parts
            .iter()
            .filter(|p| matches!(p, std::borrow::Cow::Owned(_)))
            .flat_map(|p| p.iter().copied())
            .collect();
        let added = String::from_utf8(added).unwrap();
        prop_assert!(!added.contains("ValuesCarrier"));
        let docs = artifact_repos::yaml::parse_documents("added", added.as_bytes(), usize::MAX)
            .map_err(|p| TestCaseError::fail(format!("{p}")))?;
        prop_assert_eq!(docs.len(), out.generated);
    }
}

// ---------------------------------------------------------------------------------------------
// A sample of random renders through the independent validator (tests/tools/validate_stream.py,
// installed by scripts/test; a missing tool fails, it never skips). Not one run per proptest case:
// `ARTIFACT_REPOS_VALIDATE_SAMPLES` renders (default 6) from a fixed seed, each one validator run.

#[test]
fn sampled_random_renders_pass_the_independent_validator() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".tools/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/test (it installs the pinned validators)",
        python.display()
    );
    let samples: usize = std::env::var("ARTIFACT_REPOS_VALIDATE_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let dir = std::env::temp_dir().join(format!("artifact-repos-props-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    let mut validated = 0;
    while validated < samples {
        let values = values_gen::values()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let rendered = render(&values, &Options::default()).unwrap();
        if rendered.objects.is_empty() {
            continue;
        }
        let settings = values.get("artifactRepos");
        let get = |k: &str| settings.and_then(|s| s.get(k)).and_then(Node::as_str);
        let mut stream = to_yaml_stream(&rendered);
        // A registration's `existingSecret` is a Secret the cluster already holds in its tenant.
        for o in rendered
            .objects
            .iter()
            .filter(|o| o.identity.kind == "ServiceAccount")
        {
            stream.push_str(&format!(
                "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: my-s3-secret\n  namespace: {}\ntype: Opaque\nstringData:\n  AWS_ACCESS_KEY_ID: placeholder\n  AWS_SECRET_ACCESS_KEY: placeholder\n",
                o.identity.namespace
            ));
        }
        let file = dir.join(format!("sample-{validated}.yaml"));
        std::fs::write(&file, &stream).unwrap();
        let mut cmd = std::process::Command::new(&python);
        cmd.arg(root.join("tests/tools/validate_stream.py"))
            .arg("--controller-namespace")
            .arg(get("controllerNamespace").unwrap_or("argo-workflows"))
            .arg("--argo-version")
            .arg(get("argoVersion").unwrap_or("3.7"))
            .arg(&file);
        let out = cmd.output().expect("the validator runs");
        if !out.status.success() {
            failures.push(format!(
                "{}:\n{}\n{}",
                file.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        validated += 1;
    }
    if failures.is_empty() {
        std::fs::remove_dir_all(&dir).ok();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Issue #12: RepoRegistration objects render what the same registrations in values render.

/// The registrations of `values` as RepoRegistration documents (metadata.namespace or
/// spec.namespace, by `in_spec`), and the values without them.
fn as_objects(values: &Node, in_spec: &[bool]) -> (Node, String) {
    let mut rest = values.clone();
    let regs = match &mut rest {
        Node::Map(m) => m.shift_remove("repoRegistrations"),
        _ => None,
    };
    let mut text = String::new();
    for (i, reg) in regs
        .as_ref()
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let mut spec = reg.as_map().unwrap().clone();
        let name = spec.shift_remove("name").unwrap();
        let mut meta = indexmap::IndexMap::new();
        meta.insert("name".to_string(), name);
        if !in_spec[i % in_spec.len()]
            && let Some(ns) = spec.shift_remove("namespace")
        {
            meta.insert("namespace".to_string(), ns);
        }
        let doc = values_gen::map(vec![
            ("apiVersion", values_gen::s("platform.calypr.io/v1alpha1")),
            ("kind", values_gen::s("RepoRegistration")),
            ("metadata", Node::Map(meta)),
            ("spec", Node::Map(spec)),
        ]);
        text.push_str("---\n");
        text.push_str(&artifact_repos::yaml::to_yaml(&doc));
    }
    (rest, text)
}

fn docs_text(docs: &[artifact_repos::rules::identity::Document]) -> String {
    docs.iter().map(|d| format!("---\n{}", d.yaml)).collect()
}

proptest! {
    #![proptest_config(config())]

    /// `render -f settings -f registrations.yaml` and `post-render` with RepoRegistrations in the
    /// stream generate exactly what `render -f values` generates from the same content.
    #[test]
    fn repo_registration_objects_render_like_values(
        v in values_gen::origin_values(),
        in_spec in prop::collection::vec(any::<bool>(), 1..4),
    ) {
        use artifact_repos::render::{Release, render_docs};
        use artifact_repos::values::reporeg;
        let options = Options::default();
        let expected = render_docs(&v, &options).map(|(d, _)| docs_text(&d));
        prop_assert!(expected.is_ok(), "{:?}", expected.err());
        let expected = expected.unwrap();

        // The file form, as `render -f` reads it.
        let (mut rest, text) = as_objects(&v, &in_spec);
        let parsed = artifact_repos::yaml::parse_documents("regs.yaml", text.as_bytes(), usize::MAX).unwrap();
        let mut problems = artifact_repos::error::Problems::default();
        let entries = reporeg::from_documents("regs.yaml", &parsed, true, &mut problems).unwrap_or_default();
        prop_assert!(problems.is_empty(), "{problems}");
        let origins = reporeg::append(&mut rest, entries);
        let from_file = render_docs(&rest, &options).map_err(|p| origins.relabel(p).to_string());
        prop_assert_eq!(from_file.map(|(d, _)| docs_text(&d)), Ok(expected.clone()));

        // The stream form: a carrier with the rest of the values, then the objects (a release that
        // generates nothing is refused by design: tests/postrender_streams.rs).
        if expected.is_empty() {
            return Ok(());
        }
        let (rest, text) = as_objects(&v, &in_spec);
        let stream = format!(
            "---\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: c\nrelease:\n  name: artifact-repos\n  namespace: argo\nvalues: {}\n{text}",
            serde_json::to_string(&rest).unwrap()
        );
        let seen = std::cell::RefCell::new(String::new());
        let out = artifact_repos::deploy::postrender::post_render_with(stream.as_bytes(), false, |sources, o| {
            use artifact_repos::pipeline;
            // As `render` generates: labelled by the tool, no Helm 4 annotation.
            let options = pipeline::Options { release: Release { name: o.release.name.clone(), namespace: None }, allow_empty: true, ..Default::default() };
            let r = pipeline::generate(sources, &options);
            if let Ok(g) = &r && let pipeline::Objects::Yaml(d) = &g.objects {
                *seen.borrow_mut() = docs_text(d);
            }
            r
        });
        prop_assert!(out.is_ok(), "{:?}", out.err());
        prop_assert_eq!(seen.into_inner(), expected);
        // The RepoRegistration documents themselves pass through byte for byte.
        let bytes = String::from_utf8(out.unwrap().to_bytes()).unwrap();
        for doc in text.split("---\n").filter(|d| !d.is_empty()) {
            prop_assert!(bytes.contains(doc), "not passed through:\n{doc}");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Shared namespaces, data buckets and template refs keep every structural property.
    #[test]
    fn origin_style_renders_pass_structural_validation(v in values_gen::origin_values()) {
        let r = render(&v, &Options::default());
        prop_assert!(r.is_ok(), "{:?}", r.err());
        let r = r.unwrap();
        prop_assert_eq!(check_objects(&r), Ok(()));
    }
}
