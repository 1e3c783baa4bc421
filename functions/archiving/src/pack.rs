//! The filing's last step: for each volume, what its package is made from fixed first (its
//! filing day, its cases' audit heads, the settings), then its cover, list of contents and notes
//! sheet, its BagIt package by reference, its digest in the state store and in its audit
//! chain; then the four checks at filing, their report kept.

use chrono::NaiveDate;
use swi_archive::volume::{self as bagvol, AuditHead, FileRef, Volume};
use swi_platform::jobs::job_actor;
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, TxOp};

use crate::model::{
    Fixity, ItemRecord, Settings, VolumeRecord, VolumeStatus, fixity_key, items, load_volume,
    settings, volume_case, volume_put,
};
use crate::month::{Filing, NAME, Phase, conflict, filing_put, order, settings_missing};

fn extension(media: &str) -> &'static str {
    match media {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/tiff" => "tif",
        "text/csv" => "csv",
        "text/plain" => "txt",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        _ => "bin",
    }
}

/// The volume as its package describes it, from its record and items (own sheets not yet).
///
/// # Errors
/// A date out of range (it is not).
pub fn volume_of(
    record: &VolumeRecord,
    s: &Settings,
    items: &[ItemRecord],
    filed_on: NaiveDate,
    heads: Vec<AuditHead>,
) -> Volume {
    let items: Vec<bagvol::Item> = items
        .iter()
        .map(|i| bagvol::Item {
            n: i.n,
            case: i.case.clone(),
            title: i.title.clone(),
            author: i.author.clone(),
            first: i.first,
            date: i.date,
            files: i
                .files
                .iter()
                .enumerate()
                .map(|(k, f)| FileRef {
                    path: bagvol::item_path(i.n, k + 1, &f.material, extension(&f.media_type)),
                    ..f.clone()
                })
                .collect(),
        })
        .collect();
    let start = items.iter().map(|i| i.first).min().unwrap_or(filed_on);
    let end = items.iter().map(|i| i.date).max().unwrap_or(filed_on);
    Volume {
        archive_number: record.archive_number.clone(),
        archive_house_number: s.archive_house_number.clone(),
        title: record.title.clone(),
        filing_unit: s.filing_unit.clone(),
        county: record.county.clone(),
        class: record.class,
        period: record.period,
        month: record.month.clone(),
        start,
        end,
        classification_level: s.classification_level.clone(),
        compiled_by: record.compiled_by.clone(),
        filed_on,
        items,
        own: Vec::new(),
        audit_heads: heads,
    }
}

/// The audit chain heads of `cases` now, sorted by case.
///
/// # Errors
/// 503 the store.
pub async fn heads(
    p: &Platform,
    cases: impl Iterator<Item = &str>,
) -> Result<Vec<AuditHead>, ApiError> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        if !seen.insert(case.to_owned()) {
            continue;
        }
        if let Some(e) = swi_platform::mutation::last_event(p, case).await? {
            out.push(AuditHead {
                case: case.to_owned(),
                seq: e.seq,
                hash: e.hash,
            });
        }
    }
    out.sort();
    Ok(out)
}

/// Stores one of the volume's own sheets and its fixity; answers its reference.
async fn own_sheet(
    p: &Platform,
    bytes: Vec<u8>,
    path: &str,
    material: &str,
    ops: &mut Vec<TxOp>,
) -> Result<FileRef, ApiError> {
    let meta = p
        .docs
        .put(&mut &bytes[..])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let sha512 = swi_archive::bagit::digest_hex("sha512", &bytes).unwrap_or_default();
    let k = fixity_key(&meta.sha256.hex());
    if p.state.get(&k).await?.is_none() && !ops.iter().any(|o| o.key() == k) {
        ops.push(crate::model::fixity_put(
            &Fixity {
                sha256: meta.sha256.hex(),
                sha512: sha512.clone(),
                size: meta.size,
                media_type: Some("application/pdf".into()),
                encrypted: false,
                verified_at: p.clock.now().naive_local(),
                round: 0,
                outcome: crate::model::Outcome::Intact,
            },
            Condition::NotExists,
        )?);
    }
    Ok(FileRef {
        path: path.to_owned(),
        sha256: meta.sha256.hex(),
        sha512,
        size: meta.size,
        media_type: "application/pdf".into(),
        material: material.to_owned(),
    })
}

/// The package of a volume: its bag's tag files as a deterministic tar, dated on its filing
/// day.
///
/// # Errors
/// A bag that cannot be written (a defect).
pub fn package(v: &Volume) -> Result<Vec<u8>, ApiError> {
    let files = v
        .bag()
        .map_err(|e| ApiError::internal(&e))?
        .files()
        .map_err(|e| ApiError::internal(&e))?;
    let mtime = v
        .filed_on
        .and_hms_opt(0, 0, 0)
        .map_or(0, |d| u64::try_from(d.and_utc().timestamp()).unwrap_or(0));
    swi_archive::package::pack(&v.archive_number.replace('·', "."), mtime, &files)
        .map_err(|e| ApiError::internal(&e))
}

/// One packing step: the four checks of the volume packed last (its report kept), or the next
/// volume's sheets and package, its digest recorded.
pub(crate) async fn pack_step(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
    let volumes = order(&f);
    if f.checked < f.packed {
        let id = volumes
            .get(f.checked)
            .ok_or_else(|| ApiError::internal(&"checked past the volumes"))?;
        let (record, _) = load_volume(&*p.state, id)
            .await?
            .ok_or_else(|| ApiError::internal(&format!("volume {id} missing")))?;
        let report = crate::checking::run(p, &record, swi_archive::checks::Stage::Filing).await?;
        let kept = crate::checking::KeptReport {
            volume: id.clone(),
            at: p.clock.now().naive_local(),
            by: "档案归档".into(),
            passed: report.passed(),
            report,
        };
        f.checked += 1;
        return p
            .state
            .transact(vec![
                crate::checking::keep_op(&kept)?,
                filing_put(&f, Condition::VersionIs(version))?,
            ])
            .await
            .map_err(conflict);
    }
    let Some(id) = volumes.get(f.packed).cloned() else {
        f.phase = Phase::Retain;
        return p
            .state
            .transact(vec![filing_put(&f, Condition::VersionIs(version))?])
            .await
            .map_err(conflict);
    };
    let (mut record, rv) = load_volume(&*p.state, &id)
        .await?
        .ok_or_else(|| ApiError::internal(&format!("volume {id} missing")))?;
    let list: Vec<ItemRecord> = items(&*p.state, &id)
        .await?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let Some(frozen) = record.frozen.clone() else {
        // First, what the package is made from is fixed: a run killed after storing its
        // sheets and package makes the same bytes again (stored once, content-addressed).
        let (s, _) = settings(&*p.state, &f.county)
            .await?
            .ok_or_else(|| settings_missing(&f.county))?;
        record.frozen = Some(crate::model::Frozen {
            filed_on: p.clock.today(),
            heads: heads(p, list.iter().map(|i| i.case.as_str())).await?,
            settings: s,
        });
        return p
            .state
            .transact(vec![
                volume_put(&record, Condition::VersionIs(rv))?,
                filing_put(&f, Condition::VersionIs(version))?,
            ])
            .await
            .map_err(conflict);
    };
    let filed_on = frozen.filed_on;
    let mut v = volume_of(&record, &frozen.settings, &list, filed_on, frozen.heads);
    let mut ops = Vec::new();
    v.own = vec![
        own_sheet(
            p,
            crate::sheets::cover(&v)?,
            "data/volume/cover.pdf",
            "案卷封面",
            &mut ops,
        )
        .await?,
        own_sheet(
            p,
            crate::sheets::contents(&v)?,
            "data/volume/contents.pdf",
            "卷内目录",
            &mut ops,
        )
        .await?,
        own_sheet(
            p,
            crate::sheets::notes(&v)?,
            "data/volume/notes.pdf",
            "卷内备考表",
            &mut ops,
        )
        .await?,
    ];
    let bytes = package(&v)?;
    let meta = p
        .docs
        .put(&mut &bytes[..])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    record.status = VolumeStatus::Filed;
    record.package = Some(meta.sha256.hex());
    record.package_bytes = Some(meta.size);
    record.filed_on = Some(filed_on);
    ops.push(volume_put(&record, Condition::VersionIs(rv))?);
    let actor = job_actor(NAME, "档案归档");
    ops.extend(
        audit_ops(
            p,
            &actor,
            &[Audit {
                case: volume_case(&id),
                command: "volume.file".into(),
                change: crate::checking::filing_change(&record, &meta.sha256.hex(), meta.size),
            }],
        )
        .await?,
    );
    f.packed += 1;
    ops.push(filing_put(&f, Condition::VersionIs(version))?);
    p.state.transact(ops).await.map_err(conflict)
}
