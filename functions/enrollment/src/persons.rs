//! Persons' enrolments (Art. 6-8, 34): enrol (by the unit, or oneself as a flexible or platform
//! worker), file materials, acceptance or return with a one-time notice, payment and the start
//! of cover, termination; a unit's roster on a date and a person's cover history.
//!
//! Resident ID numbers are stored with the enrolment and shown masked; keys and audit cases use
//! an opaque person key (a hash of the number), so the number never appears in a key, a log line
//! or an audit event.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;
use swi_domain::access::Owner;
use swi_domain::duties::{Performed, Step, may_perform};
use swi_domain::enrolment::{self, Command, Material, Status};
use swi_domain::{Action, Actor};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_rules::age::{Person, Track, eligibility};
use swi_rules::category::Category;
use swi_rules::ids::{County, ResidentId};
use swi_rules::{ParamSet, RuleError};
use swi_store::{Condition, Index, Item, Key, Query as StoreQuery, Sha256, TxOp};

use crate::units::load_unit;
use swi_platform::wire;

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
    pub county: String,
    /// Real name.
    pub name: String,
    /// ID type (`resident_id`).
    pub id_type: String,
    /// The ID number (shown masked).
    pub id_number: String,
    /// Opaque person key (a keyed hash of the ID number); kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// Mobile phone.
    pub phone: String,
    /// Category (glossary identifier).
    pub category: String,
    /// Declared monthly wage (Art. 17, 48).
    pub declared_wage: Decimal,
    /// Entry into the job or scheme asked for.
    pub start: NaiveDate,
    /// Retirement track, where given.
    pub track: Option<String>,
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

/// A change to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterChange {
    /// When the change takes effect: RFC 3339 or `YYYY-MM-DDTHH:MM` China time.
    pub effective: String,
    /// New working hours.
    #[serde(default)]
    pub hours: Option<String>,
    /// New place.
    #[serde(default)]
    pub place: Option<String>,
    /// New post and duties.
    #[serde(default)]
    pub duties: Option<String>,
}

impl Enrolment {
    fn masked(&self) -> Self {
        let mut e = self.clone();
        // The person key never leaves the server (it names the person in the index).
        e.person = String::new();
        e.id_number =
            ResidentId::parse(&self.id_number).map_or_else(|_| "****".to_owned(), |id| id.masked());
        e
    }

    fn category(&self) -> Result<Category, ApiError> {
        self.category.parse().map_err(|e| ApiError::internal(&e))
    }

    fn owner(&self) -> Owner<'_> {
        match (&self.unit, &self.owner) {
            (Some(u), _) => Owner::Unit(u),
            (None, Some(sub)) => Owner::Person(sub),
            (None, None) => Owner::Nobody,
        }
    }

    fn county(&self) -> Result<County, ApiError> {
        County::parse(&self.county).map_err(|e| ApiError::internal(&e))
    }

    fn period(&self) -> (NaiveDate, Option<NaiveDate>) {
        (self.cover_start.unwrap_or(self.start), self.cover_end)
    }
}

/// An entry in a roster (unit or self-enrolled) pointing at an enrolment.
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
    pub category: String,
    /// Status.
    pub status: Status,
    /// Asked start.
    pub start: NaiveDate,
    /// Cover start.
    pub cover_start: Option<NaiveDate>,
    /// Cover end.
    pub cover_end: Option<NaiveDate>,
}

/// Enrolment of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolPerson {
    /// Real name.
    pub name: String,
    /// ID type: `resident_id` (居民身份证).
    pub id_type: String,
    /// ID number.
    pub id_number: String,
    /// Mobile phone.
    pub phone: String,
    /// Category (glossary identifier).
    pub category: String,
    /// Declared monthly wage.
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    pub declared_wage: Decimal,
    /// Start (entry into the job).
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub start: NaiveDate,
    /// Retirement track (women over-age: `female_50` or `female_55`).
    #[serde(default)]
    pub track: Option<String>,
    /// Interns: the agreement's end.
    #[serde(default, deserialize_with = "swi_platform::wire::de::opt_date")]
    pub agreement_end: Option<NaiveDate>,
    /// Flexible workers: paying basic pension insurance (Art. 6).
    #[serde(default)]
    pub pays_basic_pension: Option<bool>,
    /// Self-enrolment: the county where the person works.
    #[serde(default)]
    pub county: Option<String>,
}

/// A filed material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileMaterial {
    /// SHA-256 of the uploaded scan.
    pub sha256: String,
}

/// A return with a one-time notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnEnrolment {
    /// Materials filed but not acceptable (they are listed as missing again).
    #[serde(default)]
    pub rejected: Vec<Material>,
    /// Other problems, each a sentence.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// A payment of the premium (until billing records them, Art. 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPayment {
    /// When it was paid: RFC 3339, or `YYYY-MM-DDTHH:MM` China time.
    pub paid_at: String,
}

/// A termination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terminate {
    /// Last day of cover.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub end: NaiveDate,
    /// Why.
    pub reason: String,
}

/// A person's cover history asked by ID number (in the body, so that it stays out of URLs and
/// access logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// ID number.
    pub id_number: String,
}

/// `?on=YYYY-MM-DD`.
#[derive(Debug, Clone, Deserialize)]
pub struct OnDate {
    /// The date (defaults to today in China).
    #[serde(default, deserialize_with = "swi_platform::wire::de::opt_date")]
    pub on: Option<NaiveDate>,
}

fn enrolment_key(id: &str) -> Key {
    Key::new(format!("enrolment#{id}"), "profile")
}

fn enrolment_case(id: &str) -> String {
    format!("enrolment#{id}")
}

fn roster_pk(e: &Enrolment) -> String {
    match (&e.unit, &e.owner) {
        (Some(u), _) => format!("unit#{u}"),
        (_, Some(o)) => format!("self#{o}"),
        _ => "orphan".to_owned(),
    }
}

fn member(e: &Enrolment) -> Member {
    Member {
        id: e.id.clone(),
        person: e.person.clone(),
        name: e.name.clone(),
        category: e.category.clone(),
        status: e.status,
        start: e.start,
        cover_start: e.cover_start,
        cover_end: e.cover_end,
    }
}

/// The operations writing an enrolment and its roster entry.
pub(crate) fn write_ops(e: &Enrolment, condition: Condition) -> Result<Vec<TxOp>, ApiError> {
    let k = enrolment_key(&e.id);
    let profile = Item::new(k.pk, k.sk, e)?.with_gsi1(
        format!("person#{}", e.person),
        format!("{}#{}", e.start, e.id),
    );
    let pointer = Item::new(roster_pk(e), format!("member#{}", e.id), &member(e))?;
    Ok(vec![
        TxOp::Put {
            item: profile,
            condition,
        },
        TxOp::Put {
            item: pointer,
            condition: Condition::None,
        },
    ])
}

fn rule_refusal(e: RuleError) -> ApiError {
    match e {
        RuleError::InvalidFacts(m) => ApiError::invalid("资料不符合规定", m),
        RuleError::NotInForce { .. } => ApiError::refused(
            "not_in_force",
            "该日期不在补充工伤保险实施期内",
            e.to_string(),
        ),
        other => ApiError::refused("parameter_pending", "所需参数尚未设定", other.to_string()),
    }
}

pub(crate) async fn load(p: &Platform, id: &str) -> Result<(Enrolment, u64), ApiError> {
    let item = p
        .state
        .get(&enrolment_key(id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该参保登记", format!("no enrolment {id}")))?;
    Ok((
        item.body().map_err(|e| ApiError::internal(&e))?,
        item.version,
    ))
}

/// A person's enrolment request checked against the rules, before any store is asked.
pub(crate) struct Checked {
    /// The parsed ID.
    pub id: ResidentId,
    /// The category.
    pub category: Category,
    /// The retirement track given.
    pub track: Option<Track>,
    /// The last day of cover the rules allow, if bounded.
    pub cover_end: Option<NaiveDate>,
}

/// Checks an enrolment request: names, phone, ID type and check digit, category, wage, and
/// eligibility on the start date (Art. 6-8). No store is asked.
///
/// # Errors
/// 400 for malformed fields, 422 for a person the rules do not admit.
pub(crate) fn check_request(params: &ParamSet, req: &EnrolPerson) -> Result<Checked, ApiError> {
    wire::name(&req.name, "name")?;
    wire::mobile(&req.phone, "phone")?;
    if req.id_type != "resident_id" {
        return Err(ApiError::invalid(
            "证件类型须为居民身份证（resident_id）",
            "`id_type` must be `resident_id`",
        ));
    }
    let id = ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let category: Category = req.category.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_category",
            "人员类别不正确",
            format!("unknown category `{}`", wire::clip(&req.category)),
        )
    })?;
    if req.declared_wage.is_sign_negative() || req.declared_wage.scale() > 2 {
        return Err(ApiError::invalid(
            "申报工资须为非负金额，至多两位小数",
            "`declared_wage` must be a non-negative amount with at most 2 decimals",
        ));
    }
    let track = req
        .track
        .as_deref()
        .map(Track::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("退休年龄类别不正确", e))?;
    let person = Person {
        category,
        birth: id.birth(),
        sex: id.sex(),
        track,
        agreement_end: req.agreement_end,
        pays_basic_pension: req.pays_basic_pension,
    };
    if category == Category::Flexible && req.pays_basic_pension != Some(true) {
        return Err(ApiError::refused(
            "no_basic_pension",
            "灵活就业人员须参加基本养老保险（第六条）",
            "a flexible worker must pay basic pension insurance (Art. 6): set pays_basic_pension",
        ));
    }
    let verdict = eligibility(params, &person, req.start).map_err(rule_refusal)?;
    if let Some(why) = verdict.value.ineligible {
        return Err(ApiError::refused(
            why.code(),
            "不符合该类人员的参保条件（第六条至第八条）",
            why.message(),
        ));
    }
    Ok(Checked {
        id,
        category,
        track,
        cover_end: verdict.value.cover_end,
    })
}

/// Every enrolment one person has had with one holder (a unit, or the person themselves), kept
/// in one item that each new enrolment rewrites under a version condition. Reading it (and the
/// enrolments it names) is strongly consistent, unlike the person index, so two enrolments over
/// overlapping dates cannot both be written, however close together they come (Art. 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CoverGuard {
    /// Enrolment ids, oldest first.
    pub enrolments: Vec<String>,
}

fn guard_key(pid: &str, unit: Option<&str>, owner: Option<&str>) -> Key {
    let holder = match (unit, owner) {
        (Some(u), _) => format!("unit#{u}"),
        (None, Some(o)) => format!("self#{o}"),
        (None, None) => "none".to_owned(),
    };
    Key::new(format!("cover#{pid}"), holder)
}

/// Reads a person's guard with a holder: the enrolment ids it names, and the operation that
/// adds `new_id` to it, conditioned on the version read.
///
/// # Errors
/// The store is unavailable.
pub(crate) async fn guard_with(
    p: &Platform,
    pid: &str,
    unit: Option<&str>,
    owner: Option<&str>,
    new_id: &str,
) -> Result<(Vec<String>, TxOp), ApiError> {
    let k = guard_key(pid, unit, owner);
    let (mut guard, condition) = match p.state.get(&k).await? {
        Some(item) => (
            item.body::<CoverGuard>()
                .map_err(|e| ApiError::internal(&e))?,
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

/// Validates and builds a new enrolment (not yet written), with the guard operation that must go
/// in its transaction.
async fn new_enrolment(
    p: &Platform,
    params: &ParamSet,
    req: &EnrolPerson,
    unit: Option<String>,
    owner: Option<String>,
    county: County,
) -> Result<(Enrolment, TxOp), ApiError> {
    let Checked {
        id,
        category,
        track,
        cover_end,
    } = check_request(params, req)?;
    let pid = p.persons.of(&id);
    let e = build_enrolment(
        p,
        params,
        req,
        unit.clone(),
        owner.clone(),
        county,
        Checked {
            id,
            category,
            track,
            cover_end,
        },
    )?;
    // One person, one unit, never twice over overlapping dates: the enrolments the guard names
    // (read consistently), and any the person index knows of.
    let (mut ids, guard) = guard_with(p, &pid, unit.as_deref(), owner.as_deref(), &e.id).await?;
    for item in &p
        .state
        .query_index_all(
            Index::Gsi1,
            &StoreQuery::partition(format!("person#{pid}")).limit(100),
        )
        .await?
    {
        let other: Enrolment = item.body().map_err(|e| ApiError::internal(&e))?;
        if other.unit == unit && other.owner == owner && !ids.contains(&other.id) {
            ids.push(other.id);
        }
    }
    for other_id in &ids {
        let Some(item) = p.state.get(&enrolment_key(other_id)).await? else {
            continue;
        };
        let other: Enrolment = item.body().map_err(|e| ApiError::internal(&e))?;
        if enrolment::overlaps(other.period(), (req.start, cover_end)) {
            return Err(ApiError::conflict(
                "overlapping_cover",
                "该人员在本单位已有重叠期间的参保登记",
                format!(
                    "this person is already enrolled here for an overlapping period ({})",
                    other.id
                ),
            ));
        }
    }
    Ok((e, guard))
}

/// The enrolment of a checked request (overlaps already ruled out by the caller).
///
/// # Errors
/// A broken retirement parameter.
pub(crate) fn build_enrolment(
    p: &Platform,
    params: &ParamSet,
    req: &EnrolPerson,
    unit: Option<String>,
    owner: Option<String>,
    county: County,
    checked: Checked,
) -> Result<Enrolment, ApiError> {
    let Checked {
        id,
        category,
        track,
        cover_end,
    } = checked;
    let pid = p.persons.of(&id);
    let retirement_on = match (track, id.sex()) {
        (Some(t), _) => Some(t),
        (None, swi_rules::ids::Sex::Male) => Some(Track::Male),
        (None, swi_rules::ids::Sex::Female) => None,
    }
    .map(|t| swi_rules::age::retirement(params, id.birth(), t))
    .transpose()
    .map_err(rule_refusal)?
    .map(|d| d.value.reached_on);
    let mut seed = sha2::Sha256::new();
    seed.update(pid.as_bytes());
    seed.update(
        unit.as_deref()
            .or(owner.as_deref())
            .unwrap_or_default()
            .as_bytes(),
    );
    seed.update(req.start.to_string().as_bytes());
    let id_str = format!("e-{}", &hex::encode(seed.finalize())[..20]);
    Ok(Enrolment {
        id: id_str,
        unit,
        owner,
        county: county.code().to_string(),
        name: req.name.clone(),
        id_type: req.id_type.clone(),
        id_number: id.expose().to_owned(),
        person: pid,
        phone: req.phone.clone(),
        category: category.as_str().to_owned(),
        declared_wage: req.declared_wage,
        start: req.start,
        track: track.map(|t| t.as_str().to_owned()),
        agreement_end: req.agreement_end,
        status: enrolment::initial(category),
        materials: BTreeMap::new(),
        missing: enrolment::required_materials(category).to_vec(),
        entered_on: p.clock.today(),
        paid_at: None,
        cover_start: None,
        cover_end,
        notice: None,
        steps: Vec::new(),
        changes: Vec::new(),
        retirement_on,
    })
}

/// The writes of a new enrolment: its profile and roster entry, its guard (see
/// [`CoverGuard`]), the retirement watch of an employee, and its audit event.
pub(crate) fn created(e: &Enrolment, guard: TxOp, command: &str) -> Result<Change, ApiError> {
    let body = serde_json::to_value(e.masked()).map_err(|err| ApiError::internal(&err))?;
    let mut ops = write_ops(e, Condition::NotExists)?;
    ops.push(guard);
    // Employees are watched for the legal retirement age (Art. 8, `jobs::retirement_check`).
    if let (Some(unit), Some(reached_on), "employee") =
        (&e.unit, e.retirement_on, e.category.as_str())
    {
        ops.push(crate::jobs::pointer_op(&crate::jobs::RetirementPointer {
            enrolment: e.id.clone(),
            unit: unit.clone(),
            county: e.county.clone(),
            reached_on,
        })?);
    }
    Ok(Change {
        ops,
        audit: vec![Audit {
            case: enrolment_case(&e.id),
            command: command.into(),
            change: body.clone(),
        }],
        status: StatusCode::CREATED,
        response: body,
    })
}

pub(crate) fn params() -> Result<&'static ParamSet, ApiError> {
    ParamSet::builtin().map_err(|e| ApiError::internal(&e))
}

/// `POST /api/units/{code}/persons`: a unit enrols a person (Art. 6-7).
///
/// # Errors
/// 400 bad fields (ID check digit, unknown category); 403; 404 unknown unit; 409 cancelled unit or
/// overlapping cover; 422 not eligible (over 70, under 16, not retired, …).
#[utoipa::path(post, path = "/api/units/{code}/persons", tag = "persons", request_body = EnrolPerson, params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 201, description = "enrolled", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn enrol(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<EnrolPerson>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/units/{code}/persons"), &req);
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (unit, version) = load_unit(&p, &code).await?;
        let county = County::parse(&unit.county).map_err(|e| ApiError::internal(&e))?;
        actor.may(Action::ManagePersons, Some(county), Owner::Unit(&unit.code))?;
        let unit_check = crate::units::active_check(&unit, version)?;
        if req.county.is_some() {
            return Err(ApiError::invalid(
                "单位参保人员的县（市、区）随单位",
                "`county` is only for self-enrolment; a unit's persons are in its county",
            ));
        }
        let (e, guard) =
            new_enrolment(&p, params()?, &req, Some(unit.code.clone()), None, county).await?;
        let mut change = created(&e, guard, "enrolment.create")?;
        change.ops.push(unit_check);
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/self/enrolments`: a flexible or platform worker enrols themselves (Art. 6, 16).
///
/// # Errors
/// As [`enrol`]; 422 for a category that cannot self-enrol.
#[utoipa::path(post, path = "/api/self/enrolments", tag = "persons", request_body = EnrolPerson, params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 201, description = "enrolled", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn enrol_self(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<EnrolPerson>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/self/enrolments", &req);
    let county = County::parse(req.county.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::invalid("须填写工作所在县（市、区）", e))?;
    actor.may(Action::EnrolSelf, Some(county), Owner::Person(&actor.sub))?;
    let category: Option<Category> = req.category.parse().ok();
    if category.is_some_and(|c| !c.may_pay_personally()) {
        return Err(ApiError::refused(
            "category_not_self_enrolled",
            "仅灵活就业人员和新业态从业人员可个人参保",
            "only flexible and platform workers enrol themselves (Art. 16, 19)",
        ));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (e, guard) =
            new_enrolment(&p, params()?, &req, None, Some(actor.sub.clone()), county).await?;
        created(&e, guard, "enrolment.create_self")
    })
    .await?;
    Ok((status, axum::Json(body)))
}

#[allow(clippy::too_many_arguments)]
async fn transition<F>(
    p: &Platform,
    actor: &Actor,
    key: &IdempotencyKey,
    fp: &str,
    id: &str,
    action: Action,
    command: &'static str,
    change: F,
) -> Result<(StatusCode, axum::Json<Value>), ApiError>
where
    F: FnOnce(&mut Enrolment) -> Result<Value, ApiError>,
{
    let (status, body) = apply(p, actor, key, fp, async {
        let (mut e, version) = load(p, id).await?;
        actor.may(action, Some(e.county()?), e.owner())?;
        // A payment starts cover: a unit's member is paid for only while the unit is active,
        // and the transaction holds only if it stays so (Art. 8, 10).
        let unit_check = match (&e.unit, action) {
            (Some(code), Action::RecordPayment) => {
                let (unit, unit_version) = load_unit(p, code).await?;
                Some(crate::units::active_check(&unit, unit_version)?)
            }
            _ => None,
        };
        let detail = change(&mut e)?;
        e.missing = enrolment::missing(
            e.category()?,
            &e.materials.keys().copied().collect::<Vec<_>>(),
        );
        let body = serde_json::to_value(e.masked()).map_err(|err| ApiError::internal(&err))?;
        let mut ops = write_ops(&e, Condition::VersionIs(version))?;
        ops.extend(unit_check);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: enrolment_case(&e.id),
                command: command.into(),
                change: detail,
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

fn step(e: &Enrolment, command: &Command) -> Result<Status, ApiError> {
    let filed: Vec<Material> = e.materials.keys().copied().collect();
    enrolment::next(e.status, command, e.category()?, &filed).map_err(|r| {
        ApiError::conflict(
            "invalid_transition",
            "当前状态下不能办理该业务",
            r.to_string(),
        )
    })
}

/// `PUT /api/enrolments/{id}/materials/{material}`: files an uploaded scan (Art. 7, 33).
///
/// # Errors
/// 400 unknown material or hash; 403; 404; 409 wrong status; 422 scan not uploaded or not required.
#[utoipa::path(put, path = "/api/enrolments/{id}/materials/{material}", tag = "persons", request_body = FileMaterial, params(("id" = String, Path), ("material" = Material, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "filed", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn file_material(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path((id, material)): Path<(String, String)>,
    ApiJson(req): ApiJson<FileMaterial>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(
        &format!("PUT /api/enrolments/{id}/materials/{material}"),
        &req,
    );
    let kind: Material = serde_json::from_value(json!(material)).map_err(|_| {
        ApiError::invalid(
            "材料类型不正确",
            format!("unknown material `{}`", wire::clip(&material)),
        )
    })?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("材料哈希不正确", e.to_string()))?;
    // Access first: the bucket is read only for someone who may file to this enrolment.
    let (e, _) = load(&p, &id).await?;
    actor.may(Action::UploadMaterials, Some(e.county()?), e.owner())?;
    swi_platform::documents::require_scan(&p, &sha, "扫描件").await?;
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::UploadMaterials,
        "enrolment.file_material",
        |e| {
            if !enrolment::required_materials(e.category()?).contains(&kind) {
                return Err(ApiError::refused(
                    "material_not_required",
                    "该类人员无需此项材料",
                    format!("{} does not file {material}", e.category),
                ));
            }
            e.materials.insert(kind, sha.hex());
            e.status = step(e, &Command::FileMaterial(kind))?;
            Ok(json!({ "material": kind, "sha256": sha.hex() }))
        },
    )
    .await
}

/// `POST /api/enrolments/{id}/accept`: the window accepts the materials (Art. 34).
///
/// # Errors
/// 403 (also separation of duties); 404; 409 wrong status.
#[utoipa::path(post, path = "/api/enrolments/{id}/accept", tag = "persons", params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "accepted", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn accept(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/accept"), &());
    let today = p.clock.today();
    let sub = actor.sub.clone();
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::AcceptMaterials,
        "enrolment.accept",
        |e| {
            may_perform(&e.steps, &sub, Step::Acceptance)?;
            e.status = step(e, &Command::Accept)?;
            e.steps.push(Performed {
                step: Step::Acceptance,
                sub: sub.clone(),
            });
            e.entered_on = today;
            Ok(json!({ "accepted_on": today }))
        },
    )
    .await
}

/// `POST /api/enrolments/{id}/return`: the window returns the enrolment with a one-time notice
/// listing every missing material and every problem at once (Art. 34).
///
/// # Errors
/// 400 nothing to tell; 403; 404; 409 wrong status.
#[utoipa::path(post, path = "/api/enrolments/{id}/return", tag = "persons", request_body = ReturnEnrolment, params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "returned with a one-time notice", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn return_with_notice(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReturnEnrolment>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/return"), &req);
    for problem in &req.problems {
        wire::name(problem, "problems")?;
    }
    let today = p.clock.today();
    let (sub, name) = (actor.sub.clone(), actor.name.clone());
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::AcceptMaterials,
        "enrolment.return",
        |e| {
            may_perform(&e.steps, &sub, Step::Acceptance)?;
            for m in &req.rejected {
                e.materials.remove(m);
            }
            let filed: Vec<Material> = e.materials.keys().copied().collect();
            let missing = enrolment::missing(e.category()?, &filed);
            if missing.is_empty() && req.problems.is_empty() {
                return Err(ApiError::invalid(
                    "一次性告知书须列明缺少或有误的材料",
                    "a return needs something to tell: rejected materials or problems",
                ));
            }
            e.status = step(e, &Command::Return)?;
            let notice = Notice {
                missing,
                problems: req.problems.clone(),
                issued_on: today,
                issued_by: name.clone(),
            };
            e.notice = Some(notice.clone());
            serde_json::to_value(&notice).map_err(|err| ApiError::internal(&err))
        },
    )
    .await
}

/// `POST /api/enrolments/{id}/payments`: records the premium payment; cover starts the day after
/// the later of entry and payment (Art. 8).
///
/// # Errors
/// 400 bad time; 403; 404; 409 wrong status.
#[utoipa::path(post, path = "/api/enrolments/{id}/payments", tag = "persons", request_body = RecordPayment, params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "paid; cover starts the next day (Art. 8)", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn record_payment(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordPayment>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/payments"), &req);
    let paid = wire::china_datetime(&req.paid_at, "paid_at")?;
    if paid > p.clock.now().naive_local() {
        return Err(ApiError::invalid(
            "缴费时间不能晚于当前时间",
            "`paid_at` is in the future",
        ));
    }
    let params = params()?;
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::RecordPayment,
        "enrolment.record_payment",
        |e| {
            e.status = step(e, &Command::RecordPayment)?;
            // Art. 8 counts from entry and payment; cover never starts before the job does.
            let entered = e.entered_on.max(e.start.pred_opt().unwrap_or(e.start));
            let start = swi_rules::cover::cover_start(params, entered, paid.date())
                .map_err(rule_refusal)?
                .value;
            if e.cover_end.is_some_and(|end| start > end) {
                return Err(ApiError::refused(
                    "cover_would_start_after_end",
                    "缴费晚于保障期结束，无法生效",
                    "the payment comes after the end of the cover this person can have",
                ));
            }
            e.paid_at = Some(paid);
            e.cover_start = Some(start);
            Ok(json!({ "paid_at": paid, "cover_start": start, "basis": "Art. 8" }))
        },
    )
    .await
}

/// `POST /api/enrolments/{id}/terminate`: ends cover (Art. 9).
///
/// # Errors
/// 400 bad end; 403; 404; 409 already terminated.
#[utoipa::path(post, path = "/api/enrolments/{id}/terminate", tag = "persons", request_body = Terminate, params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "terminated", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn terminate(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Terminate>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/terminate"), &req);
    wire::name(&req.reason, "reason")?;
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::ManagePersons,
        "enrolment.terminate",
        |e| {
            if req.end < e.start {
                return Err(ApiError::invalid(
                    "终止日期早于参保开始日期",
                    "`end` is before the start",
                ));
            }
            e.status = step(e, &Command::Terminate)?;
            e.cover_end = Some(e.cover_end.map_or(req.end, |b| b.min(req.end)));
            Ok(json!({ "end": e.cover_end, "reason": req.reason }))
        },
    )
    .await
}

/// `GET /api/enrolments/{id}`.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/enrolments/{id}", tag = "persons", params(("id" = String, Path)), responses((status = 200, description = "the enrolment (ID number masked)", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Enrolment>, ApiError> {
    let (e, _) = load(&p, &id).await?;
    actor.may(Action::Read, Some(e.county()?), e.owner())?;
    Ok(axum::Json(e.masked()))
}

/// `GET /api/units/{code}/roster?on=DATE`: the unit's persons covered on a date.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/roster", tag = "persons", params(("code" = String, Path), ("on" = Option<String>, Query, description = "YYYY-MM-DD; default today in China")), responses((status = 200, description = "members covered on the date", body = Object), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn roster(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
    Query(q): Query<OnDate>,
) -> Result<axum::Json<Value>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    let county = County::parse(&unit.county).map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::Read, Some(county), Owner::Unit(&unit.code))?;
    let on = q.on.unwrap_or_else(|| p.clock.today());
    let mut covered = Vec::new();
    for item in &p
        .state
        .query_all(
            &StoreQuery::partition(format!("unit#{}", unit.code))
                .range(swi_store::SkRange::Prefix("member#".into()))
                .limit(500),
        )
        .await?
    {
        let mut m: Member = item.body().map_err(|e| ApiError::internal(&e))?;
        m.person.clear();
        let on_cover =
            m.cover_start.is_some_and(|s| s <= on) && m.cover_end.is_none_or(|e| on <= e);
        if on_cover {
            covered.push(m);
        }
    }
    Ok(axum::Json(
        json!({ "unit": unit.code, "on": on, "covered": covered }),
    ))
}

/// `POST /api/persons/history`: a person's enrolments across units, oldest first.
///
/// # Errors
/// 400 bad ID number; 403.
#[utoipa::path(post, path = "/api/persons/history", tag = "persons", request_body = HistoryQuery, responses((status = 200, description = "enrolments, oldest first, ID numbers masked", body = Object), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn history(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ApiJson(q): ApiJson<HistoryQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    actor.may(Action::Read, None, Owner::Nobody)?;
    let id = ResidentId::parse(&q.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let mut out = Vec::new();
    for item in &p
        .state
        .query_index_all(
            Index::Gsi1,
            &StoreQuery::partition(format!("person#{}", p.persons.of(&id))).limit(100),
        )
        .await?
    {
        let e: Enrolment = item.body().map_err(|err| ApiError::internal(&err))?;
        // Each enrolment is shown only to whoever may read it.
        if actor
            .may(Action::Read, Some(e.county()?), e.owner())
            .is_ok()
        {
            out.push(e.masked());
        }
    }
    Ok(axum::Json(json!({ "enrolments": out })))
}

/// The first `at_most` enrolments of a unit whose cover has not ended, with their versions
/// (only those are loaded: a batch of the cancellation job reads its batch, not the unit).
///
/// # Errors
/// The store is unavailable.
pub(crate) async fn active_members(
    p: &Platform,
    unit: &str,
    at_most: usize,
) -> Result<Vec<(Enrolment, u64)>, ApiError> {
    let mut out = Vec::new();
    for item in &p
        .state
        .query_all(
            &StoreQuery::partition(format!("unit#{unit}"))
                .range(swi_store::SkRange::Prefix("member#".into()))
                .limit(500),
        )
        .await?
    {
        let m: Member = item.body().map_err(|e| ApiError::internal(&e))?;
        if m.status != Status::Terminated {
            out.push(load(p, &m.id).await?);
            if out.len() == at_most {
                break;
            }
        }
    }
    Ok(out)
}

/// Ends an enrolment's cover on `end` because its unit was cancelled (Art. 10): the operations
/// and the audit entry, for the caller's transaction.
///
/// # Errors
/// A stored enrolment that cannot be read back.
pub(crate) fn end_with_unit(
    mut e: Enrolment,
    version: u64,
    end: NaiveDate,
) -> Result<(Vec<TxOp>, Audit), ApiError> {
    e.status = Status::Terminated;
    e.cover_end = Some(e.cover_end.map_or(end, |b| b.min(end)));
    let ops = write_ops(&e, Condition::VersionIs(version))?;
    let audit = Audit {
        case: enrolment_case(&e.id),
        command: "enrolment.end_with_unit".into(),
        change: json!({ "end": e.cover_end, "basis": "Art. 10" }),
    };
    Ok((ops, audit))
}

/// `POST /api/enrolments/{id}/changes`: a flexible worker registers a change of working hours,
/// place or duties at least 48 hours before it takes effect (Art. 18).
///
/// # Errors
/// 400 nothing changes or bad time; 403; 404; 409 not a flexible worker's open enrolment;
/// 422 registered less than 48 hours before.
#[utoipa::path(post, path = "/api/enrolments/{id}/changes", tag = "persons", request_body = RegisterChange,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "registered", body = Enrolment),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_change(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RegisterChange>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/enrolments/{id}/changes"), &req);
    let effective = wire::china_datetime(&req.effective, "effective")?;
    let fields = [&req.hours, &req.place, &req.duties];
    if fields.iter().all(|f| f.is_none()) {
        return Err(ApiError::invalid(
            "须填写变化后的工作时段、场所或工作内容",
            "give the new hours, place or duties",
        ));
    }
    for f in fields.into_iter().flatten() {
        wire::name(f, "hours/place/duties")?;
    }
    let now = p.clock.now().naive_local();
    let params = params()?;
    let notice = swi_rules::cover::change_notice(params, now, effective)
        .map_err(rule_refusal)?
        .value;
    if !notice.timely {
        return Err(ApiError::refused(
            "change_notice_too_late",
            "灵活就业人员须在工作时段、场所、工作内容变化前48小时申请变更登记（第十八条）",
            format!(
                "a change must be registered by {} (48 hours before it takes effect, Art. 18)",
                notice.latest
            ),
        ));
    }
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::UploadMaterials,
        "enrolment.register_change",
        |e| {
            if e.category != "flexible" || e.status == Status::Terminated {
                return Err(ApiError::conflict(
                    "invalid_transition",
                    "仅灵活就业人员的有效参保登记可办理变更",
                    "only a flexible worker's open enrolment registers such changes",
                ));
            }
            let change = WorkChange {
                effective,
                hours: req.hours.clone(),
                place: req.place.clone(),
                duties: req.duties.clone(),
                registered: Some(now),
            };
            e.changes.push(change.clone());
            serde_json::to_value(&change).map_err(|err| ApiError::internal(&err))
        },
    )
    .await
}

/// `GET /api/units/{code}/alerts`: what the unit must act on (e.g. an employee past the legal
/// retirement age, Art. 8).
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/alerts", tag = "persons", params(("code" = String, Path)),
    responses((status = 200, description = "alerts", body = [crate::jobs::Alert]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn alerts(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Vec<crate::jobs::Alert>>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    let county = County::parse(&unit.county).map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::Read, Some(county), Owner::Unit(&unit.code))?;
    Ok(axum::Json(crate::jobs::alerts(&p, &unit.code).await?))
}

/// `GET /api/enrolments/{id}/notice`: the last one-time notice (一次性告知书, Art. 34) as a PDF
/// form, to hand or send to the unit or person.
///
/// # Errors
/// 403; 404 unknown enrolment or no notice.
#[utoipa::path(get, path = "/api/enrolments/{id}/notice", tag = "persons", params(("id" = String, Path)),
    responses((status = 200, description = "the one-time notice", content_type = "application/pdf"),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn notice_pdf(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (e, _) = load(&p, &id).await?;
    actor.may(Action::Read, Some(e.county()?), e.owner())?;
    let notice = e.notice.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "该参保登记没有一次性告知书",
            "this enrolment has no one-time notice",
        )
    })?;
    let mut items: Vec<String> = notice
        .missing
        .iter()
        .map(|m| format!("缺少材料：{}", m.chinese()))
        .collect();
    items.extend(notice.problems.iter().map(|p| format!("需补正：{p}")));
    let category: Category = e.category()?;
    let form = swi_forms::Form {
        title: "补充工伤保险参保登记一次性告知书".into(),
        number: "表号：GZBG-CB-02".into(),
        serial: format!("编号：{}", e.id),
        fields: [
            swi_forms::Field { label: "参保人员".into(), value: format!("{}（{}）", e.name, e.masked().id_number) },
            swi_forms::Field { label: "人员类别".into(), value: category.chinese().into() },
            swi_forms::Field { label: "参保单位".into(), value: e.unit.clone().unwrap_or_else(|| "个人参保".into()) },
        ]
        .into_iter()
        .chain(items.iter().enumerate().map(|(i, t)| swi_forms::Field {
            label: format!("告知事项{}", i + 1),
            value: t.clone(),
        }))
        .collect(),
        statement: "经审查，您提交的参保登记材料不全或有误。根据《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第三十四条，现一次性告知上述全部事项，请补齐或更正后重新提交。".into(),
        signatures: vec![format!("受理人：{}", notice.issued_by), "承办机构（盖章）".into()],
        date_line: {
            use chrono::Datelike;
            let d = notice.issued_on;
            format!("{}年{}月{}日", d.year(), d.month(), d.day())
        },
    };
    let pdf = swi_forms::render(&*crate::projects::font()?, &form)
        .map_err(|err| ApiError::internal(&err))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"notice-{id}.pdf\""),
            ),
        ],
        pdf,
    ))
}
