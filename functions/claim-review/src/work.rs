//! The one way a review step changes a claim: load the claim and its injury as stored, check the
//! role for the claim's current step in the claim's county and the separation of duties
//! (Art. 5, 34), apply the change, and write claim and injury under the versions read with one
//! audit event each, in one transaction. Two clerks acting on one claim at once: exactly one
//! wins, the other gets 409.

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde_json::Value;
use swi_domain::claim::{Circumstances, ClaimCommand, ClaimStatus, checklist, next};
use swi_domain::duties::{Performed, Step, may_perform};
use swi_domain::{Action, Actor, Owner};
use swi_platform::mutation::{Change, IdempotencyKey, apply};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, TxOp};

use crate::claim::{Claim, audit, claim_put, load_claim};
use crate::injury::{Injury, injury_put, load_injury};

/// What a step's change wants written besides the claim.
#[derive(Debug, Default)]
pub struct Extra {
    /// The injury changed too (written under the version read).
    pub injury_changed: bool,
    /// The injury's audit event, when it changed.
    pub injury_event: Option<(&'static str, Value)>,
    /// More operations (payable lines, schedules, enrolments ended, checks).
    pub ops: Vec<TxOp>,
    /// More audit events (of other cases).
    pub audit: Vec<swi_platform::mutation::Audit>,
}

/// The checklist of a claim with the injury as it stands, and what is missing from its
/// dossier (Art. 25-33).
pub fn refresh_materials(claim: &mut Claim, injury: &Injury) {
    let need = checklist(
        claim.category,
        &claim.items,
        Circumstances {
            died_in_paid_leave: injury.death.as_ref().is_some_and(|d| d.within_paid_leave),
            third_party: claim.stated.third_party,
            advanced_by_unit: claim.stated.advanced_by_unit,
            transferred: claim.stated.transferred,
        },
    );
    claim.missing = need
        .iter()
        .filter(|m| !injury.materials.contains_key(m))
        .copied()
        .collect();
    claim.checklist = need.into_iter().collect();
}

/// The claim's status after `command`.
///
/// # Errors
/// 409 `invalid_transition` when the command does not apply now.
pub fn advance(claim: &Claim, command: ClaimCommand) -> Result<ClaimStatus, ApiError> {
    next(claim.status, command, claim.missing.is_empty()).map_err(|r| {
        ApiError::conflict(
            ErrorCode::InvalidTransition,
            "该申领当前所处环节不能办理此业务",
            r.to_string(),
        )
    })
}

/// The step the actor performs on the claim now, checked: the role for the claim's current
/// step, in the claim's county, and not a person who did another step of it (Art. 5, 34).
///
/// # Errors
/// 403 role, county or separation of duties; 409 the claim is at no review step.
pub fn check_step(actor: &Actor, claim: &Claim) -> Result<Step, ApiError> {
    let Some(step) = claim.status.step() else {
        // Where a closed claim stands is told only to a clerk of its county.
        if !actor.role.is_clerk() {
            return Err(swi_domain::Denied::Role {
                role: actor.role,
                action: Action::Read,
            }
            .into());
        }
        actor.may(Action::Read, Some(claim.county), Owner::Nobody)?;
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "该申领不在审核环节",
            format!("a claim that is {} is at no review step", claim.status),
        ));
    };
    actor.may(step.claim_action(), Some(claim.county), Owner::Nobody)?;
    may_perform(&claim.steps, &actor.sub, step)?;
    Ok(step)
}

/// Records that the actor performed `step` (once).
pub fn performed(claim: &mut Claim, actor: &Actor, step: Step) {
    if !claim
        .steps
        .iter()
        .any(|p| p.sub == actor.sub && p.step == step)
    {
        claim.steps.push(Performed {
            step,
            sub: actor.sub.clone(),
        });
    }
}

/// Runs a review step on claim `id`: `change` gets the claim and its injury as stored, after
/// the step was checked, and returns the claim's audit detail and what else to write. `at` is
/// where the command applies (empty: at any review step): a claim elsewhere — moved on by a
/// clerk who acted first — is 409 for a clerk of its county, whatever their role, so that of
/// two clerks acting at once exactly one wins and the other is told the claim moved.
///
/// # Errors
/// 403 another county; 409 the claim is not at `at`; what the checks or `change` refuse; 409 a
/// concurrent change of the claim or the injury.
#[allow(
    clippy::too_many_arguments,
    reason = "one step: who, which request, where, what"
)]
pub async fn step_change<F, Fut>(
    p: &Platform,
    actor: &Actor,
    key: &IdempotencyKey,
    fp: &str,
    id: &str,
    command: &'static str,
    at: &[ClaimStatus],
    change: F,
) -> Result<(StatusCode, axum::Json<Value>), ApiError>
where
    F: FnOnce(Claim, Injury, Step, NaiveDateTime) -> Fut,
    Fut: std::future::Future<Output = Result<(Claim, Injury, Value, Extra), ApiError>>,
{
    let (status, body) = apply(p, actor, key, fp, async {
        let (claim, version) = load_claim(p, id).await?;
        if let Some(step) = at.first().and_then(|s| s.step())
            && !at.contains(&claim.status)
        {
            // Only a clerk who could take this step of this claim learns where it is now.
            actor.may(step.claim_action(), Some(claim.county), Owner::Nobody)?;
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                format!("该申领已不在此环节（当前：{}），可能已由他人办理", claim.status),
                format!("the claim is {} now, not where {command} applies (another clerk may have acted first)", claim.status),
            ));
        }
        let step = check_step(actor, &claim)?;
        let (injury, injury_version) = load_injury(p, &claim.injury).await?;
        let now = p.clock.now().naive_local();
        let (mut claim, injury, detail, extra) = change(claim, injury, step, now).await?;
        performed(&mut claim, actor, step);
        let mut ops = vec![claim_put(&claim, Condition::VersionIs(version))?];
        let mut events = vec![audit(&claim.id, command, detail)];
        if extra.injury_changed {
            ops.push(injury_put(&injury, Condition::VersionIs(injury_version))?);
            if let Some((command, detail)) = extra.injury_event {
                events.push(crate::injury::audit(&injury.id, command, detail));
            }
        } else {
            // The decision rests on the injury as read: a change to it meanwhile fails this.
            ops.push(TxOp::Check {
                key: crate::injury::injury_key(&injury.id),
                condition: Condition::VersionIs(injury_version),
            });
        }
        ops.extend(extra.ops);
        events.extend(extra.audit);
        Ok(Change {
            ops,
            audit: events,
            status: StatusCode::OK,
            response: serde_json::to_value(claim.masked()).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
