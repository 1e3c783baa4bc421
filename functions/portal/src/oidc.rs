//! The OpenID Connect port (authorization code with PKCE): signing in through an identity
//! provider — the template's Cognito user pool, or the province's unified government identity
//! service where the city deploys it. The portal sends the browser to the provider with a
//! fresh `state`, `nonce` and PKCE challenge (kept server-side, ten minutes, used once); the
//! provider sends it back with a code, which the portal exchanges (with the verifier) for an ID
//! token whose signature (the provider's JWKS), issuer, audience, expiry and nonce are checked
//! before a session starts. The role, county and unit come from the provider's
//! administrator-managed claims (`custom:role`, `custom:county`, `custom:unit` in Cognito,
//! where users cannot write them; other names by configuration); an account without a role is
//! a citizen's, and a staff account without a county is refused. Where the
//! provider vouches for a real name (its verified claims of name and ID number), the account is
//! linked to that ID number server-side: the real-name verification port's provider path.
//!
//! Configured by `SWI_OIDC_ISSUER`, `SWI_OIDC_CLIENT_ID` (and `SWI_OIDC_CLIENT_SECRET` for a
//! confidential client), `SWI_OIDC_LABEL` (the sign-in button's words) and
//! `SWI_OIDC_ID_NUMBER_CLAIM` (the claim carrying a verified ID number, if the provider has
//! one), `SWI_OIDC_ROLE_CLAIM`, `SWI_OIDC_COUNTY_CLAIM`, `SWI_OIDC_UNIT_CLAIM` (default
//! Cognito's `custom:role`, `custom:county`, `custom:unit`). The issuer and every endpoint its
//! discovery names must be `https://`, except on this machine (`http://127.0.0.1`, tests).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;
use swi_domain::Role;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, TxOp};
use tokio::sync::RwLock;

use crate::accounts::Account;
use crate::session::random_token;

/// How long a sign-in may take at the provider.
const PENDING_SECS: i64 = 600;

/// The largest answer read from the provider (discovery, JWKS, token).
const MAX_ANSWER: usize = 256 << 10;

/// How long the provider's keys are kept before they are fetched again.
const JWKS_FOR: Duration = Duration::from_secs(3600);

/// What configures the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer (`iss` of its tokens; discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The portal's client id (the `aud` of its ID tokens).
    pub client_id: String,
    /// The client secret of a confidential client.
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: `{public_url}/signin/callback`.
    pub redirect_uri: String,
    /// What the sign-in button says.
    pub label: String,
    /// The claim carrying a verified ID number (with `name`), if the provider has one.
    pub id_number_claim: Option<String>,
    /// The administrator-managed claims of role, county and unit.
    pub claims: ManagedClaims,
}

/// The names of the administrator-managed claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedClaims {
    /// The role (`acceptor`, …); none: a citizen.
    pub role: String,
    /// The county code (`360702`, or the city's `360700`).
    pub county: String,
    /// An employer's unit.
    pub unit: String,
}

impl Default for ManagedClaims {
    fn default() -> Self {
        ManagedClaims {
            role: "custom:role".into(),
            county: "custom:county".into(),
            unit: "custom:unit".into(),
        }
    }
}

impl OidcConfig {
    /// The configuration from the environment, if an issuer is set.
    ///
    /// # Errors
    /// A set issuer without a client id, or one that is not `https://` (except on loopback).
    pub fn from_env(public_url: &str) -> Result<Option<Self>, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let Some(issuer) = var("SWI_OIDC_ISSUER") else {
            return Ok(None);
        };
        let client_id =
            var("SWI_OIDC_CLIENT_ID").ok_or("SWI_OIDC_ISSUER is set without SWI_OIDC_CLIENT_ID")?;
        let config = OidcConfig {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id,
            client_secret: var("SWI_OIDC_CLIENT_SECRET"),
            redirect_uri: format!("{}/signin/callback", public_url.trim_end_matches('/')),
            label: var("SWI_OIDC_LABEL").unwrap_or_else(|| "统一身份认证登录".to_owned()),
            id_number_claim: var("SWI_OIDC_ID_NUMBER_CLAIM"),
            claims: ManagedClaims {
                role: var("SWI_OIDC_ROLE_CLAIM").unwrap_or_else(|| "custom:role".into()),
                county: var("SWI_OIDC_COUNTY_CLAIM").unwrap_or_else(|| "custom:county".into()),
                unit: var("SWI_OIDC_UNIT_CLAIM").unwrap_or_else(|| "custom:unit".into()),
            },
        };
        config.check()?;
        Ok(Some(config))
    }

    /// Refuses an issuer the browser or the portal would reach in the clear.
    ///
    /// # Errors
    /// Why.
    pub fn check(&self) -> Result<(), String> {
        if self.reachable(&self.issuer) {
            Ok(())
        } else {
            Err(format!(
                "the OIDC issuer must be https:// (got {})",
                self.issuer
            ))
        }
    }

    /// Whether a URL of the provider may be used: `https://`, or loopback when the issuer is.
    fn reachable(&self, url: &str) -> bool {
        let loopback =
            |u: &str| u.starts_with("http://127.0.0.1:") || u.starts_with("http://localhost:");
        url.starts_with("https://") || (loopback(url) && loopback(&self.issuer))
    }
}

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// A sign-in on its way through the provider (`oidc#<sha256(state)>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    verifier: String,
    nonce: String,
    next: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The account for the session.
    pub account: Account,
    /// A real name and ID number the provider verified, if it vouched for one.
    pub real_name: Option<(String, String)>,
}

/// The port: the provider's configuration, its endpoints and keys, and an HTTPS client.
pub struct Oidc {
    config: OidcConfig,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<axum::body::Bytes>>,
    discovery: tokio::sync::OnceCell<Discovery>,
    keys: RwLock<Option<(JwkSet, Instant)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(cause = %e, "identity provider: {what}");
    ApiError::new(
        axum::http::StatusCode::BAD_GATEWAY,
        swi_platform::ErrorCode::Unavailable,
        "统一身份认证服务暂时无法访问，请稍后再试",
        format!("the identity provider failed: {what}"),
    )
}

fn refused(why: &str) -> ApiError {
    tracing::warn!(why, "identity provider sign-in refused");
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        swi_platform::ErrorCode::Unauthenticated,
        "登录未完成或已过期，请重新登录",
        format!("the sign-in was refused: {why}"),
    )
}

fn pending_key(state: &str) -> Key {
    Key::new(
        format!(
            "oidc#{}",
            hex::encode(sha2::Sha256::digest(state.as_bytes()))
        ),
        "pending",
    )
}

impl Oidc {
    /// The port for `config`.
    ///
    /// # Errors
    /// The system's trusted roots cannot be loaded.
    pub fn new(config: OidcConfig) -> Result<Arc<Self>, String> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("trusted roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Arc::new(Oidc {
            config,
            http: Client::builder(TokioExecutor::new()).build(https),
            discovery: tokio::sync::OnceCell::new(),
            keys: RwLock::new(None),
        }))
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    async fn fetch(
        &self,
        req: axum::http::Request<Full<axum::body::Bytes>>,
        what: &str,
    ) -> Result<Value, ApiError> {
        let res = tokio::time::timeout(Duration::from_secs(10), self.http.request(req))
            .await
            .map_err(|e| unavailable(what, e))?
            .map_err(|e| unavailable(what, e))?;
        let status = res.status();
        let body = Limited::new(res.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| unavailable(what, e))?
            .to_bytes();
        let v: Value = serde_json::from_slice(&body).map_err(|e| unavailable(what, e))?;
        if !status.is_success() {
            return Err(refused(&format!(
                "{what} answered {status}: {}",
                v["error"].as_str().unwrap_or_default()
            )));
        }
        Ok(v)
    }

    async fn get(&self, url: &str, what: &str) -> Result<Value, ApiError> {
        let req = axum::http::Request::get(url)
            .header("accept", "application/json")
            .body(Full::default())
            .map_err(|e| unavailable(what, e))?;
        self.fetch(req, what).await
    }

    async fn discovery(&self) -> Result<&Discovery, ApiError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
                let v = self.get(&url, "discovery").await?;
                let d: Discovery =
                    serde_json::from_value(v).map_err(|e| unavailable("discovery", e))?;
                if d.issuer.trim_end_matches('/') != self.config.issuer {
                    return Err(unavailable(
                        "discovery",
                        "its issuer is not the configured one",
                    ));
                }
                for url in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
                    if !self.config.reachable(url) {
                        return Err(unavailable(
                            "discovery",
                            format!("an endpoint in the clear: {url}"),
                        ));
                    }
                }
                Ok(d)
            })
            .await
    }

    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, ApiError> {
        for refetch in [false, true] {
            let fresh = self
                .keys
                .read()
                .await
                .as_ref()
                .is_some_and(|(_, at)| at.elapsed() < JWKS_FOR);
            if refetch || !fresh {
                let uri = self.discovery().await?.jwks_uri.clone();
                let v = self.get(&uri, "keys").await?;
                let set: JwkSet = serde_json::from_value(v).map_err(|e| unavailable("keys", e))?;
                *self.keys.write().await = Some((set, Instant::now()));
            }
            let keys = self.keys.read().await;
            let found = keys.as_ref().and_then(|(set, _)| match kid {
                Some(k) => set.find(k).cloned(),
                None => set.keys.first().cloned(),
            });
            if let Some(jwk) = found {
                return DecodingKey::from_jwk(&jwk).map_err(|e| unavailable("keys", e));
            }
        }
        Err(refused("the token's key is not the provider's"))
    }

    /// Starts a sign-in: where to send the browser (the provider's authorization endpoint with
    /// a fresh state, nonce and PKCE challenge, kept for ten minutes), and the state (the
    /// browser keeps it in a cookie: a callback is taken only from the browser that began).
    ///
    /// # Errors
    /// 502 the provider's discovery; 503 the store.
    pub async fn begin(&self, p: &Platform, next: &str) -> Result<(String, String), ApiError> {
        let d = self.discovery().await?;
        let (state, nonce, verifier) = (random_token()?, random_token()?, random_token()?);
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let k = pending_key(&state);
        let pending = Pending {
            verifier,
            nonce: nonce.clone(),
            next: next.to_owned(),
        };
        p.state
            .transact(vec![TxOp::Put {
                item: Item::new(k.pk, k.sk, &pending)?
                    .expiring_at(swi_store::state::epoch_now() + PENDING_SECS),
                condition: Condition::NotExists,
            }])
            .await?;
        let q = |s: &str| crate::pages::url_encode(s);
        let sep = if d.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!(
            "{}{sep}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            d.authorization_endpoint,
            q(&self.config.client_id),
            q(&self.config.redirect_uri),
            q("openid profile"),
            q(&state),
            q(&nonce),
            q(&challenge),
        );
        Ok((url, state))
    }

    /// Finishes a sign-in: the state must be one this portal issued and not yet used; the code
    /// is exchanged with its verifier; the ID token is checked. Answers who signed in and where
    /// they were going.
    ///
    /// # Errors
    /// 400 a state never issued, used or expired; a token that does not check out; 502 the
    /// provider.
    pub async fn finish(
        &self,
        p: &Platform,
        state: &str,
        code: &str,
    ) -> Result<(SignedIn, String), ApiError> {
        if state.len() > 128 || code.is_empty() || code.len() > 2048 {
            return Err(refused("state or code out of bounds"));
        }
        let k = pending_key(state);
        let item = p
            .state
            .get(&k)
            .await?
            .ok_or_else(|| refused("unknown or used state"))?;
        let pending: Pending = item.body().map_err(|e| ApiError::internal(&e))?;
        // Used once, whatever follows.
        p.state
            .transact(vec![TxOp::Delete {
                key: k,
                condition: Condition::VersionIs(item.version),
            }])
            .await
            .map_err(|_| refused("state used already"))?;
        let d = self.discovery().await?;
        let mut form = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}",
            crate::pages::url_encode(code),
            crate::pages::url_encode(&self.config.redirect_uri),
            crate::pages::url_encode(&self.config.client_id),
            crate::pages::url_encode(&pending.verifier),
        );
        if let Some(secret) = &self.config.client_secret {
            form.push_str(&format!(
                "&client_secret={}",
                crate::pages::url_encode(secret)
            ));
        }
        let req = axum::http::Request::post(&d.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Full::new(axum::body::Bytes::from(form)))
            .map_err(|e| unavailable("token", e))?;
        let tokens = self.fetch(req, "token").await?;
        let id_token = tokens["id_token"]
            .as_str()
            .ok_or_else(|| refused("no ID token"))?;
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|_| refused("malformed ID token"))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::PS256
        ) {
            return Err(refused("an ID token algorithm the portal does not accept"));
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&[&self.config.client_id]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 60;
        let claims: Value = jsonwebtoken::decode(id_token, &key, &v)
            .map_err(|e| refused(&format!("ID token: {e}")))?
            .claims;
        if claims["nonce"].as_str() != Some(pending.nonce.as_str()) {
            return Err(refused("the ID token's nonce is not this sign-in's"));
        }
        Ok((self.signed_in(&claims)?, pending.next))
    }

    fn signed_in(&self, c: &Value) -> Result<SignedIn, ApiError> {
        let text = |k: &str| c[k].as_str().map(str::trim).filter(|s| !s.is_empty());
        let names = &self.config.claims;
        let sub = text("sub").ok_or_else(|| refused("no subject"))?;
        let role = match text(&names.role) {
            None => Role::Citizen,
            Some(r) => serde_json::from_value::<Role>(Value::String(r.to_owned()))
                .map_err(|_| refused("an unknown role claim"))?,
        };
        let county = match (text(&names.county), role) {
            (Some(c), _) => c.to_owned(),
            // A citizen acts for herself; where she lives is not her reach.
            (None, Role::Citizen) => swi_domain::access::CITY_CODE.to_owned(),
            (None, _) => return Err(refused("a staff account without a county claim")),
        };
        let known_place = county == swi_domain::access::CITY_CODE
            || swi_rules::ids::County::parse(&county).is_ok();
        if !known_place {
            return Err(refused("an unknown county claim"));
        }
        let unit = text(&names.unit).map(str::to_owned);
        if role == Role::Employer && unit.is_none() {
            return Err(refused("an employer's account without a unit claim"));
        }
        let given_name = text("name");
        let name = given_name
            .unwrap_or(sub)
            .chars()
            .take(40)
            .collect::<String>();
        // A real name is linked only as the provider states it, whole.
        let real_name = self
            .config
            .id_number_claim
            .as_deref()
            .and_then(&text)
            .filter(|_| role == Role::Citizen)
            .and_then(|id| {
                given_name
                    .filter(|n| n.chars().count() <= 40)
                    .map(|n| (n.to_owned(), id.to_owned()))
            });
        Ok(SignedIn {
            account: Account {
                username: format!("oidc:{sub}"),
                sub: sub.to_owned(),
                role,
                county,
                unit,
                name,
                password: String::new(),
            },
            real_name,
        })
    }
}
