//! Nursing subsidy during the paid-leave period (停工留薪期护理补助), Art. 26.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::RuleError;
use crate::citation::art;
use crate::money::round_fen;
use crate::params::{Determination, ParamSet, Trace};

/// One hospital stay, as China dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    /// Day of admission.
    pub admitted: NaiveDate,
    /// Day of discharge.
    pub discharged: NaiveDate,
}

/// The nursing subsidy of one injury.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nursing {
    /// Days counted.
    pub days: u32,
    /// Amount, rounded half-up to the fen.
    pub amount: Decimal,
}

/// Counts the days in hospital inside the paid-leave period: every calendar day from admission
/// to discharge inclusive (a part day is a day); a day covered by several stays — a discharge and
/// a re-admission on the same day — counts once.
///
/// # Errors
/// `InvalidFacts` when a stay or the period ends before it starts.
pub fn nursing_days(paid_leave: (NaiveDate, NaiveDate), stays: &[Stay]) -> Result<u32, RuleError> {
    let (from, to) = paid_leave;
    if to < from {
        return Err(RuleError::InvalidFacts(
            "the paid-leave period ends before it starts".into(),
        ));
    }
    let mut spans: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(stays.len());
    for s in stays {
        if s.discharged < s.admitted {
            return Err(RuleError::InvalidFacts(format!(
                "a stay is discharged ({}) before it is admitted ({})",
                s.discharged, s.admitted
            )));
        }
        let (a, b) = (s.admitted.max(from), s.discharged.min(to));
        if a <= b {
            spans.push((a, b));
        }
    }
    spans.sort_unstable();
    let mut days: i64 = 0;
    let mut current: Option<(NaiveDate, NaiveDate)> = None;
    for (a, b) in spans {
        current = match current {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                days += (cb - ca).num_days() + 1;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((ca, cb)) = current {
        days += (cb - ca).num_days() + 1;
    }
    u32::try_from(days).map_err(|_| RuleError::InvalidFacts("too many days".into()))
}

/// The nursing subsidy (Art. 26: 每人每天100元，不满一天按一天计算，单次工伤最高不超过3000元。
/// 如受伤职工出院后，同一天转院再次办理入院的，前次出院之日和再次入院之日的护理补助按一天算):
/// 100 yuan per day counted by [`nursing_days`], at most
/// 3,000 per injury. The figures are those in force on the first day of the paid-leave period.
///
/// # Errors
/// Inconsistent dates; `NotInForce` before the scheme.
pub fn nursing_subsidy<'p>(
    params: &'p ParamSet,
    paid_leave: (NaiveDate, NaiveDate),
    stays: &[Stay],
) -> Result<Determination<'p, Nursing>, RuleError> {
    let mut t = Trace::new(params, &[art(26)]);
    let days = nursing_days(paid_leave, stays)?;
    let per_day = t.scalar("benefit.nursing_subsidy.per_day", paid_leave.0)?;
    let cap = t.scalar("benefit.nursing_subsidy.cap", paid_leave.0)?;
    let amount = round_fen((per_day * Decimal::from(days)).min(cap));
    Ok(t.finish(Nursing { days, amount }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn stay(a: &str, b: &str) -> Stay {
        Stay {
            admitted: d(a),
            discharged: d(b),
        }
    }
    fn p() -> &'static ParamSet {
        ParamSet::builtin().unwrap()
    }

    #[test]
    fn nursing_subsidy_counts_a_same_day_transfer_once() {
        let period = (d("2025-03-01"), d("2025-05-31"));
        let stays = [
            stay("2025-03-01", "2025-03-10"),
            stay("2025-03-10", "2025-03-15"),
        ];
        let n = nursing_subsidy(p(), period, &stays).unwrap().value;
        assert_eq!(n.days, 15);
        assert_eq!(n.amount, Decimal::from(1500));
    }

    #[test]
    fn only_days_inside_the_paid_leave_period_count() {
        let period = (d("2025-03-05"), d("2025-03-08"));
        let n = nursing_days(period, &[stay("2025-03-01", "2025-03-20")]).unwrap();
        assert_eq!(n, 4);
        assert_eq!(
            nursing_days(period, &[stay("2025-04-01", "2025-04-02")]).unwrap(),
            0
        );
    }

    #[test]
    fn the_subsidy_stops_at_3000_per_injury() {
        let period = (d("2025-01-01"), d("2025-12-31"));
        let n = nursing_subsidy(p(), period, &[stay("2025-02-01", "2025-03-02")])
            .unwrap()
            .value;
        assert_eq!((n.days, n.amount), (30, Decimal::from(3000)));
        let n = nursing_subsidy(p(), period, &[stay("2025-02-01", "2025-03-03")])
            .unwrap()
            .value;
        assert_eq!((n.days, n.amount), (31, Decimal::from(3000)));
    }

    #[test]
    fn a_stay_discharged_before_admission_is_refused() {
        let period = (d("2025-01-01"), d("2025-12-31"));
        assert!(nursing_days(period, &[stay("2025-02-10", "2025-02-01")]).is_err());
        assert!(nursing_days((d("2025-02-01"), d("2025-01-01")), &[]).is_err());
    }
}
