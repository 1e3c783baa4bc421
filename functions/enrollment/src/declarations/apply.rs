//! The declaration job (`declaration-apply`): applies approved declarations a transaction of
//! rows at a time (joiners enrolled, leavers' cover ended through the register's commands),
//! resuming where any earlier run stopped. Woken by its pointers (`jobs#declaration-apply`),
//! written with the approval and moved by a run that runs out of time.

use std::collections::HashSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::enrolment::Status;
use swi_platform::documents::load_table;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_registry::cover::{EndReason, ended};
use swi_registry::enrolment::{guard_with, load_enrolment};
use swi_registry::unit::{UnitStatus, load_unit, unit_key};
use swi_rules::ids::ResidentId;
use swi_store::{Condition, Item, Key, Query, Sha256, TxOp};
use swi_tables::Limits;

use super::rows::{RowChange, check_rows, parse_rows, roster_of};
use super::{Declaration, ReviewStatus, declaration_case, declaration_item, declaration_key};
use crate::persons::check_request;

/// The job's name.
pub const NAME: &str = "declaration-apply";

/// Rows per transaction when applying a declaration: an applied row takes up to 10 operations
/// (profile, roster entry, cover guard, retirement watch, audit event; the first month's bill,
/// its line, its two list entries and its audit event), a row that no longer holds 1; the
/// declaration, its audit event, the job's pointer and the check of the unit take 4 more
/// (DynamoDB allows 100 operations in a transaction).
pub const ROWS_PER_TRANSACTION: usize =
    (swi_store::state::MAX_TRANSACTION_OPS - OPS_PER_TRANSACTION) / MAX_OPS_PER_ROW;
const MAX_OPS_PER_ROW: usize = 10;
const OPS_PER_TRANSACTION: usize = 4;

/// The job's pointer to a declaration being applied (`jobs#declaration-apply`, one per
/// declaration): written with the approval, moved by the last transaction of a run that stops
/// before the end, deleted with the last transaction of rows. Its writes are what wake the job
/// in AWS (a DynamoDB stream filtered on its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyPointer {
    /// The declaration.
    pub declaration: String,
    /// Rows dealt with when the pointer was last written. It differs at every write, which is
    /// what makes DynamoDB emit a stream record (a put that changes nothing emits none).
    pub cursor: usize,
}

fn pointer_key(id: &str) -> Key {
    Key::new(jobs::pointer_partition(NAME), id)
}

/// The operation writing the job's pointer to a declaration.
///
/// # Errors
/// Serialization (it does not fail).
pub(crate) fn pointer_put(id: &str, cursor: usize, condition: Condition) -> Result<TxOp, ApiError> {
    let k = pointer_key(id);
    Ok(TxOp::Put {
        item: Item::new(
            k.pk,
            k.sk,
            &ApplyPointer {
                declaration: id.to_owned(),
                cursor,
            },
        )?,
        condition,
    })
}

/// How far one run took one declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Rows dealt with in this run.
    pub rows: usize,
    /// Whether every row has now been dealt with.
    pub finished: bool,
    /// Whether another run was found applying it (this one stood back).
    pub contended: bool,
    /// Whether it was no longer being applied (another run had finished it).
    pub already_done: bool,
}

/// Applies an approved declaration from where it stands, a transaction of rows at a time, until
/// every row is dealt with or `deadline` passes (at least one transaction is always made). Each
/// transaction writes its rows' changes and audit events together with the declaration's new
/// cursor, conditioned on the declaration's version: a crash loses nothing and a row is never
/// applied twice, even by two runs at once. A row that no longer holds (the roster changed
/// since the upload) is recorded as not applied, with why.
///
/// # Errors
/// The store is unavailable, or the declaration's file cannot be read back.
pub async fn apply_approved(
    p: &Platform,
    id: &str,
    deadline: Instant,
) -> Result<Progress, ApiError> {
    let mut progress = Progress::default();
    let Some(item) = p.state.get(&declaration_key(id)).await? else {
        return Err(ApiError::internal(&format_args!(
            "the job points at a missing declaration {id}"
        )));
    };
    let mut version = item.version;
    let mut d: Declaration = item.body().map_err(|e| ApiError::internal(&e))?;
    if d.status != ReviewStatus::Applying {
        // Finished (or never approved): the pointer is stale.
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(id),
                condition: Condition::None,
            }])
            .await?;
        progress.already_done = true;
        return Ok(progress);
    }
    let county = d.county;
    let sha = Sha256::parse(&d.sha256).map_err(|e| ApiError::internal(&e))?;
    let table = load_table(p, &sha, &Limits::DECLARATION, "申报文件").await?;
    let (rows, _) = parse_rows(&table).map_err(|e| ApiError::internal(&e))?;
    drop(table);
    let params = p.params().await?;
    let params = &*params;
    let mut roster = roster_of(p, &d.unit).await?;
    let actor = jobs::job_actor(
        NAME,
        format!(
            "申报生效任务（{} 审核通过）",
            d.reviewed_by.as_deref().unwrap_or("")
        ),
    );
    loop {
        // Every transaction of rows holds only while the unit is active and unchanged; a
        // cancelled unit ends the declaration (Art. 10).
        let (unit, unit_version) = load_unit(p, &d.unit).await?;
        if unit.status == UnitStatus::Cancelled {
            let left = rows.len().saturating_sub(d.cursor);
            d.status = ReviewStatus::Lapsed;
            let mut ops = vec![
                TxOp::Delete {
                    key: pointer_key(&d.id),
                    condition: Condition::None,
                },
                TxOp::Put {
                    item: declaration_item(&d)?,
                    condition: Condition::VersionIs(version),
                },
            ];
            ops.extend(
                swi_platform::mutation::audit_ops(
                    p,
                    &actor,
                    &[Audit {
                        case: declaration_case(&d.id),
                        command: "declaration.lapsed".into(),
                        change: json!({ "rows_left": left, "basis": "Art. 10" }),
                    }],
                )
                .await?,
            );
            match p.state.transact(ops).await {
                Ok(()) => progress.finished = true,
                Err(swi_store::StateError::Conflict { .. }) => progress.contended = true,
                Err(other) => return Err(other.into()),
            }
            return Ok(progress);
        }
        let unit_check = TxOp::Check {
            key: unit_key(&d.unit),
            condition: Condition::VersionIs(unit_version),
        };
        let end = (d.cursor + ROWS_PER_TRANSACTION).min(rows.len());
        let chunk = rows.get(d.cursor..end).unwrap_or_default();
        let stale = check_rows(params, &p.persons, chunk, d.month, &roster);
        let stale_rows: HashSet<usize> = stale.iter().map(|r| r.row).collect();
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        let mut joined = Vec::new();
        let mut left = Vec::new();
        for row in chunk.iter().filter(|r| !stale_rows.contains(&r.line)) {
            match row.change {
                RowChange::Join => {
                    let checked = check_request(params, &row.person)?;
                    let mut e = crate::persons::enrol::build_enrolment(
                        p,
                        params,
                        &row.person,
                        Some(d.unit.clone()),
                        None,
                        county,
                        checked,
                    )?;
                    // The roster ruled out overlaps; the guard makes a concurrent enrolment
                    // of the same person in this unit collide with this transaction.
                    let (_, guard) =
                        guard_with(p, &e.person, e.unit.as_deref(), None, &e.id).await?;
                    // A joiner waiting for payment is billed for the first month now (Art. 8).
                    let first = crate::persons::billing::first_bill(
                        p,
                        params,
                        &mut e,
                        Some(&unit),
                        &actor.name,
                    )?;
                    let c = crate::persons::enrol::created(
                        &e,
                        guard,
                        "enrolment.create_by_declaration",
                    )?;
                    ops.extend(c.ops);
                    ops.extend(first.ops);
                    audit.extend(c.audit);
                    audit.extend(first.audit);
                    joined.push((e.person.clone(), (e.start, e.cover_end), e.status, e.id));
                }
                RowChange::Leave => {
                    let pid = ResidentId::parse(&row.person.id_number)
                        .map(|i| p.persons.of(&i))
                        .map_err(|e| ApiError::internal(&e))?;
                    let enrolment_id = roster
                        .members
                        .get(&pid)
                        .and_then(|v| v.iter().find(|(_, s, _)| *s != Status::Terminated))
                        .map(|(_, _, id)| id.clone())
                        .ok_or_else(|| ApiError::internal(&"a checked leaver has no enrolment"))?;
                    let (e, v) = load_enrolment(p, &enrolment_id).await?;
                    let reason = EndReason::Declared {
                        declaration: d.id.clone(),
                        row: row.line,
                    };
                    let (o, a) = ended(e, v, row.person.start, &reason)?;
                    ops.extend(o);
                    audit.push(a);
                    left.push((pid, enrolment_id));
                }
            }
        }
        for r in &stale {
            ops.push(TxOp::Put {
                item: Item::new(
                    format!("declaration#{}", d.id),
                    format!("failed#{:08}", r.row),
                    r,
                )?,
                condition: Condition::None,
            });
        }
        let from = d.cursor;
        d.applied += chunk.len() - stale.len();
        d.not_applied += stale.len();
        d.cursor = end;
        let finished = end >= rows.len();
        // The last transaction of this run: time is up after it.
        let stopping = !finished && std::time::Instant::now() >= deadline;
        if finished {
            d.status = ReviewStatus::Approved;
            ops.push(TxOp::Delete {
                key: pointer_key(&d.id),
                condition: Condition::None,
            });
        } else if stopping {
            // Moving the pointer wakes the next run in AWS (the stream sees the write).
            ops.push(pointer_put(&d.id, end, Condition::None)?);
        }
        ops.push(TxOp::Put {
            item: declaration_item(&d)?,
            condition: Condition::VersionIs(version),
        });
        ops.push(unit_check);
        audit.push(Audit {
            case: declaration_case(&d.id),
            command: if finished {
                "declaration.applied".into()
            } else {
                "declaration.apply".into()
            },
            change: json!({
                "rows": [from + 1, end],
                "applied": chunk.len() - stale.len(),
                "not_applied": stale.iter().map(|r| r.row).collect::<Vec<_>>(),
            }),
        });
        ops.extend(swi_platform::mutation::audit_ops(p, &actor, &audit).await?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            Err(swi_store::StateError::Conflict { .. }) => {
                // Another run moved the declaration (or a row's enrolment) meanwhile: it goes
                // on from there; this run stands back and changed nothing.
                progress.contended = true;
                return Ok(progress);
            }
            Err(other) => return Err(other.into()),
        }
        version += 1;
        progress.rows += chunk.len();
        for (person, period, status, eid) in joined {
            roster
                .members
                .entry(person)
                .or_default()
                .push((period, status, eid));
        }
        for (person, eid) in left {
            for m in roster.members.entry(person).or_default() {
                if m.2 == eid {
                    m.1 = Status::Terminated;
                }
            }
        }
        if finished || stopping {
            progress.finished = finished;
            return Ok(progress);
        }
    }
}

/// The job.
pub struct DeclarationApply;

#[async_trait::async_trait]
impl Job for DeclarationApply {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "applies approved monthly declarations a transaction of rows at a time (Art. 18)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    /// Every approved declaration still being applied, until done or `deadline` (each one it
    /// reaches gets at least one transaction of rows). One declaration's failure is reported
    /// and the others go on.
    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let waiting = p
            .state
            .query_all(&Query::partition(jobs::pointer_partition(NAME)).limit(200))
            .await?;
        let (mut rows, mut finished, mut pending, mut stale) = (0, 0, 0, 0);
        let mut errors = Vec::new();
        for item in &waiting {
            if Instant::now() >= deadline && rows > 0 {
                pending += 1;
                continue;
            }
            let ptr: ApplyPointer = item.body().map_err(|e| ApiError::internal(&e))?;
            match apply_approved(p, &ptr.declaration, deadline).await {
                Ok(progress) => {
                    rows += progress.rows;
                    if progress.already_done {
                        stale += 1;
                    } else if progress.finished {
                        finished += 1;
                    } else {
                        pending += 1;
                    }
                }
                Err(e) if e.code == ErrorCode::Unavailable => return Err(e),
                Err(e) => {
                    tracing::warn!(
                        job = NAME,
                        declaration = %ptr.declaration,
                        code = %e.code,
                        "declaration not applied"
                    );
                    errors.push(format!("{}: {}", ptr.declaration, e.code));
                }
            }
        }
        Ok(Report {
            job: NAME,
            done: rows,
            pending,
            errors,
            summary: format!(
                "rows applied {rows}, declarations finished {finished}, still applying {pending}"
            ),
            detail: json!({
                "waiting": waiting.len() - stale,
                "rows": rows,
                "finished": finished,
                "pending": pending,
            }),
        })
    }
}
