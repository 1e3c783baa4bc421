//! The first review's form (初审, Art. 34 (二)): every fee line judged — invoice number,
//! provider and whether it is an agreement institution, date, amount, catalogue, the amount
//! allowed and the reason for any deduction — the stays, days and other facts the claimed items
//! need, and the opinion. Only the parts the claim's items need are shown. The page checks the
//! shape of what was typed (dates, amounts with at most two decimals) and says what is wrong next
//! to the field, keeping everything typed; the rules and the API decide the rest.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use swi_rules::benefits::Item;

/// Fee-line rows offered.
pub const FEE_ROWS: usize = 6;
/// Stay rows offered.
pub const STAY_ROWS: usize = 4;
/// Dependant rows offered.
pub const DEPENDANT_ROWS: usize = 3;

/// The fee items a fee line may belong to.
const FEE_ITEMS: [Item; 5] = [
    Item::Medical,
    Item::Rehabilitation,
    Item::OutOfCatalogue,
    Item::TravelLodging,
    Item::AssistiveDevice,
];

/// One input of the form: its name, what was typed, and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The field's name (and the id it is labelled by).
    pub name: String,
    /// What was typed.
    pub value: String,
    /// What is wrong, in Chinese.
    pub error: Option<String>,
}

/// One fee line's inputs.
#[derive(Debug, Clone)]
pub struct FeeRow {
    /// Its number, from 1.
    pub n: usize,
    /// `item`, `invoice`, `provider`, `date`, `amount`, `catalogue`, `allowed`, `reason`.
    pub item: Input,
    /// Invoice number.
    pub invoice: Input,
    /// Provider.
    pub provider: Input,
    /// An agreement institution (checkbox).
    pub agreement: Input,
    /// Date.
    pub date: Input,
    /// Amount.
    pub amount: Input,
    /// `within` or `outside`.
    pub catalogue: Input,
    /// Allowed.
    pub allowed: Input,
    /// Deduction reason.
    pub reason: Input,
}

impl FeeRow {
    /// The text inputs, with their labels, in order.
    #[must_use]
    pub fn texts(&self) -> Vec<(&Input, &'static str)> {
        vec![
            (&self.invoice, "发票号码"),
            (&self.provider, "医疗机构"),
            (&self.date, "费用日期（年-月-日）"),
            (&self.amount, "金额（元）"),
            (&self.allowed, "核准金额（元，留空为全额）"),
            (&self.reason, "核减理由"),
        ]
    }
}

/// One stay's inputs.
#[derive(Debug, Clone)]
pub struct StayRow {
    /// Its number, from 1.
    pub n: usize,
    /// Admitted.
    pub admitted: Input,
    /// Discharged.
    pub discharged: Input,
}

impl StayRow {
    /// The inputs, with their labels.
    #[must_use]
    pub fn texts(&self) -> Vec<(&Input, &'static str)> {
        vec![
            (&self.admitted, "入院日期（年-月-日）"),
            (&self.discharged, "出院日期（年-月-日）"),
        ]
    }
}

/// One dependant's inputs.
#[derive(Debug, Clone)]
pub struct DependantRow {
    /// Its number, from 1.
    pub n: usize,
    /// Name.
    pub name: Input,
    /// `spouse` or `other`.
    pub relation: Input,
    /// An orphan or a lone elder (checkbox).
    pub orphan: Input,
}

/// The form as shown: which parts the items need, and every input.
#[derive(Debug, Clone, Default)]
pub struct FirstReview {
    /// The fee items the claim has, as (identifier, Chinese).
    pub fee_items: Vec<(&'static str, &'static str)>,
    /// Fee lines.
    pub fees: Vec<FeeRow>,
    /// Stays (nursing subsidy).
    pub stays: Vec<StayRow>,
    /// Dependants (dependants' pension).
    pub dependants: Vec<DependantRow>,
    /// Scalars the items need: hospital days, travel days, paid-leave months, the device
    /// standard, what the work-injury fund paid, what a judgment awarded.
    pub scalars: Vec<(Input, &'static str, &'static str)>,
    /// Treated outside the pooling area (hospital food).
    pub outside_area: Option<Input>,
    /// The opinion.
    pub opinion: Input,
    /// Whether any input is wrong.
    pub invalid: bool,
}

fn input(typed: &BTreeMap<String, String>, name: String) -> Input {
    Input {
        value: typed.get(&name).cloned().unwrap_or_default(),
        name,
        error: None,
    }
}

impl FirstReview {
    /// The form for a claim of `items`, filled with `typed`.
    #[must_use]
    pub fn new(items: &[Item], typed: &BTreeMap<String, String>) -> Self {
        let has = |i: Item| items.contains(&i);
        let fee_items: Vec<_> = FEE_ITEMS
            .iter()
            .filter(|i| has(**i))
            .map(|i| (i.as_str(), i.chinese()))
            .collect();
        let fees = if fee_items.is_empty() {
            Vec::new()
        } else {
            (1..=FEE_ROWS)
                .map(|n| {
                    let f = |k: &str| input(typed, format!("fee{n}_{k}"));
                    FeeRow {
                        n,
                        item: f("item"),
                        invoice: f("invoice"),
                        provider: f("provider"),
                        agreement: f("agreement"),
                        date: f("date"),
                        amount: f("amount"),
                        catalogue: f("catalogue"),
                        allowed: f("allowed"),
                        reason: f("reason"),
                    }
                })
                .collect()
        };
        let stays = if has(Item::NursingSubsidy) {
            (1..=STAY_ROWS)
                .map(|n| StayRow {
                    n,
                    admitted: input(typed, format!("stay{n}_admitted")),
                    discharged: input(typed, format!("stay{n}_discharged")),
                })
                .collect()
        } else {
            Vec::new()
        };
        let dependants = if has(Item::DependantPension) {
            (1..=DEPENDANT_ROWS)
                .map(|n| DependantRow {
                    n,
                    name: input(typed, format!("dep{n}_name")),
                    relation: input(typed, format!("dep{n}_relation")),
                    orphan: input(typed, format!("dep{n}_orphan")),
                })
                .collect()
        } else {
            Vec::new()
        };
        let medical = items.iter().any(|i| i.is_medical_fee());
        let mut scalars = Vec::new();
        let mut scalar = |on: bool, name: &str, label: &'static str, hint: &'static str| {
            if on {
                scalars.push((input(typed, name.to_owned()), label, hint));
            }
        };
        scalar(
            has(Item::HospitalFood),
            "hospital_days",
            "住院天数",
            "住院伙食补助费按住院天数计",
        );
        scalar(
            has(Item::TravelLodging),
            "travel_days",
            "异地就医天数",
            "异地交通住宿费按天数计",
        );
        scalar(
            has(Item::WageSubsidy),
            "paid_leave_months",
            "停工留薪期月数",
            "可含小数，如 2.5",
        );
        scalar(
            has(Item::AssistiveDevice),
            "device_standard",
            "辅助器具目录标准（元）",
            "按目录标准核定",
        );
        scalar(
            medical,
            "paid_by_work_injury_fund",
            "工伤保险基金已支付（元）",
            "同一费用由工伤保险基金支付的部分不重复支付（第二十五条）",
        );
        scalar(
            medical,
            "judgment_medical",
            "民事赔偿确定的医疗费（元）",
            "涉及第三人责任时填写（第二十八条）",
        );
        FirstReview {
            fee_items,
            fees,
            stays,
            dependants,
            scalars,
            outside_area: has(Item::HospitalFood).then(|| input(typed, "outside_area".into())),
            opinion: input(typed, "opinion".into()),
            invalid: false,
        }
    }

    /// The API's request from what was typed, or the form with a message by every wrong field.
    ///
    /// # Errors
    /// The form, its wrong fields marked.
    pub fn request(mut self) -> Result<Value, Box<Self>> {
        let mut fee_lines = Vec::new();
        let fee_items = self.fee_items.clone();
        for r in &mut self.fees {
            let typed = [
                &r.invoice,
                &r.provider,
                &r.date,
                &r.amount,
                &r.allowed,
                &r.reason,
            ]
            .iter()
            .any(|i| !i.value.trim().is_empty());
            if !typed {
                continue;
            }
            required(&mut r.invoice, "请填写发票号码", 64);
            required(&mut r.provider, "请填写医疗机构名称", 100);
            let date = date(&mut r.date);
            let amount = amount(&mut r.amount, true);
            let allowed = amount_or(&mut r.allowed, amount);
            if r.item.value.is_empty() && fee_items.len() == 1 {
                r.item.value = fee_items[0].0.to_owned();
            }
            if !fee_items.iter().any(|(k, _)| *k == r.item.value) {
                r.item.error = Some("请选择费用所属的待遇项目".into());
            }
            if !matches!(r.catalogue.value.as_str(), "within" | "outside") {
                r.catalogue.error = Some("请选择是否属于三个目录".into());
            }
            if let (Some(a), Some(b)) = (amount, allowed)
                && b < a
                && r.reason.value.trim().is_empty()
            {
                r.reason.error = Some("核减时请写明理由".into());
            }
            fee_lines.push(json!({
                "item": r.item.value,
                "invoice_number": r.invoice.value.trim(),
                "provider": r.provider.value.trim(),
                "agreement_institution": !r.agreement.value.is_empty(),
                "date": date,
                "amount": amount.map(|a| a.to_string()),
                "catalogue": r.catalogue.value,
                "allowed": allowed.map(|a| a.to_string()),
                "deduction_reason": (!r.reason.value.trim().is_empty()).then(|| r.reason.value.trim().to_owned()),
            }));
        }
        let mut stays = Vec::new();
        for s in &mut self.stays {
            if s.admitted.value.trim().is_empty() && s.discharged.value.trim().is_empty() {
                continue;
            }
            let a = date(&mut s.admitted);
            let d = date(&mut s.discharged);
            if let (Some(a), Some(d)) = (&a, &d)
                && d < a
            {
                s.discharged.error = Some("出院日期不能早于入院日期".into());
            }
            stays.push(json!({ "admitted": a, "discharged": d }));
        }
        let mut dependants = Vec::new();
        for d in &mut self.dependants {
            if d.name.value.trim().is_empty() {
                continue;
            }
            required(&mut d.name, "请填写姓名", 40);
            if !matches!(d.relation.value.as_str(), "spouse" | "other") {
                d.relation.error = Some("请选择与死者的关系".into());
            }
            dependants.push(json!({
                "name": d.name.value.trim(),
                "relation": d.relation.value,
                "orphan_or_lone_elder": !d.orphan.value.is_empty(),
            }));
        }
        let mut body = json!({
            "fee_lines": fee_lines,
            "stays": stays,
            "dependants": dependants,
        });
        for (i, _, _) in &mut self.scalars {
            if i.value.trim().is_empty() {
                continue;
            }
            let v = match i.name.as_str() {
                "hospital_days" | "travel_days" => days(i).map(Value::from),
                _ => amount(i, false).map(|a| Value::from(a.to_string())),
            };
            if let Some(v) = v {
                body[i.name.as_str()] = v;
            }
        }
        if let Some(o) = &self.outside_area {
            body["outside_area"] = Value::from(!o.value.is_empty());
        }
        required(&mut self.opinion, "请填写初审意见", 2000);
        body["opinion"] = Value::from(self.opinion.value.trim());
        let wrong = self.fees.iter().any(|r| {
            [
                &r.item,
                &r.invoice,
                &r.provider,
                &r.date,
                &r.amount,
                &r.catalogue,
                &r.allowed,
                &r.reason,
            ]
            .iter()
            .any(|i| i.error.is_some())
        }) || self
            .stays
            .iter()
            .any(|s| s.admitted.error.is_some() || s.discharged.error.is_some())
            || self
                .dependants
                .iter()
                .any(|d| d.name.error.is_some() || d.relation.error.is_some())
            || self.scalars.iter().any(|(i, _, _)| i.error.is_some())
            || self.opinion.error.is_some();
        if wrong {
            self.invalid = true;
            return Err(Box::new(self));
        }
        Ok(body)
    }

    /// The first wrong field's id and message (for the error summary).
    #[must_use]
    pub fn first_error(&self) -> Option<(String, String)> {
        let fees = self.fees.iter().flat_map(|r| {
            [
                &r.item,
                &r.invoice,
                &r.provider,
                &r.date,
                &r.amount,
                &r.catalogue,
                &r.allowed,
                &r.reason,
            ]
        });
        let stays = self.stays.iter().flat_map(|s| [&s.admitted, &s.discharged]);
        let deps = self.dependants.iter().flat_map(|d| [&d.name, &d.relation]);
        let scalars = self.scalars.iter().map(|(i, _, _)| i);
        fees.chain(stays)
            .chain(deps)
            .chain(scalars)
            .chain(std::iter::once(&self.opinion))
            .find_map(|i| i.error.clone().map(|e| (i.name.clone(), e)))
    }
}

fn required(i: &mut Input, message: &str, max: usize) {
    let n = i.value.trim().chars().count();
    if n == 0 {
        i.error = Some(message.into());
    } else if n > max {
        i.error = Some(format!("不能超过 {max} 个字"));
    }
}

fn date(i: &mut Input) -> Option<String> {
    match NaiveDate::parse_from_str(i.value.trim(), "%Y-%m-%d") {
        Ok(d) if (2000..=2100).contains(&chrono::Datelike::year(&d)) => Some(d.to_string()),
        _ => {
            i.error = Some("请按 年-月-日 填写日期，如 2025-07-10".into());
            None
        }
    }
}

/// A plain decimal with at most two places, 0 to 99,999,999.99 (as the API accepts).
fn amount(i: &mut Input, required: bool) -> Option<Decimal> {
    let t = i.value.trim();
    if t.is_empty() {
        if required {
            i.error = Some("请填写金额".into());
        }
        return None;
    }
    let plain = t.len() <= 12
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.split('.').count() <= 2
        && t.split('.')
            .nth(1)
            .is_none_or(|f| !f.is_empty() && f.len() <= 2)
        && !t.starts_with('.');
    match t.parse::<Decimal>() {
        Ok(d) if plain && d < Decimal::from(100_000_000) => Some(d),
        _ => {
            i.error = Some("金额须为不超过两位小数的数字，如 1200.50".into());
            None
        }
    }
}

fn amount_or(i: &mut Input, default: Option<Decimal>) -> Option<Decimal> {
    if i.value.trim().is_empty() {
        if let Some(d) = default {
            i.value = d.to_string();
        }
        return default;
    }
    amount(i, true)
}

fn days(i: &mut Input) -> Option<u32> {
    match i.value.trim().parse::<u32>() {
        Ok(d) if d <= 3660 => Some(d),
        _ => {
            i.error = Some("天数须为 0-3660 的整数".into());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly")]
    use super::*;

    fn typed(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_nursing_claim_asks_for_stays_and_sends_them() {
        let f = FirstReview::new(
            &[Item::NursingSubsidy],
            &typed(&[
                ("stay1_admitted", "2025-07-10"),
                ("stay1_discharged", "2025-07-25"),
                ("opinion", "按住院天数核定"),
            ]),
        );
        assert!(f.fees.is_empty() && f.stays.len() == STAY_ROWS);
        let body = f.request().unwrap();
        assert_eq!(body["stays"][0]["discharged"], "2025-07-25");
        assert_eq!(body["opinion"], "按住院天数核定");
    }

    #[test]
    fn wrong_fields_are_marked_and_what_was_typed_is_kept() {
        let f = FirstReview::new(
            &[Item::OutOfCatalogue],
            &typed(&[
                ("fee1_invoice", "FP-1"),
                ("fee1_provider", "赣州市人民医院"),
                ("fee1_date", "2025-13-01"),
                ("fee1_amount", "1e5"),
                ("fee1_catalogue", "outside"),
            ]),
        );
        let f = f.request().unwrap_err();
        assert!(f.fees[0].date.error.is_some() && f.fees[0].amount.error.is_some());
        assert_eq!(f.fees[0].amount.value, "1e5", "kept as typed");
        assert!(f.opinion.error.is_some());
        assert_eq!(f.first_error().unwrap().0, "fee1_date");
    }

    #[test]
    fn a_deduction_needs_its_reason() {
        let f = FirstReview::new(
            &[Item::OutOfCatalogue],
            &typed(&[
                ("fee1_invoice", "FP-1"),
                ("fee1_provider", "医院"),
                ("fee1_date", "2025-07-12"),
                ("fee1_amount", "3000.00"),
                ("fee1_allowed", "2500"),
                ("fee1_catalogue", "outside"),
                ("opinion", "扣减"),
            ]),
        );
        let f = f.request().unwrap_err();
        assert!(f.fees[0].reason.error.is_some());
    }
}
