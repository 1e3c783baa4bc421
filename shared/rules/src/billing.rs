//! Billing a month (Art. 14, 16-17, 19-21): the month's premium table, resolved once from the
//! parameters in force for the month and then applied to each person by arithmetic alone (a
//! monthly run bills a million persons with it); the part-month reading; the day after which an
//! unpaid bill is arrears.
//!
//! [`MonthTable::premium`] answers exactly what [`crate::premium::monthly_premium`] answers for
//! the same facts (a property test holds them together); it differs only in resolving the
//! parameters once per month instead of once per person.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::ParamSet;
use crate::RuleError;
use crate::category::{Category, IndustryClass};
use crate::citation::{Citation, art};
use crate::money::round_fen;
use crate::params::{Status, Trace, Used};
use crate::premium::{Premium, band_allowed};

/// The first day of the month of `d`.
#[must_use]
pub fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The first day of the month after `month`'s.
///
/// # Errors
/// A date at the end of the calendar.
pub fn next_month(month: NaiveDate) -> Result<NaiveDate, RuleError> {
    month_of(month)
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| RuleError::InvalidFacts(format!("no month follows {month}")))
}

/// The number of days in `month`'s month.
#[must_use]
pub fn days_in_month(month: NaiveDate) -> u32 {
    let first = month_of(month);
    next_month(first)
        .ok()
        .and_then(|n| u32::try_from((n - first).num_days()).ok())
        .unwrap_or(31)
}

/// How many days of `month`'s month fall in the period from `from` to `to` (open-ended when
/// `None`), both included; 0 when the period misses the month.
#[must_use]
pub fn days_covered(month: NaiveDate, from: NaiveDate, to: Option<NaiveDate>) -> u32 {
    let first = month_of(month);
    let last = first + chrono::Days::new(u64::from(days_in_month(first)) - 1);
    let start = from.max(first);
    let end = to.map_or(last, |t| t.min(last));
    if end < start {
        0
    } else {
        u32::try_from((end - start).num_days() + 1).unwrap_or(0)
    }
}

/// A person's premium for a month, as billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billed {
    /// The monthly premium (base, rate, the whole month's amount, class).
    pub premium: Premium,
    /// Days of the month covered.
    pub days: u32,
    /// The amount billed: the whole month's, or pro rata by days when the city reads part
    /// months so (rounded half-up to the fen).
    pub amount: Decimal,
}

/// The premium figures of one month, resolved once.
#[derive(Debug, Clone)]
pub struct MonthTable<'p> {
    month: NaiveDate,
    days: u32,
    ordinary: [Decimal; 8],
    industry_base: [Decimal; 8],
    special: [Decimal; 8],
    average: Decimal,
    floor: Decimal,
    ceiling: Decimal,
    flexible: Decimal,
    whole_month: bool,
    due: NaiveDate,
    basis: Vec<Citation>,
    used: Vec<Used<'p>>,
}

fn classes(t: &mut Trace<'_>, name: &str, on: NaiveDate) -> Result<[Decimal; 8], RuleError> {
    let mut out = [Decimal::ZERO; 8];
    for (class, slot) in (1u32..).zip(out.iter_mut()) {
        *slot = t.item(name, on, class)?;
    }
    Ok(out)
}

impl<'p> MonthTable<'p> {
    /// The table of `month`'s month (Art. 14, 17, 19-20): rates by class, the average wage in
    /// use and the bases it bounds, the part-month reading and the due day.
    ///
    /// # Errors
    /// A month before the scheme (`NotInForce`), a pending parameter.
    pub fn new(params: &'p ParamSet, month: NaiveDate) -> Result<Self, RuleError> {
        let month = month_of(month);
        let mut t = Trace::new(params, &[art(14), art(16), art(17), art(19), art(20)]);
        let ordinary = classes(&mut t, "rate.ordinary", month)?;
        let industry_base = classes(&mut t, "rate.industry_base", month)?;
        let special = classes(&mut t, "rate.special", month)?;
        let average = t.scalar("average_wage.jiangxi", month)?;
        let floor = average * t.scalar("base.floor_ratio", month)?;
        let ceiling = average * t.scalar("base.ceiling_ratio", month)?;
        let flexible = average * t.scalar("base.flexible_ratio", month)?;
        let whole_month = t.scalar("billing.whole_month", month)? == Decimal::ONE;
        let due_day = t.scalar("billing.due_day", month)?;
        let next = next_month(month)?;
        let day = due_day
            .trunc()
            .to_u32()
            .unwrap_or(1)
            .clamp(1, days_in_month(next));
        let due = next.with_day(day).unwrap_or(next);
        let d = t.finish(());
        Ok(MonthTable {
            month,
            days: days_in_month(month),
            ordinary,
            industry_base,
            special,
            average,
            floor,
            ceiling,
            flexible,
            whole_month,
            due,
            basis: d.basis,
            used: d.used,
        })
    }

    /// The month (its first day).
    #[must_use]
    pub fn month(&self) -> NaiveDate {
        self.month
    }

    /// The Jiangxi average monthly wage in use for the month (Art. 17, 20).
    #[must_use]
    pub fn average_wage(&self) -> Decimal {
        self.average
    }

    /// Where the average wage in use comes from, and its status.
    #[must_use]
    pub fn average_wage_source(&self) -> Option<&Used<'p>> {
        self.used
            .iter()
            .find(|u| u.parameter == "average_wage.jiangxi")
    }

    /// Whether a part month is billed whole (`billing.whole_month`).
    #[must_use]
    pub fn whole_month(&self) -> bool {
        self.whole_month
    }

    /// The day by which the month's premium is due; unpaid after it, it is arrears (Art. 21).
    #[must_use]
    pub fn due(&self) -> NaiveDate {
        self.due
    }

    /// The provisions the month's bills rest on.
    #[must_use]
    pub fn basis(&self) -> &[Citation] {
        &self.basis
    }

    /// Every figure the table used.
    #[must_use]
    pub fn used(&self) -> &[Used<'p>] {
        &self.used
    }

    /// The figures used that are not `confirmed`, or that the city set.
    pub fn assumptions(&self) -> impl Iterator<Item = &Used<'p>> {
        self.used
            .iter()
            .filter(|u| u.status != Status::Confirmed || u.source.city)
    }

    /// The rate of a person of `category` in a unit of `class` floated to `band` (Art. 13-15;
    /// see [`crate::premium::monthly_premium`]), and the class it is rated in.
    ///
    /// # Errors
    /// A missing or contradictory class; a band that does not exist for the class, or given for
    /// a category rated at a fixed class.
    pub fn rate(
        &self,
        category: Category,
        class: Option<IndustryClass>,
        band: Option<Decimal>,
    ) -> Result<(Decimal, IndustryClass), RuleError> {
        let class = match (category.fixed_class(), class) {
            (Some(fixed), Some(given)) if fixed != given => {
                return Err(RuleError::InvalidFacts(format!(
                    "{category} is rated in industry class {fixed} (Art. 14), not {given}"
                )));
            }
            (Some(fixed), _) => fixed,
            (None, Some(given)) => given,
            (None, None) => {
                return Err(RuleError::InvalidFacts(format!(
                    "industry_class is required for {category} (the employer's class, Art. 14)"
                )));
            }
        };
        let i = (class.get() - 1) as usize;
        let pick = |table: &[Decimal; 8]| table.get(i).copied().unwrap_or_default();
        let special = category.is_special();
        let rate = match band {
            None if special => pick(&self.special),
            None => pick(&self.ordinary),
            Some(band) => {
                if category.fixed_class().is_some() {
                    return Err(RuleError::InvalidFacts(format!(
                        "{category} is rated at a fixed class's standard (Art. 14); a floated band applies to persons rated in their employer's class"
                    )));
                }
                if !band_allowed(class, band) {
                    return Err(RuleError::InvalidFacts(format!(
                        "band {band} does not exist for industry class {class}"
                    )));
                }
                let top_up = pick(&self.ordinary) * band;
                if special {
                    pick(&self.industry_base) + top_up
                } else {
                    top_up
                }
            }
        };
        Ok((rate, class))
    }

    /// The contribution base of a person of `category` declaring `wage` (Art. 17).
    ///
    /// # Errors
    /// A negative wage.
    pub fn base(&self, category: Category, wage: Decimal) -> Result<Decimal, RuleError> {
        if wage.is_sign_negative() && !wage.is_zero() {
            return Err(RuleError::InvalidFacts(
                "the wage cannot be negative".into(),
            ));
        }
        Ok(match category {
            Category::Employee => wage,
            Category::Flexible => self.flexible,
            _ => wage.clamp(self.floor, self.ceiling),
        })
    }

    /// The monthly premium of one person (Art. 14, 17): base × rate, rounded half-up to the fen.
    ///
    /// # Errors
    /// As [`MonthTable::rate`] and [`MonthTable::base`].
    pub fn premium(
        &self,
        category: Category,
        class: Option<IndustryClass>,
        band: Option<Decimal>,
        wage: Decimal,
    ) -> Result<Premium, RuleError> {
        let (rate, industry_class) = self.rate(category, class, band)?;
        let base = self.base(category, wage)?;
        Ok(Premium {
            base,
            rate,
            amount: round_fen(base * rate),
            industry_class,
        })
    }

    /// What one person covered on `days` days of the month is billed: the whole month's premium
    /// when the city reads part months as whole (`billing.whole_month`, `assumed`), else pro rata
    /// by days covered.
    ///
    /// # Errors
    /// As [`MonthTable::premium`]; no day of the month covered.
    pub fn bill(
        &self,
        category: Category,
        class: Option<IndustryClass>,
        band: Option<Decimal>,
        wage: Decimal,
        days: u32,
    ) -> Result<Billed, RuleError> {
        if days == 0 || days > self.days {
            return Err(RuleError::InvalidFacts(format!(
                "{days} days of a {}-day month",
                self.days
            )));
        }
        let premium = self.premium(category, class, band, wage)?;
        let amount = if self.whole_month || days == self.days {
            premium.amount
        } else {
            round_fen(premium.base * premium.rate * Decimal::from(days) / Decimal::from(self.days))
        };
        Ok(Billed {
            premium,
            days,
            amount,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::premium::{PremiumFacts, monthly_premium};
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }

    #[test]
    fn days_covered_counts_both_ends_and_misses_outside() {
        let m = day("2025-02-01");
        assert_eq!(days_in_month(m), 28);
        assert_eq!(days_covered(m, day("2025-01-01"), None), 28);
        assert_eq!(
            days_covered(m, day("2025-02-10"), Some(day("2025-02-10"))),
            1
        );
        assert_eq!(
            days_covered(m, day("2025-02-27"), Some(day("2025-03-05"))),
            2
        );
        assert_eq!(days_covered(m, day("2025-03-01"), None), 0);
        assert_eq!(
            days_covered(m, day("2024-01-01"), Some(day("2025-01-31"))),
            0
        );
    }

    #[test]
    fn the_due_day_is_the_fifteenth_of_the_next_month_and_assumed() {
        let t = MonthTable::new(p(), day("2025-12-09")).unwrap();
        assert_eq!(t.month(), day("2025-12-01"));
        assert_eq!(t.due(), day("2026-01-15"));
        assert!(t.assumptions().any(|u| u.parameter == "billing.due_day"));
        assert!(
            t.assumptions()
                .any(|u| u.parameter == "billing.whole_month")
        );
        assert!(t.whole_month());
    }

    #[test]
    fn a_part_month_is_billed_whole_by_default() {
        let t = MonthTable::new(p(), day("2025-03-01")).unwrap();
        let b = t
            .bill(Category::Flexible, None, None, Decimal::ZERO, 3)
            .unwrap();
        assert_eq!(b.amount, dec("20.36"));
        assert_eq!(b.days, 3);
        assert!(
            t.bill(Category::Flexible, None, None, Decimal::ZERO, 0)
                .is_err()
        );
        assert!(
            t.bill(Category::Flexible, None, None, Decimal::ZERO, 32)
                .is_err()
        );
    }

    #[test]
    fn pro_rata_when_the_city_reads_part_months_so() {
        let set = p()
            .merged(
                "city.toml",
                r#"[[param."billing.whole_month".values]]
from = "2025-01-01"
value = "0"
status = "confirmed"
source = { doc = "city notice" }
"#,
            )
            .unwrap();
        let t = MonthTable::new(&set, day("2025-03-01")).unwrap();
        // 3915 × 0.0052 × 10 / 31 = 6.5671 → 6.57
        let b = t
            .bill(Category::Flexible, None, None, Decimal::ZERO, 10)
            .unwrap();
        assert_eq!(b.amount, dec("6.57"));
        assert_eq!(
            t.bill(Category::Flexible, None, None, Decimal::ZERO, 31)
                .unwrap()
                .amount,
            dec("20.36")
        );
    }

    #[test]
    fn before_the_scheme_there_is_no_table() {
        assert!(matches!(
            MonthTable::new(p(), day("2024-12-01")),
            Err(RuleError::NotInForce { .. })
        ));
    }

    fn category() -> impl Strategy<Value = Category> {
        prop::sample::select(Category::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn the_table_answers_as_the_rule_does(
            category in category(),
            class in prop::option::of(1u32..=8),
            band in prop::option::of(prop::sample::select(vec!["0.5", "0.8", "1", "1.2", "1.5", "0.7"])),
            wage in 0i64..5_000_000,
            year in 2025i32..=2027,
            month in 1u32..=12,
        ) {
            let m = NaiveDate::from_ymd_opt(year, month, 1).unwrap();
            let facts = PremiumFacts {
                category,
                month: m,
                wage: Decimal::new(wage, 2),
                industry_class: class.map(|c| IndustryClass::new(c).unwrap()),
                rate_band: band.map(dec),
            };
            let table = MonthTable::new(p(), m).unwrap();
            let slow = monthly_premium(p(), &facts).map(|d| d.value);
            let fast = table.premium(facts.category, facts.industry_class, facts.rate_band, facts.wage);
            prop_assert_eq!(slow.is_ok(), fast.is_ok(), "{:?} vs {:?}", slow, fast);
            if let (Ok(s), Ok(f)) = (slow, fast) {
                prop_assert_eq!(s, f);
            }
        }
    }
}
