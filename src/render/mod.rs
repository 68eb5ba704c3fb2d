//! Rendering: turns the checked `Model` into typed Kubernetes objects and serializes them as one
//! stream in Helm's install order. Pure: no I/O, no failure on user input except the size limits
//! that only the rendered bytes can reveal (a ConfigMap over 1 MiB).

pub mod custom;
pub mod manifest;
pub mod objects;
pub mod order;

use crate::error::{Problem, Problems};
use crate::model::{Credentials, Layout, Model, Registration};
use crate::rules::identity::{Document, Identity};
use crate::yaml::Node;
use manifest::{Manifest, Object as Typed};
use objects::Ctx;

pub use crate::rules::k8s::CONFIGMAP_LIMIT;

/// The release name `render` labels objects with when not told another (`--release-name`).
pub const DEFAULT_RELEASE_NAME: &str = "artifact-repos";

/// Who is rendering: labels name the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub namespace: Option<String>,
}

impl Default for Release {
    fn default() -> Self {
        Release {
            name: DEFAULT_RELEASE_NAME.into(),
            namespace: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub release: Release,
    /// Annotations added to every generated object (Helm 4's post-renderer filename).
    pub extra_annotations: Vec<(String, String)>,
    /// Who the `app.kubernetes.io/managed-by` label names.
    pub managed_by: ManagedBy,
}

/// The value of `app.kubernetes.io/managed-by`: what is left on the object once applied. Helm
/// sets `Helm` on everything it installs whatever the manifest says (facts.md 11, Helm's
/// `pkg/action/validate.go`), so post-render output says `Helm`; standalone `render` output is
/// applied by whoever runs it and names the tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ManagedBy {
    #[default]
    Tool,
    Helm,
}

impl ManagedBy {
    pub fn label(self) -> &'static str {
        match self {
            ManagedBy::Tool => crate::rules::k8s::labels::TOOL,
            ManagedBy::Helm => "Helm",
        }
    }
}

/// One generated object as a JSON tree (`-o json`, and tests that inspect objects).
#[derive(Debug, Clone)]
pub struct Object {
    pub identity: Identity,
    /// The object as a JSON tree in field order (serde_json with `preserve_order`).
    pub value: serde_json::Value,
}

/// The result of rendering to JSON trees: objects in output order, and warnings for stderr.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub warnings: Vec<Problem>,
}

/// Validates merged values and renders every object as a JSON tree.
pub fn render(values: &Node, options: &Options) -> Result<Rendered, Problems> {
    let (model, warnings) = crate::values::validate::validate(values)?;
    let objects = render_with(&model, options, &mut JsonSink)?
        .into_iter()
        .map(|(identity, value)| Object { identity, value })
        .collect();
    Ok(Rendered { objects, warnings })
}

/// Validates merged values and renders every object as a YAML document, with the warnings for
/// stderr. The documents, each after `---\n`, are the bytes of `to_yaml_stream(&render(..))`.
pub fn render_docs(
    values: &Node,
    options: &Options,
) -> Result<(Vec<Document>, Vec<Problem>), Problems> {
    let (model, warnings) = crate::values::validate::validate(values)?;
    let docs = render_with(&model, options, &mut YamlSink)?
        .into_iter()
        .map(|(identity, yaml)| Document { identity, yaml })
        .collect();
    Ok((docs, warnings))
}

/// One YAML document per object, each introduced by `---`.
pub fn to_yaml_stream(rendered: &Rendered) -> String {
    let mut out = String::new();
    for o in &rendered.objects {
        out.push_str("---\n");
        out.push_str(&crate::yaml::value_to_yaml(&o.value));
    }
    out
}

/// A `v1` `List` holding every object, as kubectl prints one.
pub fn to_json_list(objects: &[Object]) -> String {
    let items: Vec<&serde_json::Value> = objects.iter().map(|o| &o.value).collect();
    crate::yaml::to_json(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))
}

/// Where typed objects go: JSON trees or YAML text, both through `manifest::Manifest` (the one
/// place that decides the field order).
pub trait Sink {
    type Out;
    fn make<T: Typed>(&mut self, typed: &T) -> Self::Out;
}

/// Objects as `serde_json::Value` trees.
pub struct JsonSink;

impl Sink for JsonSink {
    type Out = serde_json::Value;
    fn make<T: Typed>(&mut self, typed: &T) -> serde_json::Value {
        serde_json::to_value(Manifest(typed)).expect("generated objects always serialize")
    }
}

/// Objects as pretty-printed JSON text, written straight from the typed object (`-o json`: no
/// tree is built, so the memory is the output's, as for YAML).
pub struct JsonTextSink;

impl Sink for JsonTextSink {
    type Out = String;
    fn make<T: Typed>(&mut self, typed: &T) -> String {
        serde_json::to_string_pretty(&Manifest(typed)).expect("generated objects always serialize")
    }
}

/// A `v1` `List` of objects already written as pretty JSON (`JsonTextSink`), byte for byte what
/// `to_json_list` prints for the same objects, in parts: nothing is copied into one buffer.
pub fn json_list_parts(objects: &[String]) -> Vec<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    if objects.is_empty() {
        return vec![Cow::Borrowed(
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": []\n}\n",
        )];
    }
    let mut parts = vec![Cow::Borrowed(
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n",
    )];
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            parts.push(Cow::Borrowed(",\n"));
        }
        // Each object one level deeper: four spaces before every line.
        let mut indented = String::with_capacity(o.len() + o.len() / 8);
        for (j, line) in o.split('\n').enumerate() {
            if j > 0 {
                indented.push('\n');
            }
            indented.push_str("    ");
            indented.push_str(line);
        }
        parts.push(Cow::Owned(indented));
    }
    parts.push(Cow::Borrowed("\n  ]\n}\n"));
    parts
}

/// Objects as YAML documents, written straight from the typed object (no tree is built, which
/// halves the time and the memory of large renders; see docs/benchmarks.md).
pub struct YamlSink;

impl Sink for YamlSink {
    type Out = String;
    fn make<T: Typed>(&mut self, typed: &T) -> String {
        let written = crate::yaml::to_yaml(&Manifest(typed));
        // The emitter starts with room for a large object; tens of thousands of documents are kept
        // until written, so each keeps a copy of exactly its size (30 MB less at 10,000
        // registrations). A copy, not `shrink_to_fit`: shrinking in place leaves a hole behind every
        // document that the next emitter buffer cannot use, and the whole buffer is reused.
        written.as_str().to_owned()
    }
}

/// An object through `sink`, with its identity taken from its type and metadata.
fn object<S: Sink, T: Typed>(sink: &mut S, typed: &T) -> (Identity, S::Out) {
    let meta = typed.metadata();
    (
        Identity {
            group: T::GROUP.into(),
            kind: T::KIND.into(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
        },
        sink.make(typed),
    )
}

/// Where a generated name comes from: the values field, and how the name is built from it when it
/// is not the value itself (`<readerRole.name>-<namespace>`).
type NameFrom = (String, &'static str);

/// Collects the generated objects and checks every name against its kind's rule
/// (`rules::k8s::object_name`): the one place a name built from several values, each valid alone,
/// is caught before the API server refuses it (#11, class 10: a RoleBinding named after a
/// 247-character role and the namespace was emitted). One problem per values field, with a count.
struct Emitter<'s, S: Sink> {
    sink: &'s mut S,
    out: Vec<(Identity, S::Out)>,
    problems: Problems,
    bad_names: indexmap::IndexMap<String, (String, usize)>,
}

impl<S: Sink> Emitter<'_, S> {
    fn emit<T: Typed>(&mut self, typed: &T, from: impl FnOnce() -> NameFrom) {
        let o = object(&mut *self.sink, typed);
        if let Err(e) = crate::rules::k8s::object_name(&o.0.kind, &o.0.name) {
            let (path, built) = from();
            let built = if built.is_empty() {
                String::new()
            } else {
                format!(" (built as `{built}`)")
            };
            let entry = self.bad_names.entry(path).or_insert_with(|| {
                let shown = crate::rules::credential::show(&o.0.name);
                let place = if o.0.namespace.is_empty() {
                    String::new()
                } else {
                    format!(" in namespace `{}`", crate::error::escape(&o.0.namespace))
                };
                (
                    format!(
                        "the generated {}{place} would be named {shown}{built}, which {e}: Kubernetes refuses it; shorten this value",
                        o.0.kind
                    ),
                    0,
                )
            });
            entry.1 += 1;
        }
        self.out.push(o);
    }

    fn finish(mut self) -> Result<Vec<(Identity, S::Out)>, Problems> {
        for (path, (message, n)) in std::mem::take(&mut self.bad_names) {
            let more = if n > 1 {
                format!(" (and {} more generated from it)", n - 1)
            } else {
                String::new()
            };
            self.problems.push(path, format!("{message}{more}"));
        }
        self.problems.into_result()?;
        Ok(self.out)
    }
}

/// Every object of the model through `sink`, in output order.
pub fn render_with<S: Sink>(
    model: &Model,
    options: &Options,
    sink: &mut S,
) -> Result<Vec<(Identity, S::Out)>, Problems> {
    // The release name becomes the `app.kubernetes.io/instance` label of every object.
    if let Err(e) = crate::rules::k8s::label_value(&options.release.name)
        .and_then(|()| crate::rules::k8s::dns_subdomain(&options.release.name))
    {
        let mut p = Problems::default();
        p.push(
            "release name",
            format!(
                "{} {e}; a release name is a DNS-1123 subdomain of at most 63 characters",
                crate::rules::credential::show(&options.release.name)
            ),
        );
        return Err(p);
    }
    let ctx = Ctx {
        model,
        release: &options.release.name,
        annotations: &options.extra_annotations,
        managed_by: options.managed_by.label(),
    };
    let s = &model.settings;
    let cns = s.controller_namespace.as_str();
    let mut em = Emitter {
        sink,
        out: Vec::new(),
        problems: Problems::default(),
        bad_names: Default::default(),
    };
    let reg_path = |r: &Registration, field: &str| format!("repoRegistrations[{}]{field}", r.index);

    // Objects go to each registration's namespace; registrations of several tenants may share one,
    // and then share its one repositories ConfigMap.
    let mut by_namespace: std::collections::BTreeMap<&str, Vec<&Registration>> = Default::default();
    for r in &model.registrations {
        by_namespace.entry(&r.namespace).or_default().push(r);
    }
    for regs in by_namespace.values_mut() {
        regs.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let mut all: Vec<&Registration> = model.registrations.iter().collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));

    let has_repositories = model.default_repository.is_some()
        || all
            .iter()
            .any(|r| r.repository.is_some() || r.data_repository.is_some());
    if s.layout == Layout::Central && has_repositories {
        let cm = ctx.config_map(cns, None, &all, true);
        check_size(
            &cm,
            &format!("{} registrations", all.len()),
            true,
            &mut em.problems,
        );
        em.emit(&cm, || ("artifactRepos.configMapName".into(), ""));
        // The central ConfigMap carries the default annotation (refs without a key, from any
        // tenant namespace, read it). It also makes it the default of ref-less workflows that
        // run in the controller namespace itself, and a repository's credentials are read in the
        // workflow's namespace (facts.md 11): the default's Secret must be produced there too.
        if let Some(Credentials::Vault {
            path,
            secret_name,
            data,
        }) = model.default_repository.as_ref().map(|d| &d.credentials)
        {
            // Not a tenant's Secret: no tenant label, no registration. A `{tenant}` in the path
            // stands for the controller namespace itself there.
            let path = crate::rules::formats::expand_vault_path(path, cns, cns);
            let sas = model
                .default_repository
                .as_ref()
                .and_then(|d| ctx.sas_key(d));
            let es = ctx.external_secret(secret_name, &path, data, cns, None, None, sas.as_deref());
            em.emit(&es, || ("s3.secretName".into(), ""));
        }
    }
    if let Some(role) = &s.reader_role_name
        && !by_namespace.is_empty()
    {
        em.emit(&ctx.reader_role(role), || {
            ("artifactRepos.readerRole.name".into(), "")
        });
    }

    for (ns, regs) in &by_namespace {
        let ns = *ns;
        // The namespace's tenant label: only when all its registrations are of one tenant.
        let tenant = Some(regs[0].tenant.as_str()).filter(|t| regs.iter().all(|r| r.tenant == *t));
        if s.create_namespaces && !crate::rules::k8s::UNOWNED_NAMESPACES.contains(&ns) && ns != cns
        {
            em.emit(&ctx.namespace(ns, tenant), || {
                (reg_path(regs[0], ".namespace"), "")
            });
        }
        em.emit(&ctx.service_account(ns, tenant), || {
            ("artifactRepos.serviceAccountName".into(), "")
        });
        // Artifact GC: its service accounts (other than the workflow's) and the Role they need.
        let mut gc_accounts: Vec<&str> = regs
            .iter()
            .filter_map(|r| r.artifact_gc.as_ref())
            .filter(|gc| gc.deletes())
            .map(|gc| gc.service_account_name.as_str())
            .collect();
        gc_accounts.sort_unstable();
        gc_accounts.dedup();
        for account in &gc_accounts {
            if *account != s.service_account_name {
                let from = || {
                    let r = regs.iter().find(|r| {
                        r.artifact_gc
                            .as_ref()
                            .is_some_and(|gc| gc.service_account_name == *account)
                    });
                    (
                        r.map_or("artifactRepos.artifactGC.serviceAccountName".into(), |r| {
                            reg_path(r, ".artifactGC.serviceAccountName")
                        }),
                        "",
                    )
                };
                em.emit(
                    &ctx.service_account_named(account, ns, tenant, "artifact-gc-service-account"),
                    from,
                );
            }
        }
        if !gc_accounts.is_empty() {
            let from = || {
                (
                    "artifactRepos.serviceAccountName".into(),
                    "<serviceAccountName>-artifact-gc",
                )
            };
            em.emit(&ctx.gc_role(ns, tenant), from);
            em.emit(&ctx.gc_binding(ns, tenant, &gc_accounts), from);
        }
        if model.default_repository.is_some()
            || regs
                .iter()
                .any(|r| r.repository.is_some() || r.data_repository.is_some())
        {
            let cm = ctx.config_map(ns, tenant, regs, false);
            check_size(
                &cm,
                &format!("namespace `{ns}` with {} registrations", regs.len()),
                false,
                &mut em.problems,
            );
            em.emit(&cm, || ("artifactRepos.configMapName".into(), ""));
        }
        let from = || ("artifactRepos.executorRoleName".into(), "");
        em.emit(&ctx.executor_role(ns, tenant), from);
        em.emit(&ctx.executor_binding(ns, tenant), from);
        if let Some(role) = &s.reader_role_name {
            em.emit(&ctx.reader_binding(role, ns, tenant), || {
                (
                    "artifactRepos.readerRole.name".into(),
                    "<readerRole.name>-<namespace>",
                )
            });
        }
        // The ExternalSecret behind a repository whose credentials come from Vault; one per Secret
        // (a data bucket with the artifact bucket's Vault path shares its Secret).
        let mut made = std::collections::BTreeSet::new();
        let mut vault_secret = |repo: Option<&crate::model::Repository>,
                                tenant: Option<&str>,
                                registration: Option<&str>,
                                from: &dyn Fn() -> String| {
            if let Some(Credentials::Vault {
                path,
                secret_name,
                data,
            }) = repo.map(|x| &x.credentials)
                && made.insert(secret_name.clone())
            {
                // A Vault path template (`{namespace}`, `{tenant}`): this namespace's credential.
                // The validator made sure a `{tenant}` here has one tenant to stand for.
                let path = crate::rules::formats::expand_vault_path(path, ns, tenant.unwrap_or(ns));
                let sas = repo.and_then(|x| ctx.sas_key(x));
                let es = ctx.external_secret(
                    secret_name,
                    &path,
                    data,
                    ns,
                    tenant,
                    registration,
                    sas.as_deref(),
                );
                em.emit(&es, || (from(), ""));
            }
        };
        vault_secret(model.default_repository.as_ref(), tenant, None, &|| {
            "s3.secretName".into()
        });
        for r in regs {
            vault_secret(
                r.repository.as_ref(),
                Some(&r.tenant),
                Some(&r.name),
                &|| reg_path(r, ".artifactBucket.secretName"),
            );
            vault_secret(
                r.data_repository.as_ref(),
                Some(&r.tenant),
                Some(&r.name),
                &|| reg_path(r, ".dataBucket.secretName"),
            );
        }
        for r in regs {
            if let Some(wt) = ctx.workflow_template(r) {
                em.emit(&wt, || (reg_path(r, ".name"), ""));
            }
        }
    }
    let out = em.finish()?;
    // The kind's rank is looked up once per object, not once per comparison.
    type Keyed<O> = ((usize, String), (Identity, O));
    let mut keyed: Vec<Keyed<S::Out>> = out
        .into_iter()
        .map(|o| {
            let (rank, unknown) = order::kind_rank(&o.0.kind);
            ((rank, unknown.to_string()), o)
        })
        .collect();
    keyed.sort_by(|(ra, a), (rb, b)| {
        (ra, &a.0.namespace, &a.0.name).cmp(&(rb, &b.0.namespace, &b.0.name))
    });
    Ok(keyed.into_iter().map(|(_, o)| o).collect())
}

/// Refuses a ConfigMap that the API server would refuse, before it gets there.
fn check_size(
    cm: &k8s_openapi::api::core::v1::ConfigMap,
    what: &str,
    central: bool,
    problems: &mut Problems,
) {
    let size: usize = cm
        .data
        .as_ref()
        .map_or(0, |d| d.values().map(String::len).sum());
    if size <= CONFIGMAP_LIMIT {
        return;
    }
    let name = cm.metadata.name.as_deref().unwrap_or_default();
    let ns = cm.metadata.namespace.as_deref().unwrap_or_default();
    let fix = if central {
        "set `artifactRepos.layout: tenant` to keep repositories only in tenant ConfigMaps (Argo looks in the workflow's namespace first), which scales with registrations per tenant"
    } else {
        "spread these registrations over more tenants"
    };
    problems.push(
        "repoRegistrations",
        format!("ConfigMap {ns}/{name} would hold {size} bytes of data for {what}, over Kubernetes' limit of {CONFIGMAP_LIMIT} bytes (1 MiB); {fix}"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::argo::{self, FieldType};

    /// Every key a rendered repository holds is a field of Argo's table for the targeted version:
    /// `addressingStyle` appears exactly from 4.1.
    #[test]
    fn repositories_hold_only_fields_the_target_argo_has() {
        for version in ["3.4", "3.7", "4.0", "4.1", "4.9"] {
            let values = format!(
                "artifactRepos:\n  argoVersion: \"{version}\"\nrepoRegistrations:\n- name: a\n  repoUrl: https://g/o/a.git\n  tenant: t\n  artifactBucket:\n    bucket: bucket-a\n    hostname: minio.example.com\n    region: us-west-2\n    keyPrefix: p/\n    insecure: true\n    pathStyle: true\n    roleARN: arn:aws:iam::123456789012:role/r\n    externalSecretPath: t/a\n- name: b\n  repoUrl: https://g/o/b.git\n  tenant: t\n  artifactBucket:\n    bucket: bucket-b\n    useSDKCreds: true\n"
            );
            let node = crate::yaml::parse_values("v", values.as_bytes()).unwrap();
            let v = argo::ArgoVersion::parse(version).unwrap();
            let rendered = render(&node, &Options::default()).unwrap();
            let mut seen_addressing = false;
            for o in rendered
                .objects
                .iter()
                .filter(|o| o.identity.kind == "ConfigMap")
            {
                for (key, text) in o.value["data"].as_object().unwrap() {
                    if key == objects::INDEX_KEY {
                        continue;
                    }
                    let repo: serde_json::Value =
                        serde_yaml::from_str(text.as_str().unwrap()).unwrap();
                    for (k, child) in repo.as_object().unwrap() {
                        let field = argo::lookup(argo::ARTIFACT_REPOSITORY, k, v);
                        assert!(field.is_some(), "{version}: {key}: `{k}`");
                        let Some(FieldType::Object(s3)) = field.map(|f| f.ty) else {
                            continue;
                        };
                        for s3_key in child.as_object().unwrap().keys() {
                            assert!(
                                argo::lookup(s3, s3_key, v).is_some(),
                                "{version}: {key}: `s3.{s3_key}`"
                            );
                            seen_addressing |= s3_key == "addressingStyle";
                        }
                    }
                }
            }
            assert_eq!(
                seen_addressing,
                argo::has_field(&["s3", "addressingStyle"], v),
                "{version}"
            );
        }
    }
}
