//! The contract suite on DynamoDB + S3 (LocalStack in CI). Needs `SWI_TABLE`, `SWI_BUCKET` and
//! `AWS_ENDPOINT_URL` (or real AWS credentials); `infra/test` starts LocalStack, creates a fresh
//! table and bucket from template.yaml and runs these with `--ignored`.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use async_trait::async_trait;
use swi_store::contract::{self, Harness};
use swi_store::docs::{Documents, Sha256};
use swi_store::state::StateStore;
use swi_store_aws::{DynamoState, S3Documents};

struct Aws {
    state: DynamoState,
    docs: S3Documents,
    run_id: String,
}

#[async_trait]
impl Harness for Aws {
    fn state(&self) -> &dyn StateStore {
        &self.state
    }
    fn docs(&self) -> &dyn Documents {
        &self.docs
    }
    fn run_id(&self) -> &str {
        &self.run_id
    }
    async fn corrupt(&self, sha256: &Sha256, bytes: &[u8]) {
        // A tampered object: overwritten behind the store's back (a new version, unchecked).
        self.docs
            .client()
            .put_object()
            .bucket(self.docs.bucket())
            .key(sha256.key())
            .body(bytes.to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

async fn harness() -> Aws {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    Aws {
        state,
        docs,
        run_id: format!("t{nanos}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack"]
async fn the_aws_backend_meets_the_contract() {
    contract::run_all(&harness().await).await;
}

/// DynamoDB's TTL deletes what the store already reads as absent: an item past its
/// `expires_at` is gone from `get` at once and, once LocalStack's expiry endpoint has run the TTL
/// sweep (LocalStack deletes expired items only when asked), gone from the table itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack"]
async fn expired_items_are_deleted_by_the_tables_ttl() {
    use swi_store::{Condition, Item, Key, TxOp};
    let h = harness().await;
    let pk = format!("{}#ttl", h.run_id);
    let past = swi_store::state::epoch_now() - 5;
    h.state
        .transact(vec![TxOp::Put {
            item: Item::new(&pk, "old", &serde_json::json!({}))
                .unwrap()
                .expiring_at(past),
            condition: Condition::NotExists,
        }])
        .await
        .unwrap();
    assert_eq!(h.state.get(&Key::new(&pk, "old")).await.unwrap(), None);
    let raw = || async {
        h.state
            .client()
            .get_item()
            .table_name(h.state.table())
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("old".into()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    };
    assert!(raw().await.is_some(), "stored until the TTL sweep");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("LocalStack's endpoint");
    let host = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("DELETE /_aws/dynamodb/expired HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut s, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(raw().await.is_none(), "deleted by the TTL sweep");
}

/// The store checks signatures (LocalStack runs with `S3_SKIP_SIGNATURE_VALIDATION=0`): a
/// presigned PUT whose signature was altered is refused. (LocalStack checks a form's policy
/// conditions, type, size, key and expiry, but not yet its signature: the embedded stand-in's
/// test covers a forged form.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack"]
async fn a_forged_presigned_upload_is_refused() {
    let h = harness().await;
    let body = format!("{} forged", h.run_id).into_bytes();
    let sha = Sha256::of(&body);
    let id = swi_store::docs::UploadId::random().unwrap();
    let p = h
        .docs
        .presign_put(
            &id,
            &sha,
            body.len() as u64,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    let at = p.url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut forged = p.url.clone();
    let flip = if &forged[at..=at] == "0" { "1" } else { "0" };
    forged.replace_range(at..=at, flip);
    assert_eq!(contract::http_put(&forged, &p.headers, &body).await, 403);
    assert!(matches!(
        h.docs.register(&id, 1 << 20).await,
        Err(swi_store::DocError::NotFound(_))
    ));
    assert!(
        (200..300).contains(&contract::http_put(&p.url, &p.headers, &body).await),
        "the genuine URL works"
    );
    assert_eq!(h.docs.register(&id, 1 << 20).await.unwrap().sha256, sha);
}

/// Retention on S3 Object Lock (COMPLIANCE): the contract, S3 itself refusing the removal of
/// a locked version (what LocalStack enforces: a COMPLIANCE lock is neither shortened nor
/// passed by a delete of the version; real AWS also checks the caller's IAM rights).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack"]
async fn the_aws_backend_keeps_documents_for_their_period() {
    let h = harness().await;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let today = chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap() + 8 * 3600, 0)
        .unwrap()
        .date_naive();
    contract::retention(&h, today).await;
    // Past the check swi makes itself, S3 refuses too: the locked version is still there.
    let sha = h
        .docs
        .put(&mut format!("{} locked", h.run_id).as_bytes())
        .await
        .unwrap()
        .sha256;
    let tomorrow = today.succ_opt().unwrap();
    h.docs
        .keep(&sha, swi_store::Keep::Until(tomorrow))
        .await
        .unwrap();
    let (client, bucket) = (h.docs.client(), h.docs.bucket());
    let version = client
        .head_object()
        .bucket(bucket)
        .key(sha.key())
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned);
    let deleted = client
        .delete_object()
        .bucket(bucket)
        .key(sha.key())
        .set_version_id(version)
        .send()
        .await;
    assert!(deleted.is_err(), "a locked version was deleted");
    assert!(h.docs.exists(&sha).await.unwrap());
}

/// What the bucket's lock does: a filed document is under legal hold, so none of its versions
/// can be deleted; an upload under `incoming/` is not, so an abandoned upload can be removed
/// (the bucket has no default retention any more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack"]
async fn filed_documents_are_held_and_uploads_are_not() {
    use aws_sdk_s3::types::ObjectLockLegalHoldStatus;
    let h = harness().await;
    let (client, bucket) = (h.docs.client(), h.docs.bucket());
    let filed = h
        .docs
        .put(&mut format!("{} filed", h.run_id).as_bytes())
        .await
        .unwrap()
        .sha256;
    let hold = client
        .get_object_legal_hold()
        .bucket(bucket)
        .key(filed.key())
        .send()
        .await
        .unwrap();
    assert_eq!(
        hold.legal_hold().and_then(|l| l.status()),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    let version = client
        .head_object()
        .bucket(bucket)
        .key(filed.key())
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned);
    let deleted = client
        .delete_object()
        .bucket(bucket)
        .key(filed.key())
        .set_version_id(version)
        .send()
        .await;
    assert!(deleted.is_err(), "a held version was deleted");

    let upload = format!("{} abandoned", h.run_id).into_bytes();
    let sha = Sha256::of(&upload);
    let put = client
        .put_object()
        .bucket(bucket)
        .key(sha.incoming_key())
        .body(upload.into())
        .send()
        .await
        .unwrap();
    client
        .delete_object()
        .bucket(bucket)
        .key(sha.incoming_key())
        .set_version_id(put.version_id().map(str::to_owned))
        .send()
        .await
        .expect("an upload is not locked");
}
