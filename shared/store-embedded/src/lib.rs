//! The embedded backend: state in one SQLite database file (WAL, `synchronous=FULL`), documents
//! in a directory sharded by hash prefix. Chosen by configuration (`SWI_STORE=embedded`), never
//! a test double: the local binary runs every step on it.

pub mod backup;
mod documents;
mod state;
mod upload;

pub use documents::EmbeddedDocuments;
pub use state::EmbeddedState;
pub use upload::upload_router;

use std::path::Path;
use std::sync::Arc;

/// Opens (creating if needed) the state database and the document directory under `data_dir`.
///
/// # Errors
/// The directory or the database cannot be created or opened.
pub fn open(
    data_dir: &Path,
    public_url: &str,
) -> Result<(Arc<EmbeddedState>, Arc<EmbeddedDocuments>), std::io::Error> {
    std::fs::create_dir_all(data_dir)?;
    let state = EmbeddedState::open(&data_dir.join("state.sqlite3"))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let docs = EmbeddedDocuments::open(&data_dir.join("documents"), public_url)?;
    Ok((Arc::new(state), Arc::new(docs)))
}
