//! `swi jobs replay` on LocalStack's SQS and the AWS backend: the dead letters of a schedule, an
//! asynchronous invocation and a stream batch are worked again on the store and deleted; a
//! message of no known shape is left, and the command says so and exits non-zero.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::process::Command;

mod support;

use support::TODAY;
use swi_store_aws::dead_letters::DeadLetters;

fn replay(queue: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_swi"))
        .args(["jobs", "replay", "--queue", queue])
        .env("SWI_TODAY", TODAY)
        .env("SWI_STORE", "aws")
        .output()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs DynamoDB, S3 and SQS: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn dead_letters_are_worked_again_and_deleted() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let name = format!("swi-dead-letters-{}", std::process::id());
    let url = DeadLetters::create(&name, endpoint.as_deref())
        .await
        .unwrap();
    let q = DeadLetters::open(&url, endpoint.as_deref()).await;
    for body in [
        r#"{"job":"audit-anchor"}"#,
        r#"{"version":"1.0","requestContext":{"condition":"RetriesExhausted"},"requestPayload":{"job":"statistics"}}"#,
        r#"{"requestContext":{"condition":"RetryAttemptsExhausted"},"DDBStreamBatchInfo":{"shardId":"s","batchSize":3}}"#,
        r#"{"what":"?"}"#,
    ] {
        q.send(body).await.unwrap();
    }
    let out = replay(&url);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "a message was left: {text}");
    assert!(text.contains("3 worked and deleted, 1 left"), "{text}");
    assert!(text.contains("a message of no known shape"), "{text}");
    // Only good letters: all worked, the queue empty, exit 0.
    let url2 = DeadLetters::create(&format!("{name}-b"), endpoint.as_deref())
        .await
        .unwrap();
    let q2 = DeadLetters::open(&url2, endpoint.as_deref()).await;
    q2.send(r#"{"sweep":true}"#).await.unwrap();
    let out = replay(&url2);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 worked and deleted, 0 left"), "{text}");
    assert!(q2.receive(0).await.unwrap().is_empty());
}
