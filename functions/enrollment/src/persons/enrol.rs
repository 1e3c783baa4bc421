//! Enrolment of a person: by the unit (Art. 6-7), or by a flexible or platform worker for
//! themselves (Art. 6, 16). One person is never enrolled twice with one holder over overlapping
//! dates, however close together two requests come (the cover guard, `swi_registry::enrolment`).

use std::collections::BTreeMap;
use swi_platform::ErrorCode;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use sha2::Digest;
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_domain::enrolment;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change};
use swi_platform::mutation::{IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, enrolment_case, enrolment_key, guard_with, write_ops};
use swi_registry::person::{Cover, register_of};
use swi_registry::unit::{active_check, load_unit};
use swi_rules::ParamSet;
use swi_rules::age::Track;
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, TxOp};

use super::request::{Checked, EnrolPerson, check_request};
use crate::retirement::{RetirementPointer, pointer_op};

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
    let checked = check_request(params, req)?;
    let cover_end = checked.cover_end;
    let pid = p.persons.of(&checked.id);
    let e = build_enrolment(p, params, req, unit.clone(), owner.clone(), county, checked)?;
    // One person, one unit, never twice over overlapping dates: the enrolments the guard names
    // (read consistently), and any the person index knows of.
    let (mut ids, guard) = guard_with(p, &pid, unit.as_deref(), owner.as_deref(), &e.id).await?;
    for cover in register_of(p, &pid).await? {
        if let Cover::Enrolment { enrolment: other } = cover
            && other.unit == unit
            && other.owner == owner
            && !ids.contains(&other.id)
        {
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
                ErrorCode::OverlappingCover,
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
pub fn build_enrolment(
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
    .transpose()?
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
        county,
        name: req.name.clone(),
        id_type: req.id_type.clone(),
        id_number: id.expose().to_owned(),
        person: pid,
        phone: req.phone.clone(),
        category,
        declared_wage: req.declared_wage,
        start: req.start,
        track,
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
        bills_from: None,
    })
}

/// The writes of a new enrolment: its profile and roster entry, its guard (see
/// [`CoverGuard`]), the retirement watch of an employee, and its audit event.
pub fn created(e: &Enrolment, guard: TxOp, command: &str) -> Result<Change, ApiError> {
    let body = serde_json::to_value(e.masked()).map_err(|err| ApiError::internal(&err))?;
    let mut ops = write_ops(e, Condition::NotExists)?;
    ops.push(guard);
    // Employees are watched for the legal retirement age (Art. 8, `crate::retirement`).
    if let (Some(unit), Some(reached_on), Category::Employee) =
        (&e.unit, e.retirement_on, e.category)
    {
        ops.push(pointer_op(&RetirementPointer {
            enrolment: e.id.clone(),
            unit: unit.clone(),
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
        let county = unit.county;
        actor.may(Action::ManagePersons, Some(county), Owner::Unit(&unit.code))?;
        let unit_check = active_check(&unit, version)?;
        if req.county.is_some() {
            return Err(ApiError::invalid(
                "单位参保人员的县（市、区）随单位",
                "`county` is only for self-enrolment; a unit's persons are in its county",
            ));
        }
        let params = p.params().await?;
        let (mut e, guard) =
            new_enrolment(&p, &params, &req, Some(unit.code.clone()), None, county).await?;
        // An employee waits for payment at once: billed for the first month now (Art. 8).
        let first = super::billing::first_bill(&p, &params, &mut e, Some(&unit), &actor.name)?;
        let mut change = created(&e, guard, "enrolment.create")?;
        change.ops.push(unit_check);
        change.ops.extend(first.ops);
        change.audit.extend(first.audit);
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
            ErrorCode::CategoryNotSelfEnrolled,
            "仅灵活就业人员和新业态从业人员可个人参保",
            "only flexible and platform workers enrol themselves (Art. 16, 19)",
        ));
    }
    // A citizen enrols only the ID number verified for their account.
    let id = swi_rules::ids::ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    swi_platform::identity::may_act_for(&p, &actor, &id, false).await?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (e, guard) = new_enrolment(
            &p,
            &*p.params().await?,
            &req,
            None,
            Some(actor.sub.clone()),
            county,
        )
        .await?;
        created(&e, guard, "enrolment.create_self")
    })
    .await?;
    Ok((status, axum::Json(body)))
}
