//! The risk rules (风险提示规则, Art. 42-44, 38, 48): each a named rule with its article, the day
//! its present version applies from, what it looks at, and its thresholds — parameters of the
//! rules crate with their status (`supervision.*`, `assumed` until the supervision plan confirms
//! them). A rule's finding ([`Flag`]) becomes an alert in the supervisor's queue, once per rule
//! and subject.
//!
//! `GET /api/alerts/rules` lists them with the thresholds in force on a day.

use axum::extract::{Query, State};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::alerts::{Alert, AlertStatus};
use swi_platform::auth::Authenticated;
use swi_platform::{ApiError, Platform};
use swi_rules::ParamSet;
use swi_rules::ids::County;

/// The closed set of risk rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// A unit insured in the work-injury scheme but not enrolled here (Art. 42, 7).
    UnitNotEnrolled,
    /// One person enrolled by two holders for overlapping periods (Art. 42).
    EnrolmentOverlap,
    /// A wage declared below the contribution floor (Art. 48: the unit makes up the difference).
    WageBelowBase,
    /// An injury soon after cover started (Art. 43).
    ClaimSoonAfterCover,
    /// One invoice number in two claims (Art. 43).
    InvoiceReused,
    /// Fees out of line with the injury or the catalogues (Art. 43).
    FeesOutOfLine,
    /// Treatment at an institution outside the agreement without approval (Art. 43, 23, 49).
    NonAgreementTreatment,
    /// Several payees sharing one bank account (Art. 43, 35).
    SharedPayeeAccount,
    /// A review step done out of office hours (Art. 44).
    StepOutOfHours,
    /// Two review steps of one claim within minutes of each other (Art. 44, 5).
    StepsTooQuick,
    /// A refused attempt at a second step of one case (Art. 44, 5, 34).
    DutiesRefused,
    /// A payment past its 10-working-day term (Art. 38): raised by the payment step's daily run.
    PaymentOverdue,
}

/// A rule as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleView {
    /// The rule (`invoice_reused`), the alerts' `kind`.
    pub id: RuleId,
    /// The version: the day it applies from.
    #[schema(value_type = String, example = "2025-01-01")]
    pub since: NaiveDate,
    /// The article.
    pub basis: String,
    /// What it looks for (中文).
    pub zh: String,
    /// What it looks for (English).
    pub en: String,
    /// When it runs.
    pub runs: String,
    /// Its thresholds on the day asked, each with its status.
    pub thresholds: Vec<Threshold>,
}

/// A rule's threshold as in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Threshold {
    /// The parameter.
    pub name: String,
    /// Its value on the day (none while pending).
    pub value: Option<String>,
    /// `confirmed`, `secondary`, `assumed` or `pending`.
    pub status: String,
}

impl RuleId {
    /// Every rule.
    pub const ALL: [RuleId; 12] = [
        RuleId::UnitNotEnrolled,
        RuleId::EnrolmentOverlap,
        RuleId::WageBelowBase,
        RuleId::ClaimSoonAfterCover,
        RuleId::InvoiceReused,
        RuleId::FeesOutOfLine,
        RuleId::NonAgreementTreatment,
        RuleId::SharedPayeeAccount,
        RuleId::StepOutOfHours,
        RuleId::StepsTooQuick,
        RuleId::DutiesRefused,
        RuleId::PaymentOverdue,
    ];

    /// Its identifier, the alerts' `kind`.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            RuleId::UnitNotEnrolled => "unit_not_enrolled",
            RuleId::EnrolmentOverlap => "enrolment_overlap",
            RuleId::WageBelowBase => "wage_below_base",
            RuleId::ClaimSoonAfterCover => "claim_soon_after_cover",
            RuleId::InvoiceReused => "invoice_reused",
            RuleId::FeesOutOfLine => "fees_out_of_line",
            RuleId::NonAgreementTreatment => "non_agreement_treatment",
            RuleId::SharedPayeeAccount => "shared_payee_account",
            RuleId::StepOutOfHours => "step_out_of_hours",
            RuleId::StepsTooQuick => "steps_too_quick",
            RuleId::DutiesRefused => "duties_refused",
            RuleId::PaymentOverdue => "payment_overdue",
        }
    }

    /// The day its present version applies from.
    #[must_use]
    pub fn since(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
    }

    /// The article it rests on.
    #[must_use]
    pub const fn basis(self) -> &'static str {
        match self {
            RuleId::UnitNotEnrolled | RuleId::EnrolmentOverlap => "Art. 42",
            RuleId::WageBelowBase => "Art. 48",
            RuleId::ClaimSoonAfterCover
            | RuleId::InvoiceReused
            | RuleId::FeesOutOfLine
            | RuleId::NonAgreementTreatment
            | RuleId::SharedPayeeAccount => "Art. 43",
            RuleId::StepOutOfHours | RuleId::StepsTooQuick | RuleId::DutiesRefused => "Art. 44",
            RuleId::PaymentOverdue => "Art. 38",
        }
    }

    /// What it looks for, in Chinese and in English.
    #[must_use]
    pub const fn says(self) -> (&'static str, &'static str) {
        match self {
            RuleId::UnitNotEnrolled => (
                "已参加工伤保险的单位超过期限未参加补充工伤保险",
                "a unit insured in the work-injury scheme is not enrolled here after the term",
            ),
            RuleId::EnrolmentOverlap => (
                "同一人员在两个参保单位（或单位与个人）参保期间重叠",
                "one person is enrolled by two holders for overlapping periods",
            ),
            RuleId::WageBelowBase => (
                "申报工资低于缴费基数下限：少报工资致待遇降低的，差额由用人单位补足（第四十八条）",
                "a declared wage below the contribution floor: benefits lost to it are made up by the unit (Art. 48)",
            ),
            RuleId::ClaimSoonAfterCover => (
                "参保后短期内发生工伤并申领待遇",
                "an injury soon after cover started, now claimed",
            ),
            RuleId::InvoiceReused => (
                "同一票据号出现在两个待遇申领中",
                "one invoice number in two claims",
            ),
            RuleId::FeesOutOfLine => (
                "费用与伤情或目录不符：伤前票据、目录外费用占比过高或显著高于同部位",
                "fees out of line: dated before the injury, too much outside the catalogues, or far above the same body part's",
            ),
            RuleId::NonAgreementTreatment => (
                "在非协议机构就医且无急诊或转诊批准",
                "treatment outside the agreement institutions without an emergency or an approved transfer",
            ),
            RuleId::SharedPayeeAccount => (
                "多个收款人使用同一银行账户",
                "several payees share one bank account",
            ),
            RuleId::StepOutOfHours => (
                "审核环节在办公时间以外办理",
                "a review step done out of office hours",
            ),
            RuleId::StepsTooQuick => (
                "同一申领的两个审核环节相隔过短",
                "two review steps of one claim minutes apart",
            ),
            RuleId::DutiesRefused => (
                "有人试图办理同一业务的第二个环节（已被拒绝）",
                "someone tried to take a second step of one case (refused)",
            ),
            RuleId::PaymentOverdue => (
                "待遇核定后超过10个工作日未支付",
                "a benefit not paid within 10 working days of approval",
            ),
        }
    }

    /// When it runs.
    #[must_use]
    pub const fn runs(self) -> &'static str {
        match self {
            RuleId::UnitNotEnrolled => "nightly (risk-sweep), once the term has passed",
            RuleId::PaymentOverdue => "daily, with the payment batch (payment-batch)",
            _ => "on every change it concerns (risk-watch), and nightly (risk-sweep)",
        }
    }

    /// Its thresholds (parameters of the rules crate).
    #[must_use]
    pub const fn thresholds(self) -> &'static [&'static str] {
        match self {
            RuleId::UnitNotEnrolled => &["supervision.unit_enrol_grace_days"],
            RuleId::WageBelowBase => &["base.floor_ratio", "average_wage.jiangxi"],
            RuleId::ClaimSoonAfterCover => &["supervision.claim_after_cover_days"],
            RuleId::FeesOutOfLine => &[
                "supervision.out_of_catalogue_share",
                "supervision.fee_outlier_multiple",
                "supervision.fee_outlier_min_claims",
            ],
            RuleId::StepOutOfHours => &[
                "supervision.office_opens_hour",
                "supervision.office_closes_hour",
            ],
            RuleId::StepsTooQuick => &["supervision.steps_min_minutes"],
            RuleId::PaymentOverdue => &["term.payment_working_days"],
            _ => &[],
        }
    }
}

/// A threshold's value on `on`.
///
/// # Errors
/// 422 not in force or pending (the rule cannot run until the city sets it).
pub fn threshold(params: &ParamSet, name: &str, on: NaiveDate) -> Result<Decimal, ApiError> {
    match params.value_on(name, on)?.value {
        swi_rules::params::Value::Scalar(d) => Ok(*d),
        swi_rules::params::Value::List(_) => Err(ApiError::internal(&format!(
            "{name} is a list, not a threshold"
        ))),
    }
}

/// What a rule found about a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    /// The rule.
    pub rule: RuleId,
    /// What makes it one alert (with the rule: the alert's id), never personal data.
    pub key: String,
    /// The case it is about.
    pub subject: String,
    /// The county (none: the city's).
    pub county: Option<County>,
    /// The figures and facts found.
    pub evidence: Value,
    /// Every case it concerns, the subject first.
    pub links: Vec<String>,
    /// What it says (中文, English).
    pub says: (String, String),
}

impl Flag {
    /// The alert it raises.
    #[must_use]
    pub fn alert(self, p: &Platform) -> Alert {
        let (zh, en) = self.says;
        Alert {
            id: format!("{}:{}", self.rule.id(), self.key),
            kind: self.rule.id().into(),
            subject: self.subject,
            county: self.county,
            evidence: self.evidence,
            raised_by: format!("rule:{}", self.rule.id()),
            raised_at: p.clock.now(),
            status: AlertStatus::Open,
            zh,
            en,
            rule: Some(format!("{}@{}", self.rule.id(), self.rule.since())),
            basis: Some(self.rule.basis().into()),
            links: self.links,
            ..Alert::default()
        }
    }
}

/// `?on=`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct On {
    /// The day whose thresholds to show; default today.
    #[serde(default)]
    pub on: Option<NaiveDate>,
}

/// `GET /api/alerts/rules`: the risk rules, each with its article, version, when it runs and
/// its thresholds in force (with their status).
///
/// # Errors
/// 403 not a supervisor or agency officer.
#[utoipa::path(get, path = "/api/alerts/rules", tag = "supervision", params(On),
    responses((status = 200, description = "the rules", body = [RuleView]),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn rules(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<On>,
) -> Result<axum::Json<Vec<RuleView>>, ApiError> {
    actor.may(Action::ReadAlerts, None, Owner::Nobody)?;
    let on = q.on.unwrap_or_else(|| p.clock.today());
    let params = p.params().await?;
    Ok(axum::Json(
        RuleId::ALL
            .iter()
            .map(|r| {
                let (zh, en) = r.says();
                RuleView {
                    id: *r,
                    since: r.since(),
                    basis: r.basis().to_owned(),
                    zh: zh.to_owned(),
                    en: en.to_owned(),
                    runs: r.runs().to_owned(),
                    thresholds: r
                        .thresholds()
                        .iter()
                        .map(|name| match params.value_on(name, on) {
                            Ok(f) => Threshold {
                                name: (*name).to_owned(),
                                value: Some(f.value.to_string()),
                                status: f.entry.status.as_str().to_owned(),
                            },
                            Err(_) => Threshold {
                                name: (*name).to_owned(),
                                value: None,
                                status: "pending".into(),
                            },
                        })
                        .collect(),
                }
            })
            .collect(),
    ))
}
