//! The amount of each benefit item (Art. 25-32; FIGURES §E).
//!
//! The Ganzhou benefit chapters could not be obtained: every figure is a parameter, most of them
//! `assumed` by analogy with the national regulation or the Jiangxi measures, some `pending`
//! (a computation needing one stops with `ParameterPending`). Entitlement is checked first, so a
//! person who may not receive an item is told so even where the item's figures are pending.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::nursing::{Stay, nursing_subsidy};
use super::{Item, ends_cover, may_receive};
use crate::RuleError;
use crate::age::full_years;
use crate::category::Category;
use crate::citation::{Citation, art};
use crate::money::round_fen;
use crate::params::{Determination, ParamSet, Trace};
use crate::premium::average_wage_in_use;

/// A dependant's relation to the deceased (Art. 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// 配偶.
    Spouse,
    /// Any other eligible dependant (子女、父母…).
    Other,
}

/// One dependant entitled to a pension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependant {
    /// Relation.
    pub relation: Relation,
    /// An orphan or a lone elder (孤儿、孤寡老人), who receives an uplift.
    pub orphan_or_lone_elder: bool,
}

/// The facts of a benefit; each item reads the ones it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenefitFacts {
    /// The date of injury or death; parameters in force on it apply.
    pub on: Option<NaiveDate>,
    /// Disability grade 1-10 (伤残等级).
    pub grade: Option<u32>,
    /// The insured wage (Art. 48).
    pub insured_wage: Option<Decimal>,
    /// Fees allowed (medical, rehabilitation, out-of-catalogue, travel) or the device's cost.
    pub fees: Option<Decimal>,
    /// The catalogue's standard for an assistive device.
    pub standard: Option<Decimal>,
    /// Days (hospital food, travel and lodging).
    pub days: Option<u32>,
    /// Treatment outside the pooling area (hospital food).
    pub outside_area: bool,
    /// Care level 1 (fully), 2 (mostly), 3 (partly dependent).
    pub care_level: Option<u32>,
    /// Dependants (dependant's pension).
    pub dependants: Vec<Dependant>,
    /// An occupational disease (one-time medical subsidy uplift).
    pub occupational_disease: bool,
    /// The day the legal retirement age is reached (one-time employment subsidy).
    pub retirement_on: Option<NaiveDate>,
    /// Months of paid leave (wage subsidy).
    pub paid_leave_months: Option<Decimal>,
    /// The paid-leave period (nursing subsidy).
    pub paid_leave: Option<(NaiveDate, NaiveDate)>,
    /// Hospital stays (nursing subsidy).
    pub stays: Vec<Stay>,
    /// Paid by the work-injury fund for the same fees (Art. 25).
    pub paid_by_work_injury_fund: Option<Decimal>,
    /// Medical fees a civil judgment awards against a third party (Art. 28).
    pub judgment_medical: Option<Decimal>,
}

/// Why a benefit is not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A stable code.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The article that decides it.
    pub basis: Citation,
}

/// A benefit determined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    /// Why not, when not granted.
    pub refusal: Option<Refusal>,
    /// The amount (monthly for monthly items), rounded half-up to the fen, when granted.
    pub amount: Option<Decimal>,
    /// Paid monthly.
    pub monthly: bool,
    /// Paying it ends the supplementary relationship (Art. 31).
    pub ends_cover: bool,
    /// Days counted, for day-based items.
    pub days: Option<u32>,
    /// The dependant's pension of each dependant, in the order given (rounded each; `amount`
    /// is their sum).
    pub per_dependant: Vec<Decimal>,
}

fn need<T: Copy>(v: Option<T>, field: &str, item: Item) -> Result<T, RuleError> {
    v.ok_or_else(|| RuleError::InvalidFacts(format!("`{field}` is required for {item}")))
}

fn non_negative(v: Decimal, field: &str) -> Result<Decimal, RuleError> {
    if v.is_sign_negative() && !v.is_zero() {
        return Err(RuleError::InvalidFacts(format!(
            "`{field}` cannot be negative"
        )));
    }
    Ok(v)
}

fn grade(facts: &BenefitFacts, item: Item) -> Result<u32, RuleError> {
    let g = need(facts.grade, "grade", item)?;
    if !(1..=10).contains(&g) {
        return Err(RuleError::InvalidFacts(format!(
            "grade {g} is outside 1-10"
        )));
    }
    Ok(g)
}

fn refused<'p>(
    t: Trace<'p>,
    code: &'static str,
    message: String,
    basis: Citation,
) -> Determination<'p, Benefit> {
    t.finish(Benefit {
        refusal: Some(Refusal {
            code,
            message,
            basis,
        }),
        amount: None,
        monthly: false,
        ends_cover: false,
        days: None,
        per_dependant: Vec::new(),
    })
}

/// A grade parameter as a number (validated as a whole 1-10 when the set was loaded).
fn whole(d: Decimal) -> u32 {
    d.to_u32().unwrap_or(0)
}

/// Each dependant's monthly pension (Art. 32; FIGURES §E, by analogy with 条例 Art. 39): a share
/// of the insured wage by relation, plus an uplift for an orphan or a lone elder, each rounded
/// half-up to the fen on its own, since each is paid to its dependant. Their sum may not exceed
/// the insured wage: when it would, the wage is shared in proportion to the shares, in fen, the
/// fen left over by rounding going to the largest remainders (so the sum is exactly the wage).
fn dependant_pensions(
    t: &mut Trace<'_>,
    on: NaiveDate,
    wage: Decimal,
    dependants: &[Dependant],
) -> Result<Vec<Decimal>, RuleError> {
    if dependants.is_empty() {
        return Err(RuleError::InvalidFacts(
            "`dependants` is required for dependant_pension".into(),
        ));
    }
    let spouse = t.scalar("benefit.dependant_pension.spouse", on)?;
    let other = t.scalar("benefit.dependant_pension.other", on)?;
    let mut shares = Vec::with_capacity(dependants.len());
    for d in dependants {
        let mut share = match d.relation {
            Relation::Spouse => spouse,
            Relation::Other => other,
        };
        if d.orphan_or_lone_elder {
            share += t.scalar("benefit.dependant_pension.orphan_or_lone_uplift", on)?;
        }
        shares.push(share);
    }
    let total_share: Decimal = shares.iter().copied().sum();
    if total_share <= Decimal::ONE {
        return Ok(shares.iter().map(|s| round_fen(wage * *s)).collect());
    }
    // Capped: apportion the wage's fen by the largest remainder.
    let cap_fen = round_fen(wage) * Decimal::ONE_HUNDRED;
    let exact: Vec<Decimal> = shares.iter().map(|s| cap_fen * *s / total_share).collect();
    let mut fen: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();
    let mut left = cap_fen - fen.iter().copied().sum::<Decimal>();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - fen[b])
            .cmp(&(exact[a] - fen[a]))
            .then(a.cmp(&b))
    });
    for i in order {
        if left <= Decimal::ZERO {
            break;
        }
        fen[i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    Ok(fen
        .into_iter()
        .map(|f| round_fen(f / Decimal::ONE_HUNDRED))
        .collect())
}

/// Computes one benefit item for a person of `category` (Art. 25-32): entitlement first
/// ([`may_receive`]), then the item's formula with the parameters in force on `facts.on`.
///
/// # Errors
/// Missing or inconsistent facts; a parameter pending or not in force.
#[allow(clippy::too_many_lines)]
pub fn benefit<'p>(
    params: &'p ParamSet,
    item: Item,
    category: Category,
    facts: &BenefitFacts,
) -> Result<Determination<'p, Benefit>, RuleError> {
    let mut t = Trace::new(params, &[item.article()]);
    if let Err(no) = may_receive(category, item) {
        t.cite(no.basis);
        let message = no.message(category, item);
        return Ok(refused(t, no.code, message, no.basis));
    }
    let on = need(facts.on, "on", item)?;
    let wage = |item| -> Result<Decimal, RuleError> {
        non_negative(
            need(facts.insured_wage, "insured_wage", item)?,
            "insured_wage",
        )
    };
    let mut days = None;
    let exact: Decimal = match item {
        Item::Medical | Item::Rehabilitation | Item::OutOfCatalogue => {
            let fees = non_negative(need(facts.fees, "fees", item)?, "fees")?;
            let mut amount = match item {
                Item::Medical => fees * t.scalar("benefit.medical.ratio", on)?,
                Item::Rehabilitation => fees * t.scalar("benefit.rehabilitation.ratio", on)?,
                _ => {
                    let ratio = t.scalar("benefit.out_of_catalogue.ratio", on)?;
                    let cap = t.scalar("benefit.out_of_catalogue.cap", on)?;
                    (fees * ratio).min(cap)
                }
            };
            if let Some(paid) = facts.paid_by_work_injury_fund {
                t.cite(art(25));
                amount =
                    (amount - non_negative(paid, "paid_by_work_injury_fund")?).max(Decimal::ZERO);
            }
            if let Some(judgment) = facts.judgment_medical {
                t.cite(art(28));
                amount = (amount - non_negative(judgment, "judgment_medical")?).max(Decimal::ZERO);
            }
            amount
        }
        Item::HospitalFood => {
            let n = need(facts.days, "days", item)?;
            days = Some(n);
            let per_day = if facts.outside_area {
                t.scalar("benefit.hospital_food.out_area_per_day", on)?
            } else {
                t.scalar("benefit.hospital_food.in_area_per_day", on)?
            };
            per_day * Decimal::from(n)
        }
        Item::TravelLodging => {
            let fees = non_negative(need(facts.fees, "fees", item)?, "fees")?;
            let n = need(facts.days, "days", item)?;
            days = Some(n);
            let cap = t.scalar("benefit.travel_lodging.daily_cap", on)?;
            fees.min(cap * Decimal::from(n))
        }
        Item::NursingSubsidy => {
            let period = need(facts.paid_leave, "paid_leave", item)?;
            let n = nursing_subsidy(params, period, &facts.stays)?;
            crate::age::absorb(&mut t, &n);
            days = Some(n.value.days);
            n.value.amount
        }
        Item::WageSubsidy => {
            grade(facts, item)?;
            let w = wage(item)?;
            let months = non_negative(
                need(facts.paid_leave_months, "paid_leave_months", item)?,
                "paid_leave_months",
            )?;
            w * t.scalar("benefit.wage_subsidy.ratio", on)? * months
        }
        Item::DisabilityAllowance => {
            let g = grade(facts, item)?;
            let max = whole(t.scalar("benefit.disability_allowance.max_grade", on)?);
            if g > max {
                return Ok(refused(
                    t,
                    "grade_not_entitled",
                    format!("the disability allowance is for grades 1-{max}, not grade {g}"),
                    art(30),
                ));
            }
            wage(item)? * t.item("benefit.disability_allowance.ratio", on, g)?
        }
        Item::LivingCare => {
            let level = need(facts.care_level, "care_level", item)?;
            let ratio = t.item("benefit.living_care.ratio", on, level)?;
            average_wage_in_use(&mut t, on)? * ratio
        }
        Item::OneTimeDisability => {
            let g = grade(facts, item)?;
            wage(item)? * t.item("benefit.one_time_disability.months", on, g)?
        }
        Item::OneTimeMedical | Item::OneTimeEmployment => {
            let g = grade(facts, item)?;
            let min = whole(t.scalar(
                if item == Item::OneTimeMedical {
                    "benefit.one_time_medical.min_grade"
                } else {
                    "benefit.one_time_employment.min_grade"
                },
                on,
            )?);
            if g < min {
                return Ok(refused(
                    t,
                    "grade_not_entitled",
                    format!("{item} is for grades {min}-10, not grade {g}"),
                    item.article(),
                ));
            }
            if item == Item::OneTimeMedical {
                let mut amount = wage(item)? * t.item("benefit.one_time_medical.months", on, g)?;
                if facts.occupational_disease {
                    let uplift = t.scalar("benefit.one_time_medical.occupational_uplift", on)?;
                    amount *= Decimal::ONE + uplift;
                }
                amount
            } else {
                let retire = need(facts.retirement_on, "retirement_on", item)?;
                if on >= retire
                    && !t
                        .scalar("benefit.one_time_employment.none_from_retirement", on)?
                        .is_zero()
                {
                    return Ok(refused(
                        t,
                        "reached_retirement_age",
                        format!("the legal retirement age was reached on {retire}"),
                        art(29),
                    ));
                }
                let amount = wage(item)? * t.item("benefit.one_time_employment.months", on, g)?;
                let window = t.scalar("benefit.one_time_employment.reduction_window_years", on)?;
                let per_year = t.scalar("benefit.one_time_employment.reduction_per_year", on)?;
                let left = Decimal::from(full_years(on, retire).max(0));
                if left < window {
                    amount * (Decimal::ONE - (window - left) * per_year).max(Decimal::ZERO)
                } else {
                    amount
                }
            }
        }
        Item::OneTimeDeath => {
            let year_before = NaiveDate::from_ymd_opt(on.year() - 1, 1, 1)
                .ok_or_else(|| RuleError::InvalidFacts("date out of range".into()))?;
            let income = t.scalar("disposable_income.national_urban", year_before)?;
            income * t.scalar("benefit.one_time_death.multiple", on)?
        }
        Item::Funeral => {
            let months = t.scalar("benefit.funeral.months", on)?;
            average_wage_in_use(&mut t, on)? * months
        }
        Item::DependantPension => {
            let w = wage(item)?;
            let each = dependant_pensions(&mut t, on, w, &facts.dependants)?;
            let total = each.iter().copied().sum();
            return Ok(t.finish(Benefit {
                refusal: None,
                amount: Some(total),
                monthly: true,
                ends_cover: ends_cover(category, item),
                days: None,
                per_dependant: each,
            }));
        }
        Item::AssistiveDevice => {
            let cost = non_negative(need(facts.fees, "fees", item)?, "fees")?;
            let standard = non_negative(need(facts.standard, "standard", item)?, "standard")?;
            cost.min(standard) * t.scalar("benefit.assistive_device.ratio", on)?
        }
    };
    Ok(t.finish(Benefit {
        refusal: None,
        amount: Some(round_fen(exact)),
        monthly: item.is_monthly(),
        ends_cover: ends_cover(category, item),
        days,
        per_dependant: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Status;
    use std::str::FromStr;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }
    fn facts() -> BenefitFacts {
        BenefitFacts {
            on: Some(d("2025-06-01")),
            insured_wage: Some(dec("5000")),
            ..BenefitFacts::default()
        }
    }

    #[test]
    fn one_time_disability_is_months_of_the_insured_wage_and_assumed() {
        let mut f = facts();
        f.grade = Some(7);
        let b = benefit(p(), Item::OneTimeDisability, Category::VillageCadre, &f).unwrap();
        assert_eq!(b.value.amount, Some(dec("65000.00")));
        assert_eq!(b.status(), Status::Assumed);
    }

    #[test]
    fn employees_are_told_the_work_injury_fund_pays_their_disability_subsidy() {
        let mut f = facts();
        f.grade = Some(7);
        let b = benefit(p(), Item::OneTimeDisability, Category::Employee, &f).unwrap();
        assert_eq!(
            b.value.refusal.map(|r| r.code),
            Some("paid_by_work_injury_fund")
        );
    }

    #[test]
    fn a_pending_figure_stops_the_computation_and_names_itself() {
        let mut f = facts();
        f.fees = Some(dec("1000"));
        let err = benefit(p(), Item::OutOfCatalogue, Category::Employee, &f).unwrap_err();
        assert!(
            matches!(err, RuleError::ParameterPending { ref parameter, .. } if parameter == "benefit.out_of_catalogue.ratio")
        );
    }

    #[test]
    fn the_employment_subsidy_shrinks_within_five_years_of_retirement() {
        let mut f = facts();
        f.grade = Some(5);
        f.retirement_on = Some(d("2029-09-01")); // 4 years 3 months left: one year short
        let b = benefit(p(), Item::OneTimeEmployment, Category::Employee, &f).unwrap();
        assert_eq!(b.value.amount, Some(dec("144000.00"))); // 5000 × 32 × 0.9
        assert!(b.value.ends_cover);
        f.retirement_on = Some(d("2025-12-01")); // half a year left: five years short
        let b = benefit(p(), Item::OneTimeEmployment, Category::Employee, &f).unwrap();
        assert_eq!(b.value.amount, Some(dec("80000.00")));
    }

    #[test]
    fn dependant_pensions_never_exceed_the_insured_wage() {
        let mut f = facts();
        f.dependants = vec![
            Dependant {
                relation: Relation::Spouse,
                orphan_or_lone_elder: false,
            },
            Dependant {
                relation: Relation::Other,
                orphan_or_lone_elder: true,
            },
            Dependant {
                relation: Relation::Other,
                orphan_or_lone_elder: false,
            },
        ];
        let b = benefit(p(), Item::DependantPension, Category::Flexible, &f).unwrap();
        assert_eq!(b.value.amount, Some(dec("5000.00"))); // 40 + 40 + 30 % capped at 100 %
        // Shared 40 : 40 : 30 of 5,000: 1818.18…, 1818.18…, 1363.63…; one fen left over goes to
        // the largest remainder (the third, .636…).
        assert_eq!(
            b.value.per_dependant,
            vec![dec("1818.18"), dec("1818.18"), dec("1363.64")]
        );
        assert!(b.value.monthly);
    }

    #[test]
    fn each_dependants_pension_is_rounded_on_its_own() {
        let mut f = facts();
        f.insured_wage = Some(dec("3333.35"));
        f.dependants = vec![
            Dependant {
                relation: Relation::Other,
                orphan_or_lone_elder: false,
            };
            2
        ];
        // 30 % of 3333.35 = 1000.005 each: 1000.01 each, 2000.02 in all (not 2000.01).
        let b = benefit(p(), Item::DependantPension, Category::Flexible, &f).unwrap();
        assert_eq!(b.value.per_dependant, vec![dec("1000.01"), dec("1000.01")]);
        assert_eq!(b.value.amount, Some(dec("2000.02")));
    }

    #[test]
    fn grade_limits_are_assumed_parameters_not_confirmed_rules() {
        let mut f = facts();
        f.grade = Some(7);
        let b = benefit(p(), Item::DisabilityAllowance, Category::Volunteer, &f).unwrap();
        assert_eq!(
            b.value.refusal.as_ref().map(|r| r.code),
            Some("grade_not_entitled")
        );
        assert_eq!(b.status(), Status::Assumed);
        assert!(
            b.assumptions()
                .any(|u| u.parameter == "benefit.disability_allowance.max_grade")
        );
    }

    #[test]
    fn death_subsidy_uses_last_years_national_income() {
        let b = benefit(p(), Item::OneTimeDeath, Category::Volunteer, &facts()).unwrap();
        assert_eq!(b.value.amount, Some(dec("1083760.00"))); // 20 × 54,188
    }

    #[test]
    fn medical_fees_are_not_paid_twice() {
        let mut f = facts();
        f.fees = Some(dec("10000"));
        f.paid_by_work_injury_fund = Some(dec("2000"));
        f.judgment_medical = Some(dec("3000.50"));
        let b = benefit(p(), Item::Medical, Category::Cooperative, &f).unwrap();
        assert_eq!(b.value.amount, Some(dec("4999.50")));
        assert!(b.basis.contains(&art(28)));
    }
}
