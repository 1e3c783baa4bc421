//! The floor every step's HTTP API stands on:
//!
//! - [`error::ApiError`]: JSON errors with a stable [`codes::ErrorCode`] and a Chinese and an English message,
//!   never internals;
//! - [`auth`]: bearer tokens (`sub`, `role`, `county`, `name`, `unit`) verified into a
//!   [`swi_domain::Actor`]; 401 without a valid token, 403 when the actor may not;
//! - [`mutation`]: every state change runs once per idempotency key and writes its audit events,
//!   chained per case, in the same transaction as the change;
//! - [`clock::Clock`]: the only source of "now" (China time);
//! - [`documents`]: presigned uploads, type sniffing, bounded loading of stored files and tables;
//! - [`dossier`]: the archive's registry: each filed document registered to its case and material;
//! - [`reports`]: row reports the system made, recorded with whom they concern;
//! - [`alerts`]: the one record of a warning to supervisors, and its read route;
//! - [`identity`]: a citizen's account linked to a verified ID number, and kinship;
//! - [`jobs`]: the [`jobs::Job`] abstraction and what wakes a job;
//! - [`params`]: the parameter set a process starts with; [`city`]: the values the city sets;
//! - [`lambda`]: the platform of a Lambda function and the authorizer's claims;
//! - [`telemetry`]: JSON-lines logs, a request id on every answer and log line;
//! - [`wire`]: field checks that name the field they refuse;
//! - [`pseudonym::PersonKeys`]: the keyed hash a resident ID number is stored under.
//!
//! [`api`] merges every step's routes and their OpenAPI operations into one application; and
//! [`Platform`] bundles the rest for the routers.

pub mod alerts;
pub mod api;
pub mod auth;
pub mod city;
pub mod clock;
pub mod codes;
pub mod documents;
pub mod dossier;
pub mod error;
pub mod identity;
pub mod jobs;
pub mod json;
pub mod lambda;
pub mod ledger;
pub mod mutation;
pub mod params;
pub mod pseudonym;
pub mod refusals;
pub mod reports;
pub mod telemetry;
pub mod verification;
pub mod wire;

use std::sync::Arc;

use swi_store::{Documents, StateStore};

pub use error::{ApiError, ErrorCode};

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
    /// The parameter set the process started with: built-in, merged with the file named by
    /// `--params`/`SWI_PARAMS` (read through [`Platform::params`]).
    pub base_params: Arc<swi_rules::ParamSet>,
    /// The parameters in force (`base_params` with the city's confirmed values), rebuilt when
    /// the city confirms one.
    pub city_params: Arc<city::Cache>,
    /// Where people reach this deployment (`https://…`, no trailing slash): the verification
    /// URLs printed on official forms start with it. Empty: `http://127.0.0.1:8080`.
    pub public_url: String,
}

impl Platform {
    /// The parameters in force for a request or a job run.
    ///
    /// # Errors
    /// The store is unavailable.
    pub async fn params(&self) -> Result<Arc<swi_rules::ParamSet>, ApiError> {
        self.city_params.get(&*self.state, &self.base_params).await
    }

    /// The base of the URLs people are given (`public_url`, or the local default).
    #[must_use]
    pub fn site(&self) -> &str {
        if self.public_url.is_empty() {
            "http://127.0.0.1:8080"
        } else {
            self.public_url.trim_end_matches('/')
        }
    }
}
