//! The statistics (Art. 41: 资金运行情况分析) as counters kept up to date with the changes, never
//! by scanning the table. The job `statistics` follows the audit ledger ([`crate::watch::walk`],
//! from the scheme's first day): for each change of a unit, an enrolment, a bill, a claim or a
//! periodic benefit it reads the case as it now stands, works out what the case contributes to the
//! figures ([`contribution`]), and writes the difference from what it contributed before — the
//! case's contribution and every counter it moves in one conditional transaction, so that a run
//! killed anywhere counts nothing twice and a case read again moves nothing.
//!
//! Counters: `stats#<county>` / `m#<YYYY-MM>` (a month's flows and the changes of stocks) and
//! `stats#<county>` / `current` (claims by step now). A stock (persons covered, units, periodic
//! beneficiaries) counts +1 in the month it starts and −1 in the month after it ends: the stock of a
//! month is the sum of its changes up to that month. Metrics carry their dimension after `|`:
//! `covered`, `covered|category:employee`, `covered|class:4`, `claims_submitted|item:medical`.
//! The fund's income, spending and balance come from the books' vouchers
//! ([`crate::figures`]), the source the annual report reads.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::audit::Event;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::{Enrolment, enrolment_key};
use swi_registry::unit::{Unit, unit_key};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, Query, SkRange, TxOp};

use crate::views;

/// The job's name.
pub const NAME: &str = "statistics";

/// The period of the gauges (claims by step now).
pub const CURRENT: &str = "current";

/// One count a case contributes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Count {
    /// The county.
    pub county: County,
    /// `m#YYYY-MM`, or `current`.
    pub period: String,
    /// The metric and its dimension (`covered|category:employee`).
    pub metric: String,
    /// How much.
    pub value: Decimal,
}

/// What a case contributes, as last counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// Its counts.
    pub counts: Vec<Count>,
}

/// A county's counters of one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Metric → value.
    pub values: BTreeMap<String, Decimal>,
}

/// The partition of a county's counters.
#[must_use]
pub fn partition(county: County) -> String {
    format!("stats#{county}")
}

/// The period of a month.
#[must_use]
pub fn month_period(day: NaiveDate) -> String {
    format!("m#{}", day.format("%Y-%m"))
}

fn next_month(day: NaiveDate) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first)
}

fn contribution_key(case: &str) -> Key {
    Key::new(format!("stats-of#{case}"), "contribution")
}

struct Counts {
    county: County,
    out: Vec<Count>,
}

impl Counts {
    fn add(&mut self, period: &str, metric: &str, dims: &[String], value: Decimal) {
        if value.is_zero() {
            return;
        }
        self.out.push(Count {
            county: self.county,
            period: period.to_owned(),
            metric: metric.to_owned(),
            value,
        });
        for d in dims {
            self.out.push(Count {
                county: self.county,
                period: period.to_owned(),
                metric: format!("{metric}|{d}"),
                value,
            });
        }
    }

    /// A stock from `start` to `end` (both days included).
    fn stock(&mut self, metric: &str, dims: &[String], start: NaiveDate, end: Option<NaiveDate>) {
        self.add(&month_period(start), metric, dims, Decimal::ONE);
        if let Some(end) = end.filter(|e| *e >= start) {
            self.add(
                &month_period(next_month(end)),
                metric,
                dims,
                Decimal::NEGATIVE_ONE,
            );
        }
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// What a case contributes now, from its record as stored (nothing for a case the figures do
/// not count, or whose record is gone).
///
/// # Errors
/// The store is unavailable, or a record no longer reads.
pub async fn contribution(p: &Platform, case: &str) -> Result<Option<Vec<Count>>, ApiError> {
    let Some((kind, id)) = case.split_once('#') else {
        return Ok(None);
    };
    let counts = match kind {
        "unit" => {
            let Some(u) = views::record::<Unit>(p, &unit_key(id)).await? else {
                return Ok(Some(Vec::new()));
            };
            let mut c = Counts {
                county: u.county,
                out: Vec::new(),
            };
            c.stock(
                "units",
                &[format!("class:{}", u.industry_class)],
                u.registered_on,
                u.cancelled_on,
            );
            c.out
        }
        "enrolment" => {
            let Some(e) = views::record::<Enrolment>(p, &enrolment_key(id)).await? else {
                return Ok(Some(Vec::new()));
            };
            let mut c = Counts {
                county: e.county,
                out: Vec::new(),
            };
            if let Some(start) = e.cover_start {
                let mut dims = vec![format!("category:{}", snake(&e.category))];
                if let Some(unit) = &e.unit
                    && let Some(u) = views::record::<Unit>(p, &unit_key(unit)).await?
                {
                    dims.push(format!("class:{}", u.industry_class));
                }
                c.stock("covered", &dims, start, e.cover_end);
            }
            c.out
        }
        "bill" => {
            let Some(b) =
                views::record::<swi_bills::Bill>(p, &swi_bills::bill::bill_key(id)).await?
            else {
                return Ok(Some(Vec::new()));
            };
            let mut c = Counts {
                county: b.county,
                out: Vec::new(),
            };
            if b.status != swi_bills::BillStatus::Withdrawn {
                let period = month_period(b.month);
                let class: Vec<String> = b
                    .industry_class
                    .map(|k| format!("class:{k}"))
                    .into_iter()
                    .collect();
                c.add(&period, "premium_billed", &class, b.amount);
                for (cat, tally) in &b.by_category {
                    c.add(
                        &period,
                        &format!("premium_billed|category:{}", snake(cat)),
                        &[],
                        tally.amount,
                    );
                }
                if let Some(paid) = &b.payment {
                    c.add(&period, "premium_paid", &class, paid.amount);
                }
            }
            c.out
        }
        "claim" => {
            let Some(claim) = views::claim(p, id).await? else {
                return Ok(Some(Vec::new()));
            };
            let mut c = Counts {
                county: claim.county,
                out: Vec::new(),
            };
            let cat = vec![format!("category:{}", claim.category)];
            let submitted = month_period(claim.submitted_at.date());
            c.add(&submitted, "claims_submitted", &cat, Decimal::ONE);
            for item in &claim.items {
                c.add(
                    &submitted,
                    &format!("claims_submitted|item:{item}"),
                    &[],
                    Decimal::ONE,
                );
            }
            if let Some(a) = &claim.approval {
                let period = month_period(a.on);
                c.add(&period, "claims_approved", &cat, Decimal::ONE);
                if let Some(assessment) = &claim.assessment {
                    c.add(
                        &period,
                        "benefits_approved",
                        &cat,
                        assessment.lump_sum_total,
                    );
                    for i in assessment.items.iter().filter(|i| !i.monthly) {
                        if let Some(amount) = i.amount {
                            c.add(
                                &period,
                                &format!("benefits_approved|item:{}", i.item),
                                &[],
                                amount,
                            );
                        }
                    }
                }
            }
            if let Some(r) = &claim.rejection {
                c.add(&month_period(r.on), "claims_rejected", &cat, Decimal::ONE);
            }
            if claim.approval.is_none() && claim.rejection.is_none() {
                c.add(
                    CURRENT,
                    &format!("claims_open|step:{}", claim.status),
                    &[],
                    Decimal::ONE,
                );
            }
            c.out
        }
        "schedule" => {
            let Some(s) = swi_payables::schedules(p, &[id.to_owned()]).await?.pop() else {
                return Ok(Some(Vec::new()));
            };
            let mut c = Counts {
                county: s.county,
                out: Vec::new(),
            };
            c.stock(
                "beneficiaries",
                &[format!("item:{}", snake(&s.item))],
                s.start,
                None,
            );
            c.out
        }
        _ => return Ok(None),
    };
    Ok(Some(counts))
}

/// The difference between two contributions, by county and period, metric by metric.
fn delta(old: &[Count], new: &[Count]) -> BTreeMap<(County, String), BTreeMap<String, Decimal>> {
    let mut out: BTreeMap<(County, String), BTreeMap<String, Decimal>> = BTreeMap::new();
    for (sign, counts) in [(Decimal::NEGATIVE_ONE, old), (Decimal::ONE, new)] {
        for c in counts {
            *out.entry((c.county, c.period.clone()))
                .or_default()
                .entry(c.metric.clone())
                .or_default() += sign * c.value;
        }
    }
    for m in out.values_mut() {
        m.retain(|_, v| !v.is_zero());
    }
    out.retain(|_, m| !m.is_empty());
    out
}

/// Counts `case` again: its contribution now against the one counted before, the difference
/// written to the counters with the new contribution in one transaction. Answers the counters
/// moved.
///
/// # Errors
/// The store is unavailable; 409 another run moved the same counters meanwhile (nothing is
/// written; the next run counts it).
pub async fn recount(p: &Platform, case: &str) -> Result<u64, ApiError> {
    let Some(new) = contribution(p, case).await? else {
        return Ok(0);
    };
    let key = contribution_key(case);
    let stored = p.state.get(&key).await?;
    let (old, version) = match &stored {
        Some(i) => (
            i.body::<Contribution>()
                .map_err(|e| ApiError::internal(&e))?
                .counts,
            Some(i.version),
        ),
        None => (Vec::new(), None),
    };
    let moves = delta(&old, &new);
    if moves.is_empty() && (stored.is_some() || new.is_empty()) {
        return Ok(0);
    }
    let mut ops = vec![TxOp::Put {
        item: Item::new(
            key.pk.clone(),
            key.sk.clone(),
            &Contribution {
                counts: new.clone(),
            },
        )?,
        condition: version.map_or(Condition::NotExists, Condition::VersionIs),
    }];
    for ((county, period), metrics) in &moves {
        let k = Key::new(partition(*county), period.clone());
        let (mut figures, v) = match p.state.get(&k).await? {
            Some(i) => (
                i.body::<Figures>().map_err(|e| ApiError::internal(&e))?,
                Some(i.version),
            ),
            None => (Figures::default(), None),
        };
        for (metric, d) in metrics {
            *figures.values.entry(metric.clone()).or_default() += d;
        }
        figures.values.retain(|_, v| !v.is_zero());
        ops.push(TxOp::Put {
            item: Item::new(k.pk, k.sk, &figures)?,
            condition: v.map_or(Condition::NotExists, Condition::VersionIs),
        });
    }
    if ops.len() > 100 {
        return Err(ApiError::internal(&format!(
            "{case} moves {} counters at once",
            ops.len()
        )));
    }
    p.state.transact(ops).await?;
    Ok(moves.len() as u64)
}

/// The counters of a county: every month's, and the gauges now.
///
/// # Errors
/// The store is unavailable.
pub async fn counters(
    p: &Platform,
    county: County,
) -> Result<(BTreeMap<String, Figures>, Figures), ApiError> {
    let mut months = BTreeMap::new();
    let mut current = Figures::default();
    for item in p
        .state
        .query_all(
            &Query::partition(partition(county))
                .range(SkRange::All)
                .limit(500),
        )
        .await?
    {
        let f: Figures = item.body().map_err(|e| ApiError::internal(&e))?;
        if item.sk == CURRENT {
            current = f;
        } else if let Some(m) = item.sk.strip_prefix("m#") {
            months.insert(m.to_owned(), f);
        }
    }
    Ok((months, current))
}

/// The statistics as a reader of the ledger.
pub struct Projection;

#[async_trait::async_trait]
impl crate::watch::Reader for Projection {
    async fn read(&self, p: &Platform, e: &Event) -> Result<u64, ApiError> {
        recount(p, &e.case).await
    }
}

/// The job keeping the counters.
pub struct Statistics;

#[async_trait::async_trait]
impl swi_platform::jobs::Job for Statistics {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "keeps the statistics' counters with every change the audit ledger records (Art. 41)"
    }

    fn wake(&self) -> swi_platform::jobs::Wake {
        swi_platform::jobs::Wake::Ledger
    }

    async fn run(
        &self,
        p: &Platform,
        deadline: std::time::Instant,
    ) -> Result<swi_platform::jobs::Report, ApiError> {
        let (events, moved, caught_up) = crate::watch::walk(
            p,
            NAME,
            crate::anchor::FIRST_DAY,
            crate::watch::LAG_SECS,
            deadline,
            &Projection,
        )
        .await?;
        Ok(swi_platform::jobs::Report {
            job: NAME,
            done: usize::try_from(events).unwrap_or(usize::MAX),
            pending: usize::from(!caught_up),
            errors: Vec::new(),
            summary: format!("{events} change(s) counted, {moved} counter(s) moved"),
            detail: serde_json::json!({ "events": events, "moved": moved, "caught_up": caught_up }),
        })
    }
}
