//! The window's work on an enrolment (Art. 7, 18, 33-34): materials filed as uploaded scans,
//! acceptance, a return with a one-time notice listing everything at once, and a flexible
//! worker's registered change of hours, place or duties.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::Actor;
use swi_domain::duties::{Performed, Step, may_perform};
use swi_domain::enrolment::{self, Command, Material, Status};
use swi_platform::ErrorCode;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{IdempotencyKey, apply, fingerprint};
use swi_platform::wire;
use swi_platform::{ApiError, Platform};
use swi_registry::cover::saved;
use swi_registry::enrolment::{Enrolment, Notice, WorkChange, load_enrolment};
use swi_registry::unit::{active_check, load_unit};
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Condition, Sha256, TxOp};

use super::request::{FileMaterial, RegisterChange, ReturnEnrolment};

#[allow(clippy::too_many_arguments)]
async fn transition<F>(
    p: &Platform,
    actor: &Actor,
    key: &IdempotencyKey,
    fp: &str,
    id: &str,
    action: Action,
    command: &'static str,
    more: Vec<TxOp>,
    change: F,
) -> Result<(StatusCode, axum::Json<Value>), ApiError>
where
    F: FnOnce(&mut Enrolment) -> Result<Value, ApiError>,
{
    let (status, body) = apply(p, actor, key, fp, async {
        let (mut e, version) = load_enrolment(p, id).await?;
        actor.may(action, Some(e.county), e.owner())?;
        let detail = change(&mut e)?;
        e.missing =
            enrolment::missing(e.category, &e.materials.keys().copied().collect::<Vec<_>>());
        // Accepted into waiting for payment: billed for the first month now, on the unit's
        // rating as read, held only while the unit stays so (Art. 8, 10).
        let mut extra = vec![window_entry(&e)?];
        extra.extend(more);
        let mut audit = Vec::new();
        if command == "enrolment.accept"
            && e.status == Status::AwaitingPayment
            && e.bills_from.is_none()
        {
            let unit = match &e.unit {
                Some(code) => {
                    let (unit, unit_version) = load_unit(p, code).await?;
                    extra.push(active_check(&unit, unit_version)?);
                    Some(unit)
                }
                None => None,
            };
            let params = p.params().await?;
            let first = super::billing::first_bill(p, &params, &mut e, unit.as_ref(), &actor.name)?;
            extra.extend(first.ops);
            audit = first.audit;
        }
        let mut change = saved(&e, version, command, detail, extra)?;
        change.audit.extend(audit);
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// The county window's queue of enrolments whose materials are complete and wait for
/// acceptance (`window#<county>` / `enrolment#<id>`): written when one comes to wait, removed
/// when it is accepted or returned, in the same transaction.
fn window_key(county: County, id: &str) -> swi_store::Key {
    swi_store::Key::new(format!("window#{county}"), format!("enrolment#{id}"))
}

/// The queue entry of `e` as it now stands: present while it awaits acceptance.
fn window_entry(e: &Enrolment) -> Result<TxOp, ApiError> {
    let k = window_key(e.county, &e.id);
    Ok(if e.status == Status::AwaitingAcceptance {
        TxOp::Put {
            item: swi_store::Item::new(k.pk, k.sk, &json!({ "id": e.id }))?,
            condition: Condition::None,
        }
    } else {
        TxOp::Delete {
            key: k,
            condition: Condition::None,
        }
    })
}

/// `GET /api/counties/{county}/enrolments`: the county window's enrolments waiting for
/// acceptance, oldest entry first (ID numbers masked).
///
/// # Errors
/// 400 unknown county; 403.
#[utoipa::path(get, path = "/api/counties/{county}/enrolments", tag = "persons", params(("county" = String, Path)),
    responses((status = 200, description = "enrolments awaiting acceptance, oldest first", body = [Enrolment]),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn waiting(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<Vec<Enrolment>>, ApiError> {
    let c = County::parse(&county).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))?;
    actor.may(
        Action::AcceptMaterials,
        Some(c),
        swi_domain::access::Owner::Nobody,
    )?;
    let listed = p
        .state
        .query_all(&swi_store::Query::partition(format!("window#{c}")).limit(500))
        .await?;
    let mut out = Vec::with_capacity(listed.len());
    for item in listed.iter().take(500) {
        let Some(id) = item.body["id"].as_str() else {
            continue;
        };
        let (e, _) = load_enrolment(&p, id).await?;
        // The record decides (a unit may have moved, an enrolment may have ended since).
        if e.status == Status::AwaitingAcceptance && e.county == c {
            out.push(e.masked());
        }
    }
    out.sort_by(|a, b| {
        a.entered_on
            .cmp(&b.entered_on)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(axum::Json(out))
}

fn step(e: &Enrolment, command: &Command) -> Result<Status, ApiError> {
    let filed: Vec<Material> = e.materials.keys().copied().collect();
    enrolment::next(e.status, command, e.category, &filed).map_err(|r| {
        ApiError::conflict(
            ErrorCode::InvalidTransition,
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
    let (e, _) = load_enrolment(&p, &id).await?;
    actor.may(Action::UploadMaterials, Some(e.county), e.owner())?;
    swi_platform::documents::require_scan(&p, &actor, &sha, "扫描件").await?;
    if !enrolment::required_materials(e.category).contains(&kind) {
        return Err(ApiError::refused(
            ErrorCode::MaterialNotRequired,
            "该类人员无需此项材料",
            format!("{} does not file {material}", e.category),
        ));
    }
    // Filed to the enrolment's dossier before the enrolment names it.
    let registered = swi_platform::documents::file(
        &p,
        &actor,
        &sha,
        swi_platform::dossier::Filing {
            case: &swi_registry::enrolment::enrolment_case(&id),
            county: &e.county.code().to_string(),
            class: swi_archive::retention::RecordClass::PersonRegistration,
            material: kind.chinese(),
        },
    )
    .await?;
    transition(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::UploadMaterials,
        "enrolment.file_material",
        registered.into_iter().collect(),
        |e| {
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
        Vec::new(),
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
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut e, version) = load_enrolment(&p, &id).await?;
        actor.may(Action::AcceptMaterials, Some(e.county), e.owner())?;
        may_perform(&e.steps, &actor.sub, Step::Acceptance)?;
        for m in &req.rejected {
            e.materials.remove(m);
        }
        let filed: Vec<Material> = e.materials.keys().copied().collect();
        let missing = enrolment::missing(e.category, &filed);
        if missing.is_empty() && req.problems.is_empty() {
            return Err(ApiError::invalid(
                "一次性告知书须列明缺少或有误的材料",
                "a return needs something to tell: rejected materials or problems",
            ));
        }
        e.status = step(&e, &Command::Return)?;
        let mut notice = Notice {
            missing,
            problems: req.problems.clone(),
            issued_on: today,
            issued_by: actor.name.clone(),
            sha256: None,
        };
        // The notice is issued now, with its verification code, in this transaction.
        let (sha, issued) = swi_platform::verification::issue(
            &p,
            super::notice::form(&e, &notice),
            &e.id,
            &format!("赣州市补充工伤保险承办机构（{}）", e.county.name()),
            today,
            swi_platform::dossier::Filing {
                case: &swi_registry::enrolment::enrolment_case(&e.id),
                county: &e.county.code().to_string(),
                class: swi_archive::retention::RecordClass::PersonRegistration,
                material: "一次性告知书",
            },
        )
        .await?;
        notice.sha256 = Some(sha);
        e.notice = Some(notice.clone());
        e.missing =
            enrolment::missing(e.category, &e.materials.keys().copied().collect::<Vec<_>>());
        let detail = serde_json::to_value(&notice).map_err(|err| ApiError::internal(&err))?;
        let entry = window_entry(&e)?;
        let mut ops = issued;
        ops.push(entry);
        saved(&e, version, "enrolment.return", detail, ops)
    })
    .await?;
    Ok((status, axum::Json(body)))
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
    let params = p.params().await?;
    let notice = swi_rules::cover::change_notice(&params, now, effective)?.value;
    if !notice.timely {
        return Err(ApiError::refused(
            ErrorCode::ChangeNoticeTooLate,
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
        Vec::new(),
        |e| {
            if e.category != Category::Flexible || e.status == Status::Terminated {
                return Err(ApiError::conflict(
                    ErrorCode::InvalidTransition,
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
