//! The Lambda bootstraps as AWS runs them: a local stand-in of the Lambda Runtime API hands them
//! events (API Gateway HTTP API v2 requests; a DynamoDB stream batch; a schedule) and takes their
//! answers. No Docker, no AWS; the jobs' tests run on LocalStack (`--ignored`, from infra/test).

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

/// Events to hand out, each with the request id its answer comes back under.
#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<Vec<(String, Value)>>>,
    responses: mpsc::UnboundedSender<(String, Value)>,
}

fn api_event(method: &str, path: &str, headers: Value) -> (String, Value) {
    let e = event(method, path, headers);
    (format!("{method} {path}").replace([' ', '/'], "_"), e)
}

/// Serves the Runtime API for `events`; answers (and errors) arrive on the receiver.
async fn runtime_api(
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
const TODAY: &str = "2026-06-15";

/// Starts a bootstrap against the Runtime API at `addr`, with the stores in `store_env`.
fn bootstrap(exe: &str, addr: std::net::SocketAddr, store_env: &[(&str, String)]) -> Killed {
    // The person-key secret a test bootstrap reads instead of Secrets Manager.
    let key = std::env::temp_dir().join(format!("swi-lambda-person-{}.key", std::process::id()));
    std::fs::write(&key, [3u8; 32]).unwrap();
    let mut cmd = Command::new(exe);
    cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("SWI_PERSON_KEY_FILE", &key)
        .env("SWI_TODAY", TODAY)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_serves_api_gateway_events() {
    // An upload request with a bad hash: 400 once authenticated, 401 before; neither needs the
    // (unreachable) store.
    let body = r#"{"sha256":"not-a-hash","size":10,"content_type":"application/pdf"}"#;
    let mut authorized = event(
        "POST",
        "/api/documents/uploads",
        json!({ "content-type": "application/json" }),
    );
    authorized["body"] = json!(body);
    authorized["requestContext"]["authorizer"] = json!({ "jwt": {
        "claims": {
            "sub": "cognito-sub-1", "custom:role": "employer", "custom:county": "360702",
            "custom:unit": "91360702MA35G6QL6T", "name": "单位经办人",
            "iss": "https://cognito-idp.example/pool", "iat": "1748856000", "exp": "1748899200"
        },
        "scopes": null
    }});
    // The same request without an authorizer, carrying everything a client could send to pass
    // for one: claim-like headers, a claims header, and a bearer token signed with a key of its
    // own (in AWS no locally signed token is ever valid).
    let forged_token = swi_platform::auth::TokenKeys::from_secret(&[1; 32])
        .mint(&swi_platform::auth::Claims {
            sub: "x".into(),
            role: "employer".into(),
            county: "360702".into(),
            name: "x".into(),
            unit: Some("91360702MA35G6QL6T".into()),
            iss: swi_platform::auth::ISSUER.into(),
            iat: chrono::Utc::now().timestamp(),
            exp: chrono::Utc::now().timestamp() + 600,
        })
        .unwrap();
    let mut imitation = event(
        "POST",
        "/api/documents/uploads",
        json!({
            "content-type": "application/json",
            "x-custom-role": "employer", "x-custom-county": "360702", "sub": "x",
            "x-amzn-oidc-data": "eyJhbGciOiJub25lIn0.eyJjdXN0b206cm9sZSI6ImVtcGxveWVyIn0.",
            "x-gateway-claims": "{\"role\":\"employer\",\"county\":\"360702\"}",
            "authorization": format!("Bearer {forged_token}")
        }),
    );
    imitation["body"] = json!(format!(
        r#"{{"sha256":"not-a-hash","size":10,"content_type":"application/pdf","requestContext":{{"authorizer":{{"jwt":{{"claims":{{"custom:role":"employer"}}}}}}}}}}"#
    ));
    let (addr, mut rx) = runtime_api(vec![
        api_event(
            "POST",
            "/api/units",
            json!({ "content-type": "application/json" }),
        ),
        api_event("GET", "/api/openapi.json", json!({})),
        ("authorized".into(), authorized),
        ("imitation".into(), imitation),
    ])
    .await;
    let _bootstrap = bootstrap(
        env!("CARGO_BIN_EXE_bootstrap"),
        addr,
        &[
            ("SWI_TABLE", "swi".into()),
            ("SWI_BUCKET", "swi".into()),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
        ],
    );
    let mut answers = Vec::new();
    for _ in 0..4 {
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
    let status = |id: &str| {
        let (_, a) = answers.iter().find(|(i, _)| i == id).unwrap();
        (a["statusCode"].clone(), a["body"].clone())
    };
    let (code, body) = status("authorized");
    assert_eq!(code, 400, "the authorizer's claims are taken: {body}");
    let (code, body) = status("imitation");
    assert_eq!(
        code, 401,
        "nothing a client sends passes for claims: {body}"
    );
}

/// Waits for the answer to request `id`.
async fn answer(rx: &mut mpsc::UnboundedReceiver<(String, Value)>, id: &str) -> Value {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn the_jobs_run_on_dynamodb_and_s3() {
    use swi_enrollment::declarations::{
        APPLY_PARTITION, ApplyPointer, Declaration, ROWS_PER_TRANSACTION, ReviewStatus,
    };
    use swi_store::{Condition, Item, Key, TxOp};

    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let (table, bucket, endpoint) = (var("SWI_TABLE"), var("SWI_BUCKET"), var("AWS_ENDPOINT_URL"));
    let (state, docs) = swi_store_aws::open(&table, &bucket, Some(&endpoint)).await;
    let store_env = [
        ("SWI_TABLE", table.clone()),
        ("SWI_BUCKET", bucket.clone()),
        ("AWS_ENDPOINT_URL", endpoint.clone()),
    ];

    // An approved declaration of more rows than one transaction, as the review leaves it.
    let today: chrono::NaiveDate = TODAY.parse().unwrap();
    let rows = ROWS_PER_TRANSACTION + 5;
    let mut csv = String::from("变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n");
    for i in 0..rows {
        let id = swi_rules::ids::ResidentId::with_check_character(&format!(
            "3607021991{:02}{:02}{:03}",
            1 + i / 28,
            1 + i % 28,
            200 + i
        ))
        .unwrap();
        csv.push_str(&format!(
            "增,职工{i},{},employee,5000.00,{today},1390797{i:04}\n",
            id.expose()
        ));
    }
    let sha = swi_store::Documents::put(&docs, &mut csv.as_bytes())
        .await
        .unwrap()
        .sha256;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let id = format!("d-lambda-{run}");
    let d = Declaration {
        id: id.clone(),
        unit: "91360702MA35K8TN2H".into(),
        county: "360702".into(),
        month: chrono::Datelike::with_day(&today, 1).unwrap(),
        sha256: sha.hex(),
        joiners: rows,
        leavers: 0,
        status: ReviewStatus::Applying,
        received_on: today,
        review_by: today,
        review_by_assumes: None,
        reviewed_by: Some("测试审核员".into()),
        reviewed_on: Some(today),
        note: None,
        applied: 0,
        not_applied: 0,
        cursor: 0,
    };
    let pointer = ApplyPointer {
        declaration: id.clone(),
        cursor: 0,
    };
    // Its unit, active: every batch the job applies is conditioned on it (Art. 10).
    let unit = swi_enrollment::units::Unit {
        code: d.unit.clone(),
        name: "赣州某某建材有限公司".into(),
        county: "360702".into(),
        industry_class: 4,
        rate_band: "1.2".parse().unwrap(),
        work_injury_no: "GS-360702-0001".into(),
        account: swi_enrollment::units::Account {
            bank: "中国银行赣州分行".into(),
            number: "6216610100001234567".into(),
            holder: "赣州某某建材有限公司".into(),
        },
        contact: swi_enrollment::units::Contact {
            name: "张三".into(),
            phone: "13907970001".into(),
        },
        status: swi_enrollment::units::UnitStatus::Active,
        registered_on: today,
        cancelled_on: None,
        members_ended: 0,
        ending_members: false,
    };
    swi_store::StateStore::transact(
        &state,
        vec![
            swi_enrollment::units::unit_put(&unit, Condition::None).unwrap(),
            TxOp::Put {
                item: Item::new(format!("declaration#{id}"), "profile", &d).unwrap(),
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: Item::new(APPLY_PARTITION, id.clone(), &pointer).unwrap(),
                condition: Condition::NotExists,
            },
        ],
    )
    .await
    .unwrap();

    // The table's stream hands the job a batch with the pointer's key (KEYS_ONLY).
    let stream = json!({ "Records": [{
        "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_764_000_000, "SequenceNumber": "100", "SizeBytes": 60,
            "StreamViewType": "KEYS_ONLY",
            "Keys": { "pk": { "S": APPLY_PARTITION }, "sk": { "S": id } }
        },
        "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-01-01T00:00:00.000")
    }]});
    let (addr, mut rx) = runtime_api(vec![("stream-1".into(), stream)]).await;
    let _job = bootstrap(env!("CARGO_BIN_EXE_declaration-apply"), addr, &store_env);
    let report = answer(&mut rx, "stream-1").await;
    assert_eq!(
        (&report["rows"], &report["finished"], &report["pending"]),
        (&json!(rows), &json!(1), &json!(0)),
        "{report}"
    );
    let item =
        swi_store::StateStore::get(&state, &Key::new(format!("declaration#{id}"), "profile"))
            .await
            .unwrap()
            .unwrap();
    let d: Declaration = item.body().unwrap();
    assert_eq!(
        (d.status, d.applied, d.cursor),
        (ReviewStatus::Approved, rows, rows)
    );

    // One of the joiners reaches the retirement age today: the daily check, run by the
    // scheduler's event on the same store, raises exactly one alert for her unit.
    let members = swi_store::StateStore::query(
        &state,
        &swi_store::Query::partition(format!("unit#{}", d.unit))
            .range(swi_store::SkRange::Prefix("member#".into()))
            .limit(1),
    )
    .await
    .unwrap();
    let member: swi_enrollment::persons::Member = members.items[0].body().unwrap();
    swi_store::StateStore::transact(
        &state,
        vec![
            swi_enrollment::jobs::pointer_op(&swi_enrollment::jobs::RetirementPointer {
                enrolment: member.id.clone(),
                unit: d.unit.clone(),
                county: "360702".into(),
                reached_on: today,
            })
            .unwrap(),
        ],
    )
    .await
    .unwrap();
    let schedule = json!({
        "version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.scheduler",
        "account": "123456789012", "time": "2026-11-28T22:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}
    });
    let (addr, mut rx) = runtime_api(vec![("daily-1".into(), schedule)]).await;
    let _check = bootstrap(env!("CARGO_BIN_EXE_retirement-check"), addr, &store_env);
    let report = answer(&mut rx, "daily-1").await;
    assert_eq!(
        (&report["months"], &report["seen"], &report["alerted"]),
        (&json!(12), &json!(1), &json!(1)),
        "{report}"
    );
}
