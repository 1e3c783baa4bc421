//! The contribution history a benefit's insured wage is computed from (Art. 48: 前12个月月平均
//! 缴费工资（不足12个月按实际缴费月平均工资）), as a port: [`ContributionHistory`]. Today it is
//! served by [`DeclaredWages`] — each month the cover ran, at the wage declared for it; the
//! billing step will serve it from the months actually paid, and claim review will not change.

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use swi_platform::{ApiError, Platform};
use swi_rules::benefits::insured_wage::MonthlyWage;

use crate::person::Cover;

/// The months a person contributed before an injury, and whether the cover is a construction
/// project's (whose workers without a declared wage get the default of Art. 48).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributions {
    /// Each month's contribution wage, oldest first.
    pub months: Vec<MonthlyWage>,
    /// A construction project's worker.
    pub project: bool,
    /// Where the months come from (shown with the insured wage).
    pub source: &'static str,
}

/// Where contribution months come from.
#[async_trait]
pub trait ContributionHistory: Send + Sync {
    /// The contribution months of the cover `cover` up to the month of `injury` (the 12 months
    /// before it and the month itself; Art. 48 looks no further).
    ///
    /// # Errors
    /// The store is unavailable.
    async fn before(
        &self,
        p: &Platform,
        cover: &Cover,
        injury: NaiveDate,
    ) -> Result<Contributions, ApiError>;
}

/// Declared wages: every month in which the cover ran on some day, up to the injury month, at
/// the wage declared for the enrolment or the project worker (a project worker with no wage
/// declared has no months, so the default applies).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeclaredWages;

fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

fn months_between(from: NaiveDate, injury: NaiveDate, wage: Decimal) -> Vec<MonthlyWage> {
    let last = month_index(injury);
    let first = month_index(from).max(last - 12);
    (first..=last)
        .filter_map(|i| {
            let year = i32::try_from(i.div_euclid(12)).ok()?;
            let month = u32::try_from(i.rem_euclid(12)).ok()? + 1;
            Some(MonthlyWage { year, month, wage })
        })
        .collect()
}

#[async_trait]
impl ContributionHistory for DeclaredWages {
    async fn before(
        &self,
        _p: &Platform,
        cover: &Cover,
        injury: NaiveDate,
    ) -> Result<Contributions, ApiError> {
        Ok(match cover {
            Cover::Enrolment { enrolment } => Contributions {
                months: enrolment
                    .cover_start
                    .filter(|s| *s <= injury)
                    .map(|s| months_between(s, injury, enrolment.declared_wage))
                    .unwrap_or_default(),
                project: false,
                source: "declared_wages",
            },
            Cover::Project { project, worker } => Contributions {
                months: if worker.declared_wage > Decimal::ZERO {
                    months_between(
                        project.start.max(worker.registered_on),
                        injury,
                        worker.declared_wage,
                    )
                } else {
                    Vec::new()
                },
                project: true,
                source: "declared_wages",
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn months_run_from_the_cover_to_the_injury_month_and_no_further_back_than_twelve() {
        let m = months_between(d("2025-03-20"), d("2025-06-02"), Decimal::from(5000));
        let got: Vec<(i32, u32)> = m.iter().map(|w| (w.year, w.month)).collect();
        assert_eq!(got, vec![(2025, 3), (2025, 4), (2025, 5), (2025, 6)]);
        let m = months_between(d("2020-01-01"), d("2026-01-15"), Decimal::from(5000));
        assert_eq!(m.len(), 13);
        assert_eq!((m[0].year, m[0].month), (2025, 1));
        assert_eq!((m[12].year, m[12].month), (2026, 1));
    }
}
