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
