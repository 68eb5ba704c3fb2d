//! The ground floor: the facts other systems impose, each stated once. Kubernetes' name and key
//! formats, labels and limits (`k8s`); Argo Workflows' versions, repository lookup and repository
//! fields (`argo`); what S3, git, Argo and Vault accept in a value (`formats`); what looks like a
//! credential (`credential`); what identifies an object (`identity`). Nothing here imports the
//! rest of the crate but `error`.
//! Values validation, render, `check`, `explain`, `workflow` and the CLI all read them from here.
//! docs/upstream.md says where each fact comes from upstream.

pub mod argo;
pub mod credential;
pub mod formats;
pub mod identity;
pub mod k8s;
