//! The portal's static files, embedded in the binary: the stylesheet, the vendored htmx (npm
//! `htmx.org` 2.0.11, unmodified) and the portal's own script. Served with a long cache life;
//! their names change with their content's version.

/// The stylesheet.
pub const CSS: &str = include_str!("../assets/site.css");
/// htmx 2.0.11 (npm `htmx.org`, `dist/htmx.min.js`).
pub const HTMX: &str = include_str!("../assets/htmx-2.0.11.min.js");
/// The portal's script: hashing a file before upload, confirmations.
pub const PORTAL_JS: &str = include_str!("../assets/portal.js");

/// The names pages link to (with a version, so that a new build is fetched anew).
pub const CSS_PATH: &str = "/assets/site-2.css";
/// htmx's path.
pub const HTMX_PATH: &str = "/assets/htmx-2.0.11.min.js";
/// The portal script's path.
pub const PORTAL_JS_PATH: &str = "/assets/portal-3.js";

/// The body and media type of an asset path, if it is one.
#[must_use]
pub fn lookup(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        CSS_PATH => Some((CSS, "text/css; charset=utf-8")),
        HTMX_PATH => Some((HTMX, "text/javascript; charset=utf-8")),
        PORTAL_JS_PATH => Some((PORTAL_JS, "text/javascript; charset=utf-8")),
        _ => None,
    }
}
