//! The insured wage (本人缴费工资) on which benefits are computed, Art. 48.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::RuleError;
use crate::citation::art;
use crate::money::round_fen;
use crate::params::{Determination, ParamSet, Trace};
use crate::premium::average_wage_in_use;

/// One month's contribution wage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyWage {
    /// Year.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
    /// The contribution wage of that month.
    pub wage: Decimal,
}

/// The insured wage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsuredWage {
    /// Rounded half-up to the fen.
    pub amount: Decimal,
    /// Months of wages averaged (0 when the project default applied; 1 when only the injury
    /// month was paid).
    pub months_used: u32,
}

/// The insured wage (Art. 48: 工伤职工因工作遭受事故伤害或患职业病前12个月月平均缴费工资（不足
/// 12个月按实际缴费月平均工资）…申报时未注明或未提供劳动合同证明的，按工伤发生时当年度使用的
/// 全口径城镇单位就业人员平均工资的60%作为本人工资计发相关待遇): the mean of the wages of the 12
/// calendar months before the month of injury, or of those present when fewer. A person with no
/// month before the injury month (injured in the month cover started) has the months actually
/// paid: the injury month's wage. Wages of later months are ignored. Only a project worker with
/// no wage declared at all gets 60 % of the average wage in use when the injury happened.
///
/// # Errors
/// A month given twice, a negative wage, no wage for the injury month or before it for a person
/// who is not a project worker; parameters not in force.
pub fn insured_wage<'p>(
    params: &'p ParamSet,
    injury: NaiveDate,
    wages: &[MonthlyWage],
    project: bool,
) -> Result<Determination<'p, InsuredWage>, RuleError> {
    let mut t = Trace::new(params, &[art(48)]);
    let window = t.scalar("insured_wage.window_months", injury)?;
    let window = window.to_i64().unwrap_or(12);
    let injury_index = i64::from(injury.year()) * 12 + i64::from(injury.month0());
    let mut seen: Vec<i64> = Vec::with_capacity(wages.len());
    let mut sum = Decimal::ZERO;
    let mut count: u32 = 0;
    let mut injury_month = None;
    for w in wages {
        if w.wage.is_sign_negative() && !w.wage.is_zero() {
            return Err(RuleError::InvalidFacts("a wage cannot be negative".into()));
        }
        if !(1..=12).contains(&w.month) {
            return Err(RuleError::InvalidFacts(format!(
                "month {} is not 1-12",
                w.month
            )));
        }
        let index = i64::from(w.year) * 12 + i64::from(w.month) - 1;
        if seen.contains(&index) {
            return Err(RuleError::InvalidFacts(format!(
                "the wage of {}-{:02} is given twice",
                w.year, w.month
            )));
        }
        seen.push(index);
        let before = injury_index - index;
        if (1..=window).contains(&before) {
            sum += w.wage;
            count += 1;
        } else if before == 0 {
            injury_month = Some(w.wage);
        }
    }
    let amount = match (count, injury_month) {
        (1.., _) => sum / Decimal::from(count),
        (0, Some(wage)) => {
            count = 1;
            wage
        }
        (0, None) if project => {
            let ratio = t.scalar("insured_wage.project_default_ratio", injury)?;
            average_wage_in_use(&mut t, injury)? * ratio
        }
        (0, None) => {
            return Err(RuleError::InvalidFacts(
                "no contribution wage for the month of the injury or the 12 months before it"
                    .into(),
            ));
        }
    };
    Ok(t.finish(InsuredWage {
        amount: round_fen(amount),
        months_used: count,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn w(year: i32, month: u32, wage: &str) -> MonthlyWage {
        MonthlyWage {
            year,
            month,
            wage: Decimal::from_str(wage).unwrap(),
        }
    }
    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }

    #[test]
    fn the_mean_of_the_twelve_months_before_the_injury_month() {
        let wages: Vec<MonthlyWage> = (1..=12)
            .map(|m| w(2025, m, if m <= 6 { "4000" } else { "5000" }))
            .collect();
        // Injury 2026-01-15: window 2025-01..2025-12.
        let iw = insured_wage(p(), d("2026-01-15"), &wages, false)
            .unwrap()
            .value;
        assert_eq!((iw.amount, iw.months_used), (Decimal::from(4500), 12));
        // Injury 2025-07-01: window 2024-07..2025-06; only 2025-01..06 present; July ignored.
        let iw = insured_wage(p(), d("2025-07-01"), &wages, false)
            .unwrap()
            .value;
        assert_eq!((iw.amount, iw.months_used), (Decimal::from(4000), 6));
    }

    #[test]
    fn a_mean_is_rounded_half_up_once() {
        let wages = [
            w(2025, 1, "1000.00"),
            w(2025, 2, "1000.01"),
            w(2025, 3, "1000.00"),
        ];
        let iw = insured_wage(p(), d("2025-04-02"), &wages, false)
            .unwrap()
            .value;
        assert_eq!(iw.amount.to_string(), "1000.00"); // 1000.00333…
        let wages = [w(2025, 1, "0.01"), w(2025, 2, "0.02")];
        let iw = insured_wage(p(), d("2025-03-02"), &wages, false)
            .unwrap()
            .value;
        assert_eq!(iw.amount.to_string(), "0.02"); // 0.015
    }

    #[test]
    fn a_project_worker_without_a_declared_wage_gets_60_percent_of_the_average() {
        let iw = insured_wage(p(), d("2025-08-08"), &[], true).unwrap();
        assert_eq!(iw.value.amount.to_string(), "3915.00");
        assert_eq!(iw.value.months_used, 0);
        assert!(insured_wage(p(), d("2025-08-08"), &[], false).is_err());
    }

    #[test]
    fn injured_in_the_first_month_of_cover_the_months_actually_paid_count() {
        let wages = [w(2025, 7, "5200"), w(2025, 8, "9000")];
        let iw = insured_wage(p(), d("2025-07-20"), &wages, false)
            .unwrap()
            .value;
        assert_eq!(
            (iw.amount.to_string(), iw.months_used),
            ("5200.00".into(), 1)
        );
        // A declared project wage is the wage, even in the first month; no 60 % default.
        let iw = insured_wage(p(), d("2025-07-20"), &wages, true)
            .unwrap()
            .value;
        assert_eq!(iw.amount.to_string(), "5200.00");
        // With an earlier month, the injury month is left out.
        let wages = [w(2025, 6, "4000"), w(2025, 7, "5200")];
        let iw = insured_wage(p(), d("2025-07-20"), &wages, false)
            .unwrap()
            .value;
        assert_eq!(
            (iw.amount.to_string(), iw.months_used),
            ("4000.00".into(), 1)
        );
    }

    #[test]
    fn a_month_given_twice_is_refused() {
        let wages = [w(2025, 1, "1000"), w(2025, 1, "2000")];
        assert!(insured_wage(p(), d("2025-04-02"), &wages, false).is_err());
    }
}
