//! A benefit claim (待遇申领) as a case with a state machine (Art. 25-35):
//!
//! ```text
//!  submitted ──accept──► handling ──confirm──► first_review ──opinion──► re_review ──confirm──► entry ──enter──► approved
//!     │  ▲                  │                      │                        │                    │
//!   return│resubmit          └── send back ◄────────┴──── send back ◄────────┴──── send back ◄────┘
//!     ▼  │                                  (each step back to the one before it, with reasons)
//!  returned             any step before approval ──reject (with the article)──► rejected
//! ```
//!
//! The window accepts a complete claim or returns it with a one-time notice listing everything
//! missing at once (Art. 34). Handling (承办) confirms eligibility; the first review (初审) judges
//! each fee line and gives the assessed amounts; the re-review (复核) confirms or deducts; the
//! paper goes back to the first-review post for entry and the printed application form (Art. 34
//! (三)). Who may do which step is `crate::duties` (Art. 5).
//!
//! The materials each item needs are [`checklist`]'s (Art. 25-32); documents already in the
//! injury's dossier count, so nothing is asked twice (Art. 33).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use swi_rules::benefits::Item;
use swi_rules::category::Category;

use crate::duties::Step;

/// A kind of claim material (Art. 25-32).
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
pub enum ClaimMaterial {
    /// 工伤认定书 / 职业伤害认定书 (Art. 25, 30, 32).
    Recognition,
    /// 医疗（康复）机构收费票据 (Art. 25).
    Receipts,
    /// 费用清单 (Art. 25).
    FeeList,
    /// 诊断证明 (Art. 25).
    Diagnosis,
    /// 病历资料 (Art. 25).
    MedicalRecords,
    /// 康复计划 (Art. 25, rehabilitation only).
    RehabilitationPlan,
    /// 工伤保险待遇结算单: what the work-injury fund paid for the same treatment (Art. 25: 由工伤
    /// 保险基金支付的，补充工伤保险不重复支付).
    FundSettlement,
    /// 住院病历、出院小结 (Art. 26).
    DischargeSummary,
    /// 转诊转院（异地就医）备案 (Art. 23: transfers need the contractor's consent).
    TransferApproval,
    /// 劳动能力鉴定书（结论书）(Art. 23, 27, 29-30).
    Appraisal,
    /// 与用人单位解除或终止劳动关系证明 (Art. 30).
    RelationshipEnded,
    /// 死亡证明 (Art. 32).
    DeathCertificate,
    /// 火化证明 (Art. 32).
    CremationCertificate,
    /// 停工留薪期内死亡相关材料 (Art. 32).
    DeathInPaidLeave,
    /// 供养亲属关系及生活来源证明 (Art. 32: dependants' pension).
    DependantProof,
    /// 民事赔偿法律文书 (Art. 28).
    CivilJudgment,
    /// 用人单位先行垫付的支付凭据 (Art. 35).
    AdvancePaymentProof,
}

impl ClaimMaterial {
    /// Every kind, in declaration order.
    pub const ALL: [ClaimMaterial; 17] = [
        ClaimMaterial::Recognition,
        ClaimMaterial::Receipts,
        ClaimMaterial::FeeList,
        ClaimMaterial::Diagnosis,
        ClaimMaterial::MedicalRecords,
        ClaimMaterial::RehabilitationPlan,
        ClaimMaterial::FundSettlement,
        ClaimMaterial::DischargeSummary,
        ClaimMaterial::TransferApproval,
        ClaimMaterial::Appraisal,
        ClaimMaterial::RelationshipEnded,
        ClaimMaterial::DeathCertificate,
        ClaimMaterial::CremationCertificate,
        ClaimMaterial::DeathInPaidLeave,
        ClaimMaterial::DependantProof,
        ClaimMaterial::CivilJudgment,
        ClaimMaterial::AdvancePaymentProof,
    ];

    /// The identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ClaimMaterial::Recognition => "recognition",
            ClaimMaterial::Receipts => "receipts",
            ClaimMaterial::FeeList => "fee_list",
            ClaimMaterial::Diagnosis => "diagnosis",
            ClaimMaterial::MedicalRecords => "medical_records",
            ClaimMaterial::RehabilitationPlan => "rehabilitation_plan",
            ClaimMaterial::FundSettlement => "fund_settlement",
            ClaimMaterial::DischargeSummary => "discharge_summary",
            ClaimMaterial::TransferApproval => "transfer_approval",
            ClaimMaterial::Appraisal => "appraisal",
            ClaimMaterial::RelationshipEnded => "relationship_ended",
            ClaimMaterial::DeathCertificate => "death_certificate",
            ClaimMaterial::CremationCertificate => "cremation_certificate",
            ClaimMaterial::DeathInPaidLeave => "death_in_paid_leave",
            ClaimMaterial::DependantProof => "dependant_proof",
            ClaimMaterial::CivilJudgment => "civil_judgment",
            ClaimMaterial::AdvancePaymentProof => "advance_payment_proof",
        }
    }

    /// The Chinese name, as the one-time notice writes it.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            ClaimMaterial::Recognition => "工伤（职业伤害）认定书",
            ClaimMaterial::Receipts => "医疗（康复）机构收费票据原件",
            ClaimMaterial::FeeList => "费用清单",
            ClaimMaterial::Diagnosis => "诊断证明",
            ClaimMaterial::MedicalRecords => "病历资料",
            ClaimMaterial::RehabilitationPlan => "康复计划",
            ClaimMaterial::FundSettlement => "工伤保险待遇结算单",
            ClaimMaterial::DischargeSummary => "住院病历、出院小结",
            ClaimMaterial::TransferApproval => "转诊转院（异地就医）备案材料",
            ClaimMaterial::Appraisal => "劳动能力鉴定结论书",
            ClaimMaterial::RelationshipEnded => "与用人单位解除或终止劳动关系证明",
            ClaimMaterial::DeathCertificate => "死亡证明",
            ClaimMaterial::CremationCertificate => "火化证明",
            ClaimMaterial::DeathInPaidLeave => "停工留薪期内死亡相关材料",
            ClaimMaterial::DependantProof => "供养亲属关系及生活来源证明",
            ClaimMaterial::CivilJudgment => "民事赔偿法律文书",
            ClaimMaterial::AdvancePaymentProof => "用人单位先行垫付的支付凭据",
        }
    }

    /// The article that asks for it.
    #[must_use]
    pub const fn article(self) -> u16 {
        match self {
            ClaimMaterial::Recognition
            | ClaimMaterial::Receipts
            | ClaimMaterial::FeeList
            | ClaimMaterial::Diagnosis
            | ClaimMaterial::MedicalRecords
            | ClaimMaterial::RehabilitationPlan
            | ClaimMaterial::FundSettlement => 25,
            ClaimMaterial::DischargeSummary => 26,
            ClaimMaterial::TransferApproval => 23,
            ClaimMaterial::Appraisal => 30,
            ClaimMaterial::RelationshipEnded => 30,
            ClaimMaterial::DeathCertificate
            | ClaimMaterial::CremationCertificate
            | ClaimMaterial::DeathInPaidLeave
            | ClaimMaterial::DependantProof => 32,
            ClaimMaterial::CivilJudgment => 28,
            ClaimMaterial::AdvancePaymentProof => 35,
        }
    }
}

impl fmt::Display for ClaimMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What else decides the checklist besides the items and the category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Circumstances {
    /// The death happened within the paid-leave period (Art. 32).
    pub died_in_paid_leave: bool,
    /// A third party is liable and a civil judgment exists (Art. 28).
    pub third_party: bool,
    /// The unit advanced the money and asks to be repaid (Art. 35).
    pub advanced_by_unit: bool,
    /// Treatment outside the pooling area or in another institution than the first (Art. 23).
    pub transferred: bool,
}

/// The materials a claim for `items` of a person of `category` needs (Art. 25-32), each once
/// (Art. 33).
#[must_use]
pub fn checklist(
    category: Category,
    items: &[Item],
    circumstances: Circumstances,
) -> BTreeSet<ClaimMaterial> {
    use ClaimMaterial as M;
    let special = category != Category::Employee;
    let mut need = BTreeSet::from([M::Recognition]);
    for item in items {
        match item {
            Item::Medical | Item::Rehabilitation | Item::OutOfCatalogue => {
                need.extend([M::Receipts, M::FeeList, M::Diagnosis, M::MedicalRecords]);
                if *item == Item::Rehabilitation {
                    need.insert(M::RehabilitationPlan);
                }
                if !special {
                    // Art. 25 ¶1: claimed together with the work-injury fund's medical fees,
                    // whose settlement shows what the fund paid.
                    need.insert(M::FundSettlement);
                }
            }
            Item::HospitalFood => {
                need.extend([M::Receipts, M::MedicalRecords, M::DischargeSummary]);
            }
            Item::TravelLodging => {
                need.extend([M::Receipts, M::TransferApproval]);
            }
            Item::NursingSubsidy => {
                need.insert(M::DischargeSummary);
            }
            Item::WageSubsidy => {
                need.insert(M::Appraisal);
            }
            Item::AssistiveDevice => {
                // Art. 23: fitting needs the appraisal committee's finding.
                need.extend([M::Appraisal, M::Receipts]);
            }
            Item::DisabilityAllowance
            | Item::LivingCare
            | Item::OneTimeDisability
            | Item::OneTimeMedical
            | Item::OneTimeEmployment => {
                need.insert(M::Appraisal);
                if special {
                    need.insert(M::RelationshipEnded);
                }
            }
            Item::OneTimeDeath | Item::Funeral | Item::DependantPension => {
                if special {
                    need.extend([M::DeathCertificate, M::CremationCertificate]);
                    if circumstances.died_in_paid_leave {
                        need.insert(M::DeathInPaidLeave);
                    }
                }
                if *item == Item::DependantPension {
                    need.insert(M::DependantProof);
                }
            }
        }
    }
    if circumstances.transferred {
        need.insert(M::TransferApproval);
    }
    if circumstances.third_party && items.iter().any(|i| i.is_medical_fee()) {
        need.insert(M::CivilJudgment);
    }
    if circumstances.advanced_by_unit {
        need.insert(M::AdvancePaymentProof);
    }
    need
}

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Submitted, at the window (受理).
    Submitted,
    /// Returned with a one-time notice; the claimant adds what is missing and resubmits.
    Returned,
    /// Accepted, at handling (承办).
    Handling,
    /// At the first review (初审).
    FirstReview,
    /// At the re-review (复核).
    ReReview,
    /// Re-reviewed, back at the first-review post for entry (录入) and the printed form.
    Entry,
    /// Approved: forms printed, payable lines and schedules made.
    Approved,
    /// Rejected with the article.
    Rejected,
}

impl ClaimStatus {
    /// Every status, in the order a claim passes them.
    pub const ALL: [ClaimStatus; 8] = [
        ClaimStatus::Submitted,
        ClaimStatus::Returned,
        ClaimStatus::Handling,
        ClaimStatus::FirstReview,
        ClaimStatus::ReReview,
        ClaimStatus::Entry,
        ClaimStatus::Approved,
        ClaimStatus::Rejected,
    ];

    /// The identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Submitted => "submitted",
            ClaimStatus::Returned => "returned",
            ClaimStatus::Handling => "handling",
            ClaimStatus::FirstReview => "first_review",
            ClaimStatus::ReReview => "re_review",
            ClaimStatus::Entry => "entry",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Rejected => "rejected",
        }
    }

    /// The review step a clerk performs on a claim in this status, if any.
    #[must_use]
    pub const fn step(self) -> Option<Step> {
        match self {
            ClaimStatus::Submitted => Some(Step::Acceptance),
            ClaimStatus::Handling => Some(Step::Handling),
            ClaimStatus::FirstReview | ClaimStatus::Entry => Some(Step::FirstReview),
            ClaimStatus::ReReview => Some(Step::ReReview),
            ClaimStatus::Returned | ClaimStatus::Approved | ClaimStatus::Rejected => None,
        }
    }

    /// Whether the claim is decided (nothing more happens to it).
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, ClaimStatus::Approved | ClaimStatus::Rejected)
    }

    /// Where "send back" takes a claim in this status (Art. 34: each step back to the one
    /// before it).
    #[must_use]
    pub const fn back(self) -> Option<ClaimStatus> {
        match self {
            ClaimStatus::Handling => Some(ClaimStatus::Submitted),
            ClaimStatus::FirstReview => Some(ClaimStatus::Handling),
            ClaimStatus::ReReview => Some(ClaimStatus::FirstReview),
            ClaimStatus::Entry => Some(ClaimStatus::ReReview),
            _ => None,
        }
    }
}

impl fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is asked of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimCommand {
    /// The window accepts it (every material in).
    Accept,
    /// The window returns it with a one-time notice.
    Return,
    /// The claimant resubmits a returned claim.
    Resubmit,
    /// Handling confirms eligibility.
    ConfirmEligibility,
    /// The first review gives its opinion and the amounts.
    FirstReview,
    /// The re-review confirms (or deducts).
    ReReview,
    /// The first-review post enters the claim and prints the form: approved.
    Enter,
    /// Back to the step before, with reasons.
    SendBack,
    /// Rejected, with the article.
    Reject,
}

/// Why a command does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a claim that is {status} cannot be {command}")]
pub struct NotNow {
    /// The status.
    pub status: ClaimStatus,
    /// What was asked, in words.
    pub command: &'static str,
}

/// The status after `command` on a claim in `status`; `complete` tells whether every material
/// of the checklist is in.
///
/// # Errors
/// [`NotNow`] when the command does not apply in the status (an acceptance of an incomplete
/// claim included).
pub fn next(
    status: ClaimStatus,
    command: ClaimCommand,
    complete: bool,
) -> Result<ClaimStatus, NotNow> {
    use ClaimCommand as C;
    use ClaimStatus as S;
    let to = match (status, command) {
        (S::Submitted, C::Accept) if complete => S::Handling,
        (S::Submitted, C::Return) => S::Returned,
        (S::Returned, C::Resubmit) => S::Submitted,
        (S::Handling, C::ConfirmEligibility) => S::FirstReview,
        (S::FirstReview, C::FirstReview) => S::ReReview,
        (S::ReReview, C::ReReview) => S::Entry,
        (S::Entry, C::Enter) => S::Approved,
        (s, C::SendBack) if s.back().is_some() => s.back().unwrap_or(s),
        (s, C::Reject) if !s.is_final() => S::Rejected,
        _ => {
            return Err(NotNow {
                status,
                command: match command {
                    C::Accept if status == S::Submitted => "accepted before every material is in",
                    C::Accept => "accepted",
                    C::Return => "returned",
                    C::Resubmit => "resubmitted",
                    C::ConfirmEligibility => "confirmed as eligible",
                    C::FirstReview => "first-reviewed",
                    C::ReReview => "re-reviewed",
                    C::Enter => "entered and approved",
                    C::SendBack => "sent back",
                    C::Reject => "rejected",
                },
            });
        }
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_employees_out_of_catalogue_claim_needs_the_fund_settlement() {
        let need = checklist(
            Category::Employee,
            &[Item::OutOfCatalogue, Item::NursingSubsidy],
            Circumstances::default(),
        );
        assert!(need.contains(&ClaimMaterial::FundSettlement));
        assert!(need.contains(&ClaimMaterial::DischargeSummary));
        assert!(!need.contains(&ClaimMaterial::RelationshipEnded));
    }

    #[test]
    fn special_persons_prove_the_relationship_ended_and_deaths_are_certified() {
        let need = checklist(
            Category::PlatformFoodDelivery,
            &[Item::OneTimeDisability, Item::OneTimeMedical],
            Circumstances::default(),
        );
        assert!(need.contains(&ClaimMaterial::Appraisal));
        assert!(need.contains(&ClaimMaterial::RelationshipEnded));
        let need = checklist(
            Category::Volunteer,
            &[Item::OneTimeDeath, Item::DependantPension],
            Circumstances {
                died_in_paid_leave: true,
                ..Circumstances::default()
            },
        );
        for m in [
            ClaimMaterial::DeathCertificate,
            ClaimMaterial::CremationCertificate,
            ClaimMaterial::DeathInPaidLeave,
            ClaimMaterial::DependantProof,
        ] {
            assert!(need.contains(&m), "{m}");
        }
    }

    #[test]
    fn rehabilitation_needs_its_plan_and_a_judgment_only_with_a_third_party() {
        let plain = checklist(
            Category::Intern,
            &[Item::Rehabilitation],
            Circumstances::default(),
        );
        assert!(plain.contains(&ClaimMaterial::RehabilitationPlan));
        assert!(!plain.contains(&ClaimMaterial::CivilJudgment));
        let third = checklist(
            Category::Intern,
            &[Item::Rehabilitation],
            Circumstances {
                third_party: true,
                ..Circumstances::default()
            },
        );
        assert!(third.contains(&ClaimMaterial::CivilJudgment));
    }

    #[test]
    fn the_four_steps_in_order_and_back() {
        use ClaimCommand as C;
        use ClaimStatus as S;
        let mut s = S::Submitted;
        assert!(next(s, C::Accept, false).is_err(), "incomplete");
        for (c, to) in [
            (C::Accept, S::Handling),
            (C::ConfirmEligibility, S::FirstReview),
            (C::FirstReview, S::ReReview),
            (C::SendBack, S::FirstReview),
            (C::FirstReview, S::ReReview),
            (C::ReReview, S::Entry),
            (C::Enter, S::Approved),
        ] {
            s = next(s, c, true).unwrap();
            assert_eq!(s, to);
        }
        assert!(next(s, C::Reject, true).is_err(), "approved is final");
        assert!(next(S::Submitted, C::SendBack, true).is_err());
        assert_eq!(next(S::Returned, C::Resubmit, true), Ok(S::Submitted));
        assert_eq!(next(S::ReReview, C::Reject, true), Ok(S::Rejected));
    }

    #[test]
    fn each_working_status_names_its_step() {
        assert_eq!(ClaimStatus::Entry.step(), Some(Step::FirstReview));
        assert_eq!(ClaimStatus::Returned.step(), None);
        for s in ClaimStatus::ALL {
            let v = serde_json::to_value(s).unwrap();
            assert_eq!(v, s.as_str());
        }
    }
}
