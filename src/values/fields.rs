//! The values fields, declared once: key, type, default, what it means, the rule its value follows,
//! and the Argo version that introduced what it writes. From this table come the keys the reader
//! accepts (and its did-you-mean), the defaults it applies, `values.schema.json` (`schema`), the
//! check of the chart's `values.yaml`, and the README's values tables (`readme_table`).
//!
//! Adding a field: a row here (a `const` and its place in a section), the line of `values::validate`
//! that reads it into the model, and the model field. For a field that is one of Argo's S3 fields
//! the model field is in `model::S3`, which render writes as it is: nothing else changes. The
//! schema, the README tables, the chart check and the did-you-mean follow from the row.

use crate::rules::argo::{self, ArgoVersion};
use crate::rules::k8s;

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    Str,
    Bool,
    /// A string, or (with a quoting hint) a YAML number: `argoVersion`.
    Version,
    StrList,
    /// A map of label keys to label values.
    Labels,
    /// A nested section.
    Map(&'static Section),
    /// A list of maps, each a `Section`.
    List(&'static Section),
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
            Rule::Endpoint => vec![
                ("pattern", json!("^[^/]+$")),
                ("not", json!({"pattern": "://"})),
            ],
            Rule::S3Bucket => vec![
                ("minLength", json!(3)),
                ("maxLength", json!(63)),
                ("pattern", json!("^[a-z0-9][a-z0-9.-]*[a-z0-9]$")),
            ],
            Rule::Region => vec![("pattern", json!("^[a-z0-9-]+$"))],
            Rule::KeyLayout => vec![("pattern", json!("^[^/]"))],
            Rule::VaultPath => vec![("pattern", json!("^[^/\\s]([^\\s]*[^/\\s])?$"))],
            Rule::RoleArn => vec![(
                "pattern",
                json!("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/.+$"),
            )],
            Rule::RepoUrl => vec![(
                "pattern",
                json!("^(https?://|ssh://|git://|file://|[^/@\\s]+@[^:\\s]+:)\\S+$"),
            )],
            Rule::GitRef => vec![],
            Rule::GoDuration => vec![(
                "pattern",
                json!("^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$"),
            )],
            Rule::AbsolutePath => vec![("pattern", json!("^/"))],
            Rule::OneOf(values) => vec![("enum", json!(values))],
        }
    }

    /// What is wrong with `value`, worded to follow it (`` `A` is not a valid DNS-1123 label``).
    pub fn check(self, value: &str) -> Result<(), String> {
        use super::names;
        match self {
            Rule::None => Ok(()),
            Rule::DnsLabel => k8s::dns_label(value),
            Rule::DnsSubdomain => k8s::dns_subdomain(value),
            Rule::DataKey => k8s::data_key(value),
            Rule::Endpoint => names::endpoint(value),
            Rule::S3Bucket => names::s3_bucket(value),
            Rule::Region => names::region(value),
            Rule::KeyLayout => names::key_layout(value),
            Rule::VaultPath => names::vault_path(value),
            Rule::RoleArn => names::role_arn(value),
            Rule::RepoUrl => names::repo_url(value),
            Rule::GitRef => names::git_ref(value),
            Rule::GoDuration => names::go_duration(value),
            Rule::AbsolutePath => names::absolute_path(value),
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
    /// The first Argo release that can express what the field asks for, where that matters.
    pub argo: Option<ArgoVersion>,
}

/// A map of fields, as groups so that sections can share one (the repository fields of `s3` and
/// `artifactBucket`).
#[derive(Debug)]
pub struct Section {
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
    pub const fn default_bool(&self) -> bool {
        match self.default {
            Default::Bool(b) => b,
            _ => panic!("not a boolean field with a default"),
        }
    }
    pub const fn default_list(&self) -> &'static [&'static str] {
        match self.default {
            Default::List(l) => l,
            _ => panic!("not a list field with a default"),
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
    }
}

const fn s(key: &'static str, default: Default, rule: Rule, doc: &'static str) -> Field {
    field(key, Type::Str, default, rule, doc)
}

const fn b(key: &'static str, default: Default, doc: &'static str) -> Field {
    field(key, Type::Bool, default, Rule::None, doc)
}

/// The prefix of the Secret an ExternalSecret creates for a repository.
pub const SECRET_PREFIX: &str = "s3-credentials-";

/// `repoRegistrations[]`.
pub mod registration {
    use super::*;
    pub const NAME: Field = s(
        "name",
        Default::Required,
        Rule::DnsLabel,
        "DNS-1123 label, unique, not `default`; names the WorkflowTemplate and the key `artifactRepositories.<name>`",
    );
    pub const REPO_URL: Field = s(
        "repoUrl",
        Default::Required,
        Rule::RepoUrl,
        "the git URL the WorkflowTemplate runs: `https://`, `http://`, `ssh://`, `git://`, `file://` or `user@host:path`",
    );
    pub const DEFAULT_BRANCH: Field = s(
        "defaultBranch",
        Default::Str("main"),
        Rule::GitRef,
        "the default revision; a valid git ref name",
    );
    pub const TENANT: Field = s(
        "tenant",
        Default::Required,
        Rule::DnsLabel,
        "the tenant's namespace (DNS-1123 label); not the controller namespace, not `kube-*`",
    );
    pub const ARTIFACT_BUCKET: Field = field(
        "artifactBucket",
        Type::Map(&super::ARTIFACT_BUCKET),
        Default::None,
        Rule::None,
        "the registration's own bucket; without it the registration uses the default repository",
    );
    pub const FIELDS: &[Field] = &[NAME, REPO_URL, DEFAULT_BRANCH, TENANT, ARTIFACT_BUCKET];
}

/// The repository fields `repoRegistrations[].artifactBucket` and `s3` share.
pub mod repository {
    use super::*;
    pub const BUCKET: Field = s(
        "bucket",
        Default::Required,
        Rule::S3Bucket,
        "AWS bucket naming rules (3–63 characters, no IP address, no reserved prefixes or suffixes)",
    );
    pub const REGION: Field = s(
        "region",
        Default::None,
        Rule::Region,
        "the bucket's region, like `us-west-2`",
    );
    pub const KEY_PREFIX: Field = s(
        "keyPrefix",
        Default::None,
        Rule::KeyLayout,
        "becomes `keyFormat: <prefix>/{{workflow.name}}/{{pod.name}}` (Argo deprecates `keyPrefix`)",
    );
    pub const KEY_FORMAT: Field = s(
        "keyFormat",
        Default::Derived("Argo's"),
        Rule::KeyLayout,
        "Argo's `keyFormat` template, placed under `keyPrefix` when both are set",
    );
    pub const INSECURE: Field = b(
        "insecure",
        Default::Bool(false),
        "plain HTTP to the endpoint",
    );
    pub const PATH_STYLE: Field = Field {
        argo: Some(argo::ADDRESSING_STYLE_SINCE),
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
        Rule::VaultPath,
        "credentials from Vault (relative to the store's mount, no `data/`) through an ExternalSecret",
    );
    pub const EXISTING_SECRET: Field = s(
        "existingSecret",
        Default::None,
        Rule::DnsLabel,
        "a Secret you manage, in every namespace that uses the repository (DNS-1123 label)",
    );
    pub const USE_SDK_CREDS: Field = b(
        "useSDKCreds",
        Default::None,
        "the pod's cloud identity (IRSA, instance profile), no Secret",
    );
    pub const ROLE_ARN: Field = s(
        "roleARN",
        Default::None,
        Rule::RoleArn,
        "IAM role to assume, with any credential source",
    );
    pub const SECRET_NAME: Field = s(
        "secretName",
        Default::Derived("`s3-credentials-<name>` (`s3-credentials-default`)"),
        Rule::DnsLabel,
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
    pub const HOSTNAME: Field = s(
        "hostname",
        Default::Str(ENDPOINT),
        Rule::Endpoint,
        "the S3 endpoint, `host[:port]`: no scheme (set `insecure: true` for HTTP), no path",
    );
    pub const ENDPOINT_FIELD: Field = Field {
        key: "endpoint",
        ..HOSTNAME
    };
    pub const ENDPOINT: &str = "s3.amazonaws.com";
    pub const ENABLED: Field = b(
        "enabled",
        Default::Bool(false),
        "render the platform default repository",
    );
}

/// `repoRegistrations[].artifactBucket`: `hostname`, as the seed names the endpoint.
pub static ARTIFACT_BUCKET: Section = Section {
    required_when: None,
    groups: &[&[repository::HOSTNAME], repository::FIELDS],
};

/// `s3`: the platform default repository.
pub static S3: Section = Section {
    required_when: Some("enabled"),
    groups: &[
        &[repository::ENABLED, repository::ENDPOINT_FIELD],
        repository::FIELDS,
    ],
};

pub static REGISTRATION: Section = Section {
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
        "every repositories ConfigMap, and the ref's `configMap`",
    );
    pub const DEFAULT_KEY: Field = s(
        "defaultKey",
        Default::Str("default-v1"),
        Rule::DataKey,
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
        Rule::OneOf(&["central", "tenant"]),
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
    pub const COMMON_LABELS: Field = field(
        "commonLabels",
        Type::Labels,
        Default::None,
        Rule::None,
        "labels added to every generated object (not under `app.kubernetes.io/` or `artifact-repos/`)",
    );
    pub const FIELDS: &[Field] = &[
        CONTROLLER_NAMESPACE,
        CONFIG_MAP_NAME,
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
        COMMON_LABELS,
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
        required_when: None,
        groups: &[&[READER_ROLE_ENABLED, READER_ROLE_NAME]],
    };

    pub const STORE_KIND: Field = s(
        "kind",
        Default::Str("ClusterSecretStore"),
        Rule::OneOf(&["ClusterSecretStore", "SecretStore"]),
        "the ESO store's kind",
    );
    pub const STORE_NAME: Field = s(
        "name",
        Default::Str("vault"),
        Rule::DnsSubdomain,
        "the ESO store's name",
    );
    pub static STORE_REF_SECTION: Section = Section {
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
        Rule::None,
        "field of the Vault secret holding the access key id",
    );
    pub const SECRET_KEY_PROPERTY: Field = s(
        "secretKeyProperty",
        Default::Str("secret_key"),
        Rule::None,
        "field of the Vault secret holding the secret access key",
    );
    pub static EXTERNAL_SECRETS_SECTION: Section = Section {
        required_when: None,
        groups: &[&[
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
        required_when: None,
        groups: &[&[ACCESS_KEY, SECRET_KEY]],
    };

    pub const RUNNER_ENABLED: Field =
        b("enabled", Default::Bool(true), "generate WorkflowTemplates");
    pub const RUNNER_IMAGE: Field = s(
        "image",
        Default::Str("nextflow/nextflow:24.10.4"),
        Rule::None,
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
    pub static WORKFLOW_TEMPLATES_SECTION: Section = Section {
        required_when: None,
        groups: &[&[
            RUNNER_ENABLED,
            RUNNER_IMAGE,
            RUNNER_COMMAND,
            RUNNER_ARGS,
            OUTPUT_PATH,
        ]],
    };
}

pub static SETTINGS: Section = Section {
    required_when: None,
    groups: &[settings::FIELDS],
};

/// The top level: the sections the tool owns. Every other top-level key is ignored, so an umbrella
/// chart can pass all its values.
pub const TOP_FIELDS: &[Field] = &[
    field(
        "repoRegistrations",
        Type::List(&REGISTRATION),
        Default::None,
        Rule::None,
        "one entry per git repository",
    ),
    field(
        "s3",
        Type::Map(&S3),
        Default::None,
        Rule::None,
        "the platform's default artifact repository (`default-v1` and `artifactRepositories.default`), and the repository of registrations without an `artifactBucket`",
    ),
    field(
        "artifactRepos",
        Type::Map(&SETTINGS),
        Default::None,
        Rule::None,
        "what a platform team tunes",
    ),
];

/// The top-level section names, for the reader and its warnings.
pub const SECTIONS: [&str; 3] = [TOP_FIELDS[0].key, TOP_FIELDS[1].key, TOP_FIELDS[2].key];

pub static TOP: Section = Section {
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
            for f in [repository::ENABLED, repository::ENDPOINT_FIELD] {
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

/// The JSON schema (draft-07) of a section's map, with Helm's null allowed for optional sections.
pub fn section_schema(section: &Section, description: &str) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in section.fields() {
        props.insert(f.key.into(), field_schema(f));
        if matches!(f.default, Default::Required) {
            required.push(f.key);
        }
    }
    let mut obj = Map::new();
    obj.insert("type".into(), json!(["object", "null"]));
    obj.insert("description".into(), json!(description));
    obj.insert("additionalProperties".into(), Value::Bool(false));
    obj.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        if let Some(gate) = section.required_when {
            obj.insert(
                "if".into(),
                json!({"properties": {gate: {"const": true}}, "required": [gate]}),
            );
            obj.insert("then".into(), json!({"required": required}));
        } else {
            obj.insert("required".into(), json!(required));
        }
    }
    Value::Object(obj)
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
        Type::Version => {
            m.insert("type".into(), json!(["string", "number"]));
        }
        Type::StrList => {
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), json!({"type": "string"}));
        }
        Type::Labels => {
            m.insert("type".into(), json!(["object", "null"]));
            m.insert("additionalProperties".into(), json!({"type": "string"}));
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
    for (k, v) in f.rule.schema() {
        m.insert(k.into(), v);
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
