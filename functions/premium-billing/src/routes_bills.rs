//! Reading bills: a county's bills of a month (the clerks), one bill and its lines, a unit's
//! bills (the unit and the clerks over it), a self-payer's own bills.

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use swi_bills::Bill;
use swi_bills::Line;
use swi_bills::Payer;
use swi_bills::bill::{county_month_page, lines_page, load_bill, payer_page};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::auth::Authenticated;
use swi_platform::{ApiError, Platform};
use swi_registry::unit::load_unit;
use swi_rules::ids::County;
use swi_store::Cursor;

use crate::arrears::{Arrears, PayerArrears, arrears, of_payer, xlsx};
use crate::refunds::{AskRefund, Refund, refund_change};
use crate::report::{MonthFigures, figures, xlsx as report_xlsx};
use crate::routes_runs::month_param;

/// `?cursor=…&limit=…`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// The cursor a previous page answered.
    #[serde(default)]
    pub cursor: Option<String>,
    /// At most this many (1-500, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl PageQuery {
    fn limit(&self) -> Result<u32, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if (1..=500).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::invalid(
                "每页条数须为 1-500",
                "`limit` must be 1-500",
            ))
        }
    }

    fn cursor(&self) -> Option<Cursor> {
        self.cursor.clone().map(Cursor::from_text)
    }
}

/// A page of bills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BillsPage {
    /// The bills.
    pub bills: Vec<Bill>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

/// A page of a bill's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinesPage {
    /// The lines, in enrolment order.
    pub lines: Vec<Line>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

/// `?county=…&month=…&cursor=…&limit=…`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct CountyMonth {
    /// County code.
    pub county: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// The cursor a previous page answered.
    #[serde(default)]
    pub cursor: Option<String>,
    /// At most this many (1-500, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /api/bills?county=&month=`: a county's bills of a month, in id order (the clerks of the
/// county and the city).
///
/// # Errors
/// 400 bad county, month, cursor or limit; 403.
#[utoipa::path(get, path = "/api/bills", tag = "billing", params(CountyMonth),
    responses((status = 200, description = "a page of the county's bills of the month", body = BillsPage),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn county_month(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CountyMonth>,
) -> Result<axum::Json<BillsPage>, ApiError> {
    let county = County::parse(&q.county).map_err(|m| ApiError::invalid("县区代码有误", m))?;
    let month = month_param(&q.month, "month")?;
    if !actor.role.is_clerk() {
        return Err(ApiError::from(swi_domain::access::Denied::Role {
            role: actor.role,
            action: Action::Read,
        }));
    }
    actor.may(Action::Read, Some(county), Owner::Nobody)?;
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    };
    let (bills, next) = county_month_page(&p, county, month, page.limit()?, page.cursor()).await?;
    Ok(axum::Json(BillsPage {
        bills,
        next: next.map(|c| c.as_str().to_owned()),
    }))
}

async fn readable(p: &Platform, actor: &swi_domain::Actor, id: &str) -> Result<Bill, ApiError> {
    let (bill, _) = load_bill(p, id).await?;
    actor.may(Action::Read, Some(bill.county), bill.payer.owner())?;
    Ok(bill)
}

/// `GET /api/bills/{id}`: a bill, for its payer and the clerks over it.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/bills/{id}", tag = "billing",
    params(("id" = String, Path)),
    responses((status = 200, description = "the bill", body = Bill),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Bill>, ApiError> {
    Ok(axum::Json(readable(&p, &actor, &id).await?))
}

/// `GET /api/bills/{id}/lines`: a bill's lines, a page at a time.
///
/// # Errors
/// 400 bad cursor or limit; 403; 404.
#[utoipa::path(get, path = "/api/bills/{id}/lines", tag = "billing",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, description = "a page of the bill's lines", body = LinesPage),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn lines(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<LinesPage>, ApiError> {
    let limit = q.limit()?;
    let bill = readable(&p, &actor, &id).await?;
    let (lines, next) = lines_page(&p, &bill.id, limit, q.cursor()).await?;
    Ok(axum::Json(LinesPage {
        lines,
        next: next.map(|c| c.as_str().to_owned()),
    }))
}

/// `GET /api/units/{code}/bills`: a unit's bills, newest month first.
///
/// # Errors
/// 400 bad cursor or limit; 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/bills", tag = "billing",
    params(("code" = String, Path), PageQuery),
    responses((status = 200, description = "a page of the unit's bills, newest month first", body = BillsPage),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_unit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<BillsPage>, ApiError> {
    let limit = q.limit()?;
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    let payer = Payer::Unit {
        code: unit.code.clone(),
    };
    let (bills, next) = payer_page(&p, &payer, limit, q.cursor()).await?;
    Ok(axum::Json(BillsPage {
        bills,
        next: next.map(|c| c.as_str().to_owned()),
    }))
}

/// `GET /api/self/bills`: a self-paying worker's own bills, newest month first.
///
/// # Errors
/// 400 bad cursor or limit; 403 not a citizen.
#[utoipa::path(get, path = "/api/self/bills", tag = "billing", params(PageQuery),
    responses((status = 200, description = "a page of the caller's own bills, newest month first", body = BillsPage),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn own(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<BillsPage>, ApiError> {
    let limit = q.limit()?;
    if actor.role != swi_domain::Role::Citizen {
        return Err(ApiError::from(swi_domain::access::Denied::Role {
            role: actor.role,
            action: Action::Read,
        }));
    }
    let payer = Payer::Person {
        owner: actor.sub.clone(),
        enrolment: String::new(),
    };
    let (bills, next) = payer_page(&p, &payer, limit, q.cursor()).await?;
    Ok(axum::Json(BillsPage {
        bills,
        next: next.map(|c| c.as_str().to_owned()),
    }))
}

/// `?county=&format=`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct ArrearsQuery {
    /// County code.
    pub county: String,
    /// `json` (the default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /api/bills/arrears?county=&format=`: who in a county owes what since when (Art. 21) —
/// every unpaid bill past its due day, by payer; as JSON or an XLSX workbook.
///
/// # Errors
/// 400; 403 not a clerk of the county.
#[utoipa::path(get, path = "/api/bills/arrears", tag = "billing", params(ArrearsQuery),
    responses((status = 200, description = "the county's arrears (JSON, or XLSX with `format=xlsx`)", body = Arrears),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn county_arrears(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ArrearsQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let county = County::parse(&q.county).map_err(|m| ApiError::invalid("县区代码有误", m))?;
    if !actor.role.is_clerk() {
        return Err(ApiError::from(swi_domain::access::Denied::Role {
            role: actor.role,
            action: Action::Read,
        }));
    }
    actor.may(Action::Read, Some(county), Owner::Nobody)?;
    let a = arrears(&p, county, None, p.clock.today()).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(axum::Json(a).into_response()),
        Some("xlsx") => Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    swi_tables::XLSX_TYPE.to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"arrears-{}-{}.xlsx\"",
                        county.code(),
                        a.on
                    ),
                ),
            ],
            xlsx(&a)?,
        )
            .into_response()),
        Some(_) => Err(ApiError::invalid(
            "format 须为 json 或 xlsx",
            "`format` must be json or xlsx",
        )),
    }
}

/// `GET /api/units/{code}/bills/arrears`: what the unit owes since when (Art. 21); `null` when
/// nothing is overdue.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/bills/arrears", tag = "billing",
    params(("code" = String, Path)),
    responses((status = 200, description = "the unit's arrears, or null", body = Option<PayerArrears>),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn unit_arrears(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Option<PayerArrears>>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    let payer = Payer::Unit {
        code: unit.code.clone(),
    };
    Ok(axum::Json(
        of_payer(&p, unit.county, &payer, p.clock.today()).await?,
    ))
}

/// `POST /api/bills/{id}/refunds`: a refund of a paid bill's line, only as Art. 22 allows —
/// leaving or death (a month paid after the cover ended, as stored), or a lowered base (the
/// difference) — and only with the work-injury side's refund decision and its scan. Approved: a
/// negative line on the bill and a refund line for the payment step; otherwise 422
/// `refund_not_allowed`, citing the article, and nothing written.
///
/// # Errors
/// 400; 403; 404; 409 refunded before; 422 `refund_not_allowed`, `document_missing`.
#[utoipa::path(post, path = "/api/bills/{id}/refunds", tag = "billing", request_body = AskRefund,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "approved: a negative line on the bill, handed to the payment step", body = Refund),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn refund(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: swi_platform::mutation::IdempotencyKey,
    Path(id): Path<String>,
    swi_platform::json::ApiJson(req): swi_platform::json::ApiJson<AskRefund>,
) -> Result<(axum::http::StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let fp = swi_platform::mutation::fingerprint(&format!("POST /api/bills/{id}/refunds"), &req);
    let (status, body) = swi_platform::mutation::apply(&p, &actor, &key, &fp, async {
        refund_change(&p, &actor, &id, &req).await
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/bills/{id}/refunds`: a bill's refunds (negative lines), for its payer and the
/// clerks over it.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/bills/{id}/refunds", tag = "billing",
    params(("id" = String, Path)),
    responses((status = 200, description = "the bill's refunds", body = [Refund]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn refunds(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<Refund>>, ApiError> {
    let bill = readable(&p, &actor, &id).await?;
    let items = p
        .state
        .query_all(
            &swi_store::Query::partition(format!("bill#{}", bill.id))
                .range(swi_store::SkRange::Prefix("refund#".into()))
                .limit(100),
        )
        .await?;
    Ok(axum::Json(
        items
            .iter()
            .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
            .collect::<Result<_, _>>()?,
    ))
}

/// `?county=&from=&to=&format=`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// County code.
    pub county: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM` (at most 36 months after `from`).
    pub to: String,
    /// `json` (the default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /api/bills/report?county=&from=&to=&format=`: billed, paid and owed per month, by
/// category and industry class, for the county's clerks; as JSON or an XLSX workbook.
///
/// # Errors
/// 400; 403.
#[utoipa::path(get, path = "/api/bills/report", tag = "billing", params(ReportQuery),
    responses((status = 200, description = "the figures per month (JSON, or XLSX with `format=xlsx`)", body = [MonthFigures]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let county = County::parse(&q.county).map_err(|m| ApiError::invalid("县区代码有误", m))?;
    let from = month_param(&q.from, "from")?;
    let to = month_param(&q.to, "to")?;
    if to < from || (to - from).num_days() > 36 * 31 {
        return Err(ApiError::invalid(
            "月份区间须为 36 个月以内",
            "`from`..`to` must be at most 36 months, in order",
        ));
    }
    if !actor.role.is_clerk() {
        return Err(ApiError::from(swi_domain::access::Denied::Role {
            role: actor.role,
            action: Action::Read,
        }));
    }
    actor.may(Action::Read, Some(county), Owner::Nobody)?;
    let months = figures(&p, county, from, to).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(axum::Json(months).into_response()),
        Some("xlsx") => Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    swi_tables::XLSX_TYPE.to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"billing-{}-{}-{}.xlsx\"",
                        county.code(),
                        from.format("%Y%m"),
                        to.format("%Y%m")
                    ),
                ),
            ],
            report_xlsx(&months)?,
        )
            .into_response()),
        Some(_) => Err(ApiError::invalid(
            "format 须为 json 或 xlsx",
            "`format` must be json or xlsx",
        )),
    }
}
