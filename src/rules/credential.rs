//! The credential detector (issue #11, class 2): what looks like a secret, so that it is neither
//! echoed in a message nor written into a generated object. Every value shown to a user goes
//! through `show`; every value written is screened by the reader with `looks_like_credential`.
//! Pure predicates: it never sees the values tree.

/// A value for a message: backticked, escaped, cut to a readable length, or withheld when it looks
/// like a credential.
pub fn show(s: &str) -> String {
    if looks_like_credential(s) {
        return "(value hidden: looks like a credential)".into();
    }
    let escaped = crate::error::escape(s);
    if escaped.chars().count() > 80 {
        let cut: String = escaped.chars().take(77).collect();
        format!("`{cut}...`")
    } else {
        format!("`{escaped}`")
    }
}

/// True when a URL carries a password (`scheme://user:password@host/...`): a credential that would
/// be written into generated objects. Every URL in the string counts, not only a leading one
/// (`--endpoint=https://user:pw@minio`, issue 20).
pub fn url_has_password(s: &str) -> bool {
    s.match_indices("://").any(|(i, _)| {
        let rest = &s[i + 3..];
        let rest = rest.split(char::is_whitespace).next().unwrap_or("");
        // Up to the first `@`, leniently: a password holding an unescaped `/` still counts.
        let Some((userinfo, _)) = rest.split_once('@') else {
            return false;
        };
        let Some((_, after_colon)) = userinfo.split_once(':') else {
            return false;
        };
        // `host:9000/path@v1` is a port and a path, not user info.
        let port = after_colon
            .split_once('/')
            .is_some_and(|(p, _)| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
        !userinfo.contains(['?', '#']) && !port
    })
}

/// Prefixes of tokens whose format says what they are: GitHub (`ghp_`, `github_pat_`, ...),
/// GitLab (personal `glpat-`, deploy `gldt-`, runner `glrt-`, pipeline trigger `glptt-`, CI/CD
/// job `glcbt-`, feed `glft-`, OAuth application secret `gloas-`, incoming mail `glimt-`, agent
/// `glagent-`, SCIM `glsoat-`, feature flags `glffct-`), Slack (bot, user, app-level `xapp-`,
/// refresh `xoxe-`), Stripe, Vault service tokens (`hvs.`), batch tokens (`hvb.`), npm (`npm_`),
/// PyPI (`pypi-`), OpenAI (`sk-proj-`), Anthropic (`sk-ant-`), Hugging Face (`hf_`).
const TOKEN_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glptt-",
    "glcbt-",
    "glft-",
    "gloas-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxs-",
    "xoxr-",
    "xoxe-",
    "xoxe.xoxp-",
    "xapp-",
    "sk_live_",
    "rk_live_",
    "hvs.",
    "hvb.",
    "npm_",
    "pypi-",
    "sk-proj-",
    "sk-ant-",
    "hf_",
];

/// The first characters of AWS access key ids: users, temporary (STS) credentials, and the ids
/// of roles, groups and policies that are written the same way.
const AWS_ID_PREFIXES: &[&str] = &["AKIA", "ASIA", "ABIA", "ACCA"];

/// True when a string looks like a credential value, or carries one, so it is neither echoed in
/// a message nor written into generated objects (issue #11, class 2; issue 20). It is one if:
///
/// - the whole string, or a piece of it between white space and punctuation (`/ : @ ? & = # , ;
///   [ ] { } ( ) < > |`, quotes, backslashes), or between those and `. _ -` too, is an AWS secret
///   key (40 characters of base64 in both cases and digits), a JWT (`eyJ...`), or a long
///   random-looking token (32 characters or more of base64/base64url with at least 3 upper-case
///   letters, 3 lower-case letters and 3 digits);
/// - anywhere in it, after a character that is not a letter or digit (or at its start), stands an
///   AWS access key id (`AKIA`/`ASIA` and 16 upper-case letters or digits: `ci-AKIA...`,
///   `x_AKIA...`, `x.AKIA...` count) or a token of a known format (`ghp_`, `gldt-`, `xapp-`, ...,
///   followed by 16 token characters or more);
/// - a run of base64 split at `/` holds an AWS secret key (`prefix/wJalr.../K7MDENG/...`);
/// - it holds 64 hexadecimal digits in a row (a 256-bit key written in hex), unless it is a
///   SHA-256 digest (`sha256:` before it, as in an image reference); 40 hex digits are a git
///   commit id and do not count;
/// - it holds a URL with a password in its user info (`https://user:pw@host`);
/// - it holds a PEM block, or assigns a credential (`token=...`, `password=...`, `secret:...`,
///   not an empty one or a `$VAR`/`{{param}}` reference).
pub fn looks_like_credential(s: &str) -> bool {
    s.contains("-----BEGIN")
        || credential_token(s)
        || s.split(|c: char| "/:@?&=#,;[]{}()<>|\\\"'`".contains(c) || c.is_whitespace())
            .any(credential_token)
        || s.split(|c: char| "/:@?&=#,;[]{}()<>|\\\"'`._-".contains(c) || c.is_whitespace())
            .any(random_token)
        || embedded_token(s)
        || split_aws_secret(s)
        || hex_key(s)
        || url_has_password(s)
        || assigns_credential(s)
}

/// A long random-looking token (see `looks_like_credential`).
fn random_token(s: &str) -> bool {
    let b = s.as_bytes();
    let count = |f: fn(&u8) -> bool| b.iter().filter(|c| f(c)).count();
    // A `/` is base64, but many of them make a path (`data/Sample01/Reads/Run2024/...`).
    b.len() >= 32
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=_-".contains(c))
        && count(|c| *c == b'/') * 16 <= b.len()
        && count(u8::is_ascii_uppercase) >= 3
        && count(u8::is_ascii_lowercase) >= 3
        && count(u8::is_ascii_digit) >= 3
}

/// 40 characters of base64 with upper-case letters, lower-case letters and digits. With a `/` in
/// it, held to a random secret's shape too (at most 3 `/`, at least 5 upper-case and 5 lower-case
/// letters), so that an ordinary path of 40 characters (`data/Sample01/Reads/Run2024/Lane1/Output`)
/// is not taken for one: a random key has 3 or fewer `/` 99.6% of the time.
fn aws_secret(s: &str) -> bool {
    let b = s.as_bytes();
    let n = |f: fn(&u8) -> bool| b.iter().filter(|c| f(c)).count();
    let slashes = n(|c| *c == b'/');
    b.len() == 40
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/".contains(c))
        && n(u8::is_ascii_uppercase) >= if slashes > 0 { 5 } else { 1 }
        && n(u8::is_ascii_lowercase) >= if slashes > 0 { 5 } else { 1 }
        && n(u8::is_ascii_digit) >= 1
        && slashes <= 3
}

/// One token shaped like a credential (see `looks_like_credential`).
fn credential_token(s: &str) -> bool {
    let b = s.as_bytes();
    let jwt = s.starts_with("eyJ") && s.split('.').count() == 3 && b.len() >= 20;
    aws_secret(s) || jwt || random_token(s) || embedded_token(s)
}

/// An access key id or a token of a known format anywhere in `s`, after a character that is not
/// a letter or digit, or at the start.
fn embedded_token(s: &str) -> bool {
    let b = s.as_bytes();
    let boundary = |i: usize| i == 0 || !b[i - 1].is_ascii_alphanumeric();
    let run = |from: usize, ok: fn(&u8) -> bool| b[from..].iter().take_while(|c| ok(c)).count();
    let upper_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let token_char = |c: &u8| c.is_ascii_alphanumeric() || b"_-".contains(c);
    // One pass over the token starts, comparing bytes: a substring searcher per prefix and per
    // value (`match_indices`) made this a third of a 10,000-registration render.
    (0..b.len())
        .filter(|&i| b[i].is_ascii_alphabetic() && boundary(i))
        .any(|i| {
            let rest = &b[i..];
            AWS_ID_PREFIXES
                .iter()
                .any(|p| rest.starts_with(p.as_bytes()) && run(i, upper_digit) == 20)
                || TOKEN_PREFIXES
                    .iter()
                    .any(|p| rest.starts_with(p.as_bytes()) && run(i + p.len(), token_char) >= 16)
        })
}

/// An AWS secret key inside a longer run of base64 that `/` splits into path segments: some
/// consecutive segments, joined again, are one (`tenants/wJalr.../K7MDENG/...KEY/x`).
fn split_aws_secret(s: &str) -> bool {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/'))
        .filter(|run| run.len() >= 40 && run.contains('/'))
        .any(|run| {
            let b = run.as_bytes();
            (0..=b.len() - 40).any(|i| {
                let starts = i == 0 || b[i - 1] == b'/';
                let ends = i + 40 == b.len() || b[i + 40] == b'/';
                starts && ends && aws_secret(&run[i..i + 40])
            })
        })
}

/// 64 hexadecimal digits in a row, not part of a longer run of letters and digits, and not a
/// SHA-256 digest (`sha256:`, `sha256=` or `sha256-` right before it).
fn hex_key(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run = &b[start..i];
        if run.len() == 64 && run.iter().all(u8::is_ascii_hexdigit) {
            let before = s[..start].to_ascii_lowercase();
            let digest = ["sha256:", "sha256=", "sha256-"]
                .iter()
                .any(|m| before.ends_with(m));
            if !digest {
                return true;
            }
        }
    }
    false
}

/// `password=x`, `--token=x`, `?access_token=x`, `secret: x` inside a string: a credential
/// written inline. An empty value or a reference (`$VAR`, `${VAR}`, `{{param}}`) is not one.
fn assigns_credential(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "token",
        "secret",
        "apikey",
        "api_key",
        "api-key",
        "secret_key",
        "access_key",
        "secretkey",
        "accesskey",
    ]
    .iter()
    .any(|word| {
        lower.match_indices(word).any(|(i, w)| {
            let rest = &lower[i + w.len()..];
            let Some(value) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(": ")) else {
                return false;
            };
            let value = value.trim_start();
            !(value.is_empty()
                || value.starts_with('$')
                || value.starts_with("{{")
                || value.starts_with('&'))
        })
    })
}

/// A command-line flag that names a credential (`--password`, `--token`, `--secret`): the
/// argument after it would be the credential itself.
pub fn is_credential_flag(arg: &str) -> bool {
    let name = arg.trim_start_matches('-');
    arg.starts_with('-')
        && !arg.contains('=')
        && (is_credential_key(name) || name.eq_ignore_ascii_case("secret"))
}

/// True when a git URL carries a credential: user info other than a plain user name for
/// `ssh://`/`git@` (`https://user:token@host`, `https://token@host`, `ssh://user:pw@host`), or a
/// query or fragment (`?token=...`, `#...`), which git never needs.
pub fn url_carries_credential(s: &str) -> bool {
    if url_has_password(s) {
        return true;
    }
    if let Some((scheme, rest)) = s.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            if userinfo.contains(':') || http {
                return true;
            }
        }
        rest.contains(['?', '#'])
    } else {
        // `user@host:path` (scp form): a password cannot be written; a query or fragment can.
        s.contains(['?', '#'])
    }
}

/// Key names that mean someone is trying to put a credential inline.
pub fn is_credential_key(key: &str) -> bool {
    let k: String = key
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    [
        "accesskey",
        "secretkey",
        "secretaccesskey",
        "password",
        "passwd",
        "token",
        "sessiontoken",
        "privatekey",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built at run time, so that no scanner takes this file for a leak.
    fn fake(prefix: &str, body: &str) -> String {
        format!("{prefix}{body}")
    }

    /// Issue 20, "Credentials emitted and echoed": what the detector missed.
    #[test]
    fn embedded_split_and_new_formats_are_credentials() {
        let id = fake("AKIA", "IOSFODNN7EXAMPLE");
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let hex64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        for s in [
            format!("ci-{id}"),
            format!("x_{id}"),
            format!("x.{id}"),
            format!("team-{id}-builds"),
            format!("tenants/{secret}"),
            format!("tenants/{secret}/runs"),
            format!("prefix-{secret}"),
            "https://user:pw@minio.example.com".into(),
            "--endpoint=https://user:pw@minio.example.com:9000".into(),
            "minio https://ci:s3cr3t@minio:9000/bucket".into(),
            fake("gldt-", "abcdefghij0123456789"),
            fake("x-gldt-", "abcdefghij0123456789"),
            fake("glrt-", "abcdefghij0123456789"),
            fake("xapp-", "1-A0123456789-1234567890123-abcdef"),
            fake("xoxe.xoxp-", "1-Mi0yLTE0MDk3NjI2NjY4LTE0"),
            fake("label-ghp_", "abcdefghij0123456789abcd"),
            hex64.into(),
            hex64.to_ascii_uppercase(),
            format!("key={hex64}"),
            format!("prefix/{hex64}"),
        ] {
            assert!(looks_like_credential(&s), "{s}");
            assert_eq!(show(&s), "(value hidden: looks like a credential)", "{s}");
        }
    }

    /// What must stay readable: names, paths, git commit ids, image digests, URLs without a
    /// password, templates.
    #[test]
    fn ordinary_values_are_not_credentials() {
        let sha1 = "3f786850e387550fdab836ed7e6dc881de23001b";
        let sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        for s in [
            "genomics-artifacts",
            "my-project-artifacts.example.com",
            "AKIA-is-a-word",
            "workflows/{{workflow.name}}/{{pod.name}}",
            "data/Sample01/Reads/Run2024/Lane1/Output",
            "tenants/team-a/ProjectAlpha2024/Build/x",
            sha1,
            &format!("refs/heads/{sha1}"),
            &format!("alpine@sha256:{sha256}"),
            &format!("sha256-{sha256}"),
            "https://github.com/myorg/my-project.git",
            "https://bot@github.com/o/r.git",
            "git@github.com:o/r.git",
            "https://minio.example.com:9000/path@v1",
            "https://github.com/o/r.git?a=b:c@d",
            "s3.us-west-2.amazonaws.com",
            "arn:aws:iam::123456789012:role/argo-team-a",
            "argo/apps/genomics-pipeline/s3/artifacts",
            "ghp_short",
            "glpat",
        ] {
            assert!(!looks_like_credential(s), "{s}");
        }
    }
}
