//! The window's own forms (受理窗口): verifying a citizen's real name against the ID card in
//! front of them, which links the citizen's account to that ID number (the real-name
//! verification port's window path); recording a work-injury recognition decision from its
//! scan (Art. 25); accepting an enrolment's materials or returning it with a one-time notice
//! (Art. 34), and the county's queue of enrolments waiting for that. Each form names its scan,
//! uploaded first; the API decides everything.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use swi_domain::Role;

use super::forms::{Problem, fresh_key, kept, key_or_fresh};
use super::{Chrome, Signed, error_page_for, html, segment};
use crate::Portal;
use crate::session::Session;

/// `?scan=`: the scan just uploaded for the form.
#[derive(Debug, Deserialize)]
pub struct Scanned {
    #[serde(default)]
    scan: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

fn scan_of(q: Option<&str>) -> String {
    q.filter(|s| swi_store::Sha256::parse(s).is_ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// The page for anyone but the window's clerks (the API refuses them too).
fn window_only(s: &Session) -> Option<Response> {
    (!matches!(s.role, Role::Acceptor | Role::Handler)).then(|| {
        error_page_for(
            Some(s),
            &swi_platform::ApiError::new(
                StatusCode::FORBIDDEN,
                swi_platform::ErrorCode::Forbidden,
                "仅受理窗口可以办理",
                "only the window may do this",
            ),
        )
    })
}

/// The identity verification form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IdentityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    scan: String,
}

/// The identity verification page.
#[derive(Template)]
#[template(path = "window_identity.html")]
pub struct IdentityPage {
    chrome: Chrome,
    f: IdentityForm,
    problem: Problem,
    done: Option<String>,
    csrf: String,
}

fn identity_page(
    s: &Session,
    status: StatusCode,
    mut f: IdentityForm,
    problem: Problem,
    done: Option<String>,
) -> Response {
    f.idem = fresh_key();
    html(
        status,
        &IdentityPage {
            chrome: Chrome::of(s),
            csrf: s.csrf.clone(),
            f,
            problem,
            done,
        },
    )
}

/// `GET /window/identities`: the form (after the ID card's scan is uploaded, it names it).
pub async fn identity_form(Signed(s): Signed, Query(q): Query<Scanned>) -> Response {
    if let Some(r) = window_only(&s) {
        return r;
    }
    let f = IdentityForm {
        scan: scan_of(q.scan.as_deref()),
        ..IdentityForm::default()
    };
    let done = (q.done.as_deref() == Some("verified"))
        .then(|| "已完成实名核验，该账户可以本人名义办理。".to_owned());
    identity_page(&s, StatusCode::OK, f, Problem::none(), done)
}

/// `POST /window/identities`: links the account to the ID number seen at the window.
pub async fn verify_identity(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<IdentityForm>,
) -> Response {
    if let Some(r) = window_only(&s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let f = IdentityForm {
        username: kept(f.username.trim(), 64),
        name: kept(f.name.trim(), 40),
        id_number: kept(f.id_number.trim(), 18),
        scan: scan_of(Some(f.scan.trim())),
        ..f
    };
    for (field, value, message) in [
        ("scan", &f.scan, "请先上传身份证件扫描件。"),
        ("username", &f.username, "请填写办事人的登录用户名。"),
        ("name", &f.name, "请填写证件上的姓名。"),
        ("id_number", &f.id_number, "请填写公民身份号码。"),
    ] {
        if value.is_empty() {
            return identity_page(
                &s,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
                None,
            );
        }
    }
    // An account signed in through the identity provider is named `oidc:<sub>` (what its
    // pages show the citizen to bring); a local one by its user name.
    let sub = if let Some(sub) = f.username.strip_prefix("oidc:") {
        Ok(sub.to_owned())
    } else {
        crate::accounts::load(&portal.platform, &f.username)
            .await
            .map(|found| {
                found
                    .filter(|(a, _)| a.role == Role::Citizen)
                    .map(|(a, _)| a.sub)
            })
            .and_then(|sub| sub.ok_or_else(|| swi_platform::ApiError::not_found("", "")))
    };
    let sub = match sub {
        Ok(sub) => sub,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return identity_page(
                &s,
                StatusCode::BAD_REQUEST,
                f,
                Problem::at("username", "没有这个参保人员账户，请核对用户名。"),
                None,
            );
        }
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let body = json!({
        "sub": sub,
        "name": f.name,
        "id_number": f.id_number,
        "evidence_sha256": f.scan,
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            "/api/identities",
            Some(&body),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => Redirect::to("/window/identities?done=verified").into_response(),
        Ok(a) => {
            let e = a.refusal();
            let mut problem = Problem::of(&e, &["name", "id_number"]);
            if e.en.contains("evidence_sha256")
                || e.code == swi_platform::ErrorCode::DocumentMissing
            {
                problem.field = Some("scan".into());
            }
            let status = e.status;
            identity_page(&s, status, f, problem, None)
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// The injury recording form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InjuryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    decision_number: String,
    #[serde(default)]
    decided_on: String,
    #[serde(default)]
    injured_on: String,
    #[serde(default)]
    body_part: String,
    #[serde(default)]
    track: String,
    #[serde(default)]
    scan: String,
}

/// The injury recording page.
#[derive(Template)]
#[template(path = "window_injury.html")]
pub struct InjuryPage {
    chrome: Chrome,
    f: InjuryForm,
    problem: Problem,
    csrf: String,
}

const INJURY_FIELDS: [&str; 8] = [
    "name",
    "id_number",
    "kind",
    "decision_number",
    "decided_on",
    "injured_on",
    "body_part",
    "track",
];

fn injury_page(s: &Session, status: StatusCode, mut f: InjuryForm, problem: Problem) -> Response {
    f.idem = fresh_key();
    html(
        status,
        &InjuryPage {
            chrome: Chrome::of(s),
            csrf: s.csrf.clone(),
            f,
            problem,
        },
    )
}

/// `GET /window/injuries`: the form to record a recognition decision.
pub async fn injury_form(Signed(s): Signed, Query(q): Query<Scanned>) -> Response {
    if let Some(r) = window_only(&s) {
        return r;
    }
    let f = InjuryForm {
        kind: "accident".into(),
        scan: scan_of(q.scan.as_deref()),
        ..InjuryForm::default()
    };
    injury_page(&s, StatusCode::OK, f, Problem::none())
}

/// `POST /window/injuries`: records the decision (the person must have been covered on the
/// day, Art. 8); the injury's page follows.
pub async fn record_injury(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<InjuryForm>,
) -> Response {
    if let Some(r) = window_only(&s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let f = InjuryForm {
        name: kept(f.name.trim(), 40),
        id_number: kept(f.id_number.trim(), 18),
        kind: kept(&f.kind, 32),
        decision_number: kept(f.decision_number.trim(), 64),
        decided_on: kept(f.decided_on.trim(), 10),
        injured_on: kept(f.injured_on.trim(), 10),
        body_part: kept(f.body_part.trim(), 64),
        track: kept(&f.track, 12),
        scan: scan_of(Some(f.scan.trim())),
        ..f
    };
    for (field, value, message) in [
        ("scan", &f.scan, "请先上传工伤认定书扫描件。"),
        ("name", &f.name, "请填写受伤人员姓名。"),
        ("id_number", &f.id_number, "请填写公民身份号码。"),
        ("decision_number", &f.decision_number, "请填写认定书编号。"),
        ("decided_on", &f.decided_on, "请填写认定日期。"),
        ("injured_on", &f.injured_on, "请填写受伤日期。"),
        ("body_part", &f.body_part, "请填写受伤部位。"),
    ] {
        if value.is_empty() {
            return injury_page(
                &s,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
            );
        }
    }
    let body = json!({
        "name": f.name,
        "id_number": f.id_number,
        "kind": f.kind,
        "decision_number": f.decision_number,
        "decided_on": f.decided_on,
        "injured_on": f.injured_on,
        "body_part": f.body_part,
        "sha256": f.scan,
        "track": (!f.track.is_empty()).then_some(f.track.clone()),
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(&s, Method::POST, "/api/injuries", Some(&body), Some(&idem))
        .await
    {
        Ok(a) if a.ok() => {
            let id = a.body["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/injuries/{}", segment(id))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            let mut problem = Problem::of(&e, &INJURY_FIELDS);
            if e.en.contains("`sha256`") || e.code == swi_platform::ErrorCode::DocumentMissing {
                problem.field = Some("scan".into());
            }
            let status = e.status;
            injury_page(&s, status, f, problem)
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// An enrolment waiting at the window, as the work page lists it.
#[derive(Debug, Clone)]
pub struct WaitingLine {
    /// Id.
    pub id: String,
    /// Name (and masked ID number).
    pub name: String,
    /// Category, in Chinese.
    pub category: String,
    /// The unit, or 个人参保.
    pub holder: String,
    /// Entered on.
    pub entered_on: String,
}

/// The county's enrolments waiting for acceptance, oldest first (for the window's work page).
pub async fn waiting(portal: &Portal, s: &Session) -> Vec<WaitingLine> {
    if s.role != Role::Acceptor {
        return Vec::new();
    }
    let list: Vec<serde_json::Value> = portal
        .get(
            s,
            &format!("/api/counties/{}/enrolments", segment(&s.county)),
        )
        .await
        .and_then(|a| a.into())
        .unwrap_or_default();
    list.iter()
        .map(|e| WaitingLine {
            id: e["id"].as_str().unwrap_or_default().to_owned(),
            name: format!(
                "{}（{}）",
                e["name"].as_str().unwrap_or_default(),
                e["id_number"].as_str().unwrap_or_default()
            ),
            category: serde_json::from_value::<swi_rules::category::Category>(
                e["category"].clone(),
            )
            .map_or_else(|_| "—".to_owned(), |c| c.chinese().to_owned()),
            holder: e["unit"]
                .as_str()
                .map_or_else(|| "个人参保".to_owned(), |u| format!("单位 {u}")),
            entered_on: e["entered_on"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The window's decision on an enrolment's materials.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    csrf: String,
    idem: String,
    problems: String,
    rejected: Vec<String>,
}

/// `POST /enrolments/{id}/accept` and `/return`: the window accepts the materials, or returns
/// the enrolment with a one-time notice of every problem at once (Art. 34); a refusal comes back
/// on the enrolment's page next to the notice's text, what was typed kept.
pub async fn decide(
    State(portal): State<Portal>,
    Signed(s): Signed,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if fields.len() > 64 || fields.iter().any(|(k, v)| k.len() > 32 || v.len() > 4000) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let mut f = Decision::default();
    for (k, v) in fields {
        match k.as_str() {
            "csrf" => f.csrf = v,
            "idem" => f.idem = v,
            "problems" => f.problems = v,
            "rejected" => f.rejected.push(v),
            _ => {}
        }
    }
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let problems: Vec<String> = f
        .problems
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| kept(l, 200))
        .take(20)
        .collect();
    let (path, body) = match action.as_str() {
        "accept" => ("accept", None),
        "return" => (
            "return",
            Some(json!({ "problems": problems, "rejected": f.rejected })),
        ),
        _ => return super::not_found(),
    };
    // One key per decision: accepting and returning are two requests.
    let idem = if (8..=100).contains(&f.idem.len()) {
        format!("{}-{path}", f.idem)
    } else {
        fresh_key()
    };
    let again = |code: StatusCode, problem: Problem| {
        let (portal, s, id) = (&portal, &s, &id);
        let typed = kept(&f.problems, 4000);
        async move {
            super::citizen::enrolment_page(
                portal,
                s,
                id,
                code,
                None,
                super::citizen::Ending {
                    problem,
                    typed_problems: typed,
                    ..super::citizen::Ending::default()
                },
            )
            .await
        }
    };
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/enrolments/{}/{path}", segment(&id)),
            body.as_ref(),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => {
            Redirect::to(&format!("/enrolments/{}?decided={path}", segment(&id))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            if matches!(e.status.as_u16(), 400 | 409 | 422) {
                let mut p = Problem::of(&e, &["problems"]);
                if p.field.is_none() {
                    p.field = Some("problems".into());
                }
                again(e.status, p).await
            } else {
                error_page_for(Some(&s), &e)
            }
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}
