//! Claim review at scale (run `cargo bench -p swi-claim-review --bench claims [-- CLAIMS FORMS]`,
//! release): figures printed beside a baseline measured in the same run, never asserted.
//!
//! 1. A county queue over 100,000 claims in the embedded store: the first page through the
//!    route (token check, access, the page, summaries) beside a bare store query of the same
//!    index partition.
//! 2. Assessing and rendering the forms of 1,000 approved claims: forms per second and bytes
//!    per form; beside it, where Debian's Chromium is installed (`/usr/bin/chromium`), headless
//!    Chromium printing the same form from HTML.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::float_arithmetic,
    clippy::cast_possible_wrap,
    reason = "a benchmark prints its figures (in floating point, never money) and fails loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use chrono::{NaiveDate, NaiveDateTime};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use swi_claim_review::claim::{Claim, Claimant, ClaimantKind, Stated, claim_put, queue_partition};
use swi_claim_review::facts::{Catalogue, FeeLine, ReviewFacts, StayIn};
use swi_claim_review::injury::{
    CoveredBy, Injury, InjuryKind, InsuredWage, PaidLeave, Recognition,
};
use swi_domain::Role;
use swi_domain::claim::ClaimStatus;
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_rules::benefits::Item;
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, Index, Query};
use tower::ServiceExt;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
}

fn injury(n: usize) -> Injury {
    Injury {
        id: format!("i-bench{n:08}"),
        name: "测试人员".into(),
        id_number: "360702199001010019".into(),
        person: format!("bench-person-{n}"),
        category: Category::PlatformFoodDelivery,
        county: County::parse("360702").unwrap(),
        covered_by: CoveredBy::Enrolment {
            id: format!("e-bench{n}"),
            unit: Some("91360702MA35G6QL6T".into()),
            owner: None,
        },
        recognition: Recognition {
            decision_number: format!("赣市人社职伤认〔2025〕{n}号"),
            decided_on: d("2025-08-01"),
            injured_on: d("2025-07-01"),
            kind: InjuryKind::Accident,
            body_part: "右手".into(),
            sha256: "ab".repeat(32),
        },
        paid_leave: Some(PaidLeave {
            from: d("2025-07-01"),
            to: d("2025-08-31"),
            sha256: "cd".repeat(32),
        }),
        appraisal: Some(swi_claim_review::injury::Appraisal {
            grade: 7,
            care_level: None,
            appraised_on: d("2025-09-01"),
            committee: "赣州市劳动能力鉴定委员会".into(),
            sha256: "ef".repeat(32),
        }),
        death: None,
        retirement_on: Some(d("2050-01-01")),
        insured_wage: InsuredWage {
            amount: Decimal::from(6000),
            months_used: 6,
            source: "declared_wages".into(),
            assumptions: Vec::new(),
        },
        materials: swi_domain::claim::ClaimMaterial::ALL
            .iter()
            .map(|m| (*m, "12".repeat(32)))
            .collect(),
        granted: Default::default(),
        reserved: Default::default(),
        invoices: Vec::new(),
        claims: Vec::new(),
        recorded_by: "受理".into(),
        recorded_at: dt("2025-08-02T09:00:00"),
    }
}

fn claim(n: usize, status: ClaimStatus) -> Claim {
    Claim {
        id: format!("c-bench{n:08}"),
        injury: format!("i-bench{n:08}"),
        county: County::parse("360702").unwrap(),
        name: "测试人员".into(),
        id_number: "360702199001010019".into(),
        person: format!("bench-person-{n}"),
        category: Category::PlatformFoodDelivery,
        unit: Some("91360702MA35G6QL6T".into()),
        owner: None,
        claimant: Claimant {
            kind: ClaimantKind::Unit,
            sub: "bench-employer".into(),
            name: "单位经办".into(),
            role: Role::Employer,
        },
        items: vec![
            Item::Medical,
            Item::NursingSubsidy,
            Item::OneTimeDisability,
            Item::OneTimeMedical,
        ],
        stated: Stated::default(),
        status,
        checklist: Vec::new(),
        missing: Vec::new(),
        notice: None,
        steps: Vec::new(),
        events: Vec::new(),
        submitted_at: dt("2025-09-01T09:00:00") + chrono::TimeDelta::seconds(n as i64),
        accepted_on: None,
        due: None,
        handling: None,
        review: None,
        re_review: None,
        assessment: None,
        approval: None,
        rejection: None,
    }
}

fn facts(n: usize) -> ReviewFacts {
    ReviewFacts {
        fee_lines: (0..8)
            .map(|i| FeeLine {
                item: Item::Medical,
                invoice_number: format!("FP-{n}-{i}"),
                provider: "赣州市人民医院".into(),
                agreement_institution: true,
                date: d("2025-07-05"),
                amount: Decimal::new(123_450 + i * 100, 2),
                catalogue: Catalogue::Within,
                allowed: Decimal::new(120_000, 2),
                deduction_reason: Some("超出限定支付范围".into()),
            })
            .collect(),
        stays: vec![StayIn {
            admitted: d("2025-07-01"),
            discharged: d("2025-07-20"),
        }],
        opinion: "按规定核定".into(),
        ..ReviewFacts::default()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn queue_bench(p: &Platform, claims: usize) {
    let router = swi_claim_review::router(p.clone());
    let statuses = [
        ClaimStatus::Submitted,
        ClaimStatus::Handling,
        ClaimStatus::FirstReview,
        ClaimStatus::ReReview,
        ClaimStatus::Entry,
    ];
    let started = Instant::now();
    let mut ops = Vec::with_capacity(100);
    for n in 0..claims {
        ops.push(
            claim_put(
                &claim(n, statuses[n % statuses.len()]),
                Condition::NotExists,
            )
            .unwrap(),
        );
        if ops.len() == 100 {
            p.state.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    if !ops.is_empty() {
        p.state.transact(ops).await.unwrap();
    }
    println!(
        "stored {claims} claims in {:.1} s ({} transactions of 100)",
        started.elapsed().as_secs_f64(),
        claims.div_ceil(100)
    );
    let now = chrono::Utc::now().timestamp();
    let token = p
        .tokens
        .mint(&Claims {
            sub: "bench-acceptor".into(),
            role: "acceptor".into(),
            county: "360702".into(),
            name: "受理".into(),
            unit: None,
            iss: ISSUER.into(),
            iat: now,
            exp: now + 3600,
        })
        .unwrap();
    let partition = queue_partition(County::parse("360702").unwrap(), ClaimStatus::Handling);
    let (mut bare, mut route) = (Vec::new(), Vec::new());
    for _ in 0..51 {
        let t = Instant::now();
        let page = p
            .state
            .query_index(Index::Gsi1, &Query::partition(partition.clone()).limit(50))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 50);
        bare.push(t.elapsed());
        let t = Instant::now();
        let req = Request::builder()
            .uri("/api/counties/360702/claims?status=handling")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert!(res.status().is_success());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        route.push(t.elapsed());
        assert!(bytes.len() > 1000);
    }
    let (b, r) = (median(bare), median(route));
    println!(
        "queue, first page of 50 (of {} handling claims), median of 51:\n  baseline: bare store query of the index partition  {:>8.3} ms\n  swi: GET /api/counties/360702/claims?status=handling {:>8.3} ms  ({:.2}× the baseline)",
        claims.div_ceil(statuses.len()),
        b.as_secs_f64() * 1e3,
        r.as_secs_f64() * 1e3,
        r.as_secs_f64() / b.as_secs_f64()
    );
}

fn html_of(form: &swi_forms::Form) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let rows: String = form
        .fields
        .iter()
        .map(|f| {
            format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                esc(&f.label),
                esc(&f.value)
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=zh><meta charset=utf-8><style>@page{{size:A4;margin:20mm}}body{{font-family:'WenQuanYi Micro Hei',sans-serif;font-size:11pt}}table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #000;padding:4pt;text-align:left}}th{{width:30%}}</style><p>{}<span style=float:right>{}</span></p><h1 style=text-align:center>{}</h1><table>{rows}</table><p>{}</p><p>{}</p><p style=text-align:right>{}</p></html>",
        esc(&form.serial),
        esc(&form.number),
        esc(&form.title),
        esc(&form.statement),
        form.signatures
            .iter()
            .map(|s| esc(s))
            .collect::<Vec<_>>()
            .join("　　"),
        esc(&form.date_line)
    )
}

fn forms_bench(p: &Platform, n: usize) {
    let params = p.base_params.clone();
    let font = swi_forms::font().expect("the CJK font (SWI_FONT=$(bash infra/fonts))");
    let on = d("2025-10-10");
    let started = Instant::now();
    let mut bytes = 0usize;
    let mut last = None;
    for i in 0..n {
        let (injury, mut claim) = (injury(i), claim(i, ClaimStatus::Entry));
        let f = facts(i);
        let assessment =
            swi_claim_review::assess::assess(&params, &claim, &injury, &f, on).unwrap();
        claim.checklist = swi_domain::claim::ClaimMaterial::ALL.to_vec();
        let a = swi_claim_review::forms::assessment_form(
            &claim,
            &injury,
            Some("示范单位"),
            &assessment,
            on,
        );
        let b = swi_claim_review::forms::application_form(
            &claim,
            &injury,
            Some("示范单位"),
            &assessment,
            on,
        );
        bytes += swi_forms::render(&font, &a).unwrap().len();
        bytes += swi_forms::render(&font, &b).unwrap().len();
        last = Some(a);
    }
    let t = started.elapsed().as_secs_f64();
    println!(
        "assess + render both forms of {n} approved claims: {t:.2} s, {:.0} forms/s, {:.1} KiB a form",
        (2 * n) as f64 / t,
        bytes as f64 / (2 * n) as f64 / 1024.0
    );
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let Some(form) = last else { return };
    if !chromium.exists() {
        println!(
            "beside it: Debian's headless Chromium is not installed here (apt-get install chromium): skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("form.html");
    std::fs::write(&html, html_of(&form)).unwrap();
    let runs = 10;
    let started = Instant::now();
    let mut size = 0;
    for i in 0..runs {
        let out = dir.path().join(format!("form-{i}.pdf"));
        let profile = dir.path().join(format!("profile-{i}"));
        let status = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--print-to-pdf={}", out.display()))
            .arg(format!("file://{}", html.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        size = std::fs::metadata(&out).unwrap().len();
    }
    let t = started.elapsed().as_secs_f64();
    println!(
        "beside it: headless Chromium printing the same form from HTML, {runs} runs (a process each): {:.2} forms/s, {:.1} KiB a form",
        f64::from(runs) / t,
        size as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let claims = args.first().copied().unwrap_or(100_000);
    let forms = args.get(1).copied().unwrap_or(1_000);
    let dir = tempfile::tempdir().unwrap();
    let (state, docs) = swi_store_embedded::open(dir.path(), "http://127.0.0.1:1").unwrap();
    let p = Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"bench secret: 32 bytes at least!")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[7; 32]).unwrap()),
        clock: Arc::new(swi_platform::clock::FixedClock(
            chrono::DateTime::parse_from_rfc3339("2025-10-10T09:30:00+08:00").unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(queue_bench(&p, claims));
    forms_bench(&p, forms);
}
