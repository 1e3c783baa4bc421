//! The premium-billing step (保费核定与征缴, Art. 8, 13-22) as an `axum::Router`: served by
//! Lambda in AWS (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! - [`run`]: the monthly run — one bill per unit and per self-payer for a month, resumable,
//!   written once (`swi run billing --month YYYY-MM`; the `billing-open` schedule opens the
//!   current month);
//! - [`routes_runs`]: opening a month and following its run;
//! - [`routes_bills`]: the bills and their lines, for the payer and the clerks over it; the
//!   arrears (Art. 21, [`arrears`]); billed, paid and owed per month by category and
//!   industry class ([`report`]);
//! - [`rates`], [`routes_rates`]: the yearly re-rating with each unit's rate notice, and a
//!   unit's re-check (Art. 13-15);
//! - [`rebase`]: unpaid bills billed anew when the year's average wage is recorded, paid months
//!   never (Art. 20); [`refunds`]: refunds only as Art. 22 allows, a negative line on the bill
//!   and a refund line for the payment step;
//! - [`exchange`], [`receipts`], [`routes_exchange`]: the tax bureau's exchange — a county's
//!   bills of a month exported for collection, its receipts imported whole or not at all, each
//!   paying its bill and starting the cover waiting for it (Art. 8, 16, 19).
//!
//! Bills themselves (their keys, lines, the first month billed at acceptance) are
//! `swi_bills`, which the enrollment step shares.

pub mod arrears;
pub mod exchange;
pub mod rates;
pub mod rebase;
pub mod receipts;
pub mod refunds;
pub mod report;
pub mod routes_bills;
pub mod routes_exchange;
pub mod routes_rates;
pub mod routes_runs;
pub mod run;

use axum::Router;
use swi_platform::Platform;
use swi_platform::api::Routes;
use utoipa_axum::routes;

/// The step's jobs, for the hosts that run them.
#[must_use]
pub fn jobs() -> Vec<Box<dyn swi_platform::jobs::Job>> {
    vec![
        Box::new(run::BillingRun),
        Box::new(run::BillingOpen),
        Box::new(receipts::ReceiptsApply),
        Box::new(rebase::BillingRebase),
        Box::new(rates::ReratingApply),
    ]
}

/// The step's routes, each with its OpenAPI operation.
#[must_use]
pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(routes_runs::open, routes_runs::list))
        .routes(routes!(routes_runs::get))
        .routes(routes!(routes_bills::county_month))
        .routes(routes!(routes_bills::get))
        .routes(routes!(routes_bills::lines))
        .routes(routes!(routes_bills::refund, routes_bills::refunds))
        .routes(routes!(routes_bills::of_unit))
        .routes(routes!(routes_bills::own))
        .routes(routes!(routes_bills::county_arrears))
        .routes(routes!(routes_bills::report))
        .routes(routes!(routes_bills::unit_arrears))
        .routes(routes!(routes_exchange::export))
        .routes(routes!(routes_exchange::files))
        .routes(routes!(routes_exchange::download))
        .routes(routes!(routes_exchange::import))
        .routes(routes!(routes_exchange::get_import))
        .routes(routes!(routes_rates::import))
        .routes(routes!(routes_rates::get_rerating))
        .routes(routes!(routes_rates::of_unit))
        .routes(routes!(routes_rates::notice_pdf))
        .routes(routes!(routes_rates::object, routes_rates::objections))
        .routes(routes!(routes_rates::decide))
}

/// The step's application alone (the platform's routes and the document included), as its
/// Lambda serves it and its tests call it.
pub fn router(platform: Platform) -> Router {
    swi_platform::api::app(platform, vec![routes()]).0
}
