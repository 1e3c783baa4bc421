//! The two storage ports every step keeps its data through, and what they share.
//!
//! - [`state::StateStore`]: DynamoDB-shaped items addressed by `(pk, sk)`, with a version, an
//!   optional secondary-index key and a JSON body; conditional all-or-nothing transactions.
//! - [`docs::Documents`]: scanned files addressed by their SHA-256, written create-only, re-hashed
//!   whenever they are read.
//!
//! Two backends implement both: `swi-store-embedded` (one SQLite file and a directory) and
//! `swi-store-aws` (DynamoDB and S3). Nothing above the ports can tell them apart; the
//! [`contract`] suite (feature `contract`) proves it by running the same tests on both.
//! [`config::StoreConfig`] reads the one place where the backend is chosen.

pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod docs;
pub mod state;

pub use docs::{
    DocError, DocMeta, Documents, Keep, PresignedPut, Protection, Sha256, VerifyReport,
};
pub use state::{
    Condition, Cursor, Index, Item, Key, Page, Query, SkRange, StateError, StateStore, TextItem,
    TextPage, TxOp,
};
