//! Reading claims: the claimant follows their own (a citizen the claims about themselves or
//! filed by them, an employer its unit's), clerks work their county's queues — per step, oldest
//! first, with the due date where the city has set the time limit — and anyone who may read a
//! claim downloads its forms and sees its payable lines and schedules.

use axum::extract::{Path, Query, State};
use axum::http::header;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use swi_domain::claim::ClaimStatus;
use swi_domain::{Action, Actor, Owner, Role};
use swi_payables::{PayableLine, Schedule};
use swi_platform::auth::Authenticated;
use swi_platform::{ApiError, Platform};
use swi_rules::benefits::Item;
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Cursor, Index, SkRange};

use crate::claim::{Claim, Party, load_claim, queue_partition};
use crate::work::refresh_materials;

/// Whether `actor` may read `claim`: a citizen who filed it or whom it is about (their
/// verified number); an employer of its unit; a clerk of its county.
///
/// # Errors
/// 403.
pub async fn may_read(p: &Platform, actor: &Actor, claim: &Claim) -> Result<(), ApiError> {
    match actor.role {
        Role::Citizen => {
            actor.may(Action::Read, None, Owner::Nobody)?;
            if claim.claimant.sub == actor.sub {
                return Ok(());
            }
            let own = swi_platform::identity::linked(p, &actor.sub)
                .await?
                .is_some_and(|i| i.person == claim.person);
            if own {
                Ok(())
            } else {
                Err(swi_domain::Denied::NotOwner.into())
            }
        }
        Role::Employer => Ok(actor.may(Action::Read, Some(claim.county), claim.owner())?),
        _ => Ok(actor.may(Action::Read, Some(claim.county), Owner::Nobody)?),
    }
}

/// A PDF answer.
pub fn pdf(bytes: Vec<u8>, filename: String) -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
}

/// `GET /api/claims/{id}`: the claim, its step, the reasons of any return or rejection, the
/// notice and the forms.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/claims/{id}", tag = "claims", params(("id" = String, Path)),
    responses((status = 200, description = "the claim", body = Claim),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Claim>, ApiError> {
    let (mut claim, _) = load_claim(&p, &id).await?;
    may_read(&p, &actor, &claim).await?;
    if !claim.status.is_final() {
        // What is missing now, with the dossier as it stands.
        let (injury, _) = crate::injury::load_injury(&p, &claim.injury).await?;
        refresh_materials(&mut claim, &injury);
    }
    Ok(axum::Json(claim.masked()))
}

/// What an approved claim produced for payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimPayables {
    /// Lump sums due (ID numbers masked).
    pub payable_lines: Vec<PayableLine>,
    /// Periodic benefits.
    pub schedules: Vec<Schedule>,
}

/// `GET /api/claims/{id}/payables`: the payable lines and schedules of an approved claim
/// (the contract the payment step consumes, `swi_payables`).
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/claims/{id}/payables", tag = "claims", params(("id" = String, Path)),
    responses((status = 200, description = "lines and schedules", body = ClaimPayables),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn payables(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<ClaimPayables>, ApiError> {
    let (claim, _) = load_claim(&p, &id).await?;
    may_read(&p, &actor, &claim).await?;
    let (lines, schedules) = match &claim.approval {
        Some(a) => (
            swi_payables::lines(&p, &a.payable_lines).await?,
            swi_payables::schedules(&p, &a.schedules).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(axum::Json(ClaimPayables {
        payable_lines: lines
            .into_iter()
            .map(|mut l| {
                l.payee = l.payee.masked();
                l
            })
            .collect(),
        schedules: schedules
            .into_iter()
            .map(|mut s| {
                s.payee = s.payee.masked();
                s
            })
            .collect(),
    }))
}

/// The printed forms of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// 《补充工伤保险待遇核定表》.
    Assessment,
    /// 《补充工伤保险待遇申领表》.
    Application,
}

/// `GET /api/claims/{id}/forms/{form}`: a form printed on approval (`assessment` or
/// `application`), as stored.
///
/// # Errors
/// 400 unknown form; 403; 404 not approved.
#[utoipa::path(get, path = "/api/claims/{id}/forms/{form}", tag = "claims",
    params(("id" = String, Path), ("form" = FormKind, Path)),
    responses((status = 200, description = "the form", content_type = "application/pdf"),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn form(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((id, form)): Path<(String, String)>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let kind: FormKind = serde_json::from_value(serde_json::json!(form)).map_err(|_| {
        ApiError::invalid(
            "表单类型须为 assessment 或 application",
            "`form` is `assessment` or `application`",
        )
    })?;
    let (claim, _) = load_claim(&p, &id).await?;
    may_read(&p, &actor, &claim).await?;
    let forms = claim.approval.as_ref().map(|a| &a.forms).ok_or_else(|| {
        ApiError::not_found(
            "该申领尚未核定，没有表单",
            "the claim is not approved: no forms yet",
        )
    })?;
    let sha = match kind {
        FormKind::Assessment => &forms.assessment_form,
        FormKind::Application => &forms.application_form,
    };
    let sha = swi_store::Sha256::parse(sha).map_err(|e| ApiError::internal(&e))?;
    let bytes = swi_platform::documents::load_bounded(&p, &sha, 16 << 20).await?;
    Ok(pdf(bytes, format!("{id}-{form}.pdf")))
}

/// A claim in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimSummary {
    /// Id.
    pub id: String,
    /// The injured person's name.
    pub name: String,
    /// Category.
    #[schema(value_type = String)]
    pub category: Category,
    /// Items.
    #[schema(value_type = Vec<String>)]
    pub items: Vec<Item>,
    /// Status.
    pub status: ClaimStatus,
    /// Submitted at.
    pub submitted_at: chrono::NaiveDateTime,
    /// Accepted on.
    pub accepted_on: Option<NaiveDate>,
    /// Review due by (when the city has set the time limit).
    pub due: Option<NaiveDate>,
    /// Days since submission.
    pub age_days: i64,
}

fn summary(c: &Claim, today: NaiveDate) -> ClaimSummary {
    ClaimSummary {
        id: c.id.clone(),
        name: c.name.clone(),
        category: c.category,
        items: c.items.clone(),
        status: c.status,
        submitted_at: c.submitted_at,
        accepted_on: c.accepted_on,
        due: c.due,
        age_days: (today - c.submitted_at.date()).num_days(),
    }
}

/// `?status=…&cursor=…&limit=…`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// The status (step) of the queue: `submitted`, `handling`, `first_review`, `re_review`,
    /// `entry`, `returned`, `approved`, `rejected`.
    pub status: ClaimStatus,
    /// The cursor a previous page answered.
    #[serde(default)]
    pub cursor: Option<String>,
    /// At most this many (1-200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueuePage {
    /// Claims, oldest first.
    pub claims: Vec<ClaimSummary>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

/// `GET /api/counties/{county}/claims?status=…`: a county's queue for one step, oldest first.
///
/// # Errors
/// 400 unknown county, status, cursor or limit; 403 not a clerk of the county.
#[utoipa::path(get, path = "/api/counties/{county}/claims", tag = "claims",
    params(("county" = String, Path), QueueQuery),
    responses((status = 200, description = "a page of the queue, oldest first", body = QueuePage),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn queue(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<axum::Json<QueuePage>, ApiError> {
    let c = County::parse(&county).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))?;
    if !actor.role.is_clerk() {
        return Err(swi_domain::Denied::Role {
            role: actor.role,
            action: Action::Read,
        }
        .into());
    }
    actor.may(Action::Read, Some(c), Owner::Nobody)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid(
            "每页条数须为 1-200",
            "`limit` must be 1-200",
        ));
    }
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &swi_store::Query::partition(queue_partition(c, q.status))
                .range(SkRange::All)
                .limit(limit)
                .after(q.cursor.map(Cursor::from_text)),
        )
        .await?;
    let today = p.clock.today();
    let claims = page
        .items
        .iter()
        .map(|i| i.body::<Claim>().map(|c| summary(&c, today)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(QueuePage {
        claims,
        next: page.next.map(|c| c.as_str().to_owned()),
    }))
}

/// The most claims a party's list shows.
const MINE_LIMIT: u32 = 200;

/// `GET /api/claims`: the caller's own claims, newest first — a citizen's about themselves or
/// filed by them, an employer's for its unit.
///
/// # Errors
/// 403 for clerks (they use the county queues).
#[utoipa::path(get, path = "/api/claims", tag = "claims",
    responses((status = 200, description = "the caller's claims, newest first", body = [ClaimSummary]),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn mine(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<Vec<ClaimSummary>>, ApiError> {
    actor.may(Action::Read, None, Owner::Nobody)?;
    let mut partitions = Vec::new();
    match actor.role {
        Role::Citizen => {
            partitions.push(Party::Submitter(&actor.sub).partition());
            if let Some(i) = swi_platform::identity::linked(&p, &actor.sub).await? {
                partitions.push(Party::Person(&i.person).partition());
            }
        }
        Role::Employer => {
            let unit = actor.unit.as_deref().ok_or(swi_domain::Denied::NotOwner)?;
            partitions.push(Party::Unit(unit).partition());
        }
        role => {
            return Err(swi_domain::Denied::Role {
                role,
                action: Action::Read,
            }
            .into());
        }
    }
    let mut ids = Vec::new();
    for pk in partitions {
        let page = p
            .state
            .query(&swi_store::Query::partition(pk).limit(MINE_LIMIT).backward())
            .await?;
        for item in page.items {
            let v: serde_json::Value = item.body().map_err(|e| ApiError::internal(&e))?;
            if let Some(id) = v["claim"].as_str()
                && !ids.iter().any(|(_, i)| i == id)
            {
                ids.push((item.sk.clone(), id.to_owned()));
            }
        }
    }
    ids.sort_by(|a, b| b.0.cmp(&a.0));
    let today = p.clock.today();
    let mut out = Vec::with_capacity(ids.len());
    for (_, id) in ids.iter().take(MINE_LIMIT as usize) {
        let (claim, _) = load_claim(&p, id).await?;
        out.push(summary(&claim, today));
    }
    Ok(axum::Json(out))
}
