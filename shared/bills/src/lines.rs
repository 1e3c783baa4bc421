//! Who is billed in a month, and for what (Art. 8, 14, 16-17, 19).
//!
//! An accepted enrolment is billed its first month at acceptance (from the later of the asked
//! start and the day it was entered: cover cannot start earlier, Art. 8); after that, every
//! month it is covered on any day of, to the end of cover — never a month without cover. The
//! month billed at acceptance ([`Member::bills_from`]) is not billed again.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use swi_domain::enrolment::Status;
use swi_registry::enrolment::Member;
use swi_rules::RuleError;
use swi_rules::billing::{MonthTable, days_covered, month_of};
use swi_rules::category::IndustryClass;

use crate::bill::Line;

/// The articles a line rests on.
pub const LINE_BASIS: &str = "Art. 14, 17, 19";

/// The period an entry is billed over, if it is billed at all: its first and last day. At
/// acceptance, from the later of the asked start and the day it was entered (Art. 8: cover cannot
/// start earlier); afterwards, while it is covered — a person waiting for payment is billed only
/// the month billed at acceptance, so that no month without cover is paid for.
#[must_use]
pub fn billed_period(m: &Member, at_acceptance: bool) -> Option<(NaiveDate, Option<NaiveDate>)> {
    if matches!(
        m.status,
        Status::AwaitingMaterials | Status::AwaitingAcceptance | Status::Returned
    ) {
        return None;
    }
    if at_acceptance {
        let registered = m.start.max(m.entered_on.unwrap_or(m.start));
        return Some((registered, m.cover_end));
    }
    m.cover_start.map(|from| (from, m.cover_end))
}

/// The days of `month`'s month an entry is billed for: 0 when it is not billed that month
/// (outside its period, or billed already at acceptance unless `at_acceptance`).
#[must_use]
pub fn billed_days(m: &Member, month: NaiveDate, at_acceptance: bool) -> u32 {
    let month = month_of(month);
    if !at_acceptance && m.bills_from.is_some_and(|b| month_of(b) >= month) {
        return 0;
    }
    billed_period(m, at_acceptance).map_or(0, |(from, to)| days_covered(month, from, to))
}

/// The unit's rating a line needs: its industry class and floated band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    /// The unit's class (none for a self-payer, rated at their category's class).
    pub class: Option<IndustryClass>,
    /// The unit's floated band (Art. 13, 15).
    pub band: Option<Decimal>,
}

impl Rating {
    /// A self-payer: no unit, the category's own class (Art. 14).
    pub const SELF: Rating = Rating {
        class: None,
        band: None,
    };
}

/// The line of `m` on `table`'s month, when billed that month.
///
/// # Errors
/// The rating does not fit the person (no class for an employee, a band the class lacks).
pub fn line(
    table: &MonthTable<'_>,
    m: &Member,
    rating: Rating,
    at_acceptance: bool,
) -> Result<Option<Line>, RuleError> {
    let days = billed_days(m, table.month(), at_acceptance);
    if days == 0 {
        return Ok(None);
    }
    // A floated band applies to persons rated in the unit's class (Art. 13-15).
    let band = rating.band.filter(|_| m.category.fixed_class().is_none());
    let class = rating.class.filter(|_| m.category.fixed_class().is_none());
    let billed = table.bill(m.category, class, band, m.declared_wage, days)?;
    Ok(Some(Line {
        enrolment: m.id.clone(),
        name: m.name.clone(),
        category: m.category,
        industry_class: billed.premium.industry_class.get(),
        band,
        wage: m.declared_wage,
        base: billed.premium.base,
        rate: billed.premium.rate,
        days,
        amount: billed.amount,
        basis: LINE_BASIS.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use swi_rules::ParamSet;
    use swi_rules::category::Category;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn member(status: Status) -> Member {
        Member {
            id: "e-1".into(),
            person: String::new(),
            name: "张三".into(),
            category: Category::Employee,
            status,
            start: d("2026-03-10"),
            cover_start: None,
            cover_end: None,
            declared_wage: Decimal::from(5000),
            entered_on: Some(d("2026-03-12")),
            bills_from: None,
            owner: None,
        }
    }

    #[test]
    fn only_accepted_enrolments_are_billed() {
        for s in [
            Status::AwaitingMaterials,
            Status::AwaitingAcceptance,
            Status::Returned,
        ] {
            assert_eq!(billed_days(&member(s), d("2026-04-01"), false), 0);
        }
        // Waiting for payment: only the month billed at acceptance, never a month uncovered.
        assert_eq!(
            billed_days(&member(Status::AwaitingPayment), d("2026-04-01"), false),
            0
        );
        assert_eq!(
            billed_days(&member(Status::AwaitingPayment), d("2026-03-01"), true),
            20
        );
        // Ended before anyone accepted or paid: never billed.
        let mut ended = member(Status::Terminated);
        ended.cover_end = Some(d("2026-05-01"));
        assert_eq!(billed_days(&ended, d("2026-04-01"), false), 0);
    }

    #[test]
    fn the_month_billed_at_acceptance_is_not_billed_again() {
        let mut m = member(Status::AwaitingPayment);
        m.bills_from = Some(d("2026-03-01"));
        assert_eq!(billed_days(&m, d("2026-03-01"), false), 0);
        assert_eq!(billed_days(&m, d("2026-03-01"), true), 20); // 12th-31st
        assert_eq!(billed_days(&m, d("2026-04-01"), false), 0); // not yet covered
        m.status = Status::Covered;
        m.cover_start = Some(d("2026-03-13"));
        assert_eq!(billed_days(&m, d("2026-04-01"), false), 30);
        assert_eq!(billed_days(&m, d("2026-02-01"), false), 0);
    }

    #[test]
    fn a_leaver_is_billed_to_the_month_cover_ends_in() {
        let mut m = member(Status::Terminated);
        m.bills_from = Some(d("2026-03-01"));
        m.cover_start = Some(d("2026-03-13"));
        m.cover_end = Some(d("2026-05-03"));
        assert_eq!(billed_days(&m, d("2026-05-01"), false), 3);
        assert_eq!(billed_days(&m, d("2026-06-01"), false), 0);
    }

    #[test]
    fn covered_before_billing_began_is_billed_from_the_cover() {
        let mut m = member(Status::Covered);
        m.cover_start = Some(d("2026-01-20"));
        assert_eq!(billed_days(&m, d("2026-01-01"), false), 12);
        assert_eq!(billed_days(&m, d("2025-12-01"), false), 0);
    }

    #[test]
    fn a_line_uses_the_units_class_and_band_only_where_they_apply() {
        let params = ParamSet::builtin().unwrap();
        let table = MonthTable::new(params, d("2026-04-01")).unwrap();
        let rating = Rating {
            class: Some(IndustryClass::new(2).unwrap()),
            band: Some(Decimal::new(15, 1)),
        };
        let mut m = member(Status::Covered);
        m.cover_start = Some(d("2026-03-13"));
        m.category = Category::OverAge;
        let l = line(&table, &m, rating, false).unwrap().unwrap();
        assert_eq!(l.rate, Decimal::new(58, 4)); // 0.4 % + 0.12 % × 1.5
        assert_eq!(l.amount, Decimal::new(2900, 2));
        m.category = Category::VillageCadre;
        let l = line(&table, &m, rating, false).unwrap().unwrap();
        assert_eq!(l.industry_class, 1);
        assert_eq!(l.band, None);
        assert_eq!(l.rate, Decimal::new(26, 4));
    }
}
