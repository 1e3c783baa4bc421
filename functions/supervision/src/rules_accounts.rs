//! Several payees sharing one bank account (Art. 43, 35): each account recorded is indexed by a
//! keyed hash of its number (`bank-account#<key>` / `<payee>`; the number itself never in a key),
//! and an account that more than one payee uses is alerted, naming the payees' cases and the
//! number masked.

use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_payables::account::load;
use swi_payables::payee_partition;
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Query, StateError, TxOp};

use crate::catalogue::{Flag, RuleId};

/// A payee using an account, in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUse {
    /// The case the account was recorded on (`payline#…`, `schedule#…`, `unit#…`,
    /// `account-own#…`).
    pub case: String,
    /// The payee's name.
    pub name: String,
    /// The county, when known.
    pub county: Option<County>,
}

/// The payee (index partition), name and county of the case an account was recorded on.
async fn payee_of(
    p: &Platform,
    case: &str,
) -> Result<Option<(String, String, Option<County>)>, ApiError> {
    let Some((kind, id)) = case.split_once('#') else {
        return Ok(None);
    };
    Ok(match kind {
        "unit" => swi_registry::unit::load_unit(p, id)
            .await
            .ok()
            .map(|(u, _)| (format!("payee-unit#{id}"), u.name, Some(u.county))),
        "account-own" => swi_platform::identity::linked(p, id).await?.map(|l| {
            (
                swi_registry::enrolment::person_partition(&l.person),
                l.name,
                None,
            )
        }),
        "schedule" => swi_payables::schedules(p, &[id.to_owned()])
            .await?
            .pop()
            .and_then(|s| {
                payee_partition(p, &s.payee)
                    .ok()
                    .map(|pp| (pp, s.payee.name.clone(), Some(s.county)))
            }),
        "payline" => crate::views::payline(p, id).await?.and_then(|l| {
            payee_partition(p, &l.payee)
                .ok()
                .map(|pp| (pp, l.payee.name.clone(), Some(l.county)))
        }),
        _ => None,
    })
}

/// The account recorded on `case`, indexed; an alert when other payees use it too.
///
/// # Errors
/// The store is unavailable.
pub async fn shared_account(p: &Platform, case: &str) -> Result<Option<Flag>, ApiError> {
    let Some((payee, name, county)) = payee_of(p, case).await? else {
        return Ok(None);
    };
    let Some((rec, _)) = load(p, &payee).await? else {
        return Ok(None);
    };
    let pk = format!("bank-account#{}", p.persons.of_account(&rec.account.number));
    let mine = AccountUse {
        case: case.to_owned(),
        name: name.clone(),
        county,
    };
    match p
        .state
        .transact(vec![TxOp::Put {
            item: Item::new(pk.clone(), payee.clone(), &mine)?,
            condition: Condition::NotExists,
        }])
        .await
    {
        Ok(()) | Err(StateError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let users = p.state.query_all(&Query::partition(pk).limit(100)).await?;
    let others: Vec<AccountUse> = users
        .iter()
        .filter(|i| i.sk != payee)
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<_, _>>()?;
    if others.is_empty() {
        return Ok(None);
    }
    let mut links = vec![case.to_owned()];
    links.extend(others.iter().map(|o| o.case.clone()));
    Ok(Some(Flag {
        rule: RuleId::SharedPayeeAccount,
        key: case.to_owned(),
        subject: case.to_owned(),
        county: county.or_else(|| others.iter().find_map(|o| o.county)),
        evidence: json!({ "account": rec.account.masked(), "bank": rec.account.bank,
            "payee": name, "also_used_by": others }),
        links,
        says: (
            format!(
                "收款账户 {} 同时登记给 {} 和 {}，须核实是否冒领（第四十三条）",
                rec.account.masked(),
                name,
                others
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            format!(
                "account {} is recorded for {} payees (Art. 43)",
                rec.account.masked(),
                others.len() + 1
            ),
        ),
    }))
}
