//! The chart of accounts (会计科目表) of the Social Insurance Fund Accounting System
//! (《社会保险基金会计制度》, 财会〔2017〕28号, part two), as the work-injury fund keeps it: the
//! ministry's four-digit codes and names exactly (the system requires them unchanged, 总说明
//! 十(二)), without the accounts it reserves for other funds (pension investment, rural
//! co-operative medical risk fund, medical insurance's serious-illness and deferred accounts,
//! unemployment's subsidies).
//!
//! Below the four-digit level the system sets no codes; an office adds the detail it needs
//! (十(四)). The three benefit sub-accounts of 5001 the system names for the work-injury fund
//! (工伤医疗待遇支出, 伤残待遇支出, 工亡待遇支出) carry this system's own six-digit codes, marked
//! [`Origin::Local`]. A supplement to the accounting system dated 2026-01-12 was announced and is
//! not reflected here: its text was not available when this chart was made.

use serde::{Deserialize, Serialize};

/// The five elements of the accounts (总说明 六).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 资产.
    Asset,
    /// 负债.
    Liability,
    /// 净资产.
    NetAssets,
    /// 收入.
    Income,
    /// 支出.
    Expense,
}

impl Category {
    /// Whether an account of this category grows by debits (assets, expenses) rather than by
    /// credits (liabilities, net assets, income).
    #[must_use]
    pub const fn debit_normal(self) -> bool {
        matches!(self, Category::Asset | Category::Expense)
    }

    /// The Chinese name.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Category::Asset => "资产",
            Category::Liability => "负债",
            Category::NetAssets => "净资产",
            Category::Income => "收入",
            Category::Expense => "支出",
        }
    }
}

/// Whose code an account carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The ministry's (财会〔2017〕28号).
    Ministry,
    /// This system's detail under a ministry account (十(四)).
    Local,
}

/// An account of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject {
    /// Code.
    pub code: &'static str,
    /// Name, as the system writes it.
    pub name: &'static str,
    /// Element.
    pub category: Category,
    /// Whose code.
    pub origin: Origin,
}

const fn ministry(code: &'static str, name: &'static str, category: Category) -> Subject {
    Subject {
        code,
        name,
        category,
        origin: Origin::Ministry,
    }
}

const fn local(code: &'static str, name: &'static str, category: Category) -> Subject {
    Subject {
        code,
        name,
        category,
        origin: Origin::Local,
    }
}

/// The chart, in code order.
pub const CHART: &[Subject] = &[
    ministry("1001", "库存现金", Category::Asset),
    ministry("1002", "收入户存款", Category::Asset),
    ministry("1003", "财政专户存款", Category::Asset),
    ministry("1004", "支出户存款", Category::Asset),
    ministry("1005", "国库存款", Category::Asset),
    ministry("1101", "暂付款", Category::Asset),
    ministry("1201", "债券投资", Category::Asset),
    ministry("2001", "暂收款", Category::Liability),
    ministry("2101", "借入款项", Category::Liability),
    ministry("3001", "一般基金结余", Category::NetAssets),
    ministry("3201", "储备金结余", Category::NetAssets),
    ministry("4001", "社会保险费收入", Category::Income),
    ministry("4101", "财政补贴收入", Category::Income),
    ministry("4201", "利息收入", Category::Income),
    ministry("4301", "转移收入", Category::Income),
    ministry("4401", "上级补助收入", Category::Income),
    ministry("4402", "下级上解收入", Category::Income),
    ministry("4501", "其他收入", Category::Income),
    ministry("5001", "社会保险待遇支出", Category::Expense),
    local("500101", "工伤医疗待遇支出", Category::Expense),
    local("500102", "伤残待遇支出", Category::Expense),
    local("500103", "工亡待遇支出", Category::Expense),
    ministry("5102", "劳动能力鉴定支出", Category::Expense),
    ministry("5103", "工伤预防费用支出", Category::Expense),
    ministry("5201", "转移支出", Category::Expense),
    ministry("5301", "上解上级支出", Category::Expense),
    ministry("5302", "补助下级支出", Category::Expense),
    ministry("5401", "其他支出", Category::Expense),
];

/// The account with `code`, if the chart has it.
#[must_use]
pub fn subject(code: &str) -> Option<&'static Subject> {
    CHART.iter().find(|s| s.code == code)
}

/// The account a detail account is under (`500102` is under `5001`); `None` for a ministry
/// account.
#[must_use]
pub fn parent(s: &Subject) -> Option<&'static Subject> {
    match s.origin {
        Origin::Ministry => None,
        Origin::Local => s.code.get(..4).and_then(subject),
    }
}

/// Whether entries may be posted to `s`: a ministry account with detail accounts takes its
/// entries on them, never on itself.
#[must_use]
pub fn postable(s: &Subject) -> bool {
    !CHART
        .iter()
        .any(|d| parent(d).is_some_and(|p| p.code == s.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_in_order_and_their_element_is_their_first_digit() {
        for w in CHART.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for s in CHART {
            let expected = match &s.code[..1] {
                "1" => Category::Asset,
                "2" => Category::Liability,
                "3" => Category::NetAssets,
                "4" => Category::Income,
                _ => Category::Expense,
            };
            assert_eq!(s.category, expected, "{}", s.code);
            match s.origin {
                Origin::Ministry => assert_eq!(s.code.len(), 4),
                Origin::Local => assert_eq!(parent(s).map(|p| p.category), Some(s.category)),
            }
        }
    }

    #[test]
    fn the_ministrys_bank_accounts_are_where_it_puts_them() {
        // A chart seen in public code swaps these two: the system's order is fiscal account
        // 1003, payments account 1004.
        assert_eq!(subject("1003").unwrap().name, "财政专户存款");
        assert_eq!(subject("1004").unwrap().name, "支出户存款");
        assert_eq!(subject("3201").unwrap().name, "储备金结余");
        assert!(subject("1202").is_none(), "pension funds only");
    }

    #[test]
    fn benefits_are_posted_to_their_detail_accounts() {
        let benefits = subject("5001").unwrap();
        assert!(!postable(benefits));
        let disability = subject("500102").unwrap();
        assert!(postable(disability));
        assert_eq!(parent(disability), Some(benefits));
        assert!(postable(subject("1004").unwrap()));
    }
}
