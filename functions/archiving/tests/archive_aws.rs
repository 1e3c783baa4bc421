//! The archive on DynamoDB and S3 (LocalStack): a month of enrolments, claims and payments is
//! filed into volumes of the right classes and periods, items numbered without gaps; each
//! volume's checks pass at filing and its package packs again to the same bytes; retention is
//! set in S3 Object Lock (a permanent document held, a decided claim's locked in COMPLIANCE mode
//! until its day, an undecided claim's held) and S3 itself refuses to delete either, whatever
//! day the caller claims; the handover's bags pass the Library of Congress's validator and a
//! fresh embedded `swi` takes them in, every check passing again.
//!
//! What LocalStack does not show: it runs no Lambda (the object-created registration is tested
//! with recorded events in `functions/jobs/tests/events.rs`) and no lifecycle rule; of Object
//! Lock it enforces what `shared/store-aws/tests/contract.rs` records — a COMPLIANCE lock is
//! never shortened, a locked or held version is never deleted.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::json;
use swi_archive::retention::RecordClass;
use swi_platform::clock::SetClock;

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs DynamoDB and S3: infra/test runs it on LocalStack with a fresh table and bucket"]
async fn a_month_is_filed_kept_and_handed_over_on_dynamodb_and_s3() {
    let clock = Arc::new(SetClock::new(at("2026-06-10")));
    let p = platform_aws(clock.clone()).await;
    let unit = file(
        &p,
        "%PDF-1.7 aws unit licence",
        "unit#91360702MA35G6QL6T",
        RecordClass::UnitRegistration,
        "营业执照",
    )
    .await;
    let person = file(
        &p,
        "%PDF-1.7 aws enrolment",
        "enrolment#E1",
        RecordClass::PersonRegistration,
        "劳动合同",
    )
    .await;
    let person2 = file(
        &p,
        "%PDF-1.7 aws enrolment 2",
        "enrolment#E2",
        RecordClass::PersonRegistration,
        "劳动合同",
    )
    .await;
    let c1 = file(
        &p,
        "%PDF-1.7 aws claim 1",
        "claim#A1",
        RecordClass::DisabilityDeathBenefits,
        "申领表",
    )
    .await;
    let c2 = file(
        &p,
        "%PDF-1.7 aws claim 2",
        "claim#A2",
        RecordClass::MedicalBenefits,
        "医疗费票据",
    )
    .await;
    let batch = file(
        &p,
        "批次号,金额\nB1,100.00\n",
        "batch#B1",
        RecordClass::PaymentDetails,
        "支付文件",
    )
    .await;
    // Claim 1 decided on 20 June; claim 2 still open.
    p.state
        .transact(vec![
            swi_platform::dossier::closed_op(
                "claim#A1",
                NaiveDate::from_ymd_opt(2026, 6, 20).unwrap(),
            )
            .unwrap(),
        ])
        .await
        .unwrap();

    clock.set(at("2026-07-02"));
    let archivist = token(&p, "archivist-1", "archivist", "360702");
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
    let (status, body) = json_call(
        &p,
        "POST",
        "/api/volumes",
        &archivist,
        Some(json!({ "county": "360702", "month": "2026-06" })),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    run_until_done(&p).await;

    // One volume per class and period, items without gaps, checked at filing.
    let (_, list) = json_call(
        &p,
        "GET",
        "/api/volumes?county=360702&month=2026-06",
        &archivist,
        None,
    )
    .await;
    let got: BTreeMap<String, (String, u64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["class"].as_str().unwrap().to_owned(),
                (
                    v["period"].as_str().unwrap().to_owned(),
                    v["items"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (String, u64)> = [
        ("GS01", ("Y", 1)),
        ("GS02", ("D100", 2)),
        ("GS08", ("D50", 1)),
        ("GS09", ("D50", 1)),
        ("GS10", ("D30", 1)),
    ]
    .into_iter()
    .map(|(c, (p, n))| (c.to_owned(), (p.to_owned(), n)))
    .collect();
    assert_eq!(got, want);
    for v in list.as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        let (_, view) = json_call(&p, "GET", &format!("/api/volumes/{id}"), &archivist, None).await;
        let numbers: Vec<u64> = view["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["n"].as_u64().unwrap())
            .collect();
        assert_eq!(
            numbers,
            (1..=numbers.len() as u64).collect::<Vec<_>>(),
            "{id}"
        );
        let (_, kept) = json_call(
            &p,
            "GET",
            &format!("/api/volumes/{id}/checks"),
            &archivist,
            None,
        )
        .await;
        assert_eq!(kept[0]["passed"], true, "{id}: {kept}");
        // Packed again from what its package says, the same bytes.
        let (_, tar) = call(
            &p,
            "GET",
            &format!("/api/volumes/{id}/package"),
            &archivist,
            None,
        )
        .await;
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

    // Retention in S3 Object Lock.
    let protection = |sha: swi_store::Sha256| {
        let p = p.clone();
        async move { p.docs.protection(&sha).await.unwrap().unwrap() }
    };
    assert!(protection(unit).await.held, "permanent: held");
    let decided = protection(c1).await;
    assert_eq!(
        (decided.held, decided.until),
        (false, NaiveDate::from_ymd_opt(2077, 1, 1)),
        "50 years from 1 January after its decision"
    );
    assert!(protection(c2).await.held, "its claim is open: held");
    let pr = protection(person).await;
    assert_eq!(pr.until, NaiveDate::from_ymd_opt(2127, 1, 1), "{pr:?}");
    assert_eq!(
        protection(batch).await.until,
        NaiveDate::from_ymd_opt(2057, 1, 1)
    );
    // S3 itself refuses the deletion, whatever day the caller says it is.
    let far = NaiveDate::from_ymd_opt(2200, 1, 1).unwrap();
    for sha in [unit, c1, c2, person2] {
        assert!(p.docs.destroy(&sha, far).await.is_err(), "{sha} deleted");
        assert!(
            p.docs.protection(&sha).await.unwrap().is_some(),
            "{sha} gone"
        );
    }
    // And the archive refuses to propose it before its day.
    let (_, body) = json_call(
        &p,
        "POST",
        "/api/volumes/J001-SB.2026-D30-GS10-001/appraisal",
        &archivist,
        Some(json!({ "decision": "destroy", "reasons": "保管期满" })),
    )
    .await;
    assert_eq!(body["error"]["code"], "retention_not_passed", "{body}");

    // Handover: complete bags the validator accepts, taken in by a fresh embedded swi.
    let out = tempfile::tempdir().unwrap();
    let register = swi_archiving::handover::export(&p, "360702", out.path())
        .await
        .unwrap();
    assert_eq!(register.volumes.len(), 5);
    assert!(register.volumes.iter().all(|v| v.passed), "{register:?}");
    let bagit = std::env::var("SWI_BAGIT")
        .expect("SWI_BAGIT: the BagIt validator (bash infra/bagit prints it)");
    for v in &register.volumes {
        let run = std::process::Command::new(&bagit)
            .arg("--validate")
            .arg(out.path().join(&v.id))
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}: {}",
            v.id,
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = platform(fresh_dir.path(), clock.clone());
    let agency = swi_platform::jobs::job_actor("import", "经办机构档案室");
    let received = swi_archiving::import::import(&fresh, out.path(), &agency)
        .await
        .unwrap();
    assert_eq!(received.len(), 5);
    for r in &received {
        assert!(r.imported && r.report.passed(), "{}: {:?}", r.id, r.report);
    }
}
