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

use chrono::Datelike;
use serde_json::json;
use swi_domain::Actor;
use swi_platform::jobs::{Job, Report, Wake, job_actor, pointer_partition};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Item, Query, StateError, TxOp};

use crate::model::settings;

pub use crate::collect::MAX_ITEMS;
pub use crate::month::{
    Filing, NAME, OpenItem, Phase, filing_key, load_filing, month_end, settings_missing,
};
pub use crate::pack::{heads, package, volume_of};

use crate::month::{filing_put, pointer_key};

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
        retain_at: (0, 0),
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
/// the month has ended (Art. 45: 业务档案资料应每月进行整理归档); [`Archive`] then files it.
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
            Phase::Collect => crate::collect::collect(p, f.clone(), version).await,
            Phase::Hash => crate::digest::hash_step(p, f.clone(), version).await,
            Phase::Pack => crate::pack::pack_step(p, f.clone(), version).await,
            Phase::Retain => crate::retain::retain_step(p, f.clone(), version).await,
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
