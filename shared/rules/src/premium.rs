//! Premiums: contribution base, monthly premium and the construction-project premium
//! (Art. 13-17, 20).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::RuleError;
use crate::category::{Category, IndustryClass};
use crate::citation::{Doc, art, doc};
use crate::money::round_fen;
use crate::params::{Determination, ParamSet, Trace};

/// The Jiangxi average monthly wage of all urban employed persons in use on `on` (Art. 17, 20:
/// 当年使用的全省全口径城镇单位就业人员月平均工资未发布的，暂按上年度标准缴纳): the latest value
/// in force.
///
/// # Errors
/// `NotInForce` before the first published value.
pub fn average_wage_in_use(t: &mut Trace<'_>, on: NaiveDate) -> Result<Decimal, RuleError> {
    t.cite(art(20));
    t.scalar("average_wage.jiangxi", on)
}

/// The contribution base of a month (Art. 17): persons already in the work-injury scheme
/// (`employee`) use their work-injury base as given; special persons their wage or labour income
/// clamped to [60 %, 300 %] of the average wage in use; flexible workers always 60 % of it.
///
/// Art. 17: 已参加工伤保险的人员补充工伤保险缴费基数与工伤保险缴费基数一致。特定人员以本人工资
/// 或劳动收入为缴费基数，其上下限分别为上年度江西省全口径城镇单位就业人员月平均工资的300%和60%。
/// 灵活就业人员参加补充工伤保险的缴费基数为上年度江西省全口径城镇单位就业人员月平均工资的60%。
///
/// # Errors
/// A negative wage; parameters not in force for the month.
pub fn contribution_base<'p>(
    params: &'p ParamSet,
    category: Category,
    month: NaiveDate,
    wage: Decimal,
) -> Result<Determination<'p, Decimal>, RuleError> {
    let mut t = Trace::new(params, &[art(17)]);
    let base = base_in(&mut t, category, month, wage)?;
    Ok(t.finish(base))
}

fn base_in(
    t: &mut Trace<'_>,
    category: Category,
    month: NaiveDate,
    wage: Decimal,
) -> Result<Decimal, RuleError> {
    if wage.is_sign_negative() && !wage.is_zero() {
        return Err(RuleError::InvalidFacts(
            "the wage cannot be negative".into(),
        ));
    }
    t.cite(art(17));
    Ok(match category {
        Category::Employee => wage,
        Category::Flexible => {
            let ratio = t.scalar("base.flexible_ratio", month)?;
            average_wage_in_use(t, month)? * ratio
        }
        _ => {
            let floor = t.scalar("base.floor_ratio", month)?;
            let ceiling = t.scalar("base.ceiling_ratio", month)?;
            let average = average_wage_in_use(t, month)?;
            wage.clamp(average * floor, average * ceiling)
        }
    })
}

/// The facts of a monthly premium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PremiumFacts {
    /// The person's category.
    pub category: Category,
    /// The first day of the month billed.
    pub month: NaiveDate,
    /// The declared wage (for `employee`: the work-injury contribution base).
    pub wage: Decimal,
    /// The employer's industry class; required for `employee`, `over_age`, `intern`, and must
    /// agree with the fixed class of the other categories when given.
    pub industry_class: Option<IndustryClass>,
    /// The unit's floated band from the work-injury side (e.g. 1.2 for 120 %), Art. 13, 15.
    pub rate_band: Option<Decimal>,
}

/// A monthly premium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Premium {
    /// The contribution base (exact).
    pub base: Decimal,
    /// The rate applied (exact).
    pub rate: Decimal,
    /// The premium, rounded half-up to the fen.
    pub amount: Decimal,
    /// The industry class used.
    pub industry_class: IndustryClass,
}

/// Whether `band` is a floating band of the work-injury scheme for `class` (Art. 13, 15;
/// 人社部发〔2015〕71号): class 1 floats to 100 %, 120 %, 150 %; classes 2-8 to 50 %, 80 %, 100 %,
/// 120 %, 150 %.
#[must_use]
pub fn band_allowed(class: IndustryClass, band: Decimal) -> bool {
    let allowed: &[(i64, u32)] = if class.get() == 1 {
        &[(10, 1), (12, 1), (15, 1)]
    } else {
        &[(5, 1), (8, 1), (10, 1), (12, 1), (15, 1)]
    };
    allowed.iter().any(|(m, s)| Decimal::new(*m, *s) == band)
}

/// The monthly premium (Art. 14, 17): base × rate, rounded half-up to the fen. Employees pay
/// the ordinary rate (30 % of the industry base rate), special persons the special rate (the
/// base rate plus that 30 % top-up), in their employer's class (`employee`, `over_age`,
/// `intern`) or the class Art. 14 fixes. A floated band, when given, multiplies the unit's
/// supplementary rate (Art. 13, 15): an employee's whole rate, but only the top-up of an
/// over-age person or intern, whose basic part stays the unfloated base rate (Art. 14).
///
/// # Errors
/// A missing or contradictory industry class, a band that does not exist for the class, and
/// parameter errors (a month before 2025-01 is `NotInForce`).
pub fn monthly_premium<'p>(
    params: &'p ParamSet,
    f: &PremiumFacts,
) -> Result<Determination<'p, Premium>, RuleError> {
    let mut t = Trace::new(params, &[art(14)]);
    let class = match (f.category.fixed_class(), f.industry_class) {
        (Some(fixed), Some(given)) if fixed != given => {
            return Err(RuleError::InvalidFacts(format!(
                "{} is rated in industry class {fixed} (Art. 14), not {given}",
                f.category
            )));
        }
        (Some(fixed), _) => fixed,
        (None, Some(given)) => given,
        (None, None) => {
            return Err(RuleError::InvalidFacts(format!(
                "industry_class is required for {} (the employer's class, Art. 14)",
                f.category
            )));
        }
    };
    let special = f.category.is_special();
    let rate = match f.rate_band {
        None if special => t.item("rate.special", f.month, class.get())?,
        None => t.item("rate.ordinary", f.month, class.get())?,
        Some(band) => {
            if f.category.fixed_class().is_some() {
                return Err(RuleError::InvalidFacts(format!(
                    "{} is rated at a fixed class's standard (Art. 14); a floated band applies to persons rated in their employer's class",
                    f.category
                )));
            }
            if !band_allowed(class, band) {
                return Err(RuleError::InvalidFacts(format!(
                    "band {band} does not exist for industry class {class}"
                )));
            }
            t.cite(art(13));
            t.cite(art(15));
            // The unit's supplementary rate floats with its work-injury rate (Art. 13, 15).
            let top_up = t.item("rate.ordinary", f.month, class.get())? * band;
            if special {
                // Art. 14: 基础保费费率与所在用人单位工伤保险行业基准费率一致…叠加保费费率与所在
                // 用人单位补充工伤保险费率一致: the basic part is the industry's base rate, which
                // does not float; only the top-up follows the unit's floated rate.
                t.cite(doc(Doc::RateNotice2015));
                t.item("rate.industry_base", f.month, class.get())? + top_up
            } else {
                top_up
            }
        }
    };
    let base = base_in(&mut t, f.category, f.month, f.wage)?;
    let amount = round_fen(base * rate);
    Ok(t.finish(Premium {
        base,
        rate,
        amount,
        industry_class: class,
    }))
}

/// The one-time premium of a construction project enrolled as a whole (Art. 14: 建设项目参保按
/// 工程建筑安装费或工程总造价的0.6‰一次性缴纳), on the project's cost, rounded half-up to the fen.
///
/// # Errors
/// A negative cost; `NotInForce` before the scheme.
pub fn project_premium(
    params: &ParamSet,
    cost: Decimal,
    on: NaiveDate,
) -> Result<Determination<'_, Decimal>, RuleError> {
    if cost.is_sign_negative() && !cost.is_zero() {
        return Err(RuleError::InvalidFacts(
            "the project cost cannot be negative".into(),
        ));
    }
    let mut t = Trace::new(params, &[art(14)]);
    let rate = t.scalar("rate.project", on)?;
    Ok(t.finish(round_fen(cost * rate)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn month(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").unwrap()
    }
    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }
    fn facts(category: Category, m: &str, wage: &str, class: Option<u32>) -> PremiumFacts {
        PremiumFacts {
            category,
            month: month(m),
            wage: dec(wage),
            industry_class: class.map(|c| IndustryClass::new(c).unwrap()),
            rate_band: None,
        }
    }

    #[test]
    fn flexible_workers_pay_on_60_percent_whatever_their_wage() {
        let d = monthly_premium(p(), &facts(Category::Flexible, "2025-03", "50000", None)).unwrap();
        assert_eq!(d.value.base, dec("3915.00"));
        assert_eq!(d.value.rate, dec("0.0052"));
        assert_eq!(d.value.amount, dec("20.36")); // 3915 × 0.0052 = 20.358
        assert!(
            d.assumptions()
                .any(|u| u.parameter == "average_wage.jiangxi")
        );
    }

    #[test]
    fn special_persons_are_clamped_between_60_and_300_percent() {
        let low = monthly_premium(p(), &facts(Category::VillageCadre, "2025-01", "1000", None))
            .unwrap()
            .value;
        assert_eq!(low.base, dec("3915"));
        let high = monthly_premium(p(), &facts(Category::OverAge, "2025-01", "30000", Some(3)))
            .unwrap()
            .value;
        assert_eq!(high.base, dec("19575"));
        assert_eq!(high.amount, dec("178.13")); // 19575 × 0.0091 = 178.1325
    }

    #[test]
    fn the_2024_average_is_in_use_through_2024_and_falls_back_in_2026() {
        let f = |m| {
            monthly_premium(p(), &facts(Category::Flexible, m, "0", None))
                .unwrap()
                .value
                .base
        };
        assert_eq!(f("2025-12"), dec("3915.00"));
        assert_eq!(f("2026-06"), dec("3915.00")); // 2026 not published: 2025's (Art. 20)
    }

    #[test]
    fn employees_pay_the_ordinary_rate_on_their_own_base_without_clamp() {
        let d = monthly_premium(p(), &facts(Category::Employee, "2025-05", "2000", Some(6)))
            .unwrap()
            .value;
        assert_eq!(d.base, dec("2000"));
        assert_eq!(d.amount, dec("7.80")); // 2000 × 0.0039
    }

    #[test]
    fn a_month_before_the_scheme_is_not_in_force() {
        let err =
            monthly_premium(p(), &facts(Category::Flexible, "2024-12", "0", None)).unwrap_err();
        assert!(matches!(err, RuleError::NotInForce { .. }), "{err:?}");
    }

    #[test]
    fn employer_rated_categories_need_a_class_and_fixed_ones_refuse_another() {
        assert!(monthly_premium(p(), &facts(Category::Intern, "2025-05", "2000", None)).is_err());
        assert!(
            monthly_premium(p(), &facts(Category::Volunteer, "2025-05", "2000", Some(3))).is_err()
        );
        assert!(
            monthly_premium(p(), &facts(Category::Volunteer, "2025-05", "2000", Some(2))).is_ok()
        );
    }

    #[test]
    fn a_floated_band_multiplies_the_employers_rate() {
        let mut f = facts(Category::Employee, "2025-05", "5000", Some(1));
        f.rate_band = Some(dec("1.2"));
        let d = monthly_premium(p(), &f).unwrap().value;
        assert_eq!(d.rate, dec("0.00072"));
        assert_eq!(d.amount, dec("3.60"));
        f.rate_band = Some(dec("0.5")); // class 1 cannot float down
        assert!(monthly_premium(p(), &f).is_err());
    }

    #[test]
    fn only_the_top_up_of_a_special_person_floats() {
        let mut f = facts(Category::OverAge, "2025-05", "5000", Some(2));
        f.rate_band = Some(dec("1.5"));
        let d = monthly_premium(p(), &f).unwrap().value;
        assert_eq!(d.rate, dec("0.0058")); // 0.4 % + 0.12 % × 1.5, not 0.52 % × 1.5
        assert_eq!(d.amount, dec("29.00"));
        let mut cadre = facts(Category::VillageCadre, "2025-05", "5000", None);
        cadre.rate_band = Some(dec("1.2"));
        assert!(monthly_premium(p(), &cadre).is_err());
    }

    #[test]
    fn the_special_table_is_the_base_rate_plus_the_ordinary_top_up() {
        let on = month("2025-01");
        for class in 1..=8 {
            let mut t = Trace::new(p(), &[]);
            let base = t.item("rate.industry_base", on, class).unwrap();
            let top = t.item("rate.ordinary", on, class).unwrap();
            let special = t.item("rate.special", on, class).unwrap();
            assert_eq!(base + top, special, "class {class}");
        }
    }

    #[test]
    fn project_premium_is_six_ten_thousandths_of_the_cost_once() {
        let on = month("2025-06");
        assert_eq!(
            project_premium(p(), dec("12345678"), on).unwrap().value,
            dec("7407.41")
        );
        assert_eq!(
            project_premium(p(), dec("20875"), on).unwrap().value,
            dec("12.53")
        ); // 12.525
    }
}
