//! The monthly cycle's routes under `/api/payment-cycles` (Art. 37): open a month, follow the
//! cycles, take a step, download a payment request.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::payment::{CycleCommand, CycleStep, cycle_actor_may, cycle_next};
use swi_domain::{Action, Denied};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_rules::ids::County;
use swi_store::Sha256;

use crate::cycle::{
    Cycle, Decision, PeriodicPaid, Request, Transfer, cycle_op, list, load, paid_lines, summarise,
};
use crate::model::{BatchStatus, load_batch};
use crate::routes_payments::{CountyQuery, county_param, month_param};
use crate::runs::{Phase, RunKind, batch_id, load_run};

fn missing(county: County, month: NaiveDate) -> ApiError {
    ApiError::not_found(
        "该月资金周期尚未开启",
        format!(
            "no payment cycle for {} {}",
            county.code(),
            month.format("%Y-%m")
        ),
    )
}

fn facts(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::refused(ErrorCode::CycleFactsMissing, zh, en)
}

/// `POST /api/payment-cycles` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCycle {
    /// County.
    pub county: String,
    /// The month, `YYYY-MM`.
    pub month: String,
}

fn case(c: &Cycle) -> String {
    crate::cycle::cycle_case(c)
}

/// `POST /api/payment-cycles`: opens a month's cycle (once), only when the month before it is
/// closed.
///
/// # Errors
/// 403 not finance or agency officer of the county; 409 `previous_cycle_open`; 422 a month in
/// the future.
#[utoipa::path(post, path = "/api/payment-cycles", tag = "payments", request_body = OpenCycle,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "opened", body = Cycle),
        (status = 200, description = "open already: the cycle as it stands", body = Cycle),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn open(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<OpenCycle>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/payment-cycles", &req);
    let county = county_param(&req.county)?;
    let month = month_param(&req.month)?;
    if !matches!(
        actor.role,
        swi_domain::Role::Finance | swi_domain::Role::AgencyOfficer
    ) {
        return Err(Denied::Role {
            role: actor.role,
            action: Action::Pay,
        }
        .into());
    }
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let Some((_, change)) = crate::cycle::open_change(&p, county, month).await? else {
        let (c, _) = load(&p, county, month)
            .await?
            .ok_or_else(|| missing(county, month))?;
        return Ok((
            StatusCode::OK,
            axum::Json(serde_json::to_value(c).map_err(|e| ApiError::internal(&e))?),
        ));
    };
    let (status, body) = apply(&p, &actor, &key, &fp, async { Ok(change) }).await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/payment-cycles?county=`: a county's cycles, newest first.
///
/// # Errors
/// 403 not finance, agency officer or supervisor of the county.
#[utoipa::path(get, path = "/api/payment-cycles", tag = "payments", params(CountyQuery),
    responses((status = 200, description = "the cycles, newest first", body = [Cycle]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cycles(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CountyQuery>,
) -> Result<axum::Json<Vec<Cycle>>, ApiError> {
    let county = county_param(&q.county)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    Ok(axum::Json(
        list(&p, county, 36)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect(),
    ))
}

/// `GET /api/payment-cycles/{county}/{month}`: a cycle as it stands.
///
/// # Errors
/// 403 another county; 404 not opened.
#[utoipa::path(get, path = "/api/payment-cycles/{county}/{month}", tag = "payments",
    params(("county" = String, Path), ("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, description = "the cycle", body = Cycle),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cycle(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((county, month)): Path<(String, String)>,
) -> Result<axum::Json<Cycle>, ApiError> {
    let county = county_param(&county)?;
    let month = month_param(&month)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let (c, _) = load(&p, county, month)
        .await?
        .ok_or_else(|| missing(county, month))?;
    Ok(axum::Json(c))
}

/// The transfer's facts, when recording it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferFacts {
    /// Amount (must be the approved request's).
    #[schema(value_type = String, example = "54000.00")]
    pub amount: Decimal,
    /// The day the money left.
    pub on: NaiveDate,
    /// The bank's reference (1-64 characters).
    pub reference: String,
}

/// `POST /api/payment-cycles/{county}/{month}/steps` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The step.
    pub command: CycleCommand,
    /// A refusal's reasons (required), an approval's remarks.
    pub reasons: Option<String>,
    /// The transfer's facts (`record_transfer`).
    pub transfer: Option<TransferFacts>,
}

/// `POST /api/payment-cycles/{county}/{month}/steps`: takes a step of the cycle. The
/// contractor's finance staff submit the summary and the request and record the periodic
/// benefits paid; the agency's officers approve or refuse the request, record the transfer and
/// close the cycle — never the organisation that made the request (Art. 37).
///
/// # Errors
/// 403 `separation_of_duties` (the contractor deciding its own request), `forbidden_role`,
/// `forbidden_county`; 404 not opened; 409 `invalid_transition`; 422 `cycle_facts_missing`.
#[utoipa::path(post, path = "/api/payment-cycles/{county}/{month}/steps", tag = "payments", request_body = Step,
    params(("county" = String, Path), ("month" = String, Path, description = "YYYY-MM"),
        ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the cycle after the step", body = Cycle),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn step(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path((county, month)): Path<(String, String)>,
    ApiJson(req): ApiJson<Step>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(
        &format!("POST /api/payment-cycles/{county}/{month}/steps"),
        &req,
    );
    let county = county_param(&county)?;
    let month = month_param(&month)?;
    if !cycle_actor_may(actor.role, req.command) {
        return Err(match (actor.organisation(), req.command.organisation()) {
            (Some(mine), theirs) if mine != theirs => Denied::Duties(format!(
                "{:?} is taken by the {theirs:?}: never by the organisation that made the request (Art. 37)",
                req.command
            )),
            _ => Denied::Role {
                role: actor.role,
                action: Action::Pay,
            },
        }
        .into());
    }
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let (c, version) = load(&p, county, month)
        .await?
        .ok_or_else(|| missing(county, month))?;
    let next = cycle_next(c.step, req.command).map_err(|e| {
        ApiError::conflict(
            ErrorCode::InvalidTransition,
            format!("资金周期当前为“{}”，不能执行该步骤", step_zh(c.step)),
            e.to_string(),
        )
    })?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let mut c = c.clone();
        let now = p.clock.now().naive_local();
        let by = format!("{}（{}）", actor.name, actor.role.as_str());
        let mut ops = Vec::new();
        let mut detail = json!({});
        let before = month
            .checked_sub_months(chrono::Months::new(1))
            .ok_or_else(|| ApiError::internal(&"month out of range"))?;
        match req.command {
            CycleCommand::SubmitSummary | CycleCommand::SubmitRequest
                if returns_pending(&p, county).await? =>
            {
                return Err(ApiError::conflict(
                    ErrorCode::InvalidTransition,
                    "本县尚有银行回盘正在入账，入账完成后再报送",
                    "a bank's return is still being applied in this county: submit once it is",
                ));
            }
            CycleCommand::SubmitSummary => {
                let s = summarise(&p, county, before).await?;
                detail = json!({ "paid_month": before, "lines": s.lines, "total": s.total });
                c.summary = Some(s);
            }
            CycleCommand::SubmitRequest => {
                // Made again from the records as they stand: a refused request is corrected so.
                let s = summarise(&p, county, before).await?;
                let lines = paid_lines(&p, county, before).await?;
                let n = u32::try_from(c.requests.len()).unwrap_or(u32::MAX) + 1;
                let pdf = crate::request_docs::pdf(&c, &s, &lines, n)?;
                let xlsx = crate::request_docs::xlsx(&c, &s, &lines, n)?;
                let mut shas = Vec::new();
                let case = crate::cycle::cycle_case(&c);
                for bytes in [pdf, xlsx] {
                    let (sha, registered) = swi_platform::documents::keep(
                        &p,
                        &actor,
                        &bytes,
                        swi_platform::dossier::Filing {
                            case: &case,
                            county: &county.code().to_string(),
                            class: swi_archive::retention::RecordClass::PaymentDetails,
                            material: "请款计划",
                        },
                    )
                    .await?;
                    ops.extend(registered);
                    shas.push(sha.hex());
                }
                detail = json!({ "n": n, "amount": s.total, "pdf": shas[0], "xlsx": shas[1] });
                c.requests.push(Request {
                    n,
                    amount: s.total,
                    pdf: shas[0].clone(),
                    xlsx: shas[1].clone(),
                    at: now,
                    by: by.clone(),
                });
                c.summary = Some(s);
            }
            CycleCommand::ApproveRequest | CycleCommand::RefuseRequest => {
                let approved = req.command == CycleCommand::ApproveRequest;
                let reasons = req.reasons.as_deref().unwrap_or("").trim().to_owned();
                if (!approved && reasons.is_empty()) || reasons.chars().count() > 500 {
                    return Err(ApiError::invalid(
                        "不予拨款须写明理由（1-500 字），以便承办机构纠正",
                        "a refusal gives its reasons (1-500 characters) for the contractor to correct",
                    ));
                }
                let n = c.requests.last().map_or(0, |r| r.n);
                detail = json!({ "request": n, "approved": approved, "reasons": reasons });
                c.decisions.push(Decision {
                    request: n,
                    approved,
                    reasons,
                    at: now,
                    by: by.clone(),
                });
            }
            CycleCommand::RecordTransfer => {
                let t = req.transfer.clone().ok_or_else(|| {
                    ApiError::invalid("须填写拨付金额、日期和银行流水号", "give the `transfer`'s amount, day and reference")
                })?;
                let approved = c.requests.last().map(|r| r.amount).unwrap_or_default();
                let asked = c.requests.last().map_or(c.month, |r| r.at.date());
                if t.amount.scale() > 2 || t.on < asked || t.on > p.clock.today() {
                    return Err(ApiError::invalid(
                        "拨付金额至多两位小数；拨付日期须在请款之后、不晚于今天",
                        "the amount is to the fen; the day is after the request and not after today",
                    ));
                }
                if t.amount != approved {
                    return Err(facts(
                        format!("拨付金额 {} 与批准的请款金额 {approved} 不符", t.amount),
                        format!("the transfer of {} is not the approved request's {approved}", t.amount),
                    ));
                }
                let r = t.reference.trim();
                if r.is_empty() || r.chars().count() > 64 {
                    return Err(ApiError::invalid("银行流水号须为 1-64 字", "`reference` must be 1-64 characters"));
                }
                if t.amount > Decimal::ZERO {
                    let voucher = swi_ledger::posting::transfer(
                        t.on,
                        format!("拨付 {} {} 请款（流水号 {r}）", county.code(), month.format("%Y-%m")),
                        t.amount,
                    )
                    .map_err(|e| ApiError::internal(&e))?;
                    ops.push(
                        swi_ledger::posting::post_op(&swi_ledger::Posted {
                            id: format!("transfer:{}:{}", county.code(), month.format("%Y-%m")),
                            voucher,
                            county: Some(county),
                            posted_at: now,
                            by: by.clone(),
                        })
                        .map_err(|e| ApiError::internal(&e))?,
                    );
                }
                detail = json!({ "amount": t.amount, "on": t.on, "reference": r });
                c.transfer = Some(Transfer {
                    amount: t.amount,
                    on: t.on,
                    reference: r.to_owned(),
                    at: now,
                    by: by.clone(),
                });
            }
            CycleCommand::RecordPeriodicPaid => {
                let run = load_run(&p, county, RunKind::Periodic, month).await?;
                if run.as_ref().is_none_or(|(r, _)| r.phase != Phase::Done) {
                    return Err(facts(
                        "本月定期待遇尚未生成发放批次",
                        "the month's periodic run has not finished",
                    ));
                }
                let id = batch_id(county, RunKind::Periodic, month);
                let paid = match load_batch(&p, &id).await? {
                    None => PeriodicPaid { batch: None, lines: 0, amount: Decimal::ZERO, at: now, by: by.clone() },
                    Some((b, _)) if b.status == BatchStatus::Returned => PeriodicPaid {
                        batch: Some(b.id.clone()),
                        lines: b.banks.values().map(|s| s.paid_lines).sum(),
                        amount: b.banks.values().map(|s| s.paid_amount).sum(),
                        at: now,
                        by: by.clone(),
                    },
                    Some(_) => {
                        return Err(facts(
                            "本月定期待遇批次尚有银行未回盘",
                            "a bank has not returned the month's periodic batch",
                        ));
                    }
                };
                detail = json!({ "batch": paid.batch, "lines": paid.lines, "amount": paid.amount });
                c.periodic = Some(paid);
            }
            CycleCommand::Close => {
                c.closed = Some((now, by.clone()));
            }
        }
        c.step = next;
        ops.push(cycle_op(&c, Some(version))?);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: case(&c),
                command: format!("cycle.{}", serde_json::to_value(req.command).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()),
                change: detail,
            }],
            status: StatusCode::OK,
            response: serde_json::to_value(&c).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// Whether a return of a batch of the county is still being applied (its job's pointer is
/// there): a summary made now would miss what it has not yet booked.
async fn returns_pending(p: &Platform, county: County) -> Result<bool, ApiError> {
    let page = p
        .state
        .query(
            &swi_store::Query::partition(swi_platform::jobs::pointer_partition(
                crate::returns::NAME,
            ))
            .range(swi_store::SkRange::Prefix(format!("{}-", county.code())))
            .limit(1),
        )
        .await?;
    Ok(!page.items.is_empty())
}

/// The step's name in Chinese.
#[must_use]
pub fn step_zh(s: CycleStep) -> &'static str {
    match s {
        CycleStep::Open => "已开启",
        CycleStep::SummarySubmitted => "已报送赔付资料",
        CycleStep::RequestSubmitted => "已提交请款计划",
        CycleStep::RequestRefused => "请款计划被退回",
        CycleStep::RequestApproved => "请款计划已批准",
        CycleStep::TransferRecorded => "已拨付",
        CycleStep::PeriodicPaid => "定期待遇已发放",
        CycleStep::Closed => "已关闭",
    }
}

/// `?format=` of a request's download.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct DocQuery {
    /// `pdf` (default) or `xlsx`.
    pub format: Option<String>,
}

/// `GET /api/payment-cycles/{county}/{month}/requests/{n}`: a payment request as submitted.
///
/// # Errors
/// 403 not finance, agency officer or supervisor of the county; 404 no such request.
#[utoipa::path(get, path = "/api/payment-cycles/{county}/{month}/requests/{n}", tag = "payments",
    params(("county" = String, Path), ("month" = String, Path), ("n" = u32, Path), DocQuery),
    responses((status = 200, description = "the request", content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_doc(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((county, month, n)): Path<(String, String, u32)>,
    Query(q): Query<DocQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let county = county_param(&county)?;
    let month = month_param(&month)?;
    actor.may(Action::ReadPayments, Some(county), Owner::Nobody)?;
    let (c, _) = load(&p, county, month)
        .await?
        .ok_or_else(|| missing(county, month))?;
    let r = c
        .requests
        .iter()
        .find(|r| r.n == n)
        .ok_or_else(|| ApiError::not_found("无此请款计划", "no such request"))?;
    let (sha, media, ext) = match q.format.as_deref() {
        Some("xlsx") => (&r.xlsx, swi_tables::XLSX_TYPE, "xlsx"),
        None | Some("pdf") => (&r.pdf, "application/pdf", "pdf"),
        Some(_) => {
            return Err(ApiError::invalid(
                "格式须为 pdf 或 xlsx",
                "`format` is pdf or xlsx",
            ));
        }
    };
    let sha = Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
    let bytes = swi_platform::documents::load_bounded(&p, &sha, 256 << 20).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"request-{}-{}-{n}.{ext}\"",
                    county.code(),
                    month.format("%Y-%m")
                ),
            ),
        ],
        bytes,
    ))
}
