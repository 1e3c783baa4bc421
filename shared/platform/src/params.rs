//! The parameter set a process starts with: the built-in set (`swi_rules::ParamSet::builtin`),
//! merged with the file `--params`/`SWI_PARAMS` names, where the city sets pending figures and
//! corrects others.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use swi_rules::params::{Lookup, Status};
use swi_rules::{ParamSet, RuleError};

/// The built-in set, merged with `file` when given.
///
/// # Errors
/// The file cannot be read, or its values fail the parameter checks (it is refused whole).
pub fn load(file: Option<&Path>) -> Result<ParamSet, String> {
    let builtin =
        ParamSet::builtin().map_err(|e| format!("the built-in parameter set is broken: {e}"))?;
    let Some(path) = file else {
        return Ok(builtin.clone());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read parameter file {}: {e}", path.display()))?;
    builtin
        .merged(&path.display().to_string(), &text)
        .map_err(|e| format!("parameter file {} refused: {e}", path.display()))
}

/// One parameter (or retirement track, or the year's calendar) as in force on a date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Row {
    /// The parameter's name.
    #[serde(rename = "parameter")]
    pub name: String,
    /// `confirmed`, `secondary`, `assumed`, `pending`, `not_in_force`, `not_loaded`.
    pub status: String,
    /// The value in force, with its unit.
    pub value: String,
    /// In force from.
    pub from: String,
    /// Its source (document and article; a city value names its document number).
    pub source: String,
    /// What it is.
    pub title: String,
}

/// Every parameter in force on `on`, with value, status and source.
#[must_use]
pub fn rows(params: &ParamSet, on: NaiveDate) -> Vec<Row> {
    let mut rows = Vec::new();
    for (name, p) in params.parameters() {
        let lookup_on = match p.lookup {
            // Yearly statistics are listed by the year before `on`: the figure a death on `on`
            // would use.
            Lookup::SameYear => NaiveDate::from_ymd_opt(on.year() - 1, 1, 1).unwrap_or(on),
            Lookup::InForce => on,
        };
        let chosen = match p.lookup {
            Lookup::InForce => p.values.iter().rev().find(|v| v.from <= lookup_on),
            Lookup::SameYear => p.values.iter().find(|v| v.from.year() == lookup_on.year()),
        };
        let unit = p.unit.as_str();
        let index = p
            .index
            .as_ref()
            .map(|i| format!(" by {} from {}", i.name, i.first))
            .unwrap_or_default();
        let row = match (chosen, params.value_on(name, lookup_on)) {
            (Some(v), Ok(found)) => Row {
                status: v.status.to_string(),
                name: name.to_owned(),
                value: format!("{} {unit}{index}", found.value),
                from: v.from.to_string(),
                source: v.source.to_string(),
                title: p.title.clone(),
            },
            (Some(v), Err(_)) => Row {
                status: Status::Pending.to_string(),
                name: name.to_owned(),
                value: "— (to be set by the city)".to_owned(),
                from: v.from.to_string(),
                source: v.source.to_string(),
                title: p.title.clone(),
            },
            (None, Err(RuleError::ParameterPending { .. })) => Row {
                status: Status::Pending.to_string(),
                name: name.to_owned(),
                value: format!("— (no value for {})", lookup_on.year()),
                from: String::new(),
                source: p
                    .values
                    .last()
                    .map(|v| v.source.to_string())
                    .unwrap_or_default(),
                title: p.title.clone(),
            },
            (None, _) => Row {
                status: "not_in_force".to_owned(),
                name: name.to_owned(),
                value: "—".to_owned(),
                from: p
                    .values
                    .first()
                    .map(|v| v.from.to_string())
                    .unwrap_or_default(),
                source: p
                    .values
                    .first()
                    .map(|v| v.source.to_string())
                    .unwrap_or_default(),
                title: p.title.clone(),
            },
        };
        rows.push(row);
    }
    for (track, r) in params.retirement_rules() {
        rows.push(Row {
            status: r.status.to_string(),
            name: format!("retirement.{track}"),
            value: format!(
                "{} → {} years, +1 month per {} months of birth from {}",
                r.original_age, r.target_age, r.months_per_step, r.first_cohort
            ),
            from: String::new(),
            source: r.source.to_string(),
            title: r.title.clone(),
        });
    }
    match params.calendar_year(on.year()) {
        Ok(cal) if !cal.is_loaded() => rows.push(Row {
            status: cal.status.to_string(),
            name: cal.name.clone(),
            value: format!(
                "{} working days: Monday-Friday, the year's holidays not loaded",
                cal.working_days()
            ),
            from: format!("{}-01-01", cal.year),
            source: cal.source.to_string(),
            title: "工作日历 Working-day calendar".to_owned(),
        }),
        Ok(cal) => rows.push(Row {
            status: cal.status.to_string(),
            name: format!("calendar.{}", cal.year),
            value: format!(
                "{} working days ({} holidays, {} make-up working days)",
                cal.working_days(),
                cal.holidays.len(),
                cal.workdays.len()
            ),
            from: format!("{}-01-01", cal.year),
            source: cal.source.to_string(),
            title: "工作日历 Working-day calendar".to_owned(),
        }),
        Err(_) => rows.push(Row {
            status: "not_loaded".to_owned(),
            name: format!("calendar.{}", on.year()),
            value: "— (outside the years a calendar can stand in for: terms answer calendar_not_loaded)".to_owned(),
            from: String::new(),
            source: String::new(),
            title: "工作日历 Working-day calendar".to_owned(),
        }),
    }
    rows
}
