//! The one-time notice (一次性告知书, Art. 34: 材料不符或缺少的一次性告知原因并退回):
//! every missing material and every problem, told at once, for an enrolment or a claim alike.

use chrono::NaiveDate;

use crate::{Field, Form, chinese_date};

/// What a one-time notice tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeNotice {
    /// What is returned (`补充工伤保险参保登记`, `补充工伤保险待遇申领`).
    pub business: String,
    /// The form number (`GZBG-CB-02`).
    pub number: String,
    /// The case's serial (its id).
    pub serial: String,
    /// Who and what it concerns, as boxed fields.
    pub subject: Vec<Field>,
    /// Materials missing, by their Chinese names.
    pub missing: Vec<String>,
    /// Other problems to correct, each a sentence.
    pub problems: Vec<String>,
    /// Issued by (display name).
    pub issued_by: String,
    /// Issued on (China date).
    pub issued_on: NaiveDate,
}

impl OneTimeNotice {
    /// The form: the subject, then each missing material and each problem numbered, the
    /// statement citing Art. 34, the signatures and the date in Chinese.
    #[must_use]
    pub fn form(&self) -> Form {
        let items = self
            .missing
            .iter()
            .map(|m| format!("缺少材料：{m}"))
            .chain(self.problems.iter().map(|p| format!("需补正：{p}")));
        Form {
            title: format!("{}一次性告知书", self.business),
            number: format!("表号：{}", self.number),
            serial: format!("编号：{}", self.serial),
            fields: self
                .subject
                .iter()
                .cloned()
                .chain(items.enumerate().map(|(i, t)| Field {
                    label: format!("告知事项{}", i + 1),
                    value: t,
                }))
                .collect(),
            statement: format!(
                "经审查，您提交的{}材料不全或有误。根据《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第三十四条，现一次性告知上述全部事项，请补齐或更正后重新提交。",
                self.business
            ),
            signatures: vec![
                format!("受理人：{}", self.issued_by),
                "承办机构（盖章）".into(),
            ],
            date_line: chinese_date(self.issued_on),
            verification: None,
        }
    }
}
