//! Enrolment supervision (参保监督, Art. 42) and the unit's make-up duty (Art. 48): units in the
//! work-injury scheme not enrolled here, one person enrolled by two holders for overlapping
//! periods, and wages declared below the contribution floor.

use chrono::{NaiveDate, TimeDelta};
use serde_json::json;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, enrolment_key, person_partition};
use swi_registry::unit::{Unit, UnitStatus, WorkInjuryFacts, facts_key, facts_partition, unit_key};
use swi_rules::ids::{County, GANZHOU_COUNTIES};
use swi_rules::money::round_fen;
use swi_store::{Index, Query};

use crate::catalogue::{Flag, RuleId, threshold};
use crate::views::record;

/// A unit insured in the work-injury scheme (as its facts recorded here say) and not enrolled
/// here — never registered, or cancelled — once the term after the facts' day has passed.
///
/// # Errors
/// The store is unavailable, or the term is not set.
pub async fn unit_not_enrolled(
    p: &Platform,
    code: &str,
    today: NaiveDate,
) -> Result<Option<Flag>, ApiError> {
    let Some(facts) = record::<WorkInjuryFacts>(p, &facts_key(code)).await? else {
        return Ok(None);
    };
    if !facts.insured {
        return Ok(None);
    }
    let params = p.params().await?;
    let grace = threshold(&params, "supervision.unit_enrol_grace_days", today)?;
    let grace = rust_decimal::prelude::ToPrimitive::to_i64(&grace.trunc()).unwrap_or(30);
    if facts.as_of + TimeDelta::days(grace) > today {
        return Ok(None);
    }
    let unit = record::<Unit>(p, &unit_key(code)).await?;
    let cancelled_on = match &unit {
        Some(u) if u.status == UnitStatus::Active => return Ok(None),
        Some(u) => u.cancelled_on,
        None => None,
    };
    let (zh, en) = match cancelled_on {
        Some(on) => (
            format!(
                "{}（{}）仍在工伤保险参保，但已于 {on} 注销补充工伤保险（第四十二条、第七条）",
                facts.name, facts.code
            ),
            format!(
                "{} is insured in the work-injury scheme but cancelled its enrolment here on {on} (Art. 42, 7)",
                facts.code
            ),
        ),
        None => (
            format!(
                "{}（{}）已参加工伤保险 {grace} 天以上，未参加补充工伤保险（第四十二条、第七条）",
                facts.name, facts.code
            ),
            format!(
                "{} has been in the work-injury scheme over {grace} days and is not enrolled here (Art. 42, 7)",
                facts.code
            ),
        ),
    };
    Ok(Some(Flag {
        rule: RuleId::UnitNotEnrolled,
        key: facts.code.clone(),
        subject: format!("unit#{}", facts.code),
        county: Some(facts.county),
        evidence: json!({
            "name": facts.name, "registration_no": facts.registration_no,
            "facts_as_of": facts.as_of, "source": facts.source, "term_days": grace,
            "registered": unit.is_some(), "cancelled_on": cancelled_on,
        }),
        links: vec![format!("unit#{}", facts.code)],
        says: (zh, en),
    }))
}

/// Every unit of the scheme recorded in a county, checked as [`unit_not_enrolled`].
///
/// # Errors
/// The store is unavailable.
pub async fn units_not_enrolled(p: &Platform, today: NaiveDate) -> Result<Vec<Flag>, ApiError> {
    let mut out = Vec::new();
    for (code, _) in GANZHOU_COUNTIES {
        let Ok(county) = County::parse(&code.to_string()) else {
            continue;
        };
        for item in p
            .state
            .query_index_all(
                Index::Gsi1,
                &Query::partition(facts_partition(county)).limit(1000),
            )
            .await?
        {
            let code = item.gsi1.map(|k| k.sk).unwrap_or_default();
            if let Some(f) = unit_not_enrolled(p, &code, today).await? {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn holder(e: &Enrolment) -> String {
    e.unit
        .clone()
        .or_else(|| e.owner.clone().map(|o| format!("self:{o}")))
        .unwrap_or_default()
}

fn summary(e: &Enrolment) -> serde_json::Value {
    json!({ "enrolment": e.id, "unit": e.unit, "self_enrolled": e.owner.is_some(),
        "category": e.category, "status": e.status, "start": e.start,
        "cover_start": e.cover_start, "cover_end": e.cover_end, "county": e.county })
}

/// Whether an enrolment gave or gives cover at all (one ended before its cover began did not).
fn covering(e: &Enrolment) -> bool {
    e.cover_start.is_some() || e.status != swi_domain::enrolment::Status::Terminated
}

/// One person enrolled by two holders (units, or a unit and themselves) for overlapping
/// periods: one alert per pair of enrolments.
///
/// # Errors
/// The store is unavailable.
pub async fn enrolment_overlap(p: &Platform, id: &str) -> Result<Vec<Flag>, ApiError> {
    let Some(e) = record::<Enrolment>(p, &enrolment_key(id)).await? else {
        return Ok(Vec::new());
    };
    if e.person.is_empty() || !covering(&e) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in p
        .state
        .query_index_all(
            Index::Gsi1,
            &Query::partition(person_partition(&e.person)).limit(500),
        )
        .await?
    {
        if !item.pk.starts_with("enrolment#") || item.pk == format!("enrolment#{}", e.id) {
            continue;
        }
        let o: Enrolment = item.body().map_err(|err| ApiError::internal(&err))?;
        if holder(&o) == holder(&e)
            || !covering(&o)
            || !swi_domain::enrolment::overlaps(e.period(), o.period())
        {
            continue;
        }
        let (a, b) = if e.id < o.id { (&e, &o) } else { (&o, &e) };
        out.push(Flag {
            rule: RuleId::EnrolmentOverlap,
            key: format!("{}:{}", a.id, b.id),
            subject: format!("enrolment#{}", e.id),
            county: Some(e.county),
            evidence: json!({ "enrolments": [summary(a), summary(b)] }),
            links: vec![format!("enrolment#{}", e.id), format!("enrolment#{}", o.id)],
            says: (
                format!(
                    "{} 同时由两个参保主体参保，期间重叠：{} 与 {}（第四十二条）",
                    e.name,
                    a.unit.as_deref().unwrap_or("个人"),
                    b.unit.as_deref().unwrap_or("个人")
                ),
                format!(
                    "enrolments {} and {} cover one person for overlapping periods under two holders (Art. 42)",
                    a.id, b.id
                ),
            ),
        });
    }
    Ok(out)
}

/// A unit's wage declared below the contribution floor of its year (60 % of the province's
/// average wage, `base.floor_ratio`): Art. 48, para. 2 — benefits lowered by under-declared
/// wages are made up by the unit.
///
/// # Errors
/// The store is unavailable, or a figure of the year is not in force.
pub async fn wage_below_base(p: &Platform, id: &str) -> Result<Option<Flag>, ApiError> {
    let Some(e) = record::<Enrolment>(p, &enrolment_key(id)).await? else {
        return Ok(None);
    };
    let Some(unit) = e.unit.clone() else {
        return Ok(None);
    };
    if e.status == swi_domain::enrolment::Status::Terminated && e.cover_start.is_none() {
        return Ok(None);
    }
    let params = p.params().await?;
    let on = e.start;
    let ratio = threshold(&params, "base.floor_ratio", on)?;
    let average = threshold(&params, "average_wage.jiangxi", on)?;
    let floor = round_fen(average * ratio);
    if e.declared_wage >= floor {
        return Ok(None);
    }
    let shortfall = floor - e.declared_wage;
    Ok(Some(Flag {
        rule: RuleId::WageBelowBase,
        key: e.id.clone(),
        subject: format!("enrolment#{}", e.id),
        county: Some(e.county),
        evidence: json!({
            "declared_wage": e.declared_wage, "floor": floor, "floor_ratio": ratio,
            "average_wage": average, "from": on, "monthly_shortfall": shortfall,
            "unit": unit, "category": e.category,
            "duty": "Art. 48: 用人单位少报职工工资…造成工伤职工享受的补充工伤保险待遇降低的，补充工伤保险待遇差额部分由用人单位向工伤职工补足",
        }),
        links: vec![format!("enrolment#{}", e.id), format!("unit#{unit}")],
        says: (
            format!(
                "{} 申报工资 {} 元低于缴费基数下限 {floor} 元；少报工资致待遇降低的，差额由单位补足（第四十八条）",
                e.name, e.declared_wage
            ),
            format!(
                "enrolment {} declares {} a month, below the floor of {floor}: the unit makes up benefits lost to it (Art. 48)",
                e.id, e.declared_wage
            ),
        ),
    }))
}
