//! A bill (应缴额核定): one payer, one month, a line per person billed (Art. 16-19), and where it
//! is kept.
//!
//! Keys: the bill `bill#<id>` / `bill` (indexed by county and month), its lines `bill#<id>` /
//! `line#<enrolment>`; the payer's list `bills-of#<payer>` / `<YYYY-MM>#<id>`; while unpaid,
//! `owing#<county>` / `<payer>#<YYYY-MM>#<id>` (the arrears of Art. 21 are the entries past their
//! due day). Bill ids are made of the month and the payer's code or the enrolment's id, never of
//! personal data, so that the same bill always has the same id and is written once.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::access::Owner;
use swi_platform::{ApiError, Platform};
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, Cursor, Index, Item, Key, Query, SkRange, TxOp};

/// What a bill is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillKind {
    /// A month of a unit's staff, or of a self-paying worker (the monthly run).
    Monthly,
    /// The first month of one accepted enrolment, billed at once (Art. 8).
    Joining,
    /// A construction project's one-time premium, 0.6 ‰ of its cost (Art. 11, 14).
    Project,
}

/// Where a bill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillStatus {
    /// Not yet paid.
    Owing,
    /// Paid in full, by the tax bureau's receipt.
    Paid,
    /// Withdrawn before it was paid (a project cancelled before payment).
    Withdrawn,
}

/// Who pays a bill (Art. 16): a unit for its staff, or a worker for themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payer {
    /// A unit (unified social credit code).
    Unit {
        /// The unit's code.
        code: String,
    },
    /// A self-paying flexible or platform worker (Art. 16).
    Person {
        /// Their account (subject).
        owner: String,
        /// Their enrolment.
        enrolment: String,
    },
}

impl Payer {
    /// The key the payer's list and the arrears are kept under: `unit#<code>`, `self#<sub>`.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Payer::Unit { code } => format!("unit#{code}"),
            Payer::Person { owner, .. } => format!("self#{owner}"),
        }
    }

    /// Whose record the bill is, for the ownership check of employers and citizens.
    #[must_use]
    pub fn owner(&self) -> Owner<'_> {
        match self {
            Payer::Unit { code } => Owner::Unit(code),
            Payer::Person { owner, .. } => Owner::Person(owner),
        }
    }
}

/// Persons and amount of one category on a bill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tally {
    /// Persons billed.
    pub persons: u32,
    /// Their amount.
    pub amount: Decimal,
}

/// What a bill's amounts rest on: the articles, the average wage in use and the readings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Basis {
    /// The provisions applied (e.g. `赣市人社字〔2025〕7号 第十四条`).
    pub articles: Vec<String>,
    /// The Jiangxi average monthly wage in use (Art. 17, 20).
    pub average_wage: Decimal,
    /// Where it comes from (document, or the city's notice).
    pub average_wage_source: String,
    /// Its status (`confirmed`, `secondary`, `assumed`).
    pub average_wage_status: String,
    /// Whether a part month is billed whole (`billing.whole_month`).
    pub whole_month: bool,
    /// The figures used that are not confirmed, each `name (status): source`.
    pub assumptions: Vec<String>,
}

/// A payment the tax bureau reported against a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    /// The tax bureau's receipt number (unique).
    pub receipt: String,
    /// The day paid (China date).
    pub paid_on: NaiveDate,
    /// The amount paid.
    pub amount: Decimal,
    /// The receipts file it came in (SHA-256).
    pub file: String,
    /// When it was recorded.
    pub recorded_at: NaiveDateTime,
}

/// A re-basing of an unpaid bill after the year's average wage was recorded (Art. 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rebase {
    /// When.
    pub on: NaiveDate,
    /// The average wage before.
    pub from_average: Decimal,
    /// The average wage after.
    pub to_average: Decimal,
    /// The amount before.
    pub from_amount: Decimal,
    /// The amount after.
    pub to_amount: Decimal,
    /// Why: the value recorded, with its source.
    pub reason: String,
}

/// A bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bill {
    /// Id (`b-YYYYMM-<unit code or enrolment id>`).
    pub id: String,
    /// What it is for.
    pub kind: BillKind,
    /// Who pays.
    pub payer: Payer,
    /// The payer's name.
    pub name: String,
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// The month billed (its first day).
    pub month: NaiveDate,
    /// The unit's industry class, for a unit's bill (Art. 14).
    pub industry_class: Option<u32>,
    /// The unit's floated band, for a unit's bill (Art. 13, 15).
    pub band: Option<Decimal>,
    /// Lines (persons billed).
    pub lines: u32,
    /// The amount due.
    pub amount: Decimal,
    /// Persons and amounts by category.
    #[schema(value_type = BTreeMap<String, Tally>)]
    pub by_category: BTreeMap<Category, Tally>,
    /// Due by (unpaid after it: arrears, Art. 21).
    pub due: NaiveDate,
    /// Status.
    pub status: BillStatus,
    /// When it was issued (China time).
    pub issued_at: NaiveDateTime,
    /// By whom (the monthly run, or the window's acceptance).
    pub issued_by: String,
    /// What its amounts rest on.
    pub basis: Basis,
    /// Enrolments whose cover starts the day after this bill is paid (Art. 8).
    #[serde(default)]
    pub starts_cover: Vec<String>,
    /// The payment, once paid.
    #[serde(default)]
    pub payment: Option<Payment>,
    /// Re-basings (Art. 20).
    #[serde(default)]
    pub rebased: Vec<Rebase>,
    /// True from a re-basing until its lines are rewritten (the bill's amount is already the
    /// new one).
    #[serde(default)]
    pub lines_pending: bool,
    /// The amount refunded (Art. 22; each refund a negative line on the bill).
    #[serde(default)]
    pub refunded: Decimal,
    /// The construction project, for a project's bill (its cover starts when it is paid).
    #[serde(default)]
    pub project: Option<String>,
}

/// One person on a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Line {
    /// The enrolment billed.
    pub enrolment: String,
    /// Name.
    pub name: String,
    /// Category.
    #[schema(value_type = String, example = "employee")]
    pub category: Category,
    /// The industry class rated in (Art. 14).
    pub industry_class: u32,
    /// The unit's floated band applied (Art. 13, 15), for persons rated in its class.
    pub band: Option<Decimal>,
    /// The wage declared.
    pub wage: Decimal,
    /// The contribution base (Art. 17).
    pub base: Decimal,
    /// The rate (Art. 14).
    pub rate: Decimal,
    /// Days of the month within the enrolment.
    pub days: u32,
    /// The amount billed, rounded half-up to the fen.
    pub amount: Decimal,
    /// The articles the line rests on.
    pub basis: String,
}

/// The id of a unit's monthly bill.
#[must_use]
pub fn unit_bill_id(month: NaiveDate, unit: &str) -> String {
    format!("b-{}-{unit}", month.format("%Y%m"))
}

/// The id of a construction project's one-time bill.
#[must_use]
pub fn project_bill_id(project: &str) -> String {
    format!("b-{project}")
}

/// The id of an enrolment's own bill of a month: a joiner's first month, or a self-payer's
/// month.
#[must_use]
pub fn enrolment_bill_id(month: NaiveDate, enrolment: &str) -> String {
    format!("b-{}-{enrolment}", month.format("%Y%m"))
}

/// The key of a month's billing run (written by the premium-billing step's monthly run).
#[must_use]
pub fn run_key(month: NaiveDate) -> Key {
    Key::new(format!("billing-run#{}", month.format("%Y-%m")), "run")
}

/// The partition of the units that moved county in a month: its billing run, having walked
/// the counties, bills those of them it has not met (a unit moved into a county already walked).
#[must_use]
pub fn moved_units_pk(month: NaiveDate) -> String {
    format!("billing-moved#{}", month.format("%Y-%m"))
}

/// The operation noting, in the transaction moving it, that `unit` moved county during `month`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn moved_unit_op(month: NaiveDate, unit: &str) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: Item::new(
            moved_units_pk(month),
            unit,
            &serde_json::json!({ "unit": unit, "month": month }),
        )?
        // Long after the month's run is done.
        .expiring_at(swi_store::state::epoch_now() + 2 * 366 * 86_400),
        condition: Condition::None,
    })
}

/// The key of a bill.
#[must_use]
pub fn bill_key(id: &str) -> Key {
    Key::new(format!("bill#{id}"), "bill")
}

/// The key of a bill's line for an enrolment.
#[must_use]
pub fn line_key(id: &str, enrolment: &str) -> Key {
    Key::new(format!("bill#{id}"), format!("line#{enrolment}"))
}

/// The audit case of a bill.
#[must_use]
pub fn bill_case(id: &str) -> String {
    format!("bill#{id}")
}

/// The index partition of a county's bills of a month.
#[must_use]
pub fn county_month_pk(county: County, month: NaiveDate) -> String {
    format!("bills#{}#{}", county.code(), month.format("%Y-%m"))
}

/// The partition of a payer's list of bills.
#[must_use]
pub fn payer_pk(payer: &Payer) -> String {
    format!("bills-of#{}", payer.key())
}

/// The partition of a county's unpaid bills.
#[must_use]
pub fn owing_pk(county: County) -> String {
    format!("owing#{}", county.code())
}

/// The sort key of a bill in its payer's list and among the unpaid.
#[must_use]
pub fn listed_sk(bill: &Bill) -> String {
    format!("{}#{}", bill.month.format("%Y-%m"), bill.id)
}

/// The sort key of an unpaid bill in its county's list.
#[must_use]
pub fn owing_sk(bill: &Bill) -> String {
    format!("{}#{}", bill.payer.key(), listed_sk(bill))
}

/// An unpaid bill in its county's list (Art. 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Owing {
    /// The bill.
    pub bill: String,
    /// Who pays.
    pub payer: Payer,
    /// The payer's name.
    pub name: String,
    /// The month.
    pub month: NaiveDate,
    /// The amount.
    pub amount: Decimal,
    /// Due by.
    pub due: NaiveDate,
    /// The average wage the amount rests on (Art. 20: a re-basing looks no further when it is
    /// the one in force).
    #[serde(default)]
    pub average_wage: Option<Decimal>,
}

impl Owing {
    /// The entry of `bill`.
    #[must_use]
    pub fn of(bill: &Bill) -> Self {
        Owing {
            bill: bill.id.clone(),
            payer: bill.payer.clone(),
            name: bill.name.clone(),
            month: bill.month,
            amount: bill.amount,
            due: bill.due,
            average_wage: Some(bill.basis.average_wage),
        }
    }
}

/// The item of a bill, indexed by county and month.
///
/// # Errors
/// Serialization (it does not fail).
pub fn bill_item(bill: &Bill) -> Result<Item, ApiError> {
    let k = bill_key(&bill.id);
    Ok(Item::new(k.pk, k.sk, bill)?
        .with_gsi1(county_month_pk(bill.county, bill.month), bill.id.clone()))
}

/// Loads a bill and its version, or 404.
///
/// # Errors
/// 404 unknown; 503 the store is unavailable.
pub async fn load_bill(p: &Platform, id: &str) -> Result<(Bill, u64), ApiError> {
    let item = p.state.get(&bill_key(id)).await?.ok_or_else(|| {
        ApiError::not_found(
            "未找到该应缴额核定",
            format!("no bill {}", swi_platform::wire::clip(id)),
        )
    })?;
    Ok((
        item.body().map_err(|e| ApiError::internal(&e))?,
        item.version,
    ))
}

/// A page of a bill's lines, and the cursor of the next.
///
/// # Errors
/// 400 a bad cursor; 503 the store is unavailable.
pub async fn lines_page(
    p: &Platform,
    id: &str,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Line>, Option<Cursor>), ApiError> {
    let page = p
        .state
        .query(
            &Query::partition(format!("bill#{id}"))
                .range(SkRange::Prefix("line#".into()))
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let lines = page
        .items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<_, _>>()?;
    Ok((lines, page.next))
}

/// A page of a county's bills of a month, in id order.
///
/// # Errors
/// 400 a bad cursor; 503 the store is unavailable.
pub async fn county_month_page(
    p: &Platform,
    county: County,
    month: NaiveDate,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Bill>, Option<Cursor>), ApiError> {
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(county_month_pk(county, month))
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let bills = page
        .items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<_, _>>()?;
    Ok((bills, page.next))
}

/// A page of a payer's bills, newest month first.
///
/// # Errors
/// 400 a bad cursor; 503 the store is unavailable.
pub async fn payer_page(
    p: &Platform,
    payer: &Payer,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Bill>, Option<Cursor>), ApiError> {
    let page = p
        .state
        .query(
            &Query::partition(payer_pk(payer))
                .backward()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let mut bills = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let id: String = item
            .body::<Listed>()
            .map_err(|e| ApiError::internal(&e))?
            .bill;
        bills.push(load_bill(p, &id).await?.0);
    }
    Ok((bills, page.next))
}

/// A bill in its payer's list (the list names it; the bill itself says where it stands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// The bill.
    pub bill: String,
}
