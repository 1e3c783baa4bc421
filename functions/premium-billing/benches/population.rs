//! A synthetic population for the billing run's tests and benchmark: units of one county with
//! rosters of mixed categories and states, written straight to the store (billing reads the
//! roster entries, so nothing else is needed). Of every ten entries seven are billed in
//! [`MONTH`]; one waits for materials, one ended before the month, one was billed at acceptance.

#![allow(dead_code, clippy::unwrap_used)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use swi_domain::enrolment::Status;
use swi_registry::enrolment::Member;
use swi_registry::unit::{Account, Contact, Unit, UnitStatus};
use swi_rules::category::Category;
use swi_rules::ids::County;
use swi_store::{Item, StateStore};

/// The month billed.
pub const MONTH: &str = "2026-03";

/// The business date of the runs.
pub const TODAY: &str = "2026-03-20";

/// The county.
pub const COUNTY: &str = "360702";

/// A day.
pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The first day of [`MONTH`].
pub fn month() -> NaiveDate {
    day(&format!("{MONTH}-01"))
}

/// The code of unit `i`.
pub fn unit_code(i: usize) -> String {
    format!("91360702MA{i:08}")
}

/// Unit `i`: classes 1-8 in turn, class 1 unfloated, the others at 120 %.
pub fn unit(i: usize) -> Unit {
    let class = u32::try_from(i % 8).unwrap() + 1;
    Unit {
        code: unit_code(i),
        name: format!("测试单位{i}"),
        county: County::parse(COUNTY).unwrap(),
        industry_class: class,
        rate_band: if class == 1 {
            Decimal::ONE
        } else {
            Decimal::new(12, 1)
        },
        work_injury_no: format!("GS{i:08}"),
        account: Account {
            bank: "中国银行赣州分行".into(),
            number: "6217000000000000".into(),
            holder: format!("测试单位{i}"),
        },
        contact: Contact {
            name: "王会计".into(),
            phone: "13800000000".into(),
        },
        status: UnitStatus::Active,
        registered_on: day("2025-01-02"),
        cancelled_on: None,
        members_ended: 0,
        ending_members: false,
        moving_members: false,
        members_moved: 0,
        band_history: Vec::new(),
    }
}

/// Entry `j` of unit `i`.
pub fn member(i: usize, j: usize) -> Member {
    let category = match j % 4 {
        0 => Category::Employee,
        1 => Category::OverAge,
        2 => Category::Intern,
        _ => Category::VillageCadre,
    };
    let mut m = Member {
        id: format!("e-{i:07}{j:05}"),
        person: String::new(),
        name: format!("职工{i}-{j}"),
        category,
        status: Status::Covered,
        start: day("2025-06-01"),
        cover_start: Some(day("2025-06-02")),
        cover_end: None,
        declared_wage: Decimal::from(3000 + (j % 50) * 100),
        entered_on: Some(day("2025-06-01")),
        bills_from: Some(day("2025-06-01")),
        owner: None,
    };
    match j % 10 {
        9 => {
            m.status = Status::AwaitingMaterials;
            m.cover_start = None;
            m.bills_from = None;
        }
        8 => {
            m.status = Status::Terminated;
            m.cover_end = Some(day("2026-02-27"));
        }
        7 => {
            m.start = day("2026-03-05");
            m.entered_on = Some(day("2026-03-05"));
            m.cover_start = None;
            m.status = Status::AwaitingPayment;
            m.bills_from = Some(month());
        }
        6 => {
            // A leaver during the month: billed for the month (whole, by default).
            m.status = Status::Terminated;
            m.cover_end = Some(day("2026-03-10"));
        }
        _ => {}
    }
    m
}

/// How many of a unit's `per_unit` entries are billed in [`MONTH`].
pub fn billed_of(per_unit: usize) -> usize {
    (0..per_unit).filter(|j| !matches!(j % 10, 7..=9)).count()
}

/// Writes `units` units of `per_unit` entries each; answers the persons billed in [`MONTH`].
pub async fn seed(state: &dyn StateStore, units: usize, per_unit: usize) -> usize {
    let mut items = Vec::with_capacity(1000);
    for i in 0..units {
        let u = unit(i);
        if let swi_store::TxOp::Put { item, .. } =
            swi_registry::unit::unit_put(&u, swi_store::Condition::None).unwrap()
        {
            items.push(item);
        }
        for j in 0..per_unit {
            let m = member(i, j);
            items.push(
                Item::new(format!("unit#{}", u.code), format!("member#{}", m.id), &m).unwrap(),
            );
            if items.len() >= 1000 {
                state.batch_put(std::mem::take(&mut items)).await.unwrap();
            }
        }
    }
    if !items.is_empty() {
        state.batch_put(items).await.unwrap();
    }
    units * billed_of(per_unit)
}
