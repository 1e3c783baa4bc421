//! Bank files (批量代发): a batch's payment file for one bank, and the bank's return.
//!
//! The payment file has one row per line: `seq` 序号, `batch` 批次号, `reference` 业务编号
//! (`{line}#{attempt}`: a re-issued line goes out under its new attempt), `account` 收款账号 (the
//! full number: this file is the only place it appears), `holder` 收款户名, `branch` 开户网点,
//! `amount` 金额 and `purpose` 用途. The return is the same file with `result` 处理结果
//! (`成功`/`success` or `失败`/`failed`) and `reason` 失败原因 for a failed row.
//!
//! A return is taken whole or not at all ([`check`]): every row must be a line of that batch
//! and bank at its current attempt, with its account and amount unchanged, answered once, and
//! every line of the bank's share answered; otherwise it is refused with every problem by row
//! and nothing is written.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use swi_payables::account::Bank;
use swi_platform::{ApiError, Platform};
use swi_store::{Query, SkRange};
use swi_tables::columns::{Column, blank};
use swi_tables::{Columns, Format, RowReport};

use crate::model::{Batch, Part, PartLine};

/// The payment file's columns.
pub const PAYMENT_COLUMNS: [Column; 8] = [
    ("seq", "序号"),
    ("batch", "批次号"),
    ("reference", "业务编号"),
    ("account", "收款账号"),
    ("holder", "收款户名"),
    ("branch", "开户网点"),
    ("amount", "金额"),
    ("purpose", "用途"),
];

/// The return file's columns: the payment file's and the result.
pub const RETURN_COLUMNS: [Column; 10] = [
    ("seq", "序号"),
    ("batch", "批次号"),
    ("reference", "业务编号"),
    ("account", "收款账号"),
    ("holder", "收款户名"),
    ("branch", "开户网点"),
    ("amount", "金额"),
    ("purpose", "用途"),
    ("result", "处理结果"),
    ("reason", "失败原因"),
];

/// The longest reason kept from a return.
pub const MAX_REASON_CHARS: usize = 100;

/// A bank's parts of a batch, in order.
///
/// # Errors
/// The store is unavailable.
pub async fn parts_of(p: &Platform, batch: &str, bank: Bank) -> Result<Vec<(Part, u64)>, ApiError> {
    let items = p
        .state
        .query_all(
            &Query::partition(format!("batch#{batch}"))
                .range(SkRange::Prefix(format!("part#{}#", bank.code())))
                .limit(500),
        )
        .await?;
    items
        .iter()
        .map(|i| Ok((i.body().map_err(|e| ApiError::internal(&e))?, i.version)))
        .collect()
}

/// The reference a line goes out under.
#[must_use]
pub fn reference(l: &PartLine) -> String {
    format!("{}#{}", l.line, l.attempt)
}

fn purpose(l: &PartLine) -> &'static str {
    l.item.map_or("退还补充工伤保险费", |i| i.chinese())
}

/// The payment file of a bank's share of a batch.
///
/// # Errors
/// The writer's own failure (it does not happen).
pub fn payment_file(
    batch: &Batch,
    parts: &[(Part, u64)],
    format: Format,
) -> Result<Vec<u8>, ApiError> {
    let mut rows: Vec<[String; 8]> = Vec::new();
    for (part, _) in parts {
        for l in &part.lines {
            rows.push([
                (rows.len() + 1).to_string(),
                batch.id.clone(),
                reference(l),
                l.account.clone(),
                l.holder.clone(),
                l.branch.clone(),
                l.amount.to_string(),
                purpose(l).to_owned(),
            ]);
        }
    }
    swi_tables::render(
        &PAYMENT_COLUMNS,
        &rows,
        format,
        &[(2, 40.0), (3, 24.0), (5, 24.0)],
    )
    .map_err(|e| ApiError::internal(&e))
}

/// The bank's answer for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The line.
    pub line: String,
    /// Failed, with the bank's reason; none when paid.
    pub failed: Option<String>,
}

/// A return file checked: the answer to each line, by line id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Answers by line.
    pub answers: HashMap<String, Answer>,
    /// Rows read.
    pub rows: usize,
}

/// Checks a return table against the bank's parts of the batch: the answers, or every problem
/// by row (the lines not answered reported on row 0).
///
/// # Errors
/// A required column is missing (its identifiers).
pub fn check(
    table: &swi_tables::Table,
    batch: &Batch,
    parts: &[(Part, u64)],
) -> Result<Result<Checked, Vec<RowReport>>, Column> {
    let header = table.first().cloned().unwrap_or_default();
    let cols = Columns::map(
        &header,
        &RETURN_COLUMNS,
        &["batch", "reference", "account", "amount", "result"],
    )?;
    let mut expected: HashMap<String, &PartLine> = HashMap::new();
    for (part, _) in parts {
        for l in &part.lines {
            expected.insert(reference(l), l);
        }
    }
    let mut answers: HashMap<String, Answer> = HashMap::new();
    let mut problems = Vec::new();
    let mut rows = 0;
    for (i, cells) in table.iter().enumerate().skip(1) {
        if blank(cells) {
            continue;
        }
        rows += 1;
        let row = i + 1;
        let mut errors = Vec::new();
        let b = cols.cell(cells, "batch");
        if b != batch.id {
            errors.push(format!(
                "批次号“{}”不是本批次 {} — the row names batch `{}`, not `{}`",
                clip(b),
                batch.id,
                clip(b),
                batch.id
            ));
        }
        let r = cols.cell(cells, "reference");
        match expected.get(r) {
            None => errors.push(format!(
                "业务编号“{}”不在本批次本银行的支付文件中 — no line `{}` in this bank's payment file",
                clip(r),
                clip(r)
            )),
            Some(l) => {
                if cols.cell(cells, "account") != l.account {
                    errors.push("收款账号与支付文件不符 — the account differs from the payment file".to_owned());
                }
                match Decimal::from_str(cols.cell(cells, "amount")) {
                    Ok(a) if a == l.amount => {}
                    _ => errors.push(format!(
                        "金额与支付文件不符（应为 {}） — the amount differs from the payment file ({})",
                        l.amount, l.amount
                    )),
                }
                if answers.contains_key(&l.line) {
                    errors.push("同一业务编号重复出现 — the line is answered twice".to_owned());
                }
            }
        }
        let reason = cols.cell(cells, "reason");
        let failed = match cols.cell(cells, "result") {
            "成功" | "success" => None,
            "失败" | "failed" => {
                if reason.is_empty() {
                    errors
                        .push("失败的行须写明失败原因 — a failed row gives its reason".to_owned());
                }
                Some(reason.chars().take(MAX_REASON_CHARS).collect::<String>())
            }
            other => {
                errors.push(format!(
                    "处理结果“{}”须为“成功”或“失败” — `result` must be success or failed",
                    clip(other)
                ));
                None
            }
        };
        if errors.is_empty() {
            if let Some(l) = expected.get(r) {
                answers.insert(
                    l.line.clone(),
                    Answer {
                        line: l.line.clone(),
                        failed,
                    },
                );
            }
        } else {
            problems.push(RowReport { row, errors });
        }
    }
    if problems.is_empty() && answers.len() < expected.len() {
        let missing: Vec<&str> = expected
            .values()
            .filter(|l| !answers.contains_key(&l.line))
            .map(|l| l.line.as_str())
            .take(5)
            .collect();
        problems.push(RowReport {
            row: 0,
            errors: vec![format!(
                "回盘缺少 {} 笔（如 {}） — {} lines of the payment file are not answered",
                expected.len() - answers.len(),
                missing.join("、"),
                expected.len() - answers.len()
            )],
        });
    }
    Ok(if problems.is_empty() {
        Ok(Checked { answers, rows })
    } else {
        Err(problems)
    })
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use swi_rules::ids::County;

    fn batch() -> (Batch, Vec<(Part, u64)>) {
        let d = NaiveDate::from_ymd_opt(2027, 2, 18).unwrap();
        let b = Batch::new(
            "360702-20270218-D".into(),
            County::parse("360702").unwrap(),
            crate::model::BatchKind::Daily,
            d,
        );
        let line = |id: &str, amount: &str| PartLine {
            line: id.into(),
            attempt: 1,
            account: "6217000000123456784".into(),
            holder: "张三".into(),
            branch: "赣州分行".into(),
            amount: amount.parse().unwrap(),
            item: Some(swi_rules::benefits::Item::Funeral),
            due: d,
        };
        let part = Part {
            batch: b.id.clone(),
            bank: Bank::Ccb,
            n: 1,
            lines: vec![
                line("ls:c-1:funeral", "40000.00"),
                line("ls:c-2:funeral", "41000.00"),
            ],
            returned: None,
        };
        (b, vec![(part, 1)])
    }

    fn returned(
        b: &Batch,
        parts: &[(Part, u64)],
        edit: impl Fn(usize, &mut Vec<String>),
    ) -> swi_tables::Table {
        let file = payment_file(b, parts, Format::Csv).unwrap();
        let mut t = swi_tables::read(&file, &swi_tables::Limits::RECEIPTS).unwrap();
        t[0].extend(["result".to_owned(), "reason".to_owned()]);
        for (i, row) in t.iter_mut().enumerate().skip(1) {
            row.extend(["成功".to_owned(), String::new()]);
            edit(i, row);
        }
        t
    }

    #[test]
    fn a_return_answering_every_line_is_taken() {
        let (b, parts) = batch();
        let t = returned(&b, &parts, |i, row| {
            if i == 2 {
                row[8] = "失败".into();
                row[9] = "账户已销户".into();
            }
        });
        let c = check(&t, &b, &parts).unwrap().unwrap();
        assert_eq!(c.rows, 2);
        assert_eq!(c.answers["ls:c-1:funeral"].failed, None);
        assert_eq!(
            c.answers["ls:c-2:funeral"].failed.as_deref(),
            Some("账户已销户")
        );
    }

    #[test]
    fn a_return_with_a_changed_amount_another_batch_or_a_missing_line_is_refused_whole() {
        let (b, parts) = batch();
        let changed = returned(&b, &parts, |i, row| {
            if i == 1 {
                row[6] = "40000.01".into();
            }
        });
        let p = check(&changed, &b, &parts).unwrap().unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].row, 2);
        assert!(p[0].errors[0].contains("金额"));
        let other = returned(&b, &parts, |_, row| row[1] = "360702-20270217-D".into());
        assert_eq!(check(&other, &b, &parts).unwrap().unwrap_err().len(), 2);
        let mut short = returned(&b, &parts, |_, _| {});
        short.pop();
        let p = check(&short, &b, &parts).unwrap().unwrap_err();
        assert_eq!(p[0].row, 0);
        let mut twice = returned(&b, &parts, |_, _| {});
        twice.push(twice[1].clone());
        assert!(check(&twice, &b, &parts).unwrap().is_err());
        let no_reason = returned(&b, &parts, |_, row| row[8] = "失败".into());
        assert!(check(&no_reason, &b, &parts).unwrap().is_err());
    }
}
