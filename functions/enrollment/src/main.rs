//! Lambda wiring of the enrollment step: configuration from the environment, clients built once,
//! the Cognito claims that API Gateway verified handed to the router, then `lambda_http::run`.

use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Error, run};
use swi_platform::Platform;
use swi_platform::auth::{Claims, GatewayClaims, TokenKeys};
use swi_platform::clock::SystemClock;

/// Cognito claims → swi claims (custom attributes `custom:role`, `custom:county`, `custom:unit`).
fn gateway_claims(ctx: &RequestContext) -> Option<Claims> {
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

async fn with_claims(
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

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var("SWI_TABLE").map_err(|_| "SWI_TABLE is not set")?;
    let bucket = std::env::var("SWI_BUCKET").map_err(|_| "SWI_BUCKET is not set")?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) = swi_store_aws::open(&table, &bucket, endpoint.as_deref()).await;
    // Tokens are verified by the gateway; a per-process secret makes any other token fail.
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    let platform = Platform {
        state: Arc::new(state),
        docs: Arc::new(docs),
        tokens: Arc::new(TokenKeys::from_secret(&secret)),
        clock: Arc::new(SystemClock),
    };
    let app = swi_enrollment::router(platform).layer(axum::middleware::from_fn(with_claims));
    run(app).await
}
