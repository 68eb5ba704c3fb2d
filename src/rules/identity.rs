//! What identifies an object in a cluster (group, kind, namespace, name), and a generated object as
//! the YAML text a path writes. Shared by the generator and the CI half, which never imports the
//! generator to name an object.

/// What identifies an object in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// API group, empty for the core group.
    pub group: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Identities come from manifests anyone may write: escaped for the terminal.
        use crate::error::escape;
        let kind = if self.group.is_empty() {
            escape(&self.kind).into_owned()
        } else {
            format!("{}.{}", escape(&self.kind), escape(&self.group))
        };
        if self.namespace.is_empty() {
            write!(f, "{kind} {}", escape(&self.name))
        } else {
            write!(
                f,
                "{kind} {}/{}",
                escape(&self.namespace),
                escape(&self.name)
            )
        }
    }
}

/// One generated object as a YAML document (no leading `---`), ending in a newline: what `render`
/// prints, `post-render` adds to Helm's stream and `--output-dir` writes to a file.
#[derive(Debug, Clone)]
pub struct Document {
    pub identity: Identity,
    pub yaml: String,
}
