//! The rates' routes (Art. 13-15): import a yearly re-rating, follow it; a unit's bands, rates
//! and notices, a notice's PDF; a unit's objection and the agency's re-check decision.

use crate::routes_exchange::CountyQuery;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::reports::{self, ReportSubject};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_registry::unit::{DatedBand, load_unit, unit_case, unit_put};
use swi_rules::category::IndustryClass;
use swi_rules::ids::County;
use swi_store::{Condition, Item, Query as StoreQuery, Sha256};
use swi_tables::{Limits, RowReport};

use crate::rates::{
    Objection, ObjectionStatus, RateNotice, Rates, Rerating, ReratingStatus, changed_by_recheck,
    notice_key, notice_write, notices_of, objection_case, objection_key, parse, rates,
    rerating_key, rerating_ops,
};

/// `POST /api/rates/reratings` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRerating {
    /// SHA-256 of the uploaded file (CSV/XLSX: `unit_code` 统一社会信用代码, `industry_class`
    /// 行业类别, `band` 浮动档次).
    pub sha256: String,
    /// The day the bands take effect.
    pub effective_from: NaiveDate,
    /// Where they come from (the work-injury side's decision and its number).
    pub source: String,
}

/// `POST /api/rates/reratings`: the yearly re-rating from the work-injury side, whole or not at
/// all: each unit known and in the importer's jurisdiction, of the class on record, at a band its
/// class has; then the `rerating-apply` job gives each unit its band from the day and its notice.
///
/// # Errors
/// 400; 403; 409 imported before; 413/415 the file; 422 rows refused (with the report).
#[utoipa::path(post, path = "/api/rates/reratings", tag = "rates", request_body = ImportRerating,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 202, description = "accepted: the job re-rates each unit and issues its notice", body = Rerating),
        (status = 422, description = "refused whole: every problem by row, and the report as XLSX", body = reports::RowsRejected),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<ImportRerating>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/rates/reratings", &req);
    actor.may(Action::ReRate, None, Owner::Nobody)?;
    swi_platform::wire::name(&req.source, "source")?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let params = p.params().await?;
    swi_rules::billing::MonthTable::new(&params, req.effective_from)?;
    swi_platform::documents::possess(&p, &actor, &sha).await?;
    let table =
        swi_platform::documents::load_table(&p, &sha, &Limits::RECEIPTS, "费率浮动文件").await?;
    let (rows, mut problems) = parse(&table).map_err(|(en, zh)| {
        ApiError::invalid(
            format!("费率浮动文件缺少“{zh}”列"),
            format!("the file has no `{en}` column"),
        )
    })?;
    drop(table);
    let total = rows.len() + problems.len();
    if total == 0 {
        return Err(ApiError::invalid(
            "文件没有数据行",
            "the file has no data rows",
        ));
    }
    for r in &rows {
        let mut errors = Vec::new();
        match load_unit(&p, &r.unit).await {
            Ok((u, _)) => {
                if !actor.jurisdiction.covers(u.county) {
                    errors.push("该单位不属于本级经办范围 — the unit is outside the importer's jurisdiction".to_owned());
                }
                if u.industry_class != r.class {
                    errors.push(format!(
                        "行业类别与登记的第 {} 类不符 — class {} differs from the class {} on record",
                        u.industry_class, r.class, u.industry_class
                    ));
                }
            }
            Err(e) if e.code == ErrorCode::NotFound => {
                errors.push(format!(
                    "没有统一社会信用代码为 {} 的参保单位 — no unit {}",
                    r.unit, r.unit
                ));
            }
            Err(e) => return Err(e),
        }
        if !errors.is_empty() {
            problems.push(RowReport {
                row: r.line,
                errors,
            });
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|r| r.row);
        let xlsx =
            swi_tables::report_xlsx("费率浮动导入审核报告", &problems, total, "整份文件未导入")
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
                code: ErrorCode::RosterRejected,
                zh: format!("共 {total} 行，{} 行有问题，整份文件未导入", problems.len()),
                en: format!(
                    "{} of {total} rows have problems; the whole file is refused",
                    problems.len()
                ),
            },
            report_url: reports::url(&report),
            report_sha256: report.hex(),
            rows: problems,
        }
        .answer());
    }
    let id = format!(
        "rr-{}-{}",
        req.effective_from.format("%Y%m%d"),
        &sha.hex()[..12]
    );
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        if p.state.get(&rerating_key(&id)).await?.is_some() {
            return Err(ApiError::conflict(ErrorCode::AlreadyImported, "该文件已导入过", "this re-rating was imported before"));
        }
        let case = format!("rerating#{id}");
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &sha,
            swi_platform::dossier::Filing {
                case: &case,
                county: &actor.jurisdiction.code(),
                class: swi_archive::retention::RecordClass::Contributions,
                material: "费率浮动核定文件",
            },
        )
        .await?;
        let r = Rerating {
            id: id.clone(),
            sha256: sha.hex(),
            effective_from: req.effective_from,
            source: req.source.clone(),
            rows: rows.len(),
            cursor: 0,
            status: ReratingStatus::Applying,
            received_at: p.clock.now().naive_local(),
            by: actor.name.clone(),
            jurisdiction: actor.jurisdiction.code(),
        };
        let mut ops = rerating_ops(&r, Condition::NotExists)?;
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "rerating.import".into(),
                change: json!({ "sha256": r.sha256, "units": r.rows, "from": r.effective_from, "source": r.source, "basis": "Art. 15" }),
            }],
            status: StatusCode::ACCEPTED,
            response: serde_json::to_value(&r).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/rates/reratings/{id}`: a re-rating and its progress.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/rates/reratings/{id}", tag = "rates", params(("id" = String, Path)),
    responses((status = 200, description = "the re-rating", body = Rerating),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_rerating(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Rerating>, ApiError> {
    actor.may(Action::ReRate, None, Owner::Nobody)?;
    let r: Rerating = p
        .state
        .get(&rerating_key(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该费率浮动导入", "no such re-rating"))?
        .body()
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(r))
}

/// A unit's rates: its bands by date, its rates now, its notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitRates {
    /// The unit.
    pub unit: String,
    /// Industry class.
    pub industry_class: u32,
    /// The band registered, before any re-rating.
    pub registered_band: Decimal,
    /// Bands from their dates.
    pub bands: Vec<DatedBand>,
    /// The rates in force today.
    pub now: Rates,
    /// Its notices, newest first.
    pub notices: Vec<RateNotice>,
}

/// `GET /api/rates/units/{code}`: a unit's bands, rates and notices.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/rates/units/{code}", tag = "rates", params(("code" = String, Path)),
    responses((status = 200, description = "the unit's rates", body = UnitRates),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_unit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<UnitRates>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    let params = p.params().await?;
    let today = p.clock.today();
    let class = IndustryClass::new(unit.industry_class).map_err(|m| ApiError::internal(&m))?;
    Ok(axum::Json(UnitRates {
        unit: unit.code.clone(),
        industry_class: unit.industry_class,
        registered_band: unit.rate_band,
        now: rates(&params, class, unit.band_on(today), today)?,
        bands: unit.band_history.clone(),
        notices: notices_of(&p, &unit.code).await?,
    }))
}

async fn readable_notice(
    p: &Platform,
    actor: &swi_domain::Actor,
    id: &str,
) -> Result<RateNotice, ApiError> {
    let n: RateNotice = p
        .state
        .get(&notice_key(id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该告知书", "no such rate notice"))?
        .body()
        .map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::Read, Some(n.county), Owner::Unit(&n.unit))?;
    Ok(n)
}

/// `GET /api/rates/notices/{id}`: a rate notice's PDF, for its unit and the clerks over it.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/rates/notices/{id}", tag = "rates", params(("id" = String, Path)),
    responses((status = 200, description = "the notice", content_type = "application/pdf"),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn notice_pdf(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let n = readable_notice(&p, &actor, &id).await?;
    let sha = Sha256::parse(&n.sha256).map_err(|e| ApiError::internal(&e))?;
    let bytes = swi_platform::documents::load_bounded(&p, &sha, 20 << 20).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"rate-notice-{}.pdf\"", n.unit),
            ),
        ],
        bytes,
    ))
}

/// `POST /api/rates/objections` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectToRate {
    /// The notice objected to.
    pub notice: String,
    /// Why.
    pub reason: String,
}

/// `POST /api/rates/objections`: the unit objects to its rate notice, opening a re-check
/// (Art. 15); one per notice.
///
/// # Errors
/// 400; 403; 404; 409 objected before.
#[utoipa::path(post, path = "/api/rates/objections", tag = "rates", request_body = ObjectToRate,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "the re-check case", body = Objection),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn object(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<ObjectToRate>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/rates/objections", &req);
    swi_platform::wire::name(&req.reason, "reason")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let n = readable_notice(&p, &actor, &req.notice).await?;
        actor.may(Action::ManageUnit, Some(n.county), Owner::Unit(&n.unit))?;
        let o = Objection {
            id: format!("ro-{}", n.id),
            unit: n.unit.clone(),
            county: n.county,
            notice: n.id.clone(),
            reason: req.reason.clone(),
            filed_on: p.clock.today(),
            status: ObjectionStatus::Open,
            decision: None,
            decided_by: None,
            new_notice: None,
        };
        let k = objection_key(&o.id);
        Ok(Change {
            ops: vec![
                swi_store::TxOp::Put {
                    item: Item::new(k.pk, k.sk, &o)?,
                    condition: Condition::NotExists,
                },
                swi_store::TxOp::Put {
                    item: Item::new(
                        format!("rate-objections#{}", o.county.code()),
                        o.id.clone(),
                        &json!({ "id": o.id }),
                    )?,
                    condition: Condition::None,
                },
            ],
            audit: vec![Audit {
                case: objection_case(&o.id),
                command: "rate.object".into(),
                change: json!({ "notice": o.notice, "reason": o.reason, "basis": "Art. 15" }),
            }],
            status: StatusCode::CREATED,
            response: serde_json::to_value(&o).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/rates/objections?county=`: a county's re-check cases.
///
/// # Errors
/// 400; 403.
#[utoipa::path(get, path = "/api/rates/objections", tag = "rates", params(CountyQuery),
    responses((status = 200, description = "the county's re-checks", body = [Objection]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn objections(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CountyQuery>,
) -> Result<axum::Json<Vec<Objection>>, ApiError> {
    let county = County::parse(&q.county).map_err(|m| ApiError::invalid("县区代码有误", m))?;
    actor.may(Action::ReRate, Some(county), Owner::Nobody)?;
    let mut out = Vec::new();
    for item in p
        .state
        .query_all(&StoreQuery::partition(format!("rate-objections#{}", county.code())).limit(500))
        .await?
    {
        if let Some(o) = p.state.get(&objection_key(&item.sk)).await? {
            out.push(o.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(axum::Json(out))
}

/// The outcome of a re-check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The rate stands.
    Keep,
    /// The band changes (`band`).
    Change,
}

/// `POST /api/rates/objections/{id}/decide` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    /// Keep or change.
    pub outcome: Outcome,
    /// For `change`: the band from the notice's day.
    #[serde(default)]
    pub band: Option<Decimal>,
    /// Why.
    pub reason: String,
}

/// `POST /api/rates/objections/{id}/decide`: the agency's re-check decision (Art. 15): the
/// rate stands, or the band changes from the notice's day with a new notice; audited.
///
/// # Errors
/// 400; 403; 404; 409 decided before; 422 a band the class lacks.
#[utoipa::path(post, path = "/api/rates/objections/{id}/decide", tag = "rates", request_body = Decide,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "decided", body = Objection),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Decide>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/rates/objections/{id}/decide"), &req);
    swi_platform::wire::name(&req.reason, "reason")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let item = p
            .state
            .get(&objection_key(&id))
            .await?
            .ok_or_else(|| ApiError::not_found("未找到该重核申请", "no such objection"))?;
        let version = item.version;
        let mut o: Objection = item.body().map_err(|e| ApiError::internal(&e))?;
        actor.may(Action::ReRate, Some(o.county), Owner::Nobody)?;
        if o.status != ObjectionStatus::Open {
            return Err(ApiError::conflict(ErrorCode::InvalidTransition, "该重核申请已有决定", "the re-check is decided already"));
        }
        o.decision = Some(req.reason.clone());
        o.decided_by = Some(actor.name.clone());
        let mut ops = Vec::new();
        match (req.outcome, req.band) {
            (Outcome::Keep, _) => o.status = ObjectionStatus::Kept,
            (Outcome::Change, None) => {
                return Err(ApiError::invalid("改变费率须填写新的浮动档次", "`band` is required to change the rate"));
            }
            (Outcome::Change, Some(band)) => {
                let notice: RateNotice = p
                    .state
                    .get(&notice_key(&o.notice))
                    .await?
                    .ok_or_else(|| ApiError::internal(&"an objection's notice is missing"))?
                    .body()
                    .map_err(|e| ApiError::internal(&e))?;
                let (mut unit, unit_version) = load_unit(&p, &o.unit).await?;
                let class = IndustryClass::new(unit.industry_class).map_err(|m| ApiError::internal(&m))?;
                if !swi_rules::premium::band_allowed(class, band) {
                    return Err(ApiError::refused(
                        ErrorCode::RatingInvalid,
                        "该行业类别没有此浮动档次（第十三条、第十五条）",
                        format!("band {band} does not exist for class {class}"),
                    ));
                }
                let (n, verification) = changed_by_recheck(&p, &mut unit, &notice, band, &req.reason).await?;
                o.status = ObjectionStatus::Changed;
                o.new_notice = Some(n.id.clone());
                ops.push(unit_put(&unit, Condition::VersionIs(unit_version))?);
                ops.extend(verification);
                ops.extend(notice_write(&n)?);
            }
        }
        let k = objection_key(&o.id);
        ops.push(swi_store::TxOp::Put { item: Item::new(k.pk, k.sk, &o)?, condition: Condition::VersionIs(version) });
        let mut audit = vec![Audit {
            case: objection_case(&o.id),
            command: "rate.recheck".into(),
            change: json!({ "outcome": req.outcome, "band": req.band, "reason": req.reason, "basis": "Art. 15" }),
        }];
        if o.status == ObjectionStatus::Changed {
            audit.push(Audit {
                case: unit_case(&o.unit),
                command: "unit.rechecked".into(),
                change: json!({ "objection": o.id, "band": req.band, "notice": o.new_notice, "basis": "Art. 15" }),
            });
        }
        Ok(Change {
            ops,
            audit,
            status: StatusCode::OK,
            response: serde_json::to_value(&o).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
