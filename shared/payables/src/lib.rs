//! The contract between claim review and the payment step: what an approved claim produces.
//!
//! - A [`PayableLine`] is one approved lump sum (or the first settlement of fees) waiting to be
//!   paid: its payee and the payee's kind (Art. 35), the amount, and the day it is due — 10
//!   working days after approval, holidays extending the term (Art. 38). The payment step
//!   resolves and validates the payee's account (Art. 37: the social-security card by default),
//!   batches the line and records its payment; claim review never changes a line once written.
//! - A [`Schedule`] is a periodic benefit (disability allowance, living care, a dependant's
//!   pension; Art. 30, 32): a monthly amount from a first month until one of its end conditions
//!   happens. The payment step pays it in the monthly cycle (Art. 37: by the 20th).
//!
//! - A [`account::PayeeAccount`] is where a payee is paid, validated (form, a card's check
//!   digit) and held by the payee's name before a line may be batched (Art. 35, 37).
//!
//! Both lines and schedules are written in the approval's transaction, create-only, and found by county in due
//! order through the index: `payables#{county}` (by due date) and `schedules#{county}` (by first
//! month). Identifiers are derived from the claim and the item, so an approval can never write
//! a line twice.

pub mod account;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_platform::{ApiError, Platform};
use swi_rules::benefits::Item;
use swi_rules::ids::County;
use swi_store::{Condition, Index, Item as StoreItem, Key, Query, TxOp};

/// Who is paid, as the rules decided it (Art. 35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayeeKind {
    /// The unit's account (用人单位).
    Unit,
    /// The person's social-security card (个人社保卡).
    Person,
    /// A dependant (供养亲属).
    Dependant,
    /// The close relatives, through the one who claimed (近亲属).
    Relatives,
}

impl From<swi_rules::benefits::Payee> for PayeeKind {
    fn from(p: swi_rules::benefits::Payee) -> Self {
        use swi_rules::benefits::Payee as P;
        match p {
            P::Unit => PayeeKind::Unit,
            P::Person => PayeeKind::Person,
            P::Dependant => PayeeKind::Dependant,
            P::Relatives => PayeeKind::Relatives,
        }
    }
}

/// The payee of a line or schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payee {
    /// The kind (Art. 35).
    pub kind: PayeeKind,
    /// The holder's name the account must match (Art. 37).
    pub name: String,
    /// For a unit: its unified social credit code.
    pub unit: Option<String>,
    /// For a person, dependant or relative: the resident ID number (stored; answered masked).
    pub id_number: Option<String>,
}

impl Payee {
    /// The payee as answered: the ID number masked.
    #[must_use]
    pub fn masked(&self) -> Self {
        let mut p = self.clone();
        p.id_number = p.id_number.as_deref().map(|n| {
            swi_rules::ids::ResidentId::parse(n)
                .map_or_else(|_| "****".to_owned(), |id| id.masked())
        });
        p
    }
}

/// A figure a decision used that is not `confirmed` (or a city value), kept with the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParameterUsed {
    /// The parameter.
    pub parameter: String,
    /// Its status when used.
    pub status: String,
    /// Its source (document, article, or the city's document number).
    pub source: String,
}

/// Where a payable line stands; claim review (or billing, for a refund) writes `open`; the
/// payment step takes it once, and its own payment line carries it from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Approved, waiting for the payment step.
    Open,
    /// Taken by the payment step (its payment line says where the payment stands).
    Taken,
}

/// One approved lump sum waiting to be paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayableLine {
    /// `{claim}/{item}`.
    pub id: String,
    /// The claim.
    pub claim: String,
    /// The injury.
    pub injury: String,
    /// The item.
    #[schema(value_type = String, example = "nursing_subsidy")]
    pub item: Item,
    /// The county whose contractor pays.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Who is paid.
    pub payee: Payee,
    /// The amount, in yuan, rounded half-up to the fen.
    #[schema(value_type = String, example = "1500.00")]
    pub amount: Decimal,
    /// The day of approval.
    pub approved_on: NaiveDate,
    /// Due by (Art. 38: 10 working days, holidays extending).
    pub due: NaiveDate,
    /// The articles the amount rests on.
    pub basis: Vec<String>,
    /// The figures used that are not confirmed.
    pub assumptions: Vec<ParameterUsed>,
    /// The status.
    pub status: LineStatus,
}

/// What ends a periodic benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleEnd {
    /// The recipient dies.
    RecipientDies,
    /// A new appraisal changes the grade or care level (the benefit is assessed again).
    Reappraised,
    /// A dependant no longer meets the conditions of support (Art. 32).
    NoLongerDependant,
}

/// Where a schedule stands; claim review writes `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleStatus {
    /// Paid each month.
    Active,
}

/// A periodic benefit paid monthly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    /// `{claim}/{item}` or `{claim}/{item}/{n}` for the n-th dependant.
    pub id: String,
    /// The claim.
    pub claim: String,
    /// The injury.
    pub injury: String,
    /// The item.
    #[schema(value_type = String, example = "disability_allowance")]
    pub item: Item,
    /// The county whose contractor pays.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Who is paid.
    pub payee: Payee,
    /// The monthly amount, rounded half-up to the fen.
    #[schema(value_type = String, example = "3500.00")]
    pub monthly: Decimal,
    /// The first day the benefit runs (its first month is paid in full).
    pub start: NaiveDate,
    /// What ends it.
    pub ends: Vec<ScheduleEnd>,
    /// The articles the amount rests on.
    pub basis: Vec<String>,
    /// The figures used that are not confirmed.
    pub assumptions: Vec<ParameterUsed>,
    /// The status.
    pub status: ScheduleStatus,
}

/// The key of a payable line.
#[must_use]
pub fn line_key(id: &str) -> Key {
    Key::new(format!("payable#{id}"), "line")
}

/// The key of a schedule.
#[must_use]
pub fn schedule_key(id: &str) -> Key {
    Key::new(format!("schedule#{id}"), "schedule")
}

/// The create-only write of a line, indexed by county in due order.
///
/// # Errors
/// Serialization (it does not fail).
pub fn line_put(line: &PayableLine) -> Result<TxOp, ApiError> {
    let k = line_key(&line.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, line)?.with_gsi1(
            waiting_partition(line.county),
            format!("{}#{}", line.due, line.id),
        ),
        condition: Condition::NotExists,
    })
}

/// The create-only write of a schedule, indexed by county in order of start.
///
/// # Errors
/// Serialization (it does not fail).
pub fn schedule_put(s: &Schedule) -> Result<TxOp, ApiError> {
    let k = schedule_key(&s.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, s)?.with_gsi1(
            schedules_partition(s.county),
            format!("{}#{}", s.start, s.id),
        ),
        condition: Condition::NotExists,
    })
}

/// The county's schedules not yet taken into the payment step's payroll (`schedules#{county}`).
#[must_use]
pub fn schedules_partition(county: County) -> String {
    format!("schedules#{}", county.code())
}

/// The write that marks a schedule taken into the payroll, conditioned on the version read: it
/// leaves the county's waiting schedules (`schedules-taken#{county}` keeps the order). The
/// schedule itself is unchanged; the payroll keeps its payments from here.
///
/// # Errors
/// Serialization (it does not fail).
pub fn schedule_taken_op(s: &Schedule, version: u64) -> Result<TxOp, ApiError> {
    let k = schedule_key(&s.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, s)?.with_gsi1(
            format!("schedules-taken#{}", s.county.code()),
            format!("{}#{}", s.start, s.id),
        ),
        condition: Condition::VersionIs(version),
    })
}

/// The county's lines still waiting for the payment step, in due order (`payables#{county}`).
#[must_use]
pub fn waiting_partition(county: County) -> String {
    format!("payables#{}", county.code())
}

/// The write that marks a line taken by the payment step, conditioned on the version it was
/// read at: it leaves the county's waiting lines (`payables-taken#{county}` keeps the order).
///
/// # Errors
/// Serialization (it does not fail).
pub fn line_taken_op(line: &PayableLine, version: u64) -> Result<TxOp, ApiError> {
    let mut taken = line.clone();
    taken.status = LineStatus::Taken;
    let k = line_key(&line.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, &taken)?.with_gsi1(
            format!("payables-taken#{}", line.county.code()),
            format!("{}#{}", line.due, line.id),
        ),
        condition: Condition::VersionIs(version),
    })
}

/// Loads the lines of a claim's items.
///
/// # Errors
/// The store is unavailable.
pub async fn lines(p: &Platform, ids: &[String]) -> Result<Vec<PayableLine>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(item) = p.state.get(&line_key(id)).await? {
            out.push(item.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(out)
}

/// Loads schedules by id.
///
/// # Errors
/// The store is unavailable.
pub async fn schedules(p: &Platform, ids: &[String]) -> Result<Vec<Schedule>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(item) = p.state.get(&schedule_key(id)).await? {
            out.push(item.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(out)
}

/// A county's lines, earliest due first (one page of at most `limit`).
///
/// # Errors
/// The store is unavailable.
pub async fn county_lines(
    p: &Platform,
    county: County,
    limit: u32,
) -> Result<Vec<PayableLine>, ApiError> {
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(waiting_partition(county)).limit(limit),
        )
        .await?;
    page.items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// A premium refund approved under Art. 22, handed to the payment step: paid back to the unit or
/// the self-paying worker who paid the bill. The bill keeps the refund as a negative line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundLine {
    /// The refund (`rf-…`).
    pub id: String,
    /// The bill refunded.
    pub bill: String,
    /// The enrolment whose line is refunded.
    pub enrolment: String,
    /// Why (Art. 22: `left`, `death`, `lowered_base`).
    pub cause: String,
    /// The county whose contractor pays.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Who is paid back.
    pub payee: Payee,
    /// The amount paid back, in yuan.
    #[schema(value_type = String, example = "16.20")]
    pub amount: Decimal,
    /// The day of approval.
    pub approved_on: NaiveDate,
    /// The articles it rests on.
    pub basis: Vec<String>,
    /// The status.
    pub status: LineStatus,
}

/// The key of a refund handed to the payment step.
#[must_use]
pub fn refund_key(id: &str) -> Key {
    Key::new(format!("refund-payable#{id}"), "line")
}

/// The county's refunds still waiting for the payment step (`refunds#{county}`).
#[must_use]
pub fn refunds_partition(county: County) -> String {
    format!("refunds#{county}")
}

/// The write that marks a refund taken by the payment step, conditioned on the version read.
///
/// # Errors
/// Serialization (it does not fail).
pub fn refund_taken_op(r: &RefundLine, version: u64) -> Result<TxOp, ApiError> {
    let mut taken = r.clone();
    taken.status = LineStatus::Taken;
    let k = refund_key(&r.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, &taken)?.with_gsi1(
            format!("refunds-taken#{}", r.county),
            format!("{}#{}", r.approved_on, r.id),
        ),
        condition: Condition::VersionIs(version),
    })
}

/// The operation writing a refund for the payment step, once, indexed by county
/// (`refunds#{county}`, by approval day).
///
/// # Errors
/// Serialization (it does not fail).
pub fn refund_put(r: &RefundLine) -> Result<TxOp, ApiError> {
    let k = refund_key(&r.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, r)?.with_gsi1(
            refunds_partition(r.county),
            format!("{}#{}", r.approved_on, r.id),
        ),
        condition: Condition::NotExists,
    })
}

/// The index partition of a payee's lines: a person's (the same as their injuries') or a unit's.
///
/// # Errors
/// The payee names neither a valid ID number nor a unit.
pub fn payee_partition(p: &Platform, payee: &Payee) -> Result<String, ApiError> {
    if let Some(n) = payee.id_number.as_deref()
        && let Ok(id) = swi_rules::ids::ResidentId::parse(n)
    {
        return Ok(swi_registry::enrolment::person_partition(
            &p.persons.of(&id),
        ));
    }
    if let Some(code) = payee.unit.as_deref() {
        return Ok(format!("payee-unit#{code}"));
    }
    Err(ApiError::invalid(
        "收款人既无有效身份证号码也无单位代码",
        "the payee names neither a valid ID number nor a unit",
    ))
}
