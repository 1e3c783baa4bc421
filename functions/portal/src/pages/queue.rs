//! The clerk's queues: their county's claims at their step, oldest first, with the due date and
//! how long each has waited (`GET /api/counties/{county}/claims`). A city-level clerk picks the
//! county; a supervisor reads every step.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use swi_claim_review::read::QueuePage;
use swi_domain::Role;
use swi_domain::claim::ClaimStatus;
use swi_rules::ids::GANZHOU_COUNTIES;

use crate::Portal;
use crate::pages::Signed;
use crate::pages::{Chrome, Link, error_page_for, html, url_encode, words};

/// One claim in the queue.
#[derive(Debug, Clone)]
pub struct Row {
    id: String,
    name: String,
    items: String,
    submitted: String,
    age_days: i64,
    due: Option<String>,
    late: bool,
}

/// A county to choose.
#[derive(Debug, Clone)]
pub struct CountyChoice {
    code: String,
    name: String,
    selected: bool,
}

/// The queue page.
#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueueView {
    chrome: Chrome,
    county_name: String,
    status_name: &'static str,
    tabs: Vec<(Link, bool)>,
    counties: Vec<CountyChoice>,
    city_level: bool,
    status: &'static str,
    rows: Vec<Row>,
    next: Option<String>,
    /// The county's declarations waiting for the window's review (Art. 18).
    declarations: Vec<crate::pages::declarations::DeclarationLine>,
    /// The county's enrolments waiting for the window's acceptance (Art. 34).
    enrolments: Vec<crate::pages::window::WaitingLine>,
}

/// `?status=&county=&cursor=`.
#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    county: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// The steps a role works, first its own.
#[must_use]
pub fn steps_of(role: Role) -> Vec<ClaimStatus> {
    match role {
        Role::Acceptor => vec![ClaimStatus::Submitted, ClaimStatus::Returned],
        Role::Handler => vec![ClaimStatus::Handling],
        Role::FirstReviewer => vec![ClaimStatus::FirstReview, ClaimStatus::Entry],
        Role::ReReviewer => vec![ClaimStatus::ReReview],
        Role::Supervisor => ClaimStatus::ALL.to_vec(),
        _ => Vec::new(),
    }
}

/// `GET /work`.
pub async fn queue(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<QueueQuery>,
) -> Response {
    let steps = steps_of(s.role);
    let Some(&first) = steps.first() else {
        return error_page_for(
            Some(&s),
            &swi_platform::ApiError::from(swi_domain::Denied::Role {
                role: s.role,
                action: swi_domain::Action::Read,
            }),
        );
    };
    let status = q
        .status
        .as_deref()
        .and_then(|w| steps.iter().find(|st| st.as_str() == w).copied())
        .unwrap_or(first);
    let city_level = s.county == swi_domain::access::CITY_CODE;
    let county = if city_level {
        q.county
            .filter(|c| GANZHOU_COUNTIES.iter().any(|(k, _)| k.to_string() == *c))
            .unwrap_or_else(|| GANZHOU_COUNTIES[0].0.to_string())
    } else {
        s.county.clone()
    };
    let mut path = format!(
        "/api/counties/{county}/claims?status={}&limit=50",
        status.as_str()
    );
    if let Some(c) = q.cursor.as_deref().filter(|c| c.len() <= 1024) {
        path.push_str(&format!("&cursor={}", url_encode(c)));
    }
    let page: QueuePage = match portal.get(&s, &path).await.and_then(|a| a.into()) {
        Ok(p) => p,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let today = portal.platform.clock.today();
    let rows = page
        .claims
        .iter()
        .map(|c| Row {
            id: c.id.clone(),
            name: c.name.clone(),
            items: c
                .items
                .iter()
                .map(|i| i.chinese())
                .collect::<Vec<_>>()
                .join("、"),
            submitted: c.submitted_at.format("%Y-%m-%d %H:%M").to_string(),
            age_days: c.age_days,
            due: c.due.map(|d| d.to_string()),
            late: c.due.is_some_and(|d| d < today),
        })
        .collect();
    let county_q = if city_level {
        format!("&county={county}")
    } else {
        String::new()
    };
    let tabs = steps
        .iter()
        .map(|st| {
            (
                Link {
                    href: format!("/work?status={}{county_q}", st.as_str()),
                    label: words::status(*st).into(),
                },
                *st == status,
            )
        })
        .collect();
    let next = page.next.map(|n| {
        format!(
            "/work?status={}{county_q}&cursor={}",
            status.as_str(),
            url_encode(&n)
        )
    });
    html(
        StatusCode::OK,
        &QueueView {
            chrome: Chrome::of(&s),
            county_name: words::county(&county),
            status_name: words::status(status),
            tabs,
            counties: GANZHOU_COUNTIES
                .iter()
                .map(|(k, n)| CountyChoice {
                    code: k.to_string(),
                    name: (*n).to_owned(),
                    selected: k.to_string() == county,
                })
                .collect(),
            city_level,
            status: status.as_str(),
            rows,
            next,
            declarations: crate::pages::declarations::queue_of(&portal, &s).await,
            enrolments: crate::pages::window::waiting(&portal, &s).await,
        },
    )
}
