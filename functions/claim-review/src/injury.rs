//! The injury a claim rests on (工伤（职业伤害）认定, Art. 25-32), as stored: who, what covered
//! them on the day, the recognition, the paid-leave period, the appraisal, the death, the insured
//! wage (Art. 48), the injury's dossier of materials shared by all its claims (Art. 33), and what
//! its approved claims granted so far (the caps and the once-only items count across them).
//!
//! Keys: `injury#{id}/profile`, indexed in the person index (`person#{key}`, sort `injury#…`), so
//! a person's injuries are found by person key; the id is derived from the recognition's decision
//! number, so one decision is recorded once.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::claim::ClaimMaterial;
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::person_partition;
use swi_rules::benefits::Item;
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, Item as StoreItem, Key, TxOp};

/// Accident or occupational disease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InjuryKind {
    /// 事故伤害.
    Accident,
    /// 职业病.
    OccupationalDisease,
}

/// What covered the person on the day of the injury.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoveredBy {
    /// An enrolment (with a unit, or self-enrolled).
    Enrolment {
        /// The enrolment.
        id: String,
        /// Its unit, if any.
        unit: Option<String>,
        /// The self-enrolled owner's subject, if any.
        owner: Option<String>,
    },
    /// A construction project's worker registration (Art. 11-12, 48).
    Project {
        /// The project.
        id: String,
        /// The contractor unit.
        unit: String,
    },
}

impl CoveredBy {
    /// The unit, when one holds the cover.
    #[must_use]
    pub fn unit(&self) -> Option<&str> {
        match self {
            CoveredBy::Enrolment { unit, .. } => unit.as_deref(),
            CoveredBy::Project { unit, .. } => Some(unit),
        }
    }
}

/// The recognition decision (工伤（职业伤害）认定书).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recognition {
    /// The decision's number.
    pub decision_number: String,
    /// The day it was decided.
    pub decided_on: NaiveDate,
    /// The day of the accident or of the diagnosis of the disease.
    pub injured_on: NaiveDate,
    /// Accident or occupational disease.
    pub kind: InjuryKind,
    /// The body part injured (受伤部位), which fees are checked against (Art. 34).
    pub body_part: String,
    /// The scan.
    pub sha256: String,
}

/// The paid-leave period (停工留薪期).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaidLeave {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// The scan that sets it.
    pub sha256: String,
}

/// The disability appraisal (劳动能力鉴定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Appraisal {
    /// Grade 1-10 (伤残等级).
    pub grade: u32,
    /// Care level 1-3 (生活自理障碍等级), if any.
    pub care_level: Option<u32>,
    /// The day of the conclusion.
    pub appraised_on: NaiveDate,
    /// The appraisal committee (省、市劳动能力鉴定委员会).
    pub committee: String,
    /// The scan of the conclusion.
    pub sha256: String,
}

/// A death.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Death {
    /// The day of death.
    pub died_on: NaiveDate,
    /// Within the paid-leave period (Art. 32).
    pub within_paid_leave: bool,
    /// The death certificate's scan.
    pub sha256: String,
}

/// The insured wage of the injury (Art. 48), fixed when the injury is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InsuredWage {
    /// The amount, rounded half-up to the fen.
    #[schema(value_type = String, example = "5000.00")]
    pub amount: Decimal,
    /// Months averaged (0 when the project default applied).
    pub months_used: u32,
    /// Where the months came from (`declared_wages`, later the paid months).
    pub source: String,
    /// The figures used that are not confirmed.
    pub assumptions: Vec<swi_payables::ParameterUsed>,
}

/// An injury.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Injury {
    /// Id (`i-…`).
    pub id: String,
    /// Real name.
    pub name: String,
    /// ID number (answered masked).
    pub id_number: String,
    /// Opaque person key; kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// Category of the person on the day (glossary identifier; a project's workers are
    /// ordinary insured, `employee`, their project being in the work-injury scheme).
    #[schema(value_type = String, example = "platform_food_delivery")]
    pub category: Category,
    /// County of the cover.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// What covered the person on the day.
    pub covered_by: CoveredBy,
    /// The recognition.
    pub recognition: Recognition,
    /// The paid-leave period, once recorded.
    pub paid_leave: Option<PaidLeave>,
    /// The appraisal, once recorded.
    pub appraisal: Option<Appraisal>,
    /// The death, if recorded.
    pub death: Option<Death>,
    /// The day the person reaches the legal retirement age, when known (Art. 29).
    pub retirement_on: Option<NaiveDate>,
    /// The insured wage (Art. 48).
    pub insured_wage: InsuredWage,
    /// The injury's dossier: material → SHA-256, shared by its claims (Art. 33).
    pub materials: BTreeMap<ClaimMaterial, String>,
    /// What approved claims granted, by item (lump sums in yuan; monthly items their monthly
    /// amount): the caps and the once-only items count across claims (Art. 26, 29-32).
    #[schema(value_type = BTreeMap<String, String>)]
    pub granted: BTreeMap<Item, Decimal>,
    /// Once-only items claimed by an open claim: item → claim (a second claim of the item waits
    /// for that one's decision).
    #[schema(value_type = BTreeMap<String, String>)]
    pub reserved: BTreeMap<Item, String>,
    /// Invoice numbers already relied on by this injury's claims (never paid twice).
    pub invoices: Vec<String>,
    /// Its claims, oldest first.
    pub claims: Vec<String>,
    /// Recorded by (display name) and when.
    pub recorded_by: String,
    /// When.
    pub recorded_at: NaiveDateTime,
}

impl Injury {
    /// As answered: the ID number masked, the person key left out.
    #[must_use]
    pub fn masked(&self) -> Self {
        let mut i = self.clone();
        i.person = String::new();
        i.id_number = swi_registry::masked_id(&self.id_number);
        i
    }
}

/// The key of an injury.
#[must_use]
pub fn injury_key(id: &str) -> Key {
    Key::new(format!("injury#{id}"), "profile")
}

/// The audit case of an injury.
#[must_use]
pub fn injury_case(id: &str) -> String {
    format!("injury#{id}")
}

/// The id of the injury a decision number recognises.
#[must_use]
pub fn injury_id(decision_number: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(decision_number.trim().as_bytes());
    format!("i-{}", &hex::encode(digest)[..16])
}

/// The write of an injury under `condition`, indexed by person.
///
/// # Errors
/// Serialization (it does not fail).
pub fn injury_put(i: &Injury, condition: Condition) -> Result<TxOp, ApiError> {
    let k = injury_key(&i.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, i)?.with_gsi1(
            person_partition(&i.person),
            format!("injury#{}#{}", i.recognition.injured_on, i.id),
        ),
        condition,
    })
}

/// Loads an injury and its version, or 404.
///
/// # Errors
/// 404 unknown; 503 the store is unavailable.
pub async fn load_injury(p: &Platform, id: &str) -> Result<(Injury, u64), ApiError> {
    let item = p.state.get(&injury_key(id)).await?.ok_or_else(|| {
        ApiError::not_found(
            "未找到该工伤认定记录",
            format!("no injury {}", swi_platform::wire::clip(id)),
        )
    })?;
    Ok((
        item.body().map_err(|e| ApiError::internal(&e))?,
        item.version,
    ))
}

/// The audit event of a change to an injury.
#[must_use]
pub fn audit(id: &str, command: &str, change: serde_json::Value) -> Audit {
    Audit {
        case: injury_case(id),
        command: command.into(),
        change,
    }
}

/// The class of records a claim material is kept in (Art. 45): recognition GS06, appraisal
/// GS07, death and dependants GS08, the rest of a claim's materials — bills, medical records,
/// transfers — GS09 (medical benefit assessment).
#[must_use]
pub fn archive_class(m: swi_domain::claim::ClaimMaterial) -> swi_archive::retention::RecordClass {
    use swi_archive::retention::RecordClass;
    use swi_domain::claim::ClaimMaterial as M;
    match m {
        M::Recognition => RecordClass::InjuryRecognition,
        M::Appraisal => RecordClass::DisabilityAppraisal,
        M::DeathCertificate
        | M::CremationCertificate
        | M::DeathInPaidLeave
        | M::DependantProof
        | M::RelationshipEnded
        | M::CivilJudgment => RecordClass::DisabilityDeathBenefits,
        M::Receipts
        | M::FeeList
        | M::Diagnosis
        | M::MedicalRecords
        | M::RehabilitationPlan
        | M::FundSettlement
        | M::DischargeSummary
        | M::TransferApproval
        | M::AdvancePaymentProof => RecordClass::MedicalBenefits,
    }
}

/// The class of records a claim's forms are kept in: GS08 when it claims a disability or death
/// benefit (Art. 27-32), GS09 otherwise (medical and rehabilitation, Art. 25-26).
#[must_use]
pub fn claim_class(items: &[swi_rules::benefits::Item]) -> swi_archive::retention::RecordClass {
    use swi_rules::benefits::Item as I;
    let disability_or_death = items.iter().any(|i| {
        matches!(
            i,
            I::DisabilityAllowance
                | I::LivingCare
                | I::DependantPension
                | I::OneTimeDisability
                | I::OneTimeMedical
                | I::OneTimeEmployment
                | I::OneTimeDeath
                | I::Funeral
        )
    });
    if disability_or_death {
        swi_archive::retention::RecordClass::DisabilityDeathBenefits
    } else {
        swi_archive::retention::RecordClass::MedicalBenefits
    }
}
