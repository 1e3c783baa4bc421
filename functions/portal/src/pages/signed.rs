//! The signed-in request: a page's handler takes [`Signed`] and has the live session; without
//! one, the person is sent to sign in and brought back to where they were going.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::Portal;
use crate::session::{COOKIE, Session, cookie, find};

/// A signed-in request: without a live session, a page answers with the sign-in page instead.
#[derive(Debug, Clone)]
pub struct Signed(pub Session);

impl FromRequestParts<Portal> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, portal: &Portal) -> Result<Self, Response> {
        let now = swi_store::state::epoch_now();
        let found = match cookie(&parts.headers, COOKIE) {
            Some(id) => find(&portal.platform, id, now)
                .await
                .map_err(|e| super::error_page(&e))?,
            None => None,
        };
        match found {
            Some(s) => Ok(Signed(s)),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|pq| pq.as_str().to_owned())
                    .filter(|p| p.starts_with('/') && !p.starts_with("//") && p.len() <= 512)
                    .unwrap_or_else(|| "/".into());
                let to = format!("/signin?next={}", super::url_encode(&next));
                let mut r = Redirect::to(&to).into_response();
                if parts.headers.contains_key("hx-request")
                    && let Ok(v) = HeaderValue::from_str(&to)
                {
                    r.headers_mut().insert("hx-redirect", v);
                }
                Err(r)
            }
        }
    }
}
