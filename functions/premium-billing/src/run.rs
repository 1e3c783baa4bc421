//! The monthly run (Art. 16-19: 补充工伤保险费按月缴费): one bill per unit for its staff, a line
//! per person billed, and one bill per self-paying worker, for a month.
//!
//! A month is *opened* once (`billing-run#<YYYY-MM>`, with the job's pointer
//! `jobs#billing/<YYYY-MM>`); opening it again writes nothing. The job then walks the counties'
//! units in code order and each unit's roster in enrolment order, then the units noted as having
//! moved county that the walk did not meet, then each county's self-payers, and writes a
//! transaction at a time: the lines, the bills completed, their audit events and the run's cursor,
//! conditioned on the run's version. The next transaction is made while the last is written, and
//! issued only once that one is known written. A run killed anywhere loses nothing and bills
//! nobody twice: the next run goes on from the cursor of the last transaction, and keys are made
//! of the month and the payer, so a bill is written once. Nothing is read per person: rosters are
//! read a page at a time (the next unit's while one is billed), and every line is one write.

use std::time::Instant;

use futures_util::StreamExt;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_bills::bill::enrolment_bill_id;
use swi_bills::issue::{Heading, Issuer, Totals, assemble, bill_ops, issued, line_op};
use swi_bills::lines::{Rating, line};
use swi_bills::{BillKind, Payer};
use swi_domain::access::Owner;
use swi_domain::{Action, Actor};
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, Change, opening_ops};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_registry::enrolment::{Member, self_payers_pk};
use swi_registry::unit::Unit;
use swi_rules::billing::{MonthTable, month_of};
use swi_rules::category::IndustryClass;
use swi_rules::ids::{County, GANZHOU_COUNTIES};
use swi_rules::premium::band_allowed;
use swi_store::state::MAX_TRANSACTION_OPS;
use swi_store::{Condition, Index, Item, Key, Query, SkRange, StateError, TxOp};

/// The job that works opened months (`swi run billing --month YYYY-MM`).
pub const NAME: &str = "billing";

/// The daily job that opens the current month.
pub const OPEN: &str = "billing-open";

/// Operations a run's transaction gives to lines and bills: DynamoDB's 100, less the run's own
/// record, the job's pointer and the run's closing audit event.
pub const BUDGET: usize = MAX_TRANSACTION_OPS - 3;

/// Operations a bill takes besides its lines: the bill, its place in the payer's list and among
/// the unpaid, and its audit event.
pub const BILL_OPS: usize = 4;

/// Exceptions kept on a run (more are counted).
pub const EXCEPTIONS_KEPT: usize = 200;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Billing.
    Running,
    /// Every unit and self-payer billed.
    Done,
}

/// Which payers a run is billing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Units, county by county.
    Units,
    /// Units that moved county during the month and were not met in the walk (moved into a
    /// county already walked).
    MovedUnits,
    /// Self-paying workers, county by county.
    SelfPayers,
    /// Finished.
    Done,
}

/// A unit part-billed when a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partial {
    /// The unit.
    pub unit: String,
    /// The last roster entry dealt with.
    pub after: Option<String>,
    /// The bill's totals so far.
    pub totals: Totals,
}

/// How far a run got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The payers being billed.
    pub phase: Phase,
    /// The county (index into Ganzhou's list); among the moved units, the month of their notes
    /// (months after the run's).
    pub county: usize,
    /// The last unit (or self-payer's enrolment) of the county done.
    pub after: Option<String>,
    /// The unit part-billed.
    pub partial: Option<Partial>,
}

/// Something a run could not bill, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Exception {
    /// The unit or the enrolment.
    pub subject: String,
    /// County.
    #[schema(value_type = String)]
    pub county: County,
    /// Why.
    pub reason: String,
}

/// A month's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Run {
    /// The month (its first day).
    pub month: NaiveDate,
    /// Status.
    pub status: RunStatus,
    /// When it was opened (China time).
    pub opened_at: NaiveDateTime,
    /// By whom.
    pub opened_by: String,
    /// Units registered when it was opened (for the progress shown).
    pub units_total: u64,
    /// Units dealt with.
    pub units_done: u64,
    /// Self-payers dealt with.
    pub self_payers_done: u64,
    /// Persons billed (lines written).
    pub persons: u64,
    /// Bills written.
    pub bills: u64,
    /// Their amount.
    pub amount: Decimal,
    /// Transactions written.
    pub transactions: u64,
    /// What could not be billed.
    pub exceptions: Vec<Exception>,
    /// Exceptions beyond those kept.
    pub exceptions_more: u64,
    /// When it finished.
    pub finished_at: Option<NaiveDateTime>,
    /// Where it stands.
    #[schema(value_type = Object)]
    pub position: Position,
}

pub use swi_bills::bill::run_key;

fn run_case(month: NaiveDate) -> String {
    format!("billing-run#{}", month.format("%Y-%m"))
}

fn pointer_key(month: NaiveDate) -> Key {
    Key::new(
        jobs::pointer_partition(NAME),
        month.format("%Y-%m").to_string(),
    )
}

fn run_item(run: &Run) -> Result<Item, ApiError> {
    let k = run_key(run.month);
    Ok(
        Item::new(k.pk, k.sk, run)?
            .with_gsi1("billing-runs", run.month.format("%Y-%m").to_string()),
    )
}

/// A month's run, if opened, and its version.
///
/// # Errors
/// The store is unavailable.
pub async fn load_run(p: &Platform, month: NaiveDate) -> Result<Option<(Run, u64)>, ApiError> {
    p.state
        .get(&run_key(month_of(month)))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// The runs, newest first.
///
/// # Errors
/// The store is unavailable.
pub async fn runs(p: &Platform, limit: u32) -> Result<Vec<Run>, ApiError> {
    p.state
        .query_index(
            Index::Gsi1,
            &Query::partition("billing-runs").backward().limit(limit),
        )
        .await?
        .items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// Checks that `month` can be billed on `today`: within the scheme, and begun.
///
/// # Errors
/// 422 a month in the future or before the scheme.
pub fn billable(
    p: &Platform,
    params: &swi_rules::ParamSet,
    month: NaiveDate,
) -> Result<(), ApiError> {
    let month = month_of(month);
    if month > month_of(p.clock.today()) {
        return Err(ApiError::refused(
            ErrorCode::MonthInFuture,
            "尚未开始的月份不能核定应缴额（第十六条、第十九条）",
            format!(
                "{} has not begun; a month is billed from its first day (Art. 16, 19)",
                month.format("%Y-%m")
            ),
        ));
    }
    MonthTable::new(params, month)?;
    Ok(())
}

async fn count_units(p: &Platform) -> Result<u64, ApiError> {
    let mut n = 0u64;
    for (code, _) in GANZHOU_COUNTIES {
        let mut q = Query::partition(format!("units#{code}")).limit(1000);
        loop {
            let page = p.state.query_index(Index::Gsi1, &q).await?;
            n += page.items.len() as u64;
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(n)
}

/// The change opening `month`'s run (its record, the job's pointer, the audit event), or `None`
/// when it was opened before (running it again writes nothing).
///
/// # Errors
/// 403 an actor who may not run jobs; 422 the month is in the future or before the scheme.
pub async fn open_change(
    p: &Platform,
    actor: &Actor,
    month: NaiveDate,
) -> Result<Option<Change>, ApiError> {
    actor.may(Action::RunJobs, None, Owner::Nobody)?;
    let month = month_of(month);
    let params = p.params().await?;
    billable(p, &params, month)?;
    if let Some((run, _)) = load_run(p, month).await? {
        let _ = run;
        return Ok(None);
    }
    let run = Run {
        month,
        status: RunStatus::Running,
        opened_at: p.clock.now().naive_local(),
        opened_by: actor.name.clone(),
        units_total: count_units(p).await?,
        units_done: 0,
        self_payers_done: 0,
        persons: 0,
        bills: 0,
        amount: Decimal::ZERO,
        transactions: 0,
        exceptions: Vec::new(),
        exceptions_more: 0,
        finished_at: None,
        position: Position {
            phase: Phase::Units,
            county: 0,
            after: None,
            partial: None,
        },
    };
    let pk = pointer_key(month);
    let ops = vec![
        TxOp::Put {
            item: run_item(&run)?,
            condition: Condition::NotExists,
        },
        TxOp::Put {
            item: Item::new(pk.pk, pk.sk, &json!({ "month": month, "persons": 0 }))?,
            condition: Condition::None,
        },
    ];
    Ok(Some(Change {
        ops,
        audit: vec![Audit {
            case: run_case(month),
            command: "billing.open".into(),
            change: json!({ "month": month, "units": run.units_total, "basis": "Art. 16, 19" }),
        }],
        status: axum::http::StatusCode::ACCEPTED,
        response: serde_json::to_value(&run).map_err(|e| ApiError::internal(&e))?,
    }))
}

/// Opens `month`'s run unless it was opened before; answers the run and whether it was opened
/// now. For the job hosts (the API opens through `apply`, with an idempotency key).
///
/// # Errors
/// As [`open_change`].
pub async fn open(p: &Platform, actor: &Actor, month: NaiveDate) -> Result<(Run, bool), ApiError> {
    let opened = match open_change(p, actor, month).await? {
        None => false,
        Some(change) => {
            let mut ops = change.ops;
            ops.extend(opening_ops(p, actor, &change.audit)?);
            match p.state.transact(ops).await {
                Ok(()) => true,
                // Opened by someone else meanwhile: as good.
                Err(StateError::Conflict { .. }) => false,
                Err(e) => return Err(e.into()),
            }
        }
    };
    let (run, _) = load_run(p, month)
        .await?
        .ok_or_else(|| ApiError::internal(&"the run just opened is missing"))?;
    Ok((run, opened))
}

/// How a working run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worked {
    /// Persons billed in this run.
    pub persons: u64,
    /// Whether the month is now done.
    pub finished: bool,
    /// Whether another run was found working it (this one stood back).
    pub contended: bool,
}

/// What a transaction in the making holds.
#[derive(Default)]
struct Batch {
    ops: Vec<TxOp>,
    audit: Vec<Audit>,
    persons: u64,
    bills: u64,
    amount: Decimal,
    units: u64,
    self_payers: u64,
    exceptions: Vec<Exception>,
}

impl Batch {
    fn len(&self) -> usize {
        self.ops.len() + self.audit.len()
    }

    /// Whether the batch writes the item at `key`.
    fn writes(&self, key: &Key) -> bool {
        self.ops.iter().any(
            |op| matches!(op, TxOp::Put { item, .. } if item.pk == key.pk && item.sk == key.sk),
        )
    }

    fn is_empty(&self) -> bool {
        self.len() == 0 && self.units == 0 && self.self_payers == 0 && self.exceptions.is_empty()
    }
}

/// A month's run being worked: its record as last issued and the rest it needs.
struct Working<'a, 'p> {
    p: &'a Platform,
    /// The run as the last transaction issued writes it.
    run: Run,
    /// The run's version once that transaction is written.
    version: u64,
    table: MonthTable<'p>,
    actor: Actor,
    issuer: Issuer,
    deadline: Instant,
    worked: Worked,
    progress: &'a mut (dyn FnMut(&Run) + Send),
    /// The transaction being written while the next is made (one at most).
    in_flight: Option<InFlight>,
}

/// A transaction issued and not yet known written.
struct InFlight {
    written: tokio::task::JoinHandle<Result<(), StateError>>,
    run: Run,
    persons: u64,
}

enum Next {
    Go,
    Stop,
}

impl Working<'_, '_> {
    /// Waits for the transaction in flight, if any: `Stop` when another run had moved the
    /// month on (this one stands back).
    async fn settle(&mut self) -> Result<Next, ApiError> {
        let Some(f) = self.in_flight.take() else {
            return Ok(Next::Go);
        };
        let month = f.run.month;
        match f.written.await.map_err(|e| ApiError::internal(&e))? {
            Ok(()) => {}
            // Another run moved the month on: it goes on from there.
            Err(StateError::Conflict { key, .. }) if key == run_key(month) => {
                self.worked.contended = true;
                return Ok(Next::Stop);
            }
            // A bill written meanwhile by something else: stop and say so, never overwrite.
            Err(StateError::Conflict { key, .. }) => {
                return Err(ApiError::internal(&format_args!(
                    "billing {}: {key} was written meanwhile",
                    month.format("%Y-%m")
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.worked.persons += f.persons;
        self.worked.finished = f.run.status == RunStatus::Done;
        (self.progress)(&f.run);
        Ok(Next::Go)
    }

    /// Issues `batch` with the run's new position, conditioned on the run's version as the
    /// transaction before it leaves it; the next batch is made while it is written (the one
    /// before is waited for first, so a transaction is issued only after the one it follows is
    /// written). `Stop` when the deadline has passed (the pointer is rewritten so that the next
    /// run is woken) or another run holds the month; then nothing is left in flight.
    async fn commit(
        &mut self,
        batch: Batch,
        position: Position,
        finished: bool,
    ) -> Result<Next, ApiError> {
        if matches!(self.settle().await?, Next::Stop) {
            return Ok(Next::Stop);
        }
        let mut run = self.run.clone();
        run.position = position;
        run.persons += batch.persons;
        run.bills += batch.bills;
        run.amount += batch.amount;
        run.units_done += batch.units;
        run.self_payers_done += batch.self_payers;
        run.transactions += 1;
        for e in batch.exceptions {
            if run.exceptions.len() < EXCEPTIONS_KEPT {
                run.exceptions.push(e);
            } else {
                run.exceptions_more += 1;
            }
        }
        let out_of_time = Instant::now() >= self.deadline;
        let mut ops = batch.ops;
        let mut audit = batch.audit;
        let pk = pointer_key(run.month);
        if finished {
            run.status = RunStatus::Done;
            run.position.phase = Phase::Done;
            run.finished_at = Some(self.p.clock.now().naive_local());
            ops.push(TxOp::Delete {
                key: pk,
                condition: Condition::None,
            });
        } else if out_of_time {
            ops.push(TxOp::Put {
                item: Item::new(
                    pk.pk,
                    pk.sk,
                    &json!({ "month": run.month, "persons": run.persons }),
                )?,
                condition: Condition::None,
            });
        }
        let mut tx_ops = Vec::with_capacity(ops.len() + audit.len() + 2);
        tx_ops.append(&mut ops);
        tx_ops.extend(opening_ops(self.p, &self.actor, &audit)?);
        audit.clear();
        if finished {
            // The run's own trail has its opening event: chain onto it.
            tx_ops.extend(
                swi_platform::mutation::audit_ops(
                    self.p,
                    &self.actor,
                    &[Audit {
                        case: run_case(run.month),
                        command: "billing.finish".into(),
                        change: json!({
                            "persons": run.persons,
                            "bills": run.bills,
                            "amount": run.amount,
                            "exceptions": run.exceptions.len() as u64 + run.exceptions_more,
                        }),
                    }],
                )
                .await?,
            );
        }
        tx_ops.push(TxOp::Put {
            item: run_item(&run)?,
            condition: Condition::VersionIs(self.version),
        });
        let state = std::sync::Arc::clone(&self.p.state);
        self.in_flight = Some(InFlight {
            written: tokio::spawn(async move { state.transact(tx_ops).await }),
            run: run.clone(),
            persons: batch.persons,
        });
        self.version += 1;
        self.run = run;
        if out_of_time || finished {
            self.settle().await?;
            return Ok(Next::Stop);
        }
        Ok(Next::Go)
    }
}

/// The unit's rating for `month`: its class, and the band in force on the month's first day
/// (a re-rating takes effect from its date, Art. 15).
fn rating_of(unit: &Unit, month: NaiveDate) -> Result<Rating, String> {
    let class = IndustryClass::new(unit.industry_class)?;
    let band = unit.band_on(month);
    if !band_allowed(class, band) {
        return Err(format!(
            "band {band} does not exist for industry class {class} (Art. 13-15)"
        ));
    }
    Ok(Rating {
        class: Some(class),
        band: Some(band),
    })
}

fn counties() -> Vec<County> {
    GANZHOU_COUNTIES
        .iter()
        .filter_map(|(c, _)| County::parse(&c.to_string()).ok())
        .collect()
}

async fn units_after(
    p: &Platform,
    county: County,
    after: Option<&str>,
) -> Result<Vec<Unit>, ApiError> {
    let q = Query::partition(format!("units#{}", county.code()))
        .range(after.map_or(SkRange::All, |a| SkRange::From(a.to_owned())))
        .limit(100);
    p.state
        .query_index(Index::Gsi1, &q)
        .await?
        .items
        .iter()
        .map(|i| i.body::<Unit>().map_err(|e| ApiError::internal(&e)))
        .filter(|u| u.as_ref().map_or(true, |u| Some(u.code.as_str()) != after))
        .collect()
}

/// Roster entries read at a time.
const ROSTER_PAGE: u32 = 1000;

/// Self-payers read at a time.
const SELF_PAYERS_PAGE: u32 = 200;

/// A page of roster entries after `after`, and whether more follow it.
async fn entries_after(
    p: &Platform,
    pk: String,
    after: Option<String>,
    limit: u32,
) -> Result<(Vec<Member>, bool), ApiError> {
    let from = format!("member#{}", after.as_deref().unwrap_or_default());
    let q = Query::partition(pk)
        .range(SkRange::Between(from, "member$".into()))
        .limit(limit);
    let page = p.state.query_text(&q).await?;
    let mut out = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let m: Member = item.body().map_err(|e| ApiError::internal(&e))?;
        if Some(&m.id) != after.as_ref() {
            out.push(m);
        }
    }
    Ok((out, page.next.is_some()))
}

/// Works `month`'s run from where it stands until it is done or `deadline` passes (at least one
/// transaction is made); `progress` sees the run after each transaction.
///
/// # Errors
/// The store is unavailable; the month's parameters cannot be read.
pub async fn work(
    p: &Platform,
    month: NaiveDate,
    deadline: Instant,
    progress: &mut (dyn FnMut(&Run) + Send),
) -> Result<Worked, ApiError> {
    let month = month_of(month);
    let Some((run, version)) = load_run(p, month).await? else {
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(month),
                condition: Condition::None,
            }])
            .await?;
        return Ok(Worked {
            finished: true,
            ..Worked::default()
        });
    };
    if run.status == RunStatus::Done {
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(month),
                condition: Condition::None,
            }])
            .await?;
        return Ok(Worked {
            finished: true,
            ..Worked::default()
        });
    }
    let params = p.params().await?;
    let table = MonthTable::new(&params, month)?;
    let now = p.clock.now().naive_local();
    let mut w = Working {
        p,
        run,
        version,
        table,
        actor: jobs::job_actor(NAME, "定时任务：月度应缴额核定"),
        issuer: Issuer {
            at: now,
            by: format!("月度核定 {}", month.format("%Y-%m")),
        },
        deadline,
        worked: Worked::default(),
        progress,
        in_flight: None,
    };
    let walked = walk(&mut w).await;
    // Whatever happened, nothing is left being written when the run returns.
    let settled = w.settle().await;
    walked?;
    settled?;
    Ok(w.worked)
}

/// Walks the run's payers from where it stands (see [`work`]).
async fn walk(w: &mut Working<'_, '_>) -> Result<(), ApiError> {
    let counties = counties();
    let mut pos = w.run.position.clone();
    let mut batch = Batch::default();
    loop {
        match pos.phase {
            Phase::Done => {
                w.commit(batch, pos, true).await?;
                return Ok(());
            }
            Phase::MovedUnits => {
                if matches!(moved_units(w, &mut pos, &mut batch).await?, Next::Stop) {
                    return Ok(());
                }
            }
            Phase::Units | Phase::SelfPayers => {
                let Some(&county) = counties.get(pos.county) else {
                    pos = Position {
                        phase: if pos.phase == Phase::Units {
                            Phase::MovedUnits
                        } else {
                            Phase::Done
                        },
                        county: 0,
                        after: None,
                        partial: None,
                    };
                    continue;
                };
                let stop = if pos.phase == Phase::Units {
                    units_of_county(w, county, &mut pos, &mut batch).await?
                } else {
                    self_payers_of_county(w, county, &mut pos, &mut batch).await?
                };
                if matches!(stop, Next::Stop) {
                    return Ok(());
                }
            }
        }
    }
}

/// Bills the next page of a county's units from `pos` (moving to the next county when none is
/// left), committing whenever a transaction is full.
async fn units_of_county(
    w: &mut Working<'_, '_>,
    county: County,
    pos: &mut Position,
    batch: &mut Batch,
) -> Result<Next, ApiError> {
    let units = units_after(w.p, county, pos.after.as_deref()).await?;
    if units.is_empty() {
        pos.county += 1;
        pos.after = None;
        return Ok(Next::Go);
    }
    // Each unit's first roster page is read while the unit before it is billed and written.
    let resume = pos
        .partial
        .as_ref()
        .map(|pt| (pt.unit.clone(), pt.after.clone()));
    let p = w.p;
    let first_pages: Vec<_> = units
        .iter()
        .map(|u| {
            let after = resume
                .as_ref()
                .filter(|(code, _)| *code == u.code)
                .and_then(|(_, after)| after.clone());
            entries_after(p, format!("unit#{}", u.code), after, ROSTER_PAGE)
        })
        .collect();
    let mut first_pages = futures_util::stream::iter(first_pages).buffered(2);
    for unit in units {
        let first_page = first_pages
            .next()
            .await
            .ok_or_else(|| ApiError::internal(&"a roster page was not read"))??;
        if matches!(
            bill_unit(w, county, &unit, first_page, false, pos, batch).await?,
            Next::Stop
        ) {
            return Ok(Next::Stop);
        }
    }
    Ok(Next::Go)
}

/// Bills the next page of the units noted as moved (from the run's month to the current one:
/// a run may still be working after its month ended) that the walk did not bill, each looked up
/// first; then the self-payers. `pos.county` counts the months after the run's.
async fn moved_units(
    w: &mut Working<'_, '_>,
    pos: &mut Position,
    batch: &mut Batch,
) -> Result<Next, ApiError> {
    let month = u32::try_from(pos.county)
        .ok()
        .and_then(|n| w.table.month().checked_add_months(chrono::Months::new(n)))
        .filter(|m| *m <= month_of(w.p.clock.today()));
    let Some(month) = month else {
        *pos = Position {
            phase: Phase::SelfPayers,
            county: 0,
            after: None,
            partial: None,
        };
        return Ok(Next::Go);
    };
    let q = Query::partition(swi_bills::bill::moved_units_pk(month))
        .range(pos.after.clone().map_or(SkRange::All, SkRange::From))
        .limit(100);
    let page = w.p.state.query(&q).await?;
    for item in &page.items {
        if Some(&item.sk) == pos.after.as_ref() {
            continue;
        }
        let Some(unit) =
            w.p.state
                .get(&swi_registry::unit::unit_key(&item.sk))
                .await?
        else {
            pos.after = Some(item.sk.clone());
            pos.partial = None;
            continue;
        };
        let unit: Unit = unit.body().map_err(|e| ApiError::internal(&e))?;
        let after = pos
            .partial
            .as_ref()
            .filter(|pt| pt.unit == unit.code)
            .and_then(|pt| pt.after.clone());
        let first_page =
            entries_after(w.p, format!("unit#{}", unit.code), after, ROSTER_PAGE).await?;
        if matches!(
            bill_unit(w, unit.county, &unit, first_page, true, pos, batch).await?,
            Next::Stop
        ) {
            return Ok(Next::Stop);
        }
    }
    if page.next.is_none() {
        pos.county += 1;
        pos.after = None;
        pos.partial = None;
    }
    Ok(Next::Go)
}

/// Bills `unit` (of `county`) from its roster's `first_page` on, or from where `pos` left it
/// part-billed; a unit that has moved county (or is `noted` as moved, not met in the walk; such
/// a unit is not counted among those walked) is first looked up and left alone when billed
/// already. Commits whenever a transaction is full, and after the
/// unit when the deadline has passed.
async fn bill_unit(
    w: &mut Working<'_, '_>,
    county: County,
    unit: &Unit,
    first_page: (Vec<Member>, bool),
    noted: bool,
    pos: &mut Position,
    batch: &mut Batch,
) -> Result<Next, ApiError> {
    let resumed = pos.partial.take().filter(|pt| pt.unit == unit.code);
    let (mut totals, mut last) =
        resumed.map_or_else(|| (Totals::default(), None), |pt| (pt.totals, pt.after));
    let bill_id = swi_bills::bill::unit_bill_id(w.table.month(), &unit.code);
    // A unit billed already this month (it moved county during the run, and was met in its
    // old county) is not billed again. Only a unit that has moved is looked up.
    let has_moved = noted || unit.moving_members || unit.members_moved > 0;
    if has_moved && last.is_none() && totals.lines == 0 {
        let key = swi_bills::bill::bill_key(&bill_id);
        // Its bill may be in the batch being made, or in the transaction being written.
        let mut billed = batch.writes(&key);
        if !billed {
            if matches!(w.settle().await?, Next::Stop) {
                return Ok(Next::Stop);
            }
            billed = w.p.state.get(&key).await?.is_some();
        }
        if billed {
            if !noted {
                batch.units += 1;
            }
            pos.after = Some(unit.code.clone());
            pos.partial = None;
            return Ok(Next::Go);
        }
    }
    match rating_of(unit, w.table.month()) {
        Err(reason) => batch.exceptions.push(Exception {
            subject: unit.code.clone(),
            county,
            reason,
        }),
        Ok(rating) => {
            let mut page = Some(first_page);
            while let Some((entries, more)) = page.take() {
                for m in entries {
                    match line(&w.table, &m, rating, false) {
                        Err(e) => batch.exceptions.push(Exception {
                            subject: m.id.clone(),
                            county,
                            reason: e.to_string(),
                        }),
                        Ok(None) => {}
                        Ok(Some(l)) => {
                            if batch.len() + 1 > BUDGET {
                                let full = std::mem::take(batch);
                                let at = Position {
                                    partial: Some(Partial {
                                        unit: unit.code.clone(),
                                        after: last.clone(),
                                        totals: totals.clone(),
                                    }),
                                    ..pos.clone()
                                };
                                if matches!(w.commit(full, at, false).await?, Next::Stop) {
                                    return Ok(Next::Stop);
                                }
                            }
                            batch.ops.push(line_op(&bill_id, &l)?);
                            batch.persons += 1;
                            totals.add(&l);
                        }
                    }
                    last = Some(m.id);
                }
                if more {
                    page = Some(
                        entries_after(
                            w.p,
                            format!("unit#{}", unit.code),
                            last.clone(),
                            ROSTER_PAGE,
                        )
                        .await?,
                    );
                }
            }
        }
    }
    if totals.lines > 0 {
        if batch.len() + BILL_OPS > BUDGET {
            let full = std::mem::take(batch);
            let at = Position {
                partial: Some(Partial {
                    unit: unit.code.clone(),
                    after: last.clone(),
                    totals: totals.clone(),
                }),
                ..pos.clone()
            };
            if matches!(w.commit(full, at, false).await?, Next::Stop) {
                return Ok(Next::Stop);
            }
        }
        let rating = rating_of(unit, w.table.month()).unwrap_or(Rating::SELF);
        let bill = assemble(
            Heading {
                id: bill_id.clone(),
                kind: BillKind::Monthly,
                payer: Payer::Unit {
                    code: unit.code.clone(),
                },
                name: unit.name.clone(),
                county,
                rating,
                starts_cover: Vec::new(),
            },
            &w.table,
            totals,
            w.issuer.clone(),
        );
        batch.ops.extend(bill_ops(&bill)?);
        batch.audit.push(issued(&bill));
        batch.bills += 1;
        batch.amount += bill.amount;
    }
    if !noted {
        batch.units += 1;
    }
    pos.after = Some(unit.code.clone());
    pos.partial = None;
    if Instant::now() >= w.deadline {
        let full = std::mem::take(batch);
        w.commit(full, pos.clone(), false).await?;
        return Ok(Next::Stop);
    }
    Ok(Next::Go)
}

/// Bills the next page of a county's self-paying workers from `pos`, each a bill of one line.
async fn self_payers_of_county(
    w: &mut Working<'_, '_>,
    county: County,
    pos: &mut Position,
    batch: &mut Batch,
) -> Result<Next, ApiError> {
    let (page, more) = entries_after(
        w.p,
        self_payers_pk(county),
        pos.after.clone(),
        SELF_PAYERS_PAGE,
    )
    .await?;
    for m in page {
        match line(&w.table, &m, Rating::SELF, false) {
            Err(e) => batch.exceptions.push(Exception {
                subject: m.id.clone(),
                county,
                reason: e.to_string(),
            }),
            Ok(None) => {}
            Ok(Some(l)) => {
                if batch.len() + BILL_OPS + 1 > BUDGET {
                    let full = std::mem::take(batch);
                    if matches!(w.commit(full, pos.clone(), false).await?, Next::Stop) {
                        return Ok(Next::Stop);
                    }
                }
                let Some(owner) = m.owner.clone() else {
                    batch.exceptions.push(Exception {
                        subject: m.id.clone(),
                        county,
                        reason: "a self-payer's entry without its account".into(),
                    });
                    pos.after = Some(m.id);
                    continue;
                };
                let id = enrolment_bill_id(w.table.month(), &m.id);
                let mut totals = Totals::default();
                totals.add(&l);
                let bill = assemble(
                    Heading {
                        id: id.clone(),
                        kind: BillKind::Monthly,
                        payer: Payer::Person {
                            owner,
                            enrolment: m.id.clone(),
                        },
                        name: m.name.clone(),
                        county,
                        rating: Rating::SELF,
                        starts_cover: Vec::new(),
                    },
                    &w.table,
                    totals,
                    w.issuer.clone(),
                );
                batch.ops.extend(bill_ops(&bill)?);
                batch.ops.push(line_op(&id, &l)?);
                batch.audit.push(issued(&bill));
                batch.persons += 1;
                batch.bills += 1;
                batch.amount += bill.amount;
            }
        }
        batch.self_payers += 1;
        pos.after = Some(m.id);
    }
    if !more {
        pos.county += 1;
        pos.after = None;
    }
    if Instant::now() >= w.deadline && !batch.is_empty() {
        let full = std::mem::take(batch);
        w.commit(full, pos.clone(), false).await?;
        return Ok(Next::Stop);
    }
    Ok(Next::Go)
}

/// The job working opened months, woken by their pointers.
pub struct BillingRun;

#[async_trait::async_trait]
impl Job for BillingRun {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "bills every unit's staff and every self-payer for an opened month, resuming where it stopped (Art. 16-19)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let t = jobs::walk_pointers(p, NAME, deadline, |sk| async move {
            let month = NaiveDate::parse_from_str(&format!("{sk}-01"), "%Y-%m-%d")
                .map_err(|e| ApiError::internal(&e))?;
            let mut log = log_progress();
            let w = work(p, month, deadline, &mut log).await?;
            Ok((usize::try_from(w.persons).unwrap_or(usize::MAX), w.finished))
        })
        .await?;
        Ok(Report {
            job: NAME,
            done: t.done,
            pending: t.pending,
            errors: Vec::new(),
            summary: format!(
                "persons billed {}, months finished {}, still billing {}",
                t.done, t.finished, t.pending
            ),
            detail: json!({ "waiting": t.waiting, "persons": t.done, "finished": t.finished, "pending": t.pending }),
        })
    }
}

/// Progress as plain log lines, at most one every five seconds.
pub fn log_progress() -> impl FnMut(&Run) + Send {
    let mut last: Option<Instant> = None;
    move |run: &Run| {
        if last.is_none_or(|l| l.elapsed().as_secs() >= 5) || run.status == RunStatus::Done {
            last = Some(Instant::now());
            tracing::info!(
                month = %run.month.format("%Y-%m"),
                units = run.units_done,
                units_total = run.units_total,
                persons = run.persons,
                bills = run.bills,
                "billing {}: {} of {} units, {} persons",
                run.month.format("%Y-%m"),
                run.units_done,
                run.units_total,
                run.persons
            );
        }
    }
}

/// The daily job opening the current month's run (nothing when it is open already).
pub struct BillingOpen;

#[async_trait::async_trait]
impl Job for BillingOpen {
    fn name(&self) -> &'static str {
        OPEN
    }

    fn describe(&self) -> &'static str {
        "opens the current month's billing run once, on its first day or the first day after (Art. 16, 19)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 1 }
    }

    async fn run(&self, p: &Platform, _deadline: Instant) -> Result<Report, ApiError> {
        let actor = jobs::job_actor(OPEN, "定时任务：开启月度核定");
        let month = month_of(p.clock.today());
        let (run, opened) = open(p, &actor, month).await?;
        Ok(Report {
            job: OPEN,
            done: usize::from(opened),
            pending: 0,
            errors: Vec::new(),
            summary: if opened {
                format!("opened {}", month.format("%Y-%m"))
            } else {
                format!("{} was opened on {}", month.format("%Y-%m"), run.opened_at)
            },
            detail: json!({ "month": month, "opened": opened }),
        })
    }
}
