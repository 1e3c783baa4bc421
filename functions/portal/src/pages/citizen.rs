//! A citizen's own pages: enrolling herself as a flexible or platform worker (Art. 6, 16), the
//! enrolment's materials, status and one-time notice, her cover history across units and
//! projects, her injuries with their materials, and filing a claim (Art. 25-34). Every answer is
//! the API's; the pages only ask and show.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use swi_domain::claim::ClaimMaterial;
use swi_domain::enrolment::Material;
use swi_rules::benefits::Item;
use swi_rules::category::Category;
use swi_rules::ids::GANZHOU_COUNTIES;

use super::forms::{Problem, fresh_key, kept, key_or_fresh, wire};
use super::{Chrome, Signed, error_page_for, html, segment};
use crate::Portal;
use crate::session::Session;

/// An option of a select or a radio group.
#[derive(Debug, Clone)]
pub struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

fn choices(all: &[(String, String)], chosen: &str) -> Vec<Choice> {
    all.iter()
        .map(|(v, l)| Choice {
            value: v.clone(),
            label: l.clone(),
            chosen: v == chosen,
        })
        .collect()
}

fn closed<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// What the self-enrolment form holds, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EnrolForm {
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
    county: String,
    #[serde(default)]
    pays_basic_pension: Option<String>,
    #[serde(default)]
    track: String,
}

/// The self-enrolment page.
#[derive(Template)]
#[template(path = "enrol.html")]
pub struct EnrolPage {
    chrome: Chrome,
    f: EnrolForm,
    problem: Problem,
    categories: Vec<Choice>,
    counties: Vec<Choice>,
    tracks: Vec<Choice>,
    csrf: String,
}

const ENROL_FIELDS: [&str; 9] = [
    "name",
    "id_number",
    "phone",
    "category",
    "declared_wage",
    "start",
    "county",
    "pays_basic_pension",
    "track",
];

fn enrol_page(s: &Session, status: StatusCode, mut f: EnrolForm, problem: Problem) -> Response {
    let categories: Vec<(String, String)> = Category::ALL
        .iter()
        .filter(|c| c.may_pay_personally())
        .map(|c| (wire(c), c.chinese().to_owned()))
        .collect();
    let counties: Vec<(String, String)> = GANZHOU_COUNTIES
        .iter()
        .map(|(code, name)| (code.to_string(), (*name).to_owned()))
        .collect();
    let tracks = vec![
        (String::new(), "不适用（男性，或女性按一般规定）".to_owned()),
        ("female_50".to_owned(), "女性，按 50 周岁".to_owned()),
        ("female_55".to_owned(), "女性，按 55 周岁".to_owned()),
    ];
    f.idem = fresh_key();
    let page = EnrolPage {
        chrome: Chrome::of(s),
        categories: choices(&categories, &f.category),
        counties: choices(&counties, &f.county),
        tracks: choices(&tracks, &f.track),
        csrf: s.csrf.clone(),
        f,
        problem,
    };
    html(status, &page)
}

/// `GET /enrol`: the self-enrolment form.
pub async fn enrol_form(Signed(s): Signed) -> Response {
    let f = EnrolForm {
        county: s.county.clone(),
        ..EnrolForm::default()
    };
    enrol_page(&s, StatusCode::OK, f, Problem::none())
}

/// `POST /enrol`: enrols the citizen herself; on a refusal the form comes back as typed, the
/// message next to the field it concerns.
pub async fn enrol(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<EnrolForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let f = EnrolForm {
        name: kept(&f.name, 40),
        id_number: kept(f.id_number.trim(), 18),
        phone: kept(f.phone.trim(), 20),
        category: kept(&f.category, 40),
        declared_wage: kept(f.declared_wage.trim(), 20),
        start: kept(f.start.trim(), 10),
        county: kept(&f.county, 6),
        track: kept(&f.track, 12),
        ..f
    };
    // Empty fields are told at once, each at its place (the API would say the same).
    for (field, value, message) in [
        ("name", &f.name, "请填写姓名。"),
        ("id_number", &f.id_number, "请填写公民身份号码。"),
        ("phone", &f.phone, "请填写手机号码。"),
        ("category", &f.category, "请选择人员类别。"),
        ("declared_wage", &f.declared_wage, "请填写申报月工资。"),
        ("start", &f.start, "请填写参保开始日期。"),
    ] {
        if value.trim().is_empty() {
            return enrol_page(
                &s,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
            );
        }
    }
    let body = json!({
        "name": f.name.trim(),
        "id_type": "resident_id",
        "id_number": f.id_number,
        "phone": f.phone,
        "category": f.category,
        "declared_wage": f.declared_wage,
        "start": f.start,
        "county": f.county,
        "pays_basic_pension": f.pays_basic_pension.is_some(),
        "track": (!f.track.is_empty()).then_some(f.track.clone()),
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            "/api/self/enrolments",
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
            if e.status.as_u16() == 403 && e.code != swi_platform::ErrorCode::NotOwnId {
                return error_page_for(Some(&s), &e);
            }
            let status = e.status;
            enrol_page(&s, status, f, Problem::of(&e, &ENROL_FIELDS))
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// A material of an enrolment, as the page lists it.
#[derive(Debug, Clone)]
pub struct MaterialLine {
    name: &'static str,
    filed: bool,
    /// What the upload button names (none once the enrolment is past its materials).
    upload: Option<String>,
}

/// An enrolment as the page shows it.
#[derive(Debug, Clone)]
pub struct EnrolmentView {
    id: String,
    name: String,
    id_number: String,
    category: String,
    county: String,
    status: &'static str,
    start: String,
    declared_wage: String,
    cover: String,
    holder: String,
    notice: Option<(Vec<String>, Vec<String>, String)>,
}

/// The enrolment page.
#[derive(Template)]
#[template(path = "enrolment.html")]
pub struct EnrolmentPage {
    chrome: Chrome,
    e: EnrolmentView,
    materials: Vec<MaterialLine>,
    done: Option<String>,
    csrf: String,
    /// The unit may end the cover (Art. 9).
    may_end: bool,
    /// The window may accept (materials complete) or return it (Art. 34).
    may_accept: bool,
    may_return: bool,
    /// Filed materials the window may reject in its notice: (wire name, Chinese).
    filed: Vec<(String, &'static str)>,
    typed_problems: String,
    problem: Problem,
    end: String,
    reason: String,
    idem: String,
}

/// An enrolment status's name.
fn enrolment_status(v: &Value) -> &'static str {
    match v.as_str().unwrap_or_default() {
        "awaiting_materials" => "待提交材料",
        "awaiting_acceptance" => "待窗口受理",
        "returned" => "已退回补正",
        "awaiting_payment" => "已受理，待缴费",
        "covered" => "参保中",
        "terminated" => "已终止",
        _ => "—",
    }
}

fn category_name(v: &Value) -> String {
    closed::<Category>(v).map_or_else(|| "—".to_owned(), |c| c.chinese().to_owned())
}

fn date_text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// The "uploaded" notice of a page the upload came back to.
#[derive(Debug, Deserialize)]
pub struct Back {
    #[serde(default)]
    uploaded: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    ended: Option<String>,
    #[serde(default)]
    decided: Option<String>,
}

/// The forms of the page as typed (the unit's ending, Art. 9; the window's notice, Art. 34),
/// and what was wrong with them.
#[derive(Debug, Clone, Default)]
pub struct Ending {
    /// The refusal, next to its field.
    pub problem: Problem,
    /// The last day typed.
    pub end: String,
    /// The reason typed.
    pub reason: String,
    /// The window's notice, as typed.
    pub typed_problems: String,
}

/// `GET /enrolments/{id}`: an enrolment, its materials (with an upload for each missing one),
/// its status and its one-time notice.
pub async fn enrolment(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(back): Query<Back>,
) -> Response {
    let done = if back.ended.is_some() {
        Some("已终止该人员的补充工伤保险。".to_owned())
    } else if back.decided.as_deref() == Some("accept") {
        Some("已受理，待缴费后参保（第八条）。".to_owned())
    } else if back.decided.as_deref() == Some("return") {
        Some("已退回并出具一次性告知书（第三十四条）。".to_owned())
    } else if back.created.is_some() {
        Some("参保登记已提交。请上传下列材料，窗口受理后按通知缴费。".to_owned())
    } else {
        back.uploaded
            .as_deref()
            .and_then(|m| closed::<Material>(&Value::String(m.to_owned())))
            .map(|m| format!("已上传：{}。", m.chinese()))
    };
    enrolment_page(&portal, &s, &id, StatusCode::OK, done, Ending::default()).await
}

/// The enrolment page, with `done` said on top and the ending form as typed.
pub async fn enrolment_page(
    portal: &Portal,
    s: &Session,
    id: &str,
    code: StatusCode,
    done: Option<String>,
    ending: Ending,
) -> Response {
    let e = match portal
        .get(s, &format!("/api/enrolments/{}", segment(id)))
        .await
    {
        Ok(a) if a.ok() => a.body,
        Ok(a) => return error_page_for(Some(s), &a.refusal()),
        Err(e) => return error_page_for(Some(s), &e),
    };
    let status = e["status"].as_str().unwrap_or_default();
    let open = matches!(
        status,
        "awaiting_materials" | "returned" | "awaiting_acceptance"
    );
    let filed: Vec<String> = e["materials"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let missing: Vec<String> = e["missing"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let eid = e["id"].as_str().unwrap_or_default().to_owned();
    let mut materials = Vec::new();
    for (names, is_filed) in [(&filed, true), (&missing, false)] {
        for m in names {
            let Some(kind) = closed::<Material>(&Value::String(m.clone())) else {
                continue;
            };
            materials.push(MaterialLine {
                name: kind.chinese(),
                filed: is_filed,
                upload: open.then(|| format!("enrolment/{eid}/{m}")),
            });
        }
    }
    let notice = e["notice"].as_object().map(|n| {
        let list = |k: &str| -> Vec<String> {
            n.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|v| {
                            closed::<Material>(v).map_or_else(
                                || v.as_str().unwrap_or_default().to_owned(),
                                |m| m.chinese().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        (
            list("missing"),
            list("problems"),
            n.get("issued_on")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
    });
    let cover = match (date_text(&e["cover_start"]), date_text(&e["cover_end"])) {
        (Some(a), Some(b)) => format!("{a} 至 {b}"),
        (Some(a), None) => format!("{a} 起"),
        _ => "缴费后按第八条确定".to_owned(),
    };
    let view = EnrolmentView {
        id: eid,
        name: e["name"].as_str().unwrap_or_default().to_owned(),
        id_number: e["id_number"].as_str().unwrap_or_default().to_owned(),
        category: category_name(&e["category"]),
        county: super::words::county(e["county"].as_str().unwrap_or_default()),
        status: enrolment_status(&e["status"]),
        start: e["start"].as_str().unwrap_or_default().to_owned(),
        declared_wage: e["declared_wage"]
            .as_str()
            .map_or_else(|| e["declared_wage"].to_string(), str::to_owned),
        cover,
        holder: e["unit"]
            .as_str()
            .map_or_else(|| "个人参保".to_owned(), |u| format!("单位 {u}")),
        notice,
    };
    let may_end = s.role == swi_domain::Role::Employer
        && matches!(status, "covered" | "awaiting_payment")
        && e["unit"].as_str().is_some();
    let window = s.role == swi_domain::Role::Acceptor;
    let may_accept = window && status == "awaiting_acceptance";
    let may_return = window && matches!(status, "awaiting_acceptance" | "awaiting_materials");
    let filed_list = filed
        .iter()
        .filter_map(|m| {
            closed::<Material>(&Value::String(m.clone())).map(|k| (m.clone(), k.chinese()))
        })
        .collect();
    html(
        code,
        &EnrolmentPage {
            chrome: Chrome::of(s),
            may_accept,
            may_return,
            filed: filed_list,
            typed_problems: ending.typed_problems,
            e: view,
            materials,
            done,
            csrf: s.csrf.clone(),
            may_end,
            problem: ending.problem,
            end: ending.end,
            reason: ending.reason,
            idem: fresh_key(),
        },
    )
}

/// `GET /enrolments/{id}/notice.pdf`: the enrolment's one-time notice.
pub async fn enrolment_notice(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
) -> Response {
    super::claims::file_answer(
        &portal,
        &s,
        &format!("/api/enrolments/{}/notice", segment(&id)),
    )
    .await
}

/// A line of the cover history.
#[derive(Debug, Clone)]
pub struct CoverLine {
    href: Option<String>,
    holder: String,
    category: String,
    period: String,
    status: String,
}

/// The cover history page.
#[derive(Template)]
#[template(path = "cover.html")]
pub struct CoverPage {
    chrome: Chrome,
    enrolments: Vec<CoverLine>,
    projects: Vec<CoverLine>,
    unverified: Option<String>,
}

/// `GET /cover`: the citizen's own cover: every enrolment (by a unit or herself) and every
/// project registration, oldest first.
pub async fn cover(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    let h = match portal.get(&s, "/api/self/history").await {
        Ok(a) if a.ok() => a.body,
        Ok(a) => {
            let e = a.refusal();
            if e.code == swi_platform::ErrorCode::NotOwnId {
                return html(
                    StatusCode::OK,
                    &CoverPage {
                        chrome: Chrome::of(&s),
                        enrolments: Vec::new(),
                        projects: Vec::new(),
                        unverified: Some(unverified(&s, &e.zh)),
                    },
                );
            }
            return error_page_for(Some(&s), &e);
        }
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let period = |a: &Value, b: &Value| match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => format!("{a} 至 {b}"),
        (Some(a), None) => format!("{a} 起"),
        _ => "尚未生效".to_owned(),
    };
    let enrolments = h["enrolments"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| CoverLine {
                    href: e["id"]
                        .as_str()
                        .map(|id| format!("/enrolments/{}", segment(id))),
                    holder: e["unit"]
                        .as_str()
                        .map_or_else(|| "个人参保".to_owned(), |u| format!("单位 {u}")),
                    category: category_name(&e["category"]),
                    period: period(&e["cover_start"], &e["cover_end"]),
                    status: enrolment_status(&e["status"]).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let projects = h["projects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| CoverLine {
                    href: None,
                    holder: format!(
                        "{}（单位 {}）",
                        p["name"].as_str().unwrap_or_default(),
                        p["unit"].as_str().unwrap_or_default()
                    ),
                    category: "建设项目从业人员".to_owned(),
                    period: period(&p["start"], &p["end"]),
                    status: if p["covered"].as_bool() == Some(true) {
                        "参保中".to_owned()
                    } else {
                        "未生效或已结束".to_owned()
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    html(
        StatusCode::OK,
        &CoverPage {
            chrome: Chrome::of(&s),
            enrolments,
            projects,
            unverified: None,
        },
    )
}

/// What an account not yet verified is told: where to go, and the account to name there.
fn unverified(s: &Session, why: &str) -> String {
    if s.username.is_empty() {
        why.to_owned()
    } else {
        format!("{why}（在窗口出示本账号：{}）", s.username)
    }
}

/// An injury in a list.
#[derive(Debug, Clone)]
pub struct InjuryLine {
    id: String,
    name: String,
    injured_on: String,
    decision: String,
}

/// The injuries page.
#[derive(Template)]
#[template(path = "injuries.html")]
pub struct InjuriesPage {
    chrome: Chrome,
    rows: Vec<InjuryLine>,
    unverified: Option<String>,
}

/// `GET /injuries`: the citizen's recognised injuries, from which she files claims.
pub async fn injuries(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    let list = match portal.get(&s, "/api/injuries").await {
        Ok(a) if a.ok() => a.body,
        Ok(a) => {
            let e = a.refusal();
            if e.code == swi_platform::ErrorCode::NotOwnId {
                return html(
                    StatusCode::OK,
                    &InjuriesPage {
                        chrome: Chrome::of(&s),
                        rows: Vec::new(),
                        unverified: Some(unverified(&s, &e.zh)),
                    },
                );
            }
            return error_page_for(Some(&s), &e);
        }
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let rows = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| InjuryLine {
                    id: i["id"].as_str().unwrap_or_default().to_owned(),
                    name: i["name"].as_str().unwrap_or_default().to_owned(),
                    injured_on: i["recognition"]["injured_on"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    decision: i["recognition"]["decision_number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    html(
        StatusCode::OK,
        &InjuriesPage {
            chrome: Chrome::of(&s),
            rows,
            unverified: None,
        },
    )
}

/// A claim material on the injury page.
#[derive(Debug, Clone)]
pub struct ClaimMaterialLine {
    name: &'static str,
    view: Option<String>,
    upload: String,
}

/// An item to claim.
#[derive(Debug, Clone)]
pub struct ItemChoice {
    value: String,
    label: &'static str,
    chosen: bool,
}

/// What the claim form holds.
#[derive(Debug, Clone, Default)]
pub struct ClaimForm {
    csrf: String,
    idem: String,
    items: Vec<String>,
    third_party: Option<String>,
    transferred: Option<String>,
}

/// The injury page.
#[derive(Template)]
#[template(path = "injury.html")]
pub struct InjuryPage {
    chrome: Chrome,
    id: String,
    name: String,
    id_number: String,
    injured_on: String,
    decision: String,
    county: String,
    materials: Vec<ClaimMaterialLine>,
    items: Vec<ItemChoice>,
    third_party: bool,
    transferred: bool,
    problem: Problem,
    done: Option<String>,
    csrf: String,
    idem: String,
}

async fn injury_page(
    portal: &Portal,
    s: &Session,
    id: &str,
    status: StatusCode,
    form: &ClaimForm,
    problem: Problem,
    done: Option<String>,
) -> Response {
    let i = match portal
        .get(s, &format!("/api/injuries/{}", segment(id)))
        .await
    {
        Ok(a) if a.ok() => a.body,
        Ok(a) => return error_page_for(Some(s), &a.refusal()),
        Err(e) => return error_page_for(Some(s), &e),
    };
    let iid = i["id"].as_str().unwrap_or_default().to_owned();
    let filed = i["materials"].as_object().cloned().unwrap_or_default();
    let materials = ClaimMaterial::ALL
        .iter()
        .map(|m| {
            let w = wire(m);
            ClaimMaterialLine {
                name: m.chinese(),
                view: filed
                    .contains_key(&w)
                    .then(|| format!("/scans/{}/{w}", segment(&iid))),
                upload: format!("injury/{iid}/{w}"),
            }
        })
        .collect();
    let items = Item::ALL
        .iter()
        .map(|it| {
            let w = wire(it);
            ItemChoice {
                chosen: form.items.contains(&w),
                value: w,
                label: it.chinese(),
            }
        })
        .collect();
    html(
        status,
        &InjuryPage {
            chrome: Chrome::of(s),
            name: i["name"].as_str().unwrap_or_default().to_owned(),
            id_number: i["id_number"].as_str().unwrap_or_default().to_owned(),
            injured_on: i["recognition"]["injured_on"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            decision: i["recognition"]["decision_number"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            county: super::words::county(i["county"].as_str().unwrap_or_default()),
            id: iid,
            materials,
            items,
            third_party: form.third_party.is_some(),
            transferred: form.transferred.is_some(),
            problem,
            done,
            csrf: s.csrf.clone(),
            idem: fresh_key(),
        },
    )
    .into_response()
}

/// `GET /injuries/{id}`: an injury, its dossier's materials (each viewable, each uploadable),
/// and the form to file a claim.
pub async fn injury(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(back): Query<Back>,
) -> Response {
    let done = back
        .uploaded
        .as_deref()
        .and_then(|m| closed::<ClaimMaterial>(&Value::String(m.to_owned())))
        .map(|m| format!("已上传：{}。", m.chinese()));
    injury_page(
        &portal,
        &s,
        &id,
        StatusCode::OK,
        &ClaimForm::default(),
        Problem::none(),
        done,
    )
    .await
}

/// `POST /injuries/{id}/claims`: files a claim for the chosen items; it then waits at the
/// window (Art. 34), with any material still missing listed on the claim's page.
pub async fn submit_claim(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if fields.len() > 64 || fields.iter().any(|(k, v)| k.len() > 32 || v.len() > 256) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let mut f = ClaimForm::default();
    for (k, v) in fields {
        match k.as_str() {
            "csrf" => f.csrf = v,
            "idem" => f.idem = v,
            "items" => f.items.push(v),
            "third_party" => f.third_party = Some(v),
            "transferred" => f.transferred = Some(v),
            _ => {}
        }
    }
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    if f.items.is_empty() {
        return injury_page(
            &portal,
            &s,
            &id,
            StatusCode::BAD_REQUEST,
            &f,
            Problem::at("items", "请至少选择一项待遇。"),
            None,
        )
        .await;
    }
    let body = json!({
        "injury": id,
        "items": f.items.iter().take(Item::ALL.len()).collect::<Vec<_>>(),
        "stated": { "third_party": f.third_party.is_some(), "transferred": f.transferred.is_some() },
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(&s, Method::POST, "/api/claims", Some(&body), Some(&idem))
        .await
    {
        Ok(a) if a.ok() => {
            let cid = a.body["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/claims/{}?done=submitted", segment(cid))).into_response()
        }
        Ok(a) => {
            let e = a.refusal();
            if e.status.as_u16() == 403 || e.status.as_u16() == 404 {
                return error_page_for(Some(&s), &e);
            }
            let mut problem = Problem::of(&e, &["items"]);
            if problem.field.is_none() {
                problem.field = Some("items".into());
            }
            injury_page(&portal, &s, &id, e.status, &f, problem, None).await
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}
