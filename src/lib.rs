//! artifact-repos: generate per-tenant Argo Workflows artifact repositories from Helm values.
//!
//! The house, from the ground up:
//! - `rules`: the facts other systems impose (Kubernetes, Argo, S3/git/Vault formats, the
//!   credential detector, object identities); `error`: problems and exit codes.
//! - `yaml`: the one owner of the YAML library (Helm-compatible reading, emitting, the stream
//!   splitter). `values`: reads values files and RepoRegistrations into the checked `model`.
//! - `render`: the model as typed objects. `pipeline`: the one generate step (merge, append
//!   registrations, read, render, relabel, strict) every path composes.
//! - `deploy`: each deploy path's adapter (Helm post-render, KRM, Argo CD, output folder).
//! - `ci`: manifest readers and the CI commands (`check`, `diff`, `explain`, `workflow`,
//!   `policies`); it never imports the generator.
//! - `cli`: clap definitions and dispatch; `inputs` and `fsio`: the reading and writing edge.

pub mod ci;
pub mod cli;
pub mod deploy;
pub mod error;
pub mod fsio;
pub mod generated;
pub mod inputs;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod rules;
pub mod values;
pub mod yaml;
