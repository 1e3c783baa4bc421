//! The `JobsFunction`: the platform from the environment, then every invocation handed to
//! [`swi_jobs::handle`] with the invocation's deadline less a margin for the last transaction.

use std::time::{Duration, Instant, SystemTime};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;

/// Time kept back from the invocation's deadline for the last transaction and the answer.
const MARGIN: Duration = Duration::from_secs(20);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let platform = swi_platform::lambda::platform().await?;
    let platform = &platform;
    let jobs = swi_jobs::all();
    let jobs = &jobs;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(MARGIN);
        swi_jobs::handle(platform, jobs, &event.payload, Instant::now() + left)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
