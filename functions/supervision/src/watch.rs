//! Where the risk rules run: on the audit ledger, the one record of every change on either
//! backend. Each event is given to the rules that concern its case and command ([`on_event`]);
//! what they find is raised as an alert, once per rule and subject.
//!
//! - `risk-watch` ([`Wake::Ledger`]: woken by every change's audit event in AWS, by every round
//!   of the `swi serve` worker locally) follows the ledger's day index a page at a time from its
//!   cursor, leaving the last [`LAG_SECS`] seconds for a later run (a transaction that read the
//!   clock before another may commit after it).
//! - `risk-sweep` (daily, 03:00) walks the same index again from its own cursor with no lag —
//!   whatever the watch missed is met there — and checks the rules that hang on time passing
//!   (a unit of the work-injury scheme still not enrolled after the term).
//!
//! Both are resumable: alerts are raised once by id and the indexes the rules keep are written
//! once, so a run killed after raising and before moving its cursor raises nothing twice.

use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::audit::Event;
use swi_platform::jobs::{Job, Report, Wake, job_actor};
use swi_platform::mutation::raise_once;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Index, Item, Key, Query, SkRange, TxOp};

use crate::catalogue::Flag;
use crate::{rules_accounts, rules_claims, rules_conduct, rules_registry, views};

/// The watch's name.
pub const WATCH: &str = "risk-watch";

/// The nightly sweep's name.
pub const SWEEP: &str = "risk-sweep";

/// Seconds of the ledger the watch leaves for a later run.
pub const LAG_SECS: i64 = 10;

/// Events read per page.
const PAGE: u32 = 200;

/// Every rule that concerns `e`, run: what they found.
///
/// # Errors
/// The store is unavailable, a record no longer reads, or a threshold is not in force.
pub async fn on_event(p: &Platform, e: &Event) -> Result<Vec<Flag>, ApiError> {
    let Some((kind, id)) = e.case.split_once('#') else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    if e.command == "account.record" {
        out.extend(rules_accounts::shared_account(p, &e.case).await?);
    }
    match kind {
        "unit" if e.command.starts_with("work_injury.") || e.command.starts_with("unit.") => {
            out.extend(rules_registry::unit_not_enrolled(p, id, p.clock.today()).await?);
        }
        "enrolment" => {
            out.extend(rules_registry::enrolment_overlap(p, id).await?);
            out.extend(rules_registry::wage_below_base(p, id).await?);
        }
        "claim" => {
            let Some(claim) = views::claim(p, id).await? else {
                return Ok(out);
            };
            out.extend(rules_conduct::out_of_hours(p, e, Some(claim.county)).await?);
            out.extend(rules_conduct::too_quick(p, e, Some(claim.county)).await?);
            let injury = views::injury(p, &claim.injury).await?;
            if matches!(e.command.as_str(), "claim.submit" | "claim.resubmit")
                && let Some(injury) = &injury
            {
                out.extend(rules_claims::soon_after_cover(p, &claim, injury).await?);
            }
            if rules_claims::JUDGED.contains(&e.command.as_str()) {
                out.extend(rules_claims::invoice_reused(p, &claim).await?);
                out.extend(rules_claims::non_agreement_treatment(&claim));
                if let Some(injury) = &injury {
                    out.extend(rules_claims::fees_out_of_line(p, &claim, injury).await?);
                }
            }
        }
        "refusal" => out.extend(rules_conduct::refused(p, e).await?),
        _ => {}
    }
    Ok(out)
}

/// Raises each flag's alert once; answers how many were raised now.
///
/// # Errors
/// The store is unavailable.
pub async fn raise(p: &Platform, job: &str, flags: Vec<Flag>) -> Result<usize, ApiError> {
    let actor = job_actor(job, "系统：风险提示规则");
    let mut n = 0;
    for f in flags {
        if raise_once(p, &actor, &f.alert(p)).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// What a walk over the ledger does with each event.
#[async_trait::async_trait]
pub trait Reader: Send + Sync {
    /// Reads one event: answers what it made of it (alerts raised, figures moved).
    ///
    /// # Errors
    /// The store is unavailable, or a record no longer reads.
    async fn read(&self, p: &Platform, e: &Event) -> Result<u64, ApiError>;
}

/// The risk rules as a reader: each event's flags raised as alerts by `job`.
pub struct Rules(pub &'static str);

#[async_trait::async_trait]
impl Reader for Rules {
    async fn read(&self, p: &Platform, e: &Event) -> Result<u64, ApiError> {
        Ok(raise(p, self.0, on_event(p, e).await?).await? as u64)
    }
}

/// How far a walk over the ledger got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cursor {
    /// The day being read.
    #[schema(value_type = Option<String>)]
    pub day: Option<NaiveDate>,
    /// The last event read that day (its index sort key).
    pub after: String,
    /// Events read in all.
    pub events: u64,
    /// What the reader made of them in all (alerts raised, figures moved).
    pub raised: u64,
}

fn cursor_key(job: &str) -> Key {
    Key::new(format!("watch#{job}"), "cursor")
}

/// A walk's cursor and its version.
///
/// # Errors
/// The store is unavailable.
pub async fn cursor(p: &Platform, job: &str) -> Result<Option<(Cursor, u64)>, ApiError> {
    p.state
        .get(&cursor_key(job))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// Walks the ledger from `job`'s cursor (first: from `start`) up to now less `lag` seconds, until
/// `deadline`, giving each event to `reader`. Answers the events read, what the reader made of
/// them, and whether it caught up.
///
/// # Errors
/// The store is unavailable, a rule failed, or another run moved the cursor meanwhile.
pub async fn walk(
    p: &Platform,
    job: &str,
    start: NaiveDate,
    lag: i64,
    deadline: Instant,
    reader: &dyn Reader,
) -> Result<(u64, u64, bool), ApiError> {
    let today = p.clock.today();
    let horizon = (p.clock.now() - TimeDelta::seconds(lag)).to_rfc3339();
    let (mut c, mut version) = match cursor(p, job).await? {
        Some((c, v)) => (c, Some(v)),
        None => (
            Cursor {
                day: Some(start),
                ..Cursor::default()
            },
            None,
        ),
    };
    let (mut events, mut raised) = (0, 0);
    loop {
        let day = c.day.unwrap_or(start);
        let range = if c.after.is_empty() {
            SkRange::All
        } else {
            SkRange::From(c.after.clone())
        };
        let page = p
            .state
            .query_index(
                Index::Gsi1,
                &Query::partition(format!("audit-day#{day}"))
                    .range(range)
                    .limit(PAGE),
            )
            .await?;
        let full = page.items.len() >= PAGE as usize;
        let mut moved = false;
        let mut waiting = false;
        for item in page.items {
            let Some(sk) = item.gsi1.as_ref().map(|k| k.sk.clone()) else {
                continue;
            };
            if sk <= c.after {
                continue;
            }
            let e: Event = item.body().map_err(|err| ApiError::internal(&err))?;
            if lag > 0 && e.at > horizon {
                waiting = true;
                break;
            }
            let n = reader.read(p, &e).await?;
            raised += n;
            events += 1;
            c.events += 1;
            c.raised += n;
            c.after = sk;
            moved = true;
        }
        let next_day = !full && !waiting && day < today;
        if next_day {
            c.day = day.succ_opt();
            c.after.clear();
            moved = true;
        }
        if moved {
            let k = cursor_key(job);
            p.state
                .transact(vec![TxOp::Put {
                    item: Item::new(k.pk, k.sk, &c)?,
                    condition: version.map_or(Condition::NotExists, Condition::VersionIs),
                }])
                .await?;
            version = Some(version.map_or(1, |v| v + 1));
        }
        let caught_up = waiting || (!full && !next_day);
        if caught_up {
            return Ok((events, raised, true));
        }
        if Instant::now() >= deadline {
            return Ok((events, raised, false));
        }
    }
}

/// The watch over every change.
pub struct RiskWatch;

#[async_trait::async_trait]
impl Job for RiskWatch {
    fn name(&self) -> &'static str {
        WATCH
    }

    fn describe(&self) -> &'static str {
        "runs the risk rules on every change as the audit ledger records it, raising alerts (Art. 42-44)"
    }

    fn wake(&self) -> Wake {
        Wake::Ledger
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let (events, raised, caught_up) =
            walk(p, WATCH, p.clock.today(), LAG_SECS, deadline, &Rules(WATCH)).await?;
        Ok(Report {
            job: WATCH,
            done: usize::try_from(events).unwrap_or(usize::MAX),
            pending: usize::from(!caught_up),
            errors: Vec::new(),
            summary: format!("{events} change(s) read, {raised} alert(s) raised"),
            detail: json!({ "events": events, "raised": raised, "caught_up": caught_up }),
        })
    }
}

/// The nightly sweep.
pub struct RiskSweep;

#[async_trait::async_trait]
impl Job for RiskSweep {
    fn name(&self) -> &'static str {
        SWEEP
    }

    fn describe(&self) -> &'static str {
        "runs the risk rules again over the ledger since the last sweep, and the rules that wait on time (Art. 42-44)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 3 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let today = p.clock.today();
        let start = today.pred_opt().unwrap_or(today);
        let (events, raised, caught_up) = walk(p, SWEEP, start, 0, deadline, &Rules(SWEEP)).await?;
        let mut units = raise(
            p,
            SWEEP,
            rules_registry::units_not_enrolled(p, today).await?,
        )
        .await?;
        let actor = job_actor(SWEEP, "系统：风险提示规则");
        for alert in crate::plan::overdue(p, today).await? {
            units += usize::from(raise_once(p, &actor, &alert).await?);
        }
        Ok(Report {
            job: SWEEP,
            done: usize::try_from(events).unwrap_or(usize::MAX) + units,
            pending: usize::from(!caught_up),
            errors: Vec::new(),
            summary: format!(
                "{events} change(s) read again, {} alert(s) raised",
                raised as usize + units
            ),
            detail: json!({ "events": events, "raised": raised, "waiting_on_time": units, "caught_up": caught_up }),
        })
    }
}
