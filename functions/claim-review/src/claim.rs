//! A benefit claim as stored (its state machine is `swi_domain::claim`): who claims, for which
//! items of which injury, the checklist and what is missing, the notice, each step's record, the
//! review facts, the assessment, and on approval its forms, payable lines and schedules.
//!
//! Keys: `claim#{id}/profile`, indexed in its county's queue for its status
//! (`claims#{county}#{status}`, sorted by submission, so the oldest comes first); and one pointer
//! per party that follows the claim (`claims-of#unit:{code}`, `claims-of#person:{key}`,
//! `claims-of#sub:{sub}`), written once at submission.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::claim::{ClaimMaterial, ClaimStatus};
use swi_domain::duties::{Performed, Step};
use swi_domain::{Actor, Owner, Role};
use swi_payables::{ParameterUsed, PayeeKind};
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, Platform};
use swi_rules::benefits::Item;
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, Item as StoreItem, Key, TxOp};

use crate::facts::{Handling, ReReview, ReviewFacts};

/// Who claims (Art. 25-32: 参保单位或受伤职工及其近亲属).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimantKind {
    /// The unit (参保单位).
    Unit,
    /// The injured person.
    Person,
    /// A close relative (近亲属), with proof of kinship on record.
    Relative,
}

/// The claimant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Claimant {
    /// Unit, person or relative.
    pub kind: ClaimantKind,
    /// Who submitted it (token subject): the unit's clerk, the citizen, or the window.
    pub sub: String,
    /// Their display name.
    pub name: String,
    /// Their role.
    #[schema(value_type = String, example = "citizen")]
    pub role: Role,
}

/// One thing done to a claim, for the claimant to follow and the audit to match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// What was done (`submitted`, `accepted`, `returned`, `sent_back`, …).
    pub what: String,
    /// The step it was done at, if a review step.
    pub step: Option<Step>,
    /// By (display name).
    pub by: String,
    /// When (China time).
    pub at: NaiveDateTime,
    /// Reasons or opinion given.
    pub note: Option<String>,
}

/// The one-time notice of a returned claim (Art. 34).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimNotice {
    /// Materials missing.
    pub missing: Vec<ClaimMaterial>,
    /// Other problems, each a sentence.
    pub problems: Vec<String>,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// By (display name).
    pub issued_by: String,
    /// The notice as issued (PDF, with its verification code), when the forms' font was there
    /// to print it; otherwise it is printed on request.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// A parameter a claim needs that the city has not set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pending {
    /// The parameter.
    pub parameter: String,
    /// Who sets it.
    pub set_by: String,
}

/// Why an item is not granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemRefusal {
    /// A stable code.
    pub code: String,
    /// A sentence.
    pub message: String,
    /// The article.
    pub basis: String,
}

/// One item as assessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssessedItem {
    /// The item.
    #[schema(value_type = String, example = "nursing_subsidy")]
    pub item: Item,
    /// The amount granted (monthly for monthly items), once it can be computed.
    #[schema(value_type = Option<String>, example = "1500.00")]
    pub amount: Option<Decimal>,
    /// Paid monthly (a schedule) rather than once (a payable line).
    pub monthly: bool,
    /// What the item's own facts gave before the cap left across the injury's claims, when
    /// the cap cut it (Art. 25-26).
    #[schema(value_type = Option<String>)]
    pub before_cap: Option<Decimal>,
    /// Days counted, for day-based items.
    pub days: Option<u32>,
    /// Each dependant's monthly pension, in the order given (Art. 32).
    #[schema(value_type = Vec<String>)]
    pub per_dependant: Vec<Decimal>,
    /// Who is paid (Art. 35).
    pub payee: PayeeKind,
    /// Paying it ends the supplementary relationship (Art. 31).
    pub ends_cover: bool,
    /// Not granted, and why.
    pub refusal: Option<ItemRefusal>,
    /// A parameter the city has not set: the item cannot be approved until it does.
    pub pending: Option<Pending>,
    /// The articles applied.
    pub basis: Vec<String>,
    /// The figures used that are not confirmed (shown to every reviewer).
    pub assumptions: Vec<ParameterUsed>,
}

/// The assessment of every item of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assessment {
    /// Each item.
    pub items: Vec<AssessedItem>,
    /// The lump sums' total.
    #[schema(value_type = String)]
    pub lump_sum_total: Decimal,
    /// The monthly benefits' total.
    #[schema(value_type = String)]
    pub monthly_total: Decimal,
    /// When it was computed.
    pub assessed_on: NaiveDate,
}

impl Assessment {
    /// The first item waiting for a parameter, if any.
    #[must_use]
    pub fn pending(&self) -> Option<(&AssessedItem, &Pending)> {
        self.items
            .iter()
            .find_map(|i| i.pending.as_ref().map(|p| (i, p)))
    }
}

/// The forms printed on approval, content-addressed in the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Forms {
    /// 《补充工伤保险待遇核定表》.
    pub assessment_form: String,
    /// 《补充工伤保险待遇申领表》.
    pub application_form: String,
}

/// What approval produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Approval {
    /// The day.
    pub on: NaiveDate,
    /// The forms.
    pub forms: Forms,
    /// The payable lines (`swi_payables`).
    pub payable_lines: Vec<String>,
    /// The schedules.
    pub schedules: Vec<String>,
    /// The supplementary relationship ended with this approval (Art. 31).
    pub relationship_ended: bool,
}

/// A rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rejection {
    /// Why.
    pub reason: String,
    /// The article it rests on.
    pub article: u16,
    /// On.
    pub on: NaiveDate,
    /// By.
    pub by: String,
}

/// Circumstances the claimant states (they decide materials).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stated {
    /// A third party is liable (Art. 28).
    #[serde(default)]
    pub third_party: bool,
    /// The unit advanced the money and asks to be repaid (Art. 35).
    #[serde(default)]
    pub advanced_by_unit: bool,
    /// Treated after a transfer or outside the pooling area (Art. 23).
    #[serde(default)]
    pub transferred: bool,
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Claim {
    /// Id (`c-…`).
    pub id: String,
    /// The injury.
    pub injury: String,
    /// County (the injury's).
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// The injured person's name.
    pub name: String,
    /// Their ID number (answered masked).
    pub id_number: String,
    /// Opaque person key; kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// Their category.
    #[schema(value_type = String, example = "volunteer")]
    pub category: Category,
    /// The unit holding the cover, if any.
    pub unit: Option<String>,
    /// The self-enrolled person's subject, if the cover is their own.
    pub owner: Option<String>,
    /// Who claims.
    pub claimant: Claimant,
    /// The items claimed.
    #[schema(value_type = Vec<String>)]
    pub items: Vec<Item>,
    /// What the claimant states.
    pub stated: Stated,
    /// Status.
    pub status: ClaimStatus,
    /// Every material the items need (Art. 25-32).
    pub checklist: Vec<ClaimMaterial>,
    /// Those not yet in the injury's dossier.
    pub missing: Vec<ClaimMaterial>,
    /// The last one-time notice.
    pub notice: Option<ClaimNotice>,
    /// Who performed which review step (Art. 5).
    pub steps: Vec<Performed>,
    /// What happened, oldest first.
    pub events: Vec<Event>,
    /// Submitted at (China time); the queues are ordered by it.
    pub submitted_at: NaiveDateTime,
    /// Accepted on.
    pub accepted_on: Option<NaiveDate>,
    /// Review due by, when the city has set the time limit.
    pub due: Option<NaiveDate>,
    /// Handling's record.
    pub handling: Option<Handling>,
    /// The first review's facts and opinion.
    pub review: Option<ReviewFacts>,
    /// The re-review's record.
    pub re_review: Option<ReReview>,
    /// The assessment (first review on; recomputed at re-review and entry).
    pub assessment: Option<Assessment>,
    /// On approval.
    pub approval: Option<Approval>,
    /// On rejection.
    pub rejection: Option<Rejection>,
}

impl Claim {
    /// As answered: the ID number masked, the person key left out.
    #[must_use]
    pub fn masked(&self) -> Self {
        let mut c = self.clone();
        c.person = String::new();
        c.id_number = swi_registry::masked_id(&self.id_number);
        if let Some(r) = c.review.as_mut() {
            for d in &mut r.dependants {
                d.id_number = d.id_number.as_deref().map(swi_registry::masked_id);
            }
        }
        c
    }

    /// Whose claim it is, for the ownership check of employers (the unit) and self-enrolled
    /// citizens; a citizen's claim about themselves is checked through the identity link.
    #[must_use]
    pub fn owner(&self) -> Owner<'_> {
        match (&self.unit, &self.owner) {
            (Some(u), _) => Owner::Unit(u),
            (None, Some(o)) => Owner::Person(o),
            (None, None) => Owner::Nobody,
        }
    }

    /// Records a step's event.
    pub fn record(&mut self, actor: &Actor, what: &str, at: NaiveDateTime, note: Option<String>) {
        let step = self.status.step();
        self.events.push(Event {
            what: what.into(),
            step,
            by: actor.name.clone(),
            at,
            note,
        });
    }
}

/// The key of a claim.
#[must_use]
pub fn claim_key(id: &str) -> Key {
    Key::new(format!("claim#{id}"), "profile")
}

/// The audit case of a claim.
#[must_use]
pub fn claim_case(id: &str) -> String {
    format!("claim#{id}")
}

/// A county's queue partition for a status.
#[must_use]
pub fn queue_partition(county: County, status: ClaimStatus) -> String {
    format!("claims#{}#{}", county.code(), status.as_str())
}

/// The write of a claim under `condition`, in its county's queue for its status.
///
/// # Errors
/// Serialization (it does not fail).
pub fn claim_put(c: &Claim, condition: Condition) -> Result<TxOp, ApiError> {
    let k = claim_key(&c.id);
    Ok(TxOp::Put {
        item: StoreItem::new(k.pk, k.sk, c)?.with_gsi1(
            queue_partition(c.county, c.status),
            format!("{}#{}", c.submitted_at.format("%Y-%m-%dT%H:%M:%S"), c.id),
        ),
        condition,
    })
}

/// A party that follows its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party<'a> {
    /// A unit (credit code).
    Unit(&'a str),
    /// The injured person (person key).
    Person(&'a str),
    /// Whoever submitted (subject): a relative, or the person.
    Submitter(&'a str),
}

impl Party<'_> {
    /// The partition of the party's pointers.
    #[must_use]
    pub fn partition(&self) -> String {
        match self {
            Party::Unit(u) => format!("claims-of#unit:{u}"),
            Party::Person(p) => format!("claims-of#person:{p}"),
            Party::Submitter(s) => format!("claims-of#sub:{s}"),
        }
    }
}

/// The pointer of a party to a claim (written once, at submission).
///
/// # Errors
/// Serialization (it does not fail).
pub fn pointer(party: &Party<'_>, c: &Claim) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put {
        item: StoreItem::new(
            party.partition(),
            format!("{}#{}", c.submitted_at.format("%Y-%m-%dT%H:%M:%S"), c.id),
            &serde_json::json!({ "claim": c.id }),
        )?,
        condition: Condition::None,
    })
}

/// Loads a claim and its version, or 404.
///
/// # Errors
/// 404 unknown; 503 the store is unavailable.
pub async fn load_claim(p: &Platform, id: &str) -> Result<(Claim, u64), ApiError> {
    let item = p.state.get(&claim_key(id)).await?.ok_or_else(|| {
        ApiError::not_found(
            "未找到该待遇申领",
            format!("no claim {}", swi_platform::wire::clip(id)),
        )
    })?;
    Ok((
        item.body().map_err(|e| ApiError::internal(&e))?,
        item.version,
    ))
}

/// The audit event of a change to a claim.
#[must_use]
pub fn audit(id: &str, command: &str, change: serde_json::Value) -> Audit {
    Audit {
        case: claim_case(id),
        command: command.into(),
        change,
    }
}
