//! Crash safety of the embedded store: a child process commits transactions and stores documents
//! in a loop and is killed with SIGKILL at random moments, again and again. After each kill the
//! store is reopened and must hold every transaction wholly or not at all, every document under
//! its true hash, and every document a committed transaction refers to.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use swi_store::docs::{Documents, Sha256};
use swi_store::state::{Condition, Item, Key, Query, StateStore, TxOp};

const ROUNDS: u32 = 12;
const CHILD_ENV: &str = "SWI_CRASH_TEST_DIR";

/// The deterministic document of transaction `i`: up to ~1.5 MB, so kills land mid-write.
fn document(i: u64) -> Vec<u8> {
    let len = 1000 + (i * 7919 % 1_500_000) as usize;
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect()
}

async fn next_index(state: &dyn StateStore) -> u64 {
    let page = state
        .query(&Query::partition("log").backward().limit(1))
        .await
        .unwrap();
    page.items
        .first()
        .map_or(0, |i| i.sk.parse::<u64>().unwrap() + 1)
}

/// The child: stores a document, then commits one transaction of three items naming it, forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs only as the child process of the crash test"]
async fn crash_worker() {
    let dir = std::env::var(CHILD_ENV).expect("the crash test sets the data directory");
    let (state, docs) = swi_store_embedded::open(Path::new(&dir), "http://127.0.0.1:1").unwrap();
    let mut i = next_index(state.as_ref()).await;
    loop {
        let body = document(i);
        let meta = docs.put(&mut body.as_slice()).await.unwrap();
        let doc = json!({ "i": i, "sha256": meta.sha256.hex(), "pad": "填".repeat(200) });
        let ops = vec![
            TxOp::Put {
                item: Item::new(format!("tx#{i}"), "a", &doc).unwrap(),
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: Item::new(format!("tx#{i}"), "b", &doc).unwrap(),
                condition: Condition::NotExists,
            },
            TxOp::Put {
                item: Item::new("log", format!("{i:012}"), &doc).unwrap(),
                condition: Condition::NotExists,
            },
        ];
        state.transact(ops).await.unwrap();
        i += 1;
    }
}

async fn check_consistent(dir: &Path) -> u64 {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    let mut committed = 0;
    let mut cursor = None;
    loop {
        let page = state
            .query(&Query::partition("log").limit(500).after(cursor))
            .await
            .unwrap();
        for entry in &page.items {
            let i: u64 = entry.sk.parse().unwrap();
            assert_eq!(
                i, committed,
                "transactions are committed in order, none missing"
            );
            for sk in ["a", "b"] {
                let part = state.get(&Key::new(format!("tx#{i}"), sk)).await.unwrap();
                assert_eq!(
                    part.map(|p| p.body),
                    Some(entry.body.clone()),
                    "transaction {i} is only partly present"
                );
            }
            let sha = Sha256::parse(entry.body["sha256"].as_str().unwrap()).unwrap();
            assert!(
                docs.exists(&sha).await.unwrap(),
                "document of transaction {i} missing"
            );
            committed += 1;
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    // No half of a transaction beyond the log either.
    let orphan = state
        .get(&Key::new(format!("tx#{committed}"), "a"))
        .await
        .unwrap();
    assert!(
        orphan.is_none(),
        "transaction {committed} left items without its log entry"
    );
    let report = docs.verify_all().await.unwrap();
    assert!(
        report.mismatched.is_empty(),
        "documents under a wrong hash: {report:?}"
    );
    // Reopening swept the dead writer's unfinished temporary files.
    assert!(
        report.foreign.is_empty(),
        "stray files: {:?}",
        report.foreign
    );
    committed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_killed_at_random_moments_is_never_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut last = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["crash_worker", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = 150 + seed % 600;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let committed = check_consistent(dir.path()).await;
        assert!(
            committed >= last,
            "round {round}: committed transactions disappeared"
        );
        last = committed;
    }
    assert!(
        last > 0,
        "the child never committed anything; the test proved nothing"
    );
    println!("{ROUNDS} kills, {last} transactions committed, all whole");
}
