//! Tables out: a header row of known columns and rows of text cells, as UTF-8 CSV (the columns'
//! English identifiers, which a file read back maps again) or as a one-sheet XLSX workbook (the
//! Chinese headings, bold).

use serde::{Deserialize, Serialize};

use crate::columns::Column;

/// A file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CSV, UTF-8, a header row.
    Csv,
    /// An XLSX workbook, one sheet.
    Xlsx,
}

impl Format {
    /// The media type.
    #[must_use]
    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Csv => crate::CSV_TYPE,
            Format::Xlsx => crate::XLSX_TYPE,
        }
    }

    /// The file name's extension.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A CSV cell as written: text a spreadsheet would take for a formula (starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return, and not a number) is written after a `'`, so that a
/// name typed by anyone can never run when the file is opened.
fn guarded(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && plain_number(cell).is_none() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// `cell` if it is a plain decimal number (`-16.20`, `+3`), else nothing.
fn plain_number(cell: &str) -> Option<&str> {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let frac = parts.next().unwrap_or("0");
    (!whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit()))
    .then_some(cell)
}

/// Why a table could not be written (it does not happen with text cells).
#[derive(Debug, thiserror::Error)]
#[error("the table could not be written: {0}")]
pub struct WriteError(String);

/// `rows` under `columns` in `format`; `widths` sets XLSX column widths (column, characters).
///
/// # Errors
/// The writer's own failure (not with text cells).
pub fn render<R: AsRef<[String]>>(
    columns: &[Column],
    rows: &[R],
    format: Format,
    widths: &[(u16, f64)],
) -> Result<Vec<u8>, WriteError> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let fail = |e: csv::Error| WriteError(e.to_string());
            w.write_record(columns.iter().map(|(en, _)| *en))
                .map_err(fail)?;
            for r in rows {
                w.write_record(r.as_ref().iter().map(|c| guarded(c).into_owned()))
                    .map_err(fail)?;
            }
            w.into_inner().map_err(|e| WriteError(e.to_string()))
        }
        Format::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            let fail = |e: rust_xlsxwriter::XlsxError| WriteError(e.to_string());
            for (c, (_, zh)) in (0u16..).zip(columns) {
                sheet
                    .write_string_with_format(0, c, *zh, &bold)
                    .map_err(fail)?;
            }
            for (r, row) in (1u32..).zip(rows) {
                for (c, cell) in (0u16..).zip(row.as_ref()) {
                    sheet.write_string(r, c, cell).map_err(fail)?;
                }
            }
            for (c, w) in widths {
                sheet.set_column_width(*c, *w).map_err(fail)?;
            }
            book.save_to_buffer().map_err(fail)
        }
    }
}

/// A sheet of a workbook: its name, its headings, its rows of text cells.
pub type Sheet<'a> = (&'a str, &'a [&'a str], &'a [Vec<String>]);

/// A workbook of several sheets, each headed in bold, its columns `width` characters wide.
///
/// # Errors
/// The writer's own failure (not with text cells).
pub fn workbook(sheets: &[Sheet<'_>], width: f64) -> Result<Vec<u8>, WriteError> {
    let fail = |e: rust_xlsxwriter::XlsxError| WriteError(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (name, headings, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).map_err(fail)?;
        for (c, h) in (0u16..).zip(headings.iter()) {
            sheet
                .write_string_with_format(0, c, *h, &bold)
                .map_err(fail)?;
            sheet.set_column_width(c, width).map_err(fail)?;
        }
        for (r, row) in (1u32..).zip(rows.iter()) {
            for (c, cell) in (0u16..).zip(row) {
                sheet.write_string(r, c, cell).map_err(fail)?;
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_cell_never_runs_as_a_formula() {
        const COLS: [Column; 2] = [("branch", "开户网点"), ("amount", "金额")];
        let rows = vec![
            vec!["=HYPERLINK(\"http://x\")".to_owned(), "-16.20".to_owned()],
            vec!["@SUM(A1)".to_owned(), "3500.00".to_owned()],
            vec!["-1+2".to_owned(), "+7".to_owned()],
        ];
        let text = String::from_utf8(render(&COLS, &rows, Format::Csv, &[]).unwrap()).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("'@SUM"), "{text}");
        assert!(text.contains("'-1+2"), "{text}");
        assert!(
            text.contains(",-16.20") && text.contains(",+7"),
            "numbers are left as they are: {text}"
        );
    }

    #[test]
    fn a_workbooks_first_sheet_reads_back() {
        let rows = vec![vec!["1101".to_owned(), "暂付款".to_owned()]];
        let other = vec![vec!["x".to_owned()]];
        let bytes = workbook(
            &[
                ("科目", &["代码", "名称"], &rows),
                ("其他", &["列"], &other),
            ],
            16.0,
        )
        .unwrap();
        let t = crate::read(&bytes, &crate::Limits::RECEIPTS).unwrap();
        assert_eq!(t[0], ["代码", "名称"]);
        assert_eq!(t[1], ["1101", "暂付款"]);
    }

    #[test]
    fn a_table_written_reads_back_the_same() {
        const COLS: [Column; 2] = [("name", "户名"), ("amount", "金额")];
        let rows = vec![vec!["张三".to_owned(), "3500.00".to_owned()]];
        for format in [Format::Csv, Format::Xlsx] {
            let bytes = render(&COLS, &rows, format, &[(0, 20.0)]).unwrap();
            let t = crate::read(&bytes, &crate::Limits::RECEIPTS).unwrap();
            let cols = crate::Columns::map(&t[0], &COLS, &["name", "amount"]).unwrap();
            assert_eq!(cols.cell(&t[1], "name"), "张三", "{format:?}");
            assert_eq!(cols.cell(&t[1], "amount"), "3500.00", "{format:?}");
        }
    }
}
