//! The facts other systems impose, each stated once: Kubernetes' name and key formats, labels and
//! limits (`k8s`), Argo Workflows' versions, repository lookup and repository fields (`argo`).
//! Values validation, render, `check`, `explain`, `workflow` and the CLI all read them from here.
//! docs/upstream.md says where each fact comes from upstream.

pub mod argo;
pub mod k8s;
