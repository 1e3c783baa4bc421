//! A volume (案卷, Art. 45-46) as its package describes it: the cover's fields, written to
//! `bag-info.txt`, and the list of contents with the audit chain heads, written to the tag file
//! `volume.json`. [`Volume::bag`] makes the bag: each item's documents under
//! `data/items/NNNN/`, the volume's own PDFs (cover, list of contents, notes sheet) under
//! `data/volume/`, every file by reference to its content address.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bagit::{Bag, PayloadFile};
use crate::retention::{Period, RecordClass};

/// The tag file holding the list of contents.
pub const VOLUME_JSON: &str = "volume.json";

/// The software that bags (`Bag-Software-Agent`).
pub const AGENT: &str = "swi archiving";

/// A document as a volume references it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Its path in the bag (`data/…`).
    pub path: String,
    /// SHA-256, hex: its content address.
    pub sha256: String,
    /// SHA-512, hex.
    pub sha512: String,
    /// Its length.
    pub size: u64,
    /// Its media type.
    pub media_type: String,
    /// The material it is (`申领表`, `工伤认定决定书`).
    pub material: String,
}

/// One item (件): a case's documents of the volume's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Its number in the volume (1-9999, without gaps).
    pub n: u32,
    /// The case (`claim#…`, `unit#…`).
    pub case: String,
    /// Its title (题名).
    pub title: String,
    /// Who made it (责任者).
    pub author: String,
    /// The day of its first document.
    pub first: NaiveDate,
    /// The day of its last document.
    pub date: NaiveDate,
    /// Its documents.
    pub files: Vec<FileRef>,
}

/// The last audit event of a case when the volume was filed: deleting a later event, or this
/// one, is found by comparing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    /// The case.
    pub case: String,
    /// The event's sequence number.
    pub seq: u64,
    /// The event's hash.
    pub hash: String,
}

/// The cover's fields (Art. 46) and what the volume holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// 档号.
    pub archive_number: String,
    /// 档案馆号.
    pub archive_house_number: String,
    /// 案卷题名.
    pub title: String,
    /// 立卷单位.
    pub filing_unit: String,
    /// The county whose volume it is.
    pub county: String,
    /// The class.
    pub class: RecordClass,
    /// 保管期限.
    pub period: Period,
    /// The month filed (`YYYY-MM`).
    pub month: String,
    /// 起止日期: the day of its first document.
    pub start: NaiveDate,
    /// 起止日期: the day of its last document.
    pub end: NaiveDate,
    /// 密级.
    pub classification_level: String,
    /// 整理人.
    pub compiled_by: String,
    /// The day it was filed (`Bagging-Date`).
    pub filed_on: NaiveDate,
    /// The items, numbered from 1.
    pub items: Vec<Item>,
    /// The volume's own documents: cover, list of contents, notes sheet.
    pub own: Vec<FileRef>,
    /// The audit chain heads of its cases (and the day's) when filed, sorted by case.
    pub audit_heads: Vec<AuditHead>,
}

/// The `bag-info.txt` labels of the cover's fields, in the order written.
pub mod labels {
    /// 档号.
    pub const NUMBER: &str = "External-Identifier";
    /// 案卷题名.
    pub const TITLE: &str = "External-Description";
    /// 立卷单位.
    pub const FILING_UNIT: &str = "Source-Organization";
    /// 档案馆号.
    pub const HOUSE: &str = "Archive-House-Number";
    /// Class.
    pub const CLASS: &str = "Record-Class";
    /// 保管期限.
    pub const PERIOD: &str = "Retention-Period";
    /// 起.
    pub const START: &str = "Start-Date";
    /// 止.
    pub const END: &str = "End-Date";
    /// 密级.
    pub const LEVEL: &str = "Classification-Level";
    /// 整理人.
    pub const COMPILED_BY: &str = "Compiled-By";
    /// 件数.
    pub const ITEMS: &str = "Item-Count";
    /// Filing day.
    pub const BAGGING_DATE: &str = "Bagging-Date";
}

impl Volume {
    /// The cover's fields as `bag-info.txt` carries them.
    #[must_use]
    pub fn info(&self) -> Vec<(String, String)> {
        use labels::*;
        [
            (NUMBER, self.archive_number.clone()),
            (TITLE, self.title.clone()),
            (FILING_UNIT, self.filing_unit.clone()),
            (HOUSE, self.archive_house_number.clone()),
            (CLASS, self.class.code().to_owned()),
            (PERIOD, self.period.code()),
            (START, self.start.to_string()),
            (END, self.end.to_string()),
            (LEVEL, self.classification_level.clone()),
            (COMPILED_BY, self.compiled_by.clone()),
            (ITEMS, self.items.len().to_string()),
            (BAGGING_DATE, self.filed_on.to_string()),
            ("Bag-Software-Agent", AGENT.to_owned()),
        ]
        .into_iter()
        .map(|(l, v)| (l.to_owned(), v))
        .collect()
    }

    /// Every document the volume references: its own, then the items'.
    pub fn files(&self) -> impl Iterator<Item = &FileRef> {
        self.own
            .iter()
            .chain(self.items.iter().flat_map(|i| i.files.iter()))
    }

    /// The bag, each file fetched from its [`fetch_url`].
    ///
    /// # Errors
    /// `volume.json` cannot be written (it can).
    pub fn bag(&self) -> Result<Bag, serde_json::Error> {
        let payload = self
            .files()
            .map(|f| PayloadFile {
                path: f.path.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                sha512: f.sha512.clone(),
                url: fetch_url(&f.sha256),
            })
            .collect();
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        Ok(Bag {
            info: self.info(),
            payload,
            tags: vec![(VOLUME_JSON.to_owned(), json)],
        })
    }
}

/// Where a bag fetches a document from: its content address in swi's document store, the same
/// in every deployment (a URL with a scheme and a host, as BagIt tools require).
#[must_use]
pub fn fetch_url(sha256: &str) -> String {
    format!("swi://documents/sha256/{sha256}")
}

/// The path of an item's file: `data/items/NNNN/KK-material.ext`.
#[must_use]
pub fn item_path(item: u32, k: usize, material: &str, ext: &str) -> String {
    let safe: String = material
        .chars()
        .filter(|c| !c.is_control() && !"/\\:*?\"<>|%".contains(*c))
        .take(40)
        .collect();
    let safe = if safe.trim().is_empty() {
        "document".to_owned()
    } else {
        safe.trim().to_owned()
    };
    format!("data/items/{item:04}/{k:02}-{safe}.{ext}")
}
