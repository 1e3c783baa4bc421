//! The archive's filing survives SIGKILL at any point: `swi run archive --month 2026-06` over a
//! month of 2,000 documents of five classes (units, persons, injuries, payments, claims — half
//! of the claims decided) is killed at pseudo-random moments, at least ten times while it
//! works, and run again each time until the month is filed. Then every document is in exactly
//! one item of a volume of its class and period, items are numbered without gaps, volume
//! numbers are given without gaps, and every volume passes the four checks with the package
//! its record and audit chain name — which packs again to the same bytes.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use swi_archive::retention::RecordClass;
use swi_domain::{Actor, Jurisdiction, Role};
use swi_platform::Platform;
use swi_platform::auth::TokenKeys;
use swi_platform::dossier::Filing;
use swi_store::{Condition, Item, TxOp};

const DOCS: usize = 2_000;

fn platform(dir: &Path, day: &str) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"test secret: 32 bytes at least!!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::local(dir).unwrap()),
        clock: Arc::new(swi_platform::clock::FixedClock(
            DateTime::parse_from_rfc3339(&format!("{day}T09:30:00+08:00")).unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Arc::default(),
        public_url: String::new(),
    }
}

fn archive(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swi"));
    c.args(["run", "archive", "--month", "2026-06"])
        .env("SWI_TODAY", "2026-07-02")
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// The month's documents, each filed to a case of its own; half the claims decided.
async fn seed(p: &Platform) {
    let clerk = Actor {
        sub: "acceptor-1".into(),
        role: Role::Acceptor,
        jurisdiction: Jurisdiction::parse("360702").unwrap(),
        name: "受理员".into(),
        unit: None,
    };
    let kinds = [
        ("unit", RecordClass::UnitRegistration, "营业执照"),
        ("enrolment", RecordClass::PersonRegistration, "劳动合同"),
        ("injury", RecordClass::InjuryFiling, "工伤备案表"),
        ("batch", RecordClass::PaymentDetails, "支付文件"),
        ("claim", RecordClass::DisabilityDeathBenefits, "申领表"),
    ];
    let mut ops = Vec::new();
    for i in 0..DOCS {
        let (kind, class, material) = kinds[i % kinds.len()];
        let body = format!("%PDF-1.7 {kind} {i:05}");
        let sha = swi_platform::documents::received(p, &clerk.sub, &mut body.as_bytes(), 1 << 20)
            .await
            .unwrap();
        let case = format!("{kind}#K{i:05}");
        let filing = Filing {
            case: &case,
            county: "360702",
            class,
            material,
        };
        ops.extend(
            swi_platform::documents::file(p, &clerk, &sha, filing)
                .await
                .unwrap(),
        );
        if kind == "claim" && i % 2 == 0 {
            ops.push(
                swi_platform::dossier::closed_op(
                    &case,
                    NaiveDate::from_ymd_opt(2026, 6, 20).unwrap(),
                )
                .unwrap(),
            );
        }
        if ops.len() >= 80 {
            p.state.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    if !ops.is_empty() {
        p.state.transact(ops).await.unwrap();
    }
    let settings = swi_archiving::model::Settings {
        county: "360702".into(),
        fonds: "J001".into(),
        archive_house_number: "136070".into(),
        filing_unit: "章贡区社会保险事业管理局".into(),
        classification_level: "内部".into(),
        compiled_by: "档案员甲".into(),
        recorded_by: "test".into(),
        recorded_at: p.clock.now().naive_local(),
    };
    let k = swi_archiving::model::settings_key("360702");
    p.state
        .transact(vec![TxOp::Put {
            item: Item::new(k.pk, k.sk, &settings).unwrap(),
            condition: Condition::None,
        }])
        .await
        .unwrap();
}

async fn filed(p: &Platform) -> bool {
    swi_archiving::filing::load_filing(p, "360702", "2026-06")
        .await
        .unwrap()
        .is_some_and(|(f, _)| f.phase == swi_archiving::filing::Phase::Done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_killed_again_and_again_files_every_document_once() {
    let dir = tempfile::tempdir().unwrap();
    seed(&platform(dir.path(), "2026-06-15")).await;
    let p = platform(dir.path(), "2026-07-02");

    let mut seed = 0x5EED_u64;
    let mut kills = 0;
    let mut runs = 0;
    while !filed(&p).await {
        runs += 1;
        assert!(runs < 1_000, "not filed after {runs} runs ({kills} kills)");
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Three runs in four killed within 0.3 s, the others within 2.8 s: long enough for the
        // longest single step (a volume's sheets and package in a debug build) to get done.
        let wait = if (seed >> 40) & 3 != 0 {
            20 + (seed >> 33) % 300
        } else {
            300 + (seed >> 33) % 2_500
        };
        let mut child = archive(dir.path()).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            if !filed(&p).await {
                kills += 1;
            }
        } else {
            child.wait().unwrap();
        }
    }
    assert!(
        kills >= 10,
        "only {kills} kills landed mid-work in {runs} runs"
    );

    let (f, _) = swi_archiving::filing::load_filing(&p, "360702", "2026-06")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.registrations, DOCS as u64);
    let mut documents = BTreeSet::new();
    let mut numbers: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for id in &f.sequence {
        let (v, _) = swi_archiving::model::load_volume(&*p.state, id)
            .await
            .unwrap()
            .unwrap();
        let items = swi_archiving::model::items(&*p.state, id).await.unwrap();
        let ns: Vec<u32> = items.iter().map(|(i, _)| i.n).collect();
        assert_eq!(
            ns,
            (1..=v.items).collect::<Vec<_>>(),
            "{id}: items without gaps"
        );
        for (i, _) in &items {
            for file in &i.files {
                assert!(
                    documents.insert(file.sha256.clone()),
                    "{} twice",
                    file.sha256
                );
            }
        }
        let number = swi_archive::number::VolumeNumber::parse(&v.archive_number).unwrap();
        numbers
            .entry(format!("{}#{}", v.class.code(), v.period.code()))
            .or_default()
            .push(number.seq);
        let report = swi_archiving::checking::run(&p, &v, swi_archive::checks::Stage::Filing)
            .await
            .unwrap();
        assert!(report.passed(), "{id}: {report:?}");
        // Packed again from what its package says, the same bytes as recorded.
        let sha = swi_store::Sha256::parse(v.package.as_deref().unwrap()).unwrap();
        let tar = swi_platform::documents::load_bounded(&p, &sha, 64 << 20)
            .await
            .unwrap();
        let (_, files) =
            swi_archive::package::unpack(&tar, swi_archive::package::PACKAGE_LIMITS).unwrap();
        let volume: swi_archive::volume::Volume =
            serde_json::from_slice(&files["volume.json"]).unwrap();
        assert_eq!(
            swi_archiving::filing::package(&volume).unwrap(),
            tar,
            "{id}"
        );
    }
    assert_eq!(documents.len(), DOCS, "every document in exactly one item");
    assert_eq!(numbers.len(), 5, "{numbers:?}");
    for (slot, mut seqs) in numbers {
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=seqs.len() as u16).collect::<Vec<_>>(), "{slot}");
    }
    eprintln!(
        "{kills} kills mid-work in {runs} runs; {DOCS} documents in {} volumes",
        f.sequence.len()
    );
}
