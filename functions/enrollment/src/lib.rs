//! The enrollment step (参保登记, Art. 6-12, 18) as an `axum::Router`: served by Lambda in AWS
//! (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! Units and their work-injury facts (Art. 7, 9-10); persons' enrolments with materials,
//! acceptance or return, payment and cover (Art. 6-8, 34).

pub mod cancellation;
pub mod declarations;
pub mod persons;
pub mod projects;
pub mod retirement;
pub mod units;

use axum::Router;
use axum::routing::{get, post};
use swi_platform::Platform;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The step's OpenAPI document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "swi — 赣州市补充工伤保险 API",
        description = "Enrollment (参保登记, 赣市人社字〔2025〕7号 Art. 6-12, 18). Bearer tokens; every changing request carries an Idempotency-Key; errors are {error: {code, zh, en}}."
    ),
    paths(
        units::record_facts, units::register, units::get, units::change, units::cancel,
        units::import_roster,
        persons::enrol::enrol, persons::enrol::enrol_self,
        persons::window::file_material, persons::window::accept,
        persons::window::return_with_notice, persons::window::register_change,
        persons::cover::record_payment, persons::cover::terminate,
        persons::read::get, persons::read::roster, persons::read::history,
        persons::read::reminders, persons::notice::notice_pdf,
        swi_platform::documents::presign, swi_platform::reports::get,
        declarations::file::declare, declarations::file::queue, declarations::file::get,
        declarations::review::review,
        projects::enrol, projects::pay, projects::extend, projects::cancel,
        projects::register_worker, projects::workers, projects::get, projects::certificate,
    ),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// The step's jobs, for the hosts that run them (`swi run`, the `swi serve` worker, the
/// `JobsFunction`).
#[must_use]
pub fn jobs() -> Vec<Box<dyn swi_platform::jobs::Job>> {
    vec![
        Box::new(cancellation::UnitCancel),
        Box::new(declarations::DeclarationApply),
        Box::new(retirement::RetirementCheck),
    ]
}

/// The step's routes.
pub fn router(platform: Platform) -> Router {
    Router::new()
        .route("/api/work-injury/facts", post(units::record_facts))
        .route("/api/work-injury/roster", post(units::import_roster))
        .route("/api/units", post(units::register))
        .route("/api/units/{code}", get(units::get).patch(units::change))
        .route("/api/units/{code}/cancel", post(units::cancel))
        .route("/api/units/{code}/persons", post(persons::enrol))
        .route("/api/units/{code}/roster", get(persons::roster))
        .route("/api/self/enrolments", post(persons::enrol_self))
        .route("/api/enrolments/{id}", get(persons::get))
        .route(
            "/api/enrolments/{id}/materials/{material}",
            axum::routing::put(persons::file_material),
        )
        .route("/api/enrolments/{id}/accept", post(persons::accept))
        .route(
            "/api/enrolments/{id}/return",
            post(persons::return_with_notice),
        )
        .route(
            "/api/enrolments/{id}/payments",
            post(persons::record_payment),
        )
        .route("/api/enrolments/{id}/terminate", post(persons::terminate))
        .route("/api/persons/history", post(persons::history))
        .route("/api/openapi.json", get(openapi))
        .route(
            "/api/units/{code}/declarations",
            post(declarations::declare),
        )
        .route(
            "/api/counties/{county}/declarations",
            get(declarations::queue),
        )
        .route("/api/declarations/{id}", get(declarations::get))
        .route("/api/declarations/{id}/review", post(declarations::review))
        .route(
            "/api/enrolments/{id}/changes",
            post(persons::register_change),
        )
        .route("/api/units/{code}/reminders", get(persons::reminders))
        .route("/api/enrolments/{id}/notice", get(persons::notice_pdf))
        .route("/api/units/{code}/projects", post(projects::enrol))
        .route("/api/projects/{id}", get(projects::get))
        .route("/api/projects/{id}/payments", post(projects::pay))
        .route("/api/projects/{id}/extend", post(projects::extend))
        .route("/api/projects/{id}/cancel", post(projects::cancel))
        .route(
            "/api/projects/{id}/workers",
            post(projects::register_worker).get(projects::workers),
        )
        .route("/api/projects/{id}/certificate", get(projects::certificate))
        .with_state(platform.clone())
        .merge(swi_platform::documents::router(platform.clone()))
        .merge(swi_platform::reports::router(platform))
        .layer(axum::middleware::from_fn(swi_platform::error::json_errors))
}
