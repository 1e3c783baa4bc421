//! The web portal: Chinese pages for citizens, employers and clerks, rendered on the server
//! (`askama` templates, checked at compile time and escaped by default) and improved by a
//! vendored `htmx` where JavaScript runs; every form works without it. The portal holds no
//! business rule: each page asks the same API every other client calls ([`backend`]), in
//! process, with the signed-in session's claims, and shows its answer.
//!
//! - [`accounts`]: local accounts (embedded): Argon2id passwords, lock-out after failures;
//! - [`session`]: sessions in an `HttpOnly; Secure; SameSite=Lax` cookie, CSRF tokens, idle and
//!   absolute expiry, sign-out that ends them;
//! - [`pages`]: sign-in, home, the clerk's queues, the claim page and its decision forms, the
//!   claimant's claims, the employer's unit, the parameters in force, the risk alerts, and the
//!   public verification of official forms;
//! - [`assets`]: the stylesheet and scripts, embedded in the binary;
//! - [`headers`]: the Content-Security-Policy (no inline script) and its companions.
//!
//! `swi serve` serves it at `/` beside `/api`; in AWS the `PortalFunction` serves the same router.

pub mod accounts;
pub mod assets;
pub mod backend;
pub mod headers;
pub mod oidc;
pub mod pages;
pub mod session;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use swi_platform::Platform;
use tower::ServiceExt;

/// What every page handler has: the platform (sessions and accounts live in its state store),
/// the API it calls, and the identity provider, where one is configured.
#[derive(Clone)]
pub struct Portal {
    /// The platform.
    pub platform: Platform,
    /// The whole API (every step's routes), called in process.
    pub api: Router,
    /// The OpenID Connect port (deployed sign-in), if configured.
    pub oidc: Option<std::sync::Arc<oidc::Oidc>>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Portal")
    }
}

/// The portal's pages in front of `api`: every path the portal does not serve goes to `api`
/// (the API answers `/api/…` and the embedded upload route), except that an unknown page is an
/// HTML 404, not a JSON one.
pub fn router(platform: Platform, api: Router, oidc: Option<std::sync::Arc<oidc::Oidc>>) -> Router {
    let portal = Portal {
        platform,
        api,
        oidc,
    };
    Router::new()
        .route("/", get(pages::home::home))
        .route(
            "/signin",
            get(pages::signin::form).post(pages::signin::submit),
        )
        .route("/signout", post(pages::signin::sign_out))
        .route("/signin/oidc", get(pages::signin::oidc_begin))
        .route("/signin/callback", get(pages::signin::oidc_callback))
        .route("/work", get(pages::queue::queue))
        .route("/claims", get(pages::claims::mine))
        .route("/claims/{id}", get(pages::claims::page))
        .route("/claims/{id}/act/{action}", post(pages::claims::act))
        .route(
            "/claims/{id}/first-review",
            post(pages::claims::first_review),
        )
        .route("/claims/{id}/notice.pdf", get(pages::claims::notice))
        .route("/claims/{id}/forms/{form}", get(pages::claims::form))
        .route("/scans/{injury}/{material}", get(pages::documents::view))
        .route("/unit", get(pages::unit::unit))
        .route("/bills", get(pages::bills::list))
        .route("/rates/notices/{id}", get(pages::unit::notice))
        .route("/bills/arrears.xlsx", get(pages::bills::arrears_xlsx))
        .route("/bills/report.xlsx", get(pages::bills::report_xlsx))
        .route("/bills/{id}", get(pages::bills::show))
        .route("/payments", get(pages::payments::list))
        .route("/payments/account", post(pages::payments::own_account))
        .route("/payments/lines/{id}", get(pages::payments::line))
        .route(
            "/payments/lines/{id}/account",
            post(pages::payments::line_account),
        )
        .route("/payments/batches/{id}", get(pages::payments::batch))
        .route(
            "/payments/batches/{id}/files/{bank}",
            get(pages::payments::bank_file).post(pages::payments::make_file),
        )
        .route("/payments/cycles", post(pages::payments::open_cycle))
        .route(
            "/payments/cycles/{county}/{month}",
            get(pages::payments::cycle),
        )
        .route(
            "/payments/cycles/{county}/{month}/steps",
            post(pages::payments::cycle_step),
        )
        .route(
            "/payments/cycles/{county}/{month}/requests/{n}",
            get(pages::payments::request_doc),
        )
        .route("/payments/books/{month}", get(pages::payments::books))
        .route("/archive", get(pages::archive::home))
        .route("/archive/settings", post(pages::archive::settings))
        .route("/archive/filings", post(pages::archive::file_month))
        .route("/archive/appraisal", get(pages::archive::appraisal))
        .route("/archive/handover", get(pages::archive::handover))
        .route(
            "/archive/handover/{file}",
            get(pages::archive::handover_file),
        )
        .route("/archive/volumes/{id}", get(pages::archive::volume))
        .route(
            "/archive/volumes/{id}/{action}",
            get(pages::archive::file).post(pages::archive::act),
        )
        .route("/parameters", get(pages::oversight::parameters))
        .route(
            "/parameters/city",
            get(pages::city::show).post(pages::city::record),
        )
        .route("/parameters/city/{id}/confirm", post(pages::city::confirm))
        .route("/alerts", get(pages::supervision::alerts))
        .route("/alerts/register", get(pages::supervision::register))
        .route(
            "/alerts/register.xlsx",
            get(pages::supervision::register_xlsx),
        )
        .route("/alerts/rules", get(pages::supervision::rules))
        .route("/alerts/{id}", get(pages::supervision::alert))
        .route("/alerts/{id}/act/{action}", post(pages::supervision::act))
        .route("/audit", get(pages::supervision::audit))
        .route("/statistics", get(pages::supervision::statistics))
        .route("/statistics.xlsx", get(pages::supervision::statistics_xlsx))
        .route(
            "/statistics/charts/{county}/{metric}",
            get(pages::supervision::chart),
        )
        .route(
            "/plans",
            get(pages::supervision::plan).post(pages::supervision::record_plan),
        )
        .route("/plans/checks/{n}", post(pages::supervision::check_result))
        .route("/prevention", get(pages::supervision::prevention))
        .route("/prevention/uses", post(pages::supervision::record_use))
        .route("/verify", get(pages::verify::start))
        .route(
            "/verify/{code}",
            get(pages::verify::show).post(pages::verify::check).layer(
                axum::extract::DefaultBodyLimit::max(pages::verify::MAX_FILE + 64 * 1024),
            ),
        )
        .route("/cover", get(pages::citizen::cover))
        .route(
            "/enrol",
            get(pages::citizen::enrol_form).post(pages::citizen::enrol),
        )
        .route("/enrolments/{id}", get(pages::citizen::enrolment))
        .route(
            "/enrolments/{id}/notice.pdf",
            get(pages::citizen::enrolment_notice),
        )
        .route("/injuries", get(pages::citizen::injuries))
        .route("/injuries/{id}", get(pages::citizen::injury))
        .route("/injuries/{id}/claims", post(pages::citizen::submit_claim))
        .route("/unit/declarations", get(pages::declarations::of_unit))
        .route(
            "/unit/projects",
            get(pages::employer::of_unit).post(pages::employer::enrol),
        )
        .route(
            "/unit/persons",
            get(pages::employer::person_form).post(pages::employer::enrol_person),
        )
        .route("/projects/{id}", get(pages::employer::show))
        .route(
            "/projects/{id}/workers",
            post(pages::employer::register_worker),
        )
        .route(
            "/projects/{id}/certificate.pdf",
            get(pages::employer::certificate),
        )
        .route(
            "/enrolments/{id}/terminate",
            post(pages::employer::terminate),
        )
        .route("/enrolments/{id}/act/{action}", post(pages::window::decide))
        .route("/declarations/{id}", get(pages::declarations::show))
        .route(
            "/declarations/{id}/review",
            post(pages::declarations::review),
        )
        .route("/reports/{sha256}", get(pages::declarations::report))
        .route(
            "/window/identities",
            get(pages::window::identity_form).post(pages::window::verify_identity),
        )
        .route(
            "/window/injuries",
            get(pages::window::injury_form).post(pages::window::record_injury),
        )
        .route("/uploads/new", post(pages::uploads::start))
        .route(
            "/uploads/done",
            get(pages::uploads::done).post(pages::uploads::put_done),
        )
        .route("/uploads/put", post(pages::uploads::presign_put))
        .route("/assets/{file}", get(pages::asset))
        .fallback(fallback)
        .layer(axum::middleware::from_fn(headers::secure))
        .with_state(portal)
}

/// Everything the portal does not serve: the API's (and the embedded upload route's), or an
/// HTML 404 for a page that does not exist.
async fn fallback(State(portal): State<Portal>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api"
        || path.starts_with("/api/")
        || path == "/documents/uploads"
        || path.starts_with("/documents/uploads/")
    {
        return match portal.api.oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        };
    }
    pages::not_found().into_response()
}
