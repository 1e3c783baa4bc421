//! The home page: what the signed-in person can do, by role.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use swi_domain::Role;

use crate::pages::Signed;
use crate::pages::{Chrome, Link, html};

/// A thing to do, with a sentence about it.
#[derive(Debug, Clone)]
pub struct Task {
    /// The link.
    pub link: Link,
    /// What it is for.
    pub about: String,
}

/// The home page.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    chrome: Chrome,
    name: String,
    tasks: Vec<Task>,
}

fn task(href: &str, label: &str, about: &str) -> Task {
    Task {
        link: Link {
            href: href.into(),
            label: label.into(),
        },
        about: about.into(),
    }
}

/// `GET /`.
pub async fn home(Signed(s): Signed) -> Response {
    let tasks = match s.role {
        Role::Citizen => vec![
            task(
                "/cover",
                "我的参保",
                "查看本人在各单位、各建设项目的参保记录；灵活就业人员、新业态从业人员可在此个人参保登记并上传材料。",
            ),
            task(
                "/injuries",
                "我的工伤",
                "已认定的工伤：上传申领材料，申领待遇。",
            ),
            task(
                "/claims",
                "我的待遇申领",
                "查看本人或由您提交的待遇申领：办理到哪一步、退回补正的原因、核定结果和核定表。",
            ),
            task(
                "/bills",
                "我的缴费",
                "个人缴费的灵活就业人员、新业态从业人员：每月应缴额、缴费情况和欠费。",
            ),
        ],
        Role::Employer => vec![
            task(
                "/unit",
                "本单位",
                "本单位的参保信息、某一日的在保人员和待办提醒。",
            ),
            task(
                "/claims",
                "本单位的待遇申领",
                "查看为本单位职工提交的待遇申领及其办理进度、核定结果和核定表。",
            ),
            task(
                "/bills",
                "缴费与欠费",
                "本单位每月的应缴额核定单及每人明细、缴费情况；逾期未缴的欠费及起始月份（第十六至二十一条）。",
            ),
        ],
        Role::Acceptor => vec![
            task(
                "/work",
                "受理队列",
                "按提交先后查看待受理的申领和参保登记，核对材料，受理或一次性告知退回补正（第三十四条）；审核单位的人员变动申报（第十八条）。",
            ),
            task(
                "/window/identities",
                "实名核验",
                "核对居民身份证，将参保人员的账户与本人身份证号码关联。",
            ),
            task(
                "/window/injuries",
                "录入工伤认定",
                "依据工伤（职业伤害）认定书录入，之后即可申领待遇。",
            ),
            task(
                "/bills",
                "保费核定与征缴",
                "本县（市、区）的月度核定、与税务部门交换的文件和欠费明细（第十六至二十一条）。",
            ),
        ],
        Role::Handler => vec![task(
            "/work",
            "承办队列",
            "核对身份、缴费、认定与鉴定，确认待遇资格（第三十四条）。",
        )],
        Role::FirstReviewer => vec![task(
            "/work",
            "初审与录入队列",
            "逐笔审核费用、核定各项待遇并提出初审意见；复核后录入并打印申领表。",
        )],
        Role::ReReviewer => vec![task(
            "/work",
            "复核队列",
            "复核初审结果，确认或扣减（第三十四条）。",
        )],
        Role::Supervisor => vec![
            task(
                "/work",
                "各环节队列（只读）",
                "查看各环节待办及其办理时限。",
            ),
            task(
                "/alerts",
                "风险预警",
                "查看各县（市、区）和市级的风险预警及其办理情况（第四十二至四十四条）。",
            ),
        ],
        Role::AgencyOfficer => vec![
            task(
                "/parameters",
                "施行中的参数",
                "查看某日施行的各项参数及其状态、来源；尚未确认的参数一一标明。",
            ),
            task("/alerts", "风险预警", "查看本级的风险预警。"),
            task(
                "/bills",
                "保费核定与征缴",
                "各月核定的进度与异常、与税务部门交换的文件和欠费明细（第十六至二十一条）。",
            ),
        ],
        _ => Vec::new(),
    };
    html(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::of(&s),
            name: s.name.clone(),
            tasks,
        },
    )
}
