//! Daily anchors of the audit ledger (审计日锚): once a day has ended, the head of every case
//! that changed on it — its first and last event of the day and the last one's hash — is written
//! as a document to the content-addressed store (filed as class GS14, kept by the archive under
//! its lock) and recorded in the state store, each anchor chained to the one before by digest.
//!
//! A case's own hash chain shows an event altered in place; only an anchor shows a chain cut
//! short (its last events deleted) or rewritten whole, since the anchor kept elsewhere still names
//! the head the case had. `crate::verify` checks every case against them.
//!
//! The job `audit-anchor` (daily, 01:00 China time) anchors each ended day not yet anchored, one
//! transaction a day, from the scheme's first day (Art. 51: 2025-01-01); killed at any point, the
//! next run goes on from the last day written. Keys: `anchors` / `day#<YYYY-MM-DD>` (one per day
//! with events) and `anchors` / `head` (the last day anchored and the chain's digest).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;
use swi_domain::audit::{Event, GENESIS};
use swi_platform::jobs::{Job, Report, Wake, job_actor};
use swi_platform::mutation::{Audit, opening_ops};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Index, Item, Key, Query, SkRange, StateStore, TxOp};

/// The job's name.
pub const NAME: &str = "audit-anchor";

/// The scheme's first day (Art. 51: 本规程自2025年1月1日起实施): nothing is anchored before it.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2025, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// The material an anchor is filed as.
pub const MATERIAL: &str = "审计日锚";

const PK: &str = "anchors";

/// The first line of every anchor document.
const MAGIC: &str = "swi audit anchor v1";

/// The key of a day's anchor.
#[must_use]
pub fn day_key(day: NaiveDate) -> Key {
    Key::new(PK, format!("day#{day}"))
}

fn head_key() -> Key {
    Key::new(PK, "head")
}

/// The audit case of a day's anchor.
#[must_use]
pub fn anchor_case(day: NaiveDate) -> String {
    format!("audit-anchor#{day}")
}

/// A day's anchor, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Anchor {
    /// The day (China).
    #[schema(value_type = String, example = "2026-03-02")]
    pub day: NaiveDate,
    /// Cases that changed on it.
    pub cases: usize,
    /// Events written on it.
    pub events: usize,
    /// The SHA-256 of the anchor document (in the document store).
    pub sha256: String,
    /// The digest of the anchor before it ([`GENESIS`] for the first).
    pub prev: String,
    /// This anchor's digest: SHA-256 of the previous digest, the day and the document's hash.
    pub digest: String,
    /// When it was made (China time).
    #[schema(value_type = String, example = "2026-03-03T01:00:04")]
    pub made_at: NaiveDateTime,
}

/// How far the anchors go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Head {
    /// The last day anchored (or found without events).
    #[schema(value_type = String, example = "2026-03-02")]
    pub through: NaiveDate,
    /// The digest of the last anchor written ([`GENESIS`] before the first).
    pub digest: String,
}

/// One case's head on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The case.
    pub case: String,
    /// Its first event of the day.
    pub first: u64,
    /// Its last event of the day.
    pub last: u64,
    /// The last event's hash.
    pub hash: String,
}

/// The digest chaining an anchor to the one before.
#[must_use]
pub fn chain_digest(prev: &str, day: NaiveDate, sha256: &str) -> String {
    hex::encode(sha2::Sha256::digest(
        format!("{prev}\n{day}\n{sha256}").as_bytes(),
    ))
}

/// The anchor document of `day`: a header, then one tab-separated line per case in case order.
#[must_use]
pub fn document(day: NaiveDate, prev: &str, lines: &[Line]) -> String {
    let mut out = format!("{MAGIC}\t{day}\t{prev}\n");
    for l in lines {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            l.case, l.first, l.last, l.hash
        ));
    }
    out
}

/// Reads an anchor document back: its day, the digest before it, its lines.
///
/// # Errors
/// A document of another shape (said in a sentence).
pub fn parse(text: &str) -> Result<(NaiveDate, String, Vec<Line>), String> {
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().unwrap_or_default().split('\t').collect();
    let [magic, day, prev] = header.as_slice() else {
        return Err("the anchor document has no header".into());
    };
    if *magic != MAGIC {
        return Err("not an anchor document".into());
    }
    let day: NaiveDate = day
        .parse()
        .map_err(|_| "the anchor document's day does not read".to_owned())?;
    let mut lines = Vec::new();
    for (i, row) in rows.enumerate() {
        let f: Vec<&str> = row.split('\t').collect();
        let [case, first, last, hash] = f.as_slice() else {
            return Err(format!(
                "line {} of the anchor document does not read",
                i + 2
            ));
        };
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("line {} of the anchor document does not read", i + 2))
        };
        lines.push(Line {
            case: (*case).to_owned(),
            first: num(first)?,
            last: num(last)?,
            hash: (*hash).to_owned(),
        });
    }
    Ok((day, (*prev).to_owned(), lines))
}

/// The heads of every case that changed on `day`, read from the ledger's day index, in case
/// order.
///
/// # Errors
/// The store is unavailable or an event does not read.
pub async fn heads_of(state: &dyn StateStore, day: NaiveDate) -> Result<Vec<Line>, ApiError> {
    let items = state
        .query_index_all(
            Index::Gsi1,
            &Query::partition(format!("audit-day#{day}")).limit(1000),
        )
        .await?;
    let mut by_case: BTreeMap<String, Line> = BTreeMap::new();
    for item in items {
        let e: Event = item.body().map_err(|e| ApiError::internal(&e))?;
        let line = by_case.entry(e.case.clone()).or_insert_with(|| Line {
            case: e.case.clone(),
            first: e.seq,
            last: e.seq,
            hash: e.hash.clone(),
        });
        line.first = line.first.min(e.seq);
        if e.seq >= line.last {
            line.last = e.seq;
            line.hash = e.hash;
        }
    }
    Ok(by_case.into_values().collect())
}

/// Every anchor recorded, in day order.
///
/// # Errors
/// The store is unavailable.
pub async fn anchors(state: &dyn StateStore) -> Result<Vec<Anchor>, ApiError> {
    state
        .query_all(
            &Query::partition(PK)
                .range(SkRange::Prefix("day#".into()))
                .limit(1000),
        )
        .await?
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// How far the anchors go, and the head's version.
///
/// # Errors
/// The store is unavailable.
pub async fn head(state: &dyn StateStore) -> Result<Option<(Head, u64)>, ApiError> {
    state
        .get(&head_key())
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// Anchors `day` after `head` (one transaction): the document stored and filed, the anchor and
/// the new head written, conditioned on the head as read. Answers the new head.
async fn anchor_day(
    p: &Platform,
    day: NaiveDate,
    head: &Head,
    version: Option<u64>,
) -> Result<(Head, usize), ApiError> {
    let lines = heads_of(p.state.as_ref(), day).await?;
    let mut ops = Vec::new();
    let mut next = Head {
        through: day,
        digest: head.digest.clone(),
    };
    if !lines.is_empty() {
        let text = document(day, &head.digest, &lines);
        let meta = p
            .docs
            .put(&mut text.as_bytes())
            .await
            .map_err(|e| ApiError::unavailable(&e))?;
        let sha = meta.sha256.hex();
        let case = anchor_case(day);
        ops.extend(
            swi_platform::dossier::register_op(
                p,
                swi_platform::dossier::SYSTEM,
                &meta.sha256,
                meta.size,
                swi_platform::dossier::Filing {
                    case: &case,
                    county: swi_platform::dossier::CITY,
                    class: swi_archive::retention::RecordClass::Supervision,
                    material: MATERIAL,
                },
            )
            .await?,
        );
        let anchor = Anchor {
            day,
            cases: lines.len(),
            events: lines
                .iter()
                .map(|l| usize::try_from(l.last - l.first + 1).unwrap_or(0))
                .sum(),
            digest: chain_digest(&head.digest, day, &sha),
            sha256: sha,
            prev: head.digest.clone(),
            made_at: p.clock.now().naive_local(),
        };
        next.digest.clone_from(&anchor.digest);
        let k = day_key(day);
        ops.push(TxOp::Put {
            item: Item::new(k.pk, k.sk, &anchor)?,
            condition: Condition::NotExists,
        });
        ops.extend(opening_ops(
            p,
            &job_actor(NAME, "系统：审计日锚"),
            &[Audit {
                case,
                command: "audit.anchor".into(),
                change: json!({ "day": day, "sha256": anchor.sha256, "digest": anchor.digest,
                    "cases": anchor.cases, "events": anchor.events }),
            }],
        )?);
    }
    let k = head_key();
    ops.push(TxOp::Put {
        item: Item::new(k.pk, k.sk, &next)?,
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    });
    p.state.transact(ops).await?;
    Ok((next, lines.len()))
}

/// Anchors every ended day not yet anchored, until `deadline`. Answers the days anchored, the
/// cases anchored, and whether days are left.
///
/// # Errors
/// The store is unavailable, or another run moved the head meanwhile (409: nothing of this
/// day is written; the next run goes on).
pub async fn anchor_ended_days(
    p: &Platform,
    deadline: Instant,
) -> Result<(usize, usize, bool), ApiError> {
    let today = p.clock.today();
    let (mut current, mut version) = match head(p.state.as_ref()).await? {
        Some((h, v)) => (h, Some(v)),
        None => (
            Head {
                through: FIRST_DAY.pred_opt().unwrap_or(FIRST_DAY),
                digest: GENESIS.to_owned(),
            },
            None,
        ),
    };
    let (mut days, mut cases) = (0, 0);
    while let Some(day) = current.through.succ_opt().filter(|d| *d < today) {
        if days > 0 && Instant::now() >= deadline {
            return Ok((days, cases, true));
        }
        let (next, n) = anchor_day(p, day, &current, version).await?;
        current = next;
        version = Some(version.map_or(1, |v| v + 1));
        days += 1;
        cases += n;
    }
    Ok((days, cases, false))
}

/// The job anchoring ended days.
pub struct AuditAnchor;

#[async_trait::async_trait]
impl Job for AuditAnchor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "anchors each ended day's audit heads in a chained document kept under lock (Art. 44: internal supervision)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 1 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let (days, cases, left) = anchor_ended_days(p, deadline).await?;
        Ok(Report {
            job: NAME,
            done: days,
            pending: usize::from(left),
            errors: Vec::new(),
            summary: format!(
                "{days} day(s) anchored, {cases} case head(s){}",
                if left { "; days left" } else { "" }
            ),
            detail: json!({ "days": days, "cases": cases, "left": left }),
        })
    }
}
