//! The employer's unit: its record (name, county, industry class, floated band, status), who it
//! covers on a date (`GET /api/units/{code}/roster`), and what it must do (reminders, e.g. an
//! employee past the legal retirement age to move to over-age cover, Art. 8). The unit is the
//! session's own; clerks of its county open any unit by its code.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use swi_domain::Role;
use swi_domain::enrolment::Status;
use swi_enrollment::persons::read::RosterOnDate;
use swi_enrollment::retirement::Reminder;
use swi_registry::unit::{Unit, UnitStatus};

use crate::Portal;
use crate::pages::{Chrome, Signed, error_page_for, html, segment};

/// One member as shown.
#[derive(Debug, Clone)]
pub struct MemberRow {
    id: String,
    name: String,
    category: &'static str,
    status: &'static str,
    cover: String,
}

/// The unit page.
#[derive(Template)]
#[template(path = "unit.html")]
pub struct UnitPage {
    chrome: Chrome,
    code: String,
    name: String,
    county: String,
    industry_class: u32,
    rate_band: String,
    status: &'static str,
    registered_on: String,
    on: String,
    /// The unit's code, for a clerk's date form (an employer's unit is their session's).
    clerk_code: Option<String>,
    members: Vec<MemberRow>,
    reminders: Vec<String>,
    /// What the unit owes past its due days, and since when (Art. 21).
    arrears: Option<(String, String)>,
    /// Its rates today (employee, special person) and band.
    rates: Option<(String, String, String)>,
    /// Its rate notices: id, issued on, from, old band, new band.
    notices: Vec<(String, String, String, String, String)>,
}

/// `?on=&code=`.
#[derive(Debug, Deserialize)]
pub struct UnitQuery {
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::AwaitingMaterials => "待补材料",
        Status::AwaitingAcceptance => "待受理",
        Status::Returned => "已退回补正",
        Status::AwaitingPayment => "待缴费",
        Status::Covered => "保障中",
        Status::Terminated => "已终止",
    }
}

fn percent(r: rust_decimal::Decimal) -> String {
    format!("{}%", (r * rust_decimal::Decimal::from(100)).normalize())
}

/// `GET /rates/notices/{id}.pdf`: a rate notice, for its unit and the clerks over it.
pub async fn notice(
    State(portal): State<Portal>,
    Signed(s): Signed,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    use axum::response::IntoResponse;
    let id = segment(id.trim_end_matches(".pdf"));
    match portal.get(&s, &format!("/api/rates/notices/{id}")).await {
        Ok(a) if a.ok() => {
            let mut r = (StatusCode::OK, a.bytes).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/pdf"),
            );
            r
        }
        Ok(a) => error_page_for(Some(&s), &a.refusal()),
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// `GET /unit?on=` (an employer's own unit; a clerk names one with `code=`).
pub async fn unit(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<UnitQuery>,
) -> Response {
    let code = if s.role == Role::Employer {
        s.unit.clone().unwrap_or_default()
    } else {
        q.code.unwrap_or_default()
    };
    if code.is_empty() || code.len() > 18 {
        return crate::pages::not_found();
    }
    let on =
        q.on.as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or_else(|| portal.platform.clock.today());
    let code = segment(&code);
    let unit: Unit = match portal
        .get(&s, &format!("/api/units/{code}"))
        .await
        .and_then(|a| a.into())
    {
        Ok(u) => u,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let roster: RosterOnDate = match portal
        .get(&s, &format!("/api/units/{code}/roster?on={on}"))
        .await
        .and_then(|a| a.into())
    {
        Ok(r) => r,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let arrears: Option<swi_premium_billing::arrears::PayerArrears> = portal
        .get(&s, &format!("/api/units/{code}/bills/arrears"))
        .await
        .and_then(|a| a.into())
        .unwrap_or(None);
    let rates: Option<swi_premium_billing::routes_rates::UnitRates> = portal
        .get(&s, &format!("/api/rates/units/{code}"))
        .await
        .and_then(|a| a.into())
        .ok();
    let reminders: Vec<Reminder> = portal
        .get(&s, &format!("/api/units/{code}/reminders"))
        .await
        .and_then(|a| a.into())
        .unwrap_or_default();
    html(
        StatusCode::OK,
        &UnitPage {
            chrome: Chrome::of(&s),
            code: unit.code.clone(),
            name: unit.name.clone(),
            county: unit.county.name().to_owned(),
            industry_class: unit.industry_class,
            rate_band: unit.rate_band.to_string(),
            status: match unit.status {
                UnitStatus::Active => "正常参保",
                UnitStatus::Cancelled => "已注销",
            },
            registered_on: unit.registered_on.to_string(),
            on: on.to_string(),
            clerk_code: (s.role != Role::Employer).then(|| unit.code.clone()),
            members: roster
                .covered
                .iter()
                .map(|m| MemberRow {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    category: m.category.chinese(),
                    status: status_name(m.status),
                    cover: format!(
                        "{} 至 {}",
                        m.cover_start.map_or_else(|| "—".into(), |d| d.to_string()),
                        m.cover_end.map_or_else(|| "今".into(), |d| d.to_string())
                    ),
                })
                .collect(),
            reminders: reminders.into_iter().map(|r| r.zh).collect(),
            arrears: arrears.map(|a| (a.since.format("%Y-%m").to_string(), a.amount.to_string())),
            notices: rates
                .as_ref()
                .map(|r| {
                    r.notices
                        .iter()
                        .map(|n| {
                            (
                                n.id.clone(),
                                n.issued_on.to_string(),
                                n.effective_from.to_string(),
                                percent(n.old.band),
                                percent(n.new.band),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            rates: rates.map(|r| {
                (
                    percent(r.now.employee),
                    percent(r.now.special),
                    percent(r.now.band),
                )
            }),
        },
    )
}
