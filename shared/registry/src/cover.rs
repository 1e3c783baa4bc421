//! The commands that start and end a person's cover — the only way any step changes it. Each
//! returns a [`Change`] for `swi_platform::mutation::apply`: the enrolment written under the
//! version it was read at, the unit checked where cover starts (a cancelled unit takes no
//! cover, Art. 10), and the audit event naming the article.
//!
//! - [`record_payment`]: cover starts the day after the later of entry and payment (Art. 8);
//!   enrollment records a payment at the window today, billing will from the tax bureau.
//! - [`terminate`]: cover ends on a date, for a stated reason ([`EndReason`]): a unit's
//!   termination (Art. 9), a declaration's leaver (Art. 18), a claim's decision (Art. 31).
//! - [`ended_with_unit`]: the operations ending one member's cover when the unit is cancelled
//!   (Art. 10), for the cancellation job's transactions.

use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use swi_domain::enrolment::{self, Command, Status};
use swi_domain::{Action, Actor};
use swi_platform::ErrorCode;
use swi_platform::mutation::{Audit, Change};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, TxOp};

use crate::enrolment::{Enrolment, enrolment_case, load_enrolment, write_ops};
use crate::unit::{active_check, load_unit};

/// Why cover ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The unit (or the self-enrolled person) ends it, saying why (Art. 9).
    Terminated {
        /// Why.
        reason: String,
    },
    /// A leaver in an approved monthly declaration (Art. 18).
    Declared {
        /// The declaration.
        declaration: String,
        /// Its row.
        row: usize,
    },
    /// A claim's decision ends cover (e.g. death or total disability, Art. 31).
    Claim {
        /// The claim.
        claim: String,
    },
}

impl EndReason {
    fn command(&self) -> &'static str {
        match self {
            EndReason::Terminated { .. } => "enrolment.terminate",
            EndReason::Declared { .. } => "enrolment.terminate_by_declaration",
            EndReason::Claim { .. } => "enrolment.terminate_by_claim",
        }
    }

    fn detail(&self, end: Option<NaiveDate>) -> Value {
        match self {
            EndReason::Terminated { reason } => {
                json!({ "end": end, "reason": reason, "basis": "Art. 9" })
            }
            EndReason::Declared { declaration, row } => {
                json!({ "end": end, "declaration": declaration, "row": row, "basis": "Art. 18" })
            }
            EndReason::Claim { claim } => json!({ "end": end, "claim": claim, "basis": "Art. 31" }),
        }
    }
}

fn transition_refused(r: &dyn std::fmt::Display) -> ApiError {
    ApiError::conflict(
        ErrorCode::InvalidTransition,
        "当前状态下不能办理该业务",
        r.to_string(),
    )
}

/// The change writing `e` (read at `version`) with one audit event, answered with the masked
/// enrolment.
///
/// # Errors
/// Serialization (it does not fail).
pub fn saved(
    e: &Enrolment,
    version: u64,
    command: &str,
    detail: Value,
    extra: Vec<TxOp>,
) -> Result<Change, ApiError> {
    let mut ops = write_ops(e, Condition::VersionIs(version))?;
    ops.extend(extra);
    Ok(Change {
        ops,
        audit: vec![Audit {
            case: enrolment_case(&e.id),
            command: command.into(),
            change: detail,
        }],
        status: StatusCode::OK,
        response: serde_json::to_value(e.masked()).map_err(|err| ApiError::internal(&err))?,
    })
}

/// Records the premium payment of an enrolment awaiting it; cover starts the day after the
/// later of entry and payment, never before the asked start (Art. 8). The actor must be one who
/// records payments in the enrolment's county; a unit's member is paid for only while the unit is
/// active, and the transaction holds only if it stays so (Art. 10).
///
/// # Errors
/// 403; 404; 409 not awaiting payment or the unit cancelled; 422 the payment comes after the
/// end of the cover the person can have, or a parameter is pending.
pub async fn record_payment(
    p: &Platform,
    actor: &Actor,
    id: &str,
    paid: NaiveDateTime,
) -> Result<Change, ApiError> {
    let (mut e, version) = load_enrolment(p, id).await?;
    actor.may(Action::RecordPayment, Some(e.county), e.owner())?;
    let unit_check = match &e.unit {
        Some(code) => {
            let (unit, unit_version) = load_unit(p, code).await?;
            vec![active_check(&unit, unit_version)?]
        }
        None => Vec::new(),
    };
    let filed: Vec<_> = e.materials.keys().copied().collect();
    e.status = enrolment::next(e.status, &Command::RecordPayment, e.category, &filed)
        .map_err(|r| transition_refused(&r))?;
    let params = p.params().await?;
    let entered = e.entered_on.max(e.start.pred_opt().unwrap_or(e.start));
    let start = swi_rules::cover::cover_start(&params, entered, paid.date())?.value;
    if e.cover_end.is_some_and(|end| start > end) {
        return Err(ApiError::refused(
            ErrorCode::CoverWouldStartAfterEnd,
            "缴费晚于保障期结束，无法生效",
            "the payment comes after the end of the cover this person can have",
        ));
    }
    e.paid_at = Some(paid);
    e.cover_start = Some(start);
    let detail = json!({ "paid_at": paid, "cover_start": start, "basis": "Art. 8" });
    saved(&e, version, "enrolment.record_payment", detail, unit_check)
}

/// Ends an enrolment's cover on `end` (or on its own earlier bound) for `reason`. The actor must
/// be one who `action`s the enrolment in its county.
///
/// # Errors
/// 400 `end` before the start; 403; 404; 409 already terminated.
pub async fn terminate(
    p: &Platform,
    actor: &Actor,
    action: Action,
    id: &str,
    end: NaiveDate,
    reason: &EndReason,
) -> Result<Change, ApiError> {
    let (mut e, version) = load_enrolment(p, id).await?;
    actor.may(action, Some(e.county), e.owner())?;
    if end < e.start {
        return Err(ApiError::invalid(
            "终止日期早于参保开始日期",
            "`end` is before the start",
        ));
    }
    let filed: Vec<_> = e.materials.keys().copied().collect();
    e.status = enrolment::next(e.status, &Command::Terminate, e.category, &filed)
        .map_err(|r| transition_refused(&r))?;
    e.cover_end = Some(e.cover_end.map_or(end, |b| b.min(end)));
    let detail = reason.detail(e.cover_end);
    saved(&e, version, reason.command(), detail, Vec::new())
}

/// The operations and audit event ending `e` (read at `version`, not yet terminated) on `end`
/// for `reason`, for a job's own transaction (a declaration's leaver, Art. 18).
///
/// # Errors
/// Serialization (it does not fail).
pub fn ended(
    mut e: Enrolment,
    version: u64,
    end: NaiveDate,
    reason: &EndReason,
) -> Result<(Vec<TxOp>, Audit), ApiError> {
    e.status = Status::Terminated;
    e.cover_end = Some(e.cover_end.map_or(end, |b| b.min(end)));
    let ops = write_ops(&e, Condition::VersionIs(version))?;
    let audit = Audit {
        case: enrolment_case(&e.id),
        command: reason.command().into(),
        change: reason.detail(e.cover_end),
    };
    Ok((ops, audit))
}

/// The operations and audit event ending a member's cover on `end` because the unit was
/// cancelled (Art. 10), for the cancellation job's transaction.
///
/// # Errors
/// Serialization (it does not fail).
pub fn ended_with_unit(
    mut e: Enrolment,
    version: u64,
    end: NaiveDate,
) -> Result<(Vec<TxOp>, Audit), ApiError> {
    e.status = Status::Terminated;
    e.cover_end = Some(e.cover_end.map_or(end, |b| b.min(end)));
    let ops = write_ops(&e, Condition::VersionIs(version))?;
    let audit = Audit {
        case: enrolment_case(&e.id),
        command: "enrolment.end_with_unit".into(),
        change: json!({ "end": e.cover_end, "basis": "Art. 10" }),
    };
    Ok((ops, audit))
}
