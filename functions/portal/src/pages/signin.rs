//! Signing in and out. The sign-in form has a CSRF token of its own (a double-submit cookie, as
//! there is no session yet); a wrong name or password is one message, never which; a locked
//! account says until when. A success starts a session and goes where the person was going
//! (a local path only); signing out ends the session on the server.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::Portal;
use crate::accounts::{self, LOCKED_SECS, MAX_FAILURES, SignIn};
use crate::pages::Signed;
use crate::pages::{Chrome, error_page, html};
use crate::session::{self, COOKIE, SIGNIN_COOKIE, cookie, random_token, set_cookie};

/// The sign-in page.
#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    max_failures: u32,
    locked_minutes: i64,
    /// The identity provider's button, where one is configured.
    provider: Option<String>,
}

/// `?next=`.
#[derive(Debug, Deserialize)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Only a path of this site (never `//host` or a scheme), bounded.
fn local(next: Option<&str>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.starts_with("/\\")
            && n.len() <= 512
            && !n.chars().any(char::is_control)
    })
    .unwrap_or("/")
    .to_owned()
}

fn page(
    portal: &Portal,
    status: StatusCode,
    next: String,
    username: String,
    error: Option<String>,
) -> Response {
    let csrf = match random_token() {
        Ok(t) => t,
        Err(e) => return error_page(&e),
    };
    let mut r = html(
        status,
        &SignInPage {
            chrome: Chrome::anonymous(),
            csrf: csrf.clone(),
            next,
            username,
            error,
            max_failures: MAX_FAILURES,
            locked_minutes: LOCKED_SECS / 60,
            provider: portal.oidc.as_ref().map(|o| o.config().label.clone()),
        },
    );
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, &csrf, None));
    r
}

/// `GET /signin`.
pub async fn form(State(portal): State<Portal>, Query(q): Query<Next>) -> Response {
    page(
        &portal,
        StatusCode::OK,
        local(q.next.as_deref()),
        String::new(),
        None,
    )
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /signin`.
pub async fn submit(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let next = local(Some(&f.next));
    let shown_name: String = f.username.chars().take(64).collect();
    let expected = cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty()
        || expected.len() != f.csrf.len()
        || !bool::from(expected.as_bytes().ct_eq(f.csrf.as_bytes()))
    {
        return page(
            &portal,
            StatusCode::FORBIDDEN,
            next,
            shown_name,
            Some("页面已过期或来源不明，请重新提交登录表单。".into()),
        );
    }
    let now = swi_store::state::epoch_now();
    let outcome = match accounts::sign_in(&portal.platform, &f.username, &f.password, now).await {
        Ok(o) => o,
        Err(e) => return error_page(&e),
    };
    match outcome {
        SignIn::Accepted(account) => {
            // A session this browser had is ended: one sign-in, one session.
            if let Some(old) = cookie(&headers, COOKIE)
                && let Ok(Some(s)) = session::find(&portal.platform, old, now).await
            {
                let _ = session::end(&portal.platform, &s).await;
            }
            match session::start(&portal.platform, &account, now).await {
                Ok(id) => {
                    tracing::info!(sub = %account.sub, role = account.role.as_str(), "signed in");
                    let mut r = Redirect::to(&next).into_response();
                    r.headers_mut()
                        .append(header::SET_COOKIE, set_cookie(COOKIE, &id, None));
                    r.headers_mut()
                        .append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, "", Some(0)));
                    r
                }
                Err(e) => error_page(&e),
            }
        }
        SignIn::Refused => {
            tracing::warn!(user = %log_name(&f.username), "sign-in refused");
            page(
                &portal,
                StatusCode::UNAUTHORIZED,
                next,
                shown_name,
                Some("用户名或密码不正确。".into()),
            )
        }
        SignIn::Locked(until) => {
            tracing::warn!(user = %log_name(&f.username), until, "sign-in refused: locked");
            let minutes = ((until - now) + 59) / 60;
            page(
                &portal,
                StatusCode::TOO_MANY_REQUESTS,
                next,
                shown_name,
                Some(format!(
                    "密码错误次数过多，账户已锁定，请约 {minutes} 分钟后再试。"
                )),
            )
        }
    }
}

/// The cookie binding a provider sign-in to the browser that began it.
const OIDC_COOKIE: &str = "swi_oidc";

/// `GET /signin/oidc?next=`: to the identity provider (where one is configured).
pub async fn oidc_begin(State(portal): State<Portal>, Query(q): Query<Next>) -> Response {
    let Some(oidc) = portal.oidc.clone() else {
        return crate::pages::not_found();
    };
    match oidc
        .begin(&portal.platform, &local(q.next.as_deref()))
        .await
    {
        Ok((url, state)) => {
            let mut r = Redirect::to(&url).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(OIDC_COOKIE, &state, Some(600)),
            );
            r
        }
        Err(e) => error_page(&e),
    }
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /signin/callback?code&state`: the provider's answer. The state must be the one this
/// browser began with; the code is exchanged and the ID token checked (`oidc`); a real name
/// the provider vouches for links the account to its ID number; then the session starts.
pub async fn oidc_callback(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(c): Query<Callback>,
) -> Response {
    let Some(oidc) = portal.oidc.clone() else {
        return crate::pages::not_found();
    };
    let refused = |why: &str| {
        page(
            &portal,
            StatusCode::BAD_REQUEST,
            "/".into(),
            String::new(),
            Some(format!("统一身份认证未完成：{why}请重新登录。")),
        )
    };
    if c.error.is_some() {
        return refused("您在认证服务处取消了登录或认证未通过。");
    }
    let (Some(code), Some(state)) = (c.code, c.state) else {
        return refused("返回的信息不完整。");
    };
    let began = cookie(&headers, OIDC_COOKIE).unwrap_or_default();
    if began.len() != state.len() || !bool::from(began.as_bytes().ct_eq(state.as_bytes())) {
        return refused("登录不是从本浏览器发起的。");
    }
    let (who, next) = match oidc.finish(&portal.platform, &state, &code).await {
        Ok(x) => x,
        Err(e) if e.status.is_client_error() => return refused("登录已过期或无效。"),
        Err(e) => return error_page(&e),
    };
    if let Some((name, id)) = &who.real_name
        && let Err(e) = swi_platform::identity::link_verified_by_provider(
            &portal.platform,
            &who.account.sub,
            name,
            id,
            &oidc.config().issuer,
        )
        .await
    {
        tracing::warn!(sub = %who.account.sub, code = e.code.as_str(), "the provider's real name was not linked");
    }
    let now = swi_store::state::epoch_now();
    if let Some(old) = cookie(&headers, COOKIE)
        && let Ok(Some(s)) = session::find(&portal.platform, old, now).await
    {
        let _ = session::end(&portal.platform, &s).await;
    }
    match session::start(&portal.platform, &who.account, now).await {
        Ok(id) => {
            tracing::info!(sub = %who.account.sub, role = who.account.role.as_str(), "signed in through the identity provider");
            let mut r = Redirect::to(&local(Some(&next))).into_response();
            r.headers_mut()
                .append(header::SET_COOKIE, set_cookie(COOKIE, &id, None));
            r.headers_mut()
                .append(header::SET_COOKIE, set_cookie(OIDC_COOKIE, "", Some(0)));
            r
        }
        Err(e) => error_page(&e),
    }
}

/// A user name as logged: at most 32 characters of what was sent, never a password.
fn log_name(s: &str) -> String {
    s.trim().chars().take(32).collect()
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: ends the session; its cookie is worthless from now on.
pub async fn sign_out(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<SignOutForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return crate::pages::error_page_for(Some(&s), &crate::pages::csrf_refused());
    }
    if let Err(e) = session::end(&portal.platform, &s).await {
        return error_page(&e);
    }
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(COOKIE, "", Some(0)));
    r
}
