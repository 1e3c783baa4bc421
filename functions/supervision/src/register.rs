//! The internal supervision register (内部监督记录和台账, Art. 44): the alerts of a county (or of
//! the city), each worked from raised to closed — assigned to a supervisor, investigated in
//! notes, closed with a finding — and the register of a year as JSON or XLSX to sign.
//!
//! Supervisors work alerts of their jurisdiction; agency officers read them. Only the
//! supervisor an alert is assigned to adds notes and closes it; any supervisor of its
//! jurisdiction may take it over (a reassignment is a line of the register too). Every change
//! is one conditional transaction with its audit event (case `alert#<id>`).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::{CITY_CODE, Owner};
use swi_domain::{Action, Actor, Denied, Jurisdiction};
use swi_platform::alerts::{
    Alert, AlertStatus, Entry, EntryKind, Finding, Outcome, alert_item, alert_key, partition,
};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform, wire};
use swi_rules::ids::County;
use swi_store::{Condition, Index, Query as StoreQuery, SkRange, TxOp};

/// The most alerts one list answers (the oldest first; the register pages the rest by year).
pub const LIST_LIMIT: usize = 500;

/// `?county=…&status=…`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct AlertQuery {
    /// A county code, or `360700` for the city's own alerts; default the asker's jurisdiction.
    #[serde(default)]
    pub county: Option<String>,
    /// `open` (default), `assigned` or `closed`.
    #[serde(default)]
    pub status: Option<AlertStatus>,
}

/// The county a query names (`None`: the city's own alerts).
///
/// # Errors
/// 400 an unknown county.
pub fn county_of(code: Option<&str>, actor: &Actor) -> Result<Option<County>, ApiError> {
    let code = code.map_or_else(|| actor.jurisdiction.code(), str::to_owned);
    if code == CITY_CODE {
        return Ok(None);
    }
    County::parse(&code)
        .map(Some)
        .map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))
}

/// Whether `actor` may take `action` on the alerts of `county` (`None`: the city's own, which
/// only the city's staff reach).
///
/// # Errors
/// 403.
pub fn may(actor: &Actor, action: Action, county: Option<County>) -> Result<(), ApiError> {
    if county.is_none() && actor.jurisdiction != Jurisdiction::City {
        return Err(ApiError::from(Denied::County {
            record: CITY_CODE.to_owned(),
            actor: actor.jurisdiction.code(),
        }));
    }
    actor.may(action, county, Owner::Nobody)?;
    Ok(())
}

/// The alerts of a county of one status, oldest first (at most [`LIST_LIMIT`]).
///
/// # Errors
/// 503 the store is unavailable.
pub async fn alerts_of(
    p: &Platform,
    county: Option<County>,
    status: AlertStatus,
) -> Result<Vec<Alert>, ApiError> {
    let items = p
        .state
        .query_index_all(
            Index::Gsi1,
            &StoreQuery::partition(partition(county))
                .range(SkRange::Prefix(format!("{}#", status.key())))
                .limit(u32::try_from(LIST_LIMIT).unwrap_or(500)),
        )
        .await?;
    items
        .iter()
        .take(LIST_LIMIT)
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// `GET /api/alerts`: a county's alerts of one status, oldest first.
///
/// # Errors
/// 400 unknown county; 403 not a supervisor or agency officer of that county.
#[utoipa::path(get, path = "/api/alerts", tag = "supervision", params(AlertQuery),
    responses((status = 200, description = "the alerts", body = [Alert]),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<AlertQuery>,
) -> Result<axum::Json<Vec<Alert>>, ApiError> {
    let county = county_of(q.county.as_deref(), &actor)?;
    may(&actor, Action::ReadAlerts, county)?;
    Ok(axum::Json(
        alerts_of(&p, county, q.status.unwrap_or(AlertStatus::Open)).await?,
    ))
}

fn unknown() -> ApiError {
    ApiError::not_found("未找到该风险提示", "no such alert")
}

/// Loads an alert and its version for `actor`, checked against the alert's own county.
///
/// # Errors
/// 403; 404.
pub async fn load(
    p: &Platform,
    actor: &Actor,
    id: &str,
    action: Action,
) -> Result<(Alert, u64), ApiError> {
    if id.is_empty() || id.len() > 300 {
        return Err(unknown());
    }
    let item = p.state.get(&alert_key(id)).await?.ok_or_else(unknown)?;
    let alert: Alert = item.body().map_err(|e| ApiError::internal(&e))?;
    may(actor, action, alert.county)?;
    Ok((alert, item.version))
}

/// `GET /api/alerts/{id}`: an alert with its evidence, links and register.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/alerts/{id}", tag = "supervision",
    params(("id" = String, Path, description = "the alert's id, e.g. `invoice_reused:FP-001`")),
    responses((status = 200, description = "the alert", body = Alert),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Alert>, ApiError> {
    Ok(axum::Json(
        load(&p, &actor, &id, Action::ReadAlerts).await?.0,
    ))
}

/// An assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The supervisor who works it (token subject); default the one asking.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Their name, when it is someone else.
    #[serde(default)]
    pub assignee_name: Option<String>,
    /// Why, or what to look at first.
    #[serde(default)]
    pub note: Option<String>,
}

/// A step of the investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// What was done or found (1-500 characters).
    pub text: String,
}

/// The finding an alert is closed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {
    /// Real or not.
    pub outcome: Outcome,
    /// What was found (1-500 characters).
    pub finding: String,
    /// What was done about it: required when the risk was real.
    #[serde(default)]
    pub measures: Option<String>,
}

fn transition(zh: &str, en: &str) -> ApiError {
    ApiError::conflict(ErrorCode::InvalidTransition, zh, en)
}

fn entry(p: &Platform, actor: &Actor, kind: EntryKind, text: String) -> Entry {
    Entry {
        kind,
        at: p.clock.now().naive_local(),
        by: actor.sub.clone(),
        name: actor.name.clone(),
        text,
    }
}

/// The operations writing `alert` over the version read (its index key follows its status).
fn put(alert: &Alert, version: u64) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: alert_item(alert)?,
        condition: Condition::VersionIs(version),
    })
}

fn assigned_to_actor(alert: &Alert, actor: &Actor) -> Result<(), ApiError> {
    if alert.status != AlertStatus::Assigned {
        return Err(transition(
            "该风险提示尚未分派或已办结",
            "the alert is not assigned, or is closed",
        ));
    }
    if alert.assignee.as_deref() != Some(actor.sub.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NotAssignee,
            "该风险提示已分派给其他人员办理",
            "the alert is assigned to someone else; only they work it (or take it over first)",
        ));
    }
    Ok(())
}

async fn change(
    p: &Platform,
    actor: &Actor,
    key: &IdempotencyKey,
    route: &str,
    request: &impl Serialize,
    id: &str,
    work: impl Fn(&mut Alert) -> Result<(String, Value), ApiError> + Send,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(route, request);
    load(p, actor, id, Action::WorkAlerts).await?;
    let (status, body) = apply(p, actor, key, &fp, async {
        let (mut alert, version) = load(p, actor, id, Action::WorkAlerts).await?;
        let (command, detail) = work(&mut alert)?;
        let body = serde_json::to_value(&alert).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![put(&alert, version)?],
            audit: vec![Audit {
                case: format!("alert#{}", alert.id),
                command,
                change: detail,
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

const KEY_HEADER: &str = "8-128 characters; a retry with the same key returns the first answer";

/// `POST /api/alerts/{id}/assign`: gives an open alert to a supervisor (by default the one
/// asking), or takes over one assigned to someone else.
///
/// # Errors
/// 400; 403 not a supervisor of its jurisdiction; 404; 409 closed.
#[utoipa::path(post, path = "/api/alerts/{id}/assign", tag = "supervision", request_body = Assign,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = KEY_HEADER)),
    responses((status = 200, description = "the alert", body = Alert),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Assign>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let assignee = req.assignee.clone().unwrap_or_else(|| actor.sub.clone());
    wire::subject(&assignee, "assignee")?;
    let assignee_name = match (&req.assignee_name, assignee == actor.sub) {
        (Some(n), _) => {
            wire::name(n, "assignee_name")?;
            n.clone()
        }
        (None, true) => actor.name.clone(),
        (None, false) => {
            return Err(ApiError::invalid(
                "分派给他人时须写明其姓名",
                "`assignee_name` is required when assigning to someone else",
            ));
        }
    };
    let note = req
        .note
        .as_deref()
        .map(|n| wire::note(n, "note", "说明"))
        .transpose()?;
    let route = format!("POST /api/alerts/{id}/assign");
    change(&p, &actor, &key, &route, &req, &id, |alert| {
        if alert.status == AlertStatus::Closed {
            return Err(transition("该风险提示已办结", "the alert is closed"));
        }
        if alert.assignee.as_deref() == Some(assignee.as_str()) {
            return Err(transition(
                "该风险提示已分派给此人",
                "the alert is assigned to them already",
            ));
        }
        let text = match &note {
            Some(n) => format!("分派给 {assignee_name}：{n}"),
            None => format!("分派给 {assignee_name}"),
        };
        alert.status = AlertStatus::Assigned;
        alert.assignee = Some(assignee.clone());
        alert.assignee_name = Some(assignee_name.clone());
        alert
            .record
            .push(entry(&p, &actor, EntryKind::Assigned, text));
        Ok((
            "alert.assign".into(),
            json!({ "assignee": assignee, "note": note }),
        ))
    })
    .await
}

/// `POST /api/alerts/{id}/notes`: records a step of the investigation (核查记录).
///
/// # Errors
/// 400; 403 not its assignee; 404; 409 not assigned.
#[utoipa::path(post, path = "/api/alerts/{id}/notes", tag = "supervision", request_body = NoteRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = KEY_HEADER)),
    responses((status = 200, description = "the alert", body = Alert),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn note(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let text = wire::note(&req.text, "text", "核查记录")?;
    let route = format!("POST /api/alerts/{id}/notes");
    change(&p, &actor, &key, &route, &req, &id, |alert| {
        assigned_to_actor(alert, &actor)?;
        if alert.record.len() >= 200 {
            return Err(transition(
                "该风险提示的记录已达上限（200 条）",
                "the alert's register holds 200 lines already",
            ));
        }
        alert
            .record
            .push(entry(&p, &actor, EntryKind::Note, text.clone()));
        Ok(("alert.note".into(), json!({ "text": text })))
    })
    .await
}

/// `POST /api/alerts/{id}/close`: closes an alert with its finding — real (with the measures
/// taken) or unfounded.
///
/// # Errors
/// 400 no finding, or no measures for a real risk; 403 not its assignee; 404; 409 not
/// assigned.
#[utoipa::path(post, path = "/api/alerts/{id}/close", tag = "supervision", request_body = Close,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = KEY_HEADER)),
    responses((status = 200, description = "the alert", body = Alert),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn close(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Close>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let text = wire::note(&req.finding, "finding", "核查结论")?;
    let measures = req
        .measures
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .map(|m| wire::note(m, "measures", "处理措施"))
        .transpose()?;
    if req.outcome == Outcome::Confirmed && measures.is_none() {
        return Err(ApiError::invalid(
            "情况属实的，须写明处理措施",
            "a confirmed risk needs the `measures` taken",
        ));
    }
    let route = format!("POST /api/alerts/{id}/close");
    change(&p, &actor, &key, &route, &req, &id, |alert| {
        assigned_to_actor(alert, &actor)?;
        alert.status = AlertStatus::Closed;
        alert.finding = Some(Finding {
            outcome: req.outcome,
            text: text.clone(),
            measures: measures.clone(),
        });
        alert
            .record
            .push(entry(&p, &actor, EntryKind::Closed, text.clone()));
        Ok((
            "alert.close".into(),
            json!({ "outcome": req.outcome, "finding": text, "measures": measures }),
        ))
    })
    .await
}

/// `?county=…&year=…&format=json|xlsx`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct RegisterQuery {
    /// A county code, or `360700` for the city's own alerts; default the asker's jurisdiction.
    #[serde(default)]
    pub county: Option<String>,
    /// The year the alerts were raised in; default this year.
    #[serde(default)]
    pub year: Option<i32>,
    /// `json` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
}

/// One line of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterRow {
    /// The alert.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// The article it rests on.
    pub basis: Option<String>,
    /// Raised on (China date).
    pub raised_on: String,
    /// What it says.
    pub zh: String,
    /// Where it stands.
    pub status: AlertStatus,
    /// Who works it (name, from the register).
    pub assignee: Option<String>,
    /// Notes of the investigation.
    pub notes: usize,
    /// Closed on.
    pub closed_on: Option<String>,
    /// Real or not.
    pub outcome: Option<Outcome>,
    /// The finding and the measures.
    pub finding: Option<String>,
}

impl From<&Alert> for RegisterRow {
    fn from(a: &Alert) -> Self {
        let closed = a.record.iter().rev().find(|e| e.kind == EntryKind::Closed);
        RegisterRow {
            id: a.id.clone(),
            kind: a.kind.clone(),
            basis: a.basis.clone(),
            raised_on: a.raised_at.date_naive().to_string(),
            zh: a.zh.clone(),
            status: a.status,
            assignee: a.assignee_name.clone(),
            notes: a
                .record
                .iter()
                .filter(|e| e.kind == EntryKind::Note)
                .count(),
            closed_on: closed.map(|e| e.at.date().to_string()),
            outcome: a.finding.as_ref().map(|f| f.outcome),
            finding: a.finding.as_ref().map(|f| match &f.measures {
                Some(m) => format!("{}；处理措施：{m}", f.text),
                None => f.text.clone(),
            }),
        }
    }
}

const REGISTER_HEADINGS: [&str; 11] = [
    "编号",
    "类型",
    "依据",
    "提示日期",
    "风险提示",
    "状态",
    "办理人",
    "核查记录数",
    "办结日期",
    "结论",
    "核查结论及处理措施",
];

fn status_zh(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Open => "待分派",
        AlertStatus::Assigned => "核查中",
        AlertStatus::Closed => "已办结",
    }
}

fn outcome_zh(o: Outcome) -> &'static str {
    match o {
        Outcome::Confirmed => "情况属实",
        Outcome::Unfounded => "经核查无异常",
    }
}

/// The register of a year: every alert of the county raised in it, in the order raised.
///
/// # Errors
/// 503 the store is unavailable.
pub async fn register_of(
    p: &Platform,
    county: Option<County>,
    year: i32,
) -> Result<Vec<RegisterRow>, ApiError> {
    let mut rows: Vec<(String, RegisterRow)> = Vec::new();
    for status in AlertStatus::ALL {
        for item in p
            .state
            .query_index_all(
                Index::Gsi1,
                &StoreQuery::partition(partition(county))
                    .range(SkRange::Prefix(format!("{}#{year}-", status.key())))
                    .limit(1000),
            )
            .await?
        {
            let a: Alert = item.body().map_err(|e| ApiError::internal(&e))?;
            rows.push((a.raised_at.to_rfc3339(), RegisterRow::from(&a)));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

/// `GET /api/alerts/register`: the internal supervision register (台账) of a year — every alert
/// raised in it, where it stands, who worked it and what was found — as JSON or as the XLSX to
/// sign.
///
/// # Errors
/// 400 unknown county, year or format; 403.
#[utoipa::path(get, path = "/api/alerts/register", tag = "supervision", params(RegisterQuery),
    responses((status = 200, description = "the register (JSON, or XLSX with `format=xlsx`)", body = [RegisterRow]),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, ApiError> {
    let county = county_of(q.county.as_deref(), &actor)?;
    may(&actor, Action::ReadAlerts, county)?;
    let year = q.year.unwrap_or_else(|| p.clock.today().year());
    if !(2025..=2100).contains(&year) {
        return Err(ApiError::invalid(
            "年度须在 2025-2100 之间",
            "`year` must be 2025-2100",
        ));
    }
    let rows = register_of(&p, county, year).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(axum::Json(rows).into_response()),
        "xlsx" => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.kind.clone(),
                        r.basis.clone().unwrap_or_default(),
                        r.raised_on.clone(),
                        r.zh.clone(),
                        status_zh(r.status).to_owned(),
                        r.assignee.clone().unwrap_or_default(),
                        r.notes.to_string(),
                        r.closed_on.clone().unwrap_or_default(),
                        r.outcome.map(outcome_zh).unwrap_or_default().to_owned(),
                        r.finding.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let code = county.map_or_else(|| CITY_CODE.to_owned(), |c| c.code().to_string());
            let bytes =
                swi_tables::write::workbook(&[("内部监督台账", &REGISTER_HEADINGS, &cells)], 18.0)
                    .map_err(|e| ApiError::internal(&e))?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"register-{code}-{year}.xlsx\""),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        _ => Err(ApiError::invalid(
            "格式须为 json 或 xlsx",
            "`format` must be json or xlsx",
        )),
    }
}
