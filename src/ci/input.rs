//! How large a manifest input `check`, `diff` and `explain` read: `--max-input BYTES` (or
//! `ARTIFACT_REPOS_MAX_INPUT`), per file or stdin, default `MAX_MANIFEST_BYTES` (64 MiB).
//! The bound keeps a wrong file (or `/dev/zero` on stdin) from being read without end; every
//! reader is linear in its input (issue 20), so a larger bound only costs time in proportion: a
//! 100,000-registration render (300 MB) is checked with `--max-input 512Mi`. One clap argument
//! struct, flattened into each command, so the flag reads and documents the same everywhere.
//! Reading itself stays `fsio`'s (regular files and stdin only, FIFOs and devices refused).

use crate::error::Problems;
use std::path::Path;

/// Largest manifest input accepted per file by default (`--max-input` raises it);
/// Helm's own largest charts render to a few MB, 100,000 registrations to 300 MB.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

/// The environment variable that sets `--max-input`.
pub const MAX_INPUT_ENV: &str = "ARTIFACT_REPOS_MAX_INPUT";

/// What a message about the bound says to raise it.
pub const RAISE: &str = "raise the limit with `--max-input BYTES` (or ARTIFACT_REPOS_MAX_INPUT), e.g. `--max-input 512Mi`, or check that the right file was given";

/// The bound on each manifest input, as a flag of `check`, `diff` and `explain`.
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputArgs {
    /// Largest manifest input read, per file or stdin: bytes, or with a suffix K, M, G (powers of
    /// 1000) or Ki, Mi, Gi (powers of 1024)
    #[arg(
        long = "max-input",
        value_name = "BYTES",
        env = MAX_INPUT_ENV,
        default_value = "64Mi",
        value_parser = parse_size,
        value_hint = clap::ValueHint::Other
    )]
    pub max_input: usize,
}

impl Default for InputArgs {
    fn default() -> Self {
        InputArgs {
            max_input: MAX_MANIFEST_BYTES,
        }
    }
}

/// A size: decimal digits, optionally followed by `K`, `M`, `G` (powers of 1000) or `Ki`, `Mi`,
/// `Gi` (powers of 1024), as Kubernetes writes quantities. At least one byte.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, suffix) = text.split_at(digits);
    let unit: u64 = match suffix {
        "" => 1,
        "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        _ => 0,
    };
    let shown: String = text.escape_debug().take(40).collect();
    let invalid = || {
        format!(
            "`{shown}` is not a size: expected a number of bytes, optionally with a suffix K, M, G, Ki, Mi or Gi (`512Mi`)"
        )
    };
    if number.is_empty() || unit == 0 {
        return Err(invalid());
    }
    let n: u64 = number.parse().map_err(|_| invalid())?;
    if n == 0 {
        return Err(format!(
            "`{shown}` is no size at all: give at least one byte"
        ));
    }
    n.checked_mul(unit)
        .and_then(|b| usize::try_from(b).ok())
        .ok_or_else(|| format!("`{shown}` is larger than this machine can address"))
}

/// Reads a manifest file, or stdin for `-`, of at most `max` bytes (`fsio::read_input`: regular
/// files only, FIFOs, devices and sockets refused without waiting on them). Past the bound, the
/// message says how to raise it.
pub fn read(path: &Path, max: usize) -> anyhow::Result<Vec<u8>> {
    crate::fsio::read_input(path, max).map_err(|e| match e.downcast::<Problems>() {
        Ok(mut p) => {
            for problem in &mut p.0 {
                if let Some(rest) = problem.message.strip_prefix(OVER_LIMIT)
                    && let Some((limit, _)) = rest.split_once(' ')
                {
                    problem.message = format!("{OVER_LIMIT}{limit} bytes; {RAISE}");
                }
            }
            p.into()
        }
        Err(e) => e,
    })
}

/// How `fsio` begins the message of an input past its bound.
const OVER_LIMIT: &str = "input is more than the limit of ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("2Gi"), Ok(2 << 30));
        assert_eq!(parse_size("300M"), Ok(300_000_000));
        assert_eq!(parse_size("5K"), Ok(5_000));
        for bad in ["", "Mi", "1.5Mi", "12MB", "-1", "1 Mi", "0x10", "1m"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains("is not a size"), "{bad:?}: {err}");
        }
        assert!(parse_size("0").unwrap_err().contains("at least one byte"));
        assert!(
            parse_size("99999999999999999999Gi")
                .unwrap_err()
                .contains("is not a size")
        );
        assert!(
            parse_size("18446744073709551615Gi")
                .unwrap_err()
                .contains("larger than")
        );
    }

    #[test]
    fn default_is_the_manifest_limit() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            input: InputArgs,
        }
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.input, InputArgs::default());
        let cli = Cli::try_parse_from(["x", "--max-input", "512Mi"]).unwrap();
        assert_eq!(cli.input.max_input, 512 << 20);
    }
}
