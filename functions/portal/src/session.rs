//! Signed-in sessions: a random id in an `HttpOnly; Secure; SameSite=Lax` cookie, stored only as
//! its SHA-256 (a reader of the table cannot take a session over), with the claims the API checks
//! (role, county, unit), a CSRF token every form must repeat, an idle expiry that each request
//! pushes on and an absolute one that nothing does. Signing out deletes the session: the cookie
//! is worthless after it.
//!
//! Keys: `session#{sha256 hex}` / `session`, expiring (`expires_at`) with the session.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use subtle::ConstantTimeEq;
use swi_domain::Role;
use swi_platform::auth::Claims;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, StateError, TxOp};

use crate::accounts::Account;

/// The session cookie's name.
pub const COOKIE: &str = "swi_session";

/// The sign-in form's own CSRF cookie (before there is a session).
pub const SIGNIN_COOKIE: &str = "swi_signin";

/// A session ends after this long without a request (seconds).
pub const IDLE_SECS: i64 = 30 * 60;

/// A session ends this long after sign-in, whatever happens (seconds).
pub const ABSOLUTE_SECS: i64 = 12 * 3600;

/// How often the idle expiry is pushed on (seconds): not on every request.
const REFRESH_SECS: i64 = 60;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The account's subject.
    pub sub: String,
    /// Role.
    pub role: Role,
    /// County code or `360700`.
    pub county: String,
    /// Employers: the unit.
    pub unit: Option<String>,
    /// Display name.
    pub name: String,
    /// The name the account is known by (a local user name, or `oidc:<sub>`): what a citizen
    /// shows at the window to have her real name verified.
    #[serde(default)]
    pub username: String,
    /// The token every form repeats.
    pub csrf: String,
    /// Signed in at (seconds since the epoch).
    pub created: i64,
    /// Last seen at.
    pub seen: i64,
    /// The hash of its id (its key), kept to refresh and end it.
    #[serde(skip)]
    pub(crate) hash: String,
    /// Its stored version.
    #[serde(skip)]
    pub(crate) version: u64,
}

impl Session {
    /// The claims the API is called with: the session's, valid for a minute.
    #[must_use]
    pub fn claims(&self, now: i64) -> Claims {
        crate::accounts::claims(
            &self.sub,
            self.role,
            &self.county,
            &self.name,
            self.unit.as_deref(),
            now,
            60,
        )
    }

    /// Whether a form's token is this session's (in constant time).
    #[must_use]
    pub fn csrf_ok(&self, given: &str) -> bool {
        given.len() == self.csrf.len() && bool::from(given.as_bytes().ct_eq(self.csrf.as_bytes()))
    }

    fn expires(&self) -> i64 {
        (self.seen + IDLE_SECS).min(self.created + ABSOLUTE_SECS)
    }
}

/// A random token of 32 bytes, base64url.
///
/// # Errors
/// No randomness.
pub fn random_token() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal(&e))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn hash_of(id: &str) -> String {
    hex::encode(sha2::Sha256::digest(id.as_bytes()))
}

fn key(hash: &str) -> Key {
    Key::new(format!("session#{hash}"), "session")
}

fn put(s: &Session, condition: Condition) -> Result<TxOp, ApiError> {
    let k = key(&s.hash);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, s)?.expiring_at(s.expires()),
        condition,
    })
}

/// Starts a session for `account` at `now`; answers the cookie's value.
///
/// # Errors
/// 503 the store.
pub async fn start(p: &Platform, account: &Account, now: i64) -> Result<String, ApiError> {
    let id = random_token()?;
    let s = Session {
        sub: account.sub.clone(),
        role: account.role,
        county: account.county.clone(),
        unit: account.unit.clone(),
        name: account.name.clone(),
        username: account.username.clone(),
        csrf: random_token()?,
        created: now,
        seen: now,
        hash: hash_of(&id),
        version: 0,
    };
    p.state
        .transact(vec![put(&s, Condition::NotExists)?])
        .await?;
    Ok(id)
}

/// Ends a session (signing out): its id is worthless from now on.
///
/// # Errors
/// 503 the store.
pub async fn end(p: &Platform, s: &Session) -> Result<(), ApiError> {
    match p
        .state
        .transact(vec![TxOp::Delete {
            key: key(&s.hash),
            condition: Condition::None,
        }])
        .await
    {
        Ok(()) | Err(StateError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The session a cookie names, if it is live at `now`; its idle expiry pushed on.
///
/// # Errors
/// 503 the store.
pub async fn find(p: &Platform, id: &str, now: i64) -> Result<Option<Session>, ApiError> {
    if id.len() != 43 {
        return Ok(None);
    }
    let hash = hash_of(id);
    let Some(item) = p.state.get(&key(&hash)).await? else {
        return Ok(None);
    };
    let mut s: Session = item.body().map_err(|e| ApiError::internal(&e))?;
    s.hash = hash;
    s.version = item.version;
    if s.expires() <= now {
        return Ok(None);
    }
    if now - s.seen >= REFRESH_SECS {
        s.seen = now;
        // Another request may have pushed it on meanwhile: as good.
        if let Ok(op) = put(&s, Condition::VersionIs(s.version)) {
            match p.state.transact(vec![op]).await {
                Ok(()) => s.version += 1,
                Err(StateError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(Some(s))
}

/// The value of cookie `name` in a request's headers (the first; bounded).
#[must_use]
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.len() <= 16 * 1024)
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly; Secure; SameSite=Lax; Path=/`, ending with the browser's
/// session unless `max_age` says otherwise (0 removes it).
#[must_use]
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax{age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}
