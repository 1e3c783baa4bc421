//! Batch runs: the work that puts lines into batches, a transaction at a time.
//!
//! - A **daily run** (one per county and day, `payrun#{county}/daily#{date}`) takes, in order,
//!   the county's queued lines whose account is now usable (a first account recorded, or one
//!   corrected after the bank returned the line), the lump sums claim review approved
//!   (`payables#{county}`) and the premium refunds billing approved (`refunds#{county}`). Each is
//!   put into the day's batch when its payee's account is valid and held by the payee, and into
//!   the queue otherwise (Art. 35, 37, 38).
//! - A **periodic run** (one per county and month, `payrun#{county}/periodic#{YYYY-MM}`) first
//!   takes the schedules claim review approved into the payroll — with an instalment for every
//!   month from the benefit's first month up to the month before, so a late approval is paid
//!   back — then walks the payroll and writes the month's instalment of every entry that is
//!   paid that month (Art. 37: by the 20th).
//!
//! Every transaction writes the lines, their new parts, the batch, the run's position
//! (conditioned on the version it read) and an audit event; a source is marked taken in the
//! same transaction as the line made from it. A run killed anywhere goes on from its last
//! transaction: nothing is batched twice and nothing is lost. Line ids are made from the source
//! (and the month), and created only if absent.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::Actor;
use swi_domain::payment::{Line, LineEvent, LineStatus};
use swi_payables::account::{Bank, PayeeAccount};
use swi_payables::{PayableLine, RefundLine, Schedule};
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_rules::billing::{month_of, next_month};
use swi_rules::ids::{County, GANZHOU_COUNTIES};
use swi_store::state::MAX_TRANSACTION_OPS;
use swi_store::state::{Cursor, CursorKey};
use swi_store::{Condition, Index, Item, Key, Query, StateError, TxOp};

use crate::accounts::{self, unusable};
use crate::model::{
    Batch, BatchKind, BatchStatus, PART_LINES, Part, PartLine, PaymentLine, Source, Waiting,
    batch_op, line_op, load_batch, load_line, part_op, part_sk, payee_partition, queue_key,
    queue_op,
};
use crate::payroll::{PayrollEntry, entry_op, instalment_id, payroll_partition};

/// The pointer-woken job that works opened runs.
pub const NAME: &str = "payment-runs";

/// The daily job that opens the day's runs and works them.
pub const DAILY: &str = "payment-batch";

/// The most months paid back when a schedule is taken late.
pub const MAX_BACK_MONTHS: usize = 36;

/// Operations a run's transaction keeps for its parts (one per bank), the batch, the run, the
/// pointer and the audit event.
const RESERVED: usize = Bank::ALL.len() + 4;

/// Operations a run's transaction gives to lines, their queue places and their sources.
pub const LINE_BUDGET: usize = MAX_TRANSACTION_OPS - RESERVED;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A day's lump sums, refunds and re-issues.
    Daily,
    /// A month's instalments.
    Periodic,
}

/// How far a run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Queued lines whose account may now be usable.
    Queue,
    /// Lump sums from claim review.
    LumpSums,
    /// Refunds from billing.
    Refunds,
    /// Schedules taken into the payroll.
    Intake,
    /// The payroll walked for the month.
    Walk,
    /// Finished.
    Done,
}

/// A batch run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Run {
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Kind.
    pub kind: RunKind,
    /// The day (daily) or the month's first day (periodic).
    pub on: NaiveDate,
    /// The batch it fills.
    pub batch: String,
    /// Phase.
    pub phase: Phase,
    /// The last queue place or payroll entry done in the phase.
    pub after: Option<String>,
    /// Lines batched.
    pub batched: u64,
    /// Their amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// Lines put in the queue (no usable account).
    pub queued: u64,
    /// Schedules taken into the payroll.
    pub taken: u64,
    /// Transactions written.
    pub transactions: u64,
    /// When opened (China time).
    pub opened_at: NaiveDateTime,
    /// A periodic run: the first month its walk pays, when the county's periodic run before it
    /// was for an earlier month than the one just before (a month missed is paid by the next).
    #[serde(default)]
    pub from: Option<NaiveDate>,
}

impl Run {
    fn sk(&self) -> String {
        run_sk(self.kind, self.on)
    }

    fn pointer(&self) -> String {
        format!("{}.{}", self.county.code(), self.sk().replace('#', "."))
    }
}

fn run_sk(kind: RunKind, on: NaiveDate) -> String {
    match kind {
        RunKind::Daily => format!("daily#{on}"),
        RunKind::Periodic => format!("periodic#{}", on.format("%Y-%m")),
    }
}

/// The key of a run.
#[must_use]
pub fn run_key(county: County, kind: RunKind, on: NaiveDate) -> Key {
    Key::new(format!("payrun#{}", county.code()), run_sk(kind, on))
}

fn run_op(run: &Run, version: Option<u64>) -> Result<TxOp, ApiError> {
    let k = run_key(run.county, run.kind, run.on);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, run)?,
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

fn pointer_key(run: &Run) -> Key {
    Key::new(jobs::pointer_partition(NAME), run.pointer())
}

/// Loads a run.
///
/// # Errors
/// The store is unavailable.
pub async fn load_run(
    p: &Platform,
    county: County,
    kind: RunKind,
    on: NaiveDate,
) -> Result<Option<(Run, u64)>, ApiError> {
    match p.state.get(&run_key(county, kind, on)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// The id of a county's batch for a run.
#[must_use]
pub fn batch_id(county: County, kind: RunKind, on: NaiveDate) -> String {
    match kind {
        RunKind::Daily => format!("{}-{}-D", county.code(), on.format("%Y%m%d")),
        RunKind::Periodic => format!("{}-{}-P", county.code(), on.format("%Y%m")),
    }
}

/// Opens a run (once: an open run is answered as it stands). Returns the run and whether it
/// was opened now.
///
/// # Errors
/// The store is unavailable.
pub async fn open(
    p: &Platform,
    actor: &Actor,
    county: County,
    kind: RunKind,
    on: NaiveDate,
) -> Result<(Run, bool), ApiError> {
    let on = match kind {
        RunKind::Daily => on,
        RunKind::Periodic => month_of(on),
    };
    if let Some((run, _)) = load_run(p, county, kind, on).await? {
        return Ok((run, false));
    }
    let from = match kind {
        RunKind::Daily => None,
        RunKind::Periodic => match latest_periodic(p, county).await? {
            Some(last) if last >= on => {
                return Err(ApiError::conflict(
                    ErrorCode::InvalidTransition,
                    format!(
                        "已发放 {} 的定期待遇，不能再开启更早月份的发放",
                        last.format("%Y年%m月")
                    ),
                    "a later month's instalments are paid already; a month missed is paid by the next month's run",
                ));
            }
            Some(last) => Some(next_month(last)?).filter(|m| *m < on),
            None => None,
        },
    };
    let run = Run {
        county,
        kind,
        on,
        batch: batch_id(county, kind, on),
        phase: match kind {
            RunKind::Daily => Phase::Queue,
            RunKind::Periodic => Phase::Intake,
        },
        after: None,
        batched: 0,
        amount: Decimal::ZERO,
        queued: 0,
        taken: 0,
        transactions: 0,
        opened_at: p.clock.now().naive_local(),
        from,
    };
    let mut ops = vec![
        run_op(&run, None)?,
        TxOp::Put {
            item: Item::new(
                jobs::pointer_partition(NAME),
                run.pointer(),
                &json!({ "run": run.sk(), "county": county }),
            )?,
            condition: Condition::None,
        },
    ];
    ops.extend(
        audit_ops(
            p,
            actor,
            &[Audit {
                case: run_case(&run),
                command: "payment.run.open".into(),
                change: json!({ "batch": run.batch, "on": run.on, "basis": "Art. 37, 38" }),
            }],
        )
        .await?,
    );
    match p.state.transact(ops).await {
        Ok(()) => Ok((run, true)),
        Err(StateError::Conflict { .. }) => load_run(p, county, kind, on)
            .await?
            .map(|(r, _)| (r, false))
            .ok_or_else(|| ApiError::internal(&"a run reported open is missing")),
        Err(e) => Err(e.into()),
    }
}

/// The month of the county's latest periodic run.
///
/// # Errors
/// The store is unavailable.
pub async fn latest_periodic(p: &Platform, county: County) -> Result<Option<NaiveDate>, ApiError> {
    let page = p
        .state
        .query(
            &Query::partition(format!("payrun#{}", county.code()))
                .range(swi_store::SkRange::Prefix("periodic#".into()))
                .limit(1)
                .backward(),
        )
        .await?;
    page.items
        .first()
        .map(|i| {
            i.body::<Run>()
                .map(|r| r.on)
                .map_err(|e| ApiError::internal(&e))
        })
        .transpose()
}

/// The index partition of a payee, or the county's partition of payees nobody can be paid as
/// (neither a valid ID number nor a unit): their lines wait in the queue, said why.
fn payee_or_unknown(p: &Platform, payee: &swi_payables::Payee, county: County) -> String {
    payee_partition(p, payee).unwrap_or_else(|_| format!("payee-unknown#{}", county.code()))
}

fn run_case(run: &Run) -> String {
    format!("payrun#{}#{}", run.county.code(), run.sk())
}

/// One transaction of a run, being made.
struct Tx {
    ops: Vec<TxOp>,
    parts: BTreeMap<Bank, Vec<PartLine>>,
    banks: Vec<Bank>,
    batched: u64,
    amount: Decimal,
    queued: u64,
    taken: u64,
    withdrawn: u64,
    earliest_due: Option<NaiveDate>,
}

impl Tx {
    fn new() -> Self {
        Tx {
            ops: Vec::with_capacity(MAX_TRANSACTION_OPS),
            parts: BTreeMap::new(),
            banks: Vec::new(),
            batched: 0,
            amount: Decimal::ZERO,
            queued: 0,
            taken: 0,
            withdrawn: 0,
            earliest_due: None,
        }
    }

    fn room(&self, ops: usize, lines: usize) -> bool {
        self.ops.len() + ops <= LINE_BUDGET
            && self.parts.values().map(Vec::len).sum::<usize>() + lines <= PART_LINES
    }

    /// The line into the batch, to `account`.
    fn batch(
        &mut self,
        mut line: PaymentLine,
        account: PayeeAccount,
        payee: &str,
        version: Option<u64>,
        batch: &Batch,
    ) -> Result<(), ApiError> {
        let state = match line.state.status {
            LineStatus::Ready => line.state,
            _ => line
                .state
                .next(LineEvent::AccountVerified)
                .map_err(|e| ApiError::internal(&e))?,
        };
        line.state = state
            .next(LineEvent::Batch)
            .map_err(|e| ApiError::internal(&e))?;
        let bank = account.bank;
        if !self.banks.contains(&bank) {
            self.banks.push(bank);
        }
        let n = batch.parts
            + 1
            + u32::try_from(self.banks.iter().position(|b| *b == bank).unwrap_or(0)).unwrap_or(0);
        line.batch = Some((batch.id.clone(), part_sk(bank, n)));
        self.parts.entry(bank).or_default().push(PartLine {
            line: line.id.clone(),
            attempt: line.state.attempt,
            account: account.number.clone(),
            holder: account.holder.clone(),
            branch: account.branch.clone(),
            amount: line.amount,
            item: line.item,
            due: line.due,
        });
        line.account = Some(account);
        self.batched += 1;
        self.amount += line.amount;
        self.earliest_due = Some(self.earliest_due.map_or(line.due, |d| d.min(line.due)));
        self.ops.push(line_op(&line, payee, version)?);
        Ok(())
    }

    /// The line into the queue, waiting for `reason`.
    fn queue(
        &mut self,
        line: &PaymentLine,
        payee: &str,
        version: Option<u64>,
        reason: String,
    ) -> Result<(), ApiError> {
        self.ops.push(line_op(line, payee, version)?);
        self.ops.push(queue_op(
            line.county,
            &Waiting {
                line: line.id.clone(),
                due: line.due,
                amount: line.amount,
                payee: line.payee.name.clone(),
                status: line.state.status,
                reason,
            },
        )?);
        self.queued += 1;
        Ok(())
    }
}

/// What a new line is made of.
struct Head {
    county: County,
    item: Option<swi_rules::benefits::Item>,
    payee: swi_payables::Payee,
    amount: Decimal,
    approved_on: NaiveDate,
    due: NaiveDate,
    basis: Vec<String>,
}

/// The new line for `source`, waiting for its account.
fn new_line(id: String, source: Source, h: Head) -> PaymentLine {
    PaymentLine {
        id,
        source,
        county: h.county,
        item: h.item,
        payee: h.payee,
        amount: h.amount,
        approved_on: h.approved_on,
        due: h.due,
        state: Line::new(),
        account: None,
        batch: None,
        failures: Vec::new(),
        basis: h.basis,
    }
}

/// A payee's account, if usable for `name` (after `failed_at`).
async fn usable(
    p: &Platform,
    payee: &str,
    name: &str,
    failed_at: Option<NaiveDateTime>,
) -> Result<Result<PayeeAccount, String>, ApiError> {
    let rec = accounts::load(p, payee).await?.map(|(r, _)| r);
    Ok(match (unusable(rec.as_ref(), name, failed_at), rec) {
        (None, Some(r)) => Ok(r.account),
        (Some(why), _) => Err(why),
        (None, None) => Err("收款人尚未登记收款账户".into()),
    })
}

/// The day (periodic: the cycle's 20th) an instalment of `month` is due.
fn instalment_due(p: &swi_rules::ParamSet, month: NaiveDate) -> Result<NaiveDate, ApiError> {
    use chrono::Datelike;
    let before = month
        .checked_sub_months(chrono::Months::new(1))
        .ok_or_else(|| ApiError::internal(&"month out of range"))?;
    Ok(
        swi_rules::calendar::fund_cycle(p, before.year(), before.month())?
            .value
            .pay_by,
    )
}

/// What a stretch of work did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worked {
    /// Lines batched or queued.
    pub lines: u64,
    /// Whether the run is finished.
    pub finished: bool,
}

/// Works the run until it is done or `deadline` passes (at least one transaction is made).
///
/// # Errors
/// The store is unavailable; a concurrent run of the same run (a conflict: the other goes on).
pub async fn work(
    p: &Platform,
    county: County,
    kind: RunKind,
    on: NaiveDate,
    deadline: Instant,
) -> Result<Worked, ApiError> {
    let actor = jobs::job_actor(NAME, "定时任务：待遇支付批次");
    let params = p.params().await?;
    let mut worked = Worked::default();
    let Some((mut run, mut version)) = load_run(p, county, kind, on).await? else {
        return Err(ApiError::not_found(
            "未找到该批次任务",
            "no such payment run",
        ));
    };
    if run.phase == Phase::Done {
        worked.finished = true;
        // The pointer may outlive its run's last transaction only if that failed; clear it.
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(&run),
                condition: Condition::None,
            }])
            .await?;
        return Ok(worked);
    }
    let (mut batch, mut batch_version) = match load_batch(p, &run.batch).await? {
        Some((b, v)) => (b, Some(v)),
        None => {
            let mut b = Batch::new(
                run.batch.clone(),
                county,
                match kind {
                    RunKind::Daily => BatchKind::Daily,
                    RunKind::Periodic => BatchKind::Periodic,
                },
                p.clock.today(),
            );
            if kind == RunKind::Periodic {
                b.month = Some(run.on);
            }
            (b, None)
        }
    };
    let mut tx = Tx::new();
    fill(p, &params, &mut run, &batch, &mut tx).await?;
    loop {
        worked.lines += tx.batched + tx.queued;
        let (ops, batch_written) =
            prepare(p, &actor, &mut run, version, &mut batch, batch_version, tx).await?;
        version += 1;
        if batch_written {
            batch_version = Some(batch_version.map_or(1, |v| v + 1));
        }
        let finished = run.phase == Phase::Done;
        let more_time = Instant::now() < deadline;
        // The walk of the payroll moves by its own cursor: the next transaction is made while
        // this one is written. Sources taken (lump sums, refunds, schedules) leave their index
        // only when written, so those wait for it.
        if !finished && more_time && matches!(run.phase, Phase::Walk | Phase::Queue) {
            let mut next_run = run.clone();
            let mut next = Tx::new();
            let (written, filled) = tokio::join!(
                p.state.transact(ops),
                fill(p, &params, &mut next_run, &batch, &mut next)
            );
            written?;
            filled?;
            run = next_run;
            tx = next;
            continue;
        }
        p.state.transact(ops).await?;
        if finished || !more_time {
            worked.finished = finished;
            return Ok(worked);
        }
        tx = Tx::new();
        fill(p, &params, &mut run, &batch, &mut tx).await?;
    }
}

/// Fills one transaction from where the run stands, moving its phase and position.
async fn fill(
    p: &Platform,
    params: &swi_rules::ParamSet,
    run: &mut Run,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<(), ApiError> {
    let today = p.clock.today();
    while run.phase != Phase::Done {
        let before = tx.ops.len();
        let more = match run.phase {
            Phase::Queue => fill_queue(p, run, batch, tx).await?,
            Phase::LumpSums => fill_lump_sums(p, run, batch, tx).await?,
            Phase::Refunds => fill_refunds(p, run, batch, tx).await?,
            Phase::Intake => fill_intake(p, params, run, batch, tx, today).await?,
            Phase::Walk => fill_walk(p, params, run, batch, tx).await?,
            Phase::Done => false,
        };
        if !more {
            run.phase = match run.phase {
                Phase::Queue => Phase::LumpSums,
                Phase::LumpSums => Phase::Refunds,
                Phase::Intake => Phase::Walk,
                Phase::Refunds | Phase::Walk | Phase::Done => Phase::Done,
            };
            run.after = None;
            continue;
        }
        let taken_here = matches!(run.phase, Phase::LumpSums | Phase::Refunds | Phase::Intake);
        if tx.ops.len() == before || !tx.room(3, 1) || taken_here {
            // Full, a source that needs a transaction of its own, or sources taken: those leave
            // their index only when this transaction is written, so it is written first.
            return Ok(());
        }
    }
    Ok(())
}

fn after_cursor(pk: &str, after: Option<&String>) -> Option<Cursor> {
    after.map(|sk| {
        Cursor::after(&CursorKey {
            key: Key::new(pk, sk.clone()),
            index: None,
        })
    })
}

/// Queued lines: batched when their account is now usable. Returns whether more may follow.
async fn fill_queue(
    p: &Platform,
    run: &mut Run,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<bool, ApiError> {
    let pk = crate::model::queue_partition(run.county);
    let page = p
        .state
        .query(
            &Query::partition(pk.clone())
                .limit(40)
                .after(after_cursor(&pk, run.after.as_ref())),
        )
        .await?;
    if page.items.is_empty() {
        return Ok(false);
    }
    for item in &page.items {
        if !tx.room(2, 1) {
            return Ok(true);
        }
        let w: Waiting = item.body().map_err(|e| ApiError::internal(&e))?;
        run.after = Some(item.sk.clone());
        let Some((line, version)) = load_line(p, &w.line).await? else {
            continue;
        };
        if !matches!(
            line.state.status,
            LineStatus::AwaitingAccount | LineStatus::Ready | LineStatus::Failed
        ) {
            continue;
        }
        let Ok(payee) = payee_partition(p, &line.payee) else {
            // A payee nobody can be paid as waits, said why.
            continue;
        };
        // An instalment is owed as its payroll entry now says: a benefit stopped or suspended
        // since the line was made withdraws it; an adjustment changes its amount.
        let mut line = line;
        if let Source::Instalment {
            schedule, month, ..
        } = &line.source
        {
            let owed = crate::payroll::load(p, line.county, schedule)
                .await?
                .and_then(|(e, _)| e.instalment(*month));
            match owed {
                None => {
                    let mut gone = line.clone();
                    gone.state = gone
                        .state
                        .next(LineEvent::Withdraw)
                        .map_err(|e| ApiError::internal(&e))?;
                    tx.ops.push(TxOp::Delete {
                        key: queue_key(gone.county, gone.due, &gone.id),
                        condition: Condition::None,
                    });
                    tx.ops.push(line_op(&gone, &payee, Some(version))?);
                    tx.withdrawn += 1;
                    continue;
                }
                Some(amount) => line.amount = amount,
            }
        }
        let failed_at = (line.state.status == LineStatus::Failed)
            .then(|| line.failures.last().map(|f| f.at))
            .flatten();
        if let Ok(account) = usable(p, &payee, &line.payee.name, failed_at).await? {
            tx.ops.push(TxOp::Delete {
                key: queue_key(line.county, line.due, &line.id),
                condition: Condition::None,
            });
            tx.batch(line, account, &payee, Some(version), batch)?;
        }
    }
    Ok(page.next.is_some())
}

/// Lump sums claim review approved: each made a line, batched or queued, its source taken.
async fn fill_lump_sums(
    p: &Platform,
    run: &mut Run,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<bool, ApiError> {
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(swi_payables::waiting_partition(run.county)).limit(30),
        )
        .await?;
    if page.items.is_empty() {
        return Ok(false);
    }
    for item in &page.items {
        if !tx.room(3, 1) {
            return Ok(true);
        }
        // The index may lag its table (DynamoDB's does): the source as stored decides.
        let Some(fresh) = p
            .state
            .get(&swi_payables::line_key(&item_id(item, "payable#")?))
            .await?
        else {
            continue;
        };
        let src: PayableLine = fresh.body().map_err(|e| ApiError::internal(&e))?;
        if src.status == swi_payables::LineStatus::Taken {
            continue;
        }
        let line = new_line(
            format!("ls:{}", src.id.replace('/', ":")),
            Source::LumpSum {
                line: src.id.clone(),
                claim: src.claim.clone(),
            },
            Head {
                county: src.county,
                item: Some(src.item),
                payee: src.payee.clone(),
                amount: src.amount,
                approved_on: src.approved_on,
                due: src.due,
                basis: src.basis.clone(),
            },
        );
        tx.ops
            .push(swi_payables::line_taken_op(&src, item.version)?);
        place(p, line, batch, tx).await?;
    }
    Ok(true)
}

/// Refunds billing approved (Art. 22): each made a line, batched or queued, its source taken.
async fn fill_refunds(
    p: &Platform,
    run: &mut Run,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<bool, ApiError> {
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(swi_payables::refunds_partition(run.county)).limit(30),
        )
        .await?;
    if page.items.is_empty() {
        return Ok(false);
    }
    let params = p.params().await?;
    for item in &page.items {
        if !tx.room(3, 1) {
            return Ok(true);
        }
        let Some(fresh) = p
            .state
            .get(&swi_payables::refund_key(&item_id(
                item,
                "refund-payable#",
            )?))
            .await?
        else {
            continue;
        };
        let src: RefundLine = fresh.body().map_err(|e| ApiError::internal(&e))?;
        if src.status == swi_payables::LineStatus::Taken {
            continue;
        }
        let due = swi_rules::calendar::pay_by(&params, src.approved_on)?.value;
        let line = new_line(
            format!("rf:{}", src.id),
            Source::Refund {
                refund: src.id.clone(),
                bill: src.bill.clone(),
            },
            Head {
                county: src.county,
                item: None,
                payee: src.payee.clone(),
                amount: src.amount,
                approved_on: src.approved_on,
                due,
                basis: src.basis.clone(),
            },
        );
        tx.ops
            .push(swi_payables::refund_taken_op(&src, item.version)?);
        place(p, line, batch, tx).await?;
    }
    Ok(true)
}

/// A new line into the batch, or the queue when its payee's account is not usable.
async fn place(
    p: &Platform,
    line: PaymentLine,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<(), ApiError> {
    let payee = match payee_partition(p, &line.payee) {
        Ok(pp) => pp,
        Err(_) => {
            // A payee nobody can be paid as: the line waits in the queue under a key of its own.
            let pp = format!("payee-unknown#{}", line.county.code());
            tx.queue(
                &line,
                &pp,
                None,
                "收款人既无有效身份证号码也无单位代码".into(),
            )?;
            return Ok(());
        }
    };
    match usable(p, &payee, &line.payee.name, None).await? {
        Ok(account) => tx.batch(line, account, &payee, None, batch),
        Err(why) => tx.queue(&line, &payee, None, why),
    }
}

/// Schedules claim review approved, taken into the payroll with the months before the run's
/// paid back.
async fn fill_intake(
    p: &Platform,
    params: &swi_rules::ParamSet,
    run: &mut Run,
    batch: &Batch,
    tx: &mut Tx,
    today: NaiveDate,
) -> Result<bool, ApiError> {
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(swi_payables::schedules_partition(run.county)).limit(10),
        )
        .await?;
    if page.items.is_empty() {
        return Ok(false);
    }
    for item in &page.items {
        let Some(fresh) = p
            .state
            .get(&swi_payables::schedule_key(&item_id(item, "schedule#")?))
            .await?
        else {
            continue;
        };
        if fresh
            .gsi1
            .as_ref()
            .is_none_or(|k| k.pk != swi_payables::schedules_partition(run.county))
        {
            continue; // taken already; the index had not caught up
        }
        let s: Schedule = fresh.body().map_err(|e| ApiError::internal(&e))?;
        // Every month before the run's is paid back, the latest MAX_BACK_MONTHS of them; older
        // ones are left to a decision, raised as an alert.
        let first = month_of(s.start);
        let mut months = Vec::new();
        let mut m = run.on;
        while months.len() < MAX_BACK_MONTHS {
            let Some(before) = m.checked_sub_months(chrono::Months::new(1)) else {
                break;
            };
            if before < first {
                break;
            }
            months.push(before);
            m = before;
        }
        months.reverse();
        if months.first().is_some_and(|m| *m > first) {
            let r = crate::alerting::Raise {
                id: format!("payment_back_pay_cut:{}", s.id),
                kind: "payment_back_pay_cut".into(),
                county: run.county,
                subject: format!("schedule#{}", s.id),
                evidence: json!({ "start": s.start, "paid_back_from": months.first(), "basis": "Art. 37" }),
                says: (
                    format!(
                        "定期待遇 {} 自 {} 起享受，补发只含最近 {MAX_BACK_MONTHS} 个月（自 {} 起），更早月份须另行核定",
                        s.id,
                        s.start,
                        months
                            .first()
                            .map(|m| m.format("%Y-%m").to_string())
                            .unwrap_or_default()
                    ),
                    format!(
                        "schedule {} starts {}: only its last {MAX_BACK_MONTHS} months are paid back",
                        s.id, s.start
                    ),
                ),
            };
            crate::alerting::alert(p, &jobs::job_actor(NAME, "定时任务：待遇支付批次"), r).await?;
        }
        if !tx.room(2 + 2 * months.len(), months.len()) {
            return Ok(true);
        }
        let payee = payee_or_unknown(p, &s.payee, run.county);
        let account = usable(p, &payee, &s.payee.name, None).await?;
        let entry = PayrollEntry {
            schedule: s.clone(),
            account: account.as_ref().ok().cloned(),
            changes: Vec::new(),
            taken_on: today,
            taken_for: Some(run.on),
        };
        tx.ops.push(entry_op(&entry, &payee, None)?);
        tx.ops
            .push(swi_payables::schedule_taken_op(&s, fresh.version)?);
        tx.taken += 1;
        for month in months {
            instalment(p, params, &entry, &payee, month, batch, tx)?;
        }
    }
    Ok(true)
}

/// The id a source item is kept under (its partition without `prefix`).
fn item_id(item: &Item, prefix: &str) -> Result<String, ApiError> {
    item.pk
        .strip_prefix(prefix)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::internal(&format!("a source {} outside {prefix}", item.pk)))
}

/// The month's instalment of `entry`, batched or queued.
fn instalment(
    _p: &Platform,
    params: &swi_rules::ParamSet,
    entry: &PayrollEntry,
    payee: &str,
    month: NaiveDate,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<(), ApiError> {
    let Some(amount) = entry.instalment(month) else {
        return Ok(());
    };
    let s = &entry.schedule;
    let line = new_line(
        instalment_id(&s.id, month),
        Source::Instalment {
            schedule: s.id.clone(),
            claim: s.claim.clone(),
            month,
        },
        Head {
            county: s.county,
            item: Some(s.item),
            payee: s.payee.clone(),
            amount,
            approved_on: month,
            due: instalment_due(params, month)?,
            basis: s.basis.clone(),
        },
    );
    match entry.account.clone().filter(|a| a.held_by(&s.payee.name)) {
        Some(account) => tx.batch(line, account, payee, None, batch),
        None => tx.queue(
            &line,
            payee,
            None,
            "收款人尚未登记收款账户，或账户户名与收款人不符".into(),
        ),
    }
}

/// The payroll walked for the run's month.
async fn fill_walk(
    p: &Platform,
    params: &swi_rules::ParamSet,
    run: &mut Run,
    batch: &Batch,
    tx: &mut Tx,
) -> Result<bool, ApiError> {
    let pk = payroll_partition(run.county);
    let room = (LINE_BUDGET - tx.ops.len()).min(PART_LINES) / 2;
    if room == 0 {
        return Ok(true);
    }
    let page = p
        .state
        .query(
            &Query::partition(pk.clone())
                .limit(u32::try_from(room).unwrap_or(1).max(1))
                .after(after_cursor(&pk, run.after.as_ref())),
        )
        .await?;
    for item in &page.items {
        let entry: PayrollEntry = item.body().map_err(|e| ApiError::internal(&e))?;
        // The run's month, and the months before it no run paid (a month missed) since the
        // entry was taken.
        let mut months = Vec::new();
        let mut m = run.from.unwrap_or(run.on).max(
            entry
                .taken_for
                .unwrap_or(run.on.min(run.from.unwrap_or(run.on))),
        );
        while m <= run.on {
            months.push(m);
            m = next_month(m)?;
        }
        if !tx.room(2 * months.len(), months.len()) {
            return Ok(true);
        }
        run.after = Some(item.sk.clone());
        let payee = payee_or_unknown(p, &entry.schedule.payee, run.county);
        for month in months {
            instalment(p, params, &entry, &payee, month, batch, tx)?;
        }
    }
    Ok(page.next.is_some())
}

/// The operations of a transaction: its lines and parts, the batch, the run's position and the
/// audit event; the run and the batch are moved on in memory as they will be stored. Answers
/// the operations and whether the batch is among them.
async fn prepare(
    p: &Platform,
    actor: &Actor,
    run: &mut Run,
    version: u64,
    batch: &mut Batch,
    batch_version: Option<u64>,
    tx: Tx,
) -> Result<(Vec<TxOp>, bool), ApiError> {
    let Tx {
        mut ops,
        parts,
        banks,
        batched,
        amount,
        queued,
        taken,
        withdrawn,
        earliest_due,
    } = tx;
    let mut written = Vec::new();
    for (i, bank) in banks.iter().enumerate() {
        let lines = parts.get(bank).cloned().unwrap_or_default();
        let n = batch.parts + 1 + u32::try_from(i).unwrap_or(0);
        let part = Part {
            batch: batch.id.clone(),
            bank: *bank,
            n,
            lines,
            returned: None,
        };
        let share = batch.banks.entry(*bank).or_default();
        share.lines += part.lines.len() as u64;
        share.amount += part.amount();
        share.parts += 1;
        ops.push(part_op(&part, None)?);
        written.push(part.sk());
    }
    batch.parts += u32::try_from(banks.len()).unwrap_or(0);
    batch.lines += batched;
    batch.amount += amount;
    if let Some(d) = earliest_due {
        batch.earliest_due = Some(batch.earliest_due.map_or(d, |e| e.min(d)));
    }
    run.batched += batched;
    run.amount += amount;
    run.queued += queued;
    run.taken += taken;
    run.transactions += 1;
    let finished = run.phase == Phase::Done;
    if finished {
        batch.status = BatchStatus::Sealed;
    }
    let batch_written = batch.lines > 0 && (batched > 0 || (finished && batch_version.is_some()));
    if batch_written {
        ops.push(batch_op(batch, batch_version)?);
    }
    ops.push(run_op(run, Some(version))?);
    if finished {
        ops.push(TxOp::Delete {
            key: pointer_key(run),
            condition: Condition::None,
        });
    }
    ops.extend(
        audit_ops(
            p,
            actor,
            &[Audit {
                case: run_case(run),
                command: if finished {
                    "payment.run.finish".into()
                } else {
                    "payment.run.fill".into()
                },
                change: json!({
                    "batch": batch.id, "parts": written, "batched": batched, "amount": amount,
                    "queued": queued, "taken": taken, "withdrawn": withdrawn, "phase": run.phase,
                }),
            }],
        )
        .await?,
    );
    Ok((ops, batch_written))
}

/// The job working opened runs.
pub struct PaymentRuns;

#[async_trait::async_trait]
impl Job for PaymentRuns {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "puts approved lump sums, refunds, re-issued lines and the month's instalments into payment batches, resuming where it stopped (Art. 37, 38)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        // A run that fails is reported and retried later; it never holds up the others.
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let t = jobs::walk_pointers(p, NAME, deadline, |sk| {
            let errors = errors.clone();
            async move {
                let (county, kind, on) = parse_pointer(&sk)?;
                match work(p, county, kind, on, deadline).await {
                    Ok(w) => Ok((usize::try_from(w.lines).unwrap_or(usize::MAX), w.finished)),
                    Err(e) => {
                        if let Ok(mut v) = errors.lock() {
                            v.push(format!("{sk}: {}", e.code.as_str()));
                        }
                        Ok((0, false))
                    }
                }
            }
        })
        .await?;
        let errors = errors.lock().map(|v| v.clone()).unwrap_or_default();
        Ok(Report {
            job: NAME,
            done: t.done,
            pending: t.pending,
            errors,
            summary: format!(
                "lines placed {}, runs finished {}, still running {}",
                t.done, t.finished, t.pending
            ),
            detail: json!({ "waiting": t.waiting, "lines": t.done, "finished": t.finished, "pending": t.pending }),
        })
    }
}

/// Raises an alert (once) for every line waiting past its due day (Art. 38: 10 working days).
async fn overdue_alerts(p: &Platform, actor: &Actor, today: NaiveDate) -> Result<usize, ApiError> {
    let mut n = 0;
    for county in counties() {
        let waiting = p
            .state
            .query_all(
                &Query::partition(crate::model::queue_partition(county))
                    .range(swi_store::SkRange::To(format!("{today}#")))
                    .limit(500),
            )
            .await?;
        for item in waiting {
            let w: Waiting = item.body().map_err(|e| ApiError::internal(&e))?;
            if w.due >= today {
                continue;
            }
            let r = crate::alerting::Raise {
                id: format!("payment_overdue:{}", w.line),
                kind: "payment_overdue".into(),
                county,
                subject: format!("payline#{}", w.line),
                evidence: json!({ "due": w.due, "amount": w.amount, "status": w.status, "reason": w.reason, "basis": "Art. 38" }),
                says: (
                    format!(
                        "支付明细 {} 应于 {} 前支付，已逾期：{}（第三十八条）",
                        w.line, w.due, w.reason
                    ),
                    format!(
                        "line {} was due by {} and is not paid (Art. 38)",
                        w.line, w.due
                    ),
                ),
            };
            if crate::alerting::alert(p, actor, r).await? {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// The city's counties, in code order.
#[must_use]
pub fn counties() -> Vec<County> {
    GANZHOU_COUNTIES
        .iter()
        .filter_map(|(c, _)| County::parse(&c.to_string()).ok())
        .collect()
}

fn parse_pointer(sk: &str) -> Result<(County, RunKind, NaiveDate), ApiError> {
    let bad = || ApiError::internal(&format!("a payment run pointer {sk:?} of no known shape"));
    let mut it = sk.splitn(3, '.');
    let county = County::parse(it.next().ok_or_else(bad)?).map_err(|_| bad())?;
    let kind = it.next().ok_or_else(bad)?;
    let on = it.next().ok_or_else(bad)?;
    match kind {
        "daily" => Ok((county, RunKind::Daily, on.parse().map_err(|_| bad())?)),
        "periodic" => Ok((
            county,
            RunKind::Periodic,
            NaiveDate::parse_from_str(&format!("{on}-01"), "%Y-%m-%d").map_err(|_| bad())?,
        )),
        _ => Err(bad()),
    }
}

/// The daily job: opens today's run for every county and works the runs.
pub struct PaymentBatch;

#[async_trait::async_trait]
impl Job for PaymentBatch {
    fn name(&self) -> &'static str {
        DAILY
    }

    fn describe(&self) -> &'static str {
        "opens each county's batch run for the day and works it: approved lump sums and refunds, and lines whose account was corrected, into the day's batch (Art. 38)"
    }

    fn wake(&self) -> Wake {
        Wake::Daily { hour: 3 }
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let actor = jobs::job_actor(DAILY, "定时任务：每日待遇支付批次");
        let today = p.clock.today();
        let mut opened = 0;
        for county in counties() {
            if open(p, &actor, county, RunKind::Daily, today).await?.1 {
                opened += 1;
            }
        }
        let mut r = PaymentRuns.run(p, deadline).await?;
        let overdue = overdue_alerts(p, &actor, today).await?;
        r.job = DAILY;
        r.summary = format!(
            "opened {opened} runs for {today}; {}; lines past due alerted {overdue}",
            r.summary
        );
        Ok(r)
    }
}
