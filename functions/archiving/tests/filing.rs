//! Filing a month on the embedded store: documents filed to cases in June (a unit's evidence,
//! claims' materials of two classes, one claim with two documents) are filed after the month
//! ends into one volume per class and period, one item per case numbered without gaps; each
//! volume's package is a BagIt bag by reference whose manifests name every document with its
//! SHA-256 and SHA-512, packs again to the same bytes, and has its digest in the state store
//! and in its audit chain. Refused: filing a month that has not ended, a county without archive
//! settings, a clerk who is not the archivist, and a month twice.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use swi_archive::retention::RecordClass;
use swi_platform::clock::SetClock;
use swi_platform::jobs::Job;
use swi_store::Sha256;

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_is_filed_into_volumes_by_class_and_period() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SetClock::new(at("2026-06-10")));
    let p = platform(dir.path(), clock.clone());
    let unit = file(
        &p,
        "%PDF-1.7 unit evidence",
        "unit#91360702MA35G6QL6T",
        RecordClass::UnitRegistration,
        "工伤保险参保佐证材料",
    )
    .await;
    let c1a = file(
        &p,
        "%PDF-1.7 claim 1 application",
        "claim#C1",
        RecordClass::DisabilityDeathBenefits,
        "申领表",
    )
    .await;
    clock.set(at("2026-06-12"));
    let c1b = file(
        &p,
        "%PDF-1.7 claim 1 appraisal",
        "claim#C1",
        RecordClass::DisabilityDeathBenefits,
        "劳动能力鉴定结论书",
    )
    .await;
    let c2 = file(
        &p,
        "%PDF-1.7 claim 2 death",
        "claim#C2",
        RecordClass::DisabilityDeathBenefits,
        "死亡证明",
    )
    .await;
    let c3 = file(
        &p,
        "%PDF-1.7 claim 3 receipts",
        "claim#C3",
        RecordClass::MedicalBenefits,
        "医疗（康复）机构收费票据",
    )
    .await;
    // Claim 1 has an audit chain: the volume records its head.
    let ops = swi_platform::mutation::audit_ops(
        &p,
        &clerk(),
        &[swi_platform::mutation::Audit {
            case: "claim#C1".into(),
            command: "claim.submit".into(),
            change: json!({ "items": ["one_time_disability"] }),
        }],
    )
    .await
    .unwrap();
    p.state.transact(ops).await.unwrap();
    // The same document filed to the same case and material again is registered once.
    let again = file(
        &p,
        "%PDF-1.7 claim 2 death",
        "claim#C2",
        RecordClass::DisabilityDeathBenefits,
        "死亡证明",
    )
    .await;
    assert_eq!(again, c2);

    let archivist = token(&p, "archivist-1", "archivist", "360702");
    let acceptor = token(&p, "acceptor-1", "acceptor", "360702");
    let ask = json!({ "county": "360702", "month": "2026-06" });
    // Not before the month ends; not without settings; not by another role.
    let (status, body) = json_call(&p, "POST", "/api/volumes", &archivist, Some(ask.clone())).await;
    assert_eq!(body["error"]["code"], "month_in_future", "{status} {body}");
    clock.set(at("2026-07-02"));
    let (_, body) = json_call(&p, "POST", "/api/volumes", &archivist, Some(ask.clone())).await;
    assert_eq!(body["error"]["code"], "archive_settings_missing", "{body}");
    let (status, _) = json_call(&p, "POST", "/api/volumes", &acceptor, Some(ask.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
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
    let (status, body) = json_call(&p, "POST", "/api/volumes", &archivist, Some(ask.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = json_call(&p, "POST", "/api/volumes", &archivist, Some(ask.clone())).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a month is filed once: {body}"
    );

    run_until_done(&p).await;
    let (_, filing) = json_call(
        &p,
        "GET",
        "/api/archive/filings/360702/2026-06",
        &archivist,
        None,
    )
    .await;
    assert_eq!(filing["phase"], "done", "{filing}");
    assert_eq!(filing["registrations"], 5, "{filing}");

    // Retention set in the store: the unit's registration is permanent (held for ever); the
    // claims' documents wait for their claims to be decided (held); the volume's own sheets
    // and package are locked for its 50 years from 1 January after filing, and released.
    let protection = |sha: Sha256| {
        let p = p.clone();
        async move { p.docs.protection(&sha).await.unwrap().unwrap() }
    };
    let kept = |sha: Sha256| {
        let p = p.clone();
        async move {
            swi_archiving::retain::kept(&p, &sha.hex())
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert!(kept(unit).await.permanent && protection(unit).await.held);
    let k = kept(c1a).await;
    assert!(k.pending && k.until.is_none(), "{k:?}");
    assert!(protection(c1a).await.held);
    let y2077 = chrono::NaiveDate::from_ymd_opt(2077, 1, 1).unwrap();
    let own = p
        .state
        .get(&swi_archiving::model::volume_key(
            "J001-SB.2026-D50-GS08-001",
        ))
        .await
        .unwrap()
        .unwrap()
        .body::<Value>()
        .unwrap()["package"]
        .as_str()
        .map(|s| Sha256::parse(s).unwrap())
        .unwrap();
    let pr = protection(own).await;
    assert_eq!((pr.held, pr.until), (false, Some(y2077)), "{pr:?}");
    // Claim 1 decided on 3 July: the daily job locks its documents for 50 years and releases
    // them.
    p.state
        .transact(vec![
            swi_platform::dossier::closed_op(
                "claim#C1",
                chrono::NaiveDate::from_ymd_opt(2026, 7, 3).unwrap(),
            )
            .unwrap(),
        ])
        .await
        .unwrap();
    let r = swi_archiving::retain::ArchiveRetain
        .run(&p, Instant::now() + Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(r.detail["decided"], 2, "claim 1's two documents: {r:?}");
    assert_eq!(r.detail["waiting"], 2, "claims 2 and 3 still wait: {r:?}");
    let pr = protection(c1b).await;
    assert_eq!((pr.held, pr.until), (false, Some(y2077)), "{pr:?}");
    assert!(
        matches!(
            p.docs
                .destroy(&c1b, chrono::NaiveDate::from_ymd_opt(2026, 7, 3).unwrap())
                .await,
            Err(swi_store::DocError::Retained { .. })
        ),
        "the store refuses to destroy it before its day"
    );

    let (status, list) = json_call(
        &p,
        "GET",
        "/api/volumes?county=360702&month=2026-06",
        &archivist,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut numbers: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["archive_number"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        [
            "J001-SB·2026-D50-GS08-001",
            "J001-SB·2026-D50-GS09-001",
            "J001-SB·2026-Y-GS01-001"
        ]
    );
    for v in list.as_array().unwrap() {
        assert_eq!(v["status"], "filed", "{v}");
    }

    // The claims' volume: claim 1's two documents one item, claim 2 the next.
    let (_, view) = json_call(
        &p,
        "GET",
        "/api/volumes/J001-SB.2026-D50-GS08-001",
        &archivist,
        None,
    )
    .await;
    let items = view["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{view}");
    assert_eq!(
        (items[0]["n"].as_u64(), items[0]["case"].as_str()),
        (Some(1), Some("claim#C1"))
    );
    assert_eq!(items[0]["files"].as_array().unwrap().len(), 2);
    assert_eq!(
        (items[1]["n"].as_u64(), items[1]["case"].as_str()),
        (Some(2), Some("claim#C2"))
    );
    assert_eq!(view["volume"]["items"], 2);
    assert_eq!(view["volume"]["period"], "D50");

    // Its package: a bag by reference naming every document in both algorithms.
    let (status, tar) = call(
        &p,
        "GET",
        "/api/volumes/J001-SB.2026-D50-GS08-001/package",
        &archivist,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (base, files) =
        swi_archive::package::unpack(&tar, swi_archive::package::PACKAGE_LIMITS).unwrap();
    assert_eq!(base, "J001-SB.2026-D50-GS08-001");
    let bag = swi_archive::bagit::parse(&files).unwrap();
    let listed: Vec<&String> = bag.manifests["sha256"].values().collect();
    for sha in [&c1a, &c1b, &c2] {
        assert!(listed.contains(&&sha.hex()), "{sha} in the manifest");
    }
    assert_eq!(
        listed.len(),
        3 + 3,
        "three documents and the volume's own three sheets"
    );
    assert_eq!(bag.manifests["sha512"].len(), 6);
    assert_eq!(
        bag.info_value("External-Identifier"),
        Some("J001-SB·2026-D50-GS08-001")
    );
    assert_eq!(bag.info_value("Item-Count"), Some("2"));
    assert_eq!(bag.info_value("Start-Date"), Some("2026-06-10"));
    assert_eq!(bag.info_value("End-Date"), Some("2026-06-12"));
    let volume: swi_archive::volume::Volume =
        serde_json::from_slice(&files["volume.json"]).unwrap();
    assert_eq!(
        volume
            .audit_heads
            .iter()
            .map(|h| (h.case.as_str(), h.seq))
            .collect::<Vec<_>>(),
        [("claim#C1", 1)],
        "the heads of its cases' audit chains"
    );
    // Packed again from what the volume says, the same bytes.
    assert_eq!(swi_archiving::filing::package(&volume).unwrap(), tar);

    // Its digest is in the state store and in its audit chain.
    let digest = Sha256::of(&tar).hex();
    assert_eq!(view["volume"]["package"], digest.as_str());
    let events = swi_platform::mutation::events(&p, "volume#J001-SB.2026-D50-GS08-001")
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].command, "volume.file");

    // Each document's registration and fixity.
    let (_, doc) = json_call(
        &p,
        "GET",
        &format!("/api/documents/{}", c3.hex()),
        &archivist,
        None,
    )
    .await;
    assert_eq!(doc["registrations"][0]["class"], "GS09", "{doc}");
    assert_eq!(
        doc["fixity"]["size"],
        "%PDF-1.7 claim 3 receipts".len(),
        "{doc}"
    );
    let (status, _) = json_call(
        &p,
        "GET",
        &format!("/api/documents/{}", unit.hex()),
        &acceptor,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Checked at filing: every row passed.
    let id = "J001-SB.2026-D50-GS08-001";
    let (_, kept) = json_call(
        &p,
        "GET",
        &format!("/api/volumes/{id}/checks"),
        &archivist,
        None,
    )
    .await;
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    assert_eq!(kept[0]["report"]["stage"], "filing");
    assert_eq!(kept[0]["passed"], true, "{kept}");
    assert_eq!(kept[0]["report"]["rows"].as_array().unwrap().len(), 13);

    // Faults injected into the stores, each failing exactly its own row.
    let path = |sha: &Sha256| {
        dir.path()
            .join("documents/sha256")
            .join(&sha.hex()[..2])
            .join(sha.hex())
    };
    let writable = |p: &std::path::Path| {
        let mut perms = std::fs::metadata(p).unwrap().permissions();
        #[allow(
            clippy::permissions_set_readonly_false,
            reason = "tampering, on purpose"
        )]
        perms.set_readonly(false);
        std::fs::set_permissions(p, perms).unwrap();
    };
    let failed = |report: &Value| -> Vec<String> {
        report["report"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["passed"] == false)
            .map(|r| r["item"].as_str().unwrap().to_owned())
            .collect()
    };
    let check = |stage: &'static str| {
        let p = p.clone();
        let archivist = archivist.clone();
        async move {
            let (status, r) = json_call(
                &p,
                "POST",
                &format!("/api/volumes/{id}/checks"),
                &archivist,
                Some(json!({ "stage": stage })),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{r}");
            r
        }
    };
    assert_eq!(failed(&check("preservation").await), Vec::<String>::new());

    // One flipped byte in a scan.
    let scan = path(&c1b);
    let original = std::fs::read(&scan).unwrap();
    writable(&scan);
    let mut flipped = original.clone();
    flipped[12] ^= 0x20;
    std::fs::write(&scan, &flipped).unwrap();
    let mut perms = std::fs::metadata(&scan).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&scan, perms.clone()).unwrap();
    let r = check("preservation").await;
    assert_eq!(failed(&r), ["fixity"], "{r}");
    writable(&scan);
    std::fs::write(&scan, &original).unwrap();
    std::fs::set_permissions(&scan, perms).unwrap();

    // A missing scan.
    let aside = dir.path().join("aside");
    std::fs::rename(&scan, &aside).unwrap();
    assert_eq!(failed(&check("preservation").await), ["presence"]);
    std::fs::rename(&aside, &scan).unwrap();

    // Another valid package put in place of the filed one.
    let key = swi_archiving::model::volume_key(id);
    let item = p.state.get(&key).await.unwrap().unwrap();
    let mut record: Value = item.body().unwrap();
    let other = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["archive_number"] == "J001-SB·2026-D50-GS09-001")
        .unwrap()["package"]
        .clone();
    let filed_package = record["package"].clone();
    record["package"] = other;
    let put = |body: &Value, version: u64| swi_store::TxOp::Put {
        item: swi_store::Item::new(key.pk.clone(), key.sk.clone(), body)
            .unwrap()
            .with_gsi1("volumes#360702", "2026-06#GS08#D50"),
        condition: swi_store::Condition::VersionIs(version),
    };
    p.state
        .transact(vec![put(&record, item.version)])
        .await
        .unwrap();
    assert_eq!(failed(&check("preservation").await), ["package_digest"]);
    record["package"] = filed_package;
    p.state
        .transact(vec![put(&record, item.version + 1)])
        .await
        .unwrap();

    // The last audit event of a case deleted (and put back afterwards).
    let event_key = swi_store::Key::new("audit#claim#C1", format!("seq#{:012}", 1));
    let event = p.state.get(&event_key).await.unwrap().unwrap();
    p.state
        .transact(vec![swi_store::TxOp::Delete {
            key: event_key,
            condition: swi_store::Condition::None,
        }])
        .await
        .unwrap();
    assert_eq!(failed(&check("preservation").await), ["process_trail"]);
    p.state
        .transact(vec![swi_store::TxOp::Put {
            item: event,
            condition: swi_store::Condition::NotExists,
        }])
        .await
        .unwrap();
    assert_eq!(failed(&check("preservation").await), Vec::<String>::new());

    // The fixity job: a round checks every archived document once (the five documents and the
    // three volumes' three sheets); stopped after its first transaction, the next run goes on
    // and re-hashes none it finished.
    let job = swi_archiving::fixity::FixityJob;
    let first = job.run(&p, Instant::now()).await.unwrap();
    assert_eq!((first.done, first.pending), (14, 1), "{first:?}");
    let second = job
        .run(&p, Instant::now() + Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(second.done, 0, "{second:?}");
    assert_eq!(second.detail["checked"], 14, "{second:?}");
    assert!(second.detail["finished_at"].is_string(), "{second:?}");
    let (_, status) = json_call(&p, "GET", "/api/archive/fixity", &archivist, None).await;
    assert_eq!(
        (
            status["round"]["round"].as_u64(),
            status["oldest_days"].as_i64()
        ),
        (Some(1), Some(0)),
        "{status}"
    );

    // A changed byte: the next round finds it, records it and alerts the supervisor once.
    let victim = path(&c2);
    let mut perms = std::fs::metadata(&victim).unwrap().permissions();
    writable(&victim);
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[3] ^= 1;
    std::fs::write(&victim, &bytes).unwrap();
    perms.set_readonly(true);
    std::fs::set_permissions(&victim, perms).unwrap();
    clock.set(at("2026-07-03"));
    let third = job
        .run(&p, Instant::now() + Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        (
            third.detail["round"].as_u64(),
            third.detail["mismatched"].as_u64()
        ),
        (Some(2), Some(1)),
        "{third:?}"
    );
    assert_eq!(third.errors.len(), 1, "{third:?}");
    let alert = p
        .state
        .get(&swi_platform::alerts::alert_key(&format!(
            "fixity:{}",
            c2.hex()
        )))
        .await
        .unwrap();
    assert!(alert.is_some(), "the supervisor is alerted");

    // The changed document restored from its copy elsewhere.
    writable(&victim);
    bytes[3] ^= 1;
    std::fs::write(&victim, &bytes).unwrap();

    // The handover register to sign: every filed volume, its package, its last checks.
    let (status, register) =
        json_call(&p, "GET", "/api/archive/handover/360702", &archivist, None).await;
    assert_eq!(status, StatusCode::OK, "{register}");
    let rows = register.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{register}");
    assert!(
        rows.iter()
            .all(|r| r["passed"] == true && r["package"].as_str().unwrap().len() == 64),
        "{register}"
    );
    let (status, csv) = call(
        &p,
        "GET",
        "/api/archive/handover/360702?format=csv",
        &archivist,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("archive_number,") && csv.lines().count() == 4,
        "{csv}"
    );
    let (_, xlsx) = call(
        &p,
        "GET",
        "/api/archive/handover/360702?format=xlsx",
        &archivist,
        None,
    )
    .await;
    assert!(xlsx.starts_with(b"PK"));
    let (status, _) = call(
        &p,
        "GET",
        "/api/archive/handover/360702?format=pdf",
        &archivist,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&p, "GET", "/api/archive/handover/360703", &archivist, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another county's register");

    // Handover: every filed volume exported as a complete bag, with the register, the reports
    // and the audit chains; each passes its checks as the receiving side runs them, and the
    // Library of Congress's validator accepts each.
    let out = tempfile::tempdir().unwrap();
    let register = swi_archiving::handover::export(&p, "360702", out.path())
        .await
        .unwrap();
    assert_eq!(register.volumes.len(), 3);
    assert!(register.volumes.iter().all(|v| v.passed), "{register:?}");
    let bagit = std::env::var("SWI_BAGIT")
        .expect("SWI_BAGIT: the BagIt validator (bash infra/bagit prints it)");
    for v in &register.volumes {
        let dir = out.path().join(&v.id);
        let run = std::process::Command::new(&bagit)
            .arg("--validate")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "bagit.py --validate {}: {}",
            v.id,
            String::from_utf8_lossy(&run.stderr)
        );
    }
    // A fresh swi on the embedded store takes the handover in: every volume, each passing
    // the four checks again on its own stores; run again, it takes nothing twice.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = platform(fresh_dir.path(), clock.clone());
    let agency = swi_platform::jobs::job_actor("import", "经办机构档案室");
    let received = swi_archiving::import::import(&fresh, out.path(), &agency)
        .await
        .unwrap();
    assert_eq!(received.len(), 3);
    for r in &received {
        assert!(r.imported, "{}", r.id);
        assert!(r.report.passed(), "{}: {:?}", r.id, r.report);
    }
    let again = swi_archiving::import::import(&fresh, out.path(), &agency)
        .await
        .unwrap();
    assert!(
        again.iter().all(|r| !r.imported && r.report.passed()),
        "{again:?}"
    );
    let (_, v) = json_call(
        &fresh,
        "GET",
        "/api/volumes/J001-SB.2026-D50-GS09-001",
        &archivist,
        None,
    )
    .await;
    assert_eq!(v["volume"]["status"], "filed", "{v}");
    // A stray file fails the carrier row (and the validator); a flipped byte fails fixity.
    let vdir = out.path().join("J001-SB.2026-D50-GS09-001");
    let gs09 = register
        .volumes
        .iter()
        .find(|v| v.id == "J001-SB.2026-D50-GS09-001")
        .unwrap()
        .package
        .clone();
    let audit = out.path().join("audit");
    std::fs::write(vdir.join("data/items/0001/99-stray.pdf"), b"%PDF-1.7 stray").unwrap();
    let r = swi_archiving::handover::check_dir(&vdir, Some(&gs09), &audit)
        .await
        .unwrap();
    let names = |r: &swi_archive::checks::Report| -> Vec<swi_archive::checks::CheckItem> {
        r.failed().map(|row| row.item).collect()
    };
    assert_eq!(
        names(&r),
        [swi_archive::checks::CheckItem::Carrier],
        "{r:?}"
    );
    let run = std::process::Command::new(&bagit)
        .arg("--validate")
        .arg(&vdir)
        .output()
        .unwrap();
    assert!(!run.status.success(), "the validator finds the stray too");
    std::fs::remove_file(vdir.join("data/items/0001/99-stray.pdf")).unwrap();
    let receipts = std::fs::read_dir(vdir.join("data/items/0001"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&receipts).unwrap();
    bytes[9] ^= 1;
    std::fs::write(&receipts, &bytes).unwrap();
    let r = swi_archiving::handover::check_dir(&vdir, Some(&gs09), &audit)
        .await
        .unwrap();
    assert_eq!(names(&r), [swi_archive::checks::CheckItem::Fixity], "{r:?}");
}
