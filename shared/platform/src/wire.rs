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
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&crate::clock::CHINA).naive_local());
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
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
