//! Persons' enrolments at the step (Art. 6-8, 18, 34): enrol (by the unit, or oneself as a
//! flexible or platform worker), file materials, acceptance or return with a one-time notice,
//! payment and the start of cover, termination; a unit's roster on a date and a person's cover
//! history. The records themselves are the register's (`swi_registry::enrolment`).
//!
//! Resident ID numbers are stored with the enrolment and answered masked; keys and audit cases
//! use the person key (a keyed hash of the number), so the number never appears in a key, a log
//! line or an audit event.

pub mod billing;
pub mod cover;
pub mod enrol;
pub mod notice;
pub mod read;
pub mod request;
pub mod window;

pub use cover::{record_payment, terminate};
pub use enrol::{enrol, enrol_self};
pub use notice::notice_pdf;
pub use read::{get, history, reminders, roster};
pub use request::{
    Checked, EnrolPerson, FileMaterial, HistoryQuery, OnDate, RecordPayment, RegisterChange,
    ReturnEnrolment, Terminate, check_request,
};
pub use window::{accept, file_material, register_change, return_with_notice};
