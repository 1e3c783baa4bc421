//! A person's enrolment (参保登记) as a case with a state machine (Art. 7-8, 10, 34):
//!
//! ```text
//! awaiting_materials ──(all required scans in)──► awaiting_acceptance ──accept──► awaiting_payment
//!        ▲                                             │                              │
//!        └──────────── return with a one-time notice ◄─┘                   payment ──► covered
//!                                                                                      │
//!                                          terminate / unit cancelled (Art. 10) ──► terminated
//! ```
//!
//! Ordinary employees need no special materials and go straight to `awaiting_payment`. Cover
//! starts the day after the later of entry and payment (Art. 8, `swi_rules::cover`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use swi_rules::category::Category;

/// A kind of material (Art. 7: 特定人员参加补充工伤保险需填报《人员变动增减表》并提供以下材料).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Material {
    /// 用人单位缴纳工伤保险的证明.
    WorkInjuryPaymentProof,
    /// 劳务合同.
    LabourServiceContract,
    /// 实习（见习）协议.
    InternshipAgreement,
    /// 乡镇（街道）任职备案材料.
    TownshipAppointment,
    /// 大学生村官、基层专干身份证明.
    VillageOfficialProof,
    /// 平台资质.
    PlatformQualification,
    /// 平台与从业人员的协议.
    PlatformWorkerAgreement,
    /// 加盖公章的从业人员登记信息.
    RegistrationInfoSealed,
    /// 工作内容范围.
    WorkScope,
    /// 志愿组织成立文件.
    OrganisationFoundingDocument,
    /// 志愿者注册登记信息.
    VolunteerRegistration,
    /// 合作社营业执照.
    CooperativeLicence,
    /// 聘用劳务合同.
    HiringContract,
    /// 身份证或社会保障卡复印件.
    IdCopy,
    /// 承诺书.
    CommitmentLetter,
    /// 《灵活就业人员补充工伤保险参保登记表》(工作时段、场所、岗位及工作内容).
    FlexibleRegistrationForm,
}

impl Material {
    /// The Chinese name, as the one-time notice lists it.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            Material::WorkInjuryPaymentProof => "用人单位缴纳工伤保险的证明",
            Material::LabourServiceContract => "劳务合同",
            Material::InternshipAgreement => "实习（见习）协议",
            Material::TownshipAppointment => "乡镇（街道）任职备案材料",
            Material::VillageOfficialProof => "大学生村官（基层专干）身份证明",
            Material::PlatformQualification => "平台资质",
            Material::PlatformWorkerAgreement => "平台与从业人员的协议",
            Material::RegistrationInfoSealed => "加盖公章的从业人员登记信息",
            Material::WorkScope => "工作内容范围",
            Material::OrganisationFoundingDocument => "志愿组织成立文件",
            Material::VolunteerRegistration => "志愿者注册登记信息",
            Material::CooperativeLicence => "合作社营业执照",
            Material::HiringContract => "聘用劳务合同",
            Material::IdCopy => "身份证或社会保障卡复印件",
            Material::CommitmentLetter => "承诺书",
            Material::FlexibleRegistrationForm => "灵活就业人员补充工伤保险参保登记表",
        }
    }
}

/// The materials a category must file (Art. 7). Ordinary employees file none beyond the
/// declaration.
#[must_use]
pub fn required_materials(category: Category) -> &'static [Material] {
    use Material::*;
    match category {
        Category::Employee => &[],
        Category::OverAge => &[WorkInjuryPaymentProof, LabourServiceContract],
        Category::Intern => &[WorkInjuryPaymentProof, InternshipAgreement],
        Category::VillageCadre => &[TownshipAppointment, VillageOfficialProof],
        Category::PlatformDomestic
        | Category::PlatformRideHailing
        | Category::PlatformFoodDelivery
        | Category::PlatformInstantDelivery
        | Category::PlatformFreight => &[
            PlatformQualification,
            PlatformWorkerAgreement,
            RegistrationInfoSealed,
            WorkScope,
        ],
        Category::Volunteer => &[OrganisationFoundingDocument, VolunteerRegistration],
        Category::Cooperative => &[CooperativeLicence, HiringContract],
        Category::Flexible => &[IdCopy, CommitmentLetter, FlexibleRegistrationForm],
    }
}

/// Where an enrolment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Required scans are missing.
    AwaitingMaterials,
    /// Complete; waiting for the window's acceptance.
    AwaitingAcceptance,
    /// Returned with a one-time notice of what is missing or wrong.
    Returned,
    /// Accepted (or needing no acceptance); waiting for the premium to be paid.
    AwaitingPayment,
    /// Covered from `cover_start`.
    Covered,
    /// Cover ended.
    Terminated,
}

/// A command that changes an enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A scan of `material` was filed.
    FileMaterial(Material),
    /// The window accepted the materials.
    Accept,
    /// The window returned the enrolment, listing everything missing or wrong at once.
    Return,
    /// The premium was paid.
    RecordPayment,
    /// Cover ends (termination by the unit, the unit's cancellation, an internship's end).
    Terminate,
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an enrolment that is {from:?} cannot take {command}")]
pub struct Refused {
    /// The current status.
    pub from: Status,
    /// The command.
    pub command: &'static str,
}

/// The next status after `command`, given the materials filed so far (including the one the
/// command files).
///
/// # Errors
/// The command does not apply in this status.
pub fn next(
    status: Status,
    command: &Command,
    category: Category,
    filed: &[Material],
) -> Result<Status, Refused> {
    let complete = required_materials(category)
        .iter()
        .all(|m| filed.contains(m));
    let refuse = |name| Refused {
        from: status,
        command: name,
    };
    match (status, command) {
        (
            Status::AwaitingMaterials | Status::Returned | Status::AwaitingAcceptance,
            Command::FileMaterial(_),
        ) => Ok(if complete {
            Status::AwaitingAcceptance
        } else {
            Status::AwaitingMaterials
        }),
        (_, Command::FileMaterial(_)) => Err(refuse("file_material")),
        (Status::AwaitingAcceptance, Command::Accept) => Ok(Status::AwaitingPayment),
        (_, Command::Accept) => Err(refuse("accept")),
        (Status::AwaitingAcceptance | Status::AwaitingMaterials, Command::Return) => {
            Ok(Status::Returned)
        }
        (_, Command::Return) => Err(refuse("return")),
        (Status::AwaitingPayment, Command::RecordPayment) => Ok(Status::Covered),
        (_, Command::RecordPayment) => Err(refuse("record_payment")),
        (Status::Terminated, Command::Terminate) => Err(refuse("terminate")),
        (_, Command::Terminate) => Ok(Status::Terminated),
    }
}

/// The status a new enrolment starts in.
#[must_use]
pub fn initial(category: Category) -> Status {
    if required_materials(category).is_empty() {
        Status::AwaitingPayment
    } else {
        Status::AwaitingMaterials
    }
}

/// The materials still missing.
#[must_use]
pub fn missing(category: Category, filed: &[Material]) -> Vec<Material> {
    required_materials(category)
        .iter()
        .copied()
        .filter(|m| !filed.contains(m))
        .collect()
}

/// Whether two cover periods overlap (an open end runs forever).
#[must_use]
pub fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    let a_before_b_ends = b.1.is_none_or(|end| a.0 <= end);
    let b_before_a_ends = a.1.is_none_or(|end| b.0 <= end);
    a_before_b_ends && b_before_a_ends
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn employees_need_no_materials_and_special_persons_do() {
        assert_eq!(initial(Category::Employee), Status::AwaitingPayment);
        assert_eq!(initial(Category::Flexible), Status::AwaitingMaterials);
        assert_eq!(required_materials(Category::PlatformFreight).len(), 4);
        assert_eq!(
            missing(Category::Intern, &[Material::InternshipAgreement]),
            vec![Material::WorkInjuryPaymentProof]
        );
    }

    #[test]
    fn an_enrolment_waits_for_all_materials_then_acceptance_then_payment() {
        let c = Category::OverAge;
        let mut filed = vec![Material::LabourServiceContract];
        let s = next(
            Status::AwaitingMaterials,
            &Command::FileMaterial(filed[0]),
            c,
            &filed,
        )
        .unwrap();
        assert_eq!(s, Status::AwaitingMaterials);
        filed.push(Material::WorkInjuryPaymentProof);
        let s = next(s, &Command::FileMaterial(filed[1]), c, &filed).unwrap();
        assert_eq!(s, Status::AwaitingAcceptance);
        assert!(
            next(s, &Command::RecordPayment, c, &filed).is_err(),
            "no payment before acceptance"
        );
        let s = next(s, &Command::Accept, c, &filed).unwrap();
        let s = next(s, &Command::RecordPayment, c, &filed).unwrap();
        assert_eq!(s, Status::Covered);
        assert_eq!(
            next(s, &Command::Terminate, c, &filed).unwrap(),
            Status::Terminated
        );
        assert!(next(Status::Terminated, &Command::Terminate, c, &filed).is_err());
    }

    #[test]
    fn a_returned_enrolment_comes_back_when_refiled() {
        let c = Category::Volunteer;
        let all = required_materials(c).to_vec();
        let s = next(Status::AwaitingAcceptance, &Command::Return, c, &all).unwrap();
        assert_eq!(s, Status::Returned);
        assert!(next(s, &Command::Accept, c, &all).is_err());
        let s = next(s, &Command::FileMaterial(all[0]), c, &all).unwrap();
        assert_eq!(s, Status::AwaitingAcceptance);
    }

    #[test]
    fn cover_periods_overlap_inclusively_and_open_ends_run_on() {
        let a = (d("2025-01-01"), Some(d("2025-06-30")));
        assert!(overlaps(a, (d("2025-06-30"), None)));
        assert!(!overlaps(a, (d("2025-07-01"), None)));
        assert!(overlaps(
            (d("2025-01-01"), None),
            (d("2030-01-01"), Some(d("2030-02-01")))
        ));
        assert!(!overlaps(a, (d("2024-01-01"), Some(d("2024-12-31")))));
    }
}
