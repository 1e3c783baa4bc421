//! What the review posts record (Art. 23, 34), and the checks those records must pass before the
//! rules see them: handling's confirmation and findings; the first review's fee lines with a
//! verdict each, stays, days, dependants and opinion; the re-review's confirmation or deductions.
//! Every amount is a plain decimal, every date a bounded date, every list and text bounded.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_platform::wire;
use swi_platform::{ApiError, ErrorCode};
use swi_rules::benefits::Item;
use swi_rules::ids::ResidentId;

use crate::injury::Injury;

/// The most fee lines one claim carries.
pub const MAX_FEE_LINES: usize = 500;
/// The most stays, dependants or deductions one record carries.
pub const MAX_ENTRIES: usize = 50;
/// The longest opinion or reason, in characters.
pub const MAX_TEXT: usize = 2000;

/// A finding of handling about treatment outside the agreement institutions (Art. 23: 除情况紧急
/// 外，未经承办机构同意…自行转入其他医疗机构…所发生的费用，补充工伤保险资金不予支付).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferFinding {
    /// An emergency: the nearest institution was used (Art. 24); its fees may be allowed.
    Emergency,
    /// The contractor approved the transfer; its fees may be allowed.
    Approved,
    /// Neither: fees at institutions outside the agreement are not paid.
    Unapproved,
}

/// Handling's record (承办, Art. 34 (一)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    /// The identity of the person checked against the records.
    pub identity_confirmed: bool,
    /// Contributions checked in the system.
    pub contributions_confirmed: bool,
    /// Recognition and appraisal match the person and each other.
    pub recognition_consistent: bool,
    /// For treatment outside the agreement institutions: the finding (Art. 23).
    #[serde(default)]
    pub transfer: Option<TransferFinding>,
    /// The scan that proves the finding (required with a finding).
    #[serde(default)]
    pub transfer_evidence: Option<String>,
    /// Notes.
    #[serde(default)]
    pub note: Option<String>,
}

/// The catalogue verdict of a fee line (三目录, Art. 25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Catalogue {
    /// Within the three catalogues.
    Within,
    /// Outside them (the out-of-catalogue item's fees).
    Outside,
}

/// One fee line, as the first review judged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeLine {
    /// The item the fee belongs to (`medical`, `rehabilitation`, `out_of_catalogue`,
    /// `travel_lodging`, `assistive_device`).
    #[schema(value_type = String, example = "out_of_catalogue")]
    pub item: Item,
    /// The invoice number (票据号).
    pub invoice_number: String,
    /// The provider.
    pub provider: String,
    /// The provider is a work-injury agreement institution (Art. 49).
    pub agreement_institution: bool,
    /// The day of the fee.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-03-02")]
    pub date: NaiveDate,
    /// The amount invoiced.
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    #[schema(value_type = String, example = "1200.00")]
    pub amount: Decimal,
    /// The catalogue verdict.
    pub catalogue: Catalogue,
    /// The amount allowed (at most the amount).
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub allowed: Decimal,
    /// Why less than the amount is allowed (required then).
    #[serde(default)]
    pub deduction_reason: Option<String>,
}

/// A hospital stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StayIn {
    /// Admitted.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-03-01")]
    pub admitted: NaiveDate,
    /// Discharged.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-03-15")]
    pub discharged: NaiveDate,
}

/// A dependant's relation (Art. 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// 配偶.
    Spouse,
    /// Another dependant (子女、父母…).
    Other,
}

/// A dependant entitled to a pension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependantIn {
    /// Name.
    pub name: String,
    /// Resident ID number (answered masked).
    #[serde(default)]
    pub id_number: Option<String>,
    /// Relation.
    pub relation: Relation,
    /// An orphan or a lone elder (uplift).
    #[serde(default)]
    pub orphan_or_lone_elder: bool,
}

/// The first review's facts and opinion (初审, Art. 34 (二)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewFacts {
    /// Every fee line, judged.
    #[serde(default)]
    pub fee_lines: Vec<FeeLine>,
    /// Hospital stays (nursing subsidy, Art. 26).
    #[serde(default)]
    pub stays: Vec<StayIn>,
    /// Days in hospital (hospital food).
    #[serde(default)]
    pub hospital_days: Option<u32>,
    /// Treated outside the pooling area (hospital food).
    #[serde(default)]
    pub outside_area: bool,
    /// Days away (travel and lodging).
    #[serde(default)]
    pub travel_days: Option<u32>,
    /// Paid by the work-injury fund for the same fees (Art. 25).
    #[serde(default, deserialize_with = "opt_amount")]
    #[schema(value_type = Option<String>)]
    pub paid_by_work_injury_fund: Option<Decimal>,
    /// Medical fees a civil judgment awards (Art. 28).
    #[serde(default, deserialize_with = "opt_amount")]
    #[schema(value_type = Option<String>)]
    pub judgment_medical: Option<Decimal>,
    /// The catalogue's standard for the assistive device.
    #[serde(default, deserialize_with = "opt_amount")]
    #[schema(value_type = Option<String>)]
    pub device_standard: Option<Decimal>,
    /// Months of paid leave counted for the wage subsidy.
    #[serde(default, deserialize_with = "opt_amount")]
    #[schema(value_type = Option<String>)]
    pub paid_leave_months: Option<Decimal>,
    /// Dependants (dependants' pension).
    #[serde(default)]
    pub dependants: Vec<DependantIn>,
    /// The first-review opinion.
    pub opinion: String,
}

fn opt_amount<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "swi_platform::wire::de::amount")] Decimal);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

/// A deduction the re-review makes on a fee line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deduction {
    /// The invoice number of the line.
    pub invoice_number: String,
    /// The amount now allowed (less than before).
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    #[schema(value_type = String)]
    pub allowed: Decimal,
    /// Why.
    pub reason: String,
}

/// The re-review's record (复核, Art. 34 (三)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReReview {
    /// Deductions on fee lines (none: the first review is confirmed).
    #[serde(default)]
    pub deductions: Vec<Deduction>,
    /// The re-review opinion.
    pub opinion: String,
}

/// A bounded free text.
///
/// # Errors
/// 400 naming the field.
pub fn text(v: &str, field: &str) -> Result<(), ApiError> {
    if v.trim().is_empty()
        || v.chars().count() > MAX_TEXT
        || v.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ApiError::invalid(
            format!("{field} 须为 1-{MAX_TEXT} 个字符"),
            format!("`{field}` must be 1-{MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

fn bounded<T>(v: &[T], max: usize, field: &str) -> Result<(), ApiError> {
    if v.len() > max {
        return Err(ApiError::invalid(
            format!("{field} 最多 {max} 项"),
            format!("`{field}` takes at most {max} entries"),
        ));
    }
    Ok(())
}

fn refused(zh: &str, en: String) -> ApiError {
    ApiError::refused(ErrorCode::ReviewRefused, zh, en)
}

/// Checks handling's record.
///
/// # Errors
/// 400 malformed; 422 a confirmation withheld (reject instead) or a finding without evidence.
pub fn check_handling(h: &Handling) -> Result<(), ApiError> {
    if let Some(n) = &h.note {
        text(n, "note")?;
    }
    if !(h.identity_confirmed && h.contributions_confirmed && h.recognition_consistent) {
        return Err(refused(
            "承办岗须确认身份、参保缴费和认定鉴定信息一致；不一致的请退回或不予受理（第三十四条）",
            "handling confirms identity, contributions and recognition; if one does not hold, send the claim back or reject it (Art. 34)".into(),
        ));
    }
    if h.transfer.is_some() != h.transfer_evidence.is_some() {
        return Err(ApiError::invalid(
            "转诊转院认定须附证明材料",
            "a transfer finding and its evidence (`transfer_evidence`) go together",
        ));
    }
    Ok(())
}

/// The items a fee line may belong to.
const FEE_ITEMS: [Item; 5] = [
    Item::Medical,
    Item::Rehabilitation,
    Item::OutOfCatalogue,
    Item::TravelLodging,
    Item::AssistiveDevice,
];

/// Checks the first review's facts against the claim's items and the injury: every line of a
/// claimed item, dated on or after the injury and not after `today`, allowed at most its amount
/// with a reason for any deduction, never an invoice relied on before, nothing allowed at an
/// institution outside the agreement without an emergency or approved transfer (Art. 23); stays
/// inside the paid-leave period (Art. 26).
///
/// # Errors
/// 400 malformed; 422 refused with the article.
pub fn check_review(
    f: &ReviewFacts,
    items: &[Item],
    injury: &Injury,
    transfer: Option<TransferFinding>,
    today: NaiveDate,
) -> Result<(), ApiError> {
    text(&f.opinion, "opinion")?;
    bounded(&f.fee_lines, MAX_FEE_LINES, "fee_lines")?;
    bounded(&f.stays, MAX_ENTRIES, "stays")?;
    bounded(&f.dependants, MAX_ENTRIES, "dependants")?;
    let injured = injury.recognition.injured_on;
    let mut seen = BTreeSet::new();
    for (i, line) in f.fee_lines.iter().enumerate() {
        let at = format!("fee_lines[{i}]");
        wire::name(&line.invoice_number, &format!("{at}.invoice_number"))?;
        wire::name(&line.provider, &format!("{at}.provider"))?;
        if !FEE_ITEMS.contains(&line.item) || !items.contains(&line.item) {
            return Err(ApiError::invalid(
                format!("{at} 的待遇项目不是本次申领的费用类项目"),
                format!("{at}.item `{}` is not a fee item of this claim", line.item),
            ));
        }
        if line.date < injured || line.date > today {
            return Err(refused(
                "费用日期须在受伤之后、今天之前",
                format!(
                    "{at}: the fee is dated {}, outside {injured} … {today}",
                    line.date
                ),
            ));
        }
        if line.allowed > line.amount {
            return Err(ApiError::invalid(
                format!("{at} 核准金额不能超过票据金额"),
                format!("{at}: allowed exceeds the amount invoiced"),
            ));
        }
        if line.allowed < line.amount {
            match &line.deduction_reason {
                Some(r) => text(r, &format!("{at}.deduction_reason"))?,
                None => {
                    return Err(ApiError::invalid(
                        format!("{at} 有扣减须说明理由"),
                        format!("{at}: a deduction needs `deduction_reason`"),
                    ));
                }
            }
        }
        if !line.agreement_institution
            && line.allowed > Decimal::ZERO
            && !matches!(
                transfer,
                Some(TransferFinding::Emergency | TransferFinding::Approved)
            )
        {
            return Err(refused(
                "非协议机构的费用，除情况紧急或经承办机构同意外不予支付（第二十三条）",
                format!(
                    "{at}: fees at {} (not an agreement institution) are not paid without an emergency or an approved transfer found by handling (Art. 23)",
                    wire::clip(&line.provider)
                ),
            ));
        }
        if line.item == Item::OutOfCatalogue && line.catalogue == Catalogue::Within
            || line.item != Item::OutOfCatalogue
                && line.item != Item::TravelLodging
                && line.item != Item::AssistiveDevice
                && line.catalogue == Catalogue::Outside
                && line.allowed > Decimal::ZERO
        {
            return Err(refused(
                "费用须按“三目录”归入相应项目：目录内费用不属目录外费用，目录外费用不按医疗（康复）费支付（第二十五条）",
                format!(
                    "{at}: a fee {} the catalogues cannot be allowed as {} (Art. 25)",
                    if line.catalogue == Catalogue::Within {
                        "within"
                    } else {
                        "outside"
                    },
                    line.item
                ),
            ));
        }
        if !seen.insert(line.invoice_number.as_str())
            || injury.invoices.contains(&line.invoice_number)
        {
            return Err(refused(
                "同一票据不能重复报销",
                format!(
                    "{at}: invoice {} is relied on already",
                    wire::clip(&line.invoice_number)
                ),
            ));
        }
    }
    if items.contains(&Item::NursingSubsidy) {
        let Some(leave) = &injury.paid_leave else {
            return Err(refused(
                "护理补助须先登记停工留薪期（第二十六条）",
                "the nursing subsidy needs the injury's paid-leave period recorded (Art. 26)"
                    .into(),
            ));
        };
        if f.stays.is_empty() {
            return Err(ApiError::invalid(
                "护理补助须填写住院时间",
                "the nursing subsidy needs `stays`",
            ));
        }
        for (i, s) in f.stays.iter().enumerate() {
            if s.discharged < s.admitted {
                return Err(ApiError::invalid(
                    format!("stays[{i}] 出院早于入院"),
                    format!("stays[{i}]: discharged before admitted"),
                ));
            }
            if s.discharged < leave.from || s.admitted > leave.to {
                return Err(ApiError::refused(
                    ErrorCode::StayOutsidePaidLeave,
                    "住院时间不在停工留薪期内，不计护理补助（第二十六条）",
                    format!(
                        "stays[{i}] ({} … {}) lies outside the paid-leave period {} … {} (Art. 26)",
                        s.admitted, s.discharged, leave.from, leave.to
                    ),
                ));
            }
        }
    }
    for (i, d) in f.dependants.iter().enumerate() {
        wire::name(&d.name, &format!("dependants[{i}].name"))?;
        if let Some(n) = &d.id_number {
            ResidentId::parse(n).map_err(|e| {
                ApiError::invalid(
                    "供养亲属身份证号码不正确",
                    format!("dependants[{i}].id_number: {e}"),
                )
            })?;
        }
    }
    Ok(())
}

/// Applies the re-review's deductions to the first review's lines: each names a line and lowers
/// what it allows, with a reason.
///
/// # Errors
/// 400 malformed or unknown line; 422 a "deduction" that raises the amount.
pub fn deduct(f: &mut ReviewFacts, r: &ReReview) -> Result<(), ApiError> {
    text(&r.opinion, "opinion")?;
    bounded(&r.deductions, MAX_FEE_LINES, "deductions")?;
    for (i, d) in r.deductions.iter().enumerate() {
        text(&d.reason, &format!("deductions[{i}].reason"))?;
        let Some(line) = f
            .fee_lines
            .iter_mut()
            .find(|l| l.invoice_number == d.invoice_number)
        else {
            return Err(ApiError::invalid(
                format!("deductions[{i}] 所指票据不在初审费用明细中"),
                format!(
                    "deductions[{i}]: no fee line with invoice {}",
                    wire::clip(&d.invoice_number)
                ),
            ));
        };
        if d.allowed > line.allowed {
            return Err(refused(
                "复核只能扣减，不能增加核准金额",
                format!("deductions[{i}]: the re-review deducts; it cannot raise what is allowed"),
            ));
        }
        line.allowed = d.allowed;
        line.deduction_reason = Some(d.reason.clone());
    }
    Ok(())
}
