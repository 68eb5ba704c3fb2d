//! artifact-repos: generate per-tenant Argo Workflows artifact repositories from Helm values.
//!
//! The pipeline, one module per stage:
//! `values` (parse and merge values, validate into a checked `model`) -> `render` (typed objects,
//! serialized in Helm's install order). `stream` and `postrender` handle Helm's post-renderer
//! stream as bytes; `manifests`, `diff`, `check`, `explain` and `workflow` read manifest streams for
//! CI. `cli` does the I/O (through `fsio`, the one bounded reader and atomic writer; `outdir` carries
//! out its plan with it); `yaml` is the only module that knows the YAML library.

pub mod ci;
pub mod cli;
pub mod deploy;
pub mod error;
pub mod fsio;
pub mod generated;
pub mod model;
pub mod render;
pub mod rules;
pub mod values;
pub mod yaml;
