//! Alerts the payment step raises (风险提示, Art. 42-44): one per kind and subject, in a
//! transaction of its own with its audit event; raised again, nothing happens.

use swi_domain::Actor;
use swi_platform::alerts::{Alert, AlertStatus};
use swi_platform::mutation::raise_once;
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;

/// An alert to raise.
pub struct Raise {
    /// Id (kind and subject).
    pub id: String,
    /// Kind.
    pub kind: String,
    /// County.
    pub county: County,
    /// The case it is about.
    pub subject: String,
    /// What was found.
    pub evidence: serde_json::Value,
    /// What it says (中文, English).
    pub says: (String, String),
}

/// Raises an alert once (a second raise of the same id is a conflict, and nothing).
///
/// # Errors
/// The store is unavailable.
pub async fn alert(p: &Platform, actor: &Actor, r: Raise) -> Result<bool, ApiError> {
    let (zh, en) = r.says;
    let basis = r
        .evidence
        .get("basis")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let links = vec![r.subject.clone()];
    let a = Alert {
        id: r.id,
        kind: r.kind,
        subject: r.subject,
        county: Some(r.county),
        evidence: r.evidence,
        raised_by: actor.sub.clone(),
        raised_at: p.clock.now(),
        status: AlertStatus::Open,
        assignee: None,
        zh,
        en,
        basis,
        links,
        ..Alert::default()
    };
    raise_once(p, actor, &a).await
}
