//! The values fields, declared once: key, type, default, what it means, the rule its value follows,
//! how it is screened for credentials, which repository shape it belongs to, and the Argo version
//! that introduced what it writes. The reader is a walk over this table (`values::read`): the keys
//! it accepts (and its did-you-mean), the types, rules and defaults it applies all come from here,
//! as do `values.schema.json` (`schema`), the check of the chart's `values.yaml`, and the README's
//! values tables (`readme_table`). tests/it/reader_table.rs holds the reader and the schema to it.
//!
//! Adding a field: a row here (a `const` and its place in a section), the line of
//! `values::validate` that takes it into the model (debug builds fail while a given field is not
//! taken), the model field, and its use in `render`. A rule that involves other fields goes in
//! `values::cross`. A field of one of Argo's repositories is a row of `rules::argo` alone: the
//! reader checks it in Argo's shape and the model carries the backend block as checked JSON
//! (`model::Repository::spec`), which render writes as it is; in the seed's shape it is also a
//! row of `repository::ARGO_S3`. The schema, the README tables, the chart check and the
//! did-you-mean follow from the rows.

use crate::rules::argo::{self, ArgoVersion};
use crate::rules::k8s;

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    Str,
    Bool,
    /// An integer, at least 1 (`installationId`).
    Int,
    /// A string, or (with a quoting hint) a YAML number: `argoVersion`.
    Version,
    StrList,
    /// A map of label keys to label values.
    Labels,
    /// A nested section.
    Map(&'static Section),
    /// A list of maps, each a `Section`.
    List(&'static Section),
    /// A map of strings to strings (`credentialKeys`, `vaultProperties`).
    StrMap,
    /// A map of names (DNS-1123 labels: namespaces) to a section each (`namespaces`).
    MapOf(&'static Section),
    /// One of Argo's repository fields, written as Argo writes it (rules::argo's table).
    Argo(argo::FieldType),
}

/// The value used when the field is absent.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    /// Must be given.
    Required,
    /// Absent means "not set" (Argo's own default applies, or the feature is off).
    None,
    Str(&'static str),
    Bool(bool),
    List(&'static [&'static str]),
    /// Computed from other values; the text says how.
    Derived(&'static str),
}

/// The rule a string value follows. `check` is what the reader applies, `schema` the JSON schema
/// keywords Helm applies before rendering (a subset where JSON schema cannot say more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    None,
    DnsLabel,
    DnsSubdomain,
    DataKey,
    Endpoint,
    S3Bucket,
    Region,
    /// A key layout: relative (no leading `/`).
    KeyLayout,
    VaultPath,
    RoleArn,
    RepoUrl,
    GitRef,
    GoDuration,
    AbsolutePath,
    GcpServiceAccount,
    Uuid,
    /// A tenant: anything with a letter or digit, sanitised into a label value
    /// (`formats::tenant_label`).
    Tenant,
    /// The prefix of the `repo` namespace rule: at most 40 of `[a-z0-9-]`, not starting with `-`.
    NamespacePrefix,
    /// A WorkflowTemplate, `name` or `namespace/name`.
    TemplateName,
    /// A container image reference: no white space.
    Image,
    /// A field name of a Vault secret: no white space.
    VaultProperty,
    /// A Secret Argo mounts as a pod volume: a DNS-1123 label.
    MountedSecret,
    /// The default repository's key: a data key outside `artifactRepositories.*`.
    DefaultKey,
    /// A Vault path template (`{namespace}`, `{tenant}`).
    VaultTemplate,
    /// One of a few words, named (`a layout`): `` `x` is not a layout; expected `a` or `b` ``.
    Choice(&'static str, &'static [&'static str]),
    /// An e-mail address (`adminUsers`, `readUsers`).
    Email,
    OneOf(&'static [&'static str]),
}

pub const DNS_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
pub const DNS_SUBDOMAIN_PATTERN: &str =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
pub const DATA_KEY_PATTERN: &str = "^[-._a-zA-Z0-9]+$";

impl Rule {
    /// The JSON schema keywords of the rule.
    pub fn schema(self) -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::json;
        match self {
            Rule::None => vec![],
            Rule::DnsLabel => vec![
                ("maxLength", json!(k8s::DNS_LABEL_MAX)),
                ("pattern", json!(DNS_LABEL_PATTERN)),
            ],
            Rule::DnsSubdomain => vec![
                ("maxLength", json!(k8s::DNS_SUBDOMAIN_MAX)),
                ("pattern", json!(DNS_SUBDOMAIN_PATTERN)),
            ],
            Rule::DataKey => vec![
                ("maxLength", json!(k8s::DNS_SUBDOMAIN_MAX)),
                ("pattern", json!(DATA_KEY_PATTERN)),
                ("not", json!({"pattern": "^\\.\\.|^\\.$"})),
            ],
            // The seed's endpoint may carry an `http://` or `https://` scheme (it sets `insecure`)
            // and trailing `/`s; any other scheme or a path is refused.
            Rule::Endpoint => vec![("pattern", json!("^([hH][tT][tT][pP][sS]?://)?[^/]+/*$"))],
            Rule::S3Bucket => vec![
                ("minLength", json!(3)),
                ("maxLength", json!(63)),
                ("pattern", json!("^[a-z0-9][a-z0-9.-]*[a-z0-9]$")),
            ],
            Rule::Region => vec![("pattern", json!("^[a-z0-9-]+$"))],
            Rule::KeyLayout => vec![("not", json!({"pattern": "^/"}))],
            Rule::VaultPath => vec![("pattern", json!("^[^/\\s]([^\\s]*[^/\\s])?$"))],
            Rule::RoleArn => vec![(
                "pattern",
                json!("^arn:aws[^:]*:iam:[^:]*:[0-9]{12}:role/.+$"),
            )],
            Rule::RepoUrl => vec![(
                "pattern",
                json!("^((https?|ssh|git|file)://\\S+|[^/:\\s]*@[^/:\\s]*:\\S+)$"),
            )],
            Rule::GitRef => vec![],
            Rule::GoDuration => vec![("pattern", json!("^(0|([0-9.]+(ns|us|µs|ms|s|m|h))+)$"))],
            Rule::AbsolutePath => vec![("pattern", json!("^/"))],
            Rule::GcpServiceAccount => vec![(
                "pattern",
                json!("^[a-z0-9-]+@\\S*\\.gserviceaccount\\.com$"),
            )],
            Rule::Uuid => vec![(
                "pattern",
                json!(
                    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
                ),
            )],
            Rule::Tenant => vec![("pattern", json!("[A-Za-z0-9]"))],
            Rule::NamespacePrefix => vec![
                ("maxLength", json!(40)),
                ("pattern", json!("^([a-z0-9][-a-z0-9]*)?$")),
            ],
            Rule::TemplateName => vec![(
                "pattern",
                json!(format!(
                    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?{}",
                    &DNS_SUBDOMAIN_PATTERN[1..]
                )),
            )],
            Rule::Image | Rule::VaultProperty => vec![("pattern", json!("^\\S+$"))],
            Rule::MountedSecret => Rule::DnsLabel.schema(),
            Rule::DefaultKey => vec![
                ("maxLength", json!(k8s::DNS_SUBDOMAIN_MAX)),
                ("pattern", json!(DATA_KEY_PATTERN)),
                (
                    "not",
                    json!({"pattern": "^\\.\\.|^\\.$|^artifactRepositories"}),
                ),
            ],
            Rule::VaultTemplate => Rule::VaultPath.schema(),
            Rule::Choice(_, values) => vec![("enum", json!(values))],
            Rule::Email => vec![("pattern", json!("^[^@\\s]+@[^@\\s]+$"))],
            Rule::OneOf(values) => vec![("enum", json!(values))],
        }
    }

    /// What is worth a warning about a valid `value`, worded to follow it.
    pub fn warning(self, value: &str) -> Option<&'static str> {
        match self {
            Rule::VaultTemplate if value.starts_with("data/") => Some(
                "starts with `data/`: with a Vault KV v2 store whose `path` is the mount, `remoteRef.key` is relative to the mount and without `data/`",
            ),
            _ => None,
        }
    }

    /// What is wrong with `value`, worded to follow it (`` `A` is not a valid DNS-1123 label``).
    pub fn check(self, value: &str) -> Result<(), String> {
        use crate::rules::formats;
        match self {
            Rule::None => Ok(()),
            Rule::DnsLabel => k8s::dns_label(value),
            Rule::DnsSubdomain => k8s::dns_subdomain(value),
            Rule::DataKey => k8s::data_key(value),
            Rule::Endpoint => formats::endpoint(&seed_endpoint(value).0),
            Rule::S3Bucket => formats::s3_bucket(value),
            Rule::Region => formats::region(value),
            Rule::KeyLayout => formats::key_layout(value),
            Rule::VaultPath => formats::vault_path(value),
            Rule::RoleArn => formats::role_arn(value),
            Rule::RepoUrl => formats::repo_url(value),
            Rule::GitRef => formats::git_ref(value),
            Rule::GoDuration => formats::go_duration(value),
            Rule::AbsolutePath => formats::absolute_path(value),
            Rule::GcpServiceAccount => formats::gcp_service_account(value),
            Rule::Uuid => formats::uuid(value),
            Rule::Tenant => match formats::tenant_label(value) {
                Some(_) => Ok(()),
                None => Err("has no letter or digit; the tenant is written as a label value, so it needs at least one".into()),
            },
            Rule::NamespacePrefix => {
                let ok = value.len() <= 40
                    && value
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !value.starts_with('-');
                if ok {
                    Ok(())
                } else {
                    Err("is not a namespace prefix; expected at most 40 lowercase letters, digits and `-`, not starting with `-`, like `wf-`".into())
                }
            }
            Rule::TemplateName => match value.split_once('/') {
                Some((ns, name)) => k8s::dns_label(ns).and_then(|()| k8s::dns_subdomain(name)),
                None => k8s::dns_subdomain(value),
            }
            .map_err(|e| format!("{e}; expected `name` or `namespace/name`")),
            Rule::Image if no_space(value) => Ok(()),
            Rule::Image => Err("is not an image reference; expected `registry/name:tag`".into()),
            Rule::VaultProperty if no_space(value) => Ok(()),
            Rule::VaultProperty => Err(
                "is not a Vault property name; expected a field name like `access_key`".into(),
            ),
            Rule::MountedSecret => k8s::dns_label(value).map_err(|e| {
                format!("{e}: Argo mounts the credential Secret as a pod volume, so its name must be a DNS-1123 label")
            }),
            Rule::DefaultKey => {
                k8s::data_key(value)?;
                if value.starts_with(argo::REPOSITORY_KEY_PREFIX.trim_end_matches('.')) {
                    return Err("collides with the repository keys `artifactRepositories.*`; choose another key like `default-v1`".into());
                }
                Ok(())
            }
            Rule::VaultTemplate => {
                formats::vault_path(value).and_then(|()| formats::vault_template(value))
            }
            Rule::Choice(_, values) if values.contains(&value) => Ok(()),
            Rule::Choice(noun, values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                let (last, rest) = quoted.split_last().expect("a choice has values");
                Err(format!("is not {noun}; expected {} or {last}", rest.join(", ")))
            }
            Rule::Email => formats::email(value),
            Rule::OneOf(values) if values.contains(&value) => Ok(()),
            Rule::OneOf(values) => Err(format!(
                "is not one of {}",
                values
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

fn no_space(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The seed's endpoint without its `http://` or `https://` scheme (and trailing `/`s), and
/// whether the scheme said plain HTTP (`Some(true)`), HTTPS (`Some(false)`) or nothing. Any other
/// scheme stays, for `formats::endpoint` to refuse.
pub fn seed_endpoint(raw: &str) -> (String, Option<(bool, &'static str)>) {
    match raw.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (
            rest.trim_end_matches('/').to_string(),
            Some((false, "https://")),
        ),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (
            rest.trim_end_matches('/').to_string(),
            Some((true, "http://")),
        ),
        _ => (raw.to_string(), None),
    }
}

/// One values field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub ty: Type,
    pub default: Default,
    /// What the field means and what is valid, one sentence in Markdown: the README's and the
    /// schema's description.
    pub doc: &'static str,
    pub rule: Rule,
    /// The first Argo release that can express what the field asks for, where that matters. For
    /// one of Argo's own fields (`Type::Argo`), the reader refuses it below that release.
    pub argo: Option<ArgoVersion>,
    /// How the value is screened for credentials before it is kept (it is written into objects).
    pub screen: Screen,
    /// Which repository shape the field belongs to (only in the bucket sections).
    pub shape: Shape,
    /// For a required field, a valid value for the "is required" message.
    pub example: &'static str,
}

/// The credential screening of a value (issue #11, class 2): a value that looks like a credential
/// is refused without being shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// `rules::credential::looks_like_credential` on the value (list items: also the argument
    /// after a credential flag like `--password`).
    Value,
    /// A git URL: also user info or a query that carries a credential
    /// (`rules::credential::url_carries_credential`), with the URL's own advice.
    Url,
}

/// Where a bucket field belongs: the seed's shape (`hostname`, `bucket`, ... at the top of the
/// bucket map), one of Argo's backend blocks (`s3:`, `gcs:`, ...), or the tool's own conveniences,
/// which go with either shape. The two shapes do not mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Tool,
    Seed,
    Block,
}

/// A map of fields, as groups so that sections can share one (the repository fields of `s3` and
/// `artifactBucket`).
#[derive(Debug)]
pub struct Section {
    /// The advice of an inline-credential key in this section (`""`: the general one).
    pub credential_hint: &'static str,
    pub groups: &'static [&'static [Field]],
    /// The fields marked `Required` are required only when this boolean field is `true` (`s3`).
    pub required_when: Option<&'static str>,
}

impl Section {
    pub fn fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        self.groups.iter().flat_map(|g| g.iter())
    }
    pub fn get(&self, key: &str) -> Option<&'static Field> {
        self.fields().find(|f| f.key == key)
    }
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields().map(|f| f.key)
    }
}

impl Field {
    /// The default of a string field (the reader's fallback).
    pub const fn default_str(&self) -> &'static str {
        match self.default {
            Default::Str(s) => s,
            _ => panic!("not a string field with a default"),
        }
    }
}

const fn field(
    key: &'static str,
    ty: Type,
    default: Default,
    rule: Rule,
    doc: &'static str,
) -> Field {
    Field {
        key,
        ty,
        default,
        doc,
        rule,
        argo: None,
        screen: Screen::Value,
        shape: Shape::Tool,
        example: "",
    }
}

const fn s(key: &'static str, default: Default, rule: Rule, doc: &'static str) -> Field {
    field(key, Type::Str, default, rule, doc)
}

const fn seed(f: Field) -> Field {
    Field {
        shape: Shape::Seed,
        ..f
    }
}

const fn b(key: &'static str, default: Default, doc: &'static str) -> Field {
    field(key, Type::Bool, default, Rule::None, doc)
}

/// The prefix of the Secret an ExternalSecret creates for a repository.
pub const SECRET_PREFIX: &str = "s3-credentials-";
/// The prefix of the Secret of a registration's data bucket (the origin chart's name).
pub const DATA_SECRET_PREFIX: &str = "s3-data-credentials-";

/// `repoRegistrations[]`.
pub mod registration {
    use super::*;
    pub const NAME: Field = Field {
        example: "genomics-pipeline",
        ..s(
            "name",
            Default::Required,
            Rule::DnsLabel,
            "DNS-1123 label, unique, not `default`; names the WorkflowTemplate and the key `artifactRepositories.<name>`",
        )
    };
    pub const REPO_URL: Field = Field {
        example: "https://github.com/org/repo.git",
        screen: Screen::Url,
        ..s(
            "repoUrl",
            Default::Required,
            Rule::RepoUrl,
            "the git URL the WorkflowTemplate runs: `https://`, `http://`, `ssh://`, `git://`, `file://` or `user@host:path`",
        )
    };
    pub const DEFAULT_BRANCH: Field = s(
        "defaultBranch",
        Default::Str("main"),
        Rule::GitRef,
        "the default revision; a valid git ref name",
    );
    pub const TENANT: Field = Field {
        example: "research-team",
        ..s(
            "tenant",
            Default::Required,
            Rule::Tenant,
            "the tenant identifier (`program/project`, an org short code): written as the `artifact-repos/tenant` label, every character a label value cannot hold replaced by `-`; the namespace too when `namespace` is not set and `artifactRepos.namespaceRule` is `tenant`",
        )
    };
    pub const NAMESPACE: Field = s(
        "namespace",
        Default::Derived("by `artifactRepos.namespaceRule`"),
        Rule::DnsLabel,
        "where the registration's workflows run and its objects go; registrations of several tenants may share one (one repositories ConfigMap holds them all); not the controller namespace, not `kube-*`",
    );
    pub const WORKFLOW_TEMPLATE_REF: Field = s(
        "workflowTemplateRef",
        Default::None,
        Rule::DnsSubdomain,
        "a WorkflowTemplate in the registration's namespace that runs repositories (like `nextflow-repo-runner`): the generated WorkflowTemplate calls its `artifactRepos.workflowTemplates.refTemplate` template through `templateRef` instead of running the runner container; `check` reports it when it is neither in the manifests nor assumed (`--assume-template`, `artifactRepos.existingTemplates`)",
    );
    pub const ARTIFACT_BUCKET: Field = field(
        "artifactBucket",
        Type::Map(&super::ARTIFACT_BUCKET),
        Default::None,
        Rule::None,
        "the registration's own bucket; without it the registration uses the default repository",
    );
    pub const DATA_BUCKET: Field = field(
        "dataBucket",
        Type::Map(&super::ARTIFACT_BUCKET),
        Default::None,
        Rule::None,
        "where the registration's input data is read from: a second repository, key `artifactRepositories.<name>.data`, credentials Secret `s3-data-credentials-<name>` (the artifact bucket's Secret when both name the same `externalSecretPath`)",
    );
    pub const INSTALLATION_ID: Field = field(
        "installationId",
        Type::Int,
        Default::None,
        Rule::None,
        "accepted and ignored (the origin chart's GitHub App installation); an integer ≥ 1",
    );
    pub const ADMIN_USERS: Field = field(
        "adminUsers",
        Type::StrList,
        Default::None,
        Rule::Email,
        "accepted and ignored (the origin chart's access control); e-mail addresses",
    );
    pub const READ_USERS: Field = field(
        "readUsers",
        Type::StrList,
        Default::None,
        Rule::Email,
        "accepted and ignored (the origin chart's access control); e-mail addresses",
    );
    pub const IS_PUBLIC: Field = b(
        "isPublic",
        Default::None,
        "accepted and ignored (the origin chart's visibility)",
    );
    pub const GITHUB_SECRET_NAME: Field = s(
        "githubSecretName",
        Default::None,
        Rule::DnsSubdomain,
        "accepted and ignored (the origin chart's GitHub token Secret)",
    );
    pub const GITHUB_SECRET_PATH: Field = s(
        "githubSecretPath",
        Default::None,
        Rule::VaultPath,
        "accepted and ignored (the origin chart's Vault path of the GitHub token)",
    );
    pub const WORKLOAD_IDENTITY: Field = field(
        "workloadIdentity",
        Type::Map(&super::IDENTITY),
        Default::Derived("`artifactRepos.workloadIdentity`"),
        Rule::None,
        "the cloud identity of the workflow pods of the registration's namespace (annotations on its service account); registrations in one namespace share it (its service account is the namespace's)",
    );
    pub const ARTIFACT_GC: Field = field(
        "artifactGC",
        Type::Map(&super::ARTIFACT_GC),
        Default::Derived("`artifactRepos.artifactGC`"),
        Rule::None,
        "Argo's artifact garbage collection for this registration's WorkflowTemplate",
    );
    pub const FIELDS: &[Field] = &[
        NAME,
        REPO_URL,
        DEFAULT_BRANCH,
        TENANT,
        NAMESPACE,
        WORKFLOW_TEMPLATE_REF,
        ARTIFACT_BUCKET,
        DATA_BUCKET,
        INSTALLATION_ID,
        ADMIN_USERS,
        READ_USERS,
        IS_PUBLIC,
        GITHUB_SECRET_NAME,
        GITHUB_SECRET_PATH,
        WORKLOAD_IDENTITY,
        ARTIFACT_GC,
    ];
}

/// Workload identity: what the tenant's service accounts are annotated with (and, for Azure, the
/// label its pods need).
pub mod identity {
    use super::*;
    pub const AWS_ROLE_ARN: Field = s(
        "awsRoleArn",
        Default::None,
        Rule::RoleArn,
        "IRSA: annotates the service account `eks.amazonaws.com/role-arn`",
    );
    pub const GCP_SERVICE_ACCOUNT: Field = s(
        "gcpServiceAccount",
        Default::None,
        Rule::GcpServiceAccount,
        "GKE Workload Identity: annotates `iam.gke.io/gcp-service-account`",
    );
    pub const AZURE_CLIENT_ID: Field = s(
        "azureClientId",
        Default::None,
        Rule::Uuid,
        "Azure Workload Identity: annotates `azure.workload.identity/client-id` and labels the workflow and GC pods `azure.workload.identity/use: \"true\"`",
    );
    pub const FIELDS: &[Field] = &[AWS_ROLE_ARN, GCP_SERVICE_ACCOUNT, AZURE_CLIENT_ID];
}

pub static IDENTITY: Section = Section {
    credential_hint: "",
    required_when: None,
    groups: &[identity::FIELDS],
};

/// Argo's workflow-level `artifactGC`.
pub mod gc {
    use super::*;
    pub const STRATEGY: Field = Field {
        example: "OnWorkflowDeletion",
        ..s(
            "strategy",
            Default::Derived("required when `artifactGC` is set"),
            Rule::OneOf(&["OnWorkflowCompletion", "OnWorkflowDeletion", "Never"]),
            "when Argo deletes the workflow's artifacts: `OnWorkflowCompletion`, `OnWorkflowDeletion` or `Never`",
        )
    };
    pub const SERVICE_ACCOUNT_NAME: Field = s(
        "serviceAccountName",
        Default::Derived("`artifactRepos.serviceAccountName`"),
        Rule::DnsSubdomain,
        "the service account of the GC pods, created in each tenant namespace with the workflow account's identity and the GC Role",
    );
    pub const FIELDS: &[Field] = &[STRATEGY, SERVICE_ACCOUNT_NAME];
}

pub static ARTIFACT_GC: Section = Section {
    credential_hint: "",
    required_when: None,
    groups: &[gc::FIELDS],
};

/// The repository fields `repoRegistrations[].artifactBucket` and `s3` share.
pub mod repository {
    use super::*;
    pub const BUCKET: Field = Field {
        example: "my-team-artifacts",
        ..seed(s(
            "bucket",
            Default::Derived("required without a backend block"),
            Rule::S3Bucket,
            "AWS bucket naming rules (3–63 characters, no IP address, no reserved prefixes or suffixes)",
        ))
    };
    pub const REGION: Field = seed(s(
        "region",
        Default::None,
        Rule::Region,
        "the bucket's region, like `us-west-2`",
    ));
    pub const KEY_PREFIX: Field = seed(s(
        "keyPrefix",
        Default::None,
        Rule::KeyLayout,
        "becomes `keyFormat: <prefix>/{{workflow.name}}/{{pod.name}}` (Argo deprecates `keyPrefix`)",
    ));
    pub const KEY_FORMAT: Field = seed(s(
        "keyFormat",
        Default::Derived("Argo's"),
        Rule::KeyLayout,
        "Argo's `keyFormat` template, placed under `keyPrefix` when both are set",
    ));
    pub const INSECURE: Field = seed(b(
        "insecure",
        Default::Bool(false),
        "plain HTTP to the endpoint",
    ));
    pub const PATH_STYLE: Field = Field {
        argo: Some(argo::ADDRESSING_STYLE_SINCE),
        shape: Shape::Seed,
        ..b(
            "pathStyle",
            Default::None,
            "`true` is written as `addressingStyle: path` for Argo ≥ 4.1; before, dropped with a warning where Argo's automatic choice is virtual-hosted; `false` asks for nothing",
        )
    };
    pub const ARCHIVE_LOGS: Field = b(
        "archiveLogs",
        Default::Bool(true),
        "archive container logs to the repository",
    );
    pub const EXTERNAL_SECRET_PATH: Field = s(
        "externalSecretPath",
        Default::None,
        Rule::VaultTemplate,
        "credentials from Vault (relative to the store's mount, no `data/`) through an ExternalSecret; `{namespace}` and `{tenant}` in it are replaced per namespace, so each tenant namespace pulls its own credential (see [Tenant isolation](#tenant-isolation))",
    );
    pub const EXISTING_SECRET: Field = s(
        "existingSecret",
        Default::None,
        Rule::MountedSecret,
        "a Secret you manage, in every namespace that uses the repository (DNS-1123 label)",
    );
    pub const USE_SDK_CREDS: Field = b(
        "useSDKCreds",
        Default::None,
        "the pod's cloud identity (IRSA, instance profile), no Secret",
    );
    pub const ROLE_ARN: Field = seed(s(
        "roleARN",
        Default::None,
        Rule::RoleArn,
        "IAM role to assume, with any credential source",
    ));
    pub const SECRET_NAME: Field = s(
        "secretName",
        Default::Derived("`s3-credentials-<name>` (`s3-credentials-default`)"),
        Rule::MountedSecret,
        "name of the Secret the ExternalSecret creates (DNS-1123 label)",
    );
    pub const FIELDS: &[Field] = &[
        BUCKET,
        REGION,
        KEY_PREFIX,
        KEY_FORMAT,
        INSECURE,
        PATH_STYLE,
        ARCHIVE_LOGS,
        EXTERNAL_SECRET_PATH,
        EXISTING_SECRET,
        USE_SDK_CREDS,
        ROLE_ARN,
        SECRET_NAME,
    ];
    pub const HOSTNAME: Field = seed(s(
        "hostname",
        Default::Str(ENDPOINT),
        Rule::Endpoint,
        "the S3 endpoint, `host[:port]`, no path; a scheme sets `insecure` (`http://`: `true`, `https://`: `false`) and is not written to Argo",
    ));
    pub const ENDPOINT_FIELD: Field = Field {
        key: "endpoint",
        doc: "a synonym of `hostname` (Argo's name); both set: they must be equal",
        ..HOSTNAME
    };
    pub const ENDPOINT: &str = "s3.amazonaws.com";
    pub const ENABLED: Field = b(
        "enabled",
        Default::Bool(false),
        "render the platform default repository; when `false`, nothing else in the section is required",
    );
    pub const KEY_PREFIX_PER_TENANT: Field = b(
        "keyPrefixPerTenant",
        Default::Bool(false),
        "every tenant namespace writes the default repository under its own prefix, `<keyPrefix>/<namespace>/<keyFormat>`: literal in each namespace's ConfigMap, `{{workflow.namespace}}` in the central one (see [Tenant isolation](#tenant-isolation))",
    );

    const fn argo(key: &'static str, ty: argo::FieldType, doc: &'static str) -> Field {
        seed(field(key, Type::Argo(ty), Default::None, Rule::None, doc))
    }
    const fn block(key: &'static str, ty: argo::FieldType, doc: &'static str) -> Field {
        Field {
            shape: Shape::Block,
            ..argo(key, ty, doc)
        }
    }
    /// Argo's S3 fields the seed shape has no key of its own for: written to Argo as given.
    pub const ADDRESSING_STYLE: Field = Field {
        argo: Some(argo::ADDRESSING_STYLE_SINCE),
        ..argo(
            "addressingStyle",
            argo::FieldType::Enum(argo::ADDRESSING_STYLES),
            "Argo's `s3.addressingStyle` (Argo ≥ 4.1); not with `pathStyle`",
        )
    };
    pub const ARGO_S3: &[Field] = &[
        ADDRESSING_STYLE,
        argo(
            "accessKeySecret",
            argo::FieldType::Secret,
            "Argo's Secret reference `{name, key}`, in every namespace that uses the repository",
        ),
        argo(
            "secretKeySecret",
            argo::FieldType::Secret,
            "Argo's Secret reference `{name, key}`",
        ),
        argo(
            "sessionTokenSecret",
            argo::FieldType::Secret,
            "Argo's Secret reference `{name, key}`",
        ),
        argo(
            "caSecret",
            argo::FieldType::Secret,
            "Argo's Secret reference to a private CA bundle",
        ),
        argo(
            "createBucketIfNotPresent",
            argo::FieldType::Object(argo::CREATE_BUCKET),
            "Argo's `{objectLocking}`",
        ),
        argo(
            "encryptionOptions",
            argo::FieldType::Object(argo::ENCRYPTION),
            "Argo's `{kmsKeyId, kmsEncryptionContext, enableEncryption, serverSideCustomerKeySecret}`",
        ),
    ];
    /// The backend blocks, each Argo's repository of that kind verbatim.
    pub const BLOCKS: &[Field] = &[
        block(
            "s3",
            argo::FieldType::Object(argo::S3),
            "Argo's `S3ArtifactRepository`, verbatim (see [Backends](#backends))",
        ),
        block(
            "gcs",
            argo::FieldType::Object(argo::GCS),
            "Argo's `GCSArtifactRepository`, verbatim",
        ),
        block(
            "azure",
            argo::FieldType::Object(argo::AZURE),
            "Argo's `AzureArtifactRepository`, verbatim",
        ),
        block(
            "oss",
            argo::FieldType::Object(argo::OSS),
            "Argo's `OSSArtifactRepository`, verbatim",
        ),
        block(
            "artifactory",
            argo::FieldType::Object(argo::ARTIFACTORY),
            "Argo's `ArtifactoryArtifactRepository`, verbatim",
        ),
    ];
    pub const CREDENTIAL_KEYS: Field = field(
        "credentialKeys",
        Type::StrMap,
        Default::Derived("each backend's (see [Backends](#backends))"),
        Rule::None,
        "this repository's Secret keys by credential (`accessKey`, `caCert`, `serviceAccountKey`, ...); naming an optional credential adds it",
    );
    pub const VAULT_PROPERTIES: Field = field(
        "vaultProperties",
        Type::StrMap,
        Default::Derived("each backend's (see [Backends](#backends))"),
        Rule::None,
        "with `externalSecretPath`: the Vault property of each credential; naming an optional credential adds it",
    );
    pub const CONVENIENCES: &[Field] = &[CREDENTIAL_KEYS, VAULT_PROPERTIES];
}

/// The advice of an inline credential in a bucket section.
pub const BUCKET_CREDENTIAL_HINT: &str = "credentials are only ever referenced: store them in Vault and set `externalSecretPath`, name an `existingSecret`, reference a Secret as Argo does (`accessKeySecret: {name, key}`), or set `useSDKCreds: true`";

/// `repoRegistrations[].artifactBucket`: `hostname`, as the seed names the endpoint.
pub static ARTIFACT_BUCKET: Section = Section {
    credential_hint: BUCKET_CREDENTIAL_HINT,
    required_when: None,
    groups: &[
        &[repository::HOSTNAME, repository::ENDPOINT_FIELD],
        repository::FIELDS,
        repository::ARGO_S3,
        repository::CONVENIENCES,
        repository::BLOCKS,
    ],
};

/// `s3`: the platform default repository.
pub static S3: Section = Section {
    credential_hint: BUCKET_CREDENTIAL_HINT,
    required_when: Some("enabled"),
    groups: &[
        &[repository::ENABLED, repository::KEY_PREFIX_PER_TENANT],
        &[repository::HOSTNAME, repository::ENDPOINT_FIELD],
        repository::FIELDS,
        repository::ARGO_S3,
        repository::CONVENIENCES,
        repository::BLOCKS,
    ],
};

pub static REGISTRATION: Section = Section {
    credential_hint: "credentials belong in Vault: set `artifactBucket.externalSecretPath`",
    required_when: None,
    groups: &[registration::FIELDS],
};

/// `artifactRepos`.
pub mod settings {
    use super::*;
    pub const CONTROLLER_NAMESPACE: Field = s(
        "controllerNamespace",
        Default::Str(argo::DEFAULT_CONTROLLER_NAMESPACE),
        Rule::DnsLabel,
        "the Argo workflow controller's namespace",
    );
    pub const CONFIG_MAP_NAME: Field = s(
        "configMapName",
        Default::Str(argo::DEFAULT_CONFIGMAP),
        Rule::DnsSubdomain,
        "every repositories ConfigMap, and the ref's `configMap`; with a default repository (`s3.enabled`), anything but `artifact-repositories` is an error unless `allowRefLessLookupBreak` (Argo reads a namespace's default only from `artifact-repositories`)",
    );
    pub const ALLOW_REF_LESS_LOOKUP_BREAK: Field = b(
        "allowRefLessLookupBreak",
        Default::Bool(false),
        "accept a `configMapName` other than `artifact-repositories` together with a default repository: workflows without `artifactRepositoryRef` then do not get that default (Argo's ref-less lookup reads only `artifact-repositories`); the generated WorkflowTemplates, which set the ref, still work",
    );
    pub const STRICT: Field = b(
        "strict",
        Default::Bool(false),
        "every warning is an error (exit 2, nothing written), as with `render --strict` / `post-render --strict`: the switch for Helm, which hides a successful post-renderer's stderr",
    );
    pub const DEFAULT_KEY: Field = s(
        "defaultKey",
        Default::Str("default-v1"),
        Rule::DefaultKey,
        "key of the default repository, named by the default-artifact-repository annotation",
    );
    pub const ARGO_VERSION: Field = field(
        "argoVersion",
        Type::Version,
        Default::Str(argo::DEFAULT_TEXT),
        Rule::None,
        "target Argo Workflows version, 3.4 up to (not including) 5.0; quote it (YAML reads `3.10` as 3.1)",
    );
    pub const LAYOUT: Field = s(
        "layout",
        Default::Str("central"),
        Rule::Choice("a layout", &["central", "tenant"]),
        "`central`: a ConfigMap in the controller namespace with every repository plus one per tenant; `tenant`: tenant ConfigMaps only, which scales past the 1 MiB ConfigMap limit (see [Scale and layouts](#scale-and-layouts))",
    );
    pub const CREATE_NAMESPACES: Field = b(
        "createNamespaces",
        Default::Bool(true),
        "create a Namespace per tenant",
    );
    pub const SERVICE_ACCOUNT_NAME: Field = s(
        "serviceAccountName",
        Default::Str("wf-runner"),
        Rule::DnsSubdomain,
        "the workflow service account, created in every tenant namespace",
    );
    pub const EXECUTOR_ROLE_NAME: Field = s(
        "executorRoleName",
        Default::Derived("`<serviceAccountName>-executor`"),
        Rule::DnsSubdomain,
        "Role and RoleBinding granting `workflowtaskresults` `create`/`patch`",
    );
    pub const READER_ROLE: Field = field(
        "readerRole",
        Type::Map(&READER_ROLE_SECTION),
        Default::None,
        Rule::None,
        "the seed's reader Role on the ConfigMap; Argo itself does not need it",
    );
    pub const EXTERNAL_SECRETS: Field = field(
        "externalSecrets",
        Type::Map(&EXTERNAL_SECRETS_SECTION),
        Default::None,
        Rule::None,
        "the ExternalSecrets that fetch credentials from Vault",
    );
    pub const CREDENTIAL_KEYS: Field = field(
        "credentialKeys",
        Type::Map(&CREDENTIAL_KEYS_SECTION),
        Default::None,
        Rule::None,
        "keys of the credential Secret",
    );
    pub const WORKFLOW_TEMPLATES: Field = field(
        "workflowTemplates",
        Type::Map(&WORKFLOW_TEMPLATES_SECTION),
        Default::None,
        Rule::None,
        "the runner of the generated WorkflowTemplates",
    );
    pub const NAMESPACE_RULE: Field = s(
        "namespaceRule",
        Default::Str("tenant"),
        Rule::OneOf(&["tenant", "repo"]),
        "the namespace of a registration without `namespace`: `tenant`, the tenant itself (it must then be a DNS-1123 label); `repo`, `namespacePrefix` + `<org>-<repository>` from `repoUrl` (`https://github.com/bwalsh/nf-hello.git` → `wf-bwalsh-nf-hello`), lowercased, other characters replaced by `-`, as the RepoRegistration chart names namespaces",
    );
    pub const NAMESPACE_PREFIX: Field = s(
        "namespacePrefix",
        Default::Str("wf-"),
        Rule::NamespacePrefix,
        "the prefix of the `repo` namespace rule",
    );
    pub const EXISTING_TEMPLATES: Field = field(
        "existingTemplates",
        Type::StrList,
        Default::None,
        Rule::TemplateName,
        "WorkflowTemplates that exist in the cluster outside the rendered objects, `name` (any namespace) or `namespace/name`: `check --values` does not report a `workflowTemplateRef` to them (same as `check --assume-template`)",
    );
    pub const COMMON_LABELS: Field = field(
        "commonLabels",
        Type::Labels,
        Default::None,
        Rule::None,
        "labels added to every generated object (not under `app.kubernetes.io/` or `artifact-repos/`)",
    );
    pub const WORKLOAD_IDENTITY: Field = field(
        "workloadIdentity",
        Type::Map(&super::IDENTITY),
        Default::None,
        Rule::None,
        "the default cloud identity of every tenant's workflow pods",
    );
    pub const NAMESPACES: Field = field(
        "namespaces",
        Type::MapOf(&NAMESPACE_SECTION),
        Default::None,
        Rule::None,
        "settings of one tenant namespace, by its name",
    );
    pub const NAMESPACE_WORKLOAD_IDENTITY: Field = field(
        "workloadIdentity",
        Type::Map(&super::IDENTITY),
        Default::Derived("`artifactRepos.workloadIdentity`"),
        Rule::None,
        "the cloud identity of that namespace's workflow pods; its registrations' own `workloadIdentity` must agree",
    );
    pub static NAMESPACE_SECTION: Section = Section {
        credential_hint: "",
        required_when: None,
        groups: &[&[NAMESPACE_WORKLOAD_IDENTITY]],
    };
    pub const ARTIFACT_GC: Field = field(
        "artifactGC",
        Type::Map(&super::ARTIFACT_GC),
        Default::None,
        Rule::None,
        "Argo's artifact garbage collection for every generated WorkflowTemplate, with the GC Role (`workflowartifactgctasks` `list`/`watch`, `/status` `patch`) in each tenant namespace",
    );
    pub const FIELDS: &[Field] = &[
        CONTROLLER_NAMESPACE,
        CONFIG_MAP_NAME,
        ALLOW_REF_LESS_LOOKUP_BREAK,
        DEFAULT_KEY,
        ARGO_VERSION,
        LAYOUT,
        CREATE_NAMESPACES,
        SERVICE_ACCOUNT_NAME,
        EXECUTOR_ROLE_NAME,
        READER_ROLE,
        EXTERNAL_SECRETS,
        CREDENTIAL_KEYS,
        WORKFLOW_TEMPLATES,
        NAMESPACE_RULE,
        NAMESPACE_PREFIX,
        EXISTING_TEMPLATES,
        WORKLOAD_IDENTITY,
        NAMESPACES,
        ARTIFACT_GC,
        COMMON_LABELS,
        STRICT,
    ];

    pub const READER_ROLE_ENABLED: Field = b(
        "enabled",
        Default::Bool(true),
        "generate the reader Role and its bindings",
    );
    pub const READER_ROLE_NAME: Field = s(
        "name",
        Default::Str("artifact-repository-reader"),
        Rule::DnsSubdomain,
        "the reader Role's name",
    );
    pub static READER_ROLE_SECTION: Section = Section {
        credential_hint: "",
        required_when: None,
        groups: &[&[READER_ROLE_ENABLED, READER_ROLE_NAME]],
    };

    pub const STORE_KIND: Field = s(
        "kind",
        Default::Str("ClusterSecretStore"),
        Rule::Choice("a store kind", &["ClusterSecretStore", "SecretStore"]),
        "the ESO store's kind",
    );
    pub const STORE_NAME: Field = s(
        "name",
        Default::Str("vault"),
        Rule::DnsSubdomain,
        "the ESO store's name",
    );
    pub static STORE_REF_SECTION: Section = Section {
        credential_hint: "",
        required_when: None,
        groups: &[&[STORE_KIND, STORE_NAME]],
    };
    pub const STORE_REF: Field = field(
        "storeRef",
        Type::Map(&STORE_REF_SECTION),
        Default::None,
        Rule::None,
        "the ESO store",
    );
    pub const REFRESH_INTERVAL: Field = s(
        "refreshInterval",
        Default::Str("1h"),
        Rule::GoDuration,
        "how often ESO refreshes the Secret (Go duration)",
    );
    pub const ACCESS_KEY_PROPERTY: Field = s(
        "accessKeyProperty",
        Default::Str("access_key"),
        Rule::VaultProperty,
        "field of the Vault secret holding the access key id",
    );
    pub const SECRET_KEY_PROPERTY: Field = s(
        "secretKeyProperty",
        Default::Str("secret_key"),
        Rule::VaultProperty,
        "field of the Vault secret holding the secret access key",
    );
    pub const PATH_PREFIX: Field = s(
        "pathPrefix",
        Default::None,
        Rule::VaultPath,
        "joined before every `externalSecretPath` as `<pathPrefix>/<path>` (the RepoRegistration chart's `kv`: its paths are relative to `kv/`)",
    );
    pub static EXTERNAL_SECRETS_SECTION: Section = Section {
        credential_hint: "",
        required_when: None,
        groups: &[&[
            PATH_PREFIX,
            STORE_REF,
            REFRESH_INTERVAL,
            ACCESS_KEY_PROPERTY,
            SECRET_KEY_PROPERTY,
        ]],
    };

    pub const ACCESS_KEY: Field = s(
        "accessKey",
        Default::Str("AWS_ACCESS_KEY_ID"),
        Rule::DataKey,
        "the credential Secret's key holding the access key id",
    );
    pub const SECRET_KEY: Field = s(
        "secretKey",
        Default::Str("AWS_SECRET_ACCESS_KEY"),
        Rule::DataKey,
        "the credential Secret's key holding the secret access key",
    );
    pub static CREDENTIAL_KEYS_SECTION: Section = Section {
        credential_hint: "credentials stay in Vault",
        required_when: None,
        groups: &[&[ACCESS_KEY, SECRET_KEY]],
    };

    pub const RUNNER_ENABLED: Field =
        b("enabled", Default::Bool(true), "generate WorkflowTemplates");
    pub const RUNNER_IMAGE: Field = s(
        "image",
        Default::Str("nextflow/nextflow:24.10.4"),
        Rule::Image,
        "the runner image",
    );
    pub const RUNNER_COMMAND: Field = field(
        "command",
        Type::StrList,
        Default::List(&["nextflow"]),
        Rule::None,
        "the runner command; no shell: each item is one argument, so parameters cannot inject commands",
    );
    pub const RUNNER_ARGS: Field = field(
        "args",
        Type::StrList,
        Default::List(&[
            "run",
            "{{inputs.parameters.repo-url}}",
            "-r",
            "{{inputs.parameters.revision}}",
            "-with-report",
            "/tmp/outputs/report.html",
            "-with-trace",
            "/tmp/outputs/trace.txt",
        ]),
        Rule::None,
        "the runner's arguments; `{{inputs.parameters.repo-url}}` and `{{inputs.parameters.revision}}` are available",
    );
    pub const OUTPUT_PATH: Field = s(
        "outputPath",
        Default::Str("/tmp/outputs"),
        Rule::AbsolutePath,
        "directory archived as the `outputs` artifact",
    );
    pub const REF_TEMPLATE: Field = s(
        "refTemplate",
        Default::Str("run-nextflow"),
        Rule::DnsLabel,
        "with a registration's `workflowTemplateRef`: the template of that WorkflowTemplate the generated one calls (`templateRef.template`; `run-nextflow` is the entrypoint of the RepoRegistration chart's `nextflow-repo-runner`); it receives the parameters `repo-url` and `revision`",
    );
    pub static WORKFLOW_TEMPLATES_SECTION: Section = Section {
        credential_hint: "these are the names of the Secret's keys, not their values",
        required_when: None,
        groups: &[&[
            RUNNER_ENABLED,
            REF_TEMPLATE,
            RUNNER_IMAGE,
            RUNNER_COMMAND,
            RUNNER_ARGS,
            OUTPUT_PATH,
        ]],
    };
}

pub static SETTINGS: Section = Section {
    credential_hint: "pass credentials to the runner through a Secret it mounts",
    required_when: None,
    groups: &[settings::FIELDS],
};

/// The top level: the sections the tool owns. Every other top-level key is ignored, so an umbrella
/// chart can pass all its values.
pub const TOP_FIELDS: &[Field] = &[top::REGISTRATIONS, top::S3, top::SETTINGS];

/// The top-level sections.
pub mod top {
    use super::*;
    pub const REGISTRATIONS: Field = field(
        "repoRegistrations",
        Type::List(&REGISTRATION),
        Default::None,
        Rule::None,
        "one entry per git repository",
    );
    pub const S3: Field = field(
        "s3",
        Type::Map(&super::S3),
        Default::None,
        Rule::None,
        "the platform's default artifact repository (`default-v1` and `artifactRepositories.default`), and the repository of registrations without an `artifactBucket`",
    );
    pub const SETTINGS: Field = field(
        "artifactRepos",
        Type::Map(&super::SETTINGS),
        Default::None,
        Rule::None,
        "what a platform team tunes",
    );
}

/// The top-level section names, for the reader and its warnings.
pub const SECTIONS: [&str; 3] = [TOP_FIELDS[0].key, TOP_FIELDS[1].key, TOP_FIELDS[2].key];

pub static TOP: Section = Section {
    credential_hint: "the tool only references credentials",
    required_when: None,
    groups: &[TOP_FIELDS],
};

/// True when `key` is, in some section, a name: a field whose value follows a naming rule, which
/// YAML may read as a number or a boolean when unquoted (`name: 12`, `defaultBranch: 2024`).
pub fn is_name(key: &str) -> bool {
    fn walk(s: &Section, key: &str) -> bool {
        s.fields().any(|f| match f.ty {
            Type::Map(inner) | Type::List(inner) => walk(inner, key),
            _ => {
                f.key == key
                    && matches!(
                        f.rule,
                        Rule::DnsLabel
                            | Rule::DnsSubdomain
                            | Rule::DataKey
                            | Rule::GitRef
                            | Rule::S3Bucket
                            | Rule::Region
                    )
            }
        })
    }
    walk(&TOP, key)
}

fn default_text(f: &Field) -> String {
    match f.default {
        Default::Required => "required".into(),
        Default::None => match f.ty {
            Type::Labels => "`{}`".into(),
            _ => "none".into(),
        },
        Default::Str(s) if f.key == "argoVersion" => format!("`\"{s}\"`"),
        Default::Str(s) => format!("`{s}`"),
        Default::Bool(b) => format!("`{b}`"),
        Default::List(l) => format!("`[{}]`", l.join(", ")),
        Default::Derived(d) => d.to_string(),
    }
}

/// Markdown rows `| key | default | meaning |` of a section, nested sections flattened to dotted
/// keys; `suffix` marks every key (`(s3 only)`).
fn rows(section: &Section, prefix: &str, out: &mut Vec<String>) {
    for f in section.fields() {
        let key = format!("{prefix}{}", f.key);
        match f.ty {
            Type::Map(inner) if !std::ptr::eq(inner, &ARTIFACT_BUCKET) => {
                rows(inner, &format!("{key}."), out)
            }
            Type::MapOf(inner) => rows(inner, &format!("{key}.<namespace>."), out),
            _ => out.push(format!(
                "| `{key}` | {} | {} |",
                default_text(f).replace('|', "\\|"),
                f.doc.replace('|', "\\|")
            )),
        }
    }
}

/// The README table of one values section, by marker name: `values-registrations`,
/// `values-bucket`, `values-settings`.
pub fn readme_table(name: &str) -> Option<String> {
    let mut out = vec![
        "| key | default | meaning |".to_string(),
        "|---|---|---|".to_string(),
    ];
    match name {
        "values-registrations" => rows(&REGISTRATION, "", &mut out),
        "values-bucket" => {
            rows(&ARTIFACT_BUCKET, "", &mut out);
            let mut s3_only = Vec::new();
            for f in [repository::ENABLED, repository::KEY_PREFIX_PER_TENANT] {
                s3_only.push(format!(
                    "| `{}` (`s3` only) | {} | {} |",
                    f.key,
                    default_text(&f),
                    f.doc
                ));
            }
            out.extend(s3_only);
        }
        "values-settings" => rows(&SETTINGS, "", &mut out),
        _ => return None,
    }
    Some(out.join("\n") + "\n")
}

/// The marker names of the values tables.
pub const README_TABLES: [&str; 3] = ["values-registrations", "values-bucket", "values-settings"];

/// A field's schema that also accepts `null`. A `null` in a values file or `--set x=null` removes
/// the key from the chart's defaults, but Helm validates the values with a key that has no
/// default still there, holding null (`s3.region: null` failed Helm's schema check while `render`
/// read it as "not set", issue #11 class 9): null means "not set" to the tool, so the schema
/// accepts it everywhere. The tool itself still requires what is required.
fn nullable(mut v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    if let Some(o) = v.as_object_mut() {
        match o.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                o.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Some(Value::Array(types)) if !types.contains(&Value::from("null")) => {
                types.push(Value::from("null"));
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = o.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    v
}

/// The JSON schema (draft-07) of a section's map, with Helm's null allowed for optional sections.
/// A gated section (`s3`, read only with `enabled: true`) declares its keys unconditionally (an
/// unknown key is refused either way, as the reader refuses it) and their rules only under the
/// gate: with `enabled: false` the reader reads nothing else of it, so Helm must not refuse it.
pub fn section_schema(section: &Section, description: &str) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in section.fields() {
        props.insert(f.key.into(), nullable(field_schema(f)));
        if matches!(f.default, Default::Required) {
            required.push(f.key);
        }
    }
    // The seed's shape needs a `bucket`, Argo's shape a backend block: one of them.
    let any: Option<Vec<Value>> = (section.get("bucket").is_some() && section.get("gcs").is_some())
        .then(|| {
            std::iter::once("bucket")
                .chain(crate::rules::argo::BACKENDS.iter().map(|b| b.key))
                .map(|k| json!({"required": [k]}))
                .collect()
        });
    let mut obj = Map::new();
    obj.insert("type".into(), json!(["object", "null"]));
    obj.insert("description".into(), json!(description));
    obj.insert("additionalProperties".into(), Value::Bool(false));
    match section.required_when {
        Some(gate) => {
            let base: Map<String, Value> = section
                .fields()
                .map(|f| {
                    let v = if f.key == gate {
                        props[f.key].clone()
                    } else {
                        json!({"description": f.doc})
                    };
                    (f.key.to_string(), v)
                })
                .collect();
            obj.insert("properties".into(), Value::Object(base));
            obj.insert(
                "if".into(),
                json!({"properties": {gate: {"const": true}}, "required": [gate]}),
            );
            let mut then = Map::new();
            then.insert("properties".into(), Value::Object(props));
            if let Some(any) = any {
                then.insert("anyOf".into(), Value::Array(any));
            }
            if !required.is_empty() {
                then.insert("required".into(), json!(required));
            }
            obj.insert("then".into(), Value::Object(then));
        }
        None => {
            obj.insert("properties".into(), Value::Object(props));
            if let Some(any) = any {
                obj.insert("anyOf".into(), Value::Array(any));
            }
            if !required.is_empty() {
                obj.insert("required".into(), json!(required));
            }
        }
    }
    Value::Object(obj)
}

/// The JSON schema of one of Argo's repository fields, from rules::argo's table (every field of
/// every supported version: the reader refuses a field the target version lacks).
pub fn argo_schema(ty: argo::FieldType) -> serde_json::Value {
    use argo::FieldType as T;
    use serde_json::{Map, Value, json};
    match ty {
        T::Bool => json!({"type": "boolean"}),
        T::Str => json!({"type": "string"}),
        T::Int => json!({"type": "integer"}),
        T::Enum(values) => json!({"type": "string", "enum": values}),
        T::Secret => argo_schema(T::Object(argo::SECRET_KEY_SELECTOR)),
        T::Opaque | T::Object(&[]) => json!({"type": ["object", "null"]}),
        T::Object(fields) => {
            let mut props = Map::new();
            for f in fields {
                props.insert(f.key.into(), argo_schema(f.ty));
            }
            json!({"type": ["object", "null"], "additionalProperties": false, "properties": Value::Object(props)})
        }
    }
}

pub fn field_schema(f: &Field) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut m = Map::new();
    match f.ty {
        Type::Str => {
            m.insert("type".into(), json!("string"));
        }
        Type::Bool => {
            m.insert("type".into(), json!("boolean"));
        }
        Type::Int => {
            m.insert("type".into(), json!("integer"));
            m.insert("minimum".into(), json!(1));
        }
        Type::Version => {
            m.insert("type".into(), json!(["string", "number"]));
        }
        Type::StrList => {
            m.insert("type".into(), json!("array"));
            let mut items = serde_json::Map::new();
            items.insert("type".into(), json!("string"));
            for (k, v) in f.rule.schema() {
                items.insert(k.into(), v);
            }
            m.insert("items".into(), Value::Object(items));
        }
        Type::Labels => {
            m.insert("type".into(), json!(["object", "null"]));
            m.insert(
                "additionalProperties".into(),
                json!({"type": ["string", "null"]}),
            );
        }
        Type::MapOf(section) => {
            let mut item = section_schema(section, f.doc);
            if let Some(o) = item.as_object_mut() {
                o.remove("description");
            }
            m.insert("type".into(), json!(["object", "null"]));
            m.insert(
                "propertyNames".into(),
                json!({"maxLength": k8s::DNS_LABEL_MAX, "pattern": DNS_LABEL_PATTERN}),
            );
            m.insert("additionalProperties".into(), item);
        }
        Type::StrMap => {
            m.insert("type".into(), json!(["object", "null"]));
            m.insert(
                "additionalProperties".into(),
                json!({"type": ["string", "null"]}),
            );
        }
        Type::Argo(ty) => {
            let mut v = argo_schema(ty);
            v["description"] = json!(f.doc);
            return v;
        }
        Type::Map(section) => return section_schema(section, f.doc),
        Type::List(section) => {
            let mut item = section_schema(section, f.doc);
            item["type"] = json!("object");
            if let Some(o) = item.as_object_mut() {
                o.remove("description");
            }
            m.insert("type".into(), json!(["array", "null"]));
            m.insert("items".into(), item);
        }
    }
    m.insert("description".into(), json!(f.doc));
    match f.default {
        Default::Str(s) => {
            m.insert("default".into(), json!(s));
        }
        Default::Bool(b) => {
            m.insert("default".into(), json!(b));
        }
        Default::List(l) => {
            m.insert("default".into(), json!(l));
        }
        _ => {}
    }
    if !matches!(f.ty, Type::StrList) {
        for (k, v) in f.rule.schema() {
            m.insert(k.into(), v);
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_per_section() {
        fn walk(s: &Section) {
            let mut keys: Vec<&str> = s.keys().collect();
            let n = keys.len();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), n);
            for f in s.fields() {
                if let Type::Map(inner) | Type::List(inner) = f.ty {
                    walk(inner);
                }
            }
        }
        walk(&TOP);
    }

    #[test]
    fn defaults_follow_their_own_rules() {
        fn walk(s: &Section) {
            for f in s.fields() {
                if let Default::Str(d) = f.default {
                    assert!(f.rule.check(d).is_ok(), "{}: {d}", f.key);
                }
                if let Type::Map(inner) | Type::List(inner) = f.ty {
                    walk(inner);
                }
            }
        }
        walk(&TOP);
    }
}
