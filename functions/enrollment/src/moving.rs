//! A unit's move to another county (city level only): the unit and its work-injury facts change
//! county in one audited transaction, conditioned on both as read; the move job (`unit-move`) then
//! moves every member's enrolment with it, a transaction of members at a time, resuming wherever
//! a run stopped (the unit's `members_moved` shows how far; `moving_members` is false when done).
//! A county clerk can never move a unit: a change of facts keeps the county on record
//! (`units::stored_county_holds`).

use std::time::Instant;
use swi_platform::ErrorCode;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::enrolment::Status;
use swi_domain::{Action, Jurisdiction};
use swi_platform::auth::Authenticated;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, audit_ops, fingerprint};
use swi_platform::{ApiError, Platform, wire};
use swi_registry::enrolment::{Member, enrolment_case, load_enrolment, write_ops};
use swi_registry::unit::{facts_put, load_facts, load_unit, unit_case, unit_put};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, Query, Sha256, SkRange, TxOp};

/// The job's name.
pub const NAME: &str = "unit-move";

/// Members moved per transaction: 3 operations each (enrolment, roster entry, audit event), with
/// the unit, its audit event and the pointer.
pub const MEMBERS_PER_TRANSACTION: usize = 30;

/// A move of a unit to another county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveUnit {
    /// The county it moves to.
    pub county: String,
    /// Why (the work-injury registration moved).
    pub reason: String,
    /// SHA-256 of the uploaded scan of the decision.
    pub evidence_sha256: String,
}

fn pointer(unit: &str, moved: usize, condition: Condition) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: Item::new(
            jobs::pointer_partition(NAME),
            unit,
            &json!({ "unit": unit, "moved": moved }),
        )?,
        condition,
    })
}

fn pointer_key(unit: &str) -> Key {
    Key::new(jobs::pointer_partition(NAME), unit)
}

/// `POST /api/units/{code}/move`: moves a unit (and its work-injury facts) to another county; a
/// city-level clerk only. Answered 202 while the move job moves the members' enrolments.
///
/// # Errors
/// 400 fields or the same county; 403 not city level; 404; 409 cancelled, or a move or a
/// cancellation still in progress; 422 no scan.
#[utoipa::path(post, path = "/api/units/{code}/move", tag = "units", request_body = MoveUnit,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 202, description = "moved; the members are being moved with it", body = swi_registry::unit::Unit),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_unit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<MoveUnit>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/units/{code}/move"), &req);
    let to =
        County::parse(&req.county).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))?;
    wire::name(&req.reason, "reason")?;
    let evidence = Sha256::parse(&req.evidence_sha256)
        .map_err(|e| ApiError::invalid("佐证材料哈希不正确", e.to_string()))?;
    actor.may(Action::RecordWorkInjuryFacts, Some(to), Owner::Nobody)?;
    if actor.jurisdiction != Jurisdiction::City {
        return Err(ApiError::from(swi_domain::Denied::County {
            record: swi_domain::access::CITY_CODE.to_owned(),
            actor: actor.jurisdiction.code(),
        }));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut unit, version) = load_unit(&p, &code).await?;
        if unit.status == swi_registry::unit::UnitStatus::Cancelled
            || unit.ending_members
            || unit.moving_members
        {
            return Err(ApiError::conflict(
                ErrorCode::UnitBusy,
                "该单位已注销，或迁移、注销仍在办理中",
                "the unit is cancelled, or a move or cancellation is still in progress",
            ));
        }
        if unit.county == to {
            return Err(ApiError::invalid("该单位已在该县（市、区）", "the unit is in that county already"));
        }
        swi_platform::documents::require_scan(&p, &actor, &evidence, "佐证材料").await?;
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &evidence,
            swi_platform::dossier::Filing {
                case: &unit_case(&unit.code),
                county: &to.code().to_string(),
                class: swi_archive::retention::RecordClass::UnitRegistration,
                material: "迁移佐证材料",
            },
        )
        .await?;
        let from = unit.county;
        let mut ops: Vec<TxOp> = registered.into_iter().collect();
        if let Some((mut facts, fv)) = load_facts(&p, &unit.code).await? {
            facts.county = to;
            ops.push(facts_put(&facts, Condition::VersionIs(fv))?);
        }
        unit.county = to;
        unit.moving_members = true;
        unit.members_moved = 0;
        ops.push(unit_put(&unit, Condition::VersionIs(version))?);
        ops.push(pointer(&unit.code, 0, Condition::None)?);
        // The month's billing run bills it even if its new county was walked already.
        ops.push(swi_bills::bill::moved_unit_op(
            swi_rules::billing::month_of(p.clock.today()),
            &unit.code,
        )?);
        let body = serde_json::to_value(&unit).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: unit_case(&unit.code),
                command: "unit.move".into(),
                change: json!({ "from": from, "to": to, "reason": req.reason, "evidence_sha256": evidence.hex() }),
            }],
            status: StatusCode::ACCEPTED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// Moves a unit's members' enrolments to its county, a transaction at a time; at least one
/// transaction whatever the deadline. Returns the members moved and whether done.
///
/// # Errors
/// The store is unavailable.
pub async fn move_members(
    p: &Platform,
    code: &str,
    deadline: Instant,
) -> Result<(usize, bool), ApiError> {
    let actor = jobs::job_actor(NAME, "定时任务：单位迁移随迁人员");
    let mut moved = 0;
    loop {
        let (mut unit, version) = load_unit(p, code).await?;
        if !unit.moving_members {
            p.state
                .transact(vec![TxOp::Delete {
                    key: pointer_key(code),
                    condition: Condition::None,
                }])
                .await?;
            return Ok((moved, true));
        }
        let mut batch = Vec::new();
        for item in &p
            .state
            .query_all(
                &Query::partition(format!("unit#{code}"))
                    .range(SkRange::Prefix("member#".into()))
                    .limit(500),
            )
            .await?
        {
            let m: Member = item.body().map_err(|e| ApiError::internal(&e))?;
            if m.status == Status::Terminated {
                continue;
            }
            let (e, v) = load_enrolment(p, &m.id).await?;
            if e.county != unit.county {
                batch.push((e, v));
                if batch.len() == MEMBERS_PER_TRANSACTION {
                    break;
                }
            }
        }
        let n = batch.len();
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        for (mut e, v) in batch {
            let from = e.county;
            e.county = unit.county;
            ops.extend(write_ops(&e, Condition::VersionIs(v))?);
            audit.push(Audit {
                case: enrolment_case(&e.id),
                command: "enrolment.move_with_unit".into(),
                change: json!({ "from": from, "to": e.county }),
            });
        }
        unit.members_moved += n;
        let done = n == 0;
        if done {
            unit.moving_members = false;
            ops.push(TxOp::Delete {
                key: pointer_key(code),
                condition: Condition::None,
            });
            audit.push(Audit {
                case: unit_case(code),
                command: "unit.members_moved".into(),
                change: json!({ "members_moved": unit.members_moved }),
            });
        } else {
            ops.push(pointer(code, unit.members_moved, Condition::None)?);
        }
        ops.push(unit_put(&unit, Condition::VersionIs(version))?);
        ops.extend(audit_ops(p, &actor, &audit).await?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            Err(swi_store::StateError::Conflict { .. }) => return Ok((moved, false)),
            Err(other) => return Err(other.into()),
        }
        moved += n;
        if done {
            return Ok((moved, true));
        }
        if Instant::now() >= deadline {
            return Ok((moved, false));
        }
    }
}

/// The job.
pub struct UnitMove;

#[async_trait::async_trait]
impl Job for UnitMove {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "moves a moved unit's members' enrolments to its new county"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let t = jobs::walk_pointers(p, NAME, deadline, |key| async move {
            move_members(p, &key, deadline).await
        })
        .await?;
        let (moved, finished, pending) = (t.done, t.finished, t.pending);
        Ok(Report {
            job: NAME,
            done: moved,
            pending,
            errors: Vec::new(),
            summary: format!(
                "members moved {moved}, units finished {finished}, still moving {pending}"
            ),
            detail: json!({ "waiting": t.waiting, "moved": moved, "finished": finished, "pending": pending }),
        })
    }
}
