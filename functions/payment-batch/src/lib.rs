//! The payment step (待遇支付, Art. 35-41) as an `axum::Router`: served by Lambda in AWS
//! (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! - [`accounts`]: payees' accounts, valid and held by the payee (Art. 35, 37);
//! - [`model`]: payment lines, the queue, batches and their parts per bank;
//! - [`runs`]: the daily run (lump sums within 10 working days, refunds, re-issues; Art. 38)
//!   and the month's periodic run over the [`payroll`] (Art. 37);

pub mod accounts;
pub mod alerting;
pub mod annual;
pub mod bank_files;
pub mod books;
pub mod cycle;
pub mod cycle_jobs;
pub mod model;
pub mod payroll;
pub mod reconcile;
pub mod request_docs;
pub mod returns;
pub mod routes_accounts;
pub mod routes_books;
pub mod routes_cycles;
pub mod routes_payments;
pub mod runs;

use axum::Router;
use swi_platform::Platform;
use swi_platform::api::Routes;
use utoipa_axum::routes;

/// The step's jobs, for the hosts that run them.
#[must_use]
pub fn jobs() -> Vec<Box<dyn swi_platform::jobs::Job>> {
    vec![
        Box::new(runs::PaymentRuns),
        Box::new(runs::PaymentBatch),
        Box::new(returns::PaymentReturns),
        Box::new(cycle_jobs::CycleSummary),
        Box::new(cycle_jobs::CycleRequest),
        Box::new(cycle_jobs::CycleTransfer),
        Box::new(cycle_jobs::CyclePeriodic),
    ]
}

/// The step's routes, each with its OpenAPI operation.
#[must_use]
pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(routes_accounts::record))
        .routes(routes!(routes_accounts::own))
        .routes(routes!(routes_accounts::of_line))
        .routes(routes!(routes_payments::open_run))
        .routes(routes!(routes_payments::batches))
        .routes(routes!(routes_payments::batch))
        .routes(routes!(routes_payments::make_file))
        .routes(routes!(routes_payments::download_file))
        .routes(routes!(routes_payments::record_return))
        .routes(routes!(routes_payments::get_return))
        .routes(routes!(routes_payments::due))
        .routes(routes!(routes_payments::own))
        .routes(routes!(routes_payments::line))
        .routes(routes!(routes_payments::change_schedule))
        .routes(routes!(routes_books::books))
        .routes(routes!(
            routes_books::reconcile,
            routes_books::reconciliations
        ))
        .routes(routes!(routes_books::annual_report))
        .routes(routes!(routes_books::file_annual))
        .routes(routes!(routes_cycles::open, routes_cycles::cycles))
        .routes(routes!(routes_cycles::cycle))
        .routes(routes!(routes_cycles::step))
        .routes(routes!(routes_cycles::request_doc))
}

/// The step's application alone (the platform's routes and the document included), as its
/// Lambda serves it and its tests call it.
pub fn router(platform: Platform) -> Router {
    swi_platform::api::app(platform, vec![routes()]).0
}
