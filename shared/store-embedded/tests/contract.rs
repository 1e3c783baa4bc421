//! The contract suite on the embedded backend (always run).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;

use async_trait::async_trait;
use swi_store::contract::{self, Harness};
use swi_store::docs::{DocError, Documents, Keep, Sha256};
use swi_store::state::StateStore;
use swi_store_embedded::{EmbeddedDocuments, EmbeddedState, upload_router};

struct Embedded {
    _dir: tempfile::TempDir,
    state: Arc<EmbeddedState>,
    docs: Arc<EmbeddedDocuments>,
}

#[async_trait]
impl Harness for Embedded {
    fn state(&self) -> &dyn StateStore {
        self.state.as_ref()
    }
    fn docs(&self) -> &dyn Documents {
        self.docs.as_ref()
    }
    fn run_id(&self) -> &str {
        "run"
    }
    async fn corrupt(&self, sha256: &Sha256, bytes: &[u8]) {
        // Behind the store's back: the file is read-only, as every filed document is.
        let path = self.docs.path_of(sha256);
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        #[allow(
            clippy::permissions_set_readonly_false,
            reason = "tampering, on purpose"
        )]
        perms.set_readonly(false);
        std::fs::set_permissions(&path, perms).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

async fn harness() -> Embedded {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (state, docs) = swi_store_embedded::open(dir.path(), &url).unwrap();
    let router = upload_router(Arc::clone(&docs));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Embedded {
        _dir: dir,
        state,
        docs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_backend_meets_the_contract() {
    contract::run_all(&harness().await).await;
}

/// Retention on the embedded store: the contract, then what only a store whose days can be
/// chosen shows — a document whose lock has passed is removed, and then gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_backend_keeps_documents_for_their_period() {
    let h = harness().await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
    contract::retention(&h, today).await;
    let sha = h
        .docs
        .put(&mut &b"kept until 2026-06-16"[..])
        .await
        .unwrap()
        .sha256;
    let until = chrono::NaiveDate::from_ymd_opt(2026, 6, 16).unwrap();
    h.docs.keep(&sha, Keep::Until(until)).await.unwrap();
    assert!(
        matches!(
            h.docs.destroy(&sha, until).await,
            Err(DocError::Retained { held: true, .. })
        ),
        "held until released"
    );
    h.docs.release(&sha).await.unwrap();
    let before = until.pred_opt().unwrap();
    assert!(matches!(
        h.docs.destroy(&sha, before).await,
        Err(DocError::Retained { .. })
    ));
    // A business date far ahead does not pass a lock the machine's own day has not passed.
    let late = h
        .docs
        .put(&mut &b"kept until 2999"[..])
        .await
        .unwrap()
        .sha256;
    let far = chrono::NaiveDate::from_ymd_opt(2999, 1, 1).unwrap();
    h.docs.keep(&late, Keep::Until(far)).await.unwrap();
    h.docs.release(&late).await.unwrap();
    assert!(matches!(
        h.docs.destroy(&late, far).await,
        Err(DocError::Retained { .. })
    ));
    h.docs.destroy(&sha, until).await.unwrap();
    assert!(!h.docs.exists(&sha).await.unwrap());
    assert_eq!(h.docs.protection(&sha).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_forged_upload_url_is_refused() {
    let h = harness().await;
    let body = b"scan".to_vec();
    let sha = Sha256::of(&body);
    let id = swi_store::docs::UploadId::random().unwrap();
    let p = h
        .docs
        .presign_put(&id, &sha, 4, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let forged = p.url.replace("sig=", "sig=0");
    assert_eq!(contract::http_put(&forged, &p.headers, &body).await, 403);
    // Another upload's key under this URL's signature.
    let other = swi_store::docs::UploadId::random().unwrap();
    let moved = p.url.replace(id.as_str(), other.as_str());
    assert_eq!(contract::http_put(&moved, &p.headers, &body).await, 403);
    let expired = h
        .docs
        .presign_put(&id, &sha, 4, std::time::Duration::from_secs(0))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        contract::http_put(&expired.url, &expired.headers, &body).await,
        403
    );
    assert!(!h.docs.exists(&sha).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_expired_upload_form_is_refused() {
    use swi_store::docs::{FormPolicy, UploadId};
    let h = harness().await;
    let policy = FormPolicy {
        id: UploadId::random().unwrap(),
        content_type: "image/png".into(),
        max_len: 1 << 20,
        redirect: "http://portal.example/back".into(),
        expires_in: std::time::Duration::from_secs(60),
    };
    let form = h.docs.presign_post(&policy).await.unwrap();
    // A policy rewritten to allow more (or another key) no longer matches its signature.
    let mut forged = form.fields.clone();
    for (k, v) in &mut forged {
        if k == "key" {
            *v = "incoming/upload-00000000000000000000000000000000".into();
        }
        if k == "x-swi-signature" {
            v.replace_range(0..1, if v.starts_with('0') { "1" } else { "0" });
        }
    }
    let (status, _) = contract::http_post_form(&form.url, &forged, b"png").await;
    assert_eq!(status, 403);
    // The key alone changed: the policy names another.
    let mut other_key = form.fields.clone();
    other_key[0].1 = "incoming/upload-00000000000000000000000000000000".into();
    let (status, _) = contract::http_post_form(&form.url, &other_key, b"png").await;
    assert_eq!(status, 403);
    let expired = h
        .docs
        .presign_post(&FormPolicy {
            expires_in: std::time::Duration::ZERO,
            ..policy.clone()
        })
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = contract::http_post_form(&expired.url, &expired.fields, b"png").await;
    assert_eq!(status, 403);
    // Used once; a second post of the same form is refused.
    let (status, _) = contract::http_post_form(&form.url, &form.fields, b"png").await;
    assert_eq!(status, 303);
    let (status, _) = contract::http_post_form(&form.url, &form.fields, b"png2").await;
    assert_eq!(status, 403);
    assert_eq!(
        h.docs.register(&policy.id, 1 << 20).await.unwrap().sha256,
        Sha256::of(b"png")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (state, _) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
        state
            .transact(vec![swi_store::TxOp::Put {
                item: swi_store::Item::new("p", "s", &serde_json::json!({"k": "v"})).unwrap(),
                condition: swi_store::Condition::NotExists,
            }])
            .await
            .unwrap();
    }
    let (state, _) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let got = state
        .get(&swi_store::Key::new("p", "s"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.version, 1);
    assert!(state.health().await.unwrap().contains("1 items"));
}
