//! The JobsFunction's bootstrap as AWS runs it, on DynamoDB and S3 (LocalStack, `--ignored`,
//! from infra/test): a stand-in of the Lambda Runtime API (`swi_testing`) hands it a recorded
//! stream batch and the daily schedule's event, and takes its answers.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod seed;

use std::sync::Arc;

use serde_json::json;
use swi_enrollment::declarations::{Declaration, ReviewStatus};
use swi_store::Key;
use swi_testing::{answer, bootstrap, runtime_api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn the_jobs_function_runs_on_dynamodb_and_s3() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let (table, bucket, endpoint) = (var("SWI_TABLE"), var("SWI_BUCKET"), var("AWS_ENDPOINT_URL"));
    let (state, docs) = swi_store_aws::open(&table, &bucket, Some(&endpoint)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut p = seed::embedded(dir.path());
    p.state = Arc::new(state);
    p.docs = Arc::new(docs);
    let store_env = [
        ("SWI_STORE", "aws".to_owned()),
        ("SWI_TABLE", table.clone()),
        ("SWI_BUCKET", bucket.clone()),
        ("AWS_ENDPOINT_URL", endpoint.clone()),
    ];
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let s = seed::declaration(&p, &format!("d-lambda-{run}")).await;

    let (addr, mut rx) =
        runtime_api(vec![("stream-1".into(), seed::stream_event(&table, &s.id))]).await;
    let _job = bootstrap(env!("CARGO_BIN_EXE_jobs"), addr, &store_env);
    let report = answer(&mut rx, "stream-1").await;
    assert_eq!(
        (&report["reports"][0]["job"], &report["reports"][0]["done"]),
        (&json!("declaration-apply"), &json!(s.rows)),
        "{report}"
    );
    let d: Declaration = p
        .state
        .get(&Key::new(format!("declaration#{}", s.id), "profile"))
        .await
        .unwrap()
        .unwrap()
        .body()
        .unwrap();
    assert_eq!(
        (d.status, d.applied, d.cursor),
        (ReviewStatus::Approved, s.rows, s.rows)
    );

    // The daily schedule's event: the joiner who reaches the retirement age today is the one
    // reminder.
    seed::retirement_pointer(&p, &s).await;
    let (addr, mut rx) = runtime_api(vec![(
        "daily-1".into(),
        json!({ "job": "retirement-check" }),
    )])
    .await;
    let _daily = bootstrap(env!("CARGO_BIN_EXE_jobs"), addr, &store_env);
    let report = answer(&mut rx, "daily-1").await;
    assert_eq!(
        (
            &report["reports"][0]["job"],
            &report["reports"][0]["detail"]["seen"],
            &report["reports"][0]["done"]
        ),
        (&json!("retirement-check"), &json!(1), &json!(1)),
        "{report}"
    );
}
