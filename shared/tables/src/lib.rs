//! Tables in and out, for every step that takes or gives a spreadsheet (monthly declarations,
//! rosters, bills, payment lists):
//!
//! - [`read`]: the first sheet of an XLSX workbook, or UTF-8 CSV text, as rows of text cells —
//!   within [`Limits`] checked **before** anything is allocated to their size: file bytes, zip
//!   entries and their uncompressed size (absolute and per compressed byte), shared strings,
//!   rows, columns, cells and characters per cell. A dimension bomb, a zip bomb or a huge string
//!   is refused with [`TableError::TooLarge`] for a few kilobytes of work.
//! - [`columns::Columns`]: a header row mapped to known columns (Chinese or English headings).
//! - [`report`]: row-by-row problem reports and their XLSX download.
//! - [`write`]: tables out, as CSV or XLSX.

pub mod columns;
mod csv_in;
pub mod limits;
pub mod report;
pub mod write;
mod xlsx_in;
mod zip_guard;

pub use columns::Columns;
pub use limits::Limits;
pub use report::{RowReport, report_xlsx};
pub use write::{Format, Sheet, render, workbook};

/// The media type of XLSX workbooks.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The media type of CSV text.
pub const CSV_TYPE: &str = "text/csv";

/// Rows of text cells; row `i` is spreadsheet row `i + 1`.
pub type Table = Vec<Vec<String>>;

/// Why a file cannot be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Neither an XLSX workbook nor CSV text, or a damaged one.
    #[error("{0}")]
    Unreadable(String),
    /// Past one of the limits (the file is refused as a whole).
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge {
        /// What is too large (e.g. `rows`, `uncompressed size`).
        what: String,
        /// The limit, in its unit.
        limit: u64,
    },
}

impl TableError {
    pub(crate) fn too_large(what: impl Into<String>, limit: impl TryInto<u64>) -> Self {
        TableError::TooLarge {
            what: what.into(),
            limit: limit.try_into().unwrap_or(u64::MAX),
        }
    }
}

/// Reads the first sheet of an XLSX workbook, or UTF-8 CSV text (a byte-order mark is
/// skipped), as rows of text cells, within `limits`. Integral numbers read as integers, dates
/// as `YYYY-MM-DD`; trailing empty cells are dropped.
///
/// # Errors
/// `Unreadable` for anything else; `TooLarge` past a limit.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Table, TableError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(TableError::too_large(
            "file size in bytes",
            limits.max_bytes,
        ));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx_in::read(bytes, limits);
    }
    let scans: [(&[u8], &str); 5] = [
        (b"%PDF-", "a PDF file"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"\x89PNG", "a PNG image"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
    ];
    if let Some((_, what)) = scans.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Err(TableError::Unreadable(format!("the file is {what}")));
    }
    csv_in::read(bytes, limits)
}

/// Appends `cell` at column `col` of `row`, padding with empty cells, within the limits.
pub(crate) fn place(
    row: &mut Vec<String>,
    col: usize,
    cell: String,
    limits: &Limits,
) -> Result<(), TableError> {
    if col >= limits.max_columns {
        return Err(TableError::too_large("columns", limits.max_columns));
    }
    if cell.chars().count() > limits.max_cell_chars {
        return Err(TableError::too_large(
            "characters in one cell",
            limits.max_cell_chars,
        ));
    }
    if row.len() <= col {
        row.resize(col + 1, String::new());
    }
    row[col] = cell;
    Ok(())
}

/// Drops trailing empty cells of every row and trailing empty rows.
pub(crate) fn trim(mut table: Table) -> Table {
    for row in &mut table {
        while row.last().is_some_and(String::is_empty) {
            row.pop();
        }
    }
    while table.last().is_some_and(Vec::is_empty) {
        table.pop();
    }
    table
}
