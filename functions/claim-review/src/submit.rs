//! Claims are submitted by the unit, the injured person or a close relative with proof of
//! kinship on record — or by the window for them (Art. 25-32, 34) — for one or more items of one
//! injury. A claim is refused whole, changing nothing, when the person's relationship ended
//! (Art. 31), an item is one the category does not receive (Art. 25, 29-32), or a once-only item
//! was granted or is claimed already; otherwise it is recorded with its checklist and what is
//! still missing from the injury's dossier, and waits at the window.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;
use swi_domain::claim::{ClaimCommand, ClaimStatus};
use swi_domain::{Action, Actor, Owner, Role};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_registry::relationship::{ended_on, still_open};
use swi_rules::ParamSet;
use swi_rules::benefits::per_injury::within_injury_cap;
use swi_rules::benefits::{Item, may_receive};
use swi_rules::ids::ResidentId;
use swi_store::Condition;

use crate::assess::figures_on;
use crate::claim::load_claim;
use crate::claim::{Claim, Claimant, ClaimantKind, Party, Stated, audit, claim_put, pointer};
use crate::injuries::owner_of;
use crate::injury::{Injury, injury_put, load_injury};
use crate::work::{advance, refresh_materials};

/// A claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitClaim {
    /// The injury (`i-…`).
    pub injury: String,
    /// The items claimed (glossary identifiers), each once.
    #[schema(value_type = Vec<String>, example = json!(["out_of_catalogue", "nursing_subsidy"]))]
    pub items: Vec<Item>,
    /// Who claims, when the window submits for them (`unit`, `person`, `relative`); a unit's
    /// clerk claims as the unit, a citizen as the person or as a close relative on record.
    #[serde(default)]
    pub claimant: Option<ClaimantKind>,
    /// What the claimant states (decides materials).
    #[serde(default)]
    pub stated: Stated,
}

/// The claimant of a claim submitted by `actor` about `injury`, checked: a unit's clerk for
/// the unit holding the cover; a citizen for their own verified number, or as a close relative
/// with proof on record; the window for any of them in the injury's county.
async fn claimant(
    p: &Platform,
    actor: &Actor,
    injury: &Injury,
    asked: Option<ClaimantKind>,
) -> Result<ClaimantKind, ApiError> {
    let kind = match actor.role {
        Role::Employer => {
            actor.may(Action::SubmitClaim, Some(injury.county), owner_of(injury))?;
            if injury.covered_by.unit().is_none() {
                return Err(swi_domain::Denied::NotOwner.into());
            }
            ClaimantKind::Unit
        }
        Role::Citizen => {
            actor.may(Action::SubmitClaim, None, Owner::Nobody)?;
            let id = ResidentId::parse(&injury.id_number).map_err(|e| ApiError::internal(&e))?;
            swi_platform::identity::may_act_for(p, actor, &id, true).await?;
            let own = swi_platform::identity::linked(p, &actor.sub)
                .await?
                .is_some_and(|i| i.person == injury.person);
            if own {
                ClaimantKind::Person
            } else {
                ClaimantKind::Relative
            }
        }
        _ => {
            actor.may(Action::SubmitClaim, Some(injury.county), Owner::Nobody)?;
            asked.ok_or_else(|| {
                ApiError::invalid(
                    "窗口代为申领须注明申领人（unit、person 或 relative）",
                    "the window names the `claimant`: unit, person or relative",
                )
            })?
        }
    };
    if let Some(a) = asked
        && a != kind
        && actor.role != Role::Acceptor
    {
        return Err(ApiError::invalid(
            "申领人身份与登录身份不符",
            format!("you claim as {kind:?}, not {a:?}"),
        ));
    }
    if kind == ClaimantKind::Unit && injury.covered_by.unit().is_none() {
        return Err(ApiError::invalid(
            "个人参保的人员没有参保单位",
            "a self-enrolled person has no unit to claim for them",
        ));
    }
    Ok(kind)
}

/// Refuses what the claim may not have (Art. 25-32): an item the category does not receive, a
/// once-only item granted or claimed already, a death item without the death, the nursing
/// subsidy before the paid-leave period has ended (Art. 26: 在停工留薪期结束后…提出申领), and an
/// item whose cap per injury the approved claims have used up (Art. 25-26).
fn check_items(
    params: &ParamSet,
    injury: &Injury,
    items: &[Item],
    today: NaiveDate,
) -> Result<(), ApiError> {
    if items.is_empty() || items.len() > Item::ALL.len() {
        return Err(ApiError::invalid(
            "须申领一至十六个待遇项目",
            "claim 1-16 items",
        ));
    }
    let unique: BTreeSet<_> = items.iter().collect();
    if unique.len() != items.len() {
        return Err(ApiError::invalid(
            "同一待遇项目只能申领一次",
            "each item is claimed once",
        ));
    }
    for &item in items {
        if let Err(no) = may_receive(injury.category, item) {
            return Err(ApiError::refused(
                ErrorCode::NotEntitled,
                format!(
                    "{}不享受补充工伤保险{}（{}）",
                    injury.category.chinese(),
                    item.chinese(),
                    no.basis
                ),
                no.message(injury.category, item),
            ));
        }
        if item.once_per_injury()
            && let Some(by) = injury
                .granted
                .contains_key(&item)
                .then(|| "an approved claim".to_owned())
                .or_else(|| injury.reserved.get(&item).map(|c| format!("claim {c}")))
        {
            return Err(ApiError::refused(
                ErrorCode::AlreadyGranted,
                format!("{}每次工伤只核发一次，已核发或已在申领中", item.chinese()),
                format!(
                    "{item} is granted once per injury; {by} has it ({})",
                    item.article()
                ),
            ));
        }
        let death = matches!(
            item,
            Item::OneTimeDeath | Item::Funeral | Item::DependantPension
        );
        if death && injury.death.is_none() {
            return Err(ApiError::refused(
                ErrorCode::NotEntitled,
                "未登记死亡，不能申领工亡（身亡）待遇（第三十二条）",
                format!("{item} needs the death recorded on the injury (Art. 32)"),
            ));
        }
        if item == Item::NursingSubsidy {
            match &injury.paid_leave {
                None => {
                    return Err(ApiError::refused(
                        ErrorCode::PaidLeaveNotEnded,
                        "未登记停工留薪期，停工留薪期结束后方可申领护理补助（第二十六条）",
                        "the nursing subsidy is claimed after the paid-leave period ends; none is recorded (Art. 26)",
                    ));
                }
                Some(leave) if leave.to >= today => {
                    return Err(ApiError::refused(
                        ErrorCode::PaidLeaveNotEnded,
                        format!(
                            "停工留薪期至{}结束，结束后方可申领护理补助（第二十六条）",
                            leave.to
                        ),
                        format!(
                            "the nursing subsidy is claimed after the paid-leave period ends on {} (Art. 26)",
                            leave.to
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let granted = injury.granted.get(&item).copied().unwrap_or_default();
        if granted > Decimal::ZERO
            && let Ok(left) = within_injury_cap(
                params,
                item,
                figures_on(item, injury),
                Decimal::ONE,
                granted,
            )
            && left.value.is_zero()
        {
            return Err(ApiError::refused(
                ErrorCode::CapReached,
                format!(
                    "本次工伤的{}已按最高限额核发（已核发 {granted} 元），不再支付（{}）",
                    item.chinese(),
                    item.article()
                ),
                format!(
                    "{item}: the injury's approved claims granted {granted}, the whole cap ({})",
                    item.article()
                ),
            ));
        }
    }
    Ok(())
}

fn cover_ended(on: chrono::NaiveDate) -> ApiError {
    ApiError::refused(
        ErrorCode::CoverEnded,
        "补充工伤保险关系已终止，不再享受补充工伤保险待遇（第三十一条）",
        format!(
            "the person's supplementary relationship ended on {on}: no further benefits (Art. 31)"
        ),
    )
}

/// `POST /api/claims`: a claim for items of one injury (Art. 25-32).
///
/// # Errors
/// 400 bad items or claimant; 403; 404 unknown injury; 409 the injury changed meanwhile;
/// 422 not entitled, granted already, or the relationship ended (Art. 31).
#[utoipa::path(post, path = "/api/claims", tag = "claims", request_body = SubmitClaim,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "submitted, at the window", body = Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody),
        (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn submit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<SubmitClaim>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/claims", &req);
    swi_platform::wire::token(&req.injury, "injury")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut injury, version) = load_injury(&p, &req.injury).await?;
        let kind = claimant(&p, &actor, &injury, req.claimant).await?;
        if let Some(end) = ended_on(&p, &injury.person).await? {
            return Err(cover_ended(end.on));
        }
        let params = p.params().await?;
        check_items(&params, &injury, &req.items, p.clock.today())?;
        let now = p.clock.now().naive_local();
        let digest = sha2::Sha256::new()
            .chain_update(injury.id.as_bytes())
            .chain_update([0])
            .chain_update(actor.sub.as_bytes())
            .chain_update([0])
            .chain_update(key.0.as_bytes())
            .finalize();
        let (unit, owner) = match &injury.covered_by {
            crate::injury::CoveredBy::Enrolment { unit, owner, .. } => (unit.clone(), owner.clone()),
            crate::injury::CoveredBy::Project { unit, .. } => (Some(unit.clone()), None),
        };
        let mut claim = Claim {
            id: format!("c-{}", &hex::encode(digest)[..16]),
            injury: injury.id.clone(),
            county: injury.county,
            name: injury.name.clone(),
            id_number: injury.id_number.clone(),
            person: injury.person.clone(),
            category: injury.category,
            unit,
            owner,
            claimant: Claimant {
                kind,
                sub: actor.sub.clone(),
                name: actor.name.clone(),
                role: actor.role,
            },
            items: req.items.clone(),
            stated: req.stated,
            status: ClaimStatus::Submitted,
            checklist: Vec::new(),
            missing: Vec::new(),
            notice: None,
            steps: Vec::new(),
            events: Vec::new(),
            submitted_at: now,
            accepted_on: None,
            due: None,
            handling: None,
            review: None,
            re_review: None,
            assessment: None,
            approval: None,
            rejection: None,
        };
        refresh_materials(&mut claim, &injury);
        claim.record(&actor, "submitted", now, None);
        for &item in &claim.items {
            if item.once_per_injury() {
                injury.reserved.insert(item, claim.id.clone());
            }
        }
        injury.claims.push(claim.id.clone());
        let mut ops = vec![
            claim_put(&claim, Condition::NotExists)?,
            injury_put(&injury, Condition::VersionIs(version))?,
            still_open(&injury.person),
            pointer(&Party::Person(&injury.person), &claim)?,
            pointer(&Party::Submitter(&actor.sub), &claim)?,
        ];
        if let Some(u) = &claim.unit {
            ops.push(pointer(&Party::Unit(u), &claim)?);
        }
        Ok(Change {
            ops,
            audit: vec![
                audit(
                    &claim.id,
                    "claim.submit",
                    json!({ "injury": claim.injury, "items": claim.items, "claimant": kind, "missing": claim.missing, "basis": "Art. 25-32" }),
                ),
                crate::injury::audit(&injury.id, "injury.claim", json!({ "claim": claim.id })),
            ],
            status: StatusCode::CREATED,
            response: serde_json::to_value(claim.masked()).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/claims/{id}/resubmit`: the claimant resubmits a returned claim once the missing
/// materials are in the injury's dossier (Art. 34).
///
/// # Errors
/// 403; 404; 409 not returned.
#[utoipa::path(post, path = "/api/claims/{id}/resubmit", tag = "claims",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "back at the window", body = Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn resubmit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/resubmit"), &());
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut claim, version) = load_claim(&p, &id).await?;
        let (injury, injury_version) = load_injury(&p, &claim.injury).await?;
        if actor.role == Role::Citizen {
            if claim.claimant.sub != actor.sub {
                return Err(swi_domain::Denied::NotOwner.into());
            }
        } else {
            actor.may(Action::SubmitClaim, Some(claim.county), claim.owner())?;
        }
        if let Some(end) = ended_on(&p, &claim.person).await? {
            return Err(cover_ended(end.on));
        }
        refresh_materials(&mut claim, &injury);
        claim.status = advance(&claim, ClaimCommand::Resubmit)?;
        let now = p.clock.now().naive_local();
        claim.record(&actor, "resubmitted", now, None);
        Ok(Change {
            ops: vec![
                claim_put(&claim, Condition::VersionIs(version))?,
                swi_store::TxOp::Check {
                    key: crate::injury::injury_key(&injury.id),
                    condition: Condition::VersionIs(injury_version),
                },
            ],
            audit: vec![audit(
                &claim.id,
                "claim.resubmit",
                json!({ "missing": claim.missing }),
            )],
            status: StatusCode::OK,
            response: serde_json::to_value(claim.masked()).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
