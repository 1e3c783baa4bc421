//! The monthly fund cycle (月度资金周期, Art. 37), one per county and month: in month *W* the
//! contractor settles the payouts of the month before and pays *W*'s periodic benefits.
//!
//! Art. 37: 承办机构每月5日前向社会保险经办机构提交上月赔付资料…于每月10日前向社会保险经办机构提交请款计划
//! …每月15日前拨付至承办机构…承办机构应在每月20日前支付待遇. The days are the rules' (`fund_cycle`).
//!
//! - **Summary** (by the 5th): the payouts the banks returned paid in the month before, by the
//!   fund's benefit accounts, read from the vouchers the returns posted — so the summary and the
//!   books agree by construction — with each batch's share.
//! - **Request** (请款计划, by the 10th): the request form, the summary and the detail of every
//!   line paid, as PDF and XLSX; the agency's officer approves it or refuses it with reasons,
//!   and a refused request is corrected (made again from the records as they now stand) and
//!   submitted again.
//! - **Transfer** (by the 15th): the approved amount, recorded by the agency with its bank
//!   reference; it posts the transfer's voucher (Dr 1101 暂付款, Cr 1004 支出户存款).
//! - **Periodic benefits** (by the 20th): recorded paid once the month's periodic batch is
//!   returned by every bank.
//! - **Close**: then the next month's cycle may open; a month opens only after the one before
//!   it closed.
//!
//! Who takes each step is `swi_domain::payment::cycle_actor_may`: the contractor's finance staff
//! prepare and pay, the agency's officers decide, transfer and close. A step past its day
//! raises an alert (once) that the supervisors see.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::payment::CycleStep;
use swi_ledger::Side;
use swi_platform::ErrorCode;
use swi_platform::mutation::{Audit, Change};
use swi_platform::{ApiError, Platform};
use swi_rules::billing::month_of;
use swi_rules::calendar::FundCycle;
use swi_rules::ids::County;
use swi_store::{Condition, Index, Item, Key, Query, SkRange, TxOp};

use crate::bank_files::parts_of;
use crate::model::Batch;

/// The summary of a month's payouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    /// The month whose payouts these are (its first day).
    pub month: NaiveDate,
    /// By account of the fund: code, name, amount.
    pub by_account: Vec<(String, String, String)>,
    /// The batches' shares returned paid in the month: batch, bank, lines, amount.
    pub batches: Vec<(String, String, u64, String)>,
    /// Lines paid.
    pub lines: u64,
    /// Total.
    #[schema(value_type = String, example = "54000.00")]
    pub total: Decimal,
    /// When made.
    pub at: NaiveDateTime,
}

/// A payment request as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Request {
    /// Its number in the cycle (1, then 2 after a refusal…).
    pub n: u32,
    /// Amount requested.
    #[schema(value_type = String, example = "54000.00")]
    pub amount: Decimal,
    /// The PDF (SHA-256).
    pub pdf: String,
    /// The XLSX (SHA-256).
    pub xlsx: String,
    /// When submitted.
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// A decision of the agency (approval or refusal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// The request decided.
    pub request: u32,
    /// Approved (else refused).
    pub approved: bool,
    /// Reasons (a refusal's are required).
    pub reasons: String,
    /// When.
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// The transfer to the contractor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transfer {
    /// Amount.
    #[schema(value_type = String, example = "54000.00")]
    pub amount: Decimal,
    /// The day the money left.
    pub on: NaiveDate,
    /// The bank's reference.
    pub reference: String,
    /// When recorded.
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// The month's periodic benefits, recorded paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PeriodicPaid {
    /// The periodic batch (none when the month had no instalments).
    pub batch: Option<String>,
    /// Lines paid.
    pub lines: u64,
    /// Amount paid.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// When recorded.
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// A month's cycle for a county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cycle {
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// The month it runs in (its first day).
    pub month: NaiveDate,
    /// Step.
    pub step: CycleStep,
    /// The days each step is due by (Art. 37).
    pub due: Dues,
    /// When opened.
    pub opened_at: NaiveDateTime,
    /// The summary submitted.
    pub summary: Option<Summary>,
    /// The requests submitted, in order.
    pub requests: Vec<Request>,
    /// The agency's decisions, in order.
    pub decisions: Vec<Decision>,
    /// The transfer.
    pub transfer: Option<Transfer>,
    /// The periodic benefits paid.
    pub periodic: Option<PeriodicPaid>,
    /// When closed, by whom.
    pub closed: Option<(NaiveDateTime, String)>,
}

/// The days of a cycle's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dues {
    /// The summary (5th).
    pub summary: NaiveDate,
    /// The request (10th).
    pub request: NaiveDate,
    /// The transfer (15th).
    pub transfer: NaiveDate,
    /// The periodic benefits paid (20th).
    pub periodic: NaiveDate,
}

/// The days of the cycle run in `month` (Art. 37, the rules' calendar).
///
/// # Errors
/// The month is before the scheme.
pub fn dues(params: &swi_rules::ParamSet, month: NaiveDate) -> Result<Dues, ApiError> {
    let before = month
        .checked_sub_months(chrono::Months::new(1))
        .ok_or_else(|| ApiError::internal(&"month out of range"))?;
    let FundCycle {
        payouts_by,
        request_by,
        transfer_by,
        pay_by,
    } = swi_rules::calendar::fund_cycle(params, before.year(), before.month())?.value;
    Ok(Dues {
        summary: payouts_by,
        request: request_by,
        transfer: transfer_by,
        periodic: pay_by,
    })
}

/// The key of a cycle.
#[must_use]
pub fn cycle_key(county: County, month: NaiveDate) -> Key {
    Key::new(
        format!("cycle#{}", county.code()),
        month.format("%Y-%m").to_string(),
    )
}

/// The write of a cycle (create-only when new).
///
/// # Errors
/// Serialization (it does not fail).
pub fn cycle_op(c: &Cycle, version: Option<u64>) -> Result<TxOp, ApiError> {
    let k = cycle_key(c.county, c.month);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, c)?,
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// Loads a cycle.
///
/// # Errors
/// The store is unavailable.
pub async fn load(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Option<(Cycle, u64)>, ApiError> {
    match p.state.get(&cycle_key(county, month)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// A county's cycles, newest first.
///
/// # Errors
/// The store is unavailable.
pub async fn list(p: &Platform, county: County, limit: u32) -> Result<Vec<(Cycle, u64)>, ApiError> {
    let page = p
        .state
        .query(
            &Query::partition(format!("cycle#{}", county.code()))
                .limit(limit)
                .backward(),
        )
        .await?;
    page.items
        .iter()
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .collect()
}

/// Why a month's cycle may not open: the latest cycle of the county is not the month before,
/// closed. `None` when it may.
///
/// # Errors
/// The store is unavailable.
pub async fn may_not_open(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Option<String>, ApiError> {
    let latest = list(p, county, 1).await?.pop();
    let Some((last, _)) = latest else {
        return Ok(None);
    };
    if last.month >= month {
        return Ok(Some(format!(
            "{} 的资金周期已开启",
            month.format("%Y年%m月")
        )));
    }
    let before = month
        .checked_sub_months(chrono::Months::new(1))
        .ok_or_else(|| ApiError::internal(&"month out of range"))?;
    if last.month < before {
        return Ok(Some(format!(
            "{} 的资金周期尚未开启",
            before.format("%Y年%m月")
        )));
    }
    if !swi_domain::payment::may_open(Some(last.step)) {
        return Ok(Some(format!(
            "{} 的资金周期尚未关闭",
            last.month.format("%Y年%m月")
        )));
    }
    Ok(None)
}

/// A new cycle for `month`.
///
/// # Errors
/// The month is before the scheme.
pub fn new_cycle(
    params: &swi_rules::ParamSet,
    county: County,
    month: NaiveDate,
    at: NaiveDateTime,
) -> Result<Cycle, ApiError> {
    Ok(Cycle {
        county,
        month: month_of(month),
        step: CycleStep::Open,
        due: dues(params, month_of(month))?,
        opened_at: at,
        summary: None,
        requests: Vec::new(),
        decisions: Vec::new(),
        transfer: None,
        periodic: None,
        closed: None,
    })
}

/// The payouts the banks returned paid in `paid_month` for `county`: from the vouchers the
/// returns posted, and the batches' shares returned that month.
///
/// # Errors
/// The store is unavailable.
pub async fn summarise(
    p: &Platform,
    county: County,
    paid_month: NaiveDate,
) -> Result<Summary, ApiError> {
    let vouchers = p
        .state
        .query_all(&Query::partition(swi_ledger::posting::month_partition(paid_month)).limit(500))
        .await?;
    let mut by: BTreeMap<String, Decimal> = BTreeMap::new();
    for item in &vouchers {
        let posted: swi_ledger::Posted = item.body().map_err(|e| ApiError::internal(&e))?;
        if posted.county != Some(county) || !posted.id.starts_with("return:") {
            continue;
        }
        for e in posted
            .voucher
            .entries
            .iter()
            .filter(|e| e.side == Side::Debit)
        {
            *by.entry(e.account.clone()).or_default() += e.amount;
        }
    }
    let mut batches = Vec::new();
    let mut lines = 0;
    for (b, bank, share_lines, amount) in shares_paid_in(p, county, paid_month).await? {
        lines += share_lines;
        batches.push((
            b.id.clone(),
            bank.zh().to_owned(),
            share_lines,
            amount.to_string(),
        ));
    }
    let total = by.values().copied().sum();
    Ok(Summary {
        month: paid_month,
        by_account: by
            .into_iter()
            .map(|(code, amount)| {
                let name = swi_ledger::subject(&code).map_or("", |s| s.name).to_owned();
                (code, name, amount.to_string())
            })
            .collect(),
        batches,
        lines,
        total,
        at: p.clock.now().naive_local(),
    })
}

/// The banks' shares of a county's batches returned in `month`: batch, bank, lines paid,
/// amount paid.
///
/// # Errors
/// The store is unavailable.
pub async fn shares_paid_in(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Vec<(Batch, swi_payables::account::Bank, u64, Decimal)>, ApiError> {
    let from = month
        .checked_sub_months(chrono::Months::new(12))
        .ok_or_else(|| ApiError::internal(&"month out of range"))?;
    let items = p
        .state
        .query_index_all(
            Index::Gsi1,
            &Query::partition(format!("batches#{}", county.code()))
                .range(SkRange::From(from.to_string()))
                .limit(500),
        )
        .await?;
    let mut out = Vec::new();
    for i in &items {
        let b: Batch = i.body().map_err(|e| ApiError::internal(&e))?;
        for (bank, share) in &b.banks {
            if share.returned_on.map(month_of) == Some(month) && share.paid_lines > 0 {
                out.push((b.clone(), *bank, share.paid_lines, share.paid_amount));
            }
        }
    }
    Ok(out)
}

/// One line paid in a month, for the request's detail table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidLine {
    /// Batch.
    pub batch: String,
    /// Line.
    pub line: String,
    /// Payee (holder).
    pub holder: String,
    /// Account, masked.
    pub account: String,
    /// Purpose.
    pub purpose: String,
    /// Amount.
    pub amount: Decimal,
    /// Day paid (the return recorded).
    pub on: NaiveDate,
}

/// Every line the banks returned paid in `month` for `county`.
///
/// # Errors
/// The store is unavailable.
pub async fn paid_lines(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Vec<PaidLine>, ApiError> {
    let mut out = Vec::new();
    for (b, bank, _, _) in shares_paid_in(p, county, month).await? {
        for (part, _) in parts_of(p, &b.id, bank).await? {
            let Some(r) = &part.returned else { continue };
            for l in &part.lines {
                if r.failed.iter().any(|f| f.line == l.line) {
                    continue;
                }
                let n = l.account.len();
                out.push(PaidLine {
                    batch: b.id.clone(),
                    line: l.line.clone(),
                    holder: l.holder.clone(),
                    account: if n > 8 {
                        format!("{} **** {}", &l.account[..4], &l.account[n - 4..])
                    } else {
                        "****".into()
                    },
                    purpose: l
                        .item
                        .map_or("退还补充工伤保险费", |i| i.chinese())
                        .to_owned(),
                    amount: l.amount,
                    on: r.on,
                });
            }
        }
    }
    Ok(out)
}

/// Opens a month's cycle when the one before it is closed (the first cycle of a county opens
/// alone). Returns the cycle and its change, or `None` when it is open already.
///
/// # Errors
/// 409 `previous_cycle_open`; 422 a month in the future.
pub async fn open_change(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Option<(Cycle, Change)>, ApiError> {
    if month > p.clock.today() {
        return Err(ApiError::refused(
            ErrorCode::MonthInFuture,
            "尚未到该月，不能开启该月资金周期",
            "a month that has not begun cannot be opened",
        ));
    }
    if load(p, county, month).await?.is_some() {
        return Ok(None);
    }
    if let Some(why) = may_not_open(p, county, month).await? {
        return Err(ApiError::conflict(
            ErrorCode::PreviousCycleOpen,
            format!(
                "{why}，{} 的资金周期不能开启（第三十七条）",
                month.format("%Y年%m月")
            ),
            "a month's cycle opens only after the month before it is closed (Art. 37)",
        ));
    }
    let params = p.params().await?;
    let c = new_cycle(&params, county, month, p.clock.now().naive_local())?;
    let change = Change {
        ops: vec![cycle_op(&c, None)?],
        audit: vec![Audit {
            case: cycle_case(&c),
            command: "cycle.open".into(),
            change: json!({ "county": county, "month": month, "due": c.due, "basis": "Art. 37" }),
        }],
        status: StatusCode::CREATED,
        response: serde_json::to_value(&c).map_err(|e| ApiError::internal(&e))?,
    };
    Ok(Some((c, change)))
}

/// The audit case of a cycle.
#[must_use]
pub fn cycle_case(c: &Cycle) -> String {
    format!("cycle#{}#{}", c.county.code(), c.month.format("%Y-%m"))
}
