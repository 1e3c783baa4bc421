//! What every Lambda function of swi needs around its step: the [`Platform`] built from the
//! environment the template sets (the store from `swi_store::config::StoreConfig`, the
//! parameters of `SWI_PARAMS`, the person-key secret from Secrets Manager), and the Cognito
//! claims that API Gateway's JWT authorizer verified handed to the handlers as
//! [`GatewayClaims`]. Nothing a client sends — a header, a body — is ever taken for claims:
//! only the authorizer's context of the API Gateway v2 event.

use std::sync::Arc;

use lambda_http::request::RequestContext;
use swi_store::config::StoreConfig;

use crate::Platform;
use crate::auth::{Claims, GatewayClaims, TokenKeys};
use crate::pseudonym::PersonKeys;

/// The platform of a Lambda function: DynamoDB and S3 as `StoreConfig` reads them (the
/// template sets `SWI_STORE=aws`, `SWI_TABLE`, `SWI_BUCKET`; `AWS_ENDPOINT_URL` when a test
/// sets it), the parameters of `SWI_PARAMS` when set, the system clock (moved to `SWI_TODAY`
/// when a test sets it; the template never does), and a per-process token secret: in AWS the
/// API's authorizer verifies tokens, so no locally signed token is ever accepted. The
/// person-key secret is read from Secrets Manager (`SWI_PERSON_KEY_SECRET`), or from the file
/// `SWI_PERSON_KEY_FILE` names when a test sets it.
///
/// # Errors
/// The configuration is not `aws`, a variable is missing, a parameter file is refused, or no
/// randomness for the secret.
pub async fn platform() -> Result<Platform, String> {
    let StoreConfig::Aws {
        table,
        bucket,
        endpoint,
    } = StoreConfig::from_env().map_err(|e| e.to_string())?
    else {
        return Err("a Lambda function runs on SWI_STORE=aws".into());
    };
    let (state, docs) = swi_store_aws::open(&table, &bucket, endpoint.as_deref()).await;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    let person_secret = match std::env::var("SWI_PERSON_KEY_FILE") {
        Ok(file) => std::fs::read(&file).map_err(|e| format!("{file}: {e}"))?,
        Err(_) => {
            let id = std::env::var("SWI_PERSON_KEY_SECRET")
                .map_err(|_| "SWI_PERSON_KEY_SECRET is not set")?;
            swi_store_aws::secret(&id, endpoint.as_deref()).await?
        }
    };
    let params = crate::params::load(
        std::env::var_os("SWI_PARAMS")
            .as_deref()
            .map(std::path::Path::new),
    )?;
    Ok(Platform {
        state: Arc::new(state),
        docs: Arc::new(docs),
        tokens: Arc::new(TokenKeys::from_secret(&secret)),
        persons: Arc::new(PersonKeys::from_secret(&person_secret)?),
        clock: crate::clock::from_env(None)?,
        base_params: Arc::new(params),
        city_params: Default::default(),
        public_url: std::env::var("SWI_PUBLIC_URL").unwrap_or_default(),
    })
}

/// Cognito claims of the API Gateway v2 authorizer → swi claims (custom attributes
/// `custom:role`, `custom:county`, `custom:unit`). None for any other context, or when `sub`,
/// `custom:role` or `custom:county` is missing.
#[must_use]
pub fn gateway_claims(ctx: &RequestContext) -> Option<Claims> {
    let RequestContext::ApiGatewayV2(ctx) = ctx else {
        return None;
    };
    let c = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let get = |k: &str| c.get(k).cloned();
    Some(Claims {
        sub: get("sub")?,
        role: get("custom:role")?,
        county: get("custom:county")?,
        name: get("name").unwrap_or_default(),
        unit: get("custom:unit"),
        iss: get("iss").unwrap_or_default(),
        iat: get("iat").and_then(|v| v.parse().ok()).unwrap_or(0),
        exp: get("exp").and_then(|v| v.parse().ok()).unwrap_or(0),
    })
}

/// Middleware: the authorizer's claims, when the event has them, as [`GatewayClaims`].
pub async fn with_claims(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let claims = req
        .extensions()
        .get::<RequestContext>()
        .and_then(gateway_claims);
    if let Some(c) = claims {
        req.extensions_mut().insert(GatewayClaims(c));
    }
    next.run(req).await
}

/// Serves a step's router as a Lambda function behind API Gateway v2.
///
/// # Errors
/// The runtime fails.
pub async fn serve(router: axum::Router) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    lambda_http::run(router.layer(axum::middleware::from_fn(with_claims))).await
}
