//! The reader executes the field table, and the published schema says what the reader reads
//! (issue 18, items 2 and 3). Three walks, each through the real reader (`values::validate`):
//!
//! - over the declarations (`values::fields`): every field given a value of the wrong type is a
//!   problem at its own path, so no declared field goes unread;
//! - over the leaves of the generated `values.schema.json`: a wrong-typed value at every leaf is
//!   refused by the reader naming that key, and a key the schema does not declare in a closed map
//!   is refused as unknown, so the schema names what the reader reads (this replaces a test that
//!   compared the schema with the table it was generated from);
//! - values the reader accepts that the schema once refused (`hostname: http://...`) go through
//!   real `helm template` with the chart and the post-renderer, and give `render`'s objects.

use artifact_repos::values::fields::{Field, Section, TOP, Type};
use artifact_repos::values::validate::validate;
use serde_json::{Value, json};

/// The problems (path, message) the reader finds in `values`; none when it accepts them.
fn problems(values: &Value) -> Vec<(String, String)> {
    let text = serde_json::to_string(values).unwrap();
    let node = artifact_repos::yaml::parse_values("values.json", text.as_bytes()).unwrap();
    match validate(&node) {
        Ok(_) => Vec::new(),
        Err(p) => p.0.into_iter().map(|p| (p.path, p.message)).collect(),
    }
}

/// Places a value in the values tree: the tree, and the path the reader names.
type Place<'a> = &'a dyn Fn(Value) -> Value;

/// A value of another type than `f` declares.
fn wrong_value(f: &Field) -> Value {
    use artifact_repos::rules::argo::FieldType as A;
    match f.ty {
        Type::Str | Type::Version | Type::Argo(A::Str | A::Enum(_)) => json!(["x"]),
        Type::Bool | Type::Int | Type::Argo(A::Bool | A::Int) => json!("x"),
        Type::StrList | Type::List(_) => json!("x"),
        Type::Labels | Type::StrMap | Type::Map(_) | Type::MapOf(_) => json!("x"),
        Type::Argo(A::Secret | A::Object(_) | A::Opaque) => json!("x"),
    }
}

fn object(key: &str, v: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(key.into(), v);
    Value::Object(m)
}

/// Walks `section` at `path`, checking every field; `place` puts a map of the section's keys
/// where the section belongs.
fn walk_fields(
    section: &Section,
    path: &str,
    place: Place,
    checked: &mut usize,
    out: &mut Vec<String>,
) {
    let at = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    // A gated section (`s3`) is read only with its gate on.
    let inner = |key: &str, v: Value| {
        let mut m = object(key, v);
        if let Some(gate) = section.required_when
            && gate != key
        {
            m[gate] = json!(true);
        }
        m
    };
    for f in section.fields() {
        let p = at(f.key);
        let found = problems(&place(inner(f.key, wrong_value(f))));
        *checked += 1;
        if !found.iter().any(|(path, _)| *path == p) {
            out.push(format!(
                "{p}: a wrong-typed value gave no problem there: {found:?}"
            ));
        }
        match f.ty {
            Type::Map(s) => {
                let key = f.key;
                walk_fields(s, &p, &|v| place(inner(key, v)), checked, out);
            }
            Type::List(s) => {
                let key = f.key;
                walk_fields(
                    s,
                    &format!("{p}[0]"),
                    &|v| place(inner(key, json!([v]))),
                    checked,
                    out,
                );
            }
            Type::MapOf(s) => {
                let key = f.key;
                walk_fields(
                    s,
                    &format!("{p}.ns-a"),
                    &|v| place(inner(key, object("ns-a", v))),
                    checked,
                    out,
                );
            }
            _ => {}
        }
    }
}

#[test]
fn every_declared_field_is_read_at_its_path() {
    let mut out = Vec::new();
    let mut checked = 0;
    walk_fields(&TOP, "", &|v| v, &mut checked, &mut out);
    assert!(checked > 100, "only {checked} fields walked");
    assert!(out.is_empty(), "{}", out.join("\n"));
}

/// A value whose JSON type is none of `types`.
fn not_of(types: &[&str]) -> Value {
    let kind = |v: &Value| match v {
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Bool(_) => "boolean",
        _ => "object",
    };
    [json!("x"), json!(["x"]), json!(true)]
        .into_iter()
        .find(|v| !types.contains(&kind(v)))
        .unwrap()
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Walks an object schema at `path`: every leaf gets a wrong-typed value, every closed map an
/// unknown key. `gate` is a property that must be `true` for the map to be read (`s3.enabled`).
fn walk_schema(
    schema: &Value,
    path: &str,
    place: Place,
    checked: &mut usize,
    out: &mut Vec<String>,
) {
    let mut props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let gate = schema["if"]["required"][0].as_str().map(str::to_string);
    if let Some(then) = schema["then"]["properties"].as_object() {
        props.extend(then.clone());
    }
    let at = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    let inner = |key: &str, v: Value| {
        let mut m = object(key, v);
        if let Some(g) = &gate
            && g != key
        {
            m[g.as_str()] = json!(true);
        }
        m
    };
    if schema["additionalProperties"] == json!(false) {
        let p = at("zzUnknownKey");
        let found = problems(&place(inner("zzUnknownKey", json!("x"))));
        *checked += 1;
        if !found
            .iter()
            .any(|(path, m)| *path == p && m.contains("unknown key"))
        {
            out.push(format!("{p}: an undeclared key was not refused: {found:?}"));
        }
    }
    for (key, sub) in &props {
        let p = at(key);
        let key = key.as_str();
        if sub.get("properties").is_some() {
            walk_schema(sub, &p, &|v| place(inner(key, v)), checked, out);
        } else if sub["items"].get("properties").is_some() {
            walk_schema(
                &sub["items"],
                &format!("{p}[0]"),
                &|v| place(inner(key, json!([v]))),
                checked,
                out,
            );
        } else if sub["additionalProperties"].get("properties").is_some() {
            walk_schema(
                &sub["additionalProperties"],
                &format!("{p}.ns-a"),
                &|v| place(inner(key, object("ns-a", v))),
                checked,
                out,
            );
        } else {
            let t = types(sub);
            assert!(!t.is_empty(), "{p}: a leaf without a type");
            let found = problems(&place(inner(key, not_of(&t))));
            *checked += 1;
            if !found.iter().any(|(path, _)| *path == p) {
                out.push(format!(
                    "{p}: a value not of type {t:?} was not refused there: {found:?}"
                ));
            }
        }
    }
}

#[test]
fn every_schema_leaf_is_a_key_the_reader_reads() {
    let schema = artifact_repos::values::schema::schema_value();
    let mut out = Vec::new();
    let mut checked = 0;
    walk_schema(&schema, "", &|v| v, &mut checked, &mut out);
    assert!(checked > 150, "only {checked} schema leaves walked");
    assert!(out.is_empty(), "{}", out.join("\n"));
}

/// Values `render` accepts that the chart's schema refused before (issue 18: `hostname:
/// http://minio.minio.svc:9000` made Helm refuse the project's own example).
const ACCEPTED_BY_RENDER: &str = "fixtures/render/schema-accepts-what-render-accepts/values.yaml";

#[test]
fn what_render_accepts_the_chart_accepts() {
    use crate::helm::{chart, helm};
    use artifact_repos::yaml::parse_documents;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_artifact-repos");
    let out = std::process::Command::new(bin)
        .args(["render", "-f", ACCEPTED_BY_RENDER, "--release-name", "rel"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = String::from_utf8(out.stdout).unwrap().replace(
        "app.kubernetes.io/managed-by: artifact-repos\n",
        "app.kubernetes.io/managed-by: Helm\n",
    );
    let expected = parse_documents("render", rendered.as_bytes(), usize::MAX).unwrap();
    for major in [3, 4] {
        let h = helm(major, "accepts");
        let chart = chart();
        let mut args = vec!["template", "rel", chart.to_str().unwrap(), "-n", "argo"];
        args.extend(["-f", ACCEPTED_BY_RENDER]);
        args.extend(h.post_renderer());
        let out = h.run(&args);
        assert!(
            out.status.success(),
            "helm {major} refused what render accepts:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = parse_documents("helm", &out.stdout, usize::MAX).unwrap();
        assert_eq!(got, expected, "helm {major}");
    }
}
