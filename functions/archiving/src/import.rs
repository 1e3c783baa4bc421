//! Receiving a handover (移交接收, Art. 47): a directory `handover::export` wrote is imported
//! into this archive's stores — each volume checked as handed over first (a volume that fails
//! is not taken in), its documents and package stored under their content addresses and kept
//! for its period, its audit chains written as they were (each verified first), its items and
//! record written last — and each imported volume then passes the four checks again, on this
//! side's stores. Run again, it takes in only what it has not: a volume whose record stands
//! is only checked.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use swi_archive::checks::{Report, Stage, recorded_heads};
use swi_archive::number::VolumeNumber;
use swi_archive::retention::Period;
use swi_archive::volume::{VOLUME_JSON, Volume};
use swi_domain::Actor;
use swi_platform::mutation::{Audit, audit_ops, handed_over_op};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Keep, Sha256, TxOp};

use crate::handover::{Register, audit_file, read_register};
use crate::model::{
    Fixity, Frozen, ItemRecord, Outcome, Settings, VolumeRecord, VolumeStatus, filed_in_sk,
    fixity_put, item_put, load_volume, volume_case, volume_put,
};
use crate::retain::{KeepRecord, keep_op, kept, own};

/// Writes per transaction.
const CHUNK: usize = 90;

/// What became of a volume handed over.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    /// The volume.
    pub id: String,
    /// Taken in by this run (`false`: it was already, or it failed its checks as handed over).
    pub imported: bool,
    /// Its four checks on this side's stores (or, when refused, as handed over).
    pub report: Report,
}

fn io(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&format!("import: {e}"))
}

/// Imports every volume of the handover in `dir`, by `by`.
///
/// # Errors
/// No register; the stores; a document that does not hash to its manifest's digest.
pub async fn import(p: &Platform, dir: &Path, by: &Actor) -> Result<Vec<Received>, ApiError> {
    let register: Register = read_register(dir)?;
    let audit_dir = dir.join("audit");
    let mut out = Vec::new();
    for r in &register.volumes {
        if let Some((v, _)) = load_volume(&*p.state, &r.id).await?
            && v.package.as_deref() == Some(r.package.as_str())
        {
            let report = crate::checking::run(p, &v, Stage::Handover).await?;
            out.push(Received {
                id: r.id.clone(),
                imported: false,
                report,
            });
            continue;
        }
        if load_volume(&*p.state, &r.id).await?.is_some() {
            // Another volume under the same number: nothing of this one is written.
            return Err(ApiError::conflict(
                swi_platform::ErrorCode::AlreadyImported,
                format!("案卷 {} 已在本档案中且内容不同，未予接收", r.archive_number),
                format!(
                    "volume {} is here already with another package: not taken in",
                    r.id
                ),
            ));
        }
        let vdir = crate::handover::volume_dir(dir, &r.id);
        let handed = crate::handover::check_dir(&vdir, Some(&r.package), &audit_dir).await?;
        if !handed.passed() {
            out.push(Received {
                id: r.id.clone(),
                imported: false,
                report: handed,
            });
            continue;
        }
        let v = take_in(p, &vdir, &audit_dir, &r.package, by).await?;
        let report = crate::checking::run(p, &v, Stage::Handover).await?;
        let kept_report = crate::checking::KeptReport {
            volume: v.id.clone(),
            at: p.clock.now().naive_local(),
            by: by.name.clone(),
            passed: report.passed(),
            report: report.clone(),
        };
        p.state
            .transact(vec![crate::checking::keep_op(&kept_report)?])
            .await?;
        out.push(Received {
            id: r.id.clone(),
            imported: true,
            report,
        });
    }
    Ok(out)
}

/// The tag files of a volume directory (the files at its top).
fn tag_files(vdir: &Path) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    for entry in std::fs::read_dir(vdir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() {
            total += path.metadata().map_err(io)?.len();
            if total > swi_archive::package::PACKAGE_LIMITS.total_bytes {
                return Err(io("the tag files are larger than a package may be"));
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.insert(name, std::fs::read(&path).map_err(io)?);
        }
    }
    Ok(out)
}

/// Stores a document read from `body`, which must hash to `digest`, kept for `period` from
/// `filed_on` (a longer decision already made stands).
async fn store(
    p: &Platform,
    body: &mut (dyn tokio::io::AsyncRead + Send + Unpin),
    digest: &str,
    period: Period,
    filed_on: chrono::NaiveDate,
) -> Result<(Sha256, TxOp), ApiError> {
    let meta = p
        .docs
        .put(body)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    if meta.sha256.hex() != digest {
        return Err(io(format!("{} handed over as {digest}", meta.sha256)));
    }
    let mine = own(digest, period, filed_on);
    // A decision already made stands when it keeps the document as long or longer, or still
    // waits for a case (held meanwhile).
    let decision = match kept(p, digest).await? {
        Some(k) if k.permanent || k.pending || k.until >= mine.until => k,
        _ => mine,
    };
    apply_keep(p, &meta.sha256, &decision).await?;
    Ok((meta.sha256, keep_op(&decision)?))
}

async fn apply_keep(p: &Platform, sha: &Sha256, k: &KeepRecord) -> Result<(), ApiError> {
    let keep = if k.permanent {
        Keep::Permanently
    } else if let Some(day) = k.until {
        Keep::Until(day)
    } else {
        return Ok(());
    };
    p.docs
        .keep(sha, keep)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(())
}

async fn commit(p: &Platform, ops: &mut Vec<TxOp>) -> Result<(), ApiError> {
    while !ops.is_empty() {
        let rest = ops.split_off(ops.len().min(CHUNK));
        let chunk = std::mem::replace(ops, rest);
        p.state.transact(chunk).await?;
    }
    Ok(())
}

/// Takes one checked volume in.
async fn take_in(
    p: &Platform,
    vdir: &Path,
    audit_dir: &Path,
    package: &str,
    by: &Actor,
) -> Result<VolumeRecord, ApiError> {
    let tags = tag_files(vdir)?;
    let volume: Volume = tags
        .get(VOLUME_JSON)
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| io("volume.json is missing or unreadable"))?;
    let number = VolumeNumber::parse(&volume.archive_number).map_err(io)?;
    let id = number.file_name();
    let bag = swi_archive::bagit::parse(&tags).map_err(io)?;
    let mut ops = Vec::new();
    // The documents, each stored and kept before anything names it (once each: a document in
    // two items is under two paths).
    let mut stored = std::collections::BTreeSet::new();
    for (path, digest) in bag.manifests.get("sha256").into_iter().flatten() {
        if !stored.insert(digest.clone()) {
            continue;
        }
        let mut f = tokio::fs::File::open(vdir.join(path)).await.map_err(io)?;
        let (_, op) = store(p, &mut f, digest, volume.period, volume.filed_on).await?;
        ops.push(op);
    }
    // The package, rebuilt as the register's digest says it is.
    let mtime = volume
        .filed_on
        .and_hms_opt(0, 0, 0)
        .map_or(0, |d| u64::try_from(d.and_utc().timestamp()).unwrap_or(0));
    let ordered = crate::handover::ordered(&tags);
    let bytes =
        swi_archive::package::pack(&volume.archive_number.replace('·', "."), mtime, &ordered)
            .map_err(io)?;
    let (sha, op) = store(p, &mut &bytes[..], package, volume.period, volume.filed_on).await?;
    ops.push(op);
    commit(p, &mut ops).await?;
    // The audit chains handed over: the volume's cases' and its own.
    let mut cases: Vec<String> = recorded_heads(&tags).into_iter().map(|h| h.case).collect();
    cases.push(volume_case(&id));
    for case in cases {
        let Ok(raw) = std::fs::read(audit_dir.join(audit_file(&case))) else {
            continue;
        };
        let events: Vec<swi_domain::audit::Event> = serde_json::from_slice(&raw).map_err(io)?;
        swi_domain::audit::verify_chain(&events)
            .map_err(|e| io(format!("the chain of {case} handed over is broken: {e}")))?;
        let here = swi_platform::mutation::events(p, &case).await?;
        for (mine, theirs) in here.iter().zip(&events) {
            if mine.hash != theirs.hash {
                return Err(io(format!(
                    "the chain of {case} here differs from the one handed over"
                )));
            }
        }
        for e in events.iter().skip(here.len()) {
            ops.push(handed_over_op(e)?);
        }
        commit(p, &mut ops).await?;
    }
    // The items, with where each document is filed and its fixity as handed over.
    let mut documents = 0u32;
    let mut bytes_total = 0u64;
    let mut recorded = std::collections::BTreeSet::new();
    for i in &volume.items {
        let record = ItemRecord {
            n: i.n,
            case: i.case.clone(),
            title: i.title.clone(),
            author: i.author.clone(),
            first: i.first,
            date: i.date,
            files: i
                .files
                .iter()
                .map(|f| swi_archive::volume::FileRef {
                    path: String::new(),
                    ..f.clone()
                })
                .collect(),
        };
        ops.push(item_put(&id, &record, Condition::None)?);
        for f in &i.files {
            documents += 1;
            bytes_total += f.size;
            if !recorded.insert(f.sha256.clone()) {
                continue;
            }
            ops.push(TxOp::Put {
                item: Item::new(
                    format!("doc#{}", f.sha256),
                    filed_in_sk(&id),
                    &serde_json::json!({ "volume": id }),
                )?,
                condition: Condition::None,
            });
            ops.push(fixity_put(
                &Fixity {
                    sha256: f.sha256.clone(),
                    sha512: f.sha512.clone(),
                    size: f.size,
                    media_type: Some(f.media_type.clone()).filter(|m| !m.is_empty()),
                    encrypted: false,
                    verified_at: p.clock.now().naive_local(),
                    round: 0,
                    outcome: Outcome::Intact,
                },
                Condition::None,
            )?);
        }
        if ops.len() >= CHUNK {
            commit(p, &mut ops).await?;
        }
    }
    commit(p, &mut ops).await?;
    // The record last: its presence says the volume is in.
    let settings = Settings {
        county: volume.county.clone(),
        fonds: number.fonds.as_str().to_owned(),
        archive_house_number: volume.archive_house_number.clone(),
        filing_unit: volume.filing_unit.clone(),
        classification_level: volume.classification_level.clone(),
        compiled_by: volume.compiled_by.clone(),
        recorded_by: by.name.clone(),
        recorded_at: p.clock.now().naive_local(),
    };
    let v = VolumeRecord {
        id: id.clone(),
        archive_number: volume.archive_number.clone(),
        county: volume.county.clone(),
        month: volume.month.clone(),
        class: volume.class,
        period: volume.period,
        title: volume.title.clone(),
        status: VolumeStatus::Filed,
        items: u32::try_from(volume.items.len()).map_err(io)?,
        documents,
        bytes: bytes_total,
        package: Some(sha.hex()),
        package_bytes: Some(bytes.len() as u64),
        filed_on: Some(volume.filed_on),
        compiled_by: volume.compiled_by.clone(),
        paper: None,
        hold: None,
        extended_until: None,
        frozen: Some(Frozen {
            filed_on: volume.filed_on,
            heads: volume.audit_heads.clone(),
            settings,
        }),
    };
    let mut last = vec![volume_put(&v, Condition::NotExists)?];
    last.extend(
        audit_ops(
            p,
            by,
            &[Audit {
                case: volume_case(&id),
                command: "volume.import".into(),
                change: serde_json::json!({ "package": package, "basis": "Art. 47" }),
            }],
        )
        .await?,
    );
    p.state.transact(last).await?;
    Ok(v)
}
