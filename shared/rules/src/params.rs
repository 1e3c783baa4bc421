//! Parameters: every figure the rules use, as dated data with a source and a status.
//!
//! The built-in set is embedded at build time from `shared/rules/params/*.toml`; a set supplied at
//! run time (the city sets the `pending` values and corrects the others) is merged over it with
//! [`ParamSet::merged`]. A lookup on a date before a parameter's first value is
//! [`RuleError::NotInForce`]; a `pending` value is [`RuleError::ParameterPending`]: never a silent
//! zero. Every lookup made through a [`Trace`] is recorded, so that each answer can say which
//! non-`confirmed` figures it rests on.
//!
//! Pure: parsing embedded text only, no file or network I/O, no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::RuleError;
use crate::citation::Citation;

/// How far a figure can be trusted (FIGURES.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Read in the procedures or in an official text.
    Confirmed,
    /// From secondary publications that agree with each other; verify before go-live.
    Secondary,
    /// No source for the supplementary scheme; a default by analogy, shown wherever used.
    Assumed,
    /// No value at all: a computation that needs it stops and names the parameter.
    Pending,
}

impl Status {
    /// The status word used in files and answers.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Secondary => "secondary",
            Status::Assumed => "assumed",
            Status::Pending => "pending",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a value comes from: a document, its article where it has one, and a note.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document, by its official name or number.
    pub doc: String,
    /// The article (第N条), where the document has articles.
    #[serde(default)]
    pub article: Option<u16>,
    /// What else a reader needs: the analogy used, the secondary sources, the annex.
    #[serde(default)]
    pub note: Option<String>,
    /// A value the city set at run time (a city parameter, `doc` its notice's number): every
    /// answer that uses it names it among its assumptions, although its status is `confirmed`.
    #[serde(default)]
    pub city: bool,
    /// The rendered text, made once on first use (answers quote it on every line).
    #[serde(skip)]
    label: OnceLock<String>,
}

impl Source {
    /// A source citing `doc`, its article and a note.
    #[must_use]
    pub fn new(doc: impl Into<String>, article: Option<u16>, note: Option<String>) -> Self {
        Source {
            doc: doc.into(),
            article,
            note,
            city: false,
            label: OnceLock::new(),
        }
    }

    /// The source as one line of text, e.g. `赣市人社字〔2025〕7号 第十四条 (note)`.
    #[must_use]
    pub fn label(&self) -> &str {
        self.label.get_or_init(|| self.to_string())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.doc)?;
        if let Some(n) = self.article {
            write!(f, " 第{}条", crate::citation::chinese_numeral(u32::from(n)))?;
        }
        if let Some(note) = &self.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

/// A parameter's value: one decimal, or a list indexed by class or grade.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// One figure.
    Scalar(Decimal),
    /// One figure per index (industry class, grade, …), starting at the parameter's `index.first`.
    List(Vec<Decimal>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(d) => write!(f, "{d}"),
            Value::List(v) => {
                f.write_str("[")?;
                for (i, d) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{d}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// One dated value of a parameter: in force from `from` until the next value's `from`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedValue {
    /// First day the value applies (a civil date in China).
    pub from: NaiveDate,
    /// The value; absent exactly when `status` is `pending`.
    #[serde(default)]
    pub value: Option<Value>,
    /// How far it can be trusted.
    pub status: Status,
    /// Where it comes from.
    pub source: Source,
}

/// What a parameter's values measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A ratio such as a rate (`0.0026` = 0.26 %).
    Fraction,
    /// Yuan.
    Yuan,
    /// Yuan per day.
    YuanPerDay,
    /// A number of months (of wages).
    Months,
    /// Days.
    Days,
    /// Working days.
    WorkingDays,
    /// Hours.
    Hours,
    /// Minutes.
    Minutes,
    /// A count of cases.
    Count,
    /// Years of age.
    Years,
    /// A day of the month.
    DayOfMonth,
    /// A multiple of another figure.
    Multiple,
    /// A disability grade (伤残等级 1-10).
    Grade,
    /// A reading that applies (`1`) or does not (`0`).
    Flag,
}

impl Unit {
    /// The unit's name as written in the data files.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Fraction => "fraction",
            Unit::Yuan => "yuan",
            Unit::YuanPerDay => "yuan_per_day",
            Unit::Months => "months",
            Unit::Days => "days",
            Unit::WorkingDays => "working_days",
            Unit::Hours => "hours",
            Unit::Minutes => "minutes",
            Unit::Count => "count",
            Unit::Years => "years",
            Unit::DayOfMonth => "day_of_month",
            Unit::Multiple => "multiple",
            Unit::Grade => "grade",
            Unit::Flag => "flag",
        }
    }
}

/// How a date selects a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// The latest value whose `from` is on or before the date (an amendment adds a dated value).
    #[default]
    InForce,
    /// Only the value dated 1 January of the year asked for (yearly statistics); no fallback.
    SameYear,
}

/// What the positions of a list value stand for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// What indexes the list: `industry_class`, `grade`, `care_level`.
    pub name: String,
    /// The key of the list's first element (1 for classes, 5 for grades 5-10, …).
    pub first: u32,
}

/// One parameter: its meaning and its dated values.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// What it is, in Chinese and English.
    pub title: String,
    /// What its values measure.
    pub unit: Unit,
    /// For list values: what the positions stand for.
    pub index: Option<Index>,
    /// How a date selects a value.
    pub lookup: Lookup,
    /// Dated values, `from` strictly ascending.
    pub values: Vec<DatedValue>,
}

/// A legal retirement age track and its gradual rise (FIGURES §D).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetirementRule {
    /// The parameter's name, `retirement.<track>` (set when the file is read).
    #[serde(skip)]
    pub name: String,
    /// What the track is.
    pub title: String,
    /// The retirement age of cohorts born before `first_cohort`, in years.
    pub original_age: u32,
    /// The age the reform rises to, in years.
    pub target_age: u32,
    /// The first birth month (`YYYY-MM`) whose retirement is delayed.
    pub first_cohort: String,
    /// Months of births per month of delay (4 or 2).
    pub months_per_step: u32,
    /// How far it can be trusted.
    pub status: Status,
    /// Where it comes from.
    pub source: Source,
}

impl RetirementRule {
    /// `first_cohort` as (year, month).
    ///
    /// # Errors
    /// A malformed `first_cohort` (caught by [`ParamSet::validate`]).
    pub fn first_cohort_month(&self) -> Result<(i32, u32), String> {
        parse_month(&self.first_cohort)
    }
}

/// The working-day calendar of one year (FIGURES §C).
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarYear {
    /// Its name among the figures used: `calendar.YYYY`.
    pub name: String,
    /// The year.
    pub year: i32,
    /// Public holidays (法定节假日及调休放假日).
    pub holidays: BTreeSet<NaiveDate>,
    /// Make-up working days on weekends (调休上班).
    pub workdays: BTreeSet<NaiveDate>,
    /// How far it can be trusted.
    pub status: Status,
    /// Where it comes from.
    pub source: Source,
    loaded: bool,
    working: Vec<bool>,
}

impl CalendarYear {
    /// Whether `date` (which must lie in this year) is a working day.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.working
            .get(date.ordinal0() as usize)
            .copied()
            .unwrap_or(false)
    }

    /// The number of working days in the year.
    #[must_use]
    pub fn working_days(&self) -> usize {
        self.working.iter().filter(|w| **w).count()
    }

    /// Whether the year's holidays were loaded (from the built-in set, a parameter file or the
    /// city), rather than standing in as Monday-Friday.
    #[must_use]
    pub const fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// The stand-in calendar of a year whose holidays are not loaded: every Monday-Friday is a
    /// working day (FIGURES §C), shown as an `assumed` figure wherever it is used, so that a
    /// deadline is never refused for want of a State Council notice.
    fn weekdays_only(year: i32) -> Result<Self, String> {
        let source = Source::new(
            format!("{year}年部分节假日安排未载入"),
            None,
            Some(format!(
                "the {year} holidays are not loaded: working days are taken as Monday-Friday; \
                 load the year's holidays and make-up days (国务院办公厅关于{year}年部分节假日安排的通知) \
                 as a `[[calendar]]` of the parameter file to replace this"
            )),
        );
        let mut cal = CalendarYear::new(
            year,
            BTreeSet::new(),
            BTreeSet::new(),
            Status::Assumed,
            source,
        )?;
        cal.loaded = false;
        Ok(cal)
    }

    fn new(
        year: i32,
        holidays: BTreeSet<NaiveDate>,
        workdays: BTreeSet<NaiveDate>,
        status: Status,
        source: Source,
    ) -> Result<Self, String> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or("year out of range")?;
        let mut working = Vec::with_capacity(366);
        let mut d = first;
        while d.year() == year {
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            working.push(workdays.contains(&d) || (!weekend && !holidays.contains(&d)));
            d = d.succ_opt().ok_or("date out of range")?;
        }
        Ok(CalendarYear {
            name: format!("calendar.{year}"),
            year,
            holidays,
            workdays,
            status,
            source,
            loaded: true,
            working,
        })
    }
}

/// Errors in a parameter file: the set is refused whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// The text is not valid TOML of the parameter schema.
    #[error("parameter file {file}: {message}")]
    Syntax {
        /// Which file.
        file: String,
        /// What the parser said.
        message: String,
    },
    /// A parameter (or calendar year, or retirement track) breaks a rule of the schema.
    #[error("parameter {name}: {reason}")]
    Invalid {
        /// The parameter, calendar year or track.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

fn invalid(name: impl Into<String>, reason: impl Into<String>) -> ParamError {
    ParamError::Invalid {
        name: name.into(),
        reason: reason.into(),
    }
}

// ---- file schema ----------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParameter {
    title: Option<String>,
    unit: Option<Unit>,
    index: Option<Index>,
    lookup: Option<Lookup>,
    #[serde(default)]
    values: Vec<DatedValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCalendarYear {
    year: i32,
    holidays: Vec<String>,
    workdays: Vec<String>,
    status: Status,
    source: Source,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    param: BTreeMap<String, FileParameter>,
    #[serde(default)]
    calendar: Vec<FileCalendarYear>,
    #[serde(default)]
    retirement: BTreeMap<String, RetirementRule>,
}

/// A complete (or, before merging, partial) set of parameters, calendars and retirement tracks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParamSet {
    params: BTreeMap<String, Parameter>,
    calendar: BTreeMap<i32, CalendarYear>,
    retirement: BTreeMap<String, RetirementRule>,
}

/// The embedded parameter files, in the order they are merged.
pub const BUILTIN_FILES: [(&str, &str); 7] = [
    ("rates.toml", include_str!("../params/rates.toml")),
    ("wages.toml", include_str!("../params/wages.toml")),
    ("terms.toml", include_str!("../params/terms.toml")),
    ("benefits.toml", include_str!("../params/benefits.toml")),
    ("calendar.toml", include_str!("../params/calendar.toml")),
    ("retirement.toml", include_str!("../params/retirement.toml")),
    (
        "supervision.toml",
        include_str!("../params/supervision.toml"),
    ),
];

static BUILTIN: OnceLock<Result<ParamSet, ParamError>> = OnceLock::new();

/// How many years, from [`FALLBACK_FIRST`], a Monday-Friday calendar stands in for.
const FALLBACK_COUNT: usize = 200;

/// The first year a Monday-Friday calendar stands in for.
const FALLBACK_FIRST: i32 = 2000;

/// The years for which a Monday-Friday calendar stands in when none is loaded; a date outside
/// them is `CalendarNotLoaded`.
pub const FALLBACK_YEARS: std::ops::RangeInclusive<i32> =
    FALLBACK_FIRST..=FALLBACK_FIRST + FALLBACK_COUNT as i32 - 1;

/// The stand-in calendars, made on first use (pure: they depend only on the year).
static FALLBACK: [OnceLock<Option<CalendarYear>>; FALLBACK_COUNT] =
    [const { OnceLock::new() }; FALLBACK_COUNT];

impl ParamSet {
    /// The built-in set, parsed once from the embedded files and validated.
    ///
    /// # Errors
    /// Only if the embedded files are broken, which the crate's tests rule out.
    pub fn builtin() -> Result<&'static ParamSet, ParamError> {
        BUILTIN
            .get_or_init(|| {
                let mut set = ParamSet::default();
                for (name, text) in BUILTIN_FILES {
                    let part = ParamSet::parse_file(name, text, None)?;
                    set.absorb(part, false)?;
                }
                set.validate()?;
                Ok(set)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses a run-time parameter file (same schema as the embedded ones) and returns the
    /// built-in set with it merged over: values with the same `from` are replaced, others added;
    /// a calendar year or retirement track given replaces the built-in one. Names unknown to the
    /// built-in set are refused (a typo must not go unnoticed).
    ///
    /// # Errors
    /// Syntax errors, unknown names, and any rule of [`ParamSet::validate`] broken by the result.
    pub fn merged(&self, file: &str, text: &str) -> Result<ParamSet, ParamError> {
        let overlay = ParamSet::parse_file(file, text, Some(self))?;
        let mut set = self.clone();
        set.absorb(overlay, true)?;
        set.validate()?;
        Ok(set)
    }

    fn parse_file(file: &str, text: &str, base: Option<&ParamSet>) -> Result<ParamSet, ParamError> {
        let raw: File = toml::from_str(text).map_err(|e| ParamError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let mut set = ParamSet::default();
        for (name, p) in raw.param {
            let inherited = base.and_then(|b| b.params.get(&name));
            if base.is_some() && inherited.is_none() {
                return Err(invalid(
                    &name,
                    "unknown parameter (not in the built-in set)",
                ));
            }
            let title = p
                .title
                .or_else(|| inherited.map(|i| i.title.clone()))
                .ok_or_else(|| invalid(&name, "missing title"))?;
            let unit = p
                .unit
                .or(inherited.map(|i| i.unit))
                .ok_or_else(|| invalid(&name, "missing unit"))?;
            let index = p.index.or_else(|| inherited.and_then(|i| i.index.clone()));
            let lookup = p.lookup.or(inherited.map(|i| i.lookup)).unwrap_or_default();
            set.params.insert(
                name,
                Parameter {
                    title,
                    unit,
                    index,
                    lookup,
                    values: p.values,
                },
            );
        }
        for y in raw.calendar {
            let name = format!("calendar.{}", y.year);
            let holidays = expand_dates(&y.holidays).map_err(|e| invalid(&name, e))?;
            let workdays = expand_dates(&y.workdays).map_err(|e| invalid(&name, e))?;
            let cal = CalendarYear::new(y.year, holidays, workdays, y.status, y.source)
                .map_err(|e| invalid(&name, e))?;
            if set.calendar.insert(y.year, cal).is_some() {
                return Err(invalid(&name, "given twice"));
            }
        }
        for (name, mut r) in raw.retirement {
            r.name = format!("retirement.{name}");
            if base.is_some_and(|b| !b.retirement.contains_key(&name)) {
                return Err(invalid(&r.name, "unknown retirement track"));
            }
            set.retirement.insert(name, r);
        }
        Ok(set)
    }

    fn absorb(&mut self, other: ParamSet, overlay: bool) -> Result<(), ParamError> {
        for (name, p) in other.params {
            match self.params.get_mut(&name) {
                Some(existing) if overlay => {
                    existing.title = p.title;
                    existing.unit = p.unit;
                    existing.index = p.index;
                    existing.lookup = p.lookup;
                    for v in p.values {
                        match existing.values.iter_mut().find(|e| e.from == v.from) {
                            Some(e) => *e = v,
                            None => existing.values.push(v),
                        }
                    }
                    existing.values.sort_by_key(|v| v.from);
                }
                Some(_) => return Err(invalid(&name, "defined in two built-in files")),
                None => {
                    self.params.insert(name, p);
                }
            }
        }
        for (year, cal) in other.calendar {
            if self.calendar.insert(year, cal).is_some() && !overlay {
                return Err(invalid(format!("calendar.{year}"), "defined twice"));
            }
        }
        for (name, r) in other.retirement {
            if self.retirement.insert(name.clone(), r).is_some() && !overlay {
                return Err(invalid(format!("retirement.{name}"), "defined twice"));
            }
        }
        Ok(())
    }

    /// Checks every rule of the schema: values present, `from` strictly ascending, every value
    /// sourced, `pending` exactly when there is no value, list lengths constant, yearly values
    /// dated 1 January, calendars consistent, retirement tracks sane.
    ///
    /// # Errors
    /// The first broken rule, naming the parameter.
    pub fn validate(&self) -> Result<(), ParamError> {
        for (name, p) in &self.params {
            if p.title.trim().is_empty() {
                return Err(invalid(name, "empty title"));
            }
            if p.values.is_empty() {
                return Err(invalid(name, "no values"));
            }
            let mut shape: Option<usize> = None;
            for (i, v) in p.values.iter().enumerate() {
                if i > 0 && p.values[i - 1].from >= v.from {
                    return Err(invalid(
                        name,
                        "values must have strictly ascending `from` dates",
                    ));
                }
                if v.source.doc.trim().is_empty() {
                    return Err(invalid(
                        name,
                        format!("value from {} has no source", v.from),
                    ));
                }
                if p.lookup == Lookup::SameYear && v.from.ordinal() != 1 {
                    return Err(invalid(name, "yearly values must be dated 1 January"));
                }
                match (&v.value, v.status) {
                    (None, Status::Pending) => {}
                    (None, _) => {
                        return Err(invalid(
                            name,
                            format!("value from {} is missing but not `pending`", v.from),
                        ));
                    }
                    (Some(_), Status::Pending) => {
                        return Err(invalid(
                            name,
                            format!("value from {} is set but marked `pending`", v.from),
                        ));
                    }
                    (Some(Value::Scalar(d)), _) => {
                        if p.index.is_some() {
                            return Err(invalid(name, "indexed parameter needs a list value"));
                        }
                        if d.is_sign_negative() {
                            return Err(invalid(name, "negative value"));
                        }
                        if p.unit == Unit::Flag && *d != Decimal::ZERO && *d != Decimal::ONE {
                            return Err(invalid(name, "a flag is 1 (applies) or 0 (does not)"));
                        }
                        let whole = d.normalize();
                        if p.unit == Unit::Grade
                            && !(whole.scale() == 0 && (1..=10).contains(&whole.mantissa()))
                        {
                            return Err(invalid(name, "a grade is a whole number 1-10"));
                        }
                    }
                    (Some(Value::List(l)), _) => {
                        if p.index.is_none() {
                            return Err(invalid(name, "list value needs an `index`"));
                        }
                        if l.is_empty() || l.iter().any(Decimal::is_sign_negative) {
                            return Err(invalid(name, "list must be non-empty and non-negative"));
                        }
                        if *shape.get_or_insert(l.len()) != l.len() {
                            return Err(invalid(name, "list values change length between dates"));
                        }
                    }
                }
            }
        }
        for (year, cal) in &self.calendar {
            let name = format!("calendar.{year}");
            if cal.source.doc.trim().is_empty() {
                return Err(invalid(&name, "no source"));
            }
            for d in cal.holidays.iter().chain(&cal.workdays) {
                if d.year() != *year {
                    return Err(invalid(&name, format!("{d} is not in {year}")));
                }
            }
            if let Some(d) = cal.holidays.intersection(&cal.workdays).next() {
                return Err(invalid(
                    &name,
                    format!("{d} is both a holiday and a working day"),
                ));
            }
            if let Some(d) = cal
                .workdays
                .iter()
                .find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            {
                return Err(invalid(
                    &name,
                    format!("make-up working day {d} is not a weekend"),
                ));
            }
        }
        if let (Some(first), Some(last)) =
            (self.calendar.keys().next(), self.calendar.keys().last())
            && (last - first + 1) as usize != self.calendar.len()
        {
            return Err(invalid("calendar", "years must be contiguous"));
        }
        for (name, r) in &self.retirement {
            let n = format!("retirement.{name}");
            if r.target_age < r.original_age || r.months_per_step == 0 {
                return Err(invalid(&n, "target age below original age, or zero step"));
            }
            r.first_cohort_month().map_err(|e| invalid(&n, e))?;
            if r.source.doc.trim().is_empty() {
                return Err(invalid(&n, "no source"));
            }
        }
        Ok(())
    }

    /// Every parameter by name, in name order.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, &Parameter)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// One parameter by name.
    #[must_use]
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.params.get(name)
    }

    /// The loaded calendar years.
    pub fn calendar_years(&self) -> impl Iterator<Item = &CalendarYear> {
        self.calendar.values()
    }

    /// The calendar of one year: the loaded one, else the Monday-Friday stand-in
    /// ([`CalendarYear::is_loaded`] tells which; its status is `assumed`).
    ///
    /// # Errors
    /// [`RuleError::CalendarNotLoaded`] only for a year outside [`FALLBACK_YEARS`].
    pub fn calendar_year(&self, year: i32) -> Result<&CalendarYear, RuleError> {
        if let Some(cal) = self.calendar.get(&year) {
            return Ok(cal);
        }
        usize::try_from(year - FALLBACK_FIRST)
            .ok()
            .and_then(|i| FALLBACK.get(i))
            .and_then(|slot| {
                slot.get_or_init(|| CalendarYear::weekdays_only(year).ok())
                    .as_ref()
            })
            .ok_or(RuleError::CalendarNotLoaded { year })
    }

    /// The retirement tracks by name (`male`, `female_50`, `female_55`).
    pub fn retirement_rules(&self) -> impl Iterator<Item = (&str, &RetirementRule)> {
        self.retirement.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The value of `name` that applies on `on`, with its key borrowed from the set.
    ///
    /// # Errors
    /// `NotInForce` before the first value; `ParameterPending` for a pending value;
    /// `UnknownParameter` for a name not in the set (a programming error).
    pub fn value_on(&self, name: &str, on: NaiveDate) -> Result<Found<'_>, RuleError> {
        let (key, p) = self
            .params
            .get_key_value(name)
            .ok_or_else(|| RuleError::UnknownParameter(name.to_owned()))?;
        let entry = match p.lookup {
            Lookup::InForce => p.values.iter().rev().find(|v| v.from <= on),
            Lookup::SameYear => p.values.iter().find(|v| v.from.year() == on.year()),
        };
        let Some(entry) = entry else {
            let first = p.values.first().map(|v| v.from);
            return Err(
                if p.lookup == Lookup::SameYear && first.is_some_and(|f| f <= on) {
                    RuleError::ParameterPending {
                        parameter: key.clone(),
                        on,
                    }
                } else {
                    RuleError::NotInForce {
                        parameter: key.clone(),
                        on,
                        first,
                    }
                },
            );
        };
        let Some(value) = &entry.value else {
            return Err(RuleError::ParameterPending {
                parameter: key.clone(),
                on,
            });
        };
        Ok(Found {
            name: key,
            parameter: p,
            entry,
            value,
        })
    }

    /// The retirement track `name`.
    ///
    /// # Errors
    /// `UnknownParameter` when the track is not in the set.
    pub fn retirement(&self, name: &str) -> Result<(&str, &RetirementRule), RuleError> {
        self.retirement
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| RuleError::UnknownParameter(format!("retirement.{name}")))
    }
}

/// A value found for a date.
#[derive(Debug, Clone, Copy)]
pub struct Found<'p> {
    /// The parameter's name.
    pub name: &'p str,
    /// The parameter.
    pub parameter: &'p Parameter,
    /// The dated value that applies.
    pub entry: &'p DatedValue,
    /// Its value (never pending).
    pub value: &'p Value,
}

/// A figure a determination rests on, for its `assumptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Used<'p> {
    /// The parameter (or `calendar.YYYY`, `retirement.TRACK`).
    pub parameter: &'p str,
    /// Its status.
    pub status: Status,
    /// Its source.
    pub source: &'p Source,
}

/// The answer of a rule: the value, the articles applied and the figures used.
#[derive(Debug, Clone, PartialEq)]
pub struct Determination<'p, T> {
    /// The value determined.
    pub value: T,
    /// The provisions applied, in the order they were applied.
    pub basis: Vec<Citation>,
    /// Every figure used.
    pub used: Vec<Used<'p>>,
}

impl<'p, T> Determination<'p, T> {
    /// The figures used that are not `confirmed`, and those the city set (named by the
    /// notice's number), so that every answer says which values it rests on.
    pub fn assumptions(&self) -> impl Iterator<Item = &Used<'p>> {
        self.used
            .iter()
            .filter(|u| u.status != Status::Confirmed || u.source.city)
    }

    /// The weakest status among the figures used (`confirmed` when none was used).
    #[must_use]
    pub fn status(&self) -> Status {
        self.used
            .iter()
            .map(|u| u.status)
            .max()
            .unwrap_or(Status::Confirmed)
    }

    /// The same determination with its value transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Determination<'p, U> {
        Determination {
            value: f(self.value),
            basis: self.basis,
            used: self.used,
        }
    }
}

/// Collects the basis and the figures used while a rule computes.
#[derive(Debug)]
pub struct Trace<'p> {
    params: &'p ParamSet,
    basis: Vec<Citation>,
    used: Vec<Used<'p>>,
}

impl<'p> Trace<'p> {
    /// Starts a trace citing `basis`.
    #[must_use]
    pub fn new(params: &'p ParamSet, basis: &[Citation]) -> Self {
        let mut own = Vec::with_capacity(basis.len() + 3);
        own.extend_from_slice(basis);
        Trace {
            params,
            basis: own,
            used: Vec::with_capacity(4),
        }
    }

    /// The parameter set the trace reads.
    #[must_use]
    pub fn params(&self) -> &'p ParamSet {
        self.params
    }

    /// Adds a provision to the basis (once).
    pub fn cite(&mut self, c: Citation) {
        if !self.basis.contains(&c) {
            self.basis.push(c);
        }
    }

    fn record(&mut self, u: Used<'p>) {
        if !self.used.iter().any(|e| e.parameter == u.parameter) {
            self.used.push(u);
        }
    }

    fn found(&mut self, name: &str, on: NaiveDate) -> Result<Found<'p>, RuleError> {
        let f = self.params.value_on(name, on)?;
        self.record(Used {
            parameter: f.name,
            status: f.entry.status,
            source: &f.entry.source,
        });
        Ok(f)
    }

    /// Records the figures a sub-determination used.
    pub fn adopt(&mut self, used: &[Used<'p>]) {
        for u in used {
            self.record(*u);
        }
    }

    /// A scalar parameter's value on `on`.
    ///
    /// # Errors
    /// See [`ParamSet::value_on`]; a list parameter asked as a scalar is `UnknownParameter`.
    pub fn scalar(&mut self, name: &str, on: NaiveDate) -> Result<Decimal, RuleError> {
        match self.found(name, on)?.value {
            Value::Scalar(d) => Ok(*d),
            Value::List(_) => Err(RuleError::UnknownParameter(format!("{name} (is a list)"))),
        }
    }

    /// The element `key` (class, grade, …) of a list parameter on `on`.
    ///
    /// # Errors
    /// See [`ParamSet::value_on`]; a key outside the list is `InvalidFacts`.
    pub fn item(&mut self, name: &str, on: NaiveDate, key: u32) -> Result<Decimal, RuleError> {
        let f = self.found(name, on)?;
        let first = f.parameter.index.as_ref().map_or(0, |i| i.first);
        match f.value {
            Value::List(l) => key
                .checked_sub(first)
                .and_then(|i| l.get(i as usize))
                .copied()
                .ok_or_else(|| {
                    let what = f
                        .parameter
                        .index
                        .as_ref()
                        .map_or("index", |i| i.name.as_str());
                    RuleError::InvalidFacts(format!(
                        "{what} {key} is outside {first}..={} for {name}",
                        first as usize + l.len() - 1
                    ))
                }),
            Value::Scalar(_) => Err(RuleError::UnknownParameter(format!("{name} (not a list)"))),
        }
    }

    /// The retirement track `name`, recorded as used.
    ///
    /// # Errors
    /// `UnknownParameter` when the set has no such track.
    pub fn retirement(&mut self, name: &str) -> Result<&'p RetirementRule, RuleError> {
        let (_, rule) = self.params.retirement(name)?;
        self.record(Used {
            parameter: &rule.name,
            status: rule.status,
            source: &rule.source,
        });
        Ok(rule)
    }

    /// The calendar of `year`, recorded as used (a year not loaded stands in as Monday-Friday,
    /// `assumed`).
    ///
    /// # Errors
    /// `CalendarNotLoaded` for a year outside [`FALLBACK_YEARS`].
    pub fn calendar(&mut self, year: i32) -> Result<&'p CalendarYear, RuleError> {
        let cal = self.params.calendar_year(year)?;
        self.record(Used {
            parameter: &cal.name,
            status: cal.status,
            source: &cal.source,
        });
        Ok(cal)
    }

    /// Ends the trace with the value determined.
    #[must_use]
    pub fn finish<T>(self, value: T) -> Determination<'p, T> {
        Determination {
            value,
            basis: self.basis,
            used: self.used,
        }
    }
}

/// Parses `YYYY-MM`.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_month(s: &str) -> Result<(i32, u32), String> {
    let bad = || format!("`{s}` is not a month YYYY-MM");
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok((y, m))
}

/// Expands `["2025-01-01", "2025-01-28..2025-02-04"]` into the set of dates.
fn expand_dates(items: &[String]) -> Result<BTreeSet<NaiveDate>, String> {
    let parse = |s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("bad date `{s}`"))
    };
    let mut out = BTreeSet::new();
    for item in items {
        match item.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (parse(a)?, parse(b)?);
                if b < a {
                    return Err(format!("range `{item}` ends before it starts"));
                }
                let mut d = a;
                while d <= b {
                    out.insert(d);
                    d = d.succ_opt().ok_or("date out of range")?;
                }
            }
            None => {
                out.insert(parse(item)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn builtin_set_loads_and_validates() {
        let set = ParamSet::builtin().unwrap();
        assert!(set.parameters().count() > 20);
        set.validate().unwrap();
    }

    #[test]
    fn every_value_is_sourced_and_dates_ascend() {
        let set = ParamSet::builtin().unwrap();
        for (name, p) in set.parameters() {
            assert!(!p.values.is_empty(), "{name}");
            for w in p.values.windows(2) {
                assert!(w[0].from < w[1].from, "{name}");
            }
            for v in &p.values {
                assert!(!v.source.doc.is_empty(), "{name} from {}", v.from);
            }
        }
    }

    #[test]
    fn each_loaded_calendar_year_has_248_working_days() {
        let set = ParamSet::builtin().unwrap();
        let years: Vec<i32> = set.calendar_years().map(|c| c.year).collect();
        assert_eq!(years, vec![2025, 2026]);
        for cal in set.calendar_years() {
            assert_eq!(cal.working_days(), 248, "{}", cal.year);
        }
    }

    #[test]
    fn a_date_before_the_first_value_is_not_in_force_never_zero() {
        let set = ParamSet::builtin().unwrap();
        let err = set.value_on("rate.project", d("2024-12-31")).unwrap_err();
        assert!(matches!(err, RuleError::NotInForce { .. }), "{err:?}");
        assert!(set.value_on("rate.project", d("2025-01-01")).is_ok());
    }

    #[test]
    fn a_pending_parameter_is_an_error_naming_it() {
        let set = ParamSet::builtin().unwrap();
        let err = set
            .value_on("benefit.wage_subsidy.ratio", d("2025-06-01"))
            .unwrap_err();
        assert_eq!(
            err,
            RuleError::ParameterPending {
                parameter: "benefit.wage_subsidy.ratio".into(),
                on: d("2025-06-01")
            }
        );
    }

    #[test]
    fn a_yearly_statistic_has_no_silent_fallback() {
        let set = ParamSet::builtin().unwrap();
        assert!(
            set.value_on("disposable_income.national_urban", d("2024-05-01"))
                .is_ok()
        );
        let err = set
            .value_on("disposable_income.national_urban", d("2031-05-01"))
            .unwrap_err();
        assert!(matches!(err, RuleError::ParameterPending { .. }), "{err:?}");
    }

    #[test]
    fn a_run_time_set_fills_a_pending_value_and_amends_by_date() {
        let base = ParamSet::builtin().unwrap();
        let overlay = r#"
            [[param."benefit.wage_subsidy.ratio".values]]
            from = "2025-01-01"
            value = "0.5"
            status = "confirmed"
            source = { doc = "赣州市社会保险服务中心 设定" }

            [[param."average_wage.jiangxi".values]]
            from = "2026-07-01"
            value = "6700"
            status = "confirmed"
            source = { doc = "江西省统计局 公报" }
        "#;
        let set = base.merged("city.toml", overlay).unwrap();
        let f = set
            .value_on("benefit.wage_subsidy.ratio", d("2025-06-01"))
            .unwrap();
        assert_eq!(f.value, &Value::Scalar(Decimal::new(5, 1)));
        let before = set
            .value_on("average_wage.jiangxi", d("2026-06-30"))
            .unwrap();
        let after = set
            .value_on("average_wage.jiangxi", d("2026-07-01"))
            .unwrap();
        assert_eq!(before.value, &Value::Scalar(Decimal::from(6525)));
        assert_eq!(after.value, &Value::Scalar(Decimal::from(6700)));
    }

    #[test]
    fn a_run_time_set_with_an_unknown_name_or_no_source_is_refused_whole() {
        let base = ParamSet::builtin().unwrap();
        let typo = r#"
            [[param."rate.specal".values]]
            from = "2025-01-01"
            value = "0.5"
            status = "confirmed"
            source = { doc = "x" }
        "#;
        assert!(matches!(
            base.merged("x.toml", typo),
            Err(ParamError::Invalid { .. })
        ));
        let unsourced = r#"
            [[param."rate.project".values]]
            from = "2026-01-01"
            value = "0.0007"
            status = "confirmed"
            source = { doc = " " }
        "#;
        assert!(base.merged("x.toml", unsourced).is_err());
        let pending_with_value = r#"
            [[param."rate.project".values]]
            from = "2026-01-01"
            value = "0.0007"
            status = "pending"
            source = { doc = "x" }
        "#;
        assert!(base.merged("x.toml", pending_with_value).is_err());
        assert!(base.merged("x.toml", "not toml [").is_err());
    }
}
