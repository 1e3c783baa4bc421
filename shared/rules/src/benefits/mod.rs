//! Benefits (Chapters 5-6, Art. 23-35): the items, who may receive which, when cover ends after a
//! lump sum, who is paid, and the limits against double payment.
//!
//! The amounts are computed in [`formulas`], the nursing subsidy and the insured wage in their own
//! modules; what counts across the claims of one injury in [`per_injury`].

pub mod formulas;
pub mod insured_wage;
pub mod nursing;
pub mod per_injury;

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::RuleError;
use crate::category::Category;
use crate::citation::{Citation, art};
use crate::money::round_fen;

/// A benefit item (`item`, Art. 25-32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// 医疗费.
    Medical,
    /// 康复费.
    Rehabilitation,
    /// 住院伙食补助费.
    HospitalFood,
    /// 异地交通住宿费.
    TravelLodging,
    /// 目录外医疗（康复）费.
    OutOfCatalogue,
    /// 停工留薪期护理补助.
    NursingSubsidy,
    /// 停工留薪期工资补助.
    WageSubsidy,
    /// 伤残津贴 (monthly).
    DisabilityAllowance,
    /// 生活护理费 (monthly).
    LivingCare,
    /// 供养亲属抚恤金 (monthly).
    DependantPension,
    /// 一次性伤残补助金.
    OneTimeDisability,
    /// 一次性医疗补助金.
    OneTimeMedical,
    /// 一次性伤残就业（职业）补助金.
    OneTimeEmployment,
    /// 一次性工亡（身亡）补助金.
    OneTimeDeath,
    /// 丧葬补助金.
    Funeral,
    /// 辅助器具配置费.
    AssistiveDevice,
}

/// Who receives a payment (Art. 35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payee {
    /// The unit's account (用人单位).
    Unit,
    /// The person's social-security card (个人社保卡).
    Person,
    /// The dependant (供养亲属).
    Dependant,
    /// The close relatives (近亲属).
    Relatives,
}

impl Payee {
    /// The identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Payee::Unit => "unit",
            Payee::Person => "person",
            Payee::Dependant => "dependant",
            Payee::Relatives => "relatives",
        }
    }
}

/// Each item: identifier, Chinese name, payee in principle (Art. 35), the article that grants it.
/// The payee column is this project's reading of Art. 35: items sharing the employer's risk go to
/// the unit, items raising the person's benefit to the person. Change it here, in one place.
const ITEMS: [(Item, &str, &str, Payee, u16); 16] = [
    (Item::Medical, "medical", "医疗费", Payee::Person, 25),
    (
        Item::Rehabilitation,
        "rehabilitation",
        "康复费",
        Payee::Person,
        25,
    ),
    (
        Item::HospitalFood,
        "hospital_food",
        "住院伙食补助费",
        Payee::Person,
        25,
    ),
    (
        Item::TravelLodging,
        "travel_lodging",
        "异地交通住宿费",
        Payee::Person,
        25,
    ),
    (
        Item::OutOfCatalogue,
        "out_of_catalogue",
        "目录外医疗（康复）费",
        Payee::Person,
        25,
    ),
    (
        Item::NursingSubsidy,
        "nursing_subsidy",
        "停工留薪期护理补助",
        Payee::Unit,
        26,
    ),
    (
        Item::WageSubsidy,
        "wage_subsidy",
        "停工留薪期工资补助",
        Payee::Unit,
        27,
    ),
    (
        Item::DisabilityAllowance,
        "disability_allowance",
        "伤残津贴",
        Payee::Person,
        30,
    ),
    (
        Item::LivingCare,
        "living_care",
        "生活护理费",
        Payee::Person,
        30,
    ),
    (
        Item::DependantPension,
        "dependant_pension",
        "供养亲属抚恤金",
        Payee::Dependant,
        32,
    ),
    (
        Item::OneTimeDisability,
        "one_time_disability",
        "一次性伤残补助金",
        Payee::Person,
        30,
    ),
    (
        Item::OneTimeMedical,
        "one_time_medical",
        "一次性医疗补助金",
        Payee::Person,
        30,
    ),
    (
        Item::OneTimeEmployment,
        "one_time_employment",
        "一次性伤残就业（职业）补助金",
        Payee::Person,
        29,
    ),
    (
        Item::OneTimeDeath,
        "one_time_death",
        "一次性工亡（身亡）补助金",
        Payee::Relatives,
        32,
    ),
    (Item::Funeral, "funeral", "丧葬补助金", Payee::Relatives, 32),
    (
        Item::AssistiveDevice,
        "assistive_device",
        "辅助器具配置费",
        Payee::Person,
        30,
    ),
];

impl Item {
    /// Every item, in glossary order.
    pub const ALL: [Item; 16] = {
        let mut all = [Item::Medical; 16];
        let mut i = 0;
        while i < 16 {
            all[i] = ITEMS[i].0;
            i += 1;
        }
        all
    };

    fn row(self) -> &'static (Item, &'static str, &'static str, Payee, u16) {
        // ITEMS is in declaration order, so the discriminant indexes it.
        &ITEMS[self as usize]
    }

    /// The glossary identifier.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    /// The Chinese name.
    #[must_use]
    pub fn chinese(self) -> &'static str {
        self.row().2
    }

    /// The article granting the item.
    #[must_use]
    pub fn article(self) -> Citation {
        art(self.row().4)
    }

    /// Paid monthly (Art. 30, 32, 35): disability allowance, living care, dependant's pension.
    #[must_use]
    pub const fn is_monthly(self) -> bool {
        matches!(
            self,
            Item::DisabilityAllowance | Item::LivingCare | Item::DependantPension
        )
    }

    /// A medical-fee item, subject to the third-party comparison of Art. 28.
    #[must_use]
    pub const fn is_medical_fee(self) -> bool {
        matches!(
            self,
            Item::Medical | Item::Rehabilitation | Item::OutOfCatalogue
        )
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The item identifier is not one of the glossary's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown item `{0}`")]
pub struct UnknownItem(pub String);

impl FromStr for Item {
    type Err = UnknownItem;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ITEMS
            .iter()
            .find(|r| r.1 == s)
            .map(|r| r.0)
            .ok_or_else(|| UnknownItem(s.to_owned()))
    }
}

/// An item travels as its glossary identifier (`"nursing_subsidy"`).
impl serde::Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Who is paid an item (Art. 35: 补充工伤保险待遇用于分担用人单位用工风险的待遇项目原则上发放至
/// 用人单位，用于提高职工待遇水平的待遇项目原则上发放至个人社保卡，用人单位已先行垫付，提供支付
/// 凭据可发放至用人单位账户，按月发放的特定人员伤残津贴、护理费、供养亲属抚恤金除外): the item's
/// payee in principle; the unit when it advanced the money with proof, except for monthly
/// benefits. The category decides where the item's risk lies:
///
/// - an employee's one-time employment subsidy is claimed by the unit (Art. 29: 参保单位在为其申领
///   工伤保险一次性医疗补助金时同步申领补充工伤保险一次性伤残就业补助金) and shares its risk, so it
///   goes to the unit; a special person's occupational subsidy raises the person's benefit;
/// - a flexible worker has no unit (Art. 6, 16): what would go to a unit goes to the person, and
///   nothing can have been advanced by a unit.
///
/// `category` is required for the one-time employment subsidy; left out elsewhere, the person is
/// taken to be one with a unit (every category but `flexible`).
///
/// # Errors
/// `InvalidFacts` when the one-time employment subsidy is asked without a category, or a flexible
/// worker's unit is said to have advanced the money.
pub fn payee(
    item: Item,
    category: Option<Category>,
    advanced_by_unit: bool,
) -> Result<(Payee, Vec<Citation>), RuleError> {
    let mut basis = vec![art(35)];
    let category = match category {
        Some(c) => c,
        None if item == Item::OneTimeEmployment && !advanced_by_unit => {
            return Err(RuleError::InvalidFacts(format!(
                "`category` is required: who is paid {item} depends on it (Art. 29, 35)"
            )));
        }
        // Every category with a unit is paid alike here; which one does not matter.
        None => Category::VillageCadre,
    };
    let has_unit = category != Category::Flexible;
    if advanced_by_unit && !has_unit {
        return Err(RuleError::InvalidFacts(
            "a flexible worker has no unit that could have advanced the money (Art. 6, 35)".into(),
        ));
    }
    let in_principle = match item {
        Item::OneTimeEmployment if category == Category::Employee => {
            basis.push(art(29));
            Payee::Unit
        }
        _ => item.row().3,
    };
    let payee = if advanced_by_unit && !item.is_monthly() {
        Payee::Unit
    } else if in_principle == Payee::Unit && !has_unit {
        basis.push(art(6));
        Payee::Person
    } else {
        in_principle
    };
    Ok((payee, basis))
}

/// Why a category may not receive an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotEntitled {
    /// The article that decides it.
    pub basis: Citation,
    /// A stable code.
    pub code: &'static str,
}

impl NotEntitled {
    /// A sentence for people.
    #[must_use]
    pub fn message(&self, category: Category, item: Item) -> String {
        match self.code {
            "paid_by_work_injury_fund" => format!(
                "{item} of an {category} is paid by the work-injury fund, not by this scheme ({})",
                self.basis
            ),
            "no_occupational_subsidy" => format!(
                "{category} does not receive the one-time employment (occupational) subsidy ({})",
                self.basis
            ),
            _ => format!("{category} is not entitled to {item} ({})", self.basis),
        }
    }
}

/// Whether a category may receive an item from this scheme (Art. 25, 29-32).
///
/// Ordinary insured persons receive from it only what the work-injury fund does not pay:
/// out-of-catalogue fees (Art. 25), the nursing and wage subsidies (Art. 26-27), the one-time
/// employment subsidy (Art. 29) and the one-time death subsidy (Art. 32). Special persons receive
/// every item, but over-age, platform, flexible and cooperative workers never the one-time
/// employment (occupational) subsidy (Art. 31).
///
/// # Errors
/// The reason and article when the category may not receive the item.
pub fn may_receive(category: Category, item: Item) -> Result<Citation, NotEntitled> {
    if category == Category::Employee {
        return match item {
            Item::OutOfCatalogue
            | Item::NursingSubsidy
            | Item::WageSubsidy
            | Item::OneTimeEmployment
            | Item::OneTimeDeath => Ok(item.article()),
            _ => Err(NotEntitled {
                basis: if matches!(item, Item::Funeral | Item::DependantPension) {
                    art(32)
                } else if matches!(
                    item,
                    Item::Medical | Item::Rehabilitation | Item::HospitalFood | Item::TravelLodging
                ) {
                    art(25)
                } else {
                    art(29)
                },
                code: "paid_by_work_injury_fund",
            }),
        };
    }
    if item == Item::OneTimeEmployment && ends_after_one_time_medical(category) {
        return Err(NotEntitled {
            basis: art(31),
            code: "no_occupational_subsidy",
        });
    }
    Ok(item.article())
}

/// Over-age, platform, flexible and cooperative workers, whose relationship ends after the
/// one-time medical subsidy (Art. 31).
const fn ends_after_one_time_medical(category: Category) -> bool {
    matches!(
        category,
        Category::OverAge | Category::Flexible | Category::Cooperative
    ) || category.is_platform()
}

/// Whether paying the item ends the person's supplementary relationship (Art. 31: 工伤职工享受
/// 一次性伤残就业（职业）补助金后，补充工伤保险关系终止…超法定退休年龄人员、新就业形态从业人员、
/// 灵活就业人员和农民专业合作社成员及其雇佣人员…领取一次性医疗补助后，补充工伤保险关系终止).
#[must_use]
pub fn ends_cover(category: Category, item: Item) -> bool {
    match item {
        Item::OneTimeEmployment => true,
        Item::OneTimeMedical => ends_after_one_time_medical(category),
        _ => false,
    }
}

/// The third-party top-up (Art. 28: 根据民事赔偿法律文书确定的医疗费与工伤待遇中的医疗费比较，
/// 不足部分予以补足): the medical fees of the benefit less those the judgment awards, never below
/// zero, rounded half-up to the fen.
#[must_use]
pub fn third_party_top_up(
    benefit_medical: Decimal,
    judgment_medical: Decimal,
) -> (Decimal, Citation) {
    (
        round_fen((benefit_medical - judgment_medical).max(Decimal::ZERO)),
        art(28),
    )
}

/// No double payment (Art. 25: 由工伤保险基金支付的，补充工伤保险不重复支付): the amount assessed
/// less what the work-injury fund paid for the same fees, never below zero, rounded to the fen.
#[must_use]
pub fn net_of_work_injury_fund(assessed: Decimal, paid_by_fund: Decimal) -> (Decimal, Citation) {
    (
        round_fen((assessed - paid_by_fund).max(Decimal::ZERO)),
        art(25),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip_in_table_order() {
        for (i, item) in Item::ALL.into_iter().enumerate() {
            assert_eq!(item as usize, i);
            assert_eq!(item.as_str().parse::<Item>().unwrap(), item);
        }
    }

    #[test]
    fn employees_receive_only_what_the_fund_does_not_pay() {
        let ok: Vec<Item> = Item::ALL
            .into_iter()
            .filter(|i| may_receive(Category::Employee, *i).is_ok())
            .collect();
        assert_eq!(
            ok,
            vec![
                Item::OutOfCatalogue,
                Item::NursingSubsidy,
                Item::WageSubsidy,
                Item::OneTimeEmployment,
                Item::OneTimeDeath
            ]
        );
    }

    #[test]
    fn platform_and_flexible_workers_never_get_the_occupational_subsidy() {
        for c in [
            Category::OverAge,
            Category::PlatformFreight,
            Category::Flexible,
            Category::Cooperative,
        ] {
            assert_eq!(
                may_receive(c, Item::OneTimeEmployment).unwrap_err().basis,
                art(31)
            );
            assert!(ends_cover(c, Item::OneTimeMedical));
        }
        assert!(may_receive(Category::Intern, Item::OneTimeEmployment).is_ok());
        assert!(!ends_cover(Category::Intern, Item::OneTimeMedical));
        assert!(ends_cover(Category::Intern, Item::OneTimeEmployment));
    }

    #[test]
    fn the_unit_is_paid_what_it_advanced_except_monthly_benefits() {
        let to = |item, category, advanced| payee(item, category, advanced).unwrap().0;
        let v = Some(Category::Volunteer);
        assert_eq!(to(Item::NursingSubsidy, v, false), Payee::Unit);
        assert_eq!(to(Item::Medical, None, false), Payee::Person);
        assert_eq!(to(Item::Medical, None, true), Payee::Unit);
        assert_eq!(to(Item::DisabilityAllowance, v, true), Payee::Person);
        assert_eq!(to(Item::DependantPension, v, true), Payee::Dependant);
        assert_eq!(to(Item::Funeral, None, false), Payee::Relatives);
    }

    #[test]
    fn the_category_decides_the_employment_subsidy_and_a_flexible_worker_has_no_unit() {
        let to = |item, category, advanced| payee(item, Some(category), advanced);
        let (p, basis) = to(Item::OneTimeEmployment, Category::Employee, false).unwrap();
        assert_eq!(p, Payee::Unit);
        assert!(basis.contains(&art(29)));
        assert_eq!(
            to(Item::OneTimeEmployment, Category::Intern, false)
                .unwrap()
                .0,
            Payee::Person
        );
        assert_eq!(
            to(Item::NursingSubsidy, Category::Flexible, false)
                .unwrap()
                .0,
            Payee::Person
        );
        assert!(to(Item::Medical, Category::Flexible, true).is_err());
        assert!(payee(Item::OneTimeEmployment, None, false).is_err());
        assert_eq!(
            payee(Item::WageSubsidy, None, false).unwrap().0,
            Payee::Unit
        );
    }

    #[test]
    fn third_party_and_fund_payments_are_never_paid_twice() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            third_party_top_up(d("12000"), d("9000.005")).0,
            d("3000.00")
        );
        assert_eq!(third_party_top_up(d("5000"), d("8000")).0, d("0"));
        assert_eq!(
            net_of_work_injury_fund(d("800"), d("300.50")).0,
            d("499.50")
        );
        assert_eq!(net_of_work_injury_fund(d("800"), d("900")).0, d("0"));
    }
}
