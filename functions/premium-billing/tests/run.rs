//! The monthly run on the embedded store, through the step's router and its job: a population
//! of units with persons of several categories and states is billed once; running the month
//! again writes nothing; a run cut short by its deadline again and again still bills every
//! person exactly once; a month in the future is refused and changes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

#[path = "../benches/population.rs"]
mod population;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

static KEYS: AtomicU64 = AtomicU64::new(1);
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::FixedClock;
use swi_premium_billing::run::{self, RunStatus};
use swi_store::{Query, SkRange, StateStore};
use tower::ServiceExt;

struct Fixture {
    platform: Platform,
    state: Arc<swi_store_embedded::EmbeddedState>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let platform = Platform {
        state: state.clone(),
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(FixedClock(
            DateTime::parse_from_rfc3339(&format!("{}T09:30:00+08:00", population::TODAY)).unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    };
    Fixture {
        platform,
        state,
        _dir: dir,
    }
}

fn token(p: &Platform, role: &str, county: &str, unit: Option<&str>) -> String {
    let now = chrono::Utc::now().timestamp();
    p.tokens
        .mint(&Claims {
            sub: format!("{role}-{county}"),
            role: role.into(),
            county: county.into(),
            name: "测试用户".into(),
            unit: unit.map(str::to_owned),
            iss: ISSUER.into(),
            iat: now,
            exp: now + 3600,
        })
        .unwrap()
}

async fn call(
    p: &Platform,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
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
    let res = swi_premium_billing::router(p.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        },
    )
}

async fn all_lines(state: &dyn StateStore, units: usize) -> (usize, Decimal) {
    let mut n = 0;
    let mut sum = Decimal::ZERO;
    for i in 0..units {
        let id = format!("b-202603-{}", population::unit_code(i));
        for item in state
            .query_all(
                &Query::partition(format!("bill#{id}"))
                    .range(SkRange::Prefix("line#".into()))
                    .limit(1000),
            )
            .await
            .unwrap()
        {
            n += 1;
            sum += Decimal::from_str_exact(item.body["amount"].as_str().unwrap()).unwrap();
        }
    }
    (n, sum)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_is_billed_once_whatever_stops_it_and_a_future_month_is_refused() {
    let f = fixture();
    let p = &f.platform;
    let (units, per_unit) = (30, 230); // some units need three transactions
    let expected = population::seed(&*f.state, units, per_unit).await;
    let operator = token(p, "operator", "360700", None);

    // A month in the future: refused, nothing written.
    let before = f.state.count().await.unwrap();
    let (status, body) = call(
        p,
        "POST",
        "/api/bills/runs",
        &operator,
        Some(json!({ "month": "2026-04" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "month_in_future");
    let (status, _) = call(
        p,
        "POST",
        "/api/bills/runs",
        &operator,
        Some(json!({ "month": "2026-3" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(
        p,
        "POST",
        "/api/bills/runs",
        &operator,
        Some(json!({ "month": "2024-12" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(f.state.count().await.unwrap(), before);
    // An employer may not open a month.
    let employer = token(p, "employer", "360702", Some(&population::unit_code(3)));
    let (status, _) = call(
        p,
        "POST",
        "/api/bills/runs",
        &employer,
        Some(json!({ "month": population::MONTH })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Opened, then worked by runs whose deadline has always passed: each makes one transaction.
    let (status, body) = call(
        p,
        "POST",
        "/api/bills/runs",
        &operator,
        Some(json!({ "month": population::MONTH })),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["units_total"], units);
    let mut runs = 0;
    loop {
        let w = run::work(p, population::month(), Instant::now(), &mut |_| {})
            .await
            .unwrap();
        runs += 1;
        if w.finished {
            break;
        }
        assert!(runs < 10_000, "the run does not end");
    }
    assert!(
        runs > units,
        "every unit took at least one transaction: {runs}"
    );
    let (r, _) = run::load_run(p, population::month())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, RunStatus::Done);
    assert_eq!(r.persons as usize, expected);
    assert_eq!(r.bills as usize, units);
    assert_eq!(r.units_done as usize, units);
    assert!(r.exceptions.is_empty(), "{:?}", r.exceptions);

    // Every person billed exactly once; each bill's total is the sum of its lines.
    let (lines, sum) = all_lines(&*f.state, units).await;
    assert_eq!(lines, expected);
    assert_eq!(sum, r.amount);
    let clerk = token(p, "acceptor", "360702", None);
    let mut bills_total = Decimal::ZERO;
    let mut cursor: Option<String> = None;
    loop {
        let path = format!(
            "/api/bills?county=360702&month={}&limit=7{}",
            population::MONTH,
            cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default()
        );
        let (status, page) = call(p, "GET", &path, &clerk, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for b in page["bills"].as_array().unwrap() {
            bills_total += Decimal::from_str_exact(b["amount"].as_str().unwrap()).unwrap();
            assert_eq!(b["status"], "owing");
            assert_eq!(b["due"], "2026-04-15");
        }
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(bills_total, r.amount);

    // Running the month again writes nothing.
    let before = f.state.count().await.unwrap();
    let (status, again) = call(
        p,
        "POST",
        "/api/bills/runs",
        &operator,
        Some(json!({ "month": population::MONTH })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "done");
    let w = run::work(
        p,
        population::month(),
        Instant::now() + Duration::from_secs(60),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(w.finished);
    assert_eq!(w.persons, 0);
    let job = run::BillingRun;
    let report = swi_platform::jobs::Job::run(&job, p, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(report.done, 0);
    assert_eq!(
        f.state.count().await.unwrap(),
        before,
        "a second run wrote items"
    );

    // The unit sees its bill and lines; another unit's employer does not; the county's clerk does.
    let code = population::unit_code(3);
    let (status, page) = call(
        p,
        "GET",
        &format!("/api/units/{code}/bills"),
        &employer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let bill = &page["bills"][0];
    assert_eq!(bill["payer"], json!({ "kind": "unit", "code": code }));
    assert_eq!(bill["industry_class"], 4);
    assert_eq!(bill["lines"], population::billed_of(per_unit));
    let id = bill["id"].as_str().unwrap();
    let (status, lines) = call(
        p,
        "GET",
        &format!("/api/bills/{id}/lines?limit=4"),
        &employer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Entry 0: an employee of a class-4 unit at 120 %: 3000 × 0.27 % × 1.2 = 9.72.
    assert_eq!(lines["lines"][0]["category"], "employee");
    assert_eq!(lines["lines"][0]["amount"], "9.72");
    // Entry 1: over-age: base clamped to 60 % of 6,525 = 3,915; 0.9 % + 0.27 % × 1.2 = 1.224 %.
    assert_eq!(lines["lines"][1]["base"], "3915.00");
    assert_eq!(lines["lines"][1]["amount"], "47.92");
    let other = token(p, "employer", "360702", Some(&population::unit_code(4)));
    let (status, _) = call(p, "GET", &format!("/api/bills/{id}"), &other, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(p, "GET", &format!("/api/bills/{id}"), &clerk, None).await;
    assert_eq!(status, StatusCode::OK);
    let far = token(p, "acceptor", "360703", None);
    let (status, _) = call(p, "GET", &format!("/api/bills/{id}"), &far, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        p,
        "GET",
        "/api/bills?county=360702&month=2026-03",
        &employer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_moved_into_a_county_already_walked_is_billed_that_month() {
    let f = fixture();
    let p = &f.platform;
    let per_unit = 10;
    population::seed(&*f.state, 3, per_unit).await;
    // Unit 0 (the first code) is registered in Nankang, walked after Zhanggong.
    let mut first = population::unit(0);
    first.county = swi_rules::ids::County::parse("360703").unwrap();
    let put = |u: &swi_registry::unit::Unit| {
        swi_registry::unit::unit_put(u, swi_store::Condition::None).unwrap()
    };
    f.state.transact(vec![put(&first)]).await.unwrap();
    let actor = swi_platform::jobs::job_actor("billing", "test");
    run::open(p, &actor, population::month()).await.unwrap();
    // The run stops after Zhanggong's first unit…
    let w = run::work(p, population::month(), Instant::now(), &mut |_| {})
        .await
        .unwrap();
    assert!(!w.finished);
    // …and unit 0 moves into Zhanggong, before the unit the run stopped after: the walk of
    // Zhanggong will not meet it, nor will Nankang's.
    first.county = swi_rules::ids::County::parse(population::COUNTY).unwrap();
    first.moving_members = true;
    f.state
        .transact(vec![
            put(&first),
            swi_bills::bill::moved_unit_op(population::month(), &first.code).unwrap(),
            // Unit 2 moved into Zhanggong earlier in the month: the walk meets it, and its bill
            // (still in the batch being made when the walk ends) is not written twice.
            swi_bills::bill::moved_unit_op(population::month(), &population::unit_code(2)).unwrap(),
        ])
        .await
        .unwrap();
    let w = run::work(
        p,
        population::month(),
        Instant::now() + Duration::from_secs(60),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(w.finished);
    for i in 0..3 {
        let id = format!("b-202603-{}", population::unit_code(i));
        let bill = f
            .state
            .get(&swi_bills::bill::bill_key(&id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("unit {i} was not billed"));
        assert_eq!(
            bill.body["lines"],
            population::billed_of(per_unit),
            "unit {i}"
        );
    }
    let (r, _) = run::load_run(p, population::month())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.bills, r.persons),
        (3, 3 * population::billed_of(per_unit) as u64)
    );
}
