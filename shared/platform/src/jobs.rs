//! Jobs: work bigger than one transaction, done a transaction at a time from a pointer that
//! says how far it got, so that a run killed at any point loses nothing and the next run goes on
//! from there. Every step's jobs implement [`Job`]; three hosts run them: `swi run <job>` (once,
//! on the configured store), the `swi serve` worker (woken every few seconds), and in AWS the one
//! `JobsFunction` (`functions/jobs`), woken by the table's stream when a `jobs#<name>` pointer is
//! written and by the schedules (see [`Wake`] and [`woken`]).

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use swi_domain::{Actor, Jurisdiction, Role};

use crate::{ApiError, Platform};

/// What wakes a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A write of one of its pointers (partition `jobs#<name>`), and the regular sweep.
    Pointer,
    /// Once a day (China time) at the hour given, and when asked by name.
    Daily {
        /// The hour, 0-23.
        hour: u8,
    },
    /// Every change: a write of any case's audit event (a stream record of an `audit#`
    /// partition), the regular sweep, and every round of the `swi serve` worker. For the jobs
    /// that follow the audit ledger (the risk rules' watch).
    Ledger,
}

/// What a run of a job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The job.
    pub job: &'static str,
    /// Units of work done in this run (rows, members, pointers…; `summary` says which).
    pub done: usize,
    /// Pieces of work left for a later run (the deadline came, or another run holds them).
    pub pending: usize,
    /// Pieces that failed, each `id: code`; they are retried by the next run.
    pub errors: Vec<String>,
    /// One line for a person: what was done.
    pub summary: String,
    /// The job's own figures.
    pub detail: Value,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.job, self.summary)?;
        if !self.errors.is_empty() {
            write!(f, "; failed: {}", self.errors.join(", "))?;
        }
        Ok(())
    }
}

/// A job.
#[async_trait::async_trait]
pub trait Job: Send + Sync {
    /// Its name (`declaration-apply`): the command `swi run <name>`, and its pointers'
    /// partition `jobs#<name>` when it is [`Wake::Pointer`].
    fn name(&self) -> &'static str;

    /// One sentence on what it does, with its article.
    fn describe(&self) -> &'static str;

    /// What wakes it.
    fn wake(&self) -> Wake;

    /// Runs until every piece of work is done or `deadline` has passed (at least one
    /// transaction of work is always made, so that a short deadline still moves).
    ///
    /// # Errors
    /// The store is unavailable (a piece's own failure is reported in [`Report::errors`]).
    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError>;
}

/// The partition of a pointer-woken job's pointers.
#[must_use]
pub fn pointer_partition(job: &str) -> String {
    format!("jobs#{job}")
}

/// The actor a job's audit events name: `job:<name>`, an operator of the city.
#[must_use]
pub fn job_actor(job: &str, display: impl Into<String>) -> Actor {
    Actor {
        sub: format!("job:{job}"),
        role: Role::Operator,
        jurisdiction: Jurisdiction::City,
        name: display.into(),
        unit: None,
    }
}

/// Which jobs an event wakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Woken {
    /// DynamoDB stream records: the pointer-woken jobs whose `jobs#<name>` partitions were
    /// written (names, deduplicated, in order of first appearance).
    Pointers(Vec<String>),
    /// DynamoDB stream records among which are audit events (changes): the pointer jobs named,
    /// and every job that follows the ledger.
    Changes(Vec<String>),
    /// The regular sweep (a schedule with `{"sweep": true}`): every pointer-woken job, in case
    /// a stream record was lost.
    Sweep,
    /// A schedule that names one job (`{"job": "retirement-check"}`).
    Named(String),
    /// An S3 event: objects were created in the document bucket (each registered as stored),
    /// then the pointer sweep.
    Documents(Vec<StoredObject>),
}

/// An object the bucket's event says was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredObject {
    /// Its key, decoded (S3 sends it URL-encoded, a space as `+`).
    pub key: String,
    /// Its length.
    pub size: u64,
    /// The event (`ObjectCreated:Put`, `ObjectCreated:Copy`, …).
    pub event: String,
    /// When (the event's time).
    pub at: String,
    /// Its version, in a versioned bucket.
    pub version: Option<String>,
}

/// An S3 event record's key, decoded: `+` is a space, then percent-decoding (UTF-8).
#[must_use]
pub fn s3_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Reads an invocation's event: DynamoDB stream records, an EventBridge Scheduler event (its
/// input as the template sets it: `{"job": …}` for a daily job, `{"sweep": true}` for the
/// sweep), S3 records, or an S3 event delivered by EventBridge (`Object Created`).
///
/// # Errors
/// An event of none of these shapes (the invocation fails and shows).
pub fn woken(event: &Value) -> Result<Woken, String> {
    if let Some(records) = event.get("Records").and_then(Value::as_array) {
        let mut jobs: Vec<String> = Vec::new();
        let mut documents = Vec::new();
        let mut changes = false;
        for r in records {
            match r.get("eventSource").and_then(Value::as_str) {
                Some("aws:dynamodb") => {
                    let pk = r
                        .pointer("/dynamodb/Keys/pk/S")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if let Some(name) = pk.strip_prefix("jobs#")
                        && !jobs.iter().any(|j| j == name)
                    {
                        jobs.push(name.to_owned());
                    }
                    changes |= pk.starts_with("audit#");
                }
                Some("aws:s3") => {
                    let event = r
                        .get("eventName")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    // Only creations register; a removal (the lifecycle rule's) is not a
                    // document arriving.
                    if event.starts_with("ObjectCreated:") {
                        documents.push(StoredObject {
                            key: s3_key(
                                r.pointer("/s3/object/key")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default(),
                            ),
                            size: r
                                .pointer("/s3/object/size")
                                .and_then(Value::as_u64)
                                .unwrap_or(0),
                            event: event.to_owned(),
                            at: r
                                .get("eventTime")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            version: r
                                .pointer("/s3/object/versionId")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        });
                    }
                }
                other => return Err(format!("an event record from {other:?}")),
            }
        }
        let s3 = records
            .iter()
            .any(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:s3"));
        return Ok(if jobs.is_empty() && s3 {
            Woken::Documents(documents)
        } else if changes {
            Woken::Changes(jobs)
        } else {
            Woken::Pointers(jobs)
        });
    }
    // The bucket's notifications through EventBridge (the template's way: a direct S3
    // notification would make the bucket depend on the function that depends on the bucket).
    if event.get("source").and_then(Value::as_str) == Some("aws.s3") {
        if event.get("detail-type").and_then(Value::as_str) != Some("Object Created") {
            return Ok(Woken::Documents(Vec::new()));
        }
        let reason = event
            .pointer("/detail/reason")
            .and_then(Value::as_str)
            .unwrap_or("Put");
        let key = event
            .pointer("/detail/object/key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or("an S3 Object Created event without its object's key")?;
        return Ok(Woken::Documents(vec![StoredObject {
            // EventBridge sends the key as it is, not URL-encoded.
            key: key.to_owned(),
            size: event
                .pointer("/detail/object/size")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            event: format!("ObjectCreated:{reason}"),
            at: event
                .get("time")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            version: event
                .pointer("/detail/object/version-id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }]));
    }
    if let Some(job) = event.get("job").and_then(Value::as_str) {
        return Ok(Woken::Named(job.to_owned()));
    }
    if event.get("sweep").is_some() {
        return Ok(Woken::Sweep);
    }
    Err("an event that is neither stream records, a schedule nor S3 records".into())
}

/// The jobs of `all` that an event wakes: pointer jobs by name (a stream record of an unknown
/// `jobs#` partition is an error that shows), with every ledger job when changes were written;
/// every pointer and ledger job for the sweep; one job by name.
///
/// # Errors
/// A job name no job has.
pub fn select<'a>(all: &'a [Box<dyn Job>], woken: &Woken) -> Result<Vec<&'a dyn Job>, String> {
    let by_name = |n: &str| {
        all.iter()
            .map(AsRef::as_ref)
            .find(|j| j.name() == n)
            .ok_or_else(|| format!("no job is called `{n}`"))
    };
    let pointers = |names: &[String]| -> Result<Vec<&'a dyn Job>, String> {
        names
            .iter()
            .map(|n| {
                let j = by_name(n)?;
                if j.wake() == Wake::Pointer {
                    Ok(j)
                } else {
                    Err(format!("`{n}` is not woken by pointers"))
                }
            })
            .collect()
    };
    let ledger = || {
        all.iter()
            .map(AsRef::as_ref)
            .filter(|j| j.wake() == Wake::Ledger)
    };
    match woken {
        Woken::Pointers(names) => pointers(names),
        Woken::Changes(names) => {
            let mut jobs = pointers(names)?;
            jobs.extend(ledger());
            Ok(jobs)
        }
        Woken::Named(n) => Ok(vec![by_name(n)?]),
        Woken::Documents(_) | Woken::Sweep => Ok(all
            .iter()
            .map(AsRef::as_ref)
            .filter(|j| matches!(j.wake(), Wake::Pointer | Wake::Ledger))
            .collect()),
    }
}

/// What a walk over a job's pointers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Pointers found.
    pub waiting: usize,
    /// Units of work done (what the work function counted).
    pub done: usize,
    /// Pointers whose work finished.
    pub finished: usize,
    /// Pointers left for a later run (the deadline came, or another run holds them).
    pub pending: usize,
}

/// Walks the pointers of the pointer-woken job `job`, handing each one's sort key to `work`
/// (which returns the units of work it did and whether that pointer's work is finished), until
/// the pointers run out; once `deadline` has passed, pointers not yet reached are left pending
/// (but the first is always worked, so a short deadline still moves).
///
/// # Errors
/// The store is unavailable, or `work` fails.
pub async fn walk_pointers<F, Fut>(
    p: &Platform,
    job: &str,
    deadline: Instant,
    mut work: F,
) -> Result<Tally, ApiError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(usize, bool), ApiError>>,
{
    let waiting = p
        .state
        .query_all(&swi_store::Query::partition(pointer_partition(job)).limit(200))
        .await?;
    let mut tally = Tally {
        waiting: waiting.len(),
        ..Tally::default()
    };
    for item in waiting {
        if Instant::now() >= deadline && tally.done > 0 {
            tally.pending += 1;
            continue;
        }
        let (n, finished) = work(item.sk).await?;
        tally.done += n;
        if finished {
            tally.finished += 1;
        } else {
            tally.pending += 1;
        }
    }
    Ok(tally)
}

/// Runs `jobs` one after another until each is done or `deadline`; a job that cannot reach the
/// store ends the run with its error, the others' reports kept.
///
/// # Errors
/// The first job that could not run, with the reports of those that did.
pub async fn run_all(
    p: &Platform,
    jobs: &[&dyn Job],
    deadline: Instant,
) -> Result<Vec<Report>, (Vec<Report>, ApiError)> {
    let mut reports = Vec::with_capacity(jobs.len());
    for job in jobs {
        match job.run(p, deadline).await {
            Ok(r) => reports.push(r),
            Err(e) => return Err((reports, e)),
        }
    }
    Ok(reports)
}
