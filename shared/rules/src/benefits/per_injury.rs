//! What counts across all the claims of one injury: the caps per injury (Art. 25 out-of-catalogue
//! fees, Art. 26 nursing subsidy: 单次工伤最高不超过3000元) and the items granted at most once
//! (the lump sums of Art. 29-32, the wage subsidy of Art. 27 and the start of a monthly benefit).
//! A claim's amount is what its own facts give, less nothing, but never more than the cap left
//! after the injury's earlier approved claims.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Item;
use crate::RuleError;
use crate::citation::Citation;
use crate::money::round_fen;
use crate::params::{Determination, ParamSet, Trace};

impl Item {
    /// Granted at most once per injury: the lump sums (Art. 29-32), the wage subsidy over the
    /// paid-leave period (Art. 27), and each monthly benefit (its schedule runs until it ends).
    #[must_use]
    pub const fn once_per_injury(self) -> bool {
        matches!(
            self,
            Item::OneTimeDisability
                | Item::OneTimeMedical
                | Item::OneTimeEmployment
                | Item::OneTimeDeath
                | Item::Funeral
                | Item::WageSubsidy
                | Item::DisabilityAllowance
                | Item::LivingCare
                | Item::DependantPension
        )
    }

    /// The parameter that caps the item per injury, across all its claims.
    #[must_use]
    pub const fn cap_per_injury(self) -> Option<&'static str> {
        match self {
            Item::NursingSubsidy => Some("benefit.nursing_subsidy.cap"),
            Item::OutOfCatalogue => Some("benefit.out_of_catalogue.cap"),
            _ => None,
        }
    }
}

/// The amount a claim may grant for `item` when the injury's earlier approved claims granted
/// `granted_before` of it: `amount`, or what is left under the per-injury cap in force on `on`
/// (never below zero). Items without a cap per injury keep `amount`.
///
/// # Errors
/// A negative amount; the cap pending or not in force.
pub fn within_injury_cap(
    params: &ParamSet,
    item: Item,
    on: NaiveDate,
    amount: Decimal,
    granted_before: Decimal,
) -> Result<Determination<'_, Decimal>, RuleError> {
    if amount.is_sign_negative() && !amount.is_zero()
        || granted_before.is_sign_negative() && !granted_before.is_zero()
    {
        return Err(RuleError::InvalidFacts("amounts cannot be negative".into()));
    }
    let mut t = Trace::new(params, &[] as &[Citation]);
    let Some(cap) = item.cap_per_injury() else {
        return Ok(t.finish(round_fen(amount)));
    };
    t.cite(item.article());
    let cap = t.scalar(cap, on)?;
    let left = (cap - granted_before).max(Decimal::ZERO);
    Ok(t.finish(round_fen(amount.min(left))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::citation::art;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn nursing_stops_at_3000_across_the_claims_of_one_injury() {
        let p = ParamSet::builtin().unwrap();
        let on = d("2025-03-01");
        let first = within_injury_cap(p, Item::NursingSubsidy, on, dec("2000"), dec("0")).unwrap();
        assert_eq!(first.value, dec("2000"));
        assert_eq!(first.basis, vec![art(26)]);
        let second =
            within_injury_cap(p, Item::NursingSubsidy, on, dec("1500"), dec("2000")).unwrap();
        assert_eq!(second.value, dec("1000"));
        let third =
            within_injury_cap(p, Item::NursingSubsidy, on, dec("100"), dec("3000")).unwrap();
        assert_eq!(third.value, Decimal::ZERO);
    }

    #[test]
    fn uncapped_items_keep_their_amount_and_lump_sums_come_once() {
        let p = ParamSet::builtin().unwrap();
        let v = within_injury_cap(
            p,
            Item::Medical,
            d("2025-03-01"),
            dec("99999.995"),
            dec("5"),
        )
        .unwrap();
        assert_eq!(v.value, dec("100000.00"));
        assert!(Item::OneTimeMedical.once_per_injury());
        assert!(!Item::Medical.once_per_injury());
        assert!(!Item::NursingSubsidy.once_per_injury());
    }

    #[test]
    fn the_out_of_catalogue_cap_is_the_citys_to_set() {
        let p = ParamSet::builtin().unwrap();
        let e = within_injury_cap(
            p,
            Item::OutOfCatalogue,
            d("2025-03-01"),
            dec("10"),
            dec("0"),
        )
        .unwrap_err();
        assert!(matches!(e, RuleError::ParameterPending { .. }), "{e:?}");
    }
}
