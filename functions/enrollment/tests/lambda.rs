//! The Lambda bootstrap as AWS runs it: a local stand-in of the Lambda Runtime API hands it API
//! Gateway (HTTP API v2) events and takes its responses. No Docker, no AWS.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
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

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<Vec<Value>>>,
    responses: mpsc::UnboundedSender<(String, Value)>,
}

fn event(method: &str, path: &str, headers: Value) -> Value {
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

async fn next(State(rt): State<Runtime>) -> (HeaderMap, String) {
    loop {
        let e = rt.events.lock().unwrap().pop();
        if let Some(e) = e {
            let mut h = HeaderMap::new();
            let id = e["requestContext"]["routeKey"]
                .as_str()
                .unwrap()
                .replace([' ', '/'], "_");
            h.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            h.insert(
                "lambda-runtime-deadline-ms",
                "9999999999999".parse().unwrap(),
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

async fn init_error(State(rt): State<Runtime>, body: String) -> &'static str {
    let _ = rt
        .responses
        .send(("init-error".into(), json!({ "error": body })));
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_serves_api_gateway_events() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = Runtime {
        events: Arc::new(Mutex::new(vec![
            event(
                "POST",
                "/api/units",
                json!({ "content-type": "application/json" }),
            ),
            event("GET", "/api/openapi.json", json!({})),
        ])),
        responses: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(respond))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let _bootstrap = Killed(
        Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "enrollment")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("SWI_TABLE", "swi")
            .env("SWI_BUCKET", "swi")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap();
        answers.push(answer);
    }
    let openapi = answers
        .iter()
        .find(|(id, _)| id.contains("openapi"))
        .unwrap();
    assert_eq!(openapi.1["statusCode"], 200, "{}", openapi.1);
    let doc: Value = serde_json::from_str(openapi.1["body"].as_str().unwrap()).unwrap();
    assert!(doc["paths"]["/api/units"].is_object());
    let units = answers.iter().find(|(id, _)| id.contains("units")).unwrap();
    assert_eq!(
        units.1["statusCode"], 401,
        "no claims from the gateway: {}",
        units.1
    );
}
