//! The claim-review step (待遇审核, Art. 5, 23-35, 48) as an `axum::Router`: served by Lambda in
//! AWS (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! - [`injuries`]: the injury a claim rests on — recognition, paid leave, appraisal, death, each
//!   with its scan — for a person covered on its day, with the insured wage (Art. 48) and a
//!   dossier of materials every claim of the injury reuses (Art. 33);
//! - [`submit`]: claims by the unit, the person or a close relative (Art. 25-32);
//! - [`window`], [`review`], [`approve`]: the four steps by four people (Art. 5, 34) — accept or
//!   return with a one-time notice; confirm eligibility; first review with every fee line judged
//!   and every item assessed through the rules ([`assess`]); re-review; entry and approval with
//!   the official forms ([`forms`]), payable lines and schedules (`swi_payables`), and the end of
//!   cover where Art. 31 says so;
//! - [`read`]: the claimant follows the claim, clerks work their county's queues.
//!
//! [`claim`], [`injury`] and [`facts`] are the records; [`work`] is the one way a step changes a
//! claim.

pub mod approve;
pub mod assess;
pub mod claim;
pub mod facts;
pub mod forms;
pub mod injuries;
pub mod injury;
pub mod read;
pub mod review;
pub mod submit;
pub mod window;
pub mod work;

use axum::Router;
use swi_platform::Platform;
use swi_platform::api::Routes;
use utoipa_axum::routes;

/// The step's routes, each with its OpenAPI operation.
#[must_use]
pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(injuries::record, injuries::mine))
        .routes(routes!(injuries::get))
        .routes(routes!(injuries::paid_leave))
        .routes(routes!(injuries::appraisal))
        .routes(routes!(injuries::death))
        .routes(routes!(injuries::file_material, injuries::material))
        .routes(routes!(submit::submit, read::mine))
        .routes(routes!(read::get))
        .routes(routes!(submit::resubmit))
        .routes(routes!(window::accept))
        .routes(routes!(window::return_with_notice))
        .routes(routes!(window::notice_pdf))
        .routes(routes!(review::confirm_eligibility))
        .routes(routes!(review::first_review))
        .routes(routes!(review::re_review))
        .routes(routes!(review::send_back))
        .routes(routes!(review::reject))
        .routes(routes!(approve::approve))
        .routes(routes!(read::payables))
        .routes(routes!(read::form))
        .routes(routes!(read::queue))
}

/// The step's application alone (the platform's routes and the document included), as the
/// claim-review Lambda serves it and the step's tests call it.
pub fn router(platform: Platform) -> Router {
    swi_platform::api::app(platform, vec![routes()]).0
}
