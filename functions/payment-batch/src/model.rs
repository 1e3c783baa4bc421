//! The payment step's records and their keys.
//!
//! - A [`PaymentLine`] (`payline#{id}`) is one payment to make: an approved lump sum taken from
//!   claim review, one month's instalment of a periodic benefit, or a premium refund. It is
//!   indexed under its payee (`person#{key}` or `payee-unit#{code}`, index 1, `payment#…`) so that
//!   the person or unit sees it, and never shows the key.
//! - A line that cannot go into a batch yet (no valid account held by the payee, or a failed
//!   attempt waiting for its corrected account) has a [`Waiting`] entry in its county's queue
//!   (`payq#{county}`, by due date): the deadline list and the daily batch read it.
//! - A [`Batch`] (`batch#{id}/batch`) is one set of payments handed to the banks; its lines are
//!   kept in [`Part`]s (`batch#{id}/part#{bank}#{n}`), one bank each, written with the lines in
//!   the transaction that batched them. The bank's return is recorded on the parts: a part
//!   returned moves every line of it to paid, except the ones it lists as failed — so a line is
//!   written once when it is paid, and again only when it fails.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::payment::{Line, LineStatus};
use swi_payables::Payee;
use swi_payables::account::{Bank, PayeeAccount};
use swi_platform::{ApiError, Platform};
use swi_rules::benefits::Item;
use swi_rules::ids::County;
use swi_store::{Condition, Item as StoreItem, Key, TxOp};

/// The most lines a part holds (one transaction's worth).
pub const PART_LINES: usize = 90;

/// Where a line comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// An approved lump sum (claim review's payable line `{claim}/{item}`).
    LumpSum {
        /// The payable line.
        line: String,
        /// The claim.
        claim: String,
    },
    /// One month's instalment of a periodic benefit.
    Instalment {
        /// The schedule.
        schedule: String,
        /// The claim.
        claim: String,
        /// The month paid (its first day).
        month: NaiveDate,
    },
    /// A premium refund (Art. 22).
    Refund {
        /// The refund.
        refund: String,
        /// The bill refunded.
        bill: String,
    },
}

/// One attempt that failed: which batch, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Failure {
    /// The attempt (1 for the first batch).
    pub attempt: u32,
    /// The batch.
    pub batch: String,
    /// The account it went to (masked).
    pub account: String,
    /// The bank's reason.
    pub reason: String,
    /// The day the return was recorded.
    pub on: NaiveDate,
    /// When it was recorded (China time): an account recorded after it may take the line again.
    pub at: NaiveDateTime,
}

/// One payment to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentLine {
    /// `ls:{claim}:{item}`, `pi:{schedule}:{YYYY-MM}` or `rf:{refund}` (no `/`).
    pub id: String,
    /// Where it comes from.
    pub source: Source,
    /// The county whose contractor pays.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// The benefit item; none for a refund.
    #[schema(value_type = Option<String>, example = "disability_allowance")]
    pub item: Option<Item>,
    /// Who is paid (Art. 35).
    pub payee: Payee,
    /// The amount, in yuan.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// The day it was approved (for an instalment: the first day of its month).
    pub approved_on: NaiveDate,
    /// Due by (Art. 38: 10 working days after approval; an instalment: the cycle's 20th).
    pub due: NaiveDate,
    /// Its status and attempt, as written on the line (a part's return moves a batched line on:
    /// see [`effective`]).
    pub state: Line,
    /// The account of the current attempt (the full number: only the bank file shows it).
    pub account: Option<PayeeAccount>,
    /// The current attempt's batch and part (`batch#…`'s sort key).
    pub batch: Option<(String, String)>,
    /// Attempts that failed.
    pub failures: Vec<Failure>,
    /// The articles it rests on.
    pub basis: Vec<String>,
}

/// A line as answered: the account masked, the payee's ID number masked, the status as it
/// effectively is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineView {
    /// Id.
    pub id: String,
    /// Source.
    pub source: Source,
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Item.
    #[schema(value_type = Option<String>, example = "disability_allowance")]
    pub item: Option<Item>,
    /// Payee (ID number masked).
    pub payee: Payee,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// Approved on.
    pub approved_on: NaiveDate,
    /// Due by.
    pub due: NaiveDate,
    /// Status, as it effectively is.
    pub status: LineStatus,
    /// Attempts made.
    pub attempt: u32,
    /// The account (masked) of the current attempt.
    pub account: Option<String>,
    /// The batch of the current attempt.
    pub batch: Option<String>,
    /// The day it was paid (the return's day).
    pub paid_on: Option<NaiveDate>,
    /// Attempts that failed.
    pub failures: Vec<Failure>,
}

impl PaymentLine {
    /// The line as answered, given its part (when batched).
    #[must_use]
    pub fn view(&self, part: Option<&Part>) -> LineView {
        let status = effective(self, part);
        let failures = {
            let mut f = self.failures.clone();
            if let (LineStatus::Failed, Some(pt)) = (status, part)
                && let Some(r) = &pt.returned
                && let Some(x) = r.failed.iter().find(|x| x.line == self.id)
                && !f.iter().any(|y| y.attempt == self.state.attempt)
            {
                f.push(Failure {
                    attempt: self.state.attempt,
                    batch: pt.batch.clone(),
                    account: self
                        .account
                        .as_ref()
                        .map(PayeeAccount::masked)
                        .unwrap_or_default(),
                    reason: x.reason.clone(),
                    on: r.on,
                    at: r.at,
                });
            }
            f
        };
        LineView {
            id: self.id.clone(),
            source: self.source.clone(),
            county: self.county,
            item: self.item,
            payee: self.payee.masked(),
            amount: self.amount,
            approved_on: self.approved_on,
            due: self.due,
            status,
            attempt: self.state.attempt,
            account: self.account.as_ref().map(PayeeAccount::masked),
            batch: self.batch.as_ref().map(|(b, _)| b.clone()),
            paid_on: (status == LineStatus::Paid)
                .then(|| part.and_then(|p| p.returned.as_ref()).map(|r| r.on))
                .flatten(),
            failures,
        }
    }
}

/// A line's status as it effectively is: a batched line whose part is returned is paid, or
/// failed when the part lists it.
#[must_use]
pub fn effective(line: &PaymentLine, part: Option<&Part>) -> LineStatus {
    match (line.state.status, part.and_then(|p| p.returned.as_ref())) {
        (LineStatus::Batched, Some(r)) => {
            if r.failed.iter().any(|f| f.line == line.id) {
                LineStatus::Failed
            } else {
                LineStatus::Paid
            }
        }
        (s, _) => s,
    }
}

/// The key of a line.
#[must_use]
pub fn line_key(id: &str) -> Key {
    Key::new(format!("payline#{id}"), "line")
}

pub use swi_payables::payee_partition;

/// The write of a line: create-only when new (`version` none), else conditioned on the version
/// read. Indexed under its payee.
///
/// # Errors
/// Serialization (it does not fail).
pub fn line_op(line: &PaymentLine, payee: &str, version: Option<u64>) -> Result<TxOp, ApiError> {
    let k = line_key(&line.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, line)?
            .with_gsi1(payee, format!("payment#{}#{}", line.approved_on, line.id)),
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// A line's place in its county's queue: why it waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Waiting {
    /// The line.
    pub line: String,
    /// Due by.
    pub due: NaiveDate,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// The payee's name.
    pub payee: String,
    /// Status (`awaiting_account`, `ready` or `failed`).
    pub status: LineStatus,
    /// Why it waits (中文).
    pub reason: String,
}

/// The partition of a county's queue.
#[must_use]
pub fn queue_partition(county: County) -> String {
    format!("payq#{}", county.code())
}

/// The key of a line's place in the queue.
#[must_use]
pub fn queue_key(county: County, due: NaiveDate, line: &str) -> Key {
    Key::new(queue_partition(county), format!("{due}#{line}"))
}

/// The write putting a line in its county's queue (or updating its place).
///
/// # Errors
/// Serialization (it does not fail).
pub fn queue_op(county: County, w: &Waiting) -> Result<TxOp, ApiError> {
    let k = queue_key(county, w.due, &w.line);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, w)?,
        condition: Condition::None,
    })
}

/// What kind of batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchKind {
    /// A day's lump sums, refunds and re-issued lines (Art. 38: within 10 working days).
    Daily,
    /// A month's instalments of periodic benefits (Art. 37: by the 20th).
    Periodic,
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Lines are being put in.
    Filling,
    /// Complete: its bank files can be made and its returns taken.
    Sealed,
    /// Every bank has returned it.
    Returned,
}

/// A bank's share of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BankShare {
    /// Lines.
    pub lines: u64,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// Parts.
    pub parts: u32,
    /// Lines the bank returned paid.
    pub paid_lines: u64,
    /// Amount the bank returned paid.
    #[schema(value_type = String, example = "3500.00")]
    pub paid_amount: Decimal,
    /// Lines the bank returned failed.
    pub failed_lines: u64,
    /// Amount the bank returned failed.
    #[schema(value_type = String, example = "0.00")]
    pub failed_amount: Decimal,
    /// The payment file handed to the bank (its SHA-256), once made.
    pub file: Option<String>,
    /// The return file recorded (its SHA-256).
    pub returned: Option<String>,
    /// The day the return was recorded.
    pub returned_on: Option<NaiveDate>,
}

/// One set of payments handed to the banks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Batch {
    /// `{county}-{YYYYMMDD}-D` (daily) or `{county}-{YYYYMM}-P` (periodic).
    pub id: String,
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Kind.
    pub kind: BatchKind,
    /// The day it was made (a periodic batch: the day its month's run opened).
    pub made_on: NaiveDate,
    /// For a periodic batch, its month.
    pub month: Option<NaiveDate>,
    /// Status.
    pub status: BatchStatus,
    /// By bank.
    pub banks: BTreeMap<Bank, BankShare>,
    /// Parts written.
    pub parts: u32,
    /// Lines.
    pub lines: u64,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// The earliest due date of its lines.
    pub earliest_due: Option<NaiveDate>,
}

impl Batch {
    /// A new, empty batch.
    #[must_use]
    pub fn new(id: String, county: County, kind: BatchKind, made_on: NaiveDate) -> Self {
        Batch {
            id,
            county,
            kind,
            made_on,
            month: None,
            status: BatchStatus::Filling,
            banks: BTreeMap::new(),
            parts: 0,
            lines: 0,
            amount: Decimal::ZERO,
            earliest_due: None,
        }
    }
}

/// The key of a batch.
#[must_use]
pub fn batch_key(id: &str) -> Key {
    Key::new(format!("batch#{id}"), "batch")
}

/// The write of a batch, indexed by county and day.
///
/// # Errors
/// Serialization (it does not fail).
pub fn batch_op(b: &Batch, version: Option<u64>) -> Result<TxOp, ApiError> {
    let k = batch_key(&b.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, b)?.with_gsi1(
            format!("batches#{}", b.county.code()),
            format!("{}#{}", b.made_on, b.id),
        ),
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// One line of a part: what the bank file says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartLine {
    /// The line.
    pub line: String,
    /// Its attempt.
    pub attempt: u32,
    /// The account (full number).
    pub account: String,
    /// The holder.
    pub holder: String,
    /// The branch.
    pub branch: String,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// The item; none for a refund.
    #[schema(value_type = Option<String>, example = "disability_allowance")]
    pub item: Option<Item>,
    /// Due by.
    pub due: NaiveDate,
}

/// A line the bank returned unpaid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unpaid {
    /// The line.
    pub line: String,
    /// The bank's reason.
    pub reason: String,
}

/// The bank's return of a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartReturn {
    /// The day recorded.
    pub on: NaiveDate,
    /// When recorded (China time).
    pub at: NaiveDateTime,
    /// The return file (SHA-256).
    pub file: String,
    /// The lines not paid.
    pub failed: Vec<Unpaid>,
    /// Whether the failed lines have been put back in the queue (done by the return's job
    /// after the part is marked returned).
    pub requeued: bool,
}

/// A bank's lines of a batch, written in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Part {
    /// The batch.
    pub batch: String,
    /// The bank.
    pub bank: Bank,
    /// Its number in the batch.
    pub n: u32,
    /// The lines.
    pub lines: Vec<PartLine>,
    /// The bank's return, once recorded.
    pub returned: Option<PartReturn>,
}

impl Part {
    /// Its sort key in the batch's partition.
    #[must_use]
    pub fn sk(&self) -> String {
        part_sk(self.bank, self.n)
    }

    /// The total of its lines.
    #[must_use]
    pub fn amount(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// The sort key of a part.
#[must_use]
pub fn part_sk(bank: Bank, n: u32) -> String {
    format!("part#{}#{n:06}", bank.code())
}

/// The write of a part: create-only when new, else conditioned on the version read.
///
/// # Errors
/// Serialization (it does not fail).
pub fn part_op(part: &Part, version: Option<u64>) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: StoreItem::new(format!("batch#{}", part.batch), part.sk(), part)?,
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// Loads a part.
///
/// # Errors
/// The store is unavailable.
pub async fn load_part(
    p: &Platform,
    batch: &str,
    sk: &str,
) -> Result<Option<(Part, u64)>, ApiError> {
    match p.state.get(&Key::new(format!("batch#{batch}"), sk)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// Loads a line.
///
/// # Errors
/// The store is unavailable.
pub async fn load_line(p: &Platform, id: &str) -> Result<Option<(PaymentLine, u64)>, ApiError> {
    match p.state.get(&line_key(id)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// Loads a batch.
///
/// # Errors
/// The store is unavailable.
pub async fn load_batch(p: &Platform, id: &str) -> Result<Option<(Batch, u64)>, ApiError> {
    match p.state.get(&batch_key(id)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// A line's view with its part loaded.
///
/// # Errors
/// The store is unavailable.
pub async fn view_of(p: &Platform, line: &PaymentLine) -> Result<LineView, ApiError> {
    let part = match (&line.batch, line.state.status) {
        (Some((b, sk)), LineStatus::Batched) => load_part(p, b, sk).await?.map(|(pt, _)| pt),
        _ => None,
    };
    Ok(line.view(part.as_ref()))
}
