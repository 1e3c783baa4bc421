//! The first sheet of an XLSX workbook, read cell by cell (never as the dense rectangle the
//! sheet's dimension claims), after [`crate::zip_guard`] has bounded the archive.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};

use crate::{Limits, Table, TableError, place, trim, zip_guard};

fn text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::Int(i) => i.to_string(),
        // Integral numbers (ID numbers typed as numbers, wages) read without a decimal point.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d
            .as_datetime()
            .map_or_else(|| d.to_string(), |dt| dt.date().to_string()),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// Reads the first sheet.
///
/// # Errors
/// `Unreadable`, `TooLarge`.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Table, TableError> {
    zip_guard::check(bytes, limits)?;
    zip_guard::check_shared_strings(bytes, limits)?;
    let mut book = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| TableError::Unreadable(format!("not a readable XLSX workbook: {e}")))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| TableError::Unreadable("the workbook has no sheet".into()))?;
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|e| TableError::Unreadable(format!("the first sheet cannot be read: {e}")))?;
    let mut table: Table = Vec::new();
    let mut filled = 0usize;
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| TableError::Unreadable(format!("the first sheet cannot be read: {e}")))?
    {
        let value = text(cell.get_value());
        if value.is_empty() {
            continue;
        }
        let (row, col) = cell.get_position();
        let (row, col) = (row as usize, col as usize);
        if row >= limits.max_rows {
            return Err(TableError::too_large("rows", limits.max_rows));
        }
        filled += 1;
        if filled > limits.max_cells {
            return Err(TableError::too_large("non-empty cells", limits.max_cells));
        }
        if table.len() <= row {
            table.resize_with(row + 1, Vec::new);
        }
        place(&mut table[row], col, value, limits)?;
    }
    Ok(trim(table))
}
