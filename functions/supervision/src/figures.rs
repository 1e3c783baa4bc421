//! The statistics and the fund's analysis as read (Art. 41): a county's (or the city's) year
//! month by month — persons covered, units, premiums billed, paid and owed, claims submitted,
//! approved and rejected, benefits approved and paid, periodic beneficiaries, the fund's income,
//! spending and balance — with the year by category, industry class and benefit item, and the
//! claims at each review step now. Everything but the fund comes from the counters the
//! `statistics` job keeps ([`crate::stats`]); the fund comes from the books' vouchers, month by
//! month — the source the annual report reads — so both say the same.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_ledger::Side;
use swi_ledger::posting::{PREMIUM_INCOME, Posted, month_partition};
use swi_platform::{ApiError, Platform};
use swi_rules::ids::{County, GANZHOU_COUNTIES};
use swi_store::Query;

use crate::stats::{self, Figures};

/// The scheme's first month.
const FIRST_MONTH: (i32, u32) = (2025, 1);

/// A month's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Month {
    /// The month (`YYYY-MM`).
    pub month: String,
    /// Persons covered on some day of the month.
    #[schema(value_type = String)]
    pub persons_covered: Decimal,
    /// Units enrolled.
    #[schema(value_type = String)]
    pub units: Decimal,
    /// Premiums billed for the month.
    #[schema(value_type = String)]
    pub premium_billed: Decimal,
    /// Of them paid.
    #[schema(value_type = String)]
    pub premium_paid: Decimal,
    /// Of them owed.
    #[schema(value_type = String)]
    pub premium_owed: Decimal,
    /// Claims submitted.
    #[schema(value_type = String)]
    pub claims_submitted: Decimal,
    /// Claims approved.
    #[schema(value_type = String)]
    pub claims_approved: Decimal,
    /// Claims rejected.
    #[schema(value_type = String)]
    pub claims_rejected: Decimal,
    /// Lump sums approved.
    #[schema(value_type = String)]
    pub benefits_approved: Decimal,
    /// Benefits paid (the books: benefit expenditure).
    #[schema(value_type = String)]
    pub benefits_paid: Decimal,
    /// Periodic beneficiaries.
    #[schema(value_type = String)]
    pub beneficiaries: Decimal,
    /// The fund's income (premiums received less refunds).
    #[schema(value_type = String)]
    pub fund_income: Decimal,
    /// The fund's spending (benefits).
    #[schema(value_type = String)]
    pub fund_spending: Decimal,
    /// The fund's balance at the month's end (income less spending since the scheme began).
    #[schema(value_type = String)]
    pub fund_balance: Decimal,
}

/// One line of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Breakdown {
    /// The category, class or item.
    pub key: String,
    /// Metric → the year's figure (stocks: at the year's last month).
    #[schema(value_type = BTreeMap<String, String>)]
    pub figures: BTreeMap<String, Decimal>,
}

/// A year's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Statistics {
    /// The county, or `360700` for the city.
    pub county: String,
    /// The year.
    pub year: i32,
    /// Its months up to the last one begun.
    pub months: Vec<Month>,
    /// The year: flows summed, stocks at its last month.
    pub year_total: Month,
    /// By person category.
    pub by_category: Vec<Breakdown>,
    /// By industry class.
    pub by_class: Vec<Breakdown>,
    /// By benefit item.
    pub by_item: Vec<Breakdown>,
    /// Claims at each review step now.
    #[schema(value_type = BTreeMap<String, String>)]
    pub claims_by_step: BTreeMap<String, Decimal>,
}

const STOCKS: [&str; 3] = ["covered", "units", "beneficiaries"];

fn first_of(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default()
}

fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = first_of(from.year(), from.month());
    while m <= to {
        out.push(m);
        m = m
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(to.succ_opt().unwrap_or(to));
    }
    out
}

/// The counters of `county` (`None`: every county summed).
async fn counters(
    p: &Platform,
    county: Option<County>,
) -> Result<(BTreeMap<String, Figures>, Figures), ApiError> {
    let counties: Vec<County> = match county {
        Some(c) => vec![c],
        None => GANZHOU_COUNTIES
            .iter()
            .filter_map(|(c, _)| County::parse(&c.to_string()).ok())
            .collect(),
    };
    let mut months: BTreeMap<String, Figures> = BTreeMap::new();
    let mut current = Figures::default();
    for c in counties {
        let (m, now) = stats::counters(p, c).await?;
        for (k, f) in m {
            let into = months.entry(k).or_default();
            for (metric, v) in f.values {
                *into.values.entry(metric).or_default() += v;
            }
        }
        for (metric, v) in now.values {
            *current.values.entry(metric).or_default() += v;
        }
    }
    Ok((months, current))
}

/// The fund's income and spending of a month, from its vouchers (of `county`, or all).
///
/// # Errors
/// The store is unavailable.
pub async fn fund_month(
    p: &Platform,
    month: NaiveDate,
    county: Option<County>,
) -> Result<(Decimal, Decimal), ApiError> {
    let (mut income, mut spending) = (Decimal::ZERO, Decimal::ZERO);
    for item in p
        .state
        .query_all(&Query::partition(month_partition(month)).limit(1000))
        .await?
    {
        let v: Posted = item.body().map_err(|e| ApiError::internal(&e))?;
        if county.is_some() && v.county != county {
            continue;
        }
        for e in &v.voucher.entries {
            match (e.account.as_str(), e.side) {
                (PREMIUM_INCOME, Side::Credit) => income += e.amount,
                (PREMIUM_INCOME, Side::Debit) => income -= e.amount,
                (a, Side::Debit) if a.starts_with("5001") => spending += e.amount,
                (a, Side::Credit) if a.starts_with("5001") => spending -= e.amount,
                _ => {}
            }
        }
    }
    Ok((income, spending))
}

/// The premium income of a year (every county): the base of the prevention fund (Art. 50).
///
/// # Errors
/// The store is unavailable.
pub async fn premium_income(p: &Platform, year: i32) -> Result<Decimal, ApiError> {
    let mut total = Decimal::ZERO;
    for m in 1..=12 {
        total += fund_month(p, first_of(year, m), None).await?.0;
    }
    Ok(total)
}

fn sum_upto(months: &BTreeMap<String, Figures>, upto: &str, metric: &str) -> Decimal {
    months
        .range(..=upto.to_owned())
        .filter_map(|(_, f)| f.values.get(metric))
        .sum()
}

fn get(months: &BTreeMap<String, Figures>, month: &str, metric: &str) -> Decimal {
    months
        .get(month)
        .and_then(|f| f.values.get(metric))
        .copied()
        .unwrap_or_default()
}

/// A year's statistics of `county` (`None`: the city), through `today`'s month.
///
/// # Errors
/// 400 a year before the scheme or after today; the store is unavailable.
pub async fn year(
    p: &Platform,
    county: Option<County>,
    year: i32,
    today: NaiveDate,
) -> Result<Statistics, ApiError> {
    if year < FIRST_MONTH.0 || year > today.year() {
        return Err(ApiError::invalid(
            format!("年度须在 {}-{} 之间", FIRST_MONTH.0, today.year()),
            format!("the year must be {}-{}", FIRST_MONTH.0, today.year()),
        ));
    }
    let (counted, current) = counters(p, county).await?;
    let last = if year == today.year() {
        first_of(year, today.month())
    } else {
        first_of(year, 12)
    };
    let mut balance = Decimal::ZERO;
    let mut months = Vec::new();
    for m in months_between(first_of(FIRST_MONTH.0, FIRST_MONTH.1), last) {
        let (income, spending) = fund_month(p, m, county).await?;
        balance += income - spending;
        if m.year() != year {
            continue;
        }
        let k = m.format("%Y-%m").to_string();
        let billed = get(&counted, &k, "premium_billed");
        let paid = get(&counted, &k, "premium_paid");
        months.push(Month {
            month: k.clone(),
            persons_covered: sum_upto(&counted, &k, "covered"),
            units: sum_upto(&counted, &k, "units"),
            premium_billed: billed,
            premium_paid: paid,
            premium_owed: billed - paid,
            claims_submitted: get(&counted, &k, "claims_submitted"),
            claims_approved: get(&counted, &k, "claims_approved"),
            claims_rejected: get(&counted, &k, "claims_rejected"),
            benefits_approved: get(&counted, &k, "benefits_approved"),
            benefits_paid: spending,
            beneficiaries: sum_upto(&counted, &k, "beneficiaries"),
            fund_income: income,
            fund_spending: spending,
            fund_balance: balance,
        });
    }
    let mut total = Month {
        month: year.to_string(),
        ..Month::default()
    };
    if let Some(end) = months.last() {
        total.persons_covered = end.persons_covered;
        total.units = end.units;
        total.beneficiaries = end.beneficiaries;
        total.fund_balance = end.fund_balance;
    }
    for m in &months {
        total.premium_billed += m.premium_billed;
        total.premium_paid += m.premium_paid;
        total.premium_owed += m.premium_owed;
        total.claims_submitted += m.claims_submitted;
        total.claims_approved += m.claims_approved;
        total.claims_rejected += m.claims_rejected;
        total.benefits_approved += m.benefits_approved;
        total.benefits_paid += m.benefits_paid;
        total.fund_income += m.fund_income;
        total.fund_spending += m.fund_spending;
    }
    let end_key = last.format("%Y-%m").to_string();
    let breakdown = |dim: &str| -> Vec<Breakdown> {
        let mut by: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
        for (k, f) in &counted {
            let in_year = k.starts_with(&format!("{year}-"));
            for (metric, v) in &f.values {
                let Some((base, d)) = metric.split_once('|') else {
                    continue;
                };
                let Some(key) = d.strip_prefix(&format!("{dim}:")) else {
                    continue;
                };
                let stock = STOCKS.contains(&base);
                if (stock && k.as_str() <= end_key.as_str()) || (!stock && in_year) {
                    *by.entry(key.to_owned())
                        .or_default()
                        .entry(base.to_owned())
                        .or_default() += v;
                }
            }
        }
        by.into_iter()
            .map(|(key, figures)| Breakdown { key, figures })
            .collect()
    };
    Ok(Statistics {
        county: county.map_or_else(
            || swi_domain::access::CITY_CODE.to_owned(),
            |c| c.code().to_string(),
        ),
        year,
        year_total: total,
        months,
        by_category: breakdown("category"),
        by_class: breakdown("class"),
        by_item: breakdown("item"),
        claims_by_step: current
            .values
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("claims_open|step:")
                    .map(|s| (s.to_owned(), *v))
            })
            .collect(),
    })
}

/// The columns of the months, as the XLSX heads them.
pub const MONTH_COLUMNS: [(&str, &str); 15] = [
    ("month", "月份"),
    ("persons_covered", "参保人数"),
    ("units", "参保单位数"),
    ("premium_billed", "应缴保费"),
    ("premium_paid", "实缴保费"),
    ("premium_owed", "欠缴保费"),
    ("claims_submitted", "申领件数"),
    ("claims_approved", "核准件数"),
    ("claims_rejected", "不予支付件数"),
    ("benefits_approved", "核定待遇（一次性）"),
    ("benefits_paid", "支付待遇"),
    ("beneficiaries", "定期待遇人数"),
    ("fund_income", "基金收入"),
    ("fund_spending", "基金支出"),
    ("fund_balance", "基金结余"),
];

/// A month's figures as the columns read them.
#[must_use]
pub fn month_cells(m: &Month) -> Vec<String> {
    vec![
        m.month.clone(),
        m.persons_covered.to_string(),
        m.units.to_string(),
        m.premium_billed.to_string(),
        m.premium_paid.to_string(),
        m.premium_owed.to_string(),
        m.claims_submitted.to_string(),
        m.claims_approved.to_string(),
        m.claims_rejected.to_string(),
        m.benefits_approved.to_string(),
        m.benefits_paid.to_string(),
        m.beneficiaries.to_string(),
        m.fund_income.to_string(),
        m.fund_spending.to_string(),
        m.fund_balance.to_string(),
    ]
}

/// The statistics as a workbook: the months (and the year), then each breakdown, then the
/// claims by step.
///
/// # Errors
/// The writer's own failure.
pub fn xlsx(s: &Statistics) -> Result<Vec<u8>, ApiError> {
    let heads: Vec<&str> = MONTH_COLUMNS.iter().map(|(_, zh)| *zh).collect();
    let mut rows: Vec<Vec<String>> = s.months.iter().map(month_cells).collect();
    let mut total = month_cells(&s.year_total);
    total[0] = format!("{} 年", s.year);
    rows.push(total);
    let table = |b: &[Breakdown]| -> (Vec<String>, Vec<Vec<String>>) {
        let metrics: Vec<String> = b
            .iter()
            .flat_map(|x| x.figures.keys().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let rows = b
            .iter()
            .map(|x| {
                let mut r = vec![x.key.clone()];
                r.extend(
                    metrics
                        .iter()
                        .map(|m| x.figures.get(m).copied().unwrap_or_default().to_string()),
                );
                r
            })
            .collect();
        let mut heads = vec!["分组".to_owned()];
        heads.extend(metrics);
        (heads, rows)
    };
    let (ch, cr) = table(&s.by_category);
    let (kh, kr) = table(&s.by_class);
    let (ih, ir) = table(&s.by_item);
    let steps: Vec<Vec<String>> = s
        .claims_by_step
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    let (chr, khr, ihr) = (refs(&ch), refs(&kh), refs(&ih));
    swi_tables::write::workbook(
        &[
            ("月度统计", &heads, &rows),
            ("按人员类别", &chr, &cr),
            ("按行业类别", &khr, &kr),
            ("按待遇项目", &ihr, &ir),
            ("审核环节", &["环节", "件数"], &steps),
        ],
        14.0,
    )
    .map_err(|e| ApiError::internal(&e))
}

fn refs(h: &[String]) -> Vec<&str> {
    h.iter().map(String::as_str).collect()
}
