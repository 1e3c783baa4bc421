//! The internal supervision register (Art. 44): an alert assigned, investigated and closed with
//! a finding, each by the people who may; the register of a year as JSON and XLSX.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use swi_platform::alerts::Alert;
use swi_platform::clock::SetClock;
use swi_platform::mutation::raise_once;

async fn planted(p: &swi_platform::Platform) {
    let alert = Alert {
        id: "invoice_reused:FP-001".into(),
        kind: "invoice_reused".into(),
        subject: "claim#c-2".into(),
        county: Some(swi_rules::ids::County::parse("360702").unwrap()),
        evidence: json!({ "invoice": "FP-001", "claims": ["c-1", "c-2"] }),
        raised_by: "rule:invoice_reused".into(),
        raised_at: p.clock.now(),
        zh: "同一票据号出现在两个待遇申请中".into(),
        en: "one invoice number in two claims".into(),
        basis: Some("Art. 43".into()),
        links: vec!["claim#c-2".into(), "claim#c-1".into()],
        ..Alert::default()
    };
    assert!(raise_once(p, &clerk(), &alert).await.unwrap());
    assert!(
        !raise_once(p, &clerk(), &alert).await.unwrap(),
        "raised once"
    );
}

#[tokio::test]
async fn an_alert_is_worked_from_raised_to_closed_by_its_assignee() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    planted(&p).await;
    let sup = token(&p, "sup-1", "supervisor", "360702");
    let sup2 = token(&p, "sup-2", "supervisor", "360702");
    let officer = token(&p, "officer-1", "agency_officer", "360702");
    let other = token(&p, "sup-9", "supervisor", "360703");
    let id = "invoice_reused:FP-001";
    let path = |tail: &str| format!("/api/alerts/{}{tail}", id.replace('#', "%23"));

    let (s, open) = json_call(&p, "GET", "/api/alerts?county=360702", &officer, None).await;
    assert_eq!(s, 200, "{open}");
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (s, body) = json_call(&p, "GET", &path(""), &other, None).await;
    assert_eq!(
        (s.as_u16(), body["error"]["code"].as_str()),
        (403, Some("forbidden_county"))
    );
    // The officer reads but does not work it.
    let (s, body) = json_call(&p, "POST", &path("/assign"), &officer, Some(json!({}))).await;
    assert_eq!(
        (s.as_u16(), body["error"]["code"].as_str()),
        (403, Some("forbidden_role"))
    );
    // Nothing to note or close before it is assigned.
    let (s, _) = json_call(
        &p,
        "POST",
        &path("/notes"),
        &sup,
        Some(json!({"text": "看了"})),
    )
    .await;
    assert_eq!(s, 409);

    let (s, a) = json_call(
        &p,
        "POST",
        &path("/assign"),
        &sup,
        Some(json!({"note": "先查票据"})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        (a["status"].as_str(), a["assignee"].as_str()),
        (Some("assigned"), Some("sup-1"))
    );
    // Someone else may not note or close it…
    let (s, body) = json_call(
        &p,
        "POST",
        &path("/notes"),
        &sup2,
        Some(json!({"text": "x"})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), body["error"]["code"].as_str()),
        (403, Some("not_assignee"))
    );
    clock.set(at_time("2026-03-03", "10:00:00"));
    let (s, a) = json_call(
        &p,
        "POST",
        &path("/notes"),
        &sup,
        Some(json!({"text": "调取两张发票原件，核对医院收费系统：同一张发票\r\n被两次报销"})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    // A real risk needs its measures.
    let (s, body) = json_call(
        &p,
        "POST",
        &path("/close"),
        &sup,
        Some(json!({"outcome": "confirmed", "finding": "重复报销"})),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = json_call(
        &p,
        "POST",
        &path("/close"),
        &sup,
        Some(json!({"outcome": "maybe", "finding": "?"})),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, a) = json_call(
        &p,
        "POST",
        &path("/close"),
        &sup,
        Some(json!({
        "outcome": "confirmed", "finding": "同一发票在两个申请中重复报销",
        "measures": "第二笔已追回，承办人员约谈"})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "closed");
    let kinds: Vec<&str> = a["record"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["assigned", "note", "closed"]);
    assert_eq!(
        a["record"][1]["text"],
        "调取两张发票原件，核对医院收费系统：同一张发票\n被两次报销"
    );
    // Closed: no more work on it, and it has left the open list.
    let (s, _) = json_call(&p, "POST", &path("/assign"), &sup2, Some(json!({}))).await;
    assert_eq!(s, 409);
    let (_, open) = json_call(&p, "GET", "/api/alerts?county=360702", &sup, None).await;
    assert!(open.as_array().unwrap().is_empty());
    let (_, closed) = json_call(
        &p,
        "GET",
        "/api/alerts?county=360702&status=closed",
        &sup,
        None,
    )
    .await;
    assert_eq!(closed.as_array().unwrap().len(), 1);

    // The register of the year, and its XLSX; every step is on the alert's audit trail.
    let (s, reg) = json_call(
        &p,
        "GET",
        "/api/alerts/register?county=360702&year=2026",
        &officer,
        None,
    )
    .await;
    assert_eq!(s, 200, "{reg}");
    assert_eq!(reg[0]["outcome"], "confirmed");
    assert_eq!(reg[0]["assignee"], "sup-1的姓名");
    assert_eq!(reg[0]["notes"], 1);
    assert_eq!(reg[0]["closed_on"], "2026-03-03");
    let (s, xlsx) = call(
        &p,
        "GET",
        "/api/alerts/register?county=360702&year=2026&format=xlsx",
        &officer,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(xlsx.starts_with(b"PK"));
    let (_, empty) = json_call(
        &p,
        "GET",
        "/api/alerts/register?county=360702&year=2025",
        &officer,
        None,
    )
    .await;
    assert!(empty.as_array().unwrap().is_empty());
    let events = swi_platform::mutation::events(&p, &format!("alert#{id}"))
        .await
        .unwrap();
    let commands: Vec<&str> = events.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(
        commands,
        ["alert.raise", "alert.assign", "alert.note", "alert.close"]
    );
}

#[tokio::test]
async fn a_supervisor_takes_over_an_alert_and_the_city_reads_only_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock);
    planted(&p).await;
    let sup = token(&p, "sup-1", "supervisor", "360702");
    let sup2 = token(&p, "sup-2", "supervisor", "360702");
    let path = "/api/alerts/invoice_reused:FP-001";
    let (s, _) = json_call(
        &p,
        "POST",
        &format!("{path}/assign"),
        &sup,
        Some(json!({"assignee": "sup-3"})),
    )
    .await;
    assert_eq!(s, 400, "another's name is needed");
    let (s, a) = json_call(
        &p,
        "POST",
        &format!("{path}/assign"),
        &sup,
        Some(json!({"assignee": "sup-3", "assignee_name": "王五"})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["assignee_name"], "王五");
    let (s, a) = json_call(
        &p,
        "POST",
        &format!("{path}/assign"),
        &sup2,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["assignee"], "sup-2");
    let county_sup = token(&p, "sup-1", "supervisor", "360702");
    let (s, _) = json_call(&p, "GET", "/api/alerts?county=360700", &county_sup, None).await;
    assert_eq!(s, 403);
    let (s, _) = json_call(
        &p,
        "GET",
        "/api/alerts/register?county=360702&year=1999",
        &sup,
        None,
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_yearly_plan_is_recorded_its_checks_done_with_their_alerts_and_overdue_ones_alerted() {
    use swi_platform::jobs::Job;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    planted(&p).await;
    let sup = token(&p, "sup-1", "supervisor", "360702");
    let officer = token(&p, "officer-1", "agency_officer", "360702");
    let path = "/api/alerts/plans/360702/2026";
    let plan = json!({ "aims": "年度参保、待遇与内部监督", "checks": [
        { "title": "重复报销专项检查", "area": "benefits", "rules": ["invoice_reused"], "due": "2026-06-30" },
        { "title": "参保单位比对", "area": "enrolment", "rules": ["unit_not_enrolled"], "due": "2026-03-01" },
    ]});
    let (s, body) = json_call(&p, "PUT", path, &officer, Some(plan.clone())).await;
    assert_eq!(s, 403, "officers read, supervisors keep it: {body}");
    let (s, bad) = json_call(
        &p,
        "PUT",
        path,
        &sup,
        Some(json!({ "aims": "x", "checks": [
        { "title": "t", "area": "benefits", "due": "2027-01-01" }]})),
    )
    .await;
    assert_eq!(s, 400, "{bad}");
    let (s, recorded) = json_call(&p, "PUT", path, &sup, Some(plan.clone())).await;
    assert_eq!(s, 200, "{recorded}");
    assert_eq!(recorded["checks"][1]["n"], 2);

    // The first check done: the invoice alert of the year is linked with it.
    let (s, done) = json_call(
        &p,
        "POST",
        &format!("{path}/checks/1/result"),
        &sup,
        Some(json!({ "finding": "抽查 40 件，发现 1 件重复报销，已追回" })),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        done["checks"][0]["result"]["alerts"],
        json!(["invoice_reused:FP-001"])
    );
    let (s, _) = json_call(
        &p,
        "POST",
        &format!("{path}/checks/1/result"),
        &sup,
        Some(json!({ "finding": "again" })),
    )
    .await;
    assert_eq!(s, 409);
    // A revision may not drop a done check.
    let (s, _) = json_call(
        &p,
        "PUT",
        path,
        &sup,
        Some(json!({ "aims": "改", "checks": [
        { "title": "参保单位比对", "area": "enrolment", "due": "2026-09-01" }]})),
    )
    .await;
    assert_eq!(s, 409);
    let (s, read) = json_call(&p, "GET", path, &officer, None).await;
    assert_eq!(s, 200, "{read}");

    // The second check was due on 1 March and has no result: the nightly sweep alerts it once.
    swi_supervision::watch::RiskSweep
        .run(&p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    swi_supervision::watch::RiskSweep
        .run(&p, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap();
    let (_, open) = json_call(&p, "GET", "/api/alerts?county=360702", &sup, None).await;
    let ids: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter()
            .filter(|i| i.starts_with("plan_check_overdue:"))
            .count(),
        1,
        "{ids:?}"
    );
    assert!(ids.contains(&"plan_check_overdue:360702#2026:2"), "{ids:?}");
}
