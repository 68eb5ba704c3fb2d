//! The `artifact-repos` binary: an adapter that parses arguments, calls the library and maps the
//! outcome to an exit code (0 success, 1 drift or findings, 2 error). Everything else lives in the
//! library so that tests and benchmarks drive the same code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match artifact_repos::cli::run(std::env::args_os().collect()) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            artifact_repos::cli::report_error(&err);
            ExitCode::from(artifact_repos::error::EXIT_ERROR)
        }
    }
}
