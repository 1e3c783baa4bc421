//! The enrollment step (参保登记, Art. 6-12, 18) as an `axum::Router`: served by Lambda in AWS
//! (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! Units and their work-injury facts (Art. 7, 9-10); persons' enrolments with materials,
//! acceptance or return, payment and cover (Art. 6-8, 34).

pub mod cancellation;
pub mod declarations;
pub mod moving;
pub mod persons;
pub mod projects;
pub mod retirement;
pub mod roster_import;
pub mod units;

use axum::Router;
use swi_platform::Platform;
use swi_platform::api::Routes;
use utoipa_axum::routes;

/// The step's jobs, for the hosts that run them (`swi run`, the `swi serve` worker, the
/// `JobsFunction`).
#[must_use]
pub fn jobs() -> Vec<Box<dyn swi_platform::jobs::Job>> {
    vec![
        Box::new(cancellation::UnitCancel),
        Box::new(declarations::DeclarationApply),
        Box::new(retirement::RetirementCheck),
        Box::new(roster_import::RosterImportJob),
        Box::new(moving::UnitMove),
    ]
}

/// The step's routes, each with its OpenAPI operation.
#[must_use]
pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(units::record_facts))
        .routes(routes!(roster_import::import_roster))
        .routes(routes!(roster_import::get))
        .routes(routes!(units::register))
        .routes(routes!(units::get, units::change))
        .routes(routes!(units::cancel))
        .routes(routes!(moving::move_unit))
        .routes(routes!(persons::enrol::enrol))
        .routes(routes!(persons::read::roster))
        .routes(routes!(persons::read::reminders))
        .routes(routes!(persons::enrol::enrol_self))
        .routes(routes!(persons::read::get))
        .routes(routes!(persons::window::file_material))
        .routes(routes!(persons::window::accept))
        .routes(routes!(persons::window::waiting))
        .routes(routes!(persons::window::return_with_notice))
        .routes(routes!(persons::window::register_change))
        .routes(routes!(persons::cover::record_payment))
        .routes(routes!(persons::cover::terminate))
        .routes(routes!(persons::notice::notice_pdf))
        .routes(routes!(persons::read::history))
        .routes(routes!(persons::read::own_history))
        .routes(routes!(
            declarations::file::declare,
            declarations::file::of_unit
        ))
        .routes(routes!(declarations::file::queue))
        .routes(routes!(declarations::file::get))
        .routes(routes!(declarations::review::review))
        .routes(routes!(projects::enrol, projects::of_unit))
        .routes(routes!(projects::get))
        .routes(routes!(projects::pay))
        .routes(routes!(projects::extend))
        .routes(routes!(projects::cancel))
        .routes(routes!(projects::register_worker, projects::workers))
        .routes(routes!(projects::certificate))
}

/// The step's application alone (the platform's routes and the document included), as the
/// enrollment Lambda serves it and the step's tests call it.
pub fn router(platform: Platform) -> Router {
    swi_platform::api::app(platform, vec![routes()]).0
}
