//! Scheduled jobs of the enrollment step.
//!
//! `retirement_check` (daily): an ordinary employee who reaches the legal retirement age is no
//! longer covered as an employee; the unit must switch them to over-age cover (Art. 8: 按单位参保
//! 的职工达到法定退休年龄后仍继续在原单位留用的，参保单位应及时将职工参加的工伤保险转为超龄人员
//! 参加补充工伤保险). Enrolments carry a pointer under the
//! month their holder reaches the age; the job reads the months up to today and raises an alert
//! to the unit, once per enrolment.
//!
//! `unit_cancel` (woken by cancellations): ends the cover of every member of a cancelled unit
//! (Art. 10), a transaction of members at a time, resuming where any earlier run stopped.
//!
//! `declaration_apply` (woken by approvals, and swept regularly): applies approved monthly
//! declarations (Art. 18) a transaction of rows at a time, resuming where any earlier run
//! stopped (see [`crate::declarations::apply_approved`]).

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::enrolment::Status;
use swi_domain::{Actor, Jurisdiction, Role};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, Query, TxOp};

/// A pointer: this enrolment's holder reaches the legal retirement age on `reached_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementPointer {
    /// Enrolment id.
    pub enrolment: String,
    /// Unit.
    pub unit: String,
    /// County.
    pub county: String,
    /// The day the age is reached.
    pub reached_on: NaiveDate,
}

/// An alert to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
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

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Months read.
    pub months: usize,
    /// Pointers looked at.
    pub seen: usize,
    /// Alerts raised now.
    pub alerted: usize,
}

/// The actor a job's audit events name: `job:<name>`, an operator of the city.
pub(crate) fn job_actor(job: &str, display: String) -> Actor {
    Actor {
        sub: format!("job:{job}"),
        role: Role::Operator,
        jurisdiction: Jurisdiction::City,
        name: display,
        unit: None,
    }
}

/// Runs the check for `on` over the last `months` months (so that a missed day is caught up).
///
/// # Errors
/// The store is unavailable.
pub async fn retirement_check(
    p: &Platform,
    on: NaiveDate,
    months: u32,
) -> Result<Report, ApiError> {
    let actor = job_actor("retirement-check", "定时任务：退休年龄检查".into());
    let mut report = Report::default();
    let first = on.with_day(1).unwrap_or(on);
    for back in 0..months {
        let Some(month) = first.checked_sub_months(Months::new(back)) else {
            break;
        };
        report.months += 1;
        for item in &p
            .state
            .query_all(&Query::partition(pointer_partition(month)).limit(200))
            .await?
        {
            let ptr: RetirementPointer = item.body().map_err(|e| ApiError::internal(&e))?;
            report.seen += 1;
            if ptr.reached_on > on {
                continue;
            }
            let alert_key = Key::new(
                format!("alerts#unit#{}", ptr.unit),
                format!("retirement#{}", ptr.enrolment),
            );
            if p.state.get(&alert_key).await?.is_some() {
                continue;
            }
            let Some(e) = p
                .state
                .get(&Key::new(format!("enrolment#{}", ptr.enrolment), "profile"))
                .await?
            else {
                continue;
            };
            let e: crate::persons::Enrolment = e.body().map_err(|err| ApiError::internal(&err))?;
            if e.status == Status::Terminated || e.category != "employee" {
                continue;
            }
            let alert = Alert {
                kind: "reached_retirement_age".into(),
                enrolment: e.id.clone(),
                name: e.name.clone(),
                since: ptr.reached_on,
                zh: "该职工已达到法定退休年龄，请按超龄人员办理补充工伤保险参保（第八条）".into(),
                en: "this employee has reached the legal retirement age: enrol them as over_age (Art. 8)".into(),
            };
            let mut ops = vec![TxOp::Put {
                item: Item::new(alert_key.pk.clone(), alert_key.sk.clone(), &alert)?,
                condition: Condition::NotExists,
            }];
            ops.extend(
                audit_ops(
                    p,
                    &actor,
                    &[Audit {
                        case: format!("enrolment#{}", e.id),
                        command: "job.retirement_alert".into(),
                        change: json!({ "since": ptr.reached_on, "basis": "Art. 8" }),
                    }],
                )
                .await?,
            );
            match p.state.transact(ops).await {
                Ok(()) => report.alerted += 1,
                // Another run raised it meanwhile.
                Err(swi_store::StateError::Conflict { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
    }
    Ok(report)
}

/// The alerts of a unit.
///
/// # Errors
/// The store is unavailable.
pub async fn alerts(p: &Platform, unit: &str) -> Result<Vec<Alert>, ApiError> {
    let mut out = Vec::new();
    for item in &p
        .state
        .query_all(&Query::partition(format!("alerts#unit#{unit}")).limit(500))
        .await?
    {
        out.push(item.body().map_err(|e| ApiError::internal(&e))?);
    }
    Ok(out)
}

/// What a run of the declaration job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Declarations found waiting (less those another run finished meanwhile).
    pub waiting: usize,
    /// Rows dealt with in this run.
    pub rows: usize,
    /// Declarations finished in this run.
    pub finished: usize,
    /// Declarations left for a later run (the deadline came, or another run holds them).
    pub pending: usize,
    /// Declarations that could not be applied (their id and the error code), retried next run.
    pub errors: Vec<String>,
}

impl std::fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rows applied {}, declarations finished {}, still applying {}",
            self.rows, self.finished, self.pending
        )?;
        if !self.errors.is_empty() {
            write!(f, ", not applied: {}", self.errors.join(", "))?;
        }
        Ok(())
    }
}

/// Runs the declaration job: every approved declaration still being applied, until done or
/// `deadline` (each declaration it reaches gets at least one transaction of rows).
///
/// # Errors
/// The store is unavailable (one declaration's failure is reported, and the others go on).
pub async fn declaration_apply(
    p: &Platform,
    deadline: std::time::Instant,
) -> Result<ApplyReport, ApiError> {
    let mut report = ApplyReport::default();
    let waiting = p
        .state
        .query_all(&Query::partition(crate::declarations::APPLY_PARTITION).limit(200))
        .await?;
    report.waiting = waiting.len();
    for item in &waiting {
        if std::time::Instant::now() >= deadline && report.rows > 0 {
            report.pending += 1;
            continue;
        }
        let ptr: crate::declarations::ApplyPointer =
            item.body().map_err(|e| ApiError::internal(&e))?;
        match crate::declarations::apply_approved(p, &ptr.declaration, deadline).await {
            Ok(progress) => {
                report.rows += progress.rows;
                if progress.already_done {
                    report.waiting = report.waiting.saturating_sub(1);
                } else if progress.finished {
                    report.finished += 1;
                } else {
                    report.pending += 1;
                }
            }
            Err(e) if e.code == "unavailable" => return Err(e),
            Err(e) => {
                eprintln!(
                    "swi: declaration job: {} not applied: {}",
                    ptr.declaration, e.code
                );
                report
                    .errors
                    .push(format!("{}: {}", ptr.declaration, e.code));
            }
        }
    }
    Ok(report)
}

/// The partition of the cancellation job's pointers (`jobs#unit-cancel`, one per unit whose
/// members' cover is being ended).
pub const CANCEL_PARTITION: &str = "jobs#unit-cancel";

/// The cancellation job's pointer to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelPointer {
    /// The unit.
    pub unit: String,
    /// Members ended when the pointer was last written (each write differs, so that DynamoDB's
    /// stream sees it and wakes the next run).
    pub ended: usize,
}

/// The operation writing the cancellation job's pointer to `unit`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn cancellation_pointer(
    unit: &str,
    ended: usize,
    condition: Condition,
) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: Item::new(
            CANCEL_PARTITION,
            unit,
            &CancelPointer {
                unit: unit.to_owned(),
                ended,
            },
        )?,
        condition,
    })
}

/// What a run of the cancellation job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CancelReport {
    /// Units found with members still to end.
    pub waiting: usize,
    /// Members whose cover this run ended.
    pub ended: usize,
    /// Units finished in this run.
    pub finished: usize,
    /// Units left for a later run (the deadline came, or another run holds them).
    pub pending: usize,
}

impl std::fmt::Display for CancelReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "members ended {}, units finished {}, still ending {}",
            self.ended, self.finished, self.pending
        )
    }
}

/// Runs the cancellation job: ends the cover of every member of every cancelled unit still
/// being ended (Art. 10), until done or `deadline`.
///
/// # Errors
/// The store is unavailable.
pub async fn unit_cancel(
    p: &Platform,
    deadline: std::time::Instant,
) -> Result<CancelReport, ApiError> {
    let mut report = CancelReport::default();
    let waiting = p
        .state
        .query_all(&Query::partition(CANCEL_PARTITION).limit(200))
        .await?;
    report.waiting = waiting.len();
    for item in &waiting {
        if std::time::Instant::now() >= deadline && report.ended > 0 {
            report.pending += 1;
            continue;
        }
        let ptr: CancelPointer = item.body().map_err(|e| ApiError::internal(&e))?;
        let (ended, finished) = end_members(p, &ptr.unit, deadline).await?;
        report.ended += ended;
        if finished {
            report.finished += 1;
        } else {
            report.pending += 1;
        }
    }
    Ok(report)
}

/// Ends a cancelled unit's members' cover, a transaction of members at a time, each transaction
/// conditioned on the unit's version (so two runs never end the same member twice) and moving
/// the unit's count and the job's pointer with it; the last one deletes the pointer. At least
/// one transaction is made whatever the deadline. Returns the members ended and whether done.
///
/// # Errors
/// The store is unavailable.
pub async fn end_members(
    p: &Platform,
    code: &str,
    deadline: std::time::Instant,
) -> Result<(usize, bool), ApiError> {
    let actor = job_actor("unit-cancel", "定时任务：单位注销终止人员参保".into());
    let mut ended = 0;
    loop {
        let (mut unit, version) = crate::units::load_unit(p, code).await?;
        if !unit.ending_members {
            p.state
                .transact(vec![TxOp::Delete {
                    key: Key::new(CANCEL_PARTITION, code),
                    condition: Condition::None,
                }])
                .await?;
            return Ok((ended, true));
        }
        let end = unit.cancelled_on.unwrap_or_else(|| p.clock.today());
        let members =
            crate::persons::active_members(p, code, crate::units::MEMBERS_PER_TRANSACTION).await?;
        let batch = members.len();
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        for (e, v) in members {
            let (o, a) = crate::persons::end_with_unit(e, v, end)?;
            ops.extend(o);
            audit.push(a);
        }
        unit.members_ended += batch;
        let done = batch == 0;
        if done {
            unit.ending_members = false;
            ops.push(TxOp::Delete {
                key: Key::new(CANCEL_PARTITION, code),
                condition: Condition::None,
            });
            audit.push(Audit {
                case: crate::units::unit_case(code),
                command: "unit.members_ended".into(),
                change: json!({ "members_ended": unit.members_ended, "basis": "Art. 10" }),
            });
        } else {
            ops.push(cancellation_pointer(
                code,
                unit.members_ended,
                Condition::None,
            )?);
        }
        ops.push(crate::units::unit_put(
            &unit,
            Condition::VersionIs(version),
        )?);
        ops.extend(audit_ops(p, &actor, &audit).await?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            // Another run moved the unit meanwhile: it goes on from there.
            Err(swi_store::StateError::Conflict { .. }) => return Ok((ended, false)),
            Err(other) => return Err(other.into()),
        }
        ended += batch;
        if done {
            return Ok((ended, true));
        }
        if std::time::Instant::now() >= deadline {
            return Ok((ended, false));
        }
    }
}
