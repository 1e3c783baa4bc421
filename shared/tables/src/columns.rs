//! A header row mapped to known columns: each column has an English identifier and a Chinese
//! heading, and either may head it in the file.

use std::collections::HashMap;

/// A known column: English identifier and Chinese heading.
pub type Column = (&'static str, &'static str);

/// Where each known column is in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    at: HashMap<&'static str, usize>,
}

impl Columns {
    /// Maps `header` onto `known`. Every column of `required` (English identifiers) must be
    /// present; the first missing one is returned as `Err((en, zh))`.
    ///
    /// # Errors
    /// A required column is missing.
    pub fn map(
        header: &[String],
        known: &[Column],
        required: &[&'static str],
    ) -> Result<Self, Column> {
        let mut at = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            let h = h.trim();
            if let Some((en, _)) = known.iter().find(|(en, zh)| h == *en || h == *zh) {
                at.entry(*en).or_insert(i);
            }
        }
        if let Some(missing) = known
            .iter()
            .find(|(en, _)| required.contains(en) && !at.contains_key(en))
        {
            return Err(*missing);
        }
        Ok(Columns { at })
    }

    /// The trimmed cell of column `en` in `row`, or `""`.
    #[must_use]
    pub fn cell<'a>(&self, row: &'a [String], en: &str) -> &'a str {
        self.at
            .get(en)
            .and_then(|&c| row.get(c))
            .map_or("", |s| s.trim())
    }
}

/// Whether a row has nothing in it.
#[must_use]
pub fn blank(row: &[String]) -> bool {
    row.iter().all(|c| c.trim().is_empty())
}
