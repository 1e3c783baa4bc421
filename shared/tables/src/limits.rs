//! The bounds a table is read within. Every one is checked before memory is spent on it, so the
//! cost of a hostile file is bounded by its size on disk, never by what it claims to hold.

/// Bounds on one table file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the file itself.
    pub max_bytes: u64,
    /// Rows, the header included.
    pub max_rows: usize,
    /// Columns of any row.
    pub max_columns: usize,
    /// Non-empty cells in all.
    pub max_cells: usize,
    /// Characters in one cell.
    pub max_cell_chars: usize,
    /// Entries of an XLSX (zip) archive.
    pub max_entries: usize,
    /// Uncompressed bytes of all entries of an XLSX archive.
    pub max_uncompressed: u64,
    /// Uncompressed bytes allowed per byte of the file (a zip bomb packs far more), on top of
    /// [`Limits::ratio_allowance`].
    pub max_ratio: u64,
    /// Uncompressed bytes any file may have whatever its size (small workbooks' fixed parts).
    pub ratio_allowance: u64,
    /// Shared strings of an XLSX workbook.
    pub max_shared_strings: usize,
}

impl Limits {
    /// A monthly declaration or a roster: 100,000 data rows of up to 64 columns in a file of at
    /// most 50 MiB.
    pub const DECLARATION: Limits = Limits {
        max_bytes: 50 << 20,
        max_rows: 100_001,
        max_columns: 64,
        max_cells: 2_000_000,
        max_cell_chars: 1_000,
        max_entries: 200,
        max_uncompressed: 512 << 20,
        max_ratio: 40,
        ratio_allowance: 512 << 10,
        max_shared_strings: 2_000_000,
    };

    /// A file exchanged with the tax bureau (its receipts): 50,000 data rows of up to 32 columns
    /// in a file of at most 20 MiB; each row is checked against its bill as stored.
    pub const RECEIPTS: Limits = Limits {
        max_bytes: 20 << 20,
        max_rows: 50_001,
        max_columns: 32,
        max_cells: 1_000_000,
        max_cell_chars: 200,
        max_entries: 200,
        max_uncompressed: 256 << 20,
        max_ratio: 40,
        ratio_allowance: 512 << 10,
        max_shared_strings: 1_000_000,
    };

    /// The uncompressed bytes allowed for a file of `len` bytes.
    #[must_use]
    pub fn uncompressed_for(&self, len: u64) -> u64 {
        len.saturating_mul(self.max_ratio)
            .saturating_add(self.ratio_allowance)
            .min(self.max_uncompressed)
    }
}
