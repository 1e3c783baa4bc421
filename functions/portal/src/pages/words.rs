//! The Chinese words pages use for the system's closed sets (roles, statuses, counties), from
//! `GLOSSARY.md`; items, categories and materials carry their own (`chinese()`).

use swi_domain::Role;
use swi_domain::claim::ClaimStatus;
use swi_rules::ids::County;

/// A role's name.
#[must_use]
pub const fn role(r: Role) -> &'static str {
    match r {
        Role::Citizen => "参保人员",
        Role::Employer => "参保单位经办人",
        Role::Acceptor => "受理窗口",
        Role::Handler => "承办岗",
        Role::FirstReviewer => "初审岗",
        Role::ReReviewer => "复核岗",
        Role::Finance => "财务",
        Role::AgencyOfficer => "经办机构业务科室",
        Role::Supervisor => "稽核内控",
        Role::Archivist => "档案管理",
        Role::Operator => "运维",
    }
}

/// A claim status's name.
#[must_use]
pub const fn status(s: ClaimStatus) -> &'static str {
    match s {
        ClaimStatus::Submitted => "待受理",
        ClaimStatus::Returned => "已退回补正",
        ClaimStatus::Handling => "承办中",
        ClaimStatus::FirstReview => "初审中",
        ClaimStatus::ReReview => "复核中",
        ClaimStatus::Entry => "待录入",
        ClaimStatus::Approved => "已核定",
        ClaimStatus::Rejected => "不予核定",
    }
}

/// A county's name from its code (or 赣州市 for the city's `360700`).
#[must_use]
pub fn county(code: &str) -> String {
    if code == swi_domain::access::CITY_CODE {
        return "赣州市（市级）".into();
    }
    County::parse(code).map_or_else(|_| code.to_owned(), |c| c.name().to_owned())
}
