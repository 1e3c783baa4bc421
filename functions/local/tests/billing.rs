//! Premium billing end to end on the embedded store, through the enrollment and billing routes
//! together (as `swi serve` mounts them) and the billing jobs: a unit with an employee, an
//! over-age worker rated at its floated band, an intern joining mid-month and a leaver is billed
//! for three months (first months at acceptance, later ones by the monthly runs), pays two
//! months by the tax bureau's imported receipts — the intern's cover starting the day after her
//! receipt's payment — and shows the third in arrears. Receipts that do not match are refused
//! whole and change nothing; a month in the future cannot be billed; a month billed is not billed
//! again.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::too_many_arguments,
    reason = "a test fails loudly on what it does not expect; a journey reads top to bottom"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::SetClock;
use tower::ServiceExt;

const UNIT: &str = "91360702MA35G6QL6T";

struct Api {
    router: Router,
    platform: Platform,
    clock: Arc<SetClock>,
    /// The embedded store, whose items are counted (DynamoDB's are not: no scan).
    state: Option<Arc<swi_store_embedded::EmbeddedState>>,
    _dir: Option<tempfile::TempDir>,
    calls: std::sync::atomic::AtomicU64,
}

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{s}T09:30:00+08:00")).unwrap()
}

fn resident_id(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str_exact(v.as_str().unwrap_or_else(|| panic!("not an amount: {v}"))).unwrap()
}

fn platform(
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

fn api(
    platform: Platform,
    clock: Arc<SetClock>,
    state: Option<Arc<swi_store_embedded::EmbeddedState>>,
    dir: Option<tempfile::TempDir>,
) -> Api {
    let router = swi_platform::api::app(
        platform.clone(),
        vec![swi_enrollment::routes(), swi_premium_billing::routes()],
    )
    .0;
    Api {
        router,
        platform,
        clock,
        state,
        _dir: dir,
        calls: Default::default(),
    }
}

fn embedded(today: &str) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let clock = Arc::new(SetClock::new(at(today)));
    api(
        platform(state.clone(), docs, clock.clone()),
        clock,
        Some(state),
        Some(dir),
    )
}

impl Api {
    /// Items in the store, where they can be counted.
    async fn items(&self) -> Option<u64> {
        match &self.state {
            Some(s) => Some(s.count().await.unwrap()),
            None => None,
        }
    }

    fn token(&self, role: &str, county: &str, sub: &str, unit: Option<&str>) -> String {
        let now = chrono::Utc::now().timestamp();
        self.platform
            .tokens
            .mint(&Claims {
                sub: sub.into(),
                role: role.into(),
                county: county.into(),
                name: format!("{sub}（{role}）"),
                unit: unit.map(str::to_owned),
                iss: ISSUER.into(),
                iat: now,
                exp: now + 3600,
            })
            .unwrap()
    }

    fn window(&self) -> String {
        self.token("acceptor", "360702", "window-1", None)
    }
    fn officer(&self) -> String {
        self.token("agency_officer", "360702", "officer-1", None)
    }
    fn employer(&self) -> String {
        self.token("employer", "360702", "emp-1", Some(UNIT))
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        if method != "GET" {
            req = req.header("idempotency-key", format!("call-{n:06}"));
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
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn bytes(&self, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        (
            status,
            res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    fn today(&self, day: &str) {
        self.clock.set(at(day));
    }

    /// Bytes uploaded by the holder of `token`: theirs to file.
    async fn upload(&self, bytes: &[u8], token: &str) -> String {
        let sub = self.platform.tokens.verify(token).unwrap().sub;
        swi_platform::documents::received(&self.platform, &sub, &mut &bytes[..], 1 << 30)
            .await
            .unwrap()
            .hex()
    }

    /// The tax bureau's receipts file, imported by the window.
    async fn receipts(&self, csv: &str) -> (StatusCode, Value) {
        let token = self.window();
        let sha = self.upload(csv.as_bytes(), &token).await;
        self.call(
            "POST",
            "/api/tax-exchange/receipts",
            &token,
            Some(json!({ "county": "360702", "sha256": sha })),
        )
        .await
    }

    async fn bill(&self, id: &str) -> Value {
        let (status, b) = self
            .call("GET", &format!("/api/bills/{id}"), &self.window(), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        b
    }

    async fn enrolment(&self, id: &str) -> Value {
        let (status, e) = self
            .call(
                "GET",
                &format!("/api/enrolments/{id}"),
                &self.window(),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{e}");
        e
    }

    /// A person of the unit: enrolled, their materials filed and accepted where the category
    /// needs them (billed for the first month either way).
    async fn enrol(
        &self,
        name: &str,
        id: &str,
        category: &str,
        wage: &str,
        start: &str,
        extra: Value,
        materials: &[&str],
    ) -> String {
        let mut body = json!({
            "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970101",
            "category": category, "declared_wage": wage, "start": start
        });
        if let (Some(b), Value::Object(x)) = (body.as_object_mut(), extra) {
            b.extend(x);
        }
        let (status, e) = self
            .call(
                "POST",
                &format!("/api/units/{UNIT}/persons"),
                &self.employer(),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
        let eid = e["id"].as_str().unwrap().to_owned();
        for m in materials {
            let sha = self
                .upload(format!("%PDF-1.7\n{eid} {m}").as_bytes(), &self.employer())
                .await;
            let (status, body) = self
                .call(
                    "PUT",
                    &format!("/api/enrolments/{eid}/materials/{m}"),
                    &self.employer(),
                    Some(json!({ "sha256": sha })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        if !materials.is_empty() {
            let (status, body) = self
                .call(
                    "POST",
                    &format!("/api/enrolments/{eid}/accept"),
                    &self.window(),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        eid
    }

    /// Opens and bills a month through the route and the job.
    async fn bill_month(&self, month: &str) -> Value {
        let (status, run) = self
            .call(
                "POST",
                "/api/bills/runs",
                &self.token("operator", "360700", "ops-1", None),
                Some(json!({ "month": month })),
            )
            .await;
        assert!(
            status == StatusCode::ACCEPTED || status == StatusCode::OK,
            "{run}"
        );
        let report = swi_platform::jobs::Job::run(
            &swi_premium_billing::run::BillingRun,
            &self.platform,
            Instant::now() + Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        let (status, run) = self
            .call(
                "GET",
                &format!("/api/bills/runs/{month}"),
                &self.window(),
                None,
            )
            .await;
        assert_eq!(
            (status, run["status"].as_str()),
            (StatusCode::OK, Some("done")),
            "{run}"
        );
        run
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_is_billed_for_three_months_pays_two_by_receipts_and_owes_the_third() {
    journey(&embedded("2026-03-05")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn billing_on_dynamodb_and_s3() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    let clock = Arc::new(SetClock::new(at("2026-03-05")));
    journey(&api(
        platform(Arc::new(state), Arc::new(docs), clock.clone()),
        clock,
        None,
        None,
    ))
    .await;
}

async fn journey(api: &Api) {
    // The unit in the work-injury scheme: class 4, floated to 120 %.
    let evidence = api
        .upload("%PDF-1.7\n工伤参保证明".as_bytes(), &api.window())
        .await;
    let (status, body) = api
        .call(
            "POST",
            "/api/work-injury/facts",
            &api.window(),
            Some(json!({
                "code": UNIT, "name": "章贡示范单位", "county": "360702",
                "registration_no": "GS-0001", "insured": true, "industry_class": 4,
                "rate_band": "1.2", "band_decided_on": "2025-01-01", "as_of": "2026-03-01",
                "evidence_sha256": evidence
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api
        .call("POST", "/api/units", &api.employer(), Some(json!({
            "code": UNIT, "name": "章贡示范单位", "county": "360702",
            "account": { "bank": "中国银行赣州分行", "number": "6216610100001234567", "holder": "章贡示范单位" },
            "contact": { "name": "张三", "phone": "13907970001" }
        })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // March: an employee, an over-age worker and a future leaver join; each is billed for March
    // at once (Art. 8).
    let employee = api
        .enrol(
            "赵一",
            &resident_id("36070219900101001"),
            "employee",
            "5000",
            "2026-03-05",
            json!({}),
            &[],
        )
        .await;
    let over_age = api
        .enrol(
            "钱二",
            &resident_id("36070219580601001"),
            "over_age",
            "3000",
            "2026-03-05",
            json!({}),
            &["work_injury_payment_proof", "labour_service_contract"],
        )
        .await;
    let leaver = api
        .enrol(
            "孙三",
            &resident_id("36070219920202002"),
            "employee",
            "4000",
            "2026-03-05",
            json!({}),
            &[],
        )
        .await;
    let march = |eid: &str| format!("b-202603-{eid}");
    // 5000 × 0.27 % × 1.2 = 16.20; the over-age base is raised to 60 % of 6,525 = 3,915, at the
    // base rate 0.9 % plus the floated top-up 0.27 % × 1.2: 3915 × 1.224 % = 47.92.
    let b = api.bill(&march(&employee)).await;
    assert_eq!(
        (b["kind"].as_str(), b["amount"].as_str(), b["due"].as_str()),
        (Some("joining"), Some("16.20"), Some("2026-04-15")),
        "{b}"
    );
    assert_eq!(b["starts_cover"], json!([employee]));
    assert_eq!(api.bill(&march(&over_age)).await["amount"], "47.92");
    assert_eq!(api.bill(&march(&leaver)).await["amount"], "12.96");
    assert_eq!(api.enrolment(&employee).await["status"], "awaiting_payment");

    // A month in the future cannot be billed, and nothing is written.
    let before = api.items().await;
    let (status, body) = api
        .call(
            "POST",
            "/api/bills/runs",
            &api.token("operator", "360700", "ops-1", None),
            Some(json!({ "month": "2026-04" })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("month_in_future")),
        "{body}"
    );
    assert_eq!(api.items().await, before);

    // The March run bills nobody again: all three were billed at acceptance.
    let run = api.bill_month("2026-03").await;
    assert_eq!(
        (run["persons"].as_u64(), run["bills"].as_u64()),
        (Some(0), Some(0)),
        "{run}"
    );

    // The tax bureau's export lists the three bills; its receipts pay them on 6 March.
    let (status, file) = api
        .call(
            "POST",
            "/api/tax-exchange/exports",
            &api.officer(),
            Some(json!({ "county": "360702", "month": "2026-03", "format": "csv" })),
        )
        .await;
    assert_eq!(
        (status, file["rows"].as_u64()),
        (StatusCode::CREATED, Some(3)),
        "{file}"
    );
    let (status, csv) = api
        .bytes(
            &format!(
                "/api/tax-exchange/files/{}",
                file["sha256"].as_str().unwrap()
            ),
            &api.officer(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with(
            "bill_id,payer_kind,payer_code,payer_name,month,persons,amount,due,county\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{},unit,{UNIT},章贡示范单位,2026-03,1,16.20,2026-04-15,360702",
            march(&employee)
        )),
        "{csv}"
    );
    // An employer cannot download the county's file.
    let (status, _) = api
        .bytes(
            &format!(
                "/api/tax-exchange/files/{}",
                file["sha256"].as_str().unwrap()
            ),
            &api.employer(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    api.today("2026-03-06");
    // Refused whole, nothing changed: an unknown bill, a short amount, a truncated row, a
    // receipt number twice.
    let before = api.items().await;
    let bad = format!(
        "receipt_no,bill_id,amount,paid_on\nR-1,{},16.20,2026-03-06\nR-2,b-202603-e-nosuchbill,1.00,2026-03-06\nR-3,{},47.00,2026-03-06\nR-4,{}\nR-1,{},12.96,2026-03-06\n",
        march(&employee),
        march(&over_age),
        march(&leaver),
        march(&leaver)
    );
    let (status, body) = api.receipts(&bad).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("receipts_rejected")),
        "{body}"
    );
    let rows: Vec<u64> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [2, 3, 4, 5, 6], "{body}");
    let text = body.to_string();
    assert!(text.contains("no bill b-202603-e-nosuchbill"), "{text}");
    assert!(text.contains("less than the 47.92 due"), "{text}");
    assert!(text.contains("appears 2 times in the file"), "{text}");
    assert!(body["report_url"].as_str().is_some());
    // The report workbook is written; nothing else.
    assert!(api.items().await <= before.map(|n| n + 2));
    assert_eq!(api.bill(&march(&employee)).await["status"], "owing");
    // A file without the amount column is refused as such.
    let (status, body) = api
        .receipts("receipt_no,bill_id,paid_on\nR-9,b-1,2026-03-06\n")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Not a table at all.
    let (status, _) = api.receipts("\u{0}\u{1}\u{2}garbage").await;
    assert!(status.is_client_error());

    // The right receipts: all three paid, cover from the next day.
    let good = format!(
        "回执号,核定单号,实缴金额,缴费日期\nT202603060001,{},16.20,2026-03-06\nT202603060002,{},47.92,2026-03-06\nT202603060003,{},12.96,2026-03-06\n",
        march(&employee),
        march(&over_age),
        march(&leaver)
    );
    let (status, imp) = api.receipts(&good).await;
    assert_eq!(
        (
            status,
            imp["status"].as_str(),
            imp["applied"].as_u64(),
            imp["covered"].as_u64()
        ),
        (StatusCode::OK, Some("applied"), Some(3), Some(3)),
        "{imp}"
    );
    let e = api.enrolment(&employee).await;
    assert_eq!(
        (e["status"].as_str(), e["cover_start"].as_str()),
        (Some("covered"), Some("2026-03-07")),
        "{e}"
    );
    let b = api.bill(&march(&employee)).await;
    assert_eq!(
        (b["status"].as_str(), b["payment"]["receipt"].as_str()),
        (Some("paid"), Some("T202603060001")),
        "{b}"
    );
    // The same file again, or a receipt number seen before: refused.
    let (status, body) = api.receipts(&good).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_imported")),
        "{body}"
    );
    let (status, body) = api
        .receipts(&format!(
            "receipt_no,bill_id,amount,paid_on\nT202603060001,{},16.20,2026-03-06\n",
            march(&employee)
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("paid already"), "{body}");

    // April: the leaver leaves on the 10th; an intern joins on the 15th, billed for April at once.
    api.today("2026-04-01");
    let run = api.bill_month("2026-04").await;
    assert_eq!(
        (run["persons"].as_u64(), run["bills"].as_u64()),
        (Some(3), Some(1)),
        "{run}"
    );
    let april = format!("b-202604-{UNIT}");
    let b = api.bill(&april).await;
    assert_eq!(
        (
            b["kind"].as_str(),
            b["lines"].as_u64(),
            b["amount"].as_str()
        ),
        (Some("monthly"), Some(3), Some("77.08")),
        "{b}"
    );
    api.today("2026-04-10");
    let (status, body) = api
        .call(
            "POST",
            &format!("/api/enrolments/{leaver}/terminate"),
            &api.employer(),
            Some(json!({ "end": "2026-04-10", "reason": "离职" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    api.today("2026-04-15");
    let intern = api
        .enrol(
            "李四",
            &resident_id("36070220060315002"),
            "intern",
            "2000",
            "2026-04-15",
            json!({ "agreement_end": "2026-12-31" }),
            &["work_injury_payment_proof", "internship_agreement"],
        )
        .await;
    let intern_bill = format!("b-202604-{intern}");
    let b = api.bill(&intern_bill).await;
    // Raised to the floor 3,915 × 1.224 % = 47.92, the whole month (an assumed reading).
    assert_eq!(b["amount"], "47.92", "{b}");
    assert!(
        b["basis"]["assumptions"]
            .to_string()
            .contains("billing.whole_month"),
        "{b}"
    );
    api.today("2026-04-20");
    let (status, imp) = api
        .receipts(&format!(
            "receipt_no,bill_id,amount,paid_on\nT202604200001,{april},77.08,2026-04-20\nT202604200002,{intern_bill},47.92,2026-04-20\n"
        ))
        .await;
    assert_eq!(
        (status, imp["applied"].as_u64(), imp["covered"].as_u64()),
        (StatusCode::OK, Some(2), Some(1)),
        "{imp}"
    );
    let e = api.enrolment(&intern).await;
    assert_eq!(
        (e["status"].as_str(), e["cover_start"].as_str()),
        (Some("covered"), Some("2026-04-21")),
        "{e}"
    );

    // May: the employee, the over-age worker and the intern; nobody pays.
    api.today("2026-05-02");
    let run = api.bill_month("2026-05").await;
    assert_eq!(run["persons"].as_u64(), Some(3), "{run}");
    let may = api.bill(&format!("b-202605-{UNIT}")).await;
    assert_eq!(
        (may["lines"].as_u64(), may["amount"].as_str()),
        (Some(3), Some("112.04")),
        "{may}"
    );

    // The yearly re-rating (Art. 15): the work-injury side floats the unit to 150 % from June;
    // the unit gets its notice stating the old and the new rate; May's bill keeps 120 %.
    let officer = api.token("agency_officer", "360700", "city-rates", None);
    let file = api
        .upload(
            format!("统一社会信用代码,行业类别,浮动档次\n{UNIT},4,1.5\n").as_bytes(),
            &officer,
        )
        .await;
    let (status, bad) = api
        .call("POST", "/api/rates/reratings", &officer, Some(json!({
            "sha256": api.upload(format!("unit_code,industry_class,band\n{UNIT},3,1.5\n91360702MA35K8TN2H,4,0.7\n").as_bytes(), &officer).await,
            "effective_from": "2026-06-01", "source": "章工伤费率〔2026〕3号"
        })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["rows"].as_array().unwrap().len(), 2, "{bad}");
    let (status, rr) = api
        .call(
            "POST",
            "/api/rates/reratings",
            &officer,
            Some(json!({
                "sha256": file, "effective_from": "2026-06-01", "source": "章工伤费率〔2026〕3号"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{rr}");
    let report = swi_platform::jobs::Job::run(
        &swi_premium_billing::rates::ReratingApply,
        &api.platform,
        Instant::now() + Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(report.done, 1, "{report:?}");
    let (status, rates) = api
        .call(
            "GET",
            &format!("/api/rates/units/{UNIT}"),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rates}");
    let notice = &rates["notices"][0];
    assert_eq!(
        (dec(&notice["old"]["band"]), dec(&notice["new"]["band"])),
        (Decimal::new(12, 1), Decimal::new(15, 1)),
        "{rates}"
    );
    let (status, pdf) = api
        .bytes(
            &format!("/api/rates/notices/{}", notice["id"].as_str().unwrap()),
            &api.employer(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("notice.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).replace(char::is_whitespace, "");
    assert!(
        text.contains("补充工伤保险费率浮动（重核）告知书"),
        "{text}"
    );
    assert!(
        text.contains("浮动档次120%：参保职工0.324%，特定人员1.224%"),
        "{text}"
    );
    assert!(
        text.contains("浮动档次150%：参保职工0.405%，特定人员1.305%"),
        "{text}"
    );
    // The unit objects; the agency's re-check keeps it at 120 % with a new notice.
    let (status, o) = api
        .call(
            "POST",
            "/api/rates/objections",
            &api.employer(),
            Some(json!({ "notice": notice["id"], "reason": "上年度工伤发生率计算有误" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{o}");
    let (status, d) = api
        .call("POST", &format!("/api/rates/objections/{}/decide", o["id"].as_str().unwrap()),
            &api.token("agency_officer", "360702", "officer-recheck", None),
            Some(json!({ "outcome": "change", "band": "1.2", "reason": "重新核算工伤发生率，维持原档次" })))
        .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (StatusCode::OK, Some("changed")),
        "{d}"
    );
    let (_, rates) = api
        .call(
            "GET",
            &format!("/api/rates/units/{UNIT}"),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(rates["notices"].as_array().unwrap().len(), 2, "{rates}");
    assert_eq!(
        dec(&rates["bands"][0]["band"]),
        Decimal::new(12, 1),
        "{rates}"
    );

    // Refunds only as Art. 22 allows, with the work-injury side's decision on file. April's
    // employee line, her base lowered from 5,000 to 4,000: 16.20 - 12.96 = 3.24 back.
    let decision = api
        .upload("%PDF-1.7\n工伤保险退费决定书".as_bytes(), &api.window())
        .await;
    let ask = |cause: &str, enrolment: &str| {
        json!({
            "cause": cause, "enrolment": enrolment, "lowered_wage": "4000",
            "work_injury_refund": { "decision_no": "章工伤退〔2026〕12号", "evidence_sha256": decision }
        })
    };
    let (status, r) = api
        .call(
            "POST",
            &format!("/api/bills/{april}/refunds"),
            &api.window(),
            Some(ask("lowered_base", &employee)),
        )
        .await;
    assert_eq!(
        (status, r["amount"].as_str()),
        (StatusCode::CREATED, Some("-3.24")),
        "{r}"
    );
    let (status, again) = api
        .call(
            "POST",
            &format!("/api/bills/{april}/refunds"),
            &api.window(),
            Some(ask("lowered_base", &employee)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    // The leaver left on 10 April: April was not over-paid. A cause the article does not name,
    // or a bill not paid, is refused too — each citing Art. 22, nothing written.
    for (bill, cause, who) in [
        (april.clone(), "left", leaver.clone()),
        (april.clone(), "changed_mind", employee.clone()),
        (format!("b-202605-{UNIT}"), "left", leaver.clone()),
    ] {
        let before = api.items().await;
        let (status, body) = api
            .call(
                "POST",
                &format!("/api/bills/{bill}/refunds"),
                &api.window(),
                Some(ask(cause, &who)),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("refund_not_allowed")),
            "{cause}: {body}"
        );
        assert!(
            body["error"]["zh"].as_str().unwrap().contains("第二十二条"),
            "{body}"
        );
        assert_eq!(api.items().await, before);
    }
    let (status, refunds) = api
        .call(
            "GET",
            &format!("/api/bills/{april}/refunds"),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(
        (status, refunds.as_array().unwrap().len()),
        (StatusCode::OK, 1),
        "{refunds}"
    );
    assert_eq!(api.bill(&april).await["refunded"], "3.24");

    // Mid-year the city records 2026's average wage, 6,800 (Art. 20): May, unpaid, is billed
    // anew on it (the over-age worker's and the intern's floor 60 % × 6,800 = 4,080); March and
    // April, paid, are not.
    api.today("2026-06-01");
    let a = api.token("agency_officer", "360700", "city-a", None);
    let scan = api
        .upload(
            "%PDF-1.7\n2026年度全省全口径城镇单位就业人员月平均工资".as_bytes(),
            &a,
        )
        .await;
    let (status, v) = api
        .call("POST", "/api/parameters/city-values", &a, Some(json!({
            "setting": { "kind": "value", "name": "average_wage.jiangxi", "from": "2026-01-01", "value": "6800" },
            "document_no": "赣人社字〔2026〕88号", "scan_sha256": scan
        })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = api
        .call(
            "POST",
            &format!(
                "/api/parameters/city-values/{}/confirm",
                v["id"].as_str().unwrap()
            ),
            &api.token("agency_officer", "360700", "city-b", None),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let report = swi_platform::jobs::Job::run(
        &swi_premium_billing::rebase::BillingRebase,
        &api.platform,
        Instant::now() + Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(report.done, 1, "{report:?}");
    let may = api.bill(&format!("b-202605-{UNIT}")).await;
    // 16.20 + 2 × 4,080 × 1.224 % (49.94) = 116.08.
    assert_eq!(may["amount"], "116.08", "{may}");
    let r = &may["rebased"][0];
    assert_eq!(
        (
            dec(&r["from_average"]),
            dec(&r["to_average"]),
            r["from_amount"].as_str()
        ),
        (Decimal::from(6525), Decimal::from(6800), Some("112.04")),
        "{may}"
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("赣人社字〔2026〕88号"),
        "{r}"
    );
    assert_eq!(may["lines_pending"], false);
    let (_, lines) = api
        .call(
            "GET",
            &format!("/api/bills/b-202605-{UNIT}/lines"),
            &api.employer(),
            None,
        )
        .await;
    let bases: Vec<Decimal> = lines["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["base"]))
        .collect();
    assert!(bases.contains(&Decimal::from(4080)), "{lines}");
    let total: Decimal = lines["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["amount"]))
        .sum();
    assert_eq!(total, dec(&may["amount"]));
    let april_bill = api.bill(&april).await;
    assert_eq!(
        (
            april_bill["amount"].as_str(),
            april_bill["rebased"].as_array().unwrap().len()
        ),
        (Some("77.08"), 0)
    );
    // Run again: nothing left to re-base.
    let again = swi_platform::jobs::Job::run(
        &swi_premium_billing::rebase::BillingRebase,
        &api.platform,
        Instant::now() + Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(again.done, 0, "{again:?}");
    // Not yet due: no arrears.
    let (status, a) = api
        .call(
            "GET",
            &format!("/api/units/{UNIT}/bills/arrears"),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!((status, a.clone()), (StatusCode::OK, Value::Null), "{a}");
    // After 15 June May is owed, since May; March and April are paid.
    api.today("2026-06-20");
    let (status, a) = api
        .call(
            "GET",
            &format!("/api/units/{UNIT}/bills/arrears"),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (a["since"].as_str(), a["bills"].as_array().unwrap().len()),
        (Some("2026-05-01"), 1),
        "{a}"
    );
    assert_eq!(dec(&a["amount"]), dec(&may["amount"]));
    let (status, county) = api
        .call(
            "GET",
            "/api/bills/arrears?county=360702",
            &api.window(),
            None,
        )
        .await;
    assert_eq!(
        (status, county["payers"].as_array().unwrap().len()),
        (StatusCode::OK, 1),
        "{county}"
    );
    let (status, xlsx) = api
        .bytes(
            "/api/bills/arrears?county=360702&format=xlsx",
            &api.window(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK"), "an XLSX workbook");
    let (status, _) = api
        .call(
            "GET",
            "/api/bills/arrears?county=360702",
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The unit's bills, newest first: May (owing), April's two (paid), March's three (paid).
    let (status, page) = api
        .call(
            "GET",
            &format!("/api/units/{UNIT}/bills"),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let list: Vec<(&str, &str)> = page["bills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["month"].as_str().unwrap(), b["status"].as_str().unwrap()))
        .collect();
    assert_eq!(list.len(), 6, "{page}");
    assert_eq!(list[0], ("2026-05-01", "owing"));
    assert!(list[1..].iter().all(|(_, s)| *s == "paid"), "{list:?}");

    // The report: billed, paid and owed per month, by category and industry class.
    let (status, report) = api
        .call(
            "GET",
            "/api/bills/report?county=360702&from=2026-03&to=2026-05",
            &api.window(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let totals: Vec<(String, String, String)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["total"]["billed"].as_str().unwrap().to_owned(),
                m["total"]["paid"].as_str().unwrap().to_owned(),
                m["total"]["owed"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let t = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        totals,
        [
            t("77.08", "77.08", "0"),
            t("125.00", "125.00", "0"),
            t("116.08", "0", "116.08")
        ],
        "{report}"
    );
    assert_eq!(
        report[2]["by_category"]["over_age"]["persons"], 1,
        "{report}"
    );
    assert_eq!(report[2]["by_class"]["4"]["owed"], "116.08", "{report}");
    let (status, xlsx) = api
        .bytes(
            "/api/bills/report?county=360702&from=2026-03&to=2026-05&format=xlsx",
            &api.window(),
        )
        .await;
    assert!(status == StatusCode::OK && xlsx.starts_with(b"PK"));

    // Construction projects: the one-time premium (0.6 ‰) is billed with the enrolment. One,
    // paid by receipt and cancelled before it starts, gets its premium back (Art. 22); one
    // cancelled unpaid has its bill withdrawn; one cancelled after it started gets nothing back.
    api.today("2026-06-20");
    let project = |no: &str, start: &str| {
        json!({ "name": format!("示范工程{no}"), "work_injury_project_no": no, "cost": "1000000",
                "cost_kind": "total", "start": start, "end": "2027-06-30" })
    };
    let mut pids = Vec::new();
    for (no, start) in [
        ("GC-2026-001", "2026-09-01"),
        ("GC-2026-002", "2026-09-01"),
        ("GC-2026-003", "2026-06-21"),
    ] {
        let (status, p) = api
            .call(
                "POST",
                &format!("/api/units/{UNIT}/projects"),
                &api.employer(),
                Some(project(no, start)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        pids.push(p["id"].as_str().unwrap().to_owned());
    }
    let b = api.bill(&format!("b-{}", pids[0])).await;
    assert_eq!(
        (b["kind"].as_str(), b["amount"].as_str()),
        (Some("project"), Some("600.00")),
        "{b}"
    );
    let (status, imp) = api
        .receipts(&format!(
            "receipt_no,bill_id,amount,paid_on\nT202606200001,b-{},600.00,2026-06-20\nT202606200003,b-{},600.00,2026-06-20\n",
            pids[0], pids[2]
        ))
        .await;
    assert_eq!(
        (status, imp["covered"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{imp}"
    );
    let (_, p0) = api
        .call(
            "GET",
            &format!("/api/projects/{}", pids[0]),
            &api.employer(),
            None,
        )
        .await;
    assert_eq!(p0["status"], "covered", "{p0}");
    api.today("2026-06-25");
    for pid in &pids {
        let (status, c) = api
            .call(
                "POST",
                &format!("/api/projects/{pid}/cancel"),
                &api.employer(),
                Some(json!({ "reason": "项目取消" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{c}");
    }
    assert_eq!(
        api.bill(&format!("b-{}", pids[1])).await["status"],
        "withdrawn"
    );
    let ask_project = |pid: &str| {
        json!({ "cause": "project_cancelled", "enrolment": pid,
                "work_injury_refund": { "decision_no": "章工伤退〔2026〕20号", "evidence_sha256": decision } })
    };
    let (status, r) = api
        .call(
            "POST",
            &format!("/api/bills/b-{}/refunds", pids[0]),
            &api.window(),
            Some(ask_project(&pids[0])),
        )
        .await;
    assert_eq!(
        (status, r["amount"].as_str()),
        (StatusCode::CREATED, Some("-600.00")),
        "{r}"
    );
    let (status, r) = api
        .call(
            "POST",
            &format!("/api/bills/b-{}/refunds", pids[2]),
            &api.window(),
            Some(ask_project(&pids[2])),
        )
        .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("refund_not_allowed")),
        "{r}"
    );

    // Billing May again writes nothing.
    let before = api.items().await;
    let run = api.bill_month("2026-05").await;
    assert_eq!(run["persons"].as_u64(), Some(3));
    assert_eq!(api.items().await, before, "a second run wrote items");
    // The files exchanged are listed for the county.
    let (status, files) = api
        .call(
            "GET",
            "/api/tax-exchange?county=360702",
            &api.officer(),
            None,
        )
        .await;
    assert_eq!(
        (status, files.as_array().unwrap().len()),
        (StatusCode::OK, 4),
        "{files}"
    );
}
