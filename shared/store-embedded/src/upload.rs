//! The local stand-ins for S3's presigned uploads. `PUT /documents/uploads/{sha256}?id&len&expires&sig`
//! stores the body under `incoming/upload-<id>` only if the signature is valid and unexpired
//! and the bytes are exactly the announced length and hash (S3 answers `BadDigest` in that
//! case; so does this). `POST /documents/uploads` takes a browser's form as S3's POST policy
//! does: the signed policy names the exact key, type, redirect and largest size; the file (the
//! last field) is stored under `incoming/upload-<id>` and the browser is sent to the redirect
//! with `key` in its query.
//! `swi serve` mounts this router; the contract suite exercises it.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{post, put};
use futures_util::TryStreamExt;
use swi_store::docs::{DocError, Sha256, UploadId};
use tokio_util::io::StreamReader;

use crate::EmbeddedDocuments;

/// Query parameters of a presigned URL.
#[derive(Debug, serde::Deserialize)]
pub struct Signed {
    id: String,
    len: u64,
    expires: u64,
    sig: String,
}

async fn upload(
    State(docs): State<Arc<EmbeddedDocuments>>,
    Path(hex): Path<String>,
    Query(signed): Query<Signed>,
    body: Body,
) -> (StatusCode, &'static str) {
    let Ok(sha256) = Sha256::parse(&hex) else {
        return (StatusCode::BAD_REQUEST, "InvalidDigest: not a SHA-256\n");
    };
    let Ok(id) = UploadId::parse(&signed.id) else {
        return (
            StatusCode::FORBIDDEN,
            "AccessDenied: the upload URL is invalid or expired\n",
        );
    };
    if !docs.check_upload(&id, &sha256, signed.len, signed.expires, &signed.sig) {
        return (
            StatusCode::FORBIDDEN,
            "AccessDenied: the upload URL is invalid or expired\n",
        );
    }
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut reader = StreamReader::new(stream);
    match docs.put_upload(&mut reader, &id, sha256, signed.len).await {
        Ok(_) => (StatusCode::OK, "stored\n"),
        Err(DocError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => (
            StatusCode::FORBIDDEN,
            "AccessDenied: the upload URL was used already\n",
        ),
        Err(DocError::Corrupt { .. } | DocError::TooLarge { .. }) => (
            StatusCode::BAD_REQUEST,
            "BadDigest: the body does not match the announced SHA-256 and length\n",
        ),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError: the document could not be stored\n",
        ),
    }
}

/// The most bytes of one form field before the file (policies are well under 2 KiB).
const MAX_FIELD_BYTES: usize = 8 << 10;
/// The most fields before the file.
const MAX_FIELDS: usize = 16;

fn refused(status: StatusCode, why: &str) -> Response {
    (status, format!("{why}\n")).into_response()
}

/// A text field, refused past [`MAX_FIELD_BYTES`] before it is buffered whole.
async fn small_text(mut field: Field<'_>) -> Option<String> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        if out.len() + chunk.len() > MAX_FIELD_BYTES {
            return None;
        }
        out.extend_from_slice(&chunk);
    }
    String::from_utf8(out).ok()
}

async fn upload_form(State(docs): State<Arc<EmbeddedDocuments>>, mut form: Multipart) -> Response {
    let mut fields: Vec<(String, String)> = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return refused(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument: POST requires exactly one file upload per request.",
                );
            }
            Err(_) => return refused(StatusCode::BAD_REQUEST, "MalformedPOSTRequest"),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let policy = match docs.check_form(&fields) {
                Ok(p) => p,
                Err(why) => return refused(StatusCode::FORBIDDEN, why),
            };
            let stream = field.map_err(std::io::Error::other);
            let mut reader = StreamReader::new(stream);
            return match docs.put_form(&mut reader, &policy.id, policy.max_len).await {
                Ok(meta) if meta.size == 0 => {
                    let _ = tokio::fs::remove_file(docs.upload_path(&policy.id)).await;
                    refused(
                        StatusCode::BAD_REQUEST,
                        "EntityTooSmall: Your proposed upload is smaller than the minimum allowed size",
                    )
                }
                Ok(meta) => {
                    let sep = if policy.redirect.contains('?') {
                        '&'
                    } else {
                        '?'
                    };
                    Redirect::to(&format!(
                        "{}{sep}bucket=documents&key={}&etag=%22{}%22",
                        policy.redirect,
                        policy.id.key().replace('/', "%2F"),
                        &meta.sha256.hex()[..32]
                    ))
                    .into_response()
                }
                Err(DocError::TooLarge { .. }) => refused(
                    StatusCode::BAD_REQUEST,
                    "EntityTooLarge: Your proposed upload exceeds the maximum allowed size",
                ),
                Err(DocError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => refused(
                    StatusCode::FORBIDDEN,
                    "AccessDenied: the form was used already",
                ),
                Err(_) => refused(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError: the document could not be stored",
                ),
            };
        }
        if fields.len() >= MAX_FIELDS {
            return refused(
                StatusCode::BAD_REQUEST,
                "MalformedPOSTRequest: too many fields",
            );
        }
        let Some(value) = small_text(field).await else {
            return refused(
                StatusCode::BAD_REQUEST,
                "MalformedPOSTRequest: a field is too long",
            );
        };
        fields.push((name, value));
    }
}

/// The upload routes on `docs`.
pub fn upload_router(docs: Arc<EmbeddedDocuments>) -> Router {
    Router::new()
        .route("/documents/uploads/{sha256}", put(upload))
        // The policy bounds the file; the body limit is the store's own.
        .route(
            "/documents/uploads",
            post(upload_form).layer(DefaultBodyLimit::max(
                usize::try_from(crate::documents::MAX_DOCUMENT_BYTES).unwrap_or(usize::MAX),
            )),
        )
        .with_state(docs)
}
