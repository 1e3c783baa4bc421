//! Identifiers with check characters: resident ID numbers (GB 11643-1999), unified social credit
//! codes (GB 32100-2015) and Ganzhou's county codes (GB/T 2260). Parse, don't validate: a value of
//! these types is well-formed by construction.
//!
//! A resident ID number is personal data: its `Debug` and `Display` show it masked
//! (`360702********123X`), so it cannot leak into a log by accident; [`ResidentId::expose`] gives
//! the full number where it must be stored or compared.

use std::fmt;

use chrono::NaiveDate;

/// Sex, as encoded in the 17th digit of a resident ID number (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Sex {
    /// `male` / `female`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Why a resident ID number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    /// Not 18 characters.
    #[error("a resident ID number has 18 characters")]
    Length,
    /// Not 17 digits followed by a digit or `X`.
    #[error("a resident ID number is 17 digits and a digit or X")]
    Characters,
    /// The first two digits are not a province-level region code (GB/T 2260).
    #[error("the region code is not a province-level code of GB/T 2260")]
    Region,
    /// Digits 7-14 are not a valid birth date (from 1900-01-01).
    #[error("digits 7-14 are not a valid birth date")]
    BirthDate,
    /// The 18th character does not match ISO 7064 MOD 11-2 of the first 17.
    #[error("the check character does not match")]
    CheckCharacter,
}

impl ResidentIdError {
    /// A stable code for answers.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            ResidentIdError::Length => "length",
            ResidentIdError::Characters => "characters",
            ResidentIdError::Region => "region",
            ResidentIdError::BirthDate => "birth_date",
            ResidentIdError::CheckCharacter => "check_character",
        }
    }
}

/// A citizen's resident ID number (公民身份号码), GB 11643-1999, checked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    value: [u8; 18],
    birth: NaiveDate,
}

/// Province-level codes of GB/T 2260, plus 81-83 used by residence permits of Hong Kong, Macao
/// and Taiwan residents.
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

impl ResidentId {
    /// Parses and checks an 18-character resident ID number (a trailing `x` is read as `X`).
    ///
    /// Art. 7 requires real-name enrolment with a valid ID; GB 11643-1999 defines the number:
    /// 6 digits of region, 8 of birth date, 3 of sequence (odd = male), and an ISO 7064 MOD 11-2
    /// check character.
    ///
    /// # Errors
    /// Which part of the number is wrong.
    pub fn parse(s: &str) -> Result<Self, ResidentIdError> {
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(if s.chars().count() == 18 {
                ResidentIdError::Characters
            } else {
                ResidentIdError::Length
            });
        }
        let mut value = [0u8; 18];
        value.copy_from_slice(b);
        if value[17] == b'x' {
            value[17] = b'X';
        }
        if !value[..17].iter().all(u8::is_ascii_digit)
            || !(value[17].is_ascii_digit() || value[17] == b'X')
        {
            return Err(ResidentIdError::Characters);
        }
        let province = (value[0] - b'0') * 10 + (value[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(ResidentIdError::Region);
        }
        let num = |r: std::ops::Range<usize>| {
            value[r]
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        };
        let year = i32::try_from(num(6..10)).map_err(|_| ResidentIdError::BirthDate)?;
        let birth = NaiveDate::from_ymd_opt(year, num(10..12), num(12..14))
            .filter(|_| year >= 1900)
            .ok_or(ResidentIdError::BirthDate)?;
        if check_character(&value) != value[17] {
            return Err(ResidentIdError::CheckCharacter);
        }
        Ok(ResidentId { value, birth })
    }

    /// Completes 17 digits (region, birth date, sequence) with their check character: for
    /// generating test and demonstration numbers.
    ///
    /// # Errors
    /// As [`ResidentId::parse`], for the 17 digits given.
    pub fn with_check_character(first17: &str) -> Result<Self, ResidentIdError> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ResidentIdError::Characters);
        }
        let mut value = [b'0'; 18];
        value[..17].copy_from_slice(first17.as_bytes());
        value[17] = check_character(&value);
        Self::parse(std::str::from_utf8(&value).unwrap_or_default())
    }

    /// The date of birth encoded in digits 7-14.
    #[must_use]
    pub const fn birth(&self) -> NaiveDate {
        self.birth
    }

    /// The sex encoded in the 17th digit.
    #[must_use]
    pub const fn sex(&self) -> Sex {
        if (self.value[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The full number, for storage and comparison only; never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        // The bytes were checked to be ASCII digits or `X`.
        std::str::from_utf8(&self.value).unwrap_or_default()
    }

    /// The number with the birth date and sequence masked, fit for logs and screens.
    #[must_use]
    pub fn masked(&self) -> String {
        let s = self.expose();
        format!("{}********{}", &s[..6], &s[14..])
    }
}

/// ISO 7064 MOD 11-2 over the first 17 digits, as GB 11643-1999 §7.
fn check_character(value: &[u8; 18]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = value[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Why a unified social credit code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not 18 characters.
    #[error("a unified social credit code has 18 characters")]
    Length,
    /// A character outside the code's alphabet (digits and capitals without I, O, S, V, Z).
    #[error("a unified social credit code uses digits and capitals other than I, O, S, V, Z")]
    Characters,
    /// Characters 3-8 are not a 6-digit region code.
    #[error("characters 3-8 are not a region code")]
    Region,
    /// The 18th character does not match GB 32100's MOD 31 check.
    #[error("the check character does not match")]
    CheckCharacter,
}

/// A unified social credit code (统一社会信用代码), GB 32100-2015, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

impl CreditCode {
    /// Parses and checks an 18-character code (lower case is read as upper case).
    ///
    /// # Errors
    /// Which part of the code is wrong.
    pub fn parse(s: &str) -> Result<Self, CreditCodeError> {
        let upper = s.to_ascii_uppercase();
        let b = upper.as_bytes();
        if b.len() != 18 {
            return Err(if upper.chars().count() == 18 {
                CreditCodeError::Characters
            } else {
                CreditCodeError::Length
            });
        }
        let mut values = [0u32; 18];
        for (v, c) in values.iter_mut().zip(b) {
            *v = USCC_ALPHABET
                .iter()
                .position(|a| a == c)
                .ok_or(CreditCodeError::Characters)? as u32;
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::Region);
        }
        const WEIGHTS: [u32; 17] = [
            1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
        ];
        let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(CreditCodeError::CheckCharacter);
        }
        Ok(CreditCode(upper))
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A county (县、市、区) of Ganzhou by its GB/T 2260 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct County(u32);

/// Ganzhou's counties: code and name.
pub const GANZHOU_COUNTIES: [(u32, &str); 18] = [
    (360702, "章贡区"),
    (360703, "南康区"),
    (360704, "赣县区"),
    (360722, "信丰县"),
    (360723, "大余县"),
    (360724, "上犹县"),
    (360725, "崇义县"),
    (360726, "安远县"),
    (360728, "定南县"),
    (360729, "全南县"),
    (360730, "宁都县"),
    (360731, "于都县"),
    (360732, "兴国县"),
    (360733, "会昌县"),
    (360734, "寻乌县"),
    (360735, "石城县"),
    (360781, "瑞金市"),
    (360783, "龙南市"),
];

impl County {
    /// Parses a six-digit code of one of Ganzhou's counties.
    ///
    /// # Errors
    /// A code that is not one of Ganzhou's 18 counties.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.parse::<u32>()
            .ok()
            .filter(|c| s.len() == 6 && GANZHOU_COUNTIES.iter().any(|(k, _)| k == c))
            .map(County)
            .ok_or_else(|| format!("`{s}` is not the code of a Ganzhou county"))
    }

    /// The code.
    #[must_use]
    pub const fn code(self) -> u32 {
        self.0
    }

    /// The county's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        GANZHOU_COUNTIES
            .iter()
            .find(|(k, _)| *k == self.0)
            .map_or("", |(_, n)| n)
    }
}

impl fmt::Display for County {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A county travels as its six-digit code, as text (`"360702"`).
impl serde::Serialize for County {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for County {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        County::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_examples_are_valid() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        let id = ResidentId::parse("440524188001010014");
        assert_eq!(id.unwrap_err(), ResidentIdError::BirthDate); // born 1880: before 1900
        let id = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn each_kind_of_defect_is_named() {
        assert_eq!(
            ResidentId::parse("1101051949123100").unwrap_err(),
            ResidentIdError::Length
        );
        assert_eq!(
            ResidentId::parse("1101051949123100XX").unwrap_err(),
            ResidentIdError::Characters
        );
        assert_eq!(
            ResidentId::parse("11010519491231002１").unwrap_err(),
            ResidentIdError::Characters
        );
        assert_eq!(
            ResidentId::parse("990105194912310021").unwrap_err(),
            ResidentIdError::Region
        );
        assert_eq!(
            ResidentId::parse("110105194902300021").unwrap_err(),
            ResidentIdError::BirthDate
        );
        assert_eq!(
            ResidentId::parse("110105194912310021").unwrap_err(),
            ResidentIdError::CheckCharacter
        );
    }

    #[test]
    fn seventeen_digits_are_completed_with_their_check_character() {
        let id = ResidentId::with_check_character("11010519491231002").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert!(ResidentId::with_check_character("1101051949123100").is_err());
        assert!(ResidentId::with_check_character("11010519490231002").is_err());
    }

    #[test]
    fn a_resident_id_never_prints_in_full() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id:?}"), "ResidentId(110105********002X)");
        assert_eq!(id.to_string(), "110105********002X");
    }

    #[test]
    fn credit_codes_are_checked_mod_31() {
        // Check characters computed independently (tests/regulation/ids.toml has more).
        assert!(CreditCode::parse("91360702MA35XXXX0P").is_err());
        assert_eq!(
            CreditCode::parse("91360702MA35G6QL6").unwrap_err(),
            CreditCodeError::Length
        );
        assert_eq!(
            CreditCode::parse("91360702MA35G6QLIX").unwrap_err(),
            CreditCodeError::Characters
        );
    }

    #[test]
    fn ganzhou_county_codes_parse() {
        assert_eq!(County::parse("360702").unwrap().name(), "章贡区");
        assert!(County::parse("360101").is_err());
        assert!(County::parse("36070").is_err());
    }
}
