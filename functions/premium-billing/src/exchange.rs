//! The files exchanged with the tax bureau (Art. 16, 19: 由税务部门统一征收): a county's bills of
//! a month exported for it to collect, and the receipts it sends back (`crate::receipts`). Every
//! file is kept in the document store, named by its SHA-256, and listed for the county's clerks
//! (`exchange#<county>`), each with who made it and when.
//!
//! The export's columns (CSV, UTF-8, headed by the English identifiers; or XLSX, headed in
//! Chinese):
//!
//! | column | 中文 | value |
//! | --- | --- | --- |
//! | `bill_id` | 核定单号 | the bill (the receipt names it back) |
//! | `payer_kind` | 缴费人类型 | `unit` 单位, `person` 个人 |
//! | `payer_code` | 缴费人识别号 | a unit's unified social credit code; a self-payer's resident ID number (the tax bureau collects from the person, Art. 16) |
//! | `payer_name` | 缴费人名称 | |
//! | `month` | 费款所属期 | `YYYY-MM` |
//! | `persons` | 人数 | persons billed |
//! | `amount` | 应缴金额 | yuan, two decimals |
//! | `due` | 缴费期限 | `YYYY-MM-DD` |
//! | `county` | 县区 | GB/T 2260 code |

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_bills::bill::county_month_page;
use swi_bills::{Bill, BillStatus, Payer};
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::load_enrolment;
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, Query, Sha256, TxOp};

/// The export's columns: English identifier and Chinese heading.
pub const EXPORT_COLUMNS: [(&str, &str); 9] = [
    ("bill_id", "核定单号"),
    ("payer_kind", "缴费人类型"),
    ("payer_code", "缴费人识别号"),
    ("payer_name", "缴费人名称"),
    ("month", "费款所属期"),
    ("persons", "人数"),
    ("amount", "应缴金额"),
    ("due", "缴费期限"),
    ("county", "县区"),
];

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Bills exported for collection.
    Bills,
    /// Receipts imported from the tax bureau.
    Receipts,
}

pub use swi_tables::Format;

/// A file exchanged with the tax bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExchangeFile {
    /// SHA-256 of the file.
    pub sha256: String,
    /// What it is.
    pub kind: FileKind,
    /// Its format.
    pub format: Format,
    /// County.
    #[schema(value_type = String)]
    pub county: County,
    /// The month its bills are of (exports).
    pub month: Option<NaiveDate>,
    /// Data rows.
    pub rows: usize,
    /// Their amount.
    pub amount: Decimal,
    /// The receipts import it started (imports).
    pub import: Option<String>,
    /// When (China time).
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// The key of a file's record (how a download finds its county).
#[must_use]
pub fn file_key(sha: &str) -> Key {
    Key::new(format!("exchange-file#{sha}"), "file")
}

/// The operations recording `f` and listing it for its county.
///
/// # Errors
/// Serialization (it does not fail).
pub fn file_ops(f: &ExchangeFile) -> Result<Vec<TxOp>, ApiError> {
    let k = file_key(&f.sha256);
    Ok(vec![
        TxOp::Put {
            item: Item::new(k.pk, k.sk, f)?,
            condition: Condition::None,
        },
        TxOp::Put {
            item: Item::new(
                format!("exchange#{}", f.county.code()),
                format!("{}#{}", f.at.format("%Y-%m-%dT%H:%M:%S"), f.sha256),
                f,
            )?,
            condition: Condition::None,
        },
    ])
}

/// A file's record, if it was exchanged.
///
/// # Errors
/// The store is unavailable.
pub async fn load_file(p: &Platform, sha: &Sha256) -> Result<Option<ExchangeFile>, ApiError> {
    p.state
        .get(&file_key(&sha.hex()))
        .await?
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// A county's exchanged files, newest first.
///
/// # Errors
/// The store is unavailable.
pub async fn files_of(
    p: &Platform,
    county: County,
    limit: u32,
) -> Result<Vec<ExchangeFile>, ApiError> {
    p.state
        .query(
            &Query::partition(format!("exchange#{}", county.code()))
                .backward()
                .limit(limit),
        )
        .await?
        .items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// One row of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    /// The cells, in [`EXPORT_COLUMNS`] order.
    pub cells: [String; 9],
    /// The amount.
    pub amount: Decimal,
}

async fn row_of(p: &Platform, b: &Bill) -> Result<ExportRow, ApiError> {
    let (kind, code) = match &b.payer {
        Payer::Unit { code } => ("unit", code.clone()),
        Payer::Person { enrolment, .. } => {
            // The tax bureau collects from the person by their ID number (Art. 16).
            let (e, _) = load_enrolment(p, enrolment).await?;
            ("person", e.id_number)
        }
    };
    Ok(ExportRow {
        cells: [
            b.id.clone(),
            kind.to_owned(),
            code,
            b.name.clone(),
            b.month.format("%Y-%m").to_string(),
            b.lines.to_string(),
            b.amount.to_string(),
            b.due.to_string(),
            b.county.code().to_string(),
        ],
        amount: b.amount,
    })
}

/// The unpaid bills of `county` for `month`, as export rows in bill-id order.
///
/// # Errors
/// The store is unavailable.
pub async fn export_rows(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Vec<ExportRow>, ApiError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let (bills, next) = county_month_page(p, county, month, 500, cursor).await?;
        for b in bills.iter().filter(|b| b.status == BillStatus::Owing) {
            out.push(row_of(p, b).await?);
        }
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// The export file's bytes.
///
/// # Errors
/// The workbook or the CSV cannot be written (it does not fail).
pub fn render(rows: &[ExportRow], format: Format) -> Result<Vec<u8>, ApiError> {
    let cells: Vec<&[String]> = rows.iter().map(|r| &r.cells[..]).collect();
    swi_tables::render(
        &EXPORT_COLUMNS,
        &cells,
        format,
        &[(0, 34.0), (2, 22.0), (3, 30.0)],
    )
    .map_err(|e| ApiError::internal(&e))
}
