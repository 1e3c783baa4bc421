//! The retirement check (`retirement-check`, daily): an ordinary employee who reaches the legal
//! retirement age is no longer covered as an employee; the unit must switch them to over-age
//! cover (Art. 8: 按单位参保的职工达到法定退休年龄后仍继续在原单位留用的，参保单位应及时将职工参加的
//! 工伤保险转为超龄人员参加补充工伤保险). Each employee's enrolment writes a pointer under the month
//! the holder reaches the age; the job reads the months up to today and leaves the unit a
//! reminder (待办提醒), once per enrolment. A reminder tells a unit what to do; it is not an
//! `alert` (a risk warning to supervisors, `swi_platform::alerts`).

use std::time::Instant;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::enrolment::Status;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, enrolment_case, enrolment_key};
use swi_rules::category::Category;
use swi_store::{Condition, Item, Key, Query, TxOp};

/// The job's name.
pub const NAME: &str = "retirement-check";

/// Months looked back at each run, so that missed days are caught up.
pub const MONTHS_BACK: u32 = 12;

/// A pointer: this enrolment's holder reaches the legal retirement age on `reached_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementPointer {
    /// Enrolment id.
    pub enrolment: String,
    /// Unit.
    pub unit: String,
    /// The day the age is reached.
    pub reached_on: NaiveDate,
}

/// A reminder to a unit of something it must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reminder {
    /// What kind (`reached_retirement_age`).
    pub kind: String,
    /// The enrolment concerned.
    pub enrolment: String,
    /// The person's name.
    pub name: String,
    /// Since when.
    pub since: NaiveDate,
    /// What to do (中文).
    pub zh: String,
    /// What to do (English).
    pub en: String,
}

/// The partition of pointers of one month.
#[must_use]
pub fn pointer_partition(month: NaiveDate) -> String {
    format!("retire#{}", month.format("%Y-%m"))
}

/// The operation writing a pointer, for the enrolment's own transaction.
///
/// # Errors
/// Serialization (it does not fail).
pub fn pointer_op(p: &RetirementPointer) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: Item::new(pointer_partition(p.reached_on), p.enrolment.clone(), p)?,
        condition: Condition::None,
    })
}

fn reminder_key(unit: &str, enrolment: &str) -> Key {
    Key::new(
        format!("reminders#unit#{unit}"),
        format!("retirement#{enrolment}"),
    )
}

/// The job.
pub struct RetirementCheck;

#[async_trait::async_trait]
impl Job for RetirementCheck {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "reminds units of employees who reached the legal retirement age (Art. 8)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 6 }
    }

    async fn run(&self, p: &Platform, _deadline: Instant) -> Result<Report, ApiError> {
        let on = p.clock.today();
        let (months, seen, reminded) = check(p, on, MONTHS_BACK).await?;
        Ok(Report {
            job: NAME,
            done: reminded,
            pending: 0,
            errors: Vec::new(),
            summary: format!(
                "{months} months read, {seen} employees reaching the age, {reminded} units reminded"
            ),
            detail: json!({ "on": on, "months": months, "seen": seen, "reminded": reminded }),
        })
    }
}

/// Runs the check for `on` over the last `months` months: (months read, pointers seen,
/// reminders left now).
///
/// # Errors
/// The store is unavailable.
pub async fn check(
    p: &Platform,
    on: NaiveDate,
    months: u32,
) -> Result<(usize, usize, usize), ApiError> {
    let actor = jobs::job_actor(NAME, "定时任务：退休年龄检查");
    let (mut read, mut seen, mut reminded) = (0, 0, 0);
    let first = on.with_day(1).unwrap_or(on);
    for back in 0..months {
        let Some(month) = first.checked_sub_months(Months::new(back)) else {
            break;
        };
        read += 1;
        for item in &p
            .state
            .query_all(&Query::partition(pointer_partition(month)).limit(200))
            .await?
        {
            let ptr: RetirementPointer = item.body().map_err(|e| ApiError::internal(&e))?;
            seen += 1;
            if ptr.reached_on > on {
                continue;
            }
            let key = reminder_key(&ptr.unit, &ptr.enrolment);
            if p.state.get(&key).await?.is_some() {
                continue;
            }
            let Some(e) = p.state.get(&enrolment_key(&ptr.enrolment)).await? else {
                continue;
            };
            let e: Enrolment = e.body().map_err(|err| ApiError::internal(&err))?;
            if e.status == Status::Terminated || e.category != Category::Employee {
                continue;
            }
            let reminder = Reminder {
                kind: "reached_retirement_age".into(),
                enrolment: e.id.clone(),
                name: e.name.clone(),
                since: ptr.reached_on,
                zh: "该职工已达到法定退休年龄，请按超龄人员办理补充工伤保险参保（第八条）".into(),
                en: "this employee has reached the legal retirement age: enrol them as over_age (Art. 8)".into(),
            };
            let mut ops = vec![TxOp::Put {
                item: Item::new(key.pk.clone(), key.sk.clone(), &reminder)?,
                condition: Condition::NotExists,
            }];
            ops.extend(
                audit_ops(
                    p,
                    &actor,
                    &[Audit {
                        case: enrolment_case(&e.id),
                        command: "job.retirement_reminder".into(),
                        change: json!({ "since": ptr.reached_on, "basis": "Art. 8" }),
                    }],
                )
                .await?,
            );
            match p.state.transact(ops).await {
                Ok(()) => reminded += 1,
                // Another run left it meanwhile.
                Err(swi_store::StateError::Conflict { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
    }
    Ok((read, seen, reminded))
}

/// The reminders of a unit.
///
/// # Errors
/// The store is unavailable.
pub async fn reminders(p: &Platform, unit: &str) -> Result<Vec<Reminder>, ApiError> {
    p.state
        .query_all(&Query::partition(format!("reminders#unit#{unit}")).limit(500))
        .await?
        .iter()
        .map(|item| item.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}
