//! Arrears (欠费, Art. 21: 未及时缴纳补充工伤保险费的，产生的欠费经核实后…通过税务系统补清欠费):
//! who owes what since when — every unpaid bill past its due day, by payer, from the county's
//! list of unpaid bills (`owing#<county>`), which paying a bill removes it from.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_bills::Payer;
use swi_bills::bill::{Owing, owing_pk};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::{Query, SkRange};

/// One payer's arrears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayerArrears {
    /// Who owes.
    pub payer: Payer,
    /// Their name.
    pub name: String,
    /// The earliest month owed.
    pub since: NaiveDate,
    /// The total owed.
    pub amount: Decimal,
    /// The bills owed, oldest month first.
    pub bills: Vec<Owing>,
}

/// A county's arrears on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Arrears {
    /// County.
    #[schema(value_type = String)]
    pub county: County,
    /// The day (bills due before it and unpaid are owed).
    pub on: NaiveDate,
    /// Payers owing.
    pub payers: Vec<PayerArrears>,
    /// The total owed.
    pub amount: Decimal,
}

/// Unpaid bills past their due day under `prefix` of the county's unpaid list, grouped by payer.
///
/// # Errors
/// The store is unavailable.
pub async fn arrears(
    p: &Platform,
    county: County,
    prefix: Option<String>,
    on: NaiveDate,
) -> Result<Arrears, ApiError> {
    let q = Query::partition(owing_pk(county))
        .range(prefix.map_or(SkRange::All, SkRange::Prefix))
        .limit(1000);
    let mut by_payer: BTreeMap<String, PayerArrears> = BTreeMap::new();
    for item in p.state.query_all(&q).await? {
        let o: Owing = item.body().map_err(|e| ApiError::internal(&e))?;
        if o.due >= on || o.amount.is_zero() {
            continue;
        }
        let entry = by_payer
            .entry(o.payer.key())
            .or_insert_with(|| PayerArrears {
                payer: o.payer.clone(),
                name: o.name.clone(),
                since: o.month,
                amount: Decimal::ZERO,
                bills: Vec::new(),
            });
        entry.since = entry.since.min(o.month);
        entry.amount += o.amount;
        entry.bills.push(o);
    }
    let payers: Vec<PayerArrears> = by_payer.into_values().collect();
    Ok(Arrears {
        county,
        on,
        amount: payers.iter().map(|a| a.amount).sum(),
        payers,
    })
}

/// A unit's arrears.
///
/// # Errors
/// The store is unavailable.
pub async fn of_payer(
    p: &Platform,
    county: County,
    payer: &Payer,
    on: NaiveDate,
) -> Result<Option<PayerArrears>, ApiError> {
    Ok(arrears(p, county, Some(format!("{}#", payer.key())), on)
        .await?
        .payers
        .into_iter()
        .next())
}

/// The arrears as an XLSX workbook: one row per bill owed, with the payer's total and since
/// when.
///
/// # Errors
/// The workbook cannot be written (it does not fail).
pub fn xlsx(a: &Arrears) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(&e);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet
        .write_string_with_format(
            0,
            0,
            format!(
                "补充工伤保险欠费明细（第二十一条） — 县区 {}，截至 {}，合计 {} 元",
                a.county.code(),
                a.on,
                a.amount
            ),
            &bold,
        )
        .map_err(fail)?;
    let head = [
        "缴费人",
        "缴费人名称",
        "欠费起始月",
        "欠费合计",
        "核定单号",
        "费款所属期",
        "应缴金额",
        "缴费期限",
    ];
    for (c, h) in (0u16..).zip(head) {
        sheet
            .write_string_with_format(1, c, h, &bold)
            .map_err(fail)?;
    }
    let mut r = 2u32;
    for payer in &a.payers {
        for b in &payer.bills {
            let code = match &payer.payer {
                Payer::Unit { code } => code.clone(),
                Payer::Person { enrolment, .. } => enrolment.clone(),
            };
            let cells = [
                code,
                payer.name.clone(),
                payer.since.format("%Y-%m").to_string(),
                payer.amount.to_string(),
                b.bill.clone(),
                b.month.format("%Y-%m").to_string(),
                b.amount.to_string(),
                b.due.to_string(),
            ];
            for (c, v) in (0u16..).zip(cells) {
                sheet.write_string(r, c, v).map_err(fail)?;
            }
            r += 1;
        }
    }
    sheet.set_column_width(1, 30).map_err(fail)?;
    sheet.set_column_width(4, 34).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}
