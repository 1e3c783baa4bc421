//! A bank's return recorded: checked whole in the request ([`crate::bank_files::check`]), then
//! applied by the `payment-returns` job a transaction at a time from the import's position.
//!
//! 1. **Mark**: each part of the bank's share is marked returned (conditioned on its version),
//!    which moves all its lines to paid at once, except those it lists as failed; each
//!    transaction posts the voucher of what it marked paid (Art. 39: 根据银行回单…填制记账凭证)
//!    and adds to the batch's figures.
//! 2. **Requeue**: each failed line is written failed (its attempt kept with the bank's reason)
//!    and put back in its county's queue, where the daily run takes it again once its account is
//!    corrected — as a new attempt of the same line, never a second line.
//!
//! A run killed anywhere goes on from the import's position; each write is conditioned on the
//! version read, so nothing is marked or requeued twice.

use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::payment::LineEvent;
use swi_ledger::posting::{Posted, paid, post_op};
use swi_payables::account::{Bank, PayeeAccount};
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, Sha256, TxOp};
use swi_tables::Limits;

use crate::bank_files::{Checked, check, parts_of};
use crate::model::{
    Batch, BatchStatus, Failure, PartReturn, Unpaid, Waiting, batch_op, line_op, load_batch,
    load_line, part_op, payee_partition, queue_op,
};

/// The job applying recorded returns.
pub const NAME: &str = "payment-returns";

/// The bounds a return file is read within: a bank's share of a batch (100,000 rows).
pub const LIMITS: Limits = Limits::DECLARATION;

/// Parts marked per transaction.
const PARTS_PER_TX: usize = 80;

/// Operations a requeue transaction gives to failed lines and their parts (the import, the
/// pointer and the audit event take the rest of DynamoDB's 100).
const REQUEUE_OPS: usize = 90;

/// How far an import got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnPhase {
    /// Parts being marked returned.
    Mark,
    /// Failed lines being put back in the queue.
    Requeue,
    /// Applied.
    Done,
}

/// A bank's return of a batch, recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnImport {
    /// The batch.
    pub batch: String,
    /// The bank.
    pub bank: Bank,
    /// The file (SHA-256).
    pub sha256: String,
    /// Rows.
    pub rows: usize,
    /// Lines paid.
    pub paid_lines: u64,
    /// Amount paid.
    #[schema(value_type = String, example = "3500.00")]
    pub paid_amount: Decimal,
    /// Lines failed.
    pub failed_lines: u64,
    /// Amount failed.
    #[schema(value_type = String, example = "0.00")]
    pub failed_amount: Decimal,
    /// Phase.
    pub phase: ReturnPhase,
    /// Parts done in the phase.
    pub cursor: usize,
    /// Within the part at `cursor`, failed lines requeued.
    pub within: usize,
    /// The business day it was recorded.
    pub on: NaiveDate,
    /// When (China time).
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

/// The key of a bank's return of a batch.
#[must_use]
pub fn import_key(batch: &str, bank: Bank) -> Key {
    Key::new(format!("batch#{batch}"), format!("return#{}", bank.code()))
}

fn pointer_sk(batch: &str, bank: Bank) -> String {
    format!("{batch}.{}", bank.code())
}

/// The write of an import (create-only when new).
///
/// # Errors
/// Serialization (it does not fail).
pub fn import_op(imp: &ReturnImport, version: Option<u64>) -> Result<TxOp, ApiError> {
    let k = import_key(&imp.batch, imp.bank);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, imp)?,
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    })
}

/// The pointer that wakes the job for an import.
///
/// # Errors
/// Serialization (it does not fail).
pub fn pointer_op(imp: &ReturnImport) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: Item::new(
            jobs::pointer_partition(NAME),
            pointer_sk(&imp.batch, imp.bank),
            &json!({ "batch": imp.batch, "bank": imp.bank }),
        )?,
        condition: Condition::None,
    })
}

/// Loads an import.
///
/// # Errors
/// The store is unavailable.
pub async fn load_import(
    p: &Platform,
    batch: &str,
    bank: Bank,
) -> Result<Option<(ReturnImport, u64)>, ApiError> {
    match p.state.get(&import_key(batch, bank)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}

/// Reads and checks the import's file again (it was checked whole when recorded).
async fn answers(p: &Platform, imp: &ReturnImport, batch: &Batch) -> Result<Checked, ApiError> {
    let sha = Sha256::parse(&imp.sha256).map_err(|e| ApiError::internal(&e))?;
    let table = swi_platform::documents::load_table(p, &sha, &LIMITS, "回盘文件").await?;
    let parts = parts_of(p, &batch.id, imp.bank).await?;
    match check(&table, batch, &parts) {
        Ok(Ok(c)) => Ok(c),
        _ => Err(ApiError::internal(&format!(
            "the return {} no longer answers batch {} (it was checked when recorded)",
            imp.sha256, batch.id
        ))),
    }
}

/// Applies an import until done or `deadline`. Returns the lines moved and whether finished.
///
/// # Errors
/// The store is unavailable; a conflict with a concurrent run (it goes on next time).
pub async fn apply(
    p: &Platform,
    batch_id: &str,
    bank: Bank,
    deadline: Instant,
) -> Result<(u64, bool), ApiError> {
    let actor = jobs::job_actor(NAME, "定时任务：银行回盘入账");
    let mut moved = 0u64;
    let mut checked: Option<Checked> = None;
    // The bank's parts, read once and kept as this run writes them (each write is still
    // conditioned on the version it follows).
    let mut parts: Option<Vec<(crate::model::Part, u64)>> = None;
    loop {
        let (mut imp, iv) = load_import(p, batch_id, bank)
            .await?
            .ok_or_else(|| ApiError::not_found("未找到该回盘", "no such return"))?;
        let (mut batch, bv) = load_batch(p, batch_id)
            .await?
            .ok_or_else(|| ApiError::internal(&"a return of a missing batch"))?;
        if imp.phase == ReturnPhase::Done {
            p.state
                .transact(vec![TxOp::Delete {
                    key: Key::new(jobs::pointer_partition(NAME), pointer_sk(batch_id, bank)),
                    condition: Condition::None,
                }])
                .await?;
            return Ok((moved, true));
        }
        if parts.is_none() {
            parts = Some(parts_of(p, batch_id, bank).await?);
        }
        let parts = parts.as_mut().ok_or_else(|| ApiError::internal(&"parts"))?;
        // The parts this transaction writes: their index and their new body.
        let mut written: Vec<(usize, crate::model::Part)> = Vec::new();
        let mut ops = Vec::new();
        let mut audit_change = json!({});
        match imp.phase {
            ReturnPhase::Mark => {
                if checked.is_none() {
                    checked = Some(answers(p, &imp, &batch).await?);
                }
                let c = checked
                    .as_ref()
                    .ok_or_else(|| ApiError::internal(&"unchecked"))?;
                let mut benefits = Vec::new();
                let mut refunds = Decimal::ZERO;
                let (mut pl, mut pa, mut fl, mut fa) = (0u64, Decimal::ZERO, 0u64, Decimal::ZERO);
                let end = (imp.cursor + PARTS_PER_TX).min(parts.len());
                for (i, (part, version)) in parts.iter().enumerate().take(end).skip(imp.cursor) {
                    let mut part = part.clone();
                    let mut failed = Vec::new();
                    for l in &part.lines {
                        match c.answers.get(&l.line).and_then(|a| a.failed.clone()) {
                            Some(reason) => {
                                failed.push(Unpaid {
                                    line: l.line.clone(),
                                    reason,
                                });
                                fl += 1;
                                fa += l.amount;
                            }
                            None => {
                                pl += 1;
                                pa += l.amount;
                                match l.item {
                                    Some(item) => benefits.push((item, l.amount)),
                                    None => refunds += l.amount,
                                }
                            }
                        }
                    }
                    part.returned = Some(PartReturn {
                        on: imp.on,
                        at: imp.at,
                        file: imp.sha256.clone(),
                        requeued: failed.is_empty(),
                        failed,
                    });
                    ops.push(part_op(&part, Some(*version))?);
                    written.push((i, part));
                }
                moved += pl + fl;
                imp.paid_lines += pl;
                imp.paid_amount += pa;
                imp.failed_lines += fl;
                imp.failed_amount += fa;
                let share = batch.banks.entry(bank).or_default();
                share.paid_lines += pl;
                share.paid_amount += pa;
                share.failed_lines += fl;
                share.failed_amount += fa;
                if pa > Decimal::ZERO {
                    let voucher = paid(
                        imp.on,
                        format!(
                            "银行回盘 {} {} 第{}段",
                            batch.id,
                            bank.zh(),
                            imp.cursor / PARTS_PER_TX + 1
                        ),
                        &benefits,
                        refunds,
                    )
                    .map_err(|e| ApiError::internal(&e))?;
                    ops.push(
                        post_op(&Posted {
                            id: format!("return:{}:{}:{}", batch.id, bank.code(), imp.cursor),
                            voucher,
                            county: Some(batch.county),
                            posted_at: p.clock.now().naive_local(),
                            by: actor.name.clone(),
                        })
                        .map_err(|e| ApiError::internal(&e))?,
                    );
                }
                audit_change = json!({ "parts": end - imp.cursor, "paid": pl, "paid_amount": pa, "failed": fl });
                imp.cursor = end;
                if imp.cursor >= parts.len() {
                    imp.phase = ReturnPhase::Requeue;
                    imp.cursor = 0;
                    imp.within = 0;
                    share.returned = Some(imp.sha256.clone());
                    share.returned_on = Some(imp.on);
                    if batch.banks.values().all(|s| s.returned.is_some()) {
                        batch.status = BatchStatus::Returned;
                    }
                }
                ops.push(batch_op(&batch, Some(bv))?);
            }
            ReturnPhase::Requeue => {
                // Operations, not lines, are counted: a failed line writes itself and its queue
                // place, an instalment's also its payroll entry (once per transaction), and each
                // part finished is written again.
                let mut used = 0usize;
                let mut entries: std::collections::HashSet<String> =
                    std::collections::HashSet::new();
                'parts: while imp.cursor < parts.len() {
                    let (part, version) = &parts[imp.cursor];
                    let r = part
                        .returned
                        .as_ref()
                        .ok_or_else(|| ApiError::internal(&"a part requeued before its return"))?;
                    if r.requeued {
                        imp.cursor += 1;
                        imp.within = 0;
                        continue;
                    }
                    while imp.within < r.failed.len() {
                        let u = &r.failed[imp.within];
                        let last = imp.within + 1 == r.failed.len();
                        let (mut line, lv) = load_line(p, &u.line)
                            .await?
                            .ok_or_else(|| ApiError::internal(&"a returned line is missing"))?;
                        let entry = match &line.source {
                            crate::model::Source::Instalment { schedule, .. }
                                if !entries.contains(schedule) =>
                            {
                                crate::payroll::load(p, line.county, schedule)
                                    .await?
                                    .filter(|(e, _)| {
                                        e.account.is_some() && e.account == line.account
                                    })
                            }
                            _ => None,
                        };
                        let need = 2 + usize::from(entry.is_some()) + usize::from(last);
                        if used + need > REQUEUE_OPS {
                            break 'parts;
                        }
                        line.state = line
                            .state
                            .next(LineEvent::ReturnedFailed)
                            .map_err(|e| ApiError::internal(&e))?;
                        line.failures.push(Failure {
                            attempt: line.state.attempt,
                            batch: batch.id.clone(),
                            account: line
                                .account
                                .as_ref()
                                .map(PayeeAccount::masked)
                                .unwrap_or_default(),
                            reason: u.reason.clone(),
                            on: r.on,
                            at: r.at,
                        });
                        let payee = payee_partition(p, &line.payee)?;
                        ops.push(line_op(&line, &payee, Some(lv))?);
                        ops.push(queue_op(
                            line.county,
                            &Waiting {
                                line: line.id.clone(),
                                due: line.due,
                                amount: line.amount,
                                payee: line.payee.name.clone(),
                                status: line.state.status,
                                reason: format!(
                                    "银行退回：{}（须更正或重新确认账户后再次发放）",
                                    u.reason
                                ),
                            },
                        )?);
                        // The account the bank refused takes no more instalments: the payroll
                        // waits for it to be corrected or confirmed again.
                        if let Some((mut e, ev)) = entry {
                            entries.insert(e.schedule.id.clone());
                            e.account = None;
                            ops.push(crate::payroll::entry_op(&e, &payee, Some(ev))?);
                        }
                        used += need;
                        moved += 1;
                        imp.within += 1;
                    }
                    let mut done = part.clone();
                    if let Some(r) = done.returned.as_mut() {
                        r.requeued = true;
                    }
                    ops.push(part_op(&done, Some(*version))?);
                    used += usize::from(r.failed.is_empty());
                    written.push((imp.cursor, done));
                    imp.cursor += 1;
                    imp.within = 0;
                }
                if imp.cursor >= parts.len() {
                    imp.phase = ReturnPhase::Done;
                }
                audit_change = json!({ "requeued_through_part": imp.cursor, "within": imp.within });
            }
            ReturnPhase::Done => {}
        }
        let finished = imp.phase == ReturnPhase::Done;
        ops.push(import_op(&imp, Some(iv))?);
        if finished {
            ops.push(TxOp::Delete {
                key: Key::new(jobs::pointer_partition(NAME), pointer_sk(batch_id, bank)),
                condition: Condition::None,
            });
        }
        ops.extend(
            audit_ops(
                p,
                &actor,
                &[Audit {
                    case: format!("batch#{batch_id}"),
                    command: "payment.return.apply".into(),
                    change: audit_change,
                }],
            )
            .await?,
        );
        p.state.transact(ops).await?;
        for (i, part) in written {
            if let Some(slot) = parts.get_mut(i) {
                *slot = (part, slot.1 + 1);
            }
        }
        if finished {
            return Ok((moved, true));
        }
        if Instant::now() >= deadline {
            return Ok((moved, false));
        }
    }
}

/// The job applying recorded returns.
pub struct PaymentReturns;

#[async_trait::async_trait]
impl Job for PaymentReturns {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "applies banks' returns: lines paid, their vouchers posted (Art. 39), failed lines back in the queue for a new attempt once their account is corrected"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        // A return that fails is reported and retried later; it never holds up the others.
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let t = jobs::walk_pointers(p, NAME, deadline, |sk| {
            let errors = errors.clone();
            async move {
                let (batch, bank) = sk
                    .rsplit_once('.')
                    .and_then(|(b, code)| Bank::of_code(code).map(|k| (b.to_owned(), k)))
                    .ok_or_else(|| {
                        ApiError::internal(&format!("a return pointer {sk:?} of no known shape"))
                    })?;
                match apply(p, &batch, bank, deadline).await {
                    Ok((n, finished)) => Ok((usize::try_from(n).unwrap_or(usize::MAX), finished)),
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
                "lines moved {}, returns applied {}, still applying {}",
                t.done, t.finished, t.pending
            ),
            detail: json!({ "waiting": t.waiting, "lines": t.done, "finished": t.finished, "pending": t.pending }),
        })
    }
}
