//! Reading the register as the step's users need it: an enrolment, a unit's roster on a date,
//! a person's history across units and projects, a unit's reminders.

use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, Member, load_enrolment, unit_members};
use swi_registry::person::{Cover, register_of};
use swi_registry::project::Worker;
use swi_registry::unit::load_unit;
use swi_rules::ids::ResidentId;

use super::request::{HistoryQuery, OnDate};
use crate::retirement::Reminder;

/// `GET /api/enrolments/{id}`.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/enrolments/{id}", tag = "persons", params(("id" = String, Path)), responses((status = 200, description = "the enrolment (ID number masked)", body = Enrolment), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Enrolment>, ApiError> {
    let (e, _) = load_enrolment(&p, &id).await?;
    actor.may(Action::Read, Some(e.county), e.owner())?;
    Ok(axum::Json(e.masked()))
}

/// `GET /api/units/{code}/roster?on=DATE`: the unit's persons covered on a date.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/roster", tag = "persons", params(("code" = String, Path), ("on" = Option<String>, Query, description = "YYYY-MM-DD; default today in China")), responses((status = 200, description = "members covered on the date", body = RosterOnDate), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn roster(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
    Query(q): Query<OnDate>,
) -> Result<axum::Json<RosterOnDate>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    let on = q.on.unwrap_or_else(|| p.clock.today());
    let covered = unit_members(&p, &unit.code)
        .await?
        .into_iter()
        .filter(|m| m.covers(on))
        .map(|mut m| {
            m.person.clear();
            m
        })
        .collect();
    Ok(axum::Json(RosterOnDate {
        unit: unit.code,
        on,
        covered,
    }))
}

/// `POST /api/persons/history`: a person's enrolments across units, oldest first.
///
/// # Errors
/// 400 bad ID number; 403.
#[utoipa::path(post, path = "/api/persons/history", tag = "persons", request_body = HistoryQuery, responses((status = 200, description = "enrolments and project registrations, ID numbers masked", body = History), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn history(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ApiJson(q): ApiJson<HistoryQuery>,
) -> Result<axum::Json<History>, ApiError> {
    actor.may(Action::Read, None, Owner::Nobody)?;
    let id = ResidentId::parse(&q.id_number)
        .map_err(|e| ApiError::invalid("公民身份号码不正确", format!("`id_number`: {e}")))?;
    let own = swi_platform::identity::may_act_for(&p, &actor, &id, false)
        .await
        .is_ok()
        && actor.role == swi_domain::Role::Citizen;
    Ok(axum::Json(
        history_of(&p, &actor, &p.persons.of(&id), own).await?,
    ))
}

/// `GET /api/self/history`: the signed-in citizen's own cover, every enrolment and project
/// registration of the ID number verified for their account, whoever enrolled them.
///
/// # Errors
/// 403 not a citizen, or no verified ID number yet.
#[utoipa::path(get, path = "/api/self/history", tag = "persons", responses((status = 200, description = "the citizen's own enrolments and project registrations, ID numbers masked", body = History), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn own_history(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<History>, ApiError> {
    actor.may(Action::EnrolSelf, None, Owner::Person(&actor.sub))?;
    let Some(identity) = swi_platform::identity::linked(&p, &actor.sub).await? else {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            swi_platform::ErrorCode::NotOwnId,
            "您的账号尚未完成实名核验，请持身份证到经办窗口办理",
            "this account has no verified ID number yet",
        ));
    };
    Ok(axum::Json(
        history_of(&p, &actor, &identity.person, true).await?,
    ))
}

/// A person's register as `actor` may read it: everything when it is their own (`own`), else
/// each record only if they may read it.
async fn history_of(
    p: &Platform,
    actor: &swi_domain::access::Actor,
    person: &str,
    own: bool,
) -> Result<History, ApiError> {
    let mut history = History::default();
    for cover in register_of(p, person).await? {
        match cover {
            Cover::Enrolment { enrolment: e } => {
                if own || actor.may(Action::Read, Some(e.county), e.owner()).is_ok() {
                    history.enrolments.push(e.masked());
                }
            }
            Cover::Project { project, worker } => {
                if own
                    || actor
                        .may(
                            Action::Read,
                            Some(project.county),
                            Owner::Unit(&project.unit),
                        )
                        .is_ok()
                {
                    history.projects.push(ProjectCover {
                        project: project.id,
                        name: project.name,
                        unit: project.unit,
                        start: project.start,
                        end: project.end,
                        covered: project.status == swi_registry::project::ProjectStatus::Covered,
                        worker: worker.masked(),
                    });
                }
            }
        }
    }
    Ok(history)
}

/// `GET /api/units/{code}/reminders`: what the unit must act on (an employee past the legal
/// retirement age, Art. 8).
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/units/{code}/reminders", tag = "persons", params(("code" = String, Path)),
    responses((status = 200, description = "reminders", body = [Reminder]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reminders(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> Result<axum::Json<Vec<Reminder>>, ApiError> {
    let (unit, _) = load_unit(&p, &code).await?;
    actor.may(Action::Read, Some(unit.county), Owner::Unit(&unit.code))?;
    Ok(axum::Json(
        crate::retirement::reminders(&p, &unit.code).await?,
    ))
}

/// A unit's roster on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RosterOnDate {
    /// The unit.
    pub unit: String,
    /// The date.
    pub on: NaiveDate,
    /// Its members covered that day.
    pub covered: Vec<Member>,
}

/// A person's history as the asker may see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct History {
    /// Enrolments, oldest first, ID numbers masked.
    pub enrolments: Vec<Enrolment>,
    /// Registrations as a worker on construction projects.
    pub projects: Vec<ProjectCover>,
}

/// A person's registration on a construction project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectCover {
    /// The project.
    pub project: String,
    /// Its name.
    pub name: String,
    /// The contractor unit.
    pub unit: String,
    /// First day of the project's cover.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Whether the project is paid and not cancelled.
    pub covered: bool,
    /// The registration (ID number masked).
    pub worker: Worker,
}
