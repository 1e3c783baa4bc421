//! The one HTTP API: every step's routes, registered with their OpenAPI operations in one go
//! (`utoipa_axum::routes!`, so no route exists without its document), merged into one router
//! and one document served at `/api/openapi.json`. Two steps claiming one path and method make
//! the merge panic when the application is built — which every test of a host does.

use axum::Router;
use axum::extract::State;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Platform;

/// A step's routes with their operations.
pub type Routes = OpenApiRouter<Platform>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "swi — 赣州市补充工伤保险 API",
        description = "The administration of the Ganzhou supplementary work-injury insurance (赣市人社字〔2025〕7号). Bearer tokens; every changing request carries an Idempotency-Key; every error is {error: {code, zh, en}} with a request id."
    ),
    modifiers(&Bearer)
)]
struct Base;

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

/// Whether the service answers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /api/health`: the service answers (no store is asked; `swi store health` checks them).
#[utoipa::path(get, path = "/api/health", tag = "operations",
    responses((status = 200, description = "the service answers", body = Health)))]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI document of every route", content_type = "application/json")))]
pub async fn openapi(
    State(doc): State<std::sync::Arc<utoipa::openapi::OpenApi>>,
) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json((*doc).clone())
}

/// The platform's own routes: uploads, recorded reports, health.
#[must_use]
pub fn platform_routes() -> Routes {
    OpenApiRouter::new()
        .routes(routes!(crate::documents::presign))
        .routes(routes!(crate::documents::presign_form))
        .routes(routes!(crate::documents::register_form))
        .routes(routes!(crate::reports::get))
        .routes(routes!(health))
        .routes(routes!(crate::city::in_force_on))
        .routes(routes!(crate::city::record, crate::city::list))
        .routes(routes!(crate::city::confirm))
        .routes(routes!(crate::identity::verify))
        .routes(routes!(crate::identity::record_kin))
        .routes(routes!(crate::verification::get))
        .routes(routes!(crate::verification::check))
}

/// The application of `steps` (and the platform's routes) on `platform`: one router, one
/// document (also served at `/api/openapi.json`), JSON errors on every answer.
///
/// # Panics
/// Two routers claim one path and method (a programming error every host test catches).
pub fn app(platform: Platform, steps: Vec<Routes>) -> (Router, utoipa::openapi::OpenApi) {
    let mut all = OpenApiRouter::with_openapi(Base::openapi()).merge(platform_routes());
    for step in steps {
        all = all.merge(step);
    }
    let (router, mut doc) = all.split_for_parts();
    // The document's own route is documented too.
    let (_, own) = OpenApiRouter::<std::sync::Arc<utoipa::openapi::OpenApi>>::new()
        .routes(routes!(openapi))
        .split_for_parts();
    doc.merge(own);
    let served = std::sync::Arc::new(doc.clone());
    let router = router
        .with_state(platform.clone())
        .route(
            "/api/openapi.json",
            axum::routing::get(openapi).with_state(served),
        )
        .layer(axum::middleware::from_fn_with_state(
            platform,
            crate::refusals::record,
        ))
        .layer(axum::middleware::from_fn(crate::error::json_errors))
        .layer(axum::middleware::from_fn(crate::telemetry::request_ids));
    (router, doc)
}
