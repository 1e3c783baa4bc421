//! The fund's books for a month (Art. 39): the trial balance (试算平衡表) — each account's
//! opening balance, the month's debits and credits, its closing balance — and the ledgers
//! (明细账) of the month's entries, from the vouchers posted; as JSON, XLSX and PDF.
//!
//! The books are the city's (Art. 36): a county's view reads only the vouchers of that county,
//! which balance on their own since every voucher does.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_ledger::{Posted, Side, TrialBalance};
use swi_platform::{ApiError, Platform};
use swi_rules::billing::{month_of, next_month};
use swi_rules::ids::County;
use swi_store::Query;

/// The first month the books are read from (the scheme's procedures are of 2025).
pub const BOOKS_FROM: (i32, u32) = (2025, 1);

/// One account's row of the trial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BalanceRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Element (资产, 负债, …).
    pub category: String,
    /// Opening balance on its normal side.
    #[schema(value_type = String)]
    pub opening: Decimal,
    /// Debits in the month.
    #[schema(value_type = String)]
    pub debits: Decimal,
    /// Credits in the month.
    #[schema(value_type = String)]
    pub credits: Decimal,
    /// Closing balance on its normal side.
    #[schema(value_type = String)]
    pub closing: Decimal,
}

/// A month's trial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Books {
    /// The month.
    pub month: NaiveDate,
    /// The county read, or the city.
    #[schema(value_type = Option<String>)]
    pub county: Option<County>,
    /// Rows, in code order.
    pub rows: Vec<BalanceRow>,
    /// Total debits of the month.
    #[schema(value_type = String)]
    pub debits: Decimal,
    /// Total credits of the month.
    #[schema(value_type = String)]
    pub credits: Decimal,
    /// Whether debits equal credits (the month's, and the balances').
    pub balanced: bool,
    /// Vouchers in the month.
    pub vouchers: usize,
}

/// A month's vouchers (of a county, or all), in date order.
///
/// # Errors
/// The store is unavailable.
pub async fn vouchers(
    p: &Platform,
    month: NaiveDate,
    county: Option<County>,
) -> Result<Vec<Posted>, ApiError> {
    let items = p
        .state
        .query_all(&Query::partition(swi_ledger::posting::month_partition(month)).limit(1000))
        .await?;
    let mut out = Vec::with_capacity(items.len());
    for i in &items {
        let v: Posted = i.body().map_err(|e| ApiError::internal(&e))?;
        if county.is_none() || v.county == county {
            out.push(v);
        }
    }
    Ok(out)
}

/// The trial balance of `month`.
///
/// # Errors
/// The store is unavailable.
pub async fn books(
    p: &Platform,
    month: NaiveDate,
    county: Option<County>,
) -> Result<Books, ApiError> {
    let month = month_of(month);
    let mut opening: Vec<Posted> = Vec::new();
    let mut m = NaiveDate::from_ymd_opt(BOOKS_FROM.0, BOOKS_FROM.1, 1)
        .ok_or_else(|| ApiError::internal(&"books' first month"))?;
    while m < month {
        opening.extend(vouchers(p, m, county).await?);
        m = next_month(m)?;
    }
    let current = vouchers(p, month, county).await?;
    let before = TrialBalance::of(opening.iter().map(|v| &v.voucher));
    let now = TrialBalance::of(current.iter().map(|v| &v.voucher));
    let mut rows: BTreeMap<&'static str, BalanceRow> = BTreeMap::new();
    for r in before.rows.iter().chain(&now.rows) {
        rows.entry(r.subject.code).or_insert_with(|| BalanceRow {
            code: r.subject.code.to_owned(),
            name: r.subject.name.to_owned(),
            category: r.subject.category.zh().to_owned(),
            opening: Decimal::ZERO,
            debits: Decimal::ZERO,
            credits: Decimal::ZERO,
            closing: Decimal::ZERO,
        });
    }
    for r in &before.rows {
        if let Some(row) = rows.get_mut(r.subject.code) {
            row.opening = r.balance();
        }
    }
    for r in &now.rows {
        if let Some(row) = rows.get_mut(r.subject.code) {
            row.debits = r.debits;
            row.credits = r.credits;
        }
    }
    let mut balance_sides = (Decimal::ZERO, Decimal::ZERO);
    for row in rows.values_mut() {
        let debit_normal =
            swi_ledger::subject(&row.code).is_some_and(|s| s.category.debit_normal());
        row.closing = if debit_normal {
            row.opening + row.debits - row.credits
        } else {
            row.opening + row.credits - row.debits
        };
        if debit_normal {
            balance_sides.0 += row.closing;
        } else {
            balance_sides.1 += row.closing;
        }
    }
    let (debits, credits) = now.totals();
    let mut rows: Vec<BalanceRow> = rows.into_values().collect();
    for r in &mut rows {
        for d in [
            &mut r.opening,
            &mut r.debits,
            &mut r.credits,
            &mut r.closing,
        ] {
            if d.is_zero() {
                *d = Decimal::ZERO;
            }
            d.rescale(2);
        }
    }
    let (mut debits, mut credits) = (debits, credits);
    debits.rescale(2);
    credits.rescale(2);
    Ok(Books {
        month,
        county,
        rows,
        debits,
        credits,
        balanced: debits == credits && balance_sides.0 == balance_sides.1,
        vouchers: current.len(),
    })
}

/// One entry of a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Account code.
    pub code: String,
    /// Day.
    pub date: NaiveDate,
    /// The voucher's id.
    pub voucher: String,
    /// What it books.
    pub memo: String,
    /// Debit.
    pub debit: Decimal,
    /// Credit.
    pub credit: Decimal,
}

/// The month's entries, by account then date.
#[must_use]
pub fn ledger(vouchers: &[Posted]) -> Vec<LedgerEntry> {
    let mut out: Vec<LedgerEntry> = vouchers
        .iter()
        .flat_map(|v| {
            v.voucher.entries.iter().map(move |e| LedgerEntry {
                code: e.account.clone(),
                date: v.voucher.date,
                voucher: v.id.clone(),
                memo: format!("{}：{}", v.voucher.source, e.memo),
                debit: if e.side == Side::Debit {
                    e.amount
                } else {
                    Decimal::ZERO
                },
                credit: if e.side == Side::Credit {
                    e.amount
                } else {
                    Decimal::ZERO
                },
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.code, a.date, &a.voucher).cmp(&(&b.code, b.date, &b.voucher)));
    out
}

fn balance_cells(b: &Books) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = b
        .rows
        .iter()
        .map(|r| {
            vec![
                r.code.clone(),
                r.name.clone(),
                r.category.clone(),
                r.opening.to_string(),
                r.debits.to_string(),
                r.credits.to_string(),
                r.closing.to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        String::new(),
        "本月合计".into(),
        String::new(),
        String::new(),
        b.debits.to_string(),
        b.credits.to_string(),
        String::new(),
    ]);
    rows
}

fn ledger_cells(entries: &[LedgerEntry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            vec![
                e.code.clone(),
                e.date.to_string(),
                e.voucher.clone(),
                e.memo.clone(),
                if e.debit.is_zero() {
                    String::new()
                } else {
                    e.debit.to_string()
                },
                if e.credit.is_zero() {
                    String::new()
                } else {
                    e.credit.to_string()
                },
            ]
        })
        .collect()
}

const BALANCE_HEADINGS: [&str; 7] = [
    "科目代码",
    "科目名称",
    "类别",
    "期初余额",
    "本月借方",
    "本月贷方",
    "期末余额",
];
const LEDGER_HEADINGS: [&str; 6] = ["科目代码", "日期", "凭证", "摘要", "借方", "贷方"];

fn scope(b: &Books) -> String {
    b.county.map_or_else(
        || "全市（市级统收统支）".to_owned(),
        |c| format!("{} {}", c.code(), c.name()),
    )
}

/// The trial balance and ledgers as an XLSX workbook (two sheets).
///
/// # Errors
/// The writer's own failure (it does not happen).
pub fn xlsx(b: &Books, entries: &[LedgerEntry]) -> Result<Vec<u8>, ApiError> {
    swi_tables::workbook(
        &[
            ("试算平衡表", &BALANCE_HEADINGS[..], &balance_cells(b)),
            ("明细账", &LEDGER_HEADINGS[..], &ledger_cells(entries)),
        ],
        16.0,
    )
    .map_err(|e| ApiError::internal(&e))
}

/// The trial balance and ledgers as PDF.
///
/// # Errors
/// The font is not installed (503 `forms_unavailable`).
pub fn pdf(b: &Books, entries: &[LedgerEntry], today: NaiveDate) -> Result<Vec<u8>, ApiError> {
    use swi_forms::{Column, Report, Table};
    let font = swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))?;
    let report = Report {
        title: "补充工伤保险基金试算平衡表及明细账".into(),
        number: "表号：GZBG-ZJ-03".into(),
        serial: format!("期间：{}", b.month.format("%Y-%m")),
        lines: vec![
            format!("核算范围：{}；会计期间：{}", scope(b), b.month.format("%Y年%m月")),
            format!(
                "本月凭证 {} 张，借方合计 {} 元，贷方合计 {} 元，{}。",
                b.vouchers,
                b.debits,
                b.credits,
                if b.balanced { "借贷平衡" } else { "借贷不平衡，须查明原因" }
            ),
        ],
        tables: vec![
            Table {
                caption: "一、试算平衡表".into(),
                columns: vec![
                    Column::text(BALANCE_HEADINGS[0], 0.9),
                    Column::text(BALANCE_HEADINGS[1], 1.8),
                    Column::text(BALANCE_HEADINGS[2], 0.7),
                    Column::amount(BALANCE_HEADINGS[3], 1.3),
                    Column::amount(BALANCE_HEADINGS[4], 1.3),
                    Column::amount(BALANCE_HEADINGS[5], 1.3),
                    Column::amount(BALANCE_HEADINGS[6], 1.3),
                ],
                rows: balance_cells(b),
            },
            Table {
                caption: "二、明细账".into(),
                columns: vec![
                    Column::text(LEDGER_HEADINGS[0], 0.8),
                    Column::text(LEDGER_HEADINGS[1], 0.9),
                    Column::text(LEDGER_HEADINGS[2], 1.6),
                    Column::text(LEDGER_HEADINGS[3], 3.0),
                    Column::amount(LEDGER_HEADINGS[4], 1.1),
                    Column::amount(LEDGER_HEADINGS[5], 1.1),
                ],
                rows: ledger_cells(entries),
            },
        ],
        statement: "依据《社会保险基金会计制度》（财会〔2017〕28号）科目设置，根据银行回单、支出汇总表等原始凭据填制记账凭证（第三十九条）。".into(),
        signatures: vec!["制表".into(), "复核".into(), "会计主管".into()],
        date_line: swi_forms::chinese_date(today),
    };
    swi_forms::render_report(&font, &report).map_err(|e| ApiError::forms_unavailable(&e))
}
