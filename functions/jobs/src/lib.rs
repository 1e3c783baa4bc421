//! The jobs host. [`all`] is every step's jobs in one list — the list `swi run`, the `swi serve`
//! worker and the Lambda function run from — and [`handle`] is what the one `JobsFunction` does
//! with an invocation: read which jobs the event wakes (`swi_platform::jobs::woken`: stream
//! records of `jobs#<name>` pointers, a schedule's `{"sweep": true}` or `{"job": <name>}`, S3
//! records) and run them until the invocation's deadline. A new step adds its jobs to [`all`]
//! and nothing else: no new function, no new stream reader.

use std::time::Instant;

use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::jobs::{self, Job};

/// Every job of every step.
#[must_use]
pub fn all() -> Vec<Box<dyn Job>> {
    let mut all: Vec<Box<dyn Job>> = vec![Box::new(swi_platform::documents::IncomingSweep)];
    all.extend(swi_enrollment::jobs());
    all.extend(swi_premium_billing::jobs());
    all.extend(swi_payment_batch::jobs());
    all.extend(swi_archiving::jobs());
    all.extend(swi_supervision::jobs());
    all
}

/// Runs the jobs `event` wakes, from `all`, until `deadline`; answers their reports. A job that
/// reports failed pieces, or cannot reach the store, fails the invocation (so that the stream or
/// the scheduler retries, and it shows).
///
/// # Errors
/// An event of no known shape, a job name no job has, a job that could not run, or failed
/// pieces.
pub async fn handle(
    p: &Platform,
    all: &[Box<dyn Job>],
    event: &Value,
    deadline: Instant,
) -> Result<Value, String> {
    let woken = jobs::woken(event)?;
    // Objects the bucket says were created are recorded first: nothing in it is unknown.
    let stored = match &woken {
        jobs::Woken::Documents(objects) => swi_archiving::stored::record(p, objects)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.en))?,
        _ => 0,
    };
    let selected = jobs::select(all, &woken)?;
    let reports = jobs::run_all(p, &selected, deadline)
        .await
        .map_err(|(done, e)| {
            format!(
                "{}: {} (after {})",
                e.code,
                e.en,
                done.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| !r.errors.is_empty())
        .map(ToString::to_string)
        .collect();
    if !failed.is_empty() {
        return Err(format!("not done: {}", failed.join("; ")));
    }
    Ok(json!({ "woken": format!("{woken:?}"), "stored": stored, "reports": reports }))
}

/// The event to run again for a message of the dead-letter queue: a schedule's or the bucket's
/// rule's event as it was (their dead letters carry it as sent); an asynchronous invocation's
/// failure record unwrapped to the event it was invoked with (`requestPayload`); a stream batch
/// that failed (its records are not in the letter, only their place) as the sweep, since every
/// pointer job and every follower of the ledger resumes from what is stored. `None` for a
/// message of no known shape (it stays in the queue, and shows).
#[must_use]
pub fn replayed(body: &Value) -> Option<Value> {
    if let Some(payload) = body.get("requestPayload") {
        return replayed(payload);
    }
    if body.get("DDBStreamBatchInfo").is_some() {
        return Some(json!({ "sweep": true }));
    }
    jobs::woken(body).ok().map(|_| body.clone())
}
