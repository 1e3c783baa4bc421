//! The values the city sets (市里发布的数值): the agency officer records one from the city's
//! notice (its document number and scan), a second officer confirms it, and only then is it in
//! force; the supervisor reads the list. Which figures are still pending is the parameters
//! page's; the two-person rule and every check are the API's.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use swi_domain::Role;
use swi_platform::city::{CityValue, CityValueStatus, Setting};

use super::forms::{Problem, fresh_key, kept, key_or_fresh};
use super::{Chrome, Signed, error_page_for, html, segment};
use crate::Portal;
use crate::session::Session;

/// A recorded value as listed.
#[derive(Debug, Clone)]
pub struct ValueLine {
    id: String,
    what: String,
    document_no: String,
    recorded: String,
    status: &'static str,
    confirmable: bool,
}

/// A pending parameter to choose.
#[derive(Debug, Clone)]
pub struct Pending {
    name: String,
    title: String,
    chosen: bool,
}

/// The record form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    document_no: String,
    #[serde(default)]
    scan: String,
}

/// The city values page.
#[derive(Template)]
#[template(path = "city_values.html")]
pub struct CityPage {
    chrome: Chrome,
    rows: Vec<ValueLine>,
    pending: Vec<Pending>,
    officer: bool,
    f: ValueForm,
    problem: Problem,
    done: Option<&'static str>,
    csrf: String,
}

/// `?scan=&done=`.
#[derive(Debug, Deserialize)]
pub struct Back {
    #[serde(default)]
    scan: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn page(
    portal: &Portal,
    s: &Session,
    status: StatusCode,
    mut f: ValueForm,
    problem: Problem,
    done: Option<&'static str>,
) -> Response {
    let values: Vec<CityValue> = match portal
        .get(s, "/api/parameters/city-values")
        .await
        .and_then(|a| a.into())
    {
        Ok(v) => v,
        Err(e) => return error_page_for(Some(s), &e),
    };
    let officer = s.role == Role::AgencyOfficer;
    let today = portal.platform.clock.today();
    let in_force: Vec<serde_json::Value> = portal
        .get(s, &format!("/api/parameters?on={today}"))
        .await
        .and_then(|a| a.into())
        .unwrap_or_default();
    let pending = in_force
        .iter()
        .filter(|r| r["status"].as_str() != Some("confirmed"))
        .filter_map(|r| {
            let name = r["parameter"].as_str()?.to_owned();
            Some(Pending {
                chosen: name == f.name,
                title: r["title"].as_str().unwrap_or_default().to_owned(),
                name,
            })
        })
        .collect();
    let rows = values
        .iter()
        .rev()
        .map(|v| ValueLine {
            id: v.id.clone(),
            what: match &v.setting {
                Setting::Value { name, from, value } => format!(
                    "{name} = {} （{from} 起）",
                    serde_json::to_value(value)
                        .ok()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .unwrap_or_default()
                ),
                Setting::Calendar { year, .. } => format!("{year} 年工作日历"),
            },
            document_no: v.document_no.clone(),
            recorded: format!(
                "{}，{}",
                v.recorded_by_name,
                v.recorded_at.format("%Y-%m-%d %H:%M")
            ),
            status: match v.status {
                CityValueStatus::Recorded => "待另一位人员确认",
                CityValueStatus::InForce => "已施行",
            },
            confirmable: officer && v.status == CityValueStatus::Recorded && v.recorded_by != s.sub,
        })
        .collect();
    f.idem = fresh_key();
    html(
        status,
        &CityPage {
            chrome: Chrome::of(s),
            rows,
            pending,
            officer,
            csrf: s.csrf.clone(),
            f,
            problem,
            done,
        },
    )
}

/// `GET /parameters/city`: the values the city recorded, and (for an officer) the form.
pub async fn show(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<Back>,
) -> Response {
    let f = ValueForm {
        scan: q
            .scan
            .filter(|h| swi_store::Sha256::parse(h).is_ok())
            .unwrap_or_default(),
        ..ValueForm::default()
    };
    let done = match q.done.as_deref() {
        Some("recorded") => Some("已录入，须由另一位市级人员确认后施行。"),
        Some("confirmed") => Some("已确认，该数值自所注日期起施行。"),
        _ => None,
    };
    page(&portal, &s, StatusCode::OK, f, Problem::none(), done).await
}

/// `POST /parameters/city`: records a value from the city's notice.
pub async fn record(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<ValueForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let f = ValueForm {
        name: kept(f.name.trim(), 80),
        from: kept(f.from.trim(), 10),
        value: kept(f.value.trim(), 40),
        document_no: kept(f.document_no.trim(), 64),
        scan: kept(f.scan.trim(), 64),
        ..f
    };
    for (field, value, message) in [
        ("scan", &f.scan, "请先上传通知文件的扫描件。"),
        ("name", &f.name, "请选择参数。"),
        ("from", &f.from, "请填写施行日期。"),
        ("value", &f.value, "请填写数值。"),
        ("document_no", &f.document_no, "请填写文号。"),
    ] {
        if value.is_empty() {
            return page(
                &portal,
                &s,
                StatusCode::BAD_REQUEST,
                f.clone(),
                Problem::at(field, message),
                None,
            )
            .await;
        }
    }
    let body = json!({
        "setting": { "kind": "value", "name": f.name, "from": f.from, "value": f.value },
        "document_no": f.document_no, "scan_sha256": f.scan,
    });
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            "/api/parameters/city-values",
            Some(&body),
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => Redirect::to("/parameters/city?done=recorded").into_response(),
        Ok(a) => {
            let e = a.refusal();
            if e.status.as_u16() == 403 {
                return error_page_for(Some(&s), &e);
            }
            let mut problem = Problem::of(&e, &["name", "from", "value", "document_no"]);
            if e.code == swi_platform::ErrorCode::DocumentMissing || e.en.contains("scan_sha256") {
                problem.field = Some("scan".into());
            }
            page(&portal, &s, e.status, f, problem, None).await
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}

/// The confirm button's form.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    idem: String,
}

/// `POST /parameters/city/{id}/confirm`: a second officer confirms a recorded value.
pub async fn confirm(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let idem = key_or_fresh(&f.idem);
    match portal
        .call(
            &s,
            Method::POST,
            &format!("/api/parameters/city-values/{}/confirm", segment(&id)),
            None,
            Some(&idem),
        )
        .await
    {
        Ok(a) if a.ok() => Redirect::to("/parameters/city?done=confirmed").into_response(),
        Ok(a) => {
            let e = a.refusal();
            if matches!(e.status.as_u16(), 409 | 422) {
                let problem = Problem::of(&e, &[]);
                page(&portal, &s, e.status, ValueForm::default(), problem, None).await
            } else {
                error_page_for(Some(&s), &e)
            }
        }
        Err(e) => error_page_for(Some(&s), &e),
    }
}
