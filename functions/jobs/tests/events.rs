//! The JobsFunction's handler with recorded events, as AWS delivers them (LocalStack runs no
//! Lambda triggers, so these are the events' recorded shapes): a DynamoDB stream batch (KEYS_ONLY)
//! with a `jobs#declaration-apply` pointer, the daily schedule's `{"job": "retirement-check"}`,
//! the sweep's `{"sweep": true}`, an S3 batch; and what must fail and show. On the embedded store
//! here; `lambda.rs` runs the same events through the real bootstrap on LocalStack.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod seed;

use std::time::{Duration, Instant};

use serde_json::json;
use swi_enrollment::declarations::{Declaration, ReviewStatus};
use swi_store::Key;

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_events_wake_the_jobs_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = seed::embedded(dir.path());
    let all = swi_jobs::all();
    let s = seed::declaration(&p, "d-events").await;

    // A stream batch naming the declaration job's pointer: only that job runs, and applies
    // every row (more than one transaction's worth).
    let answer = swi_jobs::handle(&p, &all, &seed::stream_event("table", "d-events"), later())
        .await
        .unwrap();
    let reports = answer["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{answer}");
    assert_eq!(
        (
            &reports[0]["job"],
            &reports[0]["done"],
            &reports[0]["pending"]
        ),
        (&json!("declaration-apply"), &json!(s.rows), &json!(0)),
        "{answer}"
    );
    let d: Declaration = p
        .state
        .get(&Key::new("declaration#d-events", "profile"))
        .await
        .unwrap()
        .unwrap()
        .body()
        .unwrap();
    assert_eq!((d.status, d.applied), (ReviewStatus::Approved, s.rows));

    // The sweep runs every pointer job and no daily one; an S3 batch does the same.
    for event in [json!({ "sweep": true }), seed::s3_event()] {
        let answer = swi_jobs::handle(&p, &all, &event, later()).await.unwrap();
        let names: Vec<&str> = answer["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["job"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "unit-cancel",
                "declaration-apply",
                "roster-import",
                "unit-move",
                "billing",
                "receipts-apply",
                "rerating-apply",
                "payment-runs",
                "payment-returns",
                "archive"
            ],
            "{answer}"
        );
    }

    // The daily schedule names its job: one joiner reaches the retirement age today, and her
    // unit gets exactly one reminder, once.
    seed::retirement_pointer(&p, &s).await;
    let daily = json!({ "job": "retirement-check" });
    let answer = swi_jobs::handle(&p, &all, &daily, later()).await.unwrap();
    assert_eq!(
        (
            &answer["reports"][0]["detail"]["seen"],
            &answer["reports"][0]["done"]
        ),
        (&json!(1), &json!(1)),
        "{answer}"
    );
    let again = swi_jobs::handle(&p, &all, &daily, later()).await.unwrap();
    assert_eq!(again["reports"][0]["done"], json!(0), "{again}");
}

#[tokio::test]
async fn events_that_name_nothing_known_fail_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let p = seed::embedded(dir.path());
    let all = swi_jobs::all();
    let unknown_pointer = json!({ "Records": [{
        "eventSource": "aws:dynamodb", "eventName": "INSERT",
        "dynamodb": { "Keys": { "pk": { "S": "jobs#no-such-job" }, "sk": { "S": "x" } } }
    }]});
    for (event, why) in [
        (unknown_pointer, "no job is called `no-such-job`"),
        (json!({ "job": "retirement-chek" }), "no job is called"),
        (json!({}), "neither stream records"),
        (
            json!({ "Records": [{ "eventSource": "aws:sqs" }] }),
            "aws:sqs",
        ),
        (
            json!({ "Records": [{ "eventSource": "aws:dynamodb",
                "dynamodb": { "Keys": { "pk": { "S": "jobs#retirement-check" } } } }] }),
            "not woken by pointers",
        ),
    ] {
        let err = swi_jobs::handle(&p, &all, &event, later())
            .await
            .unwrap_err();
        assert!(err.contains(why), "{event}: {err}");
    }
    // A stream record of anything but a job's pointer wakes nothing.
    let other = json!({ "Records": [{ "eventSource": "aws:dynamodb",
        "dynamodb": { "Keys": { "pk": { "S": "unit#91360702MA35K8TN2H" } } } }] });
    let answer = swi_jobs::handle(&p, &all, &other, later()).await.unwrap();
    assert_eq!(answer["reports"], json!([]), "{answer}");
}
