//! Archive numbers (档号) in the structure of DA/T 22-2015: fonds, category and year, period,
//! class, sequence — `全宗号-门类代码·年度-保管期限代码-分类号-案卷号`, levels joined by `-` and the
//! parts of one level by `·` (e.g. `J001-SB·2026-D50-GS08-007`); an item (件) adds its four-digit
//! number (`…-007-0012`). Once given a number never changes (DA/T 13-2022 4.3): it is allocated
//! once, when the volume is created, and stored with it.

use std::fmt;

use crate::retention::{Category, Period, RecordClass};

/// A fonds number (全宗号): four letters or digits (DA/T 22-2015).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Fonds(String);

impl Fonds {
    /// Checks a fonds number.
    ///
    /// # Errors
    /// Anything but four ASCII letters or digits.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Fonds(text.to_ascii_uppercase()))
        } else {
            Err(NumberError::Fonds)
        }
    }

    /// The number's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A volume's archive number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VolumeNumber {
    /// The fonds.
    pub fonds: Fonds,
    /// The category (SB, KJ) — the class's.
    pub class: RecordClass,
    /// The year.
    pub year: i32,
    /// The retention period.
    pub period: Period,
    /// The volume's number in its fonds, class, year and period (1-999).
    pub seq: u16,
}

/// What is wrong with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Not a fonds number.
    #[error("a fonds number (全宗号) is four letters or digits")]
    Fonds,
    /// Not an archive number of this structure.
    #[error("not an archive number (全宗号-门类·年度-期限-分类号-案卷号)")]
    Form,
    /// A sequence out of 1-999 (or an item out of 1-9999).
    #[error("a volume is numbered 1-999 and an item 1-9999")]
    Range,
}

/// The category of a class (its classification number's prefix).
#[must_use]
pub fn category(class: RecordClass) -> Category {
    if class.code().starts_with("KJ") {
        Category::Accounting
    } else {
        Category::Business
    }
}

impl VolumeNumber {
    /// A volume's number.
    ///
    /// # Errors
    /// A sequence out of 1-999.
    pub fn new(
        fonds: Fonds,
        class: RecordClass,
        year: i32,
        period: Period,
        seq: u16,
    ) -> Result<Self, NumberError> {
        if !(1..=999).contains(&seq) || !(1000..=9999).contains(&year) {
            return Err(NumberError::Range);
        }
        Ok(VolumeNumber {
            fonds,
            class,
            year,
            period,
            seq,
        })
    }

    /// The number of item `n` (件号) of the volume.
    ///
    /// # Errors
    /// An item out of 1-9999.
    pub fn item(&self, n: u32) -> Result<String, NumberError> {
        if !(1..=9999).contains(&n) {
            return Err(NumberError::Range);
        }
        Ok(format!("{self}-{n:04}"))
    }

    /// Reads a number back.
    ///
    /// # Errors
    /// [`NumberError::Form`] for anything this module does not write.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let parts: Vec<&str> = text.split('-').collect();
        let [fonds, cat_year, period, class, seq] = parts.as_slice() else {
            return Err(NumberError::Form);
        };
        let (cat, year) = cat_year.split_once('·').ok_or(NumberError::Form)?;
        let class = RecordClass::from_code(class).ok_or(NumberError::Form)?;
        if category(class).code() != cat || seq.len() != 3 || year.len() != 4 {
            return Err(NumberError::Form);
        }
        let n = VolumeNumber::new(
            Fonds::parse(fonds).map_err(|_| NumberError::Form)?,
            class,
            year.parse().map_err(|_| NumberError::Form)?,
            Period::from_code(period).ok_or(NumberError::Form)?,
            seq.parse().map_err(|_| NumberError::Form)?,
        )?;
        // Only the canonical spelling is a number (no `d50`, no lowercase fonds).
        if n.to_string() == text {
            Ok(n)
        } else {
            Err(NumberError::Form)
        }
    }

    /// The number as a file or directory name may carry it (`·` written `.`).
    #[must_use]
    pub fn file_name(&self) -> String {
        self.to_string().replace('·', ".")
    }
}

impl fmt::Display for VolumeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}·{}-{}-{}-{:03}",
            self.fonds.as_str(),
            category(self.class).code(),
            self.year,
            self.period.code(),
            self.class.code(),
            self.seq
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> VolumeNumber {
        VolumeNumber::new(
            Fonds::parse("j001").unwrap(),
            RecordClass::DisabilityDeathBenefits,
            2026,
            Period::Years(50),
            7,
        )
        .unwrap()
    }

    #[test]
    fn a_number_is_written_as_da_t_22_orders_it_and_reads_back() {
        assert_eq!(n().to_string(), "J001-SB·2026-D50-GS08-007");
        assert_eq!(n().item(12).unwrap(), "J001-SB·2026-D50-GS08-007-0012");
        assert_eq!(VolumeNumber::parse("J001-SB·2026-D50-GS08-007"), Ok(n()));
        assert_eq!(n().file_name(), "J001-SB.2026-D50-GS08-007");
        let kj = VolumeNumber::new(
            Fonds::parse("J001").unwrap(),
            RecordClass::Vouchers,
            2026,
            Period::Years(30),
            1,
        )
        .unwrap();
        assert_eq!(kj.to_string(), "J001-KJ·2026-D30-KJ01-001");
    }

    #[test]
    fn anything_else_is_not_a_number() {
        for bad in [
            "J001-SB·2026-D50-GS08-7",
            "J001-KJ·2026-D50-GS08-007",
            "J001-SB.2026-D50-GS08-007",
            "J01-SB·2026-D50-GS08-007",
            "J001-SB·2026-d50-GS08-007",
            "J001-SB·2026-D50-GS99-007",
            "J001-SB·2026-D50-GS08-000",
            "J001-SB·2026-D50-GS08-007-0001",
        ] {
            assert!(VolumeNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(n().item(0), Err(NumberError::Range));
        assert_eq!(Fonds::parse("J0 1"), Err(NumberError::Fonds));
    }
}
