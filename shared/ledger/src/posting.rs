//! What each event of the fund books, and the voucher as it is kept.
//!
//! The fund is one book for the city (Art. 36: 市级统收统支); each voucher names the county it
//! comes from so that a county's figures can be read out of it. The accounts each event uses
//! are this system's reading of 《社会保险基金会计制度》 for a fund whose benefits are paid by a
//! contractor that advances them and is reimbursed monthly (Art. 37):
//!
//! | event | debit | credit |
//! | --- | --- | --- |
//! | premiums received through the tax bureau | 1002 收入户存款 | 4001 社会保险费收入 |
//! | benefits the contractor paid (the bank's return) | 5001's detail by item | 1101 暂付款 |
//! | a premium refund the contractor paid | 4001 社会保险费收入 (refunds reduce the income) | 1101 暂付款 |
//! | the monthly transfer to the contractor | 1101 暂付款 | 1004 支出户存款 |
//!
//! 1101 暂付款 is the contractor's account with the fund: a credit balance is what the fund owes
//! for payouts not yet reimbursed, and it returns to zero when a month's transfer matches its
//! payouts. Moving money between the fund's own accounts (收入户 → 财政专户 → 支出户) is booked by
//! the treasury's documents, not here.
//!
//! [`benefit_account`] is the one table from benefit item to the detail account of 5001.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_rules::benefits::Item;
use swi_rules::ids::County;
use swi_store::{Condition, Item as StoreItem, Key, StateError, TxOp};

use crate::voucher::{Entry, Side, Voucher, VoucherError};

/// Premiums received (收入户存款).
pub const RECEIPTS_ACCOUNT: &str = "1002";
/// Premium income (社会保险费收入).
pub const PREMIUM_INCOME: &str = "4001";
/// The payments account the transfers leave from (支出户存款).
pub const PAYMENTS_ACCOUNT: &str = "1004";
/// The contractor's account with the fund (暂付款).
pub const CONTRACTOR_ACCOUNT: &str = "1101";

/// The detail account of 5001 社会保险待遇支出 an item's payments are booked on: medical care,
/// its allowances and devices to 工伤医疗待遇支出; disability benefits to 伤残待遇支出; death
/// benefits to 工亡待遇支出.
#[must_use]
pub const fn benefit_account(item: Item) -> &'static str {
    match item {
        Item::Medical
        | Item::Rehabilitation
        | Item::HospitalFood
        | Item::TravelLodging
        | Item::OutOfCatalogue
        | Item::NursingSubsidy
        | Item::WageSubsidy
        | Item::AssistiveDevice => "500101",
        Item::DisabilityAllowance
        | Item::LivingCare
        | Item::OneTimeDisability
        | Item::OneTimeMedical
        | Item::OneTimeEmployment => "500102",
        Item::DependantPension | Item::OneTimeDeath | Item::Funeral => "500103",
    }
}

fn entry(account: &str, side: Side, amount: Decimal, memo: &str) -> Entry {
    Entry {
        account: account.to_owned(),
        side,
        amount,
        memo: memo.to_owned(),
    }
}

/// Premiums received through the tax bureau.
///
/// # Errors
/// The amount is not positive or not to the fen.
pub fn premium_receipt(
    date: NaiveDate,
    source: String,
    amount: Decimal,
) -> Result<Voucher, VoucherError> {
    Voucher::new(
        date,
        source,
        vec![
            entry(
                RECEIPTS_ACCOUNT,
                Side::Debit,
                amount,
                "税务代征补充工伤保险费到账",
            ),
            entry(PREMIUM_INCOME, Side::Credit, amount, "补充工伤保险费收入"),
        ],
    )
}

/// The month's transfer to the contractor (Art. 37: 每月15日前拨付至承办机构).
///
/// # Errors
/// The amount is not positive or not to the fen.
pub fn transfer(date: NaiveDate, source: String, amount: Decimal) -> Result<Voucher, VoucherError> {
    Voucher::new(
        date,
        source,
        vec![
            entry(
                CONTRACTOR_ACCOUNT,
                Side::Debit,
                amount,
                "拨付承办机构待遇资金",
            ),
            entry(PAYMENTS_ACCOUNT, Side::Credit, amount, "支出户拨款"),
        ],
    )
}

/// What the contractor paid, as the bank's return confirms it: benefits by item and premium
/// refunds (Art. 22), against the contractor's account with the fund.
///
/// # Errors
/// Nothing paid, or an amount not to the fen.
pub fn paid(
    date: NaiveDate,
    source: String,
    benefits: &[(Item, Decimal)],
    refunds: Decimal,
) -> Result<Voucher, VoucherError> {
    let mut by_account: std::collections::BTreeMap<&'static str, Decimal> =
        std::collections::BTreeMap::new();
    for (item, amount) in benefits {
        *by_account.entry(benefit_account(*item)).or_default() += *amount;
    }
    let mut entries: Vec<Entry> = by_account
        .into_iter()
        .filter(|(_, a)| !a.is_zero())
        .map(|(account, amount)| entry(account, Side::Debit, amount, "承办机构支付待遇"))
        .collect();
    if !refunds.is_zero() {
        entries.push(entry(
            PREMIUM_INCOME,
            Side::Debit,
            refunds,
            "退还补充工伤保险费",
        ));
    }
    let total: Decimal = entries.iter().map(|e| e.amount).sum();
    entries.push(entry(
        CONTRACTOR_ACCOUNT,
        Side::Credit,
        total,
        "承办机构垫付待遇",
    ));
    Voucher::new(date, source, entries)
}

/// A voucher as kept: its id (the event it books, so that an event is booked once), the voucher,
/// the county it comes from, and who posted it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Posted {
    /// `{kind}:{event}` (`receipts:…`, `return:…`, `transfer:…`).
    pub id: String,
    /// The voucher.
    pub voucher: Voucher,
    /// The county it comes from.
    #[schema(value_type = Option<String>, example = "360702")]
    pub county: Option<County>,
    /// When it was posted (China time).
    pub posted_at: NaiveDateTime,
    /// Who or what posted it.
    pub by: String,
}

/// The partition of a month's vouchers.
#[must_use]
pub fn month_partition(month: NaiveDate) -> String {
    format!("vouchers#{}", month.format("%Y-%m"))
}

/// The key of a posted voucher: its month, then day and id.
#[must_use]
pub fn posted_key(date: NaiveDate, id: &str) -> Key {
    Key::new(month_partition(date), format!("{date}#{id}"))
}

/// The create-only write of a posted voucher: an event is booked once.
///
/// # Errors
/// Serialization (it does not fail).
pub fn post_op(p: &Posted) -> Result<TxOp, StateError> {
    let k = posted_key(p.voucher.date, &p.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, p)?,
        condition: Condition::NotExists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 2, 18).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn every_item_is_booked_on_a_postable_detail_of_benefits() {
        for item in Item::ALL {
            let s = crate::subject(benefit_account(item)).unwrap();
            assert!(crate::chart::postable(s), "{item:?}");
            assert_eq!(crate::chart::parent(s).map(|p| p.code), Some("5001"));
        }
        assert_eq!(benefit_account(Item::Funeral), "500103");
        assert_eq!(benefit_account(Item::LivingCare), "500102");
        assert_eq!(benefit_account(Item::Medical), "500101");
    }

    #[test]
    fn payouts_and_transfer_leave_the_contractors_account_at_zero() {
        let paid = paid(
            day(),
            "return:b1".into(),
            &[
                (Item::DisabilityAllowance, d("3500.00")),
                (Item::LivingCare, d("1200.50")),
                (Item::Funeral, d("40000.00")),
            ],
            d("16.20"),
        )
        .unwrap();
        assert_eq!(paid.total(), d("44716.70"));
        let transfer = transfer(day(), "transfer:c1".into(), d("44716.70")).unwrap();
        let receipt = premium_receipt(day(), "receipts:r1".into(), d("100000.00")).unwrap();
        let tb = crate::TrialBalance::of([&paid, &transfer, &receipt]);
        assert!(tb.balanced());
        let row = |code: &str| tb.rows.iter().find(|r| r.subject.code == code).unwrap();
        assert_eq!(row(CONTRACTOR_ACCOUNT).balance(), Decimal::ZERO);
        assert_eq!(row("500102").debits, d("4700.50"));
        assert_eq!(row(PREMIUM_INCOME).balance(), d("99983.80"));
    }

    #[test]
    fn nothing_paid_books_nothing() {
        assert!(paid(day(), "return:b2".into(), &[], Decimal::ZERO).is_err());
        assert!(premium_receipt(day(), "r".into(), Decimal::ZERO).is_err());
    }
}
