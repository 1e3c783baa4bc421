//! Separation of duties (Art. 5, 34): the window acceptance (受理), handling (承办), first review
//! (初审) and re-review (复核) of one case are done by different people. A person may repeat the
//! step they already did (a case sent back to first review returns to its first reviewer), never
//! take another.

use serde::{Deserialize, Serialize};

use crate::access::{Action, Denied, Role};

/// A review step of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 受理: materials checked and received at the window.
    Acceptance,
    /// 承办: identity, contributions, recognition and appraisal matched.
    Handling,
    /// 初审: first review and entry of the assessed benefit.
    FirstReview,
    /// 复核: re-review.
    ReReview,
}

impl Step {
    /// The role that performs the step.
    #[must_use]
    pub const fn role(self) -> Role {
        match self {
            Step::Acceptance => Role::Acceptor,
            Step::Handling => Role::Handler,
            Step::FirstReview => Role::FirstReviewer,
            Step::ReReview => Role::ReReviewer,
        }
    }

    /// The action of performing the step on a claim.
    #[must_use]
    pub const fn claim_action(self) -> Action {
        match self {
            Step::Acceptance => Action::AcceptClaim,
            Step::Handling => Action::HandleClaim,
            Step::FirstReview => Action::FirstReviewClaim,
            Step::ReReview => Action::ReReviewClaim,
        }
    }

    /// The identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Acceptance => "acceptance",
            Step::Handling => "handling",
            Step::FirstReview => "first_review",
            Step::ReReview => "re_review",
        }
    }
}

/// Who performed which step of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Performed {
    /// The step.
    pub step: Step,
    /// The person (token subject).
    pub sub: String,
}

/// Whether `sub` may perform `step` of a case whose steps so far are `history` (Art. 5: 一人不能
/// 同时操作同一项业务的受理、初审、复核业务).
///
/// # Errors
/// `Denied::Duties` naming the step the person already performed.
pub fn may_perform(history: &[Performed], sub: &str, step: Step) -> Result<(), Denied> {
    match history.iter().find(|p| p.sub == sub && p.step != step) {
        Some(done) => Err(Denied::Duties(format!(
            "this person already performed the {} of this case and may not perform its {} (Art. 5, 34)",
            done.step.as_str(),
            step.as_str()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(step: Step, sub: &str) -> Performed {
        Performed {
            step,
            sub: sub.into(),
        }
    }

    #[test]
    fn the_acceptor_may_not_first_review_the_same_case() {
        let h = [done(Step::Acceptance, "alice")];
        assert_eq!(
            may_perform(&h, "alice", Step::FirstReview)
                .unwrap_err()
                .code(),
            "separation_of_duties"
        );
        assert!(may_perform(&h, "bob", Step::FirstReview).is_ok());
    }

    #[test]
    fn no_person_takes_two_of_the_four_steps() {
        let h = [
            done(Step::Acceptance, "a"),
            done(Step::Handling, "b"),
            done(Step::FirstReview, "c"),
        ];
        for sub in ["a", "b", "c"] {
            assert!(may_perform(&h, sub, Step::ReReview).is_err(), "{sub}");
        }
        assert!(may_perform(&h, "d", Step::ReReview).is_ok());
        assert!(
            may_perform(&h, "c", Step::FirstReview).is_ok(),
            "a step may be repeated"
        );
    }
}
