//! Invariants of the rules, checked on generated facts (proptest).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use swi_rules::ParamSet;
use swi_rules::benefits::nursing::{Stay, nursing_subsidy};
use swi_rules::category::{Category, IndustryClass};
use swi_rules::money::round_fen;
use swi_rules::params::Value;
use swi_rules::premium::{PremiumFacts, contribution_base, monthly_premium};

fn params() -> &'static ParamSet {
    ParamSet::builtin().unwrap()
}

fn category() -> impl Strategy<Value = Category> {
    prop::sample::select(Category::ALL.to_vec())
}

/// A month of 2025-2027 (2026-2027 fall back to the 2025 average, Art. 20).
fn month() -> impl Strategy<Value = NaiveDate> {
    (2025i32..=2027, 1u32..=12).prop_map(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1).unwrap())
}

/// Wages in fen up to 100,000 yuan.
fn wage() -> impl Strategy<Value = Decimal> {
    (0i64..=10_000_000).prop_map(|fen| Decimal::new(fen, 2))
}

fn date_2025() -> impl Strategy<Value = NaiveDate> {
    (0i64..365)
        .prop_map(|d| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::TimeDelta::days(d))
}

fn facts(category: Category, month: NaiveDate, wage: Decimal, class: u32) -> PremiumFacts {
    PremiumFacts {
        category,
        month,
        wage,
        industry_class: category
            .fixed_class()
            .is_none()
            .then(|| IndustryClass::new(class).unwrap()),
        rate_band: None,
    }
}

proptest! {
    #[test]
    fn premium_is_monotone_in_the_wage(
        c in category(), m in month(), a in wage(), b in wage(), class in 1u32..=8
    ) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let p_lo = monthly_premium(params(), &facts(c, m, lo, class)).unwrap().value.amount;
        let p_hi = monthly_premium(params(), &facts(c, m, hi, class)).unwrap().value.amount;
        prop_assert!(p_lo <= p_hi, "{c}: {lo} → {p_lo}, {hi} → {p_hi}");
    }

    #[test]
    fn special_bases_stay_within_60_and_300_percent(c in category(), m in month(), w in wage()) {
        prop_assume!(c.is_special());
        let base = contribution_base(params(), c, m, w).unwrap().value;
        // The average wage in force for the month, as the parameter set says (not a copy of
        // today's figure, which would stop testing anything once the city publishes another).
        let Value::Scalar(average) = *params().value_on("average_wage.jiangxi", m).unwrap().value
        else {
            panic!("the average wage is a scalar");
        };
        prop_assert!(base >= average * Decimal::new(60, 2));
        prop_assert!(base <= average * Decimal::from(3));
        if c == Category::Flexible {
            prop_assert_eq!(base, average * Decimal::new(60, 2));
        }
    }

    #[test]
    fn premium_amounts_are_whole_fen_and_never_negative(c in category(), m in month(), w in wage(), class in 1u32..=8) {
        let p = monthly_premium(params(), &facts(c, m, w, class)).unwrap().value;
        prop_assert_eq!(p.amount.scale(), 2);
        prop_assert!(!p.amount.is_sign_negative());
        prop_assert_eq!(p.amount, round_fen(p.base * p.rate));
    }

    #[test]
    fn nursing_never_exceeds_3000_nor_100_a_day(
        from in date_2025(), len in 0i64..200,
        stays in prop::collection::vec((date_2025(), 0i64..60), 0..8)
    ) {
        let to = from + chrono::TimeDelta::days(len);
        let stays: Vec<Stay> = stays
            .into_iter()
            .map(|(a, l)| Stay { admitted: a, discharged: a + chrono::TimeDelta::days(l) })
            .collect();
        let n = nursing_subsidy(params(), (from, to), &stays).unwrap().value;
        prop_assert!(n.amount <= Decimal::from(3000));
        prop_assert!(i64::from(n.days) <= len + 1);
        prop_assert_eq!(n.amount, (Decimal::from(100) * Decimal::from(n.days)).min(Decimal::from(3000)));
    }

    #[test]
    fn rounding_is_half_up_at_every_midpoint(fen in -10_000_000i64..10_000_000) {
        // x.xx5 exactly: the midpoint between two fen.
        let midpoint = Decimal::new(fen * 10 + 5, 3);
        let rounded = round_fen(midpoint);
        let away = Decimal::new(fen + 1, 2);
        let expected = if fen >= 0 { away } else { Decimal::new(fen, 2) };
        prop_assert_eq!(rounded, expected, "{}", midpoint);
        prop_assert_eq!(rounded, midpoint.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero));
    }

    #[test]
    fn rounding_moves_at_most_half_a_fen(mantissa in any::<i64>(), scale in 0u32..10) {
        let x = Decimal::new(mantissa, scale);
        let r = round_fen(x);
        prop_assert!((r - x).abs() <= Decimal::new(5, 3));
        prop_assert_eq!(r.scale(), 2);
    }
}
