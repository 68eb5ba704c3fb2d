//! Value rules that S3, git, Argo and Vault impose (docs/upstream.md), as pure
//! predicates returning what is wrong. Validation calls them; they never see the values tree.

/// An AWS region name, like `us-west-2`.
pub fn region(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err("is not a region; expected something like `us-west-2`".into())
    }
}

/// An object key layout (`keyPrefix`, `keyFormat`): relative, no control characters, balanced
/// `{{ }}`.
pub fn key_layout(v: &str) -> Result<(), String> {
    if v.starts_with('/')
        || v.chars().any(|c| c.is_control())
        || v.matches("{{").count() != v.matches("}}").count()
    {
        Err("is not a key layout; expected a relative path like `workflows/` or `{{workflow.name}}/{{pod.name}}`, without a leading `/`".into())
    } else {
        Ok(())
    }
}

/// An absolute path in the runner's container.
pub fn absolute_path(v: &str) -> Result<(), String> {
    if !v.starts_with('/') || v.chars().any(|c| c.is_control()) {
        Err("is not an absolute path; expected `/tmp/outputs`".into())
    } else {
        Ok(())
    }
}

/// S3 bucket naming rules (AWS "Bucket naming rules").
pub fn s3_bucket(s: &str) -> Result<(), String> {
    let n = s.len();
    if !(3..=63).contains(&n) {
        return Err(format!("is {n} characters; an S3 bucket name has 3 to 63"));
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
    {
        return Err("may hold only lowercase letters, digits, `.` and `-`".into());
    }
    let b = s.as_bytes();
    if !b[0].is_ascii_alphanumeric() || !b[n - 1].is_ascii_alphanumeric() {
        return Err("must start and end with a letter or digit".into());
    }
    if s.contains("..") {
        return Err("may not contain `..`".into());
    }
    if is_ipv4(s) {
        return Err("may not be formatted as an IP address".into());
    }
    for p in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if s.starts_with(p) {
            return Err(format!("may not start with `{p}` (reserved by AWS)"));
        }
    }
    for suf in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if s.ends_with(suf) {
            return Err(format!("may not end with `{suf}` (reserved by AWS)"));
        }
    }
    Ok(())
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()))
}

/// An S3 endpoint as Argo takes it: `host[:port]`, no scheme, no path.
pub fn endpoint(s: &str) -> Result<(), String> {
    if let Some(i) = s.find("://") {
        let host = s[i + 3..].split('/').next().unwrap_or("");
        return Err(format!(
            "has a scheme (`{}`); Argo takes host[:port] only, like `{host}`; for plain HTTP set `insecure: true`",
            &s[..i + 3]
        ));
    }
    if s.contains('/') {
        return Err(format!(
            "has a path; Argo takes host[:port] only, like `{}`; put a key prefix in `keyPrefix`",
            s.split('/').next().unwrap_or("")
        ));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err("has `[` without `]`; expected `[::1]:9000`".into()),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {}
            _ => return Err(format!("has port `{p}`; expected a number from 1 to 65535")),
        }
    }
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    let ipv6_ok = s.starts_with('[') && host.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
    if host_ok || ipv6_ok {
        Ok(())
    } else {
        Err(
            "is not a host name or IP address; expected host[:port] like `minio.storage:9000`"
                .into(),
        )
    }
}

/// A git branch or tag name that `git check-ref-format` would accept (the parts that matter here).
pub fn git_ref(s: &str) -> Result<(), String> {
    let bad = s.is_empty()
        || s.starts_with('-')
        || s.starts_with('/')
        || s.ends_with('/')
        || s.ends_with('.')
        || s.ends_with(".lock")
        || s.contains("..")
        || s.contains("@{")
        || s.contains("//")
        || s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad {
        Err(
            "is not a valid git branch name; expected something like `main` or `release/1.2`"
                .into(),
        )
    } else {
        Ok(())
    }
}

/// A repository URL a runner can clone: https, http, ssh, git, file URLs or scp-like `git@host:path`.
pub fn repo_url(s: &str) -> Result<(), String> {
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("contains white space or control characters; expected a URL like `https://github.com/org/repo.git`".into());
    }
    let scheme_ok = ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|p| s.len() > p.len() && s.starts_with(p));
    let scp_ok = s.split_once(':').is_some_and(|(user_host, path)| {
        user_host.contains('@') && !user_host.contains('/') && !path.is_empty()
    });
    if scheme_ok || scp_ok {
        Ok(())
    } else {
        Err(
            "is not a git URL; expected `https://host/org/repo.git` or `git@host:org/repo.git`"
                .into(),
        )
    }
}

/// A Vault KV path relative to the store's mount.
pub fn vault_path(s: &str) -> Result<(), String> {
    if s.is_empty() || s.starts_with('/') || s.ends_with('/') || s.contains("//") {
        return Err(
            "is not a Vault path; expected `team/app/s3` without leading or trailing `/`".into(),
        );
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("contains white space or control characters; expected a Vault path like `argo/apps/app/s3`".into());
    }
    Ok(())
}

/// The placeholders of a Vault path template: each `{...}` must be one of
/// `model::VAULT_PLACEHOLDERS` (`{namespace}`, `{tenant}`), and braces come in pairs.
pub fn vault_template(s: &str) -> Result<(), String> {
    let valid = || {
        VAULT_PLACEHOLDERS
            .iter()
            .map(|(p, what)| format!("`{{{p}}}` ({what})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut rest = s;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!(
                "has a `}}` without its `{{`; the placeholders of a Vault path are {}",
                valid()
            ));
        }
        let Some(len) = rest[open..].find('}') else {
            return Err(format!(
                "has a `{{` without its `}}`; the placeholders of a Vault path are {}",
                valid()
            ));
        };
        let name = &rest[open + 1..open + len];
        if !VAULT_PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
            return Err(format!(
                "has the unknown placeholder `{{{}}}`; the placeholders of a Vault path are {}",
                name.escape_debug(),
                valid()
            ));
        }
        rest = &rest[open + len + 1..];
    }
    Ok(())
}

/// A Go duration as ESO parses `refreshInterval`: `1h`, `15m`, `1h30m`, `0`.
pub fn go_duration(s: &str) -> Result<(), String> {
    if s == "0" {
        return Ok(());
    }
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.')
            .count();
        if digits == 0 {
            return Err(
                "is not a Go duration; expected something like `1h`, `15m` or `1h30m`".into(),
            );
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .filter(|u| rest.starts_with(**u))
            .max_by_key(|u| u.len());
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => {
                return Err(
                    "is not a Go duration; expected something like `1h`, `15m` or `1h30m`".into(),
                );
            }
        }
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err("is empty; expected a Go duration like `1h`".into())
    }
}

/// An IAM role ARN.
pub fn role_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > 5
        && !s.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err("is not an IAM role ARN; expected `arn:aws:iam::123456789012:role/name`".into())
    }
}

/// A deterministic short name: `prefix + name` when it fits in `max`, else the name cut and
/// suffixed with 8 hex digits of a hash of the whole, so distinct inputs stay distinct.
pub fn shorten(prefix: &str, name: &str, max: usize) -> String {
    let full = format!("{prefix}{name}");
    if full.len() <= max {
        return full;
    }
    let hash = fnv1a(full.as_bytes());
    let keep = max - 9;
    let mut cut = full[..keep].to_string();
    while cut.ends_with('-') || cut.ends_with('.') {
        cut.pop();
    }
    format!("{cut}-{:08x}", (hash ^ (hash >> 32)) as u32)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// An e-mail address, as far as the origin chart's `adminUsers`/`readUsers` need one: one `@`, no
/// white space, something on both sides.
pub fn email(v: &str) -> Result<(), String> {
    let ok = v.split('@').count() == 2
        && !v.starts_with('@')
        && !v.ends_with('@')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err("is not an e-mail address; expected `name@example.org`".into())
    }
}

/// The tenant as a label value: every character a label value cannot hold (anything but ASCII
/// letters, digits, `-`, `_`, `.`) becomes `-`, the ends are trimmed to a letter or digit, and a
/// result over 63 characters is shortened with a hash. `None` when no letter or digit is left.
pub fn tenant_label(tenant: &str) -> Option<String> {
    let mapped: String = tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        return None;
    }
    let short = shorten("", trimmed, crate::rules::k8s::DNS_LABEL_MAX);
    Some(
        short
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string(),
    )
}

/// The `repo` namespace rule: `prefix` + `<org>-<repository>` from the last two path segments of a
/// git URL (`https://github.com/bwalsh/nf-hello.git` → `wf-bwalsh-nf-hello`; `git@host:org/repo`
/// too), lowercased, every character outside `[a-z0-9-]` replaced by `-`. `None` when the URL has
/// fewer than two path segments.
pub fn repo_namespace(prefix: &str, url: &str) -> Option<String> {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p)?,
        None => url.split_once(':').map(|(_, p)| p)?,
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    let tail = format!("{}-{}", parts[parts.len() - 2], parts[parts.len() - 1]);
    let clean: String = format!("{prefix}{tail}")
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Some(clean)
}

/// A Google service account email, `name@project.iam.gserviceaccount.com` (GKE Workload Identity).
pub fn gcp_service_account(s: &str) -> Result<(), String> {
    let ok = s.split_once('@').is_some_and(|(name, domain)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && domain.ends_with(".gserviceaccount.com")
            && !domain.contains(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        Err("is not a Google service account email; expected `name@project.iam.gserviceaccount.com`".into())
    }
}

/// A UUID, like an Azure managed identity's client id.
pub fn uuid(s: &str) -> Result<(), String> {
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        Ok(())
    } else {
        Err(
            "is not a client id; expected a UUID like `00000000-0000-0000-0000-000000000000`"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::credential::*;

    #[test]
    fn buckets_follow_aws_rules() {
        for ok in ["genomics-artifacts", "a.b-c", "abc", "my-project-artifacts"] {
            assert!(s3_bucket(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Genomics",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "-abc",
            "abc_d",
            "sthree-x",
        ] {
            assert!(s3_bucket(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_are_host_port_only() {
        for ok in [
            "s3.amazonaws.com",
            "minio:9000",
            "10.0.0.1:9000",
            "[::1]:9000",
            "minio.storage.svc",
        ] {
            assert!(endpoint(ok).is_ok(), "{ok}");
        }
        assert!(
            endpoint("https://s3.amazonaws.com")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            endpoint("s3.amazonaws.com/bucket")
                .unwrap_err()
                .contains("path")
        );
        assert!(endpoint("minio:0").unwrap_err().contains("port"));
        assert!(endpoint("bad_host").is_err());
    }

    #[test]
    fn shorten_is_deterministic_and_bounded() {
        let long = "x".repeat(80);
        let a = shorten("s3-credentials-", &long, 63);
        assert_eq!(a.len(), 63);
        assert_eq!(a, shorten("s3-credentials-", &long, 63));
        assert_ne!(a, shorten("s3-credentials-", &format!("{long}y"), 63));
        assert!(crate::rules::k8s::dns_label(&a).is_ok());
        assert_eq!(
            shorten("s3-credentials-", "short", 63),
            "s3-credentials-short"
        );
    }

    #[test]
    fn durations_refs_and_credentials() {
        assert!(
            go_duration("1h30m").is_ok() && go_duration("0").is_ok() && go_duration("1d").is_err()
        );
        assert!(
            git_ref("release/1.2").is_ok() && git_ref("a..b").is_err() && git_ref("-x").is_err()
        );
        assert!(url_has_password("https://bot:token@github.com/o/r.git"));
        assert!(!url_has_password("https://bot@github.com/o/r.git"));
        assert!(!url_has_password("git@github.com:o/r.git"));
        assert!(!url_has_password("https://github.com/o/r.git?a=b:c@d"));
        assert!(looks_like_credential("AKIAIOSFODNN7EXAMPLE"));
        assert!(looks_like_credential(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ));
        assert!(!looks_like_credential("genomics-artifacts"));
        assert!(is_credential_key("secretAccessKey") && is_credential_key("AWS_SECRET_ACCESS_KEY"));
        assert!(!is_credential_key("externalSecretPath"));
    }
}

/// Whether Argo's S3 client (minio-go `s3utils.IsVirtualHostSupported`, used when `addressingStyle`
/// is unset) addresses `bucket` at `endpoint` path-style by itself: for every endpoint that is not
/// AWS, Google or Aliyun, and for bucket names with dots over HTTPS (the certificate would not match).
/// See docs/upstream.md.
pub fn argo_picks_path_style(endpoint: &str, bucket: &str, insecure: bool) -> bool {
    let host = endpoint
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|c| c.is_ascii_digit()))
        .map_or(endpoint, |(h, _)| h)
        .to_ascii_lowercase();
    if !insecure && bucket.contains('.') {
        return true;
    }
    let virtual_hosted = host == "s3.amazonaws.com"
        || host.ends_with(".amazonaws.com")
        || host.ends_with(".amazonaws.com.cn")
        || host == "storage.googleapis.com"
        || host.ends_with(".aliyuncs.com");
    !virtual_hosted
}

#[cfg(test)]
mod path_style_tests {
    use super::argo_picks_path_style as path;

    #[test]
    fn argo_picks_path_style_like_minio_go() {
        assert!(!path(
            "s3.us-west-2.amazonaws.com",
            "genomics-artifacts",
            false
        ));
        assert!(!path("s3.amazonaws.com", "b", false));
        assert!(!path("storage.googleapis.com:443", "b", false));
        assert!(!path("oss-cn-hangzhou.aliyuncs.com", "b", false));
        assert!(path(
            "s3.us-west-2.amazonaws.com",
            "my.dotted.bucket",
            false
        ));
        assert!(!path(
            "s3.us-west-2.amazonaws.com",
            "my.dotted.bucket",
            true
        ));
        assert!(path("minio.storage.local:9000", "b", false));
        assert!(path("minio.storage.svc:9000", "b", true));
    }
}

/// Go's `path.Join(prefix, rest)`, which Argo uses to put `keyPrefix` in front of an artifact's
/// key (facts.md 11): the non-empty parts joined with `/`, then cleaned as `path.Clean` does
/// (repeated slashes collapsed, `.` segments dropped, `x/..` removed, a leading `..` of a
/// relative path kept, no trailing slash). `a//b/` and `{{workflow.name}}` give
/// `a/b/{{workflow.name}}`; an empty result is empty (Go's `.` for a relative path).
pub fn argo_key_join(prefix: &str, rest: &str) -> String {
    let joined = match (prefix.is_empty(), rest.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => rest.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}/{rest}"),
    };
    let rooted = joined.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                _ if rooted => {}
                _ => out.push(".."),
            },
            s => out.push(s),
        }
    }
    let body = out.join("/");
    if rooted { format!("/{body}") } else { body }
}

#[cfg(test)]
mod key_join_tests {
    use super::argo_key_join as j;

    #[test]
    fn like_go_path_join() {
        let f = "{{workflow.name}}/{{pod.name}}";
        assert_eq!(j("a//b/", f), "a/b/{{workflow.name}}/{{pod.name}}");
        assert_eq!(j("./a/./b/.", f), "a/b/{{workflow.name}}/{{pod.name}}");
        assert_eq!(j("a/../b", f), "b/{{workflow.name}}/{{pod.name}}");
        assert_eq!(j("../x", f), "../x/{{workflow.name}}/{{pod.name}}");
        assert_eq!(
            j("workflows/", f),
            "workflows/{{workflow.name}}/{{pod.name}}"
        );
        assert_eq!(j("./", f), f);
        assert_eq!(j("", f), f);
        assert_eq!(j("a", ""), "a");
        assert_eq!(j("/a//b/", ""), "/a/b");
    }
}

/// The placeholders of a Vault path template (`externalSecretPath`), with what they stand for.
pub const VAULT_PLACEHOLDERS: &[(&str, &str)] = &[
    ("namespace", "the namespace the ExternalSecret is in"),
    (
        "tenant",
        "the tenant of that namespace, its `artifact-repos/tenant` label; in the controller namespace, its own name",
    ),
];

/// A Vault path template with its placeholders replaced (`{namespace}`, `{tenant}`).
pub fn expand_vault_path(template: &str, namespace: &str, tenant: &str) -> String {
    template
        .replace("{namespace}", namespace)
        .replace("{tenant}", tenant)
}

/// True when a Vault path is a template (holds a placeholder).
pub fn is_vault_template(path: &str) -> bool {
    VAULT_PLACEHOLDERS
        .iter()
        .any(|(p, _)| path.contains(&format!("{{{p}}}")))
}
