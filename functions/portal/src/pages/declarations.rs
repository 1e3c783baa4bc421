//! Monthly declarations (人员变动增减表, Art. 18) in the pages: the employer uploads a month's
//! file (straight to the store), sees it refused whole with every problem by row and the report
//! to download, or queued for the county; the county's window reviews it; everyone follows it
//! while its rows are applied (the page refreshes itself while the job runs).

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use swi_domain::Role;
use swi_enrollment::declarations::{Declaration, DeclarationView, ReviewStatus};

use super::forms::{Problem, fresh_key, kept, key_or_fresh};
use super::{Chrome, Signed, error_page_for, html, segment};
use crate::Portal;
use crate::session::Session;

/// A declaration in a list.
#[derive(Debug, Clone)]
pub struct DeclarationLine {
    /// Id.
    pub id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Joiners.
    pub joiners: usize,
    /// Leavers.
    pub leavers: usize,
    /// Status, in Chinese.
    pub status: &'static str,
    /// Received on.
    pub received_on: String,
    /// Review due by.
    pub review_by: String,
    /// The unit's code.
    pub unit: String,
}

fn status_name(s: ReviewStatus) -> &'static str {
    match s {
        ReviewStatus::Queued => "待审核",
        ReviewStatus::Applying => "审核通过，正在办理",
        ReviewStatus::Approved => "已办结",
        ReviewStatus::Rejected => "审核不通过",
        ReviewStatus::Lapsed => "单位已注销，未办理部分作废",
    }
}

fn line(d: &Declaration) -> DeclarationLine {
    DeclarationLine {
        id: d.id.clone(),
        month: d.month.format("%Y-%m").to_string(),
        joiners: d.joiners,
        leavers: d.leavers,
        status: status_name(d.status),
        received_on: d.received_on.to_string(),
        review_by: d.review_by.to_string(),
        unit: d.unit.clone(),
    }
}

/// The unit's declarations page.
#[derive(Template)]
#[template(path = "declarations.html")]
pub struct DeclarationsPage {
    chrome: Chrome,
    unit: String,
    rows: Vec<DeclarationLine>,
    month: String,
    csrf: String,
}

/// `GET /unit/declarations`: the employer's declarations, and the form to upload a month's.
pub async fn of_unit(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    let Some(unit) = s.unit.clone().filter(|_| s.role == Role::Employer) else {
        return super::not_found();
    };
    let list: Vec<Declaration> = match portal
        .get(&s, &format!("/api/units/{}/declarations", segment(&unit)))
        .await
        .and_then(|a| a.into())
    {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &DeclarationsPage {
            chrome: Chrome::of(&s),
            month: portal.platform.clock.today().format("%Y-%m").to_string(),
            rows: list.iter().map(line).collect(),
            csrf: s.csrf.clone(),
            unit,
        },
    )
}

/// A declaration refused whole: its problems by row, and the report.
#[derive(Template)]
#[template(path = "declaration_refused.html")]
pub struct RefusedPage {
    chrome: Chrome,
    message: String,
    rows: Vec<(usize, Vec<String>)>,
    report: Option<String>,
}

/// The page of a refusal with rows (the API's 422 `declaration_rejected`).
pub fn refused(s: &Session, body: &Value) -> Response {
    let rows = body["rows"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        usize::try_from(r["row"].as_u64().unwrap_or_default()).unwrap_or_default(),
                        r["errors"]
                            .as_array()
                            .map(|e| {
                                e.iter()
                                    .filter_map(|x| x.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &RefusedPage {
            chrome: Chrome::of(s),
            message: body["error"]["zh"]
                .as_str()
                .unwrap_or("申报文件未受理")
                .to_owned(),
            rows,
            report: body["report_sha256"]
                .as_str()
                .map(|h| format!("/reports/{}", segment(h))),
        },
    )
}

/// A declaration's page.
#[derive(Template)]
#[template(path = "declaration.html")]
pub struct DeclarationPage {
    chrome: Chrome,
    d: DeclarationLine,
    applying: bool,
    progress: Option<(usize, usize, usize)>,
    note: Option<String>,
    reviewed: Option<String>,
    assumes: Option<String>,
    failed: Vec<(usize, Vec<String>)>,
    may_review: bool,
    problem: Problem,
    typed_note: String,
    csrf: String,
    idem: String,
    done: Option<&'static str>,
}

async fn page(
    portal: &Portal,
    s: &Session,
    id: &str,
    status: StatusCode,
    problem: Problem,
    typed_note: String,
    done: Option<&'static str>,
) -> Response {
    let v: DeclarationView = match portal
        .get(s, &format!("/api/declarations/{}", segment(id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(v) => v,
        Err(e) => return error_page_for(Some(s), &e),
    };
    let d = &v.declaration;
    let rows = d.joiners + d.leavers;
    html(
        status,
        &DeclarationPage {
            chrome: Chrome::of(s),
            applying: d.status == ReviewStatus::Applying,
            progress: matches!(
                d.status,
                ReviewStatus::Applying | ReviewStatus::Approved | ReviewStatus::Lapsed
            )
            .then_some((d.cursor.min(rows), rows, d.not_applied)),
            note: d.note.clone(),
            reviewed: d.reviewed_by.as_ref().map(|b| {
                format!(
                    "{b}，{}",
                    d.reviewed_on.map(|o| o.to_string()).unwrap_or_default()
                )
            }),
            assumes: d.review_by_assumes.clone(),
            failed: v.failed.iter().map(|r| (r.row, r.errors.clone())).collect(),
            may_review: matches!(s.role, Role::Acceptor | Role::Handler)
                && d.status == ReviewStatus::Queued,
            d: line(d),
            problem,
            typed_note,
            csrf: s.csrf.clone(),
            idem: fresh_key(),
            done,
        },
    )
}

/// `?done=`.
#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /declarations/{id}`: a declaration, for its unit and its county's window; while its rows
/// are being applied the page refreshes its progress by itself (htmx), and says so.
pub async fn show(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> Response {
    let done = match q.done.as_deref() {
        Some("filed") => Some(
            "申报文件已通过逐行校验，进入县（市、区）经办机构审核队列（第十八条：3 个工作日内审核）。",
        ),
        Some("approve") => Some("已审核通过，正在逐行办理增减。"),
        Some("reject") => Some("已审核不通过，单位可修改后重新申报。"),
        _ => None,
    };
    page(
        &portal,
        &s,
        &id,
        StatusCode::OK,
        Problem::none(),
        String::new(),
        done,
    )
    .await
}

/// The review form.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    csrf: String,
    idem: String,
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /declarations/{id}/review`: the window approves or rejects (with its reason).
pub async fn review(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let note = kept(f.note.trim(), 500);
    let decision = match f.decision.as_str() {
        "approve" => "approve",
        "reject" => "reject",
        _ => return super::not_found(),
    };
    if decision == "reject" && note.is_empty() {
        return page(
            &portal,
            &s,
            &id,
            StatusCode::BAD_REQUEST,
            Problem::at("note", "不予通过须写明理由。"),
            note,
            None,
        )
        .await;
    }
    let idem = key_or_fresh(&f.idem);
    let body = json!({ "decision": decision, "note": (!note.is_empty()).then_some(note.clone()) });
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/declarations/{}/review", segment(&id)),
            Some(&body),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => {
            Redirect::to(&format!("/declarations/{}?done={decision}", segment(&id))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            if matches!(e.status.as_u16(), 400 | 409 | 422) {
                let problem = Problem::of(&e, &["note"]);
                page(&portal, &s, &id, e.status, problem, note, None).await
            } else {
                error_page_for(Some(&s), &e)
            }
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// The county's review queue of declarations, for the window's work page.
pub async fn queue_of(portal: &Portal, s: &Session) -> Vec<DeclarationLine> {
    if !matches!(s.role, Role::Acceptor | Role::Handler) {
        return Vec::new();
    }
    portal
        .get(
            s,
            &format!("/api/counties/{}/declarations", segment(&s.county)),
        )
        .await
        .and_then(|a| a.into::<Vec<Declaration>>())
        .map(|l| l.iter().map(line).collect())
        .unwrap_or_default()
}

/// `GET /reports/{sha256}`: a row report (XLSX), downloaded.
pub async fn report(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(sha): Path<String>,
) -> Response {
    match portal
        .get(&s, &format!("/api/reports/{}", segment(&sha)))
        .await
    {
        Ok(a) if a.ok() => {
            let mut r = (StatusCode::OK, a.bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            );
            let name = format!(
                "attachment; filename=\"report-{}.xlsx\"",
                &sha.chars()
                    .filter(char::is_ascii_hexdigit)
                    .take(12)
                    .collect::<String>()
            );
            if let Ok(v) = HeaderValue::from_str(&name) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Ok(a) => error_page_for(Some(&s), &a.refusal()),
        Err(e) => error_page_for(Some(&s), &e),
    }
}
