//! Lambda wiring of the declaration job (Art. 18): applies approved monthly declarations, the
//! same job as `swi run declaration-apply`, on DynamoDB and S3. Woken by the table's stream
//! (writes of the job's pointers, filtered in `template.yaml`) and swept on a schedule; the
//! event itself is not read: every run looks at every declaration still being applied.

use std::time::{Duration, Instant, SystemTime};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Time kept back from the invocation's deadline for the last transaction and the answer.
const MARGIN: Duration = Duration::from_secs(20);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let platform = swi_enrollment::aws_platform().await?;
    let platform = &platform;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(MARGIN);
        let report = swi_enrollment::jobs::declaration_apply(platform, Instant::now() + left)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.en))?;
        if !report.errors.is_empty() {
            // Fail the invocation so that the stream or the scheduler retries, and it shows.
            return Err(format!("not applied: {}", report.errors.join(", ")).into());
        }
        Ok::<Value, lambda_runtime::Error>(json!(report))
    }))
    .await
}
