//! Construction projects enrolled as a whole (Art. 11-12, 14, 22, 48): the premium is 0.6 ‰ of
//! the project's cost, once; after payment the enrolment certificate (参保证明) is issued with
//! the same start and end dates as the work-injury cover; an extension must be asked before the
//! end date; a refund is due only for a project cancelled before it started; workers are
//! registered by real name with their declared wage.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::ErrorCode;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_registry::project::{
    CostKind, Extension, Project, ProjectStatus, Worker, load_project, project_case, project_key,
    worker_key, worker_put, workers_page,
};
use swi_registry::unit::{active_check, load_unit};
use swi_rules::ids::ResidentId;
use swi_store::{Condition, Cursor, Item, Sha256, TxOp};
use tokio::io::AsyncReadExt;

use swi_platform::wire;

/// Enrolment of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolProject {
    /// Name.
    pub name: String,
    /// The work-injury enrolment number of the project.
    pub work_injury_project_no: String,
    /// Cost basis in yuan.
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    pub cost: Decimal,
    /// What the cost is.
    pub cost_kind: CostKind,
    /// First day (as the work-injury cover).
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub start: NaiveDate,
    /// Last day (as the work-injury cover).
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub end: NaiveDate,
}

/// A payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayProject {
    /// When paid: RFC 3339 or `YYYY-MM-DDTHH:MM` China time.
    pub paid_at: String,
}

/// An extension request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extend {
    /// The new last day.
    #[serde(deserialize_with = "swi_platform::wire::de::date")]
    pub new_end: NaiveDate,
}

/// A cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelProject {
    /// Why.
    pub reason: String,
}

/// A worker's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterWorker {
    /// Real name.
    pub name: String,
    /// Resident ID number.
    pub id_number: String,
    /// Declared monthly wage (backed by a labour contract).
    #[serde(deserialize_with = "swi_platform::wire::de::amount")]
    pub declared_wage: Decimal,
}

fn saved(
    project: &Project,
    version: u64,
    command: &str,
    detail: Value,
    status: StatusCode,
) -> Result<Change, ApiError> {
    let k = project_key(&project.id);
    let body = serde_json::to_value(project).map_err(|e| ApiError::internal(&e))?;
    Ok(Change {
        ops: vec![TxOp::Put {
            item: Item::new(k.pk, k.sk, project)?,
            condition: if version == 0 {
                Condition::NotExists
            } else {
                Condition::VersionIs(version)
            },
        }],
        audit: vec![Audit {
            case: project_case(&project.id),
            command: command.into(),
            change: detail,
        }],
        status,
        response: body,
    })
}

/// `POST /api/units/{code}/projects`: enrols a construction project (Art. 11, 14).
///
/// # Errors
/// 400 bad fields or dates; 403; 404; 409 cancelled unit; 422 before the scheme.
#[utoipa::path(post, path = "/api/units/{code}/projects", tag = "projects", request_body = EnrolProject,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "enrolled, awaiting payment", body = Project),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn enrol(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<EnrolProject>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/units/{code}/projects"), &req);
    wire::name(&req.name, "name")?;
    wire::token(&req.work_injury_project_no, "work_injury_project_no")?;
    if req.end < req.start {
        return Err(ApiError::invalid(
            "结束日期早于开始日期",
            "`end` is before `start`",
        ));
    }
    if req.cost <= Decimal::ZERO || req.cost.scale() > 2 {
        return Err(ApiError::invalid(
            "工程造价须为正数金额",
            "`cost` must be a positive amount with at most 2 decimals",
        ));
    }
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let (unit, unit_version) = load_unit(&p, &code).await?;
        actor.may(
            Action::ManageProjects,
            Some(unit.county),
            Owner::Unit(&unit.code),
        )?;
        let unit_check = active_check(&unit, unit_version)?;
        let params = p.params().await?;
        let premium = swi_rules::premium::project_premium(&params, req.cost, req.start)
            .map_err(|e| {
                ApiError::refused(
                    ErrorCode::NotInForce,
                    "该日期不在补充工伤保险实施期内",
                    e.to_string(),
                )
            })?
            .value;
        let id = format!(
            "p-{}",
            &Sha256::of(format!("{}|{}", unit.code, req.work_injury_project_no).as_bytes()).hex()
                [..16]
        );
        if p.state.get(&project_key(&id)).await?.is_some() {
            return Err(ApiError::conflict(
                ErrorCode::AlreadyEnrolled,
                "该项目已参保",
                "this project is already enrolled",
            ));
        }
        let project = Project {
            id,
            unit: unit.code.clone(),
            county: unit.county,
            name: req.name.clone(),
            work_injury_project_no: req.work_injury_project_no.clone(),
            cost: req.cost,
            cost_kind: req.cost_kind,
            start: req.start,
            end: req.end,
            premium,
            status: ProjectStatus::AwaitingPayment,
            paid_at: None,
            certificate_sha256: None,
            extensions: Vec::new(),
            refund_due: None,
        };
        // Its one-time premium is billed with its enrolment; the tax bureau's receipt for it
        // starts the cover and issues the certificate (Art. 11, 14).
        let (bill_ops, bill_audit, _) = swi_bills::issue::project_bill(
            &params,
            &project,
            &unit.name,
            p.clock.today(),
            swi_bills::issue::Issuer {
                at: p.clock.now().naive_local(),
                by: actor.name.clone(),
            },
        )?;
        let detail = serde_json::to_value(&project).map_err(|e| ApiError::internal(&e))?;
        let mut change = saved(&project, 0, "project.enrol", detail, StatusCode::CREATED)?;
        change.ops.push(unit_check);
        change.ops.extend(bill_ops);
        change.audit.push(bill_audit);
        // The unit's list of its projects.
        change.ops.push(TxOp::Put {
            item: Item::new(
                format!("projects-of#{}", project.unit),
                format!("{}#{}", project.start, project.id),
                &serde_json::json!({ "id": project.id }),
            )?,
            condition: Condition::NotExists,
        });
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// How many of a unit's projects its list shows.
const UNIT_LIST: u32 = 100;

/// `GET /api/units/{code}/projects`: the unit's projects, latest start first.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/projects", tag = "projects",
    params(("code" = String, Path)),
    responses((status = 200, description = "the unit's projects, latest start first", body = [Project]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_unit(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Vec<Project>>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    let page = p
        .state
        .query(
            &swi_store::Query::partition(format!("projects-of#{}", unit.code))
                .limit(UNIT_LIST)
                .backward(),
        )
        .await?;
    let mut out = Vec::with_capacity(page.items.len());
    for listed in &page.items {
        if let Some(id) = listed.body["id"].as_str() {
            out.push(load_project(&p, id).await?.0);
        }
    }
    Ok(axum::Json(out))
}

/// `POST /api/projects/{id}/payments`: records the premium and issues the certificate (Art. 12).
///
/// # Errors
/// 400; 403; 404; 409 not awaiting payment.
#[utoipa::path(post, path = "/api/projects/{id}/payments", tag = "projects", request_body = PayProject,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "covered; certificate issued", body = Project),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn pay(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PayProject>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/projects/{id}/payments"), &req);
    let paid = wire::china_datetime(&req.paid_at, "paid_at")?;
    // A certificate is issued for a payment made, never for one yet to come.
    if paid > p.clock.now().naive_local() {
        return Err(ApiError::invalid(
            "缴费时间不能晚于当前时间",
            "`paid_at` is in the future",
        ));
    }
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let (mut project, version) = load_project(&p, &id).await?;
        actor.may(Action::RecordPayment, Some(project.county), Owner::Nobody)?;
        // A project enrolled with its bill is paid through the tax bureau: its receipt starts
        // the cover and issues the certificate.
        if p
            .state
            .get(&swi_bills::bill::bill_key(&swi_bills::bill::project_bill_id(&project.id)))
            .await?
            .is_some()
        {
            return Err(ApiError::conflict(
                ErrorCode::BilledThroughTax,
                "该项目已核定应缴额，缴费以税务部门回执为准，回执导入后出具参保证明（第十一条）",
                "this project is billed: its payment is recorded from the tax bureau's receipt, which starts the cover and issues the certificate (Art. 11)",
            ));
        }
        if project.status != ProjectStatus::AwaitingPayment {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "该项目不在待缴费状态",
                "the project is not awaiting payment",
            ));
        }
        // Payment starts cover: the unit must still be active, and stay so (Art. 10).
        let (unit, unit_version) = load_unit(&p, &project.unit).await?;
        let unit_check = active_check(&unit, unit_version)?;
        project.status = ProjectStatus::Covered;
        project.paid_at = Some(paid);
        let (certificate, issued) = swi_registry::project::issue_certificate(&p, &project, &unit.name).await?;
        project.certificate_sha256 = Some(certificate);
        let detail = json!({ "paid_at": paid, "certificate_sha256": project.certificate_sha256 });
        let mut change = saved(&project, version, "project.pay", detail, StatusCode::OK)?;
        change.ops.push(unit_check);
        change.ops.extend(issued);
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/projects/{id}/extend`: extends cover, if asked before the end date (Art. 12).
///
/// # Errors
/// 400; 403; 404; 409 not covered; 422 asked after the end date.
#[utoipa::path(post, path = "/api/projects/{id}/extend", tag = "projects", request_body = Extend,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "extended; a new certificate issued", body = Project),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn extend(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Extend>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/projects/{id}/extend"), &req);
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let (mut project, version) = load_project(&p, &id).await?;
        actor.may(
            Action::ManageProjects,
            Some(project.county),
            Owner::Unit(&project.unit),
        )?;
        if project.status != ProjectStatus::Covered {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "仅已参保的项目可以延期",
                "only a covered project can be extended",
            ));
        }
        let today = p.clock.today();
        if today > project.end {
            return Err(ApiError::refused(
                ErrorCode::ExtensionTooLate,
                "延期须在项目结束日期前申请（第十二条）",
                format!(
                    "an extension must be asked before the end date {} (Art. 12)",
                    project.end
                ),
            ));
        }
        if req.new_end <= project.end {
            return Err(ApiError::invalid(
                "新的结束日期须晚于原结束日期",
                "`new_end` must be after the current end",
            ));
        }
        project.extensions.push(Extension {
            from: project.end,
            to: req.new_end,
            asked_on: today,
        });
        project.end = req.new_end;
        let (unit, unit_version) = load_unit(&p, &project.unit).await?;
        let unit_check = active_check(&unit, unit_version)?;
        let (certificate, issued) =
            swi_registry::project::issue_certificate(&p, &project, &unit.name).await?;
        project.certificate_sha256 = Some(certificate);
        let detail = json!({ "new_end": req.new_end, "asked_on": today });
        let mut change = saved(&project, version, "project.extend", detail, StatusCode::OK)?;
        change.ops.push(unit_check);
        change.ops.extend(issued);
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/projects/{id}/cancel`: cancels; a refund is due only before the start (Art. 22).
///
/// # Errors
/// 400; 403; 404; 409 already cancelled or ended.
#[utoipa::path(post, path = "/api/projects/{id}/cancel", tag = "projects", request_body = CancelProject,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "cancelled, with any refund due", body = Project),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CancelProject>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/projects/{id}/cancel"), &req);
    wire::name(&req.reason, "reason")?;
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let (mut project, version) = load_project(&p, &id).await?;
        actor.may(
            Action::ManageProjects,
            Some(project.county),
            Owner::Unit(&project.unit),
        )?;
        let today = p.clock.today();
        if project.status == ProjectStatus::Cancelled || today > project.end {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "该项目已注销或已结束",
                "the project is already cancelled or ended",
            ));
        }
        let refund = if project.status == ProjectStatus::Covered && today < project.start {
            project.premium
        } else {
            Decimal::ZERO
        };
        let unpaid = project.status == ProjectStatus::AwaitingPayment;
        project.status = ProjectStatus::Cancelled;
        project.refund_due = Some(refund);
        let detail = json!({ "reason": req.reason, "refund_due": refund, "basis": "Art. 22" });
        let mut change = saved(&project, version, "project.cancel", detail, StatusCode::OK)?;
        // Cancelled before payment: its bill is withdrawn — no longer owed, exported or in
        // arrears — held only if it is still unpaid as read.
        let bill_id = swi_bills::bill::project_bill_id(&project.id);
        if unpaid && let Ok((mut bill, bill_version)) = swi_bills::bill::load_bill(&p, &bill_id).await
            && bill.status == swi_bills::BillStatus::Owing
        {
            let owing = swi_store::Key::new(
                swi_bills::bill::owing_pk(bill.county),
                swi_bills::bill::owing_sk(&bill),
            );
            bill.status = swi_bills::BillStatus::Withdrawn;
            change.ops.push(TxOp::Put {
                item: swi_bills::bill::bill_item(&bill)?,
                condition: Condition::VersionIs(bill_version),
            });
            change.ops.push(TxOp::Delete {
                key: owing,
                condition: Condition::None,
            });
            change.audit.push(Audit {
                case: swi_bills::bill::bill_case(&bill.id),
                command: "bill.withdraw".into(),
                change: json!({ "project": project.id, "reason": req.reason, "basis": "Art. 12, 22" }),
            });
        }
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/projects/{id}/workers`: registers a worker by real name with a declared wage
/// (Art. 48).
///
/// # Errors
/// 400; 403; 404; 409 registered twice or project cancelled.
#[utoipa::path(post, path = "/api/projects/{id}/workers", tag = "projects", request_body = RegisterWorker,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "registered", body = Worker),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_worker(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RegisterWorker>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/projects/{id}/workers"), &req);
    wire::name(&req.name, "name")?;
    let idn = ResidentId::parse(&req.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    if req.declared_wage.is_sign_negative() || req.declared_wage.scale() > 2 {
        return Err(ApiError::invalid(
            "申报工资须为非负金额",
            "`declared_wage` must be a non-negative amount",
        ));
    }
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let (project, version) = load_project(&p, &id).await?;
        actor.may(
            Action::ManageProjects,
            Some(project.county),
            Owner::Unit(&project.unit),
        )?;
        if project.status == ProjectStatus::Cancelled {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "该项目已注销",
                "the project is cancelled",
            ));
        }
        let person = p.persons.of(&idn);
        if p.state
            .get(&worker_key(&project.id, &person))
            .await?
            .is_some()
        {
            return Err(ApiError::conflict(
                ErrorCode::AlreadyRegistered,
                "该人员已登记",
                "this worker is already registered",
            ));
        }
        let worker = Worker {
            project: project.id.clone(),
            name: req.name.clone(),
            id_number: idn.expose().to_owned(),
            person,
            declared_wage: req.declared_wage,
            registered_on: p.clock.today(),
        };
        let body = serde_json::to_value(worker.masked()).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            // The worker is written once, while the project stays as read (not cancelled).
            ops: vec![
                worker_put(&worker)?,
                TxOp::Check {
                    key: project_key(&project.id),
                    condition: Condition::VersionIs(version),
                },
            ],
            audit: vec![Audit {
                case: project_case(&project.id),
                command: "project.register_worker".into(),
                change: json!({ "worker": req.name, "declared_wage": req.declared_wage }),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `?cursor=…&limit=…`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// The cursor a previous page answered.
    #[serde(default)]
    pub cursor: Option<String>,
    /// At most this many (1-500, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of a project's workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkersPage {
    /// Workers (ID numbers masked), in registration-key order.
    pub workers: Vec<Worker>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

/// `GET /api/projects/{id}/workers`: the project's workers, a page at a time.
///
/// # Errors
/// 400 bad cursor or limit; 403; 404.
#[utoipa::path(get, path = "/api/projects/{id}/workers", tag = "projects",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, description = "a page of workers", body = WorkersPage),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn workers(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<axum::Json<WorkersPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            "每页条数须为 1-500",
            "`limit` must be 1-500",
        ));
    }
    let (project, _) = load_project(&p, &id).await?;
    actor.may(
        Action::Read,
        Some(project.county),
        Owner::Unit(&project.unit),
    )?;
    let (workers, next) =
        workers_page(&p, &project.id, limit, q.cursor.map(Cursor::from_text)).await?;
    Ok(axum::Json(WorkersPage {
        workers,
        next: next.map(|c| c.as_str().to_owned()),
    }))
}

/// `GET /api/projects/{id}`.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/projects/{id}", tag = "projects",
    params(("id" = String, Path)),
    responses((status = 200, description = "the project", body = Project),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Project>, ApiError> {
    let (project, _) = load_project(&p, &id).await?;
    actor.may(
        Action::Read,
        Some(project.county),
        Owner::Unit(&project.unit),
    )?;
    Ok(axum::Json(project))
}

/// `GET /api/projects/{id}/certificate`: the enrolment certificate as PDF.
///
/// # Errors
/// 403; 404 unknown project or not yet paid.
#[utoipa::path(get, path = "/api/projects/{id}/certificate", tag = "projects",
    params(("id" = String, Path)),
    responses((status = 200, description = "the certificate", content_type = "application/pdf"),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn certificate(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (project, _) = load_project(&p, &id).await?;
    actor.may(
        Action::Read,
        Some(project.county),
        Owner::Unit(&project.unit),
    )?;
    let sha = project.certificate_sha256.as_deref().ok_or_else(|| {
        ApiError::not_found(
            "缴费后方可出具参保证明",
            "the certificate is issued after payment",
        )
    })?;
    let sha = Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
    let mut reader = p
        .docs
        .get(&sha)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let mut pdf = Vec::new();
    reader
        .read_to_end(&mut pdf)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"certificate-{id}.pdf\""),
            ),
        ],
        pdf,
    ))
}
