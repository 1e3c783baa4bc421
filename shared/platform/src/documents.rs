//! Documents as every step handles them: uploads through a presigned PUT for exactly the
//! announced bytes (S3 itself, or `swi serve` locally, refuses others; scans never pass through
//! the API), types told by their first bytes, and bounded loading of a stored file. Types and
//! sizes are checked before a URL is given, and the bytes' type again when a document is used.

use crate::ErrorCode;
use std::time::Duration;

use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::{ApiError, Platform};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_store::Sha256;
use tokio::io::AsyncReadExt;

/// The largest scan accepted: 20 MiB.
pub const MAX_SCAN_BYTES: u64 = 20 << 20;

/// The largest declaration file accepted: 50 MiB (100,000 rows).
pub const MAX_TABLE_BYTES: u64 = 50 << 20;

/// What a client asks to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// SHA-256 of the file (hex).
    pub sha256: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its media type.
    pub content_type: String,
}

/// Media types accepted for scans.
pub const SCAN_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/tiff"];

/// Media types accepted for tables (declarations, rosters).
pub const TABLE_TYPES: [&str; 2] = [swi_tables::CSV_TYPE, swi_tables::XLSX_TYPE];

/// The media type the first bytes of a file show, if it is one swi accepts.
#[must_use]
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else if head.starts_with(b"PK\x03\x04") {
        Some(swi_tables::XLSX_TYPE)
    } else {
        None
    }
}

/// The type of a stored document, sniffed from its first bytes.
///
/// # Errors
/// 404 when the document is not stored; 503 when the store is unavailable.
pub async fn stored_type(p: &Platform, sha: &Sha256) -> Result<Option<&'static str>, ApiError> {
    let mut reader = p.docs.get(sha).await.map_err(|e| match e {
        swi_store::DocError::NotFound(_) => ApiError::refused(
            ErrorCode::DocumentMissing,
            "文件尚未上传",
            "upload the file first: its SHA-256 is not in the document store",
        ),
        other => ApiError::unavailable(&other),
    })?;
    let mut head = [0u8; 16];
    let mut n = 0;
    while n < head.len() {
        let read = reader
            .read(&mut head[n..])
            .await
            .map_err(|e| ApiError::unavailable(&e))?;
        if read == 0 {
            break;
        }
        n += read;
    }
    Ok(sniff(&head[..n]))
}

/// A presigned upload: PUT the file's bytes to `url` with exactly `headers`, within
/// `expires_in` seconds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PresignedUpload {
    /// The file's SHA-256 (its name once stored).
    pub sha256: String,
    /// Always `PUT`.
    pub method: String,
    /// Where to PUT.
    pub url: String,
    /// Headers the PUT must carry exactly.
    pub headers: std::collections::BTreeMap<String, String>,
    /// Seconds the URL is valid.
    pub expires_in: u64,
}

/// `POST /api/documents/uploads`: a presigned PUT for one scan or declaration file.
///
/// # Errors
/// 400 bad hash; 403; 413 too large; 415 unsupported type.
#[utoipa::path(post, path = "/api/documents/uploads", tag = "documents", request_body = UploadRequest, responses((status = 200, description = "a presigned PUT", body = PresignedUpload), (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn presign(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<UploadRequest>,
) -> Result<axum::Json<PresignedUpload>, ApiError> {
    actor.may(Action::UploadMaterials, None, Owner::Nobody)?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let limit = if SCAN_TYPES.contains(&req.content_type.as_str()) {
        MAX_SCAN_BYTES
    } else if TABLE_TYPES.contains(&req.content_type.as_str()) {
        MAX_TABLE_BYTES
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedType,
            "仅接受 PDF、JPEG、PNG、TIFF 扫描件及 XLSX、CSV 表格",
            format!(
                "accepted types: {} (scans), {} (tables)",
                SCAN_TYPES.join(", "),
                TABLE_TYPES.join(", ")
            ),
        ));
    };
    if req.size == 0 || req.size > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("文件大小须在 1 字节至 {} MB 之间", limit >> 20),
            format!("the file must be 1 byte to {} MiB", limit >> 20),
        ));
    }
    let presigned = p
        .docs
        .presign_put(&sha, req.size, Duration::from_secs(900))
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(axum::Json(PresignedUpload {
        sha256: sha.hex(),
        method: "PUT".into(),
        url: presigned.url,
        headers: presigned.headers.into_iter().collect(),
        expires_in: presigned.expires_in.as_secs(),
    }))
}

/// Requires that a stored document is a scan (PDF, JPEG, PNG, TIFF).
///
/// # Errors
/// 415 for another type; 422 when it is not stored; 503.
pub async fn require_scan(p: &Platform, sha: &Sha256, what_zh: &str) -> Result<(), ApiError> {
    match stored_type(p, sha).await? {
        Some(t) if SCAN_TYPES.contains(&t) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedType,
            format!("{what_zh}须为 PDF、JPEG、PNG 或 TIFF 扫描件"),
            "a scan must be a PDF, JPEG, PNG or TIFF file",
        )),
    }
}

/// Files an uploaded document to a case (`Documents::file`): from now on it is kept (held until
/// the archive sets its retention). Called once the request that uses it has passed its checks,
/// before its transaction is written, so that no record ever names a document that is not
/// filed.
///
/// # Errors
/// 422 `document_missing` (never uploaded, or swept since); 422 `document_corrupt`; 503.
pub async fn file(p: &Platform, sha: &Sha256) -> Result<(), ApiError> {
    match p.docs.file(sha).await {
        Ok(_) => Ok(()),
        Err(swi_store::DocError::NotFound(_)) => Err(ApiError::refused(
            ErrorCode::DocumentMissing,
            "文件尚未上传或已过期，请重新上传",
            "upload the file first: its SHA-256 is not in the document store (uploads not filed within 7 days are removed)",
        )),
        Err(e @ swi_store::DocError::Corrupt { .. }) => {
            tracing::error!(cause = %e, "an upload's bytes changed before filing");
            Err(ApiError::refused(
                ErrorCode::DocumentCorrupt,
                "上传的文件已损坏，请重新上传",
                "the uploaded file's bytes no longer match its SHA-256; upload it again",
            ))
        }
        Err(e) => Err(ApiError::unavailable(&e)),
    }
}

/// The daily sweep of uploads never filed (`documents-sweep`): S3's lifecycle rule removes them
/// in AWS as well; in embedded mode this is what does.
pub struct IncomingSweep;

#[async_trait::async_trait]
impl crate::jobs::Job for IncomingSweep {
    fn name(&self) -> &'static str {
        "documents-sweep"
    }

    fn describe(&self) -> &'static str {
        "removes uploads that no case filed within 7 days"
    }

    fn wake(&self) -> crate::jobs::Wake {
        crate::jobs::Wake::Daily { hour: 3 }
    }

    async fn run(
        &self,
        p: &Platform,
        _deadline: std::time::Instant,
    ) -> Result<crate::jobs::Report, ApiError> {
        let age = Duration::from_secs(swi_store::docs::INCOMING_DAYS * 24 * 3600);
        let removed = p
            .docs
            .sweep_incoming(age)
            .await
            .map_err(|e| ApiError::unavailable(&e))?;
        Ok(crate::jobs::Report {
            job: "documents-sweep",
            done: removed,
            pending: 0,
            errors: Vec::new(),
            summary: format!("{removed} uploads never filed removed"),
            detail: serde_json::json!({ "removed": removed, "days": swi_store::docs::INCOMING_DAYS }),
        })
    }
}

/// A stored document's bytes, refused unread when larger than `limit`.
///
/// # Errors
/// 422 `document_missing`; 413 `too_large`; 503.
pub async fn load_bounded(p: &Platform, sha: &Sha256, limit: u64) -> Result<Vec<u8>, ApiError> {
    let size = p
        .docs
        .head(sha)
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .ok_or_else(|| {
            ApiError::refused(
                ErrorCode::DocumentMissing,
                "文件尚未上传",
                "upload the file first: its SHA-256 is not in the document store",
            )
        })?;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("文件过大（至多 {} MB）", limit >> 20),
            format!("the file is larger than {} MiB", limit >> 20),
        )
    };
    if size > limit {
        return Err(too_large());
    }
    let reader = p
        .docs
        .get(sha)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // A document that grew since `head` is still read no further than the limit.
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A stored table (CSV or XLSX) read within `limits`; `what_zh` names it in errors (申报文件,
/// 花名册).
///
/// # Errors
/// 422 `document_missing`; 413 `too_large` (the file, or what it holds); 415 not a table; 503.
pub async fn load_table(
    p: &Platform,
    sha: &Sha256,
    limits: &swi_tables::Limits,
    what_zh: &str,
) -> Result<swi_tables::Table, ApiError> {
    let bytes = load_bounded(p, sha, limits.max_bytes).await?;
    swi_tables::read(&bytes, limits).map_err(|e| table_error(&e, what_zh))
}

/// The answer to a table that cannot be read.
#[must_use]
pub fn table_error(e: &swi_tables::TableError, what_zh: &str) -> ApiError {
    match e {
        swi_tables::TableError::TooLarge { what, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("{what_zh}超出限制：{what} 至多 {limit}"),
            format!("the table is too large: {what} exceeds {limit}"),
        ),
        swi_tables::TableError::Unreadable(why) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedType,
            format!("{what_zh}须为 XLSX 或 CSV 表格"),
            format!("not an XLSX or CSV table: {why}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"PK\x03\x04...."), Some(TABLE_TYPES[1]));
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(sniff(b""), None);
    }
}
