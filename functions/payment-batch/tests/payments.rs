//! The payment step on the embedded store, through its router and jobs: an approved lump sum
//! and a periodic benefit approved late are batched to their payees' accounts, paid to the
//! banks' files and returns; a failed line goes out again, as a new attempt of the same line,
//! only once its account is corrected; the vouchers balance and the paid total equals the
//! approved total. A return with a changed amount and an account whose holder is not the payee
//! are refused and change nothing.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, NaiveDate};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use swi_payables::account::luhn_check_digit;
use swi_payables::{
    LineStatus, PayableLine, Payee, PayeeKind, Schedule, ScheduleEnd, ScheduleStatus,
};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::SetClock;
use swi_platform::jobs::Job;
use swi_rules::benefits::Item;
use swi_rules::ids::County;
use swi_store::Query;
use tower::ServiceExt;

static KEYS: AtomicU64 = AtomicU64::new(1);

struct Fixture {
    platform: Platform,
    clock: Arc<SetClock>,
    _dir: Option<tempfile::TempDir>,
}

fn at(day: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{day}T09:30:00+08:00")).unwrap()
}

fn fixture(day: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let clock = Arc::new(SetClock::new(at(day)));
    let platform = Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: clock.clone(),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    };
    Fixture {
        platform,
        clock,
        _dir: Some(dir),
    }
}

/// The same on DynamoDB and S3 (`SWI_TABLE`, `SWI_BUCKET`, `AWS_ENDPOINT_URL`).
async fn on_aws(day: &str) -> Fixture {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set"));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let (state, docs) =
        swi_store_aws::open(&var("SWI_TABLE"), &var("SWI_BUCKET"), endpoint.as_deref()).await;
    let clock = Arc::new(SetClock::new(at(day)));
    Fixture {
        platform: Platform {
            state: Arc::new(state),
            docs: Arc::new(docs),
            tokens: Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!")),
            persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
            clock: clock.clone(),
            base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
            city_params: Default::default(),
            public_url: String::new(),
        },
        clock,
        _dir: None,
    }
}

fn token(p: &Platform, sub: &str, role: &str, county: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    p.tokens
        .mint(&Claims {
            sub: sub.into(),
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
    let res = swi_payment_batch::router(p.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, v)
}

/// A resident ID number with its check character (GB 11643).
fn resident(body17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let s: u32 = body17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body17}{}", C[(s % 11) as usize] as char)
}

fn card(payload: &str) -> String {
    format!("{payload}{}", luhn_check_digit(payload).unwrap())
}

fn zhanggong() -> County {
    County::parse("360702").unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn seed(p: &Platform) {
    let funeral = PayableLine {
        id: "c-9/funeral".into(),
        claim: "c-9".into(),
        injury: "i-9".into(),
        item: Item::Funeral,
        county: zhanggong(),
        payee: Payee {
            kind: PayeeKind::Relatives,
            name: "李四".into(),
            unit: None,
            id_number: Some(resident("36070219800101002")),
        },
        amount: "40000.00".parse().unwrap(),
        approved_on: d("2027-03-01"),
        due: d("2027-03-15"),
        basis: vec!["Art. 32".into()],
        assumptions: vec![],
        status: LineStatus::Open,
    };
    let allowance = Schedule {
        id: "c-8/disability_allowance".into(),
        claim: "c-8".into(),
        injury: "i-8".into(),
        item: Item::DisabilityAllowance,
        county: zhanggong(),
        payee: Payee {
            kind: PayeeKind::Person,
            name: "张三".into(),
            unit: None,
            id_number: Some(resident("36070219750505003")),
        },
        monthly: "3500.00".parse().unwrap(),
        start: d("2027-01-10"),
        ends: vec![ScheduleEnd::RecipientDies],
        basis: vec!["Art. 30".into()],
        assumptions: vec![],
        status: ScheduleStatus::Active,
    };
    p.state
        .transact(vec![
            swi_payables::line_put(&funeral).unwrap(),
            swi_payables::schedule_put(&allowance).unwrap(),
        ])
        .await
        .unwrap();
}

fn account(line: Option<&str>, schedule: Option<&str>, payload: &str, holder: &str) -> Value {
    json!({ "line": line, "schedule": schedule, "kind": "bank_card", "bank": "ccb",
        "branch": "中国建设银行赣州分行", "number": card(payload), "holder": holder })
}

async fn run_jobs(p: &Platform) {
    let far = Instant::now() + Duration::from_secs(60);
    for job in swi_payment_batch::jobs() {
        if job.wake() == swi_platform::jobs::Wake::Pointer
            && let Err(e) = job.run(p, far).await
        {
            panic!("{}: {e:?}", job.name());
        }
    }
}

/// The bank's return of a batch's bank file: every row paid but those named failed.
async fn bank_return(
    p: &Platform,
    finance: &str,
    batch: &str,
    failed: &[(&str, &str)],
    change_amount: bool,
) -> String {
    let (s, made) = call(
        p,
        "POST",
        &format!("/api/payments/batches/{batch}/files"),
        finance,
        Some(json!({ "bank": "ccb", "format": "csv" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let (s, file) = call(
        p,
        "GET",
        &format!("/api/payments/batches/{batch}/files/105"),
        finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{file}");
    let text = file.as_str().unwrap().to_owned();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("{line},result,reason\n"));
            continue;
        }
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if change_amount && i == 1 {
            cells[6] = "1.00".into();
        }
        match failed.iter().find(|(id, _)| cells[2].starts_with(id)) {
            Some((_, why)) => out.push_str(&format!("{},失败,{why}\n", cells.join(","))),
            None => out.push_str(&format!("{},成功,\n", cells.join(","))),
        }
    }
    let sha = swi_platform::documents::received(p, "finance-1", &mut out.as_bytes(), 1 << 20)
        .await
        .unwrap();
    sha.hex()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_are_paid_once_to_their_payees_and_a_failure_goes_out_again_once_corrected() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    journey(&fixture("2027-03-01")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn payments_on_dynamodb_and_s3() {
    journey(&on_aws("2027-03-01").await).await;
}

async fn journey(f: &Fixture) {
    let p = &f.platform;
    seed(p).await;
    let finance = token(p, "finance-1", "finance", "360702");

    // An account whose holder is not the payee is refused and nothing is written.
    let (s, e) = call(
        p,
        "POST",
        "/api/accounts",
        &finance,
        Some(account(
            None,
            Some("c-8/disability_allowance"),
            "621700000012345678",
            "王五",
        )),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "account_rejected");

    // The periodic run: the schedule approved late is paid back for January and February.
    let (s, r) = call(
        p,
        "POST",
        "/api/payments/runs",
        &finance,
        Some(json!({ "county": "360702", "kind": "periodic", "month": "2027-03" })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    run_jobs(p).await;
    let (_, batches) = call(
        p,
        "GET",
        "/api/payments/batches?county=360702",
        &finance,
        None,
    )
    .await;
    assert_eq!(
        batches.as_array().unwrap().len(),
        0,
        "no account: nothing batched, {batches}"
    );
    let (_, due) = call(p, "GET", "/api/payments/due?county=360702", &finance, None).await;
    assert_eq!(due["waiting"].as_array().unwrap().len(), 3, "{due}");
    let late: Vec<bool> = due["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["late"] == true)
        .collect();
    assert_eq!(
        late,
        [true, true, false],
        "January's and February's instalments are past their 20th: {due}"
    );

    // Accounts recorded; the daily run batches the queued instalments and the lump sum.
    for (line, sched, payload, holder) in [
        (
            Some("pi:c-8:disability_allowance:2027-01"),
            None,
            "621700000012345678",
            "张三",
        ),
        (
            None,
            Some("c-8/disability_allowance"),
            "621700000012345678",
            "张三",
        ),
    ] {
        let (s, a) = call(
            p,
            "POST",
            "/api/accounts",
            &finance,
            Some(account(line, sched, payload, holder)),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{a}");
        assert!(
            !a["number"].as_str().unwrap().contains("00001234"),
            "masked: {a}"
        );
    }
    let (s, _) = call(
        p,
        "POST",
        "/api/accounts",
        &finance,
        Some(account(Some("x"), None, "621700000087654321", "李四")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    swi_payment_batch::runs::PaymentBatch
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    let (_, due) = call(p, "GET", "/api/payments/due?county=360702", &finance, None).await;
    assert_eq!(
        due["waiting"].as_array().unwrap().len(),
        1,
        "the funeral subsidy waits for 李四's account: {due}"
    );
    let (s, b) = call(
        p,
        "GET",
        "/api/payments/batches/360702-20270301-D",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["lines"], 3,
        "January and February paid back, and March: {b}"
    );
    let ret = bank_return(p, &finance, "360702-20270301-D", &[], false).await;
    let (s, _) = call(
        p,
        "POST",
        "/api/payments/batches/360702-20270301-D/returns",
        &finance,
        Some(json!({ "bank": "ccb", "sha256": ret })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    run_jobs(p).await;
    let (s, a) = call(
        p,
        "POST",
        "/api/accounts",
        &finance,
        Some(account(
            Some("ls:c-9:funeral"),
            None,
            "621700000087654321",
            "李四",
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");

    // Next day: the lump sum goes out in the day's batch; the bank returns it failed.
    f.clock.set(at("2027-03-02"));
    swi_payment_batch::runs::PaymentBatch
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    let batch = "360702-20270302-D";
    let (s, b) = call(
        p,
        "GET",
        &format!("/api/payments/batches/{batch}"),
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["lines"], 1, "the funeral subsidy: {b}");

    // A return with a changed amount is refused whole; nothing is recorded.
    let bad = bank_return(p, &finance, batch, &[], true).await;
    let (s, e) = call(
        p,
        "POST",
        &format!("/api/payments/batches/{batch}/returns"),
        &finance,
        Some(json!({ "bank": "ccb", "sha256": bad })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "return_rejected");
    let (s, _) = call(
        p,
        "GET",
        &format!("/api/payments/batches/{batch}/returns/105"),
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let ret = bank_return(p, &finance, batch, &[("ls:c-9:funeral", "户名不符")], false).await;
    let (s, imp) = call(
        p,
        "POST",
        &format!("/api/payments/batches/{batch}/returns"),
        &finance,
        Some(json!({ "bank": "ccb", "sha256": ret })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{imp}");
    run_jobs(p).await;
    let (_, line) = call(
        p,
        "GET",
        "/api/payments/lines/ls:c-9:funeral",
        &finance,
        None,
    )
    .await;
    assert_eq!(line["status"], "failed", "{line}");
    assert_eq!(line["attempt"], 1);

    // Not re-issued until its account is corrected.
    f.clock.set(at("2027-03-03"));
    swi_payment_batch::runs::PaymentBatch
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    let (s, _) = call(
        p,
        "GET",
        "/api/payments/batches/360702-20270303-D",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        p,
        "POST",
        "/api/accounts",
        &finance,
        Some(account(
            Some("ls:c-9:funeral"),
            None,
            "621700000087654329",
            "李四",
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    f.clock.set(at("2027-03-04"));
    swi_payment_batch::runs::PaymentBatch
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    let batch2 = "360702-20270304-D";
    let ret = bank_return(p, &finance, batch2, &[], false).await;
    let (s, imp) = call(
        p,
        "POST",
        &format!("/api/payments/batches/{batch2}/returns"),
        &finance,
        Some(json!({ "bank": "ccb", "sha256": ret })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{imp}");
    run_jobs(p).await;
    let (_, line) = call(
        p,
        "GET",
        "/api/payments/lines/ls:c-9:funeral",
        &finance,
        None,
    )
    .await;
    assert_eq!(line["status"], "paid", "{line}");
    assert_eq!(line["attempt"], 2, "the same line, a second attempt");
    assert_eq!(line["failures"].as_array().unwrap().len(), 1);

    // April's cycle settles March: opened by its job, the summary late after the 5th raises an
    // alert, the request is refused, corrected and approved, the transfer recorded.
    let officer = token(p, "officer-1", "agency_officer", "360702");
    f.clock.set(at("2027-04-06"));
    swi_payment_batch::cycle_jobs::CycleSummary
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    let alert = p
        .state
        .get(&swi_platform::alerts::alert_key(
            "payment_cycle_summary_late:360702:2027-04",
        ))
        .await
        .unwrap();
    assert!(alert.is_some(), "the summary is late after the 5th");
    let cycle = "/api/payment-cycles/360702/2027-04";
    let step = |command: &str| json!({ "command": command });
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &finance,
        Some(step("submit_summary")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        c["summary"]["total"], "50500.00",
        "March: three instalments and the funeral subsidy"
    );
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &finance,
        Some(step("submit_request")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let (s, e) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &finance,
        Some(step("approve_request")),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["error"]["code"], "separation_of_duties");
    let (s, e) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &officer,
        Some(step("refuse_request")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a refusal gives reasons: {e}");
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &officer,
        Some(json!({ "command": "refuse_request", "reasons": "明细表缺少经办机构核对签章" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["step"], "request_refused");
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &finance,
        Some(step("submit_request")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["requests"][1]["n"], 2);
    let (s, pdf) = call(p, "GET", &format!("{cycle}/requests/2"), &officer, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(pdf.as_str().unwrap().starts_with("%PDF"));

    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &officer,
        Some(step("approve_request")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    f.clock.set(at("2027-04-14"));
    let transfer = |amount: &str| {
        json!({ "command": "record_transfer",
        "transfer": { "amount": amount, "on": "2027-04-14", "reference": "ZF20270414001" } })
    };
    let (s, e) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &officer,
        Some(transfer("50500.01")),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "cycle_facts_missing");
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &officer,
        Some(transfer("50500.00")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");

    // March reconciled with the contractor's bank: the statement agrees; one a fen off is
    // found and named, not forced to zero. The contractor's payouts agree with the agency's
    // approved request.
    let statement = |forty: &str| {
        format!(
            "交易日期,收支,金额,业务编号,摘要\n2027-03-01,支,10500.00,360702-20270301-D-105,代发\n2027-03-04,支,{forty},360702-20270304-D-105,代发\n"
        )
    };
    for (forty, differences) in [("40000.00", 0), ("40000.01", 1)] {
        let sha = swi_platform::documents::received(
            p,
            "finance-1",
            &mut statement(forty).as_bytes(),
            1 << 20,
        )
        .await
        .unwrap();
        let (s, r) = call(p, "POST", "/api/payments/reconciliations", &finance,
            Some(json!({ "kind": "contractor_bank", "county": "360702", "month": "2027-03", "sha256": sha.hex() }))).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(
            r["outcome"]["differences"].as_array().unwrap().len(),
            differences,
            "{r}"
        );
        if differences == 1 {
            let d = &r["outcome"]["differences"][0];
            assert_eq!(d["kind"], "amount");
            assert_eq!(d["difference"], "0.01");
            assert_eq!(d["ours"]["reference"], "360702-20270304-D-105");
        } else {
            assert_eq!(r["outcome"]["matched"], 2);
        }
    }
    let (s, r) = call(
        p,
        "POST",
        "/api/payments/reconciliations",
        &finance,
        Some(json!({ "kind": "contractor_agency", "county": "360702", "month": "2027-04" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        r["outcome"]["differences"].as_array().unwrap().len(),
        0,
        "{r}"
    );
    assert_eq!(r["outcome"]["matched"], 2);
    let (s, _) = call(
        p,
        "POST",
        "/api/payments/reconciliations",
        &officer,
        Some(json!({ "kind": "contractor_agency", "county": "360702", "month": "2027-04" })),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the contractor reconciles its own"
    );

    // From the transfer's day the periodic run opens; April is paid to the account the payroll
    // took, recorded paid once the bank returned it.
    f.clock.set(at("2027-04-16"));
    swi_payment_batch::cycle_jobs::CyclePeriodic
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    run_jobs(p).await;
    let (s, e) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &finance,
        Some(step("record_periodic_paid")),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not before the bank's return: {e}"
    );
    let (s, b) = call(
        p,
        "GET",
        "/api/payments/batches/360702-202704-P",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["lines"], 1);
    let ret = bank_return(p, &finance, "360702-202704-P", &[], false).await;
    let (s, _) = call(
        p,
        "POST",
        "/api/payments/batches/360702-202704-P/returns",
        &finance,
        Some(json!({ "bank": "ccb", "sha256": ret })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    run_jobs(p).await;
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &finance,
        Some(step("record_periodic_paid")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");

    // May cannot open while April is not closed.
    f.clock.set(at("2027-05-01"));
    let (s, e) = call(
        p,
        "POST",
        "/api/payment-cycles",
        &finance,
        Some(json!({ "county": "360702", "month": "2027-05" })),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "previous_cycle_open");
    let (s, c) = call(
        p,
        "POST",
        &format!("{cycle}/steps"),
        &officer,
        Some(step("close")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let (s, c) = call(
        p,
        "POST",
        "/api/payment-cycles",
        &finance,
        Some(json!({ "county": "360702", "month": "2027-05" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");

    // A death recorded late: the benefit stops after its month, and April, paid already, is
    // answered as overpaid for recovery — never reopened.
    let (s, e) = call(p, "POST", "/api/payments/schedules/c-8:disability_allowance/changes", &officer,
        Some(json!({ "kind": "stop", "from": "2027-03-20", "source": "死亡证明 赣医证〔2027〕001号" }))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "finance records it: {e}");
    let (s, c) = call(p, "POST", "/api/payments/schedules/c-8:disability_allowance/changes", &finance,
        Some(json!({ "kind": "stop", "from": "2027-03-20", "source": "死亡证明 赣医证〔2027〕001号" }))).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        c["overpaid"],
        json!([{ "month": "2027-04", "paid": "3500.00", "due": null }]),
        "{c}"
    );

    // May's cycle settles April's instalment; the benefit stopped, May pays none; closed.
    let may = "/api/payment-cycles/360702/2027-05";
    for command in ["submit_summary", "submit_request"] {
        let (s, c) = call(
            p,
            "POST",
            &format!("{may}/steps"),
            &finance,
            Some(step(command)),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{c}");
    }
    let (s, c) = call(
        p,
        "POST",
        &format!("{may}/steps"),
        &officer,
        Some(step("approve_request")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["requests"][0]["amount"], "3500.00");
    f.clock.set(at("2027-05-13"));
    let (s, c) = call(p, "POST", &format!("{may}/steps"), &officer,
        Some(json!({ "command": "record_transfer",
            "transfer": { "amount": "3500.00", "on": "2027-05-13", "reference": "ZF20270513001" } }))).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    f.clock.set(at("2027-05-16"));
    swi_payment_batch::cycle_jobs::CyclePeriodic
        .run(p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    run_jobs(p).await;
    let (s, c) = call(
        p,
        "POST",
        &format!("{may}/steps"),
        &finance,
        Some(step("record_periodic_paid")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["periodic"]["lines"], 0, "stopped before May: {c}");
    let (s, c) = call(
        p,
        "POST",
        &format!("{may}/steps"),
        &officer,
        Some(step("close")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");

    // A return for a batch that does not exist is refused; nothing is recorded.
    let (s, e) = call(
        p,
        "POST",
        "/api/payments/batches/360702-20990101-D/returns",
        &finance,
        Some(json!({ "bank": "ccb", "sha256": "0".repeat(64) })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");

    // The books: every voucher balances, and what was paid is what the banks returned paid.
    let mut vouchers = Vec::new();
    for m in ["2027-03", "2027-04", "2027-05"] {
        for i in p
            .state
            .query_all(&Query::partition(format!("vouchers#{m}")).limit(100))
            .await
            .unwrap()
        {
            let posted: swi_ledger::Posted = i.body().unwrap();
            vouchers.push(posted.voucher);
        }
    }
    let tb = swi_ledger::TrialBalance::of(&vouchers);
    assert!(tb.balanced());
    let paid: Decimal = tb
        .rows
        .iter()
        .filter(|r| r.subject.code.starts_with("5001"))
        .map(|r| r.debits)
        .sum();
    assert_eq!(
        paid,
        "54000.00".parse::<Decimal>().unwrap(),
        "4 instalments of 3,500 paid, the 40,000 once"
    );
    let (s, books) = call(
        p,
        "GET",
        "/api/payments/books/2027-04?county=360702",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{books}");
    assert_eq!(books["balanced"], true, "{books}");
    let row = |code: &str| {
        books["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row("1101")["opening"],
        "-50500.00",
        "March's payouts owed to the contractor: {books}"
    );
    assert_eq!(row("1101")["closing"], "-3500.00");
    for format in ["xlsx", "pdf"] {
        let (s, _) = call(
            p,
            "GET",
            &format!("/api/payments/books/2027-04?county=360702&format={format}"),
            &finance,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{format}");
    }
    let (s, _) = call(p, "GET", "/api/payments/books/2027-04", &finance, None).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the city's books are the city's staff's"
    );

    let contractor = tb.rows.iter().find(|r| r.subject.code == "1101").unwrap();
    assert_eq!(
        contractor.debits - contractor.credits,
        Decimal::ZERO,
        "every month's payouts reimbursed by the next month's transfer"
    );
    let (s, may) = call(
        p,
        "GET",
        "/api/payments/books/2027-05?county=360702",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{may}");
    let closing = may["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "1101")
        .map(|r| r["closing"].clone());
    assert_eq!(closing, Some(json!("0.00")), "{may}");
    let (s, _) = call(
        p,
        "GET",
        "/api/payments/books/2099-01?county=360702",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "no books of the future");

    // The year's financial report (Art. 41), filed once the year has ended.
    let (s, a) = call(
        p,
        "GET",
        "/api/payments/annual-reports/2027?county=360702",
        &finance,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (
            a["benefits"].as_str(),
            a["received"].as_str(),
            a["closing_owed"].as_str()
        ),
        (Some("54000.00"), Some("54000.00"), Some("0.00")),
        "{a}"
    );
    let (s, e) = call(
        p,
        "POST",
        "/api/payments/annual-reports",
        &finance,
        Some(json!({ "county": "360702", "year": 2027 })),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not before the year ends: {e}"
    );
    f.clock.set(at("2028-01-05"));
    let (s, filed) = call(
        p,
        "POST",
        "/api/payments/annual-reports",
        &finance,
        Some(json!({ "county": "360702", "year": 2027 })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{filed}");
    let (s, _) = call(
        p,
        "POST",
        "/api/payments/annual-reports",
        &finance,
        Some(json!({ "county": "360702", "year": 2027 })),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "filed once");
    let (s, pdf) = call(
        p,
        "GET",
        "/api/payments/annual-reports/2027?county=360702&format=pdf",
        &officer,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(pdf.as_str().unwrap().starts_with("%PDF"));
}

/// A payroll of `n` benefits, every payee with an account at one of nine banks.
async fn payroll(p: &Platform, n: usize) {
    use swi_payables::account::{AccountKind, Bank, PayeeAccount};
    let mut items = Vec::new();
    for i in 0..n {
        let name = format!("收款人{i}");
        let payload = format!("6217{i:014}");
        let entry = swi_payment_batch::payroll::PayrollEntry {
            schedule: Schedule {
                id: format!("c-{i:05}/disability_allowance"),
                claim: format!("c-{i:05}"),
                injury: format!("i-{i:05}"),
                item: Item::DisabilityAllowance,
                county: zhanggong(),
                payee: Payee {
                    kind: PayeeKind::Person,
                    name: name.clone(),
                    unit: None,
                    id_number: Some(resident(&format!(
                        "360702195001{:02}{:03}",
                        i / 900 % 28 + 1,
                        i % 900
                    ))),
                },
                monthly: "1800.00".parse().unwrap(),
                start: d("2026-06-01"),
                ends: vec![ScheduleEnd::RecipientDies],
                basis: vec!["Art. 30".into()],
                assumptions: vec![],
                status: ScheduleStatus::Active,
            },
            account: Some(
                PayeeAccount::parse(
                    AccountKind::SocialSecurityCard,
                    Bank::ALL[i % Bank::ALL.len()],
                    "赣州分行",
                    &card(&payload),
                    &name,
                )
                .unwrap(),
            ),
            changes: vec![],
            taken_on: d("2026-07-01"),
            taken_for: None,
        };
        let payee = swi_payment_batch::model::payee_partition(p, &entry.schedule.payee).unwrap();
        if let swi_store::TxOp::Put { item, .. } =
            swi_payment_batch::payroll::entry_op(&entry, &payee, None).unwrap()
        {
            items.push(item);
        }
    }
    for chunk in items.chunks(500) {
        p.state.batch_put(chunk.to_vec()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_failing_one_line_in_every_part_is_requeued_within_each_transactions_limit() {
    let f = fixture("2027-03-16");
    let p = &f.platform;
    payroll(p, 3_600).await;
    let finance = token(p, "finance-1", "finance", "360702");
    let (s, _) = call(
        p,
        "POST",
        "/api/payments/runs",
        &finance,
        Some(json!({ "county": "360702", "kind": "periodic", "month": "2027-03" })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    run_jobs(p).await;
    let batch = "360702-202703-P";
    let (_, b) = call(
        p,
        "GET",
        &format!("/api/payments/batches/{batch}"),
        &finance,
        None,
    )
    .await;
    assert_eq!(b["lines"], 3_600, "{b}");
    // The bank of class 105 refuses the first line of every part: dozens of parts, one
    // failure each.
    let (s, _) = call(
        p,
        "POST",
        &format!("/api/payments/batches/{batch}/files"),
        &finance,
        Some(json!({ "bank": "ccb", "format": "csv" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let parts = swi_payment_batch::bank_files::parts_of(p, batch, swi_payables::account::Bank::Ccb)
        .await
        .unwrap();
    assert!(parts.len() >= 35, "{} parts", parts.len());
    let first: std::collections::HashSet<String> = parts
        .iter()
        .map(|(pt, _)| pt.lines[0].line.clone())
        .collect();
    let (_, text) = call(
        p,
        "GET",
        &format!("/api/payments/batches/{batch}/files/105"),
        &finance,
        None,
    )
    .await;
    let mut out = String::new();
    for (i, line) in text.as_str().unwrap().lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("{line},result,reason\n"));
            continue;
        }
        let reference = line.split(',').nth(2).unwrap();
        let id = reference.split('#').next().unwrap();
        out.push_str(line);
        out.push_str(if first.contains(id) {
            ",失败,账户冻结\n"
        } else {
            ",成功,\n"
        });
    }
    let sha = swi_platform::documents::received(p, "finance-1", &mut out.as_bytes(), 1 << 22)
        .await
        .unwrap();
    let (s, imp) = call(
        p,
        "POST",
        &format!("/api/payments/batches/{batch}/returns"),
        &finance,
        Some(json!({ "bank": "ccb", "sha256": sha.hex() })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{imp}");
    run_jobs(p).await;
    let (_, r) = call(
        p,
        "GET",
        &format!("/api/payments/batches/{batch}/returns/105"),
        &finance,
        None,
    )
    .await;
    assert_eq!(r["phase"], "done", "{r}");
    assert_eq!(r["failed_lines"], first.len());
    let (_, due) = call(p, "GET", "/api/payments/due?county=360702", &finance, None).await;
    assert_eq!(
        due["waiting"].as_array().unwrap().len(),
        first.len(),
        "every failed line queued once"
    );
    // The refused account takes no more instalments until it is recorded again.
    let one = first.iter().next().unwrap();
    let (_, line) = call(
        p,
        "GET",
        &format!("/api/payments/lines/{one}"),
        &finance,
        None,
    )
    .await;
    assert_eq!(line["status"], "failed", "{line}");
    let schedule = match line["source"]["schedule"].as_str() {
        Some(s) => s.to_owned(),
        None => panic!("{line}"),
    };
    let (entry, _) = swi_payment_batch::payroll::load(p, zhanggong(), &schedule)
        .await
        .unwrap()
        .unwrap();
    assert!(
        entry.account.is_none(),
        "the payroll waits for the account to be corrected"
    );
}

#[tokio::test]
async fn a_line_past_its_ten_working_days_is_alerted_once_and_one_within_them_is_not() {
    // The funeral grant approved on 1 March 2027 is due by the 15th (Art. 38); its payee has no
    // account yet, so it waits in the queue.
    let f = fixture("2027-03-10");
    let p = &f.platform;
    seed(p).await;
    let far = Instant::now() + Duration::from_secs(60);
    // The payment step's line of it.
    let alert = swi_platform::alerts::alert_key("payment_overdue:ls:c-9:funeral");
    swi_payment_batch::runs::PaymentBatch
        .run(p, far)
        .await
        .unwrap();
    assert!(
        p.state.get(&alert).await.unwrap().is_none(),
        "within its days"
    );
    f.clock.set(at("2027-03-16"));
    swi_payment_batch::runs::PaymentBatch
        .run(p, far)
        .await
        .unwrap();
    let raised: swi_platform::alerts::Alert = p
        .state
        .get(&alert)
        .await
        .unwrap()
        .expect("past its days: alerted")
        .body()
        .unwrap();
    assert_eq!(raised.kind, "payment_overdue");
    assert_eq!(raised.basis.as_deref(), Some("Art. 38"));
    assert_eq!(raised.evidence["due"], "2027-03-15");
    // The next day's run raises nothing twice.
    f.clock.set(at("2027-03-17"));
    swi_payment_batch::runs::PaymentBatch
        .run(p, far)
        .await
        .unwrap();
    let events = swi_platform::mutation::events(p, "alert#payment_overdue:ls:c-9:funeral")
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}
