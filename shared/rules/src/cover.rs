//! When cover starts (Art. 8), and the flexible worker's change notice (Art. 18).

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rust_decimal::prelude::ToPrimitive;

use crate::RuleError;
use crate::citation::art;
use crate::params::{Determination, ParamSet, Trace};

/// The first day of cover (Art. 8: 参保生效时间以录入信息系统、单位办理参保缴费手续次日为准):
/// the day after the later of the day the record was entered in the system and the day the
/// premium was paid, both civil dates in China.
///
/// # Errors
/// `InvalidFacts` at the end of the date range.
pub fn cover_start(
    params: &ParamSet,
    entered: NaiveDate,
    paid: NaiveDate,
) -> Result<Determination<'_, NaiveDate>, RuleError> {
    let t = Trace::new(params, &[art(8)]);
    let later = entered.max(paid);
    let start = later
        .succ_opt()
        .ok_or_else(|| RuleError::InvalidFacts("date out of range".into()))?;
    Ok(t.finish(start))
}

/// Whether a flexible worker's change was registered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeNotice {
    /// Registered at least the required hours before the change.
    pub timely: bool,
    /// The latest moment (China time) at which the change could be registered.
    pub latest: NaiveDateTime,
}

/// A flexible worker whose working hours, place or duties change must register the change at
/// least 48 hours before it happens (Art. 18: 应在发生变化前48小时内申请办理变更登记). Both
/// moments are China time.
///
/// # Errors
/// `NotInForce` before the scheme.
pub fn change_notice(
    params: &ParamSet,
    registered: NaiveDateTime,
    effective: NaiveDateTime,
) -> Result<Determination<'_, ChangeNotice>, RuleError> {
    let mut t = Trace::new(params, &[art(18)]);
    let hours = t
        .scalar("term.flexible_change_notice_hours", effective.date())?
        .to_i64()
        .unwrap_or(0);
    let latest = effective - TimeDelta::hours(hours);
    Ok(t.finish(ChangeNotice {
        timely: registered <= latest,
        latest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }
    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }

    #[test]
    fn cover_starts_the_day_after_the_later_of_entry_and_payment() {
        assert_eq!(
            cover_start(p(), d("2025-03-10"), d("2025-03-12"))
                .unwrap()
                .value,
            d("2025-03-13")
        );
        assert_eq!(
            cover_start(p(), d("2025-12-31"), d("2025-12-30"))
                .unwrap()
                .value,
            d("2026-01-01")
        );
    }

    #[test]
    fn a_change_registered_exactly_48_hours_before_is_in_time() {
        let eff = dt("2025-06-10T08:00");
        let c = change_notice(p(), dt("2025-06-08T08:00"), eff)
            .unwrap()
            .value;
        assert!(c.timely);
        assert_eq!(c.latest, dt("2025-06-08T08:00"));
        assert!(
            !change_notice(p(), dt("2025-06-08T08:01"), eff)
                .unwrap()
                .value
                .timely
        );
    }
}
