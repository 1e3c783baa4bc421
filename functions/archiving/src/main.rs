//! Lambda wiring of the archiving step: the platform from the environment, the router behind
//! API Gateway v2 with the authorizer's claims (`swi_platform::lambda`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let platform = swi_platform::lambda::platform().await?;
    swi_platform::lambda::serve(swi_archiving::router(platform)).await
}
