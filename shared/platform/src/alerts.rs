//! Alerts (风险提示, GLOSSARY `alert`): one record for every warning a step must give the people
//! who supervise (Art. 42-44) — what kind, about which case, the evidence, who or what raised it,
//! where it stands, who works it, what was done and what was found. Steps and the supervision
//! step's risk rules raise them inside their own transactions ([`raise`]); the supervision step
//! (`functions/supervision`) lists them, and its supervisors assign, investigate and close them
//! with a finding: the internal supervision register (内部监督记录和台账, Art. 44).

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use swi_rules::ids::County;
use swi_store::{Condition, Item, TxOp};

use crate::ApiError;
use crate::ledger::Audit;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised, nobody works it yet.
    #[default]
    Open,
    /// Someone works it.
    Assigned,
    /// Dealt with.
    Closed,
}

impl AlertStatus {
    /// Every status, in the order an alert moves through them.
    pub const ALL: [AlertStatus; 3] = [
        AlertStatus::Open,
        AlertStatus::Assigned,
        AlertStatus::Closed,
    ];

    /// The identifier (`open`, `assigned`, `closed`).
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Assigned => "assigned",
            AlertStatus::Closed => "closed",
        }
    }
}

/// What a supervisor did with an alert, as the register keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Given to someone to work (分派).
    Assigned,
    /// A step of the investigation (核查记录).
    Note,
    /// Closed with a finding (办结).
    Closed,
}

/// One line of an alert's register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// What was done.
    pub kind: EntryKind,
    /// When (China time).
    #[schema(value_type = String, example = "2026-03-02T10:15:00")]
    pub at: NaiveDateTime,
    /// By whom (token subject).
    pub by: String,
    /// Their name.
    pub name: String,
    /// What they wrote (for an assignment: to whom, and why).
    pub text: String,
}

/// How an alert ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The risk was real (情况属实): the measures taken are recorded.
    Confirmed,
    /// Looked into and not a risk (经核查无异常).
    Unfounded,
}

/// The finding an alert is closed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    /// Real or not.
    pub outcome: Outcome,
    /// What was found.
    pub text: String,
    /// What was done about it (required when confirmed).
    pub measures: Option<String>,
}

/// An alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    /// Id: the kind and the subject (one alert per kind and subject).
    pub id: String,
    /// What kind (`audit_chain_broken`, …; the risk rules name theirs).
    pub kind: String,
    /// The case it is about (`enrolment#e-…`, `unit#…`), never a person's ID number.
    pub subject: String,
    /// The county it belongs to; none for the city as a whole.
    #[schema(value_type = Option<String>, example = "360702")]
    pub county: Option<County>,
    /// What was found, for the person who works it.
    pub evidence: Value,
    /// Who or what raised it (a subject, `job:<name>`, `rule:<name>`).
    pub raised_by: String,
    /// When (China time).
    pub raised_at: DateTime<FixedOffset>,
    /// Where it stands.
    pub status: AlertStatus,
    /// Who works it (token subject).
    pub assignee: Option<String>,
    /// Their name.
    #[serde(default)]
    pub assignee_name: Option<String>,
    /// What it says (中文).
    pub zh: String,
    /// What it says (English).
    pub en: String,
    /// The risk rule that raised it and the rule's version (`claim_soon_after_enrolment@2025-01-01`),
    /// if a rule did.
    #[serde(default)]
    pub rule: Option<String>,
    /// The article it rests on (`Art. 43`).
    #[serde(default)]
    pub basis: Option<String>,
    /// The cases it concerns (`claim#c-…`, `enrolment#e-…`), the subject first; never a
    /// person's ID number or key.
    #[serde(default)]
    pub links: Vec<String>,
    /// The register: what was done, oldest first.
    #[serde(default)]
    pub record: Vec<Entry>,
    /// The finding it was closed with.
    #[serde(default)]
    pub finding: Option<Finding>,
}

/// The index partition of a county's alerts (`None`: the city's own).
#[must_use]
pub fn partition(county: Option<County>) -> String {
    format!(
        "alerts#{}",
        county.map_or_else(
            || swi_domain::access::CITY_CODE.to_owned(),
            |c| c.code().to_string()
        )
    )
}

/// The key an alert is stored under.
#[must_use]
pub fn alert_key(id: &str) -> swi_store::Key {
    swi_store::Key::new(format!("alert#{id}"), "alert")
}

/// The operation raising `alert` (once per id: a second raise of the same alert conflicts, and
/// the caller's transaction decides whether that is an error) and its audit event, for the
/// raiser's own transaction.
///
/// # Errors
/// Serialization (it does not fail).
pub fn raise(alert: &Alert) -> Result<(TxOp, Audit), ApiError> {
    Ok((
        TxOp::Put {
            item: alert_item(alert)?,
            condition: Condition::NotExists,
        },
        Audit {
            case: format!("alert#{}", alert.id),
            command: "alert.raise".into(),
            change: serde_json::json!({
                "kind": alert.kind, "subject": alert.subject, "raised_by": alert.raised_by,
            }),
        },
    ))
}

/// The item an alert is stored as: indexed by its county, status and when it was raised, so
/// that a county's open, assigned or closed alerts are read in the order they came.
///
/// # Errors
/// Serialization (it does not fail).
pub fn alert_item(alert: &Alert) -> Result<Item, ApiError> {
    let k = alert_key(&alert.id);
    Ok(Item::new(k.pk, k.sk, alert)?.with_gsi1(
        partition(alert.county),
        format!(
            "{}#{}#{}",
            alert.status.key(),
            alert.raised_at.to_rfc3339(),
            alert.id
        ),
    ))
}
