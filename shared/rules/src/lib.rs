//! The regulation as code: 《赣州市补充工伤保险业务经办规程》 (赣市人社字〔2025〕7号) and the
//! figures it leaves to other documents, as pure functions of facts and dated parameters.
//!
//! Every rule takes the facts and a [`ParamSet`], and returns a [`Determination`]: the value, the
//! articles it applied and the parameters it used (so an answer can name every figure that is not
//! `confirmed`). Being ineligible is an *answer*; an `Err` means the rule cannot compute (a date
//! outside every parameter, a pending parameter, a calendar year not loaded).
//!
//! Architecture invariant: this crate is pure. No I/O, no clock, no async runtime, no floats; a
//! tidy test (`tests/tidy.rs`) fails the build if any is added. Dates are civil dates in China
//! (UTC+8), computed once at the edge. Money is [`rust_decimal::Decimal`] in yuan, rounded
//! half-up to the fen only by [`money::round_fen`].

pub mod age;
pub mod benefits;
pub mod billing;
pub mod calendar;
pub mod category;
pub mod citation;
pub mod cover;
pub mod ids;
pub mod money;
pub mod params;
pub mod premium;
pub mod prevention;

pub use citation::{Citation, Doc, art};
pub use params::{Determination, ParamError, ParamSet, Status, Trace, Used};

use chrono::NaiveDate;

/// Why a rule cannot compute. Ineligibility is not an error: it is an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The date lies before the first value of a parameter the rule needs.
    #[error("{parameter} is not in force on {on}{}", first.map(|f| format!(" (first value from {f})")).unwrap_or_default())]
    NotInForce {
        /// The parameter.
        parameter: String,
        /// The date asked.
        on: NaiveDate,
        /// Its first value's date, if it has any.
        first: Option<NaiveDate>,
    },
    /// The parameter has no value for that date: the city has not set it.
    #[error(
        "parameter {parameter} has no value for {on} (status pending): it must be set by the city before this can be computed"
    )]
    ParameterPending {
        /// The parameter.
        parameter: String,
        /// The date asked.
        on: NaiveDate,
    },
    /// A working-day term runs into a year whose calendar is not loaded.
    #[error("working-day calendar for {year} not loaded")]
    CalendarNotLoaded {
        /// The year.
        year: i32,
    },
    /// The facts contradict each other or lie outside what the rule covers.
    #[error("{0}")]
    InvalidFacts(String),
    /// A parameter the code asks for is missing from the set (a broken run-time set).
    #[error("parameter {0} is missing from the parameter set")]
    UnknownParameter(String),
}
