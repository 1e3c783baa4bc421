//! One function per kind: read the fields QUOTE.md lists, ask the rules, write the answer.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use swi_rules::age::{Person, Track, eligibility, retirement};
use swi_rules::benefits::formulas::{BenefitFacts, Dependant, Relation, benefit};
use swi_rules::benefits::insured_wage::{MonthlyWage, insured_wage};
use swi_rules::benefits::nursing::{Stay, nursing_subsidy};
use swi_rules::benefits::{Item, payee, third_party_top_up};
use swi_rules::calendar::{fund_cycle, pay_by, review_by};
use swi_rules::category::{Category, IndustryClass, industry_class_of_division};
use swi_rules::citation::{Doc, art, doc};
use swi_rules::cover::{change_notice, cover_start};
use swi_rules::ids::{CreditCode, ResidentId};
use swi_rules::money::{display_rate, round_fen};
use swi_rules::premium::{PremiumFacts, monthly_premium, project_premium};
use swi_rules::prevention::prevention_fund;
use swi_rules::{Determination, Trace};

use crate::json::Obj;
use crate::wire::{self, Refused, Request, required};
use crate::{Quoter, finish, rule_error};

type Answer = Result<(), Refused>;

pub(crate) fn answer(q: &Quoter<'_>, kind: &str, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    match kind {
        "premium" => premium(q, r, o),
        "project_premium" => project(q, r, o),
        "nursing_subsidy" => nursing(q, r, o),
        "cover_start" => cover(q, r, o),
        "pay_by" => term(q, r, o, true),
        "review_by" => term(q, r, o, false),
        "resident_id" => resident(r, o),
        "credit_code" => credit(r, o),
        "retirement" => retire(q, r, o),
        "eligibility" => eligible(q, r, o),
        "insured_wage" => wage(q, r, o),
        "payee" => pay_to(r, o),
        "prevention_fund" => prevention(q, r, o),
        "benefit" => benefit_kind(q, r, o),
        "fund_cycle" => cycle(q, r, o),
        "change_notice" => notice(q, r, o),
        "third_party_top_up" => third_party(q, r, o),
        "industry_class" => class(r, o),
        _ => Err(Refused {
            code: "unknown_kind",
            message: format!(
                "unknown kind `{}`; kinds: {}",
                wire::clip(kind),
                crate::KINDS.join(", ")
            ),
        }),
    }
}

fn field<'r>(v: &'r Option<std::borrow::Cow<'_, str>>, name: &str) -> Result<&'r str, Refused> {
    required(v.as_deref(), name)
}

fn category(r: &Request<'_>) -> Result<Category, Refused> {
    field(&r.category, "category")?
        .parse::<Category>()
        .map_err(|e| Refused {
            code: "unknown_category",
            message: e.to_string(),
        })
}

fn item(r: &Request<'_>) -> Result<Item, Refused> {
    field(&r.item, "item")?
        .parse::<Item>()
        .map_err(|e| Refused {
            code: "unknown_item",
            message: e.to_string(),
        })
}

fn opt_date(
    q: &Quoter<'_>,
    v: &Option<std::borrow::Cow<'_, str>>,
    name: &str,
) -> Result<NaiveDate, Refused> {
    v.as_deref().map_or(Ok(q.today), |s| wire::date(s, name))
}

fn china_date(v: &Option<std::borrow::Cow<'_, str>>, name: &str) -> Result<NaiveDate, Refused> {
    Ok(wire::china_datetime(field(v, name)?, name)?.date())
}

fn opt_money(
    v: &Option<std::borrow::Cow<'_, str>>,
    name: &str,
) -> Result<Option<Decimal>, Refused> {
    v.as_deref().map(|s| wire::money(s, name)).transpose()
}

fn track(r: &Request<'_>) -> Result<Option<Track>, Refused> {
    r.track
        .as_deref()
        .map(Track::parse)
        .transpose()
        .map_err(Refused::invalid)
}

fn resident_id(r: &Request<'_>) -> Result<ResidentId, Refused> {
    ResidentId::parse(field(&r.resident_id, "resident_id")?)
        .map_err(|e| Refused::invalid(format!("`resident_id`: {e}")))
}

fn premium(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let category = category(r)?;
    let month = wire::month(field(&r.month, "month")?, "month")?;
    let wage = wire::money(field(&r.wage, "wage")?, "wage")?;
    let industry_class = r
        .industry_class
        .map(IndustryClass::new)
        .transpose()
        .map_err(Refused::invalid)?;
    let rate_band = r
        .rate_band
        .as_deref()
        .map(|s| wire::decimal(s, "rate_band"))
        .transpose()?;
    let d = monthly_premium(
        q.params,
        &PremiumFacts {
            category,
            month,
            wage,
            industry_class,
            rate_band,
        },
    )
    .map_err(rule_error)?;
    o.dec("base", round_fen(d.value.base))
        .dec("rate", display_rate(d.value.rate))
        .dec("amount", d.value.amount)
        .int("industry_class", i64::from(d.value.industry_class.get()));
    finish(o, &d);
    Ok(())
}

fn project(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let cost = wire::money(field(&r.cost, "cost")?, "cost")?;
    let on = opt_date(q, &r.on, "on")?;
    let d = project_premium(q.params, cost, on).map_err(rule_error)?;
    o.dec("amount", d.value);
    finish(o, &d);
    Ok(())
}

fn stays(r: &Request<'_>) -> Result<Vec<Stay>, Refused> {
    r.stays
        .iter()
        .flatten()
        .map(|s| {
            Ok(Stay {
                admitted: wire::china_datetime(&s.admitted, "stays.admitted")?.date(),
                discharged: wire::china_datetime(&s.discharged, "stays.discharged")?.date(),
            })
        })
        .collect()
}

fn paid_leave(r: &Request<'_>) -> Result<(NaiveDate, NaiveDate), Refused> {
    let p = required(r.paid_leave.as_ref(), "paid_leave")?;
    Ok((
        wire::china_datetime(&p.from, "paid_leave.from")?.date(),
        wire::china_datetime(&p.to, "paid_leave.to")?.date(),
    ))
}

fn nursing(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let period = paid_leave(r)?;
    let d = nursing_subsidy(q.params, period, &stays(r)?).map_err(rule_error)?;
    o.int("days", i64::from(d.value.days))
        .dec("amount", d.value.amount);
    finish(o, &d);
    Ok(())
}

fn cover(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let entered = china_date(&r.entered, "entered")?;
    let paid = china_date(&r.paid, "paid")?;
    let d = cover_start(q.params, entered, paid).map_err(rule_error)?;
    o.date("date", d.value);
    finish(o, &d);
    Ok(())
}

fn term(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>, payment: bool) -> Answer {
    let d = if payment {
        pay_by(q.params, china_date(&r.approved, "approved")?)
    } else {
        review_by(q.params, china_date(&r.received, "received")?)
    }
    .map_err(rule_error)?;
    o.date("date", d.value);
    finish(o, &d);
    Ok(())
}

fn no_params<T>(value: T, basis: &[swi_rules::Citation]) -> Determination<'static, T> {
    Determination {
        value,
        basis: basis.to_vec(),
        used: Vec::new(),
    }
}

fn resident(r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let value = field(&r.value, "value")?;
    match ResidentId::parse(value) {
        Ok(id) => {
            o.bool("valid", true)
                .date("birth", id.birth())
                .str("sex", id.sex().as_str());
        }
        Err(e) => {
            o.bool("valid", false)
                .str("reason", e.code())
                .str("message", &e.to_string());
        }
    }
    finish(o, &no_params((), &[art(7), doc(Doc::Gb11643)]));
    Ok(())
}

fn credit(r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    match CreditCode::parse(field(&r.value, "value")?) {
        Ok(_) => {
            o.bool("valid", true);
        }
        Err(e) => {
            o.bool("valid", false).str("message", &e.to_string());
        }
    }
    finish(o, &no_params((), &[art(9), doc(Doc::Gb32100)]));
    Ok(())
}

fn retire(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let track = track(r)?;
    let (birth, sex) = match (&r.resident_id, &r.birth) {
        (Some(_), _) => {
            let id = resident_id(r)?;
            (id.birth(), Some(id.sex()))
        }
        (None, Some(b)) => (wire::date(b, "birth")?, None),
        (None, None) => return Err(Refused::invalid("`birth` or `resident_id` is required")),
    };
    let track = match (track, sex) {
        (Some(t), Some(s)) if t.sex() != s => {
            return Err(Refused::invalid(format!(
                "track {} does not match the sex in the resident ID",
                t.as_str()
            )));
        }
        (Some(t), _) => t,
        (None, Some(swi_rules::ids::Sex::Male)) => Track::Male,
        (None, _) => {
            return Err(Refused::invalid(
                "`track` is required (male, female_50, female_55)",
            ));
        }
    };
    let d = retirement(q.params, birth, track).map_err(rule_error)?;
    let (y, m) = d.value.month();
    o.plain("month", format_args!("{y:04}-{m:02}"))
        .int("age_years", i64::from(d.value.age_years))
        .int("age_months", i64::from(d.value.age_months))
        .date("date", d.value.reached_on)
        .str("track", track.as_str());
    finish(o, &d);
    Ok(())
}

fn eligible(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let category = category(r)?;
    let id = resident_id(r)?;
    let on = opt_date(q, &r.on, "on")?;
    let agreement_end = r
        .agreement_end
        .as_deref()
        .map(|s| wire::date(s, "agreement_end"))
        .transpose()?;
    let person = Person {
        category,
        birth: id.birth(),
        sex: id.sex(),
        track: track(r)?,
        agreement_end,
        pays_basic_pension: r.pays_basic_pension,
    };
    let d = eligibility(q.params, &person, on).map_err(rule_error)?;
    o.bool("eligible", d.value.eligible())
        .int("age", i64::from(swi_rules::age::full_years(id.birth(), on)));
    if let Some(why) = d.value.ineligible {
        o.str("reason", why.code()).str("message", &why.message());
    }
    if let Some(end) = d.value.cover_end {
        o.date("cover_end", end);
    }
    finish(o, &d);
    Ok(())
}

fn wage(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let injury = wire::date(field(&r.injury_date, "injury_date")?, "injury_date")?;
    let wages = r
        .wages
        .iter()
        .flatten()
        .map(|w| {
            let m = wire::month(&w.month, "wages.month")?;
            Ok(MonthlyWage {
                year: m.year(),
                month: m.month(),
                wage: wire::money(&w.wage, "wages.wage")?,
            })
        })
        .collect::<Result<Vec<_>, Refused>>()?;
    let d =
        insured_wage(q.params, injury, &wages, r.project.unwrap_or(false)).map_err(rule_error)?;
    o.dec("amount", d.value.amount)
        .int("months_used", i64::from(d.value.months_used));
    finish(o, &d);
    Ok(())
}

fn pay_to(r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let item = item(r)?;
    let category = r.category.as_ref().map(|_| category(r)).transpose()?;
    let (p, basis) =
        payee(item, category, r.advanced_by_unit.unwrap_or(false)).map_err(rule_error)?;
    o.str("payee", p.as_str());
    finish(o, &no_params((), &basis));
    Ok(())
}

fn prevention(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let income = wire::money(
        field(&r.premium_income, "premium_income")?,
        "premium_income",
    )?;
    let on = opt_date(q, &r.on, "on")?;
    let d = prevention_fund(q.params, income, on).map_err(rule_error)?;
    o.dec("amount", d.value);
    finish(o, &d);
    Ok(())
}

fn relation(s: &str) -> Result<Relation, Refused> {
    match s {
        "spouse" => Ok(Relation::Spouse),
        "other" => Ok(Relation::Other),
        _ => Err(Refused::invalid(format!(
            "`dependants.relation` must be spouse or other, got `{}`",
            wire::clip(s)
        ))),
    }
}

fn retirement_on(q: &Quoter<'_>, r: &Request<'_>) -> Result<Option<NaiveDate>, Refused> {
    if let Some(s) = r.retirement_on.as_deref() {
        return wire::date(s, "retirement_on").map(Some);
    }
    if r.resident_id.is_none() {
        return Ok(None);
    }
    let id = resident_id(r)?;
    let t = match (track(r)?, id.sex()) {
        (Some(t), _) => t,
        (None, swi_rules::ids::Sex::Male) => Track::Male,
        (None, swi_rules::ids::Sex::Female) => {
            return Err(Refused::invalid(
                "`track` is required for a woman (female_50, female_55)",
            ));
        }
    };
    let d = retirement(q.params, id.birth(), t).map_err(rule_error)?;
    Ok(Some(d.value.reached_on))
}

fn benefit_kind(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let item = item(r)?;
    let category = category(r)?;
    let on = wire::date(field(&r.on, "on")?, "on")?;
    let facts = BenefitFacts {
        on: Some(on),
        grade: r.grade,
        insured_wage: opt_money(&r.insured_wage, "insured_wage")?,
        fees: opt_money(&r.fees, "fees")?,
        standard: opt_money(&r.standard, "standard")?,
        days: r.days,
        outside_area: r.outside_area.unwrap_or(false),
        care_level: r.care_level,
        dependants: r
            .dependants
            .iter()
            .flatten()
            .map(|d| {
                Ok(Dependant {
                    relation: relation(&d.relation)?,
                    orphan_or_lone_elder: d.orphan_or_lone_elder,
                })
            })
            .collect::<Result<_, Refused>>()?,
        occupational_disease: r.occupational_disease.unwrap_or(false),
        retirement_on: if item == Item::OneTimeEmployment {
            retirement_on(q, r)?
        } else {
            None
        },
        paid_leave_months: r
            .paid_leave_months
            .as_deref()
            .map(|s| wire::decimal(s, "paid_leave_months"))
            .transpose()?,
        paid_leave: if r.paid_leave.is_some() {
            Some(paid_leave(r)?)
        } else {
            None
        },
        stays: stays(r)?,
        paid_by_work_injury_fund: opt_money(
            &r.paid_by_work_injury_fund,
            "paid_by_work_injury_fund",
        )?,
        judgment_medical: opt_money(&r.judgment_medical, "judgment_medical")?,
    };
    let d = benefit(q.params, item, category, &facts).map_err(rule_error)?;
    let b = &d.value;
    o.bool("eligible", b.refusal.is_none());
    if let Some(amount) = b.amount {
        o.dec("amount", amount)
            .bool("monthly", b.monthly)
            .bool("ends_cover", b.ends_cover);
    }
    if let Some(days) = b.days {
        o.int("days", i64::from(days));
    }
    if !b.per_dependant.is_empty() {
        o.list("per_dependant", &b.per_dependant, |e, amount| {
            e.dec("amount", *amount);
        });
    }
    if let Some(no) = &b.refusal {
        o.str("reason", no.code).str("message", &no.message);
    }
    o.str("status", d.status().as_str());
    finish(o, &d);
    Ok(())
}

fn cycle(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let m = wire::month(field(&r.month, "month")?, "month")?;
    let d = fund_cycle(q.params, m.year(), m.month()).map_err(rule_error)?;
    o.date("payouts_by", d.value.payouts_by)
        .date("request_by", d.value.request_by)
        .date("transfer_by", d.value.transfer_by)
        .date("pay_by", d.value.pay_by);
    finish(o, &d);
    Ok(())
}

fn notice(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let registered = wire::china_datetime(field(&r.registered, "registered")?, "registered")?;
    let effective = wire::china_datetime(field(&r.effective, "effective")?, "effective")?;
    let d = change_notice(q.params, registered, effective).map_err(rule_error)?;
    o.bool("timely", d.value.timely).plain(
        "latest",
        format_args!("{}+08:00", d.value.latest.format("%Y-%m-%dT%H:%M:%S")),
    );
    finish(o, &d);
    Ok(())
}

fn third_party(q: &Quoter<'_>, r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let benefit = wire::money(
        field(&r.benefit_medical, "benefit_medical")?,
        "benefit_medical",
    )?;
    let judgment = wire::money(
        field(&r.judgment_medical, "judgment_medical")?,
        "judgment_medical",
    )?;
    let (amount, cite) = third_party_top_up(benefit, judgment);
    o.dec("amount", amount);
    let t = Trace::new(q.params, &[cite]);
    finish(o, &t.finish(()));
    Ok(())
}

fn class(r: &Request<'_>, o: &mut Obj<'_>) -> Answer {
    let division = required(r.division.as_ref(), "division")?;
    let (c, cite) = u8::try_from(*division)
        .map_err(|_| format!("{division} is not a GB/T 4754-2011 division"))
        .and_then(industry_class_of_division)
        .map_err(Refused::invalid)?;
    o.int("industry_class", i64::from(c.get()));
    finish(o, &no_params((), &[art(13), cite]));
    Ok(())
}
