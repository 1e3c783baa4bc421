//! The enrollment step (参保登记, Art. 6-12, 18) as an `axum::Router`: served by Lambda in AWS
//! (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! Today: units and their work-injury facts (Art. 7, 9-10).

pub mod units;
mod wire;

use axum::Router;
use axum::routing::{get, post};
use swi_platform::Platform;

/// The step's routes.
pub fn router(platform: Platform) -> Router {
    Router::new()
        .route("/api/work-injury/facts", post(units::record_facts))
        .route("/api/units", post(units::register))
        .route("/api/units/{code}", get(units::get).patch(units::change))
        .route("/api/units/{code}/cancel", post(units::cancel))
        .with_state(platform)
}
