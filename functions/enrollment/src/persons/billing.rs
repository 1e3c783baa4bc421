//! The first month's bill of an enrolment the moment it comes to wait for payment — enrolled by
//! its unit, accepted at the window, or joined by a declaration — written in the same
//! transaction, so that the joiner can pay at once and be covered the day after (Art. 8). The
//! bill itself is `swi_bills`'s; the monthly runs bill the months after it.

use swi_bills::issue::{Issuer, joining};
use swi_domain::enrolment::Status;
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::Enrolment;
use swi_registry::unit::Unit;
use swi_rules::ParamSet;
use swi_store::TxOp;

/// What the first bill adds to a transaction.
#[derive(Debug, Default)]
pub struct FirstBill {
    /// The bill, its line and the lists naming it.
    pub ops: Vec<TxOp>,
    /// Its audit event.
    pub audit: Vec<Audit>,
}

/// The first bill of `e` (setting its `bills_from`) when it now waits for payment and has none;
/// nothing otherwise. `unit` is the unit as read (its class and band rate the person).
///
/// # Errors
/// 422 the month is outside the scheme or the unit's rating does not fit the person.
pub fn first_bill(
    p: &Platform,
    params: &ParamSet,
    e: &mut Enrolment,
    unit: Option<&Unit>,
    by: &str,
) -> Result<FirstBill, ApiError> {
    if e.status != Status::AwaitingPayment || e.bills_from.is_some() {
        return Ok(FirstBill::default());
    }
    let issuer = Issuer {
        at: p.clock.now().naive_local(),
        by: by.to_owned(),
    };
    Ok(match joining(params, e, unit, p.clock.today(), issuer)? {
        None => FirstBill::default(),
        Some((ops, audit, _)) => FirstBill {
            ops,
            audit: vec![audit],
        },
    })
}
