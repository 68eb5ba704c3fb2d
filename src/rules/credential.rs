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
/// be written into generated objects.
pub fn url_has_password(s: &str) -> bool {
    let Some((_, rest)) = s.split_once("://") else {
        return false;
    };
    // Up to the first `@`, leniently: a password holding an unescaped `/` still counts.
    rest.split_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':') && !userinfo.contains(['?', '#']))
}

/// True when a string looks like a credential value, or carries one, so it is neither echoed in
/// a message nor written into generated objects (issue #11, class 2): the whole string or any
/// piece of it between white space and punctuation other than `. _ - + =`-free base64 (`/ : @ ?
/// & = # , ; [ ] { } ( ) < > |`, quotes, backslashes) is an AWS access key id
/// (`AKIA`/`ASIA` and 16 more), an AWS secret key (40 characters of base64 in both cases and
/// digits), a JWT (`eyJ...`), a GitHub or Slack token (`ghp_`, `github_pat_`, `xoxb-`, ...), or
/// a long random-looking token (32 characters or more of base64/base64url with at least 3
/// upper-case letters, 3 lower-case letters and 3 digits); or the string holds a PEM block, or
/// assigns a credential (`token=...`, `password=...`, `secret:...`, not an empty one or a
/// `$VAR`/`{{param}}` reference).
pub fn looks_like_credential(s: &str) -> bool {
    s.contains("-----BEGIN")
        || credential_token(s)
        || s.split(|c: char| "/:@?&=#,;[]{}()<>|\\\"'`".contains(c) || c.is_whitespace())
            .any(credential_token)
        || assigns_credential(s)
}

/// One token shaped like a credential (see `looks_like_credential`).
fn credential_token(s: &str) -> bool {
    let b = s.as_bytes();
    let count = |f: fn(&u8) -> bool| b.iter().filter(|c| f(c)).count();
    let aws_id = b.len() == 20
        && (s.starts_with("AKIA") || s.starts_with("ASIA"))
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let aws_secret = b.len() == 40
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/".contains(c))
        && b.iter().any(|c| c.is_ascii_uppercase())
        && b.iter().any(|c| c.is_ascii_lowercase())
        && b.iter().any(|c| c.is_ascii_digit());
    let jwt = s.starts_with("eyJ") && s.split('.').count() == 3 && b.len() >= 20;
    let prefixed = [
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xoxs-",
        "sk_live_",
        "hvs.",
    ]
    .iter()
    .any(|p| s.len() >= p.len() + 16 && s.starts_with(p));
    let random = b.len() >= 32
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=_-".contains(c))
        && count(u8::is_ascii_uppercase) >= 3
        && count(u8::is_ascii_lowercase) >= 3
        && count(u8::is_ascii_digit) >= 3;
    aws_id || aws_secret || jwt || prefixed || random
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
