//! The claim pages: the claimant's list (`GET /api/claims`), and one claim's page for everyone
//! who may read it (`GET /api/claims/{id}`, the API decides who may) — its step and due date,
//! the checklist with every filed scan viewable in the page, the one-time notice, the history of
//! steps, each item's amount explained in a sentence with every figure the city has not yet
//! confirmed marked, the forms once approved — and the decision forms of the step the signed-in
//! clerk may take. Separation of duties is shown before a clerk tries (the form is absent, with
//! the reason); the API still refuses a forced post.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use swi_claim_review::claim::{AssessedItem, Claim, ClaimantKind};
use swi_claim_review::injury::Injury;
use swi_claim_review::read::ClaimSummary;
use swi_domain::Role;
use swi_domain::claim::ClaimStatus;
use swi_domain::duties::{Step, may_perform};

use crate::Portal;
use crate::pages::Signed;
use crate::pages::first_review::FirstReview;
use crate::pages::{Chrome, error_page_for, html, words};
use crate::session::{Session, random_token};

/// One claim in the claimant's list.
#[derive(Debug, Clone)]
pub struct MineRow {
    id: String,
    name: String,
    items: String,
    status: &'static str,
    submitted: String,
}

/// The claimant's list.
#[derive(Template)]
#[template(path = "claims_mine.html")]
pub struct MinePage {
    chrome: Chrome,
    rows: Vec<MineRow>,
}

fn items_text(items: &[swi_rules::benefits::Item]) -> String {
    items
        .iter()
        .map(|i| i.chinese())
        .collect::<Vec<_>>()
        .join("、")
}

/// `GET /claims`: the signed-in citizen's or unit's claims, newest first.
pub async fn mine(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    let list: Vec<ClaimSummary> = match portal.get(&s, "/api/claims").await.and_then(|a| a.into()) {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &MinePage {
            chrome: Chrome::of(&s),
            rows: list
                .iter()
                .map(|c| MineRow {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    items: items_text(&c.items),
                    status: words::status(c.status),
                    submitted: c.submitted_at.format("%Y-%m-%d").to_string(),
                })
                .collect(),
        },
    )
}

/// A material of the checklist.
#[derive(Debug, Clone)]
pub struct MaterialRow {
    name: &'static str,
    /// Where its scan is shown, when filed.
    href: Option<String>,
    /// What its upload button names, while the claimant may still add it.
    upload: Option<String>,
}

/// An item as assessed, for reading.
#[derive(Debug, Clone)]
pub struct ItemRow {
    name: &'static str,
    amount: String,
    sentence: String,
    refusal: Option<String>,
    pending: Option<String>,
    unconfirmed: Vec<String>,
}

/// A step of the history.
#[derive(Debug, Clone)]
pub struct EventRow {
    at: String,
    what: String,
    by: String,
    note: Option<String>,
}

/// What the signed-in person may do on this page.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    accept: bool,
    give_back: bool,
    eligibility: bool,
    re_review: bool,
    approve: bool,
    send_back: bool,
    reject: bool,
    resubmit: bool,
    first_review: bool,
}

impl Actions {
    fn any(&self) -> bool {
        self.accept
            || self.give_back
            || self.eligibility
            || self.re_review
            || self.approve
            || self.send_back
            || self.reject
            || self.resubmit
            || self.first_review
    }
}

/// What a refused form keeps: the message, the field it concerns, and what was typed.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    action: String,
    message: Option<String>,
    field: Option<&'static str>,
    text: String,
    article: String,
}

/// The claim page.
#[derive(Template)]
#[template(path = "claim.html")]
pub struct ClaimPage {
    chrome: Chrome,
    c: ClaimFacts,
    checklist: Vec<MaterialRow>,
    has_scans: bool,
    items: Vec<ItemRow>,
    lump_sum_total: Option<String>,
    monthly_total: Option<String>,
    events: Vec<EventRow>,
    actions: Actions,
    duties_note: Option<String>,
    csrf: String,
    idem: String,
    typed: Typed,
    done: Option<&'static str>,
    fr: FirstReview,
}

/// The claim's facts as shown.
#[derive(Debug, Clone)]
pub struct ClaimFacts {
    id: String,
    status: &'static str,
    name: String,
    id_number: String,
    category: &'static str,
    unit: Option<String>,
    claimant: String,
    items: String,
    submitted: String,
    due: Option<String>,
    notice: Option<(Vec<&'static str>, Vec<String>, String)>,
    rejection: Option<String>,
    approved: bool,
}

fn step_of(status: ClaimStatus) -> Option<Step> {
    match status {
        ClaimStatus::Submitted => Some(Step::Acceptance),
        ClaimStatus::Handling => Some(Step::Handling),
        ClaimStatus::FirstReview | ClaimStatus::Entry => Some(Step::FirstReview),
        ClaimStatus::ReReview => Some(Step::ReReview),
        _ => None,
    }
}

fn step_name(s: Step) -> &'static str {
    match s {
        Step::Acceptance => "受理",
        Step::Handling => "承办",
        Step::FirstReview => "初审",
        Step::ReReview => "复核",
    }
}

/// Whose step it is and whether the signed-in clerk may take it (Art. 5, 34).
fn actions(s: &Session, c: &Claim) -> (Actions, Option<String>) {
    let mut a = Actions::default();
    if matches!(s.role, Role::Citizen | Role::Employer) {
        a.resubmit = c.status == ClaimStatus::Returned && c.claimant.sub == s.sub;
        return (a, None);
    }
    let Some(step) = step_of(c.status) else {
        return (a, None);
    };
    if step.role() != s.role {
        return (a, None);
    }
    if let Err(denied) = may_perform(&c.steps, &s.sub, step) {
        let done = c
            .steps
            .iter()
            .find(|p| p.sub == s.sub && p.step != step)
            .map_or("其他", |p| step_name(p.step));
        tracing::debug!(%denied, "duties shown");
        return (
            a,
            Some(format!(
                "您已办理本案的{done}环节，不能再办理其{}环节（第五条：一人不能同时操作同一项业务的受理、初审、复核）。",
                step_name(step)
            )),
        );
    }
    if c.status == ClaimStatus::Submitted {
        a.accept = c.missing.is_empty();
        a.give_back = true;
    } else {
        // Every later step may send back one step or reject (Art. 34).
        a.send_back = true;
        a.reject = true;
        a.eligibility = c.status == ClaimStatus::Handling;
        a.first_review = c.status == ClaimStatus::FirstReview;
        a.re_review = c.status == ClaimStatus::ReReview;
        a.approve = c.status == ClaimStatus::Entry;
    }
    (a, None)
}

/// An amount as people read it: thousands separated, two decimals (`1,200.00`).
fn yuan(v: rust_decimal::Decimal) -> String {
    let text = format!("{:.2}", v.round_dp(2));
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{frac}")
}

/// The article part of a citation (`赣市人社字〔2025〕7号 第二十六条` → `第二十六条`).
fn article(basis: &str) -> &str {
    basis.rsplit_once(' ').map_or(basis, |(_, a)| a)
}

/// One plain sentence for an item's amount, from what the assessment recorded: for day-based
/// items the days times the daily amount they imply (e.g. 住院 12 天 × 每天 100.00 元 =
/// 1,200.00 元), the cap per injury where it cut the amount, and the articles applied.
fn sentence(i: &AssessedItem) -> String {
    let basis = i
        .basis
        .iter()
        .map(|b| article(b))
        .collect::<Vec<_>>()
        .join("、");
    let Some(amount) = i.amount else {
        return format!("尚未核定，依据{basis}");
    };
    let per = if i.monthly { "每月 " } else { "" };
    let gross = i.before_cap.unwrap_or(amount);
    // Day-based items: the days times the daily amount they imply, when the amount is exactly
    // that (the nursing subsidy and hospital food are a daily standard times days; travel and
    // lodging is the fees within a daily cap, so only its days are said).
    let days = i.days.filter(|d| *d > 0).map(|d| {
        let days = rust_decimal::Decimal::from(d);
        let rate = (gross / days).round_dp(2);
        let daily = matches!(
            i.item,
            swi_rules::benefits::Item::NursingSubsidy | swi_rules::benefits::Item::HospitalFood
        ) && rate * days == gross;
        if daily {
            format!("住院 {d} 天 × 每天 {} 元 = {} 元", yuan(rate), yuan(gross))
        } else {
            format!("按 {d} 天计 {} 元", yuan(gross))
        }
    });
    match (days, i.before_cap) {
        (Some(d), Some(_)) => format!(
            "{d}，超过本次工伤剩余限额，核定 {} 元，依据{basis}",
            yuan(amount)
        ),
        (Some(d), None) => format!("{d}，依据{basis}"),
        (None, Some(b)) => format!(
            "按实计 {} 元，超过本次工伤剩余限额，核定{per}{} 元，依据{basis}",
            yuan(b),
            yuan(amount)
        ),
        (None, None) => format!("核定{per}{} 元，依据{basis}", yuan(amount)),
    }
}

fn item_rows(c: &Claim) -> Vec<ItemRow> {
    let Some(a) = &c.assessment else {
        return Vec::new();
    };
    a.items
        .iter()
        .map(|i| ItemRow {
            name: i.item.chinese(),
            amount: i.amount.map_or_else(
                || "—".into(),
                |v| format!("{v} 元{}", if i.monthly { "/月" } else { "" }),
            ),
            sentence: sentence(i),
            refusal: i
                .refusal
                .as_ref()
                .map(|r| format!("{}（{}）", r.message, r.basis)),
            pending: i
                .pending
                .as_ref()
                .map(|p| format!("所需参数 {} 尚未由市里设定，暂不能核定", p.parameter)),
            unconfirmed: i
                .assumptions
                .iter()
                .map(|u| {
                    let status = match u.status.as_str() {
                        "city_value" => "市里设定",
                        "assumed" => "暂定，待确认",
                        "secondary" => "二手来源，待核实",
                        "pending" => "待设定",
                        other => other,
                    };
                    format!("{}（{status}；{}）", u.parameter, u.source)
                })
                .collect(),
        })
        .collect()
}

fn event_name(what: &str) -> String {
    match what {
        "submitted" => "提交申领",
        "resubmitted" => "补正后重新提交",
        "accepted" => "受理",
        "returned" => "一次性告知退回补正",
        "eligibility_confirmed" => "承办：确认待遇资格",
        "first_reviewed" => "初审",
        "re_reviewed" => "复核",
        "sent_back" => "退回上一环节",
        "rejected" => "不予核定",
        "approved" => "录入并核定",
        other => other,
    }
    .to_owned()
}

fn facts(c: &Claim) -> ClaimFacts {
    ClaimFacts {
        id: c.id.clone(),
        status: words::status(c.status),
        name: c.name.clone(),
        id_number: c.id_number.clone(),
        category: c.category.chinese(),
        unit: c.unit.clone(),
        claimant: format!(
            "{}（{}）",
            match c.claimant.kind {
                ClaimantKind::Unit => "参保单位",
                ClaimantKind::Person => "本人",
                ClaimantKind::Relative => "近亲属",
            },
            c.claimant.name
        ),
        items: items_text(&c.items),
        submitted: c.submitted_at.format("%Y-%m-%d %H:%M").to_string(),
        due: c.due.map(|d| d.to_string()),
        // The notice stands while the claim waits for what it asks; afterwards it is history.
        notice: c
            .notice
            .as_ref()
            .filter(|_| c.status == ClaimStatus::Returned)
            .map(|n| {
                (
                    n.missing.iter().map(|m| m.chinese()).collect(),
                    n.problems.clone(),
                    n.issued_on.to_string(),
                )
            }),
        rejection: c.rejection.as_ref().map(|r| {
            format!(
                "{}（依据第{}条，{}）",
                r.reason,
                swi_rules::citation::chinese_numeral(u32::from(r.article)),
                r.on
            )
        }),
        approved: c.approval.is_some(),
    }
}

async fn render(
    portal: &Portal,
    s: &Session,
    id: &str,
    status: StatusCode,
    typed: Typed,
    done: Option<&'static str>,
) -> Response {
    render_with(portal, s, id, status, typed, done, None).await
}

async fn render_with(
    portal: &Portal,
    s: &Session,
    id: &str,
    status: StatusCode,
    typed: Typed,
    done: Option<&'static str>,
    fr: Option<FirstReview>,
) -> Response {
    let claim: Claim = match portal
        .get(s, &format!("/api/claims/{}", crate::pages::segment(id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(c) => c,
        Err(e) => return error_page_for(Some(s), &e),
    };
    let injury: Option<Injury> = portal
        .get(
            s,
            &format!("/api/injuries/{}", crate::pages::segment(&claim.injury)),
        )
        .await
        .ok()
        .and_then(|a| a.into().ok());
    // The claimant adds materials while the claim waits at the window or was returned.
    let may_add = matches!(s.role, Role::Citizen | Role::Employer)
        && matches!(claim.status, ClaimStatus::Submitted | ClaimStatus::Returned);
    let checklist: Vec<MaterialRow> = claim
        .checklist
        .iter()
        .map(|m| MaterialRow {
            name: m.chinese(),
            href: injury
                .as_ref()
                .filter(|i| i.materials.contains_key(m))
                .map(|i| format!("/scans/{}/{}", i.id, m.as_str())),
            upload: may_add.then(|| format!("injury/{}/{}/{}", claim.injury, m.as_str(), claim.id)),
        })
        .collect();
    let (actions, duties_note) = actions(s, &claim);
    let idem = match random_token() {
        Ok(t) => t,
        Err(e) => return error_page_for(Some(s), &e),
    };
    html(
        status,
        &ClaimPage {
            chrome: Chrome::of(s),
            c: facts(&claim),
            has_scans: checklist.iter().any(|m: &MaterialRow| m.href.is_some()),
            checklist,
            items: item_rows(&claim),
            lump_sum_total: claim
                .assessment
                .as_ref()
                .map(|a| a.lump_sum_total.to_string()),
            monthly_total: claim
                .assessment
                .as_ref()
                .filter(|a| !a.monthly_total.is_zero())
                .map(|a| a.monthly_total.to_string()),
            events: claim
                .events
                .iter()
                .map(|e| EventRow {
                    at: e.at.format("%Y-%m-%d %H:%M").to_string(),
                    what: event_name(&e.what),
                    by: e.by.clone(),
                    note: e.note.clone(),
                })
                .collect(),
            actions,
            duties_note,
            csrf: s.csrf.clone(),
            idem,
            typed,
            done,
            fr: fr.unwrap_or_else(|| FirstReview::new(&claim.items, &BTreeMap::new())),
        },
    )
}

/// Posts a decision to the API: `Ok` with the redirect to the claim page when it is done,
/// `Err` with the API's refusal otherwise (or why it could not be asked).
async fn decide(
    portal: &Portal,
    s: &Session,
    id: &str,
    path: &str,
    body: Option<&Value>,
    idem: &str,
) -> Result<Response, swi_platform::ApiError> {
    let answer = portal
        .call(
            s,
            Method::POST,
            &format!("/api/claims/{}/{path}", crate::pages::segment(id)),
            body,
            Some(idem),
        )
        .await?;
    if answer.ok() {
        return Ok(Redirect::to(&format!(
            "/claims/{}?done={path}",
            crate::pages::segment(id)
        ))
        .into_response());
    }
    Err(answer.refusal())
}

/// `?done=`: what was just done (a post answered with a redirect).
#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

fn done_text(d: &str) -> Option<&'static str> {
    Some(match d {
        "accept" => "已受理。",
        "return" => "已退回并出具一次性告知书。",
        "eligibility" => "已确认待遇资格，转初审。",
        "re-review" => "已复核，转录入。",
        "approve" => "已核定，核定表和申领表已生成。",
        "send-back" => "已退回上一环节。",
        "reject" => "已作出不予核定决定。",
        "resubmit" => "已重新提交，等待受理。",
        "first-review" => "已提交初审，转复核。",
        "submitted" => "申领已提交，等待窗口受理。缺少的材料列在下方，可直接上传。",
        "uploaded" => "材料已上传。",
        _ => return None,
    })
}

/// `GET /claims/{id}`.
pub async fn page(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let done = d.done.as_deref().and_then(done_text);
    render(&portal, &s, &id, StatusCode::OK, Typed::default(), done).await
}

/// A decision form (fields by action; unknown fields ignored).
#[derive(Debug, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    /// Problems, one per line (return); opinion (eligibility, re-review); reason (send back,
    /// reject).
    #[serde(default)]
    text: String,
    /// The article of a rejection.
    #[serde(default)]
    article: String,
    /// Handling's three confirmations.
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    contributions: Option<String>,
    #[serde(default)]
    recognition: Option<String>,
}

/// `POST /claims/{id}/act/{action}`: one decision, through the API; a refusal shows the page
/// again with the message by the form and what was typed kept.
pub async fn act(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let text: String = f.text.chars().take(2000).collect();
    let keep = |message: String, field: Option<&'static str>| Typed {
        action: action.clone(),
        message: Some(message),
        field,
        text: text.clone(),
        article: f.article.chars().take(8).collect(),
    };
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let (path, body): (&str, Option<Value>) = match action.as_str() {
        "accept" => ("accept", None),
        "resubmit" => ("resubmit", None),
        "approve" => ("approve", None),
        "return" => ("return", Some(json!({ "problems": lines }))),
        "eligibility" => (
            "eligibility",
            Some(json!({
                "identity_confirmed": f.identity.is_some(),
                "contributions_confirmed": f.contributions.is_some(),
                "recognition_consistent": f.recognition.is_some(),
                "note": (!text.trim().is_empty()).then(|| text.trim().to_owned()),
            })),
        ),
        "re-review" | "send-back" | "reject" => {
            let article = f
                .article
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|a| (1..=51).contains(a));
            let wrong = match (action.as_str(), text.trim().is_empty(), article) {
                ("re-review", true, _) => Some(("请填写复核意见。", "text")),
                ("send-back", true, _) => Some(("请填写退回的理由。", "text")),
                ("reject", true, _) => Some(("请填写不予核定的理由。", "text")),
                ("reject", false, None) => Some(("请填写所依据的条款（第 1-51 条）。", "article")),
                _ => None,
            };
            if let Some((message, field)) = wrong {
                return render(
                    &portal,
                    &s,
                    &id,
                    StatusCode::BAD_REQUEST,
                    keep(message.into(), Some(field)),
                    None,
                )
                .await;
            }
            match action.as_str() {
                "re-review" => (
                    "re-review",
                    Some(json!({ "deductions": [], "opinion": text.trim() })),
                ),
                "send-back" => ("send-back", Some(json!({ "reason": text.trim() }))),
                _ => (
                    "reject",
                    Some(json!({ "reason": text.trim(), "article": article })),
                ),
            }
        }
        _ => return crate::pages::not_found(),
    };
    if f.idem.len() < 8 || f.idem.len() > 128 {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let e = match decide(&portal, &s, &id, path, body.as_ref(), &f.idem).await {
        Ok(done) => return done,
        Err(e) => e,
    };
    if matches!(e.status.as_u16(), 400 | 409 | 422) {
        render(
            &portal,
            &s,
            &id,
            e.status,
            keep(e.zh.clone(), Some("text")),
            None,
        )
        .await
    } else {
        error_page_for(Some(&s), &e)
    }
}

/// Passes a file answer of the API on, or its refusal as a page.
pub async fn file_answer(portal: &Portal, s: &Session, path: &str) -> Response {
    match portal.get(s, path).await {
        Ok(a) if a.ok() => {
            let kind = a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            let mut r = (StatusCode::OK, a.bytes).into_response();
            if let Ok(v) = header::HeaderValue::from_str(&kind) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                header::HeaderValue::from_static("inline"),
            );
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(crate::headers::FILE_CSP),
            );
            r
        }
        Ok(a) => error_page_for(Some(s), &a.refusal()),
        Err(e) => error_page_for(Some(s), &e),
    }
}

/// `GET /claims/{id}/notice.pdf`: the one-time notice.
pub async fn notice(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
) -> Response {
    file_answer(
        &portal,
        &s,
        &format!("/api/claims/{}/notice", crate::pages::segment(&id)),
    )
    .await
}

/// `GET /claims/{id}/forms/{form}`: an approved claim's form (`assessment` or `application`).
pub async fn form(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, form)): Path<(String, String)>,
) -> Response {
    if !matches!(form.as_str(), "assessment" | "application") {
        return crate::pages::not_found();
    }
    file_answer(
        &portal,
        &s,
        &format!("/api/claims/{}/forms/{form}", crate::pages::segment(&id)),
    )
    .await
}

/// The most fields a first-review form has (its rows and scalars), and the longest value.
const MAX_FIELDS: usize = 200;
const MAX_VALUE: usize = 2000;

/// `POST /claims/{id}/first-review`: the first review's form, checked for shape here (each
/// wrong field marked, everything typed kept) and decided by the API.
pub async fn first_review(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if fields.len() > MAX_FIELDS
        || fields
            .iter()
            .any(|(k, v)| k.len() > 64 || v.len() > MAX_VALUE * 4)
    {
        return error_page_for(
            Some(&s),
            &swi_platform::ApiError::invalid(
                "表单内容过多",
                "the form has too many or too long fields",
            ),
        );
    }
    let typed: BTreeMap<String, String> = fields.into_iter().collect();
    if !s.csrf_ok(typed.get("csrf").map_or("", String::as_str)) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let idem = typed.get("idem").cloned().unwrap_or_default();
    if idem.len() < 8 || idem.len() > 128 {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let claim: Claim = match portal
        .get(&s, &format!("/api/claims/{}", crate::pages::segment(&id)))
        .await
        .and_then(|a| a.into())
    {
        Ok(c) => c,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let form = FirstReview::new(&claim.items, &typed);
    let body = match form.request() {
        Ok(b) => b,
        Err(form) => {
            let (field, message) = form.first_error().unwrap_or_default();
            let typed = Typed {
                action: "first-review".into(),
                message: Some(message),
                field: None,
                text: field,
                article: String::new(),
            };
            return render_with(
                &portal,
                &s,
                &id,
                StatusCode::BAD_REQUEST,
                typed,
                None,
                Some(*form),
            )
            .await;
        }
    };
    let e = match decide(&portal, &s, &id, "first-review", Some(&body), &idem).await {
        Ok(done) => return done,
        Err(e) => e,
    };
    if matches!(e.status.as_u16(), 400 | 409 | 422) {
        let typed_again = Typed {
            action: "first-review".into(),
            message: Some(e.zh.clone()),
            field: None,
            text: "opinion".into(),
            article: String::new(),
        };
        let fr = FirstReview::new(&claim.items, &typed);
        render_with(&portal, &s, &id, e.status, typed_again, None, Some(fr)).await
    } else {
        error_page_for(Some(&s), &e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_thousands_and_two_decimals() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap_or_default();
        assert_eq!(yuan(d("1200")), "1,200.00");
        assert_eq!(yuan(d("1234567.5")), "1,234,567.50");
        assert_eq!(yuan(d("100")), "100.00");
        assert_eq!(yuan(d("0")), "0.00");
        assert_eq!(article("赣市人社字〔2025〕7号 第二十六条"), "第二十六条");
    }

    fn item(
        item: swi_rules::benefits::Item,
        amount: &str,
        days: u32,
        cap: Option<&str>,
    ) -> AssessedItem {
        AssessedItem {
            item,
            amount: amount.parse().ok(),
            monthly: false,
            before_cap: cap.and_then(|c| c.parse().ok()),
            days: Some(days),
            per_dependant: Vec::new(),
            payee: swi_payables::PayeeKind::Unit,
            ends_cover: false,
            refusal: None,
            pending: None,
            basis: vec!["赣市人社字〔2025〕7号 第二十六条".into()],
            assumptions: Vec::new(),
        }
    }

    #[test]
    fn an_amount_is_explained_in_one_sentence() {
        use swi_rules::benefits::Item;
        assert_eq!(
            sentence(&item(Item::NursingSubsidy, "1200.00", 12, None)),
            "住院 12 天 × 每天 100.00 元 = 1,200.00 元，依据第二十六条"
        );
        assert_eq!(
            sentence(&item(Item::NursingSubsidy, "1400.00", 24, Some("2400.00"))),
            "住院 24 天 × 每天 100.00 元 = 2,400.00 元，超过本次工伤剩余限额，核定 1,400.00 元，依据第二十六条"
        );
        // Travel and lodging is fees within a daily cap: no daily figure is made up.
        assert_eq!(
            sentence(&item(Item::TravelLodging, "333.33", 10, None)),
            "按 10 天计 333.33 元，依据第二十六条"
        );
    }
}
