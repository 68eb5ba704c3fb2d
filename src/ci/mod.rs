//! The CI half: reads manifest streams (`manifests`) that anyone may have written, and answers
//! questions about them: `diff` (what changes), `check` (would Argo resolve every repository),
//! `explain` (where does this workflow's artifact go), `workflow` (a Workflow that uses a
//! repository), `policies` (one least-privilege bucket policy per credential, from the model).
//! It never imports the generator (`render`): an object is named by `rules::identity`.

pub mod check;
pub mod diff;
pub mod explain;
pub mod input;
pub mod manifests;
pub mod policies;
pub mod workflow;
