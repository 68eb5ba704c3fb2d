//! The deploy paths' adapters: each takes its input the way its host hands it over and gives its
//! output the way the host wants it, around the one generate step (`crate::pipeline`).
//! `postrender` is Helm's post-renderer (Helm 3's `--post-renderer`, the Helm 4
//! plugin) over Helm's stream as bytes; `krm` is the KRM function (kustomize, kpt), `resource_list` the text of its ResourceList; `argocd` the
//! Argo CD Config Management Plugin (with its `helm template` subprocess); `outdir` writes a render
//! into a folder (`render --output-dir`, `--check`).

pub mod argocd;
pub mod helm;
pub mod krm;
pub mod outdir;
pub mod postrender;
pub mod resource_list;
