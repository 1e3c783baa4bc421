//! The books' routes: the month's trial balance and ledgers (Art. 39), reconciliations
//! (Art. 40) and the annual financial report (Art. 41).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_archive::retention::RecordClass;
use swi_domain::access::Owner;
use swi_domain::{Action, Actor, Role};
use swi_platform::auth::Authenticated;
use swi_platform::dossier::Filing;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::reports::{self, ReportSubject};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_rules::ids::County;
use swi_store::{Query as StoreQuery, Sha256};

use crate::reconcile::{self, Kind, Reconciliation, compare, net};
use crate::routes_payments::{county_param, month_param};

/// `?county=&format=` of the books.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct BooksQuery {
    /// A county's vouchers only; none for the city's books (city staff).
    pub county: Option<String>,
    /// `json` (default), `xlsx` or `pdf`.
    pub format: Option<String>,
}

/// `GET /api/payments/books/{month}`: the month's trial balance and ledgers (Art. 39), as JSON,
/// XLSX or PDF.
///
/// # Errors
/// 400 bad month or format; 403 not finance, agency officer or supervisor (of the county; the
/// city's books to the city's staff).
#[utoipa::path(get, path = "/api/payments/books/{month}", tag = "payments",
    params(("month" = String, Path, description = "YYYY-MM"), BooksQuery),
    responses((status = 200, description = "the trial balance (JSON), or the trial balance and ledgers (XLSX, PDF)", body = crate::books::Books,
            content((crate::books::Books = "application/json"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn books(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(month): Path<String>,
    Query(q): Query<BooksQuery>,
) -> Result<axum::response::Response, ApiError> {
    let m = month_param(&month)?;
    let from =
        chrono::NaiveDate::from_ymd_opt(crate::books::BOOKS_FROM.0, crate::books::BOOKS_FROM.1, 1)
            .unwrap_or(m);
    if m < from || m > p.clock.today() {
        return Err(ApiError::invalid(
            "会计期间须在账簿启用之后、不晚于本月",
            "the month is between the books' first month and this month",
        ));
    }
    let county = q.county.as_deref().map(county_param).transpose()?;
    match county {
        Some(c) => actor.may(Action::ReadPayments, Some(c), Owner::Nobody)?,
        None => {
            actor.may(Action::ReadPayments, None, Owner::Nobody)?;
            if actor.jurisdiction != swi_domain::Jurisdiction::City {
                return Err(swi_domain::Denied::County {
                    record: "360700".into(),
                    actor: actor.jurisdiction.code(),
                }
                .into());
            }
        }
    }
    let b = crate::books::books(&p, m, county).await?;
    let (media, bytes) = match q.format.as_deref() {
        None | Some("json") => return Ok(axum::Json(b).into_response()),
        Some("xlsx") => {
            let entries = crate::books::ledger(&crate::books::vouchers(&p, m, county).await?);
            (swi_tables::XLSX_TYPE, crate::books::xlsx(&b, &entries)?)
        }
        Some("pdf") => {
            let entries = crate::books::ledger(&crate::books::vouchers(&p, m, county).await?);
            (
                "application/pdf",
                crate::books::pdf(&b, &entries, p.clock.today())?,
            )
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "格式须为 json、xlsx 或 pdf",
                "`format` is json, xlsx or pdf",
            ));
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"books-{}-{}.{}\"",
                    county.map_or_else(|| "360700".to_owned(), |c| c.code().to_string()),
                    m.format("%Y-%m"),
                    q.format.as_deref().unwrap_or("json")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /api/payments/reconciliations` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reconcile {
    /// What is reconciled.
    pub kind: Kind,
    /// County.
    pub county: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// The other side's statement, uploaded first (its SHA-256), for the kinds that take one.
    pub sha256: Option<String>,
}

/// Who reconciles a kind: the contractor's finance its own, the agency's officers theirs.
fn may_reconcile(actor: &Actor, kind: Kind, county: County) -> Result<(), ApiError> {
    let role = if kind.contractor() {
        Role::Finance
    } else {
        Role::AgencyOfficer
    };
    if actor.role != role {
        return Err(swi_domain::Denied::Role {
            role: actor.role,
            action: Action::Pay,
        }
        .into());
    }
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    Ok(())
}

/// `POST /api/payments/reconciliations`: reconciles a county's month (Art. 40) and keeps the
/// result: the entries matched and every difference line by line to the fen, never forced to
/// zero. A statement with a malformed row is refused whole with every problem by row.
///
/// # Errors
/// 400 malformed, or a statement missing or given where none is taken; 403 not the kind's
/// staff of the county; 422 a statement with bad rows.
#[utoipa::path(post, path = "/api/payments/reconciliations", tag = "payments", request_body = Reconcile,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "the reconciliation", body = Reconciliation),
        (status = 422, description = "a statement refused whole: every problem by row", body = reports::RowsRejected),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reconcile(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<Reconcile>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/payments/reconciliations", &req);
    let county = county_param(&req.county)?;
    let month = month_param(&req.month)?;
    may_reconcile(&actor, req.kind, county)?;
    let (theirs, sha) = match (req.kind.takes_statement(), req.sha256.as_deref()) {
        (true, Some(text)) => {
            let sha = Sha256::parse(text)
                .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
            swi_platform::documents::possess(&p, &actor, &sha).await?;
            let table =
                swi_platform::documents::load_table(&p, &sha, &reconcile::LIMITS, "对账单").await?;
            match reconcile::statement(&table).map_err(|(en, zh)| {
                ApiError::invalid(
                    format!("对账单缺少“{zh}”列"),
                    format!("the statement has no `{en}` column"),
                )
            })? {
                Ok(entries) => (entries, Some(sha)),
                Err(problems) => {
                    let total = table.len().saturating_sub(1);
                    let xlsx =
                        swi_tables::report_xlsx("对账单审核报告", &problems, total, "对账单未采用")
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
                            code: ErrorCode::InvalidRequest,
                            zh: format!(
                                "对账单共 {total} 行，{} 行有误，请核对后重新上传",
                                problems.len()
                            ),
                            en: format!(
                                "{} of the statement's {total} rows are malformed",
                                problems.len()
                            ),
                        },
                        report_url: reports::url(&report),
                        report_sha256: report.hex(),
                        rows: problems,
                    }
                    .answer());
                }
            }
        }
        (true, None) => {
            return Err(ApiError::invalid(
                "须上传对方的对账单",
                "this kind reconciles against an uploaded statement: give `sha256`",
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::invalid(
                "该对账不使用对账单",
                "this kind takes no statement",
            ));
        }
        (false, None) => (reconcile::agency_side(&p, county, month).await?, None),
    };
    let ours = reconcile::ours(&p, req.kind, county, month).await?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let case = format!("recon#{}#{}", county.code(), month.format("%Y-%m"));
        let registered = match &sha {
            Some(sha) => {
                let (class, material) = match req.kind {
                    Kind::AgencyTax => (RecordClass::Contributions, "税务到账对账单"),
                    _ => (RecordClass::BankStatements, "银行对账单"),
                };
                swi_platform::documents::file(
                    &p,
                    &actor,
                    sha,
                    Filing {
                        case: &case,
                        county: &county.code().to_string(),
                        class,
                        material,
                    },
                )
                .await?
            }
            None => None,
        };
        let mut outcome = compare(&ours, &theirs);
        outcome.cap(reconcile::DIFFERENCES_KEPT);
        let r = Reconciliation {
            kind: req.kind,
            county,
            month,
            statement: sha.as_ref().map(Sha256::hex),
            ours: ours.len(),
            theirs: theirs.len(),
            ours_net: net(&ours),
            theirs_net: net(&theirs),
            outcome,
            at: p.clock.now().naive_local(),
            by: format!("{}（{}）", actor.name, actor.role.as_str()),
        };
        let n = reconcile::count(&p, req.kind, county, month).await? + 1;
        let mut ops = vec![reconcile::op(&r, n)?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "reconcile".into(),
                change: json!({ "kind": req.kind, "matched": r.outcome.matched, "differences": r.outcome.differences.len(), "ours_net": r.ours_net, "theirs_net": r.theirs_net, "basis": "Art. 40" }),
            }],
            status: StatusCode::CREATED,
            response: serde_json::to_value(&r).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `?county=&month=` of the reconciliations.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct MonthQuery {
    /// County.
    pub county: String,
    /// Month, `YYYY-MM`.
    pub month: String,
}

/// `GET /api/payments/reconciliations?county=&month=`: the month's reconciliations, newest
/// last.
///
/// # Errors
/// 403 not finance, agency officer or supervisor of the county.
#[utoipa::path(get, path = "/api/payments/reconciliations", tag = "payments", params(MonthQuery),
    responses((status = 200, description = "the reconciliations", body = [Reconciliation]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reconciliations(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<MonthQuery>,
) -> Result<axum::Json<Vec<Reconciliation>>, ApiError> {
    let county = county_param(&q.county)?;
    let month = month_param(&q.month)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let items = p
        .state
        .query_all(&StoreQuery::partition(reconcile::partition(county, month)).limit(200))
        .await?;
    Ok(axum::Json(
        items
            .iter()
            .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
            .collect::<Result<_, _>>()?,
    ))
}

/// `?county=&format=` of an annual report.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct AnnualQuery {
    /// County.
    pub county: String,
    /// `json` (default), `pdf` or `xlsx`.
    pub format: Option<String>,
}

/// `GET /api/payments/annual-reports/{year}?county=`: the contractor's financial report of a
/// settlement year (Art. 41), as filed if it was, else as the books stand; JSON, PDF or XLSX.
///
/// # Errors
/// 400 bad year or format; 403 not finance, agency officer or supervisor of the county.
#[utoipa::path(get, path = "/api/payments/annual-reports/{year}", tag = "payments",
    params(("year" = i32, Path), AnnualQuery),
    responses((status = 200, description = "the report", body = crate::annual::Annual,
            content((crate::annual::Annual = "application/json"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn annual_report(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(year): Path<i32>,
    Query(q): Query<AnnualQuery>,
) -> Result<axum::response::Response, ApiError> {
    let county = county_param(&q.county)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    if year < crate::books::BOOKS_FROM.0 || year > chrono::Datelike::year(&p.clock.today()) {
        return Err(ApiError::invalid(
            "年度须在账簿启用之后、不晚于今年",
            "`year` is between the books' first year and this year",
        ));
    }
    let filed: Option<crate::annual::Filed> = p
        .state
        .get(&crate::annual::filed_key(county, year))
        .await?
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()?;
    let (media, bytes) = match (q.format.as_deref(), &filed) {
        (None | Some("json"), Some(f)) => return Ok(axum::Json(f.report.clone()).into_response()),
        (None | Some("json"), None) => {
            return Ok(axum::Json(crate::annual::annual(&p, county, year).await?).into_response());
        }
        (Some(kind @ ("pdf" | "xlsx")), Some(f)) => {
            let sha = Sha256::parse(if kind == "pdf" { &f.pdf } else { &f.xlsx })
                .map_err(|e| ApiError::internal(&e))?;
            let media = if kind == "pdf" {
                "application/pdf"
            } else {
                swi_tables::XLSX_TYPE
            };
            (
                media,
                swi_platform::documents::load_bounded(&p, &sha, 64 << 20).await?,
            )
        }
        (Some("pdf"), None) => (
            "application/pdf",
            crate::annual::pdf(
                &crate::annual::annual(&p, county, year).await?,
                p.clock.today(),
            )?,
        ),
        (Some("xlsx"), None) => (
            swi_tables::XLSX_TYPE,
            crate::annual::xlsx(&crate::annual::annual(&p, county, year).await?)?,
        ),
        (Some(_), _) => {
            return Err(ApiError::invalid(
                "格式须为 json、pdf 或 xlsx",
                "`format` is json, pdf or xlsx",
            ));
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"annual-{}-{year}.{}\"",
                    county.code(),
                    q.format.as_deref().unwrap_or("json")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /api/payments/annual-reports` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAnnual {
    /// County.
    pub county: String,
    /// The settlement year.
    pub year: i32,
}

/// `POST /api/payments/annual-reports`: the contractor's finance files the year's report with
/// the agency (备案), once the year has ended; the figures and documents are kept as filed.
///
/// # Errors
/// 403 not finance of the county; 409 filed already; 422 the year has not ended.
#[utoipa::path(post, path = "/api/payments/annual-reports", tag = "payments", request_body = FileAnnual,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "filed", body = crate::annual::Filed),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn file_annual(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<FileAnnual>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/payments/annual-reports", &req);
    let county = county_param(&req.county)?;
    actor.may(Action::Pay, Some(county), Owner::Nobody)?;
    let today = p.clock.today();
    if !(2025..=2100).contains(&req.year) || chrono::Datelike::year(&today) <= req.year {
        return Err(ApiError::refused(
            ErrorCode::MonthInFuture,
            "结算年度终了后才能报送财务年度报告（第四十一条）",
            "the report is filed once its year has ended (Art. 41)",
        ));
    }
    if p.state
        .get(&crate::annual::filed_key(county, req.year))
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyImported,
            "该年度财务报告已报送备案",
            "this year's report is filed already",
        ));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let a = crate::annual::annual(&p, county, req.year).await?;
        let mut shas = Vec::new();
        let mut registered = Vec::new();
        let case = format!("annual#{}#{}", county.code(), req.year);
        for bytes in [crate::annual::pdf(&a, today)?, crate::annual::xlsx(&a)?] {
            let (sha, op) = swi_platform::documents::keep(
                &p,
                &actor,
                &bytes,
                Filing {
                    case: &case,
                    county: &county.code().to_string(),
                    class: RecordClass::AnnualFinancialReport,
                    material: "财务年度报告",
                },
            )
            .await?;
            registered.extend(op);
            shas.push(sha.hex());
        }
        let f = crate::annual::Filed {
            county,
            year: req.year,
            pdf: shas[0].clone(),
            xlsx: shas[1].clone(),
            report: a,
            at: p.clock.now().naive_local(),
            by: format!("{}（{}）", actor.name, actor.role.as_str()),
        };
        let mut ops = vec![crate::annual::filed_op(&f)?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "annual_report.file".into(),
                change: json!({ "pdf": f.pdf, "xlsx": f.xlsx, "benefits": f.report.benefits, "received": f.report.received, "basis": "Art. 41" }),
            }],
            status: StatusCode::CREATED,
            response: serde_json::to_value(&f).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
