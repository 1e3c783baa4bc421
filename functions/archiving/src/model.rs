//! The archive's records and their keys: a county's archive settings, its volumes (案卷) and
//! their items (件), the allocation of volumes and their numbers, and what is known of each
//! document's fixity.
//!
//! - `archive#<county>` / `settings`: the fonds, the archive-house number, the filing unit;
//! - `archive#<county>` / `month#<YYYY-MM>#<class>#<period>`: the volume of that month, class
//!   and period, allocated once;
//! - `archive#<county>` / `seq#<year>#<class>#<period>`: the last volume number given;
//! - `volume#<id>` / `volume`: the volume (index `volumes#<county>` by month, class, period);
//! - `volume#<id>` / `item#<NNNN>`: its items, numbered without gaps;
//! - `doc#<sha256>` / `fixity`: the document's SHA-512, size and last verification.
//! - `doc#<sha256>` / `in#<volume>`: a volume the document is filed in;
//! - `doc#<sha256>` / `destroyed`: the document was destroyed with a volume;
//! - `volume#<id>` / `disposal`: its appraisal and destruction (see `disposal`).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use swi_archive::retention::{Period, RecordClass};
use swi_archive::volume::FileRef;
use swi_platform::ApiError;
use swi_store::{Condition, Item, Key, StateStore, TxOp};

/// The partition of a county's archive records.
#[must_use]
pub fn archive_partition(county: &str) -> String {
    format!("archive#{county}")
}

/// A county's archive settings (Art. 46: what every cover of its volumes carries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settings {
    /// The county (or 360700, the city's own archive).
    pub county: String,
    /// 全宗号: four letters or digits.
    pub fonds: String,
    /// 档案馆号.
    pub archive_house_number: String,
    /// 立卷单位.
    pub filing_unit: String,
    /// 密级 printed on covers (e.g. 内部).
    pub classification_level: String,
    /// 整理人 of volumes the scheduled job files.
    pub compiled_by: String,
    /// Who set them.
    pub recorded_by: String,
    /// When.
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// The key of a county's settings.
#[must_use]
pub fn settings_key(county: &str) -> Key {
    Key::new(archive_partition(county), "settings")
}

/// A county's settings, if set.
///
/// # Errors
/// 503 the store.
pub async fn settings(
    state: &dyn StateStore,
    county: &str,
) -> Result<Option<(Settings, u64)>, ApiError> {
    state
        .get(&settings_key(county))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// Where a volume's paper copy is, and which copy is authoritative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaperCopy {
    /// 盒号.
    pub box_no: String,
    /// 架位.
    pub shelf: String,
    /// The authoritative copy.
    pub authoritative: Authoritative,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

/// Which copy of a volume is authoritative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authoritative {
    /// The paper volume (纸质为准).
    Paper,
    /// The electronic volume (电子为准).
    Electronic,
}

/// Where a volume stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeStatus {
    /// Its items are being collected and hashed.
    Filing,
    /// Packed, its digest recorded.
    Filed,
    /// Approved for destruction and witnessed: its documents are being destroyed.
    Destroying,
    /// Destroyed: its catalogue and its destruction list (销毁清册) remain.
    Destroyed,
}

/// A hold on a volume (a dispute, an audit, a request of the archive administration): nothing
/// of a held volume is destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hold {
    /// Why.
    pub reason: String,
    /// Who placed it (subject).
    pub by: String,
    /// Their role (a supervisor's hold is lifted by a supervisor).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub by_role: Option<swi_domain::Role>,
    /// Their name.
    pub by_name: String,
    /// When.
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
}

/// A volume as the state store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VolumeRecord {
    /// Its id: the archive number as a file name (`J001-SB.2026-D50-GS08-007`).
    pub id: String,
    /// 档号.
    pub archive_number: String,
    /// The county.
    pub county: String,
    /// The month filed (`YYYY-MM`).
    pub month: String,
    /// The class.
    #[schema(value_type = String)]
    pub class: RecordClass,
    /// The retention period.
    #[schema(value_type = String)]
    pub period: Period,
    /// 案卷题名.
    pub title: String,
    /// Where it stands.
    pub status: VolumeStatus,
    /// Items.
    pub items: u32,
    /// Documents referenced.
    pub documents: u32,
    /// Bytes of the documents.
    pub bytes: u64,
    /// The package's SHA-256, once packed.
    pub package: Option<String>,
    /// The package's length.
    pub package_bytes: Option<u64>,
    /// The day it was filed.
    #[schema(value_type = Option<String>)]
    pub filed_on: Option<NaiveDate>,
    /// 整理人.
    pub compiled_by: String,
    /// The paper copy, when recorded.
    pub paper: Option<PaperCopy>,
    /// A hold, while placed.
    #[serde(default)]
    pub hold: Option<Hold>,
    /// A later day an appraisal kept it to (鉴定延期): never earlier than its period.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub extended_until: Option<NaiveDate>,
    /// What its package is made from, fixed before it is packed: every attempt to pack it
    /// makes the same bytes.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub frozen: Option<Frozen>,
}

impl VolumeRecord {
    /// The day its retention has passed, counted from its filing (an appraisal's extension
    /// included); `None` when permanent or not filed. A document whose case closed later keeps
    /// its own later day, which destruction honours document by document.
    #[must_use]
    pub fn kept_until(&self) -> Option<NaiveDate> {
        let base = self.period.retain_until(self.filed_on?)?;
        Some(self.extended_until.map_or(base, |e| e.max(base)))
    }
}

/// What a volume's package is made from besides its items, fixed once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frozen {
    /// The day it is filed.
    pub filed_on: NaiveDate,
    /// The audit chain heads of its cases then.
    pub heads: Vec<swi_archive::volume::AuditHead>,
    /// The settings then.
    pub settings: Settings,
}

/// The key of a volume.
#[must_use]
pub fn volume_key(id: &str) -> Key {
    Key::new(format!("volume#{id}"), "volume")
}

/// The audit case of a volume.
#[must_use]
pub fn volume_case(id: &str) -> String {
    format!("volume#{id}")
}

/// The index partition of a county's volumes.
#[must_use]
pub fn volumes_partition(county: &str) -> String {
    format!("volumes#{county}")
}

/// The operation writing a volume under `condition`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn volume_put(v: &VolumeRecord, condition: Condition) -> Result<TxOp, ApiError> {
    let k = volume_key(&v.id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, v)?.with_gsi1(
            volumes_partition(&v.county),
            format!("{}#{}#{}", v.month, v.class.code(), v.period.code()),
        ),
        condition,
    })
}

/// A volume and its version.
///
/// # Errors
/// 503 the store.
pub async fn load_volume(
    state: &dyn StateStore,
    id: &str,
) -> Result<Option<(VolumeRecord, u64)>, ApiError> {
    state
        .get(&volume_key(id))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// One item (件) as the state store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemRecord {
    /// Its number.
    pub n: u32,
    /// The case.
    pub case: String,
    /// 题名.
    pub title: String,
    /// 责任者.
    pub author: String,
    /// The day of its first document.
    #[schema(value_type = String)]
    pub first: NaiveDate,
    /// The day of its last document.
    #[schema(value_type = String)]
    pub date: NaiveDate,
    /// Its documents (SHA-512 empty until hashed).
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<FileRef>,
}

/// The sort key under `doc#<sha256>` recording that the document is filed in `volume`: a
/// document two volumes hold is destroyed only with the last of them.
#[must_use]
pub fn filed_in_sk(volume: &str) -> String {
    format!("in#{volume}")
}

/// The key under which a document destroyed with a volume is remembered (`volume`, `on`).
#[must_use]
pub fn destroyed_key(sha256: &str) -> Key {
    Key::new(format!("doc#{sha256}"), "destroyed")
}

/// The volumes a document is filed in.
///
/// # Errors
/// 503 the store.
pub async fn filed_in(state: &dyn StateStore, sha256: &str) -> Result<Vec<String>, ApiError> {
    Ok(state
        .query_all(
            &swi_store::Query::partition(format!("doc#{sha256}"))
                .range(swi_store::SkRange::Prefix("in#".into())),
        )
        .await?
        .into_iter()
        .filter_map(|i| i.sk.strip_prefix("in#").map(str::to_owned))
        .collect())
}

/// The key of an item.
#[must_use]
pub fn item_key(volume: &str, n: u32) -> Key {
    Key::new(format!("volume#{volume}"), format!("item#{n:04}"))
}

/// The operation writing an item under `condition`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn item_put(volume: &str, i: &ItemRecord, condition: Condition) -> Result<TxOp, ApiError> {
    let k = item_key(volume, i.n);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, i)?,
        condition,
    })
}

/// Every item of a volume, in order, with versions.
///
/// # Errors
/// 503 the store.
pub async fn items(
    state: &dyn StateStore,
    volume: &str,
) -> Result<Vec<(ItemRecord, u64)>, ApiError> {
    let all = state
        .query_all(
            &swi_store::Query::partition(format!("volume#{volume}"))
                .range(swi_store::SkRange::Prefix("item#".into()))
                .limit(500),
        )
        .await?;
    all.iter()
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .collect()
}

/// The key of the volume allocated to a county's month, class and period (`part` 2, 3, … when
/// the first reached 9,999 items).
#[must_use]
pub fn allocation_key(
    county: &str,
    month: &str,
    class: RecordClass,
    period: Period,
    part: u32,
) -> Key {
    let sk = format!("month#{month}#{}#{}", class.code(), period.code());
    Key::new(
        archive_partition(county),
        if part > 1 { format!("{sk}#{part}") } else { sk },
    )
}

/// The key of the last volume number given in a county's year, class and period.
#[must_use]
pub fn seq_key(county: &str, year: i32, class: RecordClass, period: Period) -> Key {
    Key::new(
        archive_partition(county),
        format!("seq#{year}#{}#{}", class.code(), period.code()),
    )
}

/// What is known of a document's bytes: computed once, re-verified by the fixity job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fixity {
    /// SHA-256 (its name).
    pub sha256: String,
    /// SHA-512.
    pub sha512: String,
    /// Length.
    pub size: u64,
    /// The media type its first bytes show.
    pub media_type: Option<String>,
    /// A PDF that declares encryption.
    pub encrypted: bool,
    /// When its bytes were last checked.
    #[schema(value_type = String)]
    pub verified_at: NaiveDateTime,
    /// The fixity round that checked it last (0: hashed when filed).
    #[serde(default)]
    pub round: u64,
    /// What the last check found.
    #[serde(default)]
    pub outcome: Outcome,
}

/// What a fixity check found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its bytes hash to its name (SHA-256 and the SHA-512 kept).
    #[default]
    Intact,
    /// They do not.
    Mismatch,
    /// It is not in the store.
    Missing,
}

/// The index partition of every document's fixity, by round: the oldest checked first.
pub const FIXITY_INDEX: &str = "fixity";

/// The operation writing a document's fixity under `condition`, indexed by its round.
///
/// # Errors
/// Serialization (it does not fail).
pub fn fixity_put(f: &Fixity, condition: Condition) -> Result<TxOp, ApiError> {
    let k = fixity_key(&f.sha256);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, f)?
            .with_gsi1(FIXITY_INDEX, format!("{:010}#{}", f.round, f.sha256)),
        condition,
    })
}

/// The key of a document's fixity.
#[must_use]
pub fn fixity_key(sha256: &str) -> Key {
    Key::new(format!("doc#{sha256}"), "fixity")
}
