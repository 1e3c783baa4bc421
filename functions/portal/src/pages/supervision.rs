//! The supervisor's pages (Art. 41-44, 50), over the supervision step's routes: the alerts of a
//! county by status, each alert with its evidence, the cases it links, its register, and the forms
//! that work it (take it or give it to someone, note the investigation, close it with a finding);
//! the year's register and its XLSX; the rules and their thresholds; any case's audit trail and
//! where the ledger's verification stands; the statistics with charts drawn on the server; the
//! yearly plan; the prevention fund.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{Value, json};
use swi_domain::Role;
use swi_domain::access::CITY_CODE;
use swi_platform::alerts::{Alert, AlertStatus, EntryKind, Outcome};
use swi_rules::ids::GANZHOU_COUNTIES;
use swi_supervision::catalogue::RuleView;
use swi_supervision::figures::{Month, Statistics};
use swi_supervision::plan::Plan;
use swi_supervision::register::RegisterRow;
use swi_supervision::routes_statistics::PreventionFund;
use swi_supervision::trail::{LedgerStatus, Trail};

use super::forms::fresh_key;
use super::{
    Chrome, Signed, attachment, clip, error_page_for, html, inline, not_found, segment, send,
    url_encode, words,
};
use crate::Portal;
use crate::session::Session;

/// A county to choose.
#[derive(Debug, Clone)]
pub struct Place {
    code: String,
    name: String,
    selected: bool,
}

/// The county a page shows: the one asked for if the signed-in person's jurisdiction reaches it,
/// else their own.
fn place_of(s: &Session, asked: Option<&str>) -> String {
    match asked {
        Some(c)
            if s.county == CITY_CODE
                && (c == CITY_CODE || GANZHOU_COUNTIES.iter().any(|(k, _)| k.to_string() == c)) =>
        {
            c.to_owned()
        }
        _ => s.county.clone(),
    }
}

fn places(selected: &str) -> Vec<Place> {
    let mut v = vec![Place {
        code: CITY_CODE.into(),
        name: words::county(CITY_CODE),
        selected: selected == CITY_CODE,
    }];
    v.extend(GANZHOU_COUNTIES.iter().map(|(k, n)| Place {
        code: k.to_string(),
        name: (*n).to_owned(),
        selected: k.to_string() == selected,
    }));
    v
}

fn status_name(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Open => "待分派",
        AlertStatus::Assigned => "核查中",
        AlertStatus::Closed => "已办结",
    }
}

/// Where a case of an alert is seen in the portal: its own page where there is one, its audit
/// trail otherwise.
fn case_href(case: &str) -> String {
    match case.split_once('#') {
        Some(("claim", id)) => format!("/claims/{}", segment(id)),
        Some(("volume", id)) => format!("/archive/volumes/{}", segment(id)),
        Some(("declaration", id)) => format!("/declarations/{}", segment(id)),
        Some(("payline", id)) => format!("/payments/lines/{}", segment(id)),
        _ => format!("/audit?case={}", url_encode(case)),
    }
}

/// One alert in a list.
#[derive(Debug, Clone)]
pub struct AlertRow {
    href: String,
    raised_at: String,
    kind: String,
    basis: String,
    subject: String,
    what: String,
    assignee: String,
}

impl From<&Alert> for AlertRow {
    fn from(a: &Alert) -> Self {
        AlertRow {
            href: format!("/alerts/{}", segment(&a.id)),
            raised_at: a.raised_at.format("%Y-%m-%d %H:%M").to_string(),
            kind: a.kind.clone(),
            basis: a.basis.clone().unwrap_or_default(),
            subject: a.subject.clone(),
            what: a.zh.clone(),
            assignee: a.assignee_name.clone().unwrap_or_default(),
        }
    }
}

/// The alerts page.
#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    chrome: Chrome,
    place: String,
    places: Vec<Place>,
    city_level: bool,
    status: String,
    status_name: &'static str,
    rows: Vec<AlertRow>,
}

/// `?county=&status=&year=`.
#[derive(Debug, Deserialize)]
pub struct PlaceQuery {
    #[serde(default)]
    county: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    done: Option<String>,
}

/// `GET /alerts`: a county's alerts of one status, each linked to its page.
pub async fn alerts(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let place = place_of(&s, q.county.as_deref());
    let status = match q.status.as_deref() {
        Some("assigned") => AlertStatus::Assigned,
        Some("closed") => AlertStatus::Closed,
        _ => AlertStatus::Open,
    };
    let list: Vec<Alert> = match portal
        .get(
            &s,
            &format!(
                "/api/alerts?county={}&status={}",
                url_encode(&place),
                status.key()
            ),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &AlertsPage {
            chrome: Chrome::of(&s),
            place: words::county(&place),
            places: places(&place),
            city_level: s.county == CITY_CODE,
            status: status.key().to_owned(),
            status_name: status_name(status),
            rows: list.iter().map(AlertRow::from).collect(),
        },
    )
}

/// A line of an alert's register as shown.
#[derive(Debug, Clone)]
pub struct EntryRow {
    at: String,
    what: &'static str,
    name: String,
    text: String,
}

/// The alert page.
#[derive(Template)]
#[template(path = "alert.html")]
pub struct AlertPage {
    chrome: Chrome,
    id: String,
    alert: Alert,
    status_name: &'static str,
    raised_at: String,
    evidence: Vec<(String, String)>,
    links: Vec<(String, String)>,
    entries: Vec<EntryRow>,
    finding: Option<(String, String, String)>,
    worker: bool,
    mine: bool,
    message: Option<&'static str>,
    csrf: String,
    idem: String,
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => out.push((
            prefix.to_owned(),
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("、"),
        )),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{}]", i + 1), x, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// `GET /alerts/{id}`: an alert, its evidence, the cases it links, its register, and for its
/// supervisors the forms that work it.
pub async fn alert(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let alert: Alert = match portal
        .get(&s, &format!("/api/alerts/{}", segment(&id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(a) => a,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let mut evidence = Vec::new();
    flatten("", &alert.evidence, &mut evidence);
    evidence.truncate(60);
    let entries = alert
        .record
        .iter()
        .map(|e| EntryRow {
            at: e.at.format("%Y-%m-%d %H:%M").to_string(),
            what: match e.kind {
                EntryKind::Assigned => "分派",
                EntryKind::Note => "核查记录",
                EntryKind::Closed => "办结",
            },
            name: e.name.clone(),
            text: e.text.clone(),
        })
        .collect();
    let finding = alert.finding.as_ref().map(|f| {
        (
            match f.outcome {
                Outcome::Confirmed => "情况属实".to_owned(),
                Outcome::Unfounded => "经核查无异常".to_owned(),
            },
            f.text.clone(),
            f.measures.clone().unwrap_or_default(),
        )
    });
    html(
        StatusCode::OK,
        &AlertPage {
            chrome: Chrome::of(&s),
            id: segment(&alert.id),
            status_name: status_name(alert.status),
            raised_at: alert.raised_at.format("%Y-%m-%d %H:%M").to_string(),
            evidence,
            links: alert
                .links
                .iter()
                .map(|c| (case_href(c), c.clone()))
                .collect(),
            entries,
            finding,
            worker: s.role == Role::Supervisor && alert.status != AlertStatus::Closed,
            mine: alert.assignee.as_deref() == Some(s.sub.as_str())
                && alert.status == AlertStatus::Assigned,
            message: match q.done.as_deref() {
                Some("assign") => Some("已分派。"),
                Some("note") => Some("核查记录已保存。"),
                Some("close") => Some("已办结。"),
                _ => None,
            },
            csrf: s.csrf.clone(),
            idem: fresh_key(),
            alert,
        },
    )
}

/// The forms of an alert.
#[derive(Debug, Deserialize)]
pub struct AlertForm {
    csrf: String,
    idem: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    assignee_name: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    measures: String,
}

/// `POST /alerts/{id}/act/{action}`: assign (to oneself, or to someone named), note, close.
pub async fn act(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<AlertForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let base = format!("/api/alerts/{}", segment(&id));
    let text = clip(&f.text, 600);
    let (path, body) = match action.as_str() {
        "assign" => (
            format!("{base}/assign"),
            if f.assignee.trim().is_empty() {
                json!({ "note": (!text.trim().is_empty()).then_some(text) })
            } else {
                json!({ "assignee": clip(f.assignee.trim(), 130), "assignee_name": clip(f.assignee_name.trim(), 60),
                    "note": (!text.trim().is_empty()).then_some(text) })
            },
        ),
        "note" => (format!("{base}/notes"), json!({ "text": text })),
        "close" => (
            format!("{base}/close"),
            json!({ "outcome": clip(&f.outcome, 20), "finding": text,
                "measures": (!f.measures.trim().is_empty()).then(|| clip(&f.measures, 600)) }),
        ),
        _ => return not_found(),
    };
    let next = format!("/alerts/{}?done={action}", segment(&id));
    send(&portal, &s, Method::POST, &path, &body, &f.idem, next).await
}

/// The register page.
#[derive(Template)]
#[template(path = "alert_register.html")]
pub struct RegisterPage {
    chrome: Chrome,
    place: String,
    code: String,
    places: Vec<Place>,
    city_level: bool,
    year: i32,
    rows: Vec<(String, RegisterRow, &'static str, &'static str)>,
}

/// `GET /alerts/register`: the year's internal supervision register (台账), with its XLSX.
pub async fn register(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let place = place_of(&s, q.county.as_deref());
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    let rows: Vec<RegisterRow> = match portal
        .get(
            &s,
            &format!(
                "/api/alerts/register?county={}&year={year}",
                url_encode(&place)
            ),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(r) => r,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &RegisterPage {
            chrome: Chrome::of(&s),
            place: words::county(&place),
            code: place.clone(),
            places: places(&place),
            city_level: s.county == CITY_CODE,
            year,
            rows: rows
                .into_iter()
                .map(|r| {
                    (
                        format!("/alerts/{}", segment(&r.id)),
                        r.clone(),
                        status_name(r.status),
                        match r.outcome {
                            Some(Outcome::Confirmed) => "情况属实",
                            Some(Outcome::Unfounded) => "经核查无异常",
                            None => "",
                        },
                    )
                })
                .collect(),
        },
    )
}

/// `GET /alerts/register.xlsx`.
pub async fn register_xlsx(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let place = place_of(&s, q.county.as_deref());
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    attachment(
        &portal,
        &s,
        &format!(
            "/api/alerts/register?county={}&year={year}&format=xlsx",
            url_encode(&place)
        ),
        &format!("register-{place}-{year}.xlsx"),
    )
    .await
}

/// The rules page.
#[derive(Template)]
#[template(path = "alert_rules.html")]
pub struct RulesPage {
    chrome: Chrome,
    rules: Vec<RuleView>,
}

/// `GET /alerts/rules`: the risk rules with their articles and thresholds in force.
pub async fn rules(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    match portal
        .get(&s, "/api/alerts/rules")
        .await
        .and_then(|a| a.into())
    {
        Ok(rules) => html(
            StatusCode::OK,
            &RulesPage {
                chrome: Chrome::of(&s),
                rules,
            },
        ),
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// `?case=`.
#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    case: Option<String>,
}

/// The audit page.
#[derive(Template)]
#[template(path = "audit_trail.html")]
pub struct AuditPage {
    chrome: Chrome,
    case: String,
    trail: Option<Trail>,
    ledger: Option<LedgerStatus>,
    href: String,
}

/// `GET /audit?case=`: a case's audit trail with its chain checked, and where the ledger's
/// anchors and verification stand.
pub async fn audit(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<CaseQuery>,
) -> Response {
    let case = q.case.unwrap_or_default().trim().to_owned();
    let trail = if case.is_empty() {
        None
    } else {
        match portal
            .get(&s, &format!("/api/audit/{}", segment(&case)))
            .await
            .and_then(|a| a.into())
        {
            Ok(t) => Some(t),
            Err(e) => return error_page_for(Some(&s), &e),
        }
    };
    let ledger = if s.county == CITY_CODE {
        portal
            .get(&s, "/api/audit/verification")
            .await
            .and_then(|a| a.into())
            .ok()
    } else {
        None
    };
    html(
        StatusCode::OK,
        &AuditPage {
            chrome: Chrome::of(&s),
            href: case_href(&case),
            case,
            trail,
            ledger,
        },
    )
}

/// The statistics page.
#[derive(Template)]
#[template(path = "statistics.html")]
pub struct StatisticsPage {
    chrome: Chrome,
    place: String,
    code: String,
    places: Vec<Place>,
    city_level: bool,
    year: i32,
    months: Vec<Month>,
    total: Month,
    breakdowns: Vec<(&'static str, Vec<Group>)>,
    steps: Vec<(String, String)>,
    charts: Vec<(&'static str, &'static str)>,
}

/// One group of a breakdown: its key and its figures by name.
type Group = (String, Vec<(String, String)>);

fn table(b: &[swi_supervision::figures::Breakdown]) -> Vec<Group> {
    b.iter()
        .map(|x| {
            (
                x.key.clone(),
                x.figures
                    .iter()
                    .map(|(k, v)| (metric_name(k), v.to_string()))
                    .collect(),
            )
        })
        .collect()
}

fn metric_name(k: &str) -> String {
    match k {
        "covered" => "参保人数",
        "units" => "参保单位",
        "premium_billed" => "应缴保费",
        "premium_paid" => "实缴保费",
        "claims_submitted" => "申领件数",
        "claims_approved" => "核准件数",
        "claims_rejected" => "不予支付",
        "benefits_approved" => "核定待遇",
        "beneficiaries" => "定期待遇人数",
        other => other,
    }
    .to_owned()
}

/// A review step's name (a claim status's).
fn step_name(k: &str) -> String {
    serde_json::from_value::<swi_domain::claim::ClaimStatus>(Value::String(k.to_owned()))
        .map_or_else(|_| k.to_owned(), |s| words::status(s).to_owned())
}

/// `GET /statistics`: a county's (or the city's) year month by month, its breakdowns, the claims
/// at each step, and charts of the main figures.
pub async fn statistics(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let place = place_of(&s, q.county.as_deref());
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    let st: Statistics = match portal
        .get(
            &s,
            &format!("/api/statistics/{}?year={year}", segment(&place)),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(x) => x,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &StatisticsPage {
            chrome: Chrome::of(&s),
            place: words::county(&place),
            code: place.clone(),
            places: places(&place),
            city_level: s.county == CITY_CODE,
            year,
            breakdowns: vec![
                ("按人员类别", table(&st.by_category)),
                ("按行业类别", table(&st.by_class)),
                ("按待遇项目", table(&st.by_item)),
            ],
            steps: st
                .claims_by_step
                .iter()
                .map(|(k, v)| (step_name(k), v.to_string()))
                .collect(),
            charts: swi_supervision::chart::METRICS
                .iter()
                .map(|m| (m.id, m.zh))
                .collect(),
            total: st.year_total,
            months: st.months,
        },
    )
}

/// `GET /statistics/charts/{county}/{metric}`: a chart, drawn by the API.
pub async fn chart(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((county, metric)): Path<(String, String)>,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    inline(
        &portal,
        &s,
        &format!(
            "/api/statistics/{}/charts/{}?year={year}",
            segment(&county),
            segment(&metric)
        ),
    )
    .await
}

/// `GET /statistics.xlsx`.
pub async fn statistics_xlsx(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let place = place_of(&s, q.county.as_deref());
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    attachment(
        &portal,
        &s,
        &format!(
            "/api/statistics/{}?year={year}&format=xlsx",
            segment(&place)
        ),
        &format!("statistics-{place}-{year}.xlsx"),
    )
    .await
}

/// A planned check as shown.
#[derive(Debug, Clone)]
pub struct CheckRow {
    n: usize,
    title: String,
    area: &'static str,
    rules: String,
    due: String,
    result: Option<swi_supervision::plan::CheckResult>,
}

fn area_name(a: swi_supervision::plan::Area) -> &'static str {
    use swi_supervision::plan::Area;
    match a {
        Area::Enrolment => "参保监督",
        Area::Benefits => "待遇监督",
        Area::Internal => "内部监督",
    }
}

/// The plan page.
#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanPage {
    chrome: Chrome,
    place: String,
    code: String,
    year: i32,
    plan: Option<Plan>,
    rows: Vec<CheckRow>,
    keeper: bool,
    areas: [(&'static str, &'static str); 3],
    blank: Vec<usize>,
    csrf: String,
    idem: String,
}

/// `GET /plans`: the year's supervision plan, its checks and results; for its supervisors, the
/// forms recording the plan and each check's result.
pub async fn plan(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let place = place_of(&s, q.county.as_deref());
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    let answer = match portal
        .get(&s, &format!("/api/alerts/plans/{}/{year}", segment(&place)))
        .await
    {
        Ok(a) => a,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let plan: Option<Plan> = if answer.status == StatusCode::NOT_FOUND {
        None
    } else {
        match answer.into() {
            Ok(p) => Some(p),
            Err(e) => return error_page_for(Some(&s), &e),
        }
    };
    let rows = plan
        .iter()
        .flat_map(|p| p.checks.iter())
        .map(|c| CheckRow {
            n: c.n,
            title: c.title.clone(),
            area: area_name(c.area),
            rules: c
                .rules
                .iter()
                .map(|r| r.id())
                .collect::<Vec<_>>()
                .join("、"),
            due: c.due.to_string(),
            result: c.result.clone(),
        })
        .collect();
    html(
        StatusCode::OK,
        &PlanPage {
            chrome: Chrome::of(&s),
            place: words::county(&place),
            code: place.clone(),
            year,
            plan,
            rows,
            keeper: s.role == Role::Supervisor,
            areas: [
                ("enrolment", "参保监督"),
                ("benefits", "待遇监督"),
                ("internal", "内部监督"),
            ],
            blank: (1..=6).collect(),
            csrf: s.csrf.clone(),
            idem: fresh_key(),
        },
    )
}

/// The plan's form: aims and up to six checks (`title_1`, `area_1`, `due_1`, `rules_1`, …).
#[derive(Debug, Deserialize)]
pub struct PlanForm {
    csrf: String,
    idem: String,
    county: String,
    year: i32,
    #[serde(default)]
    aims: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// `POST /plans`: records the year's plan.
pub async fn record_plan(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<PlanForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let mut checks = Vec::new();
    for n in 1..=6 {
        let field = |k: &str| f.rest.get(&format!("{k}_{n}")).cloned().unwrap_or_default();
        let title = field("title");
        if title.trim().is_empty() {
            continue;
        }
        let rules: Vec<String> = field("rules")
            .split([',', '，', ' '])
            .filter(|r| !r.is_empty())
            .map(|r| clip(r, 40))
            .collect();
        checks.push(
            json!({ "title": clip(&title, 600), "area": clip(&field("area"), 20),
            "rules": rules, "due": clip(&field("due"), 10) }),
        );
    }
    let place = place_of(&s, Some(&f.county));
    let body = json!({ "aims": clip(&f.aims, 600), "checks": checks });
    let next = format!("/plans?county={}&year={}", url_encode(&place), f.year);
    send(
        &portal,
        &s,
        Method::PUT,
        &format!("/api/alerts/plans/{}/{}", segment(&place), f.year),
        &body,
        &f.idem,
        next,
    )
    .await
}

/// A check's result form.
#[derive(Debug, Deserialize)]
pub struct ResultForm {
    csrf: String,
    idem: String,
    county: String,
    year: i32,
    finding: String,
}

/// `POST /plans/checks/{n}`: records a check as done.
pub async fn check_result(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(n): Path<usize>,
    Form(f): Form<ResultForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let place = place_of(&s, Some(&f.county));
    let next = format!("/plans?county={}&year={}", url_encode(&place), f.year);
    send(
        &portal,
        &s,
        Method::POST,
        &format!(
            "/api/alerts/plans/{}/{}/checks/{n}/result",
            segment(&place),
            f.year
        ),
        &json!({ "finding": clip(&f.finding, 600) }),
        &f.idem,
        next,
    )
    .await
}

/// The prevention fund page.
#[derive(Template)]
#[template(path = "prevention.html")]
pub struct PreventionPage {
    chrome: Chrome,
    year: i32,
    fund: Option<PreventionFund>,
    refused: Option<String>,
    recorder: bool,
    csrf: String,
    idem: String,
}

/// `GET /prevention?year=`: the year's prevention fund and its uses; for the city's agency
/// officers, the form recording a use.
pub async fn prevention(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<PlaceQuery>,
) -> Response {
    let year = q
        .year
        .unwrap_or_else(|| portal.platform.clock.today().year());
    let (fund, refused) = match portal
        .get(&s, &format!("/api/statistics/prevention/{year}"))
        .await
    {
        Ok(a) if a.ok() => match a.into() {
            Ok(f) => (Some(f), None),
            Err(e) => return error_page_for(Some(&s), &e),
        },
        Ok(a) if a.status == StatusCode::UNPROCESSABLE_ENTITY => (None, Some(a.refusal().zh)),
        Ok(a) => return error_page_for(Some(&s), &a.refusal()),
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &PreventionPage {
            chrome: Chrome::of(&s),
            year,
            fund,
            refused,
            recorder: s.role == Role::AgencyOfficer && s.county == CITY_CODE,
            csrf: s.csrf.clone(),
            idem: fresh_key(),
        },
    )
}

/// A use's form.
#[derive(Debug, Deserialize)]
pub struct UseForm {
    csrf: String,
    idem: String,
    year: i32,
    on: String,
    project: String,
    amount: String,
    approval: String,
}

/// `POST /prevention/uses`.
pub async fn record_use(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<UseForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    send(
        &portal,
        &s,
        Method::POST,
        &format!("/api/statistics/prevention/{}/uses", f.year),
        &json!({ "on": clip(&f.on, 10), "project": clip(&f.project, 600),
            "amount": clip(&f.amount, 20), "approval": clip(&f.approval, 60) }),
        &f.idem,
        format!("/prevention?year={}", f.year),
    )
    .await
}
