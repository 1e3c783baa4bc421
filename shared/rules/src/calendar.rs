//! Working days and the terms counted in them (Art. 18, 38), and the monthly fund cycle (Art. 37).
//!
//! A working day is Monday-Friday not in the year's holiday list, or a make-up working day
//! (调休上班), per the calendar parameters (FIGURES §C). Counting starts the day after the event;
//! the answer is the N-th working day. In a year whose holidays are not loaded (the State Council
//! publishes them late each year) the working days are Monday-Friday, and the answer names
//! `calendar.YYYY` among its assumptions (`assumed`): the business never stops for want of a
//! notice, and loading the year (a `[[calendar]]` of the parameter file) replaces the stand-in.

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;

use crate::RuleError;
use crate::citation::art;
use crate::params::{Determination, ParamSet, Trace};

/// Whether `date` is a working day (Monday-Friday in a year whose holidays are not loaded).
///
/// # Errors
/// `CalendarNotLoaded` only outside the years a calendar can stand in for.
pub fn is_working_day(params: &ParamSet, date: NaiveDate) -> Result<bool, RuleError> {
    Ok(params.calendar_year(date.year())?.is_working_day(date))
}

/// The `n`-th working day after `event` (the event's own day does not count).
///
/// # Errors
/// `CalendarNotLoaded` only outside the years a calendar can stand in for.
pub fn nth_working_day_after(
    t: &mut Trace<'_>,
    event: NaiveDate,
    n: u32,
) -> Result<NaiveDate, RuleError> {
    let mut d = event;
    let mut left = n;
    let mut cal = t.calendar(event.year())?;
    while left > 0 {
        d = d
            .succ_opt()
            .ok_or_else(|| RuleError::InvalidFacts("date out of range".into()))?;
        if d.year() != cal.year {
            cal = t.calendar(d.year())?;
        }
        if cal.is_working_day(d) {
            left -= 1;
        }
    }
    Ok(d)
}

fn term<'p>(
    params: &'p ParamSet,
    event: NaiveDate,
    parameter: &str,
    article: u16,
) -> Result<Determination<'p, NaiveDate>, RuleError> {
    let mut t = Trace::new(params, &[art(article)]);
    let n = t.scalar(parameter, event)?;
    let n = n
        .to_u32()
        .ok_or_else(|| RuleError::UnknownParameter(format!("{parameter} is not a day count")))?;
    let date = nth_working_day_after(&mut t, event, n)?;
    Ok(t.finish(date))
}

/// The last day to review a declaration received on `received`: within 3 working days of
/// receiving the materials (Art. 18: 应于收到申报材料3个工作日内审核完毕).
///
/// # Errors
/// `NotInForce` before the scheme.
pub fn review_by(
    params: &ParamSet,
    received: NaiveDate,
) -> Result<Determination<'_, NaiveDate>, RuleError> {
    term(params, received, "term.review_working_days", 18)
}

/// The last day to finish reviewing a benefit claim accepted on `accepted` (Art. 34 orders the
/// steps; the time limit is a figure the city sets, `term.claim_review_working_days`).
///
/// # Errors
/// `ParameterPending` until the city sets the limit; `NotInForce` before the scheme.
pub fn claim_review_by(
    params: &ParamSet,
    accepted: NaiveDate,
) -> Result<Determination<'_, NaiveDate>, RuleError> {
    term(params, accepted, "term.claim_review_working_days", 34)
}

/// The last day to pay a benefit approved on `approved`: within 10 working days, holidays
/// extending the term (Art. 38: 10个工作日内（节假日顺延）支付).
///
/// # Errors
/// `NotInForce` before the scheme.
pub fn pay_by(
    params: &ParamSet,
    approved: NaiveDate,
) -> Result<Determination<'_, NaiveDate>, RuleError> {
    term(params, approved, "term.payment_working_days", 38)
}

/// The deadlines of the fund cycle that settles one month's payouts (Art. 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundCycle {
    /// The contractor submits the month's payouts (提交上月赔付资料) by this day.
    pub payouts_by: NaiveDate,
    /// The contractor submits the payment request (请款计划) by this day.
    pub request_by: NaiveDate,
    /// The agency transfers the money (拨付) by this day.
    pub transfer_by: NaiveDate,
    /// The contractor pays the benefits (支付待遇) by this day.
    pub pay_by: NaiveDate,
}

/// The cycle for the payouts of `year`-`month`, run in the following month (Art. 37: 承办机构
/// 每月5日前向社会保险经办机构提交上月赔付资料…于每月10日前向社会保险经办机构提交请款计划…每月
/// 15日前拨付至承办机构…承办机构应在每月20日前支付待遇). The days are calendar days as the
/// article writes them.
///
/// # Errors
/// `NotInForce` before the scheme; `InvalidFacts` for a month outside 1-12.
pub fn fund_cycle(
    params: &ParamSet,
    year: i32,
    month: u32,
) -> Result<Determination<'_, FundCycle>, RuleError> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| RuleError::InvalidFacts(format!("{year}-{month:02} is not a month")))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| RuleError::InvalidFacts("month out of range".into()))?;
    let mut t = Trace::new(params, &[art(37)]);
    let mut day = |name: &str| -> Result<NaiveDate, RuleError> {
        let n = t.scalar(name, first)?.to_u32().unwrap_or(0);
        next.with_day(n)
            .ok_or_else(|| RuleError::UnknownParameter(format!("{name} is not a day of month")))
    };
    let cycle = FundCycle {
        payouts_by: day("cycle.payouts_day")?,
        request_by: day("cycle.request_day")?,
        transfer_by: day("cycle.transfer_day")?,
        pay_by: day("cycle.payment_day")?,
    };
    Ok(t.finish(cycle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }

    #[test]
    fn make_up_working_days_count_and_holidays_do_not() {
        assert!(is_working_day(p(), d("2025-01-26")).unwrap()); // Sunday, make-up day
        assert!(!is_working_day(p(), d("2025-01-28")).unwrap()); // Spring Festival
        assert!(!is_working_day(p(), d("2025-01-25")).unwrap()); // Saturday
        assert!(is_working_day(p(), d("2025-01-27")).unwrap()); // Monday
        assert!(is_working_day(p(), d("2026-02-28")).unwrap()); // Saturday, make-up day
    }

    #[test]
    fn payment_within_ten_working_days_skips_the_spring_festival() {
        // Approved Fri 2025-01-24: Sun 26 (make-up), Mon 27, then 28 Jan - 4 Feb off,
        // Wed 5, Thu 6, Fri 7, Sat 8 (make-up), Mon 10, Tue 11, Wed 12, Thu 13 is the 10th.
        assert_eq!(pay_by(p(), d("2025-01-24")).unwrap().value, d("2025-02-13"));
    }

    #[test]
    fn review_within_three_working_days_across_new_year() {
        // Received Wed 2025-12-31: 1-3 Jan 2026 off, Sun 4 Jan is a make-up day, Mon 5, Tue 6.
        assert_eq!(
            review_by(p(), d("2025-12-31")).unwrap().value,
            d("2026-01-06")
        );
    }

    #[test]
    fn a_term_in_a_year_not_loaded_counts_weekdays_and_says_so() {
        // Mon 2026-12-28: Tue 29, Wed 30, Thu 31, then 2027 (not loaded): Fri 1 Jan is taken as
        // a working day, Mon 4 … Fri 8, Mon 11 is the 10th.
        let d10 = pay_by(p(), d("2026-12-28")).unwrap();
        assert_eq!(d10.value, d("2027-01-11"));
        let assumed: Vec<&str> = d10.assumptions().map(|u| u.parameter).collect();
        assert_eq!(assumed, vec!["calendar.2027"]);
        assert!(
            d10.assumptions()
                .all(|u| u.source.label().contains("2027 holidays are not loaded"))
        );
        let loaded = pay_by(p(), d("2026-06-01")).unwrap();
        assert_eq!(loaded.assumptions().count(), 0);
        assert!(matches!(
            pay_by(p(), d("2024-12-20")).unwrap_err(),
            RuleError::NotInForce { .. }
        ));
    }

    #[test]
    fn past_the_years_a_calendar_can_stand_in_for_a_term_is_an_error_not_a_guess() {
        assert_eq!(
            pay_by(p(), d("2199-12-30")).unwrap_err(),
            RuleError::CalendarNotLoaded { year: 2200 }
        );
        assert!(pay_by(p(), d("2199-12-01")).is_ok());
    }

    #[test]
    fn a_year_loaded_from_a_parameter_file_replaces_the_stand_in() {
        let set = p()
            .merged(
                "city.toml",
                r#"
                [[calendar]]
                year = 2027
                holidays = ["2027-01-01"]
                workdays = []
                status = "confirmed"
                source = { doc = "国务院办公厅关于2027年部分节假日安排的通知" }
                "#,
            )
            .unwrap();
        let d10 = pay_by(&set, d("2026-12-28")).unwrap();
        assert_eq!(d10.value, d("2027-01-12"));
        assert_eq!(d10.assumptions().count(), 0);
    }

    #[test]
    fn the_fund_cycle_runs_in_the_following_month() {
        let c = fund_cycle(p(), 2025, 12).unwrap().value;
        assert_eq!(c.payouts_by, d("2026-01-05"));
        assert_eq!(c.request_by, d("2026-01-10"));
        assert_eq!(c.transfer_by, d("2026-01-15"));
        assert_eq!(c.pay_by, d("2026-01-20"));
    }
}
