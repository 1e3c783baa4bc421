//! Issuing bills: a bill's totals as lines are added, the operations that write it once, and
//! the first month's bill of an accepted enrolment (Art. 8: 参保生效时间以…单位办理参保缴费手续
//! 次日为准 — billed at acceptance, so that the joiner can pay at once).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_platform::mutation::Audit;
use swi_platform::{ApiError, ErrorCode};
use swi_registry::enrolment::Enrolment;
use swi_registry::unit::Unit;
use swi_rules::billing::{MonthTable, month_of};
use swi_rules::category::{Category, IndustryClass};
use swi_rules::{ParamSet, RuleError};
use swi_store::{Condition, Item, TxOp};

use crate::bill::{
    Basis, Bill, BillKind, BillStatus, Line, Listed, Owing, Payer, Tally, bill_case, bill_item,
    enrolment_bill_id, line_key, listed_sk, owing_pk, owing_sk, payer_pk,
};
use crate::lines::{Rating, line};

/// What a bill's amounts rest on, from its month's table.
#[must_use]
pub fn basis(table: &MonthTable<'_>) -> Basis {
    let (source, status) = table.average_wage_source().map_or_else(
        || (String::new(), String::new()),
        |u| (u.source.to_string(), u.status.to_string()),
    );
    Basis {
        articles: table.basis().iter().map(ToString::to_string).collect(),
        average_wage: table.average_wage(),
        average_wage_source: source,
        average_wage_status: status,
        whole_month: table.whole_month(),
        assumptions: table
            .assumptions()
            .map(|u| format!("{} ({}): {}", u.parameter, u.status, u.source))
            .collect(),
    }
}

/// A bill's totals, added to line by line (kept in a run's cursor between transactions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Lines.
    pub lines: u32,
    /// Amount.
    pub amount: Decimal,
    /// By category.
    pub by_category: BTreeMap<Category, Tally>,
}

impl Totals {
    /// Adds a line.
    pub fn add(&mut self, l: &Line) {
        self.lines += 1;
        self.amount += l.amount;
        let t = self.by_category.entry(l.category).or_default();
        t.persons += 1;
        t.amount += l.amount;
    }
}

/// Who issues a bill, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// When (China time).
    pub at: NaiveDateTime,
    /// Who (the run, or the clerk who accepted).
    pub by: String,
}

/// The facts of a bill other than its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: BillKind,
    /// Payer.
    pub payer: Payer,
    /// Payer's name.
    pub name: String,
    /// County.
    pub county: swi_rules::ids::County,
    /// The unit's rating, for a unit's bill.
    pub rating: Rating,
    /// Enrolments whose cover starts when it is paid.
    pub starts_cover: Vec<String>,
}

/// The bill of `heading` with `totals`, on `table`'s month.
#[must_use]
pub fn assemble(heading: Heading, table: &MonthTable<'_>, totals: Totals, issuer: Issuer) -> Bill {
    Bill {
        id: heading.id,
        kind: heading.kind,
        payer: heading.payer,
        name: heading.name,
        county: heading.county,
        month: table.month(),
        industry_class: heading.rating.class.map(IndustryClass::get),
        band: heading.rating.band,
        lines: totals.lines,
        amount: totals.amount,
        by_category: totals.by_category,
        due: table.due(),
        status: BillStatus::Owing,
        issued_at: issuer.at,
        issued_by: issuer.by,
        basis: basis(table),
        starts_cover: heading.starts_cover,
        payment: None,
        rebased: Vec::new(),
        lines_pending: false,
        refunded: Decimal::ZERO,
        project: None,
    }
}

/// The operation writing one line.
///
/// # Errors
/// Serialization (it does not fail).
pub fn line_op(bill: &str, l: &Line) -> Result<TxOp, ApiError> {
    let k = line_key(bill, &l.enrolment);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, l)?,
        condition: Condition::None,
    })
}

/// The operations writing a bill once (the bill must not exist), its place in its payer's list
/// and among the county's unpaid bills; its lines are written with [`line_op`].
///
/// # Errors
/// Serialization (it does not fail).
pub fn bill_ops(bill: &Bill) -> Result<Vec<TxOp>, ApiError> {
    Ok(vec![
        TxOp::Put {
            item: bill_item(bill)?,
            condition: Condition::NotExists,
        },
        TxOp::Put {
            item: Item::new(
                payer_pk(&bill.payer),
                listed_sk(bill),
                &Listed {
                    bill: bill.id.clone(),
                },
            )?,
            condition: Condition::None,
        },
        TxOp::Put {
            item: Item::new(owing_pk(bill.county), owing_sk(bill), &Owing::of(bill))?,
            condition: Condition::None,
        },
    ])
}

/// The audit event of a bill's issue.
#[must_use]
pub fn issued(bill: &Bill) -> Audit {
    Audit {
        case: bill_case(&bill.id),
        command: "bill.issue".into(),
        change: json!({
            "kind": bill.kind,
            "month": bill.month,
            "lines": bill.lines,
            "amount": bill.amount,
            "due": bill.due,
            "average_wage": bill.basis.average_wage,
            "basis": "Art. 14, 16-19",
        }),
    }
}

fn refused(e: &RuleError) -> ApiError {
    match e {
        RuleError::InvalidFacts(m) => ApiError::refused(
            ErrorCode::RatingInvalid,
            "该人员的费率无法确定（第十四条）",
            m.clone(),
        ),
        other => ApiError::from(other.clone()),
    }
}

/// The first month's bill of an enrolment being accepted into `awaiting_payment` (Art. 8): the
/// month of the later of its start and `today`, billed whole (or pro rata, as the city reads
/// part months), paid by its unit or, for a self-paying worker, by the worker (Art. 16). Sets
/// `e.bills_from`, so that the monthly runs bill only the months after it. Answers the
/// operations to add to the acceptance's transaction and the bill's audit event; nothing when
/// no day of that month is covered.
///
/// # Errors
/// 422 the month is outside the scheme, or the unit's rating does not fit the person.
pub fn joining(
    params: &ParamSet,
    e: &mut Enrolment,
    unit: Option<&Unit>,
    today: NaiveDate,
    issuer: Issuer,
) -> Result<Option<(Vec<TxOp>, Audit, Bill)>, ApiError> {
    let month = month_of(e.start.max(today));
    e.bills_from = Some(month);
    let starts = vec![e.id.clone()];
    let bill = own_bill(params, e, unit, month, starts, true, issuer)?;
    if bill.is_none() {
        e.bills_from = None;
    }
    Ok(bill)
}

/// The bill of the month a waiting joiner's cover starts in, when that month was billed by its
/// run before the cover started (the receipt of a first bill paid late): whole, as any month
/// covered on some day is (Art. 8, 19). Nothing when the person is not covered that month.
///
/// # Errors
/// As [`joining`].
pub fn first_covered_month(
    params: &ParamSet,
    e: &Enrolment,
    unit: Option<&Unit>,
    month: NaiveDate,
    issuer: Issuer,
) -> Result<Option<(Vec<TxOp>, Audit, Bill)>, ApiError> {
    own_bill(params, e, unit, month_of(month), Vec::new(), false, issuer)
}

/// An enrolment's own bill of `month` (`b-YYYYMM-<enrolment>`), paid by its unit or by the
/// self-paying worker.
fn own_bill(
    params: &ParamSet,
    e: &Enrolment,
    unit: Option<&Unit>,
    month: NaiveDate,
    starts_cover: Vec<String>,
    at_acceptance: bool,
    issuer: Issuer,
) -> Result<Option<(Vec<TxOp>, Audit, Bill)>, ApiError> {
    let table = MonthTable::new(params, month).map_err(|err| refused(&err))?;
    let rating =
        match unit {
            Some(u) => Rating {
                class: Some(IndustryClass::new(u.industry_class).map_err(|m| {
                    ApiError::refused(ErrorCode::RatingInvalid, "单位行业类别有误", m)
                })?),
                band: Some(u.band_on(month)),
            },
            None => Rating::SELF,
        };
    let Some(l) = line(&table, &e.member(), rating, at_acceptance).map_err(|err| refused(&err))?
    else {
        return Ok(None);
    };
    let (payer, name) = match (unit, &e.owner) {
        (Some(u), _) => (
            Payer::Unit {
                code: u.code.clone(),
            },
            u.name.clone(),
        ),
        (None, Some(owner)) => (
            Payer::Person {
                owner: owner.clone(),
                enrolment: e.id.clone(),
            },
            e.name.clone(),
        ),
        (None, None) => {
            return Err(ApiError::internal(&format_args!(
                "enrolment {} has neither a unit nor an owner",
                e.id
            )));
        }
    };
    let mut totals = Totals::default();
    totals.add(&l);
    let bill = assemble(
        Heading {
            id: enrolment_bill_id(month, &e.id),
            kind: BillKind::Joining,
            payer,
            name,
            county: e.county,
            rating,
            starts_cover,
        },
        &table,
        totals,
        issuer,
    );
    let mut ops = bill_ops(&bill)?;
    ops.push(line_op(&bill.id, &l)?);
    Ok(Some((ops, issued(&bill), bill)))
}

/// The one-time bill of a construction project enrolled as a whole (Art. 11, 14: 建设项目参保按
/// 工程建筑安装费或工程总造价的0.6‰一次性缴纳), issued with its enrolment: paid by its unit, due
/// as the month's bills are, and its receipt starts the project's cover (Art. 11).
///
/// # Errors
/// 422 the month is outside the scheme.
pub fn project_bill(
    params: &ParamSet,
    project: &swi_registry::project::Project,
    unit_name: &str,
    today: NaiveDate,
    issuer: Issuer,
) -> Result<(Vec<TxOp>, Audit, Bill), ApiError> {
    let table = MonthTable::new(params, month_of(today)).map_err(|err| refused(&err))?;
    let mut bill = assemble(
        Heading {
            id: crate::bill::project_bill_id(&project.id),
            kind: BillKind::Project,
            payer: Payer::Unit {
                code: project.unit.clone(),
            },
            name: unit_name.to_owned(),
            county: project.county,
            rating: Rating::SELF,
            starts_cover: Vec::new(),
        },
        &table,
        Totals {
            lines: 0,
            amount: project.premium,
            by_category: BTreeMap::new(),
        },
        issuer,
    );
    bill.project = Some(project.id.clone());
    bill.basis.articles = vec![
        "赣市人社字〔2025〕7号 第十一条".into(),
        "赣市人社字〔2025〕7号 第十四条".into(),
    ];
    let ops = bill_ops(&bill)?;
    Ok((ops, issued(&bill), bill))
}
