//! The audit ledger verified (Art. 44): daily anchors written once a day has ended, chained and
//! kept as documents; the verifier finds an event altered in place, an event deleted from the
//! middle, and a case's last event deleted — which only the anchor shows — and the daily job
//! raises an alert naming the case and the event.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;
use swi_platform::clock::{Clock, SetClock};
use swi_platform::jobs::Job;
use swi_store::{Condition, Key, TxOp};
use swi_supervision::{anchor, verify};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

/// Three days of changes on three cases, anchored.
async fn ledger(p: &swi_platform::Platform, clock: &SetClock) {
    let actor = clerk();
    for (day, cases) in [
        ("2026-03-02", &["unit#A", "claim#c-1"][..]),
        ("2026-03-03", &["claim#c-1", "claim#c-2"][..]),
        ("2026-03-04", &["claim#c-1", "unit#A", "claim#c-2"][..]),
    ] {
        clock.set(at(day));
        for case in cases {
            change(p, &actor, case, "test.change").await;
            change(p, &actor, case, "test.change_again").await;
        }
    }
    clock.set(at("2026-03-05"));
    let report = anchor::AuditAnchor.run(p, deadline()).await.unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
}

async fn event_item(p: &swi_platform::Platform, case: &str, seq: u64) -> swi_store::Item {
    p.state
        .get(&Key::new(format!("audit#{case}"), format!("seq#{seq:012}")))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn anchors_chain_day_by_day_and_an_intact_ledger_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    ledger(&p, &clock).await;

    let anchors = anchor::anchors(p.state.as_ref()).await.unwrap();
    let days: Vec<String> = anchors.iter().map(|a| a.day.to_string()).collect();
    assert_eq!(days, ["2026-03-02", "2026-03-03", "2026-03-04"]);
    assert_eq!(anchors[0].prev, swi_domain::audit::GENESIS);
    assert_eq!(anchors[1].prev, anchors[0].digest);
    assert_eq!((anchors[2].cases, anchors[2].events), (3, 6));
    // The document kept says the same.
    let sha = swi_store::Sha256::parse(&anchors[2].sha256).unwrap();
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut p.docs.get(&sha).await.unwrap(), &mut text)
        .await
        .unwrap();
    let (day, prev, lines) = anchor::parse(&text).unwrap();
    assert_eq!(
        (day.to_string(), prev),
        ("2026-03-04".into(), anchors[1].digest.clone())
    );
    let c1 = lines.iter().find(|l| l.case == "claim#c-1").unwrap();
    assert_eq!((c1.first, c1.last), (5, 6));

    // Run again: nothing more to anchor; changes of today are checked against the index.
    let again = anchor::AuditAnchor.run(&p, deadline()).await.unwrap();
    assert_eq!(again.done, 0);
    change(&p, &clerk(), "claim#c-1", "test.today").await;
    let v = verify::verify_all(p.state.as_ref(), p.docs.as_ref(), clock.today())
        .await
        .unwrap();
    assert!(v.broken.is_empty(), "{v:?}");
    assert_eq!(v.anchors, 3);
    // Seven case-days anchored; today, claim#c-1 and the three anchors' own trails.
    assert_eq!(v.cases, 11, "{v:?}");
}

#[tokio::test]
async fn an_altered_event_and_a_deleted_last_event_are_found_and_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    altered_and_deleted(&p, &clock).await;
}

#[tokio::test]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn an_altered_event_and_a_deleted_last_event_are_found_on_dynamodb_and_s3() {
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform_aws(clock.clone()).await;
    altered_and_deleted(&p, &clock).await;
}

async fn altered_and_deleted(p: &swi_platform::Platform, clock: &SetClock) {
    let p = p.clone();
    ledger(&p, clock).await;

    // Someone with the table rewrites what event 3 of claim#c-1 says was done.
    let item = event_item(&p, "claim#c-1", 3).await;
    let mut body: serde_json::Value = item.body().unwrap();
    body["command"] = "test.nothing_happened".into();
    let altered = swi_store::Item::new(item.pk.clone(), item.sk.clone(), &body)
        .unwrap()
        .with_gsi1(item.gsi1.clone().unwrap().pk, item.gsi1.clone().unwrap().sk);
    p.state
        .transact(vec![TxOp::Put {
            item: altered,
            condition: Condition::VersionIs(item.version),
        }])
        .await
        .unwrap();
    // …and deletes the last event of claim#c-2 (its chain still checks on its own).
    let last = event_item(&p, "claim#c-2", 4).await;
    p.state
        .transact(vec![TxOp::Delete {
            key: last.key(),
            condition: Condition::VersionIs(last.version),
        }])
        .await
        .unwrap();
    let events = swi_platform::mutation::events(&p, "claim#c-2")
        .await
        .unwrap();
    assert!(swi_domain::audit::verify_chain(&events).is_ok());

    let v = verify::verify_all(p.state.as_ref(), p.docs.as_ref(), clock.today())
        .await
        .unwrap();
    let found: Vec<(String, u64)> = v.broken.iter().map(|b| (b.case.clone(), b.seq)).collect();
    assert_eq!(
        found,
        [("claim#c-1".to_owned(), 3), ("claim#c-2".to_owned(), 4)],
        "{v:?}"
    );
    assert!(v.broken[0].reason.contains("altered"), "{v:?}");
    assert!(v.broken[1].reason.contains("deleted"), "{v:?}");

    // The daily job finds the same, keeps its round, and alerts the city's supervisors once per
    // case, naming the case and the event.
    let report = verify::AuditVerify.run(&p, deadline()).await.unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
    let (round, _) = verify::current(p.state.as_ref()).await.unwrap().unwrap();
    assert_eq!(round.breaks, 2, "{round:?}");
    let sup = token(&p, "supervisor-city", "supervisor", "360700");
    let (s, alerts) = json_call(&p, "GET", "/api/alerts?county=360700", &sup, None).await;
    assert_eq!(s, 200, "{alerts}");
    let ids: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"audit_chain_broken:claim#c-1"), "{ids:?}");
    assert!(ids.contains(&"audit_chain_broken:claim#c-2"), "{ids:?}");
    let c2 = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "audit_chain_broken:claim#c-2")
        .unwrap();
    assert_eq!(c2["evidence"]["seq"], 4, "{c2}");
    // A second round the next day raises nothing twice.
    clock.set(at("2026-03-06"));
    verify::AuditVerify.run(&p, deadline()).await.unwrap();
    let (_, again) = json_call(&p, "GET", "/api/alerts?county=360700", &sup, None).await;
    assert_eq!(
        again.as_array().unwrap().len(),
        alerts.as_array().unwrap().len()
    );
}

#[tokio::test]
async fn a_replaced_anchor_document_or_a_removed_anchor_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    ledger(&p, &clock).await;
    // The middle anchor removed: the next one no longer follows.
    let k = anchor::day_key("2026-03-03".parse().unwrap());
    let item = p.state.get(&k).await.unwrap().unwrap();
    p.state
        .transact(vec![TxOp::Delete {
            key: k,
            condition: Condition::VersionIs(item.version),
        }])
        .await
        .unwrap();
    let v = verify::verify_all(p.state.as_ref(), p.docs.as_ref(), clock.today())
        .await
        .unwrap();
    assert_eq!(v.broken.len(), 1, "{v:?}");
    assert_eq!(v.broken[0].case, "audit-anchor#2026-03-04");
}

#[tokio::test]
async fn the_trail_of_a_case_is_read_by_its_countys_supervisor_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-03-02")));
    let p = platform(dir.path(), clock.clone());
    // A unit of 360702, with its record.
    let unit = serde_json::json!({ "code": "A", "county": "360702" });
    p.state
        .transact(vec![TxOp::Put {
            item: swi_store::Item::new("unit#A", "profile", &unit).unwrap(),
            condition: Condition::NotExists,
        }])
        .await
        .unwrap();
    change(&p, &clerk(), "unit#A", "unit.register").await;
    change(&p, &clerk(), "unit#A", "unit.change").await;
    let own = token(&p, "sup-702", "supervisor", "360702");
    let other = token(&p, "sup-703", "supervisor", "360703");
    let (s, trail) = json_call(&p, "GET", "/api/audit/unit%23A", &own, None).await;
    assert_eq!(s, 200, "{trail}");
    assert_eq!(trail["events"].as_array().unwrap().len(), 2);
    assert_eq!(trail["intact"], true);
    assert_eq!(trail["events"][1]["command"], "unit.change");
    let (s, body) = json_call(&p, "GET", "/api/audit/unit%23A", &other, None).await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden_county");
    let clerk_token = token(&p, "acceptor-1", "acceptor", "360702");
    let (s, _) = json_call(&p, "GET", "/api/audit/unit%23A", &clerk_token, None).await;
    assert_eq!(s, 403);
    let (s, _) = json_call(&p, "GET", "/api/audit/unit%23B", &own, None).await;
    assert_eq!(s, 403, "a case of no known county is the city's");
    let city = token(&p, "sup-city", "supervisor", "360700");
    let (s, _) = json_call(&p, "GET", "/api/audit/unit%23B", &city, None).await;
    assert_eq!(s, 404);
}
