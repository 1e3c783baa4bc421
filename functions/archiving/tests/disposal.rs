//! Appraisal and destruction on the embedded store, years on: a volume of 10-year records is
//! not destroyed before its day; an appraisal extends it by a year, raising every document's
//! lock; past that day it is listed, proposed, approved by the agency (a second role) and
//! witnessed by two people — one witness alone, the same person twice, the proposer or the
//! approver witnessing destroys nothing — and a hold stops it, before and while it runs (a
//! supervisor's hold lifted only by a supervisor). Destroyed:
//! every document no other volume keeps, with a destruction list (销毁清册) kept for ever that
//! names each by archive number and digest; a document a permanent volume also holds stays,
//! and the store itself refuses to remove it.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::{Value, json};
use swi_archive::retention::RecordClass;
use swi_platform::clock::SetClock;
use swi_platform::jobs::Job;

mod support;

use support::*;

/// A fixed business day.
fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    let fixed = NaiveDate::from_ymd_opt(y, m, d);
    fixed.unwrap()
}

async fn dispose(p: &swi_platform::Platform) -> swi_platform::jobs::Report {
    let r = swi_archiving::destroy::ArchiveDispose
        .run(p, Instant::now() + Duration::from_secs(30))
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_past_retention_is_destroyed_only_as_approved_witnessed_and_unheld() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-06-10")));
    let p = platform_years_on(dir.path(), clock.clone());
    let a = file(
        &p,
        "%PDF-1.7 filing R1",
        "injury#R1",
        RecordClass::InjuryFiling,
        "工伤备案表",
    )
    .await;
    let b = file(
        &p,
        "%PDF-1.7 filing R2",
        "injury#R2",
        RecordClass::InjuryFiling,
        "工伤备案表",
    )
    .await;
    // One scan in both a 10-year and a permanent volume.
    let shared = file(
        &p,
        "%PDF-1.7 licence",
        "injury#R2",
        RecordClass::InjuryFiling,
        "营业执照",
    )
    .await;
    file(
        &p,
        "%PDF-1.7 licence",
        "unit#U1",
        RecordClass::UnitRegistration,
        "营业执照",
    )
    .await;

    let archivist = token(&p, "archivist-1", "archivist", "360702");
    let archivist2 = token(&p, "archivist-2", "archivist", "360702");
    let supervisor = token(&p, "supervisor-1", "supervisor", "360702");
    let officer = token(&p, "officer-1", "agency_officer", "360702");
    clock.set(at("2026-07-02"));
    let (status, body) = json_call(
        &p,
        "PUT",
        "/api/archive/settings/360702",
        &archivist,
        Some(json!({
            "fonds": "J001", "archive_house_number": "136070",
            "filing_unit": "章贡区社会保险事业管理局", "classification_level": "内部",
            "compiled_by": "档案员甲"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ask = json!({ "county": "360702", "month": "2026-06" });
    let (status, body) = json_call(&p, "POST", "/api/volumes", &archivist, Some(ask)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    run_until_done(&p).await;
    let (_, volumes) = json_call(&p, "GET", "/api/volumes?county=360702", &archivist, None).await;
    let ten = volumes
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["class"] == "GS05")
        .unwrap()
        .clone();
    let permanent = volumes
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["class"] == "GS01")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = ten["id"].as_str().unwrap().to_owned();
    let until = swi_archiving::retain::kept(&p, &a.hex())
        .await
        .unwrap()
        .unwrap()
        .until;
    assert_eq!(
        until,
        Some(day(2037, 1, 1)),
        "10 years from 1 January after closing"
    );

    // Not before its day; a permanent volume never.
    let destroy = json!({ "decision": "destroy", "reasons": "保管期满，已无查考价值" });
    let appraise = format!("/api/volumes/{id}/appraisal");
    let (_, body) = json_call(&p, "POST", &appraise, &archivist, Some(destroy.clone())).await;
    assert_eq!(body["error"]["code"], "retention_not_passed", "{body}");
    let (_, body) = json_call(
        &p,
        "POST",
        &format!("/api/volumes/{permanent}/appraisal"),
        &archivist,
        Some(destroy.clone()),
    )
    .await;
    assert_eq!(body["error"]["code"], "retention_not_passed", "{body}");

    // Extended by a year (2036: the appraisal finds it still useful): every lock raised.
    clock.set(at("2036-12-01"));
    let (status, body) = json_call(
        &p,
        "POST",
        &appraise,
        &archivist,
        Some(json!({ "decision": "extend", "years": 1, "reasons": "涉诉案件尚未了结" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["until"], "2038-01-01", "{body}");
    dispose(&p).await;
    let pr = p.docs.protection(&a).await.unwrap().unwrap();
    assert_eq!(pr.until, Some(day(2038, 1, 1)), "{pr:?}");
    let (_, d) = json_call(
        &p,
        "GET",
        &format!("/api/volumes/{id}/disposal"),
        &archivist,
        None,
    )
    .await;
    assert_eq!(d["disposal"]["status"], "done", "{d}");

    // 2037-06: its old day has passed, its extended one has not.
    clock.set(at("2037-06-01"));
    let (_, due) = json_call(&p, "GET", "/api/archive/appraisal/360702", &archivist, None).await;
    assert_eq!(due.as_array().unwrap().len(), 0, "{due}");
    let (_, body) = json_call(&p, "POST", &appraise, &archivist, Some(destroy.clone())).await;
    assert_eq!(body["error"]["code"], "retention_not_passed", "{body}");

    // 2038: listed; a hold blocks the proposal.
    clock.set(at("2038-01-05"));
    let (_, due) = json_call(
        &p,
        "GET",
        "/api/archive/appraisal/360702",
        &supervisor,
        None,
    )
    .await;
    let due = due.as_array().unwrap();
    assert_eq!(due.len(), 1, "only the 10-year volume: {due:?}");
    assert_eq!(due[0]["volume"]["id"], id.as_str());
    let hold = format!("/api/volumes/{id}/hold");
    let (status, body) = json_call(
        &p,
        "POST",
        &hold,
        &supervisor,
        Some(json!({ "reason": "稽核调阅" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = json_call(&p, "POST", &appraise, &archivist, Some(destroy.clone())).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("archive_held")),
        "{body}"
    );
    let release = format!("/api/volumes/{id}/hold/release");
    // The supervision's hold is not lifted by the archive.
    let (_, body) = json_call(
        &p,
        "POST",
        &release,
        &archivist,
        Some(json!({ "reason": "调阅完毕" })),
    )
    .await;
    assert_eq!(body["error"]["code"], "separation_of_duties", "{body}");
    let (status, body) = json_call(
        &p,
        "POST",
        &release,
        &supervisor,
        Some(json!({ "reason": "稽核完毕\r\n已归还" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Proposed by the archivist; the archivist may not approve; the agency officer does.
    let (status, body) = json_call(&p, "POST", &appraise, &archivist, Some(destroy.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "proposed");
    let decision = format!("/api/volumes/{id}/disposal/decision");
    let approve = json!({ "approve": true, "reasons": "同意销毁" });
    let (status, _) = json_call(&p, "POST", &decision, &archivist, Some(approve.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = json_call(&p, "POST", &decision, &officer, Some(approve.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");

    // One witness is not enough; the same one twice is refused; neither the proposer nor the
    // approver may witness.
    let witness = format!("/api/volumes/{id}/disposal/witness");
    let seen = json!({ "note": "已核对清册" });
    let (_, body) = json_call(&p, "POST", &witness, &archivist, Some(seen.clone())).await;
    assert_eq!(
        body["error"]["code"], "separation_of_duties",
        "the proposer: {body}"
    );
    let (status, body) = json_call(&p, "POST", &witness, &archivist2, Some(seen.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["status"], "approved",
        "one witness: not carried out: {body}"
    );
    let (_, body) = json_call(&p, "POST", &witness, &archivist2, Some(seen.clone())).await;
    assert_eq!(body["error"]["code"], "separation_of_duties", "{body}");
    let (status, _) = json_call(&p, "POST", &witness, &officer, Some(seen.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = dispose(&p).await;
    assert_eq!(r.done, 0, "nothing runs on one witness: {r:?}");
    assert!(
        p.docs.protection(&a).await.unwrap().is_some(),
        "still there"
    );

    // The second witness: it runs — but a hold placed first stops it.
    let (status, body) = json_call(&p, "POST", &witness, &supervisor, Some(seen.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "working", "{body}");
    let (status, _) = json_call(
        &p,
        "POST",
        &hold,
        &archivist2,
        Some(json!({ "reason": "当事人申请复查" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    dispose(&p).await;
    let (_, d) = json_call(
        &p,
        "GET",
        &format!("/api/volumes/{id}/disposal"),
        &archivist,
        None,
    )
    .await;
    assert_eq!(d["disposal"]["status"], "held", "{d}");
    assert!(
        p.docs.protection(&a).await.unwrap().is_some(),
        "a hold keeps it"
    );
    let (status, _) = json_call(
        &p,
        "POST",
        &release,
        &archivist2,
        Some(json!({ "reason": "复查完毕" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    dispose(&p).await;

    let (_, d) = json_call(
        &p,
        "GET",
        &format!("/api/volumes/{id}/disposal"),
        &archivist,
        None,
    )
    .await;
    assert_eq!(d["disposal"]["status"], "done", "{d}");
    let rows = d["rows"].as_array().unwrap();
    let row = |sha: &swi_store::Sha256| -> Value {
        rows.iter()
            .find(|r| r["sha256"] == sha.hex().as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(row(&a)["fate"], "destroyed");
    assert_eq!(
        row(&a)["archive_number"],
        format!("{}-0001", ten["archive_number"].as_str().unwrap())
    );
    assert_eq!(row(&b)["fate"], "destroyed");
    assert_eq!(row(&shared)["fate"], "kept", "{}", row(&shared));
    assert!(p.docs.protection(&a).await.unwrap().is_none(), "destroyed");
    assert!(p.docs.protection(&b).await.unwrap().is_none(), "destroyed");
    assert!(p.docs.protection(&shared).await.unwrap().is_some(), "kept");
    // The store itself refuses: the permanent volume's document is held.
    assert!(p.docs.destroy(&shared, day(2100, 1, 1)).await.is_err());
    assert_eq!(
        d["disposal"]["destroyed"].as_u64().unwrap() + d["disposal"]["kept"].as_u64().unwrap(),
        rows.len() as u64
    );
    // The volume is destroyed; its list is a permanent document of class GS16.
    let (_, v) = json_call(&p, "GET", &format!("/api/volumes/{id}"), &archivist, None).await;
    assert_eq!(v["volume"]["status"], "destroyed", "{v}");
    let list = d["disposal"]["list"].as_str().unwrap();
    let (_, doc) = json_call(
        &p,
        "GET",
        &format!("/api/documents/{list}"),
        &archivist,
        None,
    )
    .await;
    assert_eq!(doc["registrations"][0]["class"], "GS16", "{doc}");
    let pr = p
        .docs
        .protection(&swi_store::Sha256::parse(list).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(pr.held, "kept for ever");
    let (status, pdf) = call(
        &p,
        "GET",
        &format!("/api/volumes/{id}/destruction-list"),
        &supervisor,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));
    // Nothing more to do: a destroyed volume is not appraised, held or placed again.
    let (_, body) = json_call(&p, "POST", &appraise, &archivist, Some(destroy)).await;
    assert_eq!(body["error"]["code"], "invalid_transition", "{body}");
}
