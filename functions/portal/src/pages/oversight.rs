//! The pages of oversight: the parameters in force on a date, each with its status and
//! source, every figure the city has not confirmed marked (`GET /api/parameters`), for the
//! agency officer and anyone signed in; and the risk alerts of a county or the city, for the
//! supervisor and the agency officer (`GET /api/alerts`), read-only.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use swi_platform::alerts::Alert;
use swi_platform::params::Row;
use swi_rules::ids::GANZHOU_COUNTIES;

use crate::Portal;
use crate::pages::{Chrome, Signed, error_page_for, html, url_encode, words};

/// One parameter as shown.
#[derive(Debug, Clone)]
pub struct ParamRow {
    name: String,
    title: String,
    value: String,
    from: String,
    status: &'static str,
    unconfirmed: bool,
    source: String,
}

/// The parameters page.
#[derive(Template)]
#[template(path = "parameters.html")]
pub struct ParametersPage {
    chrome: Chrome,
    on: String,
    rows: Vec<ParamRow>,
    unconfirmed: usize,
}

/// `?on=`.
#[derive(Debug, Deserialize)]
pub struct On {
    #[serde(default)]
    on: Option<String>,
}

fn status_name(s: &str) -> &'static str {
    match s {
        "confirmed" => "已确认",
        "secondary" => "二手来源，待核实",
        "assumed" => "暂定，待市里确认",
        "pending" => "待市里设定",
        "not_in_force" => "该日不在施行期",
        "not_loaded" => "未载入",
        _ => "其他",
    }
}

/// `GET /parameters?on=`.
pub async fn parameters(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<On>,
) -> Response {
    let on =
        q.on.as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or_else(|| portal.platform.clock.today());
    let rows: Vec<Row> = match portal
        .get(&s, &format!("/api/parameters?on={on}"))
        .await
        .and_then(|a| a.into())
    {
        Ok(r) => r,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let rows: Vec<ParamRow> = rows
        .into_iter()
        .map(|r| ParamRow {
            unconfirmed: r.status != "confirmed",
            status: status_name(&r.status),
            name: r.name,
            title: r.title,
            value: r.value,
            from: r.from,
            source: r.source,
        })
        .collect();
    html(
        StatusCode::OK,
        &ParametersPage {
            chrome: Chrome::of(&s),
            on: on.to_string(),
            unconfirmed: rows.iter().filter(|r| r.unconfirmed).count(),
            rows,
        },
    )
}

/// One alert as shown.
#[derive(Debug, Clone)]
pub struct AlertRow {
    raised_at: String,
    kind: String,
    subject: String,
    what: String,
    raised_by: String,
    assignee: String,
}

/// A county to choose.
#[derive(Debug, Clone)]
pub struct Place {
    code: String,
    name: String,
    selected: bool,
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

/// `?county=&status=`.
#[derive(Debug, Deserialize)]
pub struct AlertsQuery {
    #[serde(default)]
    county: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// `GET /alerts`.
pub async fn alerts(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<AlertsQuery>,
) -> Response {
    let city_level = s.county == swi_domain::access::CITY_CODE;
    let place = match q.county {
        Some(c)
            if city_level
                && (c == swi_domain::access::CITY_CODE
                    || GANZHOU_COUNTIES.iter().any(|(k, _)| k.to_string() == c)) =>
        {
            c
        }
        _ => s.county.clone(),
    };
    let status = match q.status.as_deref() {
        Some(st @ ("open" | "assigned" | "closed")) => st.to_owned(),
        _ => "open".to_owned(),
    };
    let list: Vec<Alert> = match portal
        .get(
            &s,
            &format!(
                "/api/alerts?county={}&status={}",
                url_encode(&place),
                url_encode(&status)
            ),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let mut places = vec![Place {
        code: swi_domain::access::CITY_CODE.into(),
        name: words::county(swi_domain::access::CITY_CODE),
        selected: place == swi_domain::access::CITY_CODE,
    }];
    places.extend(GANZHOU_COUNTIES.iter().map(|(k, n)| Place {
        code: k.to_string(),
        name: (*n).to_owned(),
        selected: k.to_string() == place,
    }));
    html(
        StatusCode::OK,
        &AlertsPage {
            chrome: Chrome::of(&s),
            place: words::county(&place),
            places,
            city_level,
            status_name: match status.as_str() {
                "assigned" => "处理中",
                "closed" => "已办结",
                _ => "待处理",
            },
            status,
            rows: list
                .into_iter()
                .map(|a| AlertRow {
                    raised_at: a.raised_at.format("%Y-%m-%d %H:%M").to_string(),
                    kind: a.kind,
                    subject: a.subject,
                    what: a.zh,
                    raised_by: a.raised_by,
                    assignee: a.assignee.unwrap_or_else(|| "—".into()),
                })
                .collect(),
        },
    )
}
