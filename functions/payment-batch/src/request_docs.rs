//! The payment request's documents (请款计划, Art. 37): the request form, the summary of the
//! month's payouts by the fund's accounts (待遇支出汇总表) and the detail of every line paid
//! (明细表), as one PDF and one XLSX workbook of three sheets.

use rust_decimal::Decimal;
use swi_forms::{Column, Report, Table, chinese_date, render_report};
use swi_platform::ApiError;

use crate::cycle::{Cycle, PaidLine, Summary};

/// Detail rows printed in the PDF (the XLSX has them all).
pub const PDF_DETAIL_ROWS: usize = 2_000;

/// The request form's rows: what is requested, for which month, how much.
fn form_rows(cycle: &Cycle, s: &Summary, n: u32) -> Vec<Vec<String>> {
    vec![
        vec![
            "县（市、区）".into(),
            format!("{} {}", cycle.county.code(), cycle.county.name()),
        ],
        vec![
            "请款月份".into(),
            cycle.month.format("%Y年%m月").to_string(),
        ],
        vec!["赔付期间".into(), s.month.format("%Y年%m月").to_string()],
        vec!["赔付笔数".into(), s.lines.to_string()],
        vec!["请款金额（元）".into(), s.total.to_string()],
        vec!["请款次数".into(), format!("第 {n} 次")],
        vec![
            "依据".into(),
            "《赣州市补充工伤保险业务经办规程》第三十七条".into(),
        ],
    ]
}

fn summary_rows(s: &Summary) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = s
        .by_account
        .iter()
        .map(|(code, name, amount)| vec![code.clone(), name.clone(), amount.clone()])
        .collect();
    rows.push(vec![String::new(), "合计".into(), s.total.to_string()]);
    rows
}

fn detail_row(l: &PaidLine) -> Vec<String> {
    vec![
        l.batch.clone(),
        l.line.clone(),
        l.holder.clone(),
        l.account.clone(),
        l.purpose.clone(),
        l.amount.to_string(),
        l.on.to_string(),
    ]
}

const DETAIL_HEADINGS: [&str; 7] = [
    "批次号",
    "支付明细",
    "收款户名",
    "收款账号",
    "用途",
    "金额（元）",
    "支付日期",
];

/// The request as PDF.
///
/// # Errors
/// The font is not installed (503 `forms_unavailable`).
pub fn pdf(cycle: &Cycle, s: &Summary, lines: &[PaidLine], n: u32) -> Result<Vec<u8>, ApiError> {
    let font = swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))?;
    let detail_total: Decimal = lines.iter().map(|l| l.amount).sum();
    let report = Report {
        title: "补充工伤保险待遇资金请款计划".into(),
        number: "表号：GZBG-ZF-01".into(),
        serial: format!(
            "编号：QK-{}-{}-{n}",
            cycle.county.code(),
            cycle.month.format("%Y%m")
        ),
        lines: vec![format!(
            "承办机构向社会保险经办机构申请拨付 {} 赔付的补充工伤保险待遇资金，附待遇支出汇总表与明细表。",
            s.month.format("%Y年%m月")
        )],
        tables: vec![
            Table {
                caption: "一、请款计划表".into(),
                columns: vec![Column::text("项目", 1.0), Column::text("内容", 2.5)],
                rows: form_rows(cycle, s, n),
            },
            Table {
                caption: "二、待遇支出汇总表（按基金会计科目）".into(),
                columns: vec![
                    Column::text("科目代码", 1.0),
                    Column::text("科目名称", 2.5),
                    Column::amount("金额（元）", 1.5),
                ],
                rows: summary_rows(s),
            },
            Table {
                caption: format!(
                    "三、待遇支出明细表（共 {} 笔，合计 {} 元{}）",
                    lines.len(),
                    detail_total,
                    if lines.len() > PDF_DETAIL_ROWS {
                        format!("；此处列前 {PDF_DETAIL_ROWS} 笔，全部见 XLSX")
                    } else {
                        String::new()
                    }
                ),
                columns: vec![
                    Column::text(DETAIL_HEADINGS[0], 1.6),
                    Column::text(DETAIL_HEADINGS[1], 2.6),
                    Column::text(DETAIL_HEADINGS[2], 1.0),
                    Column::text(DETAIL_HEADINGS[3], 1.5),
                    Column::text(DETAIL_HEADINGS[4], 1.4),
                    Column::amount(DETAIL_HEADINGS[5], 1.1),
                    Column::text(DETAIL_HEADINGS[6], 1.1),
                ],
                rows: lines.iter().take(PDF_DETAIL_ROWS).map(detail_row).collect(),
            },
        ],
        statement: "以上汇总表、明细表与承办机构、经办机构业务部门核对一致。".into(),
        signatures: vec![
            "承办机构财务（签字）".into(),
            "承办机构（盖章）".into(),
            "经办机构业务部门（审核）".into(),
        ],
        date_line: chinese_date(s.at.date()),
    };
    render_report(&font, &report).map_err(|e| ApiError::forms_unavailable(&e))
}

/// The request as an XLSX workbook: the form, the summary, the detail.
///
/// # Errors
/// The writer's own failure (it does not happen).
pub fn xlsx(cycle: &Cycle, s: &Summary, lines: &[PaidLine], n: u32) -> Result<Vec<u8>, ApiError> {
    let detail: Vec<Vec<String>> = lines.iter().map(detail_row).collect();
    swi_tables::workbook(
        &[
            ("请款计划表", &["项目", "内容"][..], &form_rows(cycle, s, n)),
            (
                "待遇支出汇总表",
                &["科目代码", "科目名称", "金额（元）"][..],
                &summary_rows(s),
            ),
            ("待遇支出明细表", &DETAIL_HEADINGS[..], &detail),
        ],
        18.0,
    )
    .map_err(|e| ApiError::internal(&e))
}
