//! Persons' enrolments (Art. 6-8, 34) as stored: the enrolment itself (its state machine is
//! `swi_domain::enrolment`), its entry in the holder's roster, and its place in the person index.
//!
//! A resident ID number is stored in the enrolment and answered masked; keys and audit cases use
//! the person key (a keyed hash of the number, `swi_platform::pseudonym`), which is never
//! answered.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::access::Owner;
use swi_domain::duties::Performed;
use swi_domain::enrolment::{Material, Status};
use swi_platform::{ApiError, Platform};
use swi_rules::age::Track;
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, Query, SkRange, TxOp};

use crate::corrupt;

/// A one-time notice (一次性告知书): everything missing or wrong, told at once (Art. 34).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notice {
    /// Materials missing.
    pub missing: Vec<Material>,
    /// Other problems the window found, each a sentence.
    pub problems: Vec<String>,
    /// Issued on (China date).
    pub issued_on: NaiveDate,
    /// By (display name).
    pub issued_by: String,
    /// The PDF as issued (SHA-256): with its verification code, kept and served as issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A person's enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Enrolment id (`e-…`).
    pub id: String,
    /// The unit (unified social credit code); none for a self-enrolled worker.
    pub unit: Option<String>,
    /// For a self-enrolled worker: the citizen's subject.
    pub owner: Option<String>,
    /// County code.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
    /// Real name.
    pub name: String,
    /// ID type (`resident_id`).
    pub id_type: String,
    /// The ID number (answered masked).
    pub id_number: String,
    /// Opaque person key (a keyed hash of the ID number); kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// Mobile phone.
    pub phone: String,
    /// Category (glossary identifier).
    #[schema(value_type = String, example = "over_age")]
    pub category: Category,
    /// Declared monthly wage (Art. 17, 48).
    pub declared_wage: Decimal,
    /// Entry into the job or scheme asked for.
    pub start: NaiveDate,
    /// Retirement track, where given.
    #[schema(value_type = Option<String>, example = "female_55")]
    pub track: Option<Track>,
    /// Interns: the internship agreement's end (Art. 7).
    pub agreement_end: Option<NaiveDate>,
    /// Status.
    pub status: Status,
    /// Materials filed: kind → SHA-256 of the scan.
    pub materials: BTreeMap<Material, String>,
    /// Materials still missing.
    pub missing: Vec<Material>,
    /// The date the record was entered in the system (Art. 8).
    pub entered_on: NaiveDate,
    /// When the premium was paid (China time).
    pub paid_at: Option<NaiveDateTime>,
    /// First day of cover (Art. 8).
    pub cover_start: Option<NaiveDate>,
    /// Last day of cover, when bounded (agreement end, 71st birthday, termination).
    pub cover_end: Option<NaiveDate>,
    /// The last one-time notice.
    pub notice: Option<Notice>,
    /// Who performed which review step (Art. 5).
    pub steps: Vec<Performed>,
    /// Flexible workers: registered changes of hours, place or duties (Art. 18).
    #[serde(default)]
    pub changes: Vec<WorkChange>,
    /// When the holder reaches the legal retirement age, where the ID and track tell.
    #[serde(default)]
    pub retirement_on: Option<NaiveDate>,
    /// The month (its first day) billed when the enrolment was accepted, so that the joiner can
    /// pay at once (Art. 8); the monthly runs bill the months after it.
    #[serde(default)]
    pub bills_from: Option<NaiveDate>,
}

/// A flexible worker's change of working hours, place or duties (Art. 18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkChange {
    /// When the change takes effect (China time).
    pub effective: NaiveDateTime,
    /// New working hours, if they change.
    #[serde(default)]
    pub hours: Option<String>,
    /// New place, if it changes.
    #[serde(default)]
    pub place: Option<String>,
    /// New post and duties, if they change.
    #[serde(default)]
    pub duties: Option<String>,
    /// When it was registered (set by the system).
    #[serde(default)]
    pub registered: Option<NaiveDateTime>,
}

impl Enrolment {
    /// The enrolment as answered: the ID number masked, the person key left out.
    #[must_use]
    pub fn masked(&self) -> Self {
        let mut e = self.clone();
        e.person = String::new();
        e.id_number = crate::masked_id(&self.id_number);
        e
    }

    /// Who owns it: the unit, or the self-enrolled citizen.
    #[must_use]
    pub fn owner(&self) -> Owner<'_> {
        match (&self.unit, &self.owner) {
            (Some(u), _) => Owner::Unit(u),
            (None, Some(sub)) => Owner::Person(sub),
            (None, None) => Owner::Nobody,
        }
    }

    /// The period it covers or asks to cover: from the cover's start (or the asked start) to
    /// its end, if bounded.
    #[must_use]
    pub fn period(&self) -> (NaiveDate, Option<NaiveDate>) {
        (self.cover_start.unwrap_or(self.start), self.cover_end)
    }

    /// Whether the person is covered on `on` by this enrolment (Art. 8).
    #[must_use]
    pub fn covers(&self, on: NaiveDate) -> bool {
        self.cover_start.is_some_and(|s| s <= on) && self.cover_end.is_none_or(|e| on <= e)
    }

    /// Its entry in the holder's roster.
    #[must_use]
    pub fn member(&self) -> Member {
        Member {
            id: self.id.clone(),
            person: self.person.clone(),
            name: self.name.clone(),
            category: self.category,
            status: self.status,
            start: self.start,
            cover_start: self.cover_start,
            cover_end: self.cover_end,
            declared_wage: self.declared_wage,
            entered_on: Some(self.entered_on),
            bills_from: self.bills_from,
            owner: self.owner.clone(),
        }
    }

    /// Whether it pays its own premium: a self-enrolled flexible or platform worker (Art. 16).
    #[must_use]
    pub fn self_paying(&self) -> bool {
        self.unit.is_none() && self.owner.is_some()
    }
}

/// An entry in a roster (a unit's, or a self-enrolled person's) pointing at an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// Enrolment id.
    pub id: String,
    /// Opaque person key; kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// Name.
    pub name: String,
    /// Category.
    #[schema(value_type = String, example = "employee")]
    pub category: Category,
    /// Status.
    pub status: Status,
    /// Asked start.
    pub start: NaiveDate,
    /// Cover start.
    pub cover_start: Option<NaiveDate>,
    /// Cover end.
    pub cover_end: Option<NaiveDate>,
    /// Declared monthly wage (the base of the premium, Art. 17).
    #[serde(default)]
    pub declared_wage: Decimal,
    /// When the enrolment was entered in the system (Art. 8).
    #[serde(default)]
    pub entered_on: Option<NaiveDate>,
    /// The month billed at acceptance (see [`Enrolment::bills_from`]).
    #[serde(default)]
    pub bills_from: Option<NaiveDate>,
    /// A self-paying worker's own account (the payer of their bills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub owner: Option<String>,
}

impl Member {
    /// Whether this member is covered on `on`.
    #[must_use]
    pub fn covers(&self, on: NaiveDate) -> bool {
        self.cover_start.is_some_and(|s| s <= on) && self.cover_end.is_none_or(|e| on <= e)
    }
}

/// The key of an enrolment.
#[must_use]
pub fn enrolment_key(id: &str) -> Key {
    Key::new(format!("enrolment#{id}"), "profile")
}

/// The audit case of an enrolment.
#[must_use]
pub fn enrolment_case(id: &str) -> String {
    format!("enrolment#{id}")
}

/// The partition of the person index holding a person's enrolments and project registrations.
#[must_use]
pub fn person_partition(person: &str) -> String {
    format!("person#{person}")
}

/// The partition of an enrolment's roster: its unit's, or its self-enrolled owner's.
#[must_use]
pub fn roster_pk(e: &Enrolment) -> String {
    match (&e.unit, &e.owner) {
        (Some(u), _) => format!("unit#{u}"),
        (_, Some(o)) => format!("self#{o}"),
        _ => "orphan".to_owned(),
    }
}

/// The partition listing a county's self-paying workers (their roster entries), which the
/// monthly billing run reads (Art. 16: 灵活就业人员由个人按月缴纳).
#[must_use]
pub fn self_payers_pk(county: County) -> String {
    format!("self-payers#{}", county.code())
}

/// The operations writing an enrolment (indexed by person) and its roster entry; a self-paying
/// worker's entry also in the county's list of self-payers.
///
/// # Errors
/// Serialization (it does not fail).
pub fn write_ops(e: &Enrolment, condition: Condition) -> Result<Vec<TxOp>, ApiError> {
    let k = enrolment_key(&e.id);
    let profile = Item::new(k.pk, k.sk, e)?
        .with_gsi1(person_partition(&e.person), format!("{}#{}", e.start, e.id));
    let member = e.member();
    let pointer = Item::new(roster_pk(e), format!("member#{}", e.id), &member)?;
    let mut ops = vec![
        TxOp::Put {
            item: profile,
            condition,
        },
        TxOp::Put {
            item: pointer,
            condition: Condition::None,
        },
    ];
    if e.self_paying() {
        ops.push(TxOp::Put {
            item: Item::new(
                self_payers_pk(e.county),
                format!("member#{}", e.id),
                &member,
            )?,
            condition: Condition::None,
        });
    }
    Ok(ops)
}

/// Loads an enrolment and its version, or 404.
///
/// # Errors
/// 404 unknown; 503 the store is unavailable.
pub async fn load_enrolment(p: &Platform, id: &str) -> Result<(Enrolment, u64), ApiError> {
    let item = p.state.get(&enrolment_key(id)).await?.ok_or_else(|| {
        ApiError::not_found(
            "未找到该参保登记",
            format!("no enrolment {}", swi_platform::wire::clip(id)),
        )
    })?;
    Ok((item.body().map_err(|e| corrupt(&e))?, item.version))
}

/// Every roster entry of a unit, in enrolment-id order.
///
/// # Errors
/// The store is unavailable.
pub async fn unit_members(p: &Platform, unit: &str) -> Result<Vec<Member>, ApiError> {
    p.state
        .query_all(
            &Query::partition(format!("unit#{unit}"))
                .range(SkRange::Prefix("member#".into()))
                .limit(1000),
        )
        .await?
        .iter()
        .map(|item| item.body().map_err(|e| corrupt(&e)))
        .collect()
}

/// The first `at_most` enrolments of a unit whose cover has not ended, with their versions
/// (only those are loaded: a batch of a job reads its batch, not the whole unit).
///
/// # Errors
/// The store is unavailable.
pub async fn active_members(
    p: &Platform,
    unit: &str,
    at_most: usize,
) -> Result<Vec<(Enrolment, u64)>, ApiError> {
    let mut out = Vec::new();
    for item in &p
        .state
        .query_all(
            &Query::partition(format!("unit#{unit}"))
                .range(SkRange::Prefix("member#".into()))
                .limit(500),
        )
        .await?
    {
        let m: Member = item.body().map_err(|e| corrupt(&e))?;
        if m.status != Status::Terminated {
            out.push(load_enrolment(p, &m.id).await?);
            if out.len() == at_most {
                break;
            }
        }
    }
    Ok(out)
}

/// Every enrolment one person has had with one holder (a unit, or the person themselves), kept
/// in one item that each new enrolment rewrites under a version condition. Reading it (and the
/// enrolments it names) is strongly consistent, unlike the person index, so two enrolments over
/// overlapping dates cannot both be written, however close together they come (Art. 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverGuard {
    /// Enrolment ids, oldest first.
    pub enrolments: Vec<String>,
}

fn guard_key(person: &str, unit: Option<&str>, owner: Option<&str>) -> Key {
    let holder = match (unit, owner) {
        (Some(u), _) => format!("unit#{u}"),
        (None, Some(o)) => format!("self#{o}"),
        (None, None) => "none".to_owned(),
    };
    Key::new(format!("cover#{person}"), holder)
}

/// Reads a person's guard with a holder: the enrolment ids it names, and the operation that
/// adds `new_id` to it, conditioned on the version read.
///
/// # Errors
/// The store is unavailable.
pub async fn guard_with(
    p: &Platform,
    person: &str,
    unit: Option<&str>,
    owner: Option<&str>,
    new_id: &str,
) -> Result<(Vec<String>, TxOp), ApiError> {
    let k = guard_key(person, unit, owner);
    let (mut guard, condition) = match p.state.get(&k).await? {
        Some(item) => (
            item.body::<CoverGuard>().map_err(|e| corrupt(&e))?,
            Condition::VersionIs(item.version),
        ),
        None => (CoverGuard::default(), Condition::NotExists),
    };
    let before = guard.enrolments.clone();
    if !guard.enrolments.iter().any(|e| e == new_id) {
        guard.enrolments.push(new_id.to_owned());
    }
    Ok((
        before,
        TxOp::Put {
            item: Item::new(k.pk, k.sk, &guard)?,
            condition,
        },
    ))
}
