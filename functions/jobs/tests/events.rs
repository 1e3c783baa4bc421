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

    // The sweep runs every pointer job and every job that follows the ledger, and no daily one;
    // an S3 batch does the same.
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
                "archive",
                "archive-dispose",
                "risk-watch",
                "statistics"
            ],
            "{answer}"
        );
    }

    // A change's audit event on the stream wakes the jobs that follow the ledger (with the
    // pointer jobs it names), and nothing else.
    let change = json!({ "Records": [
        { "eventSource": "aws:dynamodb", "eventName": "INSERT",
          "dynamodb": { "Keys": { "pk": { "S": "audit#unit#91360702MA35G6QL6T" }, "sk": { "S": "seq#000000000001" } } } },
        { "eventSource": "aws:dynamodb", "eventName": "INSERT",
          "dynamodb": { "Keys": { "pk": { "S": "jobs#billing" }, "sk": { "S": "2026-03" } } } }
    ]});
    let answer = swi_jobs::handle(&p, &all, &change, later()).await.unwrap();
    let names: Vec<&str> = answer["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["job"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["billing", "risk-watch", "statistics"], "{answer}");

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

/// The bucket's object-created events (recorded: AWS's shape, keys URL-encoded with `+` for a
/// space) register every object: a filed document under its content address, an upload until it
/// expires, anything else as unknown with one alert; a removal registers nothing, and an event
/// delivered twice writes the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_the_bucket_reports_are_registered() {
    let dir = tempfile::tempdir().unwrap();
    let p = seed::embedded(dir.path());
    let all = swi_jobs::all();
    let hex = "5e".repeat(32);
    let record = |name: &str, key: &str| {
        json!({
            "eventVersion": "2.4", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-06-15T01:30:00.000Z", "eventName": name,
            "s3": { "s3SchemaVersion": "1.0", "configurationId": "documents",
                "bucket": { "name": "swi-docs", "arn": "arn:aws:s3:::swi-docs" },
                "object": { "key": key, "size": 2048, "eTag": "e", "versionId": "v1", "sequencer": "0A" } }
        })
    };
    let event = json!({ "Records": [
        record("ObjectCreated:Copy", &format!("sha256/{hex}")),
        record("ObjectCreated:Put", "incoming/upload-0123456789abcdef0123456789abcdef"),
        record("ObjectCreated:Put", "stray/%E6%89%AB%E6%8F%8F+1.pdf"),
        record("ObjectRemoved:Delete", &format!("sha256/{}", "77".repeat(32))),
    ]});
    for _ in 0..2 {
        let answer = swi_jobs::handle(&p, &all, &event, later()).await.unwrap();
        assert_eq!(answer["stored"], 3, "{answer}");
    }
    let filed = p
        .state
        .get(&Key::new(format!("doc#{hex}"), "stored"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(filed.body["area"], "filed");
    assert_eq!(filed.body["version"], "v1");
    assert!(
        p.state
            .get(&Key::new(
                "incoming#incoming/upload-0123456789abcdef0123456789abcdef",
                "stored"
            ))
            .await
            .unwrap()
            .is_some()
    );
    let unknown = p
        .state
        .get(&Key::new("bucket-unknown", "stray/扫描 1.pdf"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unknown.body["area"], "unknown", "the key decoded");
    let id = format!(
        "bucket_unknown:{}",
        &swi_store::Sha256::of("stray/扫描 1.pdf".as_bytes()).hex()[..32]
    );
    let alert = p
        .state
        .get(&swi_platform::alerts::alert_key(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alert.version, 1, "raised once, though delivered twice");
    assert!(
        p.state
            .get(&Key::new(format!("doc#{}", "77".repeat(32)), "stored"))
            .await
            .unwrap()
            .is_none(),
        "a removal registers nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_reported_through_eventbridge_are_registered() {
    let dir = tempfile::tempdir().unwrap();
    let p = seed::embedded(dir.path());
    let all = swi_jobs::all();
    let hex = "6a".repeat(32);
    // As S3 sends it to EventBridge, and the template's rule passes it on: the key as it is.
    let event = json!({
        "version": "0", "id": "2b9a3c9e-0000-4000-8000-000000000001",
        "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
        "time": "2026-06-15T01:30:00Z", "region": "cn-north-1",
        "resources": ["arn:aws-cn:s3:::swi-docs"],
        "detail": {
            "version": "0", "bucket": { "name": "swi-docs" },
            "object": { "key": format!("sha256/{hex}"), "size": 4096, "etag": "e",
                "version-id": "v7", "sequencer": "0B" },
            "request-id": "R", "requester": "123456789012", "reason": "CopyObject"
        }
    });
    for _ in 0..2 {
        let answer = swi_jobs::handle(&p, &all, &event, later()).await.unwrap();
        assert_eq!(answer["stored"], 1, "{answer}");
    }
    let filed = p
        .state
        .get(&Key::new(format!("doc#{hex}"), "stored"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(filed.body["area"], "filed");
    assert_eq!(filed.body["version"], "v7");
    assert_eq!(filed.body["size"], 4096);
    // Another kind of S3 event the rule would not pass on registers nothing.
    let mut removed = event.clone();
    removed["detail-type"] = json!("Object Deleted");
    let answer = swi_jobs::handle(&p, &all, &removed, later()).await.unwrap();
    assert_eq!(answer["stored"], 0, "{answer}");
}

#[test]
fn dead_letters_are_replayed_as_the_events_they_were() {
    // A schedule's dead letter is its input; the bucket's rule's is its event.
    let scheduled = json!({ "job": "audit-anchor" });
    assert_eq!(swi_jobs::replayed(&scheduled), Some(scheduled.clone()));
    let object = json!({ "source": "aws.s3", "detail-type": "Object Created", "time": "2026-06-15T01:00:00Z",
        "detail": { "bucket": { "name": "b" }, "object": { "key": "sha256/00", "size": 3 } } });
    assert_eq!(swi_jobs::replayed(&object), Some(object.clone()));
    // An asynchronous invocation's failure record carries the event it was invoked with.
    let invocation = json!({ "version": "1.0", "timestamp": "2026-06-15T01:00:00Z",
        "requestContext": { "requestId": "r", "condition": "RetriesExhausted", "approximateInvokeCount": 3 },
        "requestPayload": { "job": "statistics" }, "responseContext": { "statusCode": 200 } });
    assert_eq!(
        swi_jobs::replayed(&invocation),
        Some(json!({ "job": "statistics" }))
    );
    // A stream batch's letter has only its place: the sweep resumes every job from the store.
    let stream = json!({ "requestContext": { "condition": "RetryAttemptsExhausted" },
        "DDBStreamBatchInfo": { "shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "9", "batchSize": 9 } });
    assert_eq!(swi_jobs::replayed(&stream), Some(json!({ "sweep": true })));
    // Anything else stays in the queue.
    assert_eq!(swi_jobs::replayed(&json!({ "what": "?" })), None);
}
