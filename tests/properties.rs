//! Properties over random inputs (proptest; `PROPTEST_CASES` sets the number of cases, default 64,
//! so CI stays fast and a longer local run means more):
//! - the fast YAML emitter writes exactly serde_yaml's bytes whenever it accepts a tree;
//! - `render` is deterministic and independent of the order of registrations, and the CLI's direct
//!   path (`render_yaml`) writes the same bytes as the JSON-tree path;
//! - every rendered object passes structural validation: valid names and labels, ConfigMap keys and
//!   sizes, every repository value one Argo ArtifactRepository with known keys, every WorkflowTemplate
//!   ref resolvable the way Argo resolves it, every credential Secret produced or declared.
//! Post-render properties (streams built from real fragments) live in tests/properties_stream.rs.

#[path = "support/gen.rs"]
mod values_gen;

use artifact_repos::render::{Options, Rendered, render, to_yaml_stream};
use artifact_repos::values::names;
use artifact_repos::yaml::Node;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

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
        any::<i64>().prop_map(|i| Value::from(i)),
        any::<u64>().prop_map(|i| Value::from(i)),
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
    if let Node::Map(m) = &mut out {
        if let Some(Node::Seq(regs)) = m.get_mut("repoRegistrations") {
            let mut state = seed | 1;
            for i in (1..regs.len()).rev() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = (state >> 33) as usize % (i + 1);
                regs.swap(i, j);
            }
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
        let (docs, _) = artifact_repos::render::render_yaml(&v, &Options::default()).unwrap();
        prop_assert_eq!(&text, &docs.concat());
        // The JSON output is the same objects.
        let json = artifact_repos::render::to_json_list(&a);
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

/// Argo's ArtifactRepository / S3ArtifactRepository keys (facts.md section 2, Argo 3.7/4.1).
const REPOSITORY_KEYS: &[&str] = &["archiveLogs", "s3"];
const S3_KEYS: &[&str] = &[
    "endpoint",
    "bucket",
    "region",
    "insecure",
    "keyFormat",
    "addressingStyle",
    "useSDKCreds",
    "roleARN",
    "accessKeySecret",
    "secretKeySecret",
];

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
                        if !REPOSITORY_KEYS.contains(&key.as_str()) {
                            return Err(format!("{id}: {k} has key {key} Argo does not know"));
                        }
                    }
                    for key in repo["s3"]
                        .as_object()
                        .ok_or(format!("{id}: {k} no s3"))?
                        .keys()
                    {
                        if !S3_KEYS.contains(&key.as_str()) {
                            return Err(format!("{id}: {k} has s3.{key} Argo does not know"));
                        }
                    }
                }
                if size > 1024 * 1024 {
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
