//! Logs as JSON lines, one request at a time traceable: every request gets an id of its own
//! (random; a client's `x-request-id` is never taken), answered in the `x-request-id` header and
//! in every error body (`error.request_id`), and carried by every log line written while the
//! request is worked (a `tracing` span). A request's line names its method, its route pattern
//! (`/api/enrolments/{id}`, never the values in the path), the status and the time taken — never a
//! query string or a body, so never a resident ID number.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The largest error body the request id is written into (larger ones carry it in the header).
const BODY_LIMIT: usize = 1 << 20;

/// The header a request's id travels in.
pub const HEADER: &str = "x-request-id";

/// Installs the JSON-lines subscriber on standard error (level from `SWI_LOG`, default
/// `info`). Calling it twice is harmless.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A fresh request id: 16 hex digits.
#[must_use]
pub fn new_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No randomness: the time still tells requests apart in a log.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = u64::try_from(nanos % u128::from(u64::MAX))
            .unwrap_or_default()
            .to_le_bytes();
    }
    hex::encode(b)
}

/// Middleware: the request's id, its span, its log line, its header, and the id in error
/// bodies.
pub async fn request_ids(req: Request, next: Next) -> Response {
    let id = new_id();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let started = Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "answered"
        );
    });
    let mut response = if status.is_client_error() || status.is_server_error() {
        with_id_in_body(response, &id).await
    } else {
        response
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}

/// An error answer (always the JSON error shape, `crate::error::json_errors`) with
/// `error.request_id` added.
async fn with_id_in_body(response: Response, id: &str) -> Response {
    // A large answer (a rejected file's every row) is passed on as it is: the header names it.
    let small = axum::body::HttpBody::size_hint(response.body())
        .exact()
        .is_some_and(|n| n <= BODY_LIMIT as u64);
    if !small {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    if let Some(error) = value.get_mut("error").and_then(|e| e.as_object_mut()) {
        error.insert(
            "request_id".into(),
            serde_json::Value::String(id.to_owned()),
        );
    }
    let bytes = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
