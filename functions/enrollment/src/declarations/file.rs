//! Filing a month's declaration (Art. 18): accepted whole into the county's review queue, due 3
//! working days after receipt, or rejected whole with a row-by-row report; the queue; one
//! declaration with the rows that did not apply.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::ErrorCode;
use swi_platform::auth::Authenticated;
use swi_platform::documents::load_table;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::reports::{self, ReportSubject};
use swi_platform::{ApiError, Platform};
use swi_registry::unit::{UnitStatus, load_unit};
use swi_rules::ids::County;
use swi_store::{Condition, Index, Query, Sha256, TxOp};
use swi_tables::Limits;

use super::rows::{RowChange, check_rows, parse_rows, roster_of};
use super::{
    Declaration, DeclarationView, ReviewStatus, declaration_case, declaration_id, declaration_item,
    declaration_key,
};

/// An upload of a declaration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declare {
    /// Month declared, `YYYY-MM`.
    pub month: String,
    /// SHA-256 of the uploaded XLSX or CSV file.
    pub sha256: String,
}

/// `POST /api/units/{code}/declarations`: files a month's declaration; accepted whole into the
/// review queue, or rejected whole with a row-by-row report.
///
/// # Errors
/// 400 bad month; 403; 404; 409 cancelled unit; 413/415 file; 422 rows refused (with `rows` and
/// `report_sha256` in the error answer's companion fields).
#[utoipa::path(post, path = "/api/units/{code}/declarations", tag = "declarations", request_body = Declare,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "accepted into the review queue", body = Declaration),
        (status = 422, description = "rejected whole: every problem by row, and the report as XLSX", body = reports::RowsRejected),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn declare(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<Declare>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/units/{code}/declarations"), &req);
    let month = NaiveDate::parse_from_str(&format!("{}-01", req.month), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("申报月份须为 YYYY-MM", "`month` must be YYYY-MM"))?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let (unit, _) = load_unit(&p, &code).await?;
    let county = unit.county;
    actor.may(Action::Declare, Some(county), Owner::Unit(&unit.code))?;
    if unit.status == UnitStatus::Cancelled {
        return Err(ApiError::conflict(
            ErrorCode::UnitCancelled,
            "该单位已注销",
            "the unit is cancelled",
        ));
    }
    // Only the unit's own upload is read (knowing a hash is not having the file).
    swi_platform::documents::possess(&p, &actor, &sha).await?;
    let table = load_table(&p, &sha, &Limits::DECLARATION, "申报文件").await?;
    let (rows, mut reports) = parse_rows(&table).map_err(|e| {
        ApiError::invalid(
            "申报文件表头不正确",
            format!("the header row is wrong: {e}"),
        )
    })?;
    let total = rows.len() + reports.len();
    if total == 0 {
        return Err(ApiError::invalid(
            "申报文件没有数据行",
            "the file has no data rows",
        ));
    }
    let params = p.params().await?;
    let roster = roster_of(&p, &unit.code).await?;
    reports.extend(check_rows(&params, &p.persons, &rows, month, &roster));
    if !reports.is_empty() {
        reports.sort_by_key(|r| r.row);
        let title = format!(
            "{} 月度申报审核报告 — 单位 {}（{}）",
            month.format("%Y-%m"),
            unit.name,
            unit.code
        );
        let xlsx = swi_tables::report_xlsx(&title, &reports, total, "整份文件未受理")
            .map_err(|e| ApiError::internal(&e))?;
        let report = reports::store(
            &p,
            ReportSubject::Unit {
                code: unit.code.clone(),
                county,
            },
            &xlsx,
        )
        .await?;
        return Ok(reports::RowsRejected {
            error: swi_platform::error::ErrorDetail {
                code: swi_platform::ErrorCode::DeclarationRejected,
                zh: format!(
                    "共 {total} 行，{} 行有问题，整份文件未受理，请修改后重新申报",
                    reports.len()
                ),
                en: format!(
                    "{} of {total} rows have problems; the whole file is refused",
                    reports.len()
                ),
            },
            report_url: reports::url(&report),
            report_sha256: report.hex(),
            rows: reports,
        }
        .answer());
    }
    let today = p.clock.today();
    let due = swi_rules::calendar::review_by(&params, today).map_err(|e| {
        ApiError::refused(
            ErrorCode::CalendarNotLoaded,
            "工作日历尚未载入",
            e.to_string(),
        )
    })?;
    let review_by = due.value;
    let review_by_assumes = due
        .assumptions()
        .map(|u| format!("{} ({}): {}", u.parameter, u.status, u.source))
        .reduce(|a, b| format!("{a}; {b}"));
    let joiners = rows.iter().filter(|r| r.change == RowChange::Join).count();
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let id = declaration_id(&unit.code, month, &sha);
        if p.state.get(&declaration_key(&id)).await?.is_some() {
            return Err(ApiError::conflict(
                ErrorCode::AlreadyDeclared,
                "该文件已申报过本月，请勿重复申报",
                format!("this file was already declared for this month ({id})"),
            ));
        }
        // Accepted whole: the file is the declaration's, filed before the queue names it.
        let case = declaration_case(&id);
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &sha,
            swi_platform::dossier::Filing {
                case: &case,
                county: &unit.county.code().to_string(),
                class: swi_archive::retention::RecordClass::PersonRegistration,
                material: "人员增减申报表",
            },
        )
        .await?;
        let d = Declaration {
            id: id.clone(),
            unit: unit.code.clone(),
            county: unit.county,
            month,
            sha256: sha.hex(),
            joiners,
            leavers: rows.len() - joiners,
            status: ReviewStatus::Queued,
            received_on: today,
            review_by,
            review_by_assumes,
            reviewed_by: None,
            reviewed_on: None,
            note: None,
            applied: 0,
            not_applied: 0,
            cursor: 0,
        };
        let body = serde_json::to_value(DeclarationView {
            declaration: d.clone(),
            failed: Vec::new(),
        })
        .map_err(|e| ApiError::internal(&e))?;
        let item = declaration_item(&d)?;
        let listed = unit_listing(&d)?;
        let mut ops = vec![
            TxOp::Put {
                item,
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: listed,
                condition: Condition::NotExists,
            },
        ];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "declaration.file".into(),
                change: body.clone(),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/counties/{county}/declarations`: the county's review queue, earliest due first.
///
/// # Errors
/// 400 unknown county; 403.
#[utoipa::path(get, path = "/api/counties/{county}/declarations", tag = "declarations",
    params(("county" = String, Path)),
    responses((status = 200, description = "queued declarations, earliest due first", body = [Declaration]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn queue(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<Vec<Declaration>>, ApiError> {
    let c = County::parse(&county).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))?;
    actor.may(Action::ReviewDeclaration, Some(c), Owner::Nobody)?;
    let mut out = Vec::new();
    for item in &p
        .state
        .query_index_all(
            Index::Gsi1,
            &Query::partition(format!("declarations#{county}"))
                .range(swi_store::SkRange::Prefix("queued#".into()))
                .limit(500),
        )
        .await?
    {
        out.push(item.body().map_err(|e| ApiError::internal(&e))?);
    }
    Ok(axum::Json(out))
}

/// The unit's list of its declarations: `declarations-of#{unit}` / `{month}#{id}`.
fn unit_listing(d: &Declaration) -> Result<swi_store::Item, ApiError> {
    Ok(swi_store::Item::new(
        format!("declarations-of#{}", d.unit),
        format!("{}#{}", d.month.format("%Y-%m"), d.id),
        &serde_json::json!({ "id": d.id }),
    )?)
}

/// How many of a unit's declarations its list shows: two years of months, and resubmissions.
const UNIT_LIST: u32 = 48;

/// `GET /api/units/{code}/declarations`: the unit's declarations, latest month first.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/declarations", tag = "declarations",
    params(("code" = String, Path)),
    responses((status = 200, description = "the unit's declarations, latest month first", body = [Declaration]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_unit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Vec<Declaration>>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    let page = p
        .state
        .query(
            &Query::partition(format!("declarations-of#{}", unit.code))
                .limit(UNIT_LIST)
                .backward(),
        )
        .await?;
    let mut out = Vec::with_capacity(page.items.len());
    for listed in &page.items {
        let Some(id) = listed.body["id"].as_str() else {
            continue;
        };
        if let Some(item) = p.state.get(&declaration_key(id)).await? {
            out.push(item.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(axum::Json(out))
}

/// `GET /api/declarations/{id}`.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/declarations/{id}", tag = "declarations",
    params(("id" = String, Path)),
    responses((status = 200, description = "the declaration, and the rows that did not apply", body = DeclarationView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<DeclarationView>, ApiError> {
    let item = p
        .state
        .get(&declaration_key(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该申报", format!("no declaration {id}")))?;
    let d: Declaration = item.body().map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::Read, Some(d.county), Owner::Unit(&d.unit))?;
    let mut failed = Vec::with_capacity(d.not_applied);
    if d.not_applied > 0 {
        for item in &p
            .state
            .query_all(
                &Query::partition(format!("declaration#{id}"))
                    .range(swi_store::SkRange::Prefix("failed#".into()))
                    .limit(1000),
            )
            .await?
        {
            failed.push(item.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(axum::Json(DeclarationView {
        declaration: d,
        failed,
    }))
}
