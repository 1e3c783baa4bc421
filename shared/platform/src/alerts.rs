//! Alerts (风险提示, GLOSSARY `alert`): one record for every warning a step must give the people
//! who supervise (Art. 42-44) — what kind, about which case, the evidence, who or what raised it,
//! where it stands and who works it. Steps raise them inside their own transactions
//! ([`raise`]); supervisors read them by county and status (`GET /api/alerts`); the supervision
//! issue adds the rules that raise most of them and the register they are worked in.

use axum::extract::{Query, State};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use swi_domain::access::Owner;
use swi_domain::{Action, Actor};
use swi_rules::ids::County;
use swi_store::{Condition, Index, Item, Query as StoreQuery, SkRange, TxOp};

use crate::auth::Authenticated;
use crate::ledger::Audit;
use crate::{ApiError, Platform};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised, nobody works it yet.
    Open,
    /// Someone works it.
    Assigned,
    /// Dealt with.
    Closed,
}

impl AlertStatus {
    const fn key(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Assigned => "assigned",
            AlertStatus::Closed => "closed",
        }
    }
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Who works it.
    pub assignee: Option<String>,
    /// What it says (中文).
    pub zh: String,
    /// What it says (English).
    pub en: String,
}

fn partition(county: Option<County>) -> String {
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
    let k = alert_key(&alert.id);
    let item = Item::new(k.pk, k.sk, alert)?.with_gsi1(
        partition(alert.county),
        format!(
            "{}#{}#{}",
            alert.status.key(),
            alert.raised_at.to_rfc3339(),
            alert.id
        ),
    );
    Ok((
        TxOp::Put {
            item,
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

/// `?county=…&status=…`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct AlertQuery {
    /// A county code, or `360700` for the city's own alerts; default the asker's jurisdiction.
    #[serde(default)]
    pub county: Option<String>,
    /// `open` (default), `assigned` or `closed`.
    #[serde(default)]
    pub status: Option<AlertStatus>,
}

/// `GET /api/alerts`: a county's alerts of one status, newest last.
///
/// # Errors
/// 400 unknown county; 403 not a supervisor or agency officer of that county.
#[utoipa::path(get, path = "/api/alerts", tag = "supervision", params(AlertQuery),
    responses((status = 200, description = "the alerts", body = [Alert]),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<AlertQuery>,
) -> Result<axum::Json<Vec<Alert>>, ApiError> {
    let code = q.county.unwrap_or_else(|| actor.jurisdiction.code());
    let county = if code == swi_domain::access::CITY_CODE {
        None
    } else {
        Some(County::parse(&code).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))?)
    };
    may_read(&actor, county)?;
    let status = q.status.unwrap_or(AlertStatus::Open);
    let items = p
        .state
        .query_index_all(
            Index::Gsi1,
            &StoreQuery::partition(partition(county))
                .range(SkRange::Prefix(format!("{}#", status.key())))
                .limit(500),
        )
        .await?;
    items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<Vec<_>, _>>()
        .map(axum::Json)
}

fn may_read(actor: &Actor, county: Option<County>) -> Result<(), ApiError> {
    if county.is_none() && actor.jurisdiction != swi_domain::Jurisdiction::City {
        return Err(ApiError::from(swi_domain::Denied::County {
            record: swi_domain::access::CITY_CODE.to_owned(),
            actor: actor.jurisdiction.code(),
        }));
    }
    actor.may(Action::ReadAlerts, county, Owner::Nobody)?;
    Ok(())
}
