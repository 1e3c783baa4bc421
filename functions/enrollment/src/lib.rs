//! The enrollment step (参保登记, Art. 6-12, 18) as an `axum::Router`: served by Lambda in AWS
//! (`src/main.rs`) and by `swi serve` locally, at the same paths.
//!
//! Units and their work-injury facts (Art. 7, 9-10); persons' enrolments with materials,
//! acceptance or return, payment and cover (Art. 6-8, 34).

pub mod declarations;
pub mod jobs;
pub mod persons;
pub mod projects;
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
        persons::enrol, persons::enrol_self, persons::file_material, persons::accept,
        persons::return_with_notice, persons::record_payment, persons::terminate, persons::get,
        persons::roster, persons::history, swi_platform::documents::presign, swi_platform::reports::get,
        declarations::declare, declarations::queue,
        projects::enrol, projects::pay, projects::extend, projects::cancel,
        projects::register_worker, projects::certificate, persons::register_change,
        persons::alerts, persons::notice_pdf, units::import_roster,
        declarations::review
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

/// The platform of a Lambda function: DynamoDB and S3 named by `SWI_TABLE` and `SWI_BUCKET`
/// (and `AWS_ENDPOINT_URL` when set), the system clock (moved to `SWI_TODAY` when a test sets
/// it; the template never does), and a per-process token secret: in AWS
/// the API's authorizer verifies tokens, so no locally signed token is ever accepted. The
/// person-key secret is read from Secrets Manager (`SWI_PERSON_KEY_SECRET`), or from the file
/// `SWI_PERSON_KEY_FILE` names when a test sets it.
///
/// # Errors
/// A variable missing, or no randomness for the secret.
pub async fn aws_platform() -> Result<Platform, String> {
    let table = std::env::var("SWI_TABLE").map_err(|_| "SWI_TABLE is not set")?;
    let bucket = std::env::var("SWI_BUCKET").map_err(|_| "SWI_BUCKET is not set")?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) = swi_store_aws::open(&table, &bucket, endpoint.as_deref()).await;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    let person_secret = match std::env::var("SWI_PERSON_KEY_FILE") {
        // Tests of the bootstrap run with a key file; the template names the managed secret.
        Ok(file) => std::fs::read(&file).map_err(|e| format!("{file}: {e}"))?,
        Err(_) => {
            let id = std::env::var("SWI_PERSON_KEY_SECRET")
                .map_err(|_| "SWI_PERSON_KEY_SECRET is not set")?;
            swi_store_aws::secret(&id, endpoint.as_deref()).await?
        }
    };
    Ok(Platform {
        state: std::sync::Arc::new(state),
        docs: std::sync::Arc::new(docs),
        tokens: std::sync::Arc::new(swi_platform::auth::TokenKeys::from_secret(&secret)),
        persons: std::sync::Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(
            &person_secret,
        )?),
        clock: swi_platform::clock::from_env(None)?,
    })
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
        .route("/api/units/{code}/alerts", get(persons::alerts))
        .route("/api/enrolments/{id}/notice", get(persons::notice_pdf))
        .route("/api/units/{code}/projects", post(projects::enrol))
        .route("/api/projects/{id}", get(projects::get))
        .route("/api/projects/{id}/payments", post(projects::pay))
        .route("/api/projects/{id}/extend", post(projects::extend))
        .route("/api/projects/{id}/cancel", post(projects::cancel))
        .route(
            "/api/projects/{id}/workers",
            post(projects::register_worker),
        )
        .route("/api/projects/{id}/certificate", get(projects::certificate))
        .with_state(platform.clone())
        .merge(swi_platform::documents::router(platform.clone()))
        .merge(swi_platform::reports::router(platform))
        .layer(axum::middleware::from_fn(swi_platform::error::json_errors))
}
