//! Benchmark of the embedded store (prints figures; asserts nothing about time):
//!
//! 1. document ingest of a 1 GiB file through `Documents::put` (hash while streaming, write,
//!    fsync, link), beside `openssl dgst -sha256` and `sha256sum` of the same cached file, with
//!    the process's peak resident memory;
//! 2. 1,000,000 items through `StateStore::batch_put`, beside a baseline inserting the same rows
//!    with plain rusqlite in one transaction, on the same schema and settings.
//!
//! `cargo bench -p swi-store-embedded --bench store [-- ITEMS [MIB]]`

#![allow(
    clippy::float_arithmetic,
    clippy::unwrap_used,
    reason = "a benchmark: throughput figures are measurements, and failures should be loud"
)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::json;
use swi_store::docs::Documents;
use swi_store::state::{Item, Key, StateStore};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn time_command(program: &str, args: &[&str]) -> Option<f64> {
    let t = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| t.elapsed().as_secs_f64())
}

fn make_file(path: &Path, mib: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block).unwrap();
    }
    // On disk before anything is timed, so that no test pays for this file's writeback.
    f.into_inner().unwrap().sync_all().unwrap();
}

async fn documents(dir: &Path, mib: usize) {
    let file = dir.join("scan.bin");
    make_file(&file, mib);
    let bytes = (mib as f64) * 1024.0 * 1024.0;
    let gbs = |secs: f64| bytes / secs / 1e9;
    let f = file.to_str().unwrap();
    // Warm the page cache, then time the reference tools on the cached file.
    let _ = time_command("cat", &[f]);
    let openssl = time_command("openssl", &["dgst", "-sha256", f]);
    let sha256sum = time_command("sha256sum", &[f]);
    let t = Instant::now();
    let mut input = tokio::fs::File::open(&file).await.unwrap();
    input.set_max_buf_size(1 << 20);
    swi_store::docs::hash_stream(&mut input).await.unwrap();
    let hash_only = t.elapsed().as_secs_f64();
    let t = Instant::now();
    {
        // Plain read and write through a buffer (std::io::copy would let the kernel copy or
        // reflink the file without moving the bytes through the process).
        use std::io::Read;
        let copy = dir.join("copy.bin");
        let mut out = std::fs::File::create(&copy).unwrap();
        let mut src = std::fs::File::open(&file).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = src.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).unwrap();
        }
        out.sync_all().unwrap();
        std::fs::remove_file(copy).unwrap();
    }
    let disk = t.elapsed().as_secs_f64();
    let (_, docs) = swi_store_embedded::open(&dir.join("data"), "http://127.0.0.1:1").unwrap();
    let t = Instant::now();
    let mut input = tokio::fs::File::open(&file).await.unwrap();
    input.set_max_buf_size(1 << 20);
    let meta = docs.put(&mut input).await.unwrap();
    let ingest = t.elapsed().as_secs_f64();
    assert_eq!(meta.size as f64, bytes);
    println!("document ingest of {mib} MiB (file in page cache):");
    if let Some(s) = openssl {
        println!("  openssl dgst -sha256   {s:>7.3} s  {:>5.2} GB/s", gbs(s));
    }
    if let Some(s) = sha256sum {
        println!("  sha256sum              {s:>7.3} s  {:>5.2} GB/s", gbs(s));
    }
    println!(
        "  swi hash only (sha2)   {hash_only:>7.3} s  {:>5.2} GB/s  (no write)",
        gbs(hash_only)
    );
    println!(
        "  disk: copy + fsync     {disk:>7.3} s  {:>5.2} GB/s  (plain loop, one final fsync, no hash)",
        gbs(disk)
    );
    println!(
        "  swi Documents::put     {ingest:>7.3} s  {:>5.2} GB/s  (hash + write + fsync + link)",
        gbs(ingest)
    );
    if let Some(s) = openssl {
        println!(
            "  ingest throughput = {:.0} % of openssl's (goal: at least 70 %), {:.0} % of the disk's",
            s / ingest * 100.0,
            disk / ingest * 100.0
        );
    }
    println!(
        "  peak resident memory of this process so far: {:.1} MiB (goal: flat, well under 64 MB)",
        peak_rss_mib()
    );
    std::fs::remove_file(&file).unwrap();
}

const SCHEMA: &str = "
CREATE TABLE items (pk TEXT NOT NULL, sk TEXT NOT NULL, gsi1pk TEXT, gsi1sk TEXT,
    version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;
CREATE INDEX items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;";

fn rows(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let unit = i / 100;
            let mut item = Item::new(
                format!("unit#{unit:08}"),
                format!("person#{i:010}"),
                &json!({
                    "name": "张三",
                    "category": "flexible",
                    "wage": "4200.00",
                    "county": "360702",
                    "seq": i
                }),
            )
            .unwrap()
            .with_gsi1("county#360702", format!("person#{i:010}"));
            item.version = 1;
            item
        })
        .collect()
}

fn baseline(path: &Path, items: &[Item]) -> f64 {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    let t = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, version, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .unwrap();
        for it in items {
            let g = it.gsi1.as_ref().unwrap();
            let body = serde_json::to_string(&it.body).unwrap();
            stmt.execute(rusqlite::params![it.pk, it.sk, g.pk, g.sk, 1i64, body])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    t.elapsed().as_secs_f64()
}

async fn items(dir: &Path, n: usize) {
    let data = rows(n);
    let base = baseline(&dir.join("baseline.sqlite3"), &data);
    let state = swi_store_embedded::EmbeddedState::open(&dir.join("state.sqlite3")).unwrap();
    let t = Instant::now();
    state.batch_put(data).await.unwrap();
    let ours = t.elapsed().as_secs_f64();
    let probe = state
        .get(&Key::new("unit#00004242", "person#0000424242"))
        .await
        .unwrap();
    assert!(n < 424_243 || probe.is_some());
    println!("bulk write of {n} items (one transaction each side):");
    println!(
        "  baseline: plain rusqlite INSERT     {base:>7.3} s  {:>9.0} items/s",
        n as f64 / base
    );
    println!(
        "  swi StateStore::batch_put          {ours:>7.3} s  {:>9.0} items/s",
        n as f64 / ours
    );
    println!(
        "  ratio {:.2}× the baseline's time (goal: within 1.5×)",
        ours / base
    );
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let mib = args.get(1).copied().unwrap_or(1024);
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let dir = tempfile::tempdir_in(base).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        documents(dir.path(), mib).await;
        items(dir.path(), n).await;
    });
}
