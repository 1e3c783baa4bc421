//! The register (登记信息) every step reads and only a few commands change:
//!
//! - [`unit`]: units (参保单位) and their facts in the work-injury scheme (Art. 7, 9-10);
//! - [`enrolment`]: persons' enrolments, the unit rosters and the person index (Art. 6-8);
//! - [`cover`]: the audited, conditioned commands that start cover (a payment, Art. 8) and end it
//!   (termination, a unit's cancellation Art. 10, a claim's decision Art. 31) — the only way any
//!   step changes cover;
//! - [`project`]: construction projects enrolled as a whole and their workers, each an item of
//!   its own found by person (Art. 11-12, 48);
//! - [`person`]: what a person is covered by on a date, across enrolments and projects;
//! - [`relationship`]: the end of a person's supplementary relationship after a lump sum
//!   (Art. 31), written by a claim's approval;
//! - [`contributions`]: the contribution history a benefit's insured wage comes from (Art. 48),
//!   a port that billing's paid months will serve.
//!
//! Billing, claim review and the payment batch read the register through this crate; none of
//! them depends on the enrollment step.

pub mod contributions;
pub mod cover;
pub mod enrolment;
pub mod person;
pub mod project;
pub mod relationship;
pub mod unit;

use swi_platform::ApiError;

/// A stored record that cannot be read back is an internal error (its cause is logged).
pub(crate) fn corrupt(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// A resident ID number as shown: masked (`3607**********1234`), or `****` when unreadable.
#[must_use]
pub fn masked_id(number: &str) -> String {
    swi_rules::ids::ResidentId::parse(number).map_or_else(|_| "****".to_owned(), |id| id.masked())
}
