//! The business model of swi that is not arithmetic (the arithmetic is `swi-rules`): who may do
//! what and where ([`access`]), that no person performs two review steps of one case
//! ([`duties`], Art. 5, 34), and the audit events every state change leaves, chained by hash per
//! case ([`audit`]); the cases with their state machines: enrolments ([`enrolment`]), benefit
//! claims ([`claim`]), and payment lines and monthly fund cycles ([`payment`]).
//!
//! Architecture invariant: pure. No I/O, no clock (times come in as values), no async runtime.

pub mod access;
pub mod audit;
pub mod claim;
pub mod duties;
pub mod enrolment;
pub mod payment;

pub use access::{Action, Actor, Denied, Jurisdiction, Organisation, Owner, Role};
