//! Reconciliation (对账, Art. 40): 承办机构应每月定期与开户银行、市社会保险经办机构对账。市社会保险经办机构应每月定期与税务部门、开户银行对账。
//!
//! Each kind compares this system's entries for a county and month with the other side's:
//!
//! | kind | ours | theirs |
//! | --- | --- | --- |
//! | `contractor_bank` | the contractor's payouts (each bank's share of a batch, as returned) and the transfers it received | the bank's statement (imported) |
//! | `contractor_agency` | the payouts the banks returned paid in the month before | the agency's approved request and transfer |
//! | `agency_tax` | the premium receipts booked (vouchers `receipts:…`) | the tax bureau's statement (imported) |
//! | `agency_bank` | the receipts booked and the transfers made | the agency's bank statement (imported) |
//!
//! Entries are matched by reference first, then by day, direction and amount; what is left is
//! listed line by line to the fen — an entry only one side has, or one whose amounts differ —
//! and never forced to zero.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_platform::{ApiError, Platform};
use swi_rules::billing::month_of;
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, TxOp};
use swi_tables::columns::{Column, blank};
use swi_tables::{Columns, Limits, RowReport};

/// What is reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The contractor's payment account against its bank's statement.
    ContractorBank,
    /// The contractor's payouts against the agency's approved request and transfer.
    ContractorAgency,
    /// The agency's premium receipts against the tax bureau's statement.
    AgencyTax,
    /// The agency's fund accounts against its bank's statement.
    AgencyBank,
}

impl Kind {
    /// Whether the other side is a statement imported as a file.
    #[must_use]
    pub const fn takes_statement(self) -> bool {
        !matches!(self, Kind::ContractorAgency)
    }

    /// Whose staff reconcile it: the contractor's finance, or the agency's officers.
    #[must_use]
    pub const fn contractor(self) -> bool {
        matches!(self, Kind::ContractorBank | Kind::ContractorAgency)
    }

    /// The name in Chinese.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Kind::ContractorBank => "承办机构与开户银行对账",
            Kind::ContractorAgency => "承办机构与经办机构对账",
            Kind::AgencyTax => "经办机构与税务部门对账",
            Kind::AgencyBank => "经办机构与开户银行对账",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::ContractorBank => "contractor_bank",
            Kind::ContractorAgency => "contractor_agency",
            Kind::AgencyTax => "agency_tax",
            Kind::AgencyBank => "agency_bank",
        }
    }
}

/// Money in or out of the account reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 收.
    In,
    /// 支.
    Out,
}

/// One entry of either side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// Day.
    pub date: NaiveDate,
    /// In or out.
    pub direction: Direction,
    /// Amount.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// Reference (batch and bank, transfer reference, voucher…); may be empty on a statement.
    pub reference: String,
    /// What it is.
    pub memo: String,
}

/// A difference between the two sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// Ours has it, theirs does not.
    OnlyOurs {
        /// Our entry.
        ours: Entry,
    },
    /// Theirs has it, ours does not.
    OnlyTheirs {
        /// Their entry.
        theirs: Entry,
    },
    /// Both have the reference, the amounts differ.
    Amount {
        /// Our entry.
        ours: Entry,
        /// Their entry.
        theirs: Entry,
        /// Ours less theirs, to the fen.
        #[schema(value_type = String, example = "0.01")]
        difference: Decimal,
    },
}

/// The most differences a reconciliation keeps (the rest are counted in [`Outcome::more`]).
pub const DIFFERENCES_KEPT: usize = 1_000;

/// What a comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome {
    /// Entries matched.
    pub matched: usize,
    /// Differences, line by line.
    pub differences: Vec<Difference>,
    /// Differences found beyond those kept.
    #[serde(default)]
    pub more: usize,
}

impl Outcome {
    /// Keeps the first `n` differences and counts the rest.
    pub fn cap(&mut self, n: usize) {
        if self.differences.len() > n {
            self.more += self.differences.len() - n;
            self.differences.truncate(n);
        }
    }
}

/// Matches `ours` against `theirs`: by reference first, then by day, direction and amount.
#[must_use]
pub fn compare(ours: &[Entry], theirs: &[Entry]) -> Outcome {
    let mut out = Outcome::default();
    let mut left: Vec<Option<&Entry>> = theirs.iter().map(Some).collect();
    let mut by_ref: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in theirs.iter().enumerate() {
        if !t.reference.is_empty() {
            by_ref.entry(t.reference.as_str()).or_default().push(i);
        }
    }
    let mut unmatched_ours = Vec::new();
    for o in ours {
        let hit = by_ref
            .get(o.reference.as_str())
            .and_then(|is| is.iter().copied().find(|&i| left[i].is_some()));
        match hit {
            Some(i) => {
                let t = left[i].take().unwrap_or_else(|| unreachable!());
                if t.amount == o.amount && t.direction == o.direction {
                    out.matched += 1;
                } else {
                    out.differences.push(Difference::Amount {
                        ours: o.clone(),
                        theirs: t.clone(),
                        difference: signed(o) - signed(t),
                    });
                }
            }
            None => unmatched_ours.push(o),
        }
    }
    let mut by_day: HashMap<(NaiveDate, Direction, Decimal), Vec<usize>> = HashMap::new();
    for (i, t) in left.iter().enumerate() {
        if let Some(t) = t {
            by_day
                .entry((t.date, t.direction, t.amount))
                .or_default()
                .push(i);
        }
    }
    for o in unmatched_ours {
        let hit = by_day
            .get_mut(&(o.date, o.direction, o.amount))
            .and_then(|is| {
                let at = is.iter().position(|&i| left[i].is_some())?;
                Some(is.remove(at))
            });
        match hit {
            Some(i) => {
                left[i] = None;
                out.matched += 1;
            }
            None => out
                .differences
                .push(Difference::OnlyOurs { ours: o.clone() }),
        }
    }
    for t in left.into_iter().flatten() {
        out.differences
            .push(Difference::OnlyTheirs { theirs: t.clone() });
    }
    out
}

fn signed(e: &Entry) -> Decimal {
    match e.direction {
        Direction::In => e.amount,
        Direction::Out => -e.amount,
    }
}

/// A statement's columns.
pub const STATEMENT_COLUMNS: [Column; 5] = [
    ("date", "交易日期"),
    ("direction", "收支"),
    ("amount", "金额"),
    ("reference", "业务编号"),
    ("memo", "摘要"),
];

/// The bounds a statement is read within.
pub const LIMITS: Limits = Limits::RECEIPTS;

/// Reads a statement: its entries, or every problem by row.
///
/// # Errors
/// A required column is missing.
pub fn statement(table: &swi_tables::Table) -> Result<Result<Vec<Entry>, Vec<RowReport>>, Column> {
    let header = table.first().cloned().unwrap_or_default();
    let cols = Columns::map(
        &header,
        &STATEMENT_COLUMNS,
        &["date", "direction", "amount"],
    )?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        if blank(cells) {
            continue;
        }
        let mut errors = Vec::new();
        let date = NaiveDate::parse_from_str(cols.cell(cells, "date"), "%Y-%m-%d").ok();
        if date.is_none() {
            errors.push("交易日期须为 YYYY-MM-DD — `date` must be YYYY-MM-DD".to_owned());
        }
        let direction = match cols.cell(cells, "direction") {
            "收" | "in" => Some(Direction::In),
            "支" | "out" => Some(Direction::Out),
            _ => {
                errors.push("收支须为“收”或“支” — `direction` is in or out".to_owned());
                None
            }
        };
        let amount = Decimal::from_str(cols.cell(cells, "amount"))
            .ok()
            .filter(|a| {
                *a > Decimal::ZERO && a.scale() <= 2 && *a < Decimal::from(10_000_000_000_i64)
            });
        if amount.is_none() {
            errors.push(
                "金额须为正数，至多两位小数 — `amount` must be positive, to the fen".to_owned(),
            );
        }
        let clip = |s: &str| s.chars().take(64).collect::<String>();
        match (errors.is_empty(), date, direction, amount) {
            (true, Some(date), Some(direction), Some(amount)) => entries.push(Entry {
                date,
                direction,
                amount,
                reference: clip(cols.cell(cells, "reference")),
                memo: clip(cols.cell(cells, "memo")),
            }),
            _ => problems.push(RowReport { row: i + 1, errors }),
        }
    }
    Ok(if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    })
}

/// Our side of `kind` for a county and month.
///
/// # Errors
/// The store is unavailable.
pub async fn ours(
    p: &Platform,
    kind: Kind,
    county: County,
    month: NaiveDate,
) -> Result<Vec<Entry>, ApiError> {
    let month = month_of(month);
    let mut out = Vec::new();
    match kind {
        Kind::ContractorBank => {
            for (b, bank, _, amount) in crate::cycle::shares_paid_in(p, county, month).await? {
                let on = b
                    .banks
                    .get(&bank)
                    .and_then(|s| s.returned_on)
                    .unwrap_or(month);
                out.push(Entry {
                    date: on,
                    direction: Direction::Out,
                    amount,
                    reference: format!("{}-{}", b.id, bank.code()),
                    memo: format!("批量代发 {} {}", b.id, bank.zh()),
                });
            }
            for (c, _) in crate::cycle::list(p, county, 24).await? {
                if let Some(t) = c.transfer.filter(|t| month_of(t.on) == month) {
                    out.push(Entry {
                        date: t.on,
                        direction: Direction::In,
                        amount: t.amount,
                        reference: t.reference,
                        memo: format!("经办机构拨付 {} 请款", c.month.format("%Y-%m")),
                    });
                }
            }
        }
        Kind::ContractorAgency => {
            let before = month
                .checked_sub_months(chrono::Months::new(1))
                .ok_or_else(|| ApiError::internal(&"month out of range"))?;
            let s = crate::cycle::summarise(p, county, before).await?;
            for (code, name, amount) in s.by_account {
                out.push(Entry {
                    date: before,
                    direction: Direction::Out,
                    amount: amount.parse().map_err(|e| ApiError::internal(&e))?,
                    reference: code,
                    memo: name,
                });
            }
        }
        Kind::AgencyTax | Kind::AgencyBank => {
            for v in crate::books::vouchers(p, month, Some(county)).await? {
                let (direction, take) = if v.id.starts_with("receipts:") {
                    (Direction::In, true)
                } else if v.id.starts_with("transfer:") {
                    (Direction::Out, kind == Kind::AgencyBank)
                } else {
                    (Direction::In, false)
                };
                if take {
                    out.push(Entry {
                        date: v.voucher.date,
                        direction,
                        amount: v.voucher.total(),
                        reference: v.id.clone(),
                        memo: v.voucher.source.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The agency's side of `contractor_agency`: the approved request's summary by account, and
/// the transfer.
///
/// # Errors
/// The store is unavailable.
pub async fn agency_side(
    p: &Platform,
    county: County,
    month: NaiveDate,
) -> Result<Vec<Entry>, ApiError> {
    let Some((c, _)) = crate::cycle::load(p, county, month_of(month)).await? else {
        return Ok(Vec::new());
    };
    let before = c
        .month
        .checked_sub_months(chrono::Months::new(1))
        .ok_or_else(|| ApiError::internal(&"month out of range"))?;
    let approved = c.decisions.last().filter(|d| d.approved).map(|d| d.request);
    let Some(s) = approved
        .and_then(|n| c.requests.iter().find(|r| r.n == n))
        .and(c.summary.as_ref())
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (code, name, amount) in &s.by_account {
        out.push(Entry {
            date: before,
            direction: Direction::Out,
            amount: amount.parse().map_err(|e| ApiError::internal(&e))?,
            reference: code.clone(),
            memo: name.clone(),
        });
    }
    Ok(out)
}

/// A reconciliation made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// Kind.
    pub kind: Kind,
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Month.
    pub month: NaiveDate,
    /// The statement compared (SHA-256), for the kinds that take one.
    pub statement: Option<String>,
    /// Our entries.
    pub ours: usize,
    /// Their entries.
    pub theirs: usize,
    /// Our total (in less out).
    #[schema(value_type = String)]
    pub ours_net: Decimal,
    /// Their total (in less out).
    #[schema(value_type = String)]
    pub theirs_net: Decimal,
    /// What was found.
    pub outcome: Outcome,
    /// When.
    pub at: NaiveDateTime,
    /// By whom.
    pub by: String,
}

impl Reconciliation {
    /// Whether the two sides agree entry by entry.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.outcome.differences.is_empty()
    }
}

/// The net of entries.
#[must_use]
pub fn net(entries: &[Entry]) -> Decimal {
    entries.iter().map(signed).sum()
}

/// The partition of a county's month's reconciliations.
#[must_use]
pub fn partition(county: County, month: NaiveDate) -> String {
    format!("recon#{}#{}", county.code(), month.format("%Y-%m"))
}

/// The key of the `n`-th reconciliation of a kind (each is kept: a month may be reconciled
/// again).
#[must_use]
pub fn key(r: &Reconciliation, n: usize) -> Key {
    Key::new(
        partition(r.county, r.month),
        format!("{}#{n:04}", r.kind.as_str()),
    )
}

/// How many reconciliations of `kind` the month has.
///
/// # Errors
/// The store is unavailable.
pub async fn count(
    p: &Platform,
    kind: Kind,
    county: County,
    month: NaiveDate,
) -> Result<usize, ApiError> {
    Ok(p.state
        .query_all(
            &swi_store::Query::partition(partition(county, month))
                .range(swi_store::SkRange::Prefix(format!("{}#", kind.as_str())))
                .limit(1000),
        )
        .await?
        .len())
}

/// The create-only write of the `n`-th reconciliation of its kind (a concurrent one conflicts).
///
/// # Errors
/// Serialization (it does not fail).
pub fn op(r: &Reconciliation, n: usize) -> Result<TxOp, ApiError> {
    let k = key(r, n);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, r)?,
        condition: Condition::NotExists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(day: &str, direction: Direction, amount: &str, reference: &str) -> Entry {
        Entry {
            date: day.parse().unwrap(),
            direction,
            amount: amount.parse().unwrap(),
            reference: reference.into(),
            memo: String::new(),
        }
    }

    #[test]
    fn agreeing_sides_match_by_reference_or_by_day_and_amount() {
        let ours = vec![
            e(
                "2027-03-02",
                Direction::Out,
                "10500.00",
                "360702-20270301-D-105",
            ),
            e("2027-03-14", Direction::In, "50500.00", "ZF20270314001"),
        ];
        let theirs = vec![
            e("2027-03-14", Direction::In, "50500.00", ""),
            e(
                "2027-03-02",
                Direction::Out,
                "10500.00",
                "360702-20270301-D-105",
            ),
        ];
        let o = compare(&ours, &theirs);
        assert_eq!(o.matched, 2);
        assert!(o.differences.is_empty());
        assert_eq!(net(&ours), net(&theirs));
    }

    #[test]
    fn a_difference_of_a_fen_is_found_and_named_never_forced_to_zero() {
        let ours = vec![
            e("2027-03-02", Direction::Out, "10500.00", "b1-105"),
            e("2027-03-05", Direction::Out, "40000.00", "b2-105"),
        ];
        let theirs = vec![
            e("2027-03-02", Direction::Out, "10500.01", "b1-105"),
            e("2027-03-09", Direction::Out, "12.00", "fee"),
        ];
        let o = compare(&ours, &theirs);
        assert_eq!(o.matched, 0);
        assert_eq!(o.differences.len(), 3);
        assert!(matches!(
            &o.differences[0],
            Difference::Amount { difference, ours, .. }
                if *difference == "0.01".parse::<Decimal>().unwrap() && ours.reference == "b1-105"
        ));
        assert!(
            matches!(&o.differences[1], Difference::OnlyOurs { ours } if ours.reference == "b2-105")
        );
        assert!(
            matches!(&o.differences[2], Difference::OnlyTheirs { theirs } if theirs.reference == "fee")
        );
    }

    #[test]
    fn a_statement_is_read_with_every_problem_by_row() {
        let t: swi_tables::Table = vec![
            vec![
                "交易日期".into(),
                "收支".into(),
                "金额".into(),
                "业务编号".into(),
            ],
            vec![
                "2027-03-02".into(),
                "支".into(),
                "10500.00".into(),
                "b1-105".into(),
            ],
            vec!["2027/03/02".into(), "出".into(), "-1".into(), String::new()],
        ];
        let p = statement(&t).unwrap().unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].row, 3);
        assert_eq!(p[0].errors.len(), 3);
        let ok = statement(&t[..2].to_vec()).unwrap().unwrap();
        assert_eq!(ok[0].direction, Direction::Out);
    }
}
