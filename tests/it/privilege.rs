//! Least privilege and tenant isolation, asserted over every RBAC rule and object the tool can
//! generate: a values file exercising every option (both layouts, reader role on and off, every
//! credential source, custom names) and random valid values (proptest, `PROPTEST_CASES`, default 64).
//!
//! - RBAC: no ClusterRole or ClusterRoleBinding; no `*` anywhere; every rule is one of the two the
//!   tool needs, with exactly its verbs: the seed's reader (`configmaps` `get`/`list`, with
//!   `resourceNames` naming the repositories ConfigMap; Kubernetes honours resourceNames for `get`,
//!   and for `list` with a `metadata.name` field selector) and the executor's (`workflowtaskresults`
//!   `create`/`patch` in `argoproj.io`; `create` cannot be limited by name and task result names are
//!   per pod, so no resourceNames). Nothing on Secrets, no escalate/bind/impersonate.
//! - Bindings: roleRef is a Role of the binding's namespace; subjects are the tenant's own service
//!   account; a binding in a tenant namespace binds only that tenant.
//! - Placement: namespaced objects live only in the controller namespace or a tenant namespace;
//!   the controller namespace holds only the central ConfigMap and the reader Role and bindings;
//!   cluster-scoped objects are only the tenants' Namespaces.
//! - Isolation: a tenant namespace holds and references only its own registrations' repositories,
//!   ConfigMap keys, Secrets, Vault paths and templates, plus the platform default.
//! - Identity: what a user writes in a registration's free-form fields (URL, branch, bucket, endpoint,
//!   region, key prefix, Vault path), even text built to look like YAML or templates, changes no
//!   object's kind, namespace or name; the identities read back from the YAML text are the same.

use crate::support::values_gen;

use values_gen::config;

use artifact_repos::render::{Options, Rendered, render, to_yaml_stream};
use artifact_repos::yaml::Node;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Every option at once; `layout` and `reader` vary between renders.
fn all_options(layout: &str, reader: bool) -> Node {
    let yaml = format!(
        r#"
artifactRepos:
  controllerNamespace: wf-system
  configMapName: artifact-repos-cm
  allowRefLessLookupBreak: true
  defaultKey: platform-default
  argoVersion: "4.1"
  layout: {layout}
  createNamespaces: true
  serviceAccountName: runner
  executorRoleName: runner-tasks
  readerRole: {{enabled: {reader}, name: repo-reader}}
  externalSecrets:
    storeRef: {{kind: SecretStore, name: vault-backend}}
    refreshInterval: 15m
    accessKeyProperty: ak
    secretKeyProperty: sk
  credentialKeys: {{accessKey: ACCESS, secretKey: SECRET}}
  workflowTemplates:
    enabled: true
    image: registry.example.com/runner:1
    command: [run]
    args: ["{{{{inputs.parameters.repo-url}}}}"]
    outputPath: /out
  commonLabels: {{example.com/team: platform}}
s3:
  enabled: true
  bucket: platform-default
  endpoint: minio.storage:9000
  insecure: true
  pathStyle: true
  externalSecretPath: platform/s3
repoRegistrations:
- name: vault-repo
  repoUrl: https://git.example.com/a/vault.git
  tenant: team-a
  artifactBucket: {{bucket: team-a-vault, region: us-west-2, keyPrefix: wf/, externalSecretPath: team-a/s3, roleARN: "arn:aws:iam::123456789012:role/a"}}
- name: named-secret
  repoUrl: git@git.example.com:a/named.git
  defaultBranch: release/1.2
  tenant: team-a
  artifactBucket: {{bucket: team-a-named, externalSecretPath: team-a/named, secretName: team-a-creds}}
- name: existing
  repoUrl: ssh://git.example.com/b/existing.git
  tenant: team-b
  artifactBucket: {{bucket: team-b-existing, existingSecret: team-b-s3}}
- name: sdk
  repoUrl: https://git.example.com/b/sdk.git
  tenant: team-b
  artifactBucket: {{bucket: team-b-sdk, useSDKCreds: true, archiveLogs: false}}
- name: default-only
  repoUrl: https://git.example.com/c/default.git
  tenant: team-c
"#
    );
    artifact_repos::yaml::parse_values("all-options", yaml.as_bytes()).unwrap()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// What the values say, independently of the tool: controller namespace, config map name, and per
/// tenant its registrations.
struct Expect {
    cns: String,
    cm: String,
    tenants: BTreeMap<String, BTreeSet<String>>,
}

fn expect(values: &Node) -> Expect {
    let settings = values.get("artifactRepos");
    let get = |k: &str, d: &str| {
        settings
            .and_then(|s| s.get(k))
            .and_then(Node::as_str)
            .unwrap_or(d)
            .to_string()
    };
    let mut tenants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(Node::Seq(regs)) = values.get("repoRegistrations") {
        for r in regs {
            let t = r.get("tenant").and_then(Node::as_str).unwrap().to_string();
            let n = r.get("name").and_then(Node::as_str).unwrap().to_string();
            tenants.entry(t).or_default().insert(n);
        }
    }
    Expect {
        cns: get("controllerNamespace", "argo-workflows"),
        cm: get("configMapName", "artifact-repositories"),
        tenants,
    }
}

/// Every assertion of this file over one render; `Err` says which object breaks which rule.
fn check(values: &Node, r: &Rendered) -> Result<(), String> {
    let e = expect(values);
    let owner_of: BTreeMap<&str, &str> = e
        .tenants
        .iter()
        .flat_map(|(t, regs)| regs.iter().map(move |n| (n.as_str(), t.as_str())))
        .collect();
    for o in &r.objects {
        let id = &o.identity;
        let v = &o.value;
        let ns = id.namespace.as_str();
        // Placement.
        match id.kind.as_str() {
            "ClusterRole" | "ClusterRoleBinding" => return Err(format!("{id}: cluster-wide RBAC")),
            "Namespace" => {
                if !e.tenants.contains_key(&id.name) {
                    return Err(format!("{id}: a Namespace that is not a tenant"));
                }
            }
            _ if ns == e.cns => {
                // The default repository's credentials, from its Vault path and nothing else: the
                // central ConfigMap is also the default of ref-less workflows that run in the
                // controller namespace, which read credentials there (#11 class 7).
                let default_path = values
                    .get("s3")
                    .and_then(|s| s.get("externalSecretPath"))
                    .and_then(Node::as_str);
                let default_credentials = id.kind == "ExternalSecret"
                    && str_at(v, &["metadata", "labels", "artifact-repos/registration"]).is_none()
                    && str_at(v, &["metadata", "labels", "artifact-repos/tenant"]).is_none()
                    && default_path.is_some_and(|p| {
                        // A Vault path template stands for the controller namespace there.
                        let p = p
                            .replace("{namespace}", &id.namespace)
                            .replace("{tenant}", &id.namespace);
                        v["spec"]["data"]
                            .as_array()
                            .is_some_and(|d| d.iter().all(|x| x["remoteRef"]["key"] == p.as_str()))
                    });
                let allowed = matches!(id.kind.as_str(), "ConfigMap" | "Role" | "RoleBinding")
                    || default_credentials;
                if !allowed {
                    return Err(format!(
                        "{id}: only the central ConfigMap, the default repository's credentials and reader RBAC belong in the controller namespace"
                    ));
                }
            }
            _ if e.tenants.contains_key(ns) => {}
            _ => {
                return Err(format!(
                    "{id}: outside the controller and tenant namespaces"
                ));
            }
        }
        // RBAC rules.
        if id.kind == "Role" {
            let rules = v["rules"].as_array().ok_or(format!("{id}: no rules"))?;
            if rules.len() != 1 {
                return Err(format!("{id}: {} rules, expected exactly one", rules.len()));
            }
            let rule = &rules[0];
            for key in rule.as_object().unwrap().keys() {
                if !["apiGroups", "resources", "verbs", "resourceNames"].contains(&key.as_str()) {
                    return Err(format!("{id}: rule has `{key}`"));
                }
            }
            let all: Vec<&str> = ["apiGroups", "resources", "verbs", "resourceNames"]
                .iter()
                .flat_map(|k| strings(&rule[*k]))
                .collect();
            if all.iter().any(|s| s.contains('*')) {
                return Err(format!("{id}: wildcard in {rule}"));
            }
            let groups = strings(&rule["apiGroups"]);
            let resources = strings(&rule["resources"]);
            let mut verbs = strings(&rule["verbs"]);
            verbs.sort_unstable();
            let names = strings(&rule["resourceNames"]);
            match (groups.as_slice(), resources.as_slice()) {
                ([""], ["configmaps"]) => {
                    if ns != e.cns {
                        return Err(format!(
                            "{id}: the reader Role outside the controller namespace"
                        ));
                    }
                    if verbs != ["get", "list"] || names != [e.cm.as_str()] {
                        return Err(format!(
                            "{id}: reader rule must be get/list on [{}] only: {rule}",
                            e.cm
                        ));
                    }
                }
                (["argoproj.io"], ["workflowtaskresults"]) => {
                    if !e.tenants.contains_key(ns) {
                        return Err(format!("{id}: executor Role outside a tenant namespace"));
                    }
                    if verbs != ["create", "patch"] || !names.is_empty() {
                        return Err(format!("{id}: executor rule must be create/patch: {rule}"));
                    }
                }
                _ => return Err(format!("{id}: a rule the tool has no use for: {rule}")),
            }
        }
        if id.kind == "RoleBinding" {
            if str_at(v, &["roleRef", "kind"]) != Some("Role")
                || str_at(v, &["roleRef", "apiGroup"]) != Some("rbac.authorization.k8s.io")
            {
                return Err(format!("{id}: roleRef is not a Role of its namespace"));
            }
            let role = str_at(v, &["roleRef", "name"]).unwrap_or_default();
            let bound = r.objects.iter().any(|o| {
                o.identity.kind == "Role" && o.identity.namespace == ns && o.identity.name == role
            });
            if !bound {
                return Err(format!(
                    "{id}: binds Role {role}, which is not generated in {ns}"
                ));
            }
            let subjects = v["subjects"]
                .as_array()
                .ok_or(format!("{id}: no subjects"))?;
            let tenant = str_at(v, &["metadata", "labels", "artifact-repos/tenant"])
                .ok_or(format!("{id}: no tenant label"))?;
            if ns != e.cns && ns != tenant {
                return Err(format!(
                    "{id}: binding in {ns} labelled for tenant {tenant}"
                ));
            }
            for s in subjects {
                if str_at(s, &["kind"]) != Some("ServiceAccount")
                    || str_at(s, &["namespace"]) != Some(tenant)
                {
                    return Err(format!(
                        "{id}: subject {s} is not tenant {tenant}'s service account"
                    ));
                }
            }
        }
        // Isolation: everything a tenant namespace holds names its own registrations.
        if e.tenants.contains_key(ns) {
            let mine = &e.tenants[ns];
            if let Some(reg) = str_at(v, &["metadata", "labels", "artifact-repos/registration"])
                && !mine.contains(reg)
            {
                return Err(format!(
                    "{id}: in {ns} but for registration {reg} of {:?}",
                    owner_of.get(reg)
                ));
            }
            if let Some(t) = str_at(v, &["metadata", "labels", "artifact-repos/tenant"])
                && t != ns
            {
                return Err(format!("{id}: in {ns} but labelled for tenant {t}"));
            }
            if id.kind == "ConfigMap" {
                for key in v["data"].as_object().unwrap().keys() {
                    if let Some(reg) = key.strip_prefix("artifactRepositories.") {
                        if reg != "default" && !mine.contains(reg) {
                            return Err(format!(
                                "{id}: holds {key} of tenant {:?}",
                                owner_of.get(reg)
                            ));
                        }
                    } else if key == "artifactRepositories" {
                        return Err(format!(
                            "{id}: a tenant ConfigMap holds the index of every tenant"
                        ));
                    }
                }
            }
            if id.kind == "WorkflowTemplate" {
                if !mine.contains(&id.name) {
                    return Err(format!("{id}: template of another tenant"));
                }
                if let Some(key) = str_at(v, &["spec", "artifactRepositoryRef", "key"]) {
                    let reg = key.strip_prefix("artifactRepositories.").unwrap_or(key);
                    if reg != "default" && reg != id.name {
                        return Err(format!("{id}: refers to {key}"));
                    }
                }
                let sa = str_at(v, &["spec", "serviceAccountName"]).unwrap_or_default();
                let own_sa = r.objects.iter().any(|o| {
                    o.identity.kind == "ServiceAccount"
                        && o.identity.namespace == ns
                        && o.identity.name == sa
                });
                if !own_sa {
                    return Err(format!("{id}: runs as {sa}, not a service account of {ns}"));
                }
            }
        }
        // No Secret is ever generated, and no object holds a credential value.
        if id.kind == "Secret" {
            return Err(format!("{id}: the tool never writes Secrets"));
        }
    }
    // Vault paths: an ExternalSecret in tenant T reads the default's path or a path of T's own
    // registrations (as the values give them).
    let mut paths_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(Node::Seq(regs)) = values.get("repoRegistrations") {
        for reg in regs {
            if let Some(p) = reg
                .get("artifactBucket")
                .and_then(|b| b.get("externalSecretPath"))
                .and_then(Node::as_str)
            {
                let t = reg.get("tenant").and_then(Node::as_str).unwrap();
                paths_of
                    .entry(t.to_string())
                    .or_default()
                    .insert(p.to_string());
            }
        }
    }
    let default_path = values
        .get("s3")
        .and_then(|s| s.get("externalSecretPath"))
        .and_then(Node::as_str);
    for o in r
        .objects
        .iter()
        .filter(|o| o.identity.kind == "ExternalSecret")
    {
        for d in o.value["spec"]["data"].as_array().unwrap() {
            let p = str_at(d, &["remoteRef", "key"]).unwrap();
            // A Vault path template (class 12): the namespace's own path.
            let ns = &o.identity.namespace;
            let tenant =
                str_at(&o.value, &["metadata", "labels", "artifact-repos/tenant"]).unwrap_or(ns);
            let own = paths_of.get(ns).is_some_and(|s| {
                s.iter()
                    .any(|t| t.replace("{namespace}", ns).replace("{tenant}", tenant) == p)
            });
            let default_path =
                default_path.map(|d| d.replace("{namespace}", ns).replace("{tenant}", tenant));
            if !own && Some(p) != default_path.as_deref() {
                return Err(format!(
                    "{}: reads Vault path {p}, not one of its tenant's",
                    o.identity
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_option_renders_least_privilege_and_isolated_objects() {
    let mut kinds_seen = BTreeSet::new();
    for layout in ["central", "tenant"] {
        for reader in [true, false] {
            let values = all_options(layout, reader);
            let r = render(&values, &Options::default()).unwrap();
            check(&values, &r).unwrap_or_else(|e| panic!("layout {layout}, reader {reader}: {e}"));
            kinds_seen.extend(r.objects.iter().map(|o| o.identity.kind.clone()));
            let roles = r
                .objects
                .iter()
                .filter(|o| o.identity.kind == "Role")
                .count();
            // One executor Role per tenant (3), plus the reader Role when enabled.
            assert_eq!(
                roles,
                3 + usize::from(reader),
                "layout {layout}, reader {reader}"
            );
        }
    }
    let expected: BTreeSet<String> = [
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Role",
        "RoleBinding",
        "ExternalSecret",
        "WorkflowTemplate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        kinds_seen, expected,
        "the all-options values exercise every kind the tool generates"
    );
}

#[test]
fn the_checks_catch_a_cross_tenant_reference_and_a_wildcard() {
    // The assertions above must be able to fail: tamper with a rendered object and see them refuse.
    let values = all_options("central", true);
    let clean = render(&values, &Options::default()).unwrap();
    let mut wild = clean.clone();
    let role = wild
        .objects
        .iter_mut()
        .find(|o| o.identity.kind == "Role")
        .unwrap();
    role.value["rules"][0]["verbs"] = serde_json::json!(["*"]);
    assert!(check(&values, &wild).unwrap_err().contains("wildcard"));
    let mut cross = clean.clone();
    let wt = cross
        .objects
        .iter_mut()
        .find(|o| o.identity.kind == "WorkflowTemplate" && o.identity.namespace == "team-b")
        .unwrap();
    wt.value["spec"]["artifactRepositoryRef"]["key"] = "artifactRepositories.vault-repo".into();
    assert!(check(&values, &cross).unwrap_err().contains("refers to"));
    let mut es = clean;
    let e = es
        .objects
        .iter_mut()
        .find(|o| o.identity.kind == "ExternalSecret" && o.identity.namespace == "team-b")
        .unwrap();
    e.value["spec"]["data"][0]["remoteRef"]["key"] = "team-a/s3".into();
    assert!(check(&values, &es).unwrap_err().contains("Vault path"));
}

/// Identities as read back from the YAML text (what a cluster would see), in stream order.
fn identities_from_text(r: &Rendered) -> Vec<(String, String, String)> {
    let text = to_yaml_stream(r);
    artifact_repos::yaml::parse_documents("rendered", text.as_bytes(), usize::MAX)
        .unwrap()
        .iter()
        .map(|d| {
            let s = |path: &[&str]| {
                let mut cur = d;
                for p in path {
                    match cur.get(p) {
                        Some(n) => cur = n,
                        None => return String::new(),
                    }
                }
                cur.as_str().unwrap_or_default().to_string()
            };
            (
                s(&["kind"]),
                s(&["metadata", "namespace"]),
                s(&["metadata", "name"]),
            )
        })
        .collect()
}

/// Valid values for the free-form fields, built to look like YAML, JSON, templates and markers.
fn hostile_but_valid() -> impl Strategy<Value = [String; 6]> {
    let url = prop_oneof![
        // No query or fragment: a URL with one is refused (issue #11 class 2, it may carry a token).
        Just("https://git.example.com/o/r.git']}{{y}}&kind=Secret".to_string()),
        Just("https://h/a\"b---".to_string()),
        Just("git@h:o/r.git\nnamespace:kube-system".replace('\n', "")),
        Just("https://h/%0Akind:%20ClusterRole".to_string()),
        "https://[a-z]{1,8}/[a-z0-9{}'\"&*!|>%@`,-]{1,20}",
    ];
    let branch = prop_oneof![
        Just("release/{{x}}".to_string()),
        Just("'quoted'".to_string()),
        Just("a\"b".to_string()),
        Just("kind=Secret".to_string()),
        Just("#comment".to_string()),
        "[a-z!&|>%@`,{}'\"#=-]{1,12}".prop_filter("a valid git ref", |s| !s.starts_with('-')
            && !s.contains("@{")),
    ];
    let bucket = "[a-z0-9][a-z0-9-]{3,20}[a-z0-9]";
    let endpoint = prop_oneof![
        Just("minio:9000".to_string()),
        Just("s3.example.com".to_string())
    ];
    let prefix = prop_oneof![
        Just("{{workflow.name}}/x".to_string()),
        Just("a: b/#c".to_string()),
        Just("'x'/\"y\"".to_string()),
        Just("---/...".to_string()),
    ];
    let path = prop_oneof![
        Just("a/b:c'd\"e".to_string()),
        // A Vault path template (class 12): braces other than its placeholders are refused.
        Just("{namespace}/!!python/object:os.system".to_string()),
        Just("x/---/y".to_string()),
        Just("&a/*a".to_string()),
    ];
    (url, branch, bucket, endpoint, prefix, path).prop_map(|(a, b, c, d, e, f)| [a, b, c, d, e, f])
}

/// Replaces every free-form field of every registration (and the default) with `with`.
fn rewrite(values: &Node, with: &[String; 6]) -> Node {
    let mut out = values.clone();
    let set = |m: &mut indexmap::IndexMap<String, Node>, k: &str, v: &str| {
        if m.contains_key(k) {
            m.insert(k.to_string(), Node::Str(v.to_string()));
        }
    };
    if let Node::Map(top) = &mut out {
        if let Some(Node::Seq(regs)) = top.get_mut("repoRegistrations") {
            for (i, reg) in regs.iter_mut().enumerate() {
                let Node::Map(m) = reg else { continue };
                m.insert("repoUrl".into(), Node::Str(with[0].clone()));
                m.insert("defaultBranch".into(), Node::Str(with[1].clone()));
                if let Some(Node::Map(b)) = m.get_mut("artifactBucket") {
                    set(b, "bucket", &format!("{}-{i}", with[2]));
                    set(b, "hostname", &with[3]);
                    set(b, "keyPrefix", &with[4]);
                    set(b, "externalSecretPath", &with[5]);
                }
            }
        }
        if let Some(Node::Map(s3)) = top.get_mut("s3") {
            set(s3, "bucket", &format!("{}-d", with[2]));
            set(s3, "externalSecretPath", &with[5]);
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_values_render_least_privilege_and_isolated_objects(values in values_gen::values()) {
        let r = render(&values, &Options::default())
            .map_err(|p| TestCaseError::fail(format!("refused:\n{p}")))?;
        check(&values, &r).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn free_form_fields_never_change_kind_namespace_or_name(
        values in values_gen::values(),
        with in hostile_but_valid(),
    ) {
        let before = render(&values, &Options::default()).unwrap();
        let rewritten = rewrite(&values, &with);
        let after = match render(&rewritten, &Options::default()) {
            Ok(r) => r,
            Err(p) => return Err(TestCaseError::fail(format!("rewritten values refused:\n{p}"))),
        };
        let ids = |r: &Rendered| r.objects.iter().map(|o| o.identity.clone()).collect::<Vec<_>>();
        prop_assert_eq!(ids(&before), ids(&after));
        // Read back from the text, nothing the fields hold became structure.
        let text_before = identities_from_text(&before);
        prop_assert_eq!(&text_before, &identities_from_text(&after));
        let from_ids: Vec<_> = before
            .objects
            .iter()
            .map(|o| (o.identity.kind.clone(), o.identity.namespace.clone(), o.identity.name.clone()))
            .collect();
        prop_assert_eq!(text_before, from_ids);
        check(&rewritten, &after).map_err(TestCaseError::fail)?;
    }
}
