//! The archive's routes for appraisal, destruction, holds and paper copies (鉴定、销毁): the
//! volumes past retention; an appraisal that extends a volume's period or proposes its
//! destruction; the agency's decision (a second role); two witnesses (监销), after which the
//! job destroys what may be destroyed and keeps the destruction list for ever; holds that
//! block all of it; where the paper volume is and which copy is authoritative.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::{Action, Actor, Denied, Role};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform, wire};
use swi_store::{Condition, Index, Sha256, TxOp};

use crate::disposal::{
    Disposal, DisposalKind, DisposalStatus, ListRow, Signed, disposal_put, load, pointer_put,
};
use crate::model::{
    Authoritative, Hold, PaperCopy, VolumeRecord, VolumeStatus, load_volume, volume_case,
    volume_key, volume_put, volumes_partition,
};
use crate::routes_volumes::may;

fn signed(p: &Platform, actor: &Actor, text: String) -> Signed {
    Signed {
        sub: actor.sub.clone(),
        name: actor.name.clone(),
        role: actor.role.to_string(),
        at: p.clock.now().naive_local(),
        note: text,
    }
}

/// The volume as stored, for `action` by `actor` in its county.
async fn volume_for(
    p: &Platform,
    actor: &Actor,
    id: &str,
    action: Action,
) -> Result<(VolumeRecord, u64), ApiError> {
    let (v, version) = load_volume(&*p.state, id).await?.ok_or_else(|| {
        ApiError::not_found("未找到该案卷", format!("no volume {}", wire::clip(id)))
    })?;
    may(actor, action, &v.county)?;
    Ok((v, version))
}

fn held(v: &VolumeRecord) -> Result<(), ApiError> {
    match &v.hold {
        Some(h) => Err(ApiError::conflict(
            ErrorCode::ArchiveHeld,
            format!("该案卷已被冻结（{}），不得销毁", h.reason),
            "the volume is on hold: nothing of it is destroyed",
        )),
        None => Ok(()),
    }
}

fn transition(zh: &str, en: &str) -> ApiError {
    ApiError::conflict(ErrorCode::InvalidTransition, zh.to_owned(), en.to_owned())
}

/// `?on=` of the appraisal list.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct DueQuery {
    /// The day (`YYYY-MM-DD`); today when absent.
    pub on: Option<String>,
}

/// A volume past retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DueVolume {
    /// The volume.
    pub volume: VolumeRecord,
    /// The day its retention passed.
    #[schema(value_type = String)]
    pub kept_until: NaiveDate,
    /// Its appraisal, if begun.
    pub disposal: Option<Disposal>,
}

/// `GET /api/archive/appraisal/{county}`: the county's filed volumes whose retention has
/// passed on `on` (鉴定): permanent ones never appear.
///
/// # Errors
/// 400; 403.
#[utoipa::path(get, path = "/api/archive/appraisal/{county}", tag = "archive",
    params(("county" = String, Path), DueQuery),
    responses((status = 200, description = "volumes past retention", body = [DueVolume]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn due(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
    Query(q): Query<DueQuery>,
) -> Result<axum::Json<Vec<DueVolume>>, ApiError> {
    let county = may(&actor, Action::ReadArchive, &county)?;
    let on = match q.on.as_deref() {
        None => p.clock.today(),
        Some(t) => wire::plain_date(t)
            .filter(|d| (1900..=2300).contains(&d.year()))
            .ok_or_else(|| ApiError::invalid("日期须为 YYYY-MM-DD", "`on` is YYYY-MM-DD"))?,
    };
    let all = p
        .state
        .query_index_all(
            Index::Gsi1,
            &swi_store::Query::partition(volumes_partition(&county)).limit(500),
        )
        .await?;
    let mut out = Vec::new();
    for item in &all {
        let v: VolumeRecord = item.body().map_err(|e| ApiError::internal(&e))?;
        let Some(until) = v.kept_until() else {
            continue;
        };
        if until > on || v.status != VolumeStatus::Filed {
            continue;
        }
        let disposal = load(&p, &v.id).await?.map(|(d, _)| d);
        out.push(DueVolume {
            volume: v,
            kept_until: until,
            disposal,
        });
    }
    Ok(axum::Json(out))
}

/// What an appraisal decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Appraise {
    /// `extend` or `destroy`.
    pub decision: DisposalKind,
    /// For `extend`: years beyond its present day (1-100).
    pub years: Option<u32>,
    /// 鉴定意见.
    pub reasons: String,
}

/// `POST /api/volumes/{id}/appraisal`: the archivist's appraisal of a volume — extend its
/// period (carried out at once by the job, locks raised, never lowered), or propose its
/// destruction once its retention has passed (the agency decides next).
///
/// # Errors
/// 400; 403; 404; 409 on hold, not filed, an appraisal under way; 422 permanent, or its
/// retention has not passed.
#[utoipa::path(post, path = "/api/volumes/{id}/appraisal", tag = "archive", request_body = Appraise,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "the disposal", body = Disposal),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn appraise(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Appraise>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/volumes/{id}/appraisal"), &req);
    volume_for(&p, &actor, &id, Action::KeepArchive).await?;
    let reasons = wire::note(&req.reasons, "reasons", "理由")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut v, vv) = volume_for(&p, &actor, &id, Action::KeepArchive).await?;
        if v.status != VolumeStatus::Filed {
            return Err(transition(
                "只有已归档的案卷可以鉴定",
                "only a filed volume is appraised",
            ));
        }
        let before = load(&p, &v.id).await?;
        if let Some((d, _)) = &before
            && !d.status.ended()
        {
            return Err(transition(
                "该案卷的鉴定尚在办理",
                "an appraisal of this volume is under way",
            ));
        }
        let Some(kept_until) = v.kept_until() else {
            return Err(ApiError::refused(
                ErrorCode::RetentionNotPassed,
                "永久保管的案卷不鉴定销毁、不延期",
                "a permanent volume is neither destroyed nor extended",
            ));
        };
        let today = p.clock.today();
        let mut ops = Vec::new();
        let mut d = Disposal {
            volume: v.id.clone(),
            archive_number: v.archive_number.clone(),
            county: v.county.clone(),
            kind: req.decision,
            until: None,
            status: DisposalStatus::Proposed,
            proposed: signed(&p, &actor, reasons.clone()),
            decided: None,
            witnesses: Vec::new(),
            next: 1,
            at_file: 0,
            own: None,
            pending: Vec::new(),
            destroyed: 0,
            kept: 0,
            list: None,
            finished_on: None,
        };
        match req.decision {
            DisposalKind::Extend => {
                let years = req.years.filter(|y| (1..=100).contains(y)).ok_or_else(|| {
                    ApiError::invalid("延长年限须为 1-100 年", "`years` is 1-100")
                })?;
                let until = kept_until
                    .max(today)
                    .checked_add_months(chrono::Months::new(years * 12))
                    .ok_or_else(|| ApiError::invalid("延长年限超出范围", "`years` too far"))?;
                d.until = Some(until);
                d.status = DisposalStatus::Working;
                v.extended_until = Some(until);
                ops.push(volume_put(&v, Condition::VersionIs(vv))?);
                ops.push(pointer_put(&v.id)?);
            }
            DisposalKind::Destroy => {
                if req.years.is_some() {
                    return Err(ApiError::invalid(
                        "销毁不设延长年限",
                        "`years` is for an extension",
                    ));
                }
                held(&v)?;
                if kept_until > today {
                    return Err(ApiError::refused(
                        ErrorCode::RetentionNotPassed,
                        format!("该案卷保管至 {kept_until}，未到期不得销毁"),
                        format!("the volume is kept until {kept_until}"),
                    ));
                }
                ops.push(TxOp::Check {
                    key: volume_key(&v.id),
                    condition: Condition::VersionIs(vv),
                });
            }
        }
        ops.push(disposal_put(
            &d,
            before.map_or(Condition::NotExists, |(_, dv)| Condition::VersionIs(dv)),
        )?);
        let body = serde_json::to_value(&d).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: volume_case(&v.id),
                command: "volume.appraise".into(),
                change: json!({ "decision": req.decision, "until": d.until, "reasons": reasons }),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// The agency's decision on a proposed destruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    /// Approve (`true`) or refuse.
    pub approve: bool,
    /// Why.
    pub reasons: String,
}

/// `POST /api/volumes/{id}/disposal/decision`: the agency approves or refuses a proposed
/// destruction — a second role, never the one who proposed it.
///
/// # Errors
/// 400; 403 not the county's agency officer, or the proposer; 404; 409 not proposed, on hold.
#[utoipa::path(post, path = "/api/volumes/{id}/disposal/decision", tag = "archive", request_body = Decide,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the disposal", body = Disposal),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Decide>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/volumes/{id}/disposal/decision"), &req);
    volume_for(&p, &actor, &id, Action::ApproveDisposal).await?;
    let reasons = wire::note(&req.reasons, "reasons", "理由")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (v, vv) = volume_for(&p, &actor, &id, Action::ApproveDisposal).await?;
        let (mut d, dv) = load(&p, &v.id)
            .await?
            .filter(|(d, _)| d.status == DisposalStatus::Proposed)
            .ok_or_else(|| transition("该案卷没有待审批的销毁", "no destruction is proposed"))?;
        if d.proposed.sub == actor.sub {
            return Err(Denied::Duties("提出销毁的人不得审批该销毁".into()).into());
        }
        if req.approve {
            held(&v)?;
        }
        d.status = if req.approve {
            DisposalStatus::Approved
        } else {
            DisposalStatus::Refused
        };
        d.decided = Some(signed(&p, &actor, reasons.clone()));
        let body = serde_json::to_value(&d).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![
                disposal_put(&d, Condition::VersionIs(dv))?,
                TxOp::Check {
                    key: volume_key(&v.id),
                    condition: Condition::VersionIs(vv),
                },
            ],
            audit: vec![Audit {
                case: volume_case(&v.id),
                command: "volume.disposal_decide".into(),
                change: json!({ "approve": req.approve, "reasons": reasons }),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// A witness's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// What the witness states (e.g. 已核对清册，同意销毁).
    pub note: String,
}

/// `POST /api/volumes/{id}/disposal/witness`: a witness confirms an approved destruction
/// (监销). It is carried out once two different people have, neither of them its approver.
///
/// # Errors
/// 400; 403 not an archivist or supervisor of the county, or a person who acted already; 404;
/// 409 not approved, on hold.
#[utoipa::path(post, path = "/api/volumes/{id}/disposal/witness", tag = "archive", request_body = Witness,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the disposal", body = Disposal),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn witness(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Witness>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/volumes/{id}/disposal/witness"), &req);
    volume_for(&p, &actor, &id, Action::WitnessDisposal).await?;
    let text = wire::note(&req.note, "note", "监销确认")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut v, vv) = volume_for(&p, &actor, &id, Action::WitnessDisposal).await?;
        let (mut d, dv) = load(&p, &v.id)
            .await?
            .filter(|(d, _)| d.status == DisposalStatus::Approved)
            .ok_or_else(|| transition("该案卷没有已批准待监销的销毁", "no approved destruction"))?;
        if d.witnesses.iter().any(|w| w.sub == actor.sub) {
            return Err(Denied::Duties("监销须由两人分别确认，同一人不得确认两次".into()).into());
        }
        if d.decided.as_ref().is_some_and(|s| s.sub == actor.sub) {
            return Err(Denied::Duties("审批人不得担任监销人".into()).into());
        }
        if d.proposed.sub == actor.sub {
            return Err(Denied::Duties("提出销毁的人不得担任监销人".into()).into());
        }
        held(&v)?;
        d.witnesses.push(signed(&p, &actor, text.clone()));
        let mut ops = Vec::new();
        if d.witnesses.len() >= 2 {
            d.status = DisposalStatus::Working;
            v.status = VolumeStatus::Destroying;
            ops.push(volume_put(&v, Condition::VersionIs(vv))?);
            ops.push(pointer_put(&v.id)?);
        } else {
            ops.push(TxOp::Check {
                key: volume_key(&v.id),
                condition: Condition::VersionIs(vv),
            });
        }
        ops.push(disposal_put(&d, Condition::VersionIs(dv))?);
        let body = serde_json::to_value(&d).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: volume_case(&v.id),
                command: "volume.witness".into(),
                change: json!({ "witnesses": d.witnesses.len(), "note": text }),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// A volume's disposal with its destruction list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisposalView {
    /// The disposal.
    pub disposal: Disposal,
    /// The rows of its destruction list so far.
    pub rows: Vec<ListRow>,
}

/// `GET /api/volumes/{id}/disposal`: the volume's appraisal and its destruction list.
///
/// # Errors
/// 403; 404 none.
#[utoipa::path(get, path = "/api/volumes/{id}/disposal", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "the disposal", body = DisposalView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn disposal(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<DisposalView>, ApiError> {
    let (v, _) = volume_for(&p, &actor, &id, Action::ReadArchive).await?;
    let (disposal, _) = load(&p, &v.id)
        .await?
        .ok_or_else(|| ApiError::not_found("该案卷未经鉴定", "the volume has no appraisal"))?;
    let rows = crate::disposal::rows(&p, &v.id).await?;
    Ok(axum::Json(DisposalView { disposal, rows }))
}

/// `GET /api/volumes/{id}/destruction-list`: the destruction list (销毁清册) as a PDF.
///
/// # Errors
/// 403; 404 not destroyed.
#[utoipa::path(get, path = "/api/volumes/{id}/destruction-list", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "the list", content_type = "application/pdf", body = Vec<u8>),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn destruction_list(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (v, _) = volume_for(&p, &actor, &id, Action::ReadArchive).await?;
    let sha = load(&p, &v.id)
        .await?
        .and_then(|(d, _)| d.list)
        .and_then(|s| Sha256::parse(&s).ok())
        .ok_or_else(|| ApiError::not_found("该案卷没有销毁清册", "no destruction list"))?;
    let bytes = swi_platform::documents::load_bounded(&p, &sha, 64 << 20).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-destruction.pdf\"", v.id),
            ),
        ],
        bytes,
    ))
}

/// A hold's reason, or why it is lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why (a dispute, an audit, a request of the archive administration).
    pub reason: String,
}

/// `POST /api/volumes/{id}/hold`: places a hold: nothing of the volume is appraised for
/// destruction, approved, witnessed or destroyed while it stands (a destruction under way
/// stops at its next step).
///
/// # Errors
/// 400; 403; 404; 409 held already, or destroyed.
#[utoipa::path(post, path = "/api/volumes/{id}/hold", tag = "archive", request_body = HoldRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the volume", body = VolumeRecord),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn hold(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/volumes/{id}/hold"), &req);
    volume_for(&p, &actor, &id, Action::HoldArchive).await?;
    let reason = wire::note(&req.reason, "reason", "理由")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut v, vv) = volume_for(&p, &actor, &id, Action::HoldArchive).await?;
        if v.hold.is_some() {
            return Err(transition(
                "该案卷已被冻结",
                "the volume is on hold already",
            ));
        }
        if v.status == VolumeStatus::Destroyed {
            return Err(transition("该案卷已销毁", "the volume is destroyed"));
        }
        v.hold = Some(Hold {
            reason: reason.clone(),
            by: actor.sub.clone(),
            by_role: Some(actor.role),
            by_name: actor.name.clone(),
            at: p.clock.now().naive_local(),
        });
        let body = serde_json::to_value(&v).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![volume_put(&v, Condition::VersionIs(vv))?],
            audit: vec![Audit {
                case: volume_case(&v.id),
                command: "volume.hold".into(),
                change: json!({ "reason": reason }),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/volumes/{id}/hold/release`: lifts the hold; a destruction it stopped goes on.
///
/// # Errors
/// 400; 403; 404; 409 not held.
#[utoipa::path(post, path = "/api/volumes/{id}/hold/release", tag = "archive", request_body = HoldRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the volume", body = VolumeRecord),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn release(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/volumes/{id}/hold/release"), &req);
    volume_for(&p, &actor, &id, Action::HoldArchive).await?;
    let reason = wire::note(&req.reason, "reason", "理由")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut v, vv) = volume_for(&p, &actor, &id, Action::HoldArchive).await?;
        let Some(h) = v.hold.take() else {
            return Err(transition("该案卷未被冻结", "the volume is not on hold"));
        };
        // A hold the supervision placed (an audit) is lifted by the supervision: the archive
        // that proposes destructions does not lift it.
        if h.by_role == Some(Role::Supervisor) && actor.role != Role::Supervisor {
            return Err(Denied::Duties("稽核人员冻结的案卷须由稽核人员解除冻结".into()).into());
        }
        let mut ops = vec![volume_put(&v, Condition::VersionIs(vv))?];
        if let Some((mut d, dv)) = load(&p, &v.id).await?
            && d.status == DisposalStatus::Held
        {
            d.status = DisposalStatus::Working;
            ops.push(disposal_put(&d, Condition::VersionIs(dv))?);
            ops.push(pointer_put(&v.id)?);
        }
        let body = serde_json::to_value(&v).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: volume_case(&v.id),
                command: "volume.release_hold".into(),
                change: json!({ "reason": reason }),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// Where a paper volume is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPaper {
    /// 盒号.
    pub box_no: String,
    /// 架位.
    pub shelf: String,
    /// Which copy is authoritative.
    pub authoritative: Authoritative,
}

/// `PUT /api/volumes/{id}/paper`: the paper volume's box and shelf, and which copy is
/// authoritative.
///
/// # Errors
/// 400; 403 not the county's archivist; 404; 409 destroyed.
#[utoipa::path(put, path = "/api/volumes/{id}/paper", tag = "archive", request_body = SetPaper,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "the volume", body = VolumeRecord),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_paper(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SetPaper>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("PUT /api/volumes/{id}/paper"), &req);
    volume_for(&p, &actor, &id, Action::KeepArchive).await?;
    wire::name(&req.box_no, "box_no")?;
    wire::name(&req.shelf, "shelf")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (mut v, vv) = volume_for(&p, &actor, &id, Action::KeepArchive).await?;
        if v.status == VolumeStatus::Destroyed {
            return Err(transition("该案卷已销毁", "the volume is destroyed"));
        }
        v.paper = Some(PaperCopy {
            box_no: req.box_no.trim().to_owned(),
            shelf: req.shelf.trim().to_owned(),
            authoritative: req.authoritative,
            recorded_by: actor.name.clone(),
            recorded_at: p.clock.now().naive_local(),
        });
        let body = serde_json::to_value(&v).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![volume_put(&v, Condition::VersionIs(vv))?],
            audit: vec![Audit {
                case: volume_case(&v.id),
                command: "volume.paper".into(),
                change: json!({ "box_no": req.box_no.trim(), "shelf": req.shelf.trim(), "authoritative": req.authoritative }),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}
