//! Roles, actors and who may do what where (GLOSSARY roles; Art. 3, 5, 34).
//!
//! Every handler asks [`Actor::may`] before it acts; the answer depends on the role and on the
//! county the record belongs to. Contractor and agency clerks act only in the county their token
//! names; city-level officers (county `360700`) act in every county; supervisors read everything
//! and change nothing; operators never see personal data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use swi_rules::ids::County;

/// A role (`role` claim of a token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 参保人员及近亲属: own records, enrols as a flexible or platform worker, submits own claims.
    Citizen,
    /// 参保单位经办人: enrols and declares its staff, submits claims for them.
    Employer,
    /// 受理窗口: checks materials, accepts or returns with a one-time notice.
    Acceptor,
    /// 承办岗: confirms eligibility.
    Handler,
    /// 初审岗: first review, enters the assessed benefit.
    FirstReviewer,
    /// 复核岗: re-review.
    ReReviewer,
    /// 财务: payment requests, payments, vouchers, reconciliation.
    Finance,
    /// 经办机构业务科室: checks monthly payouts, approves payment requests, re-rating.
    AgencyOfficer,
    /// 稽核内控: alerts, the audit ledger, every county read-only.
    Supervisor,
    /// 档案管理: files volumes, hands over archives.
    Archivist,
    /// 运维: deploys and runs scheduled jobs; no access to personal data.
    Operator,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 11] = [
        Role::Citizen,
        Role::Employer,
        Role::Acceptor,
        Role::Handler,
        Role::FirstReviewer,
        Role::ReReviewer,
        Role::Finance,
        Role::AgencyOfficer,
        Role::Supervisor,
        Role::Archivist,
        Role::Operator,
    ];

    /// The glossary identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Employer => "employer",
            Role::Acceptor => "acceptor",
            Role::Handler => "handler",
            Role::FirstReviewer => "first_reviewer",
            Role::ReReviewer => "re_reviewer",
            Role::Finance => "finance",
            Role::AgencyOfficer => "agency_officer",
            Role::Supervisor => "supervisor",
            Role::Archivist => "archivist",
            Role::Operator => "operator",
        }
    }

    /// A clerk of the contractor or the agency (not a citizen, employer or operator).
    #[must_use]
    pub const fn is_clerk(self) -> bool {
        !matches!(self, Role::Citizen | Role::Employer | Role::Operator)
    }
}

/// The organisation a clerk works for (GLOSSARY, "Organisations"): checks such as "the
/// contractor's own staff may not approve its payment request" (Art. 37) follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Organisation {
    /// 社会保险经办机构: the window, the business office, internal control, the archive.
    Agency,
    /// 承办机构: eligibility, first review, re-review, finance.
    Contractor,
}

impl Role {
    /// The organisation the role belongs to; none for citizens, employers and operators.
    #[must_use]
    pub const fn organisation(self) -> Option<Organisation> {
        match self {
            Role::Acceptor | Role::AgencyOfficer | Role::Supervisor | Role::Archivist => {
                Some(Organisation::Agency)
            }
            Role::Handler | Role::FirstReviewer | Role::ReReviewer | Role::Finance => {
                Some(Organisation::Contractor)
            }
            Role::Citizen | Role::Employer | Role::Operator => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`"))
    }
}

/// Where an actor acts: one county, or the whole city (`360700`, the city agency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Jurisdiction {
    /// One county (县、市、区).
    County(County),
    /// Ganzhou city as a whole (市级经办机构).
    City,
}

/// Ganzhou city's code (GB/T 2260).
pub const CITY_CODE: &str = "360700";

impl Jurisdiction {
    /// Parses a county code or the city's `360700`.
    ///
    /// # Errors
    /// Any other code.
    pub fn parse(code: &str) -> Result<Self, String> {
        if code == CITY_CODE {
            Ok(Jurisdiction::City)
        } else {
            County::parse(code).map(Jurisdiction::County)
        }
    }

    /// The code.
    #[must_use]
    pub fn code(&self) -> String {
        match self {
            Jurisdiction::County(c) => c.code().to_string(),
            Jurisdiction::City => CITY_CODE.to_owned(),
        }
    }

    /// Whether a record of `county` lies within.
    #[must_use]
    pub fn covers(&self, county: County) -> bool {
        match self {
            Jurisdiction::City => true,
            Jurisdiction::County(c) => *c == county,
        }
    }
}

/// Who is acting: the verified claims of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Stable subject identifier (never a resident ID number).
    pub sub: String,
    /// Role.
    pub role: Role,
    /// Where the actor acts.
    pub jurisdiction: Jurisdiction,
    /// Display name (for forms and the audit trail).
    pub name: String,
    /// For employers: the unified social credit code of the unit they act for.
    pub unit: Option<String>,
}

impl Actor {
    /// The organisation the actor works for, by role.
    #[must_use]
    pub const fn organisation(&self) -> Option<Organisation> {
        self.role.organisation()
    }
}

/// What an actor asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Register, change or cancel a unit (Art. 9-10).
    ManageUnit,
    /// Record a unit's work-injury facts (import or clerk entry with evidence, Art. 7).
    RecordWorkInjuryFacts,
    /// Enrol, change or terminate a person of a unit (Art. 6-9).
    ManagePersons,
    /// Enrol oneself as a flexible or platform worker (Art. 6, 16).
    EnrolSelf,
    /// Upload scanned materials to an enrolment (Art. 7, 33).
    UploadMaterials,
    /// Send a file to the document store (a presigned upload) to file it afterwards: whoever
    /// files any scan or table. Filing it to a case is checked by that case's own action.
    Upload,
    /// Accept or return an enrolment's materials (Art. 34 window).
    AcceptMaterials,
    /// Record a premium payment by hand, for an enrolment billing does not cover (Art. 8).
    RecordPayment,
    /// Exchange files with the tax bureau: export a county's bills, import its receipts (Art. 16,
    /// 19, 21).
    ExchangeWithTax,
    /// Decide a premium refund under Art. 22, with the work-injury side's decision.
    DecideRefund,
    /// Import a yearly re-rating, decide a unit's re-check (Art. 13-15).
    ReRate,
    /// File a monthly declaration (Art. 18).
    Declare,
    /// Review a declaration (Art. 18).
    ReviewDeclaration,
    /// Enrol, extend or cancel a construction project (Art. 11-12).
    ManageProjects,
    /// Read records (rosters, cover histories, certificates).
    Read,
    /// Read the audit ledger.
    ReadAudit,
    /// Read risk alerts and the supervision register (Art. 42-44).
    ReadAlerts,
    /// Work risk alerts — assign, investigate, close with a finding — and keep the yearly
    /// supervision plan (Art. 44, chapter 8).
    WorkAlerts,
    /// Read the statistics and the fund's analysis (Art. 41).
    ReadStatistics,
    /// Record the use of the prevention fund (Art. 50).
    RecordPreventionUse,
    /// Record or confirm a city parameter (a figure the city sets, its calendar).
    SetParameters,
    /// Verify a citizen's identity at the window (link an account to an ID number) or record a
    /// close relative's proof of kinship.
    VerifyIdentity,
    /// Run scheduled jobs.
    RunJobs,
    /// Record an injury's recognition, paid-leave period, appraisal or death with its scan
    /// (Art. 25-32).
    RecordInjury,
    /// Submit a benefit claim, or add materials to it (Art. 25-32): the unit, the person or a
    /// close relative, or the window for them.
    SubmitClaim,
    /// The window's step of a claim (受理, Art. 34): accept or return; send back or reject.
    AcceptClaim,
    /// Handling (承办): confirm eligibility; send back or reject.
    HandleClaim,
    /// First review (初审) and entry: judge fees, assess, approve; send back or reject.
    FirstReviewClaim,
    /// Re-review (复核): confirm or deduct; send back or reject.
    ReReviewClaim,
    /// Record a payee's account (Art. 35, 37): the contractor's finance staff for the payees of
    /// their county's lines, a citizen or unit for itself.
    RecordAccount,
    /// Pay (Art. 37, 38): open batch runs, make bank files, record the banks' returns, record
    /// a periodic benefit's stop, suspension or adjustment.
    Pay,
    /// Read the payment step's county records: the lines due, batches, the cycle, the books.
    ReadPayments,
    /// Keep the archive (Art. 45-47): its settings, a month's filing, the paper copies'
    /// places, appraisal, destruction and handover.
    KeepArchive,
    /// Read the archive: volumes, their contents and checks, the documents' registrations (the
    /// agency's officers too: they decide its destructions).
    ReadArchive,
    /// Approve or refuse a destruction the archivist proposed (鉴定销毁: the agency decides,
    /// the archive proposes).
    ApproveDisposal,
    /// Witness an approved destruction (监销): two people, each confirming it.
    WitnessDisposal,
    /// Place or lift a hold on a volume (a dispute, an audit): nothing held is destroyed.
    HoldArchive,
}

/// Why an actor may not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The role does not do this at all.
    #[error("role {role} may not {action:?}")]
    Role {
        /// The role.
        role: Role,
        /// The action.
        action: Action,
    },
    /// The record lies in another county.
    #[error("the record belongs to county {record}; this token acts for {actor}")]
    County {
        /// The record's county.
        record: String,
        /// The actor's jurisdiction.
        actor: String,
    },
    /// The record belongs to another unit or person.
    #[error("the record belongs to someone else")]
    NotOwner,
    /// Separation of duties (Art. 5, 34).
    #[error("{0}")]
    Duties(String),
}

impl Denied {
    /// A stable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Denied::Role { .. } => "forbidden_role",
            Denied::County { .. } => "forbidden_county",
            Denied::NotOwner => "forbidden_owner",
            Denied::Duties(_) => "separation_of_duties",
        }
    }
}

/// Which roles may take an action at all.
const fn roles_for(action: Action) -> &'static [Role] {
    use Role::*;
    match action {
        Action::ManageUnit => &[Employer, Acceptor],
        Action::RecordWorkInjuryFacts => &[Acceptor, AgencyOfficer],
        Action::ManagePersons => &[Employer, Acceptor],
        Action::EnrolSelf => &[Citizen],
        Action::UploadMaterials => &[Citizen, Employer, Acceptor],
        Action::Upload => &[Citizen, Employer, Acceptor, Handler, AgencyOfficer],
        Action::AcceptMaterials => &[Acceptor],
        Action::RecordPayment => &[Acceptor, Finance],
        Action::ExchangeWithTax => &[Acceptor, AgencyOfficer, Finance],
        Action::DecideRefund => &[Acceptor, AgencyOfficer],
        Action::ReRate => &[AgencyOfficer],
        Action::Declare => &[Employer],
        Action::ReviewDeclaration => &[Acceptor, Handler],
        Action::ManageProjects => &[Employer, Acceptor],
        Action::Read => &[
            Citizen,
            Employer,
            Acceptor,
            Handler,
            FirstReviewer,
            ReReviewer,
            Finance,
            AgencyOfficer,
            Supervisor,
            Archivist,
        ],
        Action::ReadAudit => &[Supervisor, AgencyOfficer],
        Action::ReadAlerts => &[Supervisor, AgencyOfficer],
        Action::WorkAlerts => &[Supervisor],
        Action::ReadStatistics => &[Supervisor, AgencyOfficer, Finance],
        Action::RecordPreventionUse => &[AgencyOfficer],
        Action::SetParameters => &[AgencyOfficer],
        Action::VerifyIdentity => &[Acceptor],
        Action::RunJobs => &[Operator, AgencyOfficer],
        Action::RecordInjury => &[Acceptor, Handler],
        Action::SubmitClaim => &[Citizen, Employer, Acceptor],
        Action::AcceptClaim => &[Acceptor],
        Action::HandleClaim => &[Handler],
        Action::FirstReviewClaim => &[FirstReviewer],
        Action::ReReviewClaim => &[ReReviewer],
        Action::RecordAccount => &[Citizen, Employer, Finance],
        Action::Pay => &[Finance],
        Action::ReadPayments => &[Finance, AgencyOfficer, Supervisor],
        Action::KeepArchive => &[Archivist],
        Action::ReadArchive => &[Archivist, Supervisor, AgencyOfficer],
        Action::ApproveDisposal => &[AgencyOfficer],
        Action::WitnessDisposal => &[Archivist, Supervisor],
        Action::HoldArchive => &[Archivist, Supervisor],
    }
}

/// Whose record it is, for the ownership check of citizens and employers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A unit's record (its credit code).
    Unit(&'a str),
    /// A person's own record (the subject who enrolled).
    Person(&'a str),
    /// No owner (city-wide data, jobs).
    Nobody,
}

impl Actor {
    /// May this actor take `action` on a record of `county` owned by `owner`?
    ///
    /// # Errors
    /// The reason, when not.
    pub fn may(
        &self,
        action: Action,
        county: Option<County>,
        owner: Owner<'_>,
    ) -> Result<(), Denied> {
        if !roles_for(action).contains(&self.role) {
            return Err(Denied::Role {
                role: self.role,
                action,
            });
        }
        if let Some(county) = county
            && self.role.is_clerk()
            && !self.jurisdiction.covers(county)
        {
            return Err(Denied::County {
                record: county.code().to_string(),
                actor: self.jurisdiction.code(),
            });
        }
        match (self.role, owner) {
            (Role::Employer, Owner::Unit(code)) if self.unit.as_deref() != Some(code) => {
                Err(Denied::NotOwner)
            }
            (Role::Employer, Owner::Person(_)) => Err(Denied::NotOwner),
            (Role::Citizen, Owner::Person(sub)) if sub != self.sub => Err(Denied::NotOwner),
            (Role::Citizen, Owner::Unit(_)) => Err(Denied::NotOwner),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, county: &str) -> Actor {
        Actor {
            sub: "u1".into(),
            role,
            jurisdiction: Jurisdiction::parse(county).unwrap(),
            name: "测试".into(),
            unit: (role == Role::Employer).then(|| "91360702MA35G6QL6T".into()),
        }
    }

    fn zhanggong() -> County {
        County::parse("360702").unwrap()
    }

    #[test]
    fn every_clerk_works_for_the_agency_or_the_contractor() {
        use Organisation::{Agency, Contractor};
        for role in Role::ALL {
            let expected = match role.as_str() {
                "acceptor" | "agency_officer" | "supervisor" | "archivist" => Some(Agency),
                "handler" | "first_reviewer" | "re_reviewer" | "finance" => Some(Contractor),
                _ => None,
            };
            assert_eq!(actor(role, "360702").organisation(), expected, "{role}");
            assert_eq!(role.organisation().is_some(), role.is_clerk(), "{role}");
        }
    }

    #[test]
    fn a_clerk_of_another_county_is_refused() {
        let clerk = actor(Role::Acceptor, "360703");
        let err = clerk
            .may(Action::AcceptMaterials, Some(zhanggong()), Owner::Nobody)
            .unwrap_err();
        assert_eq!(err.code(), "forbidden_county");
        assert!(
            actor(Role::Acceptor, "360702")
                .may(Action::AcceptMaterials, Some(zhanggong()), Owner::Nobody)
                .is_ok()
        );
    }

    #[test]
    fn city_officers_reach_every_county_and_supervisors_only_read() {
        let sup = actor(Role::Supervisor, "360700");
        assert!(
            sup.may(Action::Read, Some(zhanggong()), Owner::Nobody)
                .is_ok()
        );
        assert!(
            sup.may(Action::ReadAudit, Some(zhanggong()), Owner::Nobody)
                .is_ok()
        );
        assert_eq!(
            sup.may(Action::AcceptMaterials, Some(zhanggong()), Owner::Nobody)
                .unwrap_err()
                .code(),
            "forbidden_role"
        );
    }

    #[test]
    fn employers_act_only_for_their_unit_and_operators_see_no_personal_data() {
        let emp = actor(Role::Employer, "360702");
        assert!(
            emp.may(
                Action::ManagePersons,
                Some(zhanggong()),
                Owner::Unit("91360702MA35G6QL6T")
            )
            .is_ok()
        );
        assert_eq!(
            emp.may(
                Action::ManagePersons,
                Some(zhanggong()),
                Owner::Unit("91360700158283010M")
            )
            .unwrap_err(),
            Denied::NotOwner
        );
        let op = actor(Role::Operator, "360700");
        assert!(op.may(Action::Read, None, Owner::Nobody).is_err());
        assert!(op.may(Action::RunJobs, None, Owner::Nobody).is_ok());
    }

    #[test]
    fn citizens_see_only_their_own_records() {
        let c = actor(Role::Citizen, "360702");
        assert!(c.may(Action::Read, None, Owner::Person("u1")).is_ok());
        assert_eq!(
            c.may(Action::Read, None, Owner::Person("u2")).unwrap_err(),
            Denied::NotOwner
        );
    }

    #[test]
    fn roles_parse_from_their_identifiers() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(Jurisdiction::parse("360101").is_err());
    }
}
