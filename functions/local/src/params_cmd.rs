//! `swi params`: every parameter in force on a date, with value, source and status, so an
//! operator sees at a glance which figures are assumed or pending.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use swi_platform::params::rows;
use swi_rules::ParamSet;

/// Prints the parameters in force on `on` as a table or as JSON lines.
///
/// # Errors
/// Only writing to `out`.
pub fn print(
    params: &ParamSet,
    on: NaiveDate,
    json: bool,
    overlay: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    let rows = rows(params, on);
    if json {
        for r in &rows {
            serde_json::to_writer(&mut *out, r)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "Parameters in force on {on} ({}):",
        overlay.map_or("built-in set".to_owned(), |f| format!(
            "built-in set merged with {f}"
        ))
    )?;
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    for r in &rows {
        writeln!(out)?;
        writeln!(out, "{:<12} {:<width$}  {}", r.status, r.name, r.value)?;
        writeln!(out, "{:<12} {:<width$}  {}", "", "", r.title)?;
        let from = if r.from.is_empty() {
            String::new()
        } else {
            format!("from {}; ", r.from)
        };
        writeln!(out, "{:<12} {:<width$}  {from}{}", "", "", r.source)?;
    }
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    writeln!(out)?;
    writeln!(
        out,
        "{} figures: {} confirmed, {} secondary, {} assumed, {} pending, {} not in force.",
        rows.len(),
        count("confirmed"),
        count("secondary"),
        count("assumed"),
        count("pending"),
        count("not_in_force")
    )?;
    Ok(())
}
