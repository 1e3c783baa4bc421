//! Documents as every step handles them: uploads straight to the store (scans never pass
//! through the API) through a presigned PUT for exactly the announced bytes, or a presigned form
//! POST for a browser without JavaScript (registered afterwards by its uploader); types told by
//! their first bytes; bounded loading of a stored file. Types and sizes are checked before a URL
//! is given, and the bytes' type again when a document is used.
//!
//! Every upload goes to a key of its own (`incoming/upload-<id>`, the id given only to the
//! uploader, `upload#<id>` saying whose). A document is used in a case only by someone who had
//! its bytes: their own upload, registered (hashed and moved to its content address), puts them
//! on record as having it (`possession#<hex>` / their `sub`), and from then on their retries and
//! their later cases may name it. Nothing else does: knowing a document's SHA-256 (printed on
//! forms), or that someone's upload of it is waiting, is not enough to file it elsewhere, to
//! read it there, or to learn whether it is stored.

use crate::ErrorCode;
use std::time::Duration;

use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::{ApiError, Platform};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use swi_domain::Action;
use swi_domain::access::{Actor, Owner};
use swi_store::docs::{FormPolicy, UploadId};
use swi_store::{Condition, Item, Key, Sha256, TxOp};
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
/// `expires_in` seconds; then name the file by its SHA-256 in the request that uses it (or
/// register it, `POST /api/documents/forms/{upload_id}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PresignedUpload {
    /// The file's SHA-256 (its name once stored).
    pub sha256: String,
    /// The upload's own id (its key until it is registered).
    pub upload_id: String,
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
    actor.may(Action::Upload, None, Owner::Nobody)?;
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
    let kind = if limit == MAX_SCAN_BYTES {
        UploadKind::Scan
    } else {
        UploadKind::Table
    };
    let id = UploadId::random().map_err(|e| ApiError::unavailable(&e))?;
    // The store expires items on the machine's clock, not the business date.
    let until = swi_store::state::epoch_now() + PENDING_SECS;
    let pending = Pending {
        sub: actor.sub.clone(),
        kind,
        sha256: Some(sha.hex()),
        registered: None,
    };
    let mine = put_key(&sha, &actor.sub);
    p.state
        .transact(vec![
            TxOp::Put {
                item: Item::new(format!("upload#{}", id.as_str()), "upload", &pending)
                    .map_err(|e| ApiError::internal(&e))?
                    .expiring_at(until),
                condition: Condition::NotExists,
            },
            // The newest upload of these bytes by this person is the one a request files.
            TxOp::Put {
                item: Item::new(mine.pk, mine.sk, &serde_json::json!({ "id": id.as_str() }))
                    .map_err(|e| ApiError::internal(&e))?
                    .expiring_at(until),
                condition: Condition::None,
            },
        ])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let presigned = p
        .docs
        .presign_put(&id, &sha, req.size, Duration::from_secs(900))
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(axum::Json(PresignedUpload {
        upload_id: id.as_str().to_owned(),
        sha256: sha.hex(),
        method: "PUT".into(),
        url: presigned.url,
        headers: presigned.headers.into_iter().collect(),
        expires_in: presigned.expires_in.as_secs(),
    }))
}

/// Requires that `actor` has the document (`possess`) and that it is a scan (PDF, JPEG, PNG,
/// TIFF).
///
/// # Errors
/// 415 for another type; 422 when it is not theirs or not stored; 503.
pub async fn require_scan(
    p: &Platform,
    actor: &Actor,
    sha: &Sha256,
    what_zh: &str,
) -> Result<(), ApiError> {
    possess(p, actor, sha).await?;
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

/// Where it is recorded that `sub` had the bytes of `sha`.
fn possession(sha: &Sha256, sub: &str) -> Key {
    Key::new(format!("possession#{}", sha.hex()), sub)
}

/// The write recording that `actor` had the bytes of `sha`.
fn possessed(actor: &Actor, sha: &Sha256, at: i64) -> Result<TxOp, ApiError> {
    possession_op(sha, &actor.sub, at)
}

/// The write recording that the account `sub` had the bytes of `sha` at `at` (for an operator
/// uploading a file on someone's behalf: `swi doc put --for`).
///
/// # Errors
/// None in practice (the record serializes).
pub fn possession_op(sha: &Sha256, sub: &str, at: i64) -> Result<TxOp, ApiError> {
    let key = possession(sha, sub);
    Ok(TxOp::Put {
        item: Item::new(key.pk, key.sk, &serde_json::json!({ "at": at }))
            .map_err(|e| ApiError::internal(&e))?,
        condition: Condition::None,
    })
}

fn missing() -> ApiError {
    ApiError::refused(
        ErrorCode::DocumentMissing,
        "文件尚未上传或已过期，请重新上传",
        "upload the file first: no upload of yours with this SHA-256 is in the document store (uploads not filed within 7 days are removed)",
    )
}

/// Where `sub`'s newest presigned PUT of `sha` is named (`upload-of#<hex>` / `sub`).
fn put_key(sha: &Sha256, sub: &str) -> Key {
    Key::new(format!("upload-of#{}", sha.hex()), sub)
}

/// Makes sure `actor` has the document: on record as having it, or by registering their own
/// presigned PUT of it now (hashed by the store, moved to its content address, recorded).
///
/// # Errors
/// 422 `document_missing` (no upload of theirs with these bytes: never uploaded, someone
/// else's, or swept since); 413; 503.
pub async fn possess(p: &Platform, actor: &Actor, sha: &Sha256) -> Result<(), ApiError> {
    let unavailable = |e: swi_store::StateError| ApiError::unavailable(&e);
    if p.state
        .get(&possession(sha, &actor.sub))
        .await
        .map_err(unavailable)?
        .is_some()
    {
        return Ok(());
    }
    let mine = put_key(sha, &actor.sub);
    let Some(put) = p.state.get(&mine).await.map_err(unavailable)? else {
        return Err(missing());
    };
    let Some(id) = put.body["id"]
        .as_str()
        .and_then(|i| UploadId::parse(i).ok())
    else {
        return Err(missing());
    };
    match p
        .docs
        .register(&id, MAX_TABLE_BYTES.max(MAX_SCAN_BYTES))
        .await
    {
        Ok(meta) if meta.sha256 == *sha => {}
        Ok(meta) => {
            // The store checked the PUT's checksum; a mismatch means the store is broken.
            tracing::error!(expected = %sha, actual = %meta.sha256, "a registered upload is not the presigned hash");
            return Err(ApiError::refused(
                ErrorCode::DocumentCorrupt,
                "上传的文件已损坏，请重新上传",
                "the upload's bytes are not the presigned SHA-256; upload it again",
            ));
        }
        Err(swi_store::DocError::NotFound(_)) => {
            // Never PUT, or registered a moment ago by the same person's other request.
            return match p
                .state
                .get(&possession(sha, &actor.sub))
                .await
                .map_err(unavailable)?
            {
                Some(_) => Ok(()),
                None => Err(missing()),
            };
        }
        Err(e) => return Err(ApiError::unavailable(&e)),
    }
    let at = p.clock.now().timestamp();
    p.state
        .transact(vec![possessed(actor, sha, at)?])
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Files a document to a case for `actor` (`Documents::file`): from now on it is kept (held
/// until the archive sets its retention). Called once the request that uses it has passed its
/// checks, before its transaction is written, so that no record ever names a document that is
/// not filed. The actor must have the bytes ([`possess`]); their upload waiting at its content
/// address is consumed. Answers the operation registering it to `filing` in the archive's
/// registry ([`crate::dossier`]), to write in the same transaction as the change (`None`: it
/// is registered there already).
///
/// # Errors
/// 422 `document_missing` (never uploaded by this actor, or swept since); 422
/// `document_corrupt`; 503.
pub async fn file(
    p: &Platform,
    actor: &Actor,
    sha: &Sha256,
    filing: crate::dossier::Filing<'_>,
) -> Result<Option<TxOp>, ApiError> {
    possess(p, actor, sha).await?;
    match p.docs.file(sha).await {
        Ok(filed) => crate::dossier::register_op(p, actor.into(), sha, filed.size, filing).await,
        Err(swi_store::DocError::NotFound(_)) => Err(missing()),
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

/// Stores a document the system made in a case's work (a payment request, a bank's payment
/// file, an annual report) as filed, and answers its name and the operation registering it to
/// `filing` in the archive, to write in the same transaction as the change that names it.
///
/// # Errors
/// 503 the store.
pub async fn keep(
    p: &Platform,
    actor: &Actor,
    bytes: &[u8],
    filing: crate::dossier::Filing<'_>,
) -> Result<(Sha256, Option<TxOp>), ApiError> {
    let meta = p
        .docs
        .put(&mut &bytes[..])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let op = crate::dossier::register_op(p, actor.into(), &meta.sha256, meta.size, filing).await?;
    Ok((meta.sha256, op))
}

/// Bytes the server receives on someone's behalf (a seed, `swi doc put --for`): stored as an
/// upload and recorded as `sub`'s, as their own registered upload would be.
///
/// # Errors
/// 413 over `max_len`; 503.
pub async fn received(
    p: &Platform,
    sub: &str,
    body: &mut (dyn tokio::io::AsyncRead + Send + Unpin),
    max_len: u64,
) -> Result<Sha256, ApiError> {
    let meta = p.docs.receive(body, max_len).await.map_err(|e| match e {
        swi_store::DocError::TooLarge { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("文件不得超过 {} MB", limit >> 20),
            format!("the file exceeds {limit} bytes"),
        ),
        other => ApiError::unavailable(&other),
    })?;
    let key = possession(&meta.sha256, sub);
    p.state
        .transact(vec![TxOp::Put {
            item: Item::new(
                key.pk,
                key.sk,
                &serde_json::json!({ "at": p.clock.now().timestamp() }),
            )
            .map_err(|e| ApiError::internal(&e))?,
            condition: Condition::None,
        }])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(meta.sha256)
}

/// What a browser form uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    /// A scan: PDF, JPEG, PNG or TIFF, at most 20 MiB.
    Scan,
    /// A table: XLSX or CSV, at most 50 MiB.
    Table,
}

impl UploadKind {
    /// The largest file of this kind.
    #[must_use]
    pub const fn max_bytes(self) -> u64 {
        match self {
            UploadKind::Scan => MAX_SCAN_BYTES,
            UploadKind::Table => MAX_TABLE_BYTES,
        }
    }

    /// The media types of this kind.
    #[must_use]
    pub fn types(self) -> &'static [&'static str] {
        match self {
            UploadKind::Scan => &SCAN_TYPES,
            UploadKind::Table => &TABLE_TYPES,
        }
    }

    /// What the browser's file picker offers (`accept`).
    #[must_use]
    pub const fn accept(self) -> &'static str {
        match self {
            UploadKind::Scan => {
                ".pdf,.jpg,.jpeg,.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff"
            }
            UploadKind::Table => {
                ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

/// What a client asks for to upload through a browser form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormRequest {
    /// A scan or a table.
    pub kind: UploadKind,
    /// Where the store sends the browser once the file is stored: a URL of this system.
    pub redirect: String,
}

/// A presigned form: post `fields` in order, then the file as `file`, to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PresignedForm {
    /// The upload's name, to register it once posted.
    pub upload_id: String,
    /// Where to post.
    pub url: String,
    /// The form's fields before the file, in order (name, value).
    pub fields: Vec<(String, String)>,
    /// The largest file accepted, in bytes.
    pub max_size: u64,
    /// Seconds the form is valid.
    pub expires_in: u64,
}

/// What a registered upload is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registered {
    /// Its SHA-256: the name to file it by.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its type, from its first bytes.
    pub content_type: String,
}

/// Who asked for an upload, of what kind (`upload#<id>`), the hash a PUT announced, and the
/// registration once made (a second registration answers the first).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    sub: String,
    kind: UploadKind,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    registered: Option<Registered>,
}

/// Seconds a form stays valid: long enough to pick a file and send 20 MiB over a slow line.
const FORM_SECS: u64 = 3600;

/// Seconds an upload's record is kept: a day, within the uploads' seven.
const PENDING_SECS: i64 = 24 * 3600;

/// The one content type a form upload declares: what the bytes are is sniffed at registration,
/// and nothing in the bucket is ever labelled as a page.
pub const FORM_CONTENT_TYPE: &str = "application/octet-stream";

/// `POST /api/documents/forms`: a presigned form (S3's POST policy) through which a browser
/// without JavaScript uploads one scan or table straight to the store; register it afterwards.
///
/// # Errors
/// 400 a redirect outside this system; 403.
#[utoipa::path(post, path = "/api/documents/forms", tag = "documents", request_body = FormRequest, responses((status = 200, description = "a presigned form", body = PresignedForm), (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn presign_form(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<FormRequest>,
) -> Result<axum::Json<PresignedForm>, ApiError> {
    actor.may(Action::Upload, None, Owner::Nobody)?;
    let base = format!("{}/", p.public_url.trim_end_matches('/'));
    if !req.redirect.starts_with(&base) || req.redirect.len() > 1024 {
        return Err(ApiError::invalid(
            "上传后的返回地址不正确",
            format!("the redirect must be a URL of this system, under {base}"),
        ));
    }
    let id = UploadId::random().map_err(|e| ApiError::unavailable(&e))?;
    // The store expires items on the machine's clock, not the business date.
    let now = swi_store::state::epoch_now();
    let item = Item::new(
        format!("upload#{}", id.as_str()),
        "upload",
        &Pending {
            sub: actor.sub.clone(),
            kind: req.kind,
            sha256: None,
            registered: None,
        },
    )
    .map_err(|e| ApiError::internal(&e))?
    .expiring_at(now + PENDING_SECS);
    p.state
        .transact(vec![TxOp::Put {
            item,
            condition: Condition::NotExists,
        }])
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let form = p
        .docs
        .presign_post(&FormPolicy {
            id: id.clone(),
            content_type: FORM_CONTENT_TYPE.into(),
            max_len: req.kind.max_bytes(),
            redirect: req.redirect,
            expires_in: Duration::from_secs(FORM_SECS),
        })
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(axum::Json(PresignedForm {
        upload_id: id.as_str().to_owned(),
        url: form.url,
        fields: form.fields,
        max_size: req.kind.max_bytes(),
        expires_in: FORM_SECS,
    }))
}

/// `POST /api/documents/forms/{id}`: registers a form upload by the one who asked for the form:
/// the store hashes it and moves it to its content address; its type is told by its first bytes
/// and must be of the kind asked for. From then on its uploader may file it by its SHA-256.
///
/// # Errors
/// 404 no such form of this actor's, or nothing posted to it; 413; 415; 503.
#[utoipa::path(post, path = "/api/documents/forms/{id}", tag = "documents", params(("id" = String, Path, description = "the upload's id")), responses((status = 200, description = "registered", body = Registered), (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody), (status = "5XX", description = "unavailable or internal", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn register_form(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::Json<Registered>, ApiError> {
    actor.may(Action::Upload, None, Owner::Nobody)?;
    let not_found = || ApiError::not_found("未找到该上传，请重新上传", "no such upload of yours");
    let id = UploadId::parse(&id).map_err(|_| not_found())?;
    let key = Key::new(format!("upload#{}", id.as_str()), "upload");
    let item = p
        .state
        .get(&key)
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .ok_or_else(not_found)?;
    let mut pending: Pending = item.body().map_err(|e| ApiError::internal(&e))?;
    if pending.sub != actor.sub {
        return Err(not_found());
    }
    if let Some(done) = pending.registered {
        // Registered already (a reloaded page): the same answer.
        return Ok(axum::Json(done));
    }
    let meta = match p.docs.register(&id, pending.kind.max_bytes()).await {
        Ok(m) => m,
        Err(swi_store::DocError::NotFound(_)) => return Err(not_found()),
        Err(swi_store::DocError::TooLarge { limit, .. }) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!("文件大小须在 1 字节至 {} MB 之间", limit >> 20),
                format!("the file must be 1 byte to {} MiB", limit >> 20),
            ));
        }
        Err(e) => return Err(ApiError::unavailable(&e)),
    };
    let sniffed = stored_type(&p, &meta.sha256).await?;
    let told = match pending.kind {
        UploadKind::Scan => sniffed,
        // A CSV has no signature: what is not another known type is read as text (and its rows
        // checked by the step that uses it).
        UploadKind::Table => sniffed.or(Some(swi_tables::CSV_TYPE)),
    };
    let Some(content_type) = told.filter(|t| pending.kind.types().contains(t)) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedType,
            match pending.kind {
                UploadKind::Scan => "扫描件须为 PDF、JPEG、PNG 或 TIFF 文件",
                UploadKind::Table => "表格须为 XLSX 或 CSV 文件",
            },
            format!("accepted types: {}", pending.kind.types().join(", ")),
        ));
    };
    // Registered once; its uploader is on record as having the bytes.
    let done = Registered {
        sha256: meta.sha256.hex(),
        size: meta.size,
        content_type: content_type.to_owned(),
    };
    pending.registered = Some(done.clone());
    let at = p.clock.now().timestamp();
    let mut again =
        Item::new(key.pk.clone(), key.sk.clone(), &pending).map_err(|e| ApiError::internal(&e))?;
    again.expires_at = item.expires_at;
    again.version = item.version;
    match p
        .state
        .transact(vec![
            TxOp::Put {
                item: again,
                condition: Condition::VersionIs(item.version),
            },
            possessed(&actor, &meta.sha256, at)?,
        ])
        .await
    {
        Ok(()) => Ok(axum::Json(done)),
        // A concurrent registration of the same upload won: its answer.
        Err(swi_store::StateError::Conflict { .. }) => {
            let now: Option<Pending> = p
                .state
                .get(&key)
                .await
                .map_err(|e| ApiError::unavailable(&e))?
                .map(|i| i.body())
                .transpose()
                .map_err(|e| ApiError::internal(&e))?;
            now.and_then(|n| n.registered)
                .map(axum::Json)
                .ok_or_else(not_found)
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
