//! The font every form of a process is rendered with: loaded once on first use and kept; a
//! failed load is not kept, so that an operator who installs the font (`bash infra/fonts`) need
//! not restart the server.

use std::sync::{Arc, Mutex};

use crate::{Font, FormError};

static LOADED: Mutex<Option<Arc<Font>>> = Mutex::new(None);

/// The font of [`Font::from_env`], loaded once it loads; retried on every call until then.
///
/// # Errors
/// As [`Font::from_env`].
pub fn font() -> Result<Arc<Font>, FormError> {
    let mut slot = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(f) = slot.as_ref() {
        return Ok(Arc::clone(f));
    }
    let f = Arc::new(Font::from_env()?);
    *slot = Some(Arc::clone(&f));
    Ok(f)
}
