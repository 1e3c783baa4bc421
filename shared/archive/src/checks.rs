//! The four checks of electronic archives (四性检测, DA/T 70-2018): authenticity, integrity,
//! usability and security, at filing, at handover and in long-term preservation, as one report
//! with a row per check item.
//!
//! The items are this project's reading of DA/T 70 (its item tables were read only in
//! secondary sources; each row names the item it stands for). They are chosen so that each
//! fault fails exactly its own row: a changed byte fails fixity only (the size, the count and
//! the type still hold), a missing document fails presence only (fixity checks what is there),
//! a stray file fails the carrier check only, a package put in place of the filed one fails the
//! package digest only (it is valid in itself), a deleted audit event fails the process trail
//! only, a cover field that disagrees fails metadata-content consistency only, and a gap in the
//! item numbers fails continuity only.
//!
//! Pure: what the store showed is gathered by the caller into [`Evidence`]; [`check`] judges it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::bagit::{self, ParsedBag};
use crate::number::VolumeNumber;
use crate::retention::{Period, RecordClass};
use crate::volume::{AuditHead, VOLUME_JSON, Volume, labels};

/// When the checks are run (DA/T 70's three stages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 归档: when the volume is filed.
    Filing,
    /// 移交与接收: when volumes are handed over and received.
    Handover,
    /// 长期保存: on a schedule.
    Preservation,
}

impl Stage {
    /// The stage's Chinese name.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Stage::Filing => "归档",
            Stage::Handover => "移交与接收",
            Stage::Preservation => "长期保存",
        }
    }
}

/// The four properties (四性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// 真实性.
    Authenticity,
    /// 完整性.
    Integrity,
    /// 可用性.
    Usability,
    /// 安全性.
    Security,
}

impl Property {
    /// The property's Chinese name.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Property::Authenticity => "真实性",
            Property::Integrity => "完整性",
            Property::Usability => "可用性",
            Property::Security => "安全性",
        }
    }
}

/// One check item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckItem {
    /// The package is the one filed: its SHA-256 is the digest in the state store and in the
    /// audit chain (归档信息包真实性检测).
    PackageDigest,
    /// Every document re-hashes to its SHA-256 and SHA-512 (数字摘要有效性，电子文件来源真实性检测).
    Fixity,
    /// The cover's fields agree with the contents: number, class, period, dates, item count,
    /// and every listed file in the manifest (元数据与内容关联真实性检测).
    MetadataContent,
    /// The archive number is in its form and agrees with the class, period and year (档号规范性检测).
    ArchiveNumber,
    /// `Payload-Oxum` agrees with the manifest (总件数、总字节数相符性检测).
    Totals,
    /// Items are numbered 1…n without a gap or a repeat (连续性元数据项检测).
    Continuity,
    /// Every document is there (内容数据完整性检测).
    Presence,
    /// The audit trail of every case is whole: no event after the heads recorded at filing was
    /// lost, the heads themselves are there, and each chain verifies (过程信息完整性检测).
    ProcessTrail,
    /// The tag manifests cover and match every tag file (信息包元数据完整性检测).
    TagManifests,
    /// The package's tag files can be read: the declaration and every cover field
    /// (信息包中元数据的可读性检测).
    Readable,
    /// Every document is in an open format and not encrypted (内容数据格式检测).
    Formats,
    /// Nothing is kept beside the archived files (载体内是否含有非归档文件).
    Carrier,
    /// Every document is protected for as long as its period: held, or locked until its date
    /// at least (保管措施检测).
    Protection,
}

impl CheckItem {
    /// Every item, in report order.
    pub const ALL: [CheckItem; 13] = [
        CheckItem::PackageDigest,
        CheckItem::Fixity,
        CheckItem::MetadataContent,
        CheckItem::ArchiveNumber,
        CheckItem::Totals,
        CheckItem::Continuity,
        CheckItem::Presence,
        CheckItem::ProcessTrail,
        CheckItem::TagManifests,
        CheckItem::Readable,
        CheckItem::Formats,
        CheckItem::Carrier,
        CheckItem::Protection,
    ];

    /// The property it checks.
    #[must_use]
    pub const fn property(self) -> Property {
        use CheckItem::*;
        match self {
            PackageDigest | Fixity | MetadataContent | ArchiveNumber => Property::Authenticity,
            Totals | Continuity | Presence | ProcessTrail | TagManifests => Property::Integrity,
            Readable | Formats => Property::Usability,
            Carrier | Protection => Property::Security,
        }
    }

    /// The item's name after DA/T 70.
    #[must_use]
    pub const fn label(self) -> &'static str {
        use CheckItem::*;
        match self {
            PackageDigest => "归档信息包真实性检测",
            Fixity => "电子文件数字摘要有效性检测",
            MetadataContent => "元数据与内容关联真实性检测",
            ArchiveNumber => "档号规范性检测",
            Totals => "总件数、总字节数相符性检测",
            Continuity => "连续性元数据项检测",
            Presence => "内容数据完整性检测",
            ProcessTrail => "过程信息完整性检测",
            TagManifests => "信息包元数据完整性检测",
            Readable => "信息包元数据可读性检测",
            Formats => "内容数据格式检测",
            Carrier => "载体非归档文件检测",
            Protection => "保管措施检测",
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The item.
    pub item: CheckItem,
    /// Its property.
    pub property: Property,
    /// Its name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was counted, or the first things that failed.
    pub detail: String,
}

/// A report of the four checks of one volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The stage.
    pub stage: Stage,
    /// The volume's archive number (as recorded).
    pub archive_number: String,
    /// One row per check item.
    pub rows: Vec<Row>,
}

impl Report {
    /// Whether every row passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.passed)
    }

    /// The rows that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.passed)
    }
}

/// What the store showed of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not there.
    Missing,
    /// Read whole.
    Read {
        /// SHA-256 of the bytes, hex.
        sha256: String,
        /// SHA-512 of the bytes, hex.
        sha512: String,
        /// Bytes read.
        size: u64,
        /// The type the first bytes show, if one accepted.
        media_type: Option<String>,
        /// A PDF with an `/Encrypt` dictionary.
        encrypted: bool,
    },
}

/// How a document is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// Under a legal hold.
    pub held: bool,
    /// Locked until this day (COMPLIANCE retention, or the embedded store's date).
    pub until: Option<chrono::NaiveDate>,
    /// Read-only where the store is a file system.
    pub read_only: bool,
}

/// The state of a case's audit chain now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainNow {
    /// The event at the head's position, if there (its hash).
    pub at_head: Option<String>,
    /// Whether the chain verifies from its first event.
    pub intact: bool,
}

/// What the caller gathered about a volume.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The stage.
    pub stage: Stage,
    /// The volume's archive number as recorded.
    pub archive_number: String,
    /// The package's bytes.
    pub package_sha256: String,
    /// The digests recorded for the package (where, digest): the state store, the audit chain.
    pub recorded: Vec<(String, Option<String>)>,
    /// The tag files read from the package (or why they could not be).
    pub tag_files: Result<BTreeMap<String, Vec<u8>>, String>,
    /// What the store showed of each document, by SHA-256.
    pub seen: BTreeMap<String, Seen>,
    /// Files beside the archived ones (materialised copies), or objects nobody registered.
    pub strays: Vec<String>,
    /// Each recorded head's chain now, by case.
    pub chains: BTreeMap<String, ChainNow>,
    /// Each document's protection, by SHA-256 (absent: not known).
    pub protection: BTreeMap<String, Protected>,
    /// The day until which each document must be kept, by SHA-256 (`None`: permanently).
    pub required: BTreeMap<String, Option<chrono::NaiveDate>>,
}

/// Media types that are open formats for long-term keeping.
pub const OPEN_FORMATS: [&str; 7] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "text/csv",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

struct Rows(Vec<Row>);

impl Rows {
    fn put(&mut self, item: CheckItem, problems: &[String], counted: String) {
        let passed = problems.is_empty();
        let detail = if passed {
            counted
        } else {
            let mut d: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            let more = problems.len().saturating_sub(5);
            let tail = format!("… and {more} more");
            if more > 0 {
                d.push(&tail);
            }
            d.join("; ")
        };
        self.0.push(Row {
            item,
            property: item.property(),
            name: item.label().to_owned(),
            passed,
            detail,
        });
    }
}

/// Judges a volume on what was gathered: one row per [`CheckItem`], in order.
#[must_use]
pub fn check(e: &Evidence) -> Report {
    let mut rows = Rows(Vec::new());
    let bag = e
        .tag_files
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|f| bagit::parse(f).map_err(|x| x.to_string()));
    let volume: Result<Volume, String> = e
        .tag_files
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|f| {
            f.get(VOLUME_JSON)
                .ok_or_else(|| "no volume.json".to_owned())
        })
        .and_then(|b| serde_json::from_slice(b).map_err(|x| format!("volume.json: {x}")));

    // 真实性.
    let mut p = Vec::new();
    for (place, digest) in &e.recorded {
        match digest {
            Some(d) if *d == e.package_sha256 => {}
            Some(d) => p.push(format!(
                "{place} records {d}, the package is {}",
                e.package_sha256
            )),
            None => p.push(format!("{place} records no digest")),
        }
    }
    rows.put(
        CheckItem::PackageDigest,
        &p,
        format!(
            "{} agrees with {} records",
            e.package_sha256,
            e.recorded.len()
        ),
    );

    let listed: Vec<(String, String, String)> = match &bag {
        Ok(b) => b.manifests.get("sha256").map_or_else(Vec::new, |m| {
            m.iter()
                .map(|(path, d256)| {
                    let d512 = b.manifests.get("sha512").and_then(|x| x.get(path)).cloned();
                    (path.clone(), d256.clone(), d512.unwrap_or_default())
                })
                .collect()
        }),
        Err(_) => Vec::new(),
    };
    let mut p = Vec::new();
    let mut fixed = 0usize;
    for (path, d256, d512) in &listed {
        if let Some(Seen::Read { sha256, sha512, .. }) = e.seen.get(d256) {
            if sha256 != d256 || sha512 != d512 {
                p.push(format!("{path}: its bytes hash to {sha256}"));
            } else {
                fixed += 1;
            }
        }
    }
    rows.put(
        CheckItem::Fixity,
        &p,
        format!("{fixed} documents re-hashed in SHA-256 and SHA-512"),
    );

    rows.put(
        CheckItem::MetadataContent,
        &metadata_content(bag.as_ref().ok(), volume.as_ref().ok()),
        "cover fields agree with the contents".into(),
    );
    rows.put(
        CheckItem::ArchiveNumber,
        &archive_number(bag.as_ref().ok()),
        format!("{} in its form", e.archive_number),
    );

    // 完整性.
    let mut p = Vec::new();
    if let Ok(b) = &bag {
        let octets: u64 = b.fetch.iter().filter_map(|f| f.size).sum();
        let files = b.manifests.get("sha256").map_or(0, BTreeMap::len);
        let counted = format!("{octets}.{files}");
        match b.info_value("Payload-Oxum") {
            Some(o) if o == counted => {}
            other => p.push(format!(
                "Payload-Oxum {other:?}, the manifest holds {counted}"
            )),
        }
        let fetched: BTreeSet<&String> = b.fetch.iter().map(|f| &f.path).collect();
        let manifested: BTreeSet<&String> = b
            .manifests
            .get("sha256")
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        if fetched != manifested || fetched.len() != b.fetch.len() {
            p.push("fetch.txt and the manifest list different files".into());
        }
    }
    rows.put(CheckItem::Totals, &p, format!("{} files", listed.len()));

    let mut p = Vec::new();
    if let Ok(v) = &volume {
        for (i, item) in v.items.iter().enumerate() {
            let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if item.n != expected {
                p.push(format!("item {} where {expected} was due", item.n));
                break;
            }
        }
    }
    rows.put(
        CheckItem::Continuity,
        &p,
        format!(
            "items 1-{} without a gap",
            volume.as_ref().map_or(0, |v| v.items.len())
        ),
    );

    let p: Vec<String> = listed
        .iter()
        .filter(|(_, d, _)| !matches!(e.seen.get(d), Some(Seen::Read { .. })))
        .map(|(path, _, _)| format!("{path} is missing"))
        .collect();
    rows.put(
        CheckItem::Presence,
        &p,
        format!("{} documents present", listed.len()),
    );

    let mut p = Vec::new();
    if let Ok(v) = &volume {
        for head in &v.audit_heads {
            match e.chains.get(&head.case) {
                Some(ChainNow {
                    at_head: Some(h),
                    intact: true,
                }) if *h == head.hash => {}
                Some(ChainNow { at_head: None, .. }) | None => p.push(format!(
                    "{}: event {} recorded at filing is gone",
                    head.case, head.seq
                )),
                Some(ChainNow { intact: false, .. }) => {
                    p.push(format!("{}: the chain no longer verifies", head.case));
                }
                Some(_) => p.push(format!("{}: event {} was altered", head.case, head.seq)),
            }
        }
    }
    rows.put(
        CheckItem::ProcessTrail,
        &p,
        format!(
            "{} audit chains hold their heads",
            volume.as_ref().map_or(0, |v| v.audit_heads.len())
        ),
    );

    rows.put(
        CheckItem::TagManifests,
        &tag_manifests(bag.as_ref().ok()),
        "tag manifests cover every tag file".into(),
    );

    // 可用性.
    let mut p = Vec::new();
    match (&bag, &volume) {
        (Err(x), _) | (_, Err(x)) => p.push(x.clone()),
        (Ok(b), Ok(_)) => {
            if !b.declaration_ok {
                p.push("bagit.txt is not the BagIt 1.0 declaration".into());
            }
            for label in [
                labels::NUMBER,
                labels::TITLE,
                labels::FILING_UNIT,
                labels::HOUSE,
                labels::CLASS,
                labels::PERIOD,
                labels::START,
                labels::END,
                labels::LEVEL,
                labels::COMPILED_BY,
                labels::ITEMS,
            ] {
                if b.info_value(label).is_none_or(str::is_empty) {
                    p.push(format!("no {label}"));
                }
            }
        }
    }
    rows.put(CheckItem::Readable, &p, "tag files read".into());

    let mut p = Vec::new();
    for (path, d, _) in &listed {
        if let Some(Seen::Read {
            media_type,
            encrypted,
            ..
        }) = e.seen.get(d)
        {
            match media_type {
                Some(m) if OPEN_FORMATS.contains(&m.as_str()) && !encrypted => {}
                Some(m) if *encrypted => p.push(format!("{path}: {m}, encrypted")),
                Some(m) => p.push(format!("{path}: {m} is not an open format")),
                None => p.push(format!("{path}: format not recognised")),
            }
        }
    }
    rows.put(
        CheckItem::Formats,
        &p,
        "open formats, none encrypted".into(),
    );

    // 安全性.
    let p: Vec<String> = e
        .strays
        .iter()
        .map(|s| format!("{s} is not archived"))
        .collect();
    rows.put(
        CheckItem::Carrier,
        &p,
        "nothing beside the archived files".into(),
    );

    let mut p = Vec::new();
    for (sha, required) in &e.required {
        match (e.protection.get(sha), required) {
            (None, _) => {
                if matches!(e.seen.get(sha), Some(Seen::Read { .. })) {
                    p.push(format!("{sha}: protection unknown"));
                }
            }
            (Some(pr), None) if pr.held => {}
            (Some(pr), Some(day)) if pr.held || pr.until.is_some_and(|u| u >= *day) => {}
            (Some(_), None) => p.push(format!("{sha}: permanent but not held")),
            (Some(pr), Some(day)) => p.push(format!(
                "{sha}: kept until {} where {day} is required",
                pr.until.map_or("(no date)".to_owned(), |u| u.to_string())
            )),
        }
        if let Some(pr) = e.protection.get(sha)
            && !pr.read_only
        {
            p.push(format!("{sha}: writable"));
        }
    }
    rows.put(
        CheckItem::Protection,
        &p,
        format!("{} documents protected", e.required.len()),
    );

    Report {
        stage: e.stage,
        archive_number: e.archive_number.clone(),
        rows: rows.0,
    }
}

fn metadata_content(bag: Option<&ParsedBag>, volume: Option<&Volume>) -> Vec<String> {
    let (Some(b), Some(v)) = (bag, volume) else {
        return Vec::new();
    };
    let mut p = Vec::new();
    for (label, value) in v.info() {
        if label == labels::BAGGING_DATE || label == "Bag-Software-Agent" {
            continue;
        }
        match b.info_value(&label) {
            Some(x) if x == value => {}
            Some(x) => p.push(format!("{label} says {x}, the contents {value}")),
            None => {}
        }
    }
    if let (Some(first), Some(last)) = (
        v.items.iter().map(|i| i.first).min(),
        v.items.iter().map(|i| i.date).max(),
    ) && (first != v.start || last != v.end)
    {
        p.push(format!(
            "the dates {}-{} are not the items' {first}-{last}",
            v.start, v.end
        ));
    }
    let listed: BTreeSet<&String> = v.files().map(|f| &f.path).collect();
    let manifested: BTreeSet<&String> = b
        .manifests
        .get("sha256")
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    for path in listed.symmetric_difference(&manifested) {
        p.push(format!("{path} is in one of contents and manifest only"));
    }
    for f in v.files() {
        if b.manifests
            .get("sha256")
            .and_then(|m| m.get(&f.path))
            .is_some_and(|d| *d != f.sha256)
        {
            p.push(format!("{}: the contents and the manifest differ", f.path));
        }
    }
    p
}

fn archive_number(bag: Option<&ParsedBag>) -> Vec<String> {
    let Some(b) = bag else {
        return Vec::new();
    };
    let Some(text) = b.info_value(labels::NUMBER) else {
        return Vec::new();
    };
    match VolumeNumber::parse(text) {
        Err(x) => vec![format!("{text}: {x}")],
        Ok(n) => {
            let mut p = Vec::new();
            if b.info_value(labels::CLASS)
                .and_then(RecordClass::from_code)
                .is_some_and(|c| c != n.class)
            {
                p.push(format!("{text} is not of the class on the cover"));
            }
            if b.info_value(labels::PERIOD)
                .and_then(Period::from_code)
                .is_some_and(|x| x != n.period)
            {
                p.push(format!("{text} is not of the period on the cover"));
            }
            if b.info_value(labels::START)
                .and_then(|s| s.get(..4))
                .and_then(|y| y.parse::<i32>().ok())
                .is_some_and(|y| y != n.year)
            {
                p.push(format!("{text} is not of the year on the cover"));
            }
            p
        }
    }
}

fn tag_manifests(bag: Option<&ParsedBag>) -> Vec<String> {
    let Some(b) = bag else {
        return Vec::new();
    };
    let mut p = Vec::new();
    for (alg, listed) in &b.tag_manifests {
        for (name, bytes) in &b.tag_files {
            if name.starts_with("tagmanifest-") {
                continue;
            }
            match listed.get(name) {
                Some(d) if bagit::digest_hex(alg, bytes).as_ref() == Some(d) => {}
                Some(_) => p.push(format!("{name} does not match tagmanifest-{alg}.txt")),
                None => p.push(format!("{name} is not in tagmanifest-{alg}.txt")),
            }
        }
        for name in listed.keys() {
            if !b.tag_files.contains_key(name) {
                p.push(format!("{name} is listed but not there"));
            }
        }
    }
    p
}

/// The heads the volume recorded.
#[must_use]
pub fn recorded_heads(tag_files: &BTreeMap<String, Vec<u8>>) -> Vec<AuditHead> {
    tag_files
        .get(VOLUME_JSON)
        .and_then(|b| serde_json::from_slice::<Volume>(b).ok())
        .map(|v| v.audit_heads)
        .unwrap_or_default()
}
