//! Payment and termination at the window: each goes through the register's cover commands
//! (`swi_registry::cover`), the only way cover starts (Art. 8) or ends (Art. 9).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use swi_domain::Action;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{IdempotencyKey, apply, fingerprint};
use swi_platform::wire;
use swi_platform::{ApiError, Platform};
use swi_registry::cover::EndReason;
use swi_registry::enrolment::Enrolment;

use super::request::{RecordPayment, Terminate};

/// `POST /api/enrolments/{id}/payments`: records the premium payment; cover starts the day after
/// the later of entry and payment (Art. 8).
///
/// # Errors
/// 400 bad time; 403; 404; 409 wrong status.
#[utoipa::path(post, path = "/api/enrolments/{id}/payments", tag = "persons", request_body = RecordPayment, params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "paid; cover starts the next day (Art. 8)", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn record_payment(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordPayment>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/payments"), &req);
    let paid = wire::china_datetime(&req.paid_at, "paid_at")?;
    if paid > p.clock.now().naive_local() {
        return Err(ApiError::invalid(
            "缴费时间不能晚于当前时间",
            "`paid_at` is in the future",
        ));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        swi_registry::cover::record_payment(&p, &actor, &id, paid).await
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/enrolments/{id}/terminate`: ends cover (Art. 9).
///
/// # Errors
/// 400 bad end; 403; 404; 409 already terminated.
#[utoipa::path(post, path = "/api/enrolments/{id}/terminate", tag = "persons", request_body = Terminate, params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "terminated", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn terminate(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Terminate>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/terminate"), &req);
    wire::name(&req.reason, "reason")?;
    let reason = EndReason::Terminated {
        reason: req.reason.clone(),
    };
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        swi_registry::cover::terminate(&p, &actor, Action::ManagePersons, &id, req.end, &reason)
            .await
    })
    .await?;
    Ok((status, axum::Json(body)))
}
