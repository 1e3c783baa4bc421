//! The statistics (Art. 41) kept by the `statistics` job from the ledger equal a recount from
//! the raw items, month by month, before and after cases change; the fund's figures come from
//! the books; a figure charts as SVG; the prevention fund (Art. 50) is 3 % of last year's premium
//! income, its uses never more than is left.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::*;
use swi_ledger::posting::{Posted, post_op};
use swi_ledger::{Entry, Side, Voucher};
use swi_platform::Platform;
use swi_platform::clock::{Clock, SetClock};
use swi_platform::jobs::Job;
use swi_store::{Condition, Item, TxOp};
use swi_supervision::stats::Statistics;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn put(p: &Platform, pk: &str, sk: &str, body: &Value, gsi: Option<(String, String)>) {
    let mut item = Item::new(pk, sk, body).unwrap();
    if let Some((a, b)) = gsi {
        item = item.with_gsi1(a, b);
    }
    p.state
        .transact(vec![TxOp::Put {
            item,
            condition: Condition::None,
        }])
        .await
        .unwrap();
}

fn unit(code: &str, class: u32, registered: &str, cancelled: Option<&str>) -> Value {
    json!({ "code": code, "name": format!("单位{code}"), "county": "360702", "industry_class": class,
        "rate_band": "1", "work_injury_no": "GS", "account": { "bank": "icbc", "number": "1", "holder": "x" },
        "contact": { "name": "联系人", "phone": "13800000000" },
        "status": if cancelled.is_some() { "cancelled" } else { "active" },
        "registered_on": registered, "cancelled_on": cancelled })
}

fn enrolment(
    id: &str,
    unit: Option<&str>,
    category: &str,
    cover: Option<(&str, Option<&str>)>,
) -> Value {
    json!({ "id": id, "unit": unit, "owner": unit.is_none().then_some("citizen-1"), "county": "360702",
        "name": "张三", "id_type": "resident", "id_number": "360702199001011234", "person": format!("p-{id}"),
        "phone": "13800000000", "category": category, "declared_wage": "5000", "start": "2025-12-01",
        "track": null, "agreement_end": null, "status": if cover.is_some() { "covered" } else { "awaiting_payment" },
        "materials": {}, "missing": [], "entered_on": "2025-12-01", "paid_at": null,
        "cover_start": cover.map(|c| c.0), "cover_end": cover.and_then(|c| c.1), "notice": null, "steps": [] })
}

fn bill(
    id: &str,
    unit: &str,
    class: u32,
    month: &str,
    amount: &str,
    status: &str,
    paid: Option<&str>,
) -> Value {
    json!({ "id": id, "kind": "monthly", "payer": { "kind": "unit", "code": unit }, "name": "单位",
        "county": "360702", "month": month, "industry_class": class, "band": "1", "lines": 1,
        "amount": amount, "by_category": { "employee": { "persons": 1, "amount": amount } },
        "due": month, "status": status, "issued_at": "2026-01-01T00:00:00", "issued_by": "job",
        "basis": { "articles": [], "average_wage": "6525", "average_wage_source": "x",
            "average_wage_status": "secondary", "whole_month": true, "assumptions": [] },
        "payment": paid.map(|on| json!({ "receipt": "r", "paid_on": on, "amount": amount, "file": "f",
            "recorded_at": format!("{on}T10:00:00") })) })
}

fn claim(
    id: &str,
    category: &str,
    items: &[&str],
    submitted: &str,
    status: &str,
    approved: Option<(&str, &str)>,
    rejected: Option<&str>,
) -> Value {
    json!({ "id": id, "injury": "i-1", "county": "360702", "unit": "U1", "category": category,
        "items": items, "status": status, "steps": [], "submitted_at": format!("{submitted}T09:00:00"),
        "handling": null, "review": null,
        "assessment": approved.map(|(_, amount)| json!({ "items": [{ "item": "medical", "amount": amount, "monthly": false }], "lump_sum_total": amount })),
        "approval": approved.map(|(on, _)| json!({ "on": on })),
        "rejection": rejected.map(|on| json!({ "on": on })) })
}

fn voucher(date: &str, id: &str, entries: &[(&str, Side, &str)]) -> Posted {
    Posted {
        id: id.into(),
        voucher: Voucher::new(
            d(date),
            id.into(),
            entries
                .iter()
                .map(|(a, s, amt)| Entry {
                    account: (*a).into(),
                    side: *s,
                    amount: dec(amt),
                    memo: "测试".into(),
                })
                .collect(),
        )
        .unwrap(),
        county: swi_rules::ids::County::parse("360702").ok(),
        posted_at: format!("{date}T12:00:00").parse().unwrap(),
        by: "test".into(),
    }
}

/// Plants every record with its change on the ledger.
async fn plant(p: &Platform) -> Vec<(String, String, Value)> {
    let records: Vec<(String, String, Value)> = vec![
        (
            "unit#U1".into(),
            "profile".into(),
            unit("U1", 4, "2025-11-03", None),
        ),
        (
            "unit#U2".into(),
            "profile".into(),
            unit("U2", 2, "2026-02-10", Some("2026-03-20")),
        ),
        (
            "enrolment#e1".into(),
            "profile".into(),
            enrolment("e1", Some("U1"), "employee", Some(("2025-12-01", None))),
        ),
        (
            "enrolment#e2".into(),
            "profile".into(),
            enrolment(
                "e2",
                Some("U1"),
                "employee",
                Some(("2026-01-15", Some("2026-02-28"))),
            ),
        ),
        (
            "enrolment#e3".into(),
            "profile".into(),
            enrolment(
                "e3",
                Some("U2"),
                "over_age",
                Some(("2026-02-11", Some("2026-03-20"))),
            ),
        ),
        (
            "enrolment#e4".into(),
            "profile".into(),
            enrolment("e4", None, "flexible", Some(("2026-03-01", None))),
        ),
        (
            "enrolment#e5".into(),
            "profile".into(),
            enrolment("e5", Some("U1"), "employee", None),
        ),
        (
            "bill#b1".into(),
            "bill".into(),
            bill(
                "b1",
                "U1",
                4,
                "2026-01-01",
                "300.00",
                "paid",
                Some("2026-01-20"),
            ),
        ),
        (
            "bill#b2".into(),
            "bill".into(),
            bill("b2", "U1", 4, "2026-02-01", "250.50", "owing", None),
        ),
        (
            "bill#b3".into(),
            "bill".into(),
            bill("b3", "U2", 2, "2026-03-01", "99.99", "withdrawn", None),
        ),
        (
            "claim#c1".into(),
            "profile".into(),
            claim(
                "c1",
                "employee",
                &["medical"],
                "2026-01-20",
                "approved",
                Some(("2026-02-05", "1200.00")),
                None,
            ),
        ),
        (
            "claim#c2".into(),
            "profile".into(),
            claim(
                "c2",
                "flexible",
                &["nursing_subsidy", "medical"],
                "2026-03-02",
                "handling",
                None,
                None,
            ),
        ),
        (
            "claim#c3".into(),
            "profile".into(),
            claim(
                "c3",
                "employee",
                &["medical"],
                "2026-02-10",
                "rejected",
                None,
                Some("2026-03-01"),
            ),
        ),
    ];
    for (pk, sk, body) in &records {
        put(p, pk, sk, body, None).await;
        change(p, &clerk(), pk, "test.record").await;
    }
    let s = swi_payables::Schedule {
        id: "s1".into(),
        claim: "c1".into(),
        injury: "i-1".into(),
        item: swi_rules::benefits::Item::DisabilityAllowance,
        county: swi_rules::ids::County::parse("360702").unwrap(),
        payee: swi_payables::Payee {
            kind: swi_payables::PayeeKind::Person,
            name: "张三".into(),
            unit: None,
            id_number: None,
        },
        monthly: dec("1500"),
        start: d("2026-02-01"),
        ends: vec![],
        basis: vec![],
        assumptions: vec![],
        status: swi_payables::ScheduleStatus::Active,
    };
    p.state
        .transact(vec![swi_payables::schedule_put(&s).unwrap()])
        .await
        .unwrap();
    change(p, &clerk(), "schedule#s1", "test.record").await;
    for v in [
        voucher(
            "2025-06-10",
            "receipts:2025",
            &[
                ("1002", Side::Debit, "10000.00"),
                ("4001", Side::Credit, "10000.00"),
            ],
        ),
        voucher(
            "2026-01-20",
            "receipts:b1",
            &[
                ("1002", Side::Debit, "300.00"),
                ("4001", Side::Credit, "300.00"),
            ],
        ),
        voucher(
            "2026-02-20",
            "return:c1",
            &[
                ("500101", Side::Debit, "1200.00"),
                ("1101", Side::Credit, "1200.00"),
            ],
        ),
        voucher(
            "2026-03-05",
            "refund:x",
            &[
                ("4001", Side::Debit, "50.00"),
                ("1002", Side::Credit, "50.00"),
            ],
        ),
    ] {
        p.state.transact(vec![post_op(&v).unwrap()]).await.unwrap();
    }
    records
}

async fn run(p: &Platform, clock: &SetClock) {
    clock.set(clock.now() + chrono::TimeDelta::seconds(60));
    let r = Statistics
        .run(p, Instant::now() + Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(r.pending, 0, "{r:?}");
}

/// The months of 2026 through April, recounted from the raw items as stored.
async fn recount(
    p: &Platform,
    records: &[(String, String, Value)],
) -> BTreeMap<String, BTreeMap<&'static str, Decimal>> {
    let mut out: BTreeMap<String, BTreeMap<&'static str, Decimal>> = BTreeMap::new();
    let mut raw = Vec::new();
    for (pk, sk, _) in records {
        let item = p
            .state
            .get(&swi_store::Key::new(pk.clone(), sk.clone()))
            .await
            .unwrap()
            .unwrap();
        raw.push((pk.clone(), item.body::<Value>().unwrap()));
    }
    let day = |v: &Value| v.as_str().map(d);
    for m in 1..=4 {
        let first = NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap();
        let key = first.format("%Y-%m").to_string();
        let f = out.entry(key).or_default();
        let in_month = |x: Option<NaiveDate>| x.is_some_and(|x| x.year() == 2026 && x.month() == m);
        for (pk, v) in &raw {
            if pk.starts_with("enrolment#")
                && let Some(s) = day(&v["cover_start"])
                && s <= last
                && day(&v["cover_end"]).is_none_or(|e| e >= first)
            {
                *f.entry("persons_covered").or_default() += Decimal::ONE;
            }
            if pk.starts_with("unit#") {
                let r = day(&v["registered_on"]).unwrap();
                if r <= last && day(&v["cancelled_on"]).is_none_or(|c| c >= first) {
                    *f.entry("units").or_default() += Decimal::ONE;
                }
            }
            if pk.starts_with("bill#") && v["status"] != "withdrawn" && in_month(day(&v["month"])) {
                *f.entry("premium_billed").or_default() += dec(v["amount"].as_str().unwrap());
                if !v["payment"].is_null() {
                    *f.entry("premium_paid").or_default() +=
                        dec(v["payment"]["amount"].as_str().unwrap());
                }
            }
            if pk.starts_with("claim#") {
                let submitted: chrono::NaiveDateTime =
                    v["submitted_at"].as_str().unwrap().parse().unwrap();
                if in_month(Some(submitted.date())) {
                    *f.entry("claims_submitted").or_default() += Decimal::ONE;
                }
                if in_month(day(&v["approval"]["on"])) {
                    *f.entry("claims_approved").or_default() += Decimal::ONE;
                    *f.entry("benefits_approved").or_default() +=
                        dec(v["assessment"]["lump_sum_total"].as_str().unwrap());
                }
                if in_month(day(&v["rejection"]["on"])) {
                    *f.entry("claims_rejected").or_default() += Decimal::ONE;
                }
            }
        }
        if first >= d("2026-02-01") {
            *f.entry("beneficiaries").or_default() += Decimal::ONE;
        }
    }
    out
}

fn answered(stats: &Value) -> BTreeMap<String, BTreeMap<&'static str, Decimal>> {
    let mut out = BTreeMap::new();
    for m in stats["months"].as_array().unwrap() {
        let mut f = BTreeMap::new();
        for k in [
            "persons_covered",
            "units",
            "premium_billed",
            "premium_paid",
            "claims_submitted",
            "claims_approved",
            "claims_rejected",
            "benefits_approved",
            "beneficiaries",
        ] {
            let v = dec(m[k].as_str().unwrap());
            if !v.is_zero() {
                f.insert(k, v);
            }
        }
        out.insert(m["month"].as_str().unwrap().to_owned(), f);
    }
    out
}

#[tokio::test]
async fn the_counters_equal_a_recount_from_the_raw_items_before_and_after_changes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-04-15")));
    let p = platform(dir.path(), clock.clone());
    counters_equal_a_recount(&p, &clock).await;
}

#[tokio::test]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn the_counters_equal_a_recount_on_dynamodb_and_s3() {
    let clock = Arc::new(SetClock::new(at("2026-04-15")));
    let p = platform_aws(clock.clone()).await;
    counters_equal_a_recount(&p, &clock).await;
}

async fn counters_equal_a_recount(p: &Platform, clock: &SetClock) {
    let p = p.clone();
    let records = plant(&p).await;
    run(&p, clock).await;
    let sup = token(&p, "sup", "supervisor", "360702");
    let (s, stats) = json_call(&p, "GET", "/api/statistics/360702?year=2026", &sup, None).await;
    assert_eq!(s, 200, "{stats}");
    let expected = recount(&p, &records).await;
    assert_eq!(answered(&stats), expected, "{stats}");
    // A few figures by hand: February has e1, e2 and e3 covered, U1 and U2 enrolled.
    assert_eq!(stats["months"][1]["persons_covered"], "3");
    assert_eq!(stats["months"][1]["premium_owed"], "250.50");
    assert_eq!(stats["claims_by_step"]["handling"], "1");
    // The fund from the books: income 300 in January, 1,200 paid in February, a refund in March.
    assert_eq!(stats["months"][0]["fund_income"], "300.00");
    assert_eq!(stats["months"][1]["benefits_paid"], "1200.00");
    assert_eq!(stats["months"][2]["fund_income"], "-50.00");
    assert_eq!(stats["months"][3]["fund_balance"], "9050.00");
    let cats: Vec<&str> = stats["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["employee", "flexible", "over_age"]);

    // c2 is approved in April, e1's cover ends in March: counted again, the same as a recount.
    let mut c2 = records
        .iter()
        .find(|r| r.0 == "claim#c2")
        .unwrap()
        .2
        .clone();
    c2["status"] = "approved".into();
    c2["approval"] = json!({ "on": "2026-04-02" });
    c2["assessment"] = json!({ "items": [{ "item": "medical", "amount": "800.00", "monthly": false }], "lump_sum_total": "800.00" });
    put(&p, "claim#c2", "profile", &c2, None).await;
    change(&p, &clerk(), "claim#c2", "claim.approve").await;
    let mut e1 = records
        .iter()
        .find(|r| r.0 == "enrolment#e1")
        .unwrap()
        .2
        .clone();
    e1["cover_end"] = "2026-03-31".into();
    put(&p, "enrolment#e1", "profile", &e1, None).await;
    change(&p, &clerk(), "enrolment#e1", "enrolment.terminate").await;
    run(&p, clock).await;
    let (_, stats) = json_call(&p, "GET", "/api/statistics/360702?year=2026", &sup, None).await;
    assert_eq!(answered(&stats), recount(&p, &records).await, "{stats}");
    assert_eq!(stats["months"][3]["claims_approved"], "1");
    assert!(
        stats["claims_by_step"].as_object().unwrap().is_empty(),
        "{stats}"
    );
    // Counted again, nothing moves.
    assert_eq!(
        swi_supervision::stats::recount(&p, "claim#c2")
            .await
            .unwrap(),
        0
    );

    // The city's figures are the county's here; the XLSX and a chart.
    let city = token(&p, "sup-city", "supervisor", "360700");
    let (_, all) = json_call(&p, "GET", "/api/statistics/360700?year=2026", &city, None).await;
    assert_eq!(all["months"], stats["months"]);
    let (s, _) = json_call(&p, "GET", "/api/statistics/360700?year=2026", &sup, None).await;
    assert_eq!(s, 403, "a county's supervisor reads the county's");
    let (s, xlsx) = call(
        &p,
        "GET",
        "/api/statistics/360702?year=2026&format=xlsx",
        &sup,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(xlsx.starts_with(b"PK"));
    let (s, svg) = call(
        &p,
        "GET",
        "/api/statistics/360702/charts/persons_covered?year=2026",
        &sup,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("参保人数"), "{svg}");
    assert!(svg.matches("<rect").count() >= 4, "{svg}");
    let (s, _) = json_call(
        &p,
        "GET",
        "/api/statistics/360702/charts/nothing?year=2026",
        &sup,
        None,
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = json_call(&p, "GET", "/api/statistics/360702?year=2024", &sup, None).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_prevention_fund_is_three_percent_of_last_years_income_and_its_uses_stay_within_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-04-15")));
    let p = platform(dir.path(), clock.clone());
    plant(&p).await;
    let officer = token(&p, "officer-city", "agency_officer", "360700");
    let (s, f) = json_call(&p, "GET", "/api/statistics/prevention/2026", &officer, None).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["premium_income"], "10000.00", "{f}");
    assert_eq!(f["amount"], "300.00", "{f}");
    let (s, f) = json_call(&p, "POST", "/api/statistics/prevention/2026/uses", &officer,
        Some(json!({ "on": "2026-04-10", "project": "建筑工地安全培训", "amount": "100.00", "approval": "赣市人社字〔2026〕1号" }))).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["remaining"], "200.00");
    let (s, e) = json_call(
        &p,
        "POST",
        "/api/statistics/prevention/2026/uses",
        &officer,
        Some(
            json!({ "on": "2026-04-11", "project": "再培训", "amount": "250.00", "approval": "x" }),
        ),
    )
    .await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (422, Some("prevention_fund_exceeded")),
        "{e}"
    );
    let county_officer = token(&p, "officer-702", "agency_officer", "360702");
    let (s, _) = json_call(
        &p,
        "POST",
        "/api/statistics/prevention/2026/uses",
        &county_officer,
        Some(json!({ "on": "2026-04-11", "project": "p", "amount": "1.00", "approval": "x" })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = json_call(&p, "GET", "/api/statistics/prevention/2025", &officer, None).await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (422, Some("not_in_force")),
        "{e}"
    );
    let events = swi_platform::mutation::events(&p, "prevention#2026")
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}
