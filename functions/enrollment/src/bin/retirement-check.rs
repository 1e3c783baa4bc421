//! Lambda wiring of the daily retirement-age check (Art. 8), run by EventBridge Scheduler: the
//! same job as `swi run retirement-check`, on DynamoDB and S3.

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::auth::TokenKeys;
use swi_platform::clock::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let table = std::env::var("SWI_TABLE").map_err(|_| "SWI_TABLE is not set")?;
    let bucket = std::env::var("SWI_BUCKET").map_err(|_| "SWI_BUCKET is not set")?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) = swi_store_aws::open(&table, &bucket, endpoint.as_deref()).await;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    let platform = Platform {
        state: Arc::new(state),
        docs: Arc::new(docs),
        tokens: Arc::new(TokenKeys::from_secret(&secret)),
        clock: Arc::new(SystemClock),
    };
    let platform = &platform;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = swi_enrollment::jobs::retirement_check(platform, platform.clock.today(), 12)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.en))?;
        Ok::<Value, lambda_runtime::Error>(json!(report))
    }))
    .await
}
