//! Benchmark of a monthly declaration (prints figures; asserts nothing about time): a
//! 100,000-row XLSX file read, parsed and checked row by row against the rules, beside a baseline
//! in the same run that only reads the workbook's cells; then the declaration job applying an
//! approved file of 10,000 joiners on the embedded store (SQLite, synchronous=FULL), a
//! transaction of rows at a time.
//!
//! Peak heap is measured too (a counting allocator): for the realistic file, and for the worst
//! file the limits allow (`Limits::DECLARATION`: 50 MiB, 2,000,000 cells), a CSV of 100,000 rows
//! of 20 full cells — what checking a declaration inside one request could cost at most.
//!
//! `cargo bench -p swi-enrollment --bench declaration [-- ROWS [APPLY_ROWS]]`

#![allow(
    clippy::float_arithmetic,
    clippy::unwrap_used,
    reason = "a benchmark: figures are measurements, and failures should be loud"
)]

use std::alloc::System;
use std::time::Instant;

use cap::Cap;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Reads, parses and checks the declaration file at `path` in a process of its own (so that
/// nothing before it raised the allocator's high-water mark); returns seconds and the peak heap
/// held beyond the file's own bytes.
fn measured(path: &std::path::Path) -> (f64, usize) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--peak", path.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut it = text.split_whitespace();
    (
        it.next().unwrap().parse().unwrap(),
        it.next().unwrap().parse().unwrap(),
    )
}

/// The child of [`measured`].
fn peak_child(path: &str) {
    let bytes = std::fs::read(path).unwrap();
    let before = ALLOCATOR.allocated();
    let params = ParamSet::builtin().unwrap();
    let keys = swi_platform::pseudonym::PersonKeys::from_secret(&[9; 32]).unwrap();
    let t = Instant::now();
    let table = swi_tables::read(&bytes, &swi_tables::Limits::DECLARATION).unwrap();
    let (parsed, _) = parse_rows(&table).unwrap();
    drop(table);
    let month = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let _ = check_rows(params, &keys, &parsed, month, &Roster::default());
    let took = t.elapsed().as_secs_f64();
    println!(
        "{took} {}",
        ALLOCATOR.max_allocated().saturating_sub(before)
    );
}

/// The largest CSV the declaration limits admit: 99,990 rows of 20 cells (the 2,000,000-cell
/// limit with the header), the cells padded to about 50 MiB.
fn worst_csv() -> Vec<u8> {
    let mut out = String::with_capacity(50 << 20);
    out.push_str("变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码");
    for c in 7..20 {
        out.push_str(&format!(",备注{c}"));
    }
    out.push('\n');
    let pad = "x".repeat(30);
    for i in 0..99_990 {
        out.push_str(&format!(
            "增,职工{i},360702198001011234,employee,5000.00,2025-06-01,13900000000"
        ));
        for _ in 7..20 {
            out.push(',');
            out.push_str(&pad);
        }
        out.push('\n');
    }
    out.into_bytes()
}

use chrono::NaiveDate;
use swi_enrollment::declarations::rows::{Roster, check_rows, parse_rows};
use swi_rules::ParamSet;
use swi_rules::ids::ResidentId;

fn workbook(rows: usize) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "变动类型",
        "姓名",
        "公民身份号码",
        "人员类别",
        "申报工资",
        "变动日期",
        "手机号码",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    for i in 0..rows {
        let r = (i + 1) as u32;
        let b = birth + chrono::TimeDelta::days((i % 9000) as i64);
        let id = ResidentId::with_check_character(&format!(
            "360702{}{:03}",
            b.format("%Y%m%d"),
            i / 9000 % 1000
        ))
        .unwrap();
        let cells = [
            "增".to_owned(),
            format!("职工{i}"),
            id.expose().to_owned(),
            "employee".to_owned(),
            format!("{}.00", 3000 + i % 7000),
            format!("2025-06-{:02}", 1 + i % 28),
            format!("139{:08}", i),
        ];
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(r, c as u16, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// Applies an approved declaration of the first `rows` rows of a workbook on a fresh embedded
/// store; returns the seconds the job took.
fn apply(rows: usize) -> f64 {
    use std::sync::Arc;
    use swi_enrollment::declarations::apply::{ApplyPointer, NAME};
    use swi_enrollment::declarations::{Declaration, ReviewStatus};
    use swi_platform::jobs::Job;
    use swi_store::{Condition, Documents, Item, StateStore, TxOp};

    let dir = tempfile::tempdir().unwrap();
    let state = swi_store_embedded::EmbeddedState::open(&dir.path().join("state.db")).unwrap();
    let docs = swi_store_embedded::EmbeddedDocuments::open(
        &dir.path().join("documents"),
        "http://127.0.0.1:0",
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let bytes = workbook(rows);
        let sha = docs
            .receive(&mut bytes.as_slice(), 1 << 30)
            .await
            .unwrap()
            .sha256;
        let day = NaiveDate::from_ymd_opt(2025, 6, 2).unwrap();
        let d = Declaration {
            id: "d-bench".into(),
            unit: "91360702MA35K8TN2H".into(),
            county: swi_rules::ids::County::parse("360702").unwrap(),
            month: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
            sha256: sha.hex(),
            joiners: rows,
            leavers: 0,
            status: ReviewStatus::Applying,
            received_on: day,
            review_by: day,
            review_by_assumes: None,
            reviewed_by: Some("审核员".into()),
            reviewed_on: Some(day),
            note: None,
            applied: 0,
            not_applied: 0,
            cursor: 0,
        };
        let pointer = ApplyPointer {
            declaration: d.id.clone(),
            cursor: 0,
        };
        let unit = swi_registry::unit::Unit {
            code: d.unit.clone(),
            name: "赣州某某建材有限公司".into(),
            county: d.county,
            industry_class: 4,
            rate_band: "1.2".parse().unwrap(),
            work_injury_no: "GS-360702-0001".into(),
            account: swi_registry::unit::Account {
                bank: "中国银行赣州分行".into(),
                number: "6216610100001234567".into(),
                holder: "赣州某某建材有限公司".into(),
            },
            contact: swi_registry::unit::Contact {
                name: "张三".into(),
                phone: "13907970001".into(),
            },
            status: swi_registry::unit::UnitStatus::Active,
            registered_on: day,
            cancelled_on: None,
            members_ended: 0,
            ending_members: false,
            moving_members: false,
            members_moved: 0,
            band_history: Vec::new(),
        };
        state
            .transact(vec![
                swi_registry::unit::unit_put(&unit, Condition::None).unwrap(),
                TxOp::Put {
                    item: Item::new("declaration#d-bench", "profile", &d).unwrap(),
                    condition: Condition::NotExists,
                },
                TxOp::Put {
                    item: Item::new(
                        swi_platform::jobs::pointer_partition(NAME),
                        d.id.clone(),
                        &pointer,
                    )
                    .unwrap(),
                    condition: Condition::NotExists,
                },
            ])
            .await
            .unwrap();
        let platform = swi_platform::Platform {
            state: Arc::new(state),
            docs: Arc::new(docs),
            tokens: Arc::new(swi_platform::auth::TokenKeys::from_secret(&[7; 32])),
            persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[9; 32]).unwrap()),
            clock: Arc::new(swi_platform::clock::FixedClock(
                chrono::DateTime::parse_from_rfc3339("2025-06-02T09:30:00+08:00").unwrap(),
            )),
            base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
            city_params: Default::default(),
            public_url: String::new(),
        };
        let t = Instant::now();
        let report = swi_enrollment::declarations::DeclarationApply
            .run(
                &platform,
                Instant::now() + std::time::Duration::from_secs(3600),
            )
            .await
            .unwrap();
        let took = t.elapsed().as_secs_f64();
        assert_eq!((report.done, report.pending), (rows, 0), "{report:?}");
        took
    })
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--peak") {
        return peak_child(&argv[2]);
    }
    let mut args = std::env::args().skip(1).filter_map(|a| a.parse().ok());
    let rows: usize = args.next().unwrap_or(100_000);
    let apply_rows: usize = args.next().unwrap_or(10_000);
    let t = Instant::now();
    let bytes = workbook(rows);
    println!(
        "declaration of {rows} rows: {:.1} MB XLSX, generated in {:.2} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let table = swi_tables::read(&bytes, &swi_tables::Limits::DECLARATION).unwrap();
    let read = t.elapsed().as_secs_f64();
    assert_eq!(table.len(), rows + 1);

    let params = ParamSet::builtin().unwrap();
    let month = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let keys = swi_platform::pseudonym::PersonKeys::from_secret(&[9; 32]).unwrap();
    let t = Instant::now();
    let table = swi_tables::read(&bytes, &swi_tables::Limits::DECLARATION).unwrap();
    let (parsed, mut reports) = parse_rows(&table).unwrap();
    reports.extend(check_rows(
        params,
        &keys,
        &parsed,
        month,
        &Roster::default(),
    ));
    let full = t.elapsed().as_secs_f64();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("declaration.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let (_, held) = measured(&file);
    assert!(reports.is_empty(), "{:?}", reports.first());
    println!(
        "  baseline: read the workbook's cells     {read:>7.3} s  {:>9.0} rows/s",
        rows as f64 / read
    );
    println!(
        "  swi: read + parse + check every row      {full:>7.3} s  {:>9.0} rows/s  ({:.2}× the baseline)",
        rows as f64 / full,
        full / read
    );
    println!(
        "  peak heap of read + parse + check:        {:>7.1} MiB  ({:.1}× the file)",
        held as f64 / f64::from(1u32 << 20),
        held as f64 / bytes.len() as f64
    );
    let worst = worst_csv();
    let file = dir.path().join("worst.csv");
    std::fs::write(&file, &worst).unwrap();
    let (took, held) = measured(&file);
    println!(
        "  worst allowed file: {:.1} MiB CSV, 99990 rows × 20 cells: {took:.3} s, peak heap {:.1} MiB ({:.1}× the file)",
        worst.len() as f64 / f64::from(1u32 << 20),
        held as f64 / f64::from(1u32 << 20),
        held as f64 / worst.len() as f64
    );
    let took = apply(apply_rows);
    println!(
        "  job: apply {apply_rows} approved joiners       {took:>7.3} s  {:>9.0} rows/s  ({} transactions, embedded store)",
        apply_rows as f64 / took,
        apply_rows.div_ceil(swi_enrollment::declarations::apply::ROWS_PER_TRANSACTION)
    );
}
