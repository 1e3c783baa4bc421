//! The monthly billing run survives SIGKILL at any point: `swi run billing --month` is killed
//! at spread-out moments at least twenty times while it bills a population of units, then run to
//! the end; every person is billed exactly once, every bill's total is the sum of its lines, and
//! the run's own counts agree with what is stored. Run once more, it writes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

#[path = "../../premium-billing/benches/population.rs"]
mod population;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rust_decimal::Decimal;
use swi_store::{Query, SkRange, StateStore};

fn swi(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swi"));
    c.args(["run", "billing", "--month", population::MONTH])
        .env("SWI_TODAY", population::TODAY)
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

async fn run_record(state: &dyn StateStore) -> Option<serde_json::Value> {
    state
        .get(&swi_premium_billing::run::run_key(population::month()))
        .await
        .unwrap()
        .map(|i| i.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billing_run_killed_again_and_again_bills_everyone_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (units, per_unit) = (400, 250);
    let expected = {
        let (state, _) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
        population::seed(&*state, units, per_unit).await
    };
    let (state, _) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();

    // Kill it at moments spread from before it opens the month to deep into the run (a fixed
    // pseudo-random sequence, so that a failure repeats).
    let mut seed: u64 = 0x5eed_b111;
    let mut kills = 0;
    let mut killed_mid_run = 0;
    let mut progress = Vec::new();
    for _ in 0..40 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let wait = 30 + (seed >> 33) % 300;
        let mut child = swi(dir.path()).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if child.try_wait().unwrap().is_some() {
            break; // it finished before the kill
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        if let Some(run) = run_record(&*state).await {
            if run["status"] == "running" {
                killed_mid_run += 1;
                progress.push(run["persons"].as_u64().unwrap());
            } else {
                break;
            }
        }
    }
    assert!(
        kills >= 20,
        "only {kills} kills landed before the run ended"
    );
    assert!(
        killed_mid_run >= 10,
        "only {killed_mid_run} kills landed mid-run"
    );
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress went back: {progress:?}"
    );

    // Run to the end.
    let status = swi(dir.path()).status().unwrap();
    assert!(status.success());
    let run = run_record(&*state).await.unwrap();
    assert_eq!(run["status"], "done");
    assert_eq!(run["persons"].as_u64().unwrap() as usize, expected, "{run}");
    assert_eq!(run["bills"].as_u64().unwrap() as usize, units);

    // Exactly once: the lines stored are the persons billed, and each bill adds up.
    let mut lines = 0;
    let mut total = Decimal::ZERO;
    for i in 0..units {
        let id = format!("b-202603-{}", population::unit_code(i));
        let bill = state
            .get(&swi_bills::bill::bill_key(&id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no bill {id}"));
        let items = state
            .query_all(
                &Query::partition(format!("bill#{id}"))
                    .range(SkRange::Prefix("line#".into()))
                    .limit(1000),
            )
            .await
            .unwrap();
        let sum: Decimal = items
            .iter()
            .map(|l| Decimal::from_str_exact(l.body["amount"].as_str().unwrap()).unwrap())
            .sum();
        assert_eq!(items.len(), population::billed_of(per_unit), "{id}");
        assert_eq!(
            bill.body["lines"].as_u64().unwrap() as usize,
            items.len(),
            "{id}"
        );
        assert_eq!(
            Decimal::from_str_exact(bill.body["amount"].as_str().unwrap()).unwrap(),
            sum,
            "{id}"
        );
        lines += items.len();
        total += sum;
    }
    assert_eq!(lines, expected);
    assert_eq!(
        Decimal::from_str_exact(run["amount"].as_str().unwrap()).unwrap(),
        total
    );

    // Once more: nothing written.
    let before = state.count().await.unwrap();
    assert!(swi(dir.path()).status().unwrap().success());
    assert_eq!(state.count().await.unwrap(), before);
    eprintln!(
        "{kills} kills ({killed_mid_run} mid-run, at {progress:?} persons); {expected} persons billed once"
    );
}
