//! Construction projects enrolled as a whole (Art. 11-12, 14, 22) and their workers registered
//! by real name (Art. 48). Each worker is an item of their own under the project, found by person
//! in the person index, so a project holds any number of workers and a construction worker's
//! cover can be found from their ID number.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::{Condition, Cursor, Item, Key, Query, SkRange, TxOp};

use crate::corrupt;
use crate::enrolment::person_partition;

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

impl CostKind {
    /// The Chinese name, as the certificate prints it.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            CostKind::Installation => "建筑安装工程费",
            CostKind::Total => "工程总造价",
        }
    }
}

/// An extension of a project's cover (Art. 12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extension {
    /// The end before.
    pub from: NaiveDate,
    /// The end after.
    pub to: NaiveDate,
    /// When it was asked.
    pub asked_on: NaiveDate,
}

/// A construction project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    /// Id (`p-…`).
    pub id: String,
    /// The unit (contractor).
    pub unit: String,
    /// County.
    #[schema(value_type = String, example = "360702")]
    pub county: County,
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
    /// Extensions granted.
    pub extensions: Vec<Extension>,
    /// Refund due on cancellation before the start (Art. 22).
    pub refund_due: Option<Decimal>,
}

impl Project {
    /// Whether the project's workers are covered on `on`: paid, not cancelled, within its dates.
    #[must_use]
    pub fn covers(&self, on: NaiveDate) -> bool {
        self.status == ProjectStatus::Covered && self.start <= on && on <= self.end
    }
}

/// A worker registered on a project by real name (Art. 48).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Worker {
    /// The project.
    pub project: String,
    /// Name.
    pub name: String,
    /// ID number (answered masked).
    pub id_number: String,
    /// Opaque person key; kept in the store, never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(ignore)]
    pub person: String,
    /// Declared monthly wage (the insured wage of Art. 48).
    pub declared_wage: Decimal,
    /// Registered on.
    pub registered_on: NaiveDate,
}

impl Worker {
    /// The worker as answered: the ID number masked, the person key left out.
    #[must_use]
    pub fn masked(&self) -> Self {
        let mut w = self.clone();
        w.person = String::new();
        w.id_number = crate::masked_id(&self.id_number);
        w
    }
}

/// The key of a project.
#[must_use]
pub fn project_key(id: &str) -> Key {
    Key::new(format!("project#{id}"), "profile")
}

/// The audit case of a project.
#[must_use]
pub fn project_case(id: &str) -> String {
    format!("project#{id}")
}

/// The key of a worker's registration on a project.
#[must_use]
pub fn worker_key(project: &str, person: &str) -> Key {
    Key::new(format!("project#{project}"), format!("worker#{person}"))
}

/// Loads a project and its version, or 404.
///
/// # Errors
/// 404 unknown; 503 the store is unavailable.
pub async fn load_project(p: &Platform, id: &str) -> Result<(Project, u64), ApiError> {
    let item = p.state.get(&project_key(id)).await?.ok_or_else(|| {
        ApiError::not_found(
            "未找到该建设项目",
            format!("no project {}", swi_platform::wire::clip(id)),
        )
    })?;
    Ok((item.body().map_err(|e| corrupt(&e))?, item.version))
}

/// The operation registering a worker (once per person and project), indexed by person.
///
/// # Errors
/// Serialization (it does not fail).
pub fn worker_put(w: &Worker) -> Result<TxOp, ApiError> {
    let k = worker_key(&w.project, &w.person);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, w)?.with_gsi1(
            person_partition(&w.person),
            format!("project#{}", w.project),
        ),
        condition: Condition::NotExists,
    })
}

/// A page of a project's workers (masked), and the cursor of the next.
///
/// # Errors
/// 400 a bad cursor; 503 the store is unavailable.
pub async fn workers_page(
    p: &Platform,
    project: &str,
    limit: u32,
    after: Option<Cursor>,
) -> Result<(Vec<Worker>, Option<Cursor>), ApiError> {
    let page = p
        .state
        .query(
            &Query::partition(format!("project#{project}"))
                .range(SkRange::Prefix("worker#".into()))
                .limit(limit)
                .after(after),
        )
        .await?;
    let workers = page
        .items
        .iter()
        .map(|i| i.body::<Worker>().map(|w| w.masked()))
        .collect::<Result<_, _>>()
        .map_err(|e| corrupt(&e))?;
    Ok((workers, page.next))
}

/// Renders the certificate (参保证明, Art. 12) with its verification code and stores it; returns
/// its SHA-256 and the operations recording its issue and registering it in the archive, to
/// write with the change that issues it.
pub async fn issue_certificate(
    p: &Platform,
    project: &Project,
    unit_name: &str,
) -> Result<(String, Vec<swi_store::TxOp>), ApiError> {
    let form = swi_forms::Form {
        title: "赣州市补充工伤保险参保证明".into(),
        number: "表号：GZBG-CB-01".into(),
        serial: format!("编号：{}", project.id),
        fields: vec![
            swi_forms::Field { label: "项目名称".into(), value: project.name.clone() },
            swi_forms::Field { label: "工伤保险参保编号".into(), value: project.work_injury_project_no.clone() },
            swi_forms::Field { label: "参保单位".into(), value: format!("{unit_name}（{}）", project.unit) },
            swi_forms::Field {
                label: "保障期间".into(),
                value: format!("{}至{}", swi_forms::chinese_date(project.start), swi_forms::chinese_date(project.end)),
            },
            swi_forms::Field {
                label: "缴费金额".into(),
                value: format!(
                    "人民币 {} 元（{} {} 元 × 0.6‰）",
                    project.premium,
                    project.cost_kind.chinese(),
                    project.cost
                ),
            },
        ],
        statement: "兹证明上述建设项目已按《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第十一条、第十二条参加补充工伤保险，保障期间与工伤保险参保期间一致。".into(),
        signatures: vec!["经办人（签字）".into(), "承办机构（盖章）".into()],
        date_line: swi_forms::chinese_date(p.clock.today()),
        verification: None,
    };
    swi_platform::verification::issue(
        p,
        form,
        &project.id,
        &format!("赣州市补充工伤保险承办机构（{}）", project.county.name()),
        p.clock.today(),
        swi_platform::dossier::Filing {
            case: &project_case(&project.id),
            county: &project.county.code().to_string(),
            class: swi_archive::retention::RecordClass::UnitRegistration,
            material: "建设项目参保证明",
        },
    )
    .await
}

/// The operation writing a project under `condition`.
///
/// # Errors
/// Serialization (it does not fail).
pub fn project_put(project: &Project, condition: Condition) -> Result<TxOp, ApiError> {
    let k = project_key(&project.id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, project)?,
        condition,
    })
}

/// A project's cover started by the payment of its premium: the operations (the project, the
/// check that its unit stays active, the certificate's record) and its audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectStarted {
    /// The operations.
    pub ops: Vec<TxOp>,
    /// The project's audit event.
    pub audit: swi_platform::mutation::Audit,
}

/// Starts a project's cover on the payment of its one-time premium at `paid` (Art. 11: 缴纳
/// 费用后，承办机构出具补充工伤保险参保证明): covered for its dates, its certificate issued. Says why
/// not when the project no longer waits for payment or its unit is cancelled (Art. 10). Who
/// records the payment is the caller's check.
///
/// # Errors
/// The store is unavailable; the certificate cannot be rendered.
pub async fn started_by_payment(
    p: &Platform,
    id: &str,
    paid: NaiveDateTime,
    detail: serde_json::Value,
) -> Result<Result<ProjectStarted, String>, ApiError> {
    let (mut project, version) = load_project(p, id).await?;
    if project.status != ProjectStatus::AwaitingPayment {
        return Ok(Err(format!(
            "项目不在待缴费状态 — the project {id} no longer waits for payment"
        )));
    }
    let (unit, unit_version) = crate::unit::load_unit(p, &project.unit).await?;
    let Ok(unit_check) = crate::unit::active_check(&unit, unit_version) else {
        return Ok(Err(
            "单位已注销（第十条） — the unit is cancelled (Art. 10)".into(),
        ));
    };
    project.status = ProjectStatus::Covered;
    project.paid_at = Some(paid);
    let (certificate, issued) = issue_certificate(p, &project, &unit.name).await?;
    project.certificate_sha256 = Some(certificate);
    let mut change = serde_json::json!({
        "paid_at": paid, "certificate_sha256": project.certificate_sha256, "basis": "Art. 11"
    });
    if let (Some(c), serde_json::Value::Object(extra)) = (change.as_object_mut(), detail) {
        c.extend(extra);
    }
    Ok(Ok(ProjectStarted {
        ops: [
            vec![
                project_put(&project, Condition::VersionIs(version))?,
                unit_check,
            ],
            issued,
        ]
        .concat(),
        audit: swi_platform::mutation::Audit {
            case: project_case(&project.id),
            command: "project.paid_by_receipt".into(),
            change,
        },
    }))
}
