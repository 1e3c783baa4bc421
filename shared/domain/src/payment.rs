//! The payment step's two state machines (Art. 35-38).
//!
//! - A **payment line** (one approved payable line, or one month's instalment of a periodic
//!   benefit) is paid once: it waits until its payee's account is valid and held by the payee,
//!   is put into one bank batch at a time, and the bank's return marks it paid or failed. A failed
//!   line goes out again only after its account is corrected, as a new *attempt* of the same line,
//!   never as a second line (the attempt number is kept on the line; see [`Line::attempt`]).
//! - A **monthly cycle** (Art. 37) settles one month's payouts in the month after: the
//!   contractor's summary of the payouts (by the 5th), its payment request (请款计划, by the
//!   10th), the agency's approval or refusal with reasons (a refused request is corrected and
//!   submitted again), the transfer (by the 15th), the month's periodic benefits paid (by the
//!   20th), then the cycle closes. A cycle opens only when the one before it has closed.
//!
//! Who may take each step is [`cycle_actor_may`]: the contractor's finance staff prepare, the
//! agency's officers decide — a request is never approved by the organisation that made it.

use serde::{Deserialize, Serialize};

use crate::access::{Organisation, Role};

/// Where a payment line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Waiting for a valid account held by the payee.
    AwaitingAccount,
    /// Ready to go into a batch.
    Ready,
    /// In a bank batch, waiting for the bank's return.
    Batched,
    /// Paid (terminal).
    Paid,
    /// The bank returned it unpaid; goes out again once its account is corrected.
    Failed,
    /// Withdrawn before it was paid: the periodic benefit it belonged to no longer pays that
    /// month (stopped or suspended since it was made). Terminal.
    Withdrawn,
}

/// What happens to a payment line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent {
    /// The payee's account was recorded, valid and held by the payee.
    AccountVerified,
    /// The account on record stopped being usable (changed, or found not the payee's).
    AccountWithdrawn,
    /// Put into a bank batch.
    Batch,
    /// The bank's return: paid.
    ReturnedPaid,
    /// The bank's return: not paid.
    ReturnedFailed,
    /// The line is no longer owed (its benefit stopped or was suspended for its month).
    Withdraw,
}

impl LineEvent {
    fn name(self) -> &'static str {
        match self {
            LineEvent::AccountVerified => "account_verified",
            LineEvent::AccountWithdrawn => "account_withdrawn",
            LineEvent::Batch => "batch",
            LineEvent::ReturnedPaid => "returned_paid",
            LineEvent::ReturnedFailed => "returned_failed",
            LineEvent::Withdraw => "withdraw",
        }
    }
}

/// A transition a state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} that is {from} cannot take {event}")]
pub struct Refused {
    /// The machine ("a payment line", "a payment cycle").
    pub what: &'static str,
    /// The current state.
    pub from: &'static str,
    /// The event.
    pub event: &'static str,
}

/// A payment line's state: its status and the attempt it is on (1 for the first batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Line {
    /// Status.
    pub status: LineStatus,
    /// Attempts made (batches it went into); 0 before the first.
    pub attempt: u32,
}

impl Line {
    /// A new line: waiting for its account, no attempt made.
    #[must_use]
    pub const fn new() -> Self {
        Line {
            status: LineStatus::AwaitingAccount,
            attempt: 0,
        }
    }

    /// The line after `event`.
    ///
    /// # Errors
    /// The event does not apply now: a paid line takes nothing, a line in a batch leaves it only
    /// by the bank's return, a failed line only by a verified (corrected) account.
    pub fn next(self, event: LineEvent) -> Result<Line, Refused> {
        use LineStatus as S;
        let status = match (self.status, event) {
            (S::AwaitingAccount | S::Ready | S::Failed, LineEvent::AccountVerified) => S::Ready,
            (S::Ready, LineEvent::AccountWithdrawn) => S::AwaitingAccount,
            (S::Ready, LineEvent::Batch) => S::Batched,
            (S::Batched, LineEvent::ReturnedPaid) => S::Paid,
            (S::Batched, LineEvent::ReturnedFailed) => S::Failed,
            (S::AwaitingAccount | S::Ready | S::Failed, LineEvent::Withdraw) => S::Withdrawn,
            _ => {
                return Err(Refused {
                    what: "a payment line",
                    from: line_status_name(self.status),
                    event: event.name(),
                });
            }
        };
        Ok(Line {
            status,
            attempt: self.attempt + u32::from(event == LineEvent::Batch),
        })
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

fn line_status_name(s: LineStatus) -> &'static str {
    match s {
        LineStatus::AwaitingAccount => "awaiting_account",
        LineStatus::Ready => "ready",
        LineStatus::Batched => "batched",
        LineStatus::Paid => "paid",
        LineStatus::Failed => "failed",
        LineStatus::Withdrawn => "withdrawn",
    }
}

/// Where a monthly cycle stands (Art. 37).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CycleStep {
    /// Opened: the contractor prepares last month's payouts.
    Open,
    /// The payouts' summary is submitted (by the 5th).
    SummarySubmitted,
    /// The payment request is submitted (by the 10th).
    RequestSubmitted,
    /// The agency refused the request, with reasons: the contractor corrects it.
    RequestRefused,
    /// The agency approved the request.
    RequestApproved,
    /// The transfer to the contractor is recorded (by the 15th).
    TransferRecorded,
    /// The month's periodic benefits are paid (by the 20th).
    PeriodicPaid,
    /// Closed: the next month's cycle may open.
    Closed,
}

/// A step of a monthly cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CycleCommand {
    /// Submit the payouts' summary.
    SubmitSummary,
    /// Submit (or, after a refusal, submit again) the payment request.
    SubmitRequest,
    /// Approve the request.
    ApproveRequest,
    /// Refuse the request, with reasons.
    RefuseRequest,
    /// Record the transfer.
    RecordTransfer,
    /// Record the month's periodic benefits paid.
    RecordPeriodicPaid,
    /// Close the cycle.
    Close,
}

impl CycleCommand {
    fn name(self) -> &'static str {
        match self {
            CycleCommand::SubmitSummary => "submit_summary",
            CycleCommand::SubmitRequest => "submit_request",
            CycleCommand::ApproveRequest => "approve_request",
            CycleCommand::RefuseRequest => "refuse_request",
            CycleCommand::RecordTransfer => "record_transfer",
            CycleCommand::RecordPeriodicPaid => "record_periodic_paid",
            CycleCommand::Close => "close",
        }
    }

    /// The organisation whose staff take this step: the agency decides on the request and
    /// transfers the money; the contractor does the rest (Art. 37).
    #[must_use]
    pub const fn organisation(self) -> Organisation {
        match self {
            CycleCommand::ApproveRequest
            | CycleCommand::RefuseRequest
            | CycleCommand::RecordTransfer
            | CycleCommand::Close => Organisation::Agency,
            CycleCommand::SubmitSummary
            | CycleCommand::SubmitRequest
            | CycleCommand::RecordPeriodicPaid => Organisation::Contractor,
        }
    }
}

/// Whether `role` may take `command`: the contractor's finance staff prepare and pay, the
/// agency's officers decide, transfer and close.
#[must_use]
pub fn cycle_actor_may(role: Role, command: CycleCommand) -> bool {
    match command.organisation() {
        Organisation::Contractor => role == Role::Finance,
        Organisation::Agency => role == Role::AgencyOfficer,
    }
}

/// The cycle's step after `command`.
///
/// # Errors
/// The command does not apply at this step.
pub fn cycle_next(step: CycleStep, command: CycleCommand) -> Result<CycleStep, Refused> {
    use CycleCommand as C;
    use CycleStep as S;
    Ok(match (step, command) {
        (S::Open, C::SubmitSummary) => S::SummarySubmitted,
        (S::SummarySubmitted | S::RequestRefused, C::SubmitRequest) => S::RequestSubmitted,
        (S::RequestSubmitted, C::ApproveRequest) => S::RequestApproved,
        (S::RequestSubmitted, C::RefuseRequest) => S::RequestRefused,
        (S::RequestApproved, C::RecordTransfer) => S::TransferRecorded,
        (S::TransferRecorded, C::RecordPeriodicPaid) => S::PeriodicPaid,
        (S::PeriodicPaid, C::Close) => S::Closed,
        _ => {
            return Err(Refused {
                what: "a payment cycle",
                from: cycle_step_name(step),
                event: command.name(),
            });
        }
    })
}

fn cycle_step_name(s: CycleStep) -> &'static str {
    match s {
        CycleStep::Open => "open",
        CycleStep::SummarySubmitted => "summary_submitted",
        CycleStep::RequestSubmitted => "request_submitted",
        CycleStep::RequestRefused => "request_refused",
        CycleStep::RequestApproved => "request_approved",
        CycleStep::TransferRecorded => "transfer_recorded",
        CycleStep::PeriodicPaid => "periodic_paid",
        CycleStep::Closed => "closed",
    }
}

/// Whether a month's cycle may open, given where the previous month's stands (`None`: there is
/// none, the scheme's first).
#[must_use]
pub fn may_open(previous: Option<CycleStep>) -> bool {
    previous.is_none_or(|s| s == CycleStep::Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_withdrawn_only_before_it_goes_to_a_bank() {
        let waiting = Line::new();
        assert_eq!(
            waiting.next(LineEvent::Withdraw).unwrap().status,
            LineStatus::Withdrawn
        );
        let batched = waiting
            .next(LineEvent::AccountVerified)
            .unwrap()
            .next(LineEvent::Batch)
            .unwrap();
        assert!(batched.next(LineEvent::Withdraw).is_err());
        let withdrawn = waiting.next(LineEvent::Withdraw).unwrap();
        assert!(withdrawn.next(LineEvent::AccountVerified).is_err());
    }

    #[test]
    fn a_line_is_paid_once_and_a_failure_goes_out_again_as_a_new_attempt() {
        let line = Line::new()
            .next(LineEvent::AccountVerified)
            .unwrap()
            .next(LineEvent::Batch)
            .unwrap();
        assert_eq!((line.status, line.attempt), (LineStatus::Batched, 1));
        // In a batch it cannot be batched again, nor have its account swapped.
        assert!(line.next(LineEvent::Batch).is_err());
        assert!(line.next(LineEvent::AccountWithdrawn).is_err());
        let failed = line.next(LineEvent::ReturnedFailed).unwrap();
        // Not again until the account is corrected.
        assert!(failed.next(LineEvent::Batch).is_err());
        let again = failed
            .next(LineEvent::AccountVerified)
            .unwrap()
            .next(LineEvent::Batch)
            .unwrap();
        assert_eq!((again.status, again.attempt), (LineStatus::Batched, 2));
        let paid = again.next(LineEvent::ReturnedPaid).unwrap();
        assert_eq!(paid.status, LineStatus::Paid);
        for e in [
            LineEvent::AccountVerified,
            LineEvent::AccountWithdrawn,
            LineEvent::Batch,
            LineEvent::ReturnedPaid,
            LineEvent::ReturnedFailed,
        ] {
            let refused = paid.next(e).unwrap_err();
            assert_eq!(refused.from, "paid");
        }
        // A return for a line that is not in a batch is refused.
        assert!(Line::new().next(LineEvent::ReturnedPaid).is_err());
        // Without a valid account a line is never batched.
        assert!(Line::new().next(LineEvent::Batch).is_err());
        let withdrawn = Line::new()
            .next(LineEvent::AccountVerified)
            .unwrap()
            .next(LineEvent::AccountWithdrawn)
            .unwrap();
        assert_eq!(withdrawn.status, LineStatus::AwaitingAccount);
    }

    #[test]
    fn a_cycle_runs_in_order_and_a_refused_request_is_submitted_again() {
        use CycleCommand as C;
        let mut s = CycleStep::Open;
        for c in [
            C::SubmitSummary,
            C::SubmitRequest,
            C::RefuseRequest,
            C::SubmitRequest,
        ] {
            s = cycle_next(s, c).unwrap();
        }
        assert_eq!(s, CycleStep::RequestSubmitted);
        assert!(
            cycle_next(s, C::RecordTransfer).is_err(),
            "no transfer before approval"
        );
        for c in [
            C::ApproveRequest,
            C::RecordTransfer,
            C::RecordPeriodicPaid,
            C::Close,
        ] {
            s = cycle_next(s, c).unwrap();
        }
        assert_eq!(s, CycleStep::Closed);
        assert!(cycle_next(s, C::SubmitSummary).is_err());
        assert!(
            cycle_next(CycleStep::Open, C::SubmitRequest).is_err(),
            "summary first"
        );
        assert!(cycle_next(CycleStep::RequestApproved, C::RefuseRequest).is_err());
    }

    #[test]
    fn the_contractor_prepares_and_the_agency_decides() {
        use CycleCommand as C;
        assert!(cycle_actor_may(Role::Finance, C::SubmitRequest));
        assert!(
            !cycle_actor_may(Role::Finance, C::ApproveRequest),
            "never its own request"
        );
        assert!(!cycle_actor_may(Role::FirstReviewer, C::SubmitRequest));
        assert!(cycle_actor_may(Role::AgencyOfficer, C::ApproveRequest));
        assert!(cycle_actor_may(Role::AgencyOfficer, C::RefuseRequest));
        assert!(!cycle_actor_may(Role::AgencyOfficer, C::SubmitRequest));
        assert!(!cycle_actor_may(Role::Supervisor, C::ApproveRequest));
        for role in Role::ALL {
            if cycle_actor_may(role, C::ApproveRequest) {
                assert_eq!(role.organisation(), Some(Organisation::Agency));
            }
        }
    }

    #[test]
    fn a_month_opens_only_after_the_one_before_closes() {
        assert!(may_open(None));
        assert!(may_open(Some(CycleStep::Closed)));
        assert!(!may_open(Some(CycleStep::PeriodicPaid)));
        assert!(!may_open(Some(CycleStep::Open)));
    }
}
