//! Forms anyone can verify. Every official PDF (a project's certificate, a claim's assessment
//! and application forms) carries a verification code and a QR code of its verification URL;
//! the issue is recorded, with the SHA-256 of the PDF as issued, in the transaction that issues
//! it. Anyone — a building-site inspector, a bank, the person — opens the URL and reads
//! "genuine: issued on …, by …, for case …", nothing personal beyond what the form itself
//! states; a PDF they hold is checked against the stored hash, and a file altered by one byte is
//! reported as not what was issued.
//!
//! Keys: `verify#{code}` / `form`, create-only.

use axum::extract::{Path, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use swi_store::{Condition, Item, Key, TxOp};

use crate::json::ApiJson;
use crate::{ApiError, Platform};

/// The code's alphabet: Crockford's base 32 (no I, L, O, U), easy to read aloud and type.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new verification code: 60 random bits as `XXXX-XXXX-XXXX`.
///
/// # Errors
/// No randomness.
pub fn new_code() -> Result<String, ApiError> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal(&e))?;
    let chars: Vec<char> = b
        .iter()
        .map(|x| char::from(ALPHABET[usize::from(x & 31)]))
        .collect();
    Ok(format!(
        "{}-{}-{}",
        chars[..4].iter().collect::<String>(),
        chars[4..8].iter().collect::<String>(),
        chars[8..].iter().collect::<String>()
    ))
}

/// A code as typed, normalised (upper case, `O`→`0`, `I`/`L`→`1`, dashes where they belong),
/// if it can be one.
#[must_use]
pub fn normalise(s: &str) -> Option<String> {
    let raw: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (raw.len() == 12 && raw.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..]))
}

/// The URL a form's QR code carries.
#[must_use]
pub fn url(p: &Platform, code: &str) -> String {
    format!("{}/verify/{code}", p.site())
}

/// An issued form, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Issued {
    /// The verification code.
    pub code: String,
    /// The form's title (e.g. 《补充工伤保险待遇核定表》).
    pub title: String,
    /// The case it was issued for (a claim's or a project's id, as the form states it).
    pub case: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// By (the agency as the form names it).
    pub issuer: String,
    /// The SHA-256 of the PDF as issued.
    pub sha256: String,
}

fn key(code: &str) -> Key {
    Key::new(format!("verify#{code}"), "form")
}

/// The record of an issue, to write in the transaction that issues the form (create-only).
///
/// # Errors
/// Serialization (it does not fail).
pub fn record(issued: &Issued) -> Result<TxOp, ApiError> {
    let k = key(&issued.code);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, issued)?,
        condition: Condition::NotExists,
    })
}

fn unknown() -> ApiError {
    ApiError::not_found(
        "未找到该核验码：请核对核验码，或该文件并非本系统出具",
        "no form was issued with this verification code",
    )
}

async fn load(p: &Platform, code: &str) -> Result<Issued, ApiError> {
    let code = normalise(code).ok_or_else(unknown)?;
    let item = p.state.get(&key(&code)).await?.ok_or_else(unknown)?;
    item.body().map_err(|e| ApiError::internal(&e))
}

/// What anyone may read of an issue: the form, the case, the day, the issuer — never the PDF's
/// hash, which names the stored document (the check compares it without showing it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Genuine {
    /// The verification code.
    pub code: String,
    /// The form's title.
    pub title: String,
    /// The case, as the form states it.
    pub case: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// By.
    pub issuer: String,
}

impl From<Issued> for Genuine {
    fn from(i: Issued) -> Self {
        Genuine {
            code: i.code,
            title: i.title,
            case: i.case,
            issued_on: i.issued_on,
            issuer: i.issuer,
        }
    }
}

/// `GET /api/verifications/{code}`: what was issued under a code — public, no sign-in.
///
/// # Errors
/// 404 unknown code.
#[utoipa::path(get, path = "/api/verifications/{code}", tag = "documents",
    params(("code" = String, Path, description = "the code printed on the form, e.g. 7K3M-Q9TX-2HRB")),
    responses((status = 200, description = "genuine: what was issued", body = Genuine),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)))]
pub async fn get(
    State(p): State<Platform>,
    Path(code): Path<String>,
) -> Result<axum::Json<Genuine>, ApiError> {
    Ok(axum::Json(load(&p, &code).await?.into()))
}

/// A file's hash to compare with what was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The SHA-256 (hex) of the PDF held.
    pub sha256: String,
}

/// The answer of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checked {
    /// Whether the file is, byte for byte, the form issued under the code.
    pub matches: bool,
    /// What was issued.
    pub issued: Genuine,
}

/// `POST /api/verifications/{code}/check`: whether a PDF (by its SHA-256) is the one issued —
/// public, no sign-in; nothing is stored.
///
/// # Errors
/// 400 not a SHA-256; 404 unknown code.
#[utoipa::path(post, path = "/api/verifications/{code}/check", tag = "documents", request_body = Check,
    params(("code" = String, Path)),
    responses((status = 200, description = "whether the file is the one issued", body = Checked),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)))]
pub async fn check(
    State(p): State<Platform>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<Check>,
) -> Result<axum::Json<Checked>, ApiError> {
    let sha = swi_store::Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let issued = load(&p, &code).await?;
    Ok(axum::Json(Checked {
        matches: issued.sha256 == sha.hex(),
        issued: issued.into(),
    }))
}

/// Issues an official form: gives it a new code and its QR code, renders it, stores the PDF
/// content-addressed, and answers its SHA-256 with the operations to write in the transaction
/// that issues it: the record, and its registration to `archive` (`case` and `issuer` as the
/// form states them).
///
/// # Errors
/// 503 the font is missing or the store is unavailable.
pub async fn issue(
    p: &Platform,
    mut form: swi_forms::Form,
    case: &str,
    issuer: &str,
    on: NaiveDate,
    archive: crate::dossier::Filing<'_>,
) -> Result<(String, Vec<TxOp>), ApiError> {
    let code = new_code()?;
    form.verification = Some(swi_forms::Verification {
        code: code.clone(),
        url: url(p, &code),
    });
    let font = swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))?;
    let pdf = swi_forms::render(&font, &form).map_err(|e| ApiError::internal(&e))?;
    let meta = p
        .docs
        .put(&mut pdf.as_slice())
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let sha256 = meta.sha256.hex();
    let mut ops: Vec<TxOp> =
        crate::dossier::register_op(p, crate::dossier::SYSTEM, &meta.sha256, meta.size, archive)
            .await?
            .into_iter()
            .collect();
    ops.push(record(&Issued {
        code,
        title: format!("《{}》", form.title),
        case: case.to_owned(),
        issued_on: on,
        issuer: issuer.to_owned(),
        sha256: sha256.clone(),
    })?);
    Ok((sha256, ops))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly")]
    use super::*;

    #[test]
    fn codes_are_read_back_as_typed_carelessly() {
        let c = new_code().unwrap();
        assert_eq!(c.len(), 14);
        assert_eq!(
            normalise(&c.to_lowercase().replace('-', " ")),
            Some(c.clone())
        );
        assert_eq!(normalise("7k3m-q9tx-2hrb").unwrap(), "7K3M-Q9TX-2HRB");
        assert_eq!(normalise("oooo-iiii-llll").unwrap(), "0000-1111-1111");
        assert_eq!(normalise("7K3M-Q9TX-2HR"), None);
        assert_eq!(normalise("7K3M-Q9TX-2HRU"), None);
    }
}
