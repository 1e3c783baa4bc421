//! Refunds (退费, Art. 22: 除离职、死亡多缴，缴费基数下调，工程建设项目未开工取消等同时符合工伤
//! 保险退费的情形外，补充工伤保险费一经缴纳原则上不予退还). A premium paid is refunded only in the
//! cases the article names, and only when the work-injury side refunds too (its decision is
//! named, its scan filed): a month paid for a person whose cover had ended before it (leaving
//! or death), or the difference a lowered base makes. The amount is the system's, from the bill
//! as stored — never the request's. An approved refund is a negative line on the bill, traceable
//! to its cause, and a refund line handed to the payment step (`swi_payables::RefundLine`).
//! Anything else is refused, citing the article.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_bills::bill::{Bill, BillStatus, Line, Payer, bill_case, bill_item, line_key, load_bill};
use swi_domain::access::Owner;
use swi_domain::{Action, Actor};
use swi_payables::{LineStatus, Payee, PayeeKind, RefundLine, refund_put};
use swi_platform::mutation::{Audit, Change};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_registry::enrolment::load_enrolment;
use swi_rules::billing::MonthTable;
use swi_rules::category::IndustryClass;
use swi_store::{Condition, Item, Key, Sha256, TxOp};

/// Why a refund is asked (Art. 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// 离职多缴: paid for a month after the person left.
    Left,
    /// 死亡多缴: paid for a month after the person died.
    Death,
    /// 缴费基数下调: the base was lowered after the month was paid.
    LoweredBase,
    /// 工程建设项目未开工取消: the project was cancelled before it started (the whole premium).
    ProjectCancelled,
}

/// The work-injury side's refund decision the supplementary refund follows (Art. 22: 同时符合
/// 工伤保险退费的情形).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkInjuryRefund {
    /// The decision's number.
    pub decision_no: String,
    /// Its scan (SHA-256), uploaded by the clerk.
    pub evidence_sha256: String,
}

/// `POST /api/bills/{id}/refunds` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRefund {
    /// Why: `left`, `death` or `lowered_base` (any other is refused, Art. 22).
    pub cause: String,
    /// The enrolment whose line is refunded (for `project_cancelled`: the project).
    pub enrolment: String,
    /// For `lowered_base`: the wage the base is lowered to.
    #[serde(default)]
    pub lowered_wage: Option<Decimal>,
    /// The work-injury side's refund decision.
    pub work_injury_refund: WorkInjuryRefund,
}

/// A refund on a bill: a negative line, traceable to its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refund {
    /// Id (`rf-<bill>-<enrolment>`).
    pub id: String,
    /// The bill.
    pub bill: String,
    /// The enrolment whose line it refunds.
    pub enrolment: String,
    /// Why.
    pub cause: Cause,
    /// The amount, negative (a refund line).
    pub amount: Decimal,
    /// Why the amount: the facts as stored.
    pub reason: String,
    /// The work-injury side's decision.
    pub work_injury_refund: WorkInjuryRefund,
    /// Approved on.
    pub approved_on: NaiveDate,
    /// By.
    pub approved_by: String,
    /// The articles.
    pub basis: Vec<String>,
}

fn not_allowed(en: impl Into<String>) -> ApiError {
    ApiError::refused(
        ErrorCode::RefundNotAllowed,
        "除离职、死亡多缴，缴费基数下调，工程建设项目未开工取消等同时符合工伤保险退费的情形外，补充工伤保险费一经缴纳原则上不予退还（第二十二条）",
        format!(
            "{} (Art. 22: a premium paid is refunded only for leaving or death, a lowered base, or a project cancelled before it started, and only when the work-injury scheme refunds too)",
            en.into()
        ),
    )
}

/// The key of a refund's negative line on its bill.
#[must_use]
pub fn refund_line_key(bill: &str, enrolment: &str) -> Key {
    Key::new(format!("bill#{bill}"), format!("refund#{enrolment}"))
}

/// The refund asked for `bill_id`, checked against the bill, its line and the enrolment as
/// stored; the change writing it when Art. 22 allows it.
///
/// # Errors
/// 403; 404; 422 `refund_not_allowed` (citing Art. 22), `document_missing`.
pub async fn refund_change(
    p: &Platform,
    actor: &Actor,
    bill_id: &str,
    req: &AskRefund,
) -> Result<Change, ApiError> {
    let (bill, version) = load_bill(p, bill_id).await?;
    actor.may(Action::DecideRefund, Some(bill.county), Owner::Nobody)?;
    let cause: Cause = serde_json::from_value(json!(req.cause)).map_err(|_| {
        not_allowed(format!(
            "`{}` is not a cause Art. 22 names",
            swi_platform::wire::clip(&req.cause)
        ))
    })?;
    if bill.lines_pending {
        return Err(not_allowed(
            "the bill is being re-based: ask again once its lines are rewritten",
        ));
    }
    if bill.status != BillStatus::Paid {
        return Err(not_allowed(
            "the bill is not paid: nothing was paid to refund",
        ));
    }
    let decision = req.work_injury_refund.decision_no.trim();
    if decision.is_empty() || decision.chars().count() > 64 {
        return Err(not_allowed(
            "the work-injury side's refund decision must be named (1-64 characters)",
        ));
    }
    let sha = Sha256::parse(&req.work_injury_refund.evidence_sha256)
        .map_err(|e| ApiError::invalid("退费决定扫描件哈希不正确", e.to_string()))?;
    swi_platform::documents::require_scan(p, actor, &sha, "工伤保险退费决定").await?;
    if cause == Cause::ProjectCancelled {
        return project_refund(p, actor, bill, version, req, decision, sha).await;
    }
    let line: Line = p
        .state
        .get(&line_key(&bill.id, &req.enrolment))
        .await?
        .ok_or_else(|| not_allowed("the person has no line on this bill"))?
        .body()
        .map_err(|e| ApiError::internal(&e))?;
    let (e, e_version) = load_enrolment(p, &req.enrolment).await?;
    // Decided on the enrolment as read: it must not change under the decision.
    let read = TxOp::Check {
        key: swi_registry::enrolment::enrolment_key(&e.id),
        condition: Condition::VersionIs(e_version),
    };
    let (amount, reason) = match cause {
        // Decided above, from the project as stored.
        Cause::ProjectCancelled => {
            return Err(ApiError::internal(
                &"a project's refund reached a person's line",
            ));
        }
        Cause::Left | Cause::Death => {
            // Over-paid: the whole month billed after the cover ended (as stored).
            match e.cover_end {
                Some(end) if end < bill.month => (
                    line.amount,
                    format!(
                        "cover ended on {end}, before the month billed {}",
                        bill.month.format("%Y-%m")
                    ),
                ),
                Some(end) => {
                    return Err(not_allowed(format!(
                        "cover ended on {end}, within or after the month billed {}: nothing was over-paid",
                        bill.month.format("%Y-%m")
                    )));
                }
                None => return Err(not_allowed("the person's cover has not ended")),
            }
        }
        Cause::LoweredBase => {
            let wage = req.lowered_wage.ok_or_else(|| {
                ApiError::invalid(
                    "须填写下调后的工资",
                    "`lowered_wage` is required for a lowered base",
                )
            })?;
            if wage.is_sign_negative() || wage >= line.wage {
                return Err(not_allowed(format!(
                    "a base lowered to {wage} is not lower than the {} billed",
                    line.wage
                )));
            }
            let params = p.params().await?;
            let table = MonthTable::new(&params, bill.month)?;
            let class = if line.category.fixed_class().is_none() {
                Some(IndustryClass::new(line.industry_class).map_err(|m| ApiError::internal(&m))?)
            } else {
                None
            };
            let lower = table
                .bill(line.category, class, line.band, wage, line.days)?
                .amount;
            let diff = line.amount - lower;
            if diff <= Decimal::ZERO {
                return Err(not_allowed(format!(
                    "the premium on {wage} is the same {} (the base's floor): nothing was over-paid",
                    line.amount
                )));
            }
            (
                diff,
                format!(
                    "base lowered from {} to {wage}: {} instead of {}",
                    line.wage, lower, line.amount
                ),
            )
        }
    };
    approved(
        p, actor, bill, version, req, cause, amount, reason, decision, &sha, read,
    )
    .await
}

/// A project cancelled before it started gets its whole premium back (Art. 22, 12).
async fn project_refund(
    p: &Platform,
    actor: &Actor,
    bill: Bill,
    version: u64,
    req: &AskRefund,
    decision: &str,
    sha: Sha256,
) -> Result<Change, ApiError> {
    if bill.project.as_deref() != Some(req.enrolment.as_str()) {
        return Err(not_allowed("the bill is not this project's premium"));
    }
    let (project, project_version) = swi_registry::project::load_project(p, &req.enrolment).await?;
    // Art. 22: 工程建设项目未开工取消 — the premium back only when cancelled before its start,
    // which the cancellation recorded as the refund due.
    let due = project
        .refund_due
        .filter(|d| {
            *d > Decimal::ZERO && project.status == swi_registry::project::ProjectStatus::Cancelled
        })
        .ok_or_else(|| not_allowed("the project was not cancelled before it started"))?;
    let amount = due.min(bill.amount - bill.refunded);
    if amount <= Decimal::ZERO {
        return Err(not_allowed("the premium was refunded already"));
    }
    let read = TxOp::Check {
        key: swi_registry::project::project_key(&project.id),
        condition: Condition::VersionIs(project_version),
    };
    let reason = format!(
        "project {} cancelled before its start {}",
        project.id, project.start
    );
    approved(
        p,
        actor,
        bill,
        version,
        req,
        Cause::ProjectCancelled,
        amount,
        reason,
        decision,
        &sha,
        read,
    )
    .await
}

/// The change writing an approved refund: the negative line, the bill, the refund line for the
/// payment step, the audit event.
#[allow(clippy::too_many_arguments)]
async fn approved(
    p: &Platform,
    actor: &Actor,
    bill: Bill,
    version: u64,
    req: &AskRefund,
    cause: Cause,
    amount: Decimal,
    reason: String,
    decision: &str,
    sha: &Sha256,
    read: TxOp,
) -> Result<Change, ApiError> {
    if amount > bill.amount - bill.refunded {
        return Err(not_allowed("more than was paid and not yet refunded"));
    }
    let today = p.clock.today();
    let id = format!("rf-{}-{}", bill.id, req.enrolment);
    let refund = Refund {
        id: id.clone(),
        bill: bill.id.clone(),
        enrolment: req.enrolment.clone(),
        cause,
        amount: -amount,
        reason,
        work_injury_refund: WorkInjuryRefund {
            decision_no: decision.to_owned(),
            evidence_sha256: sha.hex(),
        },
        approved_on: today,
        approved_by: actor.name.clone(),
        basis: vec!["赣市人社字〔2025〕7号 第二十二条".into()],
    };
    let payee = payee_of(p, &bill).await?;
    let line_out = RefundLine {
        id: id.clone(),
        bill: bill.id.clone(),
        enrolment: req.enrolment.clone(),
        cause: req.cause.clone(),
        county: bill.county,
        payee,
        amount,
        approved_on: today,
        basis: refund.basis.clone(),
        status: LineStatus::Open,
    };
    let mut paid_back = bill.clone();
    paid_back.refunded += amount;
    let rk = refund_line_key(&bill.id, &req.enrolment);
    Ok(Change {
        ops: vec![
            TxOp::Put {
                item: Item::new(rk.pk, rk.sk, &refund)?,
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: bill_item(&paid_back)?,
                condition: Condition::VersionIs(version),
            },
            refund_put(&line_out)?,
            read,
        ],
        audit: vec![Audit {
            case: bill_case(&bill.id),
            command: "bill.refund".into(),
            change: json!({ "refund": id, "enrolment": req.enrolment, "cause": cause, "amount": -amount, "decision_no": decision, "basis": "Art. 22" }),
        }],
        status: axum::http::StatusCode::CREATED,
        response: serde_json::to_value(&refund).map_err(|e| ApiError::internal(&e))?,
    })
}

async fn payee_of(p: &Platform, bill: &Bill) -> Result<Payee, ApiError> {
    Ok(match &bill.payer {
        Payer::Unit { code } => Payee {
            kind: PayeeKind::Unit,
            name: bill.name.clone(),
            unit: Some(code.clone()),
            id_number: None,
        },
        Payer::Person { enrolment, .. } => {
            let (e, _) = load_enrolment(p, enrolment).await?;
            Payee {
                kind: PayeeKind::Person,
                name: e.name,
                unit: None,
                id_number: Some(e.id_number),
            }
        }
    })
}
