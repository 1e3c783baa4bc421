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

/// Cover started by a payment: the operations writing it, its audit event, and its first day.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// The enrolment written under the version read, and the check that its unit stays active.
    pub ops: Vec<TxOp>,
    /// The enrolment's audit event.
    pub audit: Audit,
    /// The first day of cover.
    pub cover_start: NaiveDate,
    /// The enrolment as written.
    pub enrolment: Enrolment,
}

/// Starts the cover of `e` (read at `version`, waiting for payment) paid at `paid`: the day
/// after the later of entry and payment, never before the asked start (Art. 8). A unit's member
/// starts only while the unit is active, and the transaction holds only if it stays so (Art. 10).
/// Answers why not, as a sentence, when the cover cannot start (the unit cancelled, the
/// enrolment no longer waiting, the payment after the end of the cover the person can have).
/// Who may record the payment is the caller's check.
///
/// # Errors
/// The store is unavailable; a parameter is pending.
pub async fn started(
    p: &Platform,
    mut e: Enrolment,
    version: u64,
    paid: NaiveDateTime,
    command: &str,
    detail: Value,
) -> Result<Result<Started, String>, ApiError> {
    let mut ops = Vec::new();
    if let Some(code) = &e.unit {
        let (unit, unit_version) = load_unit(p, code).await?;
        match active_check(&unit, unit_version) {
            Ok(check) => ops.push(check),
            Err(_) => {
                return Ok(Err(
                    "单位已注销（第十条） — the unit is cancelled (Art. 10)".into(),
                ));
            }
        }
    }
    let filed: Vec<_> = e.materials.keys().copied().collect();
    e.status = match enrolment::next(e.status, &Command::RecordPayment, e.category, &filed) {
        Ok(s) => s,
        Err(r) => return Ok(Err(format!("参保登记不在待缴费状态 — {r}"))),
    };
    let params = p.params().await?;
    let entered = e.entered_on.max(e.start.pred_opt().unwrap_or(e.start));
    let start = swi_rules::cover::cover_start(&params, entered, paid.date())?.value;
    if e.cover_end.is_some_and(|end| start > end) {
        return Ok(Err(
            "缴费晚于保障期结束，无法生效 — the payment comes after the end of the cover this person can have"
                .into(),
        ));
    }
    e.paid_at = Some(paid);
    e.cover_start = Some(start);
    let mut change = json!({ "paid_at": paid, "cover_start": start, "basis": "Art. 8" });
    if let (Some(c), Value::Object(extra)) = (change.as_object_mut(), detail) {
        c.extend(extra);
    }
    let mut written = write_ops(&e, Condition::VersionIs(version))?;
    written.extend(ops);
    Ok(Ok(Started {
        ops: written,
        audit: Audit {
            case: enrolment_case(&e.id),
            command: command.into(),
            change,
        },
        cover_start: start,
        enrolment: e,
    }))
}

/// Records at the window the premium payment of an enrolment awaiting it that billing does not
/// cover (enrolled before bills were issued at acceptance); cover starts as [`started`] says. An
/// enrolment with a bill is paid through the tax bureau: its receipt starts the cover (Art. 8,
/// 16, 19). The actor must be one who records payments in the enrolment's county.
///
/// # Errors
/// 403; 404; 409 not awaiting payment, billed through the tax bureau, or the unit cancelled; 422
/// the payment comes after the end of the cover the person can have, or a parameter is pending.
pub async fn record_payment(
    p: &Platform,
    actor: &Actor,
    id: &str,
    paid: NaiveDateTime,
) -> Result<Change, ApiError> {
    let (e, version) = load_enrolment(p, id).await?;
    actor.may(Action::RecordPayment, Some(e.county), e.owner())?;
    if let Some(month) = e.bills_from {
        return Err(ApiError::conflict(
            ErrorCode::BilledThroughTax,
            "该人员已核定应缴额，缴费以税务部门回执为准，回执导入后次日起参保生效（第八条、第十九条）",
            format!(
                "this enrolment is billed from {}: its payment is recorded from the tax bureau's receipt, which starts the cover (Art. 8, 19)",
                month.format("%Y-%m")
            ),
        ));
    }
    if let Some(code) = &e.unit {
        let (unit, unit_version) = load_unit(p, code).await?;
        active_check(&unit, unit_version)?;
    }
    if e.status != enrolment::Status::AwaitingPayment {
        let filed: Vec<_> = e.materials.keys().copied().collect();
        enrolment::next(e.status, &Command::RecordPayment, e.category, &filed)
            .map_err(|r| transition_refused(&r))?;
    }
    let s = match started(p, e, version, paid, "enrolment.record_payment", json!({})).await? {
        Ok(s) => s,
        Err(why) => {
            return Err(ApiError::refused(
                ErrorCode::CoverWouldStartAfterEnd,
                "缴费晚于保障期结束，无法生效",
                why,
            ));
        }
    };
    Ok(Change {
        response: serde_json::to_value(s.enrolment.masked())
            .map_err(|err| ApiError::internal(&err))?,
        ops: s.ops,
        audit: vec![s.audit],
        status: StatusCode::OK,
    })
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
