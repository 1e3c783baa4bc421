//! The local stand-in for S3's presigned PUT: `PUT /documents/uploads/{sha256}?len&expires&sig`
//! stores the body only if the signature is valid and unexpired and the bytes are exactly the
//! announced length and hash (S3 answers `BadDigest` in that case; so does this). `swi serve`
//! mounts this router; the contract suite exercises it.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::put;
use futures_util::TryStreamExt;
use swi_store::docs::{DocError, Sha256};
use tokio_util::io::StreamReader;

use crate::EmbeddedDocuments;

/// Query parameters of a presigned URL.
#[derive(Debug, serde::Deserialize)]
pub struct Signed {
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
    if !docs.check_upload(&sha256, signed.len, signed.expires, &signed.sig) {
        return (
            StatusCode::FORBIDDEN,
            "AccessDenied: the upload URL is invalid or expired\n",
        );
    }
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut reader = StreamReader::new(stream);
    match docs
        .put_checked(&mut reader, Some((sha256, signed.len)))
        .await
    {
        Ok(_) => (StatusCode::OK, "stored\n"),
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

/// The upload route on `docs`.
pub fn upload_router(docs: Arc<EmbeddedDocuments>) -> Router {
    Router::new()
        .route("/documents/uploads/{sha256}", put(upload))
        .with_state(docs)
}
