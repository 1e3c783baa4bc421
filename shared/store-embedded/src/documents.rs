//! Documents in a directory: filed under `sha256/<first two hex digits>/<hex>`, uploads not yet
//! filed under `incoming/<hex>` (filing hard-links one into the filed area after re-hashing it;
//! `sweep_incoming` removes old ones). A put streams into
//! `tmp/`, hashing on the async side while a blocking thread writes and fsyncs; the finished file
//! is then hard-linked under its name (which fails if the name exists: create-only, atomic) and
//! the directory fsynced. A crash leaves at most a stray file in `tmp/`, never a half-written or
//! misnamed document.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Digest;
use swi_store::docs::{
    DocError, DocMeta, DocReader, Documents, Filed, FormPolicy, Keep, PresignedPost, PresignedPut,
    Protection, Sha256, UploadId, VerifyReport, VerifyingReader,
};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest document accepted, as S3's largest single upload: 5 GiB.
pub const MAX_DOCUMENT_BYTES: u64 = 5 << 30;

const CHUNK: usize = 1 << 20;

/// Bytes written between two background flushes of a document being stored.
const SYNC_EVERY: usize = 128 << 20;

/// The policy of a form upload, as signed into the form.
#[derive(serde::Serialize, serde::Deserialize)]
struct SignedForm {
    key: String,
    content_type: String,
    max_len: u64,
    redirect: String,
    expires: u64,
}

/// Where a write lands.
enum Area {
    Filed,
    Incoming,
    Form(UploadId),
}

/// Documents under one directory.
#[derive(Debug, Clone)]
pub struct EmbeddedDocuments {
    root: PathBuf,
    public_url: String,
    upload_key: [u8; 32],
    /// Serialises the read-modify-write of retention records (keep, release, destroy).
    retention: std::sync::Arc<std::sync::Mutex<()>>,
    /// The machine's day in China, which bounds any business date a removal is asked for.
    machine_day: MachineDay,
}

/// Where the machine's day comes from.
#[derive(Clone)]
struct MachineDay(std::sync::Arc<dyn Fn() -> chrono::NaiveDate + Send + Sync>);

impl std::fmt::Debug for MachineDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MachineDay({})", (self.0)())
    }
}

/// Today in China (UTC+8) by the machine's clock.
fn china_today() -> chrono::NaiveDate {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    chrono::DateTime::from_timestamp(secs + 8 * 3600, 0)
        .map_or(chrono::NaiveDate::MIN, |d| d.date_naive())
}

fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Makes a filed document's file read-only: its bytes are not to be written again.
fn read_only(path: &Path) -> std::io::Result<()> {
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(path, perms)
}

/// What the embedded store keeps of a filed document's protection
/// (`retention/<hex>`; absent: held, as every filed document is until the archive decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Kept {
    held: bool,
    until: Option<chrono::NaiveDate>,
}

impl Default for Kept {
    fn default() -> Self {
        Kept {
            held: true,
            until: None,
        }
    }
}

impl EmbeddedDocuments {
    /// Opens (creating if needed) the document directory `root`. `public_url` is where `swi`
    /// serves uploads (presigned URLs point there).
    ///
    /// # Errors
    /// The directories or the upload key cannot be created.
    pub fn open(root: &Path, public_url: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join("sha256"))?;
        std::fs::create_dir_all(root.join("incoming"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        sweep_tmp(&root.join("tmp"));
        let key_path = root.join("upload.key");
        let upload_key = match std::fs::read(&key_path) {
            Ok(k) if k.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&k);
                key
            }
            _ => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
                let tmp = root.join("tmp/upload.key");
                let mut f = File::create(&tmp)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                }
                f.write_all(&key)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &key_path)?;
                fsync_dir(root)?;
                key
            }
        };
        Ok(EmbeddedDocuments {
            root: root.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            upload_key,
            retention: std::sync::Arc::default(),
            machine_day: MachineDay(std::sync::Arc::new(china_today)),
        })
    }

    /// The same directory with another source of the machine's day: for a test that stands in
    /// the day, years on, when a document's lock has passed. Nothing configures it.
    #[must_use]
    pub fn with_machine_day(
        mut self,
        day: impl Fn() -> chrono::NaiveDate + Send + Sync + 'static,
    ) -> Self {
        self.machine_day = MachineDay(std::sync::Arc::new(day));
        self
    }

    /// Where a filed document lives.
    #[must_use]
    pub fn path_of(&self, sha256: &Sha256) -> PathBuf {
        let hex = sha256.hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// Holds the retention records still while one is read and written.
    fn retention_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.retention
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Where a filed document's protection is kept.
    fn retention_path(&self, sha256: &Sha256) -> PathBuf {
        self.root.join("retention").join(sha256.hex())
    }

    fn kept(&self, sha256: &Sha256) -> Result<Kept, DocError> {
        match std::fs::read(self.retention_path(sha256)) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| DocError::Unavailable(format!("retention of {sha256}: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Kept::default()),
            Err(e) => Err(DocError::Io(e)),
        }
    }

    fn protection_now(&self, sha256: &Sha256) -> Result<Option<Protection>, DocError> {
        let meta = match std::fs::metadata(self.path_of(sha256)) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DocError::Io(e)),
        };
        let k = self.kept(sha256)?;
        Ok(Some(Protection {
            held: k.held,
            until: k.until,
            read_only: meta.permissions().readonly(),
        }))
    }

    /// Writes a document's protection atomically (a temporary file renamed over it).
    fn write_kept(&self, sha256: &Sha256, k: Kept) -> Result<(), DocError> {
        let dir = self.root.join("retention");
        std::fs::create_dir_all(&dir)?;
        let tmp = self.root.join("tmp").join(format!(
            "retention-{}-{}",
            std::process::id(),
            hex::encode(random_bytes::<8>()?)
        ));
        let mut f = File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(&k).map_err(|e| DocError::Unavailable(e.to_string()))?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.retention_path(sha256))?;
        fsync_dir(&dir)?;
        Ok(())
    }

    /// Where an upload waits to be filed.
    #[must_use]
    pub fn incoming_path(&self, sha256: &Sha256) -> PathBuf {
        self.root.join("incoming").join(sha256.hex())
    }

    /// Where an upload waits to be registered.
    #[must_use]
    pub fn upload_path(&self, id: &UploadId) -> PathBuf {
        self.root
            .join("incoming")
            .join(format!("upload-{}", id.as_str()))
    }

    /// The filed document if there is one, else the upload.
    async fn existing(&self, sha256: &Sha256) -> Result<Option<(PathBuf, u64)>, DocError> {
        for path in [self.path_of(sha256), self.incoming_path(sha256)] {
            match tokio::fs::metadata(&path).await {
                Ok(m) => return Ok(Some((path, m.len()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(DocError::Io(e)),
            }
        }
        Ok(None)
    }

    /// Stores `body`, refusing it (and storing nothing) unless it is exactly `len` bytes hashing
    /// to `expected` (the upload endpoint's check: the upload lands in the incoming area); with
    /// `None` any bytes are accepted and filed at once (the system's own documents).
    ///
    /// # Errors
    /// `Corrupt` for other bytes, `TooLarge`, `Io`.
    pub async fn put_checked(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        expected: Option<(Sha256, u64)>,
    ) -> Result<DocMeta, DocError> {
        match expected {
            Some((_, len)) => self.write(body, len, expected, Area::Incoming).await,
            None => {
                self.write(body, MAX_DOCUMENT_BYTES, None, Area::Filed)
                    .await
            }
        }
    }

    /// Stores a presigned PUT's body under `incoming/upload-<id>` (create-only), refusing it
    /// (and storing nothing) unless it is exactly `len` bytes hashing to `sha256`.
    ///
    /// # Errors
    /// `Corrupt` for other bytes, `TooLarge`; `Io` (`AlreadyExists` for a second PUT).
    pub async fn put_upload(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        id: &UploadId,
        sha256: Sha256,
        len: u64,
    ) -> Result<DocMeta, DocError> {
        self.write(body, len, Some((sha256, len)), Area::Form(id.clone()))
            .await
    }

    /// Stores a form upload's file under `incoming/upload-<id>` (create-only: a second post of
    /// the same form is refused), at most `limit` bytes.
    ///
    /// # Errors
    /// `TooLarge`; `Io` (`AlreadyExists` for a second post).
    pub async fn put_form(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        id: &UploadId,
        limit: u64,
    ) -> Result<DocMeta, DocError> {
        self.write(body, limit, None, Area::Form(id.clone())).await
    }

    async fn write(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        expected: Option<(Sha256, u64)>,
        area: Area,
    ) -> Result<DocMeta, DocError> {
        let tmp = self.root.join("tmp").join(format!(
            "{}-{}",
            std::process::id(),
            hex::encode(random_bytes::<8>()?)
        ));
        // Three stages overlap: this task reads, a hashing thread hashes, a writing thread
        // writes (and has the disk flush behind it while it goes on). Buffers travel full and
        // come back empty: no allocation per chunk, bounded memory, and the reading side waits
        // (never blocks) when a later stage is behind.
        let (full_tx, mut full_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let (empty_tx, mut empty_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let (hashed_tx, hashed_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let hasher = tokio::task::spawn_blocking(move || -> Sha256 {
            let mut hasher = sha2::Sha256::new();
            while let Some(chunk) = full_rx.blocking_recv() {
                hasher.update(&chunk);
                if hashed_tx.send(chunk).is_err() {
                    break;
                }
            }
            Sha256::from_bytes(hasher.finalize().into())
        });
        let tmp_w = tmp.clone();
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut f = File::create(&tmp_w)?;
            let (sync_tx, sync_rx) = std::sync::mpsc::channel::<()>();
            let behind = f.try_clone()?;
            // Flushes what is written so far while writing goes on, so that the final sync
            // waits only for the tail.
            let syncer = std::thread::spawn(move || -> std::io::Result<()> {
                while sync_rx.recv().is_ok() {
                    while sync_rx.try_recv().is_ok() {}
                    behind.sync_data()?;
                }
                Ok(())
            });
            let mut since_sync = 0usize;
            for chunk in hashed_rx {
                f.write_all(&chunk)?;
                since_sync += chunk.len();
                if since_sync >= SYNC_EVERY {
                    let _ = sync_tx.send(());
                    since_sync = 0;
                }
                let _ = empty_tx.send(chunk);
            }
            drop(sync_tx);
            syncer
                .join()
                .map_err(|_| std::io::Error::other("the flushing thread panicked"))??;
            f.sync_all()
        });
        let mut size: u64 = 0;
        let read = async {
            loop {
                let mut buf = empty_rx.try_recv().unwrap_or_default();
                buf.resize(CHUNK, 0);
                let mut filled = 0;
                while filled < CHUNK {
                    let n = body.read(&mut buf[filled..]).await?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    return Ok::<(), DocError>(());
                }
                buf.truncate(filled);
                size += filled as u64;
                if size > limit {
                    return Err(DocError::TooLarge { size, limit });
                }
                if full_tx.send(buf).await.is_err() {
                    // The writer failed; its error is reported below.
                    return Ok(());
                }
                if filled < CHUNK {
                    return Ok(());
                }
            }
        }
        .await;
        drop(full_tx);
        let hashed = hasher
            .await
            .map_err(|e| DocError::Unavailable(e.to_string()));
        let written = writer
            .await
            .map_err(|e| DocError::Unavailable(e.to_string()))?;
        let cleanup = |e: DocError| {
            let _ = std::fs::remove_file(&tmp);
            e
        };
        read.map_err(cleanup)?;
        written.map_err(|e| cleanup(DocError::Io(e)))?;
        let sha256 = hashed?;
        if let Some((want, len)) = expected
            && (want != sha256 || len != size)
        {
            return Err(cleanup(DocError::Corrupt {
                expected: want,
                actual: sha256,
            }));
        }
        let form = matches!(area, Area::Form(_));
        let path = match area {
            Area::Filed => self.path_of(&sha256),
            Area::Incoming => self.incoming_path(&sha256),
            Area::Form(id) => self.upload_path(&id),
        };
        let filed_root = self.root.join("sha256");
        let created = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let dir = path.parent().map(Path::to_owned).unwrap_or_default();
            std::fs::create_dir_all(&dir)?;
            let created = match std::fs::hard_link(&tmp, &path) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !form => false,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            std::fs::remove_file(&tmp)?;
            if created {
                if !form && path.starts_with(&filed_root) {
                    read_only(&path)?;
                }
                fsync_dir(&dir)?;
            }
            Ok(created)
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))??;
        Ok(DocMeta {
            sha256,
            size,
            created,
        })
    }

    fn signature(&self, id: &UploadId, sha256: &Sha256, len: u64, expires: u64) -> String {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.upload_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("PUT\n{}\n{}\n{len}\n{expires}", id.as_str(), sha256.hex()).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a presigned upload's parameters: signature, expiry and length.
    #[must_use]
    pub fn check_upload(
        &self,
        id: &UploadId,
        sha256: &Sha256,
        len: u64,
        expires: u64,
        signature: &str,
    ) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(u64::MAX, |d| d.as_secs());
        let want = self.signature(id, sha256, len, expires);
        let same = want.len() == signature.len()
            && want
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        same && now <= expires
    }

    fn form_signature(&self, policy: &str) -> String {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.upload_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("POST\n{policy}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a posted form's fields against its signed policy: the signature, the expiry, and
    /// that the key, type and redirect are exactly the policy's. Returns the policy.
    ///
    /// # Errors
    /// Why the form is refused (S3's words).
    pub fn check_form(&self, fields: &[(String, String)]) -> Result<FormPolicy, &'static str> {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let policy_text = field("policy").ok_or("AccessDenied: the form has no policy")?;
        let signature = field("x-swi-signature").ok_or("AccessDenied: the form is not signed")?;
        let want = self.form_signature(policy_text);
        let same = want.len() == signature.len()
            && want
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err("SignatureDoesNotMatch: the form's signature is not valid");
        }
        use base64::Engine;
        let policy: SignedForm = base64::engine::general_purpose::STANDARD
            .decode(policy_text)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("AccessDenied: the policy cannot be read")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(u64::MAX, |d| d.as_secs());
        if now > policy.expires {
            return Err("AccessDenied: Invalid according to Policy: Policy expired.");
        }
        let id = UploadId::parse(&policy.key)
            .map_err(|_| "AccessDenied: Invalid according to Policy: key")?;
        if field("key") != Some(policy.key.as_str()) {
            return Err("AccessDenied: Invalid according to Policy: Policy Condition failed: key");
        }
        if field("content-type") != Some(policy.content_type.as_str()) {
            return Err(
                "AccessDenied: Invalid according to Policy: Policy Condition failed: Content-Type",
            );
        }
        if field("success_action_redirect") != Some(policy.redirect.as_str()) {
            return Err(
                "AccessDenied: Invalid according to Policy: Policy Condition failed: success_action_redirect",
            );
        }
        Ok(FormPolicy {
            id,
            content_type: policy.content_type,
            max_len: policy.max_len,
            redirect: policy.redirect,
            expires_in: Duration::from_secs(policy.expires.saturating_sub(now)),
        })
    }

    /// The document directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Removes temporary files left by processes that no longer run (a crash mid-put). Names start
/// with the writer's PID; files of live processes (a concurrent `swi`) are left alone.
fn sweep_tmp(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if !alive && Path::new("/proc/self").exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], DocError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| DocError::Unavailable(e.to_string()))?;
    Ok(b)
}

fn hash_file(path: &Path) -> std::io::Result<(Sha256, u64)> {
    let mut f = File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((Sha256::from_bytes(hasher.finalize().into()), len))
}

#[async_trait]
impl Documents for EmbeddedDocuments {
    async fn put(&self, body: &mut (dyn AsyncRead + Send + Unpin)) -> Result<DocMeta, DocError> {
        self.put_checked(body, None).await
    }

    async fn get(&self, sha256: &Sha256) -> Result<DocReader, DocError> {
        let Some((path, _)) = self.existing(sha256).await? else {
            return Err(DocError::NotFound(*sha256));
        };
        match tokio::fs::File::open(path).await {
            Ok(f) => Ok(Box::pin(VerifyingReader::new(
                tokio::io::BufReader::with_capacity(CHUNK, f),
                *sha256,
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DocError::NotFound(*sha256)),
            Err(e) => Err(DocError::Io(e)),
        }
    }

    async fn head(&self, sha256: &Sha256) -> Result<Option<u64>, DocError> {
        Ok(self.existing(sha256).await?.map(|(_, len)| len))
    }

    async fn file(&self, sha256: &Sha256) -> Result<Filed, DocError> {
        let (filed, incoming, want) = (self.path_of(sha256), self.incoming_path(sha256), *sha256);
        tokio::task::spawn_blocking(move || -> Result<Filed, DocError> {
            let (actual, len) = match hash_file(&incoming) {
                Ok(h) => h,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return match std::fs::metadata(&filed) {
                        Ok(m) => Ok(Filed {
                            size: m.len(),
                            from_upload: false,
                        }),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            Err(DocError::NotFound(want))
                        }
                        Err(e) => Err(DocError::Io(e)),
                    };
                }
                Err(e) => return Err(DocError::Io(e)),
            };
            if actual != want {
                return Err(DocError::Corrupt {
                    expected: want,
                    actual,
                });
            }
            let dir = filed.parent().map(Path::to_owned).unwrap_or_default();
            std::fs::create_dir_all(&dir)?;
            match std::fs::hard_link(&incoming, &filed) {
                Ok(()) => {
                    read_only(&filed)?;
                    fsync_dir(&dir)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(DocError::Io(e)),
            }
            let _ = std::fs::remove_file(&incoming);
            Ok(Filed {
                size: len,
                from_upload: true,
            })
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn receive(
        &self,
        body: &mut (dyn AsyncRead + Send + Unpin),
        max_len: u64,
    ) -> Result<DocMeta, DocError> {
        self.write(body, max_len, None, Area::Incoming).await
    }

    async fn presign_post(&self, policy: &FormPolicy) -> Result<PresignedPost, DocError> {
        use base64::Engine;
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| DocError::Unavailable(e.to_string()))?
            .as_secs()
            + policy.expires_in.as_secs();
        let signed = SignedForm {
            key: policy.id.key(),
            content_type: policy.content_type.clone(),
            max_len: policy.max_len,
            redirect: policy.redirect.clone(),
            expires,
        };
        let text = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&signed).map_err(|e| DocError::Unavailable(e.to_string()))?);
        let signature = self.form_signature(&text);
        Ok(PresignedPost {
            url: format!("{}/documents/uploads", self.public_url),
            fields: vec![
                ("key".to_owned(), signed.key),
                ("Content-Type".to_owned(), signed.content_type),
                ("success_action_redirect".to_owned(), signed.redirect),
                ("policy".to_owned(), text),
                ("x-swi-signature".to_owned(), signature),
            ],
            expires_in: policy.expires_in,
        })
    }

    async fn register(&self, id: &UploadId, max_len: u64) -> Result<DocMeta, DocError> {
        let form = self.upload_path(id);
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || -> Result<DocMeta, DocError> {
            let (sha256, size) = match hash_file(&form) {
                Ok(h) => h,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(DocError::NotFound(Sha256::from_bytes([0; 32])));
                }
                Err(e) => return Err(DocError::Io(e)),
            };
            if size > max_len {
                let _ = std::fs::remove_file(&form);
                return Err(DocError::TooLarge {
                    size,
                    limit: max_len,
                });
            }
            let dir = root.join("incoming");
            let created = match std::fs::hard_link(&form, dir.join(sha256.hex())) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                Err(e) => return Err(DocError::Io(e)),
            };
            std::fs::remove_file(&form)?;
            fsync_dir(&dir)?;
            Ok(DocMeta {
                sha256,
                size,
                created,
            })
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn is_filed(&self, sha256: &Sha256) -> Result<bool, DocError> {
        match tokio::fs::metadata(self.path_of(sha256)).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(DocError::Io(e)),
        }
    }

    async fn sweep_incoming(&self, age: Duration) -> Result<usize, DocError> {
        let dir = self.root.join("incoming");
        tokio::task::spawn_blocking(move || -> Result<usize, DocError> {
            let cutoff = SystemTime::now().checked_sub(age).unwrap_or(UNIX_EPOCH);
            let mut removed = 0;
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let old = entry.metadata()?.modified().is_ok_and(|m| m <= cutoff);
                if old {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn presign_put(
        &self,
        id: &UploadId,
        sha256: &Sha256,
        len: u64,
        expires_in: Duration,
    ) -> Result<PresignedPut, DocError> {
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| DocError::Unavailable(e.to_string()))?
            .as_secs()
            + expires_in.as_secs();
        let sig = self.signature(id, sha256, len, expires);
        Ok(PresignedPut {
            url: format!(
                "{}/documents/uploads/{}?id={}&len={len}&expires={expires}&sig={sig}",
                self.public_url,
                sha256.hex(),
                id.as_str()
            ),
            headers: vec![
                ("content-length".to_owned(), len.to_string()),
                ("x-amz-checksum-sha256".to_owned(), sha256.base64()),
            ],
            expires_in,
        })
    }

    async fn keep(&self, sha256: &Sha256, keep: Keep) -> Result<Protection, DocError> {
        let (this, sha) = (self.clone(), *sha256);
        tokio::task::spawn_blocking(move || -> Result<Protection, DocError> {
            let _one = this.retention_lock();
            let path = this.path_of(&sha);
            if !path.exists() {
                return Err(DocError::NotFound(sha));
            }
            let mut k = this.kept(&sha)?;
            match keep {
                Keep::Permanently => k.held = true,
                Keep::Until(day) => k.until = Some(k.until.map_or(day, |u| u.max(day))),
            }
            this.write_kept(&sha, k)?;
            read_only(&path)?;
            this.protection_now(&sha)?.ok_or(DocError::NotFound(sha))
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn release(&self, sha256: &Sha256) -> Result<Protection, DocError> {
        let (this, sha) = (self.clone(), *sha256);
        tokio::task::spawn_blocking(move || -> Result<Protection, DocError> {
            let _one = this.retention_lock();
            if !this.path_of(&sha).exists() {
                return Err(DocError::NotFound(sha));
            }
            let mut k = this.kept(&sha)?;
            if k.until.is_none() {
                return Err(DocError::Retained {
                    sha256: sha,
                    held: k.held,
                    until: None,
                });
            }
            k.held = false;
            this.write_kept(&sha, k)?;
            this.protection_now(&sha)?.ok_or(DocError::NotFound(sha))
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn protection(&self, sha256: &Sha256) -> Result<Option<Protection>, DocError> {
        let (this, sha) = (self.clone(), *sha256);
        tokio::task::spawn_blocking(move || this.protection_now(&sha))
            .await
            .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn destroy(&self, sha256: &Sha256, today: chrono::NaiveDate) -> Result<(), DocError> {
        let (this, sha) = (self.clone(), *sha256);
        tokio::task::spawn_blocking(move || -> Result<(), DocError> {
            let _one = this.retention_lock();
            let p = this.protection_now(&sha)?.ok_or(DocError::NotFound(sha))?;
            // The business date may be set (`--today`); the machine's own day in China bounds
            // it, so that no date given removes a document before its lock has passed.
            let today = today.min((this.machine_day.0)());
            if p.held || p.until.is_none_or(|u| u > today) {
                return Err(DocError::Retained {
                    sha256: sha,
                    held: p.held,
                    until: p.until,
                });
            }
            let path = this.path_of(&sha);
            std::fs::remove_file(&path)?;
            if let Some(dir) = path.parent() {
                fsync_dir(dir)?;
            }
            let _ = std::fs::remove_file(this.retention_path(&sha));
            Ok(())
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }

    async fn verify_all(&self) -> Result<VerifyReport, DocError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || -> Result<VerifyReport, DocError> {
            let mut report = VerifyReport::default();
            for shard in std::fs::read_dir(root.join("sha256"))? {
                let shard = shard?.path();
                if !shard.is_dir() {
                    report.foreign.push(shard.display().to_string());
                    continue;
                }
                for entry in std::fs::read_dir(&shard)? {
                    let path = entry?.path();
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let Ok(expected) = Sha256::parse(&name) else {
                        report.foreign.push(path.display().to_string());
                        continue;
                    };
                    let (actual, len) = hash_file(&path)?;
                    report.bytes += len;
                    if actual == expected {
                        report.ok += 1;
                    } else {
                        report.mismatched.push((expected.key(), actual.hex()));
                    }
                }
            }
            for entry in std::fs::read_dir(root.join("incoming"))? {
                let path = entry?.path();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name
                    .strip_prefix("upload-")
                    .is_some_and(|id| UploadId::parse(id).is_ok())
                {
                    // An upload not yet registered has no name to check against.
                    continue;
                }
                let Ok(expected) = Sha256::parse(&name) else {
                    report.foreign.push(path.display().to_string());
                    continue;
                };
                let (actual, len) = hash_file(&path)?;
                report.bytes += len;
                if actual == expected {
                    report.ok += 1;
                } else {
                    report
                        .mismatched
                        .push((expected.incoming_key(), actual.hex()));
                }
            }
            for entry in std::fs::read_dir(root.join("tmp"))? {
                report.foreign.push(entry?.path().display().to_string());
            }
            Ok(report)
        })
        .await
        .map_err(|e| DocError::Unavailable(e.to_string()))?
    }
}
