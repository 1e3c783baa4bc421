//! The document port: scanned files named by their SHA-256, written create-only and re-hashed on
//! every read, so that a file that changed on disk or in the bucket can never be served as the
//! document it claims to be.
//!
//! Two areas. A client's upload lands under `incoming/`: unlocked, and removed after
//! [`INCOMING_DAYS`] unless filed (S3's lifecycle rule; `sweep_incoming` in embedded mode).
//! Each upload has a key of its own, `incoming/upload-<id>` (an [`UploadId`] only its uploader
//! was given): a presigned PUT (the client hashed the file; the store refuses other bytes) or a
//! presigned form POST (a browser without JavaScript cannot hash); [`Documents::register`]
//! hashes it and moves it to `incoming/<hex>`. Filing an upload to a case
//! ([`Documents::file`]) copies it to `sha256/<hex>`, checksummed by the store and held (S3's
//! legal hold) until the archive sets its retention, and consumes the upload; what the system
//! makes itself (certificates, reports) is put there directly. Reads by hash find a document in
//! either area.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use sha2::Digest;
use tokio::io::{AsyncRead, ReadBuf};

/// A SHA-256 digest: the name of a document.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256([u8; 32]);

impl Sha256 {
    /// From 64 lowercase or uppercase hex digits.
    ///
    /// # Errors
    /// `InvalidHash` for anything else.
    pub fn parse(hex_text: &str) -> Result<Self, DocError> {
        let mut out = [0u8; 32];
        if hex_text.len() != 64 || hex::decode_to_slice(hex_text, &mut out).is_err() {
            return Err(DocError::InvalidHash(hex_text.chars().take(80).collect()));
        }
        Ok(Sha256(out))
    }

    /// From raw digest bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256(bytes)
    }

    /// The digest of `data`.
    #[must_use]
    pub fn of(data: &[u8]) -> Self {
        Sha256(sha2::Sha256::digest(data).into())
    }

    /// The raw digest.
    #[must_use]
    pub const fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    #[must_use]
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The storage key of the filed document: `sha256/<hex>`.
    #[must_use]
    pub fn key(&self) -> String {
        format!("sha256/{}", self.hex())
    }

    /// The storage key of an upload not yet filed: `incoming/<hex>`.
    #[must_use]
    pub fn incoming_key(&self) -> String {
        format!("incoming/{}", self.hex())
    }

    /// Base64 of the digest, as S3's `x-amz-checksum-sha256` carries it.
    #[must_use]
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.hex())
    }
}

/// Days an upload stays under `incoming/` unless filed (`template.yaml`'s lifecycle rule has the
/// same number).
pub const INCOMING_DAYS: u64 = 7;

/// What a put stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocMeta {
    /// The document's name.
    pub sha256: Sha256,
    /// Its length in bytes.
    pub size: u64,
    /// False when the same bytes were already stored (the put was a no-op).
    pub created: bool,
}

/// A presigned upload: a client PUTs the exact bytes to `url` with `headers`; the store refuses
/// any other bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPut {
    /// Where to PUT.
    pub url: String,
    /// Headers the PUT must carry exactly.
    pub headers: Vec<(String, String)>,
    /// How long the URL is valid.
    pub expires_in: Duration,
}

/// A presigned form upload (S3's POST policy): a browser posts a `multipart/form-data` form to
/// `url` with `fields` (in this order) and then the file as the field `file`; the store accepts
/// only 1 to `max_len` bytes of the given content type under exactly the form's key, then
/// answers `303 See Other` to the redirect with `key` in its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPost {
    /// Where to post.
    pub url: String,
    /// The form's fields before the file, in order.
    pub fields: Vec<(String, String)>,
    /// How long the form is valid.
    pub expires_in: Duration,
}

/// What a form upload must be: its key, type, size and where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPolicy {
    /// The upload's name.
    pub id: UploadId,
    /// The exact `Content-Type` the form must declare.
    pub content_type: String,
    /// The most bytes accepted.
    pub max_len: u64,
    /// Where the browser is sent once the file is stored (`key` is added to its query).
    pub redirect: String,
    /// How long the form is valid.
    pub expires_in: Duration,
}

/// The name of an upload not yet registered: 128 random bits in hex, given only to its
/// uploader.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl UploadId {
    /// A new random id.
    ///
    /// # Errors
    /// `Unavailable` when the system has no randomness.
    pub fn random() -> Result<Self, DocError> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| DocError::Unavailable(e.to_string()))?;
        Ok(UploadId(hex::encode(b)))
    }

    /// From its text (32 lowercase hex digits) or from its storage key.
    ///
    /// # Errors
    /// `InvalidHash` for anything else.
    pub fn parse(text: &str) -> Result<Self, DocError> {
        let id = text.strip_prefix("incoming/upload-").unwrap_or(text);
        if id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(UploadId(id.to_owned()))
        } else {
            Err(DocError::InvalidHash(text.chars().take(80).collect()))
        }
    }

    /// The id's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The storage key of the upload: `incoming/upload-<id>`.
    #[must_use]
    pub fn key(&self) -> String {
        format!("incoming/upload-{}", self.0)
    }
}

/// What filing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    /// The document's size.
    pub size: u64,
    /// True when an upload of these bytes was consumed (its uploader had the bytes); false when
    /// the document was filed already and no upload was waiting.
    pub from_upload: bool,
}

/// How long the store keeps a filed document (the archive decides, per its volumes' periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// For ever: under legal hold.
    Permanently,
    /// Locked until this day (China time) at least; a later lock it has stays.
    Until(chrono::NaiveDate),
}

/// How the store protects a filed document now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// Under legal hold (every filed document until the archive sets its period; permanent
    /// ones for ever).
    pub held: bool,
    /// Locked (S3 Object Lock in COMPLIANCE mode; the registry's date in embedded mode) until
    /// this day.
    pub until: Option<chrono::NaiveDate>,
    /// Its bytes cannot be written in place (a read-only file; S3 objects always).
    pub read_only: bool,
}

/// The result of re-hashing every stored document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Documents whose bytes match their name.
    pub ok: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Documents whose bytes do not match their name (key, what the bytes hash to).
    pub mismatched: Vec<(String, String)>,
    /// Entries that are not documents at all (stray or temporary files, foreign keys).
    pub foreign: Vec<String>,
}

/// Errors of the document port.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Not a SHA-256 in hex.
    #[error("`{0}` is not a SHA-256 (64 hex digits)")]
    InvalidHash(String),
    /// No document with that hash.
    #[error("no document sha256/{0}")]
    NotFound(Sha256),
    /// The stored bytes no longer hash to the document's name.
    #[error("document sha256/{expected} is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The name.
        expected: Sha256,
        /// What the bytes hash to.
        actual: Sha256,
    },
    /// Larger than the store accepts.
    #[error("document of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Bytes received.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading the input or writing the store failed.
    #[error("document I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The backend is unavailable or failed.
    #[error("document store unavailable: {0}")]
    Unavailable(String),
    /// A document the store keeps (held, or locked until a later day) cannot be removed.
    #[error("document sha256/{sha256} is kept (held: {held}, until: {until:?})")]
    Retained {
        /// The document.
        sha256: Sha256,
        /// Under legal hold.
        held: bool,
        /// Locked until.
        until: Option<chrono::NaiveDate>,
    },
}

/// A document being read; its bytes are re-hashed as they pass and the last read fails with
/// `InvalidData` if they do not match the document's name.
pub type DocReader = Pin<Box<dyn AsyncRead + Send>>;

/// The document port. Both backends MUST behave identically; the contract suite checks it.
#[async_trait]
pub trait Documents: Send + Sync {
    /// Stores the bytes read from `body` under their SHA-256, computed while streaming, as a filed
    /// document (the system's own: certificates, reports); the same bytes stored twice are kept
    /// once (`created: false`). Nothing is visible under the name before all bytes are durably
    /// written.
    ///
    /// # Errors
    /// `TooLarge`, `Io`, `Unavailable`.
    async fn put(&self, body: &mut (dyn AsyncRead + Send + Unpin)) -> Result<DocMeta, DocError>;

    /// The document's bytes (filed, else an upload not yet filed) as a stream that fails if they
    /// no longer hash to `sha256`.
    ///
    /// # Errors
    /// `NotFound`, `Unavailable`.
    async fn get(&self, sha256: &Sha256) -> Result<DocReader, DocError>;

    /// The document's size, if it exists.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn head(&self, sha256: &Sha256) -> Result<Option<u64>, DocError>;

    /// Whether the document exists.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn exists(&self, sha256: &Sha256) -> Result<bool, DocError> {
        Ok(self.head(sha256).await?.is_some())
    }

    /// A URL through which a client uploads exactly `len` bytes hashing to `sha256` to
    /// `incoming/upload-<id>`; the store itself refuses other bytes.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn presign_put(
        &self,
        id: &UploadId,
        sha256: &Sha256,
        len: u64,
        expires_in: Duration,
    ) -> Result<PresignedPut, DocError>;

    /// Stores the bytes read from `body` in the incoming area under their SHA-256, as a presigned
    /// upload would (the embedded upload routes and tests use it); at most `max_len` bytes.
    ///
    /// # Errors
    /// `TooLarge`, `Io`, `Unavailable`.
    async fn receive(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        max_len: u64,
    ) -> Result<DocMeta, DocError>;

    /// A form through which a browser uploads one file to `incoming/upload-<id>` under `policy`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn presign_post(&self, policy: &FormPolicy) -> Result<PresignedPost, DocError>;

    /// Registers an upload (PUT or form): hashes it and moves it to `incoming/<hex>` (from where
    /// a case files it). A file over `max_len` is removed and refused.
    ///
    /// # Errors
    /// `NotFound` (nothing was posted, or it was registered already), `TooLarge`, `Unavailable`.
    async fn register(&self, id: &UploadId, max_len: u64) -> Result<DocMeta, DocError>;

    /// Files a document: an upload waiting in the incoming area is re-hashed, copied to the filed
    /// area (checksummed by the store and held) and consumed; a document filed already is left as
    /// it is.
    ///
    /// # Errors
    /// `NotFound` (neither uploaded nor filed), `Corrupt` (the upload's bytes changed),
    /// `Unavailable`.
    async fn file(&self, sha256: &Sha256) -> Result<Filed, DocError>;

    /// Whether the document is filed (not merely uploaded).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn is_filed(&self, sha256: &Sha256) -> Result<bool, DocError>;

    /// Removes the uploads older than `age` that were never filed; returns how many.
    ///
    /// # Errors
    /// `Io`, `Unavailable`.
    async fn sweep_incoming(&self, age: Duration) -> Result<usize, DocError>;

    /// Re-hashes every stored document, filed and incoming.
    ///
    /// # Errors
    /// `Io`, `Unavailable` (a mismatch is reported, not an error).
    async fn verify_all(&self) -> Result<VerifyReport, DocError>;

    /// Sets how long a filed document is kept: `Permanently` places the legal hold;
    /// `Until(day)` locks it until `day` — extended, never shortened. Neither releases a hold
    /// (a document's hold goes only by [`Documents::release`], once the archive has weighed
    /// every case that holds it). Answers its protection now.
    ///
    /// # Errors
    /// `NotFound` (not filed), `Unavailable`.
    async fn keep(&self, sha256: &Sha256, keep: Keep) -> Result<Protection, DocError>;

    /// Releases a filed document's legal hold, leaving its lock: refused (`Retained`) when it
    /// has no lock, so that a document is never left unprotected.
    ///
    /// # Errors
    /// `Retained` (no lock to keep it), `NotFound`, `Unavailable`.
    async fn release(&self, sha256: &Sha256) -> Result<Protection, DocError>;

    /// How a filed document is protected; `None` when it is not filed.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn protection(&self, sha256: &Sha256) -> Result<Option<Protection>, DocError>;

    /// Removes a filed document once it may be: not held, and its lock passed by `today`. The
    /// store itself refuses an earlier removal.
    ///
    /// # Errors
    /// `Retained` (held or locked), `NotFound`, `Unavailable`.
    async fn destroy(&self, sha256: &Sha256, today: chrono::NaiveDate) -> Result<(), DocError>;
}

/// Wraps a reader of a document's bytes: hashes as it reads and fails at the end if the bytes do
/// not hash to `expected`.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
    expected: Sha256,
    done: bool,
}

impl<R: AsyncRead + Unpin> VerifyingReader<R> {
    /// Verifies `inner` against `expected`.
    pub fn new(inner: R, expected: Sha256) -> Self {
        VerifyingReader {
            inner,
            hasher: sha2::Sha256::new(),
            expected,
            done: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for VerifyingReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                if fresh.is_empty() {
                    this.done = true;
                    let actual = Sha256(std::mem::take(&mut this.hasher).finalize().into());
                    if actual != this.expected {
                        return Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            DocError::Corrupt {
                                expected: this.expected,
                                actual,
                            },
                        )));
                    }
                } else {
                    this.hasher.update(fresh);
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// Reads all of `reader` while hashing: the digest and the length.
///
/// # Errors
/// Reading fails.
pub async fn hash_stream(
    reader: &mut (dyn AsyncRead + Send + Unpin),
) -> std::io::Result<(Sha256, u64)> {
    use tokio::io::AsyncReadExt;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((Sha256(hasher.finalize().into()), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_parse_and_print_as_lowercase_hex() {
        let h = Sha256::of(b"abc");
        assert_eq!(
            h.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256::parse(&h.hex().to_uppercase()).unwrap(), h);
        assert_eq!(h.key(), format!("sha256/{}", h.hex()));
        assert!(Sha256::parse("xyz").is_err());
        assert!(Sha256::parse(&"g".repeat(64)).is_err());
    }
}
