//! The filing's second step: each document of the month's volumes hashed once (SHA-256 and
//! SHA-512, its length and type kept as its fixity), the items completed with them.

use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Sha256, StateError, TxOp};

use crate::hashing;
use crate::model::{Fixity, ItemRecord, fixity_key, item_key, item_put};
use crate::month::{Filing, Phase, conflict, filing_put, order};

/// Items written per transaction in the hashing phase.
const HASH_ITEMS: usize = 20;

/// Fixity records written ahead in a transaction of their own once this many wait (an item of
/// many documents never makes a transaction of more than 100 writes).
const FIXITY_AHEAD: usize = 60;

/// One hashing step: the next items' documents, each hashed once (its fixity kept), their
/// SHA-512, length and type written into the items.
pub(crate) async fn hash_step(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
    let volumes = order(&f);
    let (mut vi, mut n) = f.hash_at;
    let mut ops = Vec::new();
    let mut fixes: Vec<TxOp> = Vec::new();
    while ops.len() < HASH_ITEMS {
        let Some(id) = volumes.get(vi) else {
            f.phase = Phase::Pack;
            break;
        };
        let Some(item) = p.state.get(&item_key(id, n)).await? else {
            vi += 1;
            n = 1;
            continue;
        };
        let mut record: ItemRecord = item.body().map_err(|e| ApiError::internal(&e))?;
        for file in &mut record.files {
            if fixes.len() >= FIXITY_AHEAD {
                // Facts of their own: written ahead, found again by the next attempt.
                match p.state.transact(std::mem::take(&mut fixes)).await {
                    Ok(()) | Err(StateError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let fx = fixity(p, &file.sha256, &mut fixes, &mut f.hashed).await?;
            file.sha512 = fx.sha512;
            file.size = fx.size;
            file.media_type = fx
                .media_type
                .unwrap_or_else(|| "application/octet-stream".into());
        }
        ops.push(item_put(id, &record, Condition::VersionIs(item.version))?);
        n += 1;
        if ops.len() + fixes.len() >= FIXITY_AHEAD + HASH_ITEMS {
            break;
        }
    }
    f.hash_at = (vi, n);
    ops.extend(fixes);
    ops.push(filing_put(&f, Condition::VersionIs(version))?);
    p.state.transact(ops).await.map_err(conflict)
}

/// A document's fixity: as kept, or hashed now (its record added to `ops`).
async fn fixity(
    p: &Platform,
    sha: &str,
    ops: &mut Vec<TxOp>,
    hashed: &mut u64,
) -> Result<Fixity, ApiError> {
    if let Some(i) = p.state.get(&fixity_key(sha)).await? {
        return i.body().map_err(|e| ApiError::internal(&e));
    }
    if let Some(TxOp::Put { item, .. }) = ops.iter().find(|o| o.key() == fixity_key(sha)) {
        return item.body().map_err(|e| ApiError::internal(&e));
    }
    let name = Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
    let h = hashing::hash(p, &name).await?.ok_or_else(|| {
        ApiError::refused(
            ErrorCode::DocumentMissing,
            format!("登记的文件 {sha} 不在文件库中"),
            format!("registered document {sha} is not stored"),
        )
    })?;
    if h.sha256 != sha {
        return Err(ApiError::refused(
            ErrorCode::DocumentCorrupt,
            format!("文件 {sha} 已损坏"),
            format!("document {sha} hashes to {}", h.sha256),
        ));
    }
    let fx = Fixity {
        sha256: h.sha256,
        sha512: h.sha512,
        size: h.size,
        media_type: h.media_type.map(str::to_owned),
        encrypted: h.encrypted,
        verified_at: p.clock.now().naive_local(),
        round: 0,
        outcome: crate::model::Outcome::Intact,
    };
    ops.push(crate::model::fixity_put(&fx, Condition::NotExists)?);
    *hashed += 1;
    Ok(fx)
}
