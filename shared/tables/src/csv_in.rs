//! UTF-8 CSV text (a byte-order mark skipped), record by record within the limits.

use crate::{Limits, Table, TableError, place, trim};

/// Reads CSV text.
///
/// # Errors
/// `Unreadable` for what is not UTF-8 CSV text; `TooLarge`.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Table, TableError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        TableError::Unreadable("neither an XLSX workbook nor UTF-8 CSV text".into())
    })?;
    if text.contains('\0') {
        return Err(TableError::Unreadable(
            "neither an XLSX workbook nor CSV text".into(),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut table: Table = Vec::new();
    let mut filled = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(TableError::Unreadable(format!("CSV: {e}"))),
        }
        if table.len() >= limits.max_rows {
            return Err(TableError::too_large("rows", limits.max_rows));
        }
        let mut row = Vec::new();
        for (col, field) in record.iter().enumerate() {
            if field.is_empty() {
                continue;
            }
            filled += 1;
            if filled > limits.max_cells {
                return Err(TableError::too_large("non-empty cells", limits.max_cells));
            }
            place(&mut row, col, field.to_owned(), limits)?;
        }
        table.push(row);
    }
    Ok(trim(table))
}
