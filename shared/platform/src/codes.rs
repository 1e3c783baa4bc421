//! The closed set of error codes every answer's `error.code` is one of. Clients branch on these,
//! so each is a constant here, listed in the OpenAPI document, and never spelled as text at a call
//! site; the messages beside a code may change, the code does not.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $text:literal,)+) => {
        /// A stable error code (`error.code` of every error answer).
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The code as sent.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)+
                }
            }
        }
    };
}

error_codes! {
    // 400
    /// 400: the request is malformed or a field is invalid.
    InvalidRequest = "invalid_request",
    /// 400: a person category the scheme does not know (Art. 2).
    UnknownCategory = "unknown_category",
    /// 401: no valid bearer token.
    Unauthenticated = "unauthenticated",
    // 403
    /// 403: the actor's role may not take this action.
    ForbiddenRole = "forbidden_role",
    /// 403: the record lies in another county.
    ForbiddenCounty = "forbidden_county",
    /// 403: the record belongs to another unit or person.
    ForbiddenOwner = "forbidden_owner",
    /// 403: one person may not do two review steps of a case (Art. 5, 34).
    SeparationOfDuties = "separation_of_duties",
    /// 403: refused by a layer before any handler ran.
    Forbidden = "forbidden",
    /// 403: the citizen's account is not linked to a verified ID number yet.
    IdentityNotVerified = "identity_not_verified",
    /// 403: a citizen acts only for their own verified ID number (or as kin on record).
    NotOwnId = "not_own_id",
    /// 403: only the supervisor an alert is assigned to works it (Art. 44).
    NotAssignee = "not_assignee",
    /// 404: no such record or route.
    NotFound = "not_found",
    /// 405: the route does not take that method.
    MethodNotAllowed = "method_not_allowed",
    // 409
    /// 409: the record changed since it was read; reload and retry.
    ConcurrentChange = "concurrent_change",
    /// 409: the same idempotency key is still being answered; retry shortly.
    RequestInProgress = "request_in_progress",
    /// 409: the idempotency key was used for a different request.
    IdempotencyKeyReused = "idempotency_key_reused",
    /// 409: the case's audit trail was altered; nothing is recorded until it is examined.
    AuditChainBroken = "audit_chain_broken",
    /// 409: the record's state does not allow this step.
    InvalidTransition = "invalid_transition",
    /// 409: the record exists already.
    AlreadyRegistered = "already_registered",
    /// 409: the person is enrolled already for that period.
    AlreadyEnrolled = "already_enrolled",
    /// 409: a declaration for that unit and month exists already.
    AlreadyDeclared = "already_declared",
    /// 409: this receipts file was imported for the county before.
    AlreadyImported = "already_imported",
    /// 409: the new cover would overlap a cover on record.
    OverlappingCover = "overlapping_cover",
    /// 409: the unit is cancelled (Art. 10).
    UnitCancelled = "unit_cancelled",
    /// 409: the unit is being cancelled or moved; retry when that job is done.
    UnitBusy = "unit_busy",
    /// 409: the county named differs from the county on record.
    CountyOnRecord = "county_on_record",
    /// 409: the account is linked to another ID number already.
    IdentityLinked = "identity_linked",
    /// 413: the body is larger than the route accepts.
    TooLarge = "too_large",
    /// 415: the content type is not supported.
    UnsupportedType = "unsupported_type",
    // 422
    /// 422: a date outside the scheme's period in force.
    NotInForce = "not_in_force",
    /// 422: a parameter the city has not set yet.
    ParameterPending = "parameter_pending",
    /// 422: a parameter value the parameter file's checks refuse.
    ParameterRefused = "parameter_refused",
    /// 422: no working calendar for the year a deadline falls in.
    CalendarNotLoaded = "calendar_not_loaded",
    /// 422: the unit is not in the work-injury scheme (Art. 6).
    NotInWorkInjuryScheme = "not_in_work_injury_scheme",
    /// 422: the county does not match the unit's work-injury county.
    CountyMismatch = "county_mismatch",
    /// 422: the category may not enrol itself.
    CategoryNotSelfEnrolled = "category_not_self_enrolled",
    /// 422: the person draws no basic pension (Art. 3).
    NoBasicPension = "no_basic_pension",
    /// 422: the person is below the statutory retirement age (Art. 3, retired persons).
    BelowRetirementAge = "below_retirement_age",
    /// 422: the person is above the scheme's maximum age for the category.
    AboveMaximumAge = "above_maximum_age",
    /// 422: the person is below the minimum working age.
    BelowMinimumAge = "below_minimum_age",
    /// 422: the person's agreement with the unit has ended.
    AgreementEnded = "agreement_ended",
    /// 422: the person reached the statutory retirement age.
    ReachedRetirementAge = "reached_retirement_age",
    /// 422: the cover would start after it ends.
    CoverWouldStartAfterEnd = "cover_would_start_after_end",
    /// 422: a change notified later than the rules allow.
    ChangeNoticeTooLate = "change_notice_too_late",
    /// 422: an extension asked for later than the rules allow.
    ExtensionTooLate = "extension_too_late",
    /// 422: the document named was never uploaded.
    DocumentMissing = "document_missing",
    /// 422: the document's bytes are not the kind they claim to be.
    DocumentCorrupt = "document_corrupt",
    /// 422: the material is not required for this case.
    MaterialNotRequired = "material_not_required",
    /// 422: rows of a monthly declaration are refused; the row report says which.
    DeclarationRejected = "declaration_rejected",
    /// 422: rows of a receipts file do not match their bills; the row report says which (the
    /// whole file is refused).
    ReceiptsRejected = "receipts_rejected",
    /// 422: rows of a roster import are refused; the row report says which.
    RosterRejected = "roster_rejected",
    /// 422: the person was not covered on the day of the injury (Art. 8, 12).
    NotCovered = "not_covered",
    /// 422: the person's category does not receive the item (Art. 25, 29-32).
    NotEntitled = "not_entitled",
    /// 422: the item is granted once per injury and was granted or is claimed already
    /// (Art. 27, 29-32).
    AlreadyGranted = "already_granted",
    /// 409: the name asked for is taken (an account's user name).
    NameTaken = "name_taken",
    /// 422: the injury's cap for the item is used up by its approved claims (Art. 25-26).
    CapReached = "cap_reached",
    /// 422: the item is claimed only after the paid-leave period ends (Art. 26).
    PaidLeaveNotEnded = "paid_leave_not_ended",
    /// 422: the person's supplementary relationship ended after a lump sum (Art. 31).
    CoverEnded = "cover_ended",
    /// 422: materials of the checklist are missing (Art. 34: return the claim instead).
    MaterialsMissing = "materials_missing",
    /// 422: a review record the rules refuse (unpaid institutions, catalogue, dates, invoices).
    ReviewRefused = "review_refused",
    /// 422: more than is left of the year's prevention fund (Art. 50).
    PreventionFundExceeded = "prevention_fund_exceeded",
    /// 422: a hospital stay outside the paid-leave period (Art. 26).
    StayOutsidePaidLeave = "stay_outside_paid_leave",
    /// 409: the enrolment is billed; its payment comes from the tax bureau's receipt (Art. 8, 19).
    BilledThroughTax = "billed_through_tax",
    /// 422: a refund Art. 22 does not allow (the article's cases only, and only when the
    /// work-injury scheme refunds too).
    RefundNotAllowed = "refund_not_allowed",
    /// 422: a month that has not begun cannot be billed (Art. 16, 19).
    MonthInFuture = "month_in_future",
    /// 422: the account is not the payee's (its holder's name is not the payee's, Art. 35, 37)
    /// or is not valid (its form or check digit).
    AccountRejected = "account_rejected",
    /// 422: a bank's return file that does not answer its batch line by line (an unknown batch or
    /// line, a changed account or amount, a line missing): refused whole.
    ReturnRejected = "return_rejected",
    /// 409: a month's payment cycle cannot open while the month before it is not closed
    /// (Art. 37).
    PreviousCycleOpen = "previous_cycle_open",
    /// 422: a step of the payment cycle whose facts are not there yet (the periodic benefits
    /// recorded paid before their batch's return, a transfer of another amount than approved).
    CycleFactsMissing = "cycle_facts_missing",
    /// 422: the unit's industry class or floated band does not fit a person it rates (Art. 13-15).
    RatingInvalid = "rating_invalid",
    /// 422: the county's archive has no settings yet (its fonds number, archive-house number and
    /// filing unit, which every cover carries, Art. 46).
    ArchiveSettingsMissing = "archive_settings_missing",
    /// 409: the volume is on hold (a dispute, an audit): it is not destroyed while held.
    ArchiveHeld = "archive_held",
    /// 422: the volume's retention period has not passed: it is not appraised for destruction.
    RetentionNotPassed = "retention_not_passed",
    // 5xx
    /// 500: an internal error (its cause is logged, never sent).
    Internal = "internal",
    /// 503: the store is unreachable; retrying may help.
    Unavailable = "unavailable",
    /// 503: the parameter set cannot be read.
    ParametersUnavailable = "parameters_unavailable",
    /// 503: PDF forms cannot be rendered (the CJK font is missing).
    FormsUnavailable = "forms_unavailable",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<swi_rules::age::Ineligible> for ErrorCode {
    fn from(why: swi_rules::age::Ineligible) -> Self {
        use swi_rules::age::Ineligible::*;
        let code = match why {
            BelowRetirementAge { .. } => ErrorCode::BelowRetirementAge,
            AboveMaximumAge { .. } => ErrorCode::AboveMaximumAge,
            BelowMinimumAge { .. } => ErrorCode::BelowMinimumAge,
            AgreementEnded { .. } => ErrorCode::AgreementEnded,
            NoBasicPension => ErrorCode::NoBasicPension,
            ReachedRetirementAge { .. } => ErrorCode::ReachedRetirementAge,
        };
        debug_assert_eq!(code, why.code());
        code
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn each_code_is_sent_as_its_text_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let sent = serde_json::to_value(code).unwrap();
            assert_eq!(sent, code.as_str(), "{code:?}");
            assert!(seen.insert(code.as_str()), "{code} twice");
            let back: ErrorCode = serde_json::from_value(sent).unwrap();
            assert_eq!(back, *code);
        }
    }
}
