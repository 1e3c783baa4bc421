//! Opening a month's billing run and following it: `POST /api/bills/runs`,
//! `GET /api/bills/runs`, `GET /api/bills/runs/{month}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use swi_domain::access::Owner;
use swi_domain::{Action, Actor};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};

use crate::run::{Run, load_run, open_change, runs};

/// `POST /api/bills/runs` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRun {
    /// The month, `YYYY-MM`.
    pub month: String,
}

/// Parses `YYYY-MM` into the month's first day.
///
/// # Errors
/// 400 naming the field.
pub fn month_param(text: &str, field: &str) -> Result<chrono::NaiveDate, ApiError> {
    swi_rules::params::parse_month(text)
        .ok()
        .and_then(|(y, m)| chrono::NaiveDate::from_ymd_opt(y, m, 1))
        .filter(|_| text.len() == 7)
        .ok_or_else(|| {
            ApiError::invalid(
                format!("{field} 须为 YYYY-MM 格式的月份"),
                format!("`{field}` must be a month, YYYY-MM"),
            )
        })
}

/// Who may follow runs: the clerks, and whoever runs jobs (a run names no person).
fn may_follow(actor: &Actor) -> Result<(), ApiError> {
    if actor.role.is_clerk() {
        return Ok(());
    }
    actor.may(Action::RunJobs, None, Owner::Nobody)?;
    Ok(())
}

/// `POST /api/bills/runs`: opens a month's billing run (once: a month opened before is answered
/// as it stands and nothing is written); the `billing` job bills it.
///
/// # Errors
/// 400 bad month; 403 not an operator or agency officer; 422 a month in the future or before
/// the scheme.
#[utoipa::path(post, path = "/api/bills/runs", tag = "billing", request_body = OpenRun,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 202, description = "opened; the billing job bills it", body = Run),
        (status = 200, description = "opened before: the run as it stands", body = Run),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn open(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<OpenRun>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/bills/runs", &req);
    let month = month_param(&req.month, "month")?;
    let Some(change) = open_change(&p, &actor, month).await? else {
        let (run, _) = load_run(&p, month)
            .await?
            .ok_or_else(|| ApiError::internal(&"a run reported open is missing"))?;
        return Ok((
            StatusCode::OK,
            axum::Json(serde_json::to_value(run).map_err(|e| ApiError::internal(&e))?),
        ));
    };
    let (status, body) = apply(&p, &actor, &key, &fp, async { Ok(change) }).await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/bills/runs`: the runs, newest month first.
///
/// # Errors
/// 403 a citizen or employer.
#[utoipa::path(get, path = "/api/bills/runs", tag = "billing",
    responses((status = 200, description = "the runs, newest month first", body = [Run]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<Vec<Run>>, ApiError> {
    may_follow(&actor)?;
    Ok(axum::Json(runs(&p, 36).await?))
}

/// `GET /api/bills/runs/{month}`: a month's run and its progress.
///
/// # Errors
/// 400 bad month; 403 a citizen or employer; 404 not opened.
#[utoipa::path(get, path = "/api/bills/runs/{month}", tag = "billing",
    params(("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, description = "the run", body = Run),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(month): Path<String>,
) -> Result<axum::Json<Run>, ApiError> {
    may_follow(&actor)?;
    let m = month_param(&month, "month")?;
    let (run, _) = load_run(&p, m).await?.ok_or_else(|| {
        ApiError::not_found(
            "该月尚未开始核定",
            format!("no billing run for {}", m.format("%Y-%m")),
        )
    })?;
    Ok(axum::Json(run))
}
