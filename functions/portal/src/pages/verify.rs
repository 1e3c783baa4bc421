//! The public verification page (no sign-in): a code from an official form, typed or scanned
//! from its QR code, shows what was issued under it — the form, the case, the day, the issuer,
//! nothing personal beyond what the form itself states — and a PDF someone holds is checked,
//! byte for byte, against the one issued (hashed here and forgotten: nothing is stored).

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;
use swi_platform::verification::{Checked, Genuine as Issued, normalise};

use crate::Portal;
use crate::pages::{Chrome, error_page, html};

/// The largest file checked (an official form is a few hundred KiB).
pub const MAX_FILE: usize = 4 << 20;

/// The verification page.
#[derive(Template)]
#[template(path = "verify.html")]
pub struct VerifyPage {
    chrome: Chrome,
    code: String,
    issued: Option<Issued>,
    /// After a file was checked: whether it is the one issued.
    matches: Option<bool>,
    error: Option<String>,
}

fn page(status: StatusCode, v: VerifyPage) -> Response {
    html(status, &v)
}

/// `?code=`: the form that asks for a code.
#[derive(Debug, Deserialize)]
pub struct Asked {
    #[serde(default)]
    code: Option<String>,
}

/// `GET /verify`: type a code (or come with `?code=`).
pub async fn start(Query(q): Query<Asked>) -> Response {
    match q.code.as_deref().map(normalise) {
        Some(Some(code)) => Redirect::to(&format!("/verify/{code}")).into_response(),
        asked => page(
            if asked.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            },
            VerifyPage {
                chrome: Chrome::anonymous(),
                code: q.code.unwrap_or_default().chars().take(20).collect(),
                issued: None,
                matches: None,
                error: asked.map(|_| "核验码为 12 位字母或数字，如 7K3M-Q9TX-2HRB。".to_owned()),
            },
        ),
    }
}

async fn issued(portal: &Portal, code: &str) -> Result<Issued, Response> {
    let Some(code) = normalise(code) else {
        return Err(not_issued(code));
    };
    match portal
        .call_public(Method::GET, &format!("/api/verifications/{code}"), None)
        .await
    {
        Ok(a) if a.ok() => a.into().map_err(|e| error_page(&e)),
        Ok(a) if a.status == StatusCode::NOT_FOUND => Err(not_issued(&code)),
        Ok(a) => Err(error_page(&a.refusal())),
        Err(e) => Err(error_page(&e)),
    }
}

fn not_issued(code: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        VerifyPage {
            chrome: Chrome::anonymous(),
            code: code.chars().take(20).collect(),
            issued: None,
            matches: None,
            error: Some("未找到该核验码：本系统没有以此核验码出具过文书。请核对核验码；如核对无误，该文书并非本系统出具。".into()),
        },
    )
}

/// `GET /verify/{code}`: what was issued under the code.
pub async fn show(State(portal): State<Portal>, Path(code): Path<String>) -> Response {
    match issued(&portal, &code).await {
        Ok(i) => page(
            StatusCode::OK,
            VerifyPage {
                chrome: Chrome::anonymous(),
                code: i.code.clone(),
                issued: Some(i),
                matches: None,
                error: None,
            },
        ),
        Err(r) => r,
    }
}

/// `POST /verify/{code}`: a PDF held, checked against the one issued.
pub async fn check(
    State(portal): State<Portal>,
    Path(code): Path<String>,
    mut form: Multipart,
) -> Response {
    let issued = match issued(&portal, &code).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let refuse = |message: &str| {
        page(
            StatusCode::BAD_REQUEST,
            VerifyPage {
                chrome: Chrome::anonymous(),
                code: issued.code.clone(),
                issued: Some(issued.clone()),
                matches: None,
                error: Some(message.to_owned()),
            },
        )
    };
    let mut hash = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return refuse("未能读取上传的文件，请重新选择文件后提交。"),
        };
        if field.name() != Some("file") {
            continue;
        }
        let mut field = field;
        let mut h = sha2::Sha256::new();
        let mut size = 0usize;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len();
                    if size > MAX_FILE {
                        return refuse("文件超过 4 MB，不是本系统出具的文书。");
                    }
                    h.update(&chunk);
                }
                Ok(None) => break,
                Err(_) => return refuse("未能读取上传的文件，请重新选择文件后提交。"),
            }
        }
        if size == 0 {
            return refuse("请选择要核验的 PDF 文件。");
        }
        hash = Some(hex::encode(h.finalize()));
        break;
    }
    let Some(sha256) = hash else {
        return refuse("请选择要核验的 PDF 文件。");
    };
    let checked: Checked = match portal
        .call_public(
            Method::POST,
            &format!("/api/verifications/{}/check", issued.code),
            Some(&json!({ "sha256": sha256 })),
        )
        .await
        .and_then(|a| a.into())
    {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    page(
        StatusCode::OK,
        VerifyPage {
            chrome: Chrome::anonymous(),
            code: checked.issued.code.clone(),
            issued: Some(checked.issued),
            matches: Some(checked.matches),
            error: None,
        },
    )
}
