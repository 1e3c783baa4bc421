//! The archive's registry of documents (Art. 45): every filed document registered to the case
//! and the material it is, its class of records, who filed it and when — written in the same
//! transaction as the change that files it, so that no case names a document the archive does
//! not know, and no registration exists without its case's change.
//!
//! One item per document, case and material: `doc#<sha256>` / `reg#<case>#<material>`, found
//! again by the county's month (`archive-due#<county>#<YYYY-MM>`, sorted by class and case),
//! which is how the monthly volumes collect their items. The same document filed to two cases is
//! registered twice; the same registration asked twice is written once.

use serde::{Deserialize, Serialize};
use swi_archive::retention::RecordClass;
use swi_domain::Actor;
use swi_store::{Condition, Item, Key, Sha256, TxOp};

use crate::{ApiError, Platform};

/// The city's own archive (records of the city-level agency: its parameters and rules).
pub const CITY: &str = swi_domain::access::CITY_CODE;

/// What a filed document is to its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filing<'a> {
    /// The case (`claim#…`, `unit#…`), as its audit events name it.
    pub case: &'a str,
    /// The county whose archive keeps it.
    pub county: &'a str,
    /// Its class of records.
    pub class: RecordClass,
    /// The material it is (`佐证材料`, `工伤认定决定书`): at most 40 characters, no `#`.
    pub material: &'a str,
}

/// Who files a document: a person, or the system issuing its own form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct By<'a> {
    /// The subject.
    pub sub: &'a str,
    /// The role (`system` for the system itself).
    pub role: &'a str,
}

impl<'a> From<&'a Actor> for By<'a> {
    fn from(a: &'a Actor) -> Self {
        By {
            sub: &a.sub,
            role: a.role.as_str(),
        }
    }
}

/// The system, filing a form it issued.
pub const SYSTEM: By<'static> = By {
    sub: "swi",
    role: "system",
};

/// One registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    /// The document (SHA-256, hex).
    pub sha256: String,
    /// Its length.
    pub size: u64,
    /// The case.
    pub case: String,
    /// The county.
    pub county: String,
    /// The class of records (`GS08`).
    #[schema(value_type = String)]
    pub class: RecordClass,
    /// The material.
    pub material: String,
    /// Who filed it (subject).
    pub by: String,
    /// Their role.
    pub by_role: String,
    /// When (RFC 3339, China time).
    pub at: String,
    /// The month whose volume takes it (`YYYY-MM`).
    pub month: String,
}

/// The key of a registration.
#[must_use]
pub fn registration_key(sha: &Sha256, case: &str, material: &str) -> Key {
    Key::new(doc_partition(sha), format!("reg#{case}#{material}"))
}

/// The partition of a document's records.
#[must_use]
pub fn doc_partition(sha: &Sha256) -> String {
    format!("doc#{}", sha.hex())
}

/// The index partition of a county's registrations of a month.
#[must_use]
pub fn due_partition(county: &str, month: &str) -> String {
    format!("archive-due#{county}#{month}")
}

fn check(f: &Filing<'_>) -> Result<(), ApiError> {
    let bad = f.material.trim().is_empty()
        || f.material.chars().count() > 40
        || f.material.contains('#')
        || f.material.chars().any(char::is_control)
        || f.case.is_empty()
        || f.case.len() > 200
        || f.county.len() != 6
        || !f.county.bytes().all(|b| b.is_ascii_digit());
    if bad {
        return Err(ApiError::internal(&format!(
            "a filing names no case, county or material it may: {} {} {}",
            f.case, f.county, f.material
        )));
    }
    Ok(())
}

/// The operation registering `sha` (of `size` bytes) to `filing` by `by`, to write in the
/// transaction of the change that files it; `None` when it is registered already (a second
/// filing of the same material to the same case). Conditioned on what was read: a concurrent
/// registration of the same makes the transaction fail rather than write it twice.
///
/// # Errors
/// A filing without a case, county or material (a defect); 503 the store.
pub async fn register_op(
    p: &Platform,
    by: By<'_>,
    sha: &Sha256,
    size: u64,
    filing: Filing<'_>,
) -> Result<Option<TxOp>, ApiError> {
    check(&filing)?;
    let key = registration_key(sha, filing.case, filing.material);
    if p.state.get(&key).await?.is_some() {
        return Ok(None);
    }
    let now = p.clock.now();
    let month = now.format("%Y-%m").to_string();
    let r = Registration {
        sha256: sha.hex(),
        size,
        case: filing.case.to_owned(),
        county: filing.county.to_owned(),
        class: filing.class,
        material: filing.material.to_owned(),
        by: by.sub.to_owned(),
        by_role: by.role.to_owned(),
        at: now.to_rfc3339(),
        month: month.clone(),
    };
    let item = Item::new(key.pk, key.sk, &r)?.with_gsi1(
        due_partition(filing.county, &month),
        format!(
            "{}#{}#{}#{}",
            filing.class.code(),
            filing.case,
            sha.hex(),
            filing.material
        ),
    );
    Ok(Some(TxOp::Put {
        item,
        condition: Condition::NotExists,
    }))
}

/// Every registration of a document.
///
/// # Errors
/// 503 the store.
pub async fn registrations(p: &Platform, sha: &Sha256) -> Result<Vec<Registration>, ApiError> {
    let items = p
        .state
        .query_all(
            &swi_store::Query::partition(doc_partition(sha))
                .range(swi_store::SkRange::Prefix("reg#".into()))
                .limit(100),
        )
        .await?;
    items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// That a case's business is done (a claim approved or rejected), on a day: its documents'
/// retention periods count from 1 January of the year after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    /// The case.
    pub case: String,
    /// The day (China).
    pub on: chrono::NaiveDate,
}

/// The key of a case's closing.
#[must_use]
pub fn closed_key(case: &str) -> Key {
    Key::new(format!("case#{case}"), "closed")
}

/// Whether a case's documents wait for its closing (a claim, decided after its materials are
/// filed) rather than closing with the act that files them (a registration, a verification, a
/// bank's return: the business is the act).
#[must_use]
pub fn closes_later(case: &str) -> bool {
    case.starts_with("claim#")
}

/// The operation recording that `case` closed on `on`, to write with the change that closes
/// it. A case closing again (a claim resubmitted after its rejection, then decided) is written
/// again: its documents count from the latest closing.
///
/// # Errors
/// Serialization (it does not fail).
pub fn closed_op(case: &str, on: chrono::NaiveDate) -> Result<TxOp, ApiError> {
    let k = closed_key(case);
    Ok(TxOp::Put {
        item: Item::new(
            k.pk,
            k.sk,
            &Closed {
                case: case.to_owned(),
                on,
            },
        )?,
        condition: Condition::None,
    })
}

/// The day a registration's case closed, if it has: the day it was filed for a case that closes
/// with the act, else the case's recorded closing.
///
/// # Errors
/// 503 the store.
pub async fn closed_on(
    p: &Platform,
    r: &Registration,
) -> Result<Option<chrono::NaiveDate>, ApiError> {
    if !closes_later(&r.case) {
        return Ok(chrono::DateTime::parse_from_rfc3339(&r.at)
            .ok()
            .map(|d| d.date_naive()));
    }
    p.state
        .get(&closed_key(&r.case))
        .await?
        .map(|i| {
            i.body::<Closed>()
                .map(|c| c.on)
                .map_err(|e| ApiError::internal(&e))
        })
        .transpose()
}
