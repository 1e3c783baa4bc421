//! Benchmark of `swi quote`: 1,000,000 mixed premium / nursing / pay-by requests answered in one
//! process, beside a baseline in the same run that only parses each line (serde_json::Value) and
//! serializes it again. Prints figures; asserts nothing about time.
//!
//! `cargo bench -p swi --bench quote [-- LINES]`

#![allow(
    clippy::float_arithmetic,
    reason = "throughput figures are measurements, not money"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use swi_quote::{Quoter, run};
use swi_rules::ParamSet;

/// A small deterministic generator (no dependency, same input every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CATEGORIES: [&str; 12] = [
    "employee",
    "over_age",
    "intern",
    "village_cadre",
    "platform_domestic",
    "platform_ride_hailing",
    "platform_food_delivery",
    "platform_instant_delivery",
    "platform_freight",
    "volunteer",
    "cooperative",
    "flexible",
];

fn input(lines: usize) -> Vec<u8> {
    let mut rng = Lcg(0x5eed);
    let mut out = Vec::with_capacity(lines * 140);
    for i in 0..lines {
        let line = match i % 3 {
            0 => {
                let c = CATEGORIES[rng.below(12) as usize];
                let wage = format!("{}.{:02}", 1000 + rng.below(30_000), rng.below(100));
                let month = format!("{}-{:02}", 2025 + rng.below(2), 1 + rng.below(12));
                if matches!(c, "employee" | "over_age" | "intern") {
                    format!(
                        r#"{{"kind":"premium","category":"{c}","month":"{month}","wage":"{wage}","industry_class":{}}}"#,
                        1 + rng.below(8)
                    )
                } else {
                    format!(
                        r#"{{"kind":"premium","category":"{c}","month":"{month}","wage":"{wage}"}}"#
                    )
                }
            }
            1 => {
                let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date")
                    + chrono::TimeDelta::days(rng.below(300) as i64);
                let end = start + chrono::TimeDelta::days(30 + rng.below(60) as i64);
                let a1 = start + chrono::TimeDelta::days(rng.below(10) as i64);
                let d1 = a1 + chrono::TimeDelta::days(rng.below(20) as i64);
                let d2 = d1 + chrono::TimeDelta::days(rng.below(15) as i64);
                format!(
                    r#"{{"kind":"nursing_subsidy","paid_leave":{{"from":"{start}","to":"{end}"}},"stays":[{{"admitted":"{a1}","discharged":"{d1}"}},{{"admitted":"{d1}","discharged":"{d2}"}}]}}"#
                )
            }
            _ => {
                let d = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date")
                    + chrono::TimeDelta::days(rng.below(700) as i64);
                format!(r#"{{"kind":"pay_by","approved":"{d}"}}"#)
            }
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn baseline(input: &[u8], out: &mut Vec<u8>) -> usize {
    let mut n = 0;
    for line in input.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("generated lines are JSON");
        serde_json::to_writer(&mut *out, &v).expect("writing to memory");
        out.push(b'\n');
        n += 1;
    }
    n
}

fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = black_box(f());
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn main() {
    let lines: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let params = ParamSet::builtin().expect("built-in parameters");
    let quoter = Quoter::new(params, NaiveDate::from_ymd_opt(2025, 6, 1).expect("a date"));
    let t = Instant::now();
    let data = input(lines);
    println!(
        "input: {lines} lines, {:.1} MB, generated in {:.2} s",
        data.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let mut out = Vec::with_capacity(data.len() * 2);
    let (base, n_base) = best_of(3, || {
        out.clear();
        baseline(&data, &mut out)
    });
    let base_bytes = out.len();
    let (quote, n_quote) = best_of(3, || {
        out.clear();
        run(&quoter, data.as_slice(), &mut out)
            .expect("in memory")
            .lines as usize
    });
    let answers = String::from_utf8_lossy(&out);
    let errors = answers.lines().filter(|l| l.contains("\"error\"")).count();
    assert_eq!(n_base, lines);
    assert_eq!(n_quote, lines);

    let per = |d: Duration, n: usize| d.as_nanos() as f64 / n as f64;
    println!(
        "baseline  parse + re-serialize: {:>7.3} s  {:>9.0} lines/s  {:>6.0} ns/line  ({:.1} MB out)",
        base.as_secs_f64(),
        lines as f64 / base.as_secs_f64(),
        per(base, lines),
        base_bytes as f64 / 1e6
    );
    println!(
        "swi quote parse + rules + answer: {:>7.3} s  {:>9.0} lines/s  {:>6.0} ns/line  ({:.1} MB out, {errors} error answers)",
        quote.as_secs_f64(),
        lines as f64 / quote.as_secs_f64(),
        per(quote, lines),
        out.len() as f64 / 1e6
    );
    let overhead = (quote.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0;
    println!(
        "rules overhead over the baseline: {overhead:+.1} % (goal: at most +50 %); best of 3 runs each"
    );
}
