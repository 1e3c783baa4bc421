//! Uploads of scanned materials: the API hands out a presigned PUT for exactly the announced
//! bytes (S3 itself, or `swi serve` locally, refuses others); scans never pass through the API.
//! Types and sizes are checked before a URL is given, and the bytes' type again when a scan is
//! filed.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::{ApiError, Platform};
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

/// Media types accepted for declaration tables.
pub const TABLE_TYPES: [&str; 2] = [
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

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
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
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
            "document_missing",
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

/// `POST /api/documents/uploads`: a presigned PUT for one scan or declaration file.
///
/// # Errors
/// 400 bad hash; 403; 413 too large; 415 unsupported type.
#[utoipa::path(post, path = "/api/documents/uploads", tag = "documents", request_body = UploadRequest, responses((status = 200, description = "a presigned PUT", body = Object), (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = swi_platform::error::ErrorBody)), security(("bearer" = [])))]
pub async fn presign(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<UploadRequest>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
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
            "unsupported_type",
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
            "too_large",
            format!("文件大小须在 1 字节至 {} MB 之间", limit >> 20),
            format!("the file must be 1 byte to {} MiB", limit >> 20),
        ));
    }
    let presigned = p
        .docs
        .presign_put(&sha, req.size, Duration::from_secs(900))
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let headers: serde_json::Map<String, Value> = presigned
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    Ok((
        StatusCode::OK,
        axum::Json(json!({
            "sha256": sha.hex(),
            "method": "PUT",
            "url": presigned.url,
            "headers": headers,
            "expires_in": presigned.expires_in.as_secs(),
        })),
    ))
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
