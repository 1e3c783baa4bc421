//! A month's payment cycle at scale (run `cargo bench -p swi-payment-batch --bench cycle
//! [-- LINES]`, release; default 100,000): figures printed beside a baseline measured in the
//! same run, never asserted.
//!
//! 1. The baseline: the same number of payment lines, as stored, written to an embedded store
//!    in transactions of the same size, with nothing read or decided.
//! 2. The cycle on an embedded store holding a payroll of that many periodic benefits, every
//!    payee with an account: the month's run (each instalment decided, batched in parts per
//!    bank), the payment file of every bank, the banks' returns checked whole and applied (the
//!    parts marked returned, vouchers posted), and the month's summary read back from the
//!    books. Time, its ratio to the baseline, and store writes per line.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::float_arithmetic,
    reason = "a benchmark prints its figures (in floating point, never money) and fails loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use swi_payables::account::{AccountKind, Bank, PayeeAccount, luhn_check_digit};
use swi_payables::{Payee, PayeeKind, Schedule, ScheduleEnd, ScheduleStatus};
use swi_payment_batch::model::{PaymentLine, Source, line_op, payee_partition};
use swi_payment_batch::payroll::{PayrollEntry, entry_op};
use swi_payment_batch::returns::{ReturnImport, ReturnPhase, import_op, pointer_op};
use swi_payment_batch::runs::{RunKind, work};
use swi_platform::Platform;
use swi_platform::auth::TokenKeys;
use swi_platform::clock::FixedClock;
use swi_rules::benefits::Item;
use swi_rules::ids::County;
use swi_store::state::MAX_TRANSACTION_OPS;
use swi_store::{StateStore, TxOp};

const TODAY: &str = "2027-03-16";

fn platform(dir: &std::path::Path) -> (Platform, Arc<swi_store_embedded::EmbeddedState>) {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    (
        Platform {
            state: state.clone(),
            docs,
            tokens: Arc::new(TokenKeys::from_secret(b"bench secret: 32 bytes at least!")),
            persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
            clock: Arc::new(FixedClock(
                DateTime::parse_from_rfc3339(&format!("{TODAY}T09:30:00+08:00")).unwrap(),
            )),
            base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
            city_params: Default::default(),
            public_url: String::new(),
        },
        state,
    )
}

fn county() -> County {
    County::parse("360702").unwrap()
}

fn resident(i: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let born = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new((i / 900) as u64);
    let body = format!("360702{}{:03}", born.format("%Y%m%d"), i % 900);
    let s: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", C[(s % 11) as usize] as char)
}

fn entry(i: usize) -> PayrollEntry {
    let payload = format!("6217{i:014}");
    let number = format!("{payload}{}", luhn_check_digit(&payload).unwrap());
    let name = format!("收款人{i}");
    PayrollEntry {
        schedule: Schedule {
            id: format!("c-{i:07}/disability_allowance"),
            claim: format!("c-{i:07}"),
            injury: format!("i-{i:07}"),
            item: if i.is_multiple_of(3) {
                Item::LivingCare
            } else {
                Item::DisabilityAllowance
            },
            county: county(),
            payee: Payee {
                kind: PayeeKind::Person,
                name: name.clone(),
                unit: None,
                id_number: Some(resident(i)),
            },
            monthly: Decimal::new(150_000 + (i as i64 % 2_000) * 37, 2),
            start: "2026-06-01".parse().unwrap(),
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
                &number,
                &name,
            )
            .unwrap(),
        ),
        changes: Vec::new(),
        taken_on: "2026-07-01".parse().unwrap(),
        taken_for: None,
    }
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

async fn seed(p: &Platform, state: &swi_store_embedded::EmbeddedState, n: usize) {
    let mut items = Vec::with_capacity(1000);
    for i in 0..n {
        let e = entry(i);
        let payee = payee_partition(p, &e.schedule.payee).unwrap();
        if let TxOp::Put { item, .. } = entry_op(&e, &payee, None).unwrap() {
            items.push(item);
        }
        if items.len() == 1000 {
            state.batch_put(std::mem::take(&mut items)).await.unwrap();
        }
    }
    state.batch_put(items).await.unwrap();
}

/// The baseline: `n` lines as the run stores them, written in transactions of the run's size.
async fn baseline(p: &Platform, n: usize) -> Duration {
    let month: NaiveDate = "2027-03-01".parse().unwrap();
    let lines: Vec<(PaymentLine, String)> = (0..n)
        .map(|i| {
            let e = entry(i);
            let payee = payee_partition(p, &e.schedule.payee).unwrap();
            let mut state = swi_domain::payment::Line::new();
            state = state
                .next(swi_domain::payment::LineEvent::AccountVerified)
                .unwrap();
            state = state.next(swi_domain::payment::LineEvent::Batch).unwrap();
            (
                PaymentLine {
                    id: swi_payment_batch::payroll::instalment_id(&e.schedule.id, month),
                    source: Source::Instalment {
                        schedule: e.schedule.id.clone(),
                        claim: e.schedule.claim.clone(),
                        month,
                    },
                    county: county(),
                    item: Some(e.schedule.item),
                    payee: e.schedule.payee.clone(),
                    amount: e.schedule.monthly,
                    approved_on: month,
                    due: "2027-03-20".parse().unwrap(),
                    state,
                    account: e.account.clone(),
                    batch: Some(("360702-202703-P".into(), "part#105#000001".into())),
                    failures: Vec::new(),
                    basis: e.schedule.basis.clone(),
                },
                payee,
            )
        })
        .collect();
    let per_tx = swi_payment_batch::model::PART_LINES;
    let t = Instant::now();
    for chunk in lines.chunks(per_tx) {
        let ops: Vec<TxOp> = chunk
            .iter()
            .map(|(l, payee)| line_op(l, payee, None).unwrap())
            .collect();
        assert!(ops.len() <= MAX_TRANSACTION_OPS);
        p.state.transact(ops).await.unwrap();
    }
    t.elapsed()
}

struct Cycle {
    run: Duration,
    files: Duration,
    returns: Duration,
    summary: Duration,
    lines: u64,
    paid: Decimal,
}

async fn cycle(p: &Platform) -> Cycle {
    let month: NaiveDate = "2027-03-01".parse().unwrap();
    let far = Instant::now() + Duration::from_secs(3600);
    let actor = swi_platform::jobs::job_actor("bench", "bench");
    let t = Instant::now();
    swi_payment_batch::runs::open(p, &actor, county(), RunKind::Periodic, month)
        .await
        .unwrap();
    let w = work(p, county(), RunKind::Periodic, month, far)
        .await
        .unwrap();
    assert!(w.finished);
    let run = t.elapsed();

    let id = swi_payment_batch::runs::batch_id(county(), RunKind::Periodic, month);
    let (batch, _) = swi_payment_batch::model::load_batch(p, &id)
        .await
        .unwrap()
        .unwrap();
    let t = Instant::now();
    let mut files = Vec::new();
    for bank in batch.banks.keys() {
        let parts = swi_payment_batch::bank_files::parts_of(p, &id, *bank)
            .await
            .unwrap();
        let file =
            swi_payment_batch::bank_files::payment_file(&batch, &parts, swi_tables::Format::Csv)
                .unwrap();
        files.push((*bank, file));
    }
    let files_took = t.elapsed();

    // The banks' answers (made outside the timing), then recorded and applied.
    let mut answers = Vec::new();
    for (bank, file) in &files {
        let text = String::from_utf8(file.clone()).unwrap();
        let mut out = String::with_capacity(text.len() + text.lines().count() * 12);
        for (i, line) in text.lines().enumerate() {
            out.push_str(line);
            out.push_str(if i == 0 {
                ",result,reason\n"
            } else {
                ",成功,\n"
            });
        }
        answers.push((*bank, out));
    }
    let t = Instant::now();
    for (bank, out) in &answers {
        let meta = p.docs.put(&mut out.as_bytes()).await.unwrap();
        let table = swi_tables::read(out.as_bytes(), &swi_payment_batch::returns::LIMITS).unwrap();
        let parts = swi_payment_batch::bank_files::parts_of(p, &id, *bank)
            .await
            .unwrap();
        let checked = swi_payment_batch::bank_files::check(&table, &batch, &parts)
            .unwrap()
            .unwrap();
        let imp = ReturnImport {
            batch: id.clone(),
            bank: *bank,
            sha256: meta.sha256.hex(),
            rows: checked.rows,
            paid_lines: 0,
            paid_amount: Decimal::ZERO,
            failed_lines: 0,
            failed_amount: Decimal::ZERO,
            phase: ReturnPhase::Mark,
            cursor: 0,
            within: 0,
            on: "2027-03-18".parse().unwrap(),
            at: "2027-03-18T10:00:00".parse().unwrap(),
            by: "bench".into(),
        };
        p.state
            .transact(vec![
                import_op(&imp, None).unwrap(),
                pointer_op(&imp).unwrap(),
            ])
            .await
            .unwrap();
        let (_, done) = swi_payment_batch::returns::apply(p, &id, *bank, far)
            .await
            .unwrap();
        assert!(done);
    }
    let returns = t.elapsed();

    let t = Instant::now();
    let s = swi_payment_batch::cycle::summarise(p, county(), month)
        .await
        .unwrap();
    let summary = t.elapsed();
    Cycle {
        run,
        files: files_took,
        returns,
        summary,
        lines: batch.lines,
        paid: s.total,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(100_000);
    println!(
        "payment cycle: {n} periodic benefits, one county, nine banks, every payee with an account"
    );

    let base_dir = tempfile::tempdir().unwrap();
    let (bp, bstate) = platform(base_dir.path());
    seed(&bp, &bstate, n).await;
    let base = baseline(&bp, n).await;
    println!(
        "baseline  write {n} lines, {} per transaction, nothing read: {:.2} s ({:.0} lines/s)",
        swi_payment_batch::model::PART_LINES,
        base.as_secs_f64(),
        per_second(n, base)
    );

    let dir = tempfile::tempdir().unwrap();
    let (p, state) = platform(dir.path());
    seed(&p, &state, n).await;
    let before = state.count().await.unwrap();
    let c = cycle(&p).await;
    let written = state.count().await.unwrap() - before;
    let total = c.run + c.files + c.returns + c.summary;
    assert_eq!(c.lines as usize, n);
    println!(
        "cycle     run {:.2} s, bank files {:.2} s, returns {:.2} s, summary {:.2} s: {:.2} s = {:.2}× the baseline",
        c.run.as_secs_f64(),
        c.files.as_secs_f64(),
        c.returns.as_secs_f64(),
        c.summary.as_secs_f64(),
        total.as_secs_f64(),
        total.as_secs_f64() / base.as_secs_f64().max(1e-9)
    );
    println!(
        "          {} lines batched and paid, {} yuan; {written} items written = {:.3} per line (the audit trail included)",
        c.lines,
        c.paid,
        written as f64 / n as f64
    );
}
