//! Test support shared by the Lambda tests of the hosts: a local stand-in of the Lambda Runtime
//! API that hands a bootstrap recorded events and collects its answers, and the way a test starts
//! a bootstrap. No Docker, no AWS. A dev-dependency only; nothing ships with it.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test support fails loudly on what it does not expect"
)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A child process killed when dropped.
pub struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Events to hand out, each with the request id its answer comes back under.
#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<Vec<(String, Value)>>>,
    responses: mpsc::UnboundedSender<(String, Value)>,
}

/// An API Gateway v2 event and its request id.
pub fn api_event(method: &str, path: &str, headers: Value) -> (String, Value) {
    let e = event(method, path, headers);
    (format!("{method} {path}").replace([' ', '/'], "_"), e)
}

/// Serves the Runtime API for `events`; answers (and errors) arrive on the receiver.
pub async fn runtime_api(
    events: Vec<(String, Value)>,
) -> (
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<(String, Value)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let rt = Runtime {
        events: Arc::new(Mutex::new(events)),
        responses: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rx)
}

/// The business date of every bootstrap these tests start (`SWI_TODAY`).
pub const TODAY: &str = "2026-06-15";

/// Starts a bootstrap against the Runtime API at `addr`, with the stores in `store_env`.
pub fn bootstrap(exe: &str, addr: std::net::SocketAddr, store_env: &[(&str, String)]) -> Killed {
    // The person-key secret a test bootstrap reads instead of Secrets Manager.
    let key = std::env::temp_dir().join(format!("swi-lambda-person-{}.key", std::process::id()));
    std::fs::write(&key, [3u8; 32]).unwrap();
    let mut cmd = Command::new(exe);
    cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("SWI_PERSON_KEY_FILE", &key)
        .env("SWI_TODAY", TODAY)
        .env("SWI_STORE", "aws")
        .env("AWS_LAMBDA_FUNCTION_NAME", "swi")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in store_env {
        cmd.env(k, v);
    }
    Killed(cmd.spawn().unwrap())
}

async fn next(State(rt): State<Runtime>) -> (HeaderMap, String) {
    loop {
        let e = rt.events.lock().unwrap().pop();
        if let Some((id, e)) = e {
            let mut h = HeaderMap::new();
            h.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            // Fifteen minutes from now, as for a function with the longest timeout.
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 900_000;
            h.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().unwrap(),
            );
            h.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:enrollment"
                    .parse()
                    .unwrap(),
            );
            return (h, e.to_string());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn respond(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> &'static str {
    let _ = rt
        .responses
        .send((id, serde_json::from_str(&body).unwrap_or(Value::Null)));
    "ok"
}

async fn fail(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> &'static str {
    let _ = rt.responses.send((id, json!({ "error": body })));
    "ok"
}

async fn init_error(State(rt): State<Runtime>, body: String) -> &'static str {
    let _ = rt
        .responses
        .send(("init-error".into(), json!({ "error": body })));
    "ok"
}

/// The answer (or error) to the invocation `id`.
pub async fn answer(rx: &mut mpsc::UnboundedReceiver<(String, Value)>, id: &str) -> Value {
    loop {
        let (got, body) = tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_ne!(got, "init-error", "{body}");
        if got == id {
            return body;
        }
    }
}

/// An API Gateway HTTP API v2 event.
pub fn event(method: &str, path: &str, headers: Value) -> Value {
    json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "",
        "headers": headers, "isBase64Encoded": false,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example", "domainPrefix": "api",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test" },
            "requestId": "r", "routeKey": format!("{method} {path}"), "stage": "$default",
            "time": "02/Jun/2025:09:30:00 +0000", "timeEpoch": 1748856600000_i64
        }
    })
}
