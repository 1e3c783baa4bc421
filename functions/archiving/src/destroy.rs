//! The job carrying out a volume's disposal (鉴定、销毁), a step at a time, each step one
//! transaction conditioned on the disposal and the volume as read (a hold placed meanwhile
//! stops it), so that a run killed at any point goes on from there.
//!
//! An extension raises each document's lock to the appraisal's day (never lowers it). A
//! destruction decides each document in turn: destroyed only if no other volume still keeps it,
//! its own retention (from its cases' closing) has passed, and the store neither holds nor locks
//! it — otherwise kept, with why; the step writes the rows of the destruction list and names the
//! documents to remove, which are removed after it commits (again, harmlessly, after a crash).
//! Last, the list is rendered, kept for ever (class GS16) and the volume marked destroyed.

use std::time::Instant;

use chrono::NaiveDate;
use serde_json::json;
use swi_archive::retention::RecordClass;
use swi_platform::jobs::{Job, Report, Wake, job_actor, pointer_partition};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, DocError, Item, Keep, Query, Sha256, TxOp};

use crate::disposal::{
    Disposal, DisposalKind, DisposalStatus, Fate, ListRow, NAME, disposal_put, load, pointer_key,
    row_key, rows,
};
use crate::model::{
    VolumeRecord, VolumeStatus, destroyed_key, filed_in, fixity_key, item_key, load_volume,
    volume_key, volume_put,
};
use crate::retain::{keep_op, kept, own, own_documents};

/// Documents decided per step (each writes up to three records, and a removal the store
/// refused rewrites one more: within a transaction's 100).
const STEP_DOCS: usize = 20;

/// The job carrying out approved, witnessed destructions and appraisals' extensions.
pub struct ArchiveDispose;

#[async_trait::async_trait]
impl Job for ArchiveDispose {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "carries out appraisals: extends volumes' retention, destroys approved and witnessed volumes with their destruction lists"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let pointers = p
            .state
            .query_all(&Query::partition(pointer_partition(NAME)).limit(100))
            .await?;
        let mut report = Report {
            job: NAME,
            ..Report::default()
        };
        let mut finished = Vec::new();
        for ptr in pointers {
            match work(p, &ptr.sk, deadline).await {
                Ok((steps, true)) => {
                    report.done += steps;
                    finished.push(ptr.sk.clone());
                }
                Ok((steps, false)) => {
                    report.done += steps;
                    report.pending += 1;
                }
                Err(e) => report
                    .errors
                    .push(format!("{}: {}", ptr.sk, e.code.as_str())),
            }
            if Instant::now() > deadline {
                break;
            }
        }
        report.summary = format!(
            "steps {}, disposals finished {}, pending {}",
            report.done,
            finished.len(),
            report.pending
        );
        report.detail = json!({ "finished": finished });
        Ok(report)
    }
}

/// Carries one volume's disposal on until it is done, stopped or `deadline` passes (at least
/// one step); answers the steps made and whether it no longer needs the job.
///
/// # Errors
/// 503 the stores.
pub async fn work(
    p: &Platform,
    volume: &str,
    deadline: Instant,
) -> Result<(usize, bool), ApiError> {
    let mut steps = 0;
    loop {
        let Some((d, dv)) = load(p, volume).await? else {
            drop_pointer(p, volume, None).await?;
            return Ok((steps, true));
        };
        if d.status != DisposalStatus::Working {
            drop_pointer(p, volume, Some(dv)).await?;
            return Ok((steps, true));
        }
        if steps > 0 && Instant::now() > deadline {
            return Ok((steps, false));
        }
        match step(p, d, dv).await {
            Ok(()) => steps += 1,
            Err(e) if e.code == ErrorCode::ConcurrentChange => return Ok((steps, false)),
            Err(e) => return Err(e),
        }
    }
}

/// Deletes the pointer of a disposal that needs no job, conditioned on the disposal as read: a
/// hold released meanwhile (the disposal working again, its pointer written again) keeps it.
async fn drop_pointer(p: &Platform, volume: &str, read: Option<u64>) -> Result<(), ApiError> {
    let key = crate::disposal::disposal_key(volume);
    match p
        .state
        .transact(vec![
            TxOp::Check {
                key,
                condition: read.map_or(Condition::NotExists, Condition::VersionIs),
            },
            TxOp::Delete {
                key: pointer_key(volume),
                condition: Condition::None,
            },
        ])
        .await
    {
        Ok(()) | Err(swi_store::StateError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn conflict(e: swi_store::StateError) -> ApiError {
    match e {
        swi_store::StateError::Conflict { .. } => ApiError::conflict(
            ErrorCode::ConcurrentChange,
            "该案卷正由另一进程处理",
            "the volume changed meanwhile",
        ),
        other => other.into(),
    }
}

/// One step: the last step's removals made, then the next documents decided.
async fn step(p: &Platform, mut d: Disposal, dv: u64) -> Result<(), ApiError> {
    let (v, vv) = load_volume(&*p.state, &d.volume)
        .await?
        .ok_or_else(|| ApiError::internal(&format!("volume {} missing", d.volume)))?;
    let today = p.clock.today();
    let mut ops = Vec::new();
    // A hold stops it before anything more is removed (what the last step decided waits too).
    if d.kind == DisposalKind::Destroy && v.hold.is_some() {
        d.status = DisposalStatus::Held;
        ops.push(disposal_put(&d, Condition::VersionIs(dv))?);
        ops.push(TxOp::Check {
            key: volume_key(&v.id),
            condition: Condition::VersionIs(vv),
        });
        ops.push(TxOp::Delete {
            key: pointer_key(&d.volume),
            condition: Condition::None,
        });
        return p.state.transact(ops).await.map_err(conflict);
    }
    // What the last step decided is removed now, and its fixity record with it; a removal the
    // store refuses is kept after all.
    for (n, sha) in std::mem::take(&mut d.pending) {
        let hex = Sha256::parse(&sha).map_err(|e| ApiError::internal(&e))?;
        match p.docs.destroy(&hex, today).await {
            Ok(()) | Err(DocError::NotFound(_)) => ops.push(TxOp::Delete {
                key: fixity_key(&sha),
                condition: Condition::None,
            }),
            Err(DocError::Retained { held, until, .. }) => {
                ops.push(TxOp::Delete {
                    key: destroyed_key(&sha),
                    condition: Condition::None,
                });
                let key = row_key(&d.volume, n, &sha);
                if let Some(item) = p.state.get(&key).await? {
                    let mut row: ListRow = item.body().map_err(|e| ApiError::internal(&e))?;
                    row.fate = Fate::Kept;
                    row.why = Some(store_refused(held, until));
                    ops.push(TxOp::Put {
                        item: Item::new(key.pk, key.sk, &row)?,
                        condition: Condition::VersionIs(item.version),
                    });
                    d.destroyed = d.destroyed.saturating_sub(1);
                    d.kept += 1;
                }
            }
            Err(e) => return Err(ApiError::unavailable(&e)),
        }
    }
    let mut decided = 0usize;
    // A document in two items of the volume is decided once, and listed under each item.
    let mut seen: std::collections::BTreeMap<String, Option<String>> =
        std::collections::BTreeMap::new();
    let mut listed = std::collections::BTreeSet::new();
    while decided < STEP_DOCS {
        if d.next > v.items + 1 {
            // Finished in a step of its own, once every removal is made and every row
            // written: the list is rendered from the rows as stored.
            if !d.pending.is_empty() || !ops.is_empty() {
                break;
            }
            return finish(p, d, dv, v, vv).await;
        }
        let docs: Vec<(String, String, String, u64)> = if d.next == v.items + 1 {
            // Listed once, from the package, before the package itself is removed.
            if d.own.is_none() {
                d.own = Some(own_documents(p, &v).await?);
            }
            d.own
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|sha| {
                    (
                        sha,
                        "案卷封面、卷内目录、备考表、封装包".to_owned(),
                        v.title.clone(),
                        0,
                    )
                })
                .collect()
        } else {
            let item = p
                .state
                .get(&item_key(&d.volume, d.next))
                .await?
                .ok_or_else(|| ApiError::internal(&format!("item {} missing", d.next)))?;
            let record: crate::model::ItemRecord =
                item.body().map_err(|e| ApiError::internal(&e))?;
            record
                .files
                .into_iter()
                .map(|f| (f.sha256, f.material, record.title.clone(), f.size))
                .collect()
        };
        let n = if d.next == v.items + 1 { 0 } else { d.next };
        let archive_number = if n == 0 {
            v.archive_number.clone()
        } else {
            format!("{}-{n:04}", v.archive_number)
        };
        let mut whole = true;
        for (i, (sha, material, title, size)) in docs.into_iter().enumerate().skip(d.at_file) {
            if decided == STEP_DOCS {
                d.at_file = i;
                whole = false;
                break;
            }
            decided += 1;
            if !listed.insert((n, sha.clone())) {
                continue;
            }
            match d.kind {
                DisposalKind::Extend => {
                    if seen.insert(sha.clone(), None).is_some() {
                        continue;
                    }
                    let until = d.until.unwrap_or(today);
                    if let Some(op) = extend(p, &v, &sha, n == 0, until).await? {
                        ops.push(op);
                    }
                }
                DisposalKind::Destroy => {
                    let why = if let Some(why) = seen.get(&sha) {
                        why.clone()
                    } else if p.state.get(&destroyed_key(&sha)).await?.is_some() {
                        // Destroyed by an earlier step (another item of this volume).
                        seen.insert(sha.clone(), None);
                        None
                    } else {
                        let why = keeps(p, &v, &sha, n == 0, today).await?;
                        if why.is_none() {
                            d.pending.push((n, sha.clone()));
                            let gone = destroyed_key(&sha);
                            ops.push(TxOp::Put {
                                item: Item::new(
                                    gone.pk,
                                    gone.sk,
                                    &json!({ "volume": d.volume, "on": today }),
                                )?,
                                condition: Condition::None,
                            });
                        }
                        seen.insert(sha.clone(), why.clone());
                        why
                    };
                    let fate = if why.is_some() {
                        d.kept += 1;
                        Fate::Kept
                    } else {
                        d.destroyed += 1;
                        Fate::Destroyed
                    };
                    let row = ListRow {
                        n,
                        archive_number: archive_number.clone(),
                        title,
                        material,
                        sha256: sha.clone(),
                        size,
                        fate,
                        why,
                    };
                    let k = row_key(&d.volume, n, &sha);
                    ops.push(TxOp::Put {
                        item: Item::new(k.pk, k.sk, &row)?,
                        condition: Condition::None,
                    });
                }
            }
        }
        if !whole {
            break;
        }
        d.next += 1;
        d.at_file = 0;
    }
    ops.push(disposal_put(&d, Condition::VersionIs(dv))?);
    ops.push(TxOp::Check {
        key: volume_key(&v.id),
        condition: Condition::VersionIs(vv),
    });
    p.state.transact(ops).await.map_err(conflict)
}

fn store_refused(held: bool, until: Option<NaiveDate>) -> String {
    if held {
        "文件库仍对其法律保留".to_owned()
    } else {
        format!(
            "文件库锁定至 {}",
            until.map_or_else(|| "—".to_owned(), |u| u.to_string())
        )
    }
}

/// Why a document of the volume must be kept, if it must.
async fn keeps(
    p: &Platform,
    v: &VolumeRecord,
    sha: &str,
    own_document: bool,
    today: NaiveDate,
) -> Result<Option<String>, ApiError> {
    if !own_document {
        for other in filed_in(&*p.state, sha).await? {
            if other == v.id {
                continue;
            }
            if let Some((o, _)) = load_volume(&*p.state, &other).await?
                && o.status != VolumeStatus::Destroyed
            {
                return Ok(Some(format!("亦归于案卷 {}，随该卷保管", o.archive_number)));
            }
        }
        // Decided again from every registration now: a case that registered the same bytes
        // since (a scan reused in a new claim) keeps them.
        let hex = Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
        let k = crate::retain::decide(p, &hex).await?;
        if k.permanent {
            return Ok(Some("所属案件类别永久保管".to_owned()));
        }
        if k.pending {
            return Ok(Some("所属案件尚未办结".to_owned()));
        }
        if let Some(until) = k.until.filter(|u| *u > today) {
            return Ok(Some(format!("保管至 {until}")));
        }
    }
    let hex = Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
    match p
        .docs
        .protection(&hex)
        .await
        .map_err(|e| ApiError::unavailable(&e))?
    {
        Some(pr) if pr.held || pr.until.is_none_or(|u| u > today) => {
            Ok(Some(store_refused(pr.held, pr.until)))
        }
        _ => Ok(None),
    }
}

/// Extends a document's lock to `until` in the store and in its decision (never lowering
/// either); answers the decision's new record.
async fn extend(
    p: &Platform,
    v: &VolumeRecord,
    sha: &str,
    own_document: bool,
    until: NaiveDate,
) -> Result<Option<TxOp>, ApiError> {
    let mut k = match kept(p, sha).await? {
        Some(k) => k,
        None if own_document => own(sha, v.period, v.filed_on.unwrap_or(until)),
        // Not decided yet (a case still open): decided with the extension when it is.
        None => return Ok(None),
    };
    if k.permanent || k.until.is_some_and(|u| u >= until) {
        return Ok(None);
    }
    let hex = Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
    p.docs
        .keep(&hex, Keep::Until(until))
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    k.until = Some(until);
    Ok(Some(keep_op(&k)?))
}

/// The last step: a destruction's list rendered and kept for ever, the volume marked
/// destroyed; an extension recorded done.
async fn finish(
    p: &Platform,
    mut d: Disposal,
    dv: u64,
    mut v: VolumeRecord,
    vv: u64,
) -> Result<(), ApiError> {
    let mut ops = Vec::new();
    let today = p.clock.today();
    let actor = job_actor(NAME, "档案鉴定销毁");
    let mut audit = Vec::new();
    if d.kind == DisposalKind::Destroy {
        let listed = rows(p, &d.volume).await?;
        let pdf = crate::sheets::destruction_list(&v, &d, &listed, today)?;
        let case = crate::model::volume_case(&v.id);
        let (sha, op) = swi_platform::documents::keep(
            p,
            &actor,
            &pdf,
            swi_platform::dossier::Filing {
                case: &case,
                county: &v.county,
                class: RecordClass::ArchiveRegisters,
                material: "销毁清册",
            },
        )
        .await?;
        ops.extend(op);
        p.docs
            .keep(&sha, Keep::Permanently)
            .await
            .map_err(|e| ApiError::unavailable(&e))?;
        d.list = Some(sha.hex());
        v.status = VolumeStatus::Destroyed;
        ops.push(volume_put(&v, Condition::VersionIs(vv))?);
        audit.push(Audit {
            case: case.clone(),
            command: "volume.destroy".into(),
            change: json!({
                "list": sha.hex(),
                "destroyed": d.destroyed,
                "kept": d.kept,
                "approved_by": d.decided.as_ref().map(|s| s.name.clone()),
                "witnesses": d.witnesses.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            }),
        });
    } else {
        ops.push(TxOp::Check {
            key: volume_key(&v.id),
            condition: Condition::VersionIs(vv),
        });
        audit.push(Audit {
            case: crate::model::volume_case(&v.id),
            command: "volume.extended".into(),
            change: json!({ "until": d.until }),
        });
    }
    d.status = DisposalStatus::Done;
    d.finished_on = Some(today);
    ops.push(disposal_put(&d, Condition::VersionIs(dv))?);
    ops.push(TxOp::Delete {
        key: pointer_key(&d.volume),
        condition: Condition::None,
    });
    ops.extend(audit_ops(p, &actor, &audit).await?);
    p.state.transact(ops).await.map_err(conflict)
}
