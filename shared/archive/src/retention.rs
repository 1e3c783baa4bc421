//! Retention (保管期限, Art. 45-46): the classes of records the archive keeps, each a business
//! step with its classification number, and their periods as dated values with sources and
//! statuses (`retention.toml`, embedded). A period is a minimum, counted from 1 January of the
//! year after the case closes; the period in force on the day the case closed is the one kept.
//! A case closed before a class's first value is an error, never a zero.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use swi_rules::params::{Source, Status};

/// The archive's categories (档案门类): business records and the fund's accounting records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Category {
    /// 社保业务档案 (SB).
    #[serde(rename = "SB")]
    Business,
    /// 会计档案 (KJ), kept under 《会计档案管理办法》.
    #[serde(rename = "KJ")]
    Accounting,
}

impl Category {
    /// The category's code in archive numbers.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Category::Business => "SB",
            Category::Accounting => "KJ",
        }
    }
}

/// A class of records: one business step and its classification number (分类号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordClass {
    /// GS01 参保单位登记材料: a unit's registration, changes, cancellation, work-injury facts.
    UnitRegistration,
    /// GS02 参保人员登记材料: persons' enrolments, moves, identity verification.
    PersonRegistration,
    /// GS03 缴费申报、核定与征收: declarations' rates, re-rating, the tax bureau's files.
    Contributions,
    /// GS05 工伤备案材料.
    InjuryFiling,
    /// GS06 工伤认定材料.
    InjuryRecognition,
    /// GS07 劳动能力鉴定材料.
    DisabilityAppraisal,
    /// GS08 伤残工亡待遇核定材料.
    DisabilityDeathBenefits,
    /// GS09 医疗（康复）待遇核定材料.
    MedicalBenefits,
    /// GS10 待遇支付明细表和汇总表: batches, the banks' returns, payment requests.
    PaymentDetails,
    /// GS12 业务月/季统计报表.
    MonthlyStatistics,
    /// GS13 年度统计报表.
    AnnualStatistics,
    /// GS14 稽核监管与内部控制材料.
    Supervision,
    /// GS15 经办规程与城市参数依据文件.
    Procedures,
    /// GS16 档案管理材料: destruction lists, handover registers, appraisals.
    ArchiveRegisters,
    /// KJ01 会计凭证.
    Vouchers,
    /// KJ02 会计账簿.
    Books,
    /// KJ03 月度、季度、半年度财务会计报告.
    PeriodicFinancialReports,
    /// KJ04 年度财务会计报告.
    AnnualFinancialReport,
    /// KJ05 银行存款余额调节表、银行对账单.
    BankStatements,
}

impl RecordClass {
    /// Every class, in the order of their numbers.
    pub const ALL: [RecordClass; 19] = [
        RecordClass::UnitRegistration,
        RecordClass::PersonRegistration,
        RecordClass::Contributions,
        RecordClass::InjuryFiling,
        RecordClass::InjuryRecognition,
        RecordClass::DisabilityAppraisal,
        RecordClass::DisabilityDeathBenefits,
        RecordClass::MedicalBenefits,
        RecordClass::PaymentDetails,
        RecordClass::MonthlyStatistics,
        RecordClass::AnnualStatistics,
        RecordClass::Supervision,
        RecordClass::Procedures,
        RecordClass::ArchiveRegisters,
        RecordClass::Vouchers,
        RecordClass::Books,
        RecordClass::PeriodicFinancialReports,
        RecordClass::AnnualFinancialReport,
        RecordClass::BankStatements,
    ];

    /// The classification number (分类号), e.g. `GS06`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            RecordClass::UnitRegistration => "GS01",
            RecordClass::PersonRegistration => "GS02",
            RecordClass::Contributions => "GS03",
            RecordClass::InjuryFiling => "GS05",
            RecordClass::InjuryRecognition => "GS06",
            RecordClass::DisabilityAppraisal => "GS07",
            RecordClass::DisabilityDeathBenefits => "GS08",
            RecordClass::MedicalBenefits => "GS09",
            RecordClass::PaymentDetails => "GS10",
            RecordClass::MonthlyStatistics => "GS12",
            RecordClass::AnnualStatistics => "GS13",
            RecordClass::Supervision => "GS14",
            RecordClass::Procedures => "GS15",
            RecordClass::ArchiveRegisters => "GS16",
            RecordClass::Vouchers => "KJ01",
            RecordClass::Books => "KJ02",
            RecordClass::PeriodicFinancialReports => "KJ03",
            RecordClass::AnnualFinancialReport => "KJ04",
            RecordClass::BankStatements => "KJ05",
        }
    }

    /// The class of a classification number.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The class's entry in the table.
    ///
    /// # Errors
    /// The embedded table does not parse or lacks the class (a build defect the tests catch).
    pub fn entry(self) -> Result<&'static ClassEntry, RetentionError> {
        table()?
            .get(self.code())
            .ok_or(RetentionError::Table(format!("no class {}", self.code())))
    }
}

impl fmt::Display for RecordClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for RecordClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for RecordClass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        RecordClass::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown record class `{code}`")))
    }
}

/// How long records are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// 定期: this many years.
    Years(u16),
    /// 永久.
    Permanent,
}

impl Period {
    /// The period's code in archive numbers: `Y` (永久) or `D` and the years (`D30`; DA/T 22
    /// names Y, D30 and D10; D100 and D50 follow its pattern).
    #[must_use]
    pub fn code(self) -> String {
        match self {
            Period::Permanent => "Y".into(),
            Period::Years(n) => format!("D{n}"),
        }
    }

    /// The period in words, as a cover prints it (`永久`, `50年`).
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Period::Permanent => "永久".into(),
            Period::Years(n) => format!("{n}年"),
        }
    }

    /// The period of a code (`Y`, `D50`).
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        if code == "Y" {
            return Some(Period::Permanent);
        }
        let n: u16 = code.strip_prefix('D')?.parse().ok()?;
        (1..=100).contains(&n).then_some(Period::Years(n))
    }

    /// The first day records closed on `closed` may be destroyed: 1 January of the year after
    /// closing plus the period; `None` for permanent records.
    #[must_use]
    pub fn retain_until(self, closed: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Permanent => None,
            Period::Years(n) => NaiveDate::from_ymd_opt(closed.year() + 1 + i32::from(n), 1, 1),
        }
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Years(u16),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Years(n) if (1..=100).contains(&n) => Ok(Period::Years(n)),
            Raw::Word(w) if w == "permanent" => Ok(Period::Permanent),
            Raw::Word(w) => Period::from_code(&w).ok_or_else(|| {
                serde::de::Error::custom(
                    "a period is 1-100 years, \"permanent\" or a code (Y, D50)",
                )
            }),
            Raw::Years(_) => Err(serde::de::Error::custom(
                "a period is 1-100 years, \"permanent\" or a code (Y, D50)",
            )),
        }
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

/// One dated period of a class.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedPeriod {
    /// First closing day it applies to.
    pub from: NaiveDate,
    /// The period.
    pub period: Period,
    /// How far it can be trusted.
    pub status: Status,
    /// Where it comes from.
    pub source: Source,
}

/// A class as the table has it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassEntry {
    /// Its name (the volume's title names it).
    pub name: String,
    /// Its category.
    pub category: Category,
    /// Its periods, by date.
    pub periods: Vec<DatedPeriod>,
}

impl ClassEntry {
    /// The period of a case closed on `closed`.
    ///
    /// # Errors
    /// [`RetentionError::NotInForce`] before the first value.
    pub fn period_on(&self, closed: NaiveDate) -> Result<&DatedPeriod, RetentionError> {
        self.periods
            .iter()
            .rev()
            .find(|p| p.from <= closed)
            .ok_or(RetentionError::NotInForce(closed))
    }
}

/// What went wrong looking up a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    /// The table is broken (a build defect).
    #[error("retention table: {0}")]
    Table(String),
    /// No period in force on the closing day.
    #[error("no retention period in force on {0}")]
    NotInForce(NaiveDate),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    class: BTreeMap<String, ClassEntry>,
}

fn table() -> Result<&'static BTreeMap<String, ClassEntry>, RetentionError> {
    static TABLE: OnceLock<Result<BTreeMap<String, ClassEntry>, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let file: File =
                toml::from_str(include_str!("../retention.toml")).map_err(|e| e.to_string())?;
            for (code, entry) in &file.class {
                if entry.periods.is_empty()
                    || entry.periods.windows(2).any(|w| w[0].from >= w[1].from)
                {
                    return Err(format!("{code}: periods empty or not in date order"));
                }
            }
            Ok(file.class)
        })
        .as_ref()
        .map_err(|e| RetentionError::Table(e.clone()))
}

/// The period a class's records closed on `closed` are kept.
///
/// # Errors
/// No period in force that day; a broken table.
pub fn period(class: RecordClass, closed: NaiveDate) -> Result<Period, RetentionError> {
    Ok(class.entry()?.period_on(closed)?.period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_class_has_its_row_and_every_row_its_class() {
        let t = table().unwrap();
        for c in RecordClass::ALL {
            let e = c.entry().unwrap();
            assert!(!e.name.is_empty());
            let expected = if c.code().starts_with("KJ") {
                Category::Accounting
            } else {
                Category::Business
            };
            assert_eq!(e.category, expected, "{c}");
        }
        assert_eq!(t.len(), RecordClass::ALL.len());
    }

    #[test]
    fn the_table_says_what_the_sources_say() {
        let on = d(2026, 6, 30);
        assert_eq!(
            period(RecordClass::UnitRegistration, on),
            Ok(Period::Permanent)
        );
        assert_eq!(
            period(RecordClass::PersonRegistration, on),
            Ok(Period::Years(100))
        );
        assert_eq!(
            period(RecordClass::InjuryRecognition, on),
            Ok(Period::Years(50))
        );
        assert_eq!(
            period(RecordClass::DisabilityDeathBenefits, on),
            Ok(Period::Years(50))
        );
        assert_eq!(
            period(RecordClass::PaymentDetails, on),
            Ok(Period::Years(30))
        );
        assert_eq!(period(RecordClass::Vouchers, on), Ok(Period::Years(30)));
        assert_eq!(
            period(RecordClass::MonthlyStatistics, on),
            Ok(Period::Years(10))
        );
        assert_eq!(
            period(RecordClass::AnnualFinancialReport, on),
            Ok(Period::Permanent)
        );
        assert_eq!(
            period(RecordClass::Vouchers, d(2015, 12, 31)),
            Err(RetentionError::NotInForce(d(2015, 12, 31)))
        );
    }

    #[test]
    fn a_period_counts_from_the_first_of_january_after_closing() {
        assert_eq!(
            Period::Years(30).retain_until(d(2026, 1, 1)),
            Some(d(2057, 1, 1))
        );
        assert_eq!(
            Period::Years(30).retain_until(d(2026, 12, 31)),
            Some(d(2057, 1, 1))
        );
        assert_eq!(Period::Permanent.retain_until(d(2026, 6, 1)), None);
    }

    #[test]
    fn codes_go_both_ways() {
        for c in RecordClass::ALL {
            assert_eq!(RecordClass::from_code(c.code()), Some(c));
        }
        for p in [Period::Permanent, Period::Years(100), Period::Years(10)] {
            assert_eq!(Period::from_code(&p.code()), Some(p));
        }
        assert_eq!(Period::from_code("D0"), None);
        assert_eq!(Period::from_code("D101"), None);
        assert_eq!(Period::Years(50).label(), "50年");
    }
}
