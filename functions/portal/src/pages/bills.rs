//! Bills and arrears (应缴额核定与欠费, Art. 16-22) in the portal. An employer sees the unit's
//! bills, newest month first, with what is overdue since when; a self-paying worker their own;
//! the county's clerks its arrears (and the workbook), the months billed with what the runs could
//! not bill in the county, and the files exchanged with the tax bureau. A bill's page shows its lines, its payment, its re-basings and refunds.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use swi_bills::{Bill, BillKind, BillStatus, Line};
use swi_domain::Role;
use swi_premium_billing::arrears::{Arrears, PayerArrears};
use swi_premium_billing::exchange::ExchangeFile;
use swi_premium_billing::refunds::Refund;
use swi_premium_billing::routes_bills::{BillsPage, LinesPage};
use swi_premium_billing::run::Run;

use crate::Portal;
use crate::pages::{Chrome, Signed, error_page_for, html, not_found, segment};
use crate::session::Session;

/// A bill as a row.
#[derive(Debug, Clone)]
pub struct BillRow {
    id: String,
    month: String,
    kind: &'static str,
    persons: u32,
    amount: String,
    due: String,
    status: &'static str,
    overdue: bool,
}

fn kind_name(k: BillKind) -> &'static str {
    match k {
        BillKind::Monthly => "月度核定",
        BillKind::Joining => "参保首月",
        BillKind::Project => "建设项目",
    }
}

fn row(b: &Bill, today: chrono::NaiveDate) -> BillRow {
    let overdue = b.status == BillStatus::Owing && b.due < today;
    BillRow {
        id: b.id.clone(),
        month: b.month.format("%Y-%m").to_string(),
        kind: kind_name(b.kind),
        persons: b.lines,
        amount: b.amount.to_string(),
        due: b.due.to_string(),
        status: match (b.status, overdue) {
            (BillStatus::Paid, _) => "已缴费",
            (BillStatus::Withdrawn, _) => "已撤销",
            (BillStatus::Owing, true) => "欠费",
            (BillStatus::Owing, false) => "待缴费",
        },
        overdue,
    }
}

/// What is overdue, as the banner says it.
#[derive(Debug, Clone)]
pub struct Overdue {
    since: String,
    amount: String,
    months: usize,
}

/// A payer in the county's arrears.
#[derive(Debug, Clone)]
pub struct ArrearsRow {
    name: String,
    since: String,
    months: usize,
    amount: String,
}

/// A run as a row.
#[derive(Debug, Clone)]
pub struct RunRow {
    month: String,
    status: &'static str,
    persons: u64,
    bills: u64,
    amount: String,
    exceptions: u64,
    /// What this clerk's county could not have billed (subject, reason), as kept on the run.
    problems: Vec<(String, String)>,
}

/// A file exchanged, as a row.
#[derive(Debug, Clone)]
pub struct FileRow {
    at: String,
    what: String,
    rows: usize,
    amount: String,
    by: String,
}

/// The bills page.
#[derive(Template)]
#[template(path = "bills.html")]
pub struct BillsPageView {
    chrome: Chrome,
    title: &'static str,
    overdue: Option<Overdue>,
    rows: Vec<BillRow>,
    clerk: bool,
    county: String,
    arrears: Vec<ArrearsRow>,
    arrears_total: String,
    runs: Vec<RunRow>,
    files: Vec<FileRow>,
    /// The county's last six months: month, billed, paid, owed.
    months: Vec<(String, String, String, String)>,
    /// Their chart (SVG, drawn here from numbers only).
    chart: String,
    /// The report workbook's query.
    report_query: String,
}

/// An amount in fen, for the chart's integer geometry.
fn fen(d: rust_decimal::Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (d * rust_decimal::Decimal::from(100))
        .trunc()
        .to_i64()
        .unwrap_or(0)
}

/// A bar chart of billed and paid per month (owed is the difference), as SVG.
fn chart(months: &[swi_premium_billing::report::MonthFigures]) -> String {
    const H: i64 = 160;
    const BAR: i64 = 22;
    let max = months
        .iter()
        .map(|m| fen(m.total.billed))
        .max()
        .unwrap_or(0)
        .max(1);
    let width = 60 + i64::try_from(months.len()).unwrap_or(0) * (2 * BAR + 24);
    let mut svg = format!(
        "<svg role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">各月应缴与已缴（深色为应缴，浅色为已缴）</title>",
        H + 40,
        H + 40
    );
    for (i, m) in (0i64..).zip(months) {
        let x = 40 + i * (2 * BAR + 24);
        let billed = fen(m.total.billed) * H / max;
        let paid = fen(m.total.paid) * H / max;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{BAR}\" height=\"{billed}\" fill=\"#1d4e89\"/><rect x=\"{}\" y=\"{}\" width=\"{BAR}\" height=\"{paid}\" fill=\"#7fb3d5\"/><text x=\"{x}\" y=\"{}\" font-size=\"12\" fill=\"#222\">{}</text>",
            10 + H - billed,
            x + BAR,
            10 + H - paid,
            H + 30,
            m.month.format("%Y-%m")
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn overdue_of(a: Option<PayerArrears>) -> Option<Overdue> {
    a.map(|a| Overdue {
        since: a.since.format("%Y-%m").to_string(),
        amount: a.amount.to_string(),
        months: a.bills.len(),
    })
}

/// `GET /bills`.
pub async fn list(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    let today = portal.platform.clock.today();
    let mut page = BillsPageView {
        chrome: Chrome::of(&s),
        title: "缴费与欠费",
        overdue: None,
        rows: Vec::new(),
        clerk: false,
        county: String::new(),
        arrears: Vec::new(),
        arrears_total: "0.00".into(),
        runs: Vec::new(),
        files: Vec::new(),
        months: Vec::new(),
        chart: String::new(),
        report_query: String::new(),
    };
    match s.role {
        Role::Employer => {
            let code = segment(s.unit.as_deref().unwrap_or_default());
            let bills: BillsPage = match portal
                .get(&s, &format!("/api/units/{code}/bills?limit=60"))
                .await
                .and_then(|a| a.into())
            {
                Ok(b) => b,
                Err(e) => return error_page_for(Some(&s), &e),
            };
            let arrears: Option<PayerArrears> = portal
                .get(&s, &format!("/api/units/{code}/bills/arrears"))
                .await
                .and_then(|a| a.into())
                .unwrap_or(None);
            page.overdue = overdue_of(arrears);
            page.rows = bills.bills.iter().map(|b| row(b, today)).collect();
        }
        Role::Citizen => {
            let bills: BillsPage = match portal
                .get(&s, "/api/self/bills?limit=60")
                .await
                .and_then(|a| a.into())
            {
                Ok(b) => b,
                Err(e) => return error_page_for(Some(&s), &e),
            };
            page.title = "我的缴费";
            page.rows = bills.bills.iter().map(|b| row(b, today)).collect();
            let owed: Vec<&BillRow> = page.rows.iter().filter(|r| r.overdue).collect();
            if let Some(first) = owed.iter().map(|r| r.month.clone()).min() {
                let amount: rust_decimal::Decimal = bills
                    .bills
                    .iter()
                    .filter(|b| b.status == BillStatus::Owing && b.due < today)
                    .map(|b| b.amount)
                    .sum();
                page.overdue = Some(Overdue {
                    since: first,
                    amount: amount.to_string(),
                    months: owed.len(),
                });
            }
        }
        role if role.is_clerk() => {
            let county = s.county.clone();
            page.title = "保费核定与征缴";
            page.clerk = true;
            page.county = county.clone();
            if county.len() == 6 && county != "360700" {
                let to = swi_rules::billing::month_of(today);
                let from = to.checked_sub_months(chrono::Months::new(5)).unwrap_or(to);
                page.report_query = format!(
                    "county={county}&from={}&to={}",
                    from.format("%Y-%m"),
                    to.format("%Y-%m")
                );
                if let Ok(months) = portal
                    .get(&s, &format!("/api/bills/report?{}", page.report_query))
                    .await
                    .and_then(|a| a.into::<Vec<swi_premium_billing::report::MonthFigures>>())
                {
                    page.chart = chart(&months);
                    page.months = months
                        .iter()
                        .map(|m| {
                            (
                                m.month.format("%Y-%m").to_string(),
                                m.total.billed.to_string(),
                                m.total.paid.to_string(),
                                m.total.owed.to_string(),
                            )
                        })
                        .collect();
                }
                if let Ok(a) = portal
                    .get(&s, &format!("/api/bills/arrears?county={county}"))
                    .await
                    .and_then(|a| a.into::<Arrears>())
                {
                    page.arrears_total = a.amount.to_string();
                    page.arrears = a
                        .payers
                        .iter()
                        .map(|p| ArrearsRow {
                            name: p.name.clone(),
                            since: p.since.format("%Y-%m").to_string(),
                            months: p.bills.len(),
                            amount: p.amount.to_string(),
                        })
                        .collect();
                }
                if let Ok(files) = portal
                    .get(&s, &format!("/api/tax-exchange?county={county}"))
                    .await
                    .and_then(|a| a.into::<Vec<ExchangeFile>>())
                {
                    page.files = files
                        .iter()
                        .map(|f| FileRow {
                            at: f.at.format("%Y-%m-%d %H:%M").to_string(),
                            what: match (f.kind, f.month) {
                                (swi_premium_billing::exchange::FileKind::Bills, Some(m)) => {
                                    format!("{} 应缴额导出", m.format("%Y-%m"))
                                }
                                (swi_premium_billing::exchange::FileKind::Bills, None) => {
                                    "应缴额导出".into()
                                }
                                (swi_premium_billing::exchange::FileKind::Receipts, _) => {
                                    "税务回执导入".into()
                                }
                            },
                            rows: f.rows,
                            amount: f.amount.to_string(),
                            by: f.by.clone(),
                        })
                        .collect();
                }
            }
            if let Ok(runs) = portal
                .get(&s, "/api/bills/runs")
                .await
                .and_then(|a| a.into::<Vec<Run>>())
            {
                page.runs = runs.iter().map(|r| run_row(r, &county)).collect();
            }
        }
        _ => return not_found(),
    }
    html(StatusCode::OK, &page)
}

/// A line as a row.
#[derive(Debug, Clone)]
pub struct LineRow {
    name: String,
    category: &'static str,
    class: u32,
    band: String,
    wage: String,
    base: String,
    rate: String,
    days: u32,
    amount: String,
}

fn line_row(l: &Line) -> LineRow {
    LineRow {
        name: l.name.clone(),
        category: l.category.chinese(),
        class: l.industry_class,
        band: l.band.map_or_else(|| "—".into(), |b| b.to_string()),
        wage: l.wage.to_string(),
        base: l.base.to_string(),
        rate: format!(
            "{}%",
            (l.rate * rust_decimal::Decimal::from(100)).normalize()
        ),
        days: l.days,
        amount: l.amount.to_string(),
    }
}

/// The bill page.
#[derive(Template)]
#[template(path = "bill.html")]
pub struct BillView {
    chrome: Chrome,
    b: BillRow,
    payer: String,
    issued: String,
    average: String,
    average_source: String,
    assumptions: Vec<String>,
    paid: Option<String>,
    rebased: Vec<String>,
    refunds: Vec<String>,
    lines: Vec<LineRow>,
    next: Option<String>,
}

/// `?cursor=`.
#[derive(Debug, Deserialize)]
pub struct Cursor {
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /bills/{id}`.
pub async fn show(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(q): Query<Cursor>,
) -> Response {
    let id = segment(&id);
    let bill: Bill = match portal
        .get(&s, &format!("/api/bills/{id}"))
        .await
        .and_then(|a| a.into())
    {
        Ok(b) => b,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let cursor = q
        .cursor
        .as_deref()
        .map(|c| format!("&cursor={}", segment(c)))
        .unwrap_or_default();
    let lines: LinesPage = match portal
        .get(&s, &format!("/api/bills/{id}/lines?limit=200{cursor}"))
        .await
        .and_then(|a| a.into())
    {
        Ok(l) => l,
        Err(e) => return error_page_for(Some(&s), &e),
    };
    let refunds: Vec<Refund> = portal
        .get(&s, &format!("/api/bills/{id}/refunds"))
        .await
        .and_then(|a| a.into())
        .unwrap_or_default();
    let today = portal.platform.clock.today();
    html(
        StatusCode::OK,
        &BillView {
            chrome: Chrome::of(&s),
            b: row(&bill, today),
            payer: bill.name.clone(),
            issued: format!(
                "{}（{}）",
                bill.issued_at.format("%Y-%m-%d %H:%M"),
                bill.issued_by
            ),
            average: bill.basis.average_wage.to_string(),
            average_source: format!(
                "{}（{}）",
                bill.basis.average_wage_source, bill.basis.average_wage_status
            ),
            assumptions: bill.basis.assumptions.clone(),
            paid: bill.payment.as_ref().map(|p| {
                format!(
                    "{} 缴费 {} 元（税务回执 {}）",
                    p.paid_on, p.amount, p.receipt
                )
            }),
            rebased: bill
                .rebased
                .iter()
                .map(|r| {
                    format!(
                        "{}：月平均工资 {} → {}，应缴 {} → {} 元。{}",
                        r.on, r.from_average, r.to_average, r.from_amount, r.to_amount, r.reason
                    )
                })
                .collect(),
            refunds: refunds
                .iter()
                .map(|r| {
                    format!(
                        "{}：退费 {} 元（{}；工伤保险退费决定 {}）",
                        r.approved_on, r.amount, r.reason, r.work_injury_refund.decision_no
                    )
                })
                .collect(),
            lines: lines.lines.iter().map(line_row).collect(),
            next: lines.next,
        },
    )
}

/// `GET /bills/arrears.xlsx`: the clerk's county's arrears workbook.
pub async fn arrears_xlsx(State(portal): State<Portal>, Signed(s): Signed) -> Response {
    let county = segment(&s.county);
    let path = format!("/api/bills/arrears?county={county}&format=xlsx");
    workbook(&portal, &s, &path, &format!("arrears-{county}.xlsx")).await
}

/// `?from=&to=`.
#[derive(Debug, Deserialize)]
pub struct Months {
    from: String,
    to: String,
}

/// `GET /bills/report.xlsx?from=&to=`: the clerk's county's billing report workbook.
pub async fn report_xlsx(
    State(portal): State<Portal>,
    Signed(s): Signed,
    Query(q): Query<Months>,
) -> Response {
    let county = segment(&s.county);
    let path = format!(
        "/api/bills/report?county={county}&from={}&to={}&format=xlsx",
        segment(&q.from),
        segment(&q.to)
    );
    workbook(&portal, &s, &path, &format!("billing-{county}.xlsx")).await
}

/// The workbook the API answers at `path`, downloaded as `filename`; its refusal as a page.
async fn workbook(portal: &Portal, s: &Session, path: &str, filename: &str) -> Response {
    match portal.get(s, path).await {
        Ok(a) if a.ok() => {
            let mut r = (StatusCode::OK, a.bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(swi_tables::XLSX_TYPE),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Ok(a) => error_page_for(Some(s), &a.refusal()),
        Err(e) => error_page_for(Some(s), &e),
    }
}

/// A run as a clerk of `county` (`360700`: the city) sees it: the exceptions kept, of their
/// county only.
fn run_row(r: &Run, county: &str) -> RunRow {
    RunRow {
        month: r.month.format("%Y-%m").to_string(),
        status: match r.status {
            swi_premium_billing::run::RunStatus::Running => "核定中",
            swi_premium_billing::run::RunStatus::Done => "已完成",
        },
        persons: r.persons,
        bills: r.bills,
        amount: r.amount.to_string(),
        exceptions: r.exceptions.len() as u64 + r.exceptions_more,
        problems: r
            .exceptions
            .iter()
            .filter(|e| county == "360700" || e.county.code().to_string() == county)
            .map(|e| (e.subject.clone(), e.reason.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clerk_sees_the_exceptions_of_their_county_only() {
        let county = |c: &str| swi_rules::ids::County::parse(c).unwrap();
        let exception = |subject: &str, c: &str| swi_premium_billing::run::Exception {
            subject: subject.into(),
            county: county(c),
            reason: "band 1.5 does not exist for industry class 1 (Art. 13-15)".into(),
        };
        let run: Run = serde_json::from_value(serde_json::json!({
            "month": "2026-03-01", "status": "done", "opened_at": "2026-03-01T01:00:00",
            "opened_by": "job", "units_total": 2, "units_done": 2, "self_payers_done": 0,
            "persons": 0, "bills": 0, "amount": "0", "transactions": 1,
            "exceptions": [], "exceptions_more": 3, "finished_at": null,
            "position": { "phase": "done", "county": 0, "after": null, "partial": null }
        }))
        .unwrap();
        let run = Run {
            exceptions: vec![
                exception("91360702A", "360702"),
                exception("91360703B", "360703"),
            ],
            ..run
        };
        let zhanggong = run_row(&run, "360702");
        assert_eq!(zhanggong.exceptions, 5);
        assert_eq!(
            zhanggong
                .problems
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>(),
            ["91360702A"]
        );
        assert_eq!(run_row(&run, "360700").problems.len(), 2);
    }
}
