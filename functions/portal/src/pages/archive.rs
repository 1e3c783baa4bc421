//! The archive in the portal (档案管理, Art. 45-47).
//!
//! - The `archivist` keeps the county's archive: its settings (fonds, archive-house number,
//!   filing unit), a month filed on demand, the volumes by month and class with their cover,
//!   list of contents, notes sheet and package, the four checks run and read, where the paper
//!   volume is, holds, appraisal (an extension, or a destruction proposed) and witnessing.
//! - The agency's officer approves or refuses a proposed destruction (a second role).
//! - The `supervisor` reads all of it, places holds and witnesses destructions.
//!
//! Every page asks the archiving step's API and shows its answer; no rule is decided here.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use swi_archiving::checking::KeptReport;
use swi_archiving::disposal::{DisposalKind, DisposalStatus, Fate};
use swi_archiving::fixity::FixityStatus;
use swi_archiving::model::{Authoritative, Settings, VolumeRecord, VolumeStatus};
use swi_archiving::routes_disposal::{DisposalView, DueVolume};
use swi_archiving::routes_volumes::VolumeView;
use swi_domain::Role;

use super::forms::fresh_key;
use super::{Chrome, Signed, clip, error_page_for, html, not_found, segment, send, url_encode};
use crate::Portal;
use crate::session::Session;

fn status_zh(s: VolumeStatus) -> &'static str {
    match s {
        VolumeStatus::Filing => "整理中",
        VolumeStatus::Filed => "已归档",
        VolumeStatus::Destroying => "销毁中",
        VolumeStatus::Destroyed => "已销毁",
    }
}

fn disposal_zh(s: DisposalStatus) -> &'static str {
    match s {
        DisposalStatus::Proposed => "已提出销毁，待经办机构审批",
        DisposalStatus::Approved => "已批准，待两人监销",
        DisposalStatus::Refused => "经办机构不同意销毁",
        DisposalStatus::Working => "执行中",
        DisposalStatus::Held => "因冻结暂停",
        DisposalStatus::Done => "已执行",
    }
}

fn kind_zh(k: DisposalKind) -> &'static str {
    match k {
        DisposalKind::Extend => "延长保管期限",
        DisposalKind::Destroy => "销毁",
    }
}

fn authoritative_zh(a: Authoritative) -> &'static str {
    match a {
        Authoritative::Paper => "以纸质为准",
        Authoritative::Electronic => "以电子为准",
    }
}

/// A volume as a row.
#[derive(Debug, Clone)]
pub struct VolumeRow {
    href: String,
    number: String,
    title: String,
    class: String,
    period: String,
    items: u32,
    documents: u32,
    status: &'static str,
    paper: String,
    held: bool,
}

fn volume_row(v: &VolumeRecord) -> VolumeRow {
    VolumeRow {
        href: format!("/archive/volumes/{}", segment(&v.id)),
        number: v.archive_number.clone(),
        title: v.title.clone(),
        class: v.class.entry().map_or_else(
            |_| v.class.code().to_owned(),
            |e| format!("{} {}", v.class.code(), e.name),
        ),
        period: v.period.label(),
        items: v.items,
        documents: v.documents,
        status: status_zh(v.status),
        paper: v
            .paper
            .as_ref()
            .map(|p| {
                format!(
                    "{} 盒 {} 架（{}）",
                    p.box_no,
                    p.shelf,
                    authoritative_zh(p.authoritative)
                )
            })
            .unwrap_or_default(),
        held: v.hold.is_some(),
    }
}

/// `?month=&done=` of the archive page.
#[derive(Debug, Deserialize)]
pub struct ArchiveQuery {
    /// A month or a year to show.
    pub month: Option<String>,
    /// What was done.
    pub done: Option<String>,
}

fn done_message(d: Option<&str>) -> Option<String> {
    match d? {
        "settings" => Some("档案设置已保存。".into()),
        "filing" => Some("已开始整理归档该月，稍后刷新查看案卷。".into()),
        "checks" => Some("四性检测已完成，结果见下。".into()),
        "paper" => Some("纸质案卷位置已登记。".into()),
        "hold" => Some("已冻结该案卷：冻结期间不得销毁。".into()),
        "release" => Some("已解除冻结。".into()),
        "appraisal" => Some("鉴定意见已提交。".into()),
        "decision" => Some("审批意见已提交。".into()),
        "witness" => Some("监销确认已记录。".into()),
        _ => None,
    }
}

/// The archive page.
#[derive(Template)]
#[template(path = "archive.html")]
pub struct ArchivePage {
    chrome: Chrome,
    csrf: String,
    idem: String,
    county: String,
    keeper: bool,
    settings: Option<Settings>,
    last_month: String,
    month: String,
    volumes: Vec<VolumeRow>,
    fixity: String,
    message: Option<String>,
}

fn may_read(s: &Session) -> bool {
    matches!(
        s.role,
        Role::Archivist | Role::Supervisor | Role::AgencyOfficer
    )
}

fn may_hold(s: &Session) -> bool {
    matches!(s.role, Role::Archivist | Role::Supervisor)
}

/// `GET /archive`: the county's archive.
pub async fn home(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<ArchiveQuery>,
) -> Response {
    if s.role == Role::AgencyOfficer {
        return Redirect::to("/archive/appraisal").into_response();
    }
    if !may_read(&s) {
        return not_found();
    }
    let today = portal.platform.clock.today();
    let last_month = chrono::Datelike::with_day(&today, 1)
        .and_then(|d| d.pred_opt())
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default();
    let month = q
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| today.format("%Y").to_string());
    let county = s.county.clone();
    let settings = portal
        .get(&s, &format!("/api/archive/settings/{}", segment(&county)))
        .await
        .ok()
        .filter(|a| a.ok())
        .and_then(|a| a.into().ok());
    let volumes: Vec<VolumeRecord> = match portal
        .get(
            &s,
            &format!(
                "/api/volumes?county={}&month={}",
                url_encode(&county),
                url_encode(&month)
            ),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(v) => v,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let fixity = portal
        .get(&s, "/api/archive/fixity")
        .await
        .ok()
        .and_then(|a| a.into::<FixityStatus>().ok())
        .map_or_else(String::new, |f| match (f.oldest_check, f.oldest_days) {
            (Some(at), Some(days)) => format!(
                "最久未复核的文件上次于 {} 核验（{days} 天前）。",
                at.format("%Y-%m-%d %H:%M")
            ),
            _ => "尚无需要复核的文件。".to_owned(),
        });
    html(
        StatusCode::OK,
        &ArchivePage {
            chrome: Chrome::of(&s),
            csrf: s.csrf.clone(),
            idem: fresh_key(),
            county: super::words::county(&county),
            keeper: s.role == Role::Archivist,
            settings,
            last_month,
            month,
            volumes: volumes.iter().map(volume_row).collect(),
            fixity,
            message: done_message(q.done.as_deref()),
        },
    )
}

/// The settings form.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    csrf: String,
    idem: String,
    fonds: String,
    archive_house_number: String,
    filing_unit: String,
    classification_level: String,
    compiled_by: String,
}

/// `POST /archive/settings`.
pub async fn settings(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<SettingsForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let body = json!({
        "fonds": clip(&f.fonds, 20),
        "archive_house_number": clip(&f.archive_house_number, 20),
        "filing_unit": clip(&f.filing_unit, 120),
        "classification_level": clip(&f.classification_level, 120),
        "compiled_by": clip(&f.compiled_by, 120),
    });
    let path = format!("/api/archive/settings/{}", segment(&s.county));
    send(
        &portal,
        &s,
        Method::PUT,
        &path,
        &body,
        &f.idem,
        "/archive?done=settings".into(),
    )
    .await
}

/// The file-a-month form.
#[derive(Debug, Deserialize)]
pub struct FileForm {
    csrf: String,
    idem: String,
    month: String,
}

/// `POST /archive/filings`: files a month now.
pub async fn file_month(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<FileForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let body = json!({ "county": s.county, "month": clip(&f.month, 10) });
    send(
        &portal,
        &s,
        Method::POST,
        "/api/volumes",
        &body,
        &f.idem,
        "/archive?done=filing".into(),
    )
    .await
}

/// An item as a row.
#[derive(Debug, Clone)]
pub struct ItemRow {
    n: String,
    author: String,
    title: String,
    date: String,
    files: usize,
    materials: String,
}

/// A check row.
#[derive(Debug, Clone)]
pub struct CheckRow {
    name: String,
    property: &'static str,
    passed: bool,
    detail: String,
}

/// A row of a destruction list.
#[derive(Debug, Clone)]
pub struct ListRowView {
    number: String,
    material: String,
    sha256: String,
    fate: String,
}

/// The volume page.
#[derive(Template)]
#[template(path = "archive_volume.html")]
pub struct VolumePage {
    chrome: Chrome,
    csrf: String,
    idem: String,
    id: String,
    row: VolumeRow,
    house: String,
    filing_unit: String,
    level: String,
    compiled_by: String,
    dates: String,
    filed_on: String,
    kept_until: String,
    package: String,
    packed: bool,
    items: Vec<ItemRow>,
    report: Option<(String, String, bool)>,
    checks: Vec<CheckRow>,
    hold: Option<String>,
    disposal: Option<String>,
    disposal_people: Vec<String>,
    list: Vec<ListRowView>,
    destroyed: bool,
    keeper: bool,
    can_hold: bool,
    can_appraise: bool,
    can_decide: bool,
    can_witness: bool,
    message: Option<String>,
}

/// `?done=` after a form.
#[derive(Debug, Deserialize)]
pub struct Done {
    /// What was done.
    pub done: Option<String>,
}

/// `GET /archive/volumes/{id}`.
pub async fn volume(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    if !may_read(&s) {
        return not_found();
    }
    let base = format!("/api/volumes/{}", segment(&id));
    let (v, items) = match portal
        .get(&s, &base)
        .await
        .and_then(|a| a.into::<VolumeView>())
    {
        Ok(v) => (v.volume, v.items),
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let disposal: Option<DisposalView> = portal
        .get(&s, &format!("{base}/disposal"))
        .await
        .ok()
        .filter(|a| a.ok())
        .and_then(|a| a.into().ok());
    let reports: Vec<KeptReport> = portal
        .get(&s, &format!("{base}/checks"))
        .await
        .ok()
        .and_then(|a| a.into().ok())
        .unwrap_or_default();
    let latest = reports.first();
    let settings = v.frozen.as_ref().map(|f| f.settings.clone());
    let start = items.iter().map(|i| i.first).min();
    let end = items.iter().map(|i| i.date).max();
    let status = disposal.as_ref().map(|d| d.disposal.status);
    let ended = status.is_none_or(DisposalStatus::ended);
    let mut people = Vec::new();
    if let Some(d) = &disposal {
        let p = &d.disposal.proposed;
        people.push(format!(
            "鉴定（{}）：{} {}，{}",
            kind_zh(d.disposal.kind),
            p.name,
            p.at.format("%Y-%m-%d"),
            p.note
        ));
        if let Some(until) = d.disposal.until {
            people.push(format!("延长保管至 {until}"));
        }
        if let Some(x) = &d.disposal.decided {
            people.push(format!(
                "审批：{} {}，{}",
                x.name,
                x.at.format("%Y-%m-%d"),
                x.note
            ));
        }
        for w in &d.disposal.witnesses {
            people.push(format!(
                "监销：{} {}，{}",
                w.name,
                w.at.format("%Y-%m-%d"),
                w.note
            ));
        }
        if d.disposal.kind == DisposalKind::Destroy && d.disposal.status == DisposalStatus::Done {
            people.push(format!(
                "销毁 {} 份，留存 {} 份",
                d.disposal.destroyed, d.disposal.kept
            ));
        }
    }
    let page = VolumePage {
        chrome: Chrome::of(&s),
        csrf: s.csrf.clone(),
        idem: fresh_key(),
        id: segment(&v.id),
        row: volume_row(&v),
        house: settings
            .as_ref()
            .map(|s| s.archive_house_number.clone())
            .unwrap_or_default(),
        filing_unit: settings
            .as_ref()
            .map(|s| s.filing_unit.clone())
            .unwrap_or_default(),
        level: settings
            .as_ref()
            .map(|s| s.classification_level.clone())
            .unwrap_or_default(),
        compiled_by: v.compiled_by.clone(),
        dates: match (start, end) {
            (Some(a), Some(b)) => format!("{a} 至 {b}"),
            _ => String::new(),
        },
        filed_on: v.filed_on.map(|d| d.to_string()).unwrap_or_default(),
        kept_until: v
            .kept_until()
            .map_or_else(|| "永久".to_owned(), |d| d.to_string()),
        package: v.package.clone().unwrap_or_default(),
        packed: v.package.is_some() && v.status != VolumeStatus::Destroyed,
        items: items
            .iter()
            .map(|i| ItemRow {
                n: format!("{:04}", i.n),
                author: i.author.clone(),
                title: i.title.clone(),
                date: i.date.to_string(),
                files: i.files.len(),
                materials: i
                    .files
                    .iter()
                    .map(|f| f.material.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            })
            .collect(),
        report: latest.map(|r| {
            (
                r.report.stage.label().to_owned(),
                r.at.format("%Y-%m-%d %H:%M").to_string(),
                r.passed,
            )
        }),
        checks: latest
            .map(|r| {
                r.report
                    .rows
                    .iter()
                    .map(|row| CheckRow {
                        name: row.name.clone(),
                        property: row.property.label(),
                        passed: row.passed,
                        detail: row.detail.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        hold: v
            .hold
            .as_ref()
            .map(|h| format!("{}（{}，{}）", h.reason, h.by_name, h.at.format("%Y-%m-%d"))),
        disposal: disposal.as_ref().map(|d| {
            format!(
                "{}：{}",
                kind_zh(d.disposal.kind),
                disposal_zh(d.disposal.status)
            )
        }),
        disposal_people: people,
        list: disposal
            .as_ref()
            .map(|d| {
                d.rows
                    .iter()
                    .map(|r| ListRowView {
                        number: r.archive_number.clone(),
                        material: r.material.clone(),
                        sha256: r.sha256.clone(),
                        fate: match r.fate {
                            Fate::Destroyed => "销毁".to_owned(),
                            Fate::Kept => format!("留存：{}", r.why.as_deref().unwrap_or("")),
                        },
                    })
                    .collect()
            })
            .unwrap_or_default(),
        destroyed: v.status == VolumeStatus::Destroyed,
        keeper: s.role == Role::Archivist && v.status == VolumeStatus::Filed,
        can_hold: may_hold(&s) && v.status != VolumeStatus::Destroyed,
        can_appraise: s.role == Role::Archivist
            && v.status == VolumeStatus::Filed
            && ended
            && v.kept_until().is_some(),
        can_decide: s.role == Role::AgencyOfficer && status == Some(DisposalStatus::Proposed),
        can_witness: may_hold(&s) && status == Some(DisposalStatus::Approved),
        message: done_message(d.done.as_deref()),
    };
    html(StatusCode::OK, &page)
}

/// A volume form: every action's fields, those it does not use left empty.
#[derive(Debug, Deserialize)]
pub struct VolumeForm {
    csrf: String,
    idem: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    box_no: String,
    #[serde(default)]
    shelf: String,
    #[serde(default)]
    authoritative: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    years: String,
    #[serde(default)]
    approve: String,
}

/// `POST /archive/volumes/{id}/{action}`: checks, paper, hold, release, appraisal, decision,
/// witness.
pub async fn act(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<VolumeForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    let base = format!("/api/volumes/{}", segment(&id));
    let reason = clip(&f.reason, 600);
    let (method, path, body) = match action.as_str() {
        "checks" => (
            Method::POST,
            format!("{base}/checks"),
            json!({ "stage": if f.stage.is_empty() { "preservation" } else { f.stage.as_str() } }),
        ),
        "paper" => (
            Method::PUT,
            format!("{base}/paper"),
            json!({ "box_no": clip(&f.box_no, 120), "shelf": clip(&f.shelf, 120), "authoritative": clip(&f.authoritative, 20) }),
        ),
        "hold" => (
            Method::POST,
            format!("{base}/hold"),
            json!({ "reason": reason }),
        ),
        "release" => (
            Method::POST,
            format!("{base}/hold/release"),
            json!({ "reason": reason }),
        ),
        "appraisal" => {
            let years = f.years.trim().parse::<u32>().ok();
            (
                Method::POST,
                format!("{base}/appraisal"),
                if f.decision == "extend" {
                    json!({ "decision": "extend", "years": years, "reasons": reason })
                } else {
                    json!({ "decision": clip(&f.decision, 20), "reasons": reason })
                },
            )
        }
        "decision" => (
            Method::POST,
            format!("{base}/disposal/decision"),
            json!({ "approve": f.approve == "yes", "reasons": reason }),
        ),
        "witness" => (
            Method::POST,
            format!("{base}/disposal/witness"),
            json!({ "note": reason }),
        ),
        _ => return not_found(),
    };
    let next = format!("/archive/volumes/{}?done={action}", segment(&id));
    send(&portal, &s, method, &path, &body, &f.idem, next).await
}

/// `GET /archive/volumes/{id}/{file}`: the cover, list of contents, notes sheet, package or
/// destruction list.
pub async fn file(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let base = format!("/api/volumes/{}", segment(&id));
    let (path, ext) = match file.as_str() {
        "cover.pdf" | "contents.pdf" | "notes.pdf" => (
            format!("{base}/sheets/{}", file.trim_end_matches(".pdf")),
            "pdf",
        ),
        "package.tar" => (format!("{base}/package"), "tar"),
        "destruction-list.pdf" => (format!("{base}/destruction-list"), "pdf"),
        _ => return not_found(),
    };
    let name = format!(
        "{}-{}.{ext}",
        segment(&id),
        file.split('.').next().unwrap_or("file")
    );
    super::attachment(&portal, &s, &path, &name).await
}

/// The appraisal page.
#[derive(Template)]
#[template(path = "archive_appraisal.html")]
pub struct AppraisalPage {
    chrome: Chrome,
    today: String,
    rows: Vec<(VolumeRow, String, String)>,
    officer: bool,
}

/// `GET /archive/appraisal`: the county's volumes past retention, with their appraisals.
pub async fn appraisal(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    if !may_read(&s) {
        return not_found();
    }
    let due: Vec<DueVolume> = match portal
        .get(
            &s,
            &format!("/api/archive/appraisal/{}", segment(&s.county)),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(d) => d,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    html(
        StatusCode::OK,
        &AppraisalPage {
            chrome: Chrome::of(&s),
            today: portal.platform.clock.today().to_string(),
            rows: due
                .iter()
                .map(|d| {
                    (
                        volume_row(&d.volume),
                        d.kept_until.to_string(),
                        d.disposal.as_ref().map_or_else(
                            || "待鉴定".to_owned(),
                            |x| format!("{}：{}", kind_zh(x.kind), disposal_zh(x.status)),
                        ),
                    )
                })
                .collect(),
            officer: s.role == Role::AgencyOfficer,
        },
    )
}

/// A register row as the handover page shows it.
#[derive(Debug, Clone)]
pub struct RegisterView {
    href: String,
    number: String,
    title: String,
    period: String,
    items: u32,
    documents: u32,
    package: String,
    paper: String,
    checks: String,
    failed: bool,
}

/// The handover page.
#[derive(Template)]
#[template(path = "archive_handover.html")]
pub struct HandoverPage {
    chrome: Chrome,
    county: String,
    rows: Vec<RegisterView>,
    unchecked: usize,
    failed: usize,
}

/// `GET /archive/handover`: the county's handover register (移交清册, Art. 47).
pub async fn handover(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    if !may_read(&s) {
        return not_found();
    }
    let rows: Vec<swi_archiving::routes_handover::RegisterRow> = match portal
        .get(&s, &format!("/api/archive/handover/{}", segment(&s.county)))
        .await
        .and_then(|a| a.into())
    {
        Ok(r) => r,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let view: Vec<RegisterView> = rows
        .iter()
        .map(|r| RegisterView {
            href: format!("/archive/volumes/{}", segment(&r.id)),
            number: r.archive_number.clone(),
            title: r.title.clone(),
            period: r.period.clone(),
            items: r.items,
            documents: r.documents,
            package: r.package.chars().take(16).collect(),
            paper: match (&r.paper, r.authoritative) {
                (Some(p), Some(a)) => format!("{p}（{}）", authoritative_zh(a)),
                _ => "未登记".to_owned(),
            },
            checks: match (r.checked_at, r.passed) {
                (Some(at), Some(true)) => format!("{} 通过", at.format("%Y-%m-%d")),
                (Some(at), Some(false)) => format!("{} 未通过", at.format("%Y-%m-%d")),
                _ => "未检测".to_owned(),
            },
            failed: r.passed == Some(false),
        })
        .collect();
    html(
        StatusCode::OK,
        &HandoverPage {
            chrome: Chrome::of(&s),
            county: super::words::county(&s.county),
            unchecked: rows.iter().filter(|r| r.passed.is_none()).count(),
            failed: rows.iter().filter(|r| r.passed == Some(false)).count(),
            rows: view,
        },
    )
}

/// `GET /archive/handover/{file}`: the register to sign, `register.xlsx` or `register.csv`.
pub async fn handover_file(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(file): Path<String>,
) -> Response {
    let format = match file.as_str() {
        "register.xlsx" => "xlsx",
        "register.csv" => "csv",
        _ => return not_found(),
    };
    super::attachment(
        &portal,
        &s,
        &format!(
            "/api/archive/handover/{}?format={format}",
            segment(&s.county)
        ),
        &format!("handover-{}.{format}", segment(&s.county)),
    )
    .await
}
