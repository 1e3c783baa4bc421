//! Construction projects enrolled as a whole (Art. 11-12, 14, 22, 48): the premium is 0.6 ‰ of
//! the project's cost, once; after payment the enrolment certificate (参保证明) is issued with
//! the same start and end dates as the work-injury cover; an extension must be asked before the
//! end date; a refund is due only for a project cancelled before it started; workers are
//! registered by real name with their declared wage.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_forms::{Field, Font, Form};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::{County, ResidentId};
use swi_store::{Condition, Item, Key, Sha256, TxOp};
use tokio::io::AsyncReadExt;

use crate::units::load_unit;
use swi_platform::wire;

/// A project's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// Enrolled; the premium is not yet paid.
    AwaitingPayment,
    /// Paid: covered from `start` to `end`, certificate issued.
    Covered,
    /// Cancelled.
    Cancelled,
}

/// What the cost basis is (Art. 14: 工程建筑安装费或工程总造价).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    /// 建筑安装工程费.
    Installation,
    /// 工程总造价.
    Total,
}

/// A worker registered by real name (Art. 48).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Worker {
    /// Name.
    pub name: String,
    /// ID number (shown masked).
    pub id_number: String,
    /// Declared monthly wage (the insured wage of Art. 48).
    pub declared_wage: Decimal,
    /// Registered on.
    pub registered_on: NaiveDate,
}

/// A construction project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    /// Id (`p-…`).
    pub id: String,
    /// The unit (contractor).
    pub unit: String,
    /// County.
    pub county: String,
    /// Project name.
    pub name: String,
    /// The project's work-injury enrolment number.
    pub work_injury_project_no: String,
    /// Cost basis.
    pub cost: Decimal,
    /// What the cost is.
    pub cost_kind: CostKind,
    /// First day of cover (as the work-injury cover).
    pub start: NaiveDate,
    /// Last day of cover (as the work-injury cover).
    pub end: NaiveDate,
    /// Premium: 0.6 ‰ of the cost, once (Art. 14).
    pub premium: Decimal,
    /// Status.
    pub status: ProjectStatus,
    /// When paid.
    pub paid_at: Option<NaiveDateTime>,
    /// The certificate PDF (SHA-256), once paid.
    pub certificate_sha256: Option<String>,
    /// Extensions granted: (old end, new end, asked on).
    pub extensions: Vec<(NaiveDate, NaiveDate, NaiveDate)>,
    /// Refund due on cancellation before the start (Art. 22).
    pub refund_due: Option<Decimal>,
    /// Workers registered by real name.
    pub workers: Vec<Worker>,
}

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

static FONT: OnceLock<Result<Arc<Font>, String>> = OnceLock::new();

/// The forms' font, loaded once; a missing font is an operator's error that says what to do.
///
/// # Errors
/// 503 `forms_unavailable` naming what to install.
pub(crate) fn font() -> Result<Arc<Font>, ApiError> {
    FONT.get_or_init(|| Font::from_env().map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| {
            eprintln!("swi: {e}");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "forms_unavailable",
                "暂时无法出具 PDF 文书：服务器缺少中文字体，请联系运维",
                "PDF forms are unavailable: the server's CJK font is missing (operators: bash infra/fonts, SWI_FONT)",
            )
        })
}

fn key(id: &str) -> Key {
    Key::new(format!("project#{id}"), "profile")
}

fn case(id: &str) -> String {
    format!("project#{id}")
}

fn masked(p: &Project) -> Project {
    let mut p = p.clone();
    for w in &mut p.workers {
        w.id_number =
            ResidentId::parse(&w.id_number).map_or_else(|_| "****".into(), |id| id.masked());
    }
    p
}

fn chinese_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Renders the certificate (参保证明, Art. 12) and stores it; returns its SHA-256.
async fn issue_certificate(
    p: &Platform,
    project: &Project,
    unit_name: &str,
) -> Result<String, ApiError> {
    let form = Form {
        title: "赣州市补充工伤保险参保证明".into(),
        number: "表号：GZBG-CB-01".into(),
        serial: format!("编号：{}", project.id),
        fields: vec![
            Field { label: "项目名称".into(), value: project.name.clone() },
            Field { label: "工伤保险参保编号".into(), value: project.work_injury_project_no.clone() },
            Field { label: "参保单位".into(), value: format!("{unit_name}（{}）", project.unit) },
            Field {
                label: "保障期间".into(),
                value: format!("{}至{}", chinese_date(project.start), chinese_date(project.end)),
            },
            Field {
                label: "缴费金额".into(),
                value: format!(
                    "人民币 {} 元（{} {} 元 × 0.6‰）",
                    project.premium,
                    match project.cost_kind {
                        CostKind::Installation => "建筑安装工程费",
                        CostKind::Total => "工程总造价",
                    },
                    project.cost
                ),
            },
        ],
        statement: "兹证明上述建设项目已按《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第十一条、第十二条参加补充工伤保险，保障期间与工伤保险参保期间一致。".into(),
        signatures: vec!["经办人（签字）".into(), "承办机构（盖章）".into()],
        date_line: chinese_date(p.clock.today()),
    };
    let pdf = swi_forms::render(&*font()?, &form).map_err(|e| ApiError::internal(&e))?;
    let meta = p
        .docs
        .put(&mut pdf.as_slice())
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(meta.sha256.hex())
}

async fn load(p: &Platform, id: &str) -> Result<(Project, u64), ApiError> {
    let item = p
        .state
        .get(&key(id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该建设项目", format!("no project {id}")))?;
    Ok((
        item.body().map_err(|e| ApiError::internal(&e))?,
        item.version,
    ))
}

fn county_of(project: &Project) -> Result<County, ApiError> {
    County::parse(&project.county).map_err(|e| ApiError::internal(&e))
}

fn saved(
    project: &Project,
    version: u64,
    command: &str,
    detail: Value,
    status: StatusCode,
) -> Result<Change, ApiError> {
    let k = key(&project.id);
    let body = serde_json::to_value(masked(project)).map_err(|e| ApiError::internal(&e))?;
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
            case: case(&project.id),
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
        let county = County::parse(&unit.county).map_err(|e| ApiError::internal(&e))?;
        actor.may(
            Action::ManageProjects,
            Some(county),
            Owner::Unit(&unit.code),
        )?;
        let unit_check = crate::units::active_check(&unit, unit_version)?;
        let params = crate::persons::params()?;
        let premium = swi_rules::premium::project_premium(params, req.cost, req.start)
            .map_err(|e| {
                ApiError::refused(
                    "not_in_force",
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
        if p.state.get(&key(&id)).await?.is_some() {
            return Err(ApiError::conflict(
                "already_enrolled",
                "该项目已参保",
                "this project is already enrolled",
            ));
        }
        let project = Project {
            id,
            unit: unit.code.clone(),
            county: unit.county.clone(),
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
            workers: Vec::new(),
        };
        let detail = serde_json::to_value(&project).map_err(|e| ApiError::internal(&e))?;
        let mut change = saved(&project, 0, "project.enrol", detail, StatusCode::CREATED)?;
        change.ops.push(unit_check);
        Ok(change)
    })
    .await?;
    Ok((status, axum::Json(body)))
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
        let (mut project, version) = load(&p, &id).await?;
        actor.may(
            Action::RecordPayment,
            Some(county_of(&project)?),
            Owner::Nobody,
        )?;
        if project.status != ProjectStatus::AwaitingPayment {
            return Err(ApiError::conflict(
                "invalid_transition",
                "该项目不在待缴费状态",
                "the project is not awaiting payment",
            ));
        }
        // Payment starts cover: the unit must still be active, and stay so (Art. 10).
        let (unit, unit_version) = load_unit(&p, &project.unit).await?;
        let unit_check = crate::units::active_check(&unit, unit_version)?;
        project.status = ProjectStatus::Covered;
        project.paid_at = Some(paid);
        project.certificate_sha256 = Some(issue_certificate(&p, &project, &unit.name).await?);
        let detail = json!({ "paid_at": paid, "certificate_sha256": project.certificate_sha256 });
        let mut change = saved(&project, version, "project.pay", detail, StatusCode::OK)?;
        change.ops.push(unit_check);
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
        let (mut project, version) = load(&p, &id).await?;
        actor.may(
            Action::ManageProjects,
            Some(county_of(&project)?),
            Owner::Unit(&project.unit),
        )?;
        if project.status != ProjectStatus::Covered {
            return Err(ApiError::conflict(
                "invalid_transition",
                "仅已参保的项目可以延期",
                "only a covered project can be extended",
            ));
        }
        let today = p.clock.today();
        if today > project.end {
            return Err(ApiError::refused(
                "extension_too_late",
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
        project.extensions.push((project.end, req.new_end, today));
        project.end = req.new_end;
        let (unit, unit_version) = load_unit(&p, &project.unit).await?;
        let unit_check = crate::units::active_check(&unit, unit_version)?;
        project.certificate_sha256 = Some(issue_certificate(&p, &project, &unit.name).await?);
        let detail = json!({ "new_end": req.new_end, "asked_on": today });
        let mut change = saved(&project, version, "project.extend", detail, StatusCode::OK)?;
        change.ops.push(unit_check);
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
        let (mut project, version) = load(&p, &id).await?;
        actor.may(
            Action::ManageProjects,
            Some(county_of(&project)?),
            Owner::Unit(&project.unit),
        )?;
        let today = p.clock.today();
        if project.status == ProjectStatus::Cancelled || today > project.end {
            return Err(ApiError::conflict(
                "invalid_transition",
                "该项目已注销或已结束",
                "the project is already cancelled or ended",
            ));
        }
        let refund = if project.status == ProjectStatus::Covered && today < project.start {
            project.premium
        } else {
            Decimal::ZERO
        };
        project.status = ProjectStatus::Cancelled;
        project.refund_due = Some(refund);
        let detail = json!({ "reason": req.reason, "refund_due": refund, "basis": "Art. 22" });
        saved(&project, version, "project.cancel", detail, StatusCode::OK)
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
    responses((status = 200, description = "registered", body = Project),
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
        let (mut project, version) = load(&p, &id).await?;
        actor.may(
            Action::ManageProjects,
            Some(county_of(&project)?),
            Owner::Unit(&project.unit),
        )?;
        if project.status == ProjectStatus::Cancelled {
            return Err(ApiError::conflict(
                "invalid_transition",
                "该项目已注销",
                "the project is cancelled",
            ));
        }
        if project.workers.iter().any(|w| w.id_number == idn.expose()) {
            return Err(ApiError::conflict(
                "already_registered",
                "该人员已登记",
                "this worker is already registered",
            ));
        }
        let today = p.clock.today();
        project.workers.push(Worker {
            name: req.name.clone(),
            id_number: idn.expose().to_owned(),
            declared_wage: req.declared_wage,
            registered_on: today,
        });
        let detail = json!({ "worker": req.name, "declared_wage": req.declared_wage });
        saved(
            &project,
            version,
            "project.register_worker",
            detail,
            StatusCode::OK,
        )
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/projects/{id}`.
///
/// # Errors
/// 403; 404.
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Project>, ApiError> {
    let (project, _) = load(&p, &id).await?;
    actor.may(
        Action::Read,
        Some(county_of(&project)?),
        Owner::Unit(&project.unit),
    )?;
    Ok(axum::Json(masked(&project)))
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
    let (project, _) = load(&p, &id).await?;
    actor.may(
        Action::Read,
        Some(county_of(&project)?),
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
