//! Proptest strategies for valid values files: random registrations over random tenants, with every
//! option the tool reads (layouts, credential sources, bucket options, settings, labels). Shared by
//! the `properties` and `privilege` modules.

use artifact_repos::yaml::Node;
use indexmap::IndexMap;
use proptest::prelude::*;

/// Proptest settings: `PROPTEST_CASES` cases (default 64, enough for CI; raise it locally).
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

pub fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<IndexMap<_, _>>(),
    )
}

pub fn s(v: &str) -> Node {
    Node::Str(v.to_string())
}

/// A DNS-1123 label from a small alphabet, so that collisions (same tenant) are frequent.
pub fn label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

/// One bucket: the options are independent, the credential source is exactly one of three.
fn bucket(endpoint_key: &'static str) -> impl Strategy<Value = Vec<(&'static str, Node)>> {
    (
        "[a-z0-9][a-z0-9-]{2,20}[a-z0-9]",
        prop::option::of(prop_oneof![
            Just("s3.amazonaws.com".to_string()),
            Just("minio.storage:9000".to_string()),
            Just("s3.us-west-2.amazonaws.com".to_string()),
        ]),
        prop::option::of(prop_oneof![Just("us-west-2"), Just("eu-central-1")]),
        prop::option::of(prop_oneof![Just("workflows/"), Just("a/b"), Just("")]),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        0..3u8,
        prop::option::of("[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,3}"),
        prop::option::of(Just("arn:aws:iam::123456789012:role/artifacts")),
    )
        .prop_map(
            move |(
                bucket,
                endpoint,
                region,
                prefix,
                insecure,
                path_style,
                archive,
                cred,
                path,
                arn,
            )| {
                let mut e: Vec<(&'static str, Node)> = vec![("bucket", s(&format!("b{bucket}")))];
                if let Some(v) = endpoint {
                    e.push((endpoint_key, s(&v)));
                }
                if let Some(v) = region {
                    e.push(("region", s(v)));
                }
                if let Some(v) = prefix {
                    e.push(("keyPrefix", s(v)));
                }
                if let Some(v) = insecure {
                    e.push(("insecure", Node::Bool(v)));
                }
                if let Some(v) = path_style {
                    e.push(("pathStyle", Node::Bool(v)));
                }
                if let Some(v) = archive {
                    e.push(("archiveLogs", Node::Bool(v)));
                }
                if let Some(v) = arn {
                    e.push(("roleARN", s(v)));
                }
                let path = path.unwrap_or_else(|| "argo/s3".into());
                match cred {
                    0 => e.push(("externalSecretPath", s(&path))),
                    1 => e.push(("existingSecret", s("my-s3-secret"))),
                    _ => e.push(("useSDKCreds", Node::Bool(true))),
                }
                e
            },
        )
}

/// Settings under `artifactRepos`: every one optional.
fn settings() -> impl Strategy<Value = Node> {
    (
        prop::option::of(prop_oneof![
            Just("argo"),
            Just("argo-workflows"),
            Just("wf-system")
        ]),
        prop::option::of(prop_oneof![Just("central"), Just("tenant")]),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![Just("runner"), Just("wf-runner")]),
        prop::option::of(prop_oneof![Just("\"3.5\""), Just("\"4.1\"")]),
        prop::option::of(prop_oneof![Just("SecretStore"), Just("ClusterSecretStore")]),
        prop::option::of(("[a-z]{1,8}", "[a-z0-9]{1,8}")),
    )
        .prop_map(
            |(ns, layout, create_ns, reader, templates, sa, argo, store, label)| {
                let mut e: Vec<(&str, Node)> = Vec::new();
                if let Some(v) = ns {
                    e.push(("controllerNamespace", s(v)));
                }
                if let Some(v) = layout {
                    e.push(("layout", s(v)));
                }
                if let Some(v) = create_ns {
                    e.push(("createNamespaces", Node::Bool(v)));
                }
                if let Some(v) = reader {
                    e.push(("readerRole", map(vec![("enabled", Node::Bool(v))])));
                }
                if let Some(v) = templates {
                    e.push(("workflowTemplates", map(vec![("enabled", Node::Bool(v))])));
                }
                if let Some(v) = sa {
                    e.push(("serviceAccountName", s(v)));
                }
                if let Some(v) = argo {
                    e.push(("argoVersion", s(v.trim_matches('"'))));
                }
                if let Some(v) = store {
                    e.push((
                        "externalSecrets",
                        map(vec![(
                            "storeRef",
                            map(vec![("kind", s(v)), ("name", s("vault"))]),
                        )]),
                    ));
                }
                if let Some((k, v)) = label {
                    e.push((
                        "commonLabels",
                        Node::Map([(format!("example.com/{k}"), s(&v))].into_iter().collect()),
                    ));
                }
                map(e)
            },
        )
}

/// A registration: name, tenant (from a pool of `tenants`), optional branch and bucket.
fn registration(tenants: Vec<String>) -> impl Strategy<Value = Vec<(&'static str, Node)>> {
    (
        prop::sample::select(tenants),
        prop::option::of(prop_oneof![Just("main"), Just("release/1.2"), Just("v1")]),
        prop::option::of(bucket("hostname")),
        "[a-z0-9]{1,12}",
    )
        .prop_map(|(tenant, branch, bucket, repo)| {
            let mut e: Vec<(&'static str, Node)> = vec![
                (
                    "repoUrl",
                    s(&format!("https://git.example.com/org/{repo}.git")),
                ),
                ("tenant", s(&tenant)),
            ];
            if let Some(b) = branch {
                e.push(("defaultBranch", s(b)));
            }
            if let Some(b) = bucket {
                e.push(("artifactBucket", map(b)));
            }
            e
        })
}

/// A whole valid values tree. Registration names are unique (`r<i>-<label>`); tenants avoid the
/// controller namespaces the settings can choose.
pub fn values() -> impl Strategy<Value = Node> {
    let tenants = prop::collection::vec(label(), 1..5)
        .prop_map(|ts| ts.into_iter().map(|t| format!("t-{t}")).collect::<Vec<_>>());
    (tenants, settings(), prop::option::of(bucket("endpoint")))
        .prop_flat_map(|(tenants, settings, default)| {
            (
                prop::collection::vec(registration(tenants), 0..8),
                Just(settings),
                Just(default),
                prop::collection::vec(label(), 8),
            )
        })
        .prop_map(|(regs, settings, default, names)| {
            let regs: Vec<Node> = regs
                .into_iter()
                .enumerate()
                .map(|(i, mut e)| {
                    let name = format!("r{i}-{}", names[i]);
                    let name = name[..name.len().min(40)].trim_end_matches('-').to_string();
                    // Without a default repository, a registration needs a bucket of its own
                    // (a registration with no repository at all is refused, #11).
                    if default.is_none() && !e.iter().any(|(k, _)| *k == "artifactBucket") {
                        e.push((
                            "artifactBucket",
                            map(vec![
                                ("bucket", s(&format!("{name}-bucket"))),
                                ("useSDKCreds", Node::Bool(true)),
                            ]),
                        ));
                    }
                    e.insert(0, ("name", s(&name)));
                    map(e)
                })
                .collect();
            let mut top = vec![
                ("artifactRepos", settings),
                ("repoRegistrations", Node::Seq(regs)),
            ];
            if let Some(mut d) = default {
                // A default bucket shares no Secret name with a registration (`s3-credentials-default`).
                d.insert(0, ("enabled", Node::Bool(true)));
                top.push(("s3", map(d)));
            }
            map(top)
        })
}

/// Issue #12: values in the RepoRegistration chart's style on top of `values()`: some registrations
/// get a `namespace` (often one shared by several tenants), a tenant that is not a namespace name
/// (`program/project`, only with a namespace), a `workflowTemplateRef`, a `dataBucket`, and the
/// fields the tool ignores.
pub fn origin_values() -> impl Strategy<Value = Node> {
    (values(), prop::collection::vec(origin_extras(), 8)).prop_map(|(mut v, extras)| {
        if let Node::Map(top) = &mut v
            && let Some(Node::Seq(regs)) = top.get_mut("repoRegistrations")
        {
            for (reg, extra) in regs.iter_mut().zip(extras) {
                if let Node::Map(m) = reg {
                    for (k, x) in extra {
                        if k == "tenant" && !m.contains_key("namespace") {
                            continue;
                        }
                        m.insert(k.to_string(), x);
                    }
                }
            }
        }
        v
    })
}

fn origin_extras() -> impl Strategy<Value = Vec<(&'static str, Node)>> {
    (
        prop::option::of(prop_oneof![Just("wf-poc"), Just("wf-shared-2")]),
        any::<bool>(),
        prop::option::of(Just("nextflow-repo-runner")),
        prop::option::of(bucket("hostname")),
        any::<bool>(),
    )
        .prop_map(|(ns, odd_tenant, template, data, ignored)| {
            let mut e: Vec<(&'static str, Node)> = Vec::new();
            if let Some(ns) = ns {
                e.push(("namespace", s(ns)));
            }
            if odd_tenant {
                e.push(("tenant", s("program/project")));
            }
            if let Some(t) = template {
                e.push(("workflowTemplateRef", s(t)));
            }
            if let Some(d) = data {
                e.push(("dataBucket", map(d)));
            }
            if ignored {
                e.push(("installationId", Node::Int(42)));
                e.push(("adminUsers", Node::Seq(vec![s("pi@example.org")])));
                e.push(("readUsers", Node::Seq(vec![])));
                e.push(("isPublic", Node::Bool(false)));
                e.push(("githubSecretName", s("github-secret")));
                e.push(("githubSecretPath", s("argo/apps/github")));
            }
            e
        })
}
