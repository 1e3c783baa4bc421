//! Retention set in the store (保管期限, Art. 45-46): once a document's cases have closed, its
//! lock is the longest period of any class it is registered in, counted from 1 January of the
//! year after its case closed — extended, never shortened — and its legal hold is released; a
//! document of any permanent class keeps its hold. A document one of whose cases is still open
//! (a claim not yet decided) is locked for what is known and stays held; it waits in the index
//! `retain-pending`, and the daily `archive-retain` decides it again once its cases close.
//!
//! What was decided is kept with the document (`doc#<sha256>` / `keep`), which the four checks
//! hold the store's protection to.

use std::time::Instant;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_archive::retention::{self, Period};
use swi_platform::jobs::{Job, Report, Wake};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Index, Item, Keep, Key, Query, Sha256, TxOp};

use crate::model::{item_key, load_volume};
use crate::month::{Filing, Phase, conflict, filing_put, order, pointer_key};

/// Documents decided per transaction of the filing's last step.
const RETAIN_DOCS: usize = 40;

/// The index of documents waiting for a case to close.
pub const PENDING: &str = "retain-pending";

/// What the archive decided a document is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeepRecord {
    /// The document.
    pub sha256: String,
    /// Kept for ever (a permanent class): its hold stays.
    pub permanent: bool,
    /// Locked until this day at least.
    #[schema(value_type = Option<String>)]
    pub until: Option<NaiveDate>,
    /// A case of it is still open: it stays held, and is decided again when the case closes.
    pub pending: bool,
}

/// The key of a document's retention decision.
#[must_use]
pub fn keep_key(sha256: &str) -> Key {
    Key::new(format!("doc#{sha256}"), "keep")
}

/// A document's retention decision, if made.
///
/// # Errors
/// 503 the store.
pub async fn kept(p: &Platform, sha256: &str) -> Result<Option<KeepRecord>, ApiError> {
    p.state
        .get(&keep_key(sha256))
        .await?
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// The operation keeping a decision (indexed while pending).
///
/// # Errors
/// Serialization (it does not fail).
pub fn keep_op(k: &KeepRecord) -> Result<TxOp, ApiError> {
    let key = keep_key(&k.sha256);
    let mut item = Item::new(key.pk, key.sk, k)?;
    if k.pending {
        item = item.with_gsi1(PENDING, k.sha256.clone());
    }
    Ok(TxOp::Put {
        item,
        condition: Condition::None,
    })
}

/// Decides a registered document's retention from its registrations and their cases.
///
/// # Errors
/// A class without a period on its closing day (422); 503 the store.
pub async fn decide(p: &Platform, sha: &Sha256) -> Result<KeepRecord, ApiError> {
    let regs = swi_platform::dossier::registrations(p, sha).await?;
    let mut k = KeepRecord {
        sha256: sha.hex(),
        permanent: false,
        until: None,
        pending: regs.is_empty(),
    };
    for r in &regs {
        let Some(closed) = swi_platform::dossier::closed_on(p, r).await? else {
            k.pending = true;
            continue;
        };
        match retention::period(r.class, closed).map_err(|e| {
            ApiError::refused(
                ErrorCode::ParameterPending,
                format!("类别 {} 在 {closed} 没有保管期限", r.class),
                e.to_string(),
            )
        })? {
            Period::Permanent => k.permanent = true,
            period => k.until = k.until.max(period.retain_until(closed)),
        }
    }
    Ok(k)
}

/// The decision for one of a volume's own documents (its sheets, its package): closed the day
/// the volume was filed, kept for the volume's period.
#[must_use]
pub fn own(sha256: &str, period: Period, filed_on: NaiveDate) -> KeepRecord {
    KeepRecord {
        sha256: sha256.to_owned(),
        permanent: period == Period::Permanent,
        until: period.retain_until(filed_on),
        pending: false,
    }
}

/// Puts a decision into the store: the hold kept for a permanent document, the lock set (never
/// shortened), and the hold released only when nothing is pending.
///
/// # Errors
/// 503 the store; 404 the document is not stored.
pub async fn apply(p: &Platform, k: &KeepRecord) -> Result<(), ApiError> {
    let sha = Sha256::parse(&k.sha256).map_err(|e| ApiError::internal(&e))?;
    let unavailable = |e: swi_store::DocError| match e {
        swi_store::DocError::NotFound(_) => {
            ApiError::not_found("文件不在文件库中", format!("{sha} is not stored"))
        }
        e => ApiError::unavailable(&e),
    };
    if k.permanent {
        p.docs
            .keep(&sha, Keep::Permanently)
            .await
            .map_err(unavailable)?;
        return Ok(());
    }
    if let Some(day) = k.until {
        p.docs
            .keep(&sha, Keep::Until(day))
            .await
            .map_err(unavailable)?;
        if !k.pending {
            p.docs.release(&sha).await.map_err(unavailable)?;
        }
    }
    Ok(())
}

/// The daily job deciding again the documents that waited for a case to close.
pub struct ArchiveRetain;

/// Its name.
pub const NAME: &str = "archive-retain";

#[async_trait::async_trait]
impl Job for ArchiveRetain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "sets the retention of archived documents whose cases have since closed (Art. 45-46)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 4 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let mut report = Report {
            job: NAME,
            ..Report::default()
        };
        let mut cursor = None;
        // Documents still waiting for a case: not work left for a later run (they wait for the
        // case, not for time), so counted apart.
        let mut waiting = 0usize;
        loop {
            let page = p
                .state
                .query_index(
                    Index::Gsi1,
                    &Query::partition(PENDING).limit(50).after(cursor),
                )
                .await?;
            for item in &page.items {
                let before: KeepRecord = item.body().map_err(|e| ApiError::internal(&e))?;
                let sha = Sha256::parse(&before.sha256).map_err(|e| ApiError::internal(&e))?;
                match decide(p, &sha).await {
                    Ok(k) => {
                        apply(p, &k).await?;
                        p.state.transact(vec![keep_op(&k)?]).await?;
                        if k.pending {
                            waiting += 1;
                        } else {
                            report.done += 1;
                        }
                    }
                    Err(e) => report.errors.push(format!("{sha}: {}", e.code)),
                }
            }
            match page.next {
                Some(c) if Instant::now() < deadline => cursor = Some(c),
                Some(_) => {
                    report.pending += 1;
                    break;
                }
                None => break,
            }
        }
        report.summary = format!(
            "documents decided {}, still waiting for a case {waiting}",
            report.done
        );
        report.detail = json!({ "decided": report.done, "waiting": waiting });
        Ok(report)
    }
}

/// The filing's last step: the next documents' retention decided, put into the store and kept —
/// each volume's own documents (its sheets and package) first, then its items'. The month is
/// filed once every volume's are.
///
/// # Errors
/// 503 the stores; a class without a period.
pub(crate) async fn retain_step(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
    let volumes = order(&f);
    let (mut vi, mut n) = f.retain_at;
    let mut ops = Vec::new();
    let mut decided = 0usize;
    // A document in two items (or two volumes) of one step is decided once: its decision
    // covers every registration, and a transaction writes a record once.
    let mut seen = std::collections::BTreeSet::new();
    while decided < RETAIN_DOCS {
        let Some(id) = volumes.get(vi) else {
            f.phase = Phase::Done;
            ops.push(TxOp::Delete {
                key: pointer_key(&f.county, &f.month),
                condition: Condition::None,
            });
            break;
        };
        if n == 0 {
            let (v, _) = load_volume(&*p.state, id)
                .await?
                .ok_or_else(|| ApiError::internal(&format!("volume {id} missing")))?;
            let filed_on = v
                .frozen
                .as_ref()
                .map(|fz| fz.filed_on)
                .ok_or_else(|| ApiError::internal(&format!("volume {id} not packed")))?;
            for sha in own_documents(p, &v).await? {
                if !seen.insert(sha.clone()) {
                    continue;
                }
                let k = own(&sha, v.period, filed_on);
                apply(p, &k).await?;
                ops.push(keep_op(&k)?);
                decided += 1;
            }
            n = 1;
            continue;
        }
        let Some(item) = p.state.get(&item_key(id, n)).await? else {
            vi += 1;
            n = 0;
            continue;
        };
        let record: crate::model::ItemRecord = item.body().map_err(|e| ApiError::internal(&e))?;
        for file in &record.files {
            if !seen.insert(file.sha256.clone()) {
                continue;
            }
            let sha = Sha256::parse(&file.sha256).map_err(|e| ApiError::internal(&e))?;
            let k = decide(p, &sha).await?;
            apply(p, &k).await?;
            ops.push(keep_op(&k)?);
            decided += 1;
        }
        n += 1;
    }
    f.retain_at = (vi, n);
    ops.push(filing_put(&f, Condition::VersionIs(version))?);
    p.state.transact(ops).await.map_err(conflict)
}

/// A volume's own documents: its package and the sheets its manifest lists under `data/volume/`.
pub(crate) async fn own_documents(
    p: &Platform,
    v: &crate::model::VolumeRecord,
) -> Result<Vec<String>, ApiError> {
    let Some(package) = v.package.clone() else {
        return Ok(Vec::new());
    };
    let sha = Sha256::parse(&package).map_err(|e| ApiError::internal(&e))?;
    let raw = swi_platform::documents::load_bounded(
        p,
        &sha,
        swi_archive::package::PACKAGE_LIMITS.total_bytes,
    )
    .await?;
    let (_, files) = swi_archive::package::unpack(&raw, swi_archive::package::PACKAGE_LIMITS)
        .map_err(|e| ApiError::internal(&e))?;
    let bag = swi_archive::bagit::parse(&files).map_err(|e| ApiError::internal(&e))?;
    let mut out = vec![package];
    for (path, digest) in bag.manifests.get("sha256").into_iter().flatten() {
        if path.starts_with("data/volume/") {
            out.push(digest.clone());
        }
    }
    Ok(out)
}
