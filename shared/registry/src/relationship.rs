//! The end of a person's supplementary relationship (Art. 31: 工伤职工享受一次性伤残就业（职业）
//! 补助金后，补充工伤保险关系终止，不再享受补充工伤保险待遇; for over-age, platform, flexible and
//! cooperative workers after the one-time medical subsidy). A claim's approval ends it through
//! [`end`]: one marker per person, written once, and every enrolment of the person still open
//! ended on the same day through [`crate::cover::ended`] — so enrollment's records show the end,
//! and nothing covers the person after it (`crate::person::covered_on`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use swi_domain::enrolment::Status;
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Key, Query, TxOp};

use crate::corrupt;
use crate::cover::{EndReason, ended};
use crate::enrolment::{Enrolment, enrolment_key, person_partition};

/// The record of an ended relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelationshipEnded {
    /// The last day of the relationship.
    pub on: NaiveDate,
    /// The claim whose approval ended it.
    pub claim: String,
    /// The item paid (`one_time_employment` or `one_time_medical`).
    pub item: String,
}

/// The key of a person's marker.
#[must_use]
pub fn marker_key(person: &str) -> Key {
    Key::new(person_partition(person), "relationship_ended")
}

/// The person's ended relationship, if it ended.
///
/// # Errors
/// The store is unavailable.
pub async fn ended_on(p: &Platform, person: &str) -> Result<Option<RelationshipEnded>, ApiError> {
    p.state
        .get(&marker_key(person))
        .await?
        .map(|i| i.body().map_err(|e| corrupt(&e)))
        .transpose()
}

/// The check that conditions a transaction on the person's relationship not having ended.
#[must_use]
pub fn still_open(person: &str) -> TxOp {
    TxOp::Check {
        key: marker_key(person),
        condition: Condition::NotExists,
    }
}

/// The operations and audit events ending the person's relationship on `on` for `claim`: the
/// marker (created once: a second end fails the transaction) and each enrolment of the person
/// still open, ended on `on` under the version read, with its own audit event. The claim's own
/// event says why (the person key never names an audit case).
///
/// # Errors
/// The store is unavailable.
pub async fn end(
    p: &Platform,
    person: &str,
    on: NaiveDate,
    claim: &str,
    item: &str,
) -> Result<(Vec<TxOp>, Vec<Audit>), ApiError> {
    let marker = RelationshipEnded {
        on,
        claim: claim.to_owned(),
        item: item.to_owned(),
    };
    let k = marker_key(person);
    let mut ops = vec![TxOp::Put {
        item: Item::new(k.pk, k.sk, &marker)?,
        condition: Condition::NotExists,
    }];
    let mut audit = Vec::new();
    let reason = EndReason::Claim {
        claim: claim.to_owned(),
    };
    for item in &p
        .state
        .query_index_all(
            swi_store::Index::Gsi1,
            &Query::partition(person_partition(person)).limit(100),
        )
        .await?
    {
        if !item.pk.starts_with("enrolment#") {
            continue;
        }
        let listed: Enrolment = item.body().map_err(|e| corrupt(&e))?;
        // The index is read for ids only; each enrolment is read strongly and written under
        // the version read.
        let Some(fresh) = p.state.get(&enrolment_key(&listed.id)).await? else {
            continue;
        };
        let e: Enrolment = fresh.body().map_err(|err| corrupt(&err))?;
        let open = e.status != Status::Terminated && e.cover_end.is_none_or(|end| end > on);
        if !open || e.start > on {
            continue;
        }
        let (o, a) = ended(e, fresh.version, on, &reason)?;
        ops.extend(o);
        audit.push(a);
    }
    Ok((ops, audit))
}
