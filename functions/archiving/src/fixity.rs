//! The fixity job (固化信息有效性, DA/T 70; long-term preservation): a scheduled, resumable walk
//! that re-hashes every archived document — SHA-256 against its name, as many at a time as
//! there are cores (its SHA-512, in the manifests, is checked by the four checks) — records a
//! preservation event for each check, and raises an alert the supervisor sees on any document
//! whose bytes no longer hash to its name or that is gone.
//!
//! Each run is a round: the run record (`archive-fixity` / `round`) holds its number; documents
//! are found oldest round first (the index `fixity`, `<round>#<sha256>`), and each check moves
//! its document to the current round in the transaction that records it. A run stopped anywhere
//! goes on with the documents still in earlier rounds and never re-hashes one it finished; the
//! oldest round left says how stale the least recently checked document is.

use std::time::Instant;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_platform::alerts::{Alert, AlertStatus, alert_key, raise};
use swi_platform::jobs::{Job, Report, Wake, job_actor};
use swi_platform::mutation::audit_ops;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Index, Item, Key, Query, Sha256, SkRange, StateError, TxOp};

use crate::model::{FIXITY_INDEX, Fixity, Outcome, fixity_put};

/// The job's name.
pub const NAME: &str = "fixity";

/// Documents checked per transaction (two writes each, and an alert's three at most).
const BATCH: usize = 16;

/// A fixity round, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Round {
    /// Its number (1, 2, …).
    pub round: u64,
    /// When it started.
    #[schema(value_type = String)]
    pub started_at: NaiveDateTime,
    /// When it finished, once it has.
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<NaiveDateTime>,
    /// Documents checked.
    pub checked: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Documents whose bytes no longer hash to their name.
    pub mismatched: u64,
    /// Documents gone.
    pub missing: u64,
}

fn round_key() -> Key {
    Key::new("archive-fixity", "round")
}

/// The current (or last) round.
///
/// # Errors
/// 503 the store.
pub async fn current(p: &Platform) -> Result<Option<(Round, u64)>, ApiError> {
    p.state
        .get(&round_key())
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// One preservation event: a document checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The document.
    pub sha256: String,
    /// The round.
    pub round: u64,
    /// When.
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    /// What was found.
    pub outcome: Outcome,
    /// What its bytes hash to, when read.
    pub actual: Option<String>,
}

/// The oldest check of any archived document: its round, its time, and its document.
///
/// # Errors
/// 503 the store.
pub async fn oldest(p: &Platform) -> Result<Option<Fixity>, ApiError> {
    let page = p
        .state
        .query_index(Index::Gsi1, &Query::partition(FIXITY_INDEX).limit(1))
        .await?;
    page.items
        .first()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// The job.
pub struct FixityJob;

#[async_trait::async_trait]
impl Job for FixityJob {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "re-hashes every archived document, records a preservation event for each, alerts on any mismatch (DA/T 70)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 5 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let (mut round, mut version) = match current(p).await? {
            Some((r, v)) if r.finished_at.is_none() => (r, Some(v)),
            Some((r, v)) => (fresh(p, r.round + 1), Some(v)),
            None => (fresh(p, 1), None),
        };
        let mut report = Report {
            job: NAME,
            ..Report::default()
        };
        loop {
            let page = p
                .state
                .query_index(
                    Index::Gsi1,
                    &Query::partition(FIXITY_INDEX)
                        .range(SkRange::To(format!("{:010}#~", round.round - 1)))
                        .limit(u32::try_from(BATCH).unwrap_or(16)),
                )
                .await?;
            let batch: Vec<(Fixity, u64)> = page
                .items
                .iter()
                .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
                .collect::<Result<_, ApiError>>()?;
            if batch.is_empty() {
                round.finished_at = Some(p.clock.now().naive_local());
            }
            let mut ops = Vec::new();
            let checked = check_all(p, &batch).await?;
            let now = p.clock.now().naive_local();
            let mut alerts = Vec::new();
            for ((fx, v), (outcome, actual, bytes)) in batch.iter().zip(checked) {
                // Destroyed with its volume (鉴定销毁) since it was found: no longer checked.
                if outcome == Outcome::Missing
                    && p.state
                        .get(&crate::model::destroyed_key(&fx.sha256))
                        .await?
                        .is_some()
                {
                    ops.push(TxOp::Delete {
                        key: crate::model::fixity_key(&fx.sha256),
                        condition: Condition::VersionIs(*v),
                    });
                    continue;
                }
                round.checked += 1;
                round.bytes += bytes;
                match outcome {
                    Outcome::Mismatch => round.mismatched += 1,
                    Outcome::Missing => round.missing += 1,
                    Outcome::Intact => {}
                }
                let mut next = fx.clone();
                next.round = round.round;
                next.verified_at = now;
                next.outcome = outcome;
                ops.push(fixity_put(&next, Condition::VersionIs(*v))?);
                let event = Event {
                    sha256: fx.sha256.clone(),
                    round: round.round,
                    at: now,
                    outcome,
                    actual: actual.clone(),
                };
                ops.push(TxOp::Put {
                    item: Item::new(
                        format!("doc#{}", fx.sha256),
                        format!("event#{}#fixity", now.format("%Y-%m-%dT%H:%M:%S%.6f")),
                        &event,
                    )?,
                    condition: Condition::None,
                });
                if outcome != Outcome::Intact {
                    alerts.push((fx.sha256.clone(), outcome, actual));
                }
            }
            let mut audit = Vec::new();
            for (sha, outcome, actual) in alerts {
                let alert = Alert {
                    id: format!("fixity:{sha}"),
                    kind: "document_fixity".into(),
                    subject: format!("doc#{sha}"),
                    county: None,
                    evidence: json!({ "outcome": outcome, "actual": actual, "round": round.round }),
                    raised_by: format!("job:{NAME}"),
                    raised_at: p.clock.now(),
                    status: AlertStatus::Open,
                    assignee: None,
                    zh: match outcome {
                        Outcome::Missing => format!("存档文件 {sha} 已不在文件库中"),
                        _ => format!("存档文件 {sha} 的内容已改变，与其摘要不符"),
                    },
                    en: format!("archived document {sha}: {outcome:?}"),
                    ..Alert::default()
                };
                // One alert per document: raised once, worked in the register.
                if p.state.get(&alert_key(&alert.id)).await?.is_none() {
                    let (op, a) = raise(&alert)?;
                    ops.push(op);
                    audit.push(a);
                }
            }
            if !audit.is_empty() {
                ops.extend(audit_ops(p, &job_actor(NAME, "存档文件固化检测"), &audit).await?);
            }
            let k = round_key();
            ops.push(TxOp::Put {
                item: Item::new(k.pk, k.sk, &round)?,
                condition: version.map_or(Condition::NotExists, Condition::VersionIs),
            });
            match p.state.transact(ops).await {
                Ok(()) => version = Some(version.map_or(1, |v| v + 1)),
                Err(StateError::Conflict { .. }) => {
                    report.pending += 1;
                    report.summary = "another run is checking".into();
                    return Ok(report);
                }
                Err(e) => return Err(e.into()),
            }
            report.done += batch.len();
            if round.finished_at.is_some() {
                break;
            }
            if Instant::now() > deadline {
                report.pending += 1;
                break;
            }
        }
        report.summary = format!(
            "round {}: checked {}, mismatched {}, missing {}{}",
            round.round,
            round.checked,
            round.mismatched,
            round.missing,
            if round.finished_at.is_some() {
                ", finished"
            } else {
                ""
            }
        );
        report.detail = serde_json::to_value(&round).map_err(|e| ApiError::internal(&e))?;
        if round.mismatched + round.missing > 0 {
            report.errors.push(format!(
                "round {}: {} documents failed their fixity check (alerts raised)",
                round.round,
                round.mismatched + round.missing
            ));
        }
        Ok(report)
    }
}

fn fresh(p: &Platform, round: u64) -> Round {
    Round {
        round,
        started_at: p.clock.now().naive_local(),
        finished_at: None,
        checked: 0,
        bytes: 0,
        mismatched: 0,
        missing: 0,
    }
}

/// Checks a batch, as many at once as the machine has cores: each outcome, what the bytes hash
/// to, and the bytes read.
async fn check_all(
    p: &Platform,
    batch: &[(Fixity, u64)],
) -> Result<Vec<(Outcome, Option<String>, u64)>, ApiError> {
    let parallel = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = Vec::new();
    for (fx, _) in batch {
        let (p, fx, gate) = (p.clone(), fx.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            let sha = Sha256::parse(&fx.sha256).map_err(|e| ApiError::internal(&e))?;
            // One hash per byte: the store's own SHA-256 check as the bytes pass; what a
            // changed document hashes to is worked out only when it has changed.
            Ok::<_, ApiError>(match crate::hashing::verify(&p, &sha).await? {
                None => (Outcome::Missing, None, 0),
                Some((true, size)) => (Outcome::Intact, Some(fx.sha256.clone()), size),
                Some((false, size)) => match crate::hashing::hash(&p, &sha).await? {
                    Some(h) => (Outcome::Mismatch, Some(h.sha256), h.size),
                    None => (Outcome::Missing, None, size),
                },
            })
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.map_err(|e| ApiError::internal(&e))??);
    }
    Ok(out)
}

/// The fixity of the archive as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FixityStatus {
    /// The current or last round.
    pub round: Option<Round>,
    /// The least recently checked document's last check.
    #[schema(value_type = Option<String>)]
    pub oldest_check: Option<NaiveDateTime>,
    /// Its age in days (today, China time).
    pub oldest_days: Option<i64>,
}

/// `GET /api/archive/fixity`: the current round and how stale the least recently checked
/// document is.
///
/// # Errors
/// 403 not an archivist or supervisor; 503.
#[utoipa::path(get, path = "/api/archive/fixity", tag = "archive",
    responses((status = 200, description = "the archive's fixity", body = FixityStatus),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn status(
    axum::extract::State(p): axum::extract::State<Platform>,
    swi_platform::auth::Authenticated(actor): swi_platform::auth::Authenticated,
) -> Result<axum::Json<FixityStatus>, ApiError> {
    actor.may(
        swi_domain::Action::ReadArchive,
        None,
        swi_domain::access::Owner::Nobody,
    )?;
    let round = current(&p).await?.map(|(r, _)| r);
    let oldest = oldest(&p).await?;
    let today = p.clock.today();
    Ok(axum::Json(FixityStatus {
        round,
        oldest_check: oldest.as_ref().map(|f| f.verified_at),
        oldest_days: oldest.map(|f| (today - f.verified_at.date()).num_days()),
    }))
}
