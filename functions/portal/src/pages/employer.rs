//! The employer's construction projects (Art. 11-12, 14, 48): enrolling one as a whole, its
//! premium and status, its certificate (with the verification code an inspector checks), and
//! its workers registered by real name; and enrolling or ending a person of the unit (Art. 6-9).

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use swi_domain::Role;
use swi_registry::project::{Project, ProjectStatus};
use swi_rules::category::Category;

use super::forms::{Problem, fresh_key, kept, key_or_fresh};
use super::{Chrome, Signed, error_page_for, html, segment};
use crate::Portal;
use crate::session::Session;

fn status_name(s: ProjectStatus) -> &'static str {
    match s {
        ProjectStatus::AwaitingPayment => "待缴费",
        ProjectStatus::Covered => "已参保",
        ProjectStatus::Cancelled => "已撤销",
    }
}

/// A project in a list.
#[derive(Debug, Clone)]
pub struct ProjectLine {
    id: String,
    name: String,
    number: String,
    period: String,
    premium: String,
    status: &'static str,
}

fn line(p: &Project) -> ProjectLine {
    ProjectLine {
        id: p.id.clone(),
        name: p.name.clone(),
        number: p.work_injury_project_no.clone(),
        period: format!("{} 至 {}", p.start, p.end),
        premium: p.premium.to_string(),
        status: status_name(p.status),
    }
}

/// The project form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    work_injury_project_no: String,
    #[serde(default)]
    cost: String,
    #[serde(default)]
    cost_kind: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

/// The unit's projects page.
#[derive(Template)]
#[template(path = "projects.html")]
pub struct ProjectsPage {
    chrome: Chrome,
    rows: Vec<ProjectLine>,
    f: ProjectForm,
    problem: Problem,
    csrf: String,
}

const PROJECT_FIELDS: [&str; 6] = [
    "name",
    "work_injury_project_no",
    "cost",
    "cost_kind",
    "start",
    "end",
];

fn own_unit(s: &Session) -> Option<String> {
    s.unit.clone().filter(|_| s.role == Role::Employer)
}

async fn projects_page(
    portal: &Portal,
    s: &Session,
    status: StatusCode,
    mut f: ProjectForm,
    problem: Problem,
) -> Response {
    let Some(unit) = own_unit(s) else {
        return super::not_found();
    };
    let list: Vec<Project> = match portal
        .get(s, &format!("/api/units/{}/projects", segment(&unit)))
        .await
        .and_then(|a| a.into())
    {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(s), &e),
    };
    f.idem = fresh_key();
    if f.cost_kind.is_empty() {
        f.cost_kind = "total".into();
    }
    html(
        status,
        &ProjectsPage {
            chrome: Chrome::of(s),
            rows: list.iter().map(line).collect(),
            csrf: s.csrf.clone(),
            f,
            problem,
        },
    )
}

/// `GET /unit/projects`: the unit's projects and the form to enrol one.
pub async fn of_unit(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    projects_page(
        &portal,
        &s,
        StatusCode::OK,
        ProjectForm::default(),
        Problem::none(),
    )
    .await
}

/// `POST /unit/projects`: enrols a project as a whole (Art. 11); it then waits for its premium.
pub async fn enrol(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<ProjectForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let Some(unit) = own_unit(&s) else {
        return super::not_found();
    };
    let f = ProjectForm {
        name: kept(f.name.trim(), 80),
        work_injury_project_no: kept(f.work_injury_project_no.trim(), 64),
        cost: kept(f.cost.trim(), 20),
        cost_kind: kept(&f.cost_kind, 16),
        start: kept(f.start.trim(), 10),
        end: kept(f.end.trim(), 10),
        ..f
    };
    for (field, value, message) in [
        ("name", &f.name, "请填写项目名称。"),
        (
            "work_injury_project_no",
            &f.work_injury_project_no,
            "请填写工伤保险参保编号。",
        ),
        ("cost", &f.cost, "请填写工程造价。"),
        ("start", &f.start, "请填写开始日期。"),
        ("end", &f.end, "请填写结束日期。"),
    ] {
        if value.is_empty() {
            return projects_page(
                &portal,
                &s,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
            )
            .await;
        }
    }
    let body = json!({
        "name": f.name, "work_injury_project_no": f.work_injury_project_no, "cost": f.cost,
        "cost_kind": f.cost_kind, "start": f.start, "end": f.end,
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/units/{}/projects", segment(&unit)),
            Some(&body),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => {
            let id = a.body["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/projects/{}", segment(id))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            let problem = Problem::of(&e, &PROJECT_FIELDS);
            projects_page(&portal, &s, e.status, f, problem).await
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// A worker as listed.
#[derive(Debug, Clone)]
pub struct WorkerLine {
    name: String,
    id_number: String,
    wage: String,
}

/// The worker form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    declared_wage: String,
}

/// A project's page.
#[derive(Template)]
#[template(path = "project.html")]
pub struct ProjectPage {
    chrome: Chrome,
    p: ProjectLine,
    cost: String,
    certificate: bool,
    workers: Vec<WorkerLine>,
    may_register: bool,
    f: WorkerForm,
    problem: Problem,
    csrf: String,
}

async fn project_page(
    portal: &Portal,
    s: &Session,
    id: &str,
    status: StatusCode,
    mut f: WorkerForm,
    problem: Problem,
) -> Response {
    let project: Project = match portal
        .get(s, &format!("/api/projects/{}", segment(id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(p) => p,
        Err(e) => return error_page_for(Some(s), &e),
    };
    // The first page of its workers (registration order).
    let workers: Vec<Value> = match portal
        .get(s, &format!("/api/projects/{}/workers", segment(id)))
        .await
    {
        Ok(a) if a.ok() => a.body["workers"].as_array().cloned().unwrap_or_default(),
        Ok(a) => return error_page_for(Some(s), &a.refusal()),
        Err(e) => return error_page_for(Some(s), &e),
    };
    f.idem = fresh_key();
    html(
        status,
        &ProjectPage {
            chrome: Chrome::of(s),
            cost: format!("{} {} 元", project.cost_kind.chinese(), project.cost),
            certificate: project.certificate_sha256.is_some(),
            workers: workers
                .iter()
                .map(|w| WorkerLine {
                    name: w["name"].as_str().unwrap_or_default().to_owned(),
                    id_number: w["id_number"].as_str().unwrap_or_default().to_owned(),
                    wage: w["declared_wage"]
                        .as_str()
                        .map_or_else(|| w["declared_wage"].to_string(), str::to_owned),
                })
                .collect(),
            may_register: s.role == Role::Employer && project.status != ProjectStatus::Cancelled,
            p: line(&project),
            csrf: s.csrf.clone(),
            f,
            problem,
        },
    )
}

/// `GET /projects/{id}`: a project, its certificate and its workers.
pub async fn show(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
) -> Response {
    project_page(
        &portal,
        &s,
        &id,
        StatusCode::OK,
        WorkerForm::default(),
        Problem::none(),
    )
    .await
}

/// `POST /projects/{id}/workers`: registers a worker by real name (Art. 48).
pub async fn register_worker(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(f): Form<WorkerForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let f = WorkerForm {
        name: kept(f.name.trim(), 40),
        id_number: kept(f.id_number.trim(), 18),
        declared_wage: kept(f.declared_wage.trim(), 20),
        ..f
    };
    for (field, value, message) in [
        ("name", &f.name, "请填写姓名。"),
        ("id_number", &f.id_number, "请填写公民身份号码。"),
        ("declared_wage", &f.declared_wage, "请填写申报月工资。"),
    ] {
        if value.is_empty() {
            return project_page(
                &portal,
                &s,
                &id,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
            )
            .await;
        }
    }
    let body =
        json!({ "name": f.name, "id_number": f.id_number, "declared_wage": f.declared_wage });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/projects/{}/workers", segment(&id)),
            Some(&body),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => Redirect::to(&format!("/projects/{}", segment(&id))).into_response(),
        Ok(a) => {
            let e = a.refusal();
            let problem = Problem::of(&e, &["name", "id_number", "declared_wage"]);
            project_page(&portal, &s, &id, e.status, f, problem).await
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// `GET /projects/{id}/certificate.pdf`: the project's certificate (参保证明, Art. 12).
pub async fn certificate(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
) -> Response {
    super::claims::file_answer(
        &portal,
        &s,
        &format!("/api/projects/{}/certificate", segment(&id)),
    )
    .await
}

/// The unit's person form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    declared_wage: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    track: String,
    #[serde(default)]
    agreement_end: String,
}

/// A category a unit enrols.
#[derive(Debug, Clone)]
pub struct CategoryChoice {
    value: String,
    label: &'static str,
    chosen: bool,
}

/// The unit's person form page.
#[derive(Template)]
#[template(path = "unit_person.html")]
pub struct PersonPage {
    chrome: Chrome,
    f: PersonForm,
    categories: Vec<CategoryChoice>,
    problem: Problem,
    csrf: String,
}

const PERSON_FIELDS: [&str; 8] = [
    "name",
    "id_number",
    "phone",
    "category",
    "declared_wage",
    "start",
    "track",
    "agreement_end",
];

fn person_page(s: &Session, status: StatusCode, mut f: PersonForm, problem: Problem) -> Response {
    f.idem = fresh_key();
    if f.category.is_empty() {
        f.category = "employee".into();
    }
    let categories = Category::ALL
        .iter()
        .filter(|c| !c.is_platform() && **c != Category::Flexible)
        .map(|c| {
            let value = serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            CategoryChoice {
                chosen: value == f.category,
                value,
                label: c.chinese(),
            }
        })
        .collect();
    html(
        status,
        &PersonPage {
            chrome: Chrome::of(s),
            categories,
            csrf: s.csrf.clone(),
            f,
            problem,
        },
    )
}

/// `GET /unit/persons`: the form to enrol a person of the unit.
pub async fn person_form(Signed(s): Signed) -> Response {
    if own_unit(&s).is_none() {
        return super::not_found();
    }
    person_page(&s, StatusCode::OK, PersonForm::default(), Problem::none())
}

/// `POST /unit/persons`: enrols the person (Art. 6-7); their page follows.
pub async fn enrol_person(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<PersonForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let Some(unit) = own_unit(&s) else {
        return super::not_found();
    };
    let f = PersonForm {
        name: kept(f.name.trim(), 40),
        id_number: kept(f.id_number.trim(), 18),
        phone: kept(f.phone.trim(), 20),
        category: kept(&f.category, 40),
        declared_wage: kept(f.declared_wage.trim(), 20),
        start: kept(f.start.trim(), 10),
        track: kept(&f.track, 12),
        agreement_end: kept(f.agreement_end.trim(), 10),
        ..f
    };
    for (field, value, message) in [
        ("name", &f.name, "请填写姓名。"),
        ("id_number", &f.id_number, "请填写公民身份号码。"),
        ("phone", &f.phone, "请填写手机号码。"),
        ("declared_wage", &f.declared_wage, "请填写申报月工资。"),
        ("start", &f.start, "请填写参保开始日期。"),
    ] {
        if value.is_empty() {
            return person_page(
                &s,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
            );
        }
    }
    let body = json!({
        "name": f.name, "id_type": "resident_id", "id_number": f.id_number, "phone": f.phone,
        "category": f.category, "declared_wage": f.declared_wage, "start": f.start,
        "track": (!f.track.is_empty()).then_some(f.track.clone()),
        "agreement_end": (!f.agreement_end.is_empty()).then_some(f.agreement_end.clone()),
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/units/{}/persons", segment(&unit)),
            Some(&body),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => {
            let id = a.body["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/enrolments/{}?created=1", segment(id))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            let problem = Problem::of(&e, &PERSON_FIELDS);
            person_page(&s, e.status, f, problem)
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// The form ending a person's cover.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    reason: String,
}

/// `POST /enrolments/{id}/terminate`: the unit ends a person's cover on a day, with why (Art. 9);
/// a refusal comes back on the enrolment's page, next to the field.
pub async fn terminate(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(f): Form<EndForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let end = kept(f.end.trim(), 10);
    let reason = kept(f.reason.trim(), 60);
    let again = |code: StatusCode, problem: Problem| {
        let (end, reason) = (end.clone(), reason.clone());
        let (portal, s, id) = (&portal, &s, &id);
        async move {
            super::citizen::enrolment_page(
                portal,
                s,
                id,
                code,
                None,
                super::citizen::Ending {
                    problem,
                    end,
                    reason,
                    typed_problems: String::new(),
                },
            )
            .await
        }
    };
    if end.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            Problem::at("end", "请填写最后保障日期。"),
        )
        .await;
    }
    if reason.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            Problem::at("reason", "请填写终止原因。"),
        )
        .await;
    }
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/enrolments/{}/terminate", segment(&id)),
            Some(&json!({ "end": end, "reason": reason })),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => {
            Redirect::to(&format!("/enrolments/{}?ended=1", segment(&id))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            if matches!(e.status.as_u16(), 400 | 409 | 422) {
                let mut p = Problem::of(&e, &["end", "reason"]);
                if p.field.is_none() {
                    p.field = Some("end".into());
                }
                again(e.status, p).await
            } else {
                error_page_for(Some(&s), &e)
            }
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}
