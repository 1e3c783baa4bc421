//! Payees' accounts (Art. 35, 37): where a payable line's money goes, recorded with the holder's
//! name and validated before the line may be batched.
//!
//! - A person is paid to their social-security card's financial account by default. Art. 37:
//!   原则上承办机构应将待遇拨付至享受待遇人员社保卡. A dependant is paid to a personal bank card,
//!   a unit to its account (对公账户). Card numbers are 16-19 digits ending in a Luhn check digit (ISO/IEC 7812, which
//!   China UnionPay cards and the card's financial account follow); a unit's account has no
//!   public check digit, so only its form is checked: 8-30 digits.
//! - The number is taken with the spaces and hyphens people write in it, and kept as digits only.
//!   It is shown masked ([`PayeeAccount::masked`]): the full number goes only to the bank file.
//! - A line is paid only to an account whose holder is the payee ([`same_holder`]): the names are
//!   compared as written, after the differences that are not differences (spaces, full-width
//!   letters and digits, the forms of the middle dot in minority and foreign names).
//! - One current account per payee ([`AccountRecord`], `account#<payee>` / `current`, the payee
//!   being its index partition, never shown), with the accounts it replaced: the payment step
//!   records and reads it; supervision looks for payees sharing one.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use swi_platform::{ApiError, Platform};
use swi_store::Key;

/// The longest account number taken as written (spaces and hyphens included).
pub const MAX_NUMBER_CHARS: usize = 40;

/// The longest holder's name or branch name taken.
pub const MAX_NAME_CHARS: usize = 60;

/// What kind of account it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// The financial account of a social-security card (社会保障卡金融账户): a person's default.
    SocialSecurityCard,
    /// A personal bank card (个人银行卡): a dependant's, or a person's when the card has none.
    BankCard,
    /// A unit's account (单位对公账户).
    UnitAccount,
}

impl AccountKind {
    /// Whether its numbers end in a Luhn check digit.
    #[must_use]
    pub fn has_check_digit(self) -> bool {
        !matches!(self, AccountKind::UnitAccount)
    }

    /// The digits its numbers have.
    #[must_use]
    pub fn lengths(self) -> std::ops::RangeInclusive<usize> {
        match self {
            AccountKind::SocialSecurityCard | AccountKind::BankCard => 16..=19,
            AccountKind::UnitAccount => 8..=30,
        }
    }
}

/// The bank an account is held at, by its class in the People's Bank of China's payment system
/// (支付系统行别代码, the first three digits of a bank's CNAPS code). Bank files are made one per
/// bank (the bank pays its own accounts in a batch, 批量代发); the branch is kept as written.
/// City commercial banks, rural commercial banks and rural credit co-operatives are one class
/// each in that list, so a county whose payments go to two banks of one class splits them by
/// branch in the file's `branch` column.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Bank {
    /// 102 中国工商银行.
    Icbc,
    /// 103 中国农业银行.
    Abc,
    /// 104 中国银行.
    Boc,
    /// 105 中国建设银行.
    Ccb,
    /// 301 交通银行.
    Bocom,
    /// 313 城市商业银行 (赣州银行, 九江银行, …).
    CityCommercial,
    /// 314 农村商业银行.
    RuralCommercial,
    /// 402 农村信用合作社.
    RuralCredit,
    /// 403 中国邮政储蓄银行.
    Psbc,
}

impl Bank {
    /// Every bank class, in code order.
    pub const ALL: [Bank; 9] = [
        Bank::Icbc,
        Bank::Abc,
        Bank::Boc,
        Bank::Ccb,
        Bank::Bocom,
        Bank::CityCommercial,
        Bank::RuralCommercial,
        Bank::RuralCredit,
        Bank::Psbc,
    ];

    /// Its class code (行别代码).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Bank::Icbc => "102",
            Bank::Abc => "103",
            Bank::Boc => "104",
            Bank::Ccb => "105",
            Bank::Bocom => "301",
            Bank::CityCommercial => "313",
            Bank::RuralCommercial => "314",
            Bank::RuralCredit => "402",
            Bank::Psbc => "403",
        }
    }

    /// Its name.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Bank::Icbc => "中国工商银行",
            Bank::Abc => "中国农业银行",
            Bank::Boc => "中国银行",
            Bank::Ccb => "中国建设银行",
            Bank::Bocom => "交通银行",
            Bank::CityCommercial => "城市商业银行",
            Bank::RuralCommercial => "农村商业银行",
            Bank::RuralCredit => "农村信用合作社",
            Bank::Psbc => "中国邮政储蓄银行",
        }
    }

    /// The bank with class `code`.
    #[must_use]
    pub fn of_code(code: &str) -> Option<Bank> {
        Bank::ALL.into_iter().find(|b| b.code() == code)
    }

    /// Its `snake_case` name, as in JSON.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Bank::Icbc => "icbc",
            Bank::Abc => "abc",
            Bank::Boc => "boc",
            Bank::Ccb => "ccb",
            Bank::Bocom => "bocom",
            Bank::CityCommercial => "city_commercial",
            Bank::RuralCommercial => "rural_commercial",
            Bank::RuralCredit => "rural_credit",
            Bank::Psbc => "psbc",
        }
    }
}

/// Why an account was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountError {
    /// The number is not digits (spaces and hyphens aside), or too long to be one.
    NotDigits,
    /// The number has a length its kind never has.
    Length {
        /// Digits found.
        found: usize,
        /// Digits the kind has.
        expected: std::ops::RangeInclusive<usize>,
    },
    /// The card number's check digit is wrong (a digit mistyped or two swapped).
    CheckDigit,
    /// The holder's or the branch's name is empty or too long.
    Name(&'static str),
}

impl AccountError {
    /// In Chinese, for the person at the window.
    #[must_use]
    pub fn zh(&self) -> String {
        match self {
            AccountError::NotDigits => "账号只能由数字组成".into(),
            AccountError::Length { found, expected } => format!(
                "账号位数不对：应为 {}-{} 位，实为 {found} 位",
                expected.start(),
                expected.end()
            ),
            AccountError::CheckDigit => "卡号校验位不符，请核对是否有输错或颠倒的数字".into(),
            AccountError::Name(field) => format!("{field}不能为空，且不超过 {MAX_NAME_CHARS} 字"),
        }
    }
}

impl std::fmt::Display for AccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccountError::NotDigits => f.write_str("an account number is digits only"),
            AccountError::Length { found, expected } => write!(
                f,
                "an account number of this kind has {}-{} digits, not {found}",
                expected.start(),
                expected.end()
            ),
            AccountError::CheckDigit => {
                f.write_str("the card number's check digit is wrong (a digit mistyped or swapped)")
            }
            AccountError::Name(field) => {
                write!(f, "{field} must be 1-{MAX_NAME_CHARS} characters")
            }
        }
    }
}

impl std::error::Error for AccountError {}

/// A payee's account as recorded: its kind, bank and branch, number (digits only) and holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayeeAccount {
    /// Kind.
    pub kind: AccountKind,
    /// Bank.
    pub bank: Bank,
    /// Branch (开户网点), as written.
    pub branch: String,
    /// Number, digits only.
    pub number: String,
    /// Holder (户名), as written.
    pub holder: String,
}

impl PayeeAccount {
    /// The account as written at the window or in a form, validated: the number's form and,
    /// for cards, its check digit; the names present and bounded.
    ///
    /// # Errors
    /// What is wrong with it, the first thing found.
    pub fn parse(
        kind: AccountKind,
        bank: Bank,
        branch: &str,
        number: &str,
        holder: &str,
    ) -> Result<Self, AccountError> {
        let branch = bounded_name(branch, "开户网点")?;
        let holder = bounded_name(holder, "户名")?;
        if number.chars().count() > MAX_NUMBER_CHARS {
            return Err(AccountError::NotDigits);
        }
        let mut digits = String::with_capacity(number.len());
        for c in number.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '\u{3000}' => {}
                _ => return Err(AccountError::NotDigits),
            }
        }
        if !kind.lengths().contains(&digits.len()) {
            return Err(AccountError::Length {
                found: digits.len(),
                expected: kind.lengths(),
            });
        }
        if kind.has_check_digit() && !luhn_valid(&digits) {
            return Err(AccountError::CheckDigit);
        }
        Ok(PayeeAccount {
            kind,
            bank,
            branch,
            number: digits,
            holder,
        })
    }

    /// The number as shown anywhere but the bank's file: its first 4 and last 4 digits.
    #[must_use]
    pub fn masked(&self) -> String {
        let n = self.number.len();
        if n <= 8 {
            return "*".repeat(n);
        }
        format!("{} **** {}", &self.number[..4], &self.number[n - 4..])
    }

    /// Whether `payee` (the name the rules pay) holds this account.
    #[must_use]
    pub fn held_by(&self, payee: &str) -> bool {
        same_holder(&self.holder, payee)
    }
}

fn bounded_name(s: &str, field: &'static str) -> Result<String, AccountError> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || t.chars().any(char::is_control) {
        return Err(AccountError::Name(field));
    }
    Ok(t.to_owned())
}

/// Whether a digit string ends in its Luhn check digit (ISO/IEC 7812-1 Annex B).
#[must_use]
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The Luhn check digit completing `payload` (digits only), if it is digits.
#[must_use]
pub fn luhn_check_digit(payload: &str) -> Option<char> {
    if !payload.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ('0'..='9').find(|c| luhn_valid(&format!("{payload}{c}")))
}

/// A name as compared: without spaces, full-width ASCII as half-width, Latin letters in upper
/// case, and every middle dot one dot (·).
fn comparable(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| match c {
            '\u{30FB}' | '\u{2022}' | '\u{2027}' | '\u{FF65}' | '\u{0387}' | '\u{2219}' | '.' => {
                '\u{00B7}'
            }
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether an account's holder and a payee are the same name as written (see the module).
#[must_use]
pub fn same_holder(holder: &str, payee: &str) -> bool {
    let (a, b) = (comparable(holder), comparable(payee));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test card numbers: payloads completed with their check digit here, never a real card.
    fn card(payload: &str) -> String {
        format!("{payload}{}", luhn_check_digit(payload).unwrap())
    }

    #[test]
    fn luhn_agrees_with_the_standards_example_and_catches_slips() {
        // ISO/IEC 7812-1's worked example and the classic test number.
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("4111111111111111"));
        assert_eq!(luhn_check_digit("7992739871"), Some('3'));
        let n = card("621700000012345678");
        assert!(luhn_valid(&n));
        // Any single digit changed, and adjacent digits swapped (but 0/9), are caught.
        let bytes = n.as_bytes();
        for i in 0..bytes.len() {
            for d in b'0'..=b'9' {
                if d != bytes[i] {
                    let mut m = bytes.to_vec();
                    m[i] = d;
                    assert!(!luhn_valid(std::str::from_utf8(&m).unwrap()), "{i} {d}");
                }
            }
        }
        for i in 0..bytes.len() - 1 {
            let (a, b) = (bytes[i], bytes[i + 1]);
            if a != b && !matches!((a, b), (b'0', b'9') | (b'9', b'0')) {
                let mut m = bytes.to_vec();
                m.swap(i, i + 1);
                assert!(!luhn_valid(std::str::from_utf8(&m).unwrap()), "swap {i}");
            }
        }
        assert!(!luhn_valid("4111-1111"));
        assert!(!luhn_valid("0"));
    }

    #[test]
    fn a_card_is_taken_as_written_and_kept_as_digits() {
        let n = card("621700000012345678");
        let written = format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..]);
        let a = PayeeAccount::parse(
            AccountKind::SocialSecurityCard,
            Bank::Ccb,
            " 中国建设银行赣州分行 ",
            &written,
            "张三",
        )
        .unwrap();
        assert_eq!(a.number, n);
        assert_eq!(a.branch, "中国建设银行赣州分行");
        assert_eq!(Bank::of_code("105"), Some(a.bank));
        assert_eq!(a.masked(), format!("6217 **** {}", &n[n.len() - 4..]));
        assert!(!a.masked().contains(&n[4..12]));
    }

    #[test]
    fn bank_classes_are_the_payment_systems_codes() {
        for w in Bank::ALL.windows(2) {
            assert!(w[0].code() < w[1].code());
        }
        for b in Bank::ALL {
            assert_eq!(Bank::of_code(b.code()), Some(b));
            assert_eq!(
                serde_json::to_value(b).unwrap(),
                serde_json::Value::String(b.as_str().into())
            );
        }
        assert_eq!(Bank::of_code("313").map(Bank::zh), Some("城市商业银行"));
        assert_eq!(Bank::of_code("999"), None);
    }

    #[test]
    fn a_wrong_account_is_refused_with_what_is_wrong() {
        let n = card("621700000012345678");
        let mut slipped = n.clone().into_bytes();
        slipped[7] = if slipped[7] == b'1' { b'2' } else { b'1' };
        let slipped = String::from_utf8(slipped).unwrap();
        let parse = |kind, number: &str, holder: &str| {
            PayeeAccount::parse(kind, Bank::Boc, "中国银行赣州分行", number, holder)
        };
        assert_eq!(
            parse(AccountKind::BankCard, &slipped, "张三"),
            Err(AccountError::CheckDigit)
        );
        assert_eq!(
            parse(AccountKind::BankCard, "6217O000", "张三"),
            Err(AccountError::NotDigits)
        );
        assert!(matches!(
            parse(AccountKind::SocialSecurityCard, "123456789012", "张三"),
            Err(AccountError::Length { found: 12, .. })
        ));
        assert_eq!(
            parse(AccountKind::BankCard, &"1".repeat(41), "张三"),
            Err(AccountError::NotDigits)
        );
        assert_eq!(
            parse(AccountKind::BankCard, &n, "  "),
            Err(AccountError::Name("户名"))
        );
        assert_eq!(
            parse(AccountKind::BankCard, &n, &"名".repeat(61)),
            Err(AccountError::Name("户名"))
        );
        assert_eq!(
            parse(AccountKind::BankCard, &n, "张三\u{0007}"),
            Err(AccountError::Name("户名"))
        );
        // A unit's account has no check digit: its form only.
        assert!(
            parse(
                AccountKind::UnitAccount,
                "36050161010700000123",
                "赣州市示范物流有限公司"
            )
            .is_ok()
        );
        assert!(matches!(
            parse(AccountKind::UnitAccount, "1234567", "某单位"),
            Err(AccountError::Length { found: 7, .. })
        ));
        for e in [AccountError::CheckDigit, AccountError::NotDigits] {
            assert!(!e.zh().is_empty() && !e.to_string().is_empty());
        }
    }

    #[test]
    fn a_holder_matches_only_the_same_name_as_written() {
        assert!(same_holder("张三", "张三"));
        assert!(same_holder("张 三", "张三"));
        assert!(same_holder("阿依古丽・买买提", "阿依古丽·买买提"));
        assert!(same_holder("阿依古丽•买买提", "阿依古丽·买买提"));
        assert!(same_holder("ＷＡＮＧ　Ｌｅｉ", "wang lei"));
        assert!(!same_holder("张三", "张山"));
        assert!(!same_holder("张三", "张三丰"));
        assert!(!same_holder("", ""));
        assert!(!same_holder("阿依古丽买买提", "阿依古丽·买买提"));
        let a = PayeeAccount::parse(
            AccountKind::SocialSecurityCard,
            Bank::CityCommercial,
            "赣州银行",
            &card("621700000012345678"),
            "李四",
        )
        .unwrap();
        assert!(a.held_by("李四") && !a.held_by("李思"));
    }
}

/// A payee's account as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountRecord {
    /// The account.
    pub account: PayeeAccount,
    /// The day recorded.
    pub recorded_on: NaiveDate,
    /// When recorded (China time).
    pub recorded_at: NaiveDateTime,
    /// By whom (name and role).
    pub by: String,
    /// The accounts it replaced (masked), with the day each was replaced.
    pub replaced: Vec<(String, NaiveDate)>,
}

/// An account as answered: the number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountView {
    /// Kind.
    pub kind: AccountKind,
    /// Bank.
    pub bank: Bank,
    /// Branch.
    pub branch: String,
    /// The number, masked.
    pub number: String,
    /// Holder.
    pub holder: String,
    /// The day recorded.
    pub recorded_on: NaiveDate,
    /// By whom.
    pub by: String,
    /// The accounts it replaced (masked), with the day each was replaced.
    pub replaced: Vec<(String, NaiveDate)>,
}

impl AccountRecord {
    /// As answered.
    #[must_use]
    pub fn view(&self) -> AccountView {
        AccountView {
            kind: self.account.kind,
            bank: self.account.bank,
            branch: self.account.branch.clone(),
            number: self.account.masked(),
            holder: self.account.holder.clone(),
            recorded_on: self.recorded_on,
            by: self.by.clone(),
            replaced: self.replaced.clone(),
        }
    }
}

/// The key of a payee's account (`payee` is the payee's index partition).
#[must_use]
pub fn account_key(payee: &str) -> Key {
    Key::new(format!("account#{payee}"), "current")
}

/// Loads a payee's account.
///
/// # Errors
/// The store is unavailable.
pub async fn load(p: &Platform, payee: &str) -> Result<Option<(AccountRecord, u64)>, ApiError> {
    match p.state.get(&account_key(payee)).await? {
        Some(item) => Ok(Some((
            item.body().map_err(|e| ApiError::internal(&e))?,
            item.version,
        ))),
        None => Ok(None),
    }
}
