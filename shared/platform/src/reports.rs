//! Row reports the system made — a refused declaration's or roster's problems as an XLSX
//! workbook — recorded when made with whom they concern. Only a recorded report is served, and
//! only to those it concerns: a workbook that anyone uploaded is never a report, whatever it
//! says inside.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use swi_domain::access::{Denied, Owner};
use swi_domain::{Action, Actor, Jurisdiction};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, Sha256, TxOp};

use crate::auth::Authenticated;
use crate::{ApiError, Platform};

/// Whom a report concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ReportSubject {
    /// A unit's declaration: the unit and its county.
    Unit {
        /// Unified social credit code.
        code: String,
        /// The unit's county.
        county: County,
    },
    /// A roster import by clerks of a county or of the city (its code).
    Import {
        /// The importing clerks' jurisdiction code.
        jurisdiction: String,
    },
}

impl ReportSubject {
    /// May `actor` read a report about this subject?
    ///
    /// # Errors
    /// Why not.
    pub fn readable_by(&self, actor: &Actor) -> Result<(), Denied> {
        match self {
            ReportSubject::Unit { code, county } => {
                actor.may(Action::Read, Some(*county), Owner::Unit(code))
            }
            ReportSubject::Import { jurisdiction } => match Jurisdiction::parse(jurisdiction) {
                Ok(Jurisdiction::County(c)) => {
                    actor.may(Action::RecordWorkInjuryFacts, Some(c), Owner::Nobody)
                }
                _ => {
                    actor.may(Action::RecordWorkInjuryFacts, None, Owner::Nobody)?;
                    if actor.jurisdiction == Jurisdiction::City {
                        Ok(())
                    } else {
                        Err(Denied::County {
                            record: jurisdiction.clone(),
                            actor: actor.jurisdiction.code(),
                        })
                    }
                }
            },
        }
    }
}

/// The record of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRecord {
    /// Whom it concerns.
    pub subject: ReportSubject,
    /// When it was made (RFC 3339, China time).
    pub made_at: String,
}

fn key(sha: &Sha256) -> Key {
    Key::new(format!("report#{}", sha.hex()), "record")
}

/// Where a report downloads from.
#[must_use]
pub fn url(sha: &Sha256) -> String {
    format!("/api/reports/{}", sha.hex())
}

/// A file refused whole (a declaration, a roster): the error, every problem by row, and the
/// report the system made of them, to download.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RowsRejected {
    /// The error (`declaration_rejected`, `roster_rejected`).
    pub error: crate::error::ErrorDetail,
    /// Every problem, by spreadsheet row.
    pub rows: Vec<swi_tables::RowReport>,
    /// The report's SHA-256.
    pub report_sha256: String,
    /// Where to download it.
    pub report_url: String,
}

impl RowsRejected {
    /// The answer: 422 with this body.
    pub fn answer(self) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
        (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::to_value(self).unwrap_or_default()),
        )
    }
}

/// Stores a report's bytes and records whom it concerns; returns its name.
///
/// # Errors
/// 503 when a store is unavailable.
pub async fn store(p: &Platform, subject: ReportSubject, bytes: &[u8]) -> Result<Sha256, ApiError> {
    let meta = p
        .docs
        .put(&mut &bytes[..])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let k = key(&meta.sha256);
    let record = ReportRecord {
        subject,
        made_at: p.clock.now().to_rfc3339(),
    };
    p.state
        .transact(vec![TxOp::Put {
            item: Item::new(k.pk, k.sk, &record)?,
            condition: Condition::None,
        }])
        .await?;
    Ok(meta.sha256)
}

/// `GET /api/reports/{sha256}`: a report the system made, for whom it concerns.
///
/// # Errors
/// 403 another unit's or county's report; 404 no such report.
#[utoipa::path(get, path = "/api/reports/{sha256}", tag = "documents",
    params(("sha256" = String, Path, description = "the report's SHA-256")),
    responses((status = 200, description = "the report workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(hash): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let sha =
        Sha256::parse(&hash).map_err(|e| ApiError::invalid("报告哈希不正确", e.to_string()))?;
    let not_found = || ApiError::not_found("未找到该报告", "no such report");
    let record: ReportRecord = p
        .state
        .get(&key(&sha))
        .await?
        .ok_or_else(not_found)?
        .body()
        .map_err(|e| ApiError::internal(&e))?;
    record.subject.readable_by(&actor)?;
    let bytes =
        crate::documents::load_bounded(&p, &sha, swi_tables::Limits::DECLARATION.max_bytes).await?;
    Ok((
        [
            (header::CONTENT_TYPE, swi_tables::XLSX_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{}.xlsx\"", &sha.hex()[..12]),
            ),
        ],
        bytes,
    ))
}
