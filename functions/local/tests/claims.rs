//! Claims from submission to approved forms, through the whole application as `swi serve`
//! mounts it (enrollment and claim review), on the embedded store (and, run by `infra/test` with
//! `--ignored`, on DynamoDB + S3 in LocalStack): four journeys by four different clerks, each
//! approved amount compared with `swi quote`'s answer for the same facts, and the refusals that
//! must change nothing.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a test fails loudly on what it does not expect; a journey reads top to bottom"
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
use swi_platform::clock::SetClock;
use tower::ServiceExt;

const UNIT: &str = "91360702MA35G6QL6T";
const PLATFORM_UNIT: &str = "91360702MA35H7RM4A";
const BUILDER: &str = "91360702MA35K8TN2H";

struct Api {
    router: Router,
    platform: Platform,
    clock: Arc<SetClock>,
    _dir: Option<tempfile::TempDir>,
    run: String,
    calls: std::sync::atomic::AtomicU64,
}

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{s}T09:30:00+08:00")).unwrap()
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

fn app(p: &Platform) -> Router {
    swi_platform::api::app(
        p.clone(),
        vec![
            swi_enrollment::routes(),
            swi_claim_review::routes(),
            swi_premium_billing::routes(),
        ],
    )
    .0
}

fn embedded() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let clock = Arc::new(SetClock::new(at("2025-06-02")));
    let p = platform(state, docs, clock.clone());
    Api {
        router: app(&p),
        platform: p,
        clock,
        _dir: Some(dir),
        run: String::new(),
        calls: Default::default(),
    }
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

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

impl Api {
    fn token(&self, role: &str, county: &str, sub: &str, unit: Option<&str>) -> String {
        let now = chrono::Utc::now().timestamp();
        self.platform
            .tokens
            .mint(&Claims {
                sub: format!("{sub}{}", self.run),
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

    fn sub(&self, sub: &str) -> String {
        format!("{sub}{}", self.run)
    }

    fn acceptor(&self) -> String {
        self.token("acceptor", "360702", "window-1", None)
    }
    fn handler(&self) -> String {
        self.token("handler", "360702", "handler-1", None)
    }
    fn first(&self) -> String {
        self.token("first_reviewer", "360702", "first-1", None)
    }
    fn second(&self) -> String {
        self.token("re_reviewer", "360702", "second-1", None)
    }
    fn employer(&self, unit: &str) -> String {
        self.token("employer", "360702", &format!("emp-{unit}"), Some(unit))
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        // Each call is a new request (a retry would reuse its key and get the first answer).
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("call-{n:06}{}", self.run);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        if method != "GET" {
            req = req.header("idempotency-key", key);
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
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
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

    /// A scan uploaded by the holder of `token` (who files it next): theirs to file.
    async fn scan(&self, what: &str, token: &str) -> String {
        let body = format!("%PDF-1.7\n{what} 扫描件 {}", self.run).into_bytes();
        let sub = self.platform.tokens.verify(token).unwrap().sub;
        swi_platform::documents::received(&self.platform, &sub, &mut body.as_slice(), 1 << 30)
            .await
            .unwrap()
            .hex()
    }

    /// A unit in the work-injury scheme, registered.
    async fn unit(&self, unit: &str) {
        let evidence = self
            .scan(&format!("{unit} 工伤参保证明"), &self.acceptor())
            .await;
        let (status, body) = self
            .call(
                "POST",
                "/api/work-injury/facts",
                &self.acceptor(),
                Some(json!({
                    "code": unit, "name": format!("单位{}", &unit[10..14]), "county": "360702",
                    "registration_no": format!("GS-{unit}"), "insured": true, "industry_class": 4,
                    "rate_band": "1.2", "band_decided_on": "2025-01-01", "as_of": "2025-05-31",
                    "evidence_sha256": evidence
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = self
            .call(
                "POST",
                "/api/units",
                &self.employer(unit),
                Some(json!({
                    "code": unit, "name": format!("单位{}", &unit[10..14]), "county": "360702",
                    "account": { "bank": "中国银行赣州分行", "number": "6216610100001234567", "holder": format!("单位{}", &unit[10..14]) },
                    "contact": { "name": "张三", "phone": "13907970001" }
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// A person of `unit`, covered from 2025-06-03 (materials filed and accepted where the
    /// category needs them); the enrolment.
    async fn covered(
        &self,
        unit: &str,
        name: &str,
        id: &str,
        category: &str,
        wage: &str,
        materials: &[&str],
    ) -> Value {
        let (status, e) = self
            .call(
                "POST",
                &format!("/api/units/{unit}/persons"),
                &self.employer(unit),
                Some(json!({
                    "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970101",
                    "category": category, "declared_wage": wage, "start": "2025-06-02"
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
        let eid = e["id"].as_str().unwrap().to_owned();
        for m in materials {
            let sha = self.scan(&format!("{eid} {m}"), &self.employer(unit)).await;
            let (status, body) = self
                .call(
                    "PUT",
                    &format!("/api/enrolments/{eid}/materials/{m}"),
                    &self.employer(unit),
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
                    &self.token("acceptor", "360702", "enrol-window", None),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // The first month's bill, paid at the tax bureau: its receipt starts the cover (Art. 8).
        let finance = self.token("finance", "360702", "finance-1", None);
        let imp = self.pay_bill(&format!("b-202506-{eid}")).await;
        assert_eq!(imp["covered"].as_u64(), Some(1), "{imp}");
        let (status, e) = self
            .call("GET", &format!("/api/enrolments/{eid}"), &finance, None)
            .await;
        assert_eq!(
            (status, e["status"].as_str()),
            (StatusCode::OK, Some("covered")),
            "{e}"
        );
        e
    }

    /// Pays `bill` in full by the tax bureau's receipt of 2 June 2025, imported by finance.
    async fn pay_bill(&self, bill: &str) -> Value {
        let finance = self.token("finance", "360702", "finance-1", None);
        let (status, b) = self
            .call("GET", &format!("/api/bills/{bill}"), &finance, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let csv = format!(
            "receipt_no,bill_id,amount,paid_on\nR-{bill}{},{bill},{},2025-06-02\n",
            self.run,
            b["amount"].as_str().unwrap()
        );
        let sub = self.platform.tokens.verify(&finance).unwrap().sub;
        let sha =
            swi_platform::documents::received(&self.platform, &sub, &mut csv.as_bytes(), 1 << 20)
                .await
                .unwrap()
                .hex();
        let (status, imp) = self
            .call(
                "POST",
                "/api/tax-exchange/receipts",
                &finance,
                Some(json!({ "county": "360702", "sha256": sha })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{imp}");
        imp
    }

    /// Records an injury's recognition with its scan.
    async fn injury(
        &self,
        name: &str,
        id: &str,
        number: &str,
        injured: &str,
        decided: &str,
    ) -> (StatusCode, Value) {
        let sha = self
            .scan(&format!("认定书 {number}"), &self.acceptor())
            .await;
        self.call(
            "POST",
            "/api/injuries",
            &self.acceptor(),
            Some(json!({
                "name": name, "id_number": id, "kind": "accident",
                "decision_number": number, "decided_on": decided, "injured_on": injured,
                "body_part": "右手", "sha256": sha
            })),
        )
        .await
    }

    async fn put_injury(&self, injury: &str, what: &str, mut body: Value) -> Value {
        body["sha256"] = json!(
            self.scan(&format!("{injury} {what}"), &self.handler())
                .await
        );
        let (status, v) = self
            .call(
                "PUT",
                &format!("/api/injuries/{injury}/{what}"),
                &self.handler(),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {v}");
        v
    }

    async fn file(&self, injury: &str, material: &str, token: &str) -> Value {
        let sha = self.scan(&format!("{injury} {material}"), token).await;
        let (status, v) = self
            .call(
                "PUT",
                &format!("/api/injuries/{injury}/materials/{material}"),
                token,
                Some(json!({ "sha256": sha })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{material}: {v}");
        v
    }

    /// Sets a city value (recorded by one city officer, confirmed by another).
    async fn city_value(&self, name: &str, value: &str) {
        let a = self.token("agency_officer", "360700", "city-a", None);
        let scan = self.scan(&format!("市人社局通知 {name}"), &a).await;
        let b = self.token("agency_officer", "360700", "city-b", None);
        let (status, v) = self
            .call(
                "POST",
                "/api/parameters/city-values",
                &a,
                Some(json!({
                    "setting": { "kind": "value", "name": name, "from": "2025-01-01", "value": value },
                    "document_no": "赣市人社字〔2025〕99号", "scan_sha256": scan
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        let id = v["id"].as_str().unwrap().to_owned();
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/parameters/city-values/{id}/confirm"),
                &b,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }

    /// Acceptance, eligibility, first review and re-review; the claim at entry.
    async fn review(&self, claim: &str, facts: Value, re_review: Value) -> Value {
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/accept"),
                &self.acceptor(),
                None,
            )
            .await;
        assert_eq!(
            (status, v["status"].as_str()),
            (StatusCode::OK, Some("handling")),
            "{v}"
        );
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/eligibility"),
                &self.handler(),
                Some(json!({ "identity_confirmed": true, "contributions_confirmed": true, "recognition_consistent": true })),
            )
            .await;
        assert_eq!(
            (status, v["status"].as_str()),
            (StatusCode::OK, Some("first_review")),
            "{v}"
        );
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/first-review"),
                &self.first(),
                Some(facts),
            )
            .await;
        assert_eq!(
            (status, v["status"].as_str()),
            (StatusCode::OK, Some("re_review")),
            "{v}"
        );
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/re-review"),
                &self.second(),
                Some(re_review),
            )
            .await;
        assert_eq!(
            (status, v["status"].as_str()),
            (StatusCode::OK, Some("entry")),
            "{v}"
        );
        v
    }

    /// Approval by the first-review post; the approved claim.
    async fn approve(&self, claim: &str) -> Value {
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/approve"),
                &self.first(),
                None,
            )
            .await;
        assert_eq!(
            (status, v["status"].as_str()),
            (StatusCode::OK, Some("approved")),
            "{v}"
        );
        // Both forms are PDFs in the dossier, named by their SHA-256.
        for form in ["assessment", "application"] {
            let (status, pdf) = self
                .bytes(
                    &format!("/api/claims/{claim}/forms/{form}"),
                    &self.acceptor(),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            assert!(pdf.starts_with(b"%PDF"), "{form}");
            let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
            assert_eq!(v["approval"]["forms"][format!("{form}_form")], json!(sha));
        }
        self.agrees_with_quote(&v).await;
        v
    }

    /// Every approved amount of `claim` equals what `swi quote` answers for the same facts
    /// (the rules' own protocol, on the parameters in force, city values included); an amount
    /// cut by the per-injury cap is compared before the cut.
    async fn agrees_with_quote(&self, claim: &Value) {
        let iid = claim["injury"].as_str().unwrap();
        let (_, injury) = self
            .call(
                "GET",
                &format!("/api/injuries/{iid}"),
                &self.acceptor(),
                None,
            )
            .await;
        let params = self.platform.params().await.unwrap();
        let quoter = swi_quote::Quoter::new(
            &params,
            chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
        );
        let review = &claim["review"];
        let mut compared = 0;
        for item in claim["assessment"]["items"].as_array().unwrap() {
            let name = item["item"].as_str().unwrap();
            let Some(want) = item["before_cap"].as_str().or(item["amount"].as_str()) else {
                continue;
            };
            let death = matches!(name, "one_time_death" | "funeral" | "dependant_pension");
            let on = if death {
                &injury["death"]["died_on"]
            } else {
                &injury["recognition"]["injured_on"]
            };
            let fees: rust_decimal::Decimal = review["fee_lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["item"] == name)
                .map(|l| {
                    l["allowed"]
                        .as_str()
                        .unwrap()
                        .parse::<rust_decimal::Decimal>()
                        .unwrap()
                })
                .sum();
            let mut q = json!({
                "kind": "benefit", "item": name, "category": claim["category"], "on": on,
                "insured_wage": injury["insured_wage"]["amount"], "fees": fees.to_string(),
                "outside_area": review["outside_area"], "stays": review["stays"],
                "dependants": review["dependants"].as_array().into_iter().flatten()
                    .map(|d| json!({ "relation": d["relation"], "orphan_or_lone_elder": d["orphan_or_lone_elder"] }))
                    .collect::<Vec<_>>(),
                "occupational_disease": injury["recognition"]["kind"] == "occupational_disease",
            });
            let o = q.as_object_mut().unwrap();
            if let Some(g) = injury["appraisal"]["grade"].as_u64() {
                o.insert("grade".into(), json!(g));
            }
            if let Some(c) = injury["appraisal"]["care_level"].as_u64() {
                o.insert("care_level".into(), json!(c));
            }
            if injury["paid_leave"].is_object() {
                o.insert("paid_leave".into(), json!({ "from": injury["paid_leave"]["from"], "to": injury["paid_leave"]["to"] }));
            }
            for (field, from) in [
                ("paid_leave_months", "paid_leave_months"),
                ("standard", "device_standard"),
            ] {
                if let Some(v) = review[from].as_str() {
                    o.insert(field.into(), json!(v));
                }
            }
            let days = match name {
                "hospital_food" => review["hospital_days"].as_u64(),
                "travel_lodging" => review["travel_days"].as_u64(),
                _ => None,
            };
            if let Some(d) = days {
                o.insert("days".into(), json!(d));
            }
            let answer: Value = serde_json::from_str(&quoter.answer_str(&q.to_string())).unwrap();
            assert_eq!(
                answer["amount"].as_str(),
                Some(want),
                "{name}: swi quote says {answer} for {q}"
            );
            compared += 1;
        }
        assert!(compared > 0, "nothing compared in {claim}");
    }

    async fn audit_intact(&self, case: &str) {
        let events = swi_platform::mutation::verify_case(&self.platform, case)
            .await
            .unwrap()
            .unwrap();
        assert!(events > 0, "{case} has events");
    }
}

fn amount_of(claim: &Value, item: &str) -> String {
    claim["assessment"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == item)
        .unwrap_or_else(|| panic!("{item} in {claim}"))["amount"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// What `swi quote` answers for a benefit.
fn quote(p: &Platform, request: Value) -> Value {
    let params = p.base_params.clone();
    let line = swi_quote::Quoter::new(
        &params,
        chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
    )
    .answer_str(&request.to_string());
    serde_json::from_str(&line).unwrap()
}

/// An ordinary employee's out-of-catalogue and nursing claim: returned once with a one-time
/// notice, completed, reviewed by four people, deducted at re-review, approved with the city's
/// out-of-catalogue figures; a second nursing claim is cut at the 3,000 cap across the injury.
async fn an_employees_out_of_catalogue_and_nursing_claim(api: &Api) {
    api.today("2025-06-02");
    api.unit(UNIT).await;
    let id = resident_id("36070219850101001");
    api.covered(UNIT, "赵一", &id, "employee", "4500.00", &[])
        .await;
    api.today("2025-09-01");
    // The out-of-catalogue ratio and cap are the city's to set (FIGURES §E: pending).
    api.city_value("benefit.out_of_catalogue.ratio", "0.8")
        .await;
    api.city_value("benefit.out_of_catalogue.cap", "20000")
        .await;
    let (status, injury) = api
        .injury(
            "赵一",
            &id,
            "赣市人社伤认〔2025〕101号",
            "2025-07-10",
            "2025-08-01",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{injury}");
    assert_eq!(
        injury["id_number"],
        json!(format!("{}********{}", &id[..6], &id[14..]))
    );
    assert!(injury.get("person").is_none(), "{injury}");
    assert_eq!(injury["insured_wage"]["amount"], "4500.00", "{injury}");
    let iid = injury["id"].as_str().unwrap().to_owned();
    api.put_injury(
        &iid,
        "paid-leave",
        json!({ "from": "2025-07-10", "to": "2025-08-20" }),
    )
    .await;

    let emp = api.employer(UNIT);
    // The nursing subsidy is claimed once the paid-leave period has ended (Art. 26).
    api.today("2025-08-20");
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["nursing_subsidy"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "paid_leave_not_ended"),
        "{err}"
    );
    api.today("2025-09-01");
    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["out_of_catalogue", "nursing_subsidy"] })),
        )
        .await;
    assert_eq!(
        (status, claim["status"].as_str()),
        (StatusCode::CREATED, Some("submitted")),
        "{claim}"
    );
    assert_eq!(claim["claimant"]["kind"], "unit");
    let cid = claim["id"].as_str().unwrap().to_owned();
    let missing: Vec<&str> = claim["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        [
            "receipts",
            "fee_list",
            "diagnosis",
            "medical_records",
            "fund_settlement",
            "discharge_summary"
        ],
        "the recognition is in the dossier already (Art. 33)"
    );
    // The window cannot accept an incomplete claim; it returns it with everything at once.
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/accept"),
            &api.acceptor(),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "materials_missing"),
        "{err}"
    );
    let (status, returned) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/return"),
            &api.acceptor(),
            Some(json!({ "problems": ["费用清单须加盖医疗机构公章"] })),
        )
        .await;
    assert_eq!(
        (status, returned["status"].as_str()),
        (StatusCode::OK, Some("returned")),
        "{returned}"
    );
    assert_eq!(returned["notice"]["missing"].as_array().unwrap().len(), 6);
    let (status, pdf) = api.bytes(&format!("/api/claims/{cid}/notice"), &emp).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));
    // A hash that was never uploaded is refused, and nothing is filed.
    let (status, err) = api
        .call(
            "PUT",
            &format!("/api/injuries/{iid}/materials/receipts"),
            &emp,
            Some(json!({ "sha256": "ab".repeat(32) })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "document_missing"),
        "{err}"
    );
    let (_, read) = api
        .call("GET", &format!("/api/injuries/{iid}"), &emp, None)
        .await;
    assert!(read["materials"].get("receipts").is_none(), "{read}");
    for m in [
        "receipts",
        "fee_list",
        "diagnosis",
        "medical_records",
        "fund_settlement",
        "discharge_summary",
    ] {
        api.file(&iid, m, &emp).await;
    }
    let (status, claim) = api
        .call("POST", &format!("/api/claims/{cid}/resubmit"), &emp, None)
        .await;
    assert_eq!(
        (status, claim["missing"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0)),
        "{claim}"
    );

    let facts = json!({
        "fee_lines": [
            { "item": "out_of_catalogue", "invoice_number": "FP-0001", "provider": "赣州市人民医院", "agreement_institution": true,
              "date": "2025-07-12", "amount": "3000.00", "catalogue": "outside", "allowed": "2500.00", "deduction_reason": "与受伤部位无关的检查" },
            { "item": "out_of_catalogue", "invoice_number": "FP-0002", "provider": "赣州市人民医院", "agreement_institution": true,
              "date": "2025-07-20", "amount": "1000.00", "catalogue": "outside", "allowed": "1000.00" }
        ],
        "stays": [ { "admitted": "2025-07-10", "discharged": "2025-07-25" } ],
        "opinion": "目录外费用部分扣减；护理补助按住院16天核定"
    });
    // A fee the work-injury fund pays (within the catalogues) is not this scheme's (Art. 25).
    let mut paid_by_fund = facts.clone();
    paid_by_fund["fee_lines"][1]["catalogue"] = json!("within");
    api.review_until_first(&cid).await;
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/first-review"),
            &api.first(),
            Some(paid_by_fund),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "review_refused"),
        "{err}"
    );
    // Fees at an institution outside the agreement are not paid without an emergency or an
    // approved transfer found by handling (Art. 23).
    let mut unapproved = facts.clone();
    unapproved["fee_lines"][0]["agreement_institution"] = json!(false);
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/first-review"),
            &api.first(),
            Some(unapproved),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "review_refused"),
        "{err}"
    );
    assert!(
        err["error"]["en"].as_str().unwrap().contains("Art. 23"),
        "{err}"
    );
    // Stays outside the paid-leave period are refused (Art. 26); the claim stays where it was.
    let mut outside = facts.clone();
    outside["stays"] = json!([{ "admitted": "2025-08-25", "discharged": "2025-08-30" }]);
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/first-review"),
            &api.first(),
            Some(outside),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "stay_outside_paid_leave"),
        "{err}"
    );
    let (_, still) = api
        .call("GET", &format!("/api/claims/{cid}"), &api.first(), None)
        .await;
    assert_eq!(
        (still["status"].as_str(), &still["assessment"]),
        (Some("first_review"), &Value::Null)
    );
    // The same person may not take a second step, whichever role their token now carries, and
    // two sessions of the same person are one person (Art. 5).
    let as_handler_again = api.token("first_reviewer", "360702", "handler-1", None);
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/first-review"),
            &as_handler_again,
            Some(facts.clone()),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::FORBIDDEN, "separation_of_duties"),
        "{err}"
    );
    // A clerk of another county is refused.
    let elsewhere = api.token("first_reviewer", "360703", "first-9", None);
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/first-review"),
            &elsewhere,
            Some(facts.clone()),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::FORBIDDEN, "forbidden_county"),
        "{err}"
    );
    // Two first reviewers at once: exactly one wins.
    let other_first = api.token("first_reviewer", "360702", "first-2", None);
    let path = format!("/api/claims/{cid}/first-review");
    let first = api.first();
    let (a, b) = tokio::join!(
        api.call("POST", &path, &first, Some(facts.clone())),
        api.call("POST", &path, &other_first, Some(facts.clone())),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    let winner = if a.0 == StatusCode::OK {
        api.first()
    } else {
        other_first.clone()
    };
    let (_, claim) = api
        .call("GET", &format!("/api/claims/{cid}"), &winner, None)
        .await;
    assert_eq!(claim["status"], "re_review", "{claim}");
    // Acting again on a claim that moved on: the clerk who could take that step is told it moved
    // (409); anyone else learns nothing of where it is (403).
    let (status, err) = api.call("POST", &path, &winner, Some(facts.clone())).await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::CONFLICT, "invalid_transition"),
        "{err}"
    );
    for (who, want) in [
        (api.employer(UNIT), "forbidden_role"),
        (elsewhere.clone(), "forbidden_county"),
    ] {
        let (status, err) = api.call("POST", &path, &who, Some(facts.clone())).await;
        assert_eq!((status, code(&err)), (StatusCode::FORBIDDEN, want), "{err}");
        assert!(!err.to_string().contains("re_review"), "{err}");
    }
    assert_eq!(amount_of(&claim, "out_of_catalogue"), "2800.00"); // 3,500 × 0.8
    assert_eq!(amount_of(&claim, "nursing_subsidy"), "1600.00"); // 16 days × 100
    // The re-review deducts one line further.
    let (status, claim) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/re-review"),
            &api.second(),
            Some(json!({ "deductions": [ { "invoice_number": "FP-0002", "allowed": "800.00", "reason": "药品超出限定支付范围" } ], "opinion": "复核扣减" })),
        )
        .await;
    assert_eq!(
        (status, claim["status"].as_str()),
        (StatusCode::OK, Some("entry")),
        "{claim}"
    );
    // Entry is the first-review post's: the re-reviewer may not approve.
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/approve"),
            &api.second(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let entry_by = if a.0 == StatusCode::OK {
        api.first()
    } else {
        other_first
    };
    let (status, claim) = api
        .call(
            "POST",
            &format!("/api/claims/{cid}/approve"),
            &entry_by,
            None,
        )
        .await;
    assert_eq!(
        (status, claim["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{claim}"
    );
    assert_eq!(amount_of(&claim, "out_of_catalogue"), "2640.00"); // 3,300 × 0.8
    api.agrees_with_quote(&claim).await;
    // The city's values are named with their document number.
    let assumptions = claim["assessment"]["items"][0]["assumptions"].to_string();
    assert!(
        assumptions.contains("赣市人社字〔2025〕99号"),
        "{assumptions}"
    );
    // Equal to swi quote's answer for the same facts (with the city's values in the set).
    let merged = api.platform.params().await.unwrap();
    let q = swi_quote::Quoter::new(
        &merged,
        chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
    );
    let answer: Value = serde_json::from_str(&q.answer_str(
        &json!({ "kind": "benefit", "item": "out_of_catalogue", "category": "employee", "on": "2025-07-10", "fees": "3300.00" }).to_string(),
    ))
    .unwrap();
    assert_eq!(answer["amount"], json!("2640.00"), "{answer}");
    assert!(
        answer["assumptions"]
            .to_string()
            .contains("赣市人社字〔2025〕99号"),
        "swi quote names the city's notice too: {answer}"
    );
    let answer: Value = serde_json::from_str(&q.answer_str(
        &json!({ "kind": "nursing_subsidy", "paid_leave": { "from": "2025-07-10", "to": "2025-08-20" }, "stays": [ { "admitted": "2025-07-10", "discharged": "2025-07-25" } ] }).to_string(),
    ))
    .unwrap();
    assert_eq!(
        answer["amount"],
        json!(amount_of(&claim, "nursing_subsidy")),
        "{answer}"
    );
    // Payable lines: the out-of-catalogue fees to the person's card, the nursing subsidy to the
    // unit (Art. 35), due within 10 working days (Art. 38).
    let (_, payables) = api
        .call("GET", &format!("/api/claims/{cid}/payables"), &emp, None)
        .await;
    let lines = payables["payable_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{payables}");
    for l in lines {
        assert_eq!(l["due"], "2025-09-15", "{l}");
        let want = if l["item"] == "nursing_subsidy" {
            ("unit", "1600.00")
        } else {
            ("person", "2640.00")
        };
        assert_eq!(
            (
                l["payee"]["kind"].as_str().unwrap(),
                l["amount"].as_str().unwrap()
            ),
            want,
            "{l}"
        );
    }
    api.audit_intact(&format!("claim#{cid}")).await;

    // A second nursing claim of the same injury: the cap of 3,000 counts across claims.
    let (status, second) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["nursing_subsidy"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let sid = second["id"].as_str().unwrap().to_owned();
    let again = json!({ "stays": [ { "admitted": "2025-07-28", "discharged": "2025-08-20" } ], "opinion": "再次住院" });
    let claim = api.review(&sid, again, json!({ "opinion": "同意" })).await;
    assert_eq!(
        amount_of(&claim, "nursing_subsidy"),
        "1400.00",
        "24 days → 2,400, cut to the 1,400 left"
    );
    let claim = api.approve(&sid).await;
    assert_eq!(
        claim["assessment"]["items"][0]["before_cap"], "2400.00",
        "{claim}"
    );
    // The cap is used up: a third nursing claim is refused whole, and nothing is added.
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["nursing_subsidy"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "cap_reached"),
        "{err}"
    );
    // An employee's medical fees are the work-injury fund's (Art. 25): refused whole.
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["medical"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_entitled"),
        "{err}"
    );
    let (_, read) = api
        .call("GET", &format!("/api/injuries/{iid}"), &emp, None)
        .await;
    assert_eq!(
        read["claims"].as_array().unwrap().len(),
        2,
        "nothing was added: {read}"
    );
}

impl Api {
    /// Accept and confirm eligibility: the claim at first review.
    async fn review_until_first(&self, claim: &str) {
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/accept"),
                &self.acceptor(),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let (status, v) = self
            .call(
                "POST",
                &format!("/api/claims/{claim}/eligibility"),
                &self.handler(),
                Some(json!({ "identity_confirmed": true, "contributions_confirmed": true, "recognition_consistent": true })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
}

/// A platform worker's disability claim (grade 7): the one-time medical subsidy ends the
/// supplementary relationship (Art. 31) — the enrolment shows the end — and a later claim is
/// refused with the article.
async fn a_platform_workers_disability_claim_ends_cover(api: &Api) {
    api.today("2025-06-02");
    api.unit(PLATFORM_UNIT).await;
    let id = resident_id("36070219900202002");
    let e = api
        .covered(
            PLATFORM_UNIT,
            "周五",
            &id,
            "platform_food_delivery",
            "6000.00",
            &[
                "platform_qualification",
                "platform_worker_agreement",
                "registration_info_sealed",
                "work_scope",
            ],
        )
        .await;
    let eid = e["id"].as_str().unwrap().to_owned();
    api.today("2025-10-10");
    let (status, injury) = api
        .injury(
            "周五",
            &id,
            "赣市人社职伤认〔2025〕202号",
            "2025-07-01",
            "2025-08-01",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{injury}");
    let iid = injury["id"].as_str().unwrap().to_owned();
    // Grade 11 does not exist; nothing is recorded.
    let sha = api.scan("鉴定 11", &api.handler()).await;
    let (status, err) = api
        .call(
            "PUT",
            &format!("/api/injuries/{iid}/appraisal"),
            &api.handler(),
            Some(json!({ "grade": 11, "appraised_on": "2025-09-20", "committee": "赣州市劳动能力鉴定委员会", "sha256": sha })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (_, read) = api
        .call("GET", &format!("/api/injuries/{iid}"), &api.handler(), None)
        .await;
    assert_eq!(read["appraisal"], Value::Null);
    api.put_injury(&iid, "appraisal", json!({ "grade": 7, "appraised_on": "2025-09-20", "committee": "赣州市劳动能力鉴定委员会" })).await;
    let emp = api.employer(PLATFORM_UNIT);
    // The occupational subsidy is not for platform workers (Art. 31).
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["one_time_employment"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_entitled"),
        "{err}"
    );
    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["one_time_disability", "one_time_medical", "disability_allowance"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let cid = claim["id"].as_str().unwrap().to_owned();
    api.file(&iid, "relationship_ended", &emp).await;
    let claim = api
        .review(
            &cid,
            json!({ "opinion": "七级伤残" }),
            json!({ "opinion": "同意" }),
        )
        .await;
    // Grade 7 has no disability allowance (grades 1-6, an assumed limit shown to the reviewer).
    let allowance = &claim["assessment"]["items"][2];
    assert_eq!(
        allowance["refusal"]["code"], "grade_not_entitled",
        "{claim}"
    );
    assert!(
        allowance["assumptions"]
            .to_string()
            .contains("benefit.disability_allowance.max_grade")
    );
    let claim = api.approve(&cid).await;
    // 6,000 × 13 months each (grade 7, FIGURES §E).
    assert_eq!(amount_of(&claim, "one_time_disability"), "78000.00");
    assert_eq!(amount_of(&claim, "one_time_medical"), "78000.00");
    for (item, want) in [
        ("one_time_disability", "78000.00"),
        ("one_time_medical", "78000.00"),
    ] {
        let q = quote(
            &api.platform,
            json!({ "kind": "benefit", "item": item, "category": "platform_food_delivery", "on": "2025-07-01", "grade": 7, "insured_wage": "6000.00" }),
        );
        assert_eq!(q["amount"], json!(want), "{q}");
    }
    assert_eq!(claim["approval"]["relationship_ended"], true);
    // Enrollment's record shows the end.
    let (_, enrolment) = api
        .call("GET", &format!("/api/enrolments/{eid}"), &emp, None)
        .await;
    assert_eq!(
        (
            enrolment["status"].as_str(),
            enrolment["cover_end"].as_str()
        ),
        (Some("terminated"), Some("2025-10-10")),
        "{enrolment}"
    );
    api.audit_intact(&format!("enrolment#{eid}")).await;
    // Any later claim is refused with Art. 31; nothing is written.
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["assistive_device"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "cover_ended"),
        "{err}"
    );
    let (_, read) = api
        .call("GET", &format!("/api/injuries/{iid}"), &emp, None)
        .await;
    assert_eq!(read["claims"].as_array().unwrap().len(), 1, "{read}");
    // And a second lump sum of the same item would be refused anyway.
    assert!(read["granted"].get("one_time_medical").is_some(), "{read}");
}

/// A volunteer's death: a close relative with proof of kinship claims the death subsidy, the
/// funeral grant and the dependants' pensions; each dependant gets a schedule. A citizen who is
/// neither may not read the claim.
async fn a_volunteers_death_claim_with_dependants(api: &Api) {
    api.today("2025-06-02");
    let id = resident_id("36070219800303003");
    api.covered(
        UNIT,
        "钱二",
        &id,
        "volunteer",
        "5000.00",
        &["organisation_founding_document", "volunteer_registration"],
    )
    .await;
    api.today("2025-09-10");
    let (status, injury) = api
        .injury(
            "钱二",
            &id,
            "赣市人社职伤认〔2025〕303号",
            "2025-08-01",
            "2025-08-20",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{injury}");
    let iid = injury["id"].as_str().unwrap().to_owned();
    api.put_injury(
        &iid,
        "death",
        json!({ "died_on": "2025-08-02", "within_paid_leave": true }),
    )
    .await;
    // The relative's own identity, verified at the window, then the kinship with its proof.
    let relative = api.token("citizen", "360702", "relative-1", None);
    let relative_id = resident_id("36070219820404004");
    let evidence = api.scan("亲属身份证", &api.acceptor()).await;
    let (status, v) = api
        .call(
            "POST",
            "/api/identities",
            &api.acceptor(),
            Some(json!({ "sub": api.sub("relative-1"), "name": "钱妻", "id_number": relative_id, "evidence_sha256": evidence })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let proof = api.scan("结婚证", &api.acceptor()).await;
    let (status, v) = api
        .call(
            "POST",
            &format!("/api/identities/{}/kin", api.sub("relative-1")),
            &api.acceptor(),
            Some(json!({ "id_number": id, "relation": "配偶", "proof_sha256": proof })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            &relative,
            Some(json!({ "injury": iid, "items": ["one_time_death", "funeral", "dependant_pension"] })),
        )
        .await;
    assert_eq!(
        (status, claim["claimant"]["kind"].as_str()),
        (StatusCode::CREATED, Some("relative")),
        "{claim}"
    );
    let cid = claim["id"].as_str().unwrap().to_owned();
    for m in [
        "cremation_certificate",
        "death_in_paid_leave",
        "dependant_proof",
    ] {
        api.file(&iid, m, &relative).await;
    }
    // A stranger may not read it.
    let stranger = api.token("citizen", "360702", "stranger-1", None);
    let (status, _) = api
        .call("GET", &format!("/api/claims/{cid}"), &stranger, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let facts = json!({
        "dependants": [
            { "name": "钱妻", "id_number": relative_id, "relation": "spouse" },
            { "name": "钱子", "relation": "other", "orphan_or_lone_elder": false }
        ],
        "opinion": "供养亲属两人"
    });
    api.review(&cid, facts, json!({ "opinion": "同意" })).await;
    let claim = api.approve(&cid).await;
    // 20 × 54,188 (the 2024 national urban income, the year before the death).
    assert_eq!(amount_of(&claim, "one_time_death"), "1083760.00");
    // 5,000 × (40 % + 30 %) a month.
    assert_eq!(amount_of(&claim, "dependant_pension"), "3500.00");
    let (_, payables) = api
        .call(
            "GET",
            &format!("/api/claims/{cid}/payables"),
            &relative,
            None,
        )
        .await;
    let schedules = payables["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 2, "{payables}");
    assert_eq!(
        (
            schedules[0]["monthly"].as_str(),
            schedules[1]["monthly"].as_str()
        ),
        (Some("2000.00"), Some("1500.00"))
    );
    assert!(
        schedules[0]["payee"]["id_number"]
            .as_str()
            .unwrap()
            .contains("********"),
        "masked"
    );
    let q = quote(
        &api.platform,
        json!({ "kind": "benefit", "item": "one_time_death", "category": "volunteer", "on": "2025-08-02" }),
    );
    assert_eq!(q["amount"], json!("1083760.00"), "{q}");
    // The relative follows the claim.
    let (_, mine) = api.call("GET", "/api/claims", &relative, None).await;
    assert_eq!(mine[0]["id"], json!(cid), "{mine}");
}

/// A construction project's worker: covered through the project (Art. 11-12), with the wage
/// declared at registration (Art. 48); nursing subsidy approved, paid to the contractor unit.
async fn a_construction_workers_claim(api: &Api) {
    api.today("2025-06-02");
    api.unit(BUILDER).await;
    let emp = api.employer(BUILDER);
    let (status, project) = api
        .call(
            "POST",
            &format!("/api/units/{BUILDER}/projects"),
            &emp,
            Some(json!({ "name": "章贡区某安置房工程", "work_injury_project_no": "GC-2025-001", "cost": "10000000", "cost_kind": "total", "start": "2025-06-03", "end": "2026-06-30" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let pid = project["id"].as_str().unwrap().to_owned();
    // Its one-time premium, billed with it, paid at the tax bureau: the receipt covers it.
    let imp = api.pay_bill(&format!("b-{pid}")).await;
    assert_eq!(imp["covered"].as_u64(), Some(1), "{imp}");
    let id = resident_id("36070219880505005");
    let (status, v) = api
        .call(
            "POST",
            &format!("/api/projects/{pid}/workers"),
            &emp,
            Some(json!({ "name": "孙三", "id_number": id, "declared_wage": "7000.00" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    api.today("2025-09-01");
    // Someone never covered is refused, and no injury is recorded.
    let stranger = resident_id("36070219880505105");
    let (status, err) = api
        .injury(
            "路人",
            &stranger,
            "赣市人社伤认〔2025〕499号",
            "2025-07-01",
            "2025-08-01",
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_covered"),
        "{err}"
    );
    let (status, injury) = api
        .injury(
            "孙三",
            &id,
            "赣市人社伤认〔2025〕404号",
            "2025-07-01",
            "2025-08-01",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{injury}");
    assert_eq!(
        (
            injury["covered_by"]["kind"].as_str(),
            injury["category"].as_str(),
            injury["insured_wage"]["amount"].as_str()
        ),
        (Some("project"), Some("employee"), Some("7000.00")),
        "{injury}"
    );
    let iid = injury["id"].as_str().unwrap().to_owned();
    api.put_injury(
        &iid,
        "paid-leave",
        json!({ "from": "2025-07-01", "to": "2025-07-31" }),
    )
    .await;
    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            &emp,
            Some(json!({ "injury": iid, "items": ["nursing_subsidy"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let cid = claim["id"].as_str().unwrap().to_owned();
    api.file(&iid, "discharge_summary", &emp).await;
    api.review(&cid, json!({ "stays": [ { "admitted": "2025-07-01", "discharged": "2025-07-05" } ], "opinion": "住院5天" }), json!({ "opinion": "同意" }))
        .await;
    let claim = api.approve(&cid).await;
    assert_eq!(amount_of(&claim, "nursing_subsidy"), "500.00");
    let (_, payables) = api
        .call("GET", &format!("/api/claims/{cid}/payables"), &emp, None)
        .await;
    assert_eq!(
        payables["payable_lines"][0]["payee"]["unit"],
        json!(BUILDER),
        "{payables}"
    );
    // The queue of approved claims of the county lists it, oldest first.
    let (status, q) = api
        .call(
            "GET",
            "/api/counties/360702/claims?status=approved",
            &api.acceptor(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    let ids: Vec<&str> = q["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&cid.as_str()), "{q}");
    // An employer is not a clerk: no county queues.
    let (status, _) = api
        .call(
            "GET",
            "/api/counties/360702/claims?status=approved",
            &emp,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    pending_figures_rejection_and_send_back(api, &iid, &emp).await;
}

/// The wage subsidy needs a figure the city has not set (Art. 27: pending): reviewers see it,
/// approval stops naming it and who sets it, and once the city sets it the same claim proceeds;
/// a send-back goes one step back with reasons; a rejected claim releases its once-only item.
async fn pending_figures_rejection_and_send_back(api: &Api, iid: &str, emp: &str) {
    api.put_injury(iid, "appraisal", json!({ "grade": 9, "appraised_on": "2025-08-20", "committee": "赣州市劳动能力鉴定委员会" })).await;
    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            emp,
            Some(json!({ "injury": iid, "items": ["wage_subsidy"] })),
        )
        .await;
    assert_eq!(
        (status, claim["missing"].as_array().map(Vec::len)),
        (StatusCode::CREATED, Some(0)),
        "{claim}"
    );
    let wid = claim["id"].as_str().unwrap().to_owned();
    api.review_until_first(&wid).await;
    let facts = json!({ "paid_leave_months": "1", "opinion": "停工留薪一个月" });
    let (status, claim) = api
        .call(
            "POST",
            &format!("/api/claims/{wid}/first-review"),
            &api.first(),
            Some(facts.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    let item = &claim["assessment"]["items"][0];
    assert_eq!(
        (
            item["amount"].clone(),
            item["pending"]["parameter"].as_str()
        ),
        (Value::Null, Some("benefit.wage_subsidy.ratio")),
        "{claim}"
    );
    let (status, back) = api
        .call(
            "POST",
            &format!("/api/claims/{wid}/send-back"),
            &api.second(),
            Some(json!({ "reason": "停工留薪期月数与证明不符，请核实" })),
        )
        .await;
    assert_eq!(
        (status, back["status"].as_str()),
        (StatusCode::OK, Some("first_review")),
        "{back}"
    );
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/claims/{wid}/first-review"),
            &api.first(),
            Some(facts),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/claims/{wid}/re-review"),
            &api.second(),
            Some(json!({ "opinion": "同意" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = api
        .call(
            "POST",
            &format!("/api/claims/{wid}/approve"),
            &api.first(),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "parameter_pending"),
        "{err}"
    );
    let en = err["error"]["en"].as_str().unwrap();
    assert!(
        en.contains("benefit.wage_subsidy.ratio") && en.contains("agency_officer"),
        "{en}"
    );
    let (_, still) = api
        .call("GET", &format!("/api/claims/{wid}"), emp, None)
        .await;
    assert_eq!(still["status"], "entry");
    api.city_value("benefit.wage_subsidy.ratio", "0.5").await;
    let claim = api.approve(&wid).await;
    assert_eq!(amount_of(&claim, "wage_subsidy"), "3500.00"); // 7,000 × 0.5 × 1 month
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            emp,
            Some(json!({ "injury": iid, "items": ["wage_subsidy"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "already_granted"),
        "once per injury: {err}"
    );

    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            emp,
            Some(json!({ "injury": iid, "items": ["one_time_employment"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let rid = claim["id"].as_str().unwrap().to_owned();
    let (status, err) = api
        .call(
            "POST",
            "/api/claims",
            emp,
            Some(json!({ "injury": iid, "items": ["one_time_employment"] })),
        )
        .await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "already_granted"),
        "claimed already: {err}"
    );
    api.review_until_first(&rid).await;
    let (status, rejected) = api
        .call(
            "POST",
            &format!("/api/claims/{rid}/reject"),
            &api.first(),
            Some(json!({ "reason": "鉴定结论与认定部位不符", "article": 34 })),
        )
        .await;
    assert_eq!(
        (status, rejected["status"].as_str()),
        (StatusCode::OK, Some("rejected")),
        "{rejected}"
    );
    assert_eq!(rejected["rejection"]["article"], 34);
    let (status, claim) = api
        .call(
            "POST",
            "/api/claims",
            emp,
            Some(json!({ "injury": iid, "items": ["one_time_employment"] })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "released by the rejection: {claim}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_on_the_embedded_store() {
    let api = embedded();
    an_employees_out_of_catalogue_and_nursing_claim(&api).await;
    a_platform_workers_disability_claim_ends_cover(&api).await;
    a_volunteers_death_claim_with_dependants(&api).await;
    a_construction_workers_claim(&api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn claims_on_dynamodb_and_s3() {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    let clock = Arc::new(SetClock::new(at("2025-06-02")));
    let p = platform(Arc::new(state), Arc::new(docs), clock.clone());
    let run = format!(
        "-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let api = Api {
        router: app(&p),
        platform: p,
        clock,
        _dir: None,
        run,
        calls: Default::default(),
    };
    an_employees_out_of_catalogue_and_nursing_claim(&api).await;
    a_platform_workers_disability_claim_ends_cover(&api).await;
    a_volunteers_death_claim_with_dependants(&api).await;
    a_construction_workers_claim(&api).await;
}
