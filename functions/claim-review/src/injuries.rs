//! The injury routes: the window or handling records the recognition (only for a person covered
//! on the day, found in the register, project workers included), then the paid-leave period,
//! the appraisal and a death, each with the scan that proves it; claimants and the window add
//! materials to the injury's dossier, which every claim of the injury reuses (Art. 33).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_archive::retention::RecordClass;
use swi_domain::claim::ClaimMaterial;
use swi_domain::{Action, Actor, Owner, Role};
use swi_platform::auth::Authenticated;
use swi_platform::dossier::Filing;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Change, IdempotencyKey, apply, fingerprint};
use swi_platform::wire;
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_registry::contributions::{ContributionHistory, DeclaredWages};
use swi_registry::person::{Cover, covered_on};
use swi_rules::age::Track;
use swi_rules::benefits::insured_wage::insured_wage;
use swi_rules::category::Category;
use swi_rules::ids::{ResidentId, Sex};
use swi_store::{Condition, Sha256, TxOp};

use crate::injury::{
    Appraisal, CoveredBy, Death, Injury, InjuryKind, InsuredWage, PaidLeave, Recognition, audit,
    injury_case, injury_id, injury_put, load_injury,
};

/// The recognition of an injury, as the window or handling records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordInjury {
    /// The injured person's real name.
    pub name: String,
    /// Their resident ID number.
    pub id_number: String,
    /// Accident or occupational disease.
    pub kind: InjuryKind,
    /// The recognition decision's number.
    pub decision_number: String,
    /// The day it was decided.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-04-10")]
    pub decided_on: NaiveDate,
    /// The day of the accident (or the diagnosis).
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-03-01")]
    pub injured_on: NaiveDate,
    /// The body part injured.
    pub body_part: String,
    /// SHA-256 of the uploaded scan of the decision.
    pub sha256: String,
    /// A woman's retirement track (`female_50`, `female_55`) where no enrolment gives it.
    #[serde(default)]
    pub track: Option<String>,
}

/// The paid-leave period with its scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPaidLeave {
    /// First day.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-03-01")]
    pub from: NaiveDate,
    /// Last day.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-05-31")]
    pub to: NaiveDate,
    /// SHA-256 of the scan that sets it.
    pub sha256: String,
}

/// The appraisal with its scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAppraisal {
    /// Grade 1-10.
    pub grade: u32,
    /// Care level 1-3, if any.
    #[serde(default)]
    pub care_level: Option<u32>,
    /// The day of the conclusion.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-06-20")]
    pub appraised_on: NaiveDate,
    /// The committee.
    pub committee: String,
    /// SHA-256 of the conclusion's scan.
    pub sha256: String,
}

/// A death with its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDeath {
    /// The day of death.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    #[schema(value_type = String, example = "2025-03-02")]
    pub died_on: NaiveDate,
    /// Within the paid-leave period, when that period is not recorded (else it is computed).
    #[serde(default)]
    pub within_paid_leave: Option<bool>,
    /// SHA-256 of the death certificate's scan.
    pub sha256: String,
}

/// A material filed to the injury's dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileClaimMaterial {
    /// SHA-256 of the uploaded scan.
    pub sha256: String,
}

fn sha(text: &str) -> Result<Sha256, ApiError> {
    Sha256::parse(text).map_err(|e| ApiError::invalid("材料哈希不正确", e.to_string()))
}

/// Whether `actor` may read (or, for claimants, add to) a record about the person with ID
/// `id_number`, of `county`, held by `owner`: a citizen only for their own verified number or as
/// a close relative on record; others by role, county and ownership.
///
/// # Errors
/// 403.
pub async fn may_see(
    p: &Platform,
    actor: &Actor,
    action: Action,
    county: swi_rules::ids::County,
    owner: Owner<'_>,
    id_number: &str,
) -> Result<(), ApiError> {
    if actor.role == Role::Citizen {
        let id = ResidentId::parse(id_number).map_err(|e| ApiError::internal(&e))?;
        actor.may(action, None, Owner::Nobody)?;
        return swi_platform::identity::may_act_for(p, actor, &id, true).await;
    }
    actor.may(action, Some(county), owner)?;
    Ok(())
}

/// The owner of an injury's records for the ownership check (its unit, or the self-enrolled
/// person).
#[must_use]
pub fn owner_of(i: &Injury) -> Owner<'_> {
    match &i.covered_by {
        CoveredBy::Enrolment { unit: Some(u), .. } | CoveredBy::Project { unit: u, .. } => {
            Owner::Unit(u)
        }
        CoveredBy::Enrolment { owner: Some(o), .. } => Owner::Person(o),
        CoveredBy::Enrolment { .. } => Owner::Nobody,
    }
}

fn retirement_on(
    params: &swi_rules::ParamSet,
    id: &ResidentId,
    track: Option<Track>,
    enrolment: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, ApiError> {
    if enrolment.is_some() {
        return Ok(enrolment);
    }
    let track = match (track, id.sex()) {
        (Some(t), _) => Some(t),
        (None, Sex::Male) => Some(Track::Male),
        (None, Sex::Female) => None,
    };
    Ok(track
        .map(|t| swi_rules::age::retirement(params, id.birth(), t))
        .transpose()?
        .map(|d| d.value.reached_on))
}

/// `POST /api/injuries`: records the recognition of an injury of a person covered on its day
/// (Art. 8, 12, 25-32), with the insured wage fixed from the contribution history (Art. 48).
///
/// # Errors
/// 400 bad fields; 403; 409 the decision is recorded already; 422 not covered on the day, or
/// the scan was never uploaded.
#[utoipa::path(post, path = "/api/injuries", tag = "claims", request_body = RecordInjury,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "recorded", body = Injury),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody),
        (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<RecordInjury>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/injuries", &req);
    actor.may(Action::RecordInjury, None, Owner::Nobody)?;
    wire::name(&req.name, "name")?;
    wire::name(&req.decision_number, "decision_number")?;
    wire::name(&req.body_part, "body_part")?;
    let id = ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("身份证号码不正确", format!("`id_number`: {e}")))?;
    let track = req
        .track
        .as_deref()
        .map(Track::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("退休类型不正确", e))?;
    let today = p.clock.today();
    if req.injured_on > req.decided_on || req.decided_on > today {
        return Err(ApiError::invalid(
            "受伤日期须不晚于认定日期，认定日期不晚于今天",
            format!(
                "`injured_on` ({}) must not follow `decided_on` ({}), nor that today ({today})",
                req.injured_on, req.decided_on
            ),
        ));
    }
    let scan = sha(&req.sha256)?;
    let params = p.params().await?;
    let person = p.persons.of(&id);
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let covers = covered_on(&p, &person, req.injured_on).await?;
        let Some(cover) = covers.first() else {
            return Err(ApiError::refused(
                ErrorCode::NotCovered,
                "受伤当日该人员未参加补充工伤保险，不能登记（第八条、第十二条）",
                format!(
                    "the person was not covered on {} (Art. 8, 12): no enrolment or project covered that day",
                    req.injured_on
                ),
            ));
        };
        let (county, category, covered_by, enrolment_retirement, name_on_record) = match cover {
            Cover::Enrolment { enrolment } => (
                enrolment.county,
                enrolment.category,
                CoveredBy::Enrolment {
                    id: enrolment.id.clone(),
                    unit: enrolment.unit.clone(),
                    owner: enrolment.owner.clone(),
                },
                enrolment.retirement_on,
                enrolment.name.clone(),
            ),
            Cover::Project { project, worker } => (
                project.county,
                Category::Employee,
                CoveredBy::Project {
                    id: project.id.clone(),
                    unit: project.unit.clone(),
                },
                None,
                worker.name.clone(),
            ),
        };
        // The county on record decides who may record it.
        actor.may(Action::RecordInjury, Some(county), Owner::Nobody)?;
        if name_on_record != req.name {
            return Err(ApiError::refused(
                ErrorCode::NotCovered,
                "姓名与参保登记不一致",
                "the name differs from the one on record for this ID number",
            ));
        }
        swi_platform::documents::require_scan(&p, &actor, &scan, "工伤认定书扫描件").await?;
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &scan,
            Filing {
                case: &injury_case(&injury_id(&req.decision_number)),
                county: &county.code().to_string(),
                class: RecordClass::InjuryRecognition,
                material: "工伤认定书",
            },
        )
        .await?;
        let contributions = DeclaredWages.before(&p, cover, req.injured_on).await?;
        let wage = insured_wage(
            &params,
            req.injured_on,
            &contributions.months,
            contributions.project,
        )?;
        let assumptions = crate::assess::shown(&wage.used);
        let injury = Injury {
            id: injury_id(&req.decision_number),
            name: req.name.clone(),
            id_number: id.expose().to_owned(),
            person: person.clone(),
            category,
            county,
            covered_by,
            recognition: Recognition {
                decision_number: req.decision_number.trim().to_owned(),
                decided_on: req.decided_on,
                injured_on: req.injured_on,
                kind: req.kind,
                body_part: req.body_part.clone(),
                sha256: scan.hex(),
            },
            paid_leave: None,
            appraisal: None,
            death: None,
            retirement_on: retirement_on(&params, &id, track, enrolment_retirement)?,
            insured_wage: InsuredWage {
                amount: wage.value.amount,
                months_used: wage.value.months_used,
                source: contributions.source.into(),
                assumptions,
            },
            materials: [(ClaimMaterial::Recognition, scan.hex())].into(),
            granted: Default::default(),
            reserved: Default::default(),
            invoices: Vec::new(),
            claims: Vec::new(),
            recorded_by: actor.name.clone(),
            recorded_at: p.clock.now().naive_local(),
        };
        let mut ops = vec![injury_put(&injury, Condition::NotExists)?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![audit(
                &injury.id,
                "injury.record",
                json!({ "decision_number": injury.recognition.decision_number, "injured_on": injury.recognition.injured_on, "insured_wage": injury.insured_wage.amount, "basis": ["Art. 25-32", "Art. 48"] }),
            )],
            status: StatusCode::CREATED,
            response: serde_json::to_value(injury.masked()).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await
    .map_err(|e| match e.code {
        ErrorCode::ConcurrentChange => ApiError::conflict(
            ErrorCode::AlreadyRegistered,
            "该认定决定已登记",
            "an injury with this decision number is recorded already",
        ),
        _ => e,
    })?;
    Ok((status, axum::Json(body)))
}

/// Changes a recorded injury under the version read, in the injury's county.
#[allow(
    clippy::too_many_arguments,
    reason = "the request's parts, the action and the change: one call site per route"
)]
async fn change_injury<F>(
    p: &Platform,
    actor: &Actor,
    key: &IdempotencyKey,
    fp: &str,
    id: &str,
    action: Action,
    command: &'static str,
    more: Option<TxOp>,
    change: F,
) -> Result<(StatusCode, axum::Json<Value>), ApiError>
where
    F: FnOnce(&mut Injury) -> Result<Value, ApiError>,
{
    let (status, body) = apply(p, actor, key, fp, async {
        let (mut injury, version) = load_injury(p, id).await?;
        if action == Action::RecordInjury {
            actor.may(action, Some(injury.county), Owner::Nobody)?;
        } else {
            let (county, number) = (injury.county, injury.id_number.clone());
            may_see(p, actor, action, county, owner_of(&injury), &number).await?;
        }
        let detail = change(&mut injury)?;
        let mut ops = vec![injury_put(&injury, Condition::VersionIs(version))?];
        ops.extend(more);
        Ok(Change {
            ops,
            audit: vec![audit(&injury.id, command, detail)],
            status: StatusCode::OK,
            response: serde_json::to_value(injury.masked()).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// The scan, uploaded and filed to the dossier, for a record about an injury the actor may
/// change (checked first: the bucket is read only for them), and its registration in the
/// archive as `what` of `class`.
async fn filed_scan(
    p: &Platform,
    actor: &Actor,
    id: &str,
    text: &str,
    what: &str,
    class: RecordClass,
) -> Result<(Sha256, Option<TxOp>), ApiError> {
    let scan = sha(text)?;
    let (injury, _) = load_injury(p, id).await?;
    actor.may(Action::RecordInjury, Some(injury.county), Owner::Nobody)?;
    swi_platform::documents::require_scan(p, actor, &scan, what).await?;
    let registered = swi_platform::documents::file(
        p,
        actor,
        &scan,
        Filing {
            case: &injury_case(&injury.id),
            county: &injury.county.code().to_string(),
            class,
            material: what,
        },
    )
    .await?;
    Ok((scan, registered))
}

/// `PUT /api/injuries/{id}/paid-leave`: the paid-leave period (停工留薪期), with its scan.
///
/// # Errors
/// 400 a period ending before it starts or before the injury; 403; 404; 422 scan not uploaded.
#[utoipa::path(put, path = "/api/injuries/{id}/paid-leave", tag = "claims", request_body = RecordPaidLeave,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "recorded", body = Injury),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn paid_leave(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordPaidLeave>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("PUT /api/injuries/{id}/paid-leave"), &req);
    let (scan, registered) = filed_scan(
        &p,
        &actor,
        &id,
        &req.sha256,
        "停工留薪期确认材料",
        RecordClass::InjuryRecognition,
    )
    .await?;
    change_injury(&p, &actor, &key, &fp, &id, Action::RecordInjury, "injury.paid_leave", registered, |i| {
        if req.to < req.from || req.from < i.recognition.injured_on {
            return Err(ApiError::invalid(
                "停工留薪期须自受伤之日起，且结束不早于开始",
                "the paid-leave period starts on or after the injury and ends on or after it starts",
            ));
        }
        i.paid_leave = Some(PaidLeave {
            from: req.from,
            to: req.to,
            sha256: scan.hex(),
        });
        Ok(json!({ "from": req.from, "to": req.to, "sha256": scan.hex() }))
    })
    .await
}

/// `PUT /api/injuries/{id}/appraisal`: the disability appraisal (grade 1-10, care level 1-3),
/// with the conclusion's scan (Art. 27, 29-30).
///
/// # Errors
/// 400 a grade outside 1-10, a care level outside 1-3, a date before the injury or after today;
/// 403; 404; 422 scan not uploaded.
#[utoipa::path(put, path = "/api/injuries/{id}/appraisal", tag = "claims", request_body = RecordAppraisal,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "recorded", body = Injury),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn appraisal(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordAppraisal>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("PUT /api/injuries/{id}/appraisal"), &req);
    if !(1..=10).contains(&req.grade) {
        return Err(ApiError::invalid(
            "伤残等级须为一级至十级",
            format!("grade {} is outside 1-10", req.grade),
        ));
    }
    if req.care_level.is_some_and(|c| !(1..=3).contains(&c)) {
        return Err(ApiError::invalid(
            "生活自理障碍等级须为 1-3",
            "care_level is 1 (fully), 2 (mostly) or 3 (partly dependent)",
        ));
    }
    wire::name(&req.committee, "committee")?;
    let today = p.clock.today();
    let (scan, registered) = filed_scan(
        &p,
        &actor,
        &id,
        &req.sha256,
        "劳动能力鉴定结论书",
        RecordClass::DisabilityAppraisal,
    )
    .await?;
    change_injury(&p, &actor, &key, &fp, &id, Action::RecordInjury, "injury.appraisal", registered, |i| {
        if req.appraised_on < i.recognition.injured_on || req.appraised_on > today {
            return Err(ApiError::invalid(
                "鉴定日期须在受伤之后、今天之前",
                "`appraised_on` lies between the injury and today",
            ));
        }
        i.appraisal = Some(Appraisal {
            grade: req.grade,
            care_level: req.care_level,
            appraised_on: req.appraised_on,
            committee: req.committee.clone(),
            sha256: scan.hex(),
        });
        i.materials.insert(ClaimMaterial::Appraisal, scan.hex());
        Ok(json!({ "grade": req.grade, "care_level": req.care_level, "appraised_on": req.appraised_on, "sha256": scan.hex() }))
    })
    .await
}

/// `PUT /api/injuries/{id}/death`: a death, with the death certificate's scan (Art. 32).
///
/// # Errors
/// 400 a date before the injury or after today; 403; 404; 422 scan not uploaded.
#[utoipa::path(put, path = "/api/injuries/{id}/death", tag = "claims", request_body = RecordDeath,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "recorded", body = Injury),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn death(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordDeath>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("PUT /api/injuries/{id}/death"), &req);
    let today = p.clock.today();
    let (scan, registered) = filed_scan(
        &p,
        &actor,
        &id,
        &req.sha256,
        "死亡证明",
        RecordClass::DisabilityDeathBenefits,
    )
    .await?;
    change_injury(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::RecordInjury,
        "injury.death",
        registered,
        |i| {
            if req.died_on < i.recognition.injured_on || req.died_on > today {
                return Err(ApiError::invalid(
                    "死亡日期须在受伤之后、今天之前",
                    "`died_on` lies between the injury and today",
                ));
            }
            let within = match (&i.paid_leave, req.within_paid_leave) {
                (Some(l), _) => l.from <= req.died_on && req.died_on <= l.to,
                (None, Some(w)) => w,
                (None, None) => {
                    return Err(ApiError::invalid(
                        "未登记停工留薪期，须说明是否在停工留薪期内死亡",
                        "without a recorded paid-leave period, say `within_paid_leave`",
                    ));
                }
            };
            i.death = Some(Death {
                died_on: req.died_on,
                within_paid_leave: within,
                sha256: scan.hex(),
            });
            i.materials
                .insert(ClaimMaterial::DeathCertificate, scan.hex());
            Ok(json!({ "died_on": req.died_on, "within_paid_leave": within, "sha256": scan.hex() }))
        },
    )
    .await
}

/// `PUT /api/injuries/{id}/materials/{material}`: files an uploaded scan to the injury's
/// dossier, for every claim of the injury (Art. 33). The claimant (the unit, the person, a close
/// relative on record) or the window.
///
/// # Errors
/// 400 unknown material or hash; 403; 404; 422 scan not uploaded.
#[utoipa::path(put, path = "/api/injuries/{id}/materials/{material}", tag = "claims", request_body = FileClaimMaterial,
    params(("id" = String, Path), ("material" = ClaimMaterial, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "filed", body = Injury),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn file_material(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path((id, material)): Path<(String, String)>,
    ApiJson(req): ApiJson<FileClaimMaterial>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(
        &format!("PUT /api/injuries/{id}/materials/{material}"),
        &req,
    );
    let kind = material_kind(&material)?;
    let scan = sha(&req.sha256)?;
    // Access first: the bucket is read only for someone who may add to this dossier.
    let (injury, _) = load_injury(&p, &id).await?;
    may_see(
        &p,
        &actor,
        Action::SubmitClaim,
        injury.county,
        owner_of(&injury),
        &injury.id_number,
    )
    .await?;
    swi_platform::documents::require_scan(&p, &actor, &scan, kind.chinese()).await?;
    let registered = swi_platform::documents::file(
        &p,
        &actor,
        &scan,
        Filing {
            case: &injury_case(&injury.id),
            county: &injury.county.code().to_string(),
            class: crate::injury::archive_class(kind),
            material: kind.chinese(),
        },
    )
    .await?;
    change_injury(
        &p,
        &actor,
        &key,
        &fp,
        &id,
        Action::SubmitClaim,
        "injury.file_material",
        registered,
        |i| {
            i.materials.insert(kind, scan.hex());
            Ok(json!({ "material": kind, "sha256": scan.hex(), "basis": "Art. 33" }))
        },
    )
    .await
}

/// `GET /api/injuries/{id}`: the injury, for whoever may see it.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/injuries/{id}", tag = "claims", params(("id" = String, Path)),
    responses((status = 200, description = "the injury", body = Injury),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Injury>, ApiError> {
    Ok(axum::Json(visible(&p, &actor, &id).await?.masked()))
}

/// `GET /api/injuries`: the signed-in citizen's own injuries (those of the ID number verified
/// for their account), most recent first.
///
/// # Errors
/// 403 not a citizen, or no verified ID number yet.
#[utoipa::path(get, path = "/api/injuries", tag = "claims",
    responses((status = 200, description = "the citizen's injuries (ID numbers masked)", body = [Injury]),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn mine(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<Vec<Injury>>, ApiError> {
    if actor.role != Role::Citizen {
        return Err(swi_domain::Denied::Role {
            role: actor.role,
            action: Action::SubmitClaim,
        }
        .into());
    }
    let Some(identity) = swi_platform::identity::linked(&p, &actor.sub).await? else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::NotOwnId,
            "您的账号尚未完成实名核验，请持身份证到经办窗口办理",
            "this account has no verified ID number yet",
        ));
    };
    let items = p
        .state
        .query_index_all(
            swi_store::Index::Gsi1,
            &swi_store::Query::partition(swi_registry::enrolment::person_partition(
                &identity.person,
            ))
            .range(swi_store::SkRange::Prefix("injury#".into()))
            .limit(100)
            .backward(),
        )
        .await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter().take(100) {
        let injury: Injury = item.body().map_err(|e| ApiError::internal(&e))?;
        out.push(injury.masked());
    }
    Ok(axum::Json(out))
}

/// The injury `id`, if `actor` may see it.
async fn visible(p: &Platform, actor: &Actor, id: &str) -> Result<Injury, ApiError> {
    let (injury, _) = load_injury(p, id).await?;
    may_see(
        p,
        actor,
        Action::Read,
        injury.county,
        owner_of(&injury),
        &injury.id_number,
    )
    .await?;
    Ok(injury)
}

/// A material named in a path (glossary identifier).
fn material_kind(material: &str) -> Result<ClaimMaterial, ApiError> {
    serde_json::from_value(json!(material)).map_err(|_| {
        ApiError::invalid(
            "材料类型不正确",
            format!("unknown material `{}`", wire::clip(material)),
        )
    })
}

/// `GET /api/injuries/{id}/materials/{material}`: a filed scan of the dossier, for whoever may
/// see the injury (access is checked before the bucket is read), with its type as sniffed
/// (PDF, JPEG, PNG), to be shown in the page.
///
/// # Errors
/// 400 unknown material; 403; 404 no such injury or nothing filed for the material.
#[utoipa::path(get, path = "/api/injuries/{id}/materials/{material}", tag = "claims",
    params(("id" = String, Path), ("material" = ClaimMaterial, Path)),
    responses((status = 200, description = "the scan", content_type = "application/pdf"),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn material(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((id, material)): Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let kind = material_kind(&material)?;
    let injury = visible(&p, &actor, &id).await?;
    let hex = injury.materials.get(&kind).ok_or_else(|| {
        ApiError::not_found(
            format!("尚未提交{}", kind.chinese()),
            format!("no {} is filed for this injury", kind.as_str()),
        )
    })?;
    let sha = Sha256::parse(hex).map_err(|e| ApiError::internal(&e))?;
    let bytes =
        swi_platform::documents::load_bounded(&p, &sha, swi_platform::documents::MAX_SCAN_BYTES)
            .await?;
    let kind_of = swi_platform::documents::sniff(&bytes).unwrap_or("application/octet-stream");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, kind_of.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-{}\"", injury.id, kind.as_str()),
            ),
        ],
        bytes,
    )
        .into_response())
}
