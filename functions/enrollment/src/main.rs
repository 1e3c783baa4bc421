//! Lambda wiring of the enrollment step: configuration from the environment, clients built once,
//! the Cognito claims that API Gateway verified handed to the router, then `lambda_http::run`.

use lambda_http::request::RequestContext;
use lambda_http::{Error, run};
use swi_platform::auth::{Claims, GatewayClaims};

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
    let platform = swi_enrollment::aws_platform().await?;
    let app = swi_enrollment::router(platform).layer(axum::middleware::from_fn(with_claims));
    run(app).await
}
