//! Rates and the yearly re-rating (费率管理, Art. 13-15). A unit's supplementary rate follows its
//! industry class and the band its work-injury rate floats to (the rate-reduction policies never
//! apply, Art. 13): employees pay 30 % of the industry's base rate times the band; special
//! persons the base rate plus that floated top-up (Art. 14).
//!
//! The yearly re-rating imports the new bands from the work-injury side (CSV/XLSX, with the
//! day they take effect and their source): checked whole — every unit known, in the importer's
//! jurisdiction, of the class on record, at a band its class has — or refused whole with a row
//! report. Accepted, the `rerating-apply` job gives each unit its band from that day (the bills
//! of later months use it) and issues the unit its 《补充工伤保险费率浮动（重核）告知书》 stating the
//! old and the new rate, a unit per transaction. A unit that objects opens a re-check case
//! (Art. 15: 重核申请…与工伤保险费率重核规定保持一致); the agency keeps the rate or changes it,
//! and a changed rate comes with a new notice.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_forms::{Field, Form, chinese_date};
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::{Audit, audit_ops};
use swi_platform::{ApiError, Platform};
use swi_registry::unit::{DatedBand, Unit, load_unit, unit_case, unit_put};
use swi_rules::billing::MonthTable;
use swi_rules::category::{Category, IndustryClass};
use swi_rules::premium::band_allowed;
use swi_store::{Condition, Item, Key, Query, Sha256, StateError, TxOp};
use swi_tables::columns::{Column, blank};
use swi_tables::{Columns, RowReport, Table};

/// The job applying re-ratings.
pub const NAME: &str = "rerating-apply";

/// The re-rating file's columns.
pub const COLUMNS: [Column; 3] = [
    ("unit_code", "统一社会信用代码"),
    ("industry_class", "行业类别"),
    ("band", "浮动档次"),
];

/// A unit's rates at a band: an employee's and a special person's rated in its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rates {
    /// The band.
    pub band: Decimal,
    /// An employee's rate (Art. 14: 30 % of the base rate, floated).
    pub employee: Decimal,
    /// An over-age worker's or intern's rate (the base rate plus the floated top-up).
    pub special: Decimal,
}

/// The rates of a unit of `class` at `band` on `on`.
///
/// # Errors
/// A band the class lacks; parameters not in force.
pub fn rates(
    params: &swi_rules::ParamSet,
    class: IndustryClass,
    band: Decimal,
    on: NaiveDate,
) -> Result<Rates, swi_rules::RuleError> {
    let table = MonthTable::new(params, on)?;
    Ok(Rates {
        band,
        employee: table.rate(Category::Employee, Some(class), Some(band))?.0,
        special: table.rate(Category::OverAge, Some(class), Some(band))?.0,
    })
}

fn percent(r: Decimal) -> String {
    format!("{}%", (r * Decimal::from(100)).normalize())
}

fn band_text(b: Decimal) -> String {
    format!("{}%", (b * Decimal::from(100)).normalize())
}

/// A rate notice as issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateNotice {
    /// Id (`rn-…`).
    pub id: String,
    /// The unit.
    pub unit: String,
    /// The unit's name.
    pub name: String,
    /// County.
    #[schema(value_type = String)]
    pub county: swi_rules::ids::County,
    /// Industry class.
    pub industry_class: u32,
    /// The rates before.
    pub old: Rates,
    /// The rates from `effective_from`.
    pub new: Rates,
    /// In force from.
    pub effective_from: NaiveDate,
    /// Where the band comes from.
    pub source: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// The PDF (SHA-256).
    pub sha256: String,
    /// A re-check's outcome, when it is one.
    pub recheck: Option<String>,
}

/// The key of a notice.
#[must_use]
pub fn notice_key(id: &str) -> Key {
    Key::new(format!("rate-notice#{id}"), "notice")
}

fn notice_ops(n: &RateNotice) -> Result<Vec<TxOp>, ApiError> {
    let k = notice_key(&n.id);
    Ok(vec![
        TxOp::Put {
            item: Item::new(k.pk, k.sk, n)?,
            condition: Condition::NotExists,
        },
        TxOp::Put {
            item: Item::new(
                format!("rate-notices-of#{}", n.unit),
                format!("{}#{}", n.issued_on, n.id),
                &json!({ "id": n.id }),
            )?,
            condition: Condition::None,
        },
    ])
}

/// A unit's notices, newest first.
///
/// # Errors
/// The store is unavailable.
pub async fn notices_of(p: &Platform, unit: &str) -> Result<Vec<RateNotice>, ApiError> {
    let mut out = Vec::new();
    for item in p
        .state
        .query(
            &Query::partition(format!("rate-notices-of#{unit}"))
                .backward()
                .limit(50),
        )
        .await?
        .items
    {
        let Some(id) = item.body["id"].as_str() else {
            continue;
        };
        if let Some(n) = p.state.get(&notice_key(id)).await? {
            out.push(n.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(out)
}

/// Renders and stores a notice's PDF; the operation recording its verification code.
async fn issue_pdf(p: &Platform, n: &RateNotice) -> Result<(String, Vec<TxOp>), ApiError> {
    let form = Form {
        title: "补充工伤保险费率浮动（重核）告知书".into(),
        number: "表号：GZBG-FL-01".into(),
        serial: format!("编号：{}", n.id),
        fields: vec![
            Field { label: "参保单位".into(), value: format!("{}（{}）", n.name, n.unit) },
            Field { label: "工伤保险行业类别".into(), value: format!("第 {} 类", n.industry_class) },
            Field {
                label: "原费率".into(),
                value: format!(
                    "浮动档次 {}：参保职工 {}，特定人员 {}",
                    band_text(n.old.band),
                    percent(n.old.employee),
                    percent(n.old.special)
                ),
            },
            Field {
                label: "浮动后费率".into(),
                value: format!(
                    "浮动档次 {}：参保职工 {}，特定人员 {}",
                    band_text(n.new.band),
                    percent(n.new.employee),
                    percent(n.new.special)
                ),
            },
            Field { label: "执行日期".into(), value: chinese_date(n.effective_from) },
            Field { label: "依据".into(), value: n.recheck.clone().unwrap_or_else(|| n.source.clone()) },
        ],
        statement: "根据《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第十三条至第十五条，补充工伤保险费率与工伤保险费率浮动同步进行：参保职工按所在行业基准费率的30%乘以浮动档次缴纳，特定人员按行业基准费率加上述浮动后费率缴纳，不执行降费率政策。自执行日期起按浮动后费率核定应缴额。如对浮动结果有异议，可按工伤保险费率重核的规定申请重核。".into(),
        signatures: vec!["经办人（签字）".into(), "承办机构（盖章）".into()],
        date_line: chinese_date(n.issued_on),
        verification: None,
    };
    swi_platform::verification::issue(
        p,
        form,
        &format!("rate-notice#{}", n.id),
        &format!("赣州市补充工伤保险承办机构（{}）", n.county.name()),
        n.issued_on,
        swi_platform::dossier::Filing {
            case: &format!("rate-notice#{}", n.id),
            county: &n.county.code().to_string(),
            class: swi_archive::retention::RecordClass::Contributions,
            material: "费率浮动（重核）告知书",
        },
    )
    .await
}

/// One row of a re-rating file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRow {
    /// Spreadsheet row.
    pub line: usize,
    /// The unit.
    pub unit: String,
    /// Its class as the work-injury side has it.
    pub class: u32,
    /// The new band.
    pub band: Decimal,
}

/// Parses a re-rating file: its rows, and what is wrong with the others (a unit twice included).
///
/// # Errors
/// A header without a required column.
pub fn parse(table: &Table) -> Result<(Vec<RatingRow>, Vec<RowReport>), Column> {
    let header = table.first().cloned().unwrap_or_default();
    let cols = Columns::map(&header, &COLUMNS, &["unit_code", "industry_class", "band"])?;
    let mut rows = Vec::new();
    let mut reports = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        if blank(cells) {
            continue;
        }
        let line = i + 1;
        let mut errors = Vec::new();
        let unit = cols.cell(cells, "unit_code").to_owned();
        if swi_rules::ids::CreditCode::parse(&unit).is_err() {
            errors.push(
                "统一社会信用代码不正确 — `unit_code` is not a unified social credit code"
                    .to_owned(),
            );
        } else if let Some(first) = seen.insert(unit.clone(), line) {
            errors.push(format!(
                "该单位已在第 {first} 行 — the unit is on row {first} already"
            ));
        }
        let class = cols
            .cell(cells, "industry_class")
            .parse::<u32>()
            .ok()
            .filter(|c| (1..=8).contains(c));
        if class.is_none() {
            errors.push("行业类别须为 1-8 — `industry_class` must be 1-8".to_owned());
        }
        let band = cols.cell(cells, "band").parse::<Decimal>().ok();
        match (class, band) {
            (Some(c), Some(b)) if IndustryClass::new(c).is_ok_and(|k| band_allowed(k, b)) => {}
            (Some(c), Some(b)) => errors.push(format!(
                "第 {c} 类行业没有 {b} 的浮动档次 — band {b} does not exist for class {c} (Art. 13, 15)"
            )),
            _ => errors.push("浮动档次不正确 — `band` is not a band (e.g. 1.2)".to_owned()),
        }
        match (errors.is_empty(), class, band) {
            (true, Some(class), Some(band)) => rows.push(RatingRow {
                line,
                unit,
                class,
                band,
            }),
            _ => reports.push(RowReport { row: line, errors }),
        }
    }
    Ok((rows, reports))
}

/// Where a re-rating stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReratingStatus {
    /// Notices being issued by the job.
    Applying,
    /// Every unit re-rated.
    Applied,
}

/// A yearly re-rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rerating {
    /// Id (`rr-…`).
    pub id: String,
    /// The file (SHA-256).
    pub sha256: String,
    /// In force from.
    pub effective_from: NaiveDate,
    /// Where the bands come from (the work-injury side's decision).
    pub source: String,
    /// Units in the file.
    pub rows: usize,
    /// Units re-rated so far.
    pub cursor: usize,
    /// Status.
    pub status: ReratingStatus,
    /// Received.
    pub received_at: NaiveDateTime,
    /// By.
    pub by: String,
    /// The importer's jurisdiction (a county, or the city).
    pub jurisdiction: String,
}

/// The key of a re-rating.
#[must_use]
pub fn rerating_key(id: &str) -> Key {
    Key::new(format!("rerating#{id}"), "rerating")
}

/// The operations writing a re-rating and moving (or deleting) the job's pointer.
///
/// # Errors
/// Serialization (it does not fail).
pub fn rerating_ops(r: &Rerating, condition: Condition) -> Result<Vec<TxOp>, ApiError> {
    let k = rerating_key(&r.id);
    let pk = Key::new(jobs::pointer_partition(NAME), r.id.clone());
    Ok(vec![
        TxOp::Put {
            item: Item::new(k.pk, k.sk, r)?,
            condition,
        },
        if r.status == ReratingStatus::Applying {
            TxOp::Put {
                item: Item::new(
                    pk.pk,
                    pk.sk,
                    &json!({ "rerating": r.id, "cursor": r.cursor }),
                )?,
                condition: Condition::None,
            }
        } else {
            TxOp::Delete {
                key: pk,
                condition: Condition::None,
            }
        },
    ])
}

/// The notice and the unit's new band history for `unit` moved to `band` from `from`.
///
/// # Errors
/// The unit's class or band do not fit; parameters not in force.
pub fn rerated(
    params: &swi_rules::ParamSet,
    unit: &mut Unit,
    change: DatedBand,
    id: String,
    recheck: Option<String>,
) -> Result<RateNotice, ApiError> {
    let DatedBand {
        from,
        band,
        source,
        recorded_on: today,
    } = change;
    let source = source.as_str();
    let class = IndustryClass::new(unit.industry_class).map_err(|m| ApiError::internal(&m))?;
    let before = unit.band_on(from.pred_opt().unwrap_or(from));
    let old = rates(params, class, before, from)?;
    let new = rates(params, class, band, from)?;
    unit.band_history.retain(|b| b.from != from);
    unit.band_history.push(DatedBand {
        from,
        band,
        source: source.to_owned(),
        recorded_on: today,
    });
    unit.band_history.sort_by_key(|b| b.from);
    Ok(RateNotice {
        id,
        unit: unit.code.clone(),
        name: unit.name.clone(),
        county: unit.county,
        industry_class: unit.industry_class,
        old,
        new,
        effective_from: from,
        source: source.to_owned(),
        issued_on: today,
        sha256: String::new(),
        recheck,
    })
}

/// Applies a re-rating from its cursor, a unit per transaction (its band, its notice and its
/// PDF, its audit event, the re-rating's cursor), until done or `deadline`.
///
/// # Errors
/// The store is unavailable; the file cannot be read back; forms cannot be rendered.
pub async fn apply(p: &Platform, id: &str, deadline: Instant) -> Result<(usize, bool), ApiError> {
    let Some(item) = p.state.get(&rerating_key(id)).await? else {
        p.state
            .transact(vec![TxOp::Delete {
                key: Key::new(jobs::pointer_partition(NAME), id),
                condition: Condition::None,
            }])
            .await?;
        return Ok((0, true));
    };
    let mut version = item.version;
    let mut r: Rerating = item.body().map_err(|e| ApiError::internal(&e))?;
    let sha = Sha256::parse(&r.sha256).map_err(|e| ApiError::internal(&e))?;
    let table =
        swi_platform::documents::load_table(p, &sha, &swi_tables::Limits::RECEIPTS, "费率浮动文件")
            .await?;
    let (rows, _) = parse(&table).map_err(|(en, _)| ApiError::internal(&en))?;
    let params = p.params().await?;
    let actor = jobs::job_actor(NAME, format!("费率重核任务（{}）", r.by));
    let today = p.clock.today();
    let mut done = 0;
    loop {
        if r.cursor >= rows.len() || r.status == ReratingStatus::Applied {
            r.status = ReratingStatus::Applied;
            r.cursor = rows.len();
            let mut ops = rerating_ops(&r, Condition::VersionIs(version))?;
            ops.extend(
                audit_ops(
                    p,
                    &actor,
                    &[Audit {
                        case: format!("rerating#{}", r.id),
                        command: "rerating.applied".into(),
                        change: json!({ "units": rows.len(), "basis": "Art. 15" }),
                    }],
                )
                .await?,
            );
            match p.state.transact(ops).await {
                Ok(()) | Err(StateError::Conflict { .. }) => return Ok((done, true)),
                Err(e) => return Err(e.into()),
            }
        }
        let Some(row) = rows.get(r.cursor) else {
            continue;
        };
        let (mut unit, unit_version) = load_unit(p, &row.unit).await?;
        let notice_id = format!("rn-{}-{}", r.id, unit.code);
        let change = DatedBand {
            from: r.effective_from,
            band: row.band,
            source: r.source.clone(),
            recorded_on: today,
        };
        let mut notice = rerated(&params, &mut unit, change, notice_id, None)?;
        let (pdf, verification) = issue_pdf(p, &notice).await?;
        notice.sha256 = pdf;
        r.cursor += 1;
        let mut ops = vec![unit_put(&unit, Condition::VersionIs(unit_version))?];
        ops.extend(verification);
        ops.extend(notice_ops(&notice)?);
        ops.extend(rerating_ops(&r, Condition::VersionIs(version))?);
        ops.extend(audit_ops(p, &actor, &[Audit {
            case: unit_case(&unit.code),
            command: "unit.rerated".into(),
            change: json!({
                "from": r.effective_from, "old_band": notice.old.band, "new_band": notice.new.band,
                "notice": notice.id, "source": r.source, "basis": "Art. 13-15",
            }),
        }]).await?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            Err(StateError::Conflict { .. }) => return Ok((done, false)),
            Err(e) => return Err(e.into()),
        }
        version += 1;
        done += 1;
        if Instant::now() >= deadline {
            return Ok((done, false));
        }
    }
}

/// The job applying re-ratings.
pub struct ReratingApply;

#[async_trait::async_trait]
impl Job for ReratingApply {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "gives each unit of a yearly re-rating its band and its rate notice (Art. 13-15)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let t = jobs::walk_pointers(p, NAME, deadline, |id| async move {
            apply(p, &id, deadline).await
        })
        .await?;
        Ok(Report {
            job: NAME,
            done: t.done,
            pending: t.pending,
            errors: Vec::new(),
            summary: format!(
                "units re-rated {}, re-ratings finished {}, still applying {}",
                t.done, t.finished, t.pending
            ),
            detail: json!({ "waiting": t.waiting, "units": t.done, "finished": t.finished, "pending": t.pending }),
        })
    }
}

/// Where a re-check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatus {
    /// Waiting for the agency's decision.
    Open,
    /// The rate stands.
    Kept,
    /// The rate was changed (a new notice issued).
    Changed,
}

/// A unit's objection to its rate notice: a re-check case (Art. 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Objection {
    /// Id (`ro-<notice>`).
    pub id: String,
    /// The unit.
    pub unit: String,
    /// County.
    #[schema(value_type = String)]
    pub county: swi_rules::ids::County,
    /// The notice objected to.
    pub notice: String,
    /// Why the unit objects.
    pub reason: String,
    /// Filed on.
    pub filed_on: NaiveDate,
    /// Status.
    pub status: ObjectionStatus,
    /// The decision's reason.
    pub decision: Option<String>,
    /// Decided by.
    pub decided_by: Option<String>,
    /// The new notice, when changed.
    pub new_notice: Option<String>,
}

/// The key of an objection.
#[must_use]
pub fn objection_key(id: &str) -> Key {
    Key::new(format!("rate-objection#{id}"), "objection")
}

/// The audit case of an objection.
#[must_use]
pub fn objection_case(id: &str) -> String {
    format!("rate-objection#{id}")
}

/// The re-check's change of a unit's band: the unit, its new notice, the PDF.
///
/// # Errors
/// As [`rerated`]; forms cannot be rendered.
pub async fn changed_by_recheck(
    p: &Platform,
    unit: &mut Unit,
    notice: &RateNotice,
    band: Decimal,
    decision: &str,
) -> Result<(RateNotice, Vec<TxOp>), ApiError> {
    let params = p.params().await?;
    let today = p.clock.today();
    // The re-check replaces the band from the same day; the notice compares it with the one
    // objected to.
    let change = DatedBand {
        from: notice.effective_from,
        band,
        source: format!("重核决定：{decision}"),
        recorded_on: today,
    };
    let mut n = rerated(
        &params,
        unit,
        change,
        format!("{}-r", notice.id),
        Some(format!("重核：{decision}（原告知书 {}）", notice.id)),
    )?;
    n.old = notice.new.clone();
    let (pdf, verification) = issue_pdf(p, &n).await?;
    n.sha256 = pdf;
    Ok((n, verification))
}

/// The operations writing a notice (for the routes).
///
/// # Errors
/// Serialization (it does not fail).
pub fn notice_write(n: &RateNotice) -> Result<Vec<TxOp>, ApiError> {
    notice_ops(n)
}
