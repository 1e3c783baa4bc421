//! Internal supervision of operations (业务操作监管, Art. 44), read off the audit ledger itself:
//! a claim's review step done out of office hours or on a day off; two review steps of one claim
//! by different people minutes apart (Art. 5, 34 want each to look at it); an attempt at a second
//! step of one case, which the domain refused (`swi_platform::refusals`).

use chrono::{DateTime, Datelike, Timelike};
use rust_decimal::Decimal;
use serde_json::json;
use swi_domain::audit::Event;
use swi_platform::mutation::audit_partition;
use swi_platform::refusals::{Refusal, refusal_key};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::County;
use swi_store::Key;

use crate::catalogue::{Flag, RuleId, threshold};

/// The commands of a claim's review steps (Art. 34): acceptance, handling, first review,
/// re-review, approval, and sending back or rejecting at any of them.
pub const REVIEW_STEPS: [&str; 8] = [
    "claim.accept",
    "claim.return",
    "claim.confirm_eligibility",
    "claim.first_review",
    "claim.re_review",
    "claim.approve",
    "claim.send_back",
    "claim.reject",
];

fn china(at: &str) -> Option<DateTime<chrono::FixedOffset>> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600)?;
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&offset))
}

fn hour(d: Decimal) -> u32 {
    rust_decimal::prelude::ToPrimitive::to_u32(&d.trunc()).unwrap_or(0)
}

/// A review step outside office hours (`supervision.office_opens_hour` to
/// `supervision.office_closes_hour`, China time) or on a day that is not a working day.
///
/// # Errors
/// A threshold or the year's calendar is not in force.
pub async fn out_of_hours(
    p: &Platform,
    e: &Event,
    county: Option<County>,
) -> Result<Option<Flag>, ApiError> {
    if !REVIEW_STEPS.contains(&e.command.as_str()) || !e.role.is_clerk() {
        return Ok(None);
    }
    let Some(at) = china(&e.at) else {
        return Ok(None);
    };
    let day = at.date_naive();
    let params = p.params().await?;
    let opens = hour(threshold(&params, "supervision.office_opens_hour", day)?);
    let closes = hour(threshold(&params, "supervision.office_closes_hour", day)?);
    let working = swi_rules::calendar::is_working_day(&params, day)?;
    if working && (opens..closes).contains(&at.hour()) {
        return Ok(None);
    }
    let when = if working {
        format!("{:02}:{:02}", at.hour(), at.minute())
    } else {
        format!("非工作日 {day}（{}）", at.weekday())
    };
    Ok(Some(Flag {
        rule: RuleId::StepOutOfHours,
        key: format!("{}:{}", e.case, e.seq),
        subject: e.case.clone(),
        county,
        evidence: json!({ "at": e.at, "command": e.command, "actor": e.actor,
            "actor_name": e.actor_name, "role": e.role, "working_day": working,
            "office_hours": format!("{opens:02}:00-{closes:02}:00") }),
        links: vec![e.case.clone()],
        says: (
            format!(
                "{}（{}）于办公时间以外（{when}）办理 {} 的 {}（第四十四条）",
                e.actor_name,
                e.role.as_str(),
                e.case,
                e.command
            ),
            format!(
                "{} did {} of {} out of office hours ({}) (Art. 44)",
                e.actor, e.command, e.case, e.at
            ),
        ),
    }))
}

/// A review step by one person minutes after another person's step of the same claim (fewer than
/// `supervision.steps_min_minutes`).
///
/// # Errors
/// The store is unavailable, or the threshold is not in force.
pub async fn too_quick(
    p: &Platform,
    e: &Event,
    county: Option<County>,
) -> Result<Option<Flag>, ApiError> {
    if !REVIEW_STEPS.contains(&e.command.as_str()) || e.seq < 2 || !e.role.is_clerk() {
        return Ok(None);
    }
    let Some(item) = p
        .state
        .get(&Key::new(
            audit_partition(&e.case),
            format!("seq#{:012}", e.seq - 1),
        ))
        .await?
    else {
        return Ok(None);
    };
    let before: Event = item.body().map_err(|err| ApiError::internal(&err))?;
    if !REVIEW_STEPS.contains(&before.command.as_str()) || before.actor == e.actor {
        return Ok(None);
    }
    let (Some(then), Some(now)) = (china(&before.at), china(&e.at)) else {
        return Ok(None);
    };
    let params = p.params().await?;
    let min = threshold(&params, "supervision.steps_min_minutes", now.date_naive())?;
    let seconds = (now - then).num_seconds();
    if seconds < 0 || Decimal::from(seconds) >= min * Decimal::from(60) {
        return Ok(None);
    }
    Ok(Some(Flag {
        rule: RuleId::StepsTooQuick,
        key: format!("{}:{}", e.case, e.seq),
        subject: e.case.clone(),
        county,
        evidence: json!({
            "before": { "at": before.at, "command": before.command, "actor": before.actor, "actor_name": before.actor_name },
            "after": { "at": e.at, "command": e.command, "actor": e.actor, "actor_name": e.actor_name },
            "seconds": seconds, "threshold_minutes": min,
        }),
        links: vec![e.case.clone()],
        says: (
            format!(
                "{} 的 {} 在上一环节（{}，{}）后仅 {} 秒即办理（第四十四条、第五条）",
                e.case, e.command, before.command, before.actor_name, seconds
            ),
            format!(
                "{} of {} came {seconds} s after {} by {} (Art. 44, 5)",
                e.command, e.case, before.command, before.actor
            ),
        ),
    }))
}

/// The case a refused request was about, from its path (`/api/claims/c-1/first-review` is
/// `claim#c-1`).
fn case_of(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches("/api/").split('/');
    let kind = match parts.next()? {
        "claims" => "claim",
        "enrolments" => "enrolment",
        "volumes" => "volume",
        "declarations" => "declaration",
        _ => return None,
    };
    let id = parts.next().filter(|id| !id.is_empty() && id.len() <= 80)?;
    Some(format!("{kind}#{id}"))
}

/// A refused attempt at a second step of one case (the `duties.refused` event of a person's
/// refusals).
///
/// # Errors
/// The store is unavailable.
pub async fn refused(p: &Platform, e: &Event) -> Result<Option<Flag>, ApiError> {
    if e.command != "duties.refused" {
        return Ok(None);
    }
    let Some(item) = p.state.get(&refusal_key(&e.actor, e.seq)).await? else {
        return Ok(None);
    };
    let r: Refusal = item.body().map_err(|err| ApiError::internal(&err))?;
    let case = case_of(&r.path);
    let mut links = vec![e.case.clone()];
    links.extend(case.clone());
    Ok(Some(Flag {
        rule: RuleId::DutiesRefused,
        key: format!("{}:{}", r.sub, e.seq),
        subject: case.unwrap_or_else(|| e.case.clone()),
        county: r.county,
        evidence: json!({ "sub": r.sub, "name": r.name, "role": r.role, "at": r.at,
            "method": r.method, "path": r.path }),
        links,
        says: (
            format!(
                "{}（{}）试图办理同一业务的另一环节（{} {}），已被拒绝（第五条、第四十四条）",
                r.name,
                r.role.as_str(),
                r.method,
                r.path
            ),
            format!(
                "{} tried a second step of one case ({} {}) and was refused (Art. 5, 44)",
                r.sub, r.method, r.path
            ),
        ),
    }))
}
