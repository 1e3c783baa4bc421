//! Running the four checks (DA/T 70) on a stored volume: gathering what the stores show — the
//! package's bytes, the digests recorded for it in the state store and in its audit chain,
//! every document re-hashed, each case's audit chain at the head recorded at filing, each
//! document's protection — for `swi_archive::checks` to judge, and keeping each report.
//!
//! The audit chain keeps digests of changes, never the changes: the package the chain vouches
//! for is proven by rebuilding the filing's change with the package as read and comparing
//! digests. A package put in place of the filed one (even a valid one) fails there.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_archive::checks::{ChainNow, Evidence, Protected, Report, Seen, Stage, check};
use swi_archive::package::{PACKAGE_LIMITS, unpack};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, Query, Sha256, SkRange, TxOp};

use crate::model::{VolumeRecord, volume_case};

/// The change a volume's filing writes to its audit chain: rebuilt from the record and the
/// package to prove which package the chain vouches for.
#[must_use]
pub fn filing_change(v: &VolumeRecord, package: &str, package_bytes: u64) -> Value {
    json!({
        "archive_number": v.archive_number,
        "package": package,
        "package_bytes": package_bytes,
        "items": v.items,
        "documents": v.documents,
        "basis": "Art. 45-46",
    })
}

/// A check report as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeptReport {
    /// The volume.
    pub volume: String,
    /// When it ran.
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    /// Who ran it.
    pub by: String,
    /// Whether every row passed.
    pub passed: bool,
    /// The report.
    #[schema(value_type = Object)]
    pub report: Report,
}

/// The key of a kept report.
#[must_use]
pub fn report_key(volume: &str, at: &NaiveDateTime) -> Key {
    Key::new(
        format!("volume#{volume}"),
        format!("checks#{}", at.format("%Y-%m-%dT%H:%M:%S%.6f")),
    )
}

/// The operation keeping a report.
///
/// # Errors
/// Serialization (it does not fail).
pub fn keep_op(r: &KeptReport) -> Result<TxOp, ApiError> {
    let k = report_key(&r.volume, &r.at);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, r)?,
        condition: Condition::None,
    })
}

/// The kept reports of a volume, newest first.
///
/// # Errors
/// 503 the store.
pub async fn reports(p: &Platform, volume: &str, limit: u32) -> Result<Vec<KeptReport>, ApiError> {
    let page = p
        .state
        .query(
            &Query::partition(format!("volume#{volume}"))
                .range(SkRange::Prefix("checks#".into()))
                .backward()
                .limit(limit),
        )
        .await?;
    page.items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// A package's bytes as stored, whatever they hash to (the check compares), within its limits;
/// `None` when it is not stored.
async fn read_package(p: &Platform, sha: &Sha256) -> Result<Option<Vec<u8>>, ApiError> {
    use tokio::io::AsyncReadExt;
    let reader = match p.docs.get(sha).await {
        Ok(r) => r,
        Err(swi_store::DocError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(ApiError::unavailable(&e)),
    };
    let mut out = Vec::new();
    match reader
        .take(PACKAGE_LIMITS.total_bytes + 1)
        .read_to_end(&mut out)
        .await
    {
        // The store's own check fails at the end when the bytes changed: they are all read.
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {}
        Err(e) => return Err(ApiError::unavailable(&e)),
    }
    Ok(Some(out))
}

/// Gathers what the stores show of `v` and judges it at `stage`.
///
/// # Errors
/// 503 the store.
pub async fn run(p: &Platform, v: &VolumeRecord, stage: Stage) -> Result<Report, ApiError> {
    let package = v.package.as_deref().and_then(|s| Sha256::parse(s).ok());
    // Read once, within the package's limits: its digest is what the bytes hash to.
    let raw = match &package {
        Some(sha) => read_package(p, sha).await?,
        None => None,
    };
    let bytes = raw.as_ref().map(|b| (Sha256::of(b).hex(), b.len() as u64));
    let (package_sha256, tag_files) = match (&raw, &package) {
        (Some(b), _) => (
            Sha256::of(b).hex(),
            unpack(b, PACKAGE_LIMITS)
                .map(|(_, f)| f)
                .map_err(|e| e.to_string()),
        ),
        (None, Some(sha)) => (sha.hex(), Err("the package is missing".to_owned())),
        (None, None) => (String::new(), Err("the volume is not packed".to_owned())),
    };
    // What the audit chain vouches for: the filing's change rebuilt with the package as read.
    let events = swi_platform::mutation::events(p, &volume_case(&v.id)).await?;
    let filed = events.iter().rev().find(|e| e.command == "volume.file");
    let audit = match (filed, &bytes) {
        (Some(e), Some((digest, size))) => {
            let rebuilt = swi_domain::audit::digest(&filing_change(v, digest, *size));
            Some(if rebuilt == e.digest {
                digest.clone()
            } else {
                "(another package)".to_owned()
            })
        }
        (Some(_), None) => Some("(a package no longer stored)".to_owned()),
        (None, _) => None,
    };
    let mut seen = BTreeMap::new();
    let mut protection = BTreeMap::new();
    let mut required = BTreeMap::new();
    let mut chains = BTreeMap::new();
    if let Ok(files) = &tag_files {
        if let Ok(bag) = swi_archive::bagit::parse(files) {
            for digest in bag
                .manifests
                .get("sha256")
                .into_iter()
                .flat_map(|m| m.values())
            {
                let Ok(sha) = Sha256::parse(digest) else {
                    continue;
                };
                let s = match crate::hashing::hash(p, &sha).await? {
                    Some(h) => h.seen(),
                    None => Seen::Missing,
                };
                if let Some(pr) = p
                    .docs
                    .protection(&sha)
                    .await
                    .map_err(|e| ApiError::unavailable(&e))?
                {
                    protection.insert(
                        digest.clone(),
                        Protected {
                            held: pr.held,
                            until: pr.until,
                            read_only: pr.read_only,
                        },
                    );
                }
                // As the archive decided: held (permanent, a case still open, or not decided
                // yet), or locked until its day at least.
                let day = match crate::retain::kept(p, digest).await? {
                    Some(k) if !k.permanent && !k.pending => k.until,
                    _ => None,
                };
                required.insert(digest.clone(), day);
                seen.insert(digest.clone(), s);
            }
        }
        for head in swi_archive::checks::recorded_heads(files) {
            let at = p
                .state
                .get(&Key::new(
                    swi_platform::mutation::audit_partition(&head.case),
                    format!("seq#{:012}", head.seq),
                ))
                .await?
                .map(|i| {
                    i.body::<swi_domain::audit::Event>()
                        .map_err(|e| ApiError::internal(&e))
                })
                .transpose()?;
            let intact = swi_platform::mutation::verify_case(p, &head.case)
                .await?
                .is_ok();
            chains.insert(
                head.case.clone(),
                ChainNow {
                    at_head: at.map(|e| e.hash),
                    intact,
                },
            );
        }
    }
    Ok(check(&Evidence {
        stage,
        archive_number: v.archive_number.clone(),
        package_sha256,
        recorded: vec![("state".into(), v.package.clone()), ("audit".into(), audit)],
        tag_files,
        seen,
        strays: Vec::new(),
        chains,
        protection,
        required,
    }))
}
