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
use swi_rules::ids::ResidentId;
use tower::ServiceExt;

struct Api {
    router: Router,
    platform: Platform,
    _dir: Option<tempfile::TempDir>,
    run: String,
}

const UNIT: &str = "91360702MA35G6QL6T";
const OTHER_UNIT: &str = "91360700158283010M";
const STAFFED_UNIT: &str = "91360702MA35H7RM4A";
const DECLARING_UNIT: &str = "91360702MA35K8TN2H";

fn clock() -> FixedClock {
    FixedClock(DateTime::parse_from_rfc3339("2025-06-02T09:30:00+08:00").unwrap())
}

fn keys() -> Arc<TokenKeys> {
    Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!"))
}

/// Runs a job once until `deadline`.
async fn run_job(
    p: &Platform,
    job: &dyn swi_platform::jobs::Job,
    deadline: std::time::Instant,
) -> Result<swi_platform::jobs::Report, swi_platform::ApiError> {
    job.run(p, deadline).await
}

/// One of a job report's own figures.
fn figure(r: &swi_platform::jobs::Report, name: &str) -> u64 {
    r.detail[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {r:?}"))
}

fn embedded() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let platform = Platform {
        state,
        docs,
        tokens: keys(),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(clock()),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    };
    Api {
        router: swi_enrollment::router(platform.clone()),
        platform,
        _dir: Some(dir),
        run: String::new(),
    }
}

/// Pays bill `bill` as the tax bureau's receipt `number` would, on `paid_on`.
async fn pay_bill(p: &Platform, bill: &str, number: &str, paid_on: &str) {
    let (b, version) = swi_bills::bill::load_bill(p, bill).await.unwrap();
    let r = swi_bills::receipt::Receipt {
        number: format!("RCPT-{number}"),
        bill: bill.to_owned(),
        amount: b.amount,
        paid_on: chrono::NaiveDate::parse_from_str(paid_on, "%Y-%m-%d").unwrap(),
    };
    let at = p.clock.now().naive_local();
    let paid = swi_bills::receipt::paid(p, b, version, &r, "test-receipts", at)
        .await
        .unwrap();
    assert!(paid.not_started.is_empty(), "{:?}", paid.not_started);
    let actor = swi_platform::jobs::job_actor("receipts", "测试：税务回执");
    let mut ops = paid.ops;
    ops.extend(
        swi_platform::mutation::audit_ops(p, &actor, &paid.audit)
            .await
            .unwrap(),
    );
    p.state.transact(ops).await.unwrap();
}

fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    idem: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(k) = idem {
        req = req.header("idempotency-key", k);
    }
    match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap()
}

async fn send(router: Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = router.oneshot(req).await.unwrap();
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

    fn token_for(&self, role: &str, county: &str, sub: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        self.platform
            .tokens
            .mint(&Claims {
                sub: format!("{sub}{}", self.run),
                role: role.into(),
                county: county.into(),
                name: "测试用户".into(),
                unit: None,
                iss: ISSUER.into(),
                iat: now,
                exp: now + 3600,
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
        let idem = idem.map(|k| format!("request-{k}{}", self.run));
        send(
            self.router.clone(),
            request(method, path, token, idem.as_deref(), body),
        )
        .await
    }

    /// The same request as [`Api::call`], on a task of its own (truly concurrent with others).
    fn spawn_call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        idem: &str,
        body: Value,
    ) -> tokio::task::JoinHandle<(StatusCode, Value)> {
        let idem = format!("request-{idem}{}", self.run);
        let req = request(method, path, Some(token), Some(&idem), Some(body));
        tokio::spawn(send(self.router.clone(), req))
    }

    async fn raw_get(&self, path: &str, token: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status(), ct)
    }

    async fn get_bytes(&self, path: &str, token: &str) -> Vec<u8> {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        res.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    /// The unit's evidence, uploaded by the holder of `token` (who files it).
    async fn evidence(&self, token: &str) -> String {
        let scan = format!("%PDF-1.4\n工伤保险参保登记证明 {}", self.run).into_bytes();
        self.upload(token, &scan).await
    }

    /// A file uploaded by the holder of `token`: theirs to file (as their own registered
    /// upload would be).
    async fn upload(&self, token: &str, bytes: &[u8]) -> String {
        let sub = self.platform.tokens.verify(token).unwrap().sub;
        swi_platform::documents::received(&self.platform, &sub, &mut &bytes[..], 1 << 30)
            .await
            .unwrap()
            .hex()
    }

    async fn record_facts(&self, code: &str, insured: bool) -> (StatusCode, Value) {
        let evidence = self.evidence(&self.clerk()).await;
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
    // A clerk of another county can neither rewrite the unit's facts nor move it to their own
    // county by naming it (a 360703 acceptor did both).
    let evidence = api.evidence(&api.clerk()).await;
    let other_clerk = api.token("acceptor", "360703", None, 3600);
    for (county, want) in [
        ("360703", StatusCode::FORBIDDEN),
        ("360702", StatusCode::FORBIDDEN),
    ] {
        let (status, err) = api
            .call(
                "POST",
                "/api/work-injury/facts",
                Some(&other_clerk),
                Some(&format!("facts-move-{county}")),
                Some(json!({
                    "code": UNIT, "name": "冒名单位", "county": county,
                    "registration_no": "GS-360703-9999", "insured": true, "industry_class": 4,
                    "rate_band": "1.2", "band_decided_on": "2025-01-01", "as_of": "2025-05-31",
                    "evidence_sha256": evidence
                })),
            )
            .await;
        assert_eq!(status, want, "naming county {county}: {err}");
    }
    // Nor can the unit's own county's clerk move it by its facts.
    let (status, err) = api
        .call(
            "POST",
            "/api/work-injury/facts",
            Some(&api.clerk()),
            Some("facts-move-own"),
            Some(json!({
                "code": UNIT, "name": "赣州某某建材有限公司", "county": "360703",
                "registration_no": "GS-360702-0001", "insured": true, "industry_class": 4,
                "rate_band": "1.2", "band_decided_on": "2025-01-01", "as_of": "2025-05-31",
                "evidence_sha256": evidence
            })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_county")),
        "{err}"
    );
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
        (StatusCode::ACCEPTED, Some("cancelled"))
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

    // The cancellation job finds no member to end and closes the cancellation.
    let run = run_job(
        &api.platform,
        &swi_enrollment::cancellation::UnitCancel,
        std::time::Instant::now(),
    )
    .await
    .unwrap();
    assert_eq!((run.done, figure(&run, "finished")), (0, 1), "{run:?}");

    // Every change left its event, chained: facts, register, change, cancel, members ended.
    let chain = verify_case(&api.platform, &format!("unit#{UNIT}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chain, 5);
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
                "insured": true, "industry_class": 1, "rate_band": "1.0", "band_decided_on": "2025-01-01",
                "as_of": "2025-05-31", "evidence_sha256": "0".repeat(64)
            })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("document_missing")),
        "every other field is valid, so the missing scan is what refuses it: {err}"
    );
    // A band the class does not have.
    let evidence = api.evidence(&api.clerk()).await;
    let (status, err) = api
        .call(
            "POST",
            "/api/work-injury/facts",
            Some(&api.clerk()),
            Some("facts-band"),
            Some(json!({
                "code": OTHER_UNIT, "name": "赣州某某", "county": "360702", "registration_no": "R1",
                "insured": true, "industry_class": 1, "rate_band": "0.5", "band_decided_on": "2025-01-01",
                "as_of": "2025-05-31", "evidence_sha256": evidence
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

fn person(name: &str, id: &str, category: &str) -> Value {
    json!({
        "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970101",
        "category": category, "declared_wage": "4500.00", "start": "2025-06-02"
    })
}

async fn file_all(api: &Api, token: &str, id: &str, materials: &[&str]) -> Value {
    let mut last = Value::Null;
    for m in materials {
        let scan = format!("%PDF-1.7\n{id} {m} 扫描件 {}", api.run).into_bytes();
        let sha = api.upload(token, &scan).await;
        let (status, e) = api
            .call(
                "PUT",
                &format!("/api/enrolments/{id}/materials/{m}"),
                Some(token),
                Some(&format!("mat-{id}-{m}")),
                Some(json!({ "sha256": sha })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{e}");
        last = e;
    }
    last
}

async fn persons_of_every_category(api: &Api) {
    assert_eq!(api.record_facts(STAFFED_UNIT, true).await.0, StatusCode::OK);
    let emp = api.employer(STAFFED_UNIT);
    let (status, _) = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-staffed"),
            Some(api.registration(STAFFED_UNIT)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let clerk = api.clerk();
    let enrol = |body: Value, key: String| {
        let emp = emp.clone();
        async move {
            api.call(
                "POST",
                &format!("/api/units/{STAFFED_UNIT}/persons"),
                Some(&emp),
                Some(&key),
                Some(body),
            )
            .await
        }
    };
    // Billed at acceptance, a person is paid for through the tax bureau: its receipt for the
    // first month's bill starts the cover (`swi_bills::receipt`, which the billing step's
    // receipt import applies).
    let pay = |id: String, key: String| {
        let clerk = clerk.clone();
        async move {
            let (status, e) = api
                .call(
                    "GET",
                    &format!("/api/enrolments/{id}"),
                    Some(&clerk),
                    None,
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{e}");
            let Some(month) = e["bills_from"].as_str() else {
                // Not billed yet (not accepted): the window's route says why no payment counts.
                return api
                    .call(
                        "POST",
                        &format!("/api/enrolments/{id}/payments"),
                        Some(&clerk),
                        Some(&key),
                        Some(json!({ "paid_at": "2025-06-02T08:00" })),
                    )
                    .await;
            };
            let month = month.replace('-', "");
            pay_bill(
                &api.platform,
                &format!("b-{}-{id}", &month[..6]),
                &key,
                "2025-06-02",
            )
            .await;
            api.call(
                "GET",
                &format!("/api/enrolments/{id}"),
                Some(&clerk),
                None,
                None,
            )
            .await
        }
    };

    // An ordinary employee: no materials, awaiting payment, covered from the next day (Art. 8).
    let (status, e) = enrol(
        person("赵一", "360702198501010012", "employee"),
        "p-employee".into(),
    )
    .await;
    assert_eq!(
        (status, e["status"].as_str()),
        (StatusCode::CREATED, Some("awaiting_payment")),
        "{e}"
    );
    assert_eq!(
        e["id_number"], "360702********0012",
        "the ID number is shown masked"
    );
    // Nor is any key derived from it (an unsalted hash of the number was answered as `person`,
    // and enumerating birth dates recovered the number in 0.2 s).
    assert!(e.get("person").is_none(), "{e}");
    // Its first month is billed at once; the window cannot record the payment by hand.
    assert_eq!(e["bills_from"], "2025-06-01", "{e}");
    let (status, refused) = api
        .call(
            "POST",
            &format!("/api/enrolments/{}/payments", e["id"].as_str().unwrap()),
            Some(&clerk),
            Some("pay-by-hand"),
            Some(json!({ "paid_at": "2025-06-02T08:00" })),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("billed_through_tax")),
        "{refused}"
    );
    let (status, covered) = pay(e["id"].as_str().unwrap().into(), "pay-employee".into()).await;
    assert_eq!(
        (
            status,
            covered["status"].as_str(),
            covered["cover_start"].as_str()
        ),
        (StatusCode::OK, Some("covered"), Some("2025-06-03"))
    );

    // Special persons: materials, acceptance, payment.
    let special = [
        (
            "钱二",
            "360702198602020113",
            "village_cadre",
            vec!["township_appointment", "village_official_proof"],
        ),
        (
            "孙三",
            "360702198703030214",
            "platform_domestic",
            vec![
                "platform_qualification",
                "platform_worker_agreement",
                "registration_info_sealed",
                "work_scope",
            ],
        ),
        (
            "李四",
            "360702198804040315",
            "platform_ride_hailing",
            vec![
                "platform_qualification",
                "platform_worker_agreement",
                "registration_info_sealed",
                "work_scope",
            ],
        ),
        (
            "周五",
            "360702198905050416",
            "platform_food_delivery",
            vec![
                "platform_qualification",
                "platform_worker_agreement",
                "registration_info_sealed",
                "work_scope",
            ],
        ),
        (
            "吴六",
            "360702199006060519",
            "platform_instant_delivery",
            vec![
                "platform_qualification",
                "platform_worker_agreement",
                "registration_info_sealed",
                "work_scope",
            ],
        ),
        (
            "郑七",
            "36070219910707061X",
            "platform_freight",
            vec![
                "platform_qualification",
                "platform_worker_agreement",
                "registration_info_sealed",
                "work_scope",
            ],
        ),
        (
            "王八",
            "360702199309090811",
            "cooperative",
            vec!["cooperative_licence", "hiring_contract"],
        ),
        (
            "冯九",
            "360702195506152016",
            "over_age",
            vec!["work_injury_payment_proof", "labour_service_contract"],
        ),
    ];
    for (name, idn, category, materials) in &special {
        let (status, e) = enrol(person(name, idn, category), format!("p-{category}")).await;
        assert_eq!(
            (status, e["status"].as_str()),
            (StatusCode::CREATED, Some("awaiting_materials")),
            "{category}: {e}"
        );
        let id = e["id"].as_str().unwrap().to_owned();
        let (status, err) = pay(id.clone(), format!("early-{category}")).await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "no payment before acceptance: {err}"
        );
        let e = file_all(api, &emp, &id, materials).await;
        assert_eq!(e["status"], "awaiting_acceptance", "{category}");
        let (status, e) = api
            .call(
                "POST",
                &format!("/api/enrolments/{id}/accept"),
                Some(&clerk),
                Some(&format!("acc-{category}")),
                None,
            )
            .await;
        assert_eq!(
            (status, e["status"].as_str()),
            (StatusCode::OK, Some("awaiting_payment")),
            "{e}"
        );
        let (status, e) = pay(id, format!("pay-{category}")).await;
        assert_eq!(
            (status, e["cover_start"].as_str()),
            (StatusCode::OK, Some("2025-06-03")),
            "{e}"
        );
        if *category == "over_age" {
            assert_eq!(
                e["cover_end"], "2026-06-14",
                "over-age cover ends the day before 71"
            );
        }
    }

    // An intern of 16: cover ends with the agreement (Art. 7).
    let mut intern = person("陈十", "360721200903010049", "intern");
    intern["agreement_end"] = json!("2025-08-31");
    let (status, e) = enrol(intern, "p-intern".into()).await;
    assert_eq!(
        (status, e["cover_end"].as_str()),
        (StatusCode::CREATED, Some("2025-08-31")),
        "{e}"
    );

    // A volunteer returned with a one-time notice listing everything missing, then completed.
    let (_, e) = enrol(
        person("褚十一", "360702199208080710", "volunteer"),
        "p-volunteer".into(),
    )
    .await;
    let id = e["id"].as_str().unwrap().to_owned();
    file_all(api, &emp, &id, &["volunteer_registration"]).await;
    let (status, e) = api
        .call(
            "POST",
            &format!("/api/enrolments/{id}/return"),
            Some(&clerk),
            Some("ret-volunteer"),
            Some(json!({ "problems": ["志愿者注册信息未加盖公章"] })),
        )
        .await;
    assert_eq!(
        (status, e["status"].as_str()),
        (StatusCode::OK, Some("returned")),
        "{e}"
    );
    assert_eq!(
        e["notice"]["missing"],
        json!(["organisation_founding_document"])
    );
    assert_eq!(e["notice"]["problems"][0], "志愿者注册信息未加盖公章");
    // The notice prints as a form listing everything at once.
    let (status, ct) = api
        .raw_get(&format!("/api/enrolments/{id}/notice"), &emp)
        .await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
    let pdf = api
        .get_bytes(&format!("/api/enrolments/{id}/notice"), &emp)
        .await;
    // Served as issued: the very bytes whose SHA-256 the return recorded, with a verification
    // code anyone can check.
    assert_eq!(
        e["notice"]["sha256"].as_str(),
        Some(swi_store::Sha256::of(&pdf).hex().as_str()),
        "{e}"
    );
    let text = pdf_text(&pdf);
    let code: String = text
        .split("核验码：")
        .nth(1)
        .unwrap_or_else(|| panic!("no verification code in the notice:\n{text}"))
        .chars()
        .take(14)
        .collect();
    let (status, genuine) = api
        .call(
            "GET",
            &format!("/api/verifications/{code}"),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{genuine}");
    assert_eq!(genuine["case"], id.as_str());
    for expected in [
        "一次性告知书",
        "缺少材料：志愿组织成立文件",
        "志愿者注册信息未加盖公章",
        "第三十四条",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` not in the notice:\n{text}"
        );
    }
    let e = file_all(api, &emp, &id, &["organisation_founding_document"]).await;
    assert_eq!(e["status"], "awaiting_acceptance");

    // Uploads: a presigned URL for a scan of a valid type and size only; a file that is not a
    // scan cannot be filed.
    let ask = |body: Value| {
        let emp = emp.clone();
        async move {
            api.call(
                "POST",
                "/api/documents/uploads",
                Some(&emp),
                None,
                Some(body),
            )
            .await
        }
    };
    let sha = "ab".repeat(32);
    let (status, url) =
        ask(json!({ "sha256": sha, "size": 1_000_000, "content_type": "application/pdf" })).await;
    assert_eq!(
        (status, url["method"].as_str()),
        (StatusCode::OK, Some("PUT")),
        "{url}"
    );
    // The PUT goes to the upload's own key (its id), never to the content address.
    let upload = url["upload_id"].as_str().unwrap();
    assert!(url["url"].as_str().unwrap().contains(upload), "{url}");
    assert_eq!(url["sha256"], sha);
    let (status, err) =
        ask(json!({ "sha256": sha, "size": 30_000_000, "content_type": "image/png" })).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let (status, err) =
        ask(json!({ "sha256": sha, "size": 1000, "content_type": "application/x-msdownload" }))
            .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_type"))
    );
    let exe = b"MZ\x90\x00 not a scan".to_vec();
    let exe_sha = api.upload(&emp, &exe).await;
    let (status, err) = api
        .call(
            "PUT",
            &format!("/api/enrolments/{id}/materials/volunteer_registration"),
            Some(&emp),
            Some("mat-exe"),
            Some(json!({ "sha256": exe_sha })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_type"))
    );

    // A flexible worker enrols herself in another county (Art. 6, 16) — only under the ID
    // number verified for her account (defect 4): unverified, or under another's number, refused.
    let citizen = api.token("citizen", "360703", None, 3600);
    let mut flex = person("卫十二", "360703197211152049", "flexible");
    flex["county"] = json!("360703");
    flex["pays_basic_pension"] = json!(true);
    let (status, err) = api
        .call(
            "POST",
            "/api/self/enrolments",
            Some(&citizen),
            Some("self-0"),
            Some(flex.clone()),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("identity_not_verified")),
        "{err}"
    );
    let id_scan = format!("%PDF-1.7\n身份证扫描件 {}", api.run).into_bytes();
    let id_scan = api.upload(&api.clerk(), &id_scan).await;
    let verify = |sub: String, number: &str| json!({ "sub": sub, "name": "卫十二", "id_number": number, "evidence_sha256": id_scan });
    let citizen_sub = format!("citizen-360703{}", api.run);
    let (status, body) = api
        .call(
            "POST",
            "/api/identities",
            Some(&api.employer(UNIT)),
            Some("idv-0"),
            Some(verify(citizen_sub.clone(), "360703197211152049")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the window verifies: {body}"
    );
    let (status, body) = api
        .call(
            "POST",
            "/api/identities",
            Some(&clerk),
            Some("idv-1"),
            Some(verify(citizen_sub.clone(), "360703197211152049")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id_number"], json!("360703********2049"));
    assert!(body.get("person").is_none(), "{body}");
    let (status, body) = api
        .call(
            "POST",
            "/api/identities",
            Some(&clerk),
            Some("idv-2"),
            Some(verify("someone-else".into(), "360703197211152049")),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("identity_linked")),
        "one ID, one account: {body}"
    );
    let mut other = flex.clone();
    other["id_number"] = json!(
        ResidentId::with_check_character("36070319750606123")
            .unwrap()
            .expose()
    );
    other["name"] = json!("某某");
    let (status, err) = api
        .call(
            "POST",
            "/api/self/enrolments",
            Some(&citizen),
            Some("self-other"),
            Some(other),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_own_id")),
        "{err}"
    );
    flex["pays_basic_pension"] = json!(null);
    let (status, err) = api
        .call(
            "POST",
            "/api/self/enrolments",
            Some(&citizen),
            Some("self-1"),
            Some(flex.clone()),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_basic_pension"))
    );
    flex["pays_basic_pension"] = json!(true);
    let (status, e) = api
        .call(
            "POST",
            "/api/self/enrolments",
            Some(&citizen),
            Some("self-2"),
            Some(flex),
        )
        .await;
    assert_eq!(
        (status, e["status"].as_str(), e["county"].as_str()),
        (
            StatusCode::CREATED,
            Some("awaiting_materials"),
            Some("360703")
        ),
        "{e}"
    );
    let own = e["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.call(
            "GET",
            &format!("/api/enrolments/{own}"),
            Some(&citizen),
            None,
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    // Changes of hours, place or duties are registered 48 hours ahead (Art. 18).
    let (status, changed) = api
        .call(
            "POST",
            &format!("/api/enrolments/{own}/changes"),
            Some(&citizen),
            Some("chg-flex-1"),
            Some(json!({ "effective": "2025-06-04T09:30", "place": "章贡区某某街道" })),
        )
        .await;
    assert_eq!(
        (status, changed["changes"][0]["place"].as_str()),
        (StatusCode::OK, Some("章贡区某某街道")),
        "{changed}"
    );
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/enrolments/{own}/changes"),
            Some(&citizen),
            Some("chg-flex-2"),
            Some(json!({ "effective": "2025-06-04T09:29", "hours": "夜班" })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("change_notice_too_late")
        )
    );
    let other_citizen = api.token_for("citizen", "360703", "someone-else");
    assert_eq!(
        api.call(
            "GET",
            &format!("/api/enrolments/{own}"),
            Some(&other_citizen),
            None,
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // Refusals that change nothing.
    let (status, err) = enrol(
        person("错号", "360702198501010013", "employee"),
        "bad-1".into(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, err) = enrol(
        person("未知", "360702198501010012", "retired"),
        "bad-2".into(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_category"))
    );
    let (status, err) = enrol(
        person("七十一", "360702195401010118", "over_age"),
        "bad-3".into(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("above_maximum_age"))
    );
    let mut young = person("十五", "360702201001010213", "intern");
    young["agreement_end"] = json!("2025-12-31");
    let (status, err) = enrol(young, "bad-4".into()).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("below_minimum_age"))
    );
    let (status, err) = enrol(
        person("赵一", "360702198501010012", "employee"),
        "bad-5".into(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("overlapping_cover"))
    );
    let other_clerk = api.token("acceptor", "360703", None, 3600);
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/enrolments/{id}/accept"),
            Some(&other_clerk),
            Some("acc-other"),
            None,
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_county"))
    );

    // The roster on a date and a person's history.
    let (status, roster) = api
        .call(
            "GET",
            &format!("/api/units/{STAFFED_UNIT}/roster?on=2025-07-01"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        roster["covered"].as_array().unwrap().len(),
        1 + special.len(),
        "{roster}"
    );
    assert!(
        roster["covered"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.get("person").is_none()),
        "the roster answers no person key: {roster}"
    );
    let (_, before) = api
        .call(
            "GET",
            &format!("/api/units/{STAFFED_UNIT}/roster?on=2025-06-02"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(
        before["covered"].as_array().unwrap().len(),
        0,
        "cover starts the day after payment"
    );
    let (status, hist) = api
        .call(
            "POST",
            "/api/persons/history",
            Some(&clerk),
            None,
            Some(json!({ "id_number": "360702195506152016" })),
        )
        .await;
    assert_eq!(
        (status, hist["enrolments"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    assert!(
        !hist.to_string().contains("360702195506152016"),
        "history shows the number masked"
    );
    assert!(hist["enrolments"][0].get("person").is_none(), "{hist}");

    // Many more staff, so that cancelling the unit ends cover over several transactions.
    for i in 0..64u32 {
        let idn = resident_id(&format!("36070219900101{:03}", 100 + i * 2 + 1));
        let (status, e) = enrol(person("员工", &idn, "employee"), format!("p-bulk-{i}")).await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
    }
    let (status, cancelled) = api
        .call(
            "POST",
            &format!("/api/units/{STAFFED_UNIT}/cancel"),
            Some(&clerk),
            Some("cancel-staffed"),
            Some(json!({ "reason": "工伤保险登记注销" })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{cancelled}");
    assert_eq!(
        (
            cancelled["members_ended"].as_u64(),
            cancelled["ending_members"].as_bool()
        ),
        (Some(0), Some(true)),
        "{cancelled}"
    );
    // From the cancellation on, the unit takes no one, though its members are still being
    // ended (an enrolment raced the cascade and stayed covered in a cancelled unit).
    let late = resident_id("36070219900101399");
    let (status, err) = enrol(person("迟到", &late, "employee"), "p-late".into()).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("unit_cancelled")),
        "{err}"
    );
    // The job ends the members a transaction at a time; a run whose time is up stops after
    // one, the unit shows how far it got, and the next run goes on from there.
    let run = run_job(
        &api.platform,
        &swi_enrollment::cancellation::UnitCancel,
        std::time::Instant::now(),
    )
    .await
    .unwrap();
    let step = swi_enrollment::cancellation::MEMBERS_PER_TRANSACTION;
    assert_eq!((run.done, run.pending), (step, 1), "{run:?}");
    let (_, unit) = api
        .call(
            "GET",
            &format!("/api/units/{STAFFED_UNIT}"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            unit["members_ended"].as_u64(),
            unit["ending_members"].as_bool()
        ),
        (Some(step as u64), Some(true)),
        "{unit}"
    );
    let mut total = step;
    loop {
        let run = run_job(
            &api.platform,
            &swi_enrollment::cancellation::UnitCancel,
            std::time::Instant::now(),
        )
        .await
        .unwrap();
        total += run.done;
        if figure(&run, "finished") == 1 {
            break;
        }
    }
    // The employee, eight special persons, the intern and the volunteer, and the 64 above.
    assert_eq!(total, 11 + 64);
    let (_, unit) = api
        .call(
            "GET",
            &format!("/api/units/{STAFFED_UNIT}"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            unit["members_ended"].as_u64(),
            unit["ending_members"].as_bool()
        ),
        (Some(11 + 64), Some(false)),
        "{unit}"
    );
    let (_, after) = api
        .call(
            "GET",
            &format!("/api/units/{STAFFED_UNIT}/roster?on=2025-07-01"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(
        after["covered"].as_array().unwrap().len(),
        0,
        "cancelling a unit ends every member's cover (Art. 10)"
    );
    let (_, e) = api
        .call(
            "POST",
            "/api/persons/history",
            Some(&clerk),
            None,
            Some(json!({ "id_number": "360702198501010012" })),
        )
        .await;
    assert_eq!(
        (
            e["enrolments"][0]["status"].as_str(),
            e["enrolments"][0]["cover_end"].as_str()
        ),
        (Some("terminated"), Some("2025-06-02"))
    );
    // The self-enrolled worker is not the unit's and keeps her enrolment.
    let (_, own_after) = api
        .call(
            "GET",
            &format!("/api/enrolments/{own}"),
            Some(&citizen),
            None,
            None,
        )
        .await;
    assert_eq!(own_after["status"], "awaiting_materials");
}

/// A resident ID number from its first 17 digits (GB 11643 check character).
fn resident_id(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_and_describes_every_route() {
    let api = embedded();
    let (status, doc) = api.call("GET", "/api/openapi.json", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/units",
        "/api/units/{code}",
        "/api/units/{code}/cancel",
        "/api/units/{code}/persons",
        "/api/units/{code}/roster",
        "/api/self/enrolments",
        "/api/enrolments/{id}",
        "/api/enrolments/{id}/materials/{material}",
        "/api/enrolments/{id}/accept",
        "/api/enrolments/{id}/return",
        "/api/enrolments/{id}/payments",
        "/api/enrolments/{id}/terminate",
        "/api/persons/history",
        "/api/documents/uploads",
        "/api/work-injury/facts",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Enrolment"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every error code a client may meet is listed, and only those.
    let listed: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode is an enum in the document")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let codes: Vec<&str> = swi_platform::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(listed, codes);
    // Every reference resolves.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r.strip_prefix("#/components/schemas/").expect(r);
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_verified_by_the_gateway_are_taken_and_a_header_cannot_fake_them() {
    let api = embedded();
    let claims = Claims {
        sub: "cognito-sub-1".into(),
        role: "supervisor".into(),
        county: "360700".into(),
        name: "督查".into(),
        unit: None,
        iss: "https://cognito-idp.example/pool".into(),
        iat: 0,
        exp: 0,
    };
    let mut req = Request::builder()
        .uri(format!("/api/units/{UNIT}"))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(swi_platform::auth::GatewayClaims(claims));
    let res = api.router.clone().oneshot(req).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "authenticated by the gateway's claims"
    );
    let req = Request::builder()
        .uri(format!("/api/units/{UNIT}"))
        .header("x-gateway-claims", "{\"role\":\"supervisor\"}")
        .body(Body::empty())
        .unwrap();
    let res = api.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn put_file(api: &Api, token: &str, bytes: &[u8]) -> String {
    api.upload(token, bytes).await
}

async fn declarations_are_accepted_or_rejected_whole(api: &Api) {
    assert_eq!(
        api.record_facts(DECLARING_UNIT, true).await.0,
        StatusCode::OK
    );
    let emp = api.employer(DECLARING_UNIT);
    let (status, _) = api
        .call(
            "POST",
            "/api/units",
            Some(&emp),
            Some("reg-declaring"),
            Some(api.registration(DECLARING_UNIT)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/units/{DECLARING_UNIT}/declarations");

    // A CSV with one bad row (wrong check digit) is refused whole, the row named.
    let csv = "变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n\
               增,赵一,360702198501010012,employee,4500.00,2025-06-02,13907970101\n\
               增,钱二,360702198602020114,employee,4600.00,2025-06-03,13907970102\n\
               增,孙三,360702198703030214,employee,4700.00,2025-06-04,13907970103\n";
    let sha = put_file(api, &emp, csv.as_bytes()).await;
    let (status, err) = api
        .call(
            "POST",
            &path,
            Some(&emp),
            Some("decl-csv"),
            Some(json!({ "month": "2025-06", "sha256": sha })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("declaration_rejected")
        ),
        "{err}"
    );
    assert_eq!(err["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        err["rows"][0]["row"], 3,
        "the third spreadsheet row (header is row 1)"
    );
    assert!(
        err["rows"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("check character")
    );
    // The report downloads as a workbook that names the row.
    let report = api
        .platform
        .docs
        .get(&swi_store::Sha256::parse(err["report_sha256"].as_str().unwrap()).unwrap())
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut { report }, &mut bytes)
        .await
        .unwrap();
    let table = swi_tables::read(&bytes, &swi_tables::Limits::DECLARATION).unwrap();
    assert!(
        table[0][0].contains(DECLARING_UNIT),
        "the report names its unit: {}",
        table[0][0]
    );
    assert_eq!(
        (table[1][0].as_str(), table[2][0].as_str()),
        ("行号 Row", "3"),
        "then the rows"
    );
    let url = err["report_url"].as_str().unwrap();
    let (status, content_type) = api.raw_get(url, &emp).await;
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    assert_eq!(status, StatusCode::OK);
    // Only the unit and the clerks over it may download it.
    assert_eq!(api.raw_get(url, &api.clerk()).await.0, StatusCode::OK);
    assert_eq!(
        api.raw_get(url, &api.employer(UNIT)).await.0,
        StatusCode::FORBIDDEN,
        "another unit's employer"
    );
    assert_eq!(
        api.raw_get(url, &api.token("acceptor", "360703", None, 3600))
            .await
            .0,
        StatusCode::FORBIDDEN,
        "a clerk of another county"
    );
    // An uploaded workbook that is not a report is not served as one.
    let report_url = |sha: &str| format!("/api/reports/{sha}");
    let (status, _) = api.raw_get(&report_url(&sha), &emp).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the declaration itself");
    // Nor is a look-alike that names another unit inside it (it was served as an official
    // report when the route read the subject from the file).
    let mut look_alike = rust_xlsxwriter::Workbook::new();
    let sheet = look_alike.add_worksheet();
    sheet.write_string(0, 0, "报告对象 Subject").unwrap();
    sheet
        .write_string(0, 1, format!("unit {UNIT} 360702"))
        .unwrap();
    sheet.write_string(1, 0, "行号 Row").unwrap();
    sheet.write_string(2, 0, "3").unwrap();
    let forged = put_file(
        api,
        &api.employer(UNIT),
        &look_alike.save_to_buffer().unwrap(),
    )
    .await;
    let (status, _) = api.raw_get(&report_url(&forged), &api.employer(UNIT)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a look-alike report");
    let (_, queue) = api
        .call(
            "GET",
            "/api/counties/360702/declarations",
            Some(&api.clerk()),
            None,
            None,
        )
        .await;
    assert_eq!(
        queue.as_array().unwrap().len(),
        0,
        "a rejected file changes nothing"
    );

    // A valid XLSX file is accepted into the queue, due in 3 working days (Art. 18).
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        [
            "action",
            "name",
            "id_number",
            "category",
            "declared_wage",
            "date",
            "phone",
        ],
        [
            "join",
            "赵一",
            "360702198501010012",
            "employee",
            "4500.00",
            "2025-06-02",
            "13907970101",
        ],
        [
            "join",
            "孙三",
            "360702198703030214",
            "employee",
            "4700",
            "2025-06-04",
            "13907970103",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let xlsx = book.save_to_buffer().unwrap();
    let sha = put_file(api, &emp, &xlsx).await;
    let (status, d) = api
        .call(
            "POST",
            &path,
            Some(&emp),
            Some("decl-xlsx"),
            Some(json!({ "month": "2025-06", "sha256": sha })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    assert_eq!(
        (d["joiners"].as_u64(), d["review_by"].as_str()),
        (Some(2), Some("2025-06-05"))
    );
    let (_, queue) = api
        .call(
            "GET",
            "/api/counties/360702/declarations",
            Some(&api.clerk()),
            None,
            None,
        )
        .await;
    assert_eq!(queue[0]["id"], d["id"]);
    let (status, again) = api
        .call(
            "POST",
            &path,
            Some(&emp),
            Some("decl-xlsx-again"),
            Some(json!({ "month": "2025-06", "sha256": sha })),
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_declared")),
        "the same file twice for one month: {again}"
    );
    // The window approves it: the joiners are enrolled (Art. 18); it leaves the queue.
    let did = d["id"].as_str().unwrap().to_owned();
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/declarations/{did}/review"),
            Some(&api.clerk()),
            Some("review-0"),
            Some(json!({ "decision": "reject" })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "a rejection needs a note"
    );
    let (status, reviewed) = api
        .call(
            "POST",
            &format!("/api/declarations/{did}/review"),
            Some(&api.clerk()),
            Some("review-1"),
            Some(json!({ "decision": "approve" })),
        )
        .await;
    assert_eq!(
        (
            status,
            reviewed["status"].as_str(),
            reviewed["applied"].as_u64()
        ),
        (StatusCode::ACCEPTED, Some("applying"), Some(0)),
        "the approval is recorded at once; the job applies the rows: {reviewed}"
    );
    let report = run_job(
        &api.platform,
        &swi_enrollment::declarations::DeclarationApply,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(
        (figure(&report, "finished"), report.done),
        (1, 2),
        "{report:?}"
    );
    let (_, reviewed) = api
        .call(
            "GET",
            &format!("/api/declarations/{did}"),
            Some(&emp),
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            reviewed["status"].as_str(),
            reviewed["applied"].as_u64(),
            reviewed["failed"].as_array().map(Vec::len)
        ),
        (Some("approved"), Some(2), Some(0)),
        "{reviewed}"
    );
    let (_, hist) = api
        .call(
            "POST",
            "/api/persons/history",
            Some(&api.clerk()),
            None,
            Some(json!({ "id_number": "360702198703030214" })),
        )
        .await;
    assert!(
        hist["enrolments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["unit"] == DECLARING_UNIT && e["status"] == "awaiting_payment"),
        "{hist}"
    );
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/declarations/{did}/review"),
            Some(&api.clerk()),
            Some("review-2"),
            Some(json!({ "decision": "approve" })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a declaration is reviewed once"
    );
    let (_, queue) = api
        .call(
            "GET",
            "/api/counties/360702/declarations",
            Some(&api.clerk()),
            None,
            None,
        )
        .await;
    assert!(queue.as_array().unwrap().is_empty(), "{queue}");
    let (status, _) = api
        .call(
            "GET",
            "/api/counties/360702/declarations",
            Some(&emp),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A file that is not a table.
    let sha = put_file(api, &emp, b"%PDF-1.4 not a table").await;
    let (status, err) = api
        .call(
            "POST",
            &path,
            Some(&emp),
            Some("decl-pdf"),
            Some(json!({ "month": "2025-06", "sha256": sha })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_type"))
    );

    // A workbook holding only A1 and XFD1048576 (it aborted the server, allocating 512 GiB)
    // is refused as too large, whether declared or imported as a roster.
    let mut bomb = rust_xlsxwriter::Workbook::new();
    let sheet = bomb.add_worksheet();
    sheet.write_string(0, 0, "变动类型").unwrap();
    sheet.write_string(1_048_575, 16_383, "增").unwrap();
    let bomb = bomb.save_to_buffer().unwrap();
    let sha = put_file(api, &emp, &bomb).await;
    let (status, err) = api
        .call(
            "POST",
            &path,
            Some(&emp),
            Some("decl-bomb"),
            Some(json!({ "month": "2025-06", "sha256": sha })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")),
        "{err}"
    );
    // The clerk's own upload of the same workbook (the unit's is the unit's).
    put_file(api, &api.clerk(), &bomb).await;
    let (status, _) = api
        .call(
            "POST",
            "/api/work-injury/roster",
            Some(&api.clerk()),
            Some("roster-bomb"),
            Some(json!({ "sha256": sha })),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A declaration larger than one transaction is applied a transaction at a time: a run that
/// stops early resumes where it stood, two runs at once never apply a row twice, and a row that
/// no longer holds at approval is recorded, with why, instead of being applied.
async fn a_large_declaration_is_applied_in_resumable_steps(api: &Api) {
    const ROWS: usize = 45;
    let emp = api.employer(DECLARING_UNIT);
    let ids: Vec<String> = (0..ROWS)
        .map(|i| {
            ResidentId::with_check_character(&format!(
                "36070219900{}{:02}{:03}",
                3 + i / 28,
                1 + i % 28,
                // Odd: men, whose enrolments as employees also carry a retirement watch, so that
                // a transaction of rows holds the most operations it can.
                101 + 2 * i
            ))
            .unwrap()
            .expose()
            .to_owned()
        })
        .collect();
    let mut csv = String::from("变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n");
    for (i, id) in ids.iter().enumerate() {
        csv.push_str(&format!(
            "增,职工{i},{id},employee,4800.00,2025-06-{:02},13907971{i:03}\n",
            10 + i % 20
        ));
    }
    let sha = put_file(api, &emp, csv.as_bytes()).await;
    let (status, d) = api
        .call(
            "POST",
            &format!("/api/units/{DECLARING_UNIT}/declarations"),
            Some(&emp),
            Some("decl-large"),
            Some(json!({ "month": "2025-06", "sha256": sha })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    let did = d["id"].as_str().unwrap().to_owned();
    // Row 7 (the sixth person) is enrolled directly between upload and approval.
    let mut direct = person("职工5", &ids[5], "employee");
    direct["start"] = json!("2025-06-15");
    let (status, e) = api
        .call(
            "POST",
            &format!("/api/units/{DECLARING_UNIT}/persons"),
            Some(&emp),
            Some("decl-large-direct"),
            Some(direct),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/declarations/{did}/review"),
            Some(&api.clerk()),
            Some("review-large"),
            Some(json!({ "decision": "approve" })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // A run whose deadline has passed still makes one transaction, and stops there.
    let past = std::time::Instant::now();
    let first = swi_enrollment::declarations::apply::apply_approved(&api.platform, &did, past)
        .await
        .unwrap();
    let step = swi_enrollment::declarations::apply::ROWS_PER_TRANSACTION;
    assert_eq!((first.rows, first.finished), (step, false), "{first:?}");
    let read = || {
        let emp = emp.clone();
        let did = did.clone();
        async move {
            api.call(
                "GET",
                &format!("/api/declarations/{did}"),
                Some(&emp),
                None,
                None,
            )
            .await
            .1
        }
    };
    let d = read().await;
    assert_eq!(
        (
            d["status"].as_str(),
            d["cursor"].as_u64(),
            d["applied"].as_u64(),
            d["not_applied"].as_u64()
        ),
        (
            Some("applying"),
            Some(step as u64),
            Some(step as u64 - 1),
            Some(1)
        ),
        "{d}"
    );
    assert_eq!(d["failed"][0]["row"], 7, "{d}");
    assert!(
        d["failed"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("already enrolled"),
        "{d}"
    );

    // Two runs at once: each transaction is taken by one of them only.
    let (a, b) = tokio::join!(
        run_job(
            &api.platform,
            &swi_enrollment::declarations::DeclarationApply,
            past
        ),
        run_job(
            &api.platform,
            &swi_enrollment::declarations::DeclarationApply,
            past
        ),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.errors.is_empty() && b.errors.is_empty(), "{a:?} {b:?}");
    let rest = run_job(
        &api.platform,
        &swi_enrollment::declarations::DeclarationApply,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(
        a.done + b.done + rest.done,
        ROWS - step,
        "every row once: {a:?} {b:?} {rest:?}"
    );
    let d = read().await;
    assert_eq!(
        (
            d["status"].as_str(),
            d["cursor"].as_u64(),
            d["applied"].as_u64(),
            d["failed"].as_array().map(Vec::len)
        ),
        (
            Some("approved"),
            Some(ROWS as u64),
            Some(ROWS as u64 - 1),
            Some(1)
        ),
        "{d}"
    );
    // Each person holds exactly one enrolment in the unit.
    let members = api
        .platform
        .state
        .query_all(
            &swi_store::Query::partition(format!("unit#{DECLARING_UNIT}"))
                .range(swi_store::SkRange::Prefix("member#".into()))
                .limit(1000),
        )
        .await
        .unwrap();
    let mut per_person = std::collections::HashMap::new();
    for m in &members {
        let body: Value = m.body().unwrap();
        *per_person
            .entry(body["person"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(per_person.len(), 2 + ROWS, "two earlier joiners and these");
    assert!(per_person.values().all(|&n| n == 1), "{per_person:?}");
    // Nothing is left for the job, and the declaration's history is one intact chain: filed,
    // approved, a transaction per batch of rows.
    let idle = run_job(
        &api.platform,
        &swi_enrollment::declarations::DeclarationApply,
        past,
    )
    .await
    .unwrap();
    assert_eq!((figure(&idle, "waiting"), idle.done), (0, 0), "{idle:?}");
    let chain = verify_case(&api.platform, &format!("declaration#{did}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        chain,
        2 + ROWS.div_ceil(swi_enrollment::declarations::apply::ROWS_PER_TRANSACTION)
    );
}

/// A move between counties is the city's own action (defect 2): a county clerk cannot make it;
/// a city-level clerk moves the unit and its facts at once (202), and the move job moves every
/// member's enrolment with it — from then the new county's clerks see them, the old county's not.
async fn a_unit_moves_county_only_by_the_city(api: &Api) {
    let scan = format!("%PDF-1.7\n迁移决定 {}", api.run).into_bytes();
    let city = api.token("acceptor", "360700", None, 3600);
    let scan = api.upload(&city, &scan).await;
    let body =
        json!({ "county": "360703", "reason": "工伤保险关系转至南康区", "evidence_sha256": scan });
    let path = format!("/api/units/{DECLARING_UNIT}/move");
    let (status, err) = api
        .call(
            "POST",
            &path,
            Some(&api.clerk()),
            Some("move-county"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, moved) = api
        .call("POST", &path, Some(&city), Some("move-city"), Some(body))
        .await;
    assert_eq!(
        (
            status,
            moved["county"].as_str(),
            moved["moving_members"].as_bool()
        ),
        (StatusCode::ACCEPTED, Some("360703"), Some(true)),
        "{moved}"
    );
    // The month's billing run is told, so that it bills the unit even if its new county was
    // walked already.
    let month = swi_rules::billing::month_of(api.platform.clock.today());
    assert!(
        api.platform
            .state
            .get(&swi_store::Key::new(
                swi_bills::bill::moved_units_pk(month),
                DECLARING_UNIT
            ))
            .await
            .unwrap()
            .is_some(),
        "the move is noted for the month's billing run"
    );
    let run = run_job(
        &api.platform,
        &swi_enrollment::moving::UnitMove,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(run.done > 0 && run.pending == 0, "{run:?}");
    let members = swi_registry::enrolment::unit_members(&api.platform, DECLARING_UNIT)
        .await
        .unwrap();
    let member = members
        .iter()
        .find(|m| m.status != swi_domain::enrolment::Status::Terminated)
        .unwrap();
    let nankang = api.token("acceptor", "360703", None, 3600);
    for (token, expected) in [
        (&nankang, StatusCode::OK),
        (&api.clerk(), StatusCode::FORBIDDEN),
    ] {
        let (status, _) = api
            .call(
                "GET",
                &format!("/api/units/{DECLARING_UNIT}"),
                Some(token),
                None,
                None,
            )
            .await;
        assert_eq!(status, expected);
        let (status, e) = api
            .call(
                "GET",
                &format!("/api/enrolments/{}", member.id),
                Some(token),
                None,
                None,
            )
            .await;
        assert_eq!(status, expected, "{e}");
    }
}

/// One request sent 50 times at once under one Idempotency-Key: every copy gets the first
/// answer (201, the same enrolment) — never an error about its own effect (defect 5) — and
/// the person is enrolled once, with one audit event.
async fn one_key_sent_fifty_times_at_once_is_one_enrolment(api: &Api) {
    let emp = api.employer(DECLARING_UNIT);
    let id = ResidentId::with_check_character("36070219880915311")
        .unwrap()
        .expose()
        .to_owned();
    let path = format!("/api/units/{DECLARING_UNIT}/persons");
    let copies: Vec<_> = (0..50)
        .map(|_| {
            api.spawn_call(
                "POST",
                &path,
                &emp,
                "fifty-at-once",
                person("冯十一", &id, "employee"),
            )
        })
        .collect();
    let mut answers = Vec::new();
    for c in copies {
        answers.push(c.await.unwrap());
    }
    let first = answers[0].1.clone();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body, &first);
    }
    let eid = first["id"].as_str().unwrap();
    let chain = verify_case(&api.platform, &format!("enrolment#{eid}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chain, 1, "enrolled once");
}

/// Two enrolments of one person in one unit over overlapping dates, sent at the same moment
/// under different idempotency keys: one is written, the other refused (Art. 6).
async fn simultaneous_overlapping_enrolments_cannot_both_land(api: &Api) {
    let emp = api.employer(DECLARING_UNIT);
    for k in 0..4 {
        let id = ResidentId::with_check_character(&format!("360702198808{:02}311", k + 1))
            .unwrap()
            .expose()
            .to_owned();
        let mut early = person("郑十", &id, "employee");
        early["start"] = json!("2025-06-03");
        let mut late = person("郑十", &id, "employee");
        late["start"] = json!("2025-06-20");
        let path = format!("/api/units/{DECLARING_UNIT}/persons");
        let a = api.spawn_call("POST", &path, &emp, &format!("race-{k}-a"), early);
        let b = api.spawn_call("POST", &path, &emp, &format!("race-{k}-b"), late);
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "{} / {}",
            a.1,
            b.1
        );
        let refused = if a.0 == StatusCode::CONFLICT {
            &a.1
        } else {
            &b.1
        };
        assert!(
            matches!(
                refused["error"]["code"].as_str(),
                Some("overlapping_cover" | "concurrent_change")
            ),
            "{refused}"
        );
        let (_, hist) = api
            .call(
                "POST",
                "/api/persons/history",
                Some(&api.clerk()),
                None,
                Some(json!({ "id_number": id })),
            )
            .await;
        assert_eq!(hist["enrolments"].as_array().unwrap().len(), 1, "{hist}");
    }
}

async fn a_project_gets_its_certificate(api: &Api) {
    let emp = api.employer(DECLARING_UNIT);
    let clerk = api.clerk();
    let enrol = |no: &str, start: &str, end: &str| {
        let emp = emp.clone();
        let body = json!({
            "name": "章贡区某某安置房建设工程", "work_injury_project_no": no, "cost": "12345678",
            "cost_kind": "total", "start": start, "end": end
        });
        let key = format!("proj-{no}");
        async move {
            api.call(
                "POST",
                &format!("/api/units/{DECLARING_UNIT}/projects"),
                Some(&emp),
                Some(&key),
                Some(body),
            )
            .await
        }
    };
    let (status, project) = enrol("GC-2025-001", "2025-06-03", "2026-12-31").await;
    assert_eq!(
        (
            status,
            project["premium"].as_str(),
            project["status"].as_str()
        ),
        (
            StatusCode::CREATED,
            Some("7407.41"),
            Some("awaiting_payment")
        ),
        "{project}"
    );
    let id = project["id"].as_str().unwrap().to_owned();
    let (status, _) = api
        .raw_get(&format!("/api/projects/{id}/certificate"), &emp)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no certificate before payment"
    );
    // Its premium is billed with its enrolment and paid through the tax bureau: the window
    // cannot record it by hand; the receipt covers the project and issues the certificate.
    let (status, refused) = api
        .call(
            "POST",
            &format!("/api/projects/{id}/payments"),
            Some(&clerk),
            Some("proj-pay-1"),
            Some(json!({ "paid_at": "2025-06-02T09:00" })),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("billed_through_tax")),
        "{refused}"
    );
    let bill = swi_bills::bill::load_bill(&api.platform, &format!("b-{id}"))
        .await
        .unwrap()
        .0;
    assert_eq!(bill.amount.to_string(), "7407.41");
    pay_bill(
        &api.platform,
        &format!("b-{id}"),
        "proj-pay-1",
        "2025-06-02",
    )
    .await;
    let (status, paid) = api
        .call(
            "GET",
            &format!("/api/projects/{id}"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (StatusCode::OK, Some("covered")),
        "{paid}"
    );
    let text = certificate_text(api, paid["certificate_sha256"].as_str().unwrap()).await;
    for expected in [
        "赣州市补充工伤保险参保证明",
        "2025年6月3日至2026年12月31日",
        "7407.41",
        "承办机构（盖章）",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` not in the certificate:\n{text}"
        );
    }
    let (status, ct) = api
        .raw_get(&format!("/api/projects/{id}/certificate"), &emp)
        .await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));

    // Real-name workers with their declared wage (Art. 48).
    let worker =
        json!({ "name": "张三", "id_number": "360702198501010012", "declared_wage": "5200.00" });
    let (status, p) = api
        .call(
            "POST",
            &format!("/api/projects/{id}/workers"),
            Some(&emp),
            Some("proj-w-1"),
            Some(worker.clone()),
        )
        .await;
    assert_eq!(
        (status, p["id_number"].as_str(), p.get("person")),
        (StatusCode::CREATED, Some("360702********0012"), None),
        "the worker, masked, and never their person key: {p}"
    );
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/projects/{id}/workers"),
            Some(&emp),
            Some("proj-w-2"),
            Some(worker),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Each worker is an item of their own, found by person: the project shows in the person's
    // history, and the project lists its workers a page at a time (defect 11).
    let (status, history) = api
        .call(
            "POST",
            "/api/persons/history",
            Some(&clerk),
            None,
            Some(json!({ "id_number": "360702198501010012" })),
        )
        .await;
    assert_eq!(
        (status, history["projects"][0]["project"].as_str()),
        (StatusCode::OK, Some(id.as_str())),
        "{history}"
    );
    assert_eq!(
        history["projects"][0]["worker"]["id_number"],
        json!("360702********0012")
    );
    let (status, page) = api
        .call(
            "GET",
            &format!("/api/projects/{id}/workers?limit=1"),
            Some(&emp),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, page["workers"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1)),
        "{page}"
    );
    assert!(!page.to_string().contains("0101001"), "masked: {page}");

    // Extension before the end date, with a new certificate; cancellation before the start
    // refunds the premium (Art. 12, 22).
    let (status, ext) = api
        .call(
            "POST",
            &format!("/api/projects/{id}/extend"),
            Some(&emp),
            Some("proj-ext-1"),
            Some(json!({ "new_end": "2027-06-30" })),
        )
        .await;
    assert_eq!(
        (status, ext["end"].as_str()),
        (StatusCode::OK, Some("2027-06-30")),
        "{ext}"
    );
    assert_ne!(ext["certificate_sha256"], paid["certificate_sha256"]);
    assert!(
        certificate_text(api, ext["certificate_sha256"].as_str().unwrap())
            .await
            .contains("2027年6月30日")
    );
    let (status, cancelled) = api
        .call(
            "POST",
            &format!("/api/projects/{id}/cancel"),
            Some(&emp),
            Some("proj-cancel-1"),
            Some(json!({ "reason": "项目取消" })),
        )
        .await;
    assert_eq!(
        (status, cancelled["refund_due"].as_str()),
        (StatusCode::OK, Some("7407.41"))
    );

    // A project that has ended cannot be extended any more.
    let (_, old) = enrol("GC-2024-009", "2025-01-01", "2025-05-31").await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    pay_bill(
        &api.platform,
        &format!("b-{old_id}"),
        "proj-pay-2",
        "2025-01-01",
    )
    .await;
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/projects/{old_id}/extend"),
            Some(&emp),
            Some("proj-ext-2"),
            Some(json!({ "new_end": "2025-12-31" })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("extension_too_late"))
    );
}

async fn employees_reaching_retirement_age_are_flagged(api: &Api) {
    let emp = api.employer(DECLARING_UNIT);
    // A man born in May 1965 retires at 60 years and 2 months: on 2025-07-15.
    let body = json!({
        "name": "吴某", "id_type": "resident_id", "id_number": resident_id("36070219650515031"),
        "phone": "13907970199", "category": "employee", "declared_wage": "5000", "start": "2025-06-02"
    });
    let (status, e) = api
        .call(
            "POST",
            &format!("/api/units/{DECLARING_UNIT}/persons"),
            Some(&emp),
            Some("p-retiring"),
            Some(body),
        )
        .await;
    assert_eq!(
        (status, e["retirement_on"].as_str()),
        (StatusCode::CREATED, Some("2025-07-15")),
        "{e}"
    );
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let before = swi_enrollment::retirement::check(&api.platform, day("2025-07-14"), 12)
        .await
        .unwrap();
    assert_eq!(before.2, 0);
    let run = swi_enrollment::retirement::check(&api.platform, day("2025-07-20"), 12)
        .await
        .unwrap();
    assert_eq!(run.2, 1, "{run:?}");
    let again = swi_enrollment::retirement::check(&api.platform, day("2025-07-21"), 12)
        .await
        .unwrap();
    assert_eq!(again.2, 0, "a reminder is left once");
    let (status, alerts) = api
        .call(
            "GET",
            &format!("/api/units/{DECLARING_UNIT}/reminders"),
            Some(&emp),
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            status,
            alerts[0]["kind"].as_str(),
            alerts[0]["since"].as_str()
        ),
        (
            StatusCode::OK,
            Some("reached_retirement_age"),
            Some("2025-07-15")
        )
    );
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect()
}

async fn the_work_injury_roster_is_imported_whole_or_not_at_all(api: &Api) {
    let clerk = api.clerk();
    let header = "统一社会信用代码,单位名称,县区代码,工伤保险登记号,参保状态,行业类别,浮动档次,浮动决定日期,数据日期\n";
    let bad = format!(
        "{header}91360702MA35XXXXXX,甲公司,360702,GS-1,参保,4,1.2,2025-01-01,2025-05-31\n\
         91360700158283010M,乙公司,360703,GS-2,参保,4,1.2,2025-01-01,2025-05-31\n"
    );
    let sha = put_file(api, &clerk, bad.as_bytes()).await;
    let (status, err) = api
        .call(
            "POST",
            "/api/work-injury/roster",
            Some(&clerk),
            Some("roster-bad"),
            Some(json!({ "sha256": sha })),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("roster_rejected")),
        "{err}"
    );
    assert_eq!(
        err["rows"].as_array().unwrap().len(),
        2,
        "a bad code and another county's unit: {err}"
    );
    let url = err["report_url"].as_str().unwrap();
    assert_eq!(api.raw_get(url, &clerk).await.0, StatusCode::OK);
    assert_eq!(
        api.raw_get(url, &api.employer(UNIT)).await.0,
        StatusCode::FORBIDDEN,
        "an import's report is the clerks'"
    );
    let good = format!(
        "{header}91360702MA35G6QL6T,赣州某某建材有限公司,360702,GS-360702-0001,参保,6,1.5,2025-01-01,2025-05-31\n"
    );
    let sha = put_file(api, &clerk, good.as_bytes()).await;
    let (status, ok) = api
        .call(
            "POST",
            "/api/work-injury/roster",
            Some(&clerk),
            Some("roster-good"),
            Some(json!({ "sha256": sha })),
        )
        .await;
    assert_eq!(
        (status, ok["status"].as_str(), ok["rows"].as_u64()),
        (StatusCode::ACCEPTED, Some("importing"), Some(1)),
        "accepted at once, written by the job: {ok}"
    );
    let run = run_job(
        &api.platform,
        &swi_enrollment::roster_import::RosterImportJob,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!((run.done, run.pending), (1, 0), "{run:?}");
    let id = ok["id"].as_str().unwrap();
    let (status, done) = api
        .call(
            "GET",
            &format!("/api/work-injury/roster/{id}"),
            Some(&clerk),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, done["status"].as_str(), done["imported"].as_u64()),
        (StatusCode::OK, Some("imported"), Some(1)),
        "{done}"
    );
}

async fn certificate_text(api: &Api, sha: &str) -> String {
    let mut reader = api
        .platform
        .docs
        .get(&swi_store::Sha256::parse(sha).unwrap())
        .await
        .unwrap();
    let mut pdf = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut pdf)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect()
}

/// Every error is the JSON error shape, and amounts and dates are read only as plain values in
/// range (each case below was answered as text, or accepted, before).
async fn every_error_is_json_and_amounts_and_dates_are_bounded(api: &Api) {
    let emp = api.employer(DECLARING_UNIT);
    let code = |v: &Value| v["error"]["code"].as_str().map(str::to_owned);
    // `send` panics on a body that is not JSON.
    let (status, err) = api
        .call("GET", "/api/nowhere", Some(&emp), None, None)
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::NOT_FOUND, Some("not_found".into()))
    );
    let (status, err) = api
        .call("DELETE", "/api/units", Some(&emp), None, None)
        .await;
    assert_eq!(
        (status, code(&err)),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            Some("method_not_allowed".into())
        )
    );
    let (status, err) = api
        .call(
            "GET",
            &format!("/api/units/{DECLARING_UNIT}/roster?on=yesterday"),
            Some(&emp),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::BAD_REQUEST, Some("invalid_request".into()))
    );
    let huge = json!({ "reason": "很".repeat(1 << 20) });
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/units/{DECLARING_UNIT}/cancel"),
            Some(&emp),
            Some("huge-body"),
            Some(huge),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large".into()))
    );

    // Money is a plain amount with at most two decimals.
    for (i, wage) in ["1e5", "1E+2", "-0.00", "7.9e28", "5000.001"]
        .iter()
        .enumerate()
    {
        let mut body = person("金额", &resident_id("36070219900101777"), "employee");
        body["declared_wage"] = json!(wage);
        let (status, err) = api
            .call(
                "POST",
                &format!("/api/units/{DECLARING_UNIT}/persons"),
                Some(&emp),
                Some(&format!("wage-{i}")),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{wage}: {err}");
    }
    // Dates lie in 1900-2199; amounts below a trillion.
    let project = |cost: &str, end: &str| {
        json!({
            "name": "边界工程", "work_injury_project_no": format!("B-{}", end.len() + cost.len()),
            "cost": cost, "cost_kind": "total", "start": "2025-07-01", "end": end
        })
    };
    for (i, (cost, end)) in [
        ("100000", "+99999-12-31"),
        ("7.9e28", "2026-06-30"),
        ("100000", "2999-01-01"),
    ]
    .iter()
    .enumerate()
    {
        let (status, err) = api
            .call(
                "POST",
                &format!("/api/units/{DECLARING_UNIT}/projects"),
                Some(&emp),
                Some(&format!("bounds-{i}")),
                Some(project(cost, end)),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cost} {end}: {err}");
    }
    // A payment not yet made issues no certificate.
    let (status, p) = api
        .call(
            "POST",
            &format!("/api/units/{DECLARING_UNIT}/projects"),
            Some(&emp),
            Some("bounds-ok"),
            Some(project("100000", "2026-06-30")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/projects/{}/payments", p["id"].as_str().unwrap()),
            Some(&api.token("finance", "360702", None, 3600)),
            Some("pay-future"),
            Some(json!({ "paid_at": "2999-01-01T10:00" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_on_the_embedded_store() {
    let api = embedded();
    units_register_change_and_cancel(&api).await;
    bad_input_is_refused_and_changes_nothing(&api).await;
    an_altered_audit_event_is_detected(&api).await;
    persons_of_every_category(&api).await;
    declarations_are_accepted_or_rejected_whole(&api).await;
    a_large_declaration_is_applied_in_resumable_steps(&api).await;
    simultaneous_overlapping_enrolments_cannot_both_land(&api).await;
    one_key_sent_fifty_times_at_once_is_one_enrolment(&api).await;
    a_project_gets_its_certificate(&api).await;
    employees_reaching_retirement_age_are_flagged(&api).await;
    the_work_injury_roster_is_imported_whole_or_not_at_all(&api).await;
    every_error_is_json_and_amounts_and_dates_are_bounded(&api).await;
    a_unit_moves_county_only_by_the_city(&api).await;
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
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(clock()),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
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
    persons_of_every_category(&api).await;
    declarations_are_accepted_or_rejected_whole(&api).await;
    a_large_declaration_is_applied_in_resumable_steps(&api).await;
    simultaneous_overlapping_enrolments_cannot_both_land(&api).await;
    one_key_sent_fifty_times_at_once_is_one_enrolment(&api).await;
    a_project_gets_its_certificate(&api).await;
    employees_reaching_retirement_age_are_flagged(&api).await;
    the_work_injury_roster_is_imported_whole_or_not_at_all(&api).await;
}
