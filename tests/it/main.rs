//! The integration tests, one binary (one link, one set of shared helpers in `support`). Each
//! module is one area; `ARTIFACT_REPOS_BLESS=1` (`support::bless`) rewrites every expected file that
//! a test compares against, through the same code that compares.

mod argocd;
mod chart;
mod ci;
mod golden;
mod hardening;
mod helm;
mod hostile;
mod krm;
mod linear;
mod paths;
mod policies_files;
mod postrender_streams;
mod privilege;
mod properties;
mod reader_table;
mod readme;
mod scale;
mod support;
mod upstream;
mod validate;
mod values_parity;
