//! Monthly declarations (人员变动增减表, Art. 18): a unit uploads its joiners and leavers of a
//! month as XLSX or CSV; every row is checked and the file is accepted or rejected whole, with a
//! row-by-row report (also as a downloadable XLSX). An accepted file enters the county's review
//! queue, due 3 working days after receipt (Art. 18: 应于收到申报材料3个工作日内审核完毕).
//!
//! Columns (header row, Chinese or English): 变动类型/action (增 join · 减 leave), 姓名/name,
//! 公民身份号码/id_number, 人员类别/category, 申报工资/declared_wage, 变动日期/date,
//! 手机号码/phone, 退休类别/track, 协议截止日期/agreement_end.

pub mod apply;
pub mod file;
pub mod review;
pub mod rows;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use swi_platform::ApiError;
use swi_rules::ids::County;
use swi_store::{Item, Key, Sha256};
use swi_tables::RowReport;

pub use apply::DeclarationApply;
pub use file::{Declare, declare, get, queue};
pub use review::{Review, review};

/// A declaration's review status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// In the county's review queue.
    Queued,
    /// Approved by the reviewer; its rows are being applied by the declaration job, a
    /// transaction of rows at a time (`cursor` says how far it got).
    Applying,
    /// Approved and applied: its joiners enrolled and its leavers' cover ended.
    Approved,
    /// Rejected by the reviewer.
    Rejected,
    /// Approved, but the unit was cancelled before every row was applied: the rows left were
    /// not applied (Art. 10: a cancelled unit takes no members).
    Lapsed,
}

impl ReviewStatus {
    /// The word that keys the county index (`{status}#{review_by}#{id}`).
    const fn key(self) -> &'static str {
        match self {
            ReviewStatus::Queued => "queued",
            ReviewStatus::Applying => "applying",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
            ReviewStatus::Lapsed => "lapsed",
        }
    }
}

/// An accepted declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Declaration {
    /// Id (`d-…`).
    pub id: String,
    /// The unit.
    pub unit: String,
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Month declared (first day).
    pub month: NaiveDate,
    /// The file (SHA-256).
    pub sha256: String,
    /// Joiners.
    pub joiners: usize,
    /// Leavers.
    pub leavers: usize,
    /// Status.
    pub status: ReviewStatus,
    /// Received on (China date).
    pub received_on: NaiveDate,
    /// Review due by (3 working days, Art. 18).
    pub review_by: NaiveDate,
    /// What the due date assumes, when it rests on a figure that is not confirmed: a year whose
    /// holidays are not loaded is counted Monday-Friday (the rules' `calendar.YYYY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_by_assumes: Option<String>,
    /// Who reviewed (display name), when reviewed.
    #[serde(default)]
    pub reviewed_by: Option<String>,
    /// When reviewed.
    #[serde(default)]
    pub reviewed_on: Option<NaiveDate>,
    /// The reviewer's note.
    #[serde(default)]
    pub note: Option<String>,
    /// Rows applied since approval.
    #[serde(default)]
    pub applied: usize,
    /// Rows that no longer held when applied (the roster had changed since the upload); each
    /// is listed, with why, under `failed` when the declaration is read.
    #[serde(default)]
    pub not_applied: usize,
    /// Rows dealt with so far (applied or not), in file order.
    #[serde(default)]
    pub cursor: usize,
}

/// A declaration as answered: the record, and the rows that did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclarationView {
    /// The declaration.
    #[serde(flatten)]
    pub declaration: Declaration,
    /// Rows that no longer held when applied, with why.
    pub failed: Vec<RowReport>,
}

/// The audit case of a declaration.
pub(crate) fn declaration_case(id: &str) -> String {
    format!("declaration#{id}")
}

/// A declaration's id: the unit, the month and the file, hashed (the same file declared twice
/// for the same month is the same declaration).
pub(crate) fn declaration_id(unit: &str, month: NaiveDate, sha: &Sha256) -> String {
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut h, format!("{unit}|{month}|{}", sha.hex()).as_bytes());
    format!("d-{}", &hex::encode(sha2::Digest::finalize(h))[..20])
}

pub(crate) fn declaration_key(id: &str) -> Key {
    Key::new(format!("declaration#{id}"), "profile")
}

pub(crate) fn declaration_item(d: &Declaration) -> Result<Item, ApiError> {
    let k = declaration_key(&d.id);
    Ok(Item::new(k.pk, k.sk, d)?.with_gsi1(
        format!("declarations#{}", d.county),
        format!("{}#{}#{}", d.status.key(), d.review_by, d.id),
    ))
}
