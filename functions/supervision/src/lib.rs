//! The supervision step (监督管理, Art. 41-44, 48, 50) as an `axum::Router`: served by Lambda in
//! AWS (`src/main.rs`) and by `swi serve` locally, at the same paths (`/api/alerts`,
//! `/api/statistics`, `/api/audit`).
//!
//! - [`register`]: the internal supervision register — alerts assigned, investigated and closed
//!   with a finding, and the register of a year to sign (Art. 44);
//! - [`catalogue`]: the risk rules, each named and dated with its article and thresholds;
//!   [`watch`] runs them on every change the ledger records and nightly; the rules themselves
//!   in [`rules_registry`] (enrolment, Art. 42, 48), [`rules_claims`] (benefits, Art. 43),
//!   [`rules_accounts`] (payees' accounts) and [`rules_conduct`] (operations, Art. 44), reading
//!   other steps' records through [`views`];
//! - [`plan`]: the yearly supervision plan, its checks due and their results linked;
//! - [`stats`]: the statistics' counters, kept with every change; [`figures`] a year of them
//!   with the fund from the books, [`chart`] as SVG, [`routes_statistics`] with the prevention
//!   fund (Art. 41, 50);
//! - [`anchor`]: the audit ledger's daily anchors, chained and kept under lock;
//!   [`verify`] every case's chain checked against them (a command and a daily job, an alert for
//!   every break); [`trail`] any case's trail for the people who supervise.

pub mod anchor;
pub mod catalogue;
pub mod chart;
pub mod figures;
pub mod plan;
pub mod register;
pub mod routes_statistics;
pub mod rules_accounts;
pub mod rules_claims;
pub mod rules_conduct;
pub mod rules_registry;
pub mod stats;
pub mod trail;
pub mod verify;
pub mod views;
pub mod watch;

use axum::Router;
use swi_platform::Platform;
use swi_platform::api::Routes;
use utoipa_axum::routes;

/// The step's jobs (run by the jobs host).
#[must_use]
pub fn jobs() -> Vec<Box<dyn swi_platform::jobs::Job>> {
    vec![
        Box::new(watch::RiskWatch),
        Box::new(watch::RiskSweep),
        Box::new(stats::Statistics),
        Box::new(anchor::AuditAnchor),
        Box::new(verify::AuditVerify),
    ]
}

/// The step's routes with their OpenAPI operations.
#[must_use]
pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(register::list))
        .routes(routes!(register::register))
        .routes(routes!(catalogue::rules))
        .routes(routes!(plan::get, plan::put))
        .routes(routes!(plan::result))
        .routes(routes!(routes_statistics::statistics))
        .routes(routes!(routes_statistics::chart))
        .routes(routes!(routes_statistics::prevention))
        .routes(routes!(routes_statistics::record_use))
        .routes(routes!(register::get))
        .routes(routes!(register::assign))
        .routes(routes!(register::note))
        .routes(routes!(register::close))
        .routes(routes!(trail::status))
        .routes(routes!(trail::trail))
}

/// The step's router on `platform`, with the platform's own routes (its Lambda serves it).
pub fn router(platform: Platform) -> Router {
    swi_platform::api::app(platform, vec![routes()]).0
}
