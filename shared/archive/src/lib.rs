//! The archive's pure parts (Art. 45-47): what the archiving step and the hosts share without
//! touching a store.
//!
//! - [`retention`]: the classes of records and their periods, dated, with sources;
//! - [`number`]: archive numbers (档号, DA/T 22-2015);
//! - [`bagit`]: a volume as a BagIt bag (RFC 8493), its payload by reference;
//! - [`package`]: the bag's tag files as one deterministic tar, read back within limits;
//! - [`volume`]: a volume's cover fields and list of contents, and its bag;
//! - [`checks`]: the four checks (DA/T 70) judged on what the store showed;
//! - [`text`]: plain text recognised as its bytes pass (no magic number names it).

pub mod bagit;
pub mod checks;
pub mod number;
pub mod package;
pub mod retention;
pub mod text;
pub mod volume;
