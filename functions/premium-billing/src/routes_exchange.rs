//! The tax-bureau exchange's routes: export a county's bills of a month, import the receipts,
//! follow an import, list and download the files exchanged.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::reports::{self, ReportSubject};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_rules::ids::County;
use swi_store::{Condition, Sha256};
use swi_tables::Limits;

use crate::exchange::{
    ExchangeFile, FileKind, Format, export_rows, file_ops, files_of, load_file, render,
};
use crate::receipts::{
    ImportStatus, ReceiptImport, batch, check_rows, import_case, import_id, import_op, load_import,
    mismatch_report, parse, pointer_op,
};
use crate::routes_runs::month_param;

fn county_param(text: &str) -> Result<County, ApiError> {
    County::parse(text).map_err(|m| ApiError::invalid("县区代码有误", m))
}

/// `POST /api/tax-exchange/exports` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// County code.
    pub county: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// `csv` or `xlsx`.
    pub format: Format,
}

/// `POST /api/tax-exchange/exports`: the county's unpaid bills of a month as a file for the tax
/// bureau to collect (columns in the README), kept and listed with who made it.
///
/// # Errors
/// 400; 403 not a clerk of the exchange in the county.
#[utoipa::path(post, path = "/api/tax-exchange/exports", tag = "billing", request_body = Export,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "the file, kept: download it from `/api/tax-exchange/files/{sha256}`", body = ExchangeFile),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<Export>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/tax-exchange/exports", &req);
    let county = county_param(&req.county)?;
    let month = month_param(&req.month, "month")?;
    actor.may(Action::ExchangeWithTax, Some(county), Owner::Nobody)?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let rows = export_rows(&p, county, month).await?;
        let bytes = render(&rows, req.format)?;
        let case = format!("exchange#{}", county.code());
        let (sha, registered) = swi_platform::documents::keep(
            &p,
            &actor,
            &bytes,
            swi_platform::dossier::Filing {
                case: &case,
                county: &county.code().to_string(),
                class: swi_archive::retention::RecordClass::Contributions,
                material: "应征数据文件",
            },
        )
        .await?;
        let f = ExchangeFile {
            sha256: sha.hex(),
            kind: FileKind::Bills,
            format: req.format,
            county,
            month: Some(month),
            rows: rows.len(),
            amount: rows.iter().map(|r| r.amount).sum(),
            import: None,
            at: p.clock.now().naive_local(),
            by: actor.name.clone(),
        };
        let mut ops = file_ops(&f)?;
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "tax.export".into(),
                change: json!({ "sha256": f.sha256, "month": month, "rows": f.rows, "amount": f.amount }),
            }],
            status: StatusCode::CREATED,
            response: serde_json::to_value(&f).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `?county=`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct CountyQuery {
    /// County code.
    pub county: String,
}

/// `GET /api/tax-exchange?county=`: the files exchanged for a county, newest first.
///
/// # Errors
/// 400; 403.
#[utoipa::path(get, path = "/api/tax-exchange", tag = "billing", params(CountyQuery),
    responses((status = 200, description = "the files exchanged, newest first", body = [ExchangeFile]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn files(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CountyQuery>,
) -> Result<axum::Json<Vec<ExchangeFile>>, ApiError> {
    let county = county_param(&q.county)?;
    actor.may(Action::ExchangeWithTax, Some(county), Owner::Nobody)?;
    Ok(axum::Json(files_of(&p, county, 100).await?))
}

/// `GET /api/tax-exchange/files/{sha256}`: a file exchanged, for the clerks of its county.
///
/// # Errors
/// 400; 403; 404 not a file exchanged.
#[utoipa::path(get, path = "/api/tax-exchange/files/{sha256}", tag = "billing",
    params(("sha256" = String, Path)),
    responses((status = 200, description = "the file (CSV or XLSX)", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(hash): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let sha =
        Sha256::parse(&hash).map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let f = load_file(&p, &sha)
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该交换文件", "no such exchange file"))?;
    actor.may(Action::ExchangeWithTax, Some(f.county), Owner::Nobody)?;
    let bytes =
        swi_platform::documents::load_bounded(&p, &sha, Limits::DECLARATION.max_bytes).await?;
    let name = format!(
        "{}-{}-{}.{}",
        match f.kind {
            FileKind::Bills => "bills",
            FileKind::Receipts => "receipts",
        },
        f.county.code(),
        f.month.map_or_else(
            || f.at.format("%Y%m%d").to_string(),
            |m| m.format("%Y-%m").to_string()
        ),
        f.format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, f.format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    ))
}

/// `POST /api/tax-exchange/receipts` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportReceipts {
    /// County code.
    pub county: String,
    /// SHA-256 of the uploaded receipts file (CSV or XLSX).
    pub sha256: String,
}

/// `POST /api/tax-exchange/receipts`: imports the tax bureau's receipts for a county — whole or
/// not at all. Every row must match its bill as stored; otherwise 422 with every problem by row
/// and the report as XLSX, and nothing is written. A matching file pays its bills and starts
/// the cover waiting for them (Art. 8): at once when it fits one transaction (200), else the
/// `receipts-apply` job goes on from the first transaction (202, `applying`).
///
/// # Errors
/// 400; 403; 409 imported before; 413/415 the file; 422 rows that do not match.
#[utoipa::path(post, path = "/api/tax-exchange/receipts", tag = "billing", request_body = ImportReceipts,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "applied", body = ReceiptImport),
        (status = 202, description = "applying: the first transaction is written, the job does the rest", body = ReceiptImport),
        (status = 422, description = "refused whole: every problem by row, and the report as XLSX", body = reports::RowsRejected),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<ImportReceipts>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/tax-exchange/receipts", &req);
    let county = county_param(&req.county)?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    actor.may(Action::ExchangeWithTax, Some(county), Owner::Nobody)?;
    let id = import_id(&sha, county);
    if let Some((imp, _)) = load_import(&p, &id).await? {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyImported,
            "该回执文件已导入过",
            format!(
                "this receipts file was imported for {} on {}",
                county.code(),
                imp.received_at
            ),
        ));
    }
    // Only the clerk's own upload is read (knowing a hash is not having the file).
    swi_platform::documents::possess(&p, &actor, &sha).await?;
    let table =
        swi_platform::documents::load_table(&p, &sha, &Limits::RECEIPTS, "回执文件").await?;
    let (rows, mut problems) = parse(&table).map_err(|(en, zh)| {
        ApiError::invalid(
            format!("回执文件缺少“{zh}”列"),
            format!("the receipts file has no `{en}` column"),
        )
    })?;
    drop(table);
    let total = rows.len() + problems.len();
    if total == 0 {
        return Err(ApiError::invalid(
            "回执文件没有数据行",
            "the file has no data rows",
        ));
    }
    let today = p.clock.today();
    let checked = check_rows(&p, &actor, rows, today).await?;
    for (row, m) in &checked {
        if let Err(why) = m {
            problems.push(mismatch_report(row, why));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|r| r.row);
        let title = format!("税务回执导入审核报告 — 县区 {}", county.code());
        let xlsx = swi_tables::report_xlsx(&title, &problems, total, "整份文件未导入")
            .map_err(|e| ApiError::internal(&e))?;
        let report = reports::store(
            &p,
            ReportSubject::Import {
                jurisdiction: actor.jurisdiction.code(),
            },
            &xlsx,
        )
        .await?;
        return Ok(reports::RowsRejected {
            error: swi_platform::error::ErrorDetail {
                code: ErrorCode::ReceiptsRejected,
                zh: format!(
                    "共 {total} 行，{} 行与核定单不符，整份文件未导入，请核对后重新导入",
                    problems.len()
                ),
                en: format!(
                    "{} of {total} rows do not match their bills; the whole file is refused",
                    problems.len()
                ),
            },
            report_url: reports::url(&report),
            report_sha256: report.hex(),
            rows: problems,
        }
        .answer());
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &sha,
            swi_platform::dossier::Filing {
                case: &import_case(&id),
                county: &county.code().to_string(),
                class: swi_archive::retention::RecordClass::Contributions,
                material: "税务到账回执文件",
            },
        )
        .await?;
        let at = p.clock.now().naive_local();
        let mut imp = ReceiptImport {
            id: id.clone(),
            county,
            sha256: sha.hex(),
            rows: total,
            cursor: 0,
            applied: 0,
            amount: rust_decimal::Decimal::ZERO,
            covered: 0,
            status: ImportStatus::Applying,
            received_at: at,
            by: actor.name.clone(),
            not_applied: Vec::new(),
            not_started: Vec::new(),
        };
        let first = batch(&p, &mut imp, checked, at).await?;
        imp.cursor = first.consumed;
        if imp.cursor >= imp.rows {
            imp.status = ImportStatus::Applied;
        }
        let f = ExchangeFile {
            sha256: sha.hex(),
            kind: FileKind::Receipts,
            format: if swi_platform::documents::stored_type(&p, &sha).await?
                == Some(swi_tables::XLSX_TYPE)
            {
                Format::Xlsx
            } else {
                Format::Csv
            },
            county,
            month: None,
            rows: total,
            amount: imp.amount,
            import: Some(id.clone()),
            at,
            by: actor.name.clone(),
        };
        let mut ops = first.ops;
        ops.extend(file_ops(&f)?);
        ops.extend(registered);
        ops.push(import_op(&imp, Condition::NotExists)?);
        if imp.status == ImportStatus::Applying {
            ops.push(pointer_op(&imp)?);
        }
        let mut audit = first.audit;
        audit.push(Audit {
            case: import_case(&id),
            command: "receipts.import".into(),
            change: json!({ "sha256": imp.sha256, "rows": total, "applied": imp.applied, "basis": "Art. 8, 16, 19" }),
        });
        Ok(Change {
            ops,
            audit,
            status: if imp.status == ImportStatus::Applied {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            },
            response: serde_json::to_value(&imp).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/tax-exchange/receipts/{id}`: an import and its progress.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/tax-exchange/receipts/{id}", tag = "billing",
    params(("id" = String, Path)),
    responses((status = 200, description = "the import", body = ReceiptImport),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_import(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<ReceiptImport>, ApiError> {
    let (imp, _) = load_import(&p, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该回执导入", "no such receipts import"))?;
    actor.may(Action::ExchangeWithTax, Some(imp.county), Owner::Nobody)?;
    Ok(axum::Json(imp))
}
