//! Uploads from a page, straight to the document store (a 20 MiB scan never passes through the
//! portal). A page offers "上传" as a small form naming what the file is for ([`Purpose`]);
//! the upload page then holds a form that posts the file to the store itself under a presigned
//! policy (exact key, size range, type). The store sends the browser back to `/uploads/done`,
//! which registers the upload as the signed-in person's and files it where it belongs, through
//! the same API every client uses. Where JavaScript runs, the page hashes the file (WebCrypto)
//! and PUTs it to a presigned URL instead, then posts its hash to `/uploads/done`.

use askama::Template;
use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use swi_domain::claim::ClaimMaterial;
use swi_domain::enrolment::Material;
use swi_platform::ApiError;
use swi_platform::documents::{PresignedForm, Registered, UploadKind};

use super::forms::wire;
use super::{Chrome, Signed, error_page_for, html, segment, url_encode};
use crate::Portal;
use crate::session::Session;

/// What an uploaded file is for, and so where it is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// A material of a person's enrolment (`PUT /api/enrolments/{id}/materials/{material}`).
    Enrolment {
        /// The enrolment.
        id: String,
        /// The material.
        material: Material,
    },
    /// A material of an injury's claims (`PUT /api/injuries/{id}/materials/{material}`),
    /// uploaded from the injury's page or from one claim's.
    Injury {
        /// The injury.
        id: String,
        /// The material.
        material: ClaimMaterial,
        /// The claim whose page the upload came from.
        claim: Option<String>,
    },
    /// A unit's monthly declaration (`POST /api/units/{code}/declarations`).
    Declaration {
        /// The unit's code.
        unit: String,
        /// `YYYY-MM`.
        month: String,
    },
    /// A bank's return of a batch (`POST /api/payments/batches/{batch}/returns`).
    BankReturn {
        /// The batch.
        batch: String,
        /// The bank's class code.
        bank: String,
    },
    /// The other side's statement of a month, to reconcile against
    /// (`POST /api/payments/reconciliations`).
    Statement {
        /// The county's code.
        county: String,
        /// `YYYY-MM`.
        month: String,
        /// What is reconciled (`contractor_bank`, `agency_tax`, `agency_bank`).
        kind: String,
    },
    /// A scan a form needs (the window's identity check, a city value): the browser goes back
    /// to the form's page with the file's hash, and the form names it.
    Field {
        /// The form's page (a path of this portal).
        back: String,
    },
}

/// An identifier in a purpose: letters, digits, `-` and `_`, at most 64.
fn ident(s: &str) -> Option<String> {
    (!s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)))
    .then(|| s.to_owned())
}

fn closed<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(Value::String(s.to_owned())).ok()
}

impl Purpose {
    /// Reads a purpose from its text (`enrolment/{id}/{material}`, `injury/{id}/{material}`,
    /// `declaration/{unit}/{YYYY-MM}`, `field/{path}`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > 300 {
            return None;
        }
        let (kind, rest) = text.split_once('/')?;
        match kind {
            "field" => {
                let back = format!("/{rest}");
                let safe = back
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_/".contains(&b))
                    && !back.contains("//");
                safe.then_some(Purpose::Field { back })
            }
            _ => {
                let (a, b) = rest.split_once('/')?;
                match kind {
                    "enrolment" => Some(Purpose::Enrolment {
                        id: ident(a)?,
                        material: closed(b)?,
                    }),
                    "injury" => {
                        let (m, claim) = match b.split_once('/') {
                            Some((m, c)) => (m, Some(ident(c)?)),
                            None => (b, None),
                        };
                        Some(Purpose::Injury {
                            id: ident(a)?,
                            material: closed(m)?,
                            claim,
                        })
                    }
                    "bank-return" => Some(Purpose::BankReturn {
                        batch: ident(a)?,
                        bank: swi_payables::account::Bank::of_code(b)?.code().to_owned(),
                    }),
                    "statement" => {
                        let (month, kind) = b.split_once('/')?;
                        let month =
                            chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                                .ok()
                                .map(|d| d.format("%Y-%m").to_string())
                                .filter(|m| m == month)?;
                        matches!(kind, "contractor_bank" | "agency_tax" | "agency_bank")
                            .then(|| Purpose::Statement {
                                county: a.to_owned(),
                                month,
                                kind: kind.to_owned(),
                            })
                            .filter(|_| a.len() == 6 && a.bytes().all(|c| c.is_ascii_digit()))
                    }
                    "declaration" => {
                        let month =
                            chrono::NaiveDate::parse_from_str(&format!("{b}-01"), "%Y-%m-%d")
                                .ok()
                                .map(|d| d.format("%Y-%m").to_string())
                                .filter(|m| m == b)?;
                        Some(Purpose::Declaration {
                            unit: ident(a)?,
                            month,
                        })
                    }
                    _ => None,
                }
            }
        }
    }

    /// Its text.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Purpose::Enrolment { id, material } => format!("enrolment/{id}/{}", wire(material)),
            Purpose::Injury {
                id,
                material,
                claim: None,
            } => format!("injury/{id}/{}", wire(material)),
            Purpose::Injury {
                id,
                material,
                claim: Some(c),
            } => format!("injury/{id}/{}/{c}", wire(material)),
            Purpose::Declaration { unit, month } => format!("declaration/{unit}/{month}"),
            Purpose::BankReturn { batch, bank } => format!("bank-return/{batch}/{bank}"),
            Purpose::Statement {
                county,
                month,
                kind,
            } => format!("statement/{county}/{month}/{kind}"),
            Purpose::Field { back } => format!("field{back}"),
        }
    }

    /// A scan or a table.
    #[must_use]
    pub const fn kind(&self) -> UploadKind {
        match self {
            Purpose::Declaration { .. }
            | Purpose::BankReturn { .. }
            | Purpose::Statement { .. } => UploadKind::Table,
            _ => UploadKind::Scan,
        }
    }

    /// What the file is, in Chinese.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Purpose::Enrolment { material, .. } => material.chinese().to_owned(),
            Purpose::Injury { material, .. } => material.chinese().to_owned(),
            Purpose::Declaration { month, .. } => format!("{month} 人员变动增减表"),
            Purpose::BankReturn { batch, bank } => format!(
                "{batch} {} 回盘文件",
                swi_payables::account::Bank::of_code(bank).map_or("", |b| b.zh())
            ),
            Purpose::Statement { month, .. } => format!("{month} 对账单"),
            Purpose::Field { .. } => "扫描件".to_owned(),
        }
    }

    /// The page the person came from (and goes back to).
    #[must_use]
    pub fn back(&self) -> String {
        match self {
            Purpose::Enrolment { id, .. } => format!("/enrolments/{id}"),
            Purpose::Injury { claim: Some(c), .. } => format!("/claims/{c}"),
            Purpose::Injury { id, .. } => format!("/injuries/{id}"),
            Purpose::Declaration { .. } => "/unit/declarations".to_owned(),
            Purpose::BankReturn { batch, .. } => format!("/payments/batches/{batch}"),
            Purpose::Statement { county, month, .. } => {
                // The month after: the cycle that settles the month reconciled.
                let next = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                    .map_or_else(|| month.clone(), |d| d.format("%Y-%m").to_string());
                format!("/payments/cycles/{county}/{next}")
            }
            Purpose::Field { back } => back.clone(),
        }
    }

    /// Files the registered file where it belongs; answers where the browser goes next.
    async fn file(&self, portal: &Portal, s: &Session, sha256: &str) -> Result<Next, ApiError> {
        let body = json!({ "sha256": sha256 });
        // One filing per file and purpose: a second visit of the same redirect is a retry.
        let idem = format!(
            "upload-{}",
            &swi_store::Sha256::of(format!("{}\n{sha256}", self.text()).as_bytes()).hex()[..40]
        );
        let (method, path, body) = match self {
            Purpose::Enrolment { id, material } => (
                Method::PUT,
                format!(
                    "/api/enrolments/{}/materials/{}",
                    segment(id),
                    wire(material)
                ),
                body,
            ),
            Purpose::Injury { id, material, .. } => (
                Method::PUT,
                format!("/api/injuries/{}/materials/{}", segment(id), wire(material)),
                body,
            ),
            Purpose::Declaration { unit, month } => (
                Method::POST,
                format!("/api/units/{}/declarations", segment(unit)),
                json!({ "month": month, "sha256": sha256 }),
            ),
            Purpose::BankReturn { batch, bank } => (
                Method::POST,
                format!("/api/payments/batches/{}/returns", segment(batch)),
                json!({
                    "bank": swi_payables::account::Bank::of_code(bank).map_or("", |b| b.as_str()),
                    "sha256": sha256,
                }),
            ),
            Purpose::Statement {
                county,
                month,
                kind,
            } => (
                Method::POST,
                "/api/payments/reconciliations".to_owned(),
                json!({ "kind": kind, "county": county, "month": month, "sha256": sha256 }),
            ),
            Purpose::Field { back } => {
                return Ok(Next::Go(format!("{back}?scan={sha256}")));
            }
        };
        let answer = portal
            .call(s, method, &path, Some(&body), Some(&idem))
            .await?;
        if !answer.ok() {
            // A declaration refused whole comes with its rows and report.
            if answer.body.get("rows").is_some() {
                return Ok(Next::Rows(answer.body));
            }
            return Err(answer.refusal());
        }
        Ok(Next::Go(match self {
            Purpose::Declaration { .. } => answer.body["id"].as_str().map_or_else(
                || self.back(),
                |id| format!("/declarations/{}?done=filed", segment(id)),
            ),
            Purpose::Injury { claim: Some(_), .. } => format!("{}?done=uploaded", self.back()),
            Purpose::BankReturn { .. } => format!("{}?done=returned", self.back()),
            Purpose::Statement { .. } => format!("{}?done=reconciled", self.back()),
            _ => format!("{}?uploaded={}", self.back(), wire_of_material(self)),
        }))
    }
}

/// Where the browser goes once a file is filed.
#[derive(Debug)]
enum Next {
    /// On to this page.
    Go(String),
    /// The file was refused whole, with a report of its rows (a declaration).
    Rows(Value),
}

fn wire_of_material(p: &Purpose) -> String {
    match p {
        Purpose::Enrolment { material, .. } => wire(material),
        Purpose::Injury { material, .. } => wire(material),
        _ => String::new(),
    }
}

/// The form of a page's "上传" button (a declaration's also names its month).
#[derive(Debug, Deserialize)]
pub struct StartForm {
    csrf: String,
    to: String,
    #[serde(default)]
    month: Option<String>,
}

/// The upload page: the form that posts the file to the store.
#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    chrome: Chrome,
    label: String,
    back: String,
    to: String,
    form: PresignedForm,
    accept: &'static str,
    max_mb: u64,
    csrf: String,
    /// Why the last file was refused, said next to the file input.
    refused: Option<String>,
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin(url: &str) -> Option<&str> {
    let after = url.find("://")? + 3;
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    Some(&url[..end])
}

/// `POST /uploads/new`: asks the API for a presigned form for what the page named, and shows
/// the upload page. Its policy lets the page post to the store (and, where JavaScript runs,
/// PUT to it).
pub async fn start(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<StartForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let to = match &f.month {
        Some(m) => format!("{}/{}", f.to, m.trim()),
        None => f.to.clone(),
    };
    let Some(purpose) = Purpose::parse(&to) else {
        if f.month.is_some() {
            return error_page_for(
                Some(&s),
                &ApiError::invalid("申报月份须为 YYYY-MM", "`month` must be YYYY-MM"),
            );
        }
        return super::not_found();
    };
    upload_page(&portal, &s, &purpose, StatusCode::OK, None).await
}

/// The upload page for `purpose`, with a fresh presigned form (and, after a refused file, why
/// next to the file input).
async fn upload_page(
    portal: &Portal,
    s: &Session,
    purpose: &Purpose,
    code: StatusCode,
    refused: Option<String>,
) -> Response {
    let redirect = format!(
        "{}/uploads/done?to={}",
        portal.platform.public_url.trim_end_matches('/'),
        url_encode(&purpose.text())
    );
    let asked = portal
        .call(
            s,
            Method::POST,
            "/api/documents/forms",
            Some(&json!({ "kind": purpose.kind(), "redirect": redirect })),
            None,
        )
        .await
        .and_then(|a| a.into::<PresignedForm>());
    let form = match asked {
        Ok(f) => f,
        Err(e) => return error_page_for(Some(s), &e),
    };
    let store = origin(&form.url).unwrap_or("'self'").to_owned();
    let mut r = html(
        code,
        &UploadPage {
            chrome: Chrome::of(s),
            label: purpose.label(),
            back: purpose.back(),
            to: purpose.text(),
            accept: purpose.kind().accept(),
            max_mb: purpose.kind().max_bytes() >> 20,
            csrf: s.csrf.clone(),
            form,
            refused,
        },
    );
    // This page alone may send a form (and, with JavaScript, a PUT) to the store.
    let policy = crate::headers::CSP
        .replace("form-action 'self'", &format!("form-action 'self' {store}"))
        .replace(
            "default-src 'self';",
            &format!("default-src 'self'; connect-src 'self' {store};"),
        );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// Where the store sends the browser back (`key` is the upload's), or what the script posts.
#[derive(Debug, Deserialize)]
pub struct Done {
    to: String,
    #[serde(default)]
    key: Option<String>,
}

/// Registers the upload and files it; the browser goes on to where it belongs, or sees why not.
async fn finish(portal: &Portal, s: &Session, purpose: &Purpose, sha256: &str) -> Response {
    match purpose.file(portal, s, sha256).await {
        Ok(Next::Go(next)) => Redirect::to(&next).into_response(),
        Ok(Next::Rows(body)) => super::declarations::refused(s, &body),
        Err(e) => again(portal, s, purpose, &e).await,
    }
}

/// A file refused (its type, its size, a material the case does not take): the upload page
/// again, the reason next to the file input; anything else as the error page.
async fn again(portal: &Portal, s: &Session, purpose: &Purpose, e: &ApiError) -> Response {
    if matches!(e.status.as_u16(), 400 | 413 | 415 | 422) {
        upload_page(portal, s, purpose, e.status, Some(e.zh.clone())).await
    } else {
        error_page_for(Some(s), e)
    }
}

/// `GET /uploads/done?to=…&key=…`: the store's redirect after a form upload. The upload is
/// registered as the signed-in person's (the API refuses anyone else's), then filed.
pub async fn done(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(d): Query<Done>,
) -> Response {
    let Some(purpose) = Purpose::parse(&d.to) else {
        return super::not_found();
    };
    let Some(id) = d
        .key
        .as_deref()
        .and_then(|k| swi_store::docs::UploadId::parse(k).ok())
    else {
        return super::not_found();
    };
    let registered = portal
        .call(
            &s,
            Method::POST,
            &format!("/api/documents/forms/{}", id.as_str()),
            None,
            None,
        )
        .await
        .and_then(|a| a.into::<Registered>());
    match registered {
        Ok(r) => finish(&portal, &s, &purpose, &r.sha256).await,
        Err(e) => again(&portal, &s, &purpose, &e).await,
    }
}

/// What the script posts once its PUT is stored.
#[derive(Debug, Deserialize)]
pub struct Put {
    csrf: String,
    to: String,
    sha256: String,
}

/// `POST /uploads/done`: the script's upload (a presigned PUT of the bytes it hashed) is filed.
pub async fn put_done(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Form(f): Form<Put>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return error_page_for(Some(&s), &super::csrf_refused());
    }
    let Some(purpose) = Purpose::parse(&f.to) else {
        return super::not_found();
    };
    if swi_store::Sha256::parse(&f.sha256).is_err() {
        return super::not_found();
    }
    finish(&portal, &s, &purpose, &f.sha256.to_ascii_lowercase()).await
}

/// What the script asks for: a presigned PUT for the file it hashed.
#[derive(Debug, Deserialize)]
pub struct PutRequest {
    to: String,
    sha256: String,
    size: u64,
    content_type: String,
}

/// `POST /uploads/put` (JSON, the CSRF token in `X-CSRF-Token`): a presigned PUT for a file
/// the page hashed; the API checks its type and size first.
pub async fn presign_put(
    State(portal): State<Portal>,
    Signed(s): Signed,
    headers: HeaderMap,
    Json(r): Json<PutRequest>,
) -> Response {
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let refuse = |e: ApiError| e.into_response();
    if !s.csrf_ok(token) {
        return refuse(super::csrf_refused());
    }
    if Purpose::parse(&r.to).is_none() {
        return refuse(ApiError::not_found("未找到该上传用途", "no such purpose"));
    }
    match portal
        .call(
            &s,
            Method::POST,
            "/api/documents/uploads",
            Some(&json!({ "sha256": r.sha256, "size": r.size, "content_type": r.content_type })),
            None,
        )
        .await
    {
        Ok(a) if a.ok() => (StatusCode::OK, Json(a.body)).into_response(),
        Ok(a) => refuse(a.refusal()),
        Err(e) => refuse(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_read_back_and_refuse_what_is_not_one() {
        for text in [
            "enrolment/e-123/labour_service_contract",
            "injury/i-9/receipts",
            "injury/i-9/receipts/c-77",
            "declaration/91360702MA35XXXX1X/2026-11",
            "field/window/identities",
        ] {
            assert_eq!(Purpose::parse(text).unwrap().text(), text);
        }
        for bad in [
            "enrolment/e-1/no_such_material",
            "injury/../receipts",
            "declaration/u/2026-13",
            "field//evil.example",
            "field/a?b",
            "other/x/y",
            "",
        ] {
            assert_eq!(Purpose::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("http://127.0.0.1:4566/bucket"),
            Some("http://127.0.0.1:4566")
        );
        assert_eq!(
            origin("https://b.s3.cn-north-1.amazonaws.com.cn"),
            Some("https://b.s3.cn-north-1.amazonaws.com.cn")
        );
    }
}
