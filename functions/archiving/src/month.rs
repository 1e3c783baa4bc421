//! A county's month being filed (归档, Art. 45): its record `archive#<county>` /
//! `filing#<YYYY-MM>` saying how far it got, its pointer `jobs#archive` / `<county>#<YYYY-MM>`,
//! and what every step of the filing shares — the month's text, the refusals, the order of its
//! volumes.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use swi_platform::jobs::pointer_partition;
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Item, Key, StateError, TxOp};

use crate::model::archive_partition;

/// The job's name.
pub const NAME: &str = "archive";

/// Where a filing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Taking the month's registrations into volumes and items.
    Collect,
    /// Hashing each document once.
    Hash,
    /// Packing each volume.
    Pack,
    /// Setting each document's retention in the store.
    Retain,
    /// Every volume filed.
    Done,
}

/// The last item of a volume, which the next registration of the same case joins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenItem {
    /// Its number.
    pub n: u32,
    /// Its case.
    pub case: String,
}

/// A month's filing for a county, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filing {
    /// The county.
    pub county: String,
    /// The month (`YYYY-MM`).
    pub month: String,
    /// Where it stands.
    pub phase: Phase,
    /// Where the month's registrations were left (collect).
    pub cursor: Option<String>,
    /// Registrations taken.
    pub registrations: u64,
    /// The month's volumes, by `class#period` (the one taking items now).
    pub volumes: BTreeMap<String, String>,
    /// Every volume of the month in the order allocated (a class and period whose volume
    /// reached 9,999 items continues in another).
    #[serde(default)]
    pub sequence: Vec<String>,
    /// How many volumes each `class#period` has.
    #[serde(default)]
    pub parts: BTreeMap<String, u32>,
    /// Each volume's last item.
    pub open: BTreeMap<String, OpenItem>,
    /// Hashing: the volume (index in `volumes`' order) and the next item.
    pub hash_at: (usize, u32),
    /// Documents hashed (not known before).
    pub hashed: u64,
    /// Volumes packed.
    pub packed: usize,
    /// Volumes checked once packed (the four checks at filing).
    #[serde(default)]
    pub checked: usize,
    /// Setting retention: the volume (index in order) and the next item (0: its own
    /// documents first).
    #[serde(default)]
    pub retain_at: (usize, u32),
    /// 整理人.
    pub compiled_by: String,
    /// Who opened it.
    pub opened_by: String,
    /// When.
    #[schema(value_type = String)]
    pub opened_at: NaiveDateTime,
    /// Why it cannot go on, if it cannot (a class without a period, a document missing).
    pub stuck: Option<String>,
}

/// The key of a county's filing of a month.
#[must_use]
pub fn filing_key(county: &str, month: &str) -> Key {
    Key::new(archive_partition(county), format!("filing#{month}"))
}

pub(crate) fn pointer_key(county: &str, month: &str) -> Key {
    Key::new(pointer_partition(NAME), format!("{county}#{month}"))
}

pub(crate) fn filing_put(f: &Filing, condition: Condition) -> Result<TxOp, ApiError> {
    let k = filing_key(&f.county, &f.month);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, f)?,
        condition,
    })
}

/// A filing and its version.
///
/// # Errors
/// 503 the store.
pub async fn load_filing(
    p: &Platform,
    county: &str,
    month: &str,
) -> Result<Option<(Filing, u64)>, ApiError> {
    p.state
        .get(&filing_key(county, month))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// The last day of a month (`YYYY-MM`).
///
/// # Errors
/// 400 not a month.
pub fn month_end(month: &str) -> Result<NaiveDate, ApiError> {
    // Exactly YYYY-MM: the text names the month's partitions, so `2026-1` or ` 2026-01` must
    // not open a filing of nothing.
    let b = month.as_bytes();
    let canonical = b.len() == 7
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit());
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| ApiError::invalid("月份须为 YYYY-MM", "a month is YYYY-MM"))?;
    first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| ApiError::invalid("月份超出范围", "month out of range"))
}

/// The refusal of a county without archive settings.
#[must_use]
pub fn settings_missing(county: &str) -> ApiError {
    ApiError::refused(
        ErrorCode::ArchiveSettingsMissing,
        "请先设置本县（市、区）的全宗号、档案馆号和立卷单位",
        format!(
            "set the archive settings of {county} first (fonds, archive-house number, filing unit)"
        ),
    )
}

pub(crate) fn conflict(e: StateError) -> ApiError {
    match e {
        StateError::Conflict { .. } => ApiError::conflict(
            ErrorCode::ConcurrentChange,
            "归档正由另一进程处理",
            "another run is filing this month",
        ),
        other => other.into(),
    }
}

/// The volumes of a filing in the order hashing and packing take them.
pub(crate) fn order(f: &Filing) -> Vec<String> {
    f.sequence.clone()
}
