//! The review steps after the window (Art. 34): handling confirms eligibility; the first review
//! judges every fee line and gives each item's amount through the rules; the re-review confirms
//! or deducts. From any step a claim may go back to the step before, with reasons, or be
//! rejected with the article. Each step is one person who did no other step of the claim.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::claim::{ClaimCommand, ClaimStatus};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{IdempotencyKey, fingerprint};
use swi_platform::{ApiError, Platform};

use crate::assess::assess;
use crate::facts::{Handling, ReReview, ReviewFacts, check_handling, check_review, deduct, text};
use crate::work::{Extra, advance, step_change};

/// A send-back with reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBack {
    /// Why.
    pub reason: String,
}

/// A rejection with the article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    /// Why.
    pub reason: String,
    /// The article of the procedures it rests on (1-51).
    pub article: u16,
}

/// `POST /api/claims/{id}/eligibility`: handling confirms identity, contributions and the
/// recognition and appraisal, and records any finding about treatment outside the agreement
/// institutions with its evidence (Art. 23, 34 (一)).
///
/// # Errors
/// 400 malformed; 403 (separation of duties included); 404; 409 not at handling; 422 a
/// confirmation withheld (send back or reject instead) or evidence never uploaded.
#[utoipa::path(post, path = "/api/claims/{id}/eligibility", tag = "claims", request_body = Handling,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "eligible: at first review", body = crate::claim::Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm_eligibility(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Handling>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/eligibility"), &req);
    check_handling(&req)?;
    let a = actor.clone();
    let pp = p.clone();
    step_change(&p, &actor, &key, &fp, &id, "claim.confirm_eligibility", &[ClaimStatus::Handling], |mut claim, injury, _, now| async move {
        claim.status = advance(&claim, ClaimCommand::ConfirmEligibility)?;
        let mut extra = Extra::default();
        if let Some(evidence) = &req.transfer_evidence {
            let sha = swi_store::Sha256::parse(evidence)
                .map_err(|e| ApiError::invalid("证明材料哈希不正确", e.to_string()))?;
            swi_platform::documents::require_scan(&pp, &a, &sha, "转诊转院证明材料").await?;
            let registered = swi_platform::documents::file(
                &pp,
                &a,
                &sha,
                swi_platform::dossier::Filing {
                    case: &crate::claim::claim_case(&claim.id),
                    county: &injury.county.code().to_string(),
                    class: crate::injury::archive_class(swi_domain::claim::ClaimMaterial::TransferApproval),
                    material: "转诊转院证明材料",
                },
            )
            .await?;
            extra.ops.extend(registered);
        }
        claim.handling = Some(req.clone());
        claim.record(&a, "eligibility_confirmed", now, req.note.clone());
        let detail = json!({ "transfer": req.transfer, "transfer_evidence": req.transfer_evidence, "basis": "Art. 34" });
        Ok((claim, injury, detail, extra))
    })
    .await
}

/// `POST /api/claims/{id}/first-review`: the first review judges every fee line (invoice,
/// provider, date, amount, catalogue; allowed or deducted with a reason), records stays, days
/// and dependants, and gives its opinion; every item is assessed through the rules (Art. 25-32,
/// 34 (二)).
///
/// # Errors
/// 400 malformed or facts an item needs missing; 403; 404; 409 not at first review; 422 refused
/// with the article (unpaid institution, catalogue, invoice relied on before, stays outside the
/// paid-leave period).
#[utoipa::path(post, path = "/api/claims/{id}/first-review", tag = "claims", request_body = ReviewFacts,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "assessed: at re-review", body = crate::claim::Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn first_review(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReviewFacts>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/first-review"), &req);
    let params = p.params().await?;
    let a = actor.clone();
    step_change(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        "claim.first_review",
        &[ClaimStatus::FirstReview],
        |mut claim, injury, _, now| async move {
            if claim.status != ClaimStatus::FirstReview {
                advance(&claim, ClaimCommand::FirstReview)?;
            }
            let transfer = claim.handling.as_ref().and_then(|h| h.transfer);
            check_review(&req, &claim.items, &injury, transfer, now.date())?;
            let assessment = assess(&params, &claim, &injury, &req, now.date())?;
            claim.status = advance(&claim, ClaimCommand::FirstReview)?;
            claim.review = Some(req.clone());
            claim.assessment = Some(assessment.clone());
            claim.record(&a, "first_reviewed", now, Some(req.opinion.clone()));
            let detail =
                json!({ "assessment": assessment, "opinion": req.opinion, "basis": "Art. 34" });
            Ok((claim, injury, detail, Extra::default()))
        },
    )
    .await
}

/// `POST /api/claims/{id}/re-review`: the re-review confirms the first review or deducts fee
/// lines with reasons; the items are assessed again (Art. 34 (三)). The claim goes back to the
/// first-review post for entry.
///
/// # Errors
/// 400 malformed or unknown line; 403; 404; 409 not at re-review; 422 a deduction that raises.
#[utoipa::path(post, path = "/api/claims/{id}/re-review", tag = "claims", request_body = ReReview,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "re-reviewed: at entry", body = crate::claim::Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn re_review(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReReview>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/re-review"), &req);
    let params = p.params().await?;
    let a = actor.clone();
    step_change(&p, &actor, &key, &fp, &id, "claim.re_review", &[ClaimStatus::ReReview], |mut claim, injury, _, now| async move {
        claim.status = advance(&claim, ClaimCommand::ReReview)?;
        let mut facts = claim.review.clone().unwrap_or_default();
        deduct(&mut facts, &req)?;
        let assessment = assess(&params, &claim, &injury, &facts, now.date())?;
        claim.review = Some(facts);
        claim.re_review = Some(req.clone());
        claim.assessment = Some(assessment.clone());
        claim.record(&a, "re_reviewed", now, Some(req.opinion.clone()));
        let detail = json!({ "deductions": req.deductions, "assessment": assessment, "opinion": req.opinion, "basis": "Art. 34" });
        Ok((claim, injury, detail, Extra::default()))
    })
    .await
}

/// `POST /api/claims/{id}/send-back`: back to the step before, with reasons (Art. 34).
///
/// # Errors
/// 400 no reason; 403; 404; 409 at the window (return it instead) or decided.
#[utoipa::path(post, path = "/api/claims/{id}/send-back", tag = "claims", request_body = SendBack,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "sent back", body = crate::claim::Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn send_back(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SendBack>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/send-back"), &req);
    text(&req.reason, "reason")?;
    let a = actor.clone();
    step_change(&p, &actor, &key, &fp, &id, "claim.send_back", &[], |mut claim, injury, _, now| async move {
        let from = claim.status;
        claim.status = advance(&claim, ClaimCommand::SendBack)?;
        claim.events.push(crate::claim::Event {
            what: "sent_back".into(),
            step: from.step(),
            by: a.name.clone(),
            at: now,
            note: Some(req.reason.clone()),
        });
        let detail = json!({ "from": from, "to": claim.status, "reason": req.reason, "basis": "Art. 34" });
        Ok((claim, injury, detail, Extra::default()))
    })
    .await
}

/// `POST /api/claims/{id}/reject`: the claim is refused with the article (Art. 23-34); its
/// once-only items are released.
///
/// # Errors
/// 400 no reason or an article outside 1-51; 403; 404; 409 decided already.
#[utoipa::path(post, path = "/api/claims/{id}/reject", tag = "claims", request_body = Reject,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "rejected", body = crate::claim::Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Reject>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/reject"), &req);
    text(&req.reason, "reason")?;
    if !(1..=51).contains(&req.article) {
        return Err(ApiError::invalid(
            "须引用规程第一条至第五十一条",
            "`article` is an article of the procedures, 1-51",
        ));
    }
    let a = actor.clone();
    step_change(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        "claim.reject",
        &[],
        |mut claim, mut injury, _, now| async move {
            claim.status = advance(&claim, ClaimCommand::Reject)?;
            claim.rejection = Some(crate::claim::Rejection {
                reason: req.reason.clone(),
                article: req.article,
                on: now.date(),
                by: a.name.clone(),
            });
            injury.reserved.retain(|_, c| *c != claim.id);
            claim.events.push(crate::claim::Event {
                what: "rejected".into(),
                step: None,
                by: a.name.clone(),
                at: now,
                note: Some(req.reason.clone()),
            });
            let detail = json!({ "reason": req.reason, "basis": format!("Art. {}", req.article) });
            let extra = Extra {
                injury_changed: true,
                injury_event: Some(("injury.claim_rejected", json!({ "claim": claim.id }))),
                // Decided: the claim's documents count their retention from now (Art. 45).
                ops: vec![swi_platform::dossier::closed_op(
                    &crate::claim::claim_case(&claim.id),
                    now.date(),
                )?],
                ..Extra::default()
            };
            Ok((claim, injury, detail, extra))
        },
    )
    .await
}
