//! The contractor's annual financial report (财务年度报告, Art. 41): 结算年度终了后，承办机构应编制财务年度报告，并报市社会保险经办机构备案.
//!
//! For a county and a settlement year, from the vouchers of that county: each month's transfers
//! received, benefits paid by the fund's accounts, premium refunds paid, and what the fund owed
//! the contractor at the month's end (payouts not yet reimbursed); the year's totals by account.
//! As JSON, PDF and XLSX; filed with the agency by the contractor's finance staff once the year
//! has ended.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_ledger::Side;
use swi_ledger::posting::{CONTRACTOR_ACCOUNT, PREMIUM_INCOME};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, TxOp};

/// A month of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonthRow {
    /// Month.
    pub month: NaiveDate,
    /// Transfers received.
    #[schema(value_type = String)]
    pub received: Decimal,
    /// Benefits paid.
    #[schema(value_type = String)]
    pub benefits: Decimal,
    /// Premium refunds paid.
    #[schema(value_type = String)]
    pub refunds: Decimal,
    /// What the fund owed the contractor at the month's end.
    #[schema(value_type = String)]
    pub owed: Decimal,
}

/// The annual report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Annual {
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Year.
    pub year: i32,
    /// What the fund owed at the year's start.
    #[schema(value_type = String)]
    pub opening_owed: Decimal,
    /// Months.
    pub months: Vec<MonthRow>,
    /// Benefits paid in the year by account: code, name, amount.
    pub by_account: Vec<(String, String, String)>,
    /// Totals.
    #[schema(value_type = String)]
    pub received: Decimal,
    /// Benefits paid.
    #[schema(value_type = String)]
    pub benefits: Decimal,
    /// Refunds paid.
    #[schema(value_type = String)]
    pub refunds: Decimal,
    /// Owed at the year's end.
    #[schema(value_type = String)]
    pub closing_owed: Decimal,
}

/// The report of `county` for `year`.
///
/// # Errors
/// The store is unavailable.
pub async fn annual(p: &Platform, county: County, year: i32) -> Result<Annual, ApiError> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| ApiError::invalid("年度有误", "bad year"))?;
    let opening = crate::books::books(p, first, Some(county)).await?;
    let opening_owed = -opening
        .rows
        .iter()
        .find(|r| r.code == CONTRACTOR_ACCOUNT)
        .map_or(Decimal::ZERO, |r| r.opening);
    let mut owed = opening_owed;
    let mut months = Vec::new();
    let mut by: BTreeMap<String, Decimal> = BTreeMap::new();
    for m in 1..=12 {
        let month =
            NaiveDate::from_ymd_opt(year, m, 1).ok_or_else(|| ApiError::internal(&"month"))?;
        let (mut received, mut benefits, mut refunds) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for v in crate::books::vouchers(p, month, Some(county)).await? {
            for e in &v.voucher.entries {
                match (e.side, e.account.as_str()) {
                    (Side::Debit, CONTRACTOR_ACCOUNT) => received += e.amount,
                    (Side::Debit, PREMIUM_INCOME) if v.id.starts_with("return:") => {
                        refunds += e.amount
                    }
                    (Side::Debit, code) if code.starts_with("5001") => {
                        benefits += e.amount;
                        *by.entry(code.to_owned()).or_default() += e.amount;
                    }
                    _ => {}
                }
            }
        }
        owed += benefits + refunds - received;
        months.push(MonthRow {
            month,
            received,
            benefits,
            refunds,
            owed,
        });
    }
    for m in &mut months {
        for d in [
            &mut m.received,
            &mut m.benefits,
            &mut m.refunds,
            &mut m.owed,
        ] {
            *d = fen(*d);
        }
    }
    Ok(Annual {
        county,
        year,
        opening_owed: fen(opening_owed),
        received: fen(months.iter().map(|m| m.received).sum()),
        benefits: fen(months.iter().map(|m| m.benefits).sum()),
        refunds: fen(months.iter().map(|m| m.refunds).sum()),
        closing_owed: fen(owed),
        months,
        by_account: by
            .into_iter()
            .map(|(code, amount)| {
                let name = swi_ledger::subject(&code).map_or("", |s| s.name).to_owned();
                (code, name, amount.to_string())
            })
            .collect(),
    })
}

/// An amount as reported: to the fen, never "-0".
fn fen(d: Decimal) -> Decimal {
    let mut x = if d.is_zero() { Decimal::ZERO } else { d };
    x.rescale(2);
    x
}

fn month_cells(a: &Annual) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = a
        .months
        .iter()
        .map(|m| {
            vec![
                m.month.format("%Y-%m").to_string(),
                m.received.to_string(),
                m.benefits.to_string(),
                m.refunds.to_string(),
                m.owed.to_string(),
            ]
        })
        .collect();
    rows.push(vec![
        "全年".into(),
        a.received.to_string(),
        a.benefits.to_string(),
        a.refunds.to_string(),
        a.closing_owed.to_string(),
    ]);
    rows
}

const MONTH_HEADINGS: [&str; 5] = [
    "月份",
    "收到拨款",
    "支付待遇",
    "退还保费",
    "月末基金应付承办机构",
];

/// The report as PDF.
///
/// # Errors
/// The font is not installed (503 `forms_unavailable`).
pub fn pdf(a: &Annual, today: NaiveDate) -> Result<Vec<u8>, ApiError> {
    use swi_forms::{Column, Report, Table};
    let font = swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))?;
    let report = Report {
        title: format!("补充工伤保险承办机构{}年度财务报告", a.year),
        number: "表号：GZBG-ZJ-05".into(),
        serial: format!("编号：ND-{}-{}", a.county.code(), a.year),
        lines: vec![
            format!(
                "县（市、区）：{} {}；结算年度：{}年1月1日至12月31日",
                a.county.code(),
                a.county.name(),
                a.year
            ),
            format!(
                "年初基金应付承办机构 {} 元；全年收到拨款 {} 元，支付待遇 {} 元，退还保费 {} 元；年末基金应付承办机构 {} 元。",
                a.opening_owed, a.received, a.benefits, a.refunds, a.closing_owed
            ),
        ],
        tables: vec![
            Table {
                caption: "一、资金收支月度情况（元）".into(),
                columns: vec![
                    Column::text(MONTH_HEADINGS[0], 1.0),
                    Column::amount(MONTH_HEADINGS[1], 1.3),
                    Column::amount(MONTH_HEADINGS[2], 1.3),
                    Column::amount(MONTH_HEADINGS[3], 1.1),
                    Column::amount(MONTH_HEADINGS[4], 1.7),
                ],
                rows: month_cells(a),
            },
            Table {
                caption: "二、待遇支出按科目（元）".into(),
                columns: vec![
                    Column::text("科目代码", 1.0),
                    Column::text("科目名称", 2.0),
                    Column::amount("金额", 1.4),
                ],
                rows: a
                    .by_account
                    .iter()
                    .map(|(c, n, v)| vec![c.clone(), n.clone(), v.clone()])
                    .collect(),
            },
        ],
        statement:
            "本报告依据《赣州市补充工伤保险业务经办规程》第四十一条编制，报市社会保险经办机构备案。"
                .into(),
        signatures: vec![
            "承办机构负责人".into(),
            "财务负责人".into(),
            "承办机构（盖章）".into(),
        ],
        date_line: swi_forms::chinese_date(today),
    };
    swi_forms::render_report(&font, &report).map_err(|e| ApiError::forms_unavailable(&e))
}

/// The report as XLSX (two sheets).
///
/// # Errors
/// The writer's own failure (it does not happen).
pub fn xlsx(a: &Annual) -> Result<Vec<u8>, ApiError> {
    let by: Vec<Vec<String>> = a
        .by_account
        .iter()
        .map(|(c, n, v)| vec![c.clone(), n.clone(), v.clone()])
        .collect();
    swi_tables::workbook(
        &[
            ("资金收支月度情况", &MONTH_HEADINGS[..], &month_cells(a)),
            ("待遇支出按科目", &["科目代码", "科目名称", "金额"][..], &by),
        ],
        18.0,
    )
    .map_err(|e| ApiError::internal(&e))
}

/// A report filed with the agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filed {
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Year.
    pub year: i32,
    /// The PDF (SHA-256).
    pub pdf: String,
    /// The XLSX (SHA-256).
    pub xlsx: String,
    /// The report's figures as filed.
    pub report: Annual,
    /// When filed.
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// The key of a filed report.
#[must_use]
pub fn filed_key(county: County, year: i32) -> Key {
    Key::new(format!("annual#{}", county.code()), year.to_string())
}

/// The create-only write of a filed report (a year is filed once).
///
/// # Errors
/// Serialization (it does not fail).
pub fn filed_op(f: &Filed) -> Result<TxOp, ApiError> {
    let k = filed_key(f.county, f.year);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, f)?,
        condition: Condition::NotExists,
    })
}
