//! The yearly supervision plan (chapter 8: 承办机构应按年度制定补充工伤保险监督管理工作计划，根据
//! 工作计划实施监督管理): a county's (or the city's) plan of a year — its checks, each with what it
//! covers (enrolment, benefits, internal operations), the risk rules whose alerts it looks at, and
//! the day it is due — and each check's result once done: what was found, by whom, and the alerts
//! of its rules raised in the year, linked. A check past its day without a result is an alert
//! (`plan_check_overdue`, raised by the nightly sweep).
//!
//! Keys: `plan#<county>#<year>` / `plan`. The supervisors keep it; agency officers read it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::{Action, Actor};
use swi_platform::alerts::{Alert, AlertStatus};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform, wire};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, TxOp};

use crate::catalogue::RuleId;
use crate::register::{county_of, may};

/// The most checks a plan holds.
pub const MAX_CHECKS: usize = 60;

/// What a check covers (chapter 8: 参保监督、待遇监督、内部监督).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Enrolment supervision (Art. 42).
    Enrolment,
    /// Benefit supervision (Art. 43).
    Benefits,
    /// Internal supervision of operations (Art. 44).
    Internal,
}

/// A planned check as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// What is checked (1-500 characters).
    pub title: String,
    /// What it covers.
    pub area: Area,
    /// The risk rules whose alerts it looks at.
    #[serde(default)]
    pub rules: Vec<RuleId>,
    /// The day it is due.
    #[schema(value_type = String, example = "2026-06-30")]
    pub due: NaiveDate,
}

/// A plan as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// Its aims (1-500 characters).
    pub aims: String,
    /// Its checks (1-60), in order.
    pub checks: Vec<CheckIn>,
}

/// A check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckResult {
    /// Done on.
    #[schema(value_type = String)]
    pub done_on: NaiveDate,
    /// By (subject).
    pub by: String,
    /// Their name.
    pub by_name: String,
    /// What was found.
    pub finding: String,
    /// The alerts of its rules raised in the plan's year (ids), linked when the result was
    /// recorded, with any the supervisor added.
    pub alerts: Vec<String>,
}

/// A planned check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Check {
    /// Its number in the plan, from 1.
    pub n: usize,
    /// What is checked.
    pub title: String,
    /// What it covers.
    pub area: Area,
    /// The rules whose alerts it looks at.
    pub rules: Vec<RuleId>,
    /// Due.
    #[schema(value_type = String)]
    pub due: NaiveDate,
    /// Its result, once done.
    pub result: Option<CheckResult>,
}

/// A year's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Plan {
    /// The county (none: the city's own).
    #[schema(value_type = Option<String>)]
    pub county: Option<County>,
    /// The year.
    pub year: i32,
    /// Its aims.
    pub aims: String,
    /// Its checks.
    pub checks: Vec<Check>,
    /// Recorded by (name) and when.
    pub recorded_by: String,
    /// When (China time).
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

fn code(county: Option<County>) -> String {
    county.map_or_else(
        || swi_domain::access::CITY_CODE.to_owned(),
        |c| c.code().to_string(),
    )
}

fn plan_key(county: Option<County>, year: i32) -> Key {
    Key::new(format!("plan#{}#{year}", code(county)), "plan")
}

fn plan_case(county: Option<County>, year: i32) -> String {
    format!("plan#{}#{year}", code(county))
}

/// A plan and its version, if recorded.
///
/// # Errors
/// The store is unavailable.
pub async fn load(
    p: &Platform,
    county: Option<County>,
    year: i32,
) -> Result<Option<(Plan, u64)>, ApiError> {
    p.state
        .get(&plan_key(county, year))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

fn year_of(year: i32) -> Result<i32, ApiError> {
    if (2025..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(ApiError::invalid(
            "年度须在 2025-2100 之间",
            "the year must be 2025-2100",
        ))
    }
}

fn target(actor: &Actor, county: &str, year: i32) -> Result<(Option<County>, i32), ApiError> {
    Ok((county_of(Some(county), actor)?, year_of(year)?))
}

/// `GET /api/alerts/plans/{county}/{year}`: a year's supervision plan with its checks and
/// results.
///
/// # Errors
/// 400; 403; 404 no plan recorded.
#[utoipa::path(get, path = "/api/alerts/plans/{county}/{year}", tag = "supervision",
    params(("county" = String, Path, description = "a county code, or 360700 for the city"), ("year" = i32, Path)),
    responses((status = 200, description = "the plan", body = Plan),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((county, year)): Path<(String, i32)>,
) -> Result<axum::Json<Plan>, ApiError> {
    let (county, year) = target(&actor, &county, year)?;
    may(&actor, Action::ReadAlerts, county)?;
    let (plan, _) = load(&p, county, year).await?.ok_or_else(|| {
        ApiError::not_found(
            "该年度尚未制定监督计划",
            "no supervision plan for that year",
        )
    })?;
    Ok(axum::Json(plan))
}

const KEY_HEADER: &str = "8-128 characters; a retry with the same key returns the first answer";

/// `PUT /api/alerts/plans/{county}/{year}`: records the year's plan, or replaces it — keeping the
/// results of the checks it keeps (a check with a result may not be removed or moved).
///
/// # Errors
/// 400 no check, too many, a due day outside the year; 403; 409 a done check removed.
#[utoipa::path(put, path = "/api/alerts/plans/{county}/{year}", tag = "supervision", request_body = PlanIn,
    params(("county" = String, Path), ("year" = i32, Path), ("Idempotency-Key" = String, Header, description = KEY_HEADER)),
    responses((status = 200, description = "the plan", body = Plan),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path((county, year)): Path<(String, i32)>,
    ApiJson(req): ApiJson<PlanIn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (county, year) = target(&actor, &county, year)?;
    may(&actor, Action::WorkAlerts, county)?;
    let aims = wire::note(&req.aims, "aims", "工作目标")?;
    if req.checks.is_empty() || req.checks.len() > MAX_CHECKS {
        return Err(ApiError::invalid(
            format!("计划须有 1-{MAX_CHECKS} 项检查"),
            format!("a plan has 1-{MAX_CHECKS} checks"),
        ));
    }
    let mut checks = Vec::with_capacity(req.checks.len());
    for (i, c) in req.checks.iter().enumerate() {
        let title = wire::note(&c.title, &format!("checks[{i}].title"), "检查事项")?;
        if c.due.year() != year {
            return Err(ApiError::invalid(
                format!("第 {} 项检查的完成日期不在 {year} 年内", i + 1),
                format!("checks[{i}].due is not in {year}"),
            ));
        }
        if c.rules.len() > RuleId::ALL.len() {
            return Err(ApiError::invalid(
                "规则过多",
                format!("checks[{i}].rules: too many"),
            ));
        }
        checks.push(Check {
            n: i + 1,
            title,
            area: c.area,
            rules: c.rules.clone(),
            due: c.due,
            result: None,
        });
    }
    let fp = fingerprint(&format!("PUT /api/alerts/plans/{county:?}/{year}"), &req);
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let before = load(&p, county, year).await?;
        if let Some((old, _)) = &before {
            for done in old.checks.iter().filter(|c| c.result.is_some()) {
                let kept = checks
                    .iter_mut()
                    .find(|c| c.n == done.n && c.title == done.title);
                match kept {
                    Some(c) => c.result.clone_from(&done.result),
                    None => {
                        return Err(ApiError::conflict(
                            ErrorCode::InvalidTransition,
                            format!("第 {} 项检查已有结果，不能删除或改动", done.n),
                            format!("check {} has its result and stays as it is", done.n),
                        ));
                    }
                }
            }
        }
        let plan = Plan {
            county,
            year,
            aims: aims.clone(),
            checks: checks.clone(),
            recorded_by: actor.name.clone(),
            recorded_at: p.clock.now().naive_local(),
        };
        let k = plan_key(county, year);
        Ok(Change {
            ops: vec![TxOp::Put {
                item: Item::new(k.pk, k.sk, &plan)?,
                condition: before
                    .as_ref()
                    .map_or(Condition::NotExists, |(_, v)| Condition::VersionIs(*v)),
            }],
            audit: vec![Audit {
                case: plan_case(county, year),
                command: if before.is_some() {
                    "plan.revise"
                } else {
                    "plan.record"
                }
                .into(),
                change: json!({ "aims": plan.aims, "checks": plan.checks.len() }),
            }],
            status: StatusCode::OK,
            response: serde_json::to_value(&plan).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// A check's result as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultIn {
    /// What was found (1-500 characters).
    pub finding: String,
    /// Further alerts to link (ids of the register).
    #[serde(default)]
    pub alerts: Vec<String>,
}

/// `POST /api/alerts/plans/{county}/{year}/checks/{n}/result`: records a check as done with what
/// it found; the alerts its rules raised in the year are linked with it.
///
/// # Errors
/// 400; 403; 404 no such plan, check or alert; 409 done already.
#[utoipa::path(post, path = "/api/alerts/plans/{county}/{year}/checks/{n}/result", tag = "supervision", request_body = ResultIn,
    params(("county" = String, Path), ("year" = i32, Path), ("n" = usize, Path), ("Idempotency-Key" = String, Header, description = KEY_HEADER)),
    responses((status = 200, description = "the plan", body = Plan),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn result(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path((county, year, n)): Path<(String, i32, usize)>,
    ApiJson(req): ApiJson<ResultIn>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (county, year) = target(&actor, &county, year)?;
    may(&actor, Action::WorkAlerts, county)?;
    let finding = wire::note(&req.finding, "finding", "检查结果")?;
    if req.alerts.len() > 200 {
        return Err(ApiError::invalid(
            "关联的风险提示过多",
            "at most 200 alerts",
        ));
    }
    let fp = fingerprint(
        &format!("POST /api/alerts/plans/{county:?}/{year}/checks/{n}/result"),
        &req,
    );
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut plan, version) = load(&p, county, year).await?.ok_or_else(|| {
            ApiError::not_found(
                "该年度尚未制定监督计划",
                "no supervision plan for that year",
            )
        })?;
        let rows = crate::register::register_of(&p, county, year).await?;
        let check = plan
            .checks
            .iter_mut()
            .find(|c| c.n == n)
            .ok_or_else(|| ApiError::not_found("计划中没有该项检查", "no such check"))?;
        if check.result.is_some() {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "该项检查已记录结果",
                "the check has its result already",
            ));
        }
        let mut alerts: Vec<String> = rows
            .iter()
            .filter(|r| check.rules.iter().any(|rule| rule.id() == r.kind))
            .map(|r| r.id.clone())
            .collect();
        for id in &req.alerts {
            if !rows.iter().any(|r| &r.id == id) {
                return Err(ApiError::not_found(
                    "关联的风险提示不在本年度台账中",
                    format!("alert {} is not in the year's register", wire::clip(id)),
                ));
            }
            if !alerts.contains(id) {
                alerts.push(id.clone());
            }
        }
        check.result = Some(CheckResult {
            done_on: p.clock.today(),
            by: actor.sub.clone(),
            by_name: actor.name.clone(),
            finding: finding.clone(),
            alerts: alerts.clone(),
        });
        let k = plan_key(county, year);
        Ok(Change {
            ops: vec![TxOp::Put {
                item: Item::new(k.pk, k.sk, &plan)?,
                condition: Condition::VersionIs(version),
            }],
            audit: vec![Audit {
                case: plan_case(county, year),
                command: "plan.check_done".into(),
                change: json!({ "check": n, "finding": finding, "alerts": alerts }),
            }],
            status: StatusCode::OK,
            response: serde_json::to_value(&plan).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// An alert for every planned check past its day without a result (the nightly sweep).
///
/// # Errors
/// The store is unavailable.
pub async fn overdue(p: &Platform, today: NaiveDate) -> Result<Vec<Alert>, ApiError> {
    let mut out = Vec::new();
    let mut counties: Vec<Option<County>> = vec![None];
    counties.extend(
        swi_rules::ids::GANZHOU_COUNTIES
            .iter()
            .filter_map(|(c, _)| County::parse(&c.to_string()).ok())
            .map(Some),
    );
    for county in counties {
        let Some((plan, _)) = load(p, county, today.year()).await? else {
            continue;
        };
        for c in plan
            .checks
            .iter()
            .filter(|c| c.result.is_none() && c.due < today)
        {
            let case = plan_case(county, plan.year);
            out.push(Alert {
                id: format!("plan_check_overdue:{}#{}:{}", code(county), plan.year, c.n),
                kind: "plan_check_overdue".into(),
                subject: case.clone(),
                county,
                evidence: json!({ "check": c.n, "title": c.title, "due": c.due }),
                raised_by: "rule:plan_check_overdue".into(),
                raised_at: p.clock.now(),
                status: AlertStatus::Open,
                zh: format!(
                    "{} 年度监督计划第 {} 项检查（{}）应于 {} 前完成，尚无结果",
                    plan.year, c.n, c.title, c.due
                ),
                en: format!(
                    "check {} of the {} supervision plan was due by {} and has no result",
                    c.n, plan.year, c.due
                ),
                basis: Some("Art. 44".into()),
                links: vec![case],
                ..Alert::default()
            });
        }
    }
    Ok(out)
}
