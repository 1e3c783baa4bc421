//! The request bodies of the persons routes, and the check of an enrolment request against the
//! rules before any store is asked (Art. 6-8): names, phone, ID type and check digit, category,
//! wage, eligibility on the start date. The same check serves an enrolment at the window and a
//! declaration's joiner.

use axum::http::StatusCode;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::enrolment::Material;
use swi_platform::ApiError;
use swi_platform::ErrorCode;
use swi_platform::wire;
use swi_rules::ParamSet;
use swi_rules::age::{Person, Track, eligibility};
use swi_rules::category::Category;
use swi_rules::ids::ResidentId;

/// A change to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterChange {
    /// When the change takes effect: RFC 3339 or `YYYY-MM-DDTHH:MM` China time.
    pub effective: String,
    /// New working hours.
    #[serde(default)]
    pub hours: Option<String>,
    /// New place.
    #[serde(default)]
    pub place: Option<String>,
    /// New post and duties.
    #[serde(default)]
    pub duties: Option<String>,
}

/// Enrolment of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolPerson {
    /// Real name.
    pub name: String,
    /// ID type: `resident_id` (居民身份证).
    pub id_type: String,
    /// ID number.
    pub id_number: String,
    /// Mobile phone.
    pub phone: String,
    /// Category (glossary identifier).
    pub category: String,
    /// Declared monthly wage.
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    pub declared_wage: Decimal,
    /// Start (entry into the job).
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub start: NaiveDate,
    /// Retirement track (women over-age: `female_50` or `female_55`).
    #[serde(default)]
    pub track: Option<String>,
    /// Interns: the agreement's end.
    #[serde(default, deserialize_with = "swi_platform::wire::de::opt_date")]
    pub agreement_end: Option<NaiveDate>,
    /// Flexible workers: paying basic pension insurance (Art. 6).
    #[serde(default)]
    pub pays_basic_pension: Option<bool>,
    /// Self-enrolment: the county where the person works.
    #[serde(default)]
    pub county: Option<String>,
}

/// A filed material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileMaterial {
    /// SHA-256 of the uploaded scan.
    pub sha256: String,
}

/// A return with a one-time notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnEnrolment {
    /// Materials filed but not acceptable (they are listed as missing again).
    #[serde(default)]
    pub rejected: Vec<Material>,
    /// Other problems, each a sentence.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// A payment of the premium (until billing records them, Art. 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPayment {
    /// When it was paid: RFC 3339, or `YYYY-MM-DDTHH:MM` China time.
    pub paid_at: String,
}

/// A termination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terminate {
    /// Last day of cover.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub end: NaiveDate,
    /// Why.
    pub reason: String,
}

/// A person's cover history asked by ID number (in the body, so that it stays out of URLs and
/// access logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// ID number.
    pub id_number: String,
}

/// `?on=YYYY-MM-DD`.
#[derive(Debug, Clone, Deserialize)]
pub struct OnDate {
    /// The date (defaults to today in China).
    #[serde(default, deserialize_with = "swi_platform::wire::de::opt_date")]
    pub on: Option<NaiveDate>,
}

/// A person's enrolment request checked against the rules, before any store is asked.
pub struct Checked {
    /// The parsed ID.
    pub id: ResidentId,
    /// The category.
    pub category: Category,
    /// The retirement track given.
    pub track: Option<Track>,
    /// The last day of cover the rules allow, if bounded.
    pub cover_end: Option<NaiveDate>,
}

/// Checks an enrolment request: names, phone, ID type and check digit, category, wage, and
/// eligibility on the start date (Art. 6-8). No store is asked.
///
/// # Errors
/// 400 for malformed fields, 422 for a person the rules do not admit.
pub fn check_request(params: &ParamSet, req: &EnrolPerson) -> Result<Checked, ApiError> {
    wire::name(&req.name, "name")?;
    wire::mobile(&req.phone, "phone")?;
    if req.id_type != "resident_id" {
        return Err(ApiError::invalid(
            "证件类型须为居民身份证（resident_id）",
            "`id_type` must be `resident_id`",
        ));
    }
    let id = ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let category: Category = req.category.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnknownCategory,
            "人员类别不正确",
            format!("unknown category `{}`", wire::clip(&req.category)),
        )
    })?;
    if req.declared_wage.is_sign_negative() || req.declared_wage.scale() > 2 {
        return Err(ApiError::invalid(
            "申报工资须为非负金额，至多两位小数",
            "`declared_wage` must be a non-negative amount with at most 2 decimals",
        ));
    }
    let track = req
        .track
        .as_deref()
        .map(Track::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("退休年龄类别不正确", e))?;
    let person = Person {
        category,
        birth: id.birth(),
        sex: id.sex(),
        track,
        agreement_end: req.agreement_end,
        pays_basic_pension: req.pays_basic_pension,
    };
    if category == Category::Flexible && req.pays_basic_pension != Some(true) {
        return Err(ApiError::refused(
            ErrorCode::NoBasicPension,
            "灵活就业人员须参加基本养老保险（第六条）",
            "a flexible worker must pay basic pension insurance (Art. 6): set pays_basic_pension",
        ));
    }
    let verdict = eligibility(params, &person, req.start)?;
    if let Some(why) = verdict.value.ineligible {
        return Err(ApiError::refused(
            ErrorCode::from(why),
            "不符合该类人员的参保条件（第六条至第八条）",
            why.message(),
        ));
    }
    Ok(Checked {
        id,
        category,
        track,
        cover_end: verdict.value.cover_end,
    })
}
