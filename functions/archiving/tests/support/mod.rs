//! What the archive's tests share: an embedded platform on a set clock, tokens, calls to the
//! step's router, documents filed as a clerk files them, the filing job run to its end.

#![allow(
    dead_code,
    reason = "each test file uses its own part of what is shared"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use http_body_util::BodyExt;
use serde_json::Value;
use swi_archive::retention::RecordClass;
use swi_domain::Actor;
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::SetClock;
use swi_platform::dossier::Filing;
use swi_platform::jobs::Job;
use swi_store::Sha256;
use tower::ServiceExt;

pub static KEYS: AtomicU64 = AtomicU64::new(1);

pub fn at(day: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{day}T09:30:00+08:00")).unwrap()
}

pub fn platform(dir: &std::path::Path, clock: Arc<SetClock>) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    assemble(state, docs, clock)
}

fn assemble(
    state: Arc<dyn swi_store::StateStore>,
    docs: Arc<dyn swi_store::Documents>,
    clock: Arc<SetClock>,
) -> Platform {
    Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock,
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

pub fn token(p: &Platform, sub: &str, role: &str, county: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    p.tokens
        .mint(&Claims {
            sub: sub.into(),
            role: role.into(),
            county: county.into(),
            name: "档案员甲".into(),
            unit: None,
            iss: ISSUER.into(),
            iat: now,
            exp: now + 3600,
        })
        .unwrap()
}

pub async fn call(
    p: &Platform,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json").header(
            "idempotency-key",
            format!("key-{:08}", KEYS.fetch_add(1, Ordering::Relaxed)),
        );
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = swi_archiving::router(p.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

pub async fn json_call(
    p: &Platform,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, b) = call(p, method, path, token, body).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

pub fn clerk() -> Actor {
    Actor {
        sub: "acceptor-1".into(),
        role: swi_domain::Role::Acceptor,
        jurisdiction: swi_domain::Jurisdiction::parse("360702").unwrap(),
        name: "受理员".into(),
        unit: None,
    }
}

/// Files `body` to `case` as the clerk would (received, then filed in a transaction of its own).
pub async fn file(
    p: &Platform,
    body: &str,
    case: &str,
    class: RecordClass,
    material: &str,
) -> Sha256 {
    let a = clerk();
    let sha = swi_platform::documents::received(p, &a.sub, &mut body.as_bytes(), 1 << 20)
        .await
        .unwrap();
    let op = swi_platform::documents::file(
        p,
        &a,
        &sha,
        Filing {
            case,
            county: "360702",
            class,
            material,
        },
    )
    .await
    .unwrap();
    if let Some(op) = op {
        p.state.transact(vec![op]).await.unwrap();
    }
    sha
}

pub async fn run_until_done(p: &Platform) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = swi_archiving::filing::Archive
            .run(p, Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
        assert!(r.errors.is_empty(), "{r:?}");
        if r.pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the filing did not finish: {r:?}"
        );
    }
}

/// A platform whose document store takes the set clock for the machine's day too: a test
/// standing years on, when locks have passed.
pub fn platform_years_on(dir: &std::path::Path, clock: Arc<SetClock>) -> Platform {
    let (state, _) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    let day = clock.clone();
    let docs =
        swi_store_embedded::EmbeddedDocuments::open(&dir.join("documents"), "http://127.0.0.1:1")
            .unwrap()
            .with_machine_day(move || swi_platform::clock::Clock::today(&*day));
    assemble(state, Arc::new(docs), clock)
}

/// A platform on DynamoDB and S3 (`SWI_TABLE`, `SWI_BUCKET`, `AWS_ENDPOINT_URL`).
pub async fn platform_aws(clock: Arc<SetClock>) -> Platform {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    assemble(Arc::new(state), Arc::new(docs), clock)
}
