//! Appraisal and destruction (鉴定、销毁) as records: a volume's disposal — an extension of its
//! period, or a destruction the archivist proposes, the agency approves (a second role) and two
//! people witness (监销) — and the rows of its destruction list (销毁清册), one per document with
//! its item's archive number and digest, kept for ever.
//!
//! - `volume#<id>` / `disposal`: the volume's current (or last) disposal;
//! - `volume#<id>` / `listed#<NNNN>#<sha256>`: a row of its destruction list (item `0000`: the
//!   volume's own sheets and package);
//! - `jobs#archive-dispose` / `<id>`: the pointer waking the job that carries it out.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use swi_platform::jobs::pointer_partition;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, TxOp};

/// The job's name.
pub const NAME: &str = "archive-dispose";

/// What an appraisal decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisposalKind {
    /// Keep it longer (延长保管期限): every document's lock extended.
    Extend,
    /// Destroy it (销毁), once approved and witnessed.
    Destroy,
}

/// Where a disposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisposalStatus {
    /// A destruction proposed by the archivist, awaiting the agency's decision.
    Proposed,
    /// Approved: awaiting two witnesses.
    Approved,
    /// Refused by the agency: nothing happens.
    Refused,
    /// Being carried out by the job.
    Working,
    /// Stopped by a hold placed on the volume; goes on when the hold is lifted.
    Held,
    /// Carried out.
    Done,
}

impl DisposalStatus {
    /// Whether it is over (a new appraisal may begin).
    #[must_use]
    pub const fn ended(self) -> bool {
        matches!(self, DisposalStatus::Refused | DisposalStatus::Done)
    }
}

/// A person's act in a disposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Signed {
    /// The subject.
    pub sub: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: String,
    /// When.
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    /// What they wrote (the appraisal's reasons, the decision's).
    pub note: String,
}

/// A volume's appraisal and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Disposal {
    /// The volume.
    pub volume: String,
    /// Its archive number.
    pub archive_number: String,
    /// Its county.
    pub county: String,
    /// Extend or destroy.
    pub kind: DisposalKind,
    /// The day an extension keeps it to.
    #[schema(value_type = Option<String>)]
    pub until: Option<NaiveDate>,
    /// Where it stands.
    pub status: DisposalStatus,
    /// The archivist's appraisal (鉴定意见).
    pub proposed: Signed,
    /// The agency's decision on a destruction.
    pub decided: Option<Signed>,
    /// Those who witnessed it (监销人), two before anything is destroyed.
    pub witnesses: Vec<Signed>,
    /// The next item the job takes (`items + 1`: the volume's own documents).
    pub next: u32,
    /// The next document of that item.
    #[serde(default)]
    pub at_file: usize,
    /// The volume's own documents (its package and sheets), listed once from the package
    /// before it is removed.
    #[serde(default)]
    pub own: Option<Vec<String>>,
    /// Documents decided for destruction by the last step and removed after it: `(item, sha)`.
    pub pending: Vec<(u32, String)>,
    /// Documents destroyed.
    pub destroyed: u64,
    /// Documents kept (still needed by another volume or case, or locked in the store).
    pub kept: u64,
    /// The destruction list's SHA-256 (a permanent document, class GS16).
    pub list: Option<String>,
    /// The day it was carried out.
    #[schema(value_type = Option<String>)]
    pub finished_on: Option<NaiveDate>,
}

/// What became of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Removed from the store.
    Destroyed,
    /// Kept: `why` says what still needs it.
    Kept,
}

/// A row of a destruction list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListRow {
    /// The item (0: the volume's own sheets and package).
    pub n: u32,
    /// The item's archive number (档号-件号), or the volume's.
    pub archive_number: String,
    /// 题名.
    pub title: String,
    /// The material.
    pub material: String,
    /// SHA-256 of the document.
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// What became of it.
    pub fate: Fate,
    /// Why it was kept.
    pub why: Option<String>,
}

/// The key of a volume's disposal.
#[must_use]
pub fn disposal_key(volume: &str) -> Key {
    Key::new(format!("volume#{volume}"), "disposal")
}

/// The key of a row of a volume's destruction list.
#[must_use]
pub fn row_key(volume: &str, n: u32, sha256: &str) -> Key {
    Key::new(
        format!("volume#{volume}"),
        format!("listed#{n:04}#{sha256}"),
    )
}

/// The key of the pointer waking the job for a volume.
#[must_use]
pub fn pointer_key(volume: &str) -> Key {
    Key::new(pointer_partition(NAME), volume.to_owned())
}

/// The operation writing a disposal under `condition`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn disposal_put(d: &Disposal, condition: Condition) -> Result<TxOp, ApiError> {
    let k = disposal_key(&d.volume);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, d)?,
        condition,
    })
}

/// The operation writing the job's pointer for a volume.
///
/// # Errors
/// Serialization (it does not fail).
pub fn pointer_put(volume: &str) -> Result<TxOp, ApiError> {
    let k = pointer_key(volume);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, &serde_json::json!({ "volume": volume }))?,
        condition: Condition::None,
    })
}

/// A volume's disposal and its version.
///
/// # Errors
/// 503 the store.
pub async fn load(p: &Platform, volume: &str) -> Result<Option<(Disposal, u64)>, ApiError> {
    p.state
        .get(&disposal_key(volume))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// A volume's destruction list, in order.
///
/// # Errors
/// 503 the store.
pub async fn rows(p: &Platform, volume: &str) -> Result<Vec<ListRow>, ApiError> {
    p.state
        .query_all(
            &swi_store::Query::partition(format!("volume#{volume}"))
                .range(swi_store::SkRange::Prefix("listed#".into())),
        )
        .await?
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}
