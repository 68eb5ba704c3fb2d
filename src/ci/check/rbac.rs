//! Kubernetes RBAC evaluated statically for one question: may service account NS/SA create and
//! patch `workflowtaskresults.argoproj.io` in NS (what Argo >= 3.4's executor does to report
//! outputs). Follows RoleBinding -> Role, RoleBinding -> ClusterRole and ClusterRoleBinding ->
//! ClusterRole, subjects of kind ServiceAccount (namespace defaulting to the binding's), the
//! service-account User name and the `system:serviceaccounts[:NS]`/`system:authenticated` groups,
//! and ClusterRole aggregation by `matchLabels`. Rules with `resourceNames` never grant `create`.

use super::resolve::{Index, namespace_of};
use crate::ci::manifests::Manifest;
use crate::yaml::Node;
use std::collections::BTreeSet;

use crate::rules::k8s::RBAC_GROUP as RBAC;

/// What the bindings grant on workflowtaskresults, and through which bindings.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    pub verbs: BTreeSet<String>,
    /// `RoleBinding ns/x -> Role ns/y`, one per binding that contributed.
    pub via: Vec<String>,
}

impl Grant {
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.contains(verb) || self.verbs.contains("*")
    }
}

fn strs(node: Option<&Node>) -> Vec<&str> {
    match node {
        Some(Node::Seq(v)) => v.iter().filter_map(Node::as_str).collect(),
        _ => Vec::new(),
    }
}

fn subject_matches(subject: &Node, binding_ns: &str, ns: &str, sa: &str) -> bool {
    let s = |k: &str| subject.get(k).and_then(Node::as_str).unwrap_or("");
    match s("kind") {
        "ServiceAccount" => {
            let sns = if s("namespace").is_empty() {
                binding_ns
            } else {
                s("namespace")
            };
            s("name") == sa && sns == ns
        }
        "User" => s("name") == format!("system:serviceaccount:{ns}:{sa}"),
        "Group" => {
            let g = s("name");
            g == "system:serviceaccounts"
                || g == format!("system:serviceaccounts:{ns}")
                || g == "system:authenticated"
        }
        _ => false,
    }
}

fn rules_of<'a>(index: &Index<'a>, role: &'a Manifest) -> Vec<&'a Node> {
    let mut rules: Vec<&Node> = match role.get(&["rules"]) {
        Some(Node::Seq(v)) => v.iter().collect(),
        _ => Vec::new(),
    };
    if let Some(Node::Seq(selectors)) = role.get(&["aggregationRule", "clusterRoleSelectors"]) {
        for sel in selectors {
            let Some(want) = sel.get("matchLabels").and_then(Node::as_map) else {
                continue;
            };
            for other in index.of_kind(RBAC, "ClusterRole") {
                if std::ptr::eq(other, role) {
                    continue;
                }
                let ok = want
                    .iter()
                    .all(|(k, v)| v.as_str().is_some_and(|v| other.label(k) == Some(v)));
                if ok && let Some(Node::Seq(v)) = other.get(&["rules"]) {
                    rules.extend(v.iter());
                }
            }
        }
    }
    rules
}

fn verbs_granted(rules: &[&Node], resource: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in rules {
        let groups = strs(rule.get("apiGroups"));
        let resources = strs(rule.get("resources"));
        if !groups.iter().any(|g| *g == "argoproj.io" || *g == "*") {
            continue;
        }
        if !resources.iter().any(|r| *r == resource || *r == "*") {
            continue;
        }
        // A rule limited to named objects cannot grant create (the name is not known yet), and
        // Argo's executor patches results it names after the pod: treat it as granting neither.
        if !strs(rule.get("resourceNames")).is_empty() {
            continue;
        }
        out.extend(strs(rule.get("verbs")).into_iter().map(str::to_string));
    }
    out
}

/// What NS/SA may do with workflowtaskresults in NS.
pub fn taskresult_grant(index: &Index, ns: &str, sa: &str) -> Grant {
    grant(index, ns, sa, "workflowtaskresults")
}

/// Whether NS/SA may do what Argo's artifact GC pods do: `list`/`watch` `workflowartifactgctasks`
/// and `patch` their status (docs/walk-through/artifacts.md). The missing permissions, and the
/// bindings that grant the others.
pub fn artifact_gc_grant(index: &Index, ns: &str, sa: &str) -> (Vec<&'static str>, Vec<String>) {
    let tasks = grant(index, ns, sa, "workflowartifactgctasks");
    let status = grant(index, ns, sa, "workflowartifactgctasks/status");
    let mut missing = Vec::new();
    for v in ["list", "watch"] {
        if !tasks.allows(v) {
            missing.push(if v == "list" {
                "list workflowartifactgctasks"
            } else {
                "watch workflowartifactgctasks"
            });
        }
    }
    if !status.allows("patch") {
        missing.push("patch workflowartifactgctasks/status");
    }
    let mut via = tasks.via;
    via.extend(status.via);
    via.sort();
    via.dedup();
    (missing, via)
}

/// What NS/SA may do with `resource` (an `argoproj.io` resource, or `resource/status`) in NS.
pub fn grant(index: &Index, ns: &str, sa: &str, resource: &str) -> Grant {
    let mut grant = Grant::default();
    let bindings = index
        .of_kind(RBAC, "RoleBinding")
        .filter(|b| namespace_of(b) == ns)
        .chain(index.of_kind(RBAC, "ClusterRoleBinding"));
    for b in bindings {
        let bns = namespace_of(b);
        let Some(Node::Seq(subjects)) = b.get(&["subjects"]) else {
            continue;
        };
        if !subjects.iter().any(|s| subject_matches(s, &bns, ns, sa)) {
            continue;
        }
        let rkind = b
            .get(&["roleRef", "kind"])
            .and_then(Node::as_str)
            .unwrap_or("");
        let rname = b
            .get(&["roleRef", "name"])
            .and_then(Node::as_str)
            .unwrap_or("");
        let role = match rkind {
            "Role" if b.identity.kind == "RoleBinding" => index.find(RBAC, "Role", &bns, rname),
            "ClusterRole" => index.find(RBAC, "ClusterRole", "", rname),
            _ => None,
        };
        let Some(role) = role else { continue };
        let verbs = verbs_granted(&rules_of(index, role), resource);
        if verbs.is_empty() {
            continue;
        }
        grant.verbs.extend(verbs);
        grant
            .via
            .push(format!("{} -> {}", display(b), display(role)));
    }
    grant
}

fn display(m: &Manifest) -> String {
    let ns = namespace_of(m);
    if ns.is_empty() {
        format!("{} {}", m.identity.kind, m.identity.name)
    } else {
        format!("{} {ns}/{}", m.identity.kind, m.identity.name)
    }
}
