//! Vouchers (记账凭证, Art. 39) and the trial balance (试算平衡表).
//!
//! A voucher is made only balanced: at least two entries, each on a postable account of the
//! chart, each a debit or a credit of a positive amount in fen, the debits summing to the
//! credits. A trial balance sums a period's vouchers per account; it balances by construction,
//! and [`TrialBalance::balanced`] says so from the sums themselves (a book whose vouchers were
//! altered after they were made shows it).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::chart::{Subject, postable, subject};

/// The most entries a voucher takes.
pub const MAX_ENTRIES: usize = 200;

/// The largest amount an entry takes, in yuan (a bound on input, far above any real payment).
pub const MAX_AMOUNT: i64 = 10_000_000_000;

/// Which side an entry is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// 借.
    Debit,
    /// 贷.
    Credit,
}

/// One entry of a voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// The account's code.
    pub account: String,
    /// Side.
    pub side: Side,
    /// Amount in yuan, to the fen.
    #[schema(value_type = String, example = "3500.00")]
    pub amount: Decimal,
    /// What it is (摘要).
    pub memo: String,
}

/// A balanced voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Voucher {
    /// The day it is booked on.
    pub date: NaiveDate,
    /// What it books (the receipt, refund, transfer or payment it comes from).
    pub source: String,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// Why a voucher was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherError {
    /// Fewer than two entries, or more than [`MAX_ENTRIES`].
    #[error("a voucher has 2-{MAX_ENTRIES} entries, not {0}")]
    Entries(usize),
    /// An account the chart does not have.
    #[error("account {0} is not in the chart")]
    UnknownAccount(String),
    /// An account whose entries go on its detail accounts.
    #[error("account {0} takes its entries on its detail accounts")]
    NotPostable(String),
    /// An amount not positive, not to the fen, or beyond the bound.
    #[error("entry {0}: an amount is positive, to the fen, at most {MAX_AMOUNT} yuan")]
    Amount(usize),
    /// The debits do not equal the credits.
    #[error("debits {debits} and credits {credits} differ")]
    Unbalanced {
        /// Sum of debits.
        debits: Decimal,
        /// Sum of credits.
        credits: Decimal,
    },
}

impl Voucher {
    /// A voucher of `entries`, checked.
    ///
    /// # Errors
    /// What is wrong with it, the first thing found.
    pub fn new(date: NaiveDate, source: String, entries: Vec<Entry>) -> Result<Self, VoucherError> {
        if !(2..=MAX_ENTRIES).contains(&entries.len()) {
            return Err(VoucherError::Entries(entries.len()));
        }
        let (mut debits, mut credits) = (Decimal::ZERO, Decimal::ZERO);
        for (i, e) in entries.iter().enumerate() {
            let s = subject(&e.account)
                .ok_or_else(|| VoucherError::UnknownAccount(e.account.clone()))?;
            if !postable(s) {
                return Err(VoucherError::NotPostable(e.account.clone()));
            }
            if e.amount <= Decimal::ZERO
                || e.amount.round_dp(2) != e.amount
                || e.amount > Decimal::from(MAX_AMOUNT)
            {
                return Err(VoucherError::Amount(i));
            }
            match e.side {
                Side::Debit => debits += e.amount,
                Side::Credit => credits += e.amount,
            }
        }
        if debits != credits {
            return Err(VoucherError::Unbalanced { debits, credits });
        }
        Ok(Voucher {
            date,
            source,
            entries,
        })
    }

    /// Its total (the debits, equal to the credits).
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.entries
            .iter()
            .filter(|e| e.side == Side::Debit)
            .map(|e| e.amount)
            .sum()
    }
}

/// One account's line of a trial balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The account.
    pub subject: &'static Subject,
    /// Debits in the period.
    pub debits: Decimal,
    /// Credits in the period.
    pub credits: Decimal,
}

impl Row {
    /// The period's balance on the account's normal side (debits less credits for assets and
    /// expenses, credits less debits otherwise).
    #[must_use]
    pub fn balance(&self) -> Decimal {
        if self.subject.category.debit_normal() {
            self.debits - self.credits
        } else {
            self.credits - self.debits
        }
    }
}

/// A period's trial balance: every account posted to, in code order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialBalance {
    /// The rows.
    pub rows: Vec<Row>,
}

impl TrialBalance {
    /// The trial balance of `vouchers`.
    #[must_use]
    pub fn of<'a>(vouchers: impl IntoIterator<Item = &'a Voucher>) -> Self {
        let mut sums: BTreeMap<&'static str, (Decimal, Decimal)> = BTreeMap::new();
        for v in vouchers {
            for e in &v.entries {
                // A voucher is only made of chart accounts; one altered afterwards shows as
                // unbalanced rather than being dropped here.
                let code = subject(&e.account).map_or("????", |s| s.code);
                let sum = sums.entry(code).or_default();
                match e.side {
                    Side::Debit => sum.0 += e.amount,
                    Side::Credit => sum.1 += e.amount,
                }
            }
        }
        TrialBalance {
            rows: sums
                .into_iter()
                .filter_map(|(code, (debits, credits))| {
                    subject(code).map(|subject| Row {
                        subject,
                        debits,
                        credits,
                    })
                })
                .collect(),
        }
    }

    /// The sums of all debits and of all credits.
    #[must_use]
    pub fn totals(&self) -> (Decimal, Decimal) {
        self.rows
            .iter()
            .fold((Decimal::ZERO, Decimal::ZERO), |(d, c), r| {
                (d + r.debits, c + r.credits)
            })
    }

    /// Whether the debits equal the credits.
    #[must_use]
    pub fn balanced(&self) -> bool {
        let (d, c) = self.totals();
        d == c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()
    }

    fn entry(account: &str, side: Side, amount: &str) -> Entry {
        Entry {
            account: account.into(),
            side,
            amount: amount.parse().unwrap(),
            memo: String::new(),
        }
    }

    #[test]
    fn a_voucher_is_made_only_balanced() {
        use Side::{Credit, Debit};
        // A disability allowance paid from the payments account.
        let v = Voucher::new(
            day(),
            "payment p-1".into(),
            vec![
                entry("500102", Debit, "1234.56"),
                entry("1004", Credit, "1234.56"),
            ],
        )
        .unwrap();
        assert_eq!(v.total(), "1234.56".parse::<Decimal>().unwrap());
        let make = |entries| Voucher::new(day(), "x".into(), entries);
        assert_eq!(
            make(vec![
                entry("500102", Debit, "1.00"),
                entry("1004", Credit, "0.99")
            ]),
            Err(VoucherError::Unbalanced {
                debits: "1.00".parse().unwrap(),
                credits: "0.99".parse().unwrap()
            })
        );
        assert_eq!(
            make(vec![entry("5001", Debit, "1"), entry("1004", Credit, "1")]),
            Err(VoucherError::NotPostable("5001".into()))
        );
        assert_eq!(
            make(vec![entry("1202", Debit, "1"), entry("1004", Credit, "1")]),
            Err(VoucherError::UnknownAccount("1202".into()))
        );
        assert_eq!(
            make(vec![
                entry("500101", Debit, "0.001"),
                entry("1004", Credit, "0.001")
            ]),
            Err(VoucherError::Amount(0))
        );
        assert_eq!(
            make(vec![
                entry("500101", Debit, "-5"),
                entry("1004", Credit, "-5")
            ]),
            Err(VoucherError::Amount(0))
        );
        assert_eq!(
            make(vec![entry("1004", Debit, "5")]),
            Err(VoucherError::Entries(1))
        );
    }

    #[test]
    fn a_trial_balance_sums_each_account_and_balances() {
        use Side::{Credit, Debit};
        let vouchers = [
            // Premiums received through the treasury, then moved to the fiscal account.
            Voucher::new(
                day(),
                "receipts r-1".into(),
                vec![
                    entry("1005", Debit, "1000.00"),
                    entry("4001", Credit, "1000.00"),
                ],
            )
            .unwrap(),
            Voucher::new(
                day(),
                "transfer t-1".into(),
                vec![
                    entry("1003", Debit, "1000.00"),
                    entry("1005", Credit, "1000.00"),
                ],
            )
            .unwrap(),
            Voucher::new(
                day(),
                "payment p-1".into(),
                vec![
                    entry("500101", Debit, "300.50"),
                    entry("1003", Credit, "300.50"),
                ],
            )
            .unwrap(),
        ];
        let tb = TrialBalance::of(&vouchers);
        assert!(tb.balanced());
        assert_eq!(tb.totals().0, "2300.50".parse::<Decimal>().unwrap());
        let row = |code: &str| tb.rows.iter().find(|r| r.subject.code == code).unwrap();
        assert_eq!(row("1005").balance(), Decimal::ZERO);
        assert_eq!(row("1003").balance(), "699.50".parse::<Decimal>().unwrap());
        assert_eq!(row("4001").balance(), "1000.00".parse::<Decimal>().unwrap());
        assert_eq!(
            row("500101").balance(),
            "300.50".parse::<Decimal>().unwrap()
        );
        let codes: Vec<_> = tb.rows.iter().map(|r| r.subject.code).collect();
        assert_eq!(codes, ["1003", "1005", "4001", "500101"]);
        // A voucher altered after it was made (a fen added to one side) unbalances the book.
        let mut altered = vouchers.to_vec();
        altered[2].entries[0].amount += Decimal::new(1, 2);
        assert!(!TrialBalance::of(&altered).balanced());
    }
}
