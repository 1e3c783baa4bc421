//! The cancellation job (`unit-cancel`, Art. 10: 用人单位符合注销参保登记的，应当一并将补充工伤保险登记
//! 注销): ends the cover of every member of a cancelled unit, a transaction of members at a time,
//! resuming where any earlier run stopped. The cancellation itself (`units::cancel`) writes the
//! unit as cancelled with `ending_members` and this job's pointer; the unit's `members_ended`
//! shows the progress, and the last transaction clears `ending_members` and the pointer.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_registry::unit::{load_unit, unit_case, unit_put};
use swi_store::{Condition, Item, Key, TxOp};

/// The job's name (its pointers are under `jobs#unit-cancel`, one per unit).
pub const NAME: &str = "unit-cancel";

/// Members ended per transaction: 3 operations each (enrolment, roster entry, audit event), with
/// the unit, its audit event and the job's pointer, within DynamoDB's 100.
pub const MEMBERS_PER_TRANSACTION: usize = 30;

/// The job's pointer to a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelPointer {
    /// The unit.
    pub unit: String,
    /// Members ended when the pointer was last written (each write differs, so that DynamoDB's
    /// stream sees it and wakes the next run).
    pub ended: usize,
}

/// The operation writing the job's pointer to `unit`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn pointer(unit: &str, ended: usize, condition: Condition) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: Item::new(
            jobs::pointer_partition(NAME),
            unit,
            &CancelPointer {
                unit: unit.to_owned(),
                ended,
            },
        )?,
        condition,
    })
}

fn pointer_key(unit: &str) -> Key {
    Key::new(jobs::pointer_partition(NAME), unit)
}

/// The job.
pub struct UnitCancel;

#[async_trait::async_trait]
impl Job for UnitCancel {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "ends the cover of every member of a cancelled unit (Art. 10)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let t = jobs::walk_pointers(p, NAME, deadline, |unit| async move {
            end_members(p, &unit, deadline).await
        })
        .await?;
        let (ended, finished, pending) = (t.done, t.finished, t.pending);
        Ok(Report {
            job: NAME,
            done: ended,
            pending,
            errors: Vec::new(),
            summary: format!(
                "members ended {ended}, units finished {finished}, still ending {pending}"
            ),
            detail: json!({ "waiting": t.waiting, "ended": ended, "finished": finished, "pending": pending }),
        })
    }
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
    deadline: Instant,
) -> Result<(usize, bool), ApiError> {
    let actor = jobs::job_actor(NAME, "定时任务：单位注销终止人员参保");
    let mut ended = 0;
    loop {
        let (mut unit, version) = load_unit(p, code).await?;
        if !unit.ending_members {
            p.state
                .transact(vec![TxOp::Delete {
                    key: pointer_key(code),
                    condition: Condition::None,
                }])
                .await?;
            return Ok((ended, true));
        }
        let end = unit.cancelled_on.unwrap_or_else(|| p.clock.today());
        let members =
            swi_registry::enrolment::active_members(p, code, MEMBERS_PER_TRANSACTION).await?;
        let batch = members.len();
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        for (e, v) in members {
            let (o, a) = swi_registry::cover::ended_with_unit(e, v, end)?;
            ops.extend(o);
            audit.push(a);
        }
        unit.members_ended += batch;
        let done = batch == 0;
        if done {
            unit.ending_members = false;
            ops.push(TxOp::Delete {
                key: pointer_key(code),
                condition: Condition::None,
            });
            audit.push(Audit {
                case: unit_case(code),
                command: "unit.members_ended".into(),
                change: json!({ "members_ended": unit.members_ended, "basis": "Art. 10" }),
            });
        } else {
            ops.push(pointer(code, unit.members_ended, Condition::None)?);
        }
        ops.push(unit_put(&unit, Condition::VersionIs(version))?);
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
        if Instant::now() >= deadline {
            return Ok((ended, false));
        }
    }
}
