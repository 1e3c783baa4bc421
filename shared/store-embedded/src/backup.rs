//! Backups of the embedded store (`swi store backup DIR`, `swi store restore DIR`): the store
//! copied whole while it serves, and put back into an empty data directory (README, "Backups and
//! restore").
//!
//! A backup is consistent as of the moment its state snapshot is taken: `VACUUM INTO` copies the
//! database inside one read transaction (WAL lets `swi serve` go on writing meanwhile), so every
//! transaction committed before it is in the copy and none after it is, whole or in part. The
//! documents are copied after the snapshot: they are named by their hash and never rewritten, and
//! a document is stored before the transaction that files it commits, so every document the
//! snapshot names is already there to copy (later ones are copied too, and harm nothing). The
//! keys of the data directory (person keys, tokens, uploads) go with it: without `person.key` no
//! person could be found by ID number again. `manifest.json` records what was taken, with the
//! snapshot's SHA-256.
//!
//! A restore refuses a data directory that has a store already, checks the snapshot against the
//! manifest and every document against its name while copying, then opens the restored store
//! and verifies its audit ledger.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

/// Why a backup or a restore could not be made (said in a sentence).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackupError(String);

impl From<std::io::Error> for BackupError {
    fn from(e: std::io::Error) -> Self {
        BackupError(e.to_string())
    }
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        BackupError(e.to_string())
    }
}

impl From<serde_json::Error> for BackupError {
    fn from(e: serde_json::Error) -> Self {
        BackupError(e.to_string())
    }
}

type Result<T> = std::result::Result<T, BackupError>;

fn fail<T>(why: String) -> Result<T> {
    Err(BackupError(why))
}

fn io_at(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError(format!("{}: {e}", path.display()))
}

/// The manifest's format.
const FORMAT: &str = "swi-embedded-backup 1";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `swi-embedded-backup 1`.
    pub format: String,
    /// When the snapshot was taken (RFC 3339, machine time).
    pub taken_at: String,
    /// The snapshot's SHA-256.
    pub state_sha256: String,
    /// The snapshot's size.
    pub state_bytes: u64,
    /// Files under `documents/` copied.
    pub documents: u64,
    /// Their bytes.
    pub document_bytes: u64,
    /// The data directory's own files (keys) copied.
    pub keys: Vec<String>,
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(io_at(path))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Copies the tree under `from` to `to` (every regular file, `tmp/` left out), checking each
/// filed document (`sha256/xx/<hex>`) against its name when `verify`. Answers files and bytes.
fn copy_tree(from: &Path, to: &Path, verify: bool) -> Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = from.join(&rel);
        for entry in std::fs::read_dir(&dir).map_err(io_at(&dir))? {
            let entry = entry?;
            let name = rel.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if name != Path::new("tmp") {
                    std::fs::create_dir_all(to.join(&name))?;
                    stack.push(name);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let target = to.join(&name);
            std::fs::copy(entry.path(), &target).map_err(io_at(&entry.path()))?;
            if verify && name.starts_with("sha256") {
                let want = entry.file_name().to_string_lossy().into_owned();
                let got = sha256_file(&target)?;
                if got != want {
                    let _ = std::fs::remove_file(&target);
                    return fail(format!(
                        "document {} does not hash to its name (it hashes to {got})",
                        name.display()
                    ));
                }
            }
            let f = std::fs::File::open(&target)?;
            f.sync_all()?;
            files += 1;
            bytes += entry.metadata()?.len();
        }
    }
    Ok((files, bytes))
}

/// The data directory's own files: everything at its top but the database itself.
fn key_files(data: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(data)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && !name.starts_with("state.sqlite3") {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// A consistent copy of the embedded store in `data`, taken while it
/// serves.
///
/// # Errors
/// `DIR` exists and is not empty; the store cannot be read; the copy cannot be written.
pub fn backup(data: &Path, dir: &Path) -> Result<Manifest> {
    let db = data.join("state.sqlite3");
    if !db.exists() {
        return fail(format!("no embedded store in {}", data.display()));
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return fail(format!(
            "{} is not empty: a backup goes to a new directory",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let snapshot = dir.join("state.sqlite3");
    let taken_at = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).to_rfc3339();
    {
        let conn = rusqlite::Connection::open_with_flags(
            &db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute("VACUUM INTO ?1", [snapshot.to_string_lossy().as_ref()])
            .map_err(|e| BackupError(format!("the state snapshot could not be taken: {e}")))?;
    }
    std::fs::File::open(&snapshot)?.sync_all()?;
    let (documents, document_bytes) = if data.join("documents").exists() {
        std::fs::create_dir_all(dir.join("documents"))?;
        copy_tree(&data.join("documents"), &dir.join("documents"), false)?
    } else {
        (0, 0)
    };
    let keys = key_files(data)?;
    for k in &keys {
        std::fs::copy(data.join(k), dir.join(k))?;
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        taken_at,
        state_sha256: sha256_file(&snapshot)?,
        state_bytes: std::fs::metadata(&snapshot)?.len(),
        documents,
        document_bytes,
        keys,
    };
    let tmp = dir.join("manifest.json.partial");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dir.join("manifest.json"))?;
    Ok(manifest)
}

/// The backup in `dir` put into the empty data directory `data`, checked
/// against its manifest and every document against its name.
///
/// # Errors
/// `data` has a store already; the backup is incomplete or altered.
pub fn restore(dir: &Path, data: &Path) -> Result<Manifest> {
    let Ok(text) = std::fs::read(dir.join("manifest.json")) else {
        return fail(format!(
            "{} holds no manifest.json: not a finished backup",
            dir.display()
        ));
    };
    let manifest: Manifest = serde_json::from_slice(&text)?;
    if manifest.format != FORMAT {
        return fail(format!("a backup of another format: {}", manifest.format));
    }
    if data.join("state.sqlite3").exists() {
        return fail(format!(
            "{} has a store already: restore into a new data directory, then move it into place",
            data.display()
        ));
    }
    let snapshot = dir.join("state.sqlite3");
    if sha256_file(&snapshot)? != manifest.state_sha256 {
        return fail("the backup's state snapshot is not the one its manifest names".into());
    }
    std::fs::create_dir_all(data)?;
    if dir.join("documents").exists() {
        std::fs::create_dir_all(data.join("documents"))?;
        let (n, _) = copy_tree(&dir.join("documents"), &data.join("documents"), true)?;
        if n != manifest.documents {
            return fail(format!(
                "the backup holds {n} documents, its manifest {}",
                manifest.documents
            ));
        }
    }
    for k in &manifest.keys {
        std::fs::copy(dir.join(k), data.join(k))
            .map_err(|e| BackupError(format!("the backup lacks {k}: {e}")))?;
    }
    // The database last: a data directory with a store in it is a restored one.
    let tmp = data.join("state.sqlite3.partial");
    std::fs::copy(&snapshot, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, data.join("state.sqlite3"))?;
    Ok(manifest)
}
