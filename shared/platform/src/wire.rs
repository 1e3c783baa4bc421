//! Field checks at the edge of every step's API: each names the field it refuses.

use crate::ApiError;
use rust_decimal::Decimal;
use swi_rules::category::IndustryClass;

/// A name or short text: 1-100 characters, no control characters, not blank.
///
/// # Errors
/// 400 naming the field.
pub fn name(v: &str, field: &str) -> Result<(), ApiError> {
    let n = v.chars().count();
    if v.trim().is_empty() || n > 100 || v.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            format!("{field} 须为 1-100 个字符"),
            format!("`{field}` must be 1-100 characters without control characters"),
        ));
    }
    Ok(())
}

/// An identifier-like token: 1-64 letters, digits, `-`, `_`, `/`.
///
/// # Errors
/// 400 naming the field.
pub fn token(v: &str, field: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            format!("{field} 格式不正确"),
            format!("`{field}` must be 1-64 letters, digits, - _ /"),
        ))
    }
}

/// An account's subject as an identity provider issues it (OpenID Connect `sub`: a case-
/// sensitive string of at most 255 ASCII characters; `local:<name>` for a local account):
/// printable ASCII without spaces.
///
/// # Errors
/// 400 naming the field.
pub fn subject(v: &str, field: &str) -> Result<(), ApiError> {
    let ok = (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            format!("{field} 格式不正确"),
            format!("`{field}` must be 1-255 printable ASCII characters without spaces"),
        ))
    }
}

/// A mainland mobile number: 11 digits starting 13-19.
///
/// # Errors
/// 400 naming the field.
pub fn mobile(v: &str, field: &str) -> Result<(), ApiError> {
    let b = v.as_bytes();
    let ok = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            format!("{field} 须为 11 位手机号码"),
            format!("`{field}` must be an 11-digit mobile number"),
        ))
    }
}

/// A bank account number: 8-30 digits.
///
/// # Errors
/// 400 naming the field.
pub fn bank_account(v: &str, field: &str) -> Result<(), ApiError> {
    if (8..=30).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            format!("{field} 须为 8-30 位数字"),
            format!("`{field}` must be 8-30 digits"),
        ))
    }
}

/// A floated band that exists for the class ([`swi_rules::premium::band_allowed`]).
///
/// # Errors
/// 400 for another band.
pub fn rate_band(class: IndustryClass, band: Decimal) -> Result<(), ApiError> {
    if swi_rules::premium::band_allowed(class, band) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "费率浮动档次不存在",
            format!("band {band} does not exist for industry class {class}"),
        ))
    }
}

/// Free text of a person's act (reasons, notes): 1-500 characters, lines allowed (a browser's
/// `\r\n` taken as a line break); `zh` names the field.
///
/// # Errors
/// 400 naming the field.
pub fn note(v: &str, field: &str, zh: &str) -> Result<String, ApiError> {
    let t = v.replace("\r\n", "\n");
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 500 {
        return Err(ApiError::invalid(
            format!("{zh}须为 1-500 个字"),
            format!("`{field}` must be 1-500 characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::invalid(
            format!("{zh}含有不可见的控制字符"),
            format!("`{field}` holds control characters"),
        ));
    }
    Ok(t.to_owned())
}

/// At most 40 characters of a value for an error message.
#[must_use]
pub fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// A moment as China local time: RFC 3339 with an offset, or `YYYY-MM-DDTHH:MM[:SS]` meaning
/// China time.
///
/// # Errors
/// 400 naming the field.
pub fn china_datetime(s: &str, field: &str) -> Result<chrono::NaiveDateTime, ApiError> {
    use chrono::Datelike;
    let in_years = |dt: chrono::NaiveDateTime| YEARS.contains(&dt.year());
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        let dt = dt.with_timezone(&crate::clock::CHINA).naive_local();
        if in_years(dt) {
            return Ok(dt);
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, fmt)
            && in_years(dt)
        {
            return Ok(dt);
        }
    }
    Err(ApiError::invalid(
        format!("{field} 时间格式不正确"),
        format!(
            "`{field}` must be RFC 3339 or YYYY-MM-DDTHH:MM (China time), got `{}`",
            clip(s)
        ),
    ))
}

/// The most digits before the decimal point of an amount (below a trillion yuan).
const MAX_AMOUNT_DIGITS: usize = 12;

/// A plain amount: digits, optionally a point and one or two more (`5000`, `5000.5`,
/// `5000.50`); no sign, exponent, spaces or more than [`MAX_AMOUNT_DIGITS`] integer digits.
/// `1e5`, `1E+2`, `-0.00` and `7.9e28` are not amounts.
#[must_use]
pub fn plain_amount(text: &str) -> Option<Decimal> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let ok = (1..=MAX_AMOUNT_DIGITS).contains(&int.len())
        && int.bytes().all(|b| b.is_ascii_digit())
        && (!text.contains('.') || (1..=2).contains(&frac.len()))
        && frac.bytes().all(|b| b.is_ascii_digit());
    if ok { text.parse().ok() } else { None }
}

/// The first and last years a date of a request may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

/// A date of a request: `YYYY-MM-DD` in [`YEARS`].
#[must_use]
pub fn plain_date(text: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    if text.len() != 10 {
        return None;
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

/// Serde field readers for request bodies and queries: amounts and dates as above, so that a
/// body with `"declared_wage": "1e5"` or `"end": "+99999-12-31"` is refused naming the field.
pub mod de {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;
    use serde::de::{self, Deserializer, Visitor};

    struct Amount;

    impl Visitor<'_> for Amount {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a plain amount in yuan with at most 2 decimals, such as \"5000.00\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            super::plain_amount(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            self.visit_str(&v.to_string())
        }
    }

    /// An amount (string or whole number).
    ///
    /// # Errors
    /// Anything but a plain amount.
    pub fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(Amount)
    }

    struct Date;

    impl Visitor<'_> for Date {
        type Value = NaiveDate;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "a date YYYY-MM-DD between {} and {}",
                super::YEARS.start(),
                super::YEARS.end()
            )
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
            super::plain_date(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    /// A date.
    ///
    /// # Errors
    /// Anything but `YYYY-MM-DD` within the years allowed.
    pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        d.deserialize_str(Date)
    }

    /// An optional date (`null` or absent is none).
    ///
    /// # Errors
    /// As [`date`].
    pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let text: Option<String> = serde::Deserialize::deserialize(d)?;
        text.map(|t| {
            super::plain_date(&t)
                .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&t), &Date))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_amounts_and_dates_in_range_are_read() {
        assert_eq!(plain_amount("5000.50"), Some(Decimal::new(500_050, 2)));
        assert_eq!(plain_amount("0"), Some(Decimal::ZERO));
        for bad in [
            "1e5", "1E+2", "-0.00", "7.9e28", "1.234", "", ".5", "5.", " 5", "+5",
        ] {
            assert_eq!(plain_amount(bad), None, "{bad}");
        }
        assert_eq!(plain_amount(&"9".repeat(13)), None);
        assert!(plain_date("2025-06-01").is_some());
        for bad in [
            "+99999-12-31",
            "2999-01-01",
            "1899-12-31",
            "2025-6-1",
            "2025-02-30",
        ] {
            assert_eq!(plain_date(bad), None, "{bad}");
        }
    }
}
