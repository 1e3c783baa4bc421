//! What an audit event is made of before it is chained: the case, the command and the change
//! ([`Audit`]), and where a case's events are kept. The chaining itself is
//! `crate::mutation::audit_ops`.

use serde_json::Value;

/// One audit event to write with a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    /// The case (e.g. `unit#91360702MA35G6QL6T`).
    pub case: String,
    /// The command (e.g. `unit.register`).
    pub command: String,
    /// The change, of which the event keeps a digest.
    pub change: Value,
}

/// The partition of a case's audit events.
#[must_use]
pub fn audit_partition(case: &str) -> String {
    format!("audit#{case}")
}
