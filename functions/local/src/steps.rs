//! Every step's routes, as the local host serves them (one list, used by `swi serve` and by the
//! demo's seeding).

/// Every step's routes.
#[must_use]
pub fn all() -> Vec<swi_platform::api::Routes> {
    vec![
        swi_enrollment::routes(),
        swi_claim_review::routes(),
        swi_premium_billing::routes(),
        swi_payment_batch::routes(),
        swi_archiving::routes(),
        swi_supervision::routes(),
    ]
}
