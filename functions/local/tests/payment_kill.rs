//! The payment step survives SIGKILL at any point: `swi run payment-runs` (putting approved
//! lump sums and a month's instalments into batches) and then `swi run payment-returns`
//! (applying the banks' returns) are killed at random moments, each run a fraction of a second,
//! at least fifty times in all, and re-run each time until done. Every approved line is then in
//! exactly one batch, paid exactly once, and the paid total — in the batches, in the returns and
//! in the books — equals the approved total.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, NaiveDate};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use swi_payables::account::{AccountKind, Bank, PayeeAccount, luhn_check_digit};
use swi_payables::{
    LineStatus, PayableLine, Payee, PayeeKind, Schedule, ScheduleEnd, ScheduleStatus,
};
use swi_payment_batch::model::{Batch, BatchStatus, payee_partition};
use swi_payment_batch::runs::{Phase, RunKind};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_rules::benefits::Item;
use swi_rules::ids::County;
use swi_store::{Index, Query, SkRange};
use tower::ServiceExt;

const TODAY: &str = "2027-03-16";

static KEYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
const LUMP_SUMS: usize = 4_000;
const SCHEDULES: usize = 4_000;

fn swi(dir: &Path, job: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swi"));
    c.args(["run", job])
        .env("SWI_TODAY", TODAY)
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn county() -> County {
    County::parse("360702").unwrap()
}

fn resident(i: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let born = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new((i / 500) as u64);
    let body = format!("360702{}{:03}", born.format("%Y%m%d"), i % 500);
    let s: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", C[(s % 11) as usize] as char)
}

fn payee(i: usize) -> Payee {
    Payee {
        kind: PayeeKind::Person,
        name: format!("收款人{i}"),
        unit: None,
        id_number: Some(resident(i)),
    }
}

fn account(i: usize) -> PayeeAccount {
    let payload = format!("6217{:014}", i);
    let number = format!("{payload}{}", luhn_check_digit(&payload).unwrap());
    let bank = Bank::ALL[i % Bank::ALL.len()];
    PayeeAccount::parse(
        AccountKind::SocialSecurityCard,
        bank,
        "赣州分行",
        &number,
        &format!("收款人{i}"),
    )
    .unwrap()
}

fn platform(dir: &Path) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::local(dir).unwrap()),
        clock: Arc::new(swi_platform::clock::FixedClock(
            DateTime::parse_from_rfc3339(&format!("{TODAY}T09:30:00+08:00")).unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

/// Approved lump sums and schedules, every payee with an account; returns the approved total.
async fn seed(p: &Platform) -> (Decimal, usize) {
    let on: NaiveDate = TODAY.parse().unwrap();
    let mut total = Decimal::ZERO;
    let mut ops = Vec::new();
    for i in 0..LUMP_SUMS + SCHEDULES {
        let payee = payee(i);
        let pp = payee_partition(p, &payee).unwrap();
        let (_, op) = swi_payment_batch::accounts::record_op(
            &pp,
            account(i),
            None,
            on,
            on.and_hms_opt(8, 0, 0).unwrap(),
            "seed".into(),
        )
        .unwrap();
        ops.push(op);
        let amount = Decimal::new(100_000 + i as i64 * 7, 2);
        total += amount;
        if i < LUMP_SUMS {
            ops.push(
                swi_payables::line_put(&PayableLine {
                    id: format!("c-{i}/funeral"),
                    claim: format!("c-{i}"),
                    injury: format!("i-{i}"),
                    item: Item::Funeral,
                    county: county(),
                    payee,
                    amount,
                    approved_on: on,
                    due: "2027-03-30".parse().unwrap(),
                    basis: vec!["Art. 32".into()],
                    assumptions: vec![],
                    status: LineStatus::Open,
                })
                .unwrap(),
            );
        } else {
            ops.push(
                swi_payables::schedule_put(&Schedule {
                    id: format!("c-{i}/disability_allowance"),
                    claim: format!("c-{i}"),
                    injury: format!("i-{i}"),
                    item: Item::DisabilityAllowance,
                    county: county(),
                    payee,
                    monthly: amount,
                    start: "2027-03-02".parse().unwrap(),
                    ends: vec![ScheduleEnd::RecipientDies],
                    basis: vec!["Art. 30".into()],
                    assumptions: vec![],
                    status: ScheduleStatus::Active,
                })
                .unwrap(),
            );
        }
        if ops.len() >= 90 {
            p.state.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    p.state.transact(ops).await.unwrap();
    (total, LUMP_SUMS + SCHEDULES)
}

/// Runs `job` killed at pseudo-random moments until `done` says it finished; returns the kills
/// that landed while it was still working.
async fn kill_until_done<F, Fut>(dir: &Path, job: &str, seed: &mut u64, done: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut kills = 0;
    for _ in 0..400 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let wait = 10 + (*seed >> 33) % 150;
        let mut child = swi(dir, job).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            if !done().await {
                kills += 1;
            }
        }
        if done().await {
            return kills;
        }
    }
    panic!("{job} did not finish in 400 runs");
}

async fn call(p: &Platform, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let now = chrono::Utc::now().timestamp();
    let token = p
        .tokens
        .mint(&Claims {
            sub: "finance-1".into(),
            role: "finance".into(),
            county: "360702".into(),
            name: "财务".into(),
            unit: None,
            iss: ISSUER.into(),
            iat: now,
            exp: now + 3600,
        })
        .unwrap();
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json").header(
            "idempotency-key",
            format!(
                "key-{:08}",
                KEYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
        );
    }
    let res = swi_payment_batch::router(p.clone())
        .oneshot(
            req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn batches(p: &Platform) -> Vec<Batch> {
    p.state
        .query_index_all(Index::Gsi1, &Query::partition("batches#360702").limit(100))
        .await
        .unwrap()
        .iter()
        .map(|i| i.body().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_killed_again_and_again_pay_every_approved_line_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let (approved, lines) = seed(&p).await;
    let today: NaiveDate = TODAY.parse().unwrap();
    let job = swi_platform::jobs::job_actor("test", "测试");
    for kind in [RunKind::Daily, RunKind::Periodic] {
        swi_payment_batch::runs::open(&p, &job, county(), kind, today)
            .await
            .unwrap();
    }
    let mut seed = 0x5eed_ba7c_u64;

    // Batching, killed again and again.
    let runs_done = || async {
        let mut done = true;
        for kind in [RunKind::Daily, RunKind::Periodic] {
            let (run, _) = swi_payment_batch::runs::load_run(
                &p,
                county(),
                kind,
                if kind == RunKind::Daily {
                    today
                } else {
                    swi_rules::billing::month_of(today)
                },
            )
            .await
            .unwrap()
            .unwrap();
            done &= run.phase == Phase::Done;
        }
        done
    };
    let batching_kills = kill_until_done(dir.path(), "payment-runs", &mut seed, runs_done).await;

    // The banks' returns, every line paid, applied while killed again and again.
    let all = batches(&p).await;
    assert_eq!(
        all.len(),
        2,
        "the day's batch and the month's periodic batch"
    );
    for b in &all {
        assert_eq!(b.status, BatchStatus::Sealed, "{}", b.id);
        for bank in b.banks.keys() {
            let parts = swi_payment_batch::bank_files::parts_of(&p, &b.id, *bank)
                .await
                .unwrap();
            let file =
                swi_payment_batch::bank_files::payment_file(b, &parts, swi_tables::Format::Csv)
                    .unwrap();
            let text = String::from_utf8(file).unwrap();
            let mut out = String::new();
            for (i, line) in text.lines().enumerate() {
                out.push_str(line);
                out.push_str(if i == 0 {
                    ",result,reason\n"
                } else {
                    ",成功,\n"
                });
            }
            let (s, made) = call(
                &p,
                "POST",
                &format!("/api/payments/batches/{}/files", b.id),
                Some(json!({ "bank": bank, "format": "csv" })),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{made}");
            let sha =
                swi_platform::documents::received(&p, "finance-1", &mut out.as_bytes(), 64 << 20)
                    .await
                    .unwrap();
            let (s, r) = call(
                &p,
                "POST",
                &format!("/api/payments/batches/{}/returns", b.id),
                Some(json!({ "bank": bank, "sha256": sha.hex() })),
            )
            .await;
            assert_eq!(s, StatusCode::ACCEPTED, "{r}");
        }
    }
    let returns_done = || async {
        batches(&p)
            .await
            .iter()
            .all(|b| b.status == BatchStatus::Returned)
    };
    let return_kills =
        kill_until_done(dir.path(), "payment-returns", &mut seed, returns_done).await;
    let kills = batching_kills + return_kills;
    assert!(
        kills >= 50,
        "only {kills} kills landed mid-work ({batching_kills} batching, {return_kills} returns)"
    );

    // Exactly once: every line in one part of one batch, once; nothing left waiting.
    let mut seen = HashSet::new();
    let mut in_parts = Decimal::ZERO;
    let mut paid = Decimal::ZERO;
    for b in batches(&p).await {
        for (bank, share) in &b.banks {
            paid += share.paid_amount;
            assert_eq!(share.failed_lines, 0);
            for (part, _) in swi_payment_batch::bank_files::parts_of(&p, &b.id, *bank)
                .await
                .unwrap()
            {
                assert!(part.returned.is_some(), "{} {}", b.id, part.n);
                for l in &part.lines {
                    assert!(seen.insert(l.line.clone()), "{} batched twice", l.line);
                    assert_eq!(l.attempt, 1);
                    in_parts += l.amount;
                }
            }
        }
    }
    assert_eq!(seen.len(), lines, "every approved line batched");
    assert_eq!(in_parts, approved);
    assert_eq!(paid, approved, "the paid total is the approved total");
    for pk in ["payables#360702", "schedules#360702"] {
        let left = p
            .state
            .query_index(Index::Gsi1, &Query::partition(pk).limit(10))
            .await
            .unwrap();
        assert!(left.items.is_empty(), "{pk} has sources not taken");
    }
    let queue = p
        .state
        .query(&Query::partition("payq#360702").limit(10))
        .await
        .unwrap();
    assert!(queue.items.is_empty());
    let mut booked = Decimal::ZERO;
    for v in p
        .state
        .query_all(
            &Query::partition("vouchers#2027-03")
                .range(SkRange::All)
                .limit(1000),
        )
        .await
        .unwrap()
    {
        let posted: swi_ledger::Posted = v.body().unwrap();
        assert!(posted.id.starts_with("return:"));
        booked += posted
            .voucher
            .entries
            .iter()
            .filter(|e| e.account.starts_with("5001"))
            .map(|e| e.amount)
            .sum::<Decimal>();
    }
    assert_eq!(booked, approved, "the books paid what was approved, once");
    eprintln!(
        "{kills} kills mid-work ({batching_kills} while batching, {return_kills} while applying returns); {lines} lines approved, {} paid once, {approved} approved = {paid} paid = {booked} booked",
        seen.len()
    );
}
