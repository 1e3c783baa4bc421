//! Row-by-row reports of a refused table, and the XLSX workbook a clerk or a unit downloads.

use serde::{Deserialize, Serialize};

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowReport {
    /// Spreadsheet row number (the header is row 1).
    pub row: usize,
    /// Every problem of the row (中文 — English).
    pub errors: Vec<String>,
}

/// A report workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the report workbook cannot be written: {0}")]
pub struct ReportError(#[from] rust_xlsxwriter::XlsxError);

/// The report as an XLSX workbook: a title row, the header, a row per refused row, and the
/// total (`共 N 行，M 行有问题，…`).
///
/// # Errors
/// The workbook cannot be written.
pub fn report_xlsx(
    title: &str,
    reports: &[RowReport],
    total: usize,
    verdict: &str,
) -> Result<Vec<u8>, ReportError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    sheet.write_string_with_format(1, 0, "行号 Row", &bold)?;
    sheet.write_string_with_format(1, 1, "问题 Problems", &bold)?;
    sheet.set_column_width(1, 100)?;
    for (i, r) in reports.iter().enumerate() {
        let row = u32::try_from(i + 2).unwrap_or(u32::MAX);
        sheet.write_string(row, 0, r.row.to_string())?;
        sheet.write_string(row, 1, r.errors.join("；"))?;
    }
    let last = u32::try_from(reports.len() + 3).unwrap_or(u32::MAX);
    sheet.write_string(
        last,
        0,
        format!("共 {total} 行，{} 行有问题，{verdict}", reports.len()),
    )?;
    Ok(book.save_to_buffer()?)
}
