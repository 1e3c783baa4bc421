//! Identity: bearer JWTs with `sub`, `role`, `county`, `name` (and `unit` for employers).
//!
//! Locally `swi token` mints them, signed (HS256) with a key kept in the data directory; in AWS
//! the API's JWT authorizer (Cognito) checks them first, and handlers still check role and county
//! themselves through [`swi_domain::Actor::may`].

use std::path::Path;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use swi_domain::{Actor, Jurisdiction, Role};

use crate::{ApiError, Platform};

/// Who issues local tokens.
pub const ISSUER: &str = "swi-local";

/// The longest a local token lives: a working day.
pub const MAX_LIFETIME_SECS: i64 = 12 * 3600;

/// The claims of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: a stable user identifier (never a resident ID number).
    pub sub: String,
    /// Role (glossary identifier).
    pub role: String,
    /// County code, or `360700` for the city.
    pub county: String,
    /// Display name.
    pub name: String,
    /// Employers: the unit's unified social credit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// Signs and verifies tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(…)")
    }
}

impl TokenKeys {
    /// Keys from a secret.
    #[must_use]
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The local keys of a data directory: `token.key` (32 random bytes, mode 0600), created on
    /// first use.
    ///
    /// # Errors
    /// The key cannot be read or created.
    pub fn local(data_dir: &Path) -> std::io::Result<Self> {
        Ok(Self::from_secret(&local_secret(data_dir, "token.key")?))
    }

    /// A signed token for `claims`.
    ///
    /// # Errors
    /// Signing fails (it does not with HS256).
    pub fn mint(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::internal(&e))
    }

    /// The actor a token stands for.
    ///
    /// # Errors
    /// 401 for a malformed, forged or expired token, or claims naming an unknown role or county.
    pub fn verify(&self, token: &str) -> Result<Actor, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                ApiError::unauthenticated(match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidSignature => "the token's signature is not valid",
                    ErrorKind::InvalidIssuer => "the token was not issued by this system",
                    _ => "the token is malformed",
                })
            })?;
        // A token lives at most MAX_LIFETIME from when it was issued, and was not issued in the
        // future (a token minted by hand with a distant `exp` is refused).
        let c = &data.claims;
        let now = chrono::Utc::now().timestamp();
        if c.iat > now + self.validation.leeway as i64 {
            return Err(ApiError::unauthenticated(
                "the token was issued in the future",
            ));
        }
        if c.exp - c.iat > MAX_LIFETIME_SECS {
            return Err(ApiError::unauthenticated(format!(
                "a token lives at most {} hours",
                MAX_LIFETIME_SECS / 3600
            )));
        }
        actor_of(data.claims)
    }
}

/// A local secret of 32 random bytes in `data_dir/name` (mode 0600), created on first use by
/// writing a temporary file and renaming it, so that a crash never leaves half a key.
///
/// # Errors
/// The key cannot be read or created.
pub fn local_secret(data_dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(name);
    match std::fs::read(&path) {
        Ok(s) if s.len() >= 32 => Ok(s),
        _ => {
            let mut s = vec![0u8; 32];
            getrandom::fill(&mut s).map_err(|e| std::io::Error::other(e.to_string()))?;
            let tmp = data_dir.join(format!("{name}.tmp"));
            std::fs::write(&tmp, &s)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
            }
            std::fs::rename(&tmp, &path)?;
            Ok(s)
        }
    }
}

/// The actor of verified claims.
///
/// # Errors
/// 401 for an unknown role or county.
pub fn actor_of(claims: Claims) -> Result<Actor, ApiError> {
    let role: Role = claims
        .role
        .parse()
        .map_err(|_| ApiError::unauthenticated("the token names an unknown role"))?;
    let jurisdiction = Jurisdiction::parse(&claims.county)
        .map_err(|_| ApiError::unauthenticated("the token names an unknown county"))?;
    if role == Role::Employer && claims.unit.is_none() {
        return Err(ApiError::unauthenticated(
            "an employer's token must name its unit",
        ));
    }
    Ok(Actor {
        sub: claims.sub,
        role,
        jurisdiction,
        name: claims.name,
        unit: claims.unit,
    })
}

/// Claims already verified by the API Gateway's JWT authorizer (Cognito), put in the request's
/// extensions by the Lambda wiring. Extensions cannot be set by a client, so this is trusted only
/// where a gateway put it; everywhere else the bearer token is verified here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayClaims(pub Claims);

/// An authenticated request: extracting it answers 401 when there is no valid bearer token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl<S> FromRequestParts<S> for Authenticated
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        actor_from(
            &Platform::from_ref(state),
            &parts.headers,
            &parts.extensions,
        )
        .map(Authenticated)
    }
}

/// The actor a request is made by: the gateway's claims where a gateway put them, else the
/// bearer token verified.
///
/// # Errors
/// 401 without a valid bearer token.
pub fn actor_from(
    platform: &Platform,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> Result<Actor, ApiError> {
    if let Some(GatewayClaims(claims)) = extensions.get::<GatewayClaims>() {
        return actor_of(claims.clone());
    }
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthenticated("an Authorization: Bearer token is required"))?;
    let token = header.strip_prefix("Bearer ").ok_or_else(|| {
        ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
    })?;
    platform.tokens.verify(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "clerk-7".into(),
            role: "acceptor".into(),
            county: "360702".into(),
            name: "王五".into(),
            unit: None,
            iss: ISSUER.into(),
            iat: now(),
            exp,
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn a_minted_token_verifies_into_its_actor() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let token = keys.mint(&claims(now() + 600)).unwrap();
        let actor = keys.verify(&token).unwrap();
        assert_eq!((actor.role, actor.name.as_str()), (Role::Acceptor, "王五"));
    }

    #[test]
    fn forged_and_expired_tokens_are_refused() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let other = TokenKeys::from_secret(b"another secret of enough length!");
        let forged = other.mint(&claims(now() + 600)).unwrap();
        assert_eq!(keys.verify(&forged).unwrap_err().status.as_u16(), 401);
        let expired = keys.mint(&claims(now() - 3600)).unwrap();
        let err = keys.verify(&expired).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.en.as_str()),
            (401, "the token has expired")
        );
        assert_eq!(
            keys.verify("not.a.token").unwrap_err().code,
            ErrorCode::Unauthenticated
        );
        let mut bad_role = claims(now() + 600);
        bad_role.role = "admin".into();
        let token = keys.mint(&bad_role).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn tokens_not_yet_valid_or_living_too_long_are_refused() {
        let keys = TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let mut body = serde_json::to_value(claims(now() + 600)).unwrap();
        body["nbf"] = serde_json::json!(now() + 3600);
        let early =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &body, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&early).unwrap_err().status.as_u16(), 401);
        let long = claims(now() + 30 * 24 * 3600);
        let err = keys.verify(&keys.mint(&long).unwrap()).unwrap_err();
        assert_eq!(err.en, "a token lives at most 12 hours");
        let mut future = claims(now() + 7200);
        future.iat = now() + 3600;
        assert!(keys.verify(&keys.mint(&future).unwrap()).is_err());
        assert!(
            keys.verify(&keys.mint(&claims(now() + 3600)).unwrap())
                .is_ok()
        );
    }

    #[test]
    fn the_local_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = TokenKeys::local(dir.path()).unwrap();
        let token = a.mint(&claims(now() + 600)).unwrap();
        let b = TokenKeys::local(dir.path()).unwrap();
        assert!(b.verify(&token).is_ok());
    }
}
