//! `artifact-repos explain`: the chain Argo would follow for one workflow, without a cluster: where
//! its pods run, which template it merges, each namespace searched for the ConfigMap and key, the
//! repository found (endpoint, bucket, region, key format, where artifacts land), each credential
//! Secret and what produces it (an ExternalSecret and its Vault path, or a Secret), and the service
//! account's workflowtaskresults permissions. Uses the same resolution code as `check`. Pure: text
//! out, plus whether the chain holds.

use crate::ci::check::resolve::{self, Index, StepResult, TemplateLink};
use crate::ci::check::{Options, producers, rbac, repository};
use crate::ci::manifests::Manifest;
use crate::yaml::Node;

/// The explanation and whether the chain is complete (a repository found, its credentials
/// produced, the service account able to report results).
pub struct Explanation {
    pub text: String,
    pub complete: bool,
}

fn scalar(n: Option<&Node>) -> Option<String> {
    match n? {
        Node::Str(s) => Some(s.clone()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// Who the repository's pods are to the storage: Secret references, or the pod's cloud identity
/// through its service account's annotations (IRSA, GKE, Azure workload identity).
fn identity(b: &crate::rules::argo::Backend, block: &Node, account: &str) -> String {
    let secrets: Vec<String> = b
        .credentials
        .iter()
        .filter(|c| c.required)
        .filter_map(|c| {
            let mut n = block.get(c.field[0])?;
            for k in &c.field[1..] {
                n = n.get(k)?;
            }
            Some(format!("`{}`", c.field.join(".")))
        })
        .collect();
    let sdk = matches!(block.get("useSDKCreds"), Some(Node::Bool(true)));
    let role = scalar(block.get("roleARN"))
        .map(|r| format!(", assuming role `{r}`"))
        .unwrap_or_default();
    if sdk || (secrets.is_empty() && b.key == "gcs") {
        format!(
            "the pod's cloud identity (no key Secret): the annotations of service account `{account}` (IRSA, GKE or Azure workload identity){role}"
        )
    } else if secrets.is_empty() {
        format!("none given: Argo falls back to the SDK's default chain{role}")
    } else {
        format!("keys from Secrets ({}){role}", secrets.join(", "))
    }
}

/// Server-side encryption, as Argo's `encryptionOptions` asks for it.
fn encryption(options: Option<&Node>) -> String {
    let Some(o) = options else {
        return "not set: the bucket's default encryption".into();
    };
    let kms = scalar(o.get("kmsKeyId"));
    let enabled = matches!(o.get("enableEncryption"), Some(Node::Bool(true)));
    let sse_c = o.get("serverSideCustomerKeySecret").map(|s| {
        format!(
            "SSE-C with the key in Secret `{}` key `{}`",
            scalar(s.get("name")).unwrap_or_default(),
            scalar(s.get("key")).unwrap_or_default()
        )
    });
    match (enabled, sse_c, kms) {
        (false, _, _) => "not enabled: Argo encrypts only with `enableEncryption: true` (the bucket's default applies)".into(),
        (true, Some(c), _) => c,
        (true, None, Some(k)) => {
            let context = scalar(o.get("kmsEncryptionContext"))
                .map(|c| format!(", context `{c}`"))
                .unwrap_or_default();
            format!("SSE-KMS with key `{k}`{context}")
        }
        (true, None, None) => "SSE-S3".into(),
    }
}

/// Explains every workflow-like object of `workflows` against `manifests`. `namespace` overrides
/// where the workflows run (as `argo submit -n` would).
pub fn explain(
    workflows: &[Manifest],
    manifests: &[Manifest],
    namespace: Option<&str>,
    options: &Options,
) -> Explanation {
    // One index over both inputs, the manifests first (the first of two equal identities wins),
    // without copying either.
    let index = Index::new(
        manifests.iter().chain(workflows),
        &options.controller_namespace,
    );
    let mut out = String::new();
    let mut complete = true;
    let mut any = false;
    for m in workflows {
        let ns_override = namespace.map(str::to_string).or_else(|| {
            (m.identity.namespace.is_empty() && m.identity.kind != "ClusterWorkflowTemplate")
                .then(|| "default".to_string())
        });
        let Some(w) = resolve::workload(&index, m, ns_override.as_deref()) else {
            continue;
        };
        if any {
            out.push('\n');
        }
        any = true;
        let mut ok = true;
        // Lines quote names and values from the manifests: each is made terminal-safe before its
        // line break, so no value can forge a line or reach the terminal raw.
        let mut line = |s: String| {
            out.push_str(&crate::error::terminal_safe(&s));
            out.push('\n');
        };
        line(format!("{} ({})", m.identity, m.location()));
        if w.namespace.is_empty() {
            line("runs in: the namespace of each workflow submitted from it (pass -n NAMESPACE to pick one)".into());
            continue;
        }
        let note = if namespace.is_none() && m.identity.namespace.is_empty() {
            " (the object names none; pass -n to choose)"
        } else {
            ""
        };
        line(format!("runs in namespace: {}{note}", w.namespace));
        match &w.template {
            TemplateLink::None => {}
            TemplateLink::Found(t) => line(format!(
                "template: {} (merged: the workflow's own fields win)",
                t.identity
            )),
            TemplateLink::Missing { kind, name, .. } => {
                ok = false;
                line(format!(
                    "template: {kind} `{name}` is not in the manifests: its settings are unknown"
                ));
            }
        }
        match &w.repo_ref {
            Some(r) => line(format!(
                "artifactRepositoryRef: configMap `{}`, key {} ({} of {})",
                r.configmap,
                r.key.as_ref().map(|k| format!("`{k}`")).unwrap_or_else(|| "from the ConfigMap's default annotation".into()),
                r.field,
                r.from.identity
            )),
            None => line("artifactRepositoryRef: not set: Argo uses the default of the workflow's own namespace, then the controller's".into()),
        }
        let res = resolve::resolve(&index, &w.namespace, w.repo_ref.as_ref());
        line("search:".into());
        for (i, s) in res.steps.iter().enumerate() {
            let what = match &s.result {
                StepResult::NoConfigMap => format!("no ConfigMap `{}`: next", s.configmap),
                StepResult::NoKey { key, .. } if key.is_empty() => format!(
                    "ConfigMap `{}` names no key (no `{}` annotation): next",
                    s.configmap,
                    resolve::DEFAULT_KEY_ANNOTATION
                ),
                StepResult::NoKey { key, .. } => {
                    format!("ConfigMap `{}` has no key `{key}`: next", s.configmap)
                }
                StepResult::Found { key } => {
                    format!("ConfigMap `{}` key `{key}`: used", s.configmap)
                }
            };
            line(format!("  {}. namespace {}: {what}", i + 1, s.namespace));
        }
        let Some(found) = res.found else {
            if let Some(ctrl) = res.controller_default {
                let n = res.steps.len() + 1;
                match ctrl {
                    Some(cm) => line(format!(
                        "  {n}. the controller's default: `artifactRepository` in {} ({})",
                        cm.identity,
                        cm.location()
                    )),
                    None => {
                        ok = false;
                        line(format!(
                            "  {n}. the controller's default (`artifactRepository` in workflow-controller-configmap): not in the manifests"
                        ));
                    }
                }
            } else {
                ok = false;
                line("result: the workflow errors: failed to find any artifact repository".into());
            }
            out.push_str(&format!(
                "chain: {}\n",
                if ok { "complete" } else { "broken" }
            ));
            complete &= ok;
            continue;
        };
        line(format!(
            "repository: ConfigMap {}/{} key `{}` ({})",
            found.namespace,
            found.configmap.identity.name,
            found.key,
            found.configmap.location()
        ));
        match repository::parse(&found.value, options.argo_version) {
            Err(e) => {
                ok = false;
                line(format!(
                    "  the value does not parse: {e}: the workflow errors"
                ));
            }
            Ok(repo) => {
                if let Some(v) = repo
                    .value
                    .as_ref()
                    .and_then(|v| scalar(v.get("archiveLogs")))
                {
                    line(format!("  archiveLogs: {v}"));
                }
                line(format!(
                    "  storage: {}",
                    if repo.storage.is_empty() {
                        "none".to_string()
                    } else {
                        repo.storage.join(", ")
                    }
                ));
                let backend = crate::rules::argo::BACKENDS.iter().find_map(|b| {
                    repo.value
                        .as_ref()
                        .and_then(|v| v.get(b.key))
                        .map(|block| (b, block))
                });
                if let Some((b, block)) = backend {
                    let get = |k: &str| scalar(block.get(k));
                    for (k, label) in [
                        ("endpoint", "endpoint"),
                        (b.location, b.location),
                        ("region", "region"),
                        ("insecure", "insecure"),
                        ("addressingStyle", "addressing style"),
                        ("roleARN", "role ARN"),
                    ] {
                        if let Some(v) = get(k) {
                            line(format!("  {label}: {v}"));
                        }
                    }
                    line(format!(
                        "  identity: {}",
                        identity(b, block, &w.service_account.name)
                    ));
                    if b.key == "s3" {
                        line(format!(
                            "  encryption: {}",
                            encryption(block.get("encryptionOptions"))
                        ));
                        if let Some(ca) = block.get("caSecret") {
                            line(format!(
                                "  CA bundle: Secret `{}` key `{}` (a private CA)",
                                scalar(ca.get("name")).unwrap_or_default(),
                                scalar(ca.get("key")).unwrap_or_default()
                            ));
                        }
                    }
                    let location = get(b.location).unwrap_or_default();
                    let format_key = b.key_format.unwrap_or("keyFormat");
                    let key_format = get(format_key);
                    let prefix = get("keyPrefix");
                    let key = match (&key_format, &prefix) {
                        (Some(f), _) => {
                            line(format!("  key format: {f}"));
                            f.clone()
                        }
                        (None, Some(p)) => {
                            line(format!(
                                "  key format: not set: Argo's default `{{{{workflow.name}}}}/{{{{pod.name}}}}` under keyPrefix `{p}` (keyPrefix is deprecated: prefer keyFormat)"
                            ));
                            crate::rules::formats::argo_key_join(
                                p,
                                "{{workflow.name}}/{{pod.name}}",
                            )
                        }
                        (None, None) => {
                            line(format!(
                                "  key format: not set: Argo's default `{{{{workflow.name}}}}/{{{{pod.name}}}}`{}",
                                if format_key == "keyFormat" {
                                    String::new()
                                } else {
                                    format!(" (`{format_key}`)")
                                }
                            ));
                            "{{workflow.name}}/{{pod.name}}".into()
                        }
                    };
                    if b.scheme.is_empty() {
                        line(format!("  artifacts land in: {location}/{key}/<artifact>"));
                    } else {
                        line(format!(
                            "  artifacts land in: {}://{location}/{key}/<artifact>",
                            b.scheme
                        ));
                    }
                }
                for issue in &repo.issues {
                    line(format!("  problem: {}: {}", issue.field, issue.message));
                }
                if !repo.secrets.is_empty() {
                    line(format!(
                        "credentials (Secrets in {}, the workflow's namespace):",
                        w.namespace
                    ));
                }
                for s in &repo.secrets {
                    line(format!(
                        "  {}: Secret `{}` key `{}`",
                        s.field, s.name, s.key
                    ));
                    let prods = producers(&index, &w.namespace, &s.name);
                    if prods.is_empty() {
                        ok = false;
                        line(format!(
                            "    not produced in {}: the workflow's pods cannot start",
                            w.namespace
                        ));
                    }
                    for p in prods {
                        if p.object.identity.kind == "ConfigMap" {
                            line(format!(
                                "    managed by you (existingSecret), not in these manifests: declared by {} ({}); it must exist in {} with key `{}`",
                                p.object.identity,
                                p.object.location(),
                                w.namespace,
                                s.key
                            ));
                            continue;
                        }
                        let mut desc = format!(
                            "    produced by {} ({})",
                            p.object.identity,
                            p.object.location()
                        );
                        if p.object.identity.kind == "ExternalSecret" {
                            let store = p.object.get(&["spec", "secretStoreRef"]);
                            let sk = scalar(store.and_then(|s| s.get("kind")))
                                .unwrap_or_else(|| "SecretStore".into());
                            let sn = scalar(store.and_then(|s| s.get("name"))).unwrap_or_default();
                            desc.push_str(&format!(": {sk} `{sn}`"));
                            let entry = match p.object.get(&["spec", "data"]) {
                                Some(Node::Seq(items)) => items.iter().find(|i| {
                                    i.get("secretKey").and_then(Node::as_str) == Some(&s.key)
                                }),
                                _ => None,
                            };
                            if let Some(e) = entry {
                                let rk = scalar(e.get("remoteRef").and_then(|r| r.get("key")))
                                    .unwrap_or_default();
                                desc.push_str(&format!(", Vault path `{rk}`"));
                                if let Some(prop) =
                                    scalar(e.get("remoteRef").and_then(|r| r.get("property")))
                                {
                                    desc.push_str(&format!(" property `{prop}`"));
                                }
                            } else if let Some(Node::Seq(items)) =
                                p.object.get(&["spec", "dataFrom"])
                            {
                                let keys: Vec<String> = items
                                    .iter()
                                    .filter_map(|i| {
                                        scalar(i.get("extract").and_then(|e| e.get("key")))
                                    })
                                    .collect();
                                desc.push_str(&format!(
                                    ", every property of Vault path {}",
                                    keys.iter()
                                        .map(|k| format!("`{k}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ));
                            } else {
                                ok = false;
                                desc.push_str(&format!(": yields no key `{}`", s.key));
                            }
                        } else if p.keys.as_ref().is_some_and(|k| !k.contains(&s.key)) {
                            ok = false;
                            desc.push_str(&format!(": has no key `{}`", s.key));
                        }
                        if !p.creates {
                            ok = false;
                            desc.push_str(" (creationPolicy creates no Secret)");
                        }
                        line(desc);
                    }
                }
            }
        }
        let sa = &w.service_account;
        let exists = sa.name == "default"
            || index
                .find("", "ServiceAccount", &w.namespace, &sa.name)
                .is_some();
        let grant = rbac::taskresult_grant(&index, &w.namespace, &sa.name);
        let can = grant.allows("create") && grant.allows("patch");
        ok &= exists && can;
        line(format!(
            "service account: {}{}; workflowtaskresults create+patch: {}",
            sa.name,
            if exists {
                ""
            } else {
                " (not in the manifests)"
            },
            if can {
                format!("granted via {}", grant.via.join(", "))
            } else {
                "NOT granted".into()
            }
        ));
        // The cloud identity the service account gives the pods.
        if let Some(acct) = index.find("", "ServiceAccount", &w.namespace, &sa.name) {
            let ids: Vec<String> = [
                crate::rules::k8s::identity::AWS_ROLE_ARN,
                crate::rules::k8s::identity::GCP_SERVICE_ACCOUNT,
                crate::rules::k8s::identity::AZURE_CLIENT_ID,
            ]
            .iter()
            .filter_map(|k| {
                scalar(acct.get(&["metadata", "annotations", k])).map(|v| format!("{k}: {v}"))
            })
            .collect();
            if !ids.is_empty() {
                out.push_str(&format!("workload identity: {}\n", ids.join(", ")));
            }
        }
        match resolve::spec_field(&w, "artifactGC") {
            None => out.push_str("artifact GC: not set: Argo never deletes the artifacts\n"),
            Some((gc, _)) => match resolve::artifact_gc(&w) {
                None => out.push_str(&format!(
                    "artifact GC: strategy `{}`: artifacts are kept\n",
                    scalar(gc.get("strategy")).unwrap_or_default()
                )),
                Some((strategy, gc_sa, _)) => {
                    let exists = gc_sa == "default"
                        || index
                            .find("", "ServiceAccount", &w.namespace, &gc_sa)
                            .is_some();
                    let (missing, via) = rbac::artifact_gc_grant(&index, &w.namespace, &gc_sa);
                    let gc_ok = exists && missing.is_empty();
                    ok &= gc_ok;
                    out.push_str(&format!(
                        "artifact GC: strategy `{strategy}`, GC pods run as {}{}; workflowartifactgctasks list+watch, status patch: {}\n",
                        gc_sa,
                        if exists { "" } else { " (not in the manifests)" },
                        if missing.is_empty() {
                            format!("granted via {}", via.join(", "))
                        } else {
                            format!("NOT granted ({})", missing.join(", "))
                        }
                    ));
                }
            },
        }
        out.push_str(&format!(
            "chain: {}\n",
            if ok { "complete" } else { "broken" }
        ));
        complete &= ok;
    }
    if !any {
        out.push_str(
            "no Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow in the input\n",
        );
        complete = false;
    }
    Explanation {
        text: out,
        complete,
    }
}
