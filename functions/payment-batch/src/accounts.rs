//! Payees' accounts as recorded (Art. 35, 37): one current account per payee, kept under the
//! payee's own key (never shown), with the accounts it replaced.
//!
//! An account is recorded by the contractor's finance staff for the payee of a line or schedule
//! of their county, or by a citizen or unit for themselves. It is taken only valid (its form, a
//! card's check digit) and, when recorded for a line or schedule, only when its holder is that
//! payee — otherwise nothing is written and the answer says why. The daily batch reads it again
//! before every attempt: a line goes into a batch only with an account held by its payee.

use chrono::{NaiveDate, NaiveDateTime};
use swi_payables::account::PayeeAccount;
use swi_platform::ApiError;
use swi_store::{Condition, Item, TxOp};

/// The accounts an account replaced, kept (most recent last).
pub const HISTORY_KEPT: usize = 20;

pub use swi_payables::account::{AccountRecord, AccountView, account_key, load};

/// The record replacing `previous` with `account`, and its write conditioned on what was read.
///
/// # Errors
/// Serialization (it does not fail).
pub fn record_op(
    payee: &str,
    account: PayeeAccount,
    previous: Option<(&AccountRecord, u64)>,
    on: NaiveDate,
    at: NaiveDateTime,
    by: String,
) -> Result<(AccountRecord, TxOp), ApiError> {
    let mut replaced = previous
        .map(|(r, _)| r.replaced.clone())
        .unwrap_or_default();
    if let Some((r, _)) = previous {
        replaced.push((r.account.masked(), on));
    }
    if replaced.len() > HISTORY_KEPT {
        replaced.drain(..replaced.len() - HISTORY_KEPT);
    }
    let rec = AccountRecord {
        account,
        recorded_on: on,
        recorded_at: at,
        by,
        replaced,
    };
    let k = account_key(payee);
    let op = TxOp::Put {
        item: Item::new(k.pk, k.sk, &rec)?,
        condition: previous.map_or(Condition::NotExists, |(_, v)| Condition::VersionIs(v)),
    };
    Ok((rec, op))
}

/// Whether `rec` may take a payment to `payee_name`, for an attempt after a failure recorded on
/// `failed_on` (the account must have been recorded since: corrected or confirmed again).
/// Returns why not, in Chinese, when not.
#[must_use]
pub fn unusable(
    rec: Option<&AccountRecord>,
    payee_name: &str,
    failed_at: Option<NaiveDateTime>,
) -> Option<String> {
    let Some(rec) = rec else {
        return Some("收款人尚未登记收款账户".into());
    };
    if !rec.account.held_by(payee_name) {
        return Some(format!(
            "账户户名“{}”与收款人“{payee_name}”不符",
            rec.account.holder
        ));
    }
    if let Some(f) = failed_at
        && rec.recorded_at <= f
    {
        return Some("银行退回后账户尚未更正或重新确认".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use swi_payables::account::{AccountKind, Bank, luhn_check_digit};

    fn rec(holder: &str, at: &str) -> AccountRecord {
        let payload = "621700000012345678";
        let n = format!("{payload}{}", luhn_check_digit(payload).unwrap());
        AccountRecord {
            account: PayeeAccount::parse(
                AccountKind::SocialSecurityCard,
                Bank::Ccb,
                "赣州分行",
                &n,
                holder,
            )
            .unwrap(),
            recorded_on: NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(),
            recorded_at: at.parse().unwrap(),
            by: "财务".into(),
            replaced: Vec::new(),
        }
    }

    #[test]
    fn an_account_takes_payments_only_for_its_holder_and_after_a_failure_only_once_corrected() {
        let r = rec("张三", "2027-01-05T10:00:00");
        assert_eq!(unusable(Some(&r), "张 三", None), None);
        assert!(unusable(Some(&r), "李四", None).unwrap().contains("不符"));
        assert!(unusable(None, "张三", None).is_some());
        let failed: NaiveDateTime = "2027-01-06T09:00:00".parse().unwrap();
        assert!(unusable(Some(&r), "张三", Some(failed)).is_some());
        let corrected = rec("张三", "2027-01-07T09:00:00");
        assert_eq!(unusable(Some(&corrected), "张三", Some(failed)), None);
    }
}
