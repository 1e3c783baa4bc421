//! Units (参保单位) and their work-injury facts (Art. 7, 9-10, 13-15).
//!
//! A unit may enrol only while it is in the work-injury scheme (Art. 7: 应参加工伤保险而未参加的
//! 单位不得单独参加补充工伤保险). Those facts — registration number, industry class, floated rate
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
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, audit_ops, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_rules::category::IndustryClass;
use swi_rules::ids::{County, CreditCode};
use swi_store::{Condition, Item, Key, Sha256, TxOp};

use crate::wire;

/// A unit's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// Enrolled.
    Active,
    /// Cancelled (Art. 10).
    Cancelled,
}

/// A contact person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Mobile phone number (11 digits).
    pub phone: String,
}

/// The unit's payment account (for benefits paid to the unit, Art. 35).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Bank (开户行).
    pub bank: String,
    /// Account number.
    pub number: String,
    /// Account holder (户名).
    pub holder: String,
}

/// The unit's facts in the work-injury scheme, as recorded here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkInjuryFacts {
    /// Unified social credit code.
    pub code: String,
    /// Name as registered in the work-injury scheme.
    pub name: String,
    /// County code.
    pub county: String,
    /// Work-injury registration number.
    pub registration_no: String,
    /// Whether the unit is currently insured in the work-injury scheme.
    pub insured: bool,
    /// Industry class 1-8 (Art. 13-14).
    pub industry_class: u32,
    /// Floated rate band (e.g. `1.2`), Art. 13, 15.
    pub rate_band: Decimal,
    /// When the band was decided.
    pub band_decided_on: NaiveDate,
    /// The date the facts are true on.
    pub as_of: NaiveDate,
    /// Where they come from: `clerk:<sub>` or `roster:<sha256>`.
    pub source: String,
    /// The scanned evidence (clerk entry) or the roster file (import).
    pub evidence_sha256: String,
}

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
    pub rate_band: Decimal,
    /// When the band was decided.
    pub band_decided_on: NaiveDate,
    /// The date the facts are true on.
    pub as_of: NaiveDate,
    /// SHA-256 of the uploaded scan proving them.
    pub evidence_sha256: String,
}

/// A unit as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    /// Unified social credit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// County code.
    pub county: String,
    /// Industry class (from the work-injury facts).
    pub industry_class: u32,
    /// Floated band (from the work-injury facts).
    pub rate_band: Decimal,
    /// Work-injury registration number.
    pub work_injury_no: String,
    /// Payment account.
    pub account: Account,
    /// Contact.
    pub contact: Contact,
    /// Status.
    pub status: UnitStatus,
    /// Registered on (China date).
    pub registered_on: NaiveDate,
    /// Cancelled on, when cancelled.
    pub cancelled_on: Option<NaiveDate>,
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

/// Members ended per transaction when a unit is cancelled: 3 operations each (enrolment, roster
/// entry, audit event) within DynamoDB's 100.
const MEMBERS_PER_TRANSACTION: usize = 30;

/// The key of a unit's profile.
#[must_use]
pub fn unit_key(code: &str) -> Key {
    Key::new(format!("unit#{code}"), "profile")
}

fn facts_key(code: &str) -> Key {
    Key::new(format!("wi#{code}"), "facts")
}

/// The audit case of a unit.
#[must_use]
pub fn unit_case(code: &str) -> String {
    format!("unit#{code}")
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

/// Loads a unit, or 404.
///
/// # Errors
/// 404 when no such unit; 503 when the store is unavailable.
pub async fn load_unit(p: &Platform, code: &str) -> Result<(Unit, u64), ApiError> {
    let item = p.state.get(&unit_key(code)).await?.ok_or_else(|| {
        ApiError::not_found("未找到该参保单位", format!("no unit {code} is registered"))
    })?;
    let unit: Unit = item.body().map_err(|e| ApiError::internal(&e))?;
    Ok((unit, item.version))
}

fn may(actor: &Actor, action: Action, county: County, code: &str) -> Result<(), ApiError> {
    actor.may(action, Some(county), Owner::Unit(code))?;
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
        match crate::documents::stored_type(&p, &evidence).await? {
            Some(t) if crate::documents::SCAN_TYPES.contains(&t) => {}
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_type",
                    "佐证材料须为 PDF、JPEG、PNG 或 TIFF 扫描件",
                    "the evidence must be a PDF, JPEG, PNG or TIFF scan",
                ));
            }
        }
        let facts = WorkInjuryFacts {
            code: code.as_str().to_owned(),
            name: req.name.clone(),
            county: req.county.clone(),
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
        let condition = current.map_or(Condition::NotExists, |i| Condition::VersionIs(i.version));
        let body = serde_json::to_value(&facts).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![TxOp::Put {
                item: Item::new(key.pk, key.sk, &facts)?,
                condition,
            }],
            audit: vec![Audit {
                case: unit_case(code.as_str()),
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
        let facts: Option<WorkInjuryFacts> = p
            .state
            .get(&facts_key(code.as_str()))
            .await?
            .map(|i| i.body())
            .transpose()
            .map_err(|e| ApiError::internal(&e))?;
        let facts = match facts {
            Some(f) if f.insured && f.county == req.county => f,
            Some(f) if f.insured => {
                return Err(ApiError::refused(
                    "county_mismatch",
                    "单位所在县（市、区）与工伤保险登记不一致",
                    format!(
                        "the unit is registered for work-injury insurance in county {}",
                        f.county
                    ),
                ));
            }
            _ => {
                return Err(ApiError::refused(
                    "not_in_work_injury_scheme",
                    "该单位未参加工伤保险，不得单独参加补充工伤保险（第七条）",
                    "a unit not insured in the work-injury scheme cannot enrol (Art. 7)",
                ));
            }
        };
        let unit = Unit {
            code: code.as_str().to_owned(),
            name: req.name.clone(),
            county: req.county.clone(),
            industry_class: facts.industry_class,
            rate_band: facts.rate_band,
            work_injury_no: facts.registration_no.clone(),
            account: req.account.clone(),
            contact: req.contact.clone(),
            status: UnitStatus::Active,
            registered_on: p.clock.today(),
            cancelled_on: None,
        };
        if p.state.get(&unit_key(code.as_str())).await?.is_some() {
            return Err(ApiError::conflict(
                "already_registered",
                "该单位已登记",
                "this unit is already registered",
            ));
        }
        let body = serde_json::to_value(&unit).map_err(|e| ApiError::internal(&e))?;
        let k = unit_key(code.as_str());
        Ok(Change {
            ops: vec![TxOp::Put {
                item: Item::new(k.pk, k.sk, &unit)?
                    .with_gsi1(format!("units#{}", unit.county), unit.code.clone()),
                condition: Condition::NotExists,
            }],
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
    may(&actor, Action::Read, county(&unit.county)?, &unit.code)?;
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
        may(
            &actor,
            Action::ManageUnit,
            county(&unit.county)?,
            &unit.code,
        )?;
        if unit.status == UnitStatus::Cancelled {
            return Err(ApiError::conflict(
                "unit_cancelled",
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
        let k = unit_key(&unit.code);
        Ok(Change {
            ops: vec![TxOp::Put {
                item: Item::new(k.pk, k.sk, &unit)?
                    .with_gsi1(format!("units#{}", unit.county), unit.code.clone()),
                condition: Condition::VersionIs(version),
            }],
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

/// `POST /api/units/{code}/cancel`: cancels a unit (Art. 10).
///
/// # Errors
/// 403; 404; 409 already cancelled.
#[utoipa::path(post, path = "/api/units/{code}/cancel", tag = "units", request_body = CancelUnit, params(("code" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")), responses((status = 200, description = "cancelled; every member's cover ended (Art. 10)", body = Unit), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
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
        may(
            &actor,
            Action::ManageUnit,
            county(&unit.county)?,
            &unit.code,
        )?;
        if unit.status == UnitStatus::Cancelled {
            return Err(ApiError::conflict(
                "unit_cancelled",
                "该单位已注销",
                "the unit is already cancelled",
            ));
        }
        let today = p.clock.today();
        // Cancelling the unit ends every member's cover (Art. 10). Members are ended in batches
        // that fit a transaction; the last batch goes with the unit itself. A batch that
        // committed before a failure is skipped when the command is retried.
        let members = crate::persons::active_members(&p, &unit.code).await?;
        let mut batches: Vec<Vec<(crate::persons::Enrolment, u64)>> = Vec::new();
        let mut rest = members;
        while rest.len() > MEMBERS_PER_TRANSACTION {
            let tail = rest.split_off(MEMBERS_PER_TRANSACTION);
            batches.push(rest);
            rest = tail;
        }
        let ended = batches.iter().map(Vec::len).sum::<usize>() + rest.len();
        for batch in batches {
            let mut ops = Vec::new();
            let mut audit = Vec::new();
            for (e, v) in batch {
                let (o, a) = crate::persons::end_with_unit(e, v, today)?;
                ops.extend(o);
                audit.push(a);
            }
            ops.extend(audit_ops(&p, &actor, &audit).await?);
            p.state.transact(ops).await?;
        }
        unit.status = UnitStatus::Cancelled;
        unit.cancelled_on = Some(today);
        let k = unit_key(&unit.code);
        let mut body = serde_json::to_value(&unit).map_err(|e| ApiError::internal(&e))?;
        body["members_ended"] = json!(ended);
        let mut ops = vec![TxOp::Put {
            item: Item::new(k.pk, k.sk, &unit)?
                .with_gsi1(format!("units#{}", unit.county), unit.code.clone()),
            condition: Condition::VersionIs(version),
        }];
        let mut audit = vec![Audit {
            case: unit_case(&unit.code),
            command: "unit.cancel".into(),
            change: json!({ "reason": req.reason, "cancelled_on": today, "members_ended": ended }),
        }];
        for (e, v) in rest {
            let (o, a) = crate::persons::end_with_unit(e, v, today)?;
            ops.extend(o);
            audit.push(a);
        }
        Ok(Change {
            ops,
            audit,
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
