//! Paths into the user's values, as printed in messages: `repoRegistrations[3].artifactBucket.bucket`.

/// `parent.key`, or `key` at the top; keys that would read ambiguously are quoted, and a key that
/// looks like a credential is never written out (issue #11, class 2).
pub fn join(parent: &str, key: &str) -> String {
    if crate::rules::credential::looks_like_credential(key) {
        let hidden = "(key hidden: looks like a credential)";
        return if parent.is_empty() {
            hidden.to_string()
        } else {
            format!("{parent}.{hidden}")
        };
    }
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if simple {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
