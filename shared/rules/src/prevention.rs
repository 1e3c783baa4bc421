//! The work-injury prevention fund (工伤预防费), Art. 50.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::RuleError;
use crate::citation::art;
use crate::money::round_fen;
use crate::params::{Determination, ParamSet, Trace};

/// The prevention fund drawn in a year (Art. 50: 按照3%的比例从上年度补充工伤保险费征缴收入中
/// 提取工伤预防费): 3 % of the previous year's premium income, rounded half-up to the fen. `on`
/// is a day of the year in which the fund is drawn.
///
/// # Errors
/// A negative income; `NotInForce` before the scheme.
pub fn prevention_fund(
    params: &ParamSet,
    premium_income: Decimal,
    on: NaiveDate,
) -> Result<Determination<'_, Decimal>, RuleError> {
    if premium_income.is_sign_negative() && !premium_income.is_zero() {
        return Err(RuleError::InvalidFacts(
            "premium income cannot be negative".into(),
        ));
    }
    let mut t = Trace::new(params, &[art(50)]);
    let ratio = t.scalar("prevention_fund.ratio", on)?;
    Ok(t.finish(round_fen(premium_income * ratio)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_percent_of_last_years_income_rounded_half_up() {
        let p = ParamSet::builtin().unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let f = |s: &str| {
            prevention_fund(p, s.parse().unwrap(), on)
                .unwrap()
                .value
                .to_string()
        };
        assert_eq!(f("1000000"), "30000.00");
        assert_eq!(f("0.50"), "0.02"); // 0.015
    }
}
