//! What a person is covered by on a date, across the register: enrolments (with a unit, or
//! self-enrolled) and construction projects they are registered on. Claim review starts here
//! (Art. 24-31: was the injured person covered on the day of the accident, and by whom).

use chrono::NaiveDate;
use serde::Serialize;
use swi_platform::{ApiError, Platform};
use swi_store::{Index, Query};

use crate::corrupt;
use crate::enrolment::{Enrolment, person_partition};
use crate::project::{Project, Worker, load_project};

/// One source of a person's cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cover {
    /// An enrolment (as stored: mask it before answering).
    Enrolment {
        /// The enrolment.
        enrolment: Enrolment,
    },
    /// A registration as a worker on a construction project.
    Project {
        /// The project.
        project: Project,
        /// The worker's registration.
        worker: Worker,
    },
}

/// Everything the person index knows of a person (by person key): enrolments and project
/// registrations, oldest first.
///
/// # Errors
/// The store is unavailable.
pub async fn register_of(p: &Platform, person: &str) -> Result<Vec<Cover>, ApiError> {
    let mut out = Vec::new();
    for item in &p
        .state
        .query_index_all(
            Index::Gsi1,
            &Query::partition(person_partition(person)).limit(100),
        )
        .await?
    {
        if item.pk.starts_with("enrolment#") {
            out.push(Cover::Enrolment {
                enrolment: item.body().map_err(|e| corrupt(&e))?,
            });
        } else if item.pk.starts_with("project#") {
            let worker: Worker = item.body().map_err(|e| corrupt(&e))?;
            let (project, _) = load_project(p, &worker.project).await?;
            out.push(Cover::Project { project, worker });
        }
    }
    Ok(out)
}

/// What covers the person on `on` (Art. 8, 12): nothing after their relationship ended (Art. 31).
///
/// # Errors
/// The store is unavailable.
pub async fn covered_on(p: &Platform, person: &str, on: NaiveDate) -> Result<Vec<Cover>, ApiError> {
    if let Some(end) = crate::relationship::ended_on(p, person).await?
        && on > end.on
    {
        return Ok(Vec::new());
    }
    Ok(register_of(p, person)
        .await?
        .into_iter()
        .filter(|c| match c {
            Cover::Enrolment { enrolment } => enrolment.covers(on),
            Cover::Project { project, .. } => project.covers(on),
        })
        .collect())
}
