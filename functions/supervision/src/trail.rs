//! Reading the audit ledger (Art. 44): any case's trail for the people who supervise — every
//! event with who did what, in which role and when, and whether the chain checks — and where
//! the ledger's verification stands (the anchors' head, the last round).
//!
//! The trail's county is the stored record's (`county` of the case's own record), never the
//! request's: a county's supervisors read their county's cases; cases of no county (the city's
//! parameters, accounts, anchors) are read by the city's staff.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use swi_domain::access::Owner;
use swi_domain::audit::{ChainBroken, verify_chain};
use swi_domain::{Action, Actor, Denied, Jurisdiction, Role};
use swi_platform::auth::Authenticated;
use swi_platform::mutation::events;
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::Key;

use crate::anchor::{self, Head};
use crate::verify::{self, Round};

/// The longest case name read.
const MAX_CASE: usize = 200;

/// Where the record of a case is kept, by the case's kind: its sort key under the case's own
/// partition.
const RECORDS: [(&str, &str); 11] = [
    ("unit", "profile"),
    ("enrolment", "profile"),
    ("declaration", "profile"),
    ("project", "profile"),
    ("injury", "profile"),
    ("claim", "profile"),
    ("bill", "bill"),
    ("payline", "line"),
    ("schedule", "schedule"),
    ("volume", "volume"),
    ("alert", "alert"),
];

/// The county of a case, from its stored record (or, for a payment cycle, its name); `None`
/// for a case of no county.
///
/// # Errors
/// The store is unavailable.
pub async fn county_of_case(p: &Platform, case: &str) -> Result<Option<County>, ApiError> {
    let Some((kind, rest)) = case.split_once('#') else {
        return Ok(None);
    };
    if kind == "cycle" {
        return Ok(rest.split('#').next().and_then(|c| County::parse(c).ok()));
    }
    let Some((_, sk)) = RECORDS.iter().find(|(k, _)| *k == kind) else {
        return Ok(None);
    };
    let Some(item) = p.state.get(&Key::new(case, *sk)).await? else {
        return Ok(None);
    };
    let body: serde_json::Value = item.body().map_err(|e| ApiError::internal(&e))?;
    Ok(body
        .get("county")
        .and_then(serde_json::Value::as_str)
        .and_then(|c| County::parse(c).ok()))
}

/// Whether `actor` may read the trail of a case of `county`.
fn may_read(actor: &Actor, county: Option<County>) -> Result<(), ApiError> {
    if county.is_none() && actor.jurisdiction != Jurisdiction::City && actor.role.is_clerk() {
        return Err(ApiError::from(Denied::County {
            record: swi_domain::access::CITY_CODE.to_owned(),
            actor: actor.jurisdiction.code(),
        }));
    }
    actor.may(Action::ReadAudit, county, Owner::Nobody)?;
    Ok(())
}

/// One event as the trail shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrailEvent {
    /// Position in the case's chain, from 1.
    pub seq: u64,
    /// When (RFC 3339, China time).
    pub at: String,
    /// Who (token subject).
    pub actor: String,
    /// Their name.
    pub actor_name: String,
    /// In which role.
    #[schema(value_type = String, example = "first_reviewer")]
    pub role: Role,
    /// The command.
    pub command: String,
    /// SHA-256 of the change.
    pub digest: String,
    /// This event's hash.
    pub hash: String,
    /// Whether it is as it was written.
    pub intact: bool,
}

/// A case's trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trail {
    /// The case.
    pub case: String,
    /// Its county, from its record.
    #[schema(value_type = Option<String>)]
    pub county: Option<County>,
    /// Every event, oldest first.
    pub events: Vec<TrailEvent>,
    /// Whether the chain checks from its first event to its last.
    pub intact: bool,
    /// Where it breaks.
    pub broken_at: Option<u64>,
    /// Why.
    pub reason: Option<String>,
}

/// `GET /api/audit/{case}`: a case's audit trail with its chain checked (the case as its events
/// name it, `#` written `%23`).
///
/// # Errors
/// 403 not a supervisor or agency officer of the case's county; 404 no event.
#[utoipa::path(get, path = "/api/audit/{case}", tag = "supervision",
    params(("case" = String, Path, description = "e.g. `claim%23c-01J…`")),
    responses((status = 200, description = "the trail", body = Trail),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn trail(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(case): Path<String>,
) -> Result<axum::Json<Trail>, ApiError> {
    actor.may(Action::ReadAudit, None, Owner::Nobody)?;
    let unknown = || ApiError::not_found("未找到该业务的审计记录", "no audit trail for this case");
    if case.is_empty() || case.len() > MAX_CASE || case.chars().any(char::is_control) {
        return Err(unknown());
    }
    let county = county_of_case(&p, &case).await?;
    may_read(&actor, county)?;
    let all = events(&p, &case).await?;
    if all.is_empty() {
        return Err(unknown());
    }
    let checked = verify_chain(&all);
    let (broken_at, reason) = match &checked {
        Ok(()) => (None, None),
        Err(ChainBroken { seq, reason, .. }) => (Some(*seq), Some((*reason).to_owned())),
    };
    Ok(axum::Json(Trail {
        case,
        county,
        intact: checked.is_ok(),
        broken_at,
        reason,
        events: all
            .into_iter()
            .map(|e| TrailEvent {
                intact: e.intact(),
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                actor_name: e.actor_name,
                role: e.role,
                command: e.command,
                digest: e.digest,
                hash: e.hash,
            })
            .collect(),
    }))
}

/// Where the ledger's verification stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerStatus {
    /// How far the anchors go.
    pub anchors: Option<Head>,
    /// The verification round under way or last finished.
    pub round: Option<Round>,
}

/// `GET /api/audit/verification`: how far the daily anchors go and the last verification
/// round (what it checked, the breaks it found).
///
/// # Errors
/// 403 not the city's supervisor or agency officer.
#[utoipa::path(get, path = "/api/audit/verification", tag = "supervision",
    responses((status = 200, description = "the anchors' head and the last round", body = LedgerStatus),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn status(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<LedgerStatus>, ApiError> {
    actor.may(Action::ReadAudit, None, Owner::Nobody)?;
    Ok(axum::Json(LedgerStatus {
        anchors: anchor::head(p.state.as_ref()).await?.map(|(h, _)| h),
        round: verify::current(p.state.as_ref()).await?.map(|(r, _)| r),
    }))
}
