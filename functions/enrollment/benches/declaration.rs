//! Benchmark of a monthly declaration import (prints figures; asserts nothing about time): a
//! 100,000-row XLSX file read, parsed and checked row by row against the rules, beside a baseline
//! in the same run that only reads the workbook's cells.
//!
//! `cargo bench -p swi-enrollment --bench declaration [-- ROWS]`

#![allow(
    clippy::float_arithmetic,
    clippy::unwrap_used,
    reason = "a benchmark: figures are measurements, and failures should be loud"
)]

use std::time::Instant;

use chrono::NaiveDate;
use swi_enrollment::declarations::{Roster, check_rows, parse_rows, read_table};
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

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let t = Instant::now();
    let bytes = workbook(rows);
    println!(
        "declaration of {rows} rows: {:.1} MB XLSX, generated in {:.2} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let table = read_table(&bytes).unwrap();
    let read = t.elapsed().as_secs_f64();
    assert_eq!(table.len(), rows + 1);

    let params = ParamSet::builtin().unwrap();
    let month = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let t = Instant::now();
    let table = read_table(&bytes).unwrap();
    let (parsed, mut reports) = parse_rows(&table).unwrap();
    reports.extend(check_rows(params, &parsed, month, &Roster::default()));
    let full = t.elapsed().as_secs_f64();
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
}
