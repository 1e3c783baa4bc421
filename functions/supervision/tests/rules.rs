//! The risk rules (Art. 42-44, 48): each raises its alert on a planted case and stays quiet on a
//! clean one, run by the watch over the audit ledger or by the nightly sweep. Records are planted
//! as their steps store them; the host's journey test (`functions/local/tests/supervision.rs`)
//! plants them through the steps' own routes.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use swi_domain::{Actor, Jurisdiction, Role};
use swi_platform::Platform;
use swi_platform::clock::{Clock, SetClock};
use swi_platform::jobs::Job;
use swi_store::{Condition, Item, TxOp};
use swi_supervision::watch::{RiskSweep, RiskWatch};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

async fn plant(p: &Platform, pk: &str, sk: &str, body: Value, gsi: Option<(String, String)>) {
    let mut item = Item::new(pk, sk, &body).unwrap();
    if let Some((gpk, gsk)) = gsi {
        item = item.with_gsi1(gpk, gsk);
    }
    p.state
        .transact(vec![TxOp::Put {
            item,
            condition: Condition::None,
        }])
        .await
        .unwrap();
}

fn staff(sub: &str, role: Role) -> Actor {
    Actor {
        sub: sub.into(),
        role,
        jurisdiction: Jurisdiction::parse("360702").unwrap(),
        name: format!("{sub}的姓名"),
        unit: None,
    }
}

/// The alerts of 360702 of every status, by id.
async fn alerts(p: &Platform) -> Vec<String> {
    let sup = token(p, "sup", "supervisor", "360702");
    let (s, body) = json_call(p, "GET", "/api/alerts?county=360702", &sup, None).await;
    assert_eq!(s, 200, "{body}");
    let mut ids: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Runs the watch once the lag has passed.
async fn watch(p: &Platform, clock: &SetClock) {
    clock.set(clock.now() + chrono::TimeDelta::seconds(60));
    let r = RiskWatch.run(p, deadline()).await.unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
}

fn enrolment(
    id: &str,
    unit: Option<&str>,
    person: &str,
    start: &str,
    end: Option<&str>,
    wage: &str,
) -> Value {
    json!({
        "id": id, "unit": unit, "owner": unit.is_none().then_some("citizen-1"), "county": "360702",
        "name": "张三", "id_type": "resident", "id_number": "360702199001011234", "person": person,
        "phone": "13800000000", "category": "employee", "declared_wage": wage, "start": start,
        "track": null, "agreement_end": null, "status": if end.is_some() { "terminated" } else { "covered" },
        "materials": {}, "missing": [], "entered_on": start, "paid_at": null,
        "cover_start": start, "cover_end": end, "notice": null, "steps": [],
    })
}

async fn plant_enrolment(p: &Platform, e: Value) {
    let id = e["id"].as_str().unwrap().to_owned();
    let person = e["person"].as_str().unwrap().to_owned();
    let start = e["start"].as_str().unwrap().to_owned();
    plant(
        p,
        &format!("enrolment#{id}"),
        "profile",
        e,
        Some((format!("person#{person}"), format!("{start}#{id}"))),
    )
    .await;
}

#[tokio::test]
async fn a_unit_of_the_work_injury_scheme_not_enrolled_after_the_term_is_alerted_nightly() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    let facts = |code: &str, insured: bool, as_of: &str| {
        json!({ "code": code, "name": format!("单位{code}"), "county": "360702",
            "registration_no": format!("GS-{code}"), "insured": insured, "industry_class": 4,
            "rate_band": "1", "band_decided_on": "2025-01-01", "as_of": as_of,
            "source": "roster:x", "evidence_sha256": "00" })
    };
    for (code, insured, as_of) in [
        ("91360702MA35G6QLA1", true, "2026-01-02"), // not enrolled: alerted
        ("91360702MA35G6QLB2", true, "2026-01-02"), // enrolled: quiet
        ("91360702MA35G6QLC3", false, "2026-01-02"), // no longer insured there: quiet
        ("91360702MA35G6QLD4", true, "2026-02-20"), // within the term: quiet
    ] {
        plant(
            p_ref(&p),
            &format!("wi#{code}"),
            "facts",
            facts(code, insured, as_of),
            Some(("wi-units#360702".into(), code.into())),
        )
        .await;
    }
    plant(
        &p,
        "unit#91360702MA35G6QLB2",
        "profile",
        unit("91360702MA35G6QLB2", "单位乙", "1234567890123"),
        None,
    )
    .await;
    let r = RiskSweep.run(&p, deadline()).await.unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(alerts(&p).await, ["unit_not_enrolled:91360702MA35G6QLA1"]);
}

fn p_ref(p: &Platform) -> &Platform {
    p
}

/// A unit as enrollment stores it.
fn unit(code: &str, name: &str, account: &str) -> Value {
    json!({ "code": code, "name": name, "county": "360702", "industry_class": 4, "rate_band": "1",
        "work_injury_no": "GS", "account": { "bank": "icbc", "number": account, "holder": name },
        "contact": { "name": "联系人", "phone": "13800000000" }, "status": "active",
        "registered_on": "2026-01-01", "cancelled_on": null })
}

#[tokio::test]
async fn overlapping_enrolments_of_one_person_and_a_wage_below_the_floor_are_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    let clerk = clerk();
    // Person A: two units at once (and the second declares 3,000 a month, below 60 % of 6,525).
    plant_enrolment(
        &p,
        enrolment("e-a1", Some("U1"), "pa", "2026-01-01", None, "5000"),
    )
    .await;
    plant_enrolment(
        &p,
        enrolment("e-a2", Some("U2"), "pa", "2026-02-01", None, "3000"),
    )
    .await;
    // Person B: one unit after another, each wage above the floor.
    plant_enrolment(
        &p,
        enrolment(
            "e-b1",
            Some("U1"),
            "pb",
            "2025-06-01",
            Some("2025-12-31"),
            "5000",
        ),
    )
    .await;
    plant_enrolment(
        &p,
        enrolment("e-b2", Some("U2"), "pb", "2026-01-01", None, "3915.00"),
    )
    .await;
    for id in ["e-a1", "e-a2", "e-b1", "e-b2"] {
        change(&p, &clerk, &format!("enrolment#{id}"), "enrolment.accept").await;
    }
    watch(&p, &clock).await;
    assert_eq!(
        alerts(&p).await,
        ["enrolment_overlap:e-a1:e-a2", "wage_below_base:e-a2"]
    );
    let sup = token(&p, "sup", "supervisor", "360702");
    let (_, a) = json_call(&p, "GET", "/api/alerts/wage_below_base:e-a2", &sup, None).await;
    assert_eq!(a["evidence"]["floor"], "3915.00", "{a}");
    assert_eq!(a["basis"], "Art. 48");
    assert_eq!(a["rule"], "wage_below_base@2025-01-01");
    assert_eq!(a["links"], json!(["enrolment#e-a2", "unit#U2"]));
    // Run again: nothing new, nothing twice.
    watch(&p, &clock).await;
    assert_eq!(alerts(&p).await.len(), 2);
}

fn claim(id: &str, injury: &str, status: &str, transfer: Option<&str>, lines: Value) -> Value {
    json!({ "id": id, "injury": injury, "county": "360702", "unit": "U1", "category": "employee",
        "items": ["medical"], "status": status, "steps": [], "submitted_at": "2026-02-01T09:00:00",
        "handling": { "transfer": transfer }, "review": { "fee_lines": lines },
        "assessment": null, "approval": null, "rejection": null })
}

fn line(invoice: &str, date: &str, amount: &str, catalogue: &str, agreement: bool) -> Value {
    json!({ "item": "medical", "invoice_number": invoice, "provider": "赣州市人民医院",
        "agreement_institution": agreement, "date": date, "amount": amount,
        "catalogue": catalogue, "allowed": amount })
}

async fn plant_injury(p: &Platform, id: &str, enrolment: &str, injured_on: &str, body_part: &str) {
    plant(
        p,
        &format!("injury#{id}"),
        "profile",
        json!({ "id": id, "county": "360702",
        "covered_by": { "kind": "enrolment", "id": enrolment, "unit": "U1", "owner": null },
        "recognition": { "injured_on": injured_on, "body_part": body_part } }),
        None,
    )
    .await;
}

#[tokio::test]
async fn claims_soon_after_cover_with_a_reused_invoice_or_fees_out_of_line_are_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    let reviewer = staff("reviewer-1", Role::FirstReviewer);
    plant_enrolment(
        &p,
        enrolment("e-1", Some("U1"), "p1", "2026-01-01", None, "5000"),
    )
    .await;
    plant_enrolment(
        &p,
        enrolment("e-2", Some("U1"), "p2", "2025-01-01", None, "5000"),
    )
    .await;
    // c-1: injured 9 days after cover began; its invoice FP-001 comes back in c-2.
    plant_injury(&p, "i-1", "e-1", "2026-01-10", "左手").await;
    plant(
        &p,
        "claim#c-1",
        "profile",
        claim(
            "c-1",
            "i-1",
            "first_review",
            None,
            json!([line("FP-001", "2026-01-11", "800", "within", true)]),
        ),
        None,
    )
    .await;
    // c-2: another person's injury, long covered; the same invoice, one line before the injury,
    // most fees outside the catalogues, and an institution outside the agreement unapproved.
    plant_injury(&p, "i-2", "e-2", "2026-01-20", "左手").await;
    plant(
        &p,
        "claim#c-2",
        "profile",
        claim(
            "c-2",
            "i-2",
            "first_review",
            Some("unapproved"),
            json!([
                line("fp-001", "2026-01-21", "100", "within", true),
                line("FP-002", "2026-01-15", "100", "within", true),
                line("FP-003", "2026-01-22", "900", "outside", false),
            ]),
        ),
        None,
    )
    .await;
    // c-3: clean — long covered, its own invoices after the injury, within the catalogues, an
    // emergency at the nearest hospital.
    plant_injury(&p, "i-3", "e-2", "2026-02-01", "右脚").await;
    plant(
        &p,
        "claim#c-3",
        "profile",
        claim(
            "c-3",
            "i-3",
            "first_review",
            Some("emergency"),
            json!([line("FP-100", "2026-02-01", "500", "within", false),]),
        ),
        None,
    )
    .await;
    for c in ["c-1", "c-2", "c-3"] {
        change(&p, &clerk(), &format!("claim#{c}"), "claim.submit").await;
    }
    clock.set(at_time("2026-03-02", "15:00:00"));
    for c in ["c-1", "c-2", "c-3"] {
        change(&p, &reviewer, &format!("claim#{c}"), "claim.first_review").await;
    }
    watch(&p, &clock).await;
    assert_eq!(
        alerts(&p).await,
        [
            "claim_soon_after_cover:c-1",
            "fees_out_of_line:c-2:before_injury",
            "fees_out_of_line:c-2:catalogue",
            "invoice_reused:FP-001:c-2",
            "non_agreement_treatment:c-2",
        ]
    );
}

#[tokio::test]
async fn fees_far_above_the_same_body_parts_are_alerted_once_enough_claims_compare() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at_time("2026-03-02", "10:00:00")));
    let p = platform(dir.path(), clock.clone());
    let reviewer = staff("reviewer-1", Role::FirstReviewer);
    plant_enrolment(
        &p,
        enrolment("e-2", Some("U1"), "p2", "2025-01-01", None, "5000"),
    )
    .await;
    // Five approved claims for a left hand, 1,000 allowed each; then one of 2,500 (quiet: under
    // three times the median) and one of 10,000 (alerted).
    for (i, amount) in ["1000", "1000", "1000", "1000", "1000", "2500", "10000"]
        .iter()
        .enumerate()
    {
        let c = format!("c-{i}");
        let inj = format!("i-{i}");
        plant_injury(&p, &inj, "e-2", "2026-01-20", "左手").await;
        plant(
            &p,
            &format!("claim#{c}"),
            "profile",
            claim(
                &c,
                &inj,
                "approved",
                None,
                json!([line(
                    &format!("FP-{i}"),
                    "2026-01-21",
                    amount,
                    "within",
                    true
                )]),
            ),
            None,
        )
        .await;
        change(&p, &reviewer, &format!("claim#{c}"), "claim.approve").await;
        clock.set(clock.now() + chrono::TimeDelta::hours(1));
    }
    watch(&p, &clock).await;
    assert_eq!(alerts(&p).await, ["fees_out_of_line:c-6:outlier"]);
}

#[tokio::test]
async fn steps_out_of_hours_or_minutes_apart_are_alerted_and_office_work_is_not() {
    let dir = tempfile::tempdir().unwrap();
    // Monday 2 March 2026.
    let clock = Arc::new(SetClock::new(at_time("2026-03-02", "10:00:00")));
    let p = platform(dir.path(), clock.clone());
    plant_injury(&p, "i-1", "e-none", "2026-01-10", "左手").await;
    for c in ["c-1", "c-2"] {
        plant(
            &p,
            &format!("claim#{c}"),
            "profile",
            claim(c, "i-1", "handling", None, json!([])),
            None,
        )
        .await;
    }
    let acceptor = staff("acceptor-1", Role::Acceptor);
    let handler = staff("handler-1", Role::Handler);
    // c-1: accepted at 10:00, handled at 11:30: quiet.
    change(&p, &acceptor, "claim#c-1", "claim.accept").await;
    clock.set(at_time("2026-03-02", "11:30:00"));
    change(&p, &handler, "claim#c-1", "claim.confirm_eligibility").await;
    // c-2: accepted at 16:00, handled two minutes later.
    clock.set(at_time("2026-03-02", "16:00:00"));
    change(&p, &acceptor, "claim#c-2", "claim.accept").await;
    clock.set(at_time("2026-03-02", "16:02:00"));
    change(&p, &handler, "claim#c-2", "claim.confirm_eligibility").await;
    watch(&p, &clock).await;
    // Saturday 7 March: a first review.
    clock.set(at_time("2026-03-07", "10:00:00"));
    change(
        &p,
        &staff("reviewer-1", Role::FirstReviewer),
        "claim#c-1",
        "claim.first_review",
    )
    .await;
    watch(&p, &clock).await;
    assert_eq!(
        alerts(&p).await,
        [
            "step_out_of_hours:claim#c-1:3",
            "steps_too_quick:claim#c-2:2"
        ]
    );
    let sup = token(&p, "sup", "supervisor", "360702");
    let (_, a) = json_call(
        &p,
        "GET",
        "/api/alerts/steps_too_quick:claim%23c-2:2",
        &sup,
        None,
    )
    .await;
    assert_eq!(a["evidence"]["seconds"], 120, "{a}");
}

#[tokio::test]
async fn payees_sharing_one_account_are_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    let finance = staff("finance-1", Role::Finance);
    let account = |number: &str, holder: &str| {
        json!({ "account": { "kind": "unit_account",
        "bank": "icbc", "branch": "赣州分行", "number": number, "holder": holder },
        "recorded_on": "2026-03-02", "recorded_at": "2026-03-02T09:00:00", "by": "财务", "replaced": [] })
    };
    for (code, name, number) in [
        ("91360702MA35G6QLA1", "单位甲", "1234567890123"),
        ("91360702MA35G6QLB2", "单位乙", "1234567890123"),
        ("91360702MA35G6QLC3", "单位丙", "9999999999999"),
    ] {
        plant(
            &p,
            &format!("unit#{code}"),
            "profile",
            unit(code, name, number),
            None,
        )
        .await;
        plant(
            &p,
            &format!("account#payee-unit#{code}"),
            "current",
            account(number, name),
            None,
        )
        .await;
        change(&p, &finance, &format!("unit#{code}"), "account.record").await;
    }
    watch(&p, &clock).await;
    assert_eq!(
        alerts(&p).await,
        ["shared_payee_account:unit#91360702MA35G6QLB2"]
    );
    let sup = token(&p, "sup", "supervisor", "360702");
    let (_, a) = json_call(
        &p,
        "GET",
        "/api/alerts/shared_payee_account:unit%2391360702MA35G6QLB2",
        &sup,
        None,
    )
    .await;
    assert_eq!(a["evidence"]["account"], "1234 **** 0123", "{a}");
    assert!(
        !a.to_string().contains("1234567890123"),
        "the number is masked: {a}"
    );
}

#[tokio::test]
async fn a_refused_second_step_is_recorded_and_alerted() {
    use axum::routing::post;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    // A step that refuses as claim review does when its acceptor tries the first review.
    async fn refuse() -> Result<(), swi_platform::ApiError> {
        Err(swi_domain::Denied::Duties("already did the acceptance".into()).into())
    }
    async fn fine() -> Result<(), swi_platform::ApiError> {
        Err(swi_domain::Denied::NotOwner.into())
    }
    let routes = swi_platform::api::Routes::new()
        .route("/api/claims/{id}/first-review", post(refuse))
        .route("/api/claims/{id}/other", post(fine));
    let (app, _) = swi_platform::api::app(p.clone(), vec![routes]);
    let acceptor = token(&p, "acceptor-1", "acceptor", "360702");
    for path in ["/api/claims/c-9/first-review", "/api/claims/c-9/other"] {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(path)
            .header("authorization", format!("Bearer {acceptor}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let res = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        assert_eq!(res.status(), 403);
    }
    watch(&p, &clock).await;
    assert_eq!(alerts(&p).await, ["duties_refused:acceptor-1:1"]);
    let sup = token(&p, "sup", "supervisor", "360702");
    let (_, a) = json_call(
        &p,
        "GET",
        "/api/alerts/duties_refused:acceptor-1:1",
        &sup,
        None,
    )
    .await;
    assert_eq!(a["subject"], "claim#c-9", "{a}");
    assert_eq!(a["evidence"]["path"], "/api/claims/c-9/first-review");
}

#[tokio::test]
async fn the_rules_are_listed_with_their_thresholds_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock);
    let officer = token(&p, "officer", "agency_officer", "360700");
    let (s, rules) = json_call(&p, "GET", "/api/alerts/rules", &officer, None).await;
    assert_eq!(s, 200, "{rules}");
    assert_eq!(rules.as_array().unwrap().len(), 12);
    let soon = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "claim_soon_after_cover")
        .unwrap();
    assert_eq!(soon["basis"], "Art. 43");
    assert_eq!(soon["thresholds"][0]["value"], "30");
    assert_eq!(soon["thresholds"][0]["status"], "assumed");
    let citizen = token(&p, "c", "citizen", "360702");
    let (s, _) = json_call(&p, "GET", "/api/alerts/rules", &citizen, None).await;
    assert_eq!(s, 403);
}
