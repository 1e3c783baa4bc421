//! The parameters in force on a date, each with its status and source, every figure the city has
//! not confirmed marked (`GET /api/parameters`), for the agency officer and anyone signed in.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use swi_platform::params::Row;

use crate::Portal;
use crate::pages::{Chrome, Signed, error_page_for, html};

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
