//! The archiving step (档案管理, Art. 45-47) as an `axum::Router`: served by Lambda in AWS
//! (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! - [`model`]: a county's archive settings, its volumes and items, each document's fixity;
//! - [`filing`]: the job that files a county's month into volumes by class and period, a
//!   step at a time: [`month`] its record, [`collect`] the volumes and items, [`digest`] the
//!   documents hashed once, [`pack`] the sheets, packages and checks;
//! - [`checking`]: the four checks (DA/T 70) of a stored volume, and its kept reports;
//! - [`fixity`]: the scheduled fixity job, its rounds and preservation events;
//! - [`handover`]: the export of a county's volumes as complete bags, and their checks;
//!   [`import`] the receiving side taking such an export in;
//! - [`hashing`]: one pass over a document's bytes for its digests, type and encryption;
//! - [`stored`]: what the bucket's object-created events say it holds (AWS);
//! - [`sheets`]: a volume's cover, list of contents and notes sheet as PDFs;
//! - [`retain`]: each document's retention set in the store once its cases close;
//! - [`disposal`]: appraisal and destruction as records, [`destroy`] the job carrying them out;
//! - [`routes_disposal`]: volumes past retention, appraisal, the agency's decision, two
//!   witnesses, holds, paper copies;
//! - [`routes_handover`]: the handover register (移交清册) to sign;
//! - [`routes_volumes`]: settings, filings on demand, volumes, packages, documents.

pub mod checking;
pub mod collect;
pub mod destroy;
pub mod digest;
pub mod disposal;
pub mod filing;
pub mod fixity;
pub mod handover;
pub mod hashing;
pub mod import;
pub mod model;
pub mod month;
pub mod pack;
pub mod retain;
pub mod routes_disposal;
pub mod routes_handover;
pub mod routes_volumes;
pub mod sheets;
pub mod stored;

use axum::Router;
use swi_platform::Platform;
use swi_platform::api::Routes;
use utoipa_axum::routes;

/// The step's jobs, for the hosts that run them.
#[must_use]
pub fn jobs() -> Vec<Box<dyn swi_platform::jobs::Job>> {
    vec![
        Box::new(filing::Archive),
        Box::new(filing::ArchiveOpen),
        Box::new(fixity::FixityJob),
        Box::new(retain::ArchiveRetain),
        Box::new(destroy::ArchiveDispose),
    ]
}

/// The step's routes, each with its OpenAPI operation.
#[must_use]
pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(
            routes_volumes::set_settings,
            routes_volumes::get_settings
        ))
        .routes(routes!(routes_volumes::file_month, routes_volumes::volumes))
        .routes(routes!(routes_volumes::filing))
        .routes(routes!(routes_volumes::volume))
        .routes(routes!(routes_volumes::package))
        .routes(routes!(routes_volumes::sheet))
        .routes(routes!(routes_volumes::run_checks, routes_volumes::checks))
        .routes(routes!(routes_volumes::document))
        .routes(routes!(fixity::status))
        .routes(routes!(routes_disposal::due))
        .routes(routes!(routes_disposal::appraise))
        .routes(routes!(routes_disposal::decide))
        .routes(routes!(routes_disposal::witness))
        .routes(routes!(routes_disposal::disposal))
        .routes(routes!(routes_disposal::destruction_list))
        .routes(routes!(routes_disposal::hold))
        .routes(routes!(routes_disposal::release))
        .routes(routes!(routes_disposal::set_paper))
        .routes(routes!(routes_handover::register))
}

/// The step's application alone (the platform's routes and the document included), as its
/// Lambda serves it and its tests call it.
pub fn router(platform: Platform) -> Router {
    swi_platform::api::app(platform, vec![routes()]).0
}
