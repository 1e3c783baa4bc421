//! Monthly declarations (人员变动增减表, Art. 18): a unit uploads its joiners and leavers of a
//! month as XLSX or CSV; every row is checked and the file is accepted or rejected whole, with a
//! row-by-row report (also as a downloadable XLSX). An accepted file enters the county's review
//! queue, due 3 working days after receipt (Art. 18: 应于收到申报材料3个工作日内审核完毕).
//!
//! Columns (header row, Chinese or English): 变动类型/action (增 join · 减 leave), 姓名/name,
//! 公民身份号码/id_number, 人员类别/category, 申报工资/declared_wage, 变动日期/date,
//! 手机号码/phone, 退休类别/track, 协议截止日期/agreement_end.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::Action;
use swi_domain::access::Owner;
use swi_domain::enrolment::{Status, overlaps};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform};
use swi_rules::ParamSet;
use swi_rules::ids::{County, ResidentId};
use swi_store::{Condition, Index, Item, Key, Query, Sha256, TxOp};

use crate::persons::{EnrolPerson, Member, check_request};
use crate::units::{UnitStatus, load_unit};
use swi_platform::documents::load_table;
use swi_platform::pseudonym::PersonKeys;
use swi_platform::reports::{self, ReportSubject};
use swi_tables::{Columns, Limits, RowReport};

/// A row's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowChange {
    /// 增: a joiner.
    Join,
    /// 减: a leaver.
    Leave,
}

/// One data row of a declaration, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Spreadsheet row number (the header is row 1).
    pub line: usize,
    /// Join or leave.
    pub change: RowChange,
    /// The fields a joiner's enrolment needs.
    pub person: EnrolPerson,
}

const COLUMNS: [(&str, &str); 9] = [
    ("action", "变动类型"),
    ("name", "姓名"),
    ("id_number", "公民身份号码"),
    ("category", "人员类别"),
    ("declared_wage", "申报工资"),
    ("date", "变动日期"),
    ("phone", "手机号码"),
    ("track", "退休类别"),
    ("agreement_end", "协议截止日期"),
];

fn date_of(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
        .filter(|d| swi_platform::wire::YEARS.contains(&d.year()))
}

/// Turns a table into rows, reporting every cell that cannot be read.
///
/// # Errors
/// The header row lacks a required column (the file is refused as a whole).
pub fn parse_rows(table: &[Vec<String>]) -> Result<(Vec<Row>, Vec<RowReport>), String> {
    let header = table
        .first()
        .ok_or_else(|| "the file is empty".to_owned())?;
    let required: Vec<&str> = COLUMNS[..7].iter().map(|(en, _)| *en).collect();
    let col = Columns::map(header, &COLUMNS, &required)
        .map_err(|(en, zh)| format!("missing column {zh} ({en})"))?;
    let mut rows = Vec::with_capacity(table.len());
    let mut reports = Vec::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        if swi_tables::columns::blank(cells) {
            continue;
        }
        let line = i + 1;
        let cell = |k: &str| col.cell(cells, k);
        let mut errors = Vec::new();
        let change = match cell("action") {
            "增" | "join" | "增加" => Some(RowChange::Join),
            "减" | "leave" | "减少" => Some(RowChange::Leave),
            other => {
                errors.push(format!(
                    "变动类型须为“增”或“减” — action must be join or leave, not `{}`",
                    swi_platform::wire::clip(other)
                ));
                None
            }
        };
        let wage = match cell("declared_wage") {
            "" => Decimal::ZERO,
            w => swi_platform::wire::plain_amount(w).unwrap_or_else(|| {
                errors.push(
                    "申报工资须为至多两位小数的金额 — declared_wage must be a plain amount with at most 2 decimals"
                        .into(),
                );
                Decimal::ZERO
            }),
        };
        let date = date_of(cell("date")).unwrap_or_else(|| {
            errors.push("变动日期须为 YYYY-MM-DD — date must be YYYY-MM-DD".into());
            NaiveDate::MIN
        });
        let agreement_end = match cell("agreement_end") {
            "" => None,
            s => date_of(s).or_else(|| {
                errors
                    .push("协议截止日期须为 YYYY-MM-DD — agreement_end must be YYYY-MM-DD".into());
                None
            }),
        };
        let track = Some(cell("track"))
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let person = EnrolPerson {
            name: cell("name").to_owned(),
            id_type: "resident_id".into(),
            id_number: cell("id_number").to_ascii_uppercase(),
            phone: cell("phone").to_owned(),
            category: cell("category").to_owned(),
            declared_wage: wage,
            start: date,
            track,
            agreement_end,
            pays_basic_pension: None,
            county: None,
        };
        match (change, errors.is_empty()) {
            (Some(change), true) => rows.push(Row {
                line,
                change,
                person,
            }),
            _ => reports.push(RowReport { row: line, errors }),
        }
    }
    Ok((rows, reports))
}

/// A cover period: first day, and last day when bounded.
pub type Period = (NaiveDate, Option<NaiveDate>);

/// What the unit's roster says of one person.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    /// Person key → their enrolments in this unit (period, status, enrolment id).
    pub members: HashMap<String, Vec<(Period, Status, String)>>,
}

/// Checks every row of a declaration of `month` against the rules and the unit's roster: joiners
/// as enrolments (Art. 6-8) without overlapping cover, leavers as persons covered here; no person
/// twice in one file; dates inside the month.
#[must_use]
pub fn check_rows(
    params: &ParamSet,
    keys: &PersonKeys,
    rows: &[Row],
    month: NaiveDate,
    roster: &Roster,
) -> Vec<RowReport> {
    let mut reports = Vec::new();
    let mut seen: HashSet<String> = HashSet::with_capacity(rows.len());
    for row in rows {
        let mut errors = Vec::new();
        if row.person.start.year() != month.year() || row.person.start.month() != month.month() {
            errors.push(format!(
                "变动日期不在申报月份内 — the date is not in {}",
                month.format("%Y-%m")
            ));
        }
        let pid = match ResidentId::parse(&row.person.id_number) {
            Ok(id) => Some(keys.of(&id)),
            Err(e) => {
                errors.push(format!("公民身份号码不正确 — id_number: {e}"));
                None
            }
        };
        if let Some(pid) = &pid {
            if !seen.insert(pid.clone()) {
                errors.push(
                    "同一人员在文件中出现多次 — the same person appears twice in the file".into(),
                );
            }
            let here = roster
                .members
                .get(pid)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match row.change {
                RowChange::Join => {
                    if let Err(e) = check_request(params, &row.person) {
                        errors.push(format!("{} — {}", e.zh, e.en));
                    } else if here.iter().any(|(period, status, _)| {
                        *status != Status::Terminated && overlaps(*period, (row.person.start, None))
                    }) {
                        errors.push("该人员已在本单位参保 — already enrolled in this unit".into());
                    }
                }
                RowChange::Leave => {
                    let active = here.iter().any(|((start, end), status, _)| {
                        *status != Status::Terminated
                            && *start <= row.person.start
                            && end.is_none_or(|e| row.person.start <= e)
                    });
                    if !active {
                        errors.push(
                            "该人员在本单位无有效参保记录 — not enrolled in this unit on that date"
                                .into(),
                        );
                    }
                }
            }
        }
        if !errors.is_empty() {
            reports.push(RowReport {
                row: row.line,
                errors,
            });
        }
    }
    reports
}

/// A declaration's review status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// In the county's review queue.
    Queued,
    /// Approved by the reviewer; its rows are being applied by the declaration job, a
    /// transaction of rows at a time (`cursor` says how far it got).
    Applying,
    /// Approved and applied: its joiners enrolled and its leavers' cover ended.
    Approved,
    /// Rejected by the reviewer.
    Rejected,
    /// Approved, but the unit was cancelled before every row was applied: the rows left were
    /// not applied (Art. 10: a cancelled unit takes no members).
    Lapsed,
}

impl ReviewStatus {
    /// The word that keys the county index (`{status}#{review_by}#{id}`).
    const fn key(self) -> &'static str {
        match self {
            ReviewStatus::Queued => "queued",
            ReviewStatus::Applying => "applying",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
            ReviewStatus::Lapsed => "lapsed",
        }
    }
}

/// An accepted declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Declaration {
    /// Id (`d-…`).
    pub id: String,
    /// The unit.
    pub unit: String,
    /// County.
    pub county: String,
    /// Month declared (first day).
    pub month: NaiveDate,
    /// The file (SHA-256).
    pub sha256: String,
    /// Joiners.
    pub joiners: usize,
    /// Leavers.
    pub leavers: usize,
    /// Status.
    pub status: ReviewStatus,
    /// Received on (China date).
    pub received_on: NaiveDate,
    /// Review due by (3 working days, Art. 18).
    pub review_by: NaiveDate,
    /// What the due date assumes, when it rests on a figure that is not confirmed: a year whose
    /// holidays are not loaded is counted Monday-Friday (the rules' `calendar.YYYY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_by_assumes: Option<String>,
    /// Who reviewed (display name), when reviewed.
    #[serde(default)]
    pub reviewed_by: Option<String>,
    /// When reviewed.
    #[serde(default)]
    pub reviewed_on: Option<NaiveDate>,
    /// The reviewer's note.
    #[serde(default)]
    pub note: Option<String>,
    /// Rows applied since approval.
    #[serde(default)]
    pub applied: usize,
    /// Rows that no longer held when applied (the roster had changed since the upload); each
    /// is listed, with why, under `failed` when the declaration is read.
    #[serde(default)]
    pub not_applied: usize,
    /// Rows dealt with so far (applied or not), in file order.
    #[serde(default)]
    pub cursor: usize,
}

/// A declaration as answered: the record, and the rows that did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclarationView {
    /// The declaration.
    #[serde(flatten)]
    pub declaration: Declaration,
    /// Rows that no longer held when applied, with why.
    pub failed: Vec<RowReport>,
}

/// A declaration's id: the unit, the month and the file, hashed (the same file declared twice
/// for the same month is the same declaration).
fn declaration_id(unit: &str, month: NaiveDate, sha: &Sha256) -> String {
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut h, format!("{unit}|{month}|{}", sha.hex()).as_bytes());
    format!("d-{}", &hex::encode(sha2::Digest::finalize(h))[..20])
}

fn declaration_key(id: &str) -> Key {
    Key::new(format!("declaration#{id}"), "profile")
}

fn declaration_item(d: &Declaration) -> Result<Item, ApiError> {
    let k = declaration_key(&d.id);
    Ok(Item::new(k.pk, k.sk, d)?.with_gsi1(
        format!("declarations#{}", d.county),
        format!("{}#{}#{}", d.status.key(), d.review_by, d.id),
    ))
}

/// An upload of a declaration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declare {
    /// Month declared, `YYYY-MM`.
    pub month: String,
    /// SHA-256 of the uploaded XLSX or CSV file.
    pub sha256: String,
}

async fn roster_of(p: &Platform, unit: &str) -> Result<Roster, ApiError> {
    let mut roster = Roster::default();
    for item in &p
        .state
        .query_all(
            &Query::partition(format!("unit#{unit}"))
                .range(swi_store::SkRange::Prefix("member#".into()))
                .limit(1000),
        )
        .await?
    {
        let m: Member = item.body().map_err(|e| ApiError::internal(&e))?;
        roster.members.entry(m.person.clone()).or_default().push((
            (m.cover_start.unwrap_or(m.start), m.cover_end),
            m.status,
            m.id.clone(),
        ));
    }
    Ok(roster)
}

/// `POST /api/units/{code}/declarations`: files a month's declaration; accepted whole into the
/// review queue, or rejected whole with a row-by-row report.
///
/// # Errors
/// 400 bad month; 403; 404; 409 cancelled unit; 413/415 file; 422 rows refused (with `rows` and
/// `report_sha256` in the error answer's companion fields).
#[utoipa::path(post, path = "/api/units/{code}/declarations", tag = "declarations", request_body = Declare,
    params(("code" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "accepted into the review queue", body = Declaration),
        (status = 422, description = "rejected whole: every problem by row, and the report as XLSX", body = Object),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn declare(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<Declare>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/units/{code}/declarations"), &req);
    let month = NaiveDate::parse_from_str(&format!("{}-01", req.month), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("申报月份须为 YYYY-MM", "`month` must be YYYY-MM"))?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let (unit, _) = load_unit(&p, &code).await?;
    let county = County::parse(&unit.county).map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::Declare, Some(county), Owner::Unit(&unit.code))?;
    if unit.status == UnitStatus::Cancelled {
        return Err(ApiError::conflict(
            "unit_cancelled",
            "该单位已注销",
            "the unit is cancelled",
        ));
    }
    let table = load_table(&p, &sha, &Limits::DECLARATION, "申报文件").await?;
    let (rows, mut reports) = parse_rows(&table).map_err(|e| {
        ApiError::invalid(
            "申报文件表头不正确",
            format!("the header row is wrong: {e}"),
        )
    })?;
    let total = rows.len() + reports.len();
    if total == 0 {
        return Err(ApiError::invalid(
            "申报文件没有数据行",
            "the file has no data rows",
        ));
    }
    let params = crate::persons::params()?;
    let roster = roster_of(&p, &unit.code).await?;
    reports.extend(check_rows(params, &p.persons, &rows, month, &roster));
    if !reports.is_empty() {
        reports.sort_by_key(|r| r.row);
        let title = format!(
            "{} 月度申报审核报告 — 单位 {}（{}）",
            month.format("%Y-%m"),
            unit.name,
            unit.code
        );
        let xlsx = swi_tables::report_xlsx(&title, &reports, total, "整份文件未受理")
            .map_err(|e| ApiError::internal(&e))?;
        let report = reports::store(
            &p,
            ReportSubject::Unit {
                code: unit.code.clone(),
                county,
            },
            &xlsx,
        )
        .await?;
        let mut err = json!({ "error": {
            "code": "declaration_rejected",
            "zh": format!("共 {total} 行，{} 行有问题，整份文件未受理，请修改后重新申报", reports.len()),
            "en": format!("{} of {total} rows have problems; the whole file is refused", reports.len()),
        }});
        err["rows"] = json!(reports);
        err["report_sha256"] = json!(report.hex());
        err["report_url"] = json!(reports::url(&report));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(err)));
    }
    let today = p.clock.today();
    let due = swi_rules::calendar::review_by(params, today)
        .map_err(|e| ApiError::refused("calendar_not_loaded", "工作日历尚未载入", e.to_string()))?;
    let review_by = due.value;
    let review_by_assumes = due
        .assumptions()
        .map(|u| format!("{} ({}): {}", u.parameter, u.status, u.source))
        .reduce(|a, b| format!("{a}; {b}"));
    let joiners = rows.iter().filter(|r| r.change == RowChange::Join).count();
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let id = declaration_id(&unit.code, month, &sha);
        if p.state.get(&declaration_key(&id)).await?.is_some() {
            return Err(ApiError::conflict(
                "already_declared",
                "该文件已申报过本月，请勿重复申报",
                format!("this file was already declared for this month ({id})"),
            ));
        }
        let d = Declaration {
            id: id.clone(),
            unit: unit.code.clone(),
            county: unit.county.clone(),
            month,
            sha256: sha.hex(),
            joiners,
            leavers: rows.len() - joiners,
            status: ReviewStatus::Queued,
            received_on: today,
            review_by,
            review_by_assumes,
            reviewed_by: None,
            reviewed_on: None,
            note: None,
            applied: 0,
            not_applied: 0,
            cursor: 0,
        };
        let body = serde_json::to_value(DeclarationView {
            declaration: d.clone(),
            failed: Vec::new(),
        })
        .map_err(|e| ApiError::internal(&e))?;
        let item = declaration_item(&d)?;
        Ok(Change {
            ops: vec![TxOp::Put {
                item,
                condition: Condition::NotExists,
            }],
            audit: vec![Audit {
                case: format!("declaration#{id}"),
                command: "declaration.file".into(),
                change: body.clone(),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/counties/{county}/declarations`: the county's review queue, earliest due first.
///
/// # Errors
/// 400 unknown county; 403.
#[utoipa::path(get, path = "/api/counties/{county}/declarations", tag = "declarations",
    params(("county" = String, Path)),
    responses((status = 200, description = "queued declarations, earliest due first", body = [Declaration]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn queue(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<Vec<Declaration>>, ApiError> {
    let c = County::parse(&county).map_err(|e| ApiError::invalid("县（市、区）代码不正确", e))?;
    actor.may(Action::ReviewDeclaration, Some(c), Owner::Nobody)?;
    let mut out = Vec::new();
    for item in &p
        .state
        .query_index_all(
            Index::Gsi1,
            &Query::partition(format!("declarations#{county}"))
                .range(swi_store::SkRange::Prefix("queued#".into()))
                .limit(500),
        )
        .await?
    {
        out.push(item.body().map_err(|e| ApiError::internal(&e))?);
    }
    Ok(axum::Json(out))
}

/// `GET /api/declarations/{id}`.
///
/// # Errors
/// 403; 404.
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<DeclarationView>, ApiError> {
    let item = p
        .state
        .get(&declaration_key(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该申报", format!("no declaration {id}")))?;
    let d: Declaration = item.body().map_err(|e| ApiError::internal(&e))?;
    let county = County::parse(&d.county).map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::Read, Some(county), Owner::Unit(&d.unit))?;
    let mut failed = Vec::with_capacity(d.not_applied);
    if d.not_applied > 0 {
        for item in &p
            .state
            .query_all(
                &Query::partition(format!("declaration#{id}"))
                    .range(swi_store::SkRange::Prefix("failed#".into()))
                    .limit(1000),
            )
            .await?
        {
            failed.push(item.body().map_err(|e| ApiError::internal(&e))?);
        }
    }
    Ok(axum::Json(DeclarationView {
        declaration: d,
        failed,
    }))
}

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `approve` or `reject`.
    pub decision: String,
    /// Why (required to reject).
    #[serde(default)]
    pub note: Option<String>,
}

/// Rows per transaction when applying a declaration: an applied row takes up to 5 operations
/// (profile, roster entry, cover guard, retirement watch, audit event), a row that no longer
/// holds 1; the declaration, its audit event, the job's pointer and the check of the unit take 4
/// more (DynamoDB allows 100 operations in a transaction).
pub const ROWS_PER_TRANSACTION: usize =
    (swi_store::state::MAX_TRANSACTION_OPS - OPS_PER_TRANSACTION) / MAX_OPS_PER_ROW;
const MAX_OPS_PER_ROW: usize = 5;
const OPS_PER_TRANSACTION: usize = 4;

/// The job's pointer to a declaration being applied (`jobs#declaration-apply`, one per
/// declaration): written with the approval, moved by the last transaction of a run that stops
/// before the end, deleted with the last transaction of rows. Its writes are what wake the job
/// in AWS (a DynamoDB stream filtered on its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyPointer {
    /// The declaration.
    pub declaration: String,
    /// Rows dealt with when the pointer was last written. It differs at every write, which is
    /// what makes DynamoDB emit a stream record (a put that changes nothing emits none).
    pub cursor: usize,
}

/// The partition of the declaration job's pointers.
pub const APPLY_PARTITION: &str = "jobs#declaration-apply";

fn pointer_key(id: &str) -> Key {
    Key::new(APPLY_PARTITION, id)
}

fn pointer_put(id: &str, cursor: usize, condition: Condition) -> Result<TxOp, ApiError> {
    let k = pointer_key(id);
    Ok(TxOp::Put {
        item: Item::new(
            k.pk,
            k.sk,
            &ApplyPointer {
                declaration: id.to_owned(),
                cursor,
            },
        )?,
        condition,
    })
}

/// `POST /api/declarations/{id}/review`: approves or rejects a queued declaration (Art. 18).
/// An approval is recorded at once and answered 202 with status `applying`; the declaration job
/// then enrols the joiners and ends the leavers' cover, a transaction of rows at a time, and
/// the declaration reads `approved` when every row has been dealt with.
///
/// # Errors
/// 400 bad decision; 403; 404; 409 not queued.
#[utoipa::path(post, path = "/api/declarations/{id}/review", tag = "declarations", request_body = Review,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 202, description = "approved: its rows are being applied", body = DeclarationView),
        (status = 200, description = "rejected", body = DeclarationView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn review(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    ikey: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Review>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/declarations/{id}/review"), &req);
    let approve = match req.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::invalid(
                "审核结论须为 approve 或 reject",
                "`decision` must be approve or reject",
            ));
        }
    };
    if !approve && req.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::invalid(
            "退回须说明理由",
            "a rejection needs a `note`",
        ));
    }
    if let Some(n) = &req.note {
        swi_platform::wire::name(n, "note")?;
    }
    let (status, body) = apply(&p, &actor, &ikey, &fp, async {
        let item =
            p.state.get(&declaration_key(&id)).await?.ok_or_else(|| {
                ApiError::not_found("未找到该申报", format!("no declaration {id}"))
            })?;
        let version = item.version;
        let mut d: Declaration = item.body().map_err(|e| ApiError::internal(&e))?;
        let county = County::parse(&d.county).map_err(|e| ApiError::internal(&e))?;
        actor.may(Action::ReviewDeclaration, Some(county), Owner::Nobody)?;
        if d.status != ReviewStatus::Queued {
            return Err(ApiError::conflict(
                "invalid_transition",
                "该申报已审核",
                "the declaration was already reviewed",
            ));
        }
        d.status = if approve {
            ReviewStatus::Applying
        } else {
            ReviewStatus::Rejected
        };
        d.reviewed_by = Some(actor.name.clone());
        d.reviewed_on = Some(p.clock.today());
        d.note.clone_from(&req.note);
        let mut ops = vec![TxOp::Put {
            item: declaration_item(&d)?,
            condition: Condition::VersionIs(version),
        }];
        if approve {
            // An approval adds cover: the unit must be active and stay so (Art. 10).
            let (unit, unit_version) = load_unit(&p, &d.unit).await?;
            ops.push(crate::units::active_check(&unit, unit_version)?);
            ops.push(pointer_put(&d.id, 0, Condition::NotExists)?);
        }
        let body = serde_json::to_value(DeclarationView {
            declaration: d.clone(),
            failed: Vec::new(),
        })
        .map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: format!("declaration#{}", d.id),
                command: format!("declaration.{}", if approve { "approve" } else { "reject" }),
                change: json!({ "note": req.note, "rows": d.joiners + d.leavers }),
            }],
            status: if approve {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            },
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// How far one run took one declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Rows dealt with in this run.
    pub rows: usize,
    /// Whether every row has now been dealt with.
    pub finished: bool,
    /// Whether another run was found applying it (this one stood back).
    pub contended: bool,
    /// Whether it was no longer being applied (another run had finished it).
    pub already_done: bool,
}

/// Applies an approved declaration from where it stands, a transaction of rows at a time, until
/// every row is dealt with or `deadline` passes (at least one transaction is always made). Each
/// transaction writes its rows' changes and audit events together with the declaration's new
/// cursor, conditioned on the declaration's version: a crash loses nothing and a row is never
/// applied twice, even by two runs at once. A row that no longer holds (the roster changed
/// since the upload) is recorded as not applied, with why.
///
/// # Errors
/// The store is unavailable, or the declaration's file cannot be read back.
pub async fn apply_approved(
    p: &Platform,
    id: &str,
    deadline: std::time::Instant,
) -> Result<Progress, ApiError> {
    let mut progress = Progress::default();
    let Some(item) = p.state.get(&declaration_key(id)).await? else {
        return Err(ApiError::internal(&format_args!(
            "the job points at a missing declaration {id}"
        )));
    };
    let mut version = item.version;
    let mut d: Declaration = item.body().map_err(|e| ApiError::internal(&e))?;
    if d.status != ReviewStatus::Applying {
        // Finished (or never approved): the pointer is stale.
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(id),
                condition: Condition::None,
            }])
            .await?;
        progress.already_done = true;
        return Ok(progress);
    }
    let county = County::parse(&d.county).map_err(|e| ApiError::internal(&e))?;
    let sha = Sha256::parse(&d.sha256).map_err(|e| ApiError::internal(&e))?;
    let table = load_table(p, &sha, &Limits::DECLARATION, "申报文件").await?;
    let (rows, _) = parse_rows(&table).map_err(|e| ApiError::internal(&e))?;
    drop(table);
    let params = crate::persons::params()?;
    let mut roster = roster_of(p, &d.unit).await?;
    let actor = crate::jobs::job_actor(
        "declaration-apply",
        format!(
            "申报生效任务（{} 审核通过）",
            d.reviewed_by.as_deref().unwrap_or("")
        ),
    );
    loop {
        // Every transaction of rows holds only while the unit is active and unchanged; a
        // cancelled unit ends the declaration (Art. 10).
        let (unit, unit_version) = load_unit(p, &d.unit).await?;
        if unit.status == UnitStatus::Cancelled {
            let left = rows.len().saturating_sub(d.cursor);
            d.status = ReviewStatus::Lapsed;
            let mut ops = vec![
                TxOp::Delete {
                    key: pointer_key(&d.id),
                    condition: Condition::None,
                },
                TxOp::Put {
                    item: declaration_item(&d)?,
                    condition: Condition::VersionIs(version),
                },
            ];
            ops.extend(
                swi_platform::mutation::audit_ops(
                    p,
                    &actor,
                    &[Audit {
                        case: format!("declaration#{}", d.id),
                        command: "declaration.lapsed".into(),
                        change: json!({ "rows_left": left, "basis": "Art. 10" }),
                    }],
                )
                .await?,
            );
            match p.state.transact(ops).await {
                Ok(()) => progress.finished = true,
                Err(swi_store::StateError::Conflict { .. }) => progress.contended = true,
                Err(other) => return Err(other.into()),
            }
            return Ok(progress);
        }
        let unit_check = TxOp::Check {
            key: crate::units::unit_key(&d.unit),
            condition: Condition::VersionIs(unit_version),
        };
        let end = (d.cursor + ROWS_PER_TRANSACTION).min(rows.len());
        let chunk = rows.get(d.cursor..end).unwrap_or_default();
        let stale = check_rows(params, &p.persons, chunk, d.month, &roster);
        let stale_rows: HashSet<usize> = stale.iter().map(|r| r.row).collect();
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        let mut joined = Vec::new();
        let mut left = Vec::new();
        for row in chunk.iter().filter(|r| !stale_rows.contains(&r.line)) {
            match row.change {
                RowChange::Join => {
                    let checked = check_request(params, &row.person)?;
                    let e = crate::persons::build_enrolment(
                        p,
                        params,
                        &row.person,
                        Some(d.unit.clone()),
                        None,
                        county,
                        checked,
                    )?;
                    // The roster ruled out overlaps; the guard makes a concurrent enrolment
                    // of the same person in this unit collide with this transaction.
                    let (_, guard) =
                        crate::persons::guard_with(p, &e.person, e.unit.as_deref(), None, &e.id)
                            .await?;
                    let c = crate::persons::created(&e, guard, "enrolment.create_by_declaration")?;
                    ops.extend(c.ops);
                    audit.extend(c.audit);
                    joined.push((e.person.clone(), (e.start, e.cover_end), e.status, e.id));
                }
                RowChange::Leave => {
                    let pid = ResidentId::parse(&row.person.id_number)
                        .map(|i| p.persons.of(&i))
                        .map_err(|e| ApiError::internal(&e))?;
                    let enrolment_id = roster
                        .members
                        .get(&pid)
                        .and_then(|v| v.iter().find(|(_, s, _)| *s != Status::Terminated))
                        .map(|(_, _, id)| id.clone())
                        .ok_or_else(|| ApiError::internal(&"a checked leaver has no enrolment"))?;
                    let (mut e, v) = crate::persons::load(p, &enrolment_id).await?;
                    e.status = Status::Terminated;
                    e.cover_end = Some(
                        e.cover_end
                            .map_or(row.person.start, |b| b.min(row.person.start)),
                    );
                    ops.extend(crate::persons::write_ops(&e, Condition::VersionIs(v))?);
                    audit.push(Audit {
                        case: format!("enrolment#{}", e.id),
                        command: "enrolment.terminate_by_declaration".into(),
                        change: json!({ "end": e.cover_end, "declaration": d.id, "row": row.line }),
                    });
                    left.push((pid, e.id));
                }
            }
        }
        for r in &stale {
            ops.push(TxOp::Put {
                item: Item::new(
                    format!("declaration#{}", d.id),
                    format!("failed#{:08}", r.row),
                    r,
                )?,
                condition: Condition::None,
            });
        }
        let from = d.cursor;
        d.applied += chunk.len() - stale.len();
        d.not_applied += stale.len();
        d.cursor = end;
        let finished = end >= rows.len();
        // The last transaction of this run: time is up after it.
        let stopping = !finished && std::time::Instant::now() >= deadline;
        if finished {
            d.status = ReviewStatus::Approved;
            ops.push(TxOp::Delete {
                key: pointer_key(&d.id),
                condition: Condition::None,
            });
        } else if stopping {
            // Moving the pointer wakes the next run in AWS (the stream sees the write).
            ops.push(pointer_put(&d.id, end, Condition::None)?);
        }
        ops.push(TxOp::Put {
            item: declaration_item(&d)?,
            condition: Condition::VersionIs(version),
        });
        ops.push(unit_check);
        audit.push(Audit {
            case: format!("declaration#{}", d.id),
            command: if finished {
                "declaration.applied".into()
            } else {
                "declaration.apply".into()
            },
            change: json!({
                "rows": [from + 1, end],
                "applied": chunk.len() - stale.len(),
                "not_applied": stale.iter().map(|r| r.row).collect::<Vec<_>>(),
            }),
        });
        ops.extend(swi_platform::mutation::audit_ops(p, &actor, &audit).await?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            Err(swi_store::StateError::Conflict { .. }) => {
                // Another run moved the declaration (or a row's enrolment) meanwhile: it goes
                // on from there; this run stands back and changed nothing.
                progress.contended = true;
                return Ok(progress);
            }
            Err(other) => return Err(other.into()),
        }
        version += 1;
        progress.rows += chunk.len();
        for (person, period, status, eid) in joined {
            roster
                .members
                .entry(person)
                .or_default()
                .push((period, status, eid));
        }
        for (person, eid) in left {
            for m in roster.members.entry(person).or_default() {
                if m.2 == eid {
                    m.1 = Status::Terminated;
                }
            }
        }
        if finished || stopping {
            progress.finished = finished;
            return Ok(progress);
        }
    }
}
