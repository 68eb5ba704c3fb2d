//! Kubernetes RBAC evaluated statically for one question: may service account NS/SA create and
//! patch `workflowtaskresults.argoproj.io` in NS (what Argo >= 3.4's executor does to report
//! outputs). Follows RoleBinding -> Role, RoleBinding -> ClusterRole and ClusterRoleBinding ->
//! ClusterRole, subjects of kind ServiceAccount (namespace defaulting to the binding's), the
//! service-account User name and the `system:serviceaccounts[:NS]`/`system:authenticated` groups,
//! and ClusterRole aggregation by `matchLabels`. Rules with `resourceNames` never grant `create`.

use super::resolve::{Index, namespace_of};
use crate::ci::manifests::Manifest;
use crate::yaml::Node;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

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

/// What a subject is indexed by: (kind, namespace, name), the namespace only for a ServiceAccount.
type SubjectKey = (Subject, String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    Account,
    User,
    Group,
}

/// The key of a subject: a ServiceAccount (its namespace defaulting to the binding's), a User or a
/// Group; `None` for kinds that never name a service account.
fn subject_key(subject: &Node, binding_ns: &str) -> Option<SubjectKey> {
    let s = |k: &str| subject.get(k).and_then(Node::as_str).unwrap_or("");
    match s("kind") {
        "ServiceAccount" => {
            let sns = if s("namespace").is_empty() {
                binding_ns
            } else {
                s("namespace")
            };
            Some((Subject::Account, sns.to_string(), s("name").to_string()))
        }
        "User" => Some((Subject::User, String::new(), s("name").to_string())),
        "Group" => Some((Subject::Group, String::new(), s("name").to_string())),
        _ => None,
    }
}

/// The subject keys that name service account NS/SA: itself, its User name, and the groups
/// `system:serviceaccounts:NS`, `system:serviceaccounts` and `system:authenticated`.
fn keys_of(ns: &str, sa: &str) -> [SubjectKey; 5] {
    let group = |name: String| (Subject::Group, String::new(), name);
    [
        (Subject::Account, ns.to_string(), sa.to_string()),
        (
            Subject::User,
            String::new(),
            format!("system:serviceaccount:{ns}:{sa}"),
        ),
        group(format!("system:serviceaccounts:{ns}")),
        group("system:serviceaccounts".into()),
        group("system:authenticated".into()),
    ]
}

/// (RoleBindings of a namespace, or `None` for ClusterRoleBindings; subject; resource).
type SubjectQuestion = (Option<String>, SubjectKey, String);

/// Verbs granted, shared by every question that has the same answer.
type Verbs = Rc<BTreeSet<String>>;

/// A binding with its position among the bindings of its kind (stream order).
type Bindings<'a> = Vec<(usize, &'a Manifest)>;

/// The bindings indexed by subject, and ClusterRoles by label, built once per stream (`Index`), with
/// the answers that do not depend on the one service account asked about remembered: the verbs a
/// binding grants, a role's rules with aggregation, the verbs granted to a group. Asking for every
/// workflow of a stream so costs time proportional to the stream (issue 20), where walking every
/// binding for every workflow cost the two multiplied.
#[derive(Default)]
pub struct RbacIndex<'a> {
    /// Binding namespace -> subject key -> RoleBindings.
    role_bindings: HashMap<String, HashMap<SubjectKey, Bindings<'a>>>,
    /// Subject key -> ClusterRoleBindings.
    cluster_bindings: HashMap<SubjectKey, Bindings<'a>>,
    /// `KEY\0VALUE` of every label -> ClusterRoles, and every ClusterRole (for a selector that
    /// names no label).
    roles_by_label: HashMap<String, Vec<&'a Manifest>>,
    cluster_roles: Vec<&'a Manifest>,
    rules: RefCell<HashMap<*const Manifest, Rc<Vec<&'a Node>>>>,
    binding_verbs: RefCell<HashMap<(*const Manifest, String), Verbs>>,
    /// (RoleBindings of NS, or `None` for ClusterRoleBindings; subject key; resource) -> verbs.
    subject_verbs: RefCell<HashMap<SubjectQuestion, Verbs>>,
}

impl<'a> RbacIndex<'a> {
    pub fn new(
        role_bindings: &[&'a Manifest],
        cluster_bindings: &[&'a Manifest],
        cluster_roles: &[&'a Manifest],
    ) -> Self {
        let mut index = RbacIndex::default();
        for (i, &b) in role_bindings.iter().enumerate() {
            let bns = namespace_of(b);
            let by_subject = index.role_bindings.entry(bns.clone()).or_default();
            for key in subjects(b, &bns) {
                push_once(by_subject.entry(key).or_default(), i, b);
            }
        }
        for (i, &b) in cluster_bindings.iter().enumerate() {
            for key in subjects(b, &namespace_of(b)) {
                push_once(index.cluster_bindings.entry(key).or_default(), i, b);
            }
        }
        for &role in cluster_roles {
            if let Some(labels) = role.get(&["metadata", "labels"]).and_then(Node::as_map) {
                for (k, v) in labels {
                    if let Some(v) = v.as_str() {
                        index
                            .roles_by_label
                            .entry(format!("{k}\0{v}"))
                            .or_default()
                            .push(role);
                    }
                }
            }
        }
        index.cluster_roles = cluster_roles.to_vec();
        index
    }

    /// The bindings that name NS/SA through one of its subject keys, RoleBindings of NS first, each
    /// list in stream order, each binding once.
    fn bindings(&self, ns: &str, sa: &str) -> Vec<&'a Manifest> {
        let (mut roles, mut clusters): (Bindings, Bindings) = (Vec::new(), Vec::new());
        let in_ns = self.role_bindings.get(ns);
        for key in keys_of(ns, sa) {
            if let Some(v) = in_ns.and_then(|m| m.get(&key)) {
                roles.extend(v);
            }
            if let Some(v) = self.cluster_bindings.get(&key) {
                clusters.extend(v);
            }
        }
        let mut out = Vec::new();
        for mut list in [roles, clusters] {
            list.sort_by_key(|(i, _)| *i);
            list.dedup_by_key(|(i, _)| *i);
            out.extend(list.into_iter().map(|(_, b)| b));
        }
        out
    }
}

/// Adds a binding to a list unless it is its last entry already (a binding naming one subject
/// twice).
fn push_once<'a>(list: &mut Bindings<'a>, i: usize, b: &'a Manifest) {
    if list.last().is_none_or(|(j, _)| *j != i) {
        list.push((i, b));
    }
}

/// The subject keys of a binding.
fn subjects(b: &Manifest, bns: &str) -> Vec<SubjectKey> {
    match b.get(&["subjects"]) {
        Some(Node::Seq(subjects)) => subjects
            .iter()
            .filter_map(|s| subject_key(s, bns))
            .collect(),
        _ => Vec::new(),
    }
}

/// A role's rules, with those of the ClusterRoles its aggregation rule selects.
fn rules_of<'a>(index: &Index<'a>, role: &'a Manifest) -> Rc<Vec<&'a Node>> {
    let rbac = &index.rbac;
    if let Some(r) = rbac.rules.borrow().get(&std::ptr::from_ref(role)) {
        return r.clone();
    }
    let mut rules: Vec<&Node> = match role.get(&["rules"]) {
        Some(Node::Seq(v)) => v.iter().collect(),
        _ => Vec::new(),
    };
    if let Some(Node::Seq(selectors)) = role.get(&["aggregationRule", "clusterRoleSelectors"]) {
        for sel in selectors {
            let Some(want) = sel.get("matchLabels").and_then(Node::as_map) else {
                continue;
            };
            // The ClusterRoles with the selector's first label (every one when it names none),
            // in stream order; each must have every other label too.
            let candidates: &[&Manifest] = match want.iter().next() {
                None => &rbac.cluster_roles,
                Some((k, v)) => match v.as_str() {
                    Some(v) => rbac
                        .roles_by_label
                        .get(&format!("{k}\0{v}"))
                        .map_or(&[], Vec::as_slice),
                    None => &[],
                },
            };
            for &other in candidates {
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
    let rules = Rc::new(rules);
    rbac.rules
        .borrow_mut()
        .insert(std::ptr::from_ref(role), rules.clone());
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

/// `taskresult_grant` without `via`: what `check` asks for every workflow.
pub fn taskresult_verbs(index: &Index, ns: &str, sa: &str) -> Grant {
    verbs(index, ns, sa, "workflowtaskresults")
}

/// Whether NS/SA may do what Argo's artifact GC pods do: `list`/`watch` `workflowartifactgctasks`
/// and `patch` their status (docs/walk-through/artifacts.md). The missing permissions, and the
/// bindings that grant the others.
pub fn artifact_gc_grant(index: &Index, ns: &str, sa: &str) -> (Vec<&'static str>, Vec<String>) {
    artifact_gc(index, ns, sa, grant)
}

/// `artifact_gc_grant` without the bindings: what `check` asks for every workflow.
pub fn artifact_gc_missing(index: &Index, ns: &str, sa: &str) -> Vec<&'static str> {
    artifact_gc(index, ns, sa, verbs).0
}

fn artifact_gc(
    index: &Index,
    ns: &str,
    sa: &str,
    grant: fn(&Index, &str, &str, &str) -> Grant,
) -> (Vec<&'static str>, Vec<String>) {
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

/// What NS/SA may do with `resource` (an `argoproj.io` resource, or `resource/status`) in NS, and
/// through which bindings.
pub fn grant(index: &Index, ns: &str, sa: &str, resource: &str) -> Grant {
    let mut grant = Grant::default();
    for b in index.rbac.bindings(ns, sa) {
        let Some((role, verbs)) = binding_grant(index, b, resource) else {
            continue;
        };
        if verbs.is_empty() {
            continue;
        }
        grant.verbs.extend(verbs.iter().cloned());
        grant
            .via
            .push(format!("{} -> {}", display(b), display(role)));
    }
    grant
}

/// `grant`'s verbs alone (`via` empty). What a subject is granted is the same for every workflow
/// that runs as an account it names (a group names many), so it is worked out once per subject,
/// binding scope and resource, and reused.
pub fn verbs<'a>(index: &Index<'a>, ns: &str, sa: &str, resource: &str) -> Grant {
    let rbac = &index.rbac;
    let mut grant = Grant::default();
    for key in keys_of(ns, sa) {
        for scope in [Some(ns), None] {
            let bindings = match scope {
                Some(ns) => rbac.role_bindings.get(ns).and_then(|m| m.get(&key)),
                None => rbac.cluster_bindings.get(&key),
            };
            let Some(bindings) = bindings else { continue };
            let union = |bindings: &Bindings<'a>| {
                let mut verbs = BTreeSet::new();
                for &(_, b) in bindings {
                    if let Some((_, v)) = binding_grant(index, b, resource) {
                        verbs.extend(v.iter().cloned());
                    }
                }
                verbs
            };
            let memo = (scope.map(str::to_string), key.clone(), resource.to_string());
            let known = rbac.subject_verbs.borrow().get(&memo).cloned();
            let verbs = match known {
                Some(v) => v,
                None => {
                    let v = Rc::new(union(bindings));
                    rbac.subject_verbs.borrow_mut().insert(memo, v.clone());
                    v
                }
            };
            grant.verbs.extend(verbs.iter().cloned());
        }
    }
    grant
}

/// The role a binding refers to and the verbs its rules grant on `resource`; `None` when the role
/// is not in the stream (or a ClusterRoleBinding names a Role).
fn binding_grant<'a>(
    index: &Index<'a>,
    b: &'a Manifest,
    resource: &str,
) -> Option<(&'a Manifest, Rc<BTreeSet<String>>)> {
    let rkind = b
        .get(&["roleRef", "kind"])
        .and_then(Node::as_str)
        .unwrap_or("");
    let rname = b
        .get(&["roleRef", "name"])
        .and_then(Node::as_str)
        .unwrap_or("");
    let role = match rkind {
        "Role" if b.identity.kind == "RoleBinding" => {
            index.find(RBAC, "Role", &namespace_of(b), rname)
        }
        "ClusterRole" => index.find(RBAC, "ClusterRole", "", rname),
        _ => None,
    }?;
    let memo = (std::ptr::from_ref(b), resource.to_string());
    if let Some(v) = index.rbac.binding_verbs.borrow().get(&memo) {
        return Some((role, v.clone()));
    }
    let verbs = Rc::new(verbs_granted(&rules_of(index, role), resource));
    index
        .rbac
        .binding_verbs
        .borrow_mut()
        .insert(memo, verbs.clone());
    Some((role, verbs))
}

fn display(m: &Manifest) -> String {
    let ns = namespace_of(m);
    if ns.is_empty() {
        format!("{} {}", m.identity.kind, m.identity.name)
    } else {
        format!("{} {ns}/{}", m.identity.kind, m.identity.name)
    }
}
