//! Re-basing unpaid bills on the year's average wage (Art. 20: 当年使用的全省全口径城镇单位就业
//! 人员月平均工资未发布的，暂按上年度标准缴纳，自然年度内已经缴纳补充工伤保险费期间不参与缴费基数
//! 调整). Until a year's average is published its bills use the last one in force; when the city
//! records the year's figure (a city parameter), every bill of that year still unpaid is billed
//! anew on it — its lines' bases and amounts, its total, its place among the unpaid — and keeps
//! a record of why (`Bill::rebased`: the averages and amounts before and after, and the figure's
//! source). A bill paid is never re-based.
//!
//! The daily `billing-rebase` job compares each unpaid bill's average with the one now in force
//! for its month (reading nothing else when they agree). A bill is re-based in one transaction —
//! the bill, its place among the unpaid, its audit event — and its lines (which may be many)
//! after it, a transaction of lines at a time, while the bill says `lines_pending`; a run killed
//! between finishes them next time, and a payment meanwhile pays the amount the bill already
//! states.

use std::time::Instant;

use rust_decimal::Decimal;
use serde_json::json;
use swi_bills::bill::{
    BillStatus, Line, Owing, Rebase, bill_case, bill_item, load_bill, owing_pk, owing_sk,
};
use swi_bills::issue::{Totals, basis, line_op};
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_rules::billing::MonthTable;
use swi_rules::category::IndustryClass;
use swi_rules::ids::{County, GANZHOU_COUNTIES};
use swi_store::{Condition, Item, Query, SkRange, StateError, TxOp};

/// The job's name.
pub const NAME: &str = "billing-rebase";

/// Lines rewritten per transaction.
const LINES_PER_TRANSACTION: usize = swi_store::state::MAX_TRANSACTION_OPS - 4;

fn pending_key(county: County, bill: &str) -> swi_store::Key {
    swi_store::Key::new(format!("rebase-pending#{}", county.code()), bill)
}

/// A bill's lines billed anew on `table`, and their totals.
fn recompute(table: &MonthTable<'_>, lines: &[Line]) -> Result<(Vec<Line>, Totals), ApiError> {
    let mut out = Vec::with_capacity(lines.len());
    let mut totals = Totals::default();
    for l in lines {
        let rated = l.category.fixed_class().is_none();
        let class = if rated {
            Some(IndustryClass::new(l.industry_class).map_err(|m| ApiError::internal(&m))?)
        } else {
            None
        };
        let billed = table.bill(l.category, class, l.band, l.wage, l.days)?;
        let new = Line {
            base: billed.premium.base,
            rate: billed.premium.rate,
            amount: billed.amount,
            ..l.clone()
        };
        totals.add(&new);
        out.push(new);
    }
    Ok((out, totals))
}

async fn lines_of(p: &Platform, bill: &str) -> Result<Vec<Line>, ApiError> {
    p.state
        .query_all(
            &Query::partition(format!("bill#{bill}"))
                .range(SkRange::Prefix("line#".into()))
                .limit(1000),
        )
        .await?
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// Re-bases one unpaid bill whose average is no longer the one in force for its month: the bill,
/// its place among the unpaid and its audit event in one transaction; its lines are left to
/// [`rewrite_lines`]. Answers whether it was re-based.
///
/// # Errors
/// The store is unavailable.
pub async fn rebase_bill(p: &Platform, id: &str) -> Result<bool, ApiError> {
    let (mut bill, version) = load_bill(p, id).await?;
    // A project's premium rests on its cost, not on the average wage (Art. 14); only bills of
    // persons are re-based.
    if bill.status != BillStatus::Owing
        || bill.lines_pending
        || bill.lines == 0
        || bill.kind == swi_bills::BillKind::Project
    {
        return Ok(false);
    }
    let params = p.params().await?;
    let table = MonthTable::new(&params, bill.month)?;
    if table.average_wage() == bill.basis.average_wage {
        return Ok(false);
    }
    let lines = lines_of(p, &bill.id).await?;
    let (_, totals) = recompute(&table, &lines)?;
    let new_basis = basis(&table);
    let reason = format!(
        "{} 年全省全口径城镇单位就业人员月平均工资 {} 元已记录（{}），未缴月份按其重新核定（第二十条） — the year's average {} is recorded ({}); unpaid months are re-based on it (Art. 20)",
        bill.month.format("%Y"),
        new_basis.average_wage,
        new_basis.average_wage_source,
        new_basis.average_wage,
        new_basis.average_wage_source
    );
    let rebase = Rebase {
        on: p.clock.today(),
        from_average: bill.basis.average_wage,
        to_average: new_basis.average_wage,
        from_amount: bill.amount,
        to_amount: totals.amount,
        reason,
    };
    bill.amount = totals.amount;
    bill.by_category = totals.by_category;
    bill.basis = new_basis;
    bill.rebased.push(rebase.clone());
    bill.lines_pending = true;
    let mut ops = vec![
        TxOp::Put {
            item: bill_item(&bill)?,
            condition: Condition::VersionIs(version),
        },
        // The same place among the unpaid, with the new amount.
        TxOp::Put {
            item: Item::new(owing_pk(bill.county), owing_sk(&bill), &Owing::of(&bill))?,
            condition: Condition::None,
        },
    ];
    let pk = pending_key(bill.county, &bill.id);
    ops.push(TxOp::Put {
        item: Item::new(pk.pk, pk.sk, &json!({ "bill": bill.id }))?,
        condition: Condition::None,
    });
    let actor = jobs::job_actor(NAME, "定时任务：缴费基数重新核定");
    ops.extend(
        audit_ops(
            p,
            &actor,
            &[Audit {
                case: bill_case(&bill.id),
                command: "bill.rebase".into(),
                change: json!({
                    "from_average": rebase.from_average, "to_average": rebase.to_average,
                    "from_amount": rebase.from_amount, "to_amount": rebase.to_amount,
                    "basis": "Art. 20",
                }),
            }],
        )
        .await?,
    );
    match p.state.transact(ops).await {
        Ok(()) => Ok(true),
        // Paid or changed meanwhile: a paid bill is never re-based; a changed one next time.
        Err(StateError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Rewrites the lines of a bill re-based (on the figures its basis names), a transaction of
/// lines at a time; the last clears `lines_pending` and its pending entry. Idempotent: lines
/// written by a run killed midway are written again with the same values.
///
/// # Errors
/// The store is unavailable.
pub async fn rewrite_lines(p: &Platform, county: County, id: &str) -> Result<usize, ApiError> {
    let (bill, version) = load_bill(p, id).await?;
    let pk = pending_key(county, id);
    if !bill.lines_pending {
        p.state
            .transact(vec![TxOp::Delete {
                key: pk,
                condition: Condition::None,
            }])
            .await?;
        return Ok(0);
    }
    let params = p.params().await?;
    let table = MonthTable::new(&params, bill.month)?;
    let lines = lines_of(p, id).await?;
    let (new, _) = recompute(&table, &lines)?;
    let chunks: Vec<&[Line]> = new.chunks(LINES_PER_TRANSACTION).collect();
    for chunk in &chunks {
        let ops = chunk
            .iter()
            .map(|l| line_op(id, l))
            .collect::<Result<Vec<_>, _>>()?;
        p.state.transact(ops).await?;
    }
    let mut done = bill;
    done.lines_pending = false;
    match p
        .state
        .transact(vec![
            TxOp::Put {
                item: bill_item(&done)?,
                condition: Condition::VersionIs(version),
            },
            TxOp::Delete {
                key: pk,
                condition: Condition::None,
            },
        ])
        .await
    {
        Ok(()) | Err(StateError::Conflict { .. }) => Ok(new.len()),
        Err(e) => Err(e.into()),
    }
}

/// What a walk of a county did.
#[derive(Debug, Default, Clone, Copy)]
struct Walked {
    rebased: usize,
    lines: usize,
    pending: usize,
}

async fn walk_county(
    p: &Platform,
    county: County,
    deadline: Instant,
    w: &mut Walked,
) -> Result<(), ApiError> {
    // Lines left by an earlier run first.
    for item in p
        .state
        .query_all(&Query::partition(format!("rebase-pending#{}", county.code())).limit(500))
        .await?
    {
        w.lines += rewrite_lines(p, county, &item.sk).await?;
    }
    let params = p.params().await?;
    let mut averages: std::collections::HashMap<chrono::NaiveDate, Decimal> = Default::default();
    for item in p
        .state
        .query_all(&Query::partition(owing_pk(county)).limit(1000))
        .await?
    {
        let o: Owing = item.body().map_err(|e| ApiError::internal(&e))?;
        let average = match averages.get(&o.month) {
            Some(a) => *a,
            None => {
                let a = MonthTable::new(&params, o.month)?.average_wage();
                averages.insert(o.month, a);
                a
            }
        };
        if o.average_wage == Some(average) {
            continue;
        }
        if Instant::now() >= deadline && (w.rebased > 0 || w.lines > 0) {
            w.pending += 1;
            continue;
        }
        if rebase_bill(p, &o.bill).await? {
            w.rebased += 1;
            w.lines += rewrite_lines(p, county, &o.bill).await?;
        }
    }
    Ok(())
}

/// The daily job re-basing unpaid bills on the average wage now in force (Art. 20).
pub struct BillingRebase;

#[async_trait::async_trait]
impl Job for BillingRebase {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "re-bases every unpaid bill on the year's average wage once the city records it; paid months never (Art. 20)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 2 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let mut w = Walked::default();
        for (code, _) in GANZHOU_COUNTIES {
            let county = County::parse(&code.to_string()).map_err(|e| ApiError::internal(&e))?;
            walk_county(p, county, deadline, &mut w).await?;
        }
        Ok(Report {
            job: NAME,
            done: w.rebased,
            pending: w.pending,
            errors: Vec::new(),
            summary: format!(
                "bills re-based {}, lines rewritten {}, left for the next run {}",
                w.rebased, w.lines, w.pending
            ),
            detail: json!({ "rebased": w.rebased, "lines": w.lines, "pending": w.pending }),
        })
    }
}
