//! What the supervision step's tests share: an embedded platform on a set clock, tokens, calls
//! to the step's router, changes written as a step writes them (a record and its audit event).

#![allow(
    dead_code,
    reason = "each test file uses its own part of what is shared"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use swi_domain::{Actor, Jurisdiction, Role};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::SetClock;
use swi_platform::mutation::{Audit, audit_ops};
use tower::ServiceExt;

pub static KEYS: AtomicU64 = AtomicU64::new(1);

/// 09:30 China time on `day`.
pub fn at(day: &str) -> DateTime<chrono::FixedOffset> {
    at_time(day, "09:30:00")
}

/// `time` China time on `day`.
pub fn at_time(day: &str, time: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{day}T{time}+08:00")).unwrap()
}

pub fn platform(dir: &std::path::Path, clock: Arc<SetClock>) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    assemble(state, docs, clock)
}

/// A platform on DynamoDB and S3 (`SWI_TABLE`, `SWI_BUCKET`, `AWS_ENDPOINT_URL`): what
/// `infra/test` runs the `--ignored` tests on, LocalStack's table and bucket made for them.
pub async fn platform_aws(clock: Arc<SetClock>) -> Platform {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    assemble(Arc::new(state), Arc::new(docs), clock)
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
            name: format!("{sub}的姓名"),
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
    let res = swi_supervision::router(p.clone())
        .oneshot(req)
        .await
        .unwrap();
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

/// A clerk of the county.
pub fn clerk() -> Actor {
    Actor {
        sub: "acceptor-1".into(),
        role: Role::Acceptor,
        jurisdiction: Jurisdiction::parse("360702").unwrap(),
        name: "受理员".into(),
        unit: None,
    }
}

/// A change of `case` as a step writes it: its audit event, chained, at the clock's time.
pub async fn change(p: &Platform, actor: &Actor, case: &str, command: &str) {
    let ops = audit_ops(
        p,
        actor,
        &[Audit {
            case: case.into(),
            command: command.into(),
            change: json!({ "n": KEYS.fetch_add(1, Ordering::Relaxed) }),
        }],
    )
    .await
    .unwrap();
    p.state.transact(ops).await.unwrap();
}
