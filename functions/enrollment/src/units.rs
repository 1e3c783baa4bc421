//! Units (参保单位) and their work-injury facts (Art. 7, 9-10, 13-15).
//!
//! A unit may enrol only while it is in the work-injury scheme (Art. 7: 按规定应参加而没有参加工伤
//! 保险的用人单位及职工不能单项参加补充工伤保险). Those facts — registration number, industry class, floated rate
//! band — belong to the work-injury system; here they are recorded with their source and date, by
//! a clerk with scanned evidence (or by a roster import), and the unit's class and band are taken
//! from them, never from the unit's own say.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::{Action, Actor};
use swi_platform::ErrorCode;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_registry::unit::{
    Account, Contact, Unit, UnitStatus, WorkInjuryFacts, facts_key, facts_put, load_facts,
    load_unit, unit_case, unit_key, unit_put,
};
use swi_rules::category::IndustryClass;
use swi_rules::ids::{County, CreditCode};
use swi_store::{Condition, Sha256};

use swi_platform::wire;

/// A clerk's entry of a unit's work-injury facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFacts {
    /// Unified social credit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// County code.
    pub county: String,
    /// Work-injury registration number.
    pub registration_no: String,
    /// Currently insured.
    pub insured: bool,
    /// Industry class 1-8.
    pub industry_class: u32,
    /// Floated band.
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    pub rate_band: Decimal,
    /// When the band was decided.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub band_decided_on: NaiveDate,
    /// The date the facts are true on.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub as_of: NaiveDate,
    /// SHA-256 of the uploaded scan proving them.
    pub evidence_sha256: String,
}

/// Registration of a unit (Art. 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterUnit {
    /// Unified social credit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// County code.
    pub county: String,
    /// Payment account.
    pub account: Account,
    /// Contact.
    pub contact: Contact,
}

/// A change of a unit's particulars (Art. 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeUnit {
    /// New name.
    pub name: Option<String>,
    /// New payment account.
    pub account: Option<Account>,
    /// New contact.
    pub contact: Option<Contact>,
}

/// Cancellation of a unit (Art. 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelUnit {
    /// Why (e.g. the work-injury registration was cancelled).
    pub reason: String,
}

fn credit_code(code: &str) -> Result<CreditCode, ApiError> {
    CreditCode::parse(code).map_err(|e| {
        ApiError::invalid(
            "统一社会信用代码不正确",
            format!("`code` is not a valid unified social credit code: {e}"),
        )
    })
}

fn county(code: &str) -> Result<County, ApiError> {
    County::parse(code).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))
}

fn check_contact(c: &Contact) -> Result<(), ApiError> {
    wire::name(&c.name, "contact.name")?;
    wire::mobile(&c.phone, "contact.phone")
}

fn check_account(a: &Account) -> Result<(), ApiError> {
    wire::name(&a.bank, "account.bank")?;
    wire::name(&a.holder, "account.holder")?;
    wire::bank_account(&a.number, "account.number")
}

fn may(actor: &Actor, action: Action, county: County, code: &str) -> Result<(), ApiError> {
    actor.may(action, Some(county), Owner::Unit(code))?;
    Ok(())
}

/// Refuses a change of facts unless the actor acts in the county the facts are recorded in, and
/// the change keeps them there: a move between counties is not a change of facts.
pub(crate) fn stored_county_holds(
    actor: &Actor,
    stored: &WorkInjuryFacts,
    asked: County,
) -> Result<(), ApiError> {
    let on_record = stored.county;
    actor.may(
        Action::RecordWorkInjuryFacts,
        Some(on_record),
        Owner::Unit(&stored.code),
    )?;
    if on_record != asked {
        return Err(ApiError::conflict(
            ErrorCode::CountyOnRecord,
            format!(
                "该单位的工伤保险登记在 {}（{}），不能通过登记事实变更县（市、区）",
                on_record.name(),
                on_record.code()
            ),
            format!(
                "the unit is recorded in county {}; facts cannot move it to another county",
                on_record.code()
            ),
        ));
    }
    Ok(())
}

/// `POST /api/work-injury/facts`: a clerk records a unit's work-injury facts with evidence.
///
/// # Errors
/// 400 invalid fields; 403 wrong role or county; 422 evidence not uploaded.
#[utoipa::path(post, path = "/api/work-injury/facts", tag = "units", request_body = RecordFacts, params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "recorded", body = WorkInjuryFacts), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn record_facts(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<RecordFacts>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/work-injury/facts", &req);
    let code = credit_code(&req.code)?;
    let county = county(&req.county)?;
    may(&actor, Action::RecordWorkInjuryFacts, county, code.as_str())?;
    wire::name(&req.name, "name")?;
    wire::token(&req.registration_no, "registration_no")?;
    let class = IndustryClass::new(req.industry_class)
        .map_err(|e| ApiError::invalid("行业类别须为 1-8", e))?;
    wire::rate_band(class, req.rate_band)?;
    let evidence = Sha256::parse(&req.evidence_sha256)
        .map_err(|e| ApiError::invalid("佐证材料哈希不正确", e.to_string()))?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let facts = WorkInjuryFacts {
            code: code.as_str().to_owned(),
            name: req.name.clone(),
            county,
            registration_no: req.registration_no.clone(),
            insured: req.insured,
            industry_class: class.get(),
            rate_band: req.rate_band,
            band_decided_on: req.band_decided_on,
            as_of: req.as_of,
            source: format!("clerk:{}", actor.sub),
            evidence_sha256: evidence.hex(),
        };
        let key = facts_key(code.as_str());
        let current = p.state.get(&key).await?;
        // The county on record decides, not the request's (a clerk of one county rewrote
        // another county's unit and moved it by naming their own county).
        if let Some(item) = &current {
            let stored: WorkInjuryFacts = item.body().map_err(|e| ApiError::internal(&e))?;
            stored_county_holds(&actor, &stored, county)?;
        }
        // The evidence is filed once the request is known to be allowed.
        swi_platform::documents::require_scan(&p, &actor, &evidence, "佐证材料").await?;
        let case = unit_case(code.as_str());
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &evidence,
            swi_platform::dossier::Filing {
                case: &case,
                county: &county.code().to_string(),
                class: swi_archive::retention::RecordClass::UnitRegistration,
                material: "工伤保险参保佐证材料",
            },
        )
        .await?;
        let condition = current.map_or(Condition::NotExists, |i| Condition::VersionIs(i.version));
        let body = serde_json::to_value(&facts).map_err(|e| ApiError::internal(&e))?;
        let mut ops = vec![facts_put(&facts, condition)?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "work_injury.record_facts".into(),
                change: body.clone(),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/units`: registers a unit that is in the work-injury scheme (Art. 7, 9).
///
/// # Errors
/// 400 invalid fields; 403 wrong role, county or unit; 409 already registered; 422 not in the
/// work-injury scheme.
#[utoipa::path(post, path = "/api/units", tag = "units", request_body = RegisterUnit, params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 201, description = "registered", body = Unit), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn register(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<RegisterUnit>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/units", &req);
    let code = credit_code(&req.code)?;
    let county = county(&req.county)?;
    may(&actor, Action::ManageUnit, county, code.as_str())?;
    wire::name(&req.name, "name")?;
    check_contact(&req.contact)?;
    check_account(&req.account)?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let facts = match load_facts(&p, code.as_str()).await? {
            Some((f, _)) if f.insured && f.county == county => f,
            Some((f, _)) if f.insured => {
                return Err(ApiError::refused(
                    ErrorCode::CountyMismatch,
                    "单位所在县（市、区）与工伤保险登记不一致",
                    format!(
                        "the unit is registered for work-injury insurance in county {}",
                        f.county
                    ),
                ));
            }
            _ => {
                return Err(ApiError::refused(
                    ErrorCode::NotInWorkInjuryScheme,
                    "该单位未参加工伤保险，不得单独参加补充工伤保险（第七条）",
                    "a unit not insured in the work-injury scheme cannot enrol (Art. 7)",
                ));
            }
        };
        let unit = Unit {
            code: code.as_str().to_owned(),
            name: req.name.clone(),
            county,
            industry_class: facts.industry_class,
            rate_band: facts.rate_band,
            work_injury_no: facts.registration_no.clone(),
            account: req.account.clone(),
            contact: req.contact.clone(),
            status: UnitStatus::Active,
            registered_on: p.clock.today(),
            cancelled_on: None,
            members_ended: 0,
            ending_members: false,
            moving_members: false,
            members_moved: 0,
            band_history: Vec::new(),
        };
        if p.state.get(&unit_key(code.as_str())).await?.is_some() {
            return Err(ApiError::conflict(
                ErrorCode::AlreadyRegistered,
                "该单位已登记",
                "this unit is already registered",
            ));
        }
        let body = serde_json::to_value(&unit).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![unit_put(&unit, Condition::NotExists)?],
            audit: vec![Audit {
                case: unit_case(&unit.code),
                command: "unit.register".into(),
                change: body.clone(),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/units/{code}`.
///
/// # Errors
/// 403 wrong role, county or unit; 404 unknown unit.
#[utoipa::path(get, path = "/api/units/{code}", tag = "units", params(("code" = String, Path, description = "unified social credit code")), responses((status = 200, description = "the unit", body = Unit), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Unit>, ApiError> {
    let code = credit_code(&code)?;
    let (unit, _) = load_unit(&p, code.as_str()).await?;
    may(&actor, Action::Read, unit.county, &unit.code)?;
    Ok(axum::Json(unit))
}

/// `PATCH /api/units/{code}`: changes name, account or contact (Art. 9).
///
/// # Errors
/// 400 invalid fields or nothing to change; 403; 404; 409 cancelled unit.
#[utoipa::path(patch, path = "/api/units/{code}", tag = "units", request_body = ChangeUnit, params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "changed", body = Unit), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn change(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<ChangeUnit>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("PATCH /api/units/{code}"), &req);
    let code = credit_code(&code)?;
    if req.name.is_none() && req.account.is_none() && req.contact.is_none() {
        return Err(ApiError::invalid("没有需要变更的内容", "nothing to change"));
    }
    if let Some(n) = &req.name {
        wire::name(n, "name")?;
    }
    if let Some(c) = &req.contact {
        check_contact(c)?;
    }
    if let Some(a) = &req.account {
        check_account(a)?;
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut unit, version) = load_unit(&p, code.as_str()).await?;
        may(&actor, Action::ManageUnit, unit.county, &unit.code)?;
        if unit.status == UnitStatus::Cancelled {
            return Err(ApiError::conflict(
                ErrorCode::UnitCancelled,
                "该单位已注销",
                "the unit is cancelled",
            ));
        }
        if let Some(n) = &req.name {
            unit.name.clone_from(n);
        }
        if let Some(a) = &req.account {
            unit.account = a.clone();
        }
        if let Some(c) = &req.contact {
            unit.contact = c.clone();
        }
        let body = serde_json::to_value(&unit).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![unit_put(&unit, Condition::VersionIs(version))?],
            audit: vec![Audit {
                case: unit_case(&unit.code),
                command: "unit.change".into(),
                change: serde_json::to_value(&req).map_err(|e| ApiError::internal(&e))?,
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/units/{code}/cancel`: cancels a unit (Art. 10). The unit is cancelled at once —
/// from then on it takes no member, declaration or project, since every write that adds cover is
/// conditioned on the unit as read — and the answer is 202: the cancellation job then ends every
/// member's cover a transaction at a time (`members_ended` counts them; `ending_members` is
/// false when done), resuming wherever a run stopped.
///
/// # Errors
/// 403; 404; 409 already cancelled.
#[utoipa::path(post, path = "/api/units/{code}/cancel", tag = "units", request_body = CancelUnit, params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 202, description = "cancelled; the members' cover is being ended (Art. 10)", body = Unit), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn cancel(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<CancelUnit>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/units/{code}/cancel"), &req);
    let code = credit_code(&code)?;
    wire::name(&req.reason, "reason")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut unit, version) = load_unit(&p, code.as_str()).await?;
        may(&actor, Action::ManageUnit, unit.county, &unit.code)?;
        if unit.status == UnitStatus::Cancelled {
            return Err(ApiError::conflict(
                ErrorCode::UnitCancelled,
                "该单位已注销",
                "the unit is already cancelled",
            ));
        }
        if unit.moving_members {
            return Err(ApiError::conflict(
                ErrorCode::UnitBusy,
                "该单位迁移仍在办理中",
                "the unit's move to another county is still in progress",
            ));
        }
        let today = p.clock.today();
        unit.status = UnitStatus::Cancelled;
        unit.cancelled_on = Some(today);
        unit.ending_members = true;
        let body = serde_json::to_value(&unit).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![
                unit_put(&unit, Condition::VersionIs(version))?,
                crate::cancellation::pointer(&unit.code, 0, Condition::NotExists)?,
            ],
            audit: vec![Audit {
                case: unit_case(&unit.code),
                command: "unit.cancel".into(),
                change: json!({ "reason": req.reason, "cancelled_on": today, "basis": "Art. 10" }),
            }],
            status: StatusCode::ACCEPTED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
