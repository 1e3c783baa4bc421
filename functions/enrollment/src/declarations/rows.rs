//! Reading and checking a declaration's rows: the table into rows (every unreadable cell
//! reported), then every row against the rules and the unit's roster.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use swi_domain::enrolment::{Status, overlaps};
use swi_platform::pseudonym::PersonKeys;
use swi_platform::{ApiError, Platform};
use swi_registry::enrolment::unit_members;
use swi_rules::ParamSet;
use swi_rules::ids::ResidentId;
use swi_tables::{Columns, RowReport};

use crate::persons::{EnrolPerson, check_request};

/// A row's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowChange {
    /// 增: a joiner.
    Join,
    /// 减: a leaver.
    Leave,
}

/// One data row of a declaration, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Spreadsheet row number (the header is row 1).
    pub line: usize,
    /// Join or leave.
    pub change: RowChange,
    /// The fields a joiner's enrolment needs.
    pub person: EnrolPerson,
}

const COLUMNS: [(&str, &str); 9] = [
    ("action", "变动类型"),
    ("name", "姓名"),
    ("id_number", "公民身份号码"),
    ("category", "人员类别"),
    ("declared_wage", "申报工资"),
    ("date", "变动日期"),
    ("phone", "手机号码"),
    ("track", "退休类别"),
    ("agreement_end", "协议截止日期"),
];

fn date_of(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
        .filter(|d| swi_platform::wire::YEARS.contains(&d.year()))
}

/// Turns a table into rows, reporting every cell that cannot be read.
///
/// # Errors
/// The header row lacks a required column (the file is refused as a whole).
pub fn parse_rows(table: &[Vec<String>]) -> Result<(Vec<Row>, Vec<RowReport>), String> {
    let header = table
        .first()
        .ok_or_else(|| "the file is empty".to_owned())?;
    let required: Vec<&str> = COLUMNS[..7].iter().map(|(en, _)| *en).collect();
    let col = Columns::map(header, &COLUMNS, &required)
        .map_err(|(en, zh)| format!("missing column {zh} ({en})"))?;
    let mut rows = Vec::with_capacity(table.len());
    let mut reports = Vec::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        if swi_tables::columns::blank(cells) {
            continue;
        }
        let line = i + 1;
        let cell = |k: &str| col.cell(cells, k);
        let mut errors = Vec::new();
        let change = match cell("action") {
            "增" | "join" | "增加" => Some(RowChange::Join),
            "减" | "leave" | "减少" => Some(RowChange::Leave),
            other => {
                errors.push(format!(
                    "变动类型须为“增”或“减” — action must be join or leave, not `{}`",
                    swi_platform::wire::clip(other)
                ));
                None
            }
        };
        let wage = match cell("declared_wage") {
            "" => Decimal::ZERO,
            w => swi_platform::wire::plain_amount(w).unwrap_or_else(|| {
                errors.push(
                    "申报工资须为至多两位小数的金额 — declared_wage must be a plain amount with at most 2 decimals"
                        .into(),
                );
                Decimal::ZERO
            }),
        };
        let date = date_of(cell("date")).unwrap_or_else(|| {
            errors.push("变动日期须为 YYYY-MM-DD — date must be YYYY-MM-DD".into());
            NaiveDate::MIN
        });
        let agreement_end = match cell("agreement_end") {
            "" => None,
            s => date_of(s).or_else(|| {
                errors
                    .push("协议截止日期须为 YYYY-MM-DD — agreement_end must be YYYY-MM-DD".into());
                None
            }),
        };
        let track = Some(cell("track"))
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let person = EnrolPerson {
            name: cell("name").to_owned(),
            id_type: "resident_id".into(),
            id_number: cell("id_number").to_ascii_uppercase(),
            phone: cell("phone").to_owned(),
            category: cell("category").to_owned(),
            declared_wage: wage,
            start: date,
            track,
            agreement_end,
            pays_basic_pension: None,
            county: None,
        };
        match (change, errors.is_empty()) {
            (Some(change), true) => rows.push(Row {
                line,
                change,
                person,
            }),
            _ => reports.push(RowReport { row: line, errors }),
        }
    }
    Ok((rows, reports))
}

/// A cover period: first day, and last day when bounded.
pub type Period = (NaiveDate, Option<NaiveDate>);

/// What the unit's roster says of one person.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    /// Person key → their enrolments in this unit (period, status, enrolment id).
    pub members: HashMap<String, Vec<(Period, Status, String)>>,
}

/// Checks every row of a declaration of `month` against the rules and the unit's roster: joiners
/// as enrolments (Art. 6-8) without overlapping cover, leavers as persons covered here; no person
/// twice in one file; dates inside the month.
#[must_use]
pub fn check_rows(
    params: &ParamSet,
    keys: &PersonKeys,
    rows: &[Row],
    month: NaiveDate,
    roster: &Roster,
) -> Vec<RowReport> {
    let mut reports = Vec::new();
    let mut seen: HashSet<String> = HashSet::with_capacity(rows.len());
    for row in rows {
        let mut errors = Vec::new();
        if row.person.start.year() != month.year() || row.person.start.month() != month.month() {
            errors.push(format!(
                "变动日期不在申报月份内 — the date is not in {}",
                month.format("%Y-%m")
            ));
        }
        let pid = match ResidentId::parse(&row.person.id_number) {
            Ok(id) => Some(keys.of(&id)),
            Err(e) => {
                errors.push(format!("公民身份号码不正确 — id_number: {e}"));
                None
            }
        };
        if let Some(pid) = &pid {
            if !seen.insert(pid.clone()) {
                errors.push(
                    "同一人员在文件中出现多次 — the same person appears twice in the file".into(),
                );
            }
            let here = roster
                .members
                .get(pid)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match row.change {
                RowChange::Join => {
                    if let Err(e) = check_request(params, &row.person) {
                        errors.push(format!("{} — {}", e.zh, e.en));
                    } else if here.iter().any(|(period, status, _)| {
                        *status != Status::Terminated && overlaps(*period, (row.person.start, None))
                    }) {
                        errors.push("该人员已在本单位参保 — already enrolled in this unit".into());
                    }
                }
                RowChange::Leave => {
                    let active = here.iter().any(|((start, end), status, _)| {
                        *status != Status::Terminated
                            && *start <= row.person.start
                            && end.is_none_or(|e| row.person.start <= e)
                    });
                    if !active {
                        errors.push(
                            "该人员在本单位无有效参保记录 — not enrolled in this unit on that date"
                                .into(),
                        );
                    }
                }
            }
        }
        if !errors.is_empty() {
            reports.push(RowReport {
                row: row.line,
                errors,
            });
        }
    }
    reports
}

/// The roster of a unit as the checks need it.
///
/// # Errors
/// The store is unavailable.
pub async fn roster_of(p: &Platform, unit: &str) -> Result<Roster, ApiError> {
    let mut roster = Roster::default();
    for m in unit_members(p, unit).await? {
        roster.members.entry(m.person.clone()).or_default().push((
            (m.cover_start.unwrap_or(m.start), m.cover_end),
            m.status,
            m.id.clone(),
        ));
    }
    Ok(roster)
}
