//! The monthly run at scale (run `cargo bench -p swi-premium-billing --bench billing
//! [-- PERSONS UNITS]`, release; default 1,000,000 persons in 20,000 units): figures printed
//! beside baselines measured in the same run, never asserted.
//!
//! 1. The rule step alone, in memory, on the same persons: the month's table applied to each
//!    roster entry (premium only, then the whole line as stored).
//! 2. The baseline: the same number of bill lines written to an embedded store seeded the same
//!    way, in transactions of the same size, with no reading and no rule evaluation.
//! 3. The monthly run on the embedded store: time, its ratio to the baseline, and store writes
//!    per person billed (items written over persons; no item is read per person).

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::float_arithmetic,
    reason = "a benchmark prints its figures (in floating point, never money) and fails loudly"
)]

mod population;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::DateTime;
use rust_decimal::Decimal;
use swi_bills::issue::line_op;
use swi_bills::lines::{Rating, line};
use swi_platform::Platform;
use swi_platform::auth::TokenKeys;
use swi_platform::clock::FixedClock;
use swi_rules::ParamSet;
use swi_rules::billing::MonthTable;
use swi_rules::category::IndustryClass;
use swi_store::StateStore;
use swi_store::state::MAX_TRANSACTION_OPS;

fn platform(
    state: Arc<swi_store_embedded::EmbeddedState>,
    docs: Arc<swi_store_embedded::EmbeddedDocuments>,
) -> Platform {
    Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"bench secret: 32 bytes at least!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(FixedClock(
            DateTime::parse_from_rfc3339(&format!("{}T09:30:00+08:00", population::TODAY)).unwrap(),
        )),
        base_params: Arc::new(ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

fn rating(i: usize) -> Rating {
    let u = population::unit(i);
    Rating {
        class: Some(IndustryClass::new(u.industry_class).unwrap()),
        band: Some(u.rate_band),
    }
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let persons = args.first().copied().unwrap_or(1_000_000);
    let units = args.get(1).copied().unwrap_or(20_000).max(1);
    // Enough roster entries per unit that `persons` of them are billed (7 in 10 are).
    let per_unit = (1..)
        .find(|n| population::billed_of(*n) * units >= persons)
        .unwrap_or(1);
    println!(
        "billing bench: {units} units × {per_unit} roster entries (7 in 10 billed in {})",
        population::MONTH
    );

    // 1. The rule step alone, in memory.
    let params = ParamSet::builtin().unwrap();
    let table = MonthTable::new(params, population::month()).unwrap();
    let mut entries = Vec::with_capacity(units * per_unit);
    for i in 0..units {
        let r = rating(i);
        for j in 0..per_unit {
            entries.push((r, population::member(i, j)));
        }
    }
    let t = Instant::now();
    let mut total = Decimal::ZERO;
    let mut billed = 0usize;
    for (r, m) in &entries {
        let days = swi_bills::lines::billed_days(m, table.month(), false);
        if days > 0 {
            let band = r.band.filter(|_| m.category.fixed_class().is_none());
            let class = r.class.filter(|_| m.category.fixed_class().is_none());
            total += table
                .bill(m.category, class, band, m.declared_wage, days)
                .unwrap()
                .amount;
            billed += 1;
        }
    }
    let rules = t.elapsed();
    let t = Instant::now();
    let mut lines = Vec::with_capacity(billed);
    for (r, m) in &entries {
        if let Some(l) = line(&table, m, *r, false).unwrap() {
            lines.push(l);
        }
    }
    let lines_time = t.elapsed();
    println!(
        "rules alone, in memory: {} entries, {billed} billed, {total} yuan in {:.3} s ({:.1} M entries/s); building the stored lines too: {:.3} s",
        entries.len(),
        rules.as_secs_f64(),
        per_second(entries.len(), rules) / 1e6,
        lines_time.as_secs_f64()
    );
    drop(entries);

    // 2. The baseline: the same lines, written in full transactions to a store seeded the same
    //    way, nothing read or computed.
    let base_dir = tempfile::tempdir().unwrap();
    let (base, _) = swi_store_embedded::open(base_dir.path(), "http://127.0.0.1:1").unwrap();
    population::seed(&*base, units, per_unit).await;
    let t = Instant::now();
    let per_tx = MAX_TRANSACTION_OPS - 2;
    for (n, chunk) in lines.chunks(per_tx).enumerate() {
        let bill = format!("b-202603-{n:08}");
        let ops = chunk.iter().map(|l| line_op(&bill, l).unwrap()).collect();
        base.transact(ops).await.unwrap();
    }
    let baseline = t.elapsed();
    println!(
        "baseline, {} lines written in transactions of {per_tx}: {:.2} s ({:.0} lines/s)",
        lines.len(),
        baseline.as_secs_f64(),
        per_second(lines.len(), baseline)
    );
    drop(lines);
    drop(base);
    drop(base_dir);

    // 3. The run on a seeded store.
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let t = Instant::now();
    let expected = population::seed(&*state, units, per_unit).await;
    println!(
        "seeded {} roster entries in {:.1} s",
        units * per_unit,
        t.elapsed().as_secs_f64()
    );
    let p = platform(state.clone(), docs);
    let before = state.count().await.unwrap();
    let actor = swi_platform::jobs::job_actor("billing", "bench");
    let t = Instant::now();
    swi_premium_billing::run::open(&p, &actor, population::month())
        .await
        .unwrap();
    let w = swi_premium_billing::run::work(
        &p,
        population::month(),
        Instant::now() + Duration::from_secs(36_000),
        &mut |_| {},
    )
    .await
    .unwrap();
    let run = t.elapsed();
    assert!(w.finished);
    assert_eq!(w.persons as usize, expected);
    let written = state.count().await.unwrap() - before;
    let (r, _) = swi_premium_billing::run::load_run(&p, population::month())
        .await
        .unwrap()
        .unwrap();
    println!(
        "monthly run: {} persons, {} bills, {} yuan in {:.2} s ({:.0} persons/s) — {:.2}× the baseline (goal: within 2×)",
        r.persons,
        r.bills,
        r.amount,
        run.as_secs_f64(),
        per_second(expected, run),
        run.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "store writes per person billed: {:.3} ({written} items in {} transactions; reads: one roster page per unit, none per person)",
        written as f64 / expected as f64,
        r.transactions
    );
}
