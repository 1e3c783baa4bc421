//! The floor every step's HTTP API stands on:
//!
//! - [`error::ApiError`]: JSON errors with a stable `code` and a Chinese and an English message,
//!   never internals;
//! - [`auth`]: bearer tokens (`sub`, `role`, `county`, `name`, `unit`) verified into a
//!   [`swi_domain::Actor`]; 401 without a valid token, 403 when the actor may not;
//! - [`mutation`]: every state change runs once per idempotency key and writes its audit events,
//!   chained per case, in the same transaction as the change;
//! - [`clock::Clock`]: the only source of "now" (China time);
//! - [`documents`]: presigned uploads, type sniffing, bounded loading of stored files and tables;
//! - [`reports`]: row reports the system made, recorded with whom they concern;
//! - [`wire`]: field checks that name the field they refuse;
//! - [`pseudonym::PersonKeys`]: the keyed hash a resident ID number is stored under.
//!
//! [`Platform`] bundles them for the routers.

pub mod auth;
pub mod clock;
pub mod documents;
pub mod error;
pub mod json;
pub mod mutation;
pub mod pseudonym;
pub mod reports;
pub mod wire;

use std::sync::Arc;

use swi_store::{Documents, StateStore};

pub use error::ApiError;

/// The dependencies of every step's router, built once per process.
#[derive(Clone)]
pub struct Platform {
    /// The state store.
    pub state: Arc<dyn StateStore>,
    /// The document store.
    pub docs: Arc<dyn Documents>,
    /// Verifies bearer tokens.
    pub tokens: Arc<auth::TokenKeys>,
    /// Computes person keys (keyed hashes of resident ID numbers).
    pub persons: Arc<pseudonym::PersonKeys>,
    /// The clock.
    pub clock: Arc<dyn clock::Clock>,
}
