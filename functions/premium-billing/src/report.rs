//! The billing report: billed, paid and owed per month, by county, category and industry class
//! (Art. 16-21), from the bills as stored (a county's bills of a month are one index partition),
//! as JSON and as an XLSX workbook; the portal draws it as a chart.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_bills::bill::county_month_page;
use swi_bills::{BillKind, BillStatus};
use swi_platform::{ApiError, Platform};
use swi_rules::billing::next_month;
use swi_rules::ids::County;

/// Billed, paid and owed for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    /// Persons billed (lines).
    pub persons: u64,
    /// Billed.
    pub billed: Decimal,
    /// Paid.
    pub paid: Decimal,
    /// Owed (billed and not paid).
    pub owed: Decimal,
}

impl Figures {
    fn add(&mut self, persons: u64, amount: Decimal, paid: bool) {
        self.persons += persons;
        self.billed += amount;
        if paid {
            self.paid += amount;
        } else {
            self.owed += amount;
        }
    }
}

/// One month of one county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// The month.
    pub month: NaiveDate,
    /// County.
    #[schema(value_type = String)]
    pub county: County,
    /// All bills.
    pub total: Figures,
    /// By category (glossary identifiers; `project` for construction projects).
    pub by_category: BTreeMap<String, Figures>,
    /// By industry class (1-8; a category rated at a fixed class counts there).
    pub by_class: BTreeMap<u32, Figures>,
}

/// The figures of `county` for each month from `from` to `to`.
///
/// # Errors
/// The store is unavailable.
pub async fn figures(
    p: &Platform,
    county: County,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<MonthFigures>, ApiError> {
    let mut out = Vec::new();
    let mut month = from;
    while month <= to {
        let mut m = MonthFigures {
            month,
            county,
            total: Figures::default(),
            by_category: BTreeMap::new(),
            by_class: BTreeMap::new(),
        };
        let mut cursor = None;
        loop {
            let (bills, next) = county_month_page(p, county, month, 500, cursor).await?;
            for b in &bills {
                let paid = b.status == BillStatus::Paid;
                m.total.add(u64::from(b.lines), b.amount, paid);
                if b.kind == BillKind::Project {
                    m.by_category
                        .entry("project".into())
                        .or_default()
                        .add(0, b.amount, paid);
                    continue;
                }
                for (category, t) in &b.by_category {
                    m.by_category
                        .entry(category.as_str().to_owned())
                        .or_default()
                        .add(u64::from(t.persons), t.amount, paid);
                    let class = category
                        .fixed_class()
                        .map(swi_rules::category::IndustryClass::get)
                        .or(b.industry_class);
                    if let Some(c) = class {
                        m.by_class
                            .entry(c)
                            .or_default()
                            .add(u64::from(t.persons), t.amount, paid);
                    }
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        out.push(m);
        month = next_month(month)?;
    }
    Ok(out)
}

/// The figures as an XLSX workbook: a row per month, county and group.
///
/// # Errors
/// The workbook cannot be written (it does not fail).
pub fn xlsx(months: &[MonthFigures]) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(&e);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let head = [
        "费款所属期",
        "县区",
        "分组",
        "项目",
        "人数",
        "应缴（元）",
        "已缴（元）",
        "欠缴（元）",
    ];
    for (c, h) in (0u16..).zip(head) {
        sheet
            .write_string_with_format(0, c, h, &bold)
            .map_err(fail)?;
    }
    let mut r = 1u32;
    let mut row =
        |group: &str, key: String, m: &MonthFigures, f: &Figures| -> Result<(), ApiError> {
            let cells = [
                m.month.format("%Y-%m").to_string(),
                m.county.code().to_string(),
                group.to_owned(),
                key,
                f.persons.to_string(),
                f.billed.to_string(),
                f.paid.to_string(),
                f.owed.to_string(),
            ];
            for (c, v) in (0u16..).zip(cells) {
                sheet.write_string(r, c, v).map_err(fail)?;
            }
            r += 1;
            Ok(())
        };
    for m in months {
        row("合计", "全部".into(), m, &m.total)?;
        for (k, f) in &m.by_category {
            let name = k
                .parse::<swi_rules::category::Category>()
                .map_or_else(|_| "建设项目".to_owned(), |c| c.chinese().to_owned());
            row("人员类别", name, m, f)?;
        }
        for (k, f) in &m.by_class {
            row("行业类别", format!("第 {k} 类"), m, f)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}
