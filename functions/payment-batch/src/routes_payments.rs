//! The payment step's routes under `/api/payments`: runs, batches with their bank files and
//! returns, the lines due (Art. 38), a payee's own payments, and changes to periodic benefits.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::{Action, Role};
use swi_payables::account::Bank;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::reports::{self, ReportSubject};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_rules::ids::County;
use swi_store::{Index, Query as StoreQuery, Sha256, SkRange};
use swi_tables::Format;

use crate::bank_files::{check, parts_of, payment_file};
use crate::model::{
    Batch, BatchStatus, LineView, Waiting, batch_op, load_batch, load_line, queue_partition,
    view_of,
};
use crate::payroll::{ChangeKind, MAX_CHANGES, ScheduleChange, entry_op};
use crate::returns::{LIMITS, ReturnImport, ReturnPhase, import_op, load_import, pointer_op};
use crate::runs::{Run, RunKind, open};

/// A county's code from a request.
///
/// # Errors
/// 400 naming it.
pub fn county_param(text: &str) -> Result<County, ApiError> {
    County::parse(text).map_err(|m| ApiError::invalid("县区代码有误", m))
}

/// A month (`YYYY-MM`) from a request, as its first day.
///
/// # Errors
/// 400 naming it.
pub fn month_param(text: &str) -> Result<NaiveDate, ApiError> {
    swi_rules::params::parse_month(text)
        .ok()
        .and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, 1))
        .filter(|_| text.len() == 7)
        .ok_or_else(|| ApiError::invalid("月份须为 YYYY-MM", "`month` must be YYYY-MM"))
}

fn batch_missing(id: &str) -> ApiError {
    ApiError::not_found("未找到该支付批次", format!("no payment batch {id}"))
}

/// `?county=` of the county lists.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct CountyQuery {
    /// The county's code.
    pub county: String,
}

/// `POST /api/payments/runs` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRun {
    /// County.
    pub county: String,
    /// `daily` (today's lump sums, refunds and re-issues) or `periodic` (a month's instalments).
    pub kind: RunKind,
    /// For `periodic`: the month, `YYYY-MM`.
    pub month: Option<String>,
}

/// `POST /api/payments/runs`: opens a batch run (once); the `payment-runs` job works it.
///
/// # Errors
/// 400 malformed; 403 not finance of the county; 422 a month in the future.
#[utoipa::path(post, path = "/api/payments/runs", tag = "payments", request_body = OpenRun,
    responses((status = 202, description = "opened, or open already: the run as it stands", body = Run),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn open_run(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<OpenRun>,
) -> Result<(StatusCode, axum::Json<Run>), ApiError> {
    let county = county_param(&req.county)?;
    actor.may(Action::Pay, Some(county), Owner::Nobody)?;
    let today = p.clock.today();
    let on = match req.kind {
        RunKind::Daily => today,
        RunKind::Periodic => {
            let m = month_param(req.month.as_deref().ok_or_else(|| {
                ApiError::invalid("须指明月份（month）", "a periodic run names its `month`")
            })?)?;
            if m > today {
                return Err(ApiError::refused(
                    ErrorCode::MonthInFuture,
                    "尚未到该月，不能发放该月定期待遇",
                    "a month that has not begun cannot be paid",
                ));
            }
            m
        }
    };
    let (run, _) = open(&p, &actor, county, req.kind, on).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run)))
}

/// `GET /api/payments/batches?county=`: a county's batches, newest first.
///
/// # Errors
/// 403 not finance, agency officer or supervisor of the county.
#[utoipa::path(get, path = "/api/payments/batches", tag = "payments", params(CountyQuery),
    responses((status = 200, description = "the batches, newest first", body = [Batch]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn batches(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CountyQuery>,
) -> Result<axum::Json<Vec<Batch>>, ApiError> {
    let county = county_param(&q.county)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &StoreQuery::partition(format!("batches#{}", county.code()))
                .limit(100)
                .backward(),
        )
        .await?;
    Ok(axum::Json(
        page.items
            .iter()
            .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
            .collect::<Result<_, _>>()?,
    ))
}

/// `GET /api/payments/batches/{id}`: a batch and its banks' shares.
///
/// # Errors
/// 403 another county; 404 no such batch.
#[utoipa::path(get, path = "/api/payments/batches/{id}", tag = "payments",
    params(("id" = String, Path)),
    responses((status = 200, description = "the batch", body = Batch),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn batch(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Batch>, ApiError> {
    let (b, _) = load_batch(&p, &id)
        .await?
        .ok_or_else(|| batch_missing(&id))?;
    actor.may(Action::ReadPayments, Some(b.county), Owner::Nobody)?;
    Ok(axum::Json(b))
}

/// `POST /api/payments/batches/{id}/files` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakeFile {
    /// The bank.
    pub bank: Bank,
    /// CSV or XLSX.
    pub format: Format,
}

/// A bank's payment file, made and kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BankFileMade {
    /// The file's SHA-256.
    pub sha256: String,
    /// The bank.
    pub bank: Bank,
    /// Lines.
    pub lines: u64,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: rust_decimal::Decimal,
    /// Format.
    pub format: Format,
}

/// `POST /api/payments/batches/{id}/files`: makes a bank's payment file of a sealed batch and
/// keeps it (the same file again when made again).
///
/// # Errors
/// 403 not finance of the batch's county; 404 no such batch or no lines for that bank; 409 the
/// batch is still filling.
#[utoipa::path(post, path = "/api/payments/batches/{id}/files", tag = "payments", request_body = MakeFile,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "the file's SHA-256: download it from `/api/payments/batches/{id}/files/{bank}`", body = BankFileMade),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn make_file(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MakeFile>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/payments/batches/{id}/files"), &req);
    let (b, version) = load_batch(&p, &id)
        .await?
        .ok_or_else(|| batch_missing(&id))?;
    actor.may(Action::Pay, Some(b.county), Owner::Nobody)?;
    if b.status == BatchStatus::Filling {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "该批次仍在生成中，完成后才能生成银行文件",
            "the batch is still filling; its bank files are made once it is sealed",
        ));
    }
    if !b.banks.contains_key(&req.bank) {
        return Err(ApiError::not_found(
            "该批次没有该银行的支付明细",
            "the batch has no lines for that bank",
        ));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let parts = parts_of(&p, &id, req.bank).await?;
        let bytes = payment_file(&b, &parts, req.format)?;
        let (sha, registered) = swi_platform::documents::keep(
            &p,
            &actor,
            &bytes,
            swi_platform::dossier::Filing {
                case: &format!("batch#{id}"),
                county: &b.county.code().to_string(),
                class: swi_archive::retention::RecordClass::PaymentDetails,
                material: "银行支付文件",
            },
        )
        .await?;
        let mut nb = b.clone();
        let share = nb.banks.entry(req.bank).or_default();
        share.file = Some(sha.hex());
        let lines = share.lines;
        let amount = share.amount;
        let mut ops = vec![batch_op(&nb, Some(version))?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: format!("batch#{id}"),
                command: "payment.bank_file".into(),
                change: json!({ "bank": req.bank, "sha256": sha.hex(), "lines": lines, "amount": amount }),
            }],
            status: StatusCode::CREATED,
            response: serde_json::to_value(BankFileMade {
                sha256: sha.hex(),
                bank: req.bank,
                lines,
                amount,
                format: req.format,
            })
            .map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `?format=` of a bank file's download.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct FormatQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<Format>,
}

/// `GET /api/payments/batches/{id}/files/{bank}`: the bank's payment file (the full account
/// numbers: finance only).
///
/// # Errors
/// 403 not finance of the county; 404 no such batch or bank share.
#[utoipa::path(get, path = "/api/payments/batches/{id}/files/{bank}", tag = "payments",
    params(("id" = String, Path), ("bank" = String, Path, description = "the bank's class code, e.g. 105"), FormatQuery),
    responses((status = 200, description = "the payment file", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_file(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((id, bank)): Path<(String, String)>,
    Query(q): Query<FormatQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (b, _) = load_batch(&p, &id)
        .await?
        .ok_or_else(|| batch_missing(&id))?;
    actor.may(Action::Pay, Some(b.county), Owner::Nobody)?;
    let bank = Bank::of_code(&bank)
        .filter(|k| b.banks.contains_key(k))
        .ok_or_else(|| {
            ApiError::not_found("该批次没有该银行的支付明细", "no lines for that bank")
        })?;
    let format = q.format.unwrap_or(Format::Csv);
    let bytes = payment_file(&b, &parts_of(&p, &id, bank).await?, format)?;
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{id}-{}.{}\"",
                    bank.code(),
                    format.extension()
                ),
            ),
        ],
        bytes,
    ))
}

/// `POST /api/payments/batches/{id}/returns` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordReturn {
    /// The bank.
    pub bank: Bank,
    /// The return file, uploaded first (its SHA-256).
    pub sha256: String,
}

/// `POST /api/payments/batches/{id}/returns`: records a bank's return of a batch — checked
/// whole against the payment file, refused with every problem by row and nothing written if any
/// row does not answer it; then applied by the `payment-returns` job.
///
/// # Errors
/// 403 not finance of the batch's county; 404 no such batch; 409 returned already or still
/// filling; 422 `return_rejected` with the rows.
#[utoipa::path(post, path = "/api/payments/batches/{id}/returns", tag = "payments", request_body = RecordReturn,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 202, description = "recorded; the job applies it", body = ReturnImport),
        (status = 422, description = "refused whole: every problem by row, and the report as XLSX", body = reports::RowsRejected),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_return(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordReturn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/payments/batches/{id}/returns"), &req);
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let (b, _) = load_batch(&p, &id)
        .await?
        .ok_or_else(|| batch_missing(&id))?;
    actor.may(Action::Pay, Some(b.county), Owner::Nobody)?;
    if b.status == BatchStatus::Filling {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "该批次仍在生成中，尚无银行文件",
            "the batch is still filling",
        ));
    }
    if b.banks.get(&req.bank).is_none_or(|sh| sh.file.is_none()) {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "该银行的支付文件尚未生成，不能登记回盘",
            "no payment file was made for that bank's share: make it first",
        ));
    }
    if load_import(&p, &id, req.bank).await?.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyImported,
            "该银行的回盘已登记过",
            "this bank's return of the batch is recorded already",
        ));
    }
    swi_platform::documents::possess(&p, &actor, &sha).await?;
    let table = swi_platform::documents::load_table(&p, &sha, &LIMITS, "回盘文件").await?;
    let parts = parts_of(&p, &id, req.bank).await?;
    if parts.is_empty() {
        return Err(ApiError::not_found(
            "该批次没有该银行的支付明细",
            "the batch has no lines for that bank",
        ));
    }
    let checked = match check(&table, &b, &parts).map_err(|(en, zh)| {
        ApiError::invalid(
            format!("回盘文件缺少“{zh}”列"),
            format!("the return file has no `{en}` column"),
        )
    })? {
        Ok(c) => c,
        Err(problems) => {
            let total = table.len().saturating_sub(1);
            let title = format!("银行回盘审核报告 — 批次 {id}");
            let xlsx = swi_tables::report_xlsx(&title, &problems, total, "整份回盘未登记")
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
                    code: ErrorCode::ReturnRejected,
                    zh: format!(
                        "回盘共 {total} 行，{} 处与支付文件不符，整份回盘未登记，请向银行核实",
                        problems.len()
                    ),
                    en: format!(
                        "{} problems in the {total} rows of the return; nothing was recorded",
                        problems.len()
                    ),
                },
                report_url: reports::url(&report),
                report_sha256: report.hex(),
                rows: problems,
            }
            .answer());
        }
    };
    drop(table);
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let case = format!("batch#{id}");
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &sha,
            swi_platform::dossier::Filing {
                case: &case,
                county: &b.county.code().to_string(),
                class: swi_archive::retention::RecordClass::PaymentDetails,
                material: "银行回盘文件",
            },
        )
        .await?;
        let now = p.clock.now().naive_local();
        let imp = ReturnImport {
            batch: id.clone(),
            bank: req.bank,
            sha256: sha.hex(),
            rows: checked.rows,
            paid_lines: 0,
            paid_amount: rust_decimal::Decimal::ZERO,
            failed_lines: 0,
            failed_amount: rust_decimal::Decimal::ZERO,
            phase: ReturnPhase::Mark,
            cursor: 0,
            within: 0,
            on: p.clock.today(),
            at: now,
            by: actor.name.clone(),
        };
        let failed = checked.answers.values().filter(|a| a.failed.is_some()).count();
        let mut ops = vec![import_op(&imp, None)?, pointer_op(&imp)?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "payment.return.record".into(),
                change: json!({ "bank": req.bank, "sha256": imp.sha256, "rows": imp.rows, "failed": failed, "basis": "Art. 38, 39" }),
            }],
            status: StatusCode::ACCEPTED,
            response: serde_json::to_value(&imp).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/payments/batches/{id}/returns/{bank}`: a recorded return and how far it is applied.
///
/// # Errors
/// 403 another county; 404 none recorded.
#[utoipa::path(get, path = "/api/payments/batches/{id}/returns/{bank}", tag = "payments",
    params(("id" = String, Path), ("bank" = String, Path, description = "the bank's class code")),
    responses((status = 200, description = "the return", body = ReturnImport),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_return(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((id, bank)): Path<(String, String)>,
) -> Result<axum::Json<ReturnImport>, ApiError> {
    let (b, _) = load_batch(&p, &id)
        .await?
        .ok_or_else(|| batch_missing(&id))?;
    actor.may(Action::ReadPayments, Some(b.county), Owner::Nobody)?;
    let bank =
        Bank::of_code(&bank).ok_or_else(|| ApiError::not_found("无此银行", "no such bank"))?;
    let (imp, _) = load_import(&p, &id, bank).await?.ok_or_else(|| {
        ApiError::not_found("该银行的回盘尚未登记", "no return recorded for that bank")
    })?;
    Ok(axum::Json(imp))
}

/// A line waiting, and how near its day is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DueLine {
    /// The line's place in the queue.
    pub waiting: Waiting,
    /// Past its day.
    pub late: bool,
    /// Its day is within the next [`SOON_WORKING_DAYS`] working days.
    pub soon: bool,
}

/// How many working days ahead a line is listed as approaching its day.
pub const SOON_WORKING_DAYS: usize = 3;

/// The lines due in a county (Art. 38).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Due {
    /// The business day.
    pub today: NaiveDate,
    /// Lines waiting (no usable account, or returned failed), earliest due first.
    pub waiting: Vec<DueLine>,
    /// Approved lump sums and refunds not yet taken by a run.
    pub not_taken: usize,
    /// Batches whose banks have not all returned, with their earliest due date.
    pub unreturned: Vec<Batch>,
}

/// `GET /api/payments/due?county=`: the lines due, waiting or past due, and the batches the
/// banks have not returned (Art. 38: 10 working days).
///
/// # Errors
/// 403 not finance, agency officer or supervisor of the county.
#[utoipa::path(get, path = "/api/payments/due", tag = "payments", params(CountyQuery),
    responses((status = 200, description = "what is due", body = Due),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn due(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CountyQuery>,
) -> Result<axum::Json<Due>, ApiError> {
    let county = county_param(&q.county)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let today = p.clock.today();
    let params = p.params().await?;
    // The day the approaching window ends: the SOON_WORKING_DAYS-th working day after today.
    let mut soon_until = today;
    let mut counted = 0;
    while counted < SOON_WORKING_DAYS {
        soon_until = soon_until.succ_opt().unwrap_or(soon_until);
        if swi_rules::calendar::is_working_day(&params, soon_until).unwrap_or(true) {
            counted += 1;
        }
    }
    let waiting = p
        .state
        .query(&StoreQuery::partition(queue_partition(county)).limit(500))
        .await?
        .items
        .iter()
        .map(|i| {
            let w: Waiting = i.body().map_err(|e| ApiError::internal(&e))?;
            Ok(DueLine {
                late: w.due < today,
                soon: w.due >= today && w.due <= soon_until,
                waiting: w,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut not_taken = 0;
    for pk in [
        swi_payables::waiting_partition(county),
        swi_payables::refunds_partition(county),
    ] {
        not_taken += p
            .state
            .query_index(Index::Gsi1, &StoreQuery::partition(pk).limit(1000))
            .await?
            .items
            .len();
    }
    let unreturned = p
        .state
        .query_index(
            Index::Gsi1,
            &StoreQuery::partition(format!("batches#{}", county.code()))
                .limit(200)
                .backward(),
        )
        .await?
        .items
        .iter()
        .map(|i| i.body::<Batch>().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|b| b.status != BatchStatus::Returned)
        .collect();
    Ok(axum::Json(Due {
        today,
        waiting,
        not_taken,
        unreturned,
    }))
}

/// `GET /api/payments/own`: what was paid to the signed-in citizen or unit, when, and what is
/// due (newest first).
///
/// # Errors
/// 403 not a citizen or employer, or no verified ID number.
#[utoipa::path(get, path = "/api/payments/own", tag = "payments",
    responses((status = 200, description = "the payee's lines", body = [LineView]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn own(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<Vec<LineView>>, ApiError> {
    let partition = match actor.role {
        Role::Citizen => {
            let id = swi_platform::identity::linked(&p, &actor.sub)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::FORBIDDEN,
                        ErrorCode::NotOwnId,
                        "您的账号尚未完成实名核验，请持身份证到经办窗口办理",
                        "this account has no verified ID number yet",
                    )
                })?;
            swi_registry::enrolment::person_partition(&id.person)
        }
        Role::Employer => {
            let code = actor.unit.clone().unwrap_or_default();
            actor.may(Action::Read, None, Owner::Unit(&code))?;
            format!("payee-unit#{code}")
        }
        role => {
            return Err(swi_domain::Denied::Role {
                role,
                action: Action::RecordAccount,
            }
            .into());
        }
    };
    let items = p
        .state
        .query_index(
            Index::Gsi1,
            &StoreQuery::partition(partition)
                .range(SkRange::Prefix("payment#".into()))
                .limit(200)
                .backward(),
        )
        .await?
        .items;
    let mut out = Vec::with_capacity(items.len());
    for i in &items {
        let line = i.body().map_err(|e| ApiError::internal(&e))?;
        out.push(view_of(&p, &line).await?);
    }
    Ok(axum::Json(out))
}

/// `GET /api/payments/lines/{id}`: a line as it stands.
///
/// # Errors
/// 403 not of the line's county; 404 no such line.
#[utoipa::path(get, path = "/api/payments/lines/{id}", tag = "payments",
    params(("id" = String, Path)),
    responses((status = 200, description = "the line", body = LineView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn line(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<LineView>, ApiError> {
    let (line, _) = load_line(&p, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该支付明细", "no such payment line"))?;
    actor.may(Action::ReadPayments, Some(line.county), Owner::Nobody)?;
    Ok(axum::Json(view_of(&p, &line).await?))
}

/// `POST /api/payments/schedules/{id}/changes` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChange {
    /// What it does.
    pub kind: ChangeKind,
    /// From when (a stop: the day of death or of the end of entitlement).
    pub from: NaiveDate,
    /// An adjustment's new monthly amount.
    #[schema(value_type = Option<String>, example = "3640.00")]
    pub monthly: Option<rust_decimal::Decimal>,
    /// Why, and on what authority (1-200 characters).
    pub source: String,
}

/// A month paid that a change would not have paid (or paid otherwise): for recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overpaid {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// What was paid.
    #[schema(value_type = String, example = "3500.00")]
    pub paid: rust_decimal::Decimal,
    /// What the change makes due (none: nothing).
    #[schema(value_type = Option<String>, example = "3640.00")]
    pub due: Option<rust_decimal::Decimal>,
}

/// A schedule's changes after one is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleChanged {
    /// Every change, in the order recorded.
    pub changes: Vec<ScheduleChange>,
    /// Months already paid that the change would not have paid so.
    pub overpaid: Vec<Overpaid>,
}

/// `POST /api/payments/schedules/{id}/changes`: records a stop, a suspension or its end, or an
/// adjustment of a periodic benefit, from its date. Months already paid are never reopened:
/// those the change would not have paid are answered as `overpaid`, for recovery.
///
/// # Errors
/// 400 malformed; 403 not finance of the county; 404 not in the payroll yet.
#[utoipa::path(post, path = "/api/payments/schedules/{id}/changes", tag = "payments", request_body = NewChange,
    params(("id" = String, Path, description = "the schedule, its `/` written `:` (`c-1:disability_allowance`)"), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "recorded: the changes, and the months paid it would not have paid so", body = ScheduleChanged),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_schedule(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewChange>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/payments/schedules/{id}/changes"), &req);
    // A schedule's id has `/` in it (`{claim}/{item}`); in the path it is written with `:`.
    let id = id.replace(':', "/");
    let (entry, version) = crate::routes_accounts::entry_of(&p, &id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "该定期待遇尚未进入发放名册",
                "the schedule is not in the payroll yet",
            )
        })?;
    actor.may(Action::Pay, Some(entry.schedule.county), Owner::Nobody)?;
    let n = req.source.trim().chars().count();
    if n == 0 || n > 200 {
        return Err(ApiError::invalid(
            "须写明依据（1-200 字）",
            "`source` must be 1-200 characters",
        ));
    }
    let monthly = match (req.kind, req.monthly) {
        (ChangeKind::Adjust, Some(m))
            if m > rust_decimal::Decimal::ZERO
                && m.scale() <= 2
                && m < rust_decimal::Decimal::from(1_000_000) =>
        {
            Some(m)
        }
        (ChangeKind::Adjust, _) => {
            return Err(ApiError::invalid(
                "调整须写明新的月发放额（正数，至多两位小数）",
                "an adjustment gives the new `monthly` amount (positive, to the fen)",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "只有调整才写月发放额",
                "only an adjustment has `monthly`",
            ));
        }
        (_, None) => None,
    };
    let today = p.clock.today();
    let latest = today
        .checked_add_days(chrono::Days::new(366))
        .unwrap_or(today);
    if req.from < swi_rules::billing::month_of(entry.schedule.start) || req.from > latest {
        return Err(ApiError::invalid(
            "变动日期须在该待遇起始之后、一年之内",
            "`from` must be on or after the benefit's first month and within a year from today",
        ));
    }
    if entry.changes.len() >= MAX_CHANGES {
        return Err(ApiError::invalid(
            "该定期待遇的变动已达上限",
            "this schedule has too many changes",
        ));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let mut e = entry.clone();
        e.changes.push(ScheduleChange {
            kind: req.kind,
            from: req.from,
            monthly,
            source: req.source.trim().to_owned(),
            by: actor.name.clone(),
            at: p.clock.now().naive_local(),
        });
        // Months already made lines that the change would not have paid: for recovery.
        let mut overpaid = Vec::new();
        // Only lines paid or in a bank's hands: those waiting are withdrawn or changed by the
        // next daily run.
        let mut m = swi_rules::billing::month_of(req.from);
        while m <= today {
            if let Some((line, _)) = load_line(&p, &crate::payroll::instalment_id(&id, m)).await?
                && matches!(
                    view_of(&p, &line).await?.status,
                    swi_domain::payment::LineStatus::Paid | swi_domain::payment::LineStatus::Batched
                )
                && e.instalment(m) != Some(line.amount)
            {
                overpaid.push(Overpaid {
                    month: m.format("%Y-%m").to_string(),
                    paid: line.amount,
                    due: e.instalment(m),
                });
            }
            m = swi_rules::billing::next_month(m)?;
        }
        let payee = crate::model::payee_partition(&p, &e.schedule.payee)?;
        Ok(Change {
            ops: vec![entry_op(&e, &payee, Some(version))?],
            audit: vec![Audit {
                case: format!("schedule#{id}"),
                command: "schedule.change".into(),
                change: json!({ "kind": req.kind, "from": req.from, "monthly": monthly, "source": req.source.trim(), "overpaid": overpaid.len() }),
            }],
            status: StatusCode::OK,
            response: serde_json::to_value(ScheduleChanged {
                changes: e.changes.clone(),
                overpaid,
            })
            .map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
