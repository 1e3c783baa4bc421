//! Importing the tax bureau's receipts (税务回执, Art. 8, 16, 19, 21): a file of payments, each
//! naming its bill, read whole and checked row by row against the bills as stored. Any row that
//! does not match — an unknown bill, a bill paid already or twice in the file, a receipt number
//! seen before, a short or excess amount, an impossible day, a malformed or truncated row — and
//! the whole file is refused with a row report; nothing is written. A file that matches is
//! applied: each receipt marks its bill paid and starts the cover waiting for it
//! (`swi_bills::receipt`). What fits one transaction is applied in the request; a larger file is
//! applied by the `receipts-apply` job a transaction at a time from the import's cursor, and rows
//! that stopped matching meanwhile (a concurrent import paid the bill) are listed, not applied.
//!
//! The columns (English identifier or Chinese heading; other columns are ignored):
//! `receipt_no` 回执号 (1-64 of `A-Z a-z 0-9 - _ /`), `bill_id` 核定单号, `amount` 实缴金额
//! (yuan, at most two decimals), `paid_on` 缴费日期 (`YYYY-MM-DD`).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_bills::Bill;
use swi_bills::receipt::{Mismatch, Receipt, check, paid};
use swi_domain::Actor;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, Sha256, StateError, TxOp};
use swi_tables::columns::{Column, blank};
use swi_tables::{Columns, RowReport, Table};

/// The job applying large imports.
pub const NAME: &str = "receipts-apply";

/// The receipts file's columns.
pub const COLUMNS: [Column; 4] = [
    ("receipt_no", "回执号"),
    ("bill_id", "核定单号"),
    ("amount", "实缴金额"),
    ("paid_on", "缴费日期"),
];

/// Operations a transaction gives to receipts (the rest: the import, its file's records, the
/// job's pointer, the import's audit event, the request's idempotency record).
pub const BUDGET: usize = swi_store::state::MAX_TRANSACTION_OPS - 8;

/// Rows kept in an import's lists of rows not applied and cover not started (more are counted).
pub const KEPT: usize = 500;

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Being applied by the job.
    Applying,
    /// Every row dealt with.
    Applied,
}

/// A receipts file imported for a county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptImport {
    /// Id (`ri-<hash prefix>-<county>`).
    pub id: String,
    /// County.
    #[schema(value_type = String)]
    pub county: County,
    /// The file (SHA-256).
    pub sha256: String,
    /// Data rows.
    pub rows: usize,
    /// Rows dealt with (applied or not).
    pub cursor: usize,
    /// Receipts applied (bills paid).
    pub applied: usize,
    /// Their amount.
    pub amount: Decimal,
    /// Enrolments whose cover started.
    pub covered: usize,
    /// Status.
    pub status: ImportStatus,
    /// When it was received.
    pub received_at: NaiveDateTime,
    /// By whom.
    pub by: String,
    /// Rows that stopped matching before they were applied (another import paid the bill).
    pub not_applied: Vec<RowReport>,
    /// Cover that could not start, and why (the unit cancelled, the enrolment ended).
    pub not_started: Vec<String>,
}

/// The key of an import.
#[must_use]
pub fn import_key(id: &str) -> Key {
    Key::new(format!("receipts-import#{id}"), "import")
}

/// The audit case of an import.
#[must_use]
pub fn import_case(id: &str) -> String {
    format!("receipts-import#{id}")
}

/// The id of `sha`'s import for `county`.
#[must_use]
pub fn import_id(sha: &Sha256, county: County) -> String {
    format!("ri-{}-{}", &sha.hex()[..16], county.code())
}

fn pointer_key(id: &str) -> Key {
    Key::new(jobs::pointer_partition(NAME), id)
}

/// Loads an import and its version.
///
/// # Errors
/// The store is unavailable.
pub async fn load_import(p: &Platform, id: &str) -> Result<Option<(ReceiptImport, u64)>, ApiError> {
    p.state
        .get(&import_key(id))
        .await?
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .transpose()
}

/// One receipt of the file and its spreadsheet row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Spreadsheet row (the header is row 1).
    pub line: usize,
    /// The receipt.
    pub receipt: Receipt,
}

fn receipt_no(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/".contains(&b))
}

fn bill_id(s: &str) -> bool {
    s.starts_with("b-")
        && s.len() <= 100
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses the file's rows: the receipts, and what is wrong with each row that is not one —
/// including receipt numbers or bills that appear twice in the file.
///
/// # Errors
/// A header without a required column: `(en, zh)`.
pub fn parse(table: &Table) -> Result<(Vec<Row>, Vec<RowReport>), Column> {
    let header = table.first().cloned().unwrap_or_default();
    let cols = Columns::map(
        &header,
        &COLUMNS,
        &["receipt_no", "bill_id", "amount", "paid_on"],
    )?;
    let mut rows = Vec::new();
    let mut reports = Vec::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        if blank(cells) {
            continue;
        }
        let line = i + 1;
        let mut errors = Vec::new();
        let number = cols.cell(cells, "receipt_no");
        if !receipt_no(number) {
            errors.push("回执号须为 1-64 个字母、数字或 - _ / — `receipt_no` must be 1-64 of A-Z a-z 0-9 - _ /".to_owned());
        }
        let bill = cols.cell(cells, "bill_id");
        if !bill_id(bill) {
            errors.push("核定单号不正确 — `bill_id` is not a bill's id".to_owned());
        }
        let amount = Decimal::from_str(cols.cell(cells, "amount"))
            .ok()
            .filter(|a| a.is_sign_positive() && !a.is_zero() && a.scale() <= 2)
            .filter(|a| *a <= Decimal::from(100_000_000));
        if amount.is_none() {
            errors.push("实缴金额须为正数，至多两位小数 — `amount` must be a positive amount in yuan with at most two decimals".to_owned());
        }
        let paid_on = NaiveDate::parse_from_str(cols.cell(cells, "paid_on"), "%Y-%m-%d").ok();
        if paid_on.is_none() {
            errors
                .push("缴费日期须为 YYYY-MM-DD — `paid_on` must be a date, YYYY-MM-DD".to_owned());
        }
        match (errors.is_empty(), amount, paid_on) {
            (true, Some(amount), Some(paid_on)) => rows.push(Row {
                line,
                receipt: Receipt {
                    number: number.to_owned(),
                    bill: bill.to_owned(),
                    amount,
                    paid_on,
                },
            }),
            _ => reports.push(RowReport { row: line, errors }),
        }
    }
    // A receipt number or a bill twice in one file: every such row is reported (never guessed
    // which one counts).
    let mut numbers: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut bills: HashMap<&str, Vec<usize>> = HashMap::new();
    for r in &rows {
        numbers.entry(&r.receipt.number).or_default().push(r.line);
        bills.entry(&r.receipt.bill).or_default().push(r.line);
    }
    let mut twice: HashMap<usize, Vec<String>> = HashMap::new();
    for (n, lines) in numbers.iter().filter(|(_, l)| l.len() > 1) {
        for l in lines {
            twice.entry(*l).or_default().push(format!(
                "回执号 {n} 在文件中出现 {} 次 — receipt {n} appears {} times in the file",
                lines.len(),
                lines.len()
            ));
        }
    }
    for (b, lines) in bills.iter().filter(|(_, l)| l.len() > 1) {
        for l in lines {
            twice.entry(*l).or_default().push(format!(
                "核定单 {b} 在文件中出现 {} 次，一张核定单只对应一张回执 — bill {b} appears {} times in the file; a bill is paid by one receipt",
                lines.len(),
                lines.len()
            ));
        }
    }
    if !twice.is_empty() {
        rows.retain(|r| {
            if let Some(errors) = twice.remove(&r.line) {
                reports.push(RowReport {
                    row: r.line,
                    errors,
                });
                false
            } else {
                true
            }
        });
    }
    reports.sort_by_key(|r| r.row);
    Ok((rows, reports))
}

/// A row checked against its bill as stored: the bill and its version, or why it does not match.
pub type Checked = (Row, Result<(Bill, u64), Mismatch>);

/// Checks every row against its bill as stored, in file order (reads run a few dozen at a
/// time). `within` is the importer's jurisdiction.
///
/// # Errors
/// The store is unavailable.
pub async fn check_rows(
    p: &Platform,
    actor: &Actor,
    rows: Vec<Row>,
    today: NaiveDate,
) -> Result<Vec<Checked>, ApiError> {
    let within = |county: County| actor.jurisdiction.covers(county);
    futures_util::stream::iter(rows)
        .map(|row| async move {
            let m = check(p, &row.receipt, today, within).await?;
            Ok::<_, ApiError>((row, m))
        })
        .buffered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The report of a row that does not match.
#[must_use]
pub fn mismatch_report(row: &Row, why: &Mismatch) -> RowReport {
    RowReport {
        row: row.line,
        errors: vec![why.sentence(&row.receipt)],
    }
}

/// A transaction's worth of receipts applied to an import: the operations and audit events,
/// and how many rows they consumed.
pub struct Batch {
    /// Operations.
    pub ops: Vec<TxOp>,
    /// Audit events.
    pub audit: Vec<Audit>,
    /// Rows consumed, in file order (applied, or listed as not applied).
    pub consumed: usize,
    /// Receipts applied.
    pub applied: usize,
}

/// Takes rows in file order into one transaction's worth: a matching row is paid (its bill,
/// its cover), one that no longer matches is listed in `imp.not_applied`; stops before the row
/// that would not fit. Adds the results to `imp`.
///
/// # Errors
/// The store is unavailable.
pub async fn batch(
    p: &Platform,
    imp: &mut ReceiptImport,
    rows: Vec<Checked>,
    at: NaiveDateTime,
) -> Result<Batch, ApiError> {
    let mut out = Batch {
        ops: Vec::new(),
        audit: Vec::new(),
        consumed: 0,
        applied: 0,
    };
    let applied_before = imp.applied;
    let mut received = rust_decimal::Decimal::ZERO;
    for (row, m) in rows {
        match m {
            Err(why) => {
                if imp.not_applied.len() < KEPT {
                    imp.not_applied.push(mismatch_report(&row, &why));
                }
            }
            Ok((bill, version)) => {
                let amount = row.receipt.amount;
                let paid = paid(p, bill, version, &row.receipt, &imp.sha256, at).await?;
                let size = paid.ops.len() + paid.audit.len();
                // One operation is kept for the voucher of what the transaction receives.
                if out.applied > 0 && out.ops.len() + out.audit.len() + size + 1 > BUDGET {
                    break;
                }
                // Receipts of one unit check the unit once (a transaction names an item once).
                for op in paid.ops {
                    let repeated = matches!(op, TxOp::Check { .. })
                        && out.ops.iter().any(|o| o.key() == op.key());
                    if !repeated {
                        out.ops.push(op);
                    }
                }
                out.audit.extend(paid.audit);
                out.applied += 1;
                imp.applied += 1;
                imp.amount += amount;
                received += amount;
                imp.covered += paid.covered.len();
                for why in paid.not_started {
                    if imp.not_started.len() < KEPT {
                        imp.not_started.push(why);
                    }
                }
            }
        }
        out.consumed += 1;
    }
    if received > rust_decimal::Decimal::ZERO {
        // Art. 39: the receipts booked as the tax bureau reports them (Dr 1002, Cr 4001).
        let voucher = swi_ledger::posting::premium_receipt(
            at.date(),
            format!("税务代征到账 {}（{} 笔）", imp.id, out.applied),
            received,
        )
        .map_err(|e| ApiError::internal(&e))?;
        out.ops.push(
            swi_ledger::posting::post_op(&swi_ledger::Posted {
                id: format!("receipts:{}:{applied_before}", imp.id),
                voucher,
                county: Some(imp.county),
                posted_at: at,
                by: imp.by.clone(),
            })
            .map_err(|e| ApiError::internal(&e))?,
        );
    }
    Ok(out)
}

/// The import record's operation.
///
/// # Errors
/// Serialization (it does not fail).
pub fn import_op(imp: &ReceiptImport, condition: Condition) -> Result<TxOp, ApiError> {
    let k = import_key(&imp.id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, imp)?,
        condition,
    })
}

/// The job pointer's operation: moved while applying (each write differs, so that DynamoDB's
/// stream sees it), deleted when done.
///
/// # Errors
/// Serialization (it does not fail).
pub fn pointer_op(imp: &ReceiptImport) -> Result<TxOp, ApiError> {
    let k = pointer_key(&imp.id);
    Ok(if imp.status == ImportStatus::Applying {
        TxOp::Put {
            item: Item::new(
                k.pk,
                k.sk,
                &json!({ "import": imp.id, "cursor": imp.cursor }),
            )?,
            condition: Condition::None,
        }
    } else {
        TxOp::Delete {
            key: k,
            condition: Condition::None,
        }
    })
}

/// Applies an import from its cursor until done or `deadline` (at least one transaction): each
/// transaction re-checks its rows against the bills as stored, pays those that match and lists
/// those that no longer do, and moves the import, conditioned on its version.
///
/// # Errors
/// The store is unavailable; the file cannot be read back.
pub async fn apply_import(
    p: &Platform,
    id: &str,
    deadline: Instant,
) -> Result<(usize, bool), ApiError> {
    let Some((mut imp, mut version)) = load_import(p, id).await? else {
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(id),
                condition: Condition::None,
            }])
            .await?;
        return Ok((0, true));
    };
    let sha = Sha256::parse(&imp.sha256).map_err(|e| ApiError::internal(&e))?;
    let table =
        swi_platform::documents::load_table(p, &sha, &swi_tables::Limits::RECEIPTS, "回执文件")
            .await?;
    let (rows, _) = parse(&table).map_err(|(en, _)| ApiError::internal(&format_args!("{en}")))?;
    drop(table);
    let actor = jobs::job_actor(NAME, format!("回执导入任务（{}）", imp.by));
    let today = p.clock.today();
    let mut done = 0;
    loop {
        if imp.status == ImportStatus::Applied {
            p.state.transact(vec![pointer_op(&imp)?]).await?;
            return Ok((done, true));
        }
        let from = imp.cursor;
        let chunk: Vec<Row> = rows.iter().skip(from).take(BUDGET / 4).cloned().collect();
        let checked = check_rows(p, &city(&actor), chunk, today).await?;
        let b = batch(p, &mut imp, checked, p.clock.now().naive_local()).await?;
        imp.cursor = (from + b.consumed).min(imp.rows);
        if imp.cursor >= imp.rows || b.consumed == 0 {
            imp.cursor = imp.rows;
            imp.status = ImportStatus::Applied;
        }
        let mut ops = b.ops;
        let mut audit = b.audit;
        audit.push(Audit {
            case: import_case(&imp.id),
            command: if imp.status == ImportStatus::Applied {
                "receipts.applied".into()
            } else {
                "receipts.apply".into()
            },
            change: json!({ "rows": [from + 1, imp.cursor], "applied": imp.applied, "basis": "Art. 8, 19" }),
        });
        ops.extend(audit_ops(p, &actor, &audit).await?);
        ops.push(import_op(&imp, Condition::VersionIs(version))?);
        ops.push(pointer_op(&imp)?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            // Another run moved it (or a bill changed under it): the next run goes on.
            Err(StateError::Conflict { .. }) => return Ok((done, false)),
            Err(e) => return Err(e.into()),
        }
        version += 1;
        done += b.applied;
        if imp.status == ImportStatus::Applied {
            return Ok((done, true));
        }
        if Instant::now() >= deadline {
            return Ok((done, false));
        }
    }
}

/// The job acts for the city: the import's county was checked when it was received.
fn city(actor: &Actor) -> Actor {
    Actor {
        jurisdiction: swi_domain::Jurisdiction::City,
        ..actor.clone()
    }
}

/// The job applying large receipt imports.
pub struct ReceiptsApply;

#[async_trait::async_trait]
impl Job for ReceiptsApply {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "applies large receipt imports a transaction at a time: bills paid, cover started (Art. 8, 19)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let t = jobs::walk_pointers(p, NAME, deadline, |id| async move {
            apply_import(p, &id, deadline).await
        })
        .await?;
        Ok(Report {
            job: NAME,
            done: t.done,
            pending: t.pending,
            errors: Vec::new(),
            summary: format!(
                "receipts applied {}, imports finished {}, still applying {}",
                t.done, t.finished, t.pending
            ),
            detail: json!({ "waiting": t.waiting, "receipts": t.done, "finished": t.finished, "pending": t.pending }),
        })
    }
}
