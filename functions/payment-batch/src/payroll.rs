//! The payroll of periodic benefits (定期待遇发放名册): each schedule claim review approved,
//! taken once into its county's payroll (`payroll#{county}/{schedule}`), with the account its
//! instalments go to and the changes recorded since — stops (death, end of entitlement),
//! suspensions and their ends, and adjustments of the monthly amount — each from its date.
//!
//! A month's instalment is [`PayrollEntry::instalment`]: nothing before the benefit's first
//! month; the amount of the latest adjustment in force on the month's first day; nothing for a
//! month the benefit is suspended in; nothing for a month after the one a stop falls in (the
//! month of a death or of the end of entitlement is paid in full, as the first month is). A
//! change recorded after a month was paid never reopens it: the months paid that the change
//! would not have paid are answered as overpaid, for recovery.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_payables::Schedule;
use swi_payables::account::PayeeAccount;
use swi_platform::{ApiError, Platform};
use swi_rules::billing::month_of;
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, TxOp};

/// The most changes an entry keeps.
pub const MAX_CHANGES: usize = 60;

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The benefit ends (the recipient died, the entitlement ended, a new appraisal replaced
    /// it): nothing is paid for the months after the one `from` falls in.
    Stop,
    /// Payments are suspended from the month of `from`.
    Suspend,
    /// A suspension ends from the month of `from`.
    Resume,
    /// The monthly amount is `monthly` from the month of `from` (a yearly adjustment).
    Adjust,
}

/// A change of a schedule's payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleChange {
    /// What it does.
    pub kind: ChangeKind,
    /// From when.
    pub from: NaiveDate,
    /// The new monthly amount (an adjustment).
    #[schema(value_type = Option<String>, example = "3600.00")]
    pub monthly: Option<Decimal>,
    /// Why, and on what authority (the death certificate, the city's adjustment notice…).
    pub source: String,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub at: NaiveDateTime,
}

/// A schedule as the payroll keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayrollEntry {
    /// The schedule as approved.
    pub schedule: Schedule,
    /// The account instalments go to (copied from the payee's account when it is recorded).
    pub account: Option<PayeeAccount>,
    /// Changes, in the order recorded.
    pub changes: Vec<ScheduleChange>,
    /// The day it was taken into the payroll.
    pub taken_on: NaiveDate,
    /// The month of the periodic run that took it (its months before were paid back then): the
    /// walks of later runs pay it from this month on.
    #[serde(default)]
    pub taken_for: Option<NaiveDate>,
}

impl PayrollEntry {
    /// The instalment for `month` (its first day), if one is paid.
    #[must_use]
    pub fn instalment(&self, month: NaiveDate) -> Option<Decimal> {
        let month = month_of(month);
        if month < month_of(self.schedule.start) {
            return None;
        }
        let mut changes: Vec<&ScheduleChange> = self.changes.iter().collect();
        changes.sort_by_key(|c| (c.from, c.at));
        let mut monthly = self.schedule.monthly;
        let mut suspended = false;
        for c in changes {
            let from = month_of(c.from);
            match c.kind {
                ChangeKind::Stop if from < month => return None,
                ChangeKind::Stop => {}
                ChangeKind::Suspend if from <= month => suspended = true,
                ChangeKind::Resume if from <= month => suspended = false,
                ChangeKind::Adjust if from <= month => {
                    monthly = c.monthly.unwrap_or(monthly);
                }
                ChangeKind::Suspend | ChangeKind::Resume | ChangeKind::Adjust => {}
            }
        }
        (!suspended && monthly > Decimal::ZERO).then_some(monthly)
    }

    /// Whether nothing will ever be paid again after `month`.
    #[must_use]
    pub fn stopped_before(&self, month: NaiveDate) -> bool {
        self.changes
            .iter()
            .any(|c| c.kind == ChangeKind::Stop && month_of(c.from) < month_of(month))
    }
}

/// The key of a payroll entry.
#[must_use]
pub fn entry_key(county: County, schedule: &str) -> Key {
    Key::new(payroll_partition(county), schedule)
}

/// The partition of a county's payroll.
#[must_use]
pub fn payroll_partition(county: County) -> String {
    format!("payroll#{}", county.code())
}

/// The write of an entry (create-only when new), indexed under its payee so that an account
/// recorded for the payee reaches it.
///
/// # Errors
/// Serialization (it does not fail).
pub fn entry_op(e: &PayrollEntry, payee: &str, version: Option<u64>) -> Result<TxOp, ApiError> {
    let k = entry_key(e.schedule.county, &e.schedule.id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, e)?.with_gsi1(payee, format!("schedule#{}", e.schedule.id)),
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// Loads an entry.
///
/// # Errors
/// The store is unavailable.
pub async fn load(
    p: &Platform,
    county: County,
    schedule: &str,
) -> Result<Option<(PayrollEntry, u64)>, ApiError> {
    match p.state.get(&entry_key(county, schedule)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// The id of a month's instalment line of a schedule.
#[must_use]
pub fn instalment_id(schedule: &str, month: NaiveDate) -> String {
    format!(
        "pi:{}:{}",
        schedule.replace('/', ":"),
        month.format("%Y-%m")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use swi_payables::{Payee, PayeeKind, ScheduleEnd, ScheduleStatus};
    use swi_rules::benefits::Item as Benefit;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn entry(changes: Vec<(ChangeKind, &str, Option<&str>)>) -> PayrollEntry {
        PayrollEntry {
            schedule: Schedule {
                id: "c-1/disability_allowance".into(),
                claim: "c-1".into(),
                injury: "i-1".into(),
                item: Benefit::DisabilityAllowance,
                county: County::parse("360702").unwrap(),
                payee: Payee {
                    kind: PayeeKind::Person,
                    name: "张三".into(),
                    unit: None,
                    id_number: None,
                },
                monthly: "3500.00".parse().unwrap(),
                start: d("2027-01-20"),
                ends: vec![ScheduleEnd::RecipientDies],
                basis: vec![],
                assumptions: vec![],
                status: ScheduleStatus::Active,
            },
            account: None,
            changes: changes
                .into_iter()
                .enumerate()
                .map(|(i, (kind, from, monthly))| ScheduleChange {
                    kind,
                    from: d(from),
                    monthly: monthly.map(|m| m.parse().unwrap()),
                    source: "test".into(),
                    by: "t".into(),
                    at: format!("2027-06-01T10:00:0{i}").parse().unwrap(),
                })
                .collect(),
            taken_on: d("2027-02-01"),
            taken_for: None,
        }
    }

    fn paid(e: &PayrollEntry, month: &str) -> Option<String> {
        e.instalment(d(&format!("{month}-01")))
            .map(|a| a.to_string())
    }

    #[test]
    fn the_first_month_is_paid_in_full_and_nothing_before_it() {
        let e = entry(vec![]);
        assert_eq!(paid(&e, "2026-12"), None);
        assert_eq!(paid(&e, "2027-01").as_deref(), Some("3500.00"));
        assert_eq!(paid(&e, "2030-05").as_deref(), Some("3500.00"));
    }

    #[test]
    fn a_stop_pays_its_month_and_nothing_after() {
        let e = entry(vec![(ChangeKind::Stop, "2027-04-09", None)]);
        assert_eq!(paid(&e, "2027-04").as_deref(), Some("3500.00"));
        assert_eq!(paid(&e, "2027-05"), None);
        assert!(e.stopped_before(d("2027-05-01")));
        assert!(!e.stopped_before(d("2027-04-01")));
    }

    #[test]
    fn a_suspension_pays_nothing_until_it_ends_and_an_adjustment_applies_from_its_month() {
        let e = entry(vec![
            (ChangeKind::Suspend, "2027-03-01", None),
            (ChangeKind::Resume, "2027-05-15", None),
            (ChangeKind::Adjust, "2027-07-01", Some("3640.00")),
        ]);
        assert_eq!(paid(&e, "2027-02").as_deref(), Some("3500.00"));
        assert_eq!(paid(&e, "2027-03"), None);
        assert_eq!(paid(&e, "2027-04"), None);
        assert_eq!(paid(&e, "2027-05").as_deref(), Some("3500.00"));
        assert_eq!(paid(&e, "2027-06").as_deref(), Some("3500.00"));
        assert_eq!(paid(&e, "2027-07").as_deref(), Some("3640.00"));
    }

    #[test]
    fn instalment_ids_carry_no_slash() {
        assert_eq!(
            instalment_id("c-1/dependant_pension/2", d("2027-03-01")),
            "pi:c-1:dependant_pension:2:2027-03"
        );
    }
}
