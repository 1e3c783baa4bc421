//! The portal's one way to the business: the same API every other client calls, called in
//! process with the session's claims (as the API gateway's authorizer hands them to a Lambda; a
//! browser cannot set them). No page decides what the API would refuse: it asks and shows the
//! answer.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use swi_platform::ApiError;
use swi_platform::auth::GatewayClaims;
use tower::ServiceExt;

use crate::Portal;
use crate::session::Session;

/// The largest answer a page reads: a scan (20 MiB at most) with room to spare; a claim with its
/// history is a few hundred KiB.
const MAX_ANSWER: usize = 24 << 20;

/// An answer of the API.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its body (JSON, or `Null` when it was not JSON).
    pub body: Value,
    /// Its bytes (for files).
    pub bytes: axum::body::Bytes,
    /// Its content type.
    pub content_type: Option<String>,
}

impl Answer {
    /// Whether it succeeded.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The body as `T`, or the API's refusal.
    ///
    /// # Errors
    /// The API refused (its error, as it said it), or the body is not a `T`.
    pub fn into<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        if !self.ok() {
            return Err(self.refusal());
        }
        serde_json::from_value(self.body).map_err(|e| ApiError::internal(&e))
    }

    /// The API's refusal as an error (its Chinese and English messages and code).
    #[must_use]
    pub fn refusal(&self) -> ApiError {
        let e = &self.body["error"];
        let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
        let mut err = ApiError::invalid(text("zh"), text("en"));
        err.status = self.status;
        err.code = serde_json::from_value(e["code"].clone()).unwrap_or(err.code);
        err
    }
}

impl Portal {
    /// Calls the API as `session`, with `body` as JSON and an idempotency key when it changes
    /// something.
    ///
    /// # Errors
    /// The API could not be called (never its refusal: that is the answer).
    pub async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, ApiError> {
        self.call_as(Some(session), method, path, body, idempotency_key)
            .await
    }

    /// Calls one of the API's public routes (no sign-in).
    ///
    /// # Errors
    /// As [`Portal::call`].
    pub async fn call_public(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ApiError> {
        self.call_as(None, method, path, body, None).await
    }

    async fn call_as(
        &self,
        session: Option<&Session>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, ApiError> {
        let now = swi_store::state::epoch_now();
        let mut req = Request::builder().method(method).uri(path);
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(serde_json::to_vec(v).map_err(|e| ApiError::internal(&e))?)
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).map_err(|e| ApiError::internal(&e))?;
        if let Some(session) = session {
            req.extensions_mut()
                .insert(GatewayClaims(session.claims(now)));
        }
        let res = self
            .api
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(res.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let body = if content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
        {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        Ok(Answer {
            status,
            body,
            bytes,
            content_type,
        })
    }

    /// `GET path` as `session`.
    ///
    /// # Errors
    /// As [`Portal::call`].
    pub async fn get(&self, session: &Session, path: &str) -> Result<Answer, ApiError> {
        self.call(session, Method::GET, path, None, None).await
    }
}
