//! Lambda wiring of the supervision step: the platform from the environment, the router behind
//! API Gateway v2 with the authorizer's claims (`swi_platform::lambda`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let platform = swi_platform::lambda::platform().await?;
    swi_platform::lambda::serve(swi_supervision::router(platform)).await
}
