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
    cached(&LOADED, Font::from_env)
}

/// The font in `slot`, or the one `load` gives, kept only when it loads.
fn cached(
    slot: &Mutex<Option<Arc<Font>>>,
    load: impl FnOnce() -> Result<Font, FormError>,
) -> Result<Arc<Font>, FormError> {
    let mut slot = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(f) = slot.as_ref() {
        return Ok(Arc::clone(f));
    }
    let f = Arc::new(load()?);
    *slot = Some(Arc::clone(&f));
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_load_is_retried_and_a_loaded_font_kept() {
        let slot = Mutex::new(None);
        let missing = cached(&slot, || {
            Err(FormError::FontMissing("not installed yet".into()))
        });
        assert!(missing.is_err());
        // The operator installs the font: the next call loads it (the error was not kept).
        let Ok(real) = Font::from_env() else {
            eprintln!("no CJK font on this machine (bash infra/fonts): the retry half is skipped");
            return;
        };
        let first = cached(&slot, || Ok(real)).unwrap();
        let again = cached(&slot, || panic!("a loaded font is not loaded again")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
    }
}
