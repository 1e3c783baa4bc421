//! Lambda wiring of the pointer-woken jobs of the enrollment step, on DynamoDB and S3: the
//! declaration job (Art. 18, `swi run declaration-apply`) and the cancellation job (Art. 10,
//! `swi run unit-cancel`). Woken by the table's stream (writes of the jobs' pointers, filtered in
//! `template.yaml`) and swept on a schedule; the event itself is not read: every run looks at
//! every pointer of both jobs.

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
        let deadline = Instant::now() + left;
        let cancelled = swi_enrollment::jobs::unit_cancel(platform, deadline)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.en))?;
        let report = swi_enrollment::jobs::declaration_apply(platform, deadline)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.en))?;
        if !report.errors.is_empty() {
            // Fail the invocation so that the stream or the scheduler retries, and it shows.
            return Err(format!("not applied: {}", report.errors.join(", ")).into());
        }
        let mut answer = json!(report);
        answer["unit_cancel"] = json!(cancelled);
        Ok::<Value, lambda_runtime::Error>(answer)
    }))
    .await
}
