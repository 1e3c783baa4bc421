//! The pages. Each handler asks the API (through [`crate::backend`]) and renders an `askama`
//! template; what every page shares — the header with the signed-in person and the sign-out
//! form, the error page, the 404 — is here.

pub mod archive;
pub mod bills;
pub mod citizen;
pub mod city;
pub mod claims;
pub mod declarations;
pub mod documents;
pub mod employer;
pub mod first_review;
pub mod forms;
pub mod home;
pub mod oversight;
pub mod payments;
pub mod queue;
pub mod signed;
pub mod signin;
pub mod supervision;
pub mod unit;
pub mod uploads;
pub mod verify;
pub mod window;
pub mod words;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use swi_domain::Role;
use swi_platform::ApiError;

use crate::assets::{CSS_PATH, HTMX_PATH, PORTAL_JS_PATH};
use crate::session::Session;
pub use signed::Signed;

/// A link in the header.
#[derive(Debug, Clone)]
pub struct Link {
    /// Where.
    pub href: String,
    /// What it says.
    pub label: String,
}

/// What the layout shows around every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The stylesheet's path.
    pub css: &'static str,
    /// htmx's path.
    pub htmx: &'static str,
    /// The portal script's path.
    pub js: &'static str,
    /// The signed-in person, if any.
    pub user: Option<User>,
}

/// The signed-in person, as the header shows them.
#[derive(Debug, Clone)]
pub struct User {
    /// Display name.
    pub name: String,
    /// Their role in Chinese.
    pub role: &'static str,
    /// The county's name (or the city's).
    pub county: String,
    /// The CSRF token of the sign-out form.
    pub csrf: String,
    /// The links of their role.
    pub links: Vec<Link>,
}

impl Chrome {
    /// The layout for nobody signed in.
    #[must_use]
    pub fn anonymous() -> Self {
        Chrome {
            css: CSS_PATH,
            htmx: HTMX_PATH,
            js: PORTAL_JS_PATH,
            user: None,
        }
    }

    /// The layout for `s`.
    #[must_use]
    pub fn of(s: &Session) -> Self {
        Chrome {
            user: Some(User {
                name: s.name.clone(),
                role: words::role(s.role),
                county: words::county(&s.county),
                csrf: s.csrf.clone(),
                links: links(s.role),
            }),
            ..Chrome::anonymous()
        }
    }
}

/// The links of a role's header.
#[must_use]
pub fn links(role: Role) -> Vec<Link> {
    let l = |href: &str, label: &str| Link {
        href: href.into(),
        label: label.into(),
    };
    let mut v = vec![l("/", "首页")];
    match role {
        Role::Citizen => {
            v.push(l("/cover", "我的参保"));
            v.push(l("/injuries", "我的工伤"));
            v.push(l("/claims", "我的待遇申领"));
            v.push(l("/payments", "待遇支付"));
        }
        Role::Employer => {
            v.push(l("/unit", "本单位"));
            v.push(l("/unit/declarations", "人员变动申报"));
            v.push(l("/unit/projects", "建设项目"));
            v.push(l("/claims", "待遇申领"));
            v.push(l("/payments", "待遇支付"));
        }
        Role::Acceptor | Role::Handler => {
            v.push(l("/work", "待办队列"));
            v.push(l("/window/identities", "实名核验"));
            v.push(l("/window/injuries", "录入工伤认定"));
        }
        Role::FirstReviewer | Role::ReReviewer => {
            v.push(l("/work", "待办队列"));
        }
        Role::Supervisor => {
            v.push(l("/work", "各环节队列"));
            v.push(l("/alerts", "风险提示"));
            v.push(l("/alerts/register", "监督台账"));
            v.push(l("/plans", "监督计划"));
            v.push(l("/audit", "审计追溯"));
            v.push(l("/statistics", "统计分析"));
            v.push(l("/payments", "待遇支付"));
            v.push(l("/archive", "档案"));
        }
        Role::Archivist => {
            v.push(l("/archive", "档案管理"));
            v.push(l("/archive/appraisal", "鉴定与销毁"));
            v.push(l("/archive/handover", "移交"));
        }
        Role::Finance => {
            v.push(l("/payments", "待遇支付与资金周期"));
            v.push(l("/statistics", "统计分析"));
        }
        Role::AgencyOfficer => {
            v.push(l("/payments", "资金周期"));
            v.push(l("/alerts", "风险提示"));
            v.push(l("/statistics", "统计分析"));
            v.push(l("/prevention", "工伤预防费"));
            v.push(l("/parameters/city", "市里发布的数值"));
            v.push(l("/archive/appraisal", "档案销毁审批"));
        }
        _ => {}
    }
    v.push(l("/parameters", "参数"));
    v
}

/// A rendered template as an HTML answer (500 with a plain page if rendering fails).
pub fn html(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><html lang=\"zh-CN\"><title>系统错误</title><p>页面生成失败，请稍后再试。</p></html>".to_owned()),
            )
                .into_response()
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Layout.
    pub chrome: Chrome,
    /// The status's number.
    pub status: u16,
    /// Heading.
    pub title: String,
    /// What happened, in Chinese.
    pub message: String,
}

/// An error as a page (the API's Chinese message; never its internals).
#[must_use]
pub fn error_page(e: &ApiError) -> Response {
    error_page_for(None, e)
}

/// An error as a page, with the header of `s`.
#[must_use]
pub fn error_page_for(s: Option<&Session>, e: &ApiError) -> Response {
    let title = match e.status.as_u16() {
        403 => "无权办理",
        404 => "未找到",
        409 => "办理冲突",
        422 => "不予办理",
        400 => "信息有误",
        s if s >= 500 => "系统暂不可用",
        _ => "未能办理",
    };
    html(
        e.status,
        &ErrorPage {
            chrome: s.map_or_else(Chrome::anonymous, Chrome::of),
            status: e.status.as_u16(),
            title: title.into(),
            message: if e.status.is_server_error() {
                "系统暂时无法完成该操作，请稍后再试。".into()
            } else {
                e.zh.clone()
            },
        },
    )
}

/// The 404 page.
#[must_use]
pub fn not_found() -> Response {
    error_page(&ApiError::not_found("您要找的页面不存在", "no such page"))
}

/// Percent-encodes one path segment (an id from a URL, put into the path of an API call):
/// everything but letters, digits, `-`, `_` and `~` is escaped, `/` and `.` included, so that a
/// segment never reaches another route.
#[must_use]
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `/` kept).
#[must_use]
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The refusal of a form whose CSRF token is missing or not the session's.
#[must_use]
pub fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        swi_platform::ErrorCode::Forbidden,
        "表单已过期或来源不明，未予办理。请返回页面重新提交。",
        "the form's CSRF token is missing or not this session's",
    )
}

/// `GET /assets/{file}`: the embedded stylesheet and scripts, cached for long (their names
/// change with their content).
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    use axum::http::{HeaderValue, header};
    let Some((body, kind)) = crate::assets::lookup(&format!("/assets/{file}")) else {
        return not_found();
    };
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    r
}

/// An API file passed on as a download named `name` (ASCII).
pub async fn attachment(portal: &crate::Portal, s: &Session, path: &str, name: &str) -> Response {
    file(
        portal,
        s,
        path,
        Some(&format!("attachment; filename=\"{name}\"")),
    )
    .await
}

/// Sends a form's request to the API with the form's idempotency key, and goes to `next` once it
/// is accepted (the API's refusal as the error page otherwise).
pub async fn send(
    portal: &crate::Portal,
    s: &Session,
    method: axum::http::Method,
    path: &str,
    body: &serde_json::Value,
    idem: &str,
    next: String,
) -> Response {
    if idem.len() < 8 || idem.len() > 128 {
        return error_page_for(Some(s), &crate::pages::csrf_refused());
    }
    match portal.call(s, method, path, Some(body), Some(idem)).await {
        Ok(a) if a.ok() => axum::response::Redirect::to(&next).into_response(),
        Ok(a) => error_page_for(Some(s), &a.refusal()),
        Err(e) => error_page_for(Some(s), &e),
    }
}

/// At most `n` characters of a form field (the API checks the rest).
#[must_use]
pub fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// An API file passed on to be shown in the page (an image, a chart), never kept by the browser.
pub async fn inline(portal: &crate::Portal, s: &Session, path: &str) -> Response {
    let mut r = file(portal, s, path, None).await;
    if r.status().is_success() {
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    r
}

/// An API file passed on with its content type, the file policy and `disposition` if any.
async fn file(
    portal: &crate::Portal,
    s: &Session,
    path: &str,
    disposition: Option<&str>,
) -> Response {
    use axum::http::header::{self, HeaderValue};
    match portal.get(s, path).await {
        Ok(a) if a.ok() => {
            let kind = a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            let mut r = (StatusCode::OK, a.bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&kind) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            if let Some(d) = disposition
                && let Ok(v) = HeaderValue::from_str(d)
            {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(crate::headers::FILE_CSP),
            );
            r
        }
        Ok(a) => error_page_for(Some(s), &a.refusal()),
        Err(e) => error_page_for(Some(s), &e),
    }
}
