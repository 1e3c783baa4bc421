//! Categories of insured persons and industry classes (Art. 6, 14).
//!
//! Identifiers follow the glossary. Which rate table a category pays and which industry class it
//! is rated in are rules of Art. 14, kept here in one place.

use std::fmt;
use std::str::FromStr;

use crate::citation::{Citation, Doc, art};

/// Category of an insured person (`category`, Art. 6, 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// 已参加工伤保险的参保职工: ordinary insured employee.
    Employee,
    /// 超龄人员: past legal retirement age, at most 70.
    OverAge,
    /// 实（见）习人员: intern or trainee, at least 16.
    Intern,
    /// 村（社区）“两委”人员、大学生村官.
    VillageCadre,
    /// 家政服务新业态从业人员.
    PlatformDomestic,
    /// 出行 (ride-hailing) platform worker.
    PlatformRideHailing,
    /// 外卖 (food delivery) platform worker.
    PlatformFoodDelivery,
    /// 即时配送 (instant delivery) platform worker.
    PlatformInstantDelivery,
    /// 同城货运 (same-city freight) platform worker.
    PlatformFreight,
    /// 志愿者.
    Volunteer,
    /// 农民专业合作社成员及聘用劳务人员.
    Cooperative,
    /// 灵活就业人员.
    Flexible,
}

impl Category {
    /// Every category, in glossary order.
    pub const ALL: [Category; 12] = [
        Category::Employee,
        Category::OverAge,
        Category::Intern,
        Category::VillageCadre,
        Category::PlatformDomestic,
        Category::PlatformRideHailing,
        Category::PlatformFoodDelivery,
        Category::PlatformInstantDelivery,
        Category::PlatformFreight,
        Category::Volunteer,
        Category::Cooperative,
        Category::Flexible,
    ];

    /// The glossary identifier.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Employee => "employee",
            Category::OverAge => "over_age",
            Category::Intern => "intern",
            Category::VillageCadre => "village_cadre",
            Category::PlatformDomestic => "platform_domestic",
            Category::PlatformRideHailing => "platform_ride_hailing",
            Category::PlatformFoodDelivery => "platform_food_delivery",
            Category::PlatformInstantDelivery => "platform_instant_delivery",
            Category::PlatformFreight => "platform_freight",
            Category::Volunteer => "volunteer",
            Category::Cooperative => "cooperative",
            Category::Flexible => "flexible",
        }
    }

    /// The Chinese name.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            Category::Employee => "已参加工伤保险的参保职工",
            Category::OverAge => "超龄人员",
            Category::Intern => "实（见）习人员",
            Category::VillageCadre => "村（社区）“两委”人员、大学生村官",
            Category::PlatformDomestic => "家政服务新业态从业人员",
            Category::PlatformRideHailing => "出行新业态从业人员",
            Category::PlatformFoodDelivery => "外卖新业态从业人员",
            Category::PlatformInstantDelivery => "即时配送新业态从业人员",
            Category::PlatformFreight => "同城货运新业态从业人员",
            Category::Volunteer => "志愿者",
            Category::Cooperative => "农民专业合作社成员及聘用劳务人员",
            Category::Flexible => "灵活就业人员",
        }
    }

    /// Every category but `employee` is a special person (特定人员), Art. 6.
    #[must_use]
    pub const fn is_special(self) -> bool {
        !matches!(self, Category::Employee)
    }

    /// A new-form platform worker (新业态人员), Art. 6.
    #[must_use]
    pub const fn is_platform(self) -> bool {
        matches!(
            self,
            Category::PlatformDomestic
                | Category::PlatformRideHailing
                | Category::PlatformFoodDelivery
                | Category::PlatformInstantDelivery
                | Category::PlatformFreight
        )
    }

    /// The industry class fixed for the category by Art. 14, or `None` for the categories rated
    /// in their employer's class (`employee`, `over_age`, `intern`).
    ///
    /// Art. 14: 村（社区）“两委”人员、大学生村官（大学生基层专干）缴费按用人单位一类行业缴费标准
    /// 缴纳，家政服务新业态从业人员按用人单位二类行业缴费标准缴纳，出行、外卖、即时配送、同城货运
    /// 新业态从业人员按用人单位五类行业缴费标准缴纳，志愿者以及灵活就业人员按用人单位二类行业费率
    /// 标准缴纳…农民专业合作社从业人员按用人单位四类行业缴费标准缴纳.
    #[must_use]
    pub const fn fixed_class(self) -> Option<IndustryClass> {
        match self {
            Category::Employee | Category::OverAge | Category::Intern => None,
            Category::VillageCadre => Some(IndustryClass(1)),
            Category::PlatformDomestic | Category::Volunteer | Category::Flexible => {
                Some(IndustryClass(2))
            }
            Category::Cooperative => Some(IndustryClass(4)),
            Category::PlatformRideHailing
            | Category::PlatformFoodDelivery
            | Category::PlatformInstantDelivery
            | Category::PlatformFreight => Some(IndustryClass(5)),
        }
    }

    /// Whether the person may (or must) pay personally (Art. 16, 19): flexible workers pay
    /// themselves; platform workers may choose to.
    #[must_use]
    pub const fn may_pay_personally(self) -> bool {
        matches!(self, Category::Flexible) || self.is_platform()
    }

    /// The article that classes the category.
    #[must_use]
    pub const fn basis() -> Citation {
        art(14)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The category identifier is not one of the glossary's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{0}`")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCategory(s.to_owned()))
    }
}

/// A category travels as its glossary identifier (`"over_age"`).
impl serde::Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Work-injury industry class (工伤保险行业类别) 1-8 (Art. 13-14; 人社部发〔2015〕71号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndustryClass(u8);

impl IndustryClass {
    /// A class from its number.
    ///
    /// # Errors
    /// A number outside 1-8.
    pub fn new(n: u32) -> Result<Self, String> {
        match u8::try_from(n) {
            Ok(n @ 1..=8) => Ok(IndustryClass(n)),
            _ => Err(format!("industry class {n} is outside 1-8")),
        }
    }

    /// The class number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Display for IndustryClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The industry class of a GB/T 4754-2011 division (大类, two digits 01-96), per the national
/// table of 人社部发〔2015〕71号 that Ganzhou follows (Art. 13; FIGURES §G).
///
/// # Errors
/// A division number that GB/T 4754-2011 does not define.
pub fn industry_class_of_division(division: u8) -> Result<(IndustryClass, Citation), String> {
    let class = match division {
        65..=69 | 75 | 84 | 86 | 90..=96 => 1,
        51 | 52 | 59..=64 | 70..=74 | 79 | 81..=83 | 85 | 87 => 2,
        13..=17 | 20 | 24 | 39..=41 | 46 | 76..=78 | 80 | 89 => 3,
        1 | 3 | 5 | 18 | 19 | 23 | 27..=29 | 33..=38 | 42..=45 | 53 | 56 | 57 | 88 => 4,
        2 | 11 | 21 | 22 | 49 | 50 | 54 | 55 | 58 => 5,
        4 | 26 | 30..=32 | 47 | 48 => 6,
        7 | 12 | 25 => 7,
        6 | 8..=10 => 8,
        _ => return Err(format!("{division:02} is not a GB/T 4754-2011 division")),
    };
    Ok((
        IndustryClass(class),
        crate::citation::doc(Doc::RateNotice2015),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
        }
        assert!("retired".parse::<Category>().is_err());
    }

    #[test]
    fn art_14_fixes_the_class_of_special_categories() {
        assert_eq!(Category::VillageCadre.fixed_class(), Some(IndustryClass(1)));
        assert_eq!(
            Category::PlatformDomestic.fixed_class(),
            Some(IndustryClass(2))
        );
        assert_eq!(
            Category::PlatformFreight.fixed_class(),
            Some(IndustryClass(5))
        );
        assert_eq!(Category::Volunteer.fixed_class(), Some(IndustryClass(2)));
        assert_eq!(Category::Flexible.fixed_class(), Some(IndustryClass(2)));
        assert_eq!(Category::Cooperative.fixed_class(), Some(IndustryClass(4)));
        assert_eq!(Category::OverAge.fixed_class(), None);
        assert!(!Category::Employee.is_special());
        assert!(Category::Intern.is_special());
    }

    #[test]
    fn every_division_01_to_96_has_exactly_one_class() {
        for d in 1..=96u8 {
            assert!(industry_class_of_division(d).is_ok(), "{d}");
        }
        assert!(industry_class_of_division(0).is_err());
        assert!(industry_class_of_division(97).is_err());
        let class = |d| industry_class_of_division(d).unwrap().0.get();
        assert_eq!(class(65), 1); // software
        assert_eq!(class(62), 2); // catering
        assert_eq!(class(47), 6); // building construction
        assert_eq!(class(6), 8); // coal mining
        assert_eq!(class(25), 7); // refining
        assert_eq!(class(54), 5); // road transport
    }

    #[test]
    fn industry_class_refuses_zero_and_nine() {
        assert!(IndustryClass::new(0).is_err());
        assert!(IndustryClass::new(9).is_err());
        assert_eq!(IndustryClass::new(8).unwrap().get(), 8);
    }
}
