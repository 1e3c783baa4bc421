//! The statistics routes (Art. 41, 50): a year's figures as JSON or XLSX, a figure charted as
//! SVG, and the prevention fund — drawn from last year's premium income at the rate in force —
//! with its uses recorded against it.
//!
//! The supervisors, the agency's officers and the contractor's finance staff read them, a
//! county's staff their county's, the city's staff any county and the city. The agency's officers
//! of the city record the prevention fund's uses (the fund is the city's: Art. 36).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::{Action, Jurisdiction};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform, wire};
use swi_store::{Condition, Item, Key, TxOp};

use crate::figures::{self, Statistics};
use crate::register::{county_of, may};

/// `?year=…&format=json|xlsx`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// The year; default this year.
    #[serde(default)]
    pub year: Option<i32>,
    /// `json` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
}

fn place(county: &str) -> String {
    swi_rules::ids::GANZHOU_COUNTIES
        .iter()
        .find(|(c, _)| c.to_string() == county)
        .map_or_else(|| "赣州市".to_owned(), |(_, n)| (*n).to_owned())
}

/// `GET /api/statistics/{county}`: a county's (or, with `360700`, the city's) year month by
/// month, with its breakdowns and the claims at each step now; `format=xlsx` for the workbook.
///
/// # Errors
/// 400 unknown county, year or format; 403.
#[utoipa::path(get, path = "/api/statistics/{county}", tag = "supervision", params(("county" = String, Path), YearQuery),
    responses((status = 200, description = "the statistics (JSON, or XLSX with `format=xlsx`)", body = Statistics),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn statistics(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let c = county_of(Some(&county), &actor)?;
    may(&actor, Action::ReadStatistics, c)?;
    let today = p.clock.today();
    let s = figures::year(&p, c, q.year.unwrap_or_else(|| today.year()), today).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(axum::Json(s).into_response()),
        "xlsx" => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"statistics-{}-{}.xlsx\"",
                        s.county, s.year
                    ),
                ),
            ],
            figures::xlsx(&s)?,
        )
            .into_response()),
        _ => Err(ApiError::invalid(
            "格式须为 json 或 xlsx",
            "`format` must be json or xlsx",
        )),
    }
}

/// `GET /api/statistics/{county}/charts/{metric}`: one figure of a year charted month by month,
/// as SVG drawn on the server.
///
/// # Errors
/// 400 unknown county, year or figure; 403.
#[utoipa::path(get, path = "/api/statistics/{county}/charts/{metric}", tag = "supervision",
    params(("county" = String, Path), ("metric" = String, Path, description = "persons_covered, units, premium_billed, premium_paid, claims_submitted, benefits_approved, benefits_paid, beneficiaries, fund_income, fund_balance"), YearQuery),
    responses((status = 200, description = "the chart", content_type = "image/svg+xml"),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn chart(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((county, metric)): Path<(String, String)>,
    Query(q): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let c = county_of(Some(&county), &actor)?;
    may(&actor, Action::ReadStatistics, c)?;
    let m = crate::chart::metric(&metric).ok_or_else(|| {
        ApiError::invalid(
            "没有该统计指标",
            format!("no figure `{}`", wire::clip(&metric)),
        )
    })?;
    let today = p.clock.today();
    let s = figures::year(&p, c, q.year.unwrap_or_else(|| today.year()), today).await?;
    let svg = crate::chart::svg(&s, m, &place(&s.county)).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

/// A use of the prevention fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreventionUse {
    /// Its number, from 1.
    pub n: usize,
    /// The day.
    #[schema(value_type = String)]
    pub on: NaiveDate,
    /// The prevention project (工伤预防项目).
    pub project: String,
    /// The amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The approval it rests on (文号).
    pub approval: String,
    /// Recorded by.
    pub recorded_by: String,
    /// When.
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// A year's prevention fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreventionFund {
    /// The year it is drawn in.
    pub year: i32,
    /// Last year's premium income (every county).
    #[schema(value_type = String)]
    pub premium_income: Decimal,
    /// The rate in force (`prevention_fund.ratio`).
    #[schema(value_type = String)]
    pub ratio: Decimal,
    /// The fund drawn: the rate of the income, rounded half-up to the fen.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The articles.
    pub basis: Vec<String>,
    /// Its uses.
    pub uses: Vec<PreventionUse>,
    /// Used in all.
    #[schema(value_type = String)]
    pub used: Decimal,
    /// Left.
    #[schema(value_type = String)]
    pub remaining: Decimal,
    /// The fund's balance now (the city's books), for "在保证补充工伤保险待遇支付的前提下".
    #[schema(value_type = String)]
    pub fund_balance: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Uses {
    uses: Vec<PreventionUse>,
}

fn uses_key(year: i32) -> Key {
    Key::new(format!("prevention#{year}"), "uses")
}

async fn fund(p: &Platform, year: i32) -> Result<(PreventionFund, Option<u64>), ApiError> {
    let today = p.clock.today();
    if year < 2026 || year > today.year() {
        return Err(ApiError::refused(
            ErrorCode::NotInForce,
            "预防费按上年度征缴收入提取：本规程 2025 年起施行，2026 年起方有上年度收入",
            "the fund is drawn from last year's premium income (Art. 50); the scheme began in 2025, so the first year is 2026, and not a year ahead",
        ));
    }
    let income = figures::premium_income(p, year - 1).await?;
    let params = p.params().await?;
    let on = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
    let d = swi_rules::prevention::prevention_fund(&params, income, on)?;
    let ratio = crate::catalogue::threshold(&params, "prevention_fund.ratio", on)?;
    let (uses, version) = match p.state.get(&uses_key(year)).await? {
        Some(i) => (
            i.body::<Uses>().map_err(|e| ApiError::internal(&e))?.uses,
            Some(i.version),
        ),
        None => (Vec::new(), None),
    };
    let used: Decimal = uses.iter().map(|u| u.amount).sum();
    let balance = figures::year(p, None, today.year(), today)
        .await?
        .year_total
        .fund_balance;
    Ok((
        PreventionFund {
            year,
            premium_income: income,
            ratio,
            amount: d.value,
            basis: vec!["Art. 50".into()],
            remaining: d.value - used,
            used,
            uses,
            fund_balance: balance,
        },
        version,
    ))
}

fn may_read_fund(actor: &swi_domain::Actor) -> Result<(), ApiError> {
    actor.may(Action::ReadStatistics, None, Owner::Nobody)?;
    Ok(())
}

/// `GET /api/statistics/prevention/{year}`: the prevention fund of a year (Art. 50: 3 % of last
/// year's premium income), what it was used for, what is left.
///
/// # Errors
/// 403; 422 a year without a previous year of income.
#[utoipa::path(get, path = "/api/statistics/prevention/{year}", tag = "supervision", params(("year" = i32, Path)),
    responses((status = 200, description = "the fund", body = PreventionFund),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn prevention(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(year): Path<i32>,
) -> Result<axum::Json<PreventionFund>, ApiError> {
    may_read_fund(&actor)?;
    Ok(axum::Json(fund(&p, year).await?.0))
}

/// A use to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordUse {
    /// The day (in the year).
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2026-05-10")]
    pub on: NaiveDate,
    /// The prevention project (1-500 characters).
    pub project: String,
    /// The amount (more than 0, at most what is left).
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    #[schema(value_type = String, example = "50000.00")]
    pub amount: Decimal,
    /// The approval it rests on (文号).
    pub approval: String,
}

/// `POST /api/statistics/prevention/{year}/uses`: records a use of the year's prevention fund
/// (Art. 50, with 赣人社规〔2024〕4号's projects): never more than is left.
///
/// # Errors
/// 400; 403 not the city's agency officer; 422 more than is left, or no fund that year.
#[utoipa::path(post, path = "/api/statistics/prevention/{year}/uses", tag = "supervision", request_body = RecordUse,
    params(("year" = i32, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the fund", body = PreventionFund),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_use(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(year): Path<i32>,
    ApiJson(req): ApiJson<RecordUse>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    actor.may(Action::RecordPreventionUse, None, Owner::Nobody)?;
    if actor.jurisdiction != Jurisdiction::City {
        return Err(swi_domain::Denied::County {
            record: swi_domain::access::CITY_CODE.to_owned(),
            actor: actor.jurisdiction.code(),
        }
        .into());
    }
    let project = wire::note(&req.project, "project", "预防项目")?;
    wire::name(&req.approval, "approval")?;
    if req.on.year() != year {
        return Err(ApiError::invalid(
            format!("使用日期须在 {year} 年内"),
            format!("`on` must be in {year}"),
        ));
    }
    if req.amount <= Decimal::ZERO || req.amount.scale() > 2 {
        return Err(ApiError::invalid(
            "金额须大于零，至多两位小数",
            "`amount` must be more than 0, in yuan and fen",
        ));
    }
    let fp = fingerprint(
        &format!("POST /api/statistics/prevention/{year}/uses"),
        &req,
    );
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut f, version) = fund(&p, year).await?;
        if req.amount > f.remaining {
            return Err(ApiError::refused(
                ErrorCode::PreventionFundExceeded,
                format!("超过本年度预防费余额 {} 元（第五十条）", f.remaining),
                format!("more than the {} left of the year's prevention fund (Art. 50)", f.remaining),
            ));
        }
        let u = PreventionUse {
            n: f.uses.len() + 1,
            on: req.on,
            project: project.clone(),
            amount: req.amount,
            approval: req.approval.clone(),
            recorded_by: actor.name.clone(),
            recorded_at: p.clock.now().naive_local(),
        };
        f.uses.push(u.clone());
        f.used += u.amount;
        f.remaining -= u.amount;
        let k = uses_key(year);
        Ok(Change {
            ops: vec![TxOp::Put {
                item: Item::new(k.pk, k.sk, &Uses { uses: f.uses.clone() })?,
                condition: version.map_or(Condition::NotExists, Condition::VersionIs),
            }],
            audit: vec![Audit {
                case: format!("prevention#{year}"),
                command: "prevention.use".into(),
                change: json!({ "n": u.n, "on": u.on, "project": u.project, "amount": u.amount, "approval": u.approval, "basis": "Art. 50" }),
            }],
            status: StatusCode::OK,
            response: serde_json::to_value(&f).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
