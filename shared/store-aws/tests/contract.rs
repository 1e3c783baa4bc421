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
