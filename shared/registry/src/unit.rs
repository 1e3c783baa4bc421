//! Units (参保单位) and their facts in the work-injury scheme (Art. 7, 9-10).
//!
//! A unit may enrol only while it is in the work-injury scheme (Art. 7); those facts — its
//! registration number, industry class and floated band — are recorded here with their source,
//! and the unit's class and band are taken from them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_platform::ErrorCode;
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, TxOp};

use crate::corrupt;

/// A unit's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// Enrolled.
    Active,
    /// Cancelled (Art. 10).
    Cancelled,
}

/// A contact person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Mobile phone number (11 digits).
    pub phone: String,
}

/// The unit's payment account (for benefits paid to the unit, Art. 35).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Bank (开户行).
    pub bank: String,
    /// Account number.
    pub number: String,
    /// Account holder (户名).
    pub holder: String,
}

/// The unit's facts in the work-injury scheme, as recorded here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkInjuryFacts {
    /// Unified social credit code.
    pub code: String,
    /// Name as registered in the work-injury scheme.
    pub name: String,
    /// County code.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Work-injury registration number.
    pub registration_no: String,
    /// Whether the unit is currently insured in the work-injury scheme.
    pub insured: bool,
    /// Industry class 1-8 (Art. 13-14).
    pub industry_class: u32,
    /// Floated rate band (e.g. `1.2`), Art. 13, 15.
    pub rate_band: Decimal,
    /// When the band was decided.
    pub band_decided_on: NaiveDate,
    /// The date the facts are true on.
    pub as_of: NaiveDate,
    /// Where they come from: `clerk:<sub>` or `roster:<sha256>`.
    pub source: String,
    /// The scanned evidence (clerk entry) or the roster file (import).
    pub evidence_sha256: String,
}

/// A unit as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    /// Unified social credit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// County code.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Industry class (from the work-injury facts).
    pub industry_class: u32,
    /// Floated band (from the work-injury facts).
    pub rate_band: Decimal,
    /// Work-injury registration number.
    pub work_injury_no: String,
    /// Payment account.
    pub account: Account,
    /// Contact.
    pub contact: Contact,
    /// Status.
    pub status: UnitStatus,
    /// Registered on (China date).
    pub registered_on: NaiveDate,
    /// Cancelled on, when cancelled.
    pub cancelled_on: Option<NaiveDate>,
    /// Members whose cover the cancellation has ended so far (Art. 10).
    #[serde(default)]
    pub members_ended: usize,
    /// True from the cancellation until every member's cover has been ended by the
    /// cancellation job, a transaction of members at a time.
    #[serde(default)]
    pub ending_members: bool,
    /// True from a move to another county (city level) until the move job has moved every
    /// member's enrolment with it; `members_moved` counts them.
    #[serde(default)]
    pub moving_members: bool,
    /// Members whose enrolment the move has moved so far.
    #[serde(default)]
    pub members_moved: usize,
    /// Floated bands decided by yearly re-ratings, each from its effective date (Art. 13, 15);
    /// before the first, `rate_band` as registered (which a re-rating never overwrites, so that
    /// a month before it is billed on the band then in force).
    #[serde(default)]
    pub band_history: Vec<DatedBand>,
}

/// A floated band in force from a date (Art. 15: 补充工伤保险费率浮动与工伤保险费率浮动应同步进行).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DatedBand {
    /// In force from.
    pub from: NaiveDate,
    /// The band (e.g. `1.2`).
    pub band: Decimal,
    /// Where it comes from (the work-injury side's re-rating, or a re-check's decision).
    pub source: String,
    /// When it was recorded here.
    pub recorded_on: NaiveDate,
}

impl Unit {
    /// The floated band in force on `on`: the latest re-rating from on or before it, else the
    /// band registered.
    #[must_use]
    pub fn band_on(&self, on: NaiveDate) -> Decimal {
        self.band_history
            .iter()
            .filter(|b| b.from <= on)
            .max_by_key(|b| b.from)
            .map_or(self.rate_band, |b| b.band)
    }
}

/// The key of a unit's profile.
#[must_use]
pub fn unit_key(code: &str) -> Key {
    Key::new(format!("unit#{code}"), "profile")
}

/// The key of a unit's work-injury facts.
#[must_use]
pub fn facts_key(code: &str) -> Key {
    Key::new(format!("wi#{code}"), "facts")
}

/// The index partition of the work-injury facts recorded for a county's units: how supervision
/// finds units of the scheme that are not enrolled here (Art. 42).
#[must_use]
pub fn facts_partition(county: County) -> String {
    format!("wi-units#{county}")
}

/// The operation writing a unit's work-injury facts under `condition`, indexed by county.
///
/// # Errors
/// Serialization (it does not fail).
pub fn facts_put(facts: &WorkInjuryFacts, condition: Condition) -> Result<TxOp, ApiError> {
    let k = facts_key(&facts.code);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, facts)?
            .with_gsi1(facts_partition(facts.county), facts.code.clone()),
        condition,
    })
}

/// The audit case of a unit (its facts' changes are audited there too).
#[must_use]
pub fn unit_case(code: &str) -> String {
    format!("unit#{code}")
}

/// Loads a unit and its version, or 404.
///
/// # Errors
/// 404 when no such unit; 503 when the store is unavailable.
pub async fn load_unit(p: &Platform, code: &str) -> Result<(Unit, u64), ApiError> {
    let item = p.state.get(&unit_key(code)).await?.ok_or_else(|| {
        ApiError::not_found(
            "未找到该参保单位",
            format!("no unit {} is registered", swi_platform::wire::clip(code)),
        )
    })?;
    let unit: Unit = item.body().map_err(|e| corrupt(&e))?;
    Ok((unit, item.version))
}

/// Loads a unit's work-injury facts and their version, if recorded.
///
/// # Errors
/// 503 when the store is unavailable.
pub async fn load_facts(
    p: &Platform,
    code: &str,
) -> Result<Option<(WorkInjuryFacts, u64)>, ApiError> {
    p.state
        .get(&facts_key(code))
        .await?
        .map(|item| Ok((item.body().map_err(|e| corrupt(&e))?, item.version)))
        .transpose()
}

/// The operation writing a unit's profile under `condition` (indexed by county).
///
/// # Errors
/// Serialization (it does not fail).
pub fn unit_put(unit: &Unit, condition: Condition) -> Result<TxOp, ApiError> {
    let k = unit_key(&unit.code);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, unit)?
            .with_gsi1(format!("units#{}", unit.county), unit.code.clone()),
        condition,
    })
}

/// The check that conditions a transaction adding cover on the unit staying as read (active,
/// at `version`): a cancellation committed meanwhile fails the transaction (Art. 10).
///
/// # Errors
/// 409 `unit_cancelled` when it is cancelled already.
pub fn active_check(unit: &Unit, version: u64) -> Result<TxOp, ApiError> {
    if unit.status == UnitStatus::Cancelled {
        return Err(ApiError::conflict(
            ErrorCode::UnitCancelled,
            "该单位已注销，不能新增参保（第十条）",
            "the unit is cancelled and takes no new cover (Art. 10)",
        ));
    }
    Ok(TxOp::Check {
        key: unit_key(&unit.code),
        condition: Condition::VersionIs(version),
    })
}
