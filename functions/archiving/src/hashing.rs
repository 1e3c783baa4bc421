//! Reading a document whole: its SHA-256 and SHA-512 as its bytes pass, its length, the type
//! its first bytes show (or plain text, seen whole) and whether a PDF declares encryption — what a volume's manifest and the
//! four checks need, in one pass over the bytes.

use sha2::{Digest, Sha256 as H256, Sha512 as H512};
use swi_archive::checks::Seen;
use swi_platform::{ApiError, Platform};
use swi_store::{DocError, Sha256};
use tokio::io::AsyncReadExt;

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// What one pass over a document found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashed {
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// SHA-512 of the bytes, hex.
    pub sha512: String,
    /// Length.
    pub size: u64,
    /// The type the first bytes show.
    pub media_type: Option<&'static str>,
    /// A PDF with an `/Encrypt` entry.
    pub encrypted: bool,
}

impl Hashed {
    /// As the four checks take it.
    #[must_use]
    pub fn seen(&self) -> Seen {
        Seen::Read {
            sha256: self.sha256.clone(),
            sha512: self.sha512.clone(),
            size: self.size,
            media_type: self.media_type.map(str::to_owned),
            encrypted: self.encrypted,
        }
    }
}

/// Reads `sha` whole; `None` when it is not stored. A document whose bytes no longer hash to
/// its name is answered with what they hash to (the store's own check fails only at the end,
/// when every byte has passed through the hashers here).
///
/// # Errors
/// 503 the store.
pub async fn hash(p: &Platform, sha: &Sha256) -> Result<Option<Hashed>, ApiError> {
    let mut reader = match p.docs.get(sha).await {
        Ok(r) => r,
        Err(DocError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(ApiError::unavailable(&e)),
    };
    let (mut a, mut b) = (H256::new(), H512::new());
    let mut size = 0u64;
    let mut head: Vec<u8> = Vec::with_capacity(8);
    let mut encrypted = false;
    let mut tail: Vec<u8> = Vec::new();
    let mut text = swi_archive::text::TextSniffer::default();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            // The store's own check at the end: the bytes have all passed.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => break,
            Err(e) => return Err(ApiError::unavailable(&e)),
        };
        let chunk = &buf[..n];
        a.update(chunk);
        b.update(chunk);
        text.feed(chunk);
        if head.len() < 8 {
            head.extend(chunk.iter().take(8 - head.len()));
        }
        if !encrypted {
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(chunk);
            encrypted = window.windows(8).any(|w| w == b"/Encrypt");
            tail = window[window.len().saturating_sub(7)..].to_vec();
        }
        size += n as u64;
    }
    let media_type = swi_platform::documents::sniff(&head).or_else(|| text.kind());
    Ok(Some(Hashed {
        sha256: hex::encode(a.finalize()),
        sha512: hex::encode(b.finalize()),
        size,
        media_type,
        encrypted: encrypted && media_type == Some("application/pdf"),
    }))
}

/// Verifies `sha` as the fixity job does: its bytes read whole through the store's own check
/// (SHA-256 against its name) and nothing else computed, so that a round costs one hash per
/// byte. Answers `None` when it is not stored, else whether it is intact and the bytes read.
///
/// # Errors
/// 503 the store.
pub async fn verify(p: &Platform, sha: &Sha256) -> Result<Option<(bool, u64)>, ApiError> {
    let mut reader = match p.docs.get(sha).await {
        Ok(r) => r,
        Err(DocError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(ApiError::unavailable(&e)),
    };
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => return Ok(Some((true, size))),
            Ok(n) => size += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Ok(Some((false, size)));
            }
            Err(e) => return Err(ApiError::unavailable(&e)),
        }
    }
}
