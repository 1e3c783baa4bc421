//! End-to-end tests of the enrollment API through its router, on the embedded store (and, run by
//! `infra/test` with `--ignored`, on DynamoDB + S3 in LocalStack).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::FixedClock;
use swi_platform::mutation::verify_case;
use tower::ServiceExt;

struct Api {
    router: Router,
    platform: Platform,
    _dir: Option<tempfile::TempDir>,
    run: String,
}

const UNIT: &str = "91360702MA35G6QL6T";
const OTHER_UNIT: &str = "91360700158283010M";

fn clock() -> FixedClock {
    FixedClock(DateTime::parse_from_rfc3339("2025-06-02T09:30:00+08:00").unwrap())
}

fn keys() -> Arc<TokenKeys> {
    Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!"))
}

fn embedded() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let platform = Platform {
        state,
        docs,
        tokens: keys(),
        clock: Arc::new(clock()),
    };
    Api {
        router: swi_enrollment::router(platform.clone()),
        platform,
        _dir: Some(dir),
        run: String::new(),
    }
}

impl Api {
    fn token(&self, role: &str, county: &str, unit: Option<&str>, exp_offset: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        self.platform
            .tokens
            .mint(&Claims {
                sub: format!("{role}-{county}{}", self.run),
                role: role.into(),
                county: county.into(),
                name: "测试用户".into(),
                unit: unit.map(str::to_owned),
                iss: ISSUER.into(),
                iat: now,
                exp: now + exp_offset,
            })
            .unwrap()
    }

    fn clerk(&self) -> String {
        self.token("acceptor", "360702", None, 3600)
    }

    fn employer(&self, unit: &str) -> String {
        self.token("employer", "360702", Some(unit), 3600)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        idem: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(k) = idem {
            req = req.header("idempotency-key", format!("request-{k}{}", self.run));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    async fn evidence(&self) -> String {
        let scan = format!("工伤保险参保登记证明 {}", self.run).into_bytes();
        self.platform
            .docs
            .put(&mut scan.as_slice())
            .await
            .unwrap()
            .sha256
            .hex()
    }

    async fn record_facts(&self, code: &str, insured: bool) -> (StatusCode, Value) {
        let evidence = self.evidence().await;
        self.call(
            "POST",
            "/api/work-injury/facts",
            Some(&self.clerk()),
            Some(&format!("facts-{code}-{insured}")),
            Some(json!({
                "code": code, "name": "赣州某某建材有限公司", "county": "360702",
                "registration_no": "GS-360702-0001", "insured": insured, "industry_class": 4,
                "rate_band": "1.2", "band_decided_on": "2025-01-01", "as_of": "2025-05-31",
                "evidence_sha256": evidence
            })),
        )
        .await
    }

    fn registration(&self, code: &str) -> Value {
        json!({
            "code": code, "name": "赣州某某建材有限公司", "county": "360702",
            "account": { "bank": "中国银行赣州分行", "number": "6216610100001234567", "holder": "赣州某某建材有限公司" },
            "contact": { "name": "张三", "phone": "13907970001" }
        })
    }
}

async fn units_register_change_and_cancel(api: &Api) {
    assert_eq!(api.record_facts(UNIT, true).await.0, StatusCode::OK);
    let emp = api.employer(UNIT);
    let (status, unit) = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-1"),
            Some(api.registration(UNIT)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{unit}");
    assert_eq!(
        (
            unit["industry_class"].as_u64(),
            unit["rate_band"].as_str(),
            unit["registered_on"].as_str()
        ),
        (Some(4), Some("1.2"), Some("2025-06-02")),
        "class and band come from the work-injury facts"
    );
    // A retry with the same key answers the same and writes nothing more.
    let again = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-1"),
            Some(api.registration(UNIT)),
        )
        .await;
    assert_eq!(again, (StatusCode::CREATED, unit.clone()));
    // A new request to register it again is a conflict.
    let dup = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-2"),
            Some(api.registration(UNIT)),
        )
        .await;
    assert_eq!(
        (dup.0, dup.1["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_registered"))
    );

    let (status, got) = api
        .call(
            "GET",
            &format!("/api/units/{UNIT}"),
            Some(&api.clerk()),
            None,
            None,
        )
        .await;
    assert_eq!((status, &got), (StatusCode::OK, &unit));

    let (status, changed) = api
        .call(
            "PATCH",
            &format!("/api/units/{UNIT}"),
            Some(&emp),
            Some("chg-1"),
            Some(json!({ "contact": { "name": "李四", "phone": "13907970002" } })),
        )
        .await;
    assert_eq!(
        (status, changed["contact"]["name"].as_str()),
        (StatusCode::OK, Some("李四"))
    );

    let (status, cancelled) = api
        .call(
            "POST",
            &format!("/api/units/{UNIT}/cancel"),
            Some(&api.clerk()),
            Some("cancel-1"),
            Some(json!({ "reason": "工伤保险登记注销" })),
        )
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, err) = api
        .call(
            "PATCH",
            &format!("/api/units/{UNIT}"),
            Some(&emp),
            Some("chg-2"),
            Some(json!({ "name": "新名称" })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("unit_cancelled"))
    );

    // Every change left its event, chained: facts, register, change, cancel.
    let chain = verify_case(&api.platform, &format!("unit#{UNIT}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chain, 4);
}

async fn bad_input_is_refused_and_changes_nothing(api: &Api) {
    let emp = api.employer(OTHER_UNIT);
    // Not in the work-injury scheme (Art. 7).
    let (status, err) = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-x"),
            Some(api.registration(OTHER_UNIT)),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("not_in_work_injury_scheme")
        )
    );
    assert!(err["error"]["zh"].as_str().unwrap().contains("第七条"));
    assert_eq!(api.record_facts(OTHER_UNIT, false).await.0, StatusCode::OK);
    let (status, _) = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-y"),
            Some(api.registration(OTHER_UNIT)),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an uninsured unit cannot enrol"
    );

    // A wrong check character.
    let mut bad = api.registration(OTHER_UNIT);
    bad["code"] = json!("91360700158283010A");
    let (status, err) = api
        .call("POST", "/api/units", Some(&emp), Some("reg-z"), Some(bad))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    // A bad phone, an unknown field, a body that is not JSON.
    let mut bad = api.registration(OTHER_UNIT);
    bad["contact"]["phone"] = json!("12345");
    assert_eq!(
        api.call("POST", "/api/units", Some(&emp), Some("reg-p"), Some(bad))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let mut bad = api.registration(OTHER_UNIT);
    bad["extra"] = json!(1);
    assert_eq!(
        api.call("POST", "/api/units", Some(&emp), Some("reg-e"), Some(bad))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // Identity: none, forged, expired; another county's clerk; another unit's employer.
    let body = Some(api.registration(OTHER_UNIT));
    let (status, err) = api
        .call("POST", "/api/units", None, Some("reg-n"), body.clone())
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let forged = TokenKeys::from_secret(b"someone else's secret, 32 bytes!")
        .mint(&Claims {
            sub: "x".into(),
            role: "acceptor".into(),
            county: "360702".into(),
            name: "x".into(),
            unit: None,
            iss: ISSUER.into(),
            iat: 0,
            exp: chrono::Utc::now().timestamp() + 600,
        })
        .unwrap();
    assert_eq!(
        api.call(
            "POST",
            "/api/units",
            Some(&forged),
            Some("reg-f"),
            body.clone()
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let expired = api.token("acceptor", "360702", None, -3600);
    let (status, err) = api
        .call(
            "POST",
            "/api/units",
            Some(&expired),
            Some("reg-t"),
            body.clone(),
        )
        .await;
    assert_eq!(
        (status, err["error"]["en"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("the token has expired"))
    );
    let other_county = api.token("acceptor", "360703", None, 3600);
    let (status, err) = api
        .call(
            "POST",
            "/api/units",
            Some(&other_county),
            Some("reg-c"),
            body.clone(),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_county"))
    );
    let (status, err) = api
        .call(
            "POST",
            "/api/units",
            Some(&api.employer(UNIT)),
            Some("reg-o"),
            body.clone(),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_owner"))
    );
    let citizen = api.token("citizen", "360702", None, 3600);
    assert_eq!(
        api.call(
            "POST",
            "/api/units",
            Some(&citizen),
            Some("reg-k"),
            body.clone()
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // No idempotency key.
    let (status, err) = api.call("POST", "/api/units", Some(&emp), None, body).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // Evidence that was never uploaded.
    let (status, err) = api
        .call(
            "POST",
            "/api/work-injury/facts",
            Some(&api.clerk()),
            Some("facts-missing"),
            Some(json!({
                "code": OTHER_UNIT, "name": "赣州某某", "county": "360702", "registration_no": "R1",
                "insured": true, "industry_class": 1, "rate_band": "0.5", "band_decided_on": "2025-01-01",
                "as_of": "2025-05-31", "evidence_sha256": "0".repeat(64)
            })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "class 1 has no 50 % band: {err}"
    );

    // Nothing of the above registered the unit.
    let (status, _) = api
        .call(
            "GET",
            &format!("/api/units/{OTHER_UNIT}"),
            Some(&api.clerk()),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn an_altered_audit_event_is_detected(api: &Api) {
    let case = format!("unit#{UNIT}");
    let key = swi_store::Key::new(format!("audit#{case}"), format!("seq#{:012}", 2));
    let mut item = api.platform.state.get(&key).await.unwrap().unwrap();
    item.body["actor_name"] = json!("someone else");
    api.platform
        .state
        .transact(vec![swi_store::TxOp::Put {
            item,
            condition: swi_store::Condition::VersionIs(1),
        }])
        .await
        .unwrap();
    let broken = verify_case(&api.platform, &case)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_on_the_embedded_store() {
    let api = embedded();
    units_register_change_and_cancel(&api).await;
    bad_input_is_refused_and_changes_nothing(&api).await;
    an_altered_audit_event_is_detected(&api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn enrollment_on_dynamodb_and_s3() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    let platform = Platform {
        state: Arc::new(state),
        docs: Arc::new(docs),
        tokens: keys(),
        clock: Arc::new(clock()),
    };
    let run = format!(
        "-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let api = Api {
        router: swi_enrollment::router(platform.clone()),
        platform,
        _dir: None,
        run,
    };
    units_register_change_and_cancel(&api).await;
    bad_input_is_refused_and_changes_nothing(&api).await;
    an_altered_audit_event_is_detected(&api).await;
}
