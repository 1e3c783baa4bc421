//! Filing a county's month (归档, Art. 45-46): a resumable job that takes every document
//! registered in the month, in order of class and case, into one volume per class and
//! retention period (never mixing periods), one item per case numbered without gaps; hashes
//! each document once (SHA-256 and SHA-512, kept as its fixity); and packs each volume — its
//! cover, list of contents and notes sheet, its BagIt package by reference, its digest in the
//! state store and in the audit chain with the audit chain heads of its cases.
//!
//! Its record `archive#<county>` / `filing#<YYYY-MM>` says how far it got; its pointer
//! `jobs#archive` / `<county>#<YYYY-MM>` wakes it. Each step is one transaction conditioned on
//! the record as read, so a run killed at any point goes on from there and writes nothing twice.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_archive::number::{Fonds, VolumeNumber};
use swi_archive::retention::{self, Period, RecordClass};
use swi_archive::volume::{self as bagvol, AuditHead, FileRef, Volume};
use swi_domain::Actor;
use swi_platform::dossier::Registration;
use swi_platform::jobs::{Job, Report, Wake, job_actor, pointer_partition};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Cursor, Index, Item, Key, Query, Sha256, StateError, TxOp};

use crate::hashing;
use crate::model::{
    Fixity, ItemRecord, Settings, VolumeRecord, VolumeStatus, allocation_key, archive_partition,
    fixity_key, item_key, item_put, items, load_volume, seq_key, settings, volume_case, volume_put,
};

/// The job's name.
pub const NAME: &str = "archive";

/// The most items a volume holds (件号 has four digits).
pub const MAX_ITEMS: u32 = 9999;

/// Registrations taken per transaction (each may open a volume: three writes).
const PAGE: u32 = 24;

/// Items written per transaction in the hashing phase.
const HASH_ITEMS: usize = 20;

/// Fixity records written ahead in a transaction of their own once this many wait (an item of
/// many documents never makes a transaction of more than 100 writes).
const FIXITY_AHEAD: usize = 60;

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

fn pointer_key(county: &str, month: &str) -> Key {
    Key::new(pointer_partition(NAME), format!("{county}#{month}"))
}

fn filing_put(f: &Filing, condition: Condition) -> Result<TxOp, ApiError> {
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

/// The operations opening a county's filing of a month, compiled by `compiled_by`, for `by`.
/// A month is filed once it has ended; filed or being filed already is a conflict.
///
/// # Errors
/// 400 a bad month; 409 opened already; 422 the month has not ended, or the county's archive
/// settings are missing.
pub async fn open_ops(
    p: &Platform,
    county: &str,
    month: &str,
    compiled_by: &str,
    by: &Actor,
) -> Result<(Filing, Vec<TxOp>), ApiError> {
    let end = month_end(month)?;
    if end >= p.clock.today() {
        return Err(ApiError::refused(
            ErrorCode::MonthInFuture,
            "当月业务资料于月末后整理归档（第四十五条）",
            "a month is filed once it has ended (Art. 45)",
        ));
    }
    if settings(&*p.state, county).await?.is_none() {
        return Err(settings_missing(county));
    }
    if p.state.get(&filing_key(county, month)).await?.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyImported,
            "该月已在归档或已归档",
            "this month is being filed or is filed already",
        ));
    }
    let f = Filing {
        county: county.to_owned(),
        month: month.to_owned(),
        phase: Phase::Collect,
        cursor: None,
        registrations: 0,
        volumes: BTreeMap::new(),
        sequence: Vec::new(),
        parts: BTreeMap::new(),
        open: BTreeMap::new(),
        hash_at: (0, 1),
        hashed: 0,
        packed: 0,
        checked: 0,
        compiled_by: compiled_by.to_owned(),
        opened_by: by.name.clone(),
        opened_at: p.clock.now().naive_local(),
        stuck: None,
    };
    let pointer = pointer_key(county, month);
    let ops = vec![
        filing_put(&f, Condition::NotExists)?,
        TxOp::Put {
            item: Item::new(
                pointer.pk,
                pointer.sk,
                &json!({ "county": county, "month": month }),
            )?,
            condition: Condition::None,
        },
    ];
    Ok((f, ops))
}

/// Opens the month's filing of every county (and of the city) whose archive has settings and
/// whose month is not opened yet, each in a transaction of its own with its audit event, by
/// `by` (the scheduled job, or `swi run archive --month`); answers the counties opened.
///
/// # Errors
/// 400 a bad month; 422 the month has not ended; 503 the store.
pub async fn open_month(p: &Platform, month: &str, by: &Actor) -> Result<Vec<String>, ApiError> {
    let end = month_end(month)?;
    if end >= p.clock.today() {
        return Err(ApiError::refused(
            ErrorCode::MonthInFuture,
            "当月业务资料于月末后整理归档（第四十五条）",
            "a month is filed once it has ended (Art. 45)",
        ));
    }
    let mut opened = Vec::new();
    let counties = swi_rules::ids::GANZHOU_COUNTIES
        .iter()
        .map(|(code, _)| code.to_string())
        .chain(std::iter::once(swi_domain::access::CITY_CODE.to_owned()));
    for county in counties {
        let Some((s, _)) = settings(&*p.state, &county).await? else {
            continue;
        };
        if p.state.get(&filing_key(&county, month)).await?.is_some() {
            continue;
        }
        let (_, mut ops) = open_ops(p, &county, month, &s.compiled_by, by).await?;
        ops.extend(
            audit_ops(
                p,
                by,
                &[Audit {
                    case: format!("archive#{county}"),
                    command: "archive.file_month".into(),
                    change: json!({ "month": month, "basis": "Art. 45" }),
                }],
            )
            .await?,
        );
        match p.state.transact(ops).await {
            Ok(()) => opened.push(county),
            // Opened meanwhile by another run or the archivist: theirs stands.
            Err(StateError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(opened)
}

/// The daily job that opens last month's filing for every county with archive settings, once
/// the month has ended (Art. 45: 每月整理归档); [`Archive`] then files it.
pub struct ArchiveOpen;

/// The opening job's name.
pub const OPEN_NAME: &str = "archive-open";

#[async_trait::async_trait]
impl Job for ArchiveOpen {
    fn name(&self) -> &'static str {
        OPEN_NAME
    }

    fn describe(&self) -> &'static str {
        "opens last month's filing of every county whose archive has settings (Art. 45)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 4 }
    }

    async fn run(&self, p: &Platform, _deadline: Instant) -> Result<Report, ApiError> {
        let today = p.clock.today();
        let last = today
            .with_day(1)
            .and_then(|d| d.pred_opt())
            .ok_or_else(|| ApiError::internal(&"no month before today"))?;
        let month = last.format("%Y-%m").to_string();
        let opened = open_month(p, &month, &job_actor(OPEN_NAME, "档案归档（定时）")).await?;
        Ok(Report {
            job: OPEN_NAME,
            done: opened.len(),
            summary: format!("{month}: filings opened {}", opened.len()),
            detail: json!({ "month": month, "opened": opened }),
            ..Report::default()
        })
    }
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

/// The archiving job: works every open filing.
pub struct Archive;

#[async_trait::async_trait]
impl Job for Archive {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "files a county's month into volumes by class and retention period: items, hashes, covers, packages (Art. 45-46)"
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
        let mut filed = Vec::new();
        for ptr in pointers {
            let Some((county, month)) = ptr.sk.split_once('#') else {
                continue;
            };
            match work(p, county, month, deadline).await {
                Ok((steps, done)) => {
                    report.done += steps;
                    if done {
                        filed.push(format!("{county} {month}"));
                    } else {
                        report.pending += 1;
                    }
                }
                Err(e) => report
                    .errors
                    .push(format!("{county}#{month}: {}", e.code.as_str())),
            }
            if Instant::now() > deadline {
                break;
            }
        }
        report.summary = format!(
            "steps {}, months filed {}, months pending {}",
            report.done,
            filed.len(),
            report.pending
        );
        report.detail = json!({ "filed": filed });
        Ok(report)
    }
}

/// Works one filing until it is done or `deadline` passes (at least one step); answers the
/// steps made and whether it is done.
///
/// # Errors
/// 503 the store; a step's own refusal (the filing records why it is stuck).
pub async fn work(
    p: &Platform,
    county: &str,
    month: &str,
    deadline: Instant,
) -> Result<(usize, bool), ApiError> {
    let mut steps = 0;
    loop {
        let Some((f, version)) = load_filing(p, county, month).await? else {
            // Opened and deleted? Nothing to do: the pointer goes.
            let k = pointer_key(county, month);
            p.state
                .transact(vec![TxOp::Delete {
                    key: k,
                    condition: Condition::None,
                }])
                .await?;
            return Ok((steps, true));
        };
        if f.phase == Phase::Done {
            return Ok((steps, true));
        }
        if steps > 0 && Instant::now() > deadline {
            return Ok((steps, false));
        }
        let result = match f.phase {
            Phase::Collect => collect(p, f.clone(), version).await,
            Phase::Hash => hash_step(p, f.clone(), version).await,
            Phase::Pack => pack_step(p, f.clone(), version).await,
            Phase::Done => Ok(()),
        };
        match result {
            Ok(()) => steps += 1,
            Err(e) if e.code == ErrorCode::ConcurrentChange => return Ok((steps, false)),
            Err(e) => {
                stuck(p, &f, version, &e).await;
                return Err(e);
            }
        }
    }
}

/// Records why a filing cannot go on (once per reason), for the archivist's page.
async fn stuck(p: &Platform, f: &Filing, version: u64, e: &ApiError) {
    let why = format!("{}: {}", e.code.as_str(), e.zh);
    if f.stuck.as_deref() == Some(why.as_str()) {
        return;
    }
    let mut g = f.clone();
    g.stuck = Some(why);
    if let Ok(op) = filing_put(&g, Condition::VersionIs(version)) {
        let _ = p.state.transact(vec![op]).await;
    }
}

fn conflict(e: StateError) -> ApiError {
    match e {
        StateError::Conflict { .. } => ApiError::conflict(
            ErrorCode::ConcurrentChange,
            "归档正由另一进程处理",
            "another run is filing this month",
        ),
        other => other.into(),
    }
}

/// A volume met while collecting: as read (or new), with what this step changes.
struct Open {
    record: VolumeRecord,
    version: Option<u64>,
    changed: bool,
}

/// The title of an item: what its case is, in words.
fn item_title(case: &str) -> String {
    let (kind, id) = case.split_once('#').unwrap_or((case, ""));
    let what = match kind {
        "unit" => "参保单位登记",
        "enrolment" => "人员参保登记",
        "declaration" => "人员增减申报",
        "identity" => "实名核验",
        "project" => "建设项目参保",
        "injury" => "工伤认定及鉴定",
        "claim" => "待遇申领及核定",
        "batch" => "待遇支付批次",
        "cycle" => "月度资金周期",
        "recon" => "对账",
        "annual" => "财务年度报告",
        "exchange" | "receipt-import" => "税务征收数据交换",
        "rerating" | "rate-notice" => "费率浮动",
        "roster-import" => "工伤保险参保花名册",
        "city-param" => "城市参数依据",
        _ => "业务材料",
    };
    format!("{what} {id}").trim().to_owned()
}

/// One collect step: the next page of the month's registrations into volumes and items.
async fn collect(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
    let (s, _) = settings(&*p.state, &f.county)
        .await?
        .ok_or_else(|| settings_missing(&f.county))?;
    let fonds =
        Fonds::parse(&s.fonds).map_err(|e| ApiError::invalid("全宗号不正确", e.to_string()))?;
    let end = month_end(&f.month)?;
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(swi_platform::dossier::due_partition(&f.county, &f.month))
                .limit(PAGE)
                .after(f.cursor.clone().map(Cursor::from_text)),
        )
        .await?;
    let mut ops = Vec::new();
    let mut opened: BTreeMap<String, Open> = BTreeMap::new();
    let mut touched: BTreeMap<(String, u32), (ItemRecord, Option<u64>)> = BTreeMap::new();
    for it in &page.items {
        let r: Registration = it.body().map_err(|e| ApiError::internal(&e))?;
        let period = retention::period(r.class, end).map_err(|e| {
            ApiError::refused(
                ErrorCode::ParameterPending,
                format!("类别 {} 在 {end} 没有保管期限", r.class),
                e.to_string(),
            )
        })?;
        let slot = format!("{}#{}", r.class.code(), period.code());
        // A volume holds at most 9,999 items (件号 has four digits): a new case then opens the
        // next volume of the class and period.
        let full = f
            .volumes
            .get(&slot)
            .and_then(|id| f.open.get(id))
            .is_some_and(|o| o.n >= MAX_ITEMS && o.case != r.case);
        // The volume of this class and period: allocated once, numbered in its year.
        let id = match f.volumes.get(&slot).filter(|_| !full) {
            Some(id) => id.clone(),
            None => {
                let part = f.parts.get(&slot).copied().unwrap_or(0) + 1;
                let (id, allocation) = allocate(p, &f, &fonds, r.class, period, end, part).await?;
                ops.extend(allocation.1);
                opened.insert(
                    id.clone(),
                    Open {
                        record: allocation.0,
                        version: None,
                        changed: true,
                    },
                );
                f.parts.insert(slot.clone(), part);
                f.volumes.insert(slot, id.clone());
                f.sequence.push(id.clone());
                id
            }
        };
        if !opened.contains_key(&id) {
            let (record, v) = load_volume(&*p.state, &id)
                .await?
                .ok_or_else(|| ApiError::internal(&format!("volume {id} allocated but missing")))?;
            opened.insert(
                id.clone(),
                Open {
                    record,
                    version: Some(v),
                    changed: false,
                },
            );
        }
        let day = chrono::DateTime::parse_from_rfc3339(&r.at)
            .map(|d| d.date_naive())
            .unwrap_or(end);
        let file = FileRef {
            path: String::new(),
            sha256: r.sha256.clone(),
            sha512: String::new(),
            size: r.size,
            media_type: String::new(),
            material: r.material.clone(),
        };
        let open = opened
            .get_mut(&id)
            .ok_or_else(|| ApiError::internal(&"volume not opened"))?;
        let joins = f.open.get(&id).filter(|o| o.case == r.case).map(|o| o.n);
        match joins {
            Some(n) => {
                let slot = match touched.entry((id.clone(), n)) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        // The item was begun by an earlier page: joined under its version.
                        let item = p
                            .state
                            .get(&item_key(&id, n))
                            .await?
                            .ok_or_else(|| ApiError::internal(&"open item missing"))?;
                        e.insert((
                            item.body().map_err(|e| ApiError::internal(&e))?,
                            Some(item.version),
                        ))
                    }
                };
                let (item, _) = slot;
                if !item
                    .files
                    .iter()
                    .any(|x| x.sha256 == file.sha256 && x.material == file.material)
                {
                    item.files.push(file);
                    item.first = item.first.min(day);
                    item.date = item.date.max(day);
                    open.record.documents += 1;
                    open.record.bytes += r.size;
                    open.changed = true;
                }
            }
            None => {
                let n = f.open.get(&id).map_or(1, |o| o.n + 1);
                touched.insert(
                    (id.clone(), n),
                    (
                        ItemRecord {
                            n,
                            case: r.case.clone(),
                            title: item_title(&r.case),
                            author: s.filing_unit.clone(),
                            first: day,
                            date: day,
                            files: vec![file],
                        },
                        None,
                    ),
                );
                f.open.insert(
                    id.clone(),
                    crate::filing::OpenItem {
                        n,
                        case: r.case.clone(),
                    },
                );
                open.record.items = n;
                open.record.documents += 1;
                open.record.bytes += r.size;
                open.changed = true;
            }
        }
        f.registrations += 1;
    }
    for ((volume, _), (item, v)) in &touched {
        ops.push(item_put(
            volume,
            item,
            v.map_or(Condition::NotExists, Condition::VersionIs),
        )?);
    }
    for o in opened.values().filter(|o| o.changed) {
        ops.push(volume_put(
            &o.record,
            o.version.map_or(Condition::NotExists, Condition::VersionIs),
        )?);
    }
    match page.next {
        Some(c) => f.cursor = Some(c.as_str().to_owned()),
        None => {
            f.cursor = None;
            f.phase = Phase::Hash;
        }
    }
    ops.push(filing_put(&f, Condition::VersionIs(version))?);
    p.state.transact(ops).await.map_err(conflict)
}

/// A new volume of `class` and `period` for the filing's month: its number (the next of its
/// fonds, class, year and period) and the operations writing it, its allocation and the
/// number given.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site, every argument its own fact"
)]
async fn allocate(
    p: &Platform,
    f: &Filing,
    fonds: &Fonds,
    class: RecordClass,
    period: Period,
    end: NaiveDate,
    part: u32,
) -> Result<(String, (VolumeRecord, Vec<TxOp>)), ApiError> {
    let seq_k = seq_key(&f.county, end.year(), class, period);
    let read = p.state.get(&seq_k).await?;
    let last: u16 = match &read {
        Some(i) => i
            .body::<serde_json::Value>()
            .map_err(|e| ApiError::internal(&e))?["last"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(0),
        None => 0,
    };
    let number =
        VolumeNumber::new(fonds.clone(), class, end.year(), period, last + 1).map_err(|e| {
            ApiError::refused(
                ErrorCode::ParameterPending,
                "本年度该类案卷号已用尽",
                e.to_string(),
            )
        })?;
    let id = number.file_name();
    let entry = class.entry().map_err(|e| ApiError::internal(&e))?;
    let record = VolumeRecord {
        id: id.clone(),
        archive_number: number.to_string(),
        county: f.county.clone(),
        month: f.month.clone(),
        class,
        period,
        title: format!("{}年{}月 {}", end.year(), end.month(), entry.name),
        status: VolumeStatus::Filing,
        items: 0,
        documents: 0,
        bytes: 0,
        package: None,
        package_bytes: None,
        filed_on: None,
        compiled_by: f.compiled_by.clone(),
        paper: None,
        frozen: None,
    };
    let alloc = allocation_key(&f.county, &f.month, class, period, part);
    let ops = vec![
        TxOp::Put {
            item: Item::new(seq_k.pk, seq_k.sk, &json!({ "last": last + 1 }))?,
            condition: read.map_or(Condition::NotExists, |i| Condition::VersionIs(i.version)),
        },
        TxOp::Put {
            item: Item::new(alloc.pk, alloc.sk, &json!({ "volume": id }))?,
            condition: Condition::NotExists,
        },
    ];
    Ok((id, (record, ops)))
}

/// The volumes of a filing in the order hashing and packing take them.
fn order(f: &Filing) -> Vec<String> {
    f.sequence.clone()
}

/// One hashing step: the next items' documents, each hashed once (its fixity kept), their
/// SHA-512, length and type written into the items.
async fn hash_step(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
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

fn extension(media: &str) -> &'static str {
    match media {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/tiff" => "tif",
        "text/csv" => "csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        _ => "bin",
    }
}

/// The volume as its package describes it, from its record and items (own sheets not yet).
///
/// # Errors
/// A date out of range (it is not).
pub fn volume_of(
    record: &VolumeRecord,
    s: &Settings,
    items: &[ItemRecord],
    filed_on: NaiveDate,
    heads: Vec<AuditHead>,
) -> Volume {
    let items: Vec<bagvol::Item> = items
        .iter()
        .map(|i| bagvol::Item {
            n: i.n,
            case: i.case.clone(),
            title: i.title.clone(),
            author: i.author.clone(),
            first: i.first,
            date: i.date,
            files: i
                .files
                .iter()
                .enumerate()
                .map(|(k, f)| FileRef {
                    path: bagvol::item_path(i.n, k + 1, &f.material, extension(&f.media_type)),
                    ..f.clone()
                })
                .collect(),
        })
        .collect();
    let start = items.iter().map(|i| i.first).min().unwrap_or(filed_on);
    let end = items.iter().map(|i| i.date).max().unwrap_or(filed_on);
    Volume {
        archive_number: record.archive_number.clone(),
        archive_house_number: s.archive_house_number.clone(),
        title: record.title.clone(),
        filing_unit: s.filing_unit.clone(),
        county: record.county.clone(),
        class: record.class,
        period: record.period,
        month: record.month.clone(),
        start,
        end,
        classification_level: s.classification_level.clone(),
        compiled_by: record.compiled_by.clone(),
        filed_on,
        items,
        own: Vec::new(),
        audit_heads: heads,
    }
}

/// The audit chain heads of `cases` now, sorted by case.
///
/// # Errors
/// 503 the store.
pub async fn heads(
    p: &Platform,
    cases: impl Iterator<Item = &str>,
) -> Result<Vec<AuditHead>, ApiError> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        if !seen.insert(case.to_owned()) {
            continue;
        }
        if let Some(e) = swi_platform::mutation::last_event(p, case).await? {
            out.push(AuditHead {
                case: case.to_owned(),
                seq: e.seq,
                hash: e.hash,
            });
        }
    }
    out.sort();
    Ok(out)
}

/// Stores one of the volume's own sheets and its fixity; answers its reference.
async fn own_sheet(
    p: &Platform,
    bytes: Vec<u8>,
    path: &str,
    material: &str,
    ops: &mut Vec<TxOp>,
) -> Result<FileRef, ApiError> {
    let meta = p
        .docs
        .put(&mut &bytes[..])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let sha512 = swi_archive::bagit::digest_hex("sha512", &bytes).unwrap_or_default();
    let k = fixity_key(&meta.sha256.hex());
    if p.state.get(&k).await?.is_none() && !ops.iter().any(|o| o.key() == k) {
        ops.push(crate::model::fixity_put(
            &Fixity {
                sha256: meta.sha256.hex(),
                sha512: sha512.clone(),
                size: meta.size,
                media_type: Some("application/pdf".into()),
                encrypted: false,
                verified_at: p.clock.now().naive_local(),
                round: 0,
                outcome: crate::model::Outcome::Intact,
            },
            Condition::NotExists,
        )?);
    }
    Ok(FileRef {
        path: path.to_owned(),
        sha256: meta.sha256.hex(),
        sha512,
        size: meta.size,
        media_type: "application/pdf".into(),
        material: material.to_owned(),
    })
}

/// The package of a volume: its bag's tag files as a deterministic tar, dated on its filing
/// day.
///
/// # Errors
/// A bag that cannot be written (a defect).
pub fn package(v: &Volume) -> Result<Vec<u8>, ApiError> {
    let files = v
        .bag()
        .map_err(|e| ApiError::internal(&e))?
        .files()
        .map_err(|e| ApiError::internal(&e))?;
    let mtime = v
        .filed_on
        .and_hms_opt(0, 0, 0)
        .map_or(0, |d| u64::try_from(d.and_utc().timestamp()).unwrap_or(0));
    swi_archive::package::pack(&v.archive_number.replace('·', "."), mtime, &files)
        .map_err(|e| ApiError::internal(&e))
}

/// One packing step: the four checks of the volume packed last (its report kept), or the next
/// volume's sheets and package, its digest recorded.
async fn pack_step(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
    let volumes = order(&f);
    if f.checked < f.packed {
        let id = volumes
            .get(f.checked)
            .ok_or_else(|| ApiError::internal(&"checked past the volumes"))?;
        let (record, _) = load_volume(&*p.state, id)
            .await?
            .ok_or_else(|| ApiError::internal(&format!("volume {id} missing")))?;
        let report = crate::checking::run(p, &record, swi_archive::checks::Stage::Filing).await?;
        let kept = crate::checking::KeptReport {
            volume: id.clone(),
            at: p.clock.now().naive_local(),
            by: "档案归档".into(),
            passed: report.passed(),
            report,
        };
        f.checked += 1;
        return p
            .state
            .transact(vec![
                crate::checking::keep_op(&kept)?,
                filing_put(&f, Condition::VersionIs(version))?,
            ])
            .await
            .map_err(conflict);
    }
    let Some(id) = volumes.get(f.packed).cloned() else {
        f.phase = Phase::Done;
        let k = pointer_key(&f.county, &f.month);
        return p
            .state
            .transact(vec![
                filing_put(&f, Condition::VersionIs(version))?,
                TxOp::Delete {
                    key: k,
                    condition: Condition::None,
                },
            ])
            .await
            .map_err(conflict);
    };
    let (mut record, rv) = load_volume(&*p.state, &id)
        .await?
        .ok_or_else(|| ApiError::internal(&format!("volume {id} missing")))?;
    let list: Vec<ItemRecord> = items(&*p.state, &id)
        .await?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    let Some(frozen) = record.frozen.clone() else {
        // First, what the package is made from is fixed: a run killed after storing its
        // sheets and package makes the same bytes again (stored once, content-addressed).
        let (s, _) = settings(&*p.state, &f.county)
            .await?
            .ok_or_else(|| settings_missing(&f.county))?;
        record.frozen = Some(crate::model::Frozen {
            filed_on: p.clock.today(),
            heads: heads(p, list.iter().map(|i| i.case.as_str())).await?,
            settings: s,
        });
        return p
            .state
            .transact(vec![
                volume_put(&record, Condition::VersionIs(rv))?,
                filing_put(&f, Condition::VersionIs(version))?,
            ])
            .await
            .map_err(conflict);
    };
    let filed_on = frozen.filed_on;
    let mut v = volume_of(&record, &frozen.settings, &list, filed_on, frozen.heads);
    let mut ops = Vec::new();
    v.own = vec![
        own_sheet(
            p,
            crate::sheets::cover(&v)?,
            "data/volume/cover.pdf",
            "案卷封面",
            &mut ops,
        )
        .await?,
        own_sheet(
            p,
            crate::sheets::contents(&v)?,
            "data/volume/contents.pdf",
            "卷内目录",
            &mut ops,
        )
        .await?,
        own_sheet(
            p,
            crate::sheets::notes(&v)?,
            "data/volume/notes.pdf",
            "卷内备考表",
            &mut ops,
        )
        .await?,
    ];
    let bytes = package(&v)?;
    let meta = p
        .docs
        .put(&mut &bytes[..])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    record.status = VolumeStatus::Filed;
    record.package = Some(meta.sha256.hex());
    record.package_bytes = Some(meta.size);
    record.filed_on = Some(filed_on);
    ops.push(volume_put(&record, Condition::VersionIs(rv))?);
    let actor = job_actor(NAME, "档案归档");
    ops.extend(
        audit_ops(
            p,
            &actor,
            &[Audit {
                case: volume_case(&id),
                command: "volume.file".into(),
                change: crate::checking::filing_change(&record, &meta.sha256.hex(), meta.size),
            }],
        )
        .await?,
    );
    f.packed += 1;
    ops.push(filing_put(&f, Condition::VersionIs(version))?);
    p.state.transact(ops).await.map_err(conflict)
}
