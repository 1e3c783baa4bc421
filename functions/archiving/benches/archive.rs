//! Benchmark of the archive (prints figures; asserts nothing about time).
//!
//! 1. The fixity job over DOCS documents totalling at least GIB GiB on the embedded store,
//!    beside `sha256sum` of the same files in the same run — one process, and two at once
//!    (`xargs -P 2`) — all with the files in the page cache (they were just written; the
//!    machine's memory holds them). Goal: at least as fast as `sha256sum`, using both cores.
//! 2. Filing ITEMS items (one case and one document each) of one class in a month: collecting,
//!    hashing, packing (cover, contents and notes sheets, the BagIt package) and checking, in
//!    seconds, with the bytes of the package (its tag files) and of the sheets. A volume holds
//!    at most 9,999 items (the item number has four digits, DA/T 22), so 10,000 make two.
//!
//! `cargo bench -p swi-archiving --bench archive [-- DOCS GIB ITEMS]` (defaults 10000 5 10000;
//! the CJK font in `SWI_FONT`, as `infra/fonts` prints it).

#![allow(
    clippy::float_arithmetic,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "a benchmark: figures are measurements, and failures should be loud"
)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use swi_archive::retention::RecordClass;
use swi_domain::{Actor, Jurisdiction, Role};
use swi_platform::Platform;
use swi_platform::auth::TokenKeys;
use swi_platform::clock::SetClock;
use swi_platform::jobs::Job;
use swi_store::{Condition, TxOp};

fn platform(dir: &std::path::Path, day: &str) -> (Platform, Arc<SetClock>) {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    let clock = Arc::new(SetClock::new(
        chrono::DateTime::parse_from_rfc3339(&format!("{day}T09:30:00+08:00")).unwrap(),
    ));
    let p = Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"bench secret: 32 bytes at least!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: clock.clone(),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Arc::default(),
        public_url: String::new(),
    };
    (p, clock)
}

/// Pseudo-random bytes (xorshift), distinct for each `seed`.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn gib(b: u64) -> f64 {
    b as f64 / f64::from(1u32 << 30)
}

/// `sha256sum` over every document file, `parallel` processes at once; its wall time.
fn sha256sum(root: &std::path::Path, parallel: u32) -> Duration {
    let t = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "find '{}' -type f -print0 | xargs -0 -P {parallel} -n 1000 sha256sum > /dev/null",
            root.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    t.elapsed()
}

async fn fixity(docs: usize, total_gib: f64) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-archive-fixity");
    let _ = std::fs::remove_dir_all(&dir);
    let (p, _) = platform(&dir, "2026-07-02");
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a size in bytes from a figure in GiB"
    )]
    let each = (total_gib * f64::from(1u32 << 30) / docs as f64).ceil() as usize;
    let t = Instant::now();
    let mut ops = Vec::new();
    let mut total = 0u64;
    for i in 0..docs {
        let body = bytes(i as u64, each);
        let meta = p.docs.put(&mut &body[..]).await.unwrap();
        total += meta.size;
        ops.push(
            swi_archiving::model::fixity_put(
                &swi_archiving::model::Fixity {
                    sha256: meta.sha256.hex(),
                    sha512: String::new(),
                    size: meta.size,
                    media_type: None,
                    encrypted: false,
                    verified_at: p.clock.now().naive_local(),
                    round: 0,
                    outcome: swi_archiving::model::Outcome::Intact,
                },
                Condition::None,
            )
            .unwrap(),
        );
        if ops.len() == 90 {
            p.state.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    if !ops.is_empty() {
        p.state.transact(ops).await.unwrap();
    }
    println!(
        "fixity: {docs} documents, {:.2} GiB written in {:.1} s",
        gib(total),
        secs(t.elapsed())
    );
    let root = dir.join("documents/sha256");
    let one = sha256sum(&root, 1);
    let two = sha256sum(&root, 2);
    let t = Instant::now();
    let mut runs = 0;
    loop {
        runs += 1;
        let r = swi_archiving::fixity::FixityJob
            .run(&p, Instant::now() + Duration::from_secs(3600))
            .await
            .unwrap();
        assert!(r.errors.is_empty(), "{r:?}");
        if r.detail["finished_at"].is_string() {
            assert_eq!(r.detail["checked"], docs, "{r:?}");
            break;
        }
    }
    let job = t.elapsed();
    let again = sha256sum(&root, 1);
    let rate = |d: Duration| gib(total) / secs(d);
    println!(
        "  sha256sum, one process:      {:7.2} s  {:6.2} GiB/s",
        secs(one),
        rate(one)
    );
    println!(
        "  sha256sum, two at once:      {:7.2} s  {:6.2} GiB/s",
        secs(two),
        rate(two)
    );
    println!(
        "  fixity job ({runs} run):          {:7.2} s  {:6.2} GiB/s  ({:.2}× one sha256sum, {:.2}× two; every check a preservation event and its round in the state store)",
        secs(job),
        rate(job),
        secs(one) / secs(job),
        secs(two) / secs(job)
    );
    println!(
        "  sha256sum, one process, after: {:5.2} s  {:6.2} GiB/s",
        secs(again),
        rate(again)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn filing(items: usize) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-archive-filing");
    let _ = std::fs::remove_dir_all(&dir);
    let (p, clock) = platform(&dir, "2026-06-10");
    let clerk = Actor {
        sub: "acceptor-1".into(),
        role: Role::Acceptor,
        jurisdiction: Jurisdiction::parse("360702").unwrap(),
        name: "受理员".into(),
        unit: None,
    };
    let t = Instant::now();
    let mut ops: Vec<TxOp> = Vec::new();
    for i in 0..items {
        let body = format!("%PDF-1.7 工伤备案表 {i:06}");
        let sha = swi_platform::documents::received(&p, &clerk.sub, &mut body.as_bytes(), 1 << 20)
            .await
            .unwrap();
        let case = format!("injury#I{i:06}");
        if let Some(op) = swi_platform::documents::file(
            &p,
            &clerk,
            &sha,
            swi_platform::dossier::Filing {
                case: &case,
                county: "360702",
                class: RecordClass::InjuryFiling,
                material: "工伤备案表",
            },
        )
        .await
        .unwrap()
        {
            ops.push(op);
        }
        if ops.len() == 90 {
            p.state.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    if !ops.is_empty() {
        p.state.transact(ops).await.unwrap();
    }
    println!(
        "filing: {items} documents filed to {items} cases in {:.1} s",
        secs(t.elapsed())
    );
    clock.set(chrono::DateTime::parse_from_rfc3339("2026-07-02T09:30:00+08:00").unwrap());
    let archivist = swi_platform::jobs::job_actor("bench", "档案员");
    let s = swi_archiving::model::Settings {
        county: "360702".into(),
        fonds: "J001".into(),
        archive_house_number: "136070".into(),
        filing_unit: "章贡区社会保险事业管理局".into(),
        classification_level: "内部".into(),
        compiled_by: "档案员甲".into(),
        recorded_by: "bench".into(),
        recorded_at: p.clock.now().naive_local(),
    };
    let k = swi_archiving::model::settings_key("360702");
    p.state
        .transact(vec![TxOp::Put {
            item: swi_store::Item::new(k.pk, k.sk, &s).unwrap(),
            condition: Condition::None,
        }])
        .await
        .unwrap();
    let t = Instant::now();
    let (_, ops) = swi_archiving::filing::open_ops(&p, "360702", "2026-06", "档案员甲", &archivist)
        .await
        .unwrap();
    p.state.transact(ops).await.unwrap();
    let mut steps = 0;
    loop {
        let (n, done) = swi_archiving::filing::work(
            &p,
            "360702",
            "2026-06",
            Instant::now() + Duration::from_secs(3600),
        )
        .await
        .unwrap();
        steps += n;
        if done {
            break;
        }
    }
    let took = t.elapsed();
    let (f, _) = swi_archiving::filing::load_filing(&p, "360702", "2026-06")
        .await
        .unwrap()
        .unwrap();
    println!(
        "  filed in {:.1} s ({steps} steps, each one transaction): {} volumes",
        secs(took),
        f.sequence.len()
    );
    for id in &f.sequence {
        let (v, _) = swi_archiving::model::load_volume(&*p.state, id)
            .await
            .unwrap()
            .unwrap();
        let sheets: u64 = {
            let raw = swi_platform::documents::load_bounded(
                &p,
                &swi_store::Sha256::parse(v.package.as_deref().unwrap()).unwrap(),
                swi_archive::package::PACKAGE_LIMITS.total_bytes,
            )
            .await
            .unwrap();
            let (_, files) =
                swi_archive::package::unpack(&raw, swi_archive::package::PACKAGE_LIMITS).unwrap();
            let bag = swi_archive::bagit::parse(&files).unwrap();
            let mut sum = 0;
            for (path, digest) in &bag.manifests["sha256"] {
                if path.starts_with("data/volume/") {
                    let sha = swi_store::Sha256::parse(digest).unwrap();
                    sum += p.docs.head(&sha).await.unwrap().unwrap_or(0);
                }
            }
            sum
        };
        println!(
            "  {}: {} items, package {} bytes of tag files ({:.0} bytes an item), sheets {} bytes",
            v.archive_number,
            v.items,
            v.package_bytes.unwrap_or(0),
            v.package_bytes.unwrap_or(0) as f64 / f64::from(v.items.max(1)),
            sheets
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let docs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let total: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let items: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "archive benchmark on {} cores",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    rt.block_on(fixity(docs, total));
    rt.block_on(filing(items));
}
