//! Verification of the audit ledger (Art. 44: 对业务操作的合规性进行实时监控和内部监督): every
//! anchor checked against the one before and against its kept document, every case that changed
//! on an anchored day checked from the event before that day's first to the anchored head (each
//! event numbered without gaps, true to its hash, pointing at the hash before it, the head still
//! the one anchored), and the days not yet anchored checked the same way against the ledger's own
//! day index.
//!
//! An event altered in place fails its hash; an event deleted from the middle leaves a gap; the
//! last events deleted leave the case short of the head its anchor names. `swi audit verify`
//! runs [`verify_all`] at once; the job `audit-verify` (daily, 02:00) runs the same checks a day
//! at a time from a kept round (visible progress, resumed after a kill) and raises an alert for
//! every broken case, naming the case and the event.

use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::audit::{Event, GENESIS};
use swi_platform::alerts::{Alert, AlertStatus};
use swi_platform::jobs::{Job, Report, Wake, job_actor};
use swi_platform::mutation::audit_partition;
use swi_platform::mutation::raise_once;
use swi_platform::{ApiError, Platform};
use swi_store::docs::{Documents, Sha256};
use swi_store::{Condition, Item, Key, Query, SkRange, StateStore, TxOp};
use tokio::io::AsyncReadExt;

use crate::anchor::{self, Anchor, Line};

/// The job's name.
pub const NAME: &str = "audit-verify";

/// The largest anchor document read (a day of 1,000,000 cases is about 120 MB).
pub const MAX_ANCHOR_BYTES: u64 = 256 << 20;

/// The most breaks a round keeps in its record (every one is an alert).
const KEPT_BREAKS: usize = 50;

/// Where the ledger is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Break {
    /// The case (`claim#c-…`), or `audit-anchor#<day>` for an anchor itself.
    pub case: String,
    /// The first event that does not check (0: the anchor).
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
    /// The day whose anchor or index showed it.
    #[schema(value_type = Option<String>)]
    pub day: Option<NaiveDate>,
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Verification {
    /// Anchors checked.
    pub anchors: usize,
    /// Days of the ledger read.
    pub days: usize,
    /// Case-days checked (a case that changed on three days counts three).
    pub cases: usize,
    /// Events checked.
    pub events: usize,
    /// Every break found, the first of each case.
    pub broken: Vec<Break>,
}

impl Verification {
    fn add(&mut self, b: Break) {
        if !self.broken.iter().any(|x| x.case == b.case) {
            self.broken.push(b);
        }
    }
}

async fn events_between(
    state: &dyn StateStore,
    case: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Result<Event, u64>>, ApiError> {
    let items = state
        .query_all(
            &Query::partition(audit_partition(case))
                .range(SkRange::Between(
                    format!("seq#{from:012}"),
                    format!("seq#{to:012}"),
                ))
                .limit(1000),
        )
        .await?;
    Ok(items
        .iter()
        .map(|i| {
            i.body::<Event>().map_err(|_| {
                i.sk.trim_start_matches("seq#")
                    .parse::<u64>()
                    .unwrap_or_default()
            })
        })
        .collect())
}

/// Checks each case of `lines` from the event before its first of `day` to its last; with
/// `anchored`, the last must still be the head the anchor names.
///
/// # Errors
/// The store is unavailable.
pub async fn check_lines(
    state: &dyn StateStore,
    day: NaiveDate,
    lines: &[Line],
    anchored: bool,
    out: &mut Verification,
) -> Result<(), ApiError> {
    out.days += 1;
    for line in lines {
        out.cases += 1;
        let from = line.first.saturating_sub(1).max(1);
        let events = events_between(state, &line.case, from, line.last).await?;
        let broken = |seq: u64, reason: String| Break {
            case: line.case.clone(),
            seq,
            reason,
            day: Some(day),
        };
        let mut expected = from;
        let mut prev: Option<Event> = None;
        let mut found = None;
        for e in events {
            let e = match e {
                Ok(e) => e,
                Err(seq) => {
                    found = Some(broken(
                        seq,
                        "an event that does not read as an event".into(),
                    ));
                    break;
                }
            };
            out.events += 1;
            if e.seq != expected {
                found = Some(broken(
                    expected,
                    format!("event {expected} is missing (deleted)"),
                ));
                break;
            }
            if !e.intact() {
                found = Some(broken(e.seq, "altered after it was written".into()));
                break;
            }
            let follows = match &prev {
                Some(p) => e.prev == p.hash,
                None => e.seq > 1 || e.prev == GENESIS,
            };
            if !follows {
                found = Some(broken(e.seq, "does not follow the previous event".into()));
                break;
            }
            expected += 1;
            prev = Some(e);
        }
        if found.is_none() && expected <= line.last {
            found = Some(broken(
                expected,
                if anchored {
                    format!(
                        "event {expected} is missing: the anchor of {day} names event {} as the head (deleted)",
                        line.last
                    )
                } else {
                    format!("event {expected} is missing (deleted)")
                },
            ));
        }
        if found.is_none()
            && anchored
            && let Some(last) = &prev
            && last.hash != line.hash
        {
            found = Some(broken(
                last.seq,
                format!("not the event anchored on {day}: the chain was rewritten"),
            ));
        }
        if let Some(b) = found {
            out.add(b);
        }
    }
    Ok(())
}

/// The lines of an anchor, checked against the anchor before (`prev`) and its kept document.
///
/// # Errors
/// `Ok(Err(…))` names what is wrong with the anchor; `Err` the store is unavailable.
pub async fn anchored_lines(
    docs: &dyn Documents,
    a: &Anchor,
    prev: &str,
) -> Result<Result<Vec<Line>, Break>, ApiError> {
    let broken = |reason: &str| {
        Ok(Err(Break {
            case: anchor::anchor_case(a.day),
            seq: 0,
            reason: reason.to_owned(),
            day: Some(a.day),
        }))
    };
    if a.prev != prev {
        return broken(
            "the anchor does not follow the anchor before it (anchors removed or replaced)",
        );
    }
    if a.digest != anchor::chain_digest(&a.prev, a.day, &a.sha256) {
        return broken("the anchor's digest is not what its fields give (altered)");
    }
    let Ok(sha) = Sha256::parse(&a.sha256) else {
        return broken("the anchor names no document");
    };
    let mut text = String::new();
    let read = match docs.get(&sha).await {
        Ok(r) => r
            .take(MAX_ANCHOR_BYTES)
            .read_to_string(&mut text)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = read {
        tracing::warn!(day = %a.day, error = %e, "an anchor document could not be read");
        return broken("the anchor's document is missing or does not match its hash");
    }
    match anchor::parse(&text) {
        Ok((day, p, lines)) if day == a.day && p == a.prev => Ok(Ok(lines)),
        Ok(_) => broken("the anchor's document is of another day or chain"),
        Err(e) => broken(&e),
    }
}

/// Verifies the whole ledger: every anchor and its cases, then the days after the last anchor
/// up to `today`.
///
/// # Errors
/// The store is unavailable.
pub async fn verify_all(
    state: &dyn StateStore,
    docs: &dyn Documents,
    today: NaiveDate,
) -> Result<Verification, ApiError> {
    let mut out = Verification::default();
    let mut prev = GENESIS.to_owned();
    for a in anchor::anchors(state).await? {
        out.anchors += 1;
        match anchored_lines(docs, &a, &prev).await? {
            Ok(lines) => check_lines(state, a.day, &lines, true, &mut out).await?,
            Err(b) => out.add(b),
        }
        prev = a.digest;
    }
    check_tail(state, &prev, today, &mut out).await?;
    Ok(out)
}

/// The days after the last anchor: the head must carry the last anchor's digest; each day's
/// cases are checked against the ledger's index.
async fn check_tail(
    state: &dyn StateStore,
    last_digest: &str,
    today: NaiveDate,
    out: &mut Verification,
) -> Result<(), ApiError> {
    let through = match anchor::head(state).await? {
        Some((h, _)) => {
            if h.digest != last_digest {
                out.add(Break {
                    case: "audit-anchor#head".into(),
                    seq: 0,
                    reason: "the anchors' head does not carry the last anchor's digest (anchors removed)".into(),
                    day: Some(h.through),
                });
            }
            h.through
        }
        None => anchor::FIRST_DAY.pred_opt().unwrap_or(anchor::FIRST_DAY),
    };
    let mut day = through.succ_opt();
    while let Some(d) = day.filter(|d| *d <= today) {
        let lines = anchor::heads_of(state, d).await?;
        check_lines(state, d, &lines, false, out).await?;
        day = d.succ_opt();
    }
    Ok(())
}

/// A round of the verification job, as kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Round {
    /// The round's number, from 1.
    pub round: u64,
    /// Started (China time).
    #[schema(value_type = Option<String>)]
    pub started_at: Option<NaiveDateTime>,
    /// Finished (China time); none while under way.
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<NaiveDateTime>,
    /// The last anchored day checked.
    #[schema(value_type = Option<String>)]
    pub after: Option<NaiveDate>,
    /// The digest of that day's anchor.
    pub prev: String,
    /// What was checked so far, and the first breaks (every break is an alert).
    pub found: Verification,
    /// Breaks found in all (more than are kept).
    pub breaks: usize,
}

fn round_key() -> Key {
    Key::new("audit-verify", "round")
}

/// The round under way or last finished, and its version.
///
/// # Errors
/// The store is unavailable.
pub async fn current(state: &dyn StateStore) -> Result<Option<(Round, u64)>, ApiError> {
    state
        .get(&round_key())
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// Raises an alert for each break (once per case: the same alert as a change refused on a
/// broken chain).
async fn alert_breaks(p: &Platform, breaks: &[Break]) -> Result<(), ApiError> {
    let actor = job_actor(NAME, "系统：审计链校验");
    for b in breaks {
        let alert = Alert {
            id: format!("audit_chain_broken:{}", b.case),
            kind: "audit_chain_broken".into(),
            subject: b.case.clone(),
            county: None,
            evidence: json!({ "seq": b.seq, "reason": b.reason, "day": b.day }),
            raised_by: actor.sub.clone(),
            raised_at: p.clock.now(),
            status: AlertStatus::Open,
            zh: format!(
                "审计记录校验未通过：{} 第 {} 条（{}）",
                b.case, b.seq, b.reason
            ),
            en: format!(
                "the audit trail of {} is broken at event {}: {}",
                b.case, b.seq, b.reason
            ),
            basis: Some("Art. 44".into()),
            links: vec![b.case.clone()],
            ..Alert::default()
        };
        raise_once(p, &actor, &alert).await?;
    }
    Ok(())
}

async fn keep(p: &Platform, round: &Round, version: Option<u64>) -> Result<u64, ApiError> {
    let k = round_key();
    p.state
        .transact(vec![TxOp::Put {
            item: Item::new(k.pk, k.sk, round)?,
            condition: version.map_or(Condition::NotExists, Condition::VersionIs),
        }])
        .await?;
    Ok(version.map_or(1, |v| v + 1))
}

/// The next anchor after `after`.
async fn next_anchor(
    state: &dyn StateStore,
    after: Option<NaiveDate>,
) -> Result<Option<Anchor>, ApiError> {
    let from = after
        .and_then(|d| d.succ_opt())
        .map_or_else(|| "day#".to_owned(), |d| format!("day#{d}"));
    let page = state
        .query(
            &Query::partition("anchors")
                .range(SkRange::Between(from, "day#~".into()))
                .limit(1),
        )
        .await?;
    page.items
        .first()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// Works the current round a day at a time until `deadline` (a new round once the last one
/// finished on an earlier day). Answers the round.
///
/// # Errors
/// The store is unavailable, or another run moved the round meanwhile.
pub async fn run_round(p: &Platform, deadline: Instant) -> Result<(Round, usize), ApiError> {
    let today = p.clock.today();
    let now = p.clock.now().naive_local();
    let (mut round, mut version) = match current(p.state.as_ref()).await? {
        Some((r, v)) if r.finished_at.is_none() => (r, Some(v)),
        Some((r, _)) if r.finished_at.is_some_and(|f| f.date() >= today) => return Ok((r, 0)),
        Some((r, v)) => (fresh(r.round + 1, now), Some(v)),
        None => (fresh(1, now), None),
    };
    let mut days = 0;
    loop {
        if days > 0 && Instant::now() >= deadline {
            return Ok((round, days));
        }
        let before = round.found.broken.len();
        match next_anchor(p.state.as_ref(), round.after).await? {
            Some(a) => {
                round.found.anchors += 1;
                match anchored_lines(p.docs.as_ref(), &a, &round.prev).await? {
                    Ok(lines) => {
                        check_lines(p.state.as_ref(), a.day, &lines, true, &mut round.found)
                            .await?;
                    }
                    Err(b) => round.found.add(b),
                }
                round.after = Some(a.day);
                round.prev = a.digest;
            }
            None => {
                let prev = round.prev.clone();
                check_tail(p.state.as_ref(), &prev, today, &mut round.found).await?;
                round.finished_at = Some(p.clock.now().naive_local());
            }
        }
        let new = round
            .found
            .broken
            .split_off(before.min(round.found.broken.len()));
        alert_breaks(p, &new).await?;
        round.breaks += new.len();
        round
            .found
            .broken
            .extend(new.into_iter().take(KEPT_BREAKS.saturating_sub(before)));
        version = Some(keep(p, &round, version).await?);
        days += 1;
        if round.finished_at.is_some() {
            return Ok((round, days));
        }
    }
}

fn fresh(n: u64, now: NaiveDateTime) -> Round {
    Round {
        round: n,
        started_at: Some(now),
        prev: GENESIS.to_owned(),
        ..Round::default()
    }
}

/// The job verifying the ledger.
pub struct AuditVerify;

#[async_trait::async_trait]
impl Job for AuditVerify {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "verifies every case's audit chain against the daily anchors, an alert for each break (Art. 44)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 2 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let (round, days) = run_round(p, deadline).await?;
        let finished = round.finished_at.is_some();
        Ok(Report {
            job: NAME,
            done: days,
            pending: usize::from(!finished),
            errors: Vec::new(),
            summary: format!(
                "round {}: {} anchor(s), {} case-day(s), {} event(s) checked; {} break(s){}",
                round.round,
                round.found.anchors,
                round.found.cases,
                round.found.events,
                round.breaks,
                if finished { "" } else { "; under way" }
            ),
            detail: serde_json::to_value(&round).unwrap_or_default(),
        })
    }
}
