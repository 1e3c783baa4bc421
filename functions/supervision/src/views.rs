//! What the risk rules read of other steps' records, as those steps store them: the claim
//! (`claim#<id>` / `profile`), its injury (`injury#<id>` / `profile`) and a payment line
//! (`payline#<id>` / `line`). Supervision never writes them and never links the steps' crates:
//! it reads the stored JSON through these views, each field it needs required (a record that no
//! longer reads so fails the rule's run, and shows, instead of passing in silence); what it does
//! not need is ignored. Units, enrolments, schedules and accounts are read through their shared
//! crates (`swi_registry`, `swi_payables`).

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Deserialize;
use swi_domain::duties::Performed;
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::Key;

/// A claim, as claim review stores it.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimView {
    /// Id (`c-…`).
    pub id: String,
    /// Its injury's id.
    pub injury: String,
    /// County.
    pub county: County,
    /// The unit holding the cover.
    pub unit: Option<String>,
    /// The person's category.
    pub category: String,
    /// The items claimed.
    pub items: Vec<String>,
    /// Status (`submitted`, `first_review`, `approved`, …).
    pub status: String,
    /// Who did which review step.
    pub steps: Vec<Performed>,
    /// Submitted (China time).
    pub submitted_at: NaiveDateTime,
    /// Handling's record.
    pub handling: Option<HandlingView>,
    /// The first review's facts.
    pub review: Option<ReviewView>,
    /// The assessment (first review on).
    pub assessment: Option<AssessmentView>,
    /// On approval.
    pub approval: Option<DecidedView>,
    /// On rejection.
    pub rejection: Option<DecidedView>,
}

/// The assessment: what each item comes to.
#[derive(Debug, Clone, Deserialize)]
pub struct AssessmentView {
    /// The items.
    pub items: Vec<AssessedView>,
    /// The lump sums in all.
    pub lump_sum_total: Decimal,
}

/// An assessed item.
#[derive(Debug, Clone, Deserialize)]
pub struct AssessedView {
    /// The item.
    pub item: String,
    /// Its amount (a lump sum, or a month of a periodic item), when granted.
    pub amount: Option<Decimal>,
    /// A monthly item.
    pub monthly: bool,
}

/// A decision's day.
#[derive(Debug, Clone, Deserialize)]
pub struct DecidedView {
    /// The day.
    pub on: NaiveDate,
}

/// Handling's record: its finding on treatment outside the agreement institutions.
#[derive(Debug, Clone, Deserialize)]
pub struct HandlingView {
    /// `emergency`, `approved`, `unapproved` or none.
    pub transfer: Option<String>,
}

/// The first review's facts: its fee lines.
#[derive(Debug, Clone, Deserialize)]
pub struct ReviewView {
    /// Every fee line as judged.
    pub fee_lines: Vec<FeeLineView>,
}

/// A fee line as judged.
#[derive(Debug, Clone, Deserialize)]
pub struct FeeLineView {
    /// The item (`medical`, `out_of_catalogue`, …).
    pub item: String,
    /// The invoice number.
    pub invoice_number: String,
    /// The provider.
    pub provider: String,
    /// A work-injury agreement institution.
    pub agreement_institution: bool,
    /// The day of the fee.
    pub date: NaiveDate,
    /// The amount invoiced.
    pub amount: Decimal,
    /// `within` or `outside` the catalogues.
    pub catalogue: String,
    /// The amount allowed.
    pub allowed: Decimal,
}

/// An injury, as claim review stores it.
#[derive(Debug, Clone, Deserialize)]
pub struct InjuryView {
    /// Id.
    pub id: String,
    /// County.
    pub county: County,
    /// What covered the person on the day.
    pub covered_by: CoveredByView,
    /// The recognition.
    pub recognition: RecognitionView,
}

/// What covered the person: an enrolment or a construction project.
#[derive(Debug, Clone, Deserialize)]
pub struct CoveredByView {
    /// `enrolment` or `project`.
    pub kind: String,
    /// The enrolment's or project's id.
    pub id: String,
}

/// The recognition's facts the rules read.
#[derive(Debug, Clone, Deserialize)]
pub struct RecognitionView {
    /// The day of the injury.
    pub injured_on: NaiveDate,
    /// The body part recorded.
    pub body_part: String,
}

/// A payment line: its payee.
#[derive(Debug, Clone, Deserialize)]
pub struct PaylineView {
    /// The payee.
    pub payee: swi_payables::Payee,
    /// County.
    pub county: County,
}

/// A stored record, if there is one, as `T`.
///
/// # Errors
/// The store is unavailable, or the record does not read as `T`.
pub async fn record<T: serde::de::DeserializeOwned>(
    p: &Platform,
    key: &Key,
) -> Result<Option<T>, ApiError> {
    p.state
        .get(key)
        .await?
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// A claim, if stored.
///
/// # Errors
/// The store is unavailable, or the record no longer reads.
pub async fn claim(p: &Platform, id: &str) -> Result<Option<ClaimView>, ApiError> {
    record(p, &Key::new(format!("claim#{id}"), "profile")).await
}

/// An injury, if stored.
///
/// # Errors
/// As [`claim`].
pub async fn injury(p: &Platform, id: &str) -> Result<Option<InjuryView>, ApiError> {
    record(p, &Key::new(format!("injury#{id}"), "profile")).await
}

/// A payment line, if stored.
///
/// # Errors
/// As [`claim`].
pub async fn payline(p: &Platform, id: &str) -> Result<Option<PaylineView>, ApiError> {
    record(p, &Key::new(format!("payline#{id}"), "line")).await
}
