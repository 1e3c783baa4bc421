//! Every item of a claim assessed through `swi_rules` — the same functions `swi quote` answers
//! with — from the injury as recorded and the first review's facts as (re-)reviewed: the amount,
//! its basis, the status of every figure used, the payee (Art. 35), whether it ends cover
//! (Art. 31), and what the cap left across the injury's earlier claims allows (Art. 25-26).
//! An item needing a figure the city has not set says which one and who sets it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use swi_payables::{ParameterUsed, PayeeKind};
use swi_platform::ApiError;
use swi_rules::benefits::formulas::{BenefitFacts, Dependant, Relation as RuleRelation, benefit};
use swi_rules::benefits::nursing::Stay;
use swi_rules::benefits::per_injury::within_injury_cap;
use swi_rules::benefits::{Item, payee};
use swi_rules::{Determination, ParamSet, RuleError};

use crate::claim::{AssessedItem, Assessment, Claim, ItemRefusal, Pending};
use crate::facts::{Relation, ReviewFacts};
use crate::injury::{Injury, InjuryKind};

/// Who sets a pending parameter (the foundation's city values).
pub const SET_BY: &str = "agency_officer (360700): POST /api/parameters/city-values, confirmed by a second city-level officer";

/// The figures a decision used that every reviewer must see: those not confirmed, and those the
/// city set (named with the notice's document number), so that a decision says which values it
/// kept (`Determination::assumptions`).
#[must_use]
pub fn shown(used: &[swi_rules::params::Used<'_>]) -> Vec<ParameterUsed> {
    used.iter()
        .filter(|u| u.status != swi_rules::params::Status::Confirmed || u.source.city)
        .map(|u| ParameterUsed {
            parameter: u.parameter.to_owned(),
            status: if u.source.city {
                "city_value".to_owned()
            } else {
                u.status.as_str().to_owned()
            },
            source: u.source.label().to_owned(),
        })
        .collect()
}

fn used(d: &Determination<'_, impl Sized>) -> Vec<ParameterUsed> {
    shown(&d.used)
}

fn cites(d: &Determination<'_, impl Sized>) -> Vec<String> {
    d.basis.iter().map(ToString::to_string).collect()
}

/// The day whose figures apply: the death's for the death items, the injury's otherwise.
#[must_use]
pub fn figures_on(item: Item, injury: &Injury) -> NaiveDate {
    match (item, &injury.death) {
        (Item::OneTimeDeath | Item::Funeral | Item::DependantPension, Some(d)) => d.died_on,
        _ => injury.recognition.injured_on,
    }
}

/// The rules' facts for `item`: the injury's, the review's, and the share of the work-injury
/// fund's payment and of a civil judgment not yet set against an earlier item of the claim.
#[must_use]
pub fn facts_for(
    item: Item,
    claim: &Claim,
    injury: &Injury,
    review: &ReviewFacts,
    fund_left: Decimal,
    judgment_left: Decimal,
) -> BenefitFacts {
    let fees: Decimal = review
        .fee_lines
        .iter()
        .filter(|l| l.item == item)
        .map(|l| l.allowed)
        .sum();
    let medical = item.is_medical_fee();
    BenefitFacts {
        on: Some(figures_on(item, injury)),
        grade: injury.appraisal.as_ref().map(|a| a.grade),
        insured_wage: Some(injury.insured_wage.amount),
        fees: Some(fees),
        standard: review.device_standard,
        days: match item {
            Item::HospitalFood => review.hospital_days,
            Item::TravelLodging => review.travel_days,
            _ => None,
        },
        outside_area: review.outside_area,
        care_level: injury.appraisal.as_ref().and_then(|a| a.care_level),
        dependants: review
            .dependants
            .iter()
            .map(|d| Dependant {
                relation: match d.relation {
                    Relation::Spouse => RuleRelation::Spouse,
                    Relation::Other => RuleRelation::Other,
                },
                orphan_or_lone_elder: d.orphan_or_lone_elder,
            })
            .collect(),
        occupational_disease: injury.recognition.kind == InjuryKind::OccupationalDisease,
        retirement_on: injury.retirement_on,
        paid_leave_months: review.paid_leave_months,
        paid_leave: injury.paid_leave.as_ref().map(|l| (l.from, l.to)),
        stays: review
            .stays
            .iter()
            .map(|s| Stay {
                admitted: s.admitted,
                discharged: s.discharged,
            })
            .collect(),
        paid_by_work_injury_fund: (medical && fund_left > Decimal::ZERO).then_some(fund_left),
        judgment_medical: (medical && claim.stated.third_party && judgment_left > Decimal::ZERO)
            .then_some(judgment_left),
    }
}

fn pending_item(item: Item, parameter: String, payee: PayeeKind) -> AssessedItem {
    AssessedItem {
        item,
        amount: None,
        monthly: item.is_monthly(),
        before_cap: None,
        days: None,
        per_dependant: Vec::new(),
        payee,
        ends_cover: false,
        refusal: None,
        pending: Some(Pending {
            parameter,
            set_by: SET_BY.into(),
        }),
        basis: vec![item.article().to_string()],
        assumptions: Vec::new(),
    }
}

/// Maps a rule's refusal of the facts to an answer: missing or inconsistent facts are the
/// reviewer's to complete (400); a date outside the scheme is 422.
fn rule_error(item: Item, e: RuleError) -> ApiError {
    match e {
        RuleError::InvalidFacts(m) => {
            ApiError::invalid("核定所需信息不完整或不一致", format!("{item}: {m}"))
        }
        other => other.into(),
    }
}

/// Assesses every item of `claim` on the facts of `review`, the injury as recorded, and the
/// parameters in force (`params`), on `today`.
///
/// # Errors
/// 400 facts missing for an item (named); 422 a date outside the scheme.
pub fn assess(
    params: &ParamSet,
    claim: &Claim,
    injury: &Injury,
    review: &ReviewFacts,
    today: NaiveDate,
) -> Result<Assessment, ApiError> {
    let mut fund_left = review.paid_by_work_injury_fund.unwrap_or_default();
    let mut judgment_left = review.judgment_medical.unwrap_or_default();
    let mut items = Vec::with_capacity(claim.items.len());
    for &item in &claim.items {
        let (to, _) = payee(item, Some(claim.category), claim.stated.advanced_by_unit)
            .map_err(|e| rule_error(item, e))?;
        let to = PayeeKind::from(to);
        let facts = facts_for(item, claim, injury, review, fund_left, judgment_left);
        let d = match benefit(params, item, claim.category, &facts) {
            Ok(d) => d,
            Err(RuleError::ParameterPending {
                parameter: name, ..
            }) => {
                items.push(pending_item(item, name, to));
                continue;
            }
            Err(e) => return Err(rule_error(item, e)),
        };
        if item.is_medical_fee() {
            // What the fund paid and the judgment awarded are set against the claim's medical
            // fees once, in item order: what this item absorbed is gone for the next.
            let gross = benefit(
                params,
                item,
                claim.category,
                &BenefitFacts {
                    paid_by_work_injury_fund: None,
                    judgment_medical: None,
                    ..facts.clone()
                },
            )
            .map_err(|e| rule_error(item, e))?
            .value
            .amount
            .unwrap_or_default();
            let net = d.value.amount.unwrap_or_default();
            let mut absorbed = gross - net;
            let from_fund = absorbed.min(fund_left);
            fund_left -= from_fund;
            absorbed -= from_fund;
            judgment_left = (judgment_left - absorbed).max(Decimal::ZERO);
        }
        let mut basis = cites(&d);
        let mut assumptions = used(&d);
        let b = d.value.clone();
        let refusal = b.refusal.as_ref().map(|r| ItemRefusal {
            code: r.code.to_owned(),
            message: r.message.clone(),
            basis: r.basis.to_string(),
        });
        let (mut amount, mut before_cap) = (b.amount, None);
        if let Some(a) = b.amount {
            let granted = injury.granted.get(&item).copied().unwrap_or_default();
            match within_injury_cap(params, item, figures_on(item, injury), a, granted) {
                Ok(cap) => {
                    if cap.value < a {
                        before_cap = Some(a);
                    }
                    amount = Some(cap.value);
                    for c in cites(&cap) {
                        if !basis.contains(&c) {
                            basis.push(c);
                        }
                    }
                    for u in used(&cap) {
                        if !assumptions.contains(&u) {
                            assumptions.push(u);
                        }
                    }
                }
                Err(RuleError::ParameterPending {
                    parameter: name, ..
                }) => {
                    items.push(pending_item(item, name, to));
                    continue;
                }
                Err(e) => return Err(rule_error(item, e)),
            }
        }
        items.push(AssessedItem {
            item,
            amount,
            monthly: b.monthly,
            before_cap,
            days: b.days,
            per_dependant: b.per_dependant,
            payee: to,
            ends_cover: b.ends_cover && refusal.is_none(),
            refusal,
            pending: None,
            basis,
            assumptions,
        });
    }
    let granted = |monthly: bool| -> Decimal {
        items
            .iter()
            .filter(|i| i.monthly == monthly && i.refusal.is_none())
            .filter_map(|i| i.amount)
            .sum()
    };
    Ok(Assessment {
        lump_sum_total: granted(false),
        monthly_total: granted(true),
        items,
        assessed_on: today,
    })
}
