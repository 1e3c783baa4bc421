//! Lambda wiring of the daily retirement-age check (Art. 8), run by EventBridge Scheduler: the
//! same job as `swi run retirement-check`, on DynamoDB and S3.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let platform = swi_enrollment::aws_platform().await?;
    let platform = &platform;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = swi_enrollment::jobs::retirement_check(platform, platform.clock.today(), 12)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.en))?;
        Ok::<Value, lambda_runtime::Error>(json!(report))
    }))
    .await
}
