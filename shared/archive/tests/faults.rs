//! Each injected fault fails exactly its own row of the four checks, and a sound volume passes
//! every row: a flipped byte, a missing document, a stray file, a package put in place of the
//! filed one, a deleted audit event, a cover field that disagrees, a gap in the item numbers.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use swi_archive::bagit::digest_hex;
use swi_archive::checks::{ChainNow, CheckItem, Evidence, Protected, Report, Seen, Stage, check};
use swi_archive::number::{Fonds, VolumeNumber};
use swi_archive::package::{PACKAGE_LIMITS, pack, unpack};
use swi_archive::retention::{Period, RecordClass};
use swi_archive::volume::{AuditHead, FileRef, Item, Volume, item_path};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, d).unwrap()
}

fn doc(body: &[u8], material: &str, path: String) -> (FileRef, Vec<u8>) {
    (
        FileRef {
            path,
            sha256: digest_hex("sha256", body).unwrap(),
            sha512: digest_hex("sha512", body).unwrap(),
            size: body.len() as u64,
            media_type: "application/pdf".into(),
            material: material.into(),
        },
        body.to_vec(),
    )
}

/// A volume of three claims, its documents' bytes by SHA-256.
fn volume(seq: u16) -> (Volume, BTreeMap<String, Vec<u8>>) {
    let number = VolumeNumber::new(
        Fonds::parse("J001").unwrap(),
        RecordClass::DisabilityDeathBenefits,
        2026,
        Period::Years(50),
        seq,
    )
    .unwrap();
    let mut bytes = BTreeMap::new();
    let mut items = Vec::new();
    for n in 1..=3u32 {
        let (f, b) = doc(
            format!("%PDF-1.7 claim {n} of volume {seq}").as_bytes(),
            "申领表",
            item_path(n, 1, "申领表", "pdf"),
        );
        bytes.insert(f.sha256.clone(), b);
        items.push(Item {
            n,
            case: format!("claim#C{seq}{n}"),
            title: format!("待遇申领 {n}"),
            author: "章贡区社会保险事业管理局".into(),
            first: day(n * 3),
            date: day(n * 3),
            files: vec![f],
        });
    }
    let (cover, b) = doc(
        format!("%PDF-1.7 cover {seq}").as_bytes(),
        "案卷封面",
        "data/volume/cover.pdf".into(),
    );
    bytes.insert(cover.sha256.clone(), b);
    let heads = items
        .iter()
        .map(|i| AuditHead {
            case: i.case.clone(),
            seq: 4,
            hash: format!("h-{}", i.case),
        })
        .collect();
    (
        Volume {
            archive_number: number.to_string(),
            archive_house_number: "136070".into(),
            title: "2026年6月 伤残工亡待遇核定材料".into(),
            filing_unit: "章贡区社会保险事业管理局".into(),
            county: "360702".into(),
            class: RecordClass::DisabilityDeathBenefits,
            period: Period::Years(50),
            month: "2026-06".into(),
            start: day(3),
            end: day(9),
            classification_level: "内部".into(),
            compiled_by: "档案员甲".into(),
            filed_on: NaiveDate::from_ymd_opt(2026, 7, 2).unwrap(),
            items,
            own: vec![cover],
            audit_heads: heads,
        },
        bytes,
    )
}

fn packed(v: &Volume) -> Vec<u8> {
    let files = v.bag().unwrap().files().unwrap();
    pack("volume", 1_782_950_400, &files).unwrap()
}

/// What a sound store shows of `v` packed as `package`.
fn evidence(v: &Volume, docs: &BTreeMap<String, Vec<u8>>, package: &[u8]) -> Evidence {
    let digest = digest_hex("sha256", package).unwrap();
    let (_, tag_files) = unpack(package, PACKAGE_LIMITS).unwrap();
    let seen = docs
        .iter()
        .map(|(sha, b)| {
            (
                sha.clone(),
                Seen::Read {
                    sha256: digest_hex("sha256", b).unwrap(),
                    sha512: digest_hex("sha512", b).unwrap(),
                    size: b.len() as u64,
                    media_type: Some("application/pdf".into()),
                    encrypted: false,
                },
            )
        })
        .collect();
    let chains = v
        .audit_heads
        .iter()
        .map(|h| {
            (
                h.case.clone(),
                ChainNow {
                    at_head: Some(h.hash.clone()),
                    intact: true,
                },
            )
        })
        .collect();
    let until = NaiveDate::from_ymd_opt(2077, 1, 1).unwrap();
    Evidence {
        stage: Stage::Preservation,
        archive_number: v.archive_number.clone(),
        package_sha256: digest.clone(),
        recorded: vec![
            ("state".into(), Some(digest.clone())),
            ("audit".into(), Some(digest)),
        ],
        tag_files: Ok(tag_files),
        seen,
        strays: vec![],
        chains,
        protection: docs
            .keys()
            .map(|s| {
                (
                    s.clone(),
                    Protected {
                        held: false,
                        until: Some(until),
                        read_only: true,
                    },
                )
            })
            .collect(),
        required: docs.keys().map(|s| (s.clone(), Some(until))).collect(),
    }
}

fn failed(r: &Report) -> Vec<CheckItem> {
    r.failed().map(|row| row.item).collect()
}

#[test]
fn a_sound_volume_passes_every_row() {
    let (v, docs) = volume(1);
    let r = check(&evidence(&v, &docs, &packed(&v)));
    assert_eq!(r.rows.len(), CheckItem::ALL.len());
    assert!(r.passed(), "{:#?}", r.failed().collect::<Vec<_>>());
}

#[test]
fn each_fault_fails_exactly_its_own_row() {
    let (v, docs) = volume(1);
    let package = packed(&v);
    let sha = v.items[1].files[0].sha256.clone();

    // One flipped byte in a scan.
    let mut e = evidence(&v, &docs, &package);
    let mut flipped = docs[&sha].clone();
    flipped[3] ^= 1;
    if let Some(Seen::Read { sha256, sha512, .. }) = e.seen.get_mut(&sha) {
        *sha256 = digest_hex("sha256", &flipped).unwrap();
        *sha512 = digest_hex("sha512", &flipped).unwrap();
    }
    assert_eq!(failed(&check(&e)), [CheckItem::Fixity]);

    // A missing scan.
    let mut e = evidence(&v, &docs, &package);
    e.seen.insert(sha.clone(), Seen::Missing);
    assert_eq!(failed(&check(&e)), [CheckItem::Presence]);

    // A stray file.
    let mut e = evidence(&v, &docs, &package);
    e.strays.push("data/items/0002/99-extra.pdf".into());
    assert_eq!(failed(&check(&e)), [CheckItem::Carrier]);

    // Another valid package put in place of the filed one.
    let (other, other_docs) = volume(2);
    let other_package = packed(&other);
    let filed = evidence(&v, &docs, &package);
    let mut e = evidence(&other, &other_docs, &other_package);
    e.recorded = filed.recorded;
    assert_eq!(failed(&check(&e)), [CheckItem::PackageDigest]);

    // The last audit event of a case deleted.
    let mut e = evidence(&v, &docs, &package);
    e.chains.get_mut(&v.items[0].case).unwrap().at_head = None;
    assert_eq!(failed(&check(&e)), [CheckItem::ProcessTrail]);

    // A cover field that disagrees with the contents.
    let mut bag = v.bag().unwrap();
    for (label, value) in &mut bag.info {
        if label == "Item-Count" {
            *value = "4".into();
        }
    }
    let lying = pack("volume", 1_782_950_400, &bag.files().unwrap()).unwrap();
    assert_eq!(
        failed(&check(&evidence(&v, &docs, &lying))),
        [CheckItem::MetadataContent]
    );

    // A gap in the item numbers.
    let mut gap = v.clone();
    gap.items[2].n = 4;
    let package = packed(&gap);
    assert_eq!(
        failed(&check(&evidence(&gap, &docs, &package))),
        [CheckItem::Continuity]
    );
}

#[test]
fn a_document_kept_shorter_than_its_period_or_writable_fails_protection() {
    let (v, docs) = volume(1);
    let mut e = evidence(&v, &docs, &packed(&v));
    let sha = v.items[0].files[0].sha256.clone();
    e.protection.get_mut(&sha).unwrap().until = NaiveDate::from_ymd_opt(2060, 1, 1);
    assert_eq!(failed(&check(&e)), [CheckItem::Protection]);
    let mut e = evidence(&v, &docs, &packed(&v));
    e.required.insert(sha, None);
    assert_eq!(
        failed(&check(&e)),
        [CheckItem::Protection],
        "permanent needs a hold"
    );
}

#[test]
fn the_same_volume_packs_to_the_same_bytes() {
    let (v, _) = volume(1);
    assert_eq!(packed(&v), packed(&v.clone()));
}
