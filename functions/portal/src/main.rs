//! The `PortalFunction`: the portal's pages behind the HTTP API's `$default` route. It keeps
//! its own sessions (no authorizer on that route) and calls every step's routes in process;
//! sign-in through the user pool where `SWI_OIDC_ISSUER` names it.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let platform = swi_platform::lambda::platform().await?;
    let oidc = swi_portal::oidc::OidcConfig::from_env(&platform.public_url)?
        .map(swi_portal::oidc::Oidc::new)
        .transpose()?;
    let (api, _) = swi_platform::api::app(
        platform.clone(),
        vec![
            swi_enrollment::routes(),
            swi_claim_review::routes(),
            swi_premium_billing::routes(),
            swi_payment_batch::routes(),
            swi_archiving::routes(),
            swi_supervision::routes(),
        ],
    );
    swi_platform::telemetry::init();
    lambda_http::run(swi_portal::router(platform, api, oidc)).await
}
