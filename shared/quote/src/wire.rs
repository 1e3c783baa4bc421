//! The request as it arrives on a line, and the conversions from wire text to rule types
//! (dates, months, China date-times, decimals, money). Every conversion names the field it
//! refuses.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// A request refused before the rules are asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// A stable code (`invalid_request`, `unknown_category`, …).
    pub code: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
}

impl Refused {
    /// An `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Refused {
            code: "invalid_request",
            message: message.into(),
        }
    }
}

/// `{from, to}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Period<'a> {
    #[serde(borrow)]
    pub from: Cow<'a, str>,
    #[serde(borrow)]
    pub to: Cow<'a, str>,
}

/// `{admitted, discharged}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct StayWire<'a> {
    #[serde(borrow)]
    pub admitted: Cow<'a, str>,
    #[serde(borrow)]
    pub discharged: Cow<'a, str>,
}

/// `{month, wage}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct WageWire<'a> {
    #[serde(borrow)]
    pub month: Cow<'a, str>,
    #[serde(borrow)]
    pub wage: Cow<'a, str>,
}

/// `{relation, orphan_or_lone_elder}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DependantWire<'a> {
    #[serde(borrow)]
    pub relation: Cow<'a, str>,
    #[serde(default)]
    pub orphan_or_lone_elder: bool,
}

/// Every field any kind reads; each kind takes the ones QUOTE.md lists for it. Unknown fields are
/// refused, so that a misspelt optional field is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Request<'a> {
    #[serde(borrow)]
    pub id: Option<&'a RawValue>,
    #[serde(borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub category: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub month: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub wage: Option<Cow<'a, str>>,
    pub industry_class: Option<u32>,
    #[serde(borrow)]
    pub rate_band: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub cost: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub on: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub paid_leave: Option<Period<'a>>,
    #[serde(borrow)]
    pub stays: Option<Vec<StayWire<'a>>>,
    #[serde(borrow)]
    pub entered: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub paid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub approved: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub received: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub value: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub birth: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub resident_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub track: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub agreement_end: Option<Cow<'a, str>>,
    pub pays_basic_pension: Option<bool>,
    #[serde(borrow)]
    pub injury_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub wages: Option<Vec<WageWire<'a>>>,
    pub project: Option<bool>,
    #[serde(borrow)]
    pub item: Option<Cow<'a, str>>,
    pub advanced_by_unit: Option<bool>,
    #[serde(borrow)]
    pub premium_income: Option<Cow<'a, str>>,
    pub grade: Option<u32>,
    #[serde(borrow)]
    pub insured_wage: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub fees: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub standard: Option<Cow<'a, str>>,
    pub days: Option<u32>,
    pub outside_area: Option<bool>,
    pub care_level: Option<u32>,
    #[serde(borrow)]
    pub dependants: Option<Vec<DependantWire<'a>>>,
    pub occupational_disease: Option<bool>,
    #[serde(borrow)]
    pub retirement_on: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub paid_leave_months: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub paid_by_work_injury_fund: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub judgment_medical: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub benefit_medical: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub registered: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub effective: Option<Cow<'a, str>>,
    pub division: Option<u32>,
}

/// The field, or `invalid_request` naming it.
pub fn required<'r, T: ?Sized>(v: Option<&'r T>, field: &str) -> Result<&'r T, Refused> {
    v.ok_or_else(|| Refused::invalid(format!("`{field}` is required")))
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`.
pub fn date(s: &str, field: &str) -> Result<NaiveDate, Refused> {
    let b = s.as_bytes();
    let bad = || {
        Refused::invalid(format!(
            "`{field}` must be a date YYYY-MM-DD, got `{}`",
            clip(s)
        ))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, m, d) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..]));
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => {
            NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| bad())?, m, d).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// `YYYY-MM` → its first day.
pub fn month(s: &str, field: &str) -> Result<NaiveDate, Refused> {
    let b = s.as_bytes();
    let bad = || {
        Refused::invalid(format!(
            "`{field}` must be a month YYYY-MM, got `{}`",
            clip(s)
        ))
    };
    if b.len() != 7 || b[4] != b'-' {
        return Err(bad());
    }
    match (digits(&b[..4]), digits(&b[5..])) {
        (Some(y), Some(m)) => {
            NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| bad())?, m, 1).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// China's offset, UTC+8 (no daylight saving since 1991).
const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// A moment as China local time: RFC 3339 with an offset, `YYYY-MM-DDTHH:MM[:SS]` meaning China
/// time, or a bare date meaning its first instant.
pub fn china_datetime(s: &str, field: &str) -> Result<NaiveDateTime, Refused> {
    if s.len() == 10 {
        return Ok(date(s, field)?.and_time(NaiveTime::MIN));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&CHINA).naive_local());
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(dt);
        }
    }
    Err(Refused::invalid(format!(
        "`{field}` must be a date-time (RFC 3339 with an offset, or YYYY-MM-DDTHH:MM China time), got `{}`",
        clip(s)
    )))
}

/// A decimal given as a JSON string.
pub fn decimal(s: &str, field: &str) -> Result<Decimal, Refused> {
    let bad = || {
        Refused::invalid(format!(
            "`{field}` must be a decimal string, got `{}`",
            clip(s)
        ))
    };
    if s.is_empty() || s.len() > 40 || s.contains(['e', 'E', '_']) {
        return Err(bad());
    }
    s.parse::<Decimal>().map_err(|_| bad())
}

/// An amount of money: a non-negative decimal string with at most 2 decimals.
pub fn money(s: &str, field: &str) -> Result<Decimal, Refused> {
    let d = decimal(s, field)?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(Refused::invalid(format!("`{field}` cannot be negative")));
    }
    if d.scale() > 2 {
        return Err(Refused::invalid(format!(
            "`{field}` is money: at most 2 decimals, got `{}`",
            clip(s)
        )));
    }
    Ok(d)
}

/// At most 40 characters of a value for an error message.
pub fn clip(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(40) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_months_and_china_times_parse_strictly() {
        assert!(date("2025-02-29", "on").is_err());
        assert!(date("2025-2-28", "on").is_err());
        assert_eq!(date("2024-02-29", "on").unwrap().to_string(), "2024-02-29");
        assert!(month("2025-13", "month").is_err());
        assert_eq!(month("2025-12", "m").unwrap().to_string(), "2025-12-01");
        let utc = china_datetime("2025-03-10T17:30:00Z", "x").unwrap();
        assert_eq!(utc.to_string(), "2025-03-11 01:30:00");
        let local = china_datetime("2025-03-10T23:59", "x").unwrap();
        assert_eq!(local.to_string(), "2025-03-10 23:59:00");
        assert!(china_datetime("yesterday", "x").is_err());
    }

    #[test]
    fn money_has_two_decimals_at_most_and_no_sign() {
        assert!(money("10.005", "wage").is_err());
        assert!(money("-1", "wage").is_err());
        assert!(money("1e3", "wage").is_err());
        assert_eq!(money("55.9", "wage").unwrap().to_string(), "55.9");
    }
}
