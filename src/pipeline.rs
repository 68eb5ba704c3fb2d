//! The one generate step every deploy path composes: values sources and RepoRegistrations in, the
//! generated objects (or every problem at once) out. `render` (stdout, `--output-dir`, `--check`),
//! `post-render` and the Helm 4 plugin, `argocd-generate` (both source kinds), the KRM function
//! and `policies` call it; a path only adapts its input (files, a carrier, a functionConfig) and
//! its output (a stream, files, a ResourceList). A controller can call it unchanged.
//!
//! The stages, in order: merge the values as Helm does (`values::merge_sources`, or a tree the
//! path read already) -> append the RepoRegistrations -> read and validate into the `Model`
//! (`values::validate`) -> render (`render::render_with`) -> relabel problems into the objects
//! they came from -> strict mode (every warning an error) -> "nothing to render". Pure: no I/O, and
//! nothing is printed; warnings travel back with the result (or with the refusal, so a path prints
//! them before the error).

use crate::error::{Problem, Problems};
use crate::model::Model;
use crate::render::{ManagedBy, Object, Release};
use crate::rules::identity::Document;
use crate::values::reporeg::{Origin, Origins};
use crate::yaml::Node;

/// Where the values come from.
#[derive(Debug, Clone)]
pub enum Values {
    /// Values files in merge order, as (name for messages, bytes), then `--set` and `--set-string`
    /// expressions applied on top, as Helm applies them.
    Files {
        files: Vec<(String, Vec<u8>)>,
        set: Vec<String>,
        set_string: Vec<String>,
    },
    /// A values tree a path has read already (a values carrier, a KRM `functionConfig`), with the
    /// name its messages give it.
    Tree { name: String, values: Node },
}

impl Default for Values {
    fn default() -> Self {
        Values::Tree {
            name: String::new(),
            values: Node::Map(Default::default()),
        }
    }
}

/// Everything a run reads.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub values: Values,
    /// Read the values under this top-level key (`--values-key artifact-repos`: an umbrella
    /// chart's values file, where this chart's values live under its name).
    pub values_key: Option<String>,
    /// RepoRegistration objects turned into values entries (`values::reporeg::to_entry`), each with
    /// where it came from; appended after the values' own `repoRegistrations`.
    pub registrations: Vec<(Node, Origin)>,
    /// Warnings the path found while reading (a skipped file): reported with the run's own, and
    /// errors under strict mode like them.
    pub warnings: Vec<Problem>,
}

/// The form generated objects are produced in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Form {
    /// YAML documents, written straight from the typed objects (the fast path).
    #[default]
    Yaml,
    /// JSON trees (the KRM function's items, compared with the input's).
    Json,
    /// Pretty JSON text per object (`-o json`), written straight from the typed objects.
    JsonText,
}

/// How a run is asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub release: Release,
    /// Who the `app.kubernetes.io/managed-by` label names.
    pub managed_by: ManagedBy,
    /// Annotations added to every generated object (Helm 4's post-renderer filename).
    pub extra_annotations: Vec<(String, String)>,
    /// `--strict` on the command line; `artifactRepos.strict: true` in the values counts as well.
    pub strict_flag: bool,
    pub form: Form,
    /// Whether generating nothing is fine: a post-renderer's stream may hold other objects (it
    /// decides itself); every other path refuses an empty result.
    pub allow_empty: bool,
}

/// The generated objects, in output order.
#[derive(Debug, Clone)]
pub enum Objects {
    Yaml(Vec<Document>),
    Json(Vec<Object>),
    JsonText(Vec<String>),
}

impl Objects {
    pub fn len(&self) -> usize {
        match self {
            Objects::Yaml(d) => d.len(),
            Objects::Json(o) => o.len(),
            Objects::JsonText(o) => o.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The YAML documents (`Form::Yaml`).
    pub fn into_docs(self) -> Vec<Document> {
        match self {
            Objects::Yaml(d) => d,
            Objects::Json(_) | Objects::JsonText(_) => {
                panic!("asked for YAML documents from a JSON run")
            }
        }
    }

    /// The JSON trees (`Form::Json`).
    pub fn into_json(self) -> Vec<Object> {
        match self {
            Objects::Json(o) => o,
            _ => panic!("asked for JSON trees from another form"),
        }
    }
}

/// A successful run.
#[derive(Debug, Clone)]
pub struct Generated {
    pub objects: Objects,
    /// Warnings for the user (never errors: under strict mode they refused the run).
    pub warnings: Vec<Problem>,
    /// The run was strict (so a path's own later warnings are errors too: `strict_errors`).
    pub strict: Strict,
}

/// A refused run: every problem, and the warnings found before it (a path prints those first).
#[derive(Debug, Clone, Default)]
pub struct Refused {
    pub problems: Problems,
    pub warnings: Vec<Problem>,
}

impl From<Problems> for Refused {
    fn from(problems: Problems) -> Self {
        Refused {
            problems,
            warnings: Vec::new(),
        }
    }
}

/// Whether warnings are errors, and which switch said so (for the message).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strict {
    #[default]
    Off,
    /// `--strict` on the command line.
    Flag,
    /// `artifactRepos.strict: true` in the values: the switch that reaches Helm 3's arg-less
    /// post-renderer, the Helm 4 plugin, Argo CD and the KRM function.
    Values,
}

impl Strict {
    fn of(flag: bool, values: &Node) -> Strict {
        if flag {
            Strict::Flag
        } else if crate::values::strict(values) {
            Strict::Values
        } else {
            Strict::Off
        }
    }

    pub fn is_on(self) -> bool {
        self != Strict::Off
    }

    /// The switch, as messages name it.
    pub fn switch(self) -> &'static str {
        match self {
            Strict::Flag => "--strict",
            _ => "`artifactRepos.strict: true`",
        }
    }

    /// `warnings` as the run's outcome: under strict mode every warning is an error (#11, class 8:
    /// Helm drops a successful post-renderer's stderr, so a warning there is seen by nobody).
    pub fn check(self, warnings: Vec<Problem>) -> Result<Vec<Problem>, Problems> {
        if self.is_on() {
            crate::values::strict_errors(&warnings, self.switch())?;
        }
        Ok(warnings)
    }
}

/// The values read and checked: the stage `policies` (and any path that needs the model rather
/// than objects) stops at.
#[derive(Debug)]
pub struct Read {
    pub model: Model,
    /// The merged values tree the model was read from (registrations appended).
    pub values: Node,
    pub origins: Origins,
    /// Reading warnings and the validator's, relabelled into their objects.
    pub warnings: Vec<Problem>,
    pub strict: Strict,
    /// How many of `warnings` the path found while reading (the rest are the validator's): a
    /// refused render reports only those, as the validator's belong to a run that did not happen.
    read_warnings: usize,
    /// The names of the sources, for "nothing to render".
    source_names: Vec<String>,
    with_set: bool,
}

/// Merges, appends the registrations and validates: the model, or every problem.
pub fn read(sources: Sources, strict_flag: bool) -> Result<Read, Refused> {
    let Sources {
        values,
        values_key,
        registrations,
        mut warnings,
    } = sources;
    let (merged, source_names, with_set) = match values {
        Values::Files {
            files,
            set,
            set_string,
        } => {
            let names = files.iter().map(|(n, _)| n.clone()).collect();
            let with_set = !set.is_empty() || !set_string.is_empty();
            match crate::values::merge_sources(&files, &set, &set_string) {
                Ok((m, w)) => {
                    warnings.extend(w);
                    (m, names, with_set)
                }
                Err(problems) => return Err(Refused { problems, warnings }),
            }
        }
        Values::Tree { name, values } => (values, vec![name], false),
    };
    let mut merged = match values_key {
        None => merged,
        Some(key) => match sub_values(merged, &key) {
            Ok(m) => m,
            Err(problems) => return Err(Refused { problems, warnings }),
        },
    };
    let origins = crate::values::reporeg::append(&mut merged, registrations);
    warnings.extend(origins.namespace_warnings());
    let strict = Strict::of(strict_flag, &merged);
    match crate::values::validate::validate(&merged) {
        Ok((model, w)) => {
            let read_warnings = warnings.len();
            warnings.extend(origins.relabel_warnings(w));
            Ok(Read {
                model,
                values: merged,
                origins,
                warnings,
                read_warnings,
                strict,
                source_names,
                with_set,
            })
        }
        Err(p) => Err(Refused {
            problems: origins.relabel(p),
            warnings,
        }),
    }
}

/// The values under `key` of the merged tree.
fn sub_values(mut merged: Node, key: &str) -> Result<Node, Problems> {
    let sub = match &mut merged {
        Node::Map(m) => m.shift_remove(key),
        _ => None,
    };
    match sub {
        Some(v @ Node::Map(_)) => Ok(v),
        None | Some(Node::Null) => {
            let keys = crate::values::shown_keys(&merged);
            let mut p = Problems::default();
            p.push(
                "--values-key",
                format!(
                    "the values have no key {} (their top-level keys: {}); name the key the chart's values live under",
                    crate::rules::credential::show(key),
                    if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
                ),
            );
            Err(p)
        }
        Some(other) => {
            let mut p = Problems::default();
            p.push(
                crate::values::path::join("", key),
                format!(
                    "expected the chart's values as a map (`--values-key`), got {}",
                    other.type_name()
                ),
            );
            Err(p)
        }
    }
}

/// The one generate step: sources in, objects out.
pub fn generate(sources: Sources, options: &Options) -> Result<Generated, Refused> {
    let read = read(sources, options.strict_flag)?;
    render(read, options)
}

/// Renders what `read` checked.
pub fn render(read: Read, options: &Options) -> Result<Generated, Refused> {
    let Read {
        model,
        values,
        origins,
        mut warnings,
        read_warnings,
        strict,
        source_names,
        with_set,
    } = read;
    let render_options = crate::render::Options {
        release: options.release.clone(),
        extra_annotations: options.extra_annotations.clone(),
        managed_by: options.managed_by,
    };
    let rendered =
        match options.form {
            Form::Yaml => {
                crate::render::render_with(&model, &render_options, &mut crate::render::YamlSink)
                    .map(|objects| {
                        Objects::Yaml(
                            objects
                                .into_iter()
                                .map(|(identity, yaml)| Document { identity, yaml })
                                .collect(),
                        )
                    })
            }
            Form::Json => {
                crate::render::render_with(&model, &render_options, &mut crate::render::JsonSink)
                    .map(|objects| {
                        Objects::Json(
                            objects
                                .into_iter()
                                .map(|(identity, value)| Object { identity, value })
                                .collect(),
                        )
                    })
            }
            Form::JsonText => crate::render::render_with(
                &model,
                &render_options,
                &mut crate::render::JsonTextSink,
            )
            .map(|objects| Objects::JsonText(objects.into_iter().map(|(_, text)| text).collect())),
        };
    // Memory (#11): the model goes once rendered; the documents are the peak.
    drop(model);
    let objects = match rendered {
        Ok(o) => o,
        Err(p) => {
            warnings.truncate(read_warnings);
            return Err(Refused {
                problems: origins.relabel(p),
                warnings,
            });
        }
    };
    let warnings = match strict.check(warnings) {
        Ok(w) => w,
        Err(problems) => {
            return Err(Refused {
                problems,
                warnings: Vec::new(),
            });
        }
    };
    if objects.is_empty() && !options.allow_empty {
        let names: Vec<&str> = source_names.iter().map(String::as_str).collect();
        return Err(Refused {
            problems: crate::values::nothing_to_render(&names, with_set, &values),
            warnings,
        });
    }
    Ok(Generated {
        objects,
        warnings,
        strict,
    })
}
