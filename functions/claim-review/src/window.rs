//! The window (受理, Art. 34): it accepts a claim whose checklist is complete, or returns it with
//! a one-time notice listing every missing material and every problem at once — and hands that
//! notice out as a PDF form.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::claim::{ClaimCommand, ClaimMaterial, ClaimStatus};
use swi_forms::Field;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{IdempotencyKey, fingerprint};
use swi_platform::wire;
use swi_platform::{ApiError, ErrorCode, Platform};

use crate::claim::{Claim, ClaimNotice, load_claim};
use crate::facts::MAX_ENTRIES;
use crate::work::{Extra, advance, refresh_materials, step_change};

/// A return with a one-time notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnClaim {
    /// Materials in the dossier that the window refuses (illegible, wrong document): removed
    /// from the dossier and listed as missing.
    #[serde(default)]
    pub rejected: Vec<ClaimMaterial>,
    /// Other problems, each a sentence.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// `POST /api/claims/{id}/accept`: the window accepts a complete claim (Art. 34).
///
/// # Errors
/// 403 (separation of duties included); 404; 409 not at the window; 422 materials missing
/// (return the claim with a one-time notice instead).
#[utoipa::path(post, path = "/api/claims/{id}/accept", tag = "claims",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "accepted: at handling", body = Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn accept(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/accept"), &());
    let params = p.params().await?;
    let a = actor.clone();
    step_change(&p, &actor, &key, &fp, &id, "claim.accept", &[ClaimStatus::Submitted], |mut claim, injury, _, now| async move {
        refresh_materials(&mut claim, &injury);
        if !claim.missing.is_empty() {
            let names: Vec<&str> = claim.missing.iter().map(|m| m.chinese()).collect();
            return Err(ApiError::refused(
                ErrorCode::MaterialsMissing,
                format!("材料不全，请一次性告知后退回：{}", names.join("、")),
                format!(
                    "materials are missing ({}); return the claim with a one-time notice (Art. 34)",
                    claim.missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        claim.status = advance(&claim, ClaimCommand::Accept)?;
        let today = now.date();
        claim.accepted_on = Some(today);
        // The review's time limit is the city's to set; until it does, no due date.
        claim.due = swi_rules::calendar::claim_review_by(&params, today)
            .ok()
            .map(|d| d.value);
        claim.record(&a, "accepted", now, None);
        let detail = json!({ "accepted_on": today, "due": claim.due, "basis": "Art. 34" });
        Ok((claim, injury, detail, Extra::default()))
    })
    .await
}

/// `POST /api/claims/{id}/return`: the window returns the claim with a one-time notice listing
/// every missing material and every problem at once (Art. 34).
///
/// # Errors
/// 400 nothing to tell, or a bad problem text; 403; 404; 409 not at the window.
#[utoipa::path(post, path = "/api/claims/{id}/return", tag = "claims", request_body = ReturnClaim,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "returned with a one-time notice", body = Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn return_with_notice(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReturnClaim>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/claims/{id}/return"), &req);
    if req.problems.len() > MAX_ENTRIES || req.rejected.len() > ClaimMaterial::ALL.len() {
        return Err(ApiError::invalid(
            "告知事项过多",
            "too many problems or materials",
        ));
    }
    for problem in &req.problems {
        wire::name(problem, "problems")?;
    }
    let a = actor.clone();
    let pp = p.clone();
    step_change(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        "claim.return",
        &[ClaimStatus::Submitted],
        |mut claim, mut injury, _, now| async move {
            let mut changed = false;
            for m in &req.rejected {
                changed |= injury.materials.remove(m).is_some();
            }
            refresh_materials(&mut claim, &injury);
            if claim.missing.is_empty() && req.problems.is_empty() {
                return Err(ApiError::invalid(
                    "一次性告知书须列明缺少或有误的材料",
                    "a return needs something to tell: rejected materials or problems",
                ));
            }
            claim.status = advance(&claim, ClaimCommand::Return)?;
            let mut notice = ClaimNotice {
                missing: claim.missing.clone(),
                problems: req.problems.clone(),
                issued_on: now.date(),
                issued_by: a.name.clone(),
                sha256: None,
            };
            // Issued as a verifiable PDF now; without the font it is printed on request.
            let mut issued = Vec::new();
            match swi_platform::verification::issue(
                &pp,
                notice_form(&claim, &notice),
                &claim.id,
                &format!("赣州市补充工伤保险承办机构（{}）", claim.county.name()),
                now.date(),
                swi_platform::dossier::Filing {
                    case: &crate::claim::claim_case(&claim.id),
                    county: &claim.county.code().to_string(),
                    class: crate::injury::claim_class(&claim.items),
                    material: "一次性告知书",
                },
            )
            .await
            {
                Ok((sha, op)) => {
                    notice.sha256 = Some(sha);
                    issued = op;
                }
                Err(e) if e.code == ErrorCode::FormsUnavailable => {}
                Err(e) => return Err(e),
            }
            claim.notice = Some(notice.clone());
            claim.record(&a, "returned", now, Some(req.problems.join("；")));
            let detail = serde_json::to_value(&notice).map_err(|e| ApiError::internal(&e))?;
            let extra = Extra {
                injury_changed: changed,
                injury_event: changed.then(|| {
                    (
                        "injury.reject_material",
                        json!({ "rejected": req.rejected, "claim": claim.id }),
                    )
                }),
                ops: issued,
                ..Extra::default()
            };
            Ok((claim, injury, detail, extra))
        },
    )
    .await
}

/// `GET /api/claims/{id}/notice`: the last one-time notice as a PDF form (Art. 34).
///
/// # Errors
/// 403; 404 unknown claim or no notice; 503 forms unavailable.
#[utoipa::path(get, path = "/api/claims/{id}/notice", tag = "claims", params(("id" = String, Path)),
    responses((status = 200, description = "the one-time notice", content_type = "application/pdf"),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn notice_pdf(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (claim, _) = load_claim(&p, &id).await?;
    crate::read::may_read(&p, &actor, &claim).await?;
    let notice = claim.notice.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "该申领没有一次性告知书",
            "this claim has no one-time notice",
        )
    })?;
    if let Some(sha) = &notice.sha256 {
        let sha = swi_store::Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
        let bytes = swi_platform::documents::load_bounded(&p, &sha, 16 << 20).await?;
        return Ok(crate::read::pdf(bytes, format!("notice-{id}.pdf")));
    }
    let form = notice_form(&claim, notice);
    let pdf = swi_forms::render(
        &*swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))?,
        &form,
    )
    .map_err(|err| ApiError::internal(&err))?;
    Ok(crate::read::pdf(pdf, format!("notice-{id}.pdf")))
}

/// The one-time notice of `claim` as a form (Art. 34).
fn notice_form(claim: &Claim, notice: &ClaimNotice) -> swi_forms::Form {
    let masked = claim.masked();
    swi_forms::OneTimeNotice {
        business: "补充工伤保险待遇申领".into(),
        number: "GZBG-DY-01".into(),
        serial: claim.id.clone(),
        subject: vec![
            Field {
                label: "申领人员".into(),
                value: format!("{}（{}）", claim.name, masked.id_number),
            },
            Field {
                label: "人员类别".into(),
                value: claim.category.chinese().into(),
            },
            Field {
                label: "申领项目".into(),
                value: claim
                    .items
                    .iter()
                    .map(|i| i.chinese())
                    .collect::<Vec<_>>()
                    .join("、"),
            },
        ],
        missing: notice
            .missing
            .iter()
            .map(|m| m.chinese().to_owned())
            .collect(),
        problems: notice.problems.clone(),
        issued_by: notice.issued_by.clone(),
        issued_on: notice.issued_on,
    }
    .form()
}
