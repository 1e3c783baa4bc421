//! Bills (应缴额核定, Art. 16-21): what one payer owes for one month, a line per person.
//!
//! - [`bill`]: the bill, its lines, its keys and the items that list it (by payer, by county and
//!   month, and while unpaid by county — the arrears of Art. 21);
//! - [`lines`]: who is billed in a month and for what, from a roster entry and the month's
//!   [`swi_rules::billing::MonthTable`] (Art. 14, 17);
//! - [`issue`]: the operations issuing a bill, and the first month's bill an enrolment gets when
//!   it is accepted, so that the joiner can pay at once and be covered the next day (Art. 8);
//! - [`receipt`]: a payment the tax bureau reports against a bill — matched exactly or refused
//!   with why — which marks it paid and starts the cover waiting for it (Art. 8, 19).
//!
//! The enrollment step issues first bills through this crate; the premium-billing step runs the
//! months, exchanges files with the tax bureau and takes its receipts.

pub mod bill;
pub mod issue;
pub mod lines;
pub mod receipt;

pub use bill::{Bill, BillKind, BillStatus, Line, Payer};
