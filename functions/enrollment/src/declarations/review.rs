//! The county's review of a queued declaration (Art. 18): a rejection with its reason, or an
//! approval recorded at once (202) whose rows the declaration job then applies.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::ErrorCode;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_registry::unit::{active_check, load_unit};
use swi_store::{Condition, TxOp};

use super::apply::pointer_put;
use super::{
    Declaration, DeclarationView, ReviewStatus, declaration_case, declaration_item, declaration_key,
};

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `approve` or `reject`.
    pub decision: String,
    /// Why (required to reject).
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/declarations/{id}/review`: approves or rejects a queued declaration (Art. 18).
/// An approval is recorded at once and answered 202 with status `applying`; the declaration job
/// then enrols the joiners and ends the leavers' cover, a transaction of rows at a time, and
/// the declaration reads `approved` when every row has been dealt with.
///
/// # Errors
/// 400 bad decision; 403; 404; 409 not queued.
#[utoipa::path(post, path = "/api/declarations/{id}/review", tag = "declarations", request_body = Review,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 202, description = "approved: its rows are being applied", body = DeclarationView),
        (status = 200, description = "rejected", body = DeclarationView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn review(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Review>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/declarations/{id}/review"), &req);
    let approve = match req.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::invalid(
                "审核结论须为 approve 或 reject",
                "`decision` must be approve or reject",
            ));
        }
    };
    if !approve && req.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::invalid(
            "退回须说明理由",
            "a rejection needs a `note`",
        ));
    }
    if let Some(n) = &req.note {
        swi_platform::wire::name(n, "note")?;
    }
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let item =
            p.state.get(&declaration_key(&id)).await?.ok_or_else(|| {
                ApiError::not_found("未找到该申报", format!("no declaration {id}"))
            })?;
        let version = item.version;
        let mut d: Declaration = item.body().map_err(|e| ApiError::internal(&e))?;
        actor.may(Action::ReviewDeclaration, Some(d.county), Owner::Nobody)?;
        if d.status != ReviewStatus::Queued {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "该申报已审核",
                "the declaration was already reviewed",
            ));
        }
        d.status = if approve {
            ReviewStatus::Applying
        } else {
            ReviewStatus::Rejected
        };
        d.reviewed_by = Some(actor.name.clone());
        d.reviewed_on = Some(p.clock.today());
        d.note.clone_from(&req.note);
        let mut ops = vec![TxOp::Put {
            item: declaration_item(&d)?,
            condition: Condition::VersionIs(version),
        }];
        if approve {
            // An approval adds cover: the unit must be active and stay so (Art. 10).
            let (unit, unit_version) = load_unit(&p, &d.unit).await?;
            ops.push(active_check(&unit, unit_version)?);
            ops.push(pointer_put(&d.id, 0, Condition::NotExists)?);
        }
        let body = serde_json::to_value(DeclarationView {
            declaration: d.clone(),
            failed: Vec::new(),
        })
        .map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: declaration_case(&d.id),
                command: format!("declaration.{}", if approve { "approve" } else { "reject" }),
                change: json!({ "note": req.note, "rows": d.joiners + d.leavers }),
            }],
            status: if approve {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            },
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
