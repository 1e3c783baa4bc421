//! Payments the tax bureau reports against bills (缴费到账 / 税务回执, Art. 16, 19, 21): a receipt
//! marks its bill paid on the day it names, takes it off the county's unpaid list, and starts the
//! cover of every enrolment waiting for that payment, the day after (Art. 8).
//!
//! A receipt must name its bill and its amount exactly: an unknown bill, a bill paid already, a
//! different amount, a receipt number seen before or a day that cannot be is refused with why,
//! never guessed ([`Mismatch`]).

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, TxOp};

use crate::bill::{Bill, BillStatus, Payment, bill_case, bill_item, load_bill, owing_pk, owing_sk};

/// One payment reported by the tax bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// The tax bureau's receipt number (unique).
    pub number: String,
    /// The bill paid.
    pub bill: String,
    /// The amount paid.
    pub amount: Decimal,
    /// The day paid (China date).
    pub paid_on: NaiveDate,
}

/// Why a receipt does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// No such bill.
    UnknownBill,
    /// The bill is of a county the importing clerk does not act for.
    OtherCounty,
    /// The bill was paid already (by this receipt number or another).
    AlreadyPaid {
        /// The receipt that paid it.
        receipt: String,
    },
    /// This receipt number was recorded before.
    DuplicateReceipt,
    /// Less than the bill's amount.
    Short {
        /// Due.
        due: Decimal,
    },
    /// More than the bill's amount.
    Over {
        /// Due.
        due: Decimal,
    },
    /// Paid before the month billed began, or after today.
    ImpossibleDay,
}

impl Mismatch {
    /// The reason as a row report shows it (中文 — English).
    #[must_use]
    pub fn sentence(&self, r: &Receipt) -> String {
        match self {
            Mismatch::UnknownBill => format!("没有核定单 {} — no bill {}", r.bill, r.bill),
            Mismatch::OtherCounty => format!(
                "核定单 {} 不属于本县区 — bill {} is of another county",
                r.bill, r.bill
            ),
            Mismatch::AlreadyPaid { receipt } => format!(
                "核定单已由回执 {receipt} 缴清 — the bill was paid already, by receipt {receipt}"
            ),
            Mismatch::DuplicateReceipt => format!(
                "回执号 {} 已登记过 — receipt {} was recorded before",
                r.number, r.number
            ),
            Mismatch::Short { due } => format!(
                "缴费金额 {} 少于应缴 {due}（不足额，不予对账） — {} is less than the {due} due",
                r.amount, r.amount
            ),
            Mismatch::Over { due } => format!(
                "缴费金额 {} 多于应缴 {due} — {} is more than the {due} due",
                r.amount, r.amount
            ),
            Mismatch::ImpossibleDay => format!(
                "缴费日期 {} 早于核定月份或晚于今天 — {} is before the month billed or after today",
                r.paid_on, r.paid_on
            ),
        }
    }
}

/// The key recording a receipt number once.
#[must_use]
pub fn receipt_key(number: &str) -> Key {
    Key::new(format!("receipt#{number}"), "receipt")
}

/// Checks `r` against its bill as stored: the bill read, with its version, or why it does not
/// match. `within` says whether a bill's county is the importer's.
///
/// # Errors
/// The store is unavailable.
pub async fn check(
    p: &Platform,
    r: &Receipt,
    today: NaiveDate,
    within: impl Fn(swi_rules::ids::County) -> bool,
) -> Result<Result<(Bill, u64), Mismatch>, ApiError> {
    let (bill, version) = match load_bill(p, &r.bill).await {
        Ok(b) => b,
        Err(e) if e.code == swi_platform::ErrorCode::NotFound => {
            return Ok(Err(Mismatch::UnknownBill));
        }
        Err(e) => return Err(e),
    };
    if !within(bill.county) {
        return Ok(Err(Mismatch::OtherCounty));
    }
    if let Some(paid) = &bill.payment {
        return Ok(Err(Mismatch::AlreadyPaid {
            receipt: paid.receipt.clone(),
        }));
    }
    if p.state.get(&receipt_key(&r.number)).await?.is_some() {
        return Ok(Err(Mismatch::DuplicateReceipt));
    }
    if r.amount < bill.amount {
        return Ok(Err(Mismatch::Short { due: bill.amount }));
    }
    if r.amount > bill.amount {
        return Ok(Err(Mismatch::Over { due: bill.amount }));
    }
    if r.paid_on < bill.month || r.paid_on > today {
        return Ok(Err(Mismatch::ImpossibleDay));
    }
    Ok(Ok((bill, version)))
}

/// What paying a bill writes, and what it did to cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Paid {
    /// The operations.
    pub ops: Vec<TxOp>,
    /// The audit events.
    pub audit: Vec<Audit>,
    /// Enrolments whose cover now starts, and on which day.
    pub covered: Vec<(String, NaiveDate)>,
    /// Enrolments waiting for this payment whose cover cannot start, and why.
    pub not_started: Vec<String>,
}

/// The operations recording `r` against `bill` (read at `version`, checked by [`check`]): the
/// receipt number recorded once, the bill paid and off the unpaid list, and the cover of each
/// enrolment waiting for it started the day after the payment (Art. 8) — unless its unit was
/// cancelled or it ended meanwhile, which is said, not hidden.
///
/// # Errors
/// The store is unavailable.
pub async fn paid(
    p: &Platform,
    mut bill: Bill,
    version: u64,
    r: &Receipt,
    file: &str,
    at: NaiveDateTime,
) -> Result<Paid, ApiError> {
    let owing = Key::new(owing_pk(bill.county), owing_sk(&bill));
    let k = receipt_key(&r.number);
    let mut ops = vec![
        TxOp::Put {
            item: Item::new(k.pk, k.sk, r)?,
            condition: Condition::NotExists,
        },
        TxOp::Delete {
            key: owing,
            condition: Condition::None,
        },
    ];
    bill.status = BillStatus::Paid;
    bill.payment = Some(Payment {
        receipt: r.number.clone(),
        paid_on: r.paid_on,
        amount: r.amount,
        file: file.to_owned(),
        recorded_at: at,
    });
    ops.push(TxOp::Put {
        item: bill_item(&bill)?,
        condition: Condition::VersionIs(version),
    });
    let mut audit = vec![Audit {
        case: bill_case(&bill.id),
        command: "bill.paid".into(),
        change: json!({
            "receipt": r.number,
            "paid_on": r.paid_on,
            "amount": r.amount,
            "file": file,
            "basis": "Art. 16, 19",
        }),
    }];
    let mut covered = Vec::new();
    let mut not_started = Vec::new();
    let paid_at = r.paid_on.and_time(chrono::NaiveTime::MIN);
    if let Some(project) = &bill.project {
        match swi_registry::project::started_by_payment(
            p,
            project,
            paid_at,
            json!({ "bill": bill.id, "receipt": r.number }),
        )
        .await?
        {
            Ok(start) => {
                covered.push((project.clone(), r.paid_on));
                ops.extend(start.ops);
                audit.push(start.audit);
            }
            Err(why) => not_started.push(format!("{project}: {why}")),
        }
    }
    for id in &bill.starts_cover {
        let (e, v) = swi_registry::enrolment::load_enrolment(p, id).await?;
        match swi_registry::cover::started(
            p,
            e,
            v,
            paid_at,
            "enrolment.paid_by_receipt",
            json!({ "bill": bill.id, "receipt": r.number }),
        )
        .await?
        {
            Ok(start) => {
                covered.push((id.clone(), start.cover_start));
                // Paid late: the month the cover starts in was billed by its run while the
                // person was not yet covered; it is billed now, as any month covered is.
                let first = swi_rules::billing::month_of(start.cover_start);
                if start
                    .enrolment
                    .bills_from
                    .is_some_and(|b| swi_rules::billing::month_of(b) < first)
                    && p.state.get(&crate::bill::run_key(first)).await?.is_some()
                {
                    let unit = match &start.enrolment.unit {
                        Some(code) => Some(swi_registry::unit::load_unit(p, code).await?.0),
                        None => None,
                    };
                    let params = p.params().await?;
                    if let Some((o, a, _)) = crate::issue::first_covered_month(
                        &params,
                        &start.enrolment,
                        unit.as_ref(),
                        first,
                        crate::issue::Issuer {
                            at,
                            by: format!("税务回执 {}", r.number),
                        },
                    )? {
                        ops.extend(o);
                        audit.push(a);
                    }
                }
                ops.extend(start.ops);
                audit.push(start.audit);
            }
            Err(why) => not_started.push(format!("{id}: {why}")),
        }
    }
    Ok(Paid {
        ops,
        audit,
        covered,
        not_started,
    })
}
