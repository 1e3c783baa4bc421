//! Imports of the work-injury system's roster of units (CSV or XLSX): the request checks every
//! row and accepts or rejects the file whole (a rejection answers every problem by row, with a
//! downloadable report); an accepted roster is recorded at once (202) and the roster-import job
//! (`roster-import`) writes its units' facts a transaction at a time, resuming wherever a run
//! stopped — a kill at any point loses nothing and writes no row twice. A row whose unit moved to
//! another county meanwhile is not applied, and says why.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::{Action, Actor, Jurisdiction, Role};
use swi_platform::auth::Authenticated;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, audit_ops, fingerprint};
use swi_platform::{ApiError, Platform, wire};
use swi_registry::unit::{WorkInjuryFacts, facts_put, load_facts, unit_case};
use swi_rules::category::IndustryClass;
use swi_rules::ids::{County, CreditCode};
use swi_store::{Condition, Item, Key, Sha256, TxOp};

use crate::units::stored_county_holds;

/// The job's name.
pub const NAME: &str = "roster-import";

/// An import of the work-injury system's roster of units (CSV or XLSX).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRoster {
    /// SHA-256 of the uploaded roster file.
    pub sha256: String,
}

const ROSTER_COLUMNS: [(&str, &str); 9] = [
    ("code", "统一社会信用代码"),
    ("name", "单位名称"),
    ("county", "县区代码"),
    ("registration_no", "工伤保险登记号"),
    ("insured", "参保状态"),
    ("industry_class", "行业类别"),
    ("rate_band", "浮动档次"),
    ("band_decided_on", "浮动决定日期"),
    ("as_of", "数据日期"),
];

/// Units' facts per transaction of the job: the facts and their audit event each, with the
/// import, its audit event and the job's pointer.
pub const FACTS_PER_TRANSACTION: usize = 45;

/// A roster row that reads as facts: its spreadsheet row number and the facts.
type RosterRow = (usize, WorkInjuryFacts);

fn roster_rows(
    table: &[Vec<String>],
    actor: &Actor,
    source: &str,
    evidence: &str,
) -> Result<(Vec<RosterRow>, Vec<swi_tables::RowReport>), ApiError> {
    let header = table
        .first()
        .ok_or_else(|| ApiError::invalid("花名册为空", "the roster is empty"))?;
    let mut col = std::collections::HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if let Some((en, _)) = ROSTER_COLUMNS
            .iter()
            .find(|(en, zh)| h.trim() == *en || h.trim() == *zh)
        {
            col.insert(*en, i);
        }
    }
    if let Some((en, zh)) = ROSTER_COLUMNS.iter().find(|(en, _)| !col.contains_key(en)) {
        return Err(ApiError::invalid(
            format!("花名册缺少“{zh}”列"),
            format!("the roster has no column {en}"),
        ));
    }
    let mut facts = Vec::new();
    let mut reports = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |k: &str| {
            col.get(k)
                .and_then(|&c| cells.get(c))
                .map_or("", |s| s.trim())
        };
        let mut errors = Vec::new();
        let code = CreditCode::parse(cell("code"))
            .map_err(|e| errors.push(format!("统一社会信用代码不正确 — code: {e}")))
            .ok();
        if let Some(c) = &code
            && !seen.insert(c.as_str().to_owned())
        {
            errors.push("同一单位出现多次 — the same unit appears twice".into());
        }
        let county = County::parse(cell("county"))
            .map_err(|e| errors.push(format!("县区代码不正确 — county: {e}")))
            .ok();
        if let Some(c) = county
            && actor
                .may(Action::RecordWorkInjuryFacts, Some(c), Owner::Nobody)
                .is_err()
        {
            errors.push("不能导入其他县（市、区）的单位 — a unit of another county".into());
        }
        let insured = match cell("insured") {
            "参保" | "true" | "是" => Some(true),
            "停保" | "注销" | "false" | "否" => Some(false),
            other => {
                errors.push(format!(
                    "参保状态须为“参保”或“停保” — insured, not `{}`",
                    wire::clip(other)
                ));
                None
            }
        };
        let class = cell("industry_class")
            .parse::<u32>()
            .ok()
            .and_then(|c| IndustryClass::new(c).ok());
        let band = cell("rate_band").parse::<Decimal>().ok();
        match (class, band) {
            (Some(c), Some(b)) if swi_rules::premium::band_allowed(c, b) => {}
            (None, _) => errors.push("行业类别须为 1-8 — industry_class must be 1-8".into()),
            _ => errors.push("浮动档次不存在 — rate_band does not exist for the class".into()),
        }
        let date = |k: &str, errors: &mut Vec<String>| {
            NaiveDate::parse_from_str(cell(k), "%Y-%m-%d")
                .map_err(|_| errors.push(format!("{k} 须为 YYYY-MM-DD")))
                .ok()
        };
        let decided = date("band_decided_on", &mut errors);
        let as_of = date("as_of", &mut errors);
        if cell("name").is_empty() || cell("registration_no").is_empty() {
            errors.push(
                "单位名称和工伤保险登记号不能为空 — name and registration_no are required".into(),
            );
        }
        match (code, county, insured, class, band, decided, as_of) {
            (
                Some(code),
                Some(county),
                Some(insured),
                Some(class),
                Some(band),
                Some(decided),
                Some(as_of),
            ) if errors.is_empty() => {
                facts.push((
                    i + 1,
                    WorkInjuryFacts {
                        code: code.as_str().to_owned(),
                        name: cell("name").to_owned(),
                        county,
                        registration_no: cell("registration_no").to_owned(),
                        insured,
                        industry_class: class.get(),
                        rate_band: band,
                        band_decided_on: decided,
                        as_of,
                        source: source.to_owned(),
                        evidence_sha256: evidence.to_owned(),
                    },
                ));
            }
            _ => reports.push(swi_tables::RowReport { row: i + 1, errors }),
        }
    }
    Ok((facts, reports))
}

/// The write of one row's facts, conditioned on the facts as read (absent, or at `version`).
fn facts_change(f: &WorkInjuryFacts, version: Option<u64>) -> Result<(TxOp, Audit), ApiError> {
    Ok((
        facts_put(
            f,
            version.map_or(Condition::NotExists, Condition::VersionIs),
        )?,
        Audit {
            case: unit_case(&f.code),
            command: "work_injury.import_facts".into(),
            change: serde_json::to_value(f).map_err(|e| ApiError::internal(&e))?,
        },
    ))
}

/// The answer to a refused roster: every problem by row, and the report to download.
async fn rejected(
    p: &Platform,
    actor: &Actor,
    mut reports: Vec<swi_tables::RowReport>,
    good: usize,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    reports.sort_by_key(|r| r.row);
    let total = good + reports.len();
    let title = format!(
        "工伤保险参保单位花名册导入报告 — {}",
        actor.jurisdiction.code()
    );
    let xlsx = swi_tables::report_xlsx(&title, &reports, total, "整份花名册未导入")
        .map_err(|e| ApiError::internal(&e))?;
    let report = swi_platform::reports::store(
        p,
        swi_platform::reports::ReportSubject::Import {
            jurisdiction: actor.jurisdiction.code(),
        },
        &xlsx,
    )
    .await?;
    Ok(swi_platform::reports::RowsRejected {
        error: swi_platform::error::ErrorDetail {
            code: swi_platform::ErrorCode::RosterRejected,
            zh: format!(
                "共 {total} 行，{} 行有问题，整份花名册未导入",
                reports.len()
            ),
            en: format!(
                "{} of {total} rows have problems; nothing was imported",
                reports.len()
            ),
        },
        report_url: swi_platform::reports::url(&report),
        report_sha256: report.hex(),
        rows: reports,
    }
    .answer())
}

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Accepted; its rows are being written by the job (`cursor` says how far).
    Importing,
    /// Every row dealt with.
    Imported,
}

/// An accepted roster import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RosterImport {
    /// Id (`ri-…`).
    pub id: String,
    /// The roster file (SHA-256).
    pub sha256: String,
    /// Where the importer acts (a county code, or `360700`).
    pub jurisdiction: String,
    /// Who imported it (subject) and in which role.
    pub imported_by: String,
    /// Their role.
    pub role: String,
    /// Their display name.
    pub imported_by_name: String,
    /// When.
    pub received_at: DateTime<FixedOffset>,
    /// Data rows.
    pub rows: usize,
    /// Rows dealt with so far.
    pub cursor: usize,
    /// Rows written.
    pub imported: usize,
    /// Rows not written (the unit had moved to another county meanwhile), with why.
    pub not_imported: Vec<swi_tables::RowReport>,
    /// Where it stands.
    pub status: ImportStatus,
}

fn import_key(id: &str) -> Key {
    Key::new(format!("roster-import#{id}"), "profile")
}

fn pointer_key(id: &str) -> Key {
    Key::new(jobs::pointer_partition(NAME), id)
}

fn import_put(i: &RosterImport, condition: Condition) -> Result<TxOp, ApiError> {
    let k = import_key(&i.id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, i)?,
        condition,
    })
}

fn pointer_put(id: &str, cursor: usize, condition: Condition) -> Result<TxOp, ApiError> {
    let k = pointer_key(id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, &json!({ "import": id, "cursor": cursor }))?,
        condition,
    })
}

/// The importer, as the rows are checked against their jurisdiction again by the job.
fn importer(i: &RosterImport) -> Result<Actor, ApiError> {
    Ok(Actor {
        sub: i.imported_by.clone(),
        role: i.role.parse::<Role>().map_err(|e| ApiError::internal(&e))?,
        jurisdiction: Jurisdiction::parse(&i.jurisdiction).map_err(|e| ApiError::internal(&e))?,
        name: i.imported_by_name.clone(),
        unit: None,
    })
}

/// `POST /api/work-injury/roster`: imports the work-injury system's roster of units (CSV or
/// XLSX); every row is checked and the file accepted or rejected whole. Accepted, it is recorded
/// at once and answered 202; the job writes the facts (`GET /api/work-injury/roster/{id}` shows
/// how far).
///
/// # Errors
/// 403; 413/415 file; 422 rows refused (with the rows and a downloadable report).
#[utoipa::path(post, path = "/api/work-injury/roster", tag = "units", request_body = ImportRoster,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 202, description = "accepted; the facts are being written", body = RosterImport),
        (status = 422, description = "rejected whole, every problem by row", body = swi_platform::reports::RowsRejected),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_roster(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<ImportRoster>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/work-injury/roster", &req);
    actor.may(Action::RecordWorkInjuryFacts, None, Owner::Nobody)?;
    let sha = Sha256::parse(&req.sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    swi_platform::documents::possess(&p, &actor, &sha).await?;
    let table =
        swi_platform::documents::load_table(&p, &sha, &swi_tables::Limits::DECLARATION, "花名册")
            .await?;
    let source = format!("roster:{}", sha.hex());
    let (facts, mut reports) = roster_rows(&table, &actor, &source, &sha.hex())?;
    drop(table);
    if facts.is_empty() && reports.is_empty() {
        return Err(ApiError::invalid(
            "花名册没有数据行",
            "the roster has no data rows",
        ));
    }
    // Each unit already on record stays in its county and within the importer's.
    for (line, f) in &facts {
        if let Some((stored, _)) = load_facts(&p, &f.code).await?
            && let Err(e) = stored_county_holds(&actor, &stored, f.county)
        {
            reports.push(swi_tables::RowReport {
                row: *line,
                errors: vec![format!("{} — {}", e.zh, e.en)],
            });
        }
    }
    if !reports.is_empty() {
        let bad: std::collections::HashSet<usize> = reports.iter().map(|r| r.row).collect();
        let good = facts.iter().filter(|(line, _)| !bad.contains(line)).count();
        return rejected(&p, &actor, reports, good).await;
    }
    let rows = facts.len();
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let id = format!(
            "ri-{}",
            &Sha256::of(format!("{}|{fp}", actor.sub).as_bytes()).hex()[..20]
        );
        // The roster is the facts' evidence: filed with the import.
        let case = format!("roster-import#{id}");
        let registered = swi_platform::documents::file(
            &p,
            &actor,
            &sha,
            swi_platform::dossier::Filing {
                case: &case,
                county: &actor.jurisdiction.code(),
                class: swi_archive::retention::RecordClass::UnitRegistration,
                material: "工伤保险参保花名册",
            },
        )
        .await?;
        let import = RosterImport {
            id: id.clone(),
            sha256: sha.hex(),
            jurisdiction: actor.jurisdiction.code(),
            imported_by: actor.sub.clone(),
            role: actor.role.as_str().to_owned(),
            imported_by_name: actor.name.clone(),
            received_at: p.clock.now(),
            rows,
            cursor: 0,
            imported: 0,
            not_imported: Vec::new(),
            status: ImportStatus::Importing,
        };
        let body = serde_json::to_value(&import).map_err(|e| ApiError::internal(&e))?;
        let mut ops = vec![
            import_put(&import, Condition::NotExists)?,
            pointer_put(&id, 0, Condition::NotExists)?,
        ];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "work_injury.import_roster".into(),
                change: json!({ "sha256": sha.hex(), "rows": rows }),
            }],
            status: StatusCode::ACCEPTED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/work-injury/roster/{id}`: an import and how far it got.
///
/// # Errors
/// 403 another jurisdiction's import; 404.
#[utoipa::path(get, path = "/api/work-injury/roster/{id}", tag = "units",
    params(("id" = String, Path)),
    responses((status = 200, description = "the import", body = RosterImport),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<RosterImport>, ApiError> {
    let item = p
        .state
        .get(&import_key(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该花名册导入", "no such roster import"))?;
    let import: RosterImport = item.body().map_err(|e| ApiError::internal(&e))?;
    actor.may(Action::RecordWorkInjuryFacts, None, Owner::Nobody)?;
    if import.jurisdiction != actor.jurisdiction.code() && actor.jurisdiction != Jurisdiction::City
    {
        return Err(ApiError::from(swi_domain::Denied::County {
            record: import.jurisdiction.clone(),
            actor: actor.jurisdiction.code(),
        }));
    }
    Ok(axum::Json(import))
}

/// Writes an import's facts from where it stands, a transaction at a time, until done or
/// `deadline` (at least one transaction). Each transaction moves the import's cursor under the
/// version read, so two runs never write a row twice and a kill loses nothing. Returns the rows
/// dealt with and whether done.
///
/// # Errors
/// The store is unavailable, or the roster cannot be read back.
pub async fn import_rows(
    p: &Platform,
    id: &str,
    deadline: Instant,
) -> Result<(usize, bool), ApiError> {
    let Some(item) = p.state.get(&import_key(id)).await? else {
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(id),
                condition: Condition::None,
            }])
            .await?;
        return Ok((0, true));
    };
    let mut version = item.version;
    let mut import: RosterImport = item.body().map_err(|e| ApiError::internal(&e))?;
    if import.status == ImportStatus::Imported {
        p.state
            .transact(vec![TxOp::Delete {
                key: pointer_key(id),
                condition: Condition::None,
            }])
            .await?;
        return Ok((0, true));
    }
    let sha = Sha256::parse(&import.sha256).map_err(|e| ApiError::internal(&e))?;
    let table =
        swi_platform::documents::load_table(p, &sha, &swi_tables::Limits::DECLARATION, "花名册")
            .await?;
    let who = importer(&import)?;
    let source = format!("roster:{}", sha.hex());
    let (facts, _) = roster_rows(&table, &who, &source, &sha.hex())?;
    drop(table);
    let job = jobs::job_actor(NAME, format!("花名册导入（{}）", import.imported_by_name));
    let mut done = 0;
    loop {
        let end = (import.cursor + FACTS_PER_TRANSACTION).min(facts.len());
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        for (line, f) in facts.get(import.cursor..end).unwrap_or_default() {
            let stored = load_facts(p, &f.code).await?;
            if let Some((s, _)) = &stored
                && let Err(e) = stored_county_holds(&who, s, f.county)
            {
                import.not_imported.push(swi_tables::RowReport {
                    row: *line,
                    errors: vec![format!("{} — {}", e.zh, e.en)],
                });
                continue;
            }
            let (op, a) = facts_change(f, stored.map(|(_, v)| v))?;
            ops.push(op);
            audit.push(a);
            import.imported += 1;
        }
        let from = import.cursor;
        import.cursor = end;
        let finished = end >= facts.len();
        if finished {
            import.status = ImportStatus::Imported;
            ops.push(TxOp::Delete {
                key: pointer_key(id),
                condition: Condition::None,
            });
        } else {
            ops.push(pointer_put(id, end, Condition::None)?);
        }
        ops.push(import_put(&import, Condition::VersionIs(version))?);
        audit.push(Audit {
            case: format!("roster-import#{id}"),
            command: if finished {
                "work_injury.roster_imported"
            } else {
                "work_injury.roster_rows"
            }
            .into(),
            change: json!({ "rows": [from + 1, end], "imported": import.imported }),
        });
        ops.extend(audit_ops(p, &job, &audit).await?);
        match p.state.transact(ops).await {
            Ok(()) => {}
            // Another run (or a change of a unit's facts) moved meanwhile: go on from there next run.
            Err(swi_store::StateError::Conflict { .. }) => return Ok((done, false)),
            Err(other) => return Err(other.into()),
        }
        version += 1;
        done += end - from;
        if finished {
            return Ok((done, true));
        }
        if Instant::now() >= deadline {
            return Ok((done, false));
        }
    }
}

/// The job.
pub struct RosterImportJob;

#[async_trait::async_trait]
impl Job for RosterImportJob {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> &'static str {
        "writes accepted rosters of the work-injury system's units, a transaction at a time (Art. 7)"
    }

    fn wake(&self) -> Wake {
        Wake::Pointer
    }

    async fn run(&self, p: &Platform, deadline: Instant) -> Result<Report, ApiError> {
        let t = jobs::walk_pointers(p, NAME, deadline, |key| async move {
            import_rows(p, &key, deadline).await
        })
        .await?;
        let (rows, finished, pending) = (t.done, t.finished, t.pending);
        Ok(Report {
            job: NAME,
            done: rows,
            pending,
            errors: Vec::new(),
            summary: format!(
                "roster rows written {rows}, imports finished {finished}, still importing {pending}"
            ),
            detail: json!({ "waiting": t.waiting, "rows": rows, "finished": finished, "pending": pending }),
        })
    }
}
