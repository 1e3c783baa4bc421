//! The archive's routes for volumes: a county's settings (what every cover carries), a
//! month's filing opened on demand and followed, the volumes by month and class with their
//! items, sheets and packages, and a document's registrations and fixity. The `archivist`
//! keeps them; the `supervisor` reads them. The city's own archive is `360700`, kept by the
//! city's archivist.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_archive::number::Fonds;
use swi_domain::access::{CITY_CODE, Owner};
use swi_domain::{Action, Actor, Jurisdiction};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, Platform, wire};
use swi_rules::ids::County;
use swi_store::{Condition, Index, Item, Sha256, TxOp};

use crate::filing::{Filing, load_filing, open_ops};
use crate::model::{
    ItemRecord, Settings, VolumeRecord, items, load_volume, settings, settings_key,
    volumes_partition,
};

/// Checks that `actor` may take `action` on the archive of `county` (a county, or the city's
/// own, which only the city's staff touch).
///
/// # Errors
/// 400 not a county; 403.
pub fn may(actor: &Actor, action: Action, county: &str) -> Result<String, ApiError> {
    if county == CITY_CODE {
        actor.may(action, None, Owner::Nobody)?;
        if actor.jurisdiction != Jurisdiction::City {
            return Err(swi_domain::Denied::County {
                record: CITY_CODE.to_owned(),
                actor: actor.jurisdiction.code(),
            }
            .into());
        }
        return Ok(CITY_CODE.to_owned());
    }
    let c = County::parse(county).map_err(|m| ApiError::invalid("县区代码有误", m))?;
    actor.may(action, Some(c), Owner::Nobody)?;
    Ok(c.code().to_string())
}

/// The claim of a fonds number by one archive.
fn fonds_key(fonds: &str) -> swi_store::Key {
    swi_store::Key::new(format!("archive-fonds#{fonds}"), "owner")
}

/// What an archivist sets for a county's archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSettings {
    /// 全宗号: four letters or digits.
    pub fonds: String,
    /// 档案馆号: 1-12 letters or digits.
    pub archive_house_number: String,
    /// 立卷单位.
    pub filing_unit: String,
    /// 密级 printed on covers (e.g. 内部).
    pub classification_level: String,
    /// 整理人 of volumes the scheduled job files.
    pub compiled_by: String,
}

/// `PUT /api/archive/settings/{county}`: the county's fonds number, archive-house number,
/// filing unit, classification level and compiler (Art. 46).
///
/// # Errors
/// 400 fields; 403 not the county's archivist.
#[utoipa::path(put, path = "/api/archive/settings/{county}", tag = "archive", request_body = SetSettings,
    params(("county" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "set", body = Settings),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_settings(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(county): Path<String>,
    ApiJson(req): ApiJson<SetSettings>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("PUT /api/archive/settings/{county}"), &req);
    let county = may(&actor, Action::KeepArchive, &county)?;
    let fonds = Fonds::parse(req.fonds.trim())
        .map_err(|e| ApiError::invalid("全宗号须为 4 位字母或数字", format!("`fonds`: {e}")))?;
    let house = req.archive_house_number.trim();
    if !(1..=12).contains(&house.len()) || !house.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid(
            "档案馆号须为 1-12 位字母或数字",
            "`archive_house_number` must be 1-12 letters or digits",
        ));
    }
    wire::name(&req.filing_unit, "filing_unit")?;
    wire::name(&req.classification_level, "classification_level")?;
    wire::name(&req.compiled_by, "compiled_by")?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let current = settings(&*p.state, &county).await?;
        // A fonds number is one archive's: two archives numbering volumes alike would collide.
        let mut ops = Vec::new();
        let claim = fonds_key(fonds.as_str());
        match p.state.get(&claim).await? {
            Some(i)
                if i.body::<Value>().map_err(|e| ApiError::internal(&e))?["county"]
                    != county.as_str() =>
            {
                return Err(ApiError::conflict(
                    swi_platform::ErrorCode::AlreadyImported,
                    "该全宗号已由另一档案机构使用",
                    "this fonds number is another archive's",
                ));
            }
            Some(i) => ops.push(TxOp::Check {
                key: claim.clone(),
                condition: Condition::VersionIs(i.version),
            }),
            None => ops.push(TxOp::Put {
                item: Item::new(
                    claim.pk.clone(),
                    claim.sk.clone(),
                    &json!({ "county": county }),
                )?,
                condition: Condition::NotExists,
            }),
        }
        if let Some((old, _)) = &current
            && old.fonds != fonds.as_str()
            && let Some(i) = p.state.get(&fonds_key(&old.fonds)).await?
        {
            ops.push(TxOp::Delete {
                key: fonds_key(&old.fonds),
                condition: Condition::VersionIs(i.version),
            });
        }
        let s = Settings {
            county: county.clone(),
            fonds: fonds.as_str().to_owned(),
            archive_house_number: house.to_owned(),
            filing_unit: req.filing_unit.trim().to_owned(),
            classification_level: req.classification_level.trim().to_owned(),
            compiled_by: req.compiled_by.trim().to_owned(),
            recorded_by: actor.name.clone(),
            recorded_at: p.clock.now().naive_local(),
        };
        let k = settings_key(&county);
        let body = serde_json::to_value(&s).map_err(|e| ApiError::internal(&e))?;
        ops.push(TxOp::Put {
            item: Item::new(k.pk, k.sk, &s)?,
            condition: current.map_or(Condition::NotExists, |(_, v)| Condition::VersionIs(v)),
        });
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: format!("archive#{county}"),
                command: "archive.settings".into(),
                change: body.clone(),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/archive/settings/{county}`.
///
/// # Errors
/// 403; 404 not set.
#[utoipa::path(get, path = "/api/archive/settings/{county}", tag = "archive",
    params(("county" = String, Path)),
    responses((status = 200, description = "the settings", body = Settings),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_settings(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<Settings>, ApiError> {
    let county = may(&actor, Action::ReadArchive, &county)?;
    settings(&*p.state, &county)
        .await?
        .map(|(s, _)| axum::Json(s))
        .ok_or_else(|| crate::filing::settings_missing(&county))
}

/// A month to file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileMonth {
    /// The county (or 360700).
    pub county: String,
    /// The month, `YYYY-MM`, ended.
    pub month: String,
}

/// `POST /api/volumes`: files a county's month now (the scheduled job does after each month);
/// the archivist asking is its compiler.
///
/// # Errors
/// 400; 403 not the county's archivist; 409 being filed or filed already; 422 the month has
/// not ended, or the county has no archive settings.
#[utoipa::path(post, path = "/api/volumes", tag = "archive", request_body = FileMonth,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 202, description = "filing: follow it at `/api/archive/filings/{county}/{month}`", body = Filing),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn file_month(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<FileMonth>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/volumes", &req);
    let county = may(&actor, Action::KeepArchive, &req.county)?;
    crate::filing::month_end(&req.month)?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let (f, ops) = open_ops(&p, &county, &req.month, &actor.name, &actor).await?;
        let body = serde_json::to_value(&f).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: format!("archive#{county}"),
                command: "archive.file_month".into(),
                change: json!({ "month": req.month, "basis": "Art. 45" }),
            }],
            status: StatusCode::ACCEPTED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/archive/filings/{county}/{month}`: how far a month's filing got (and why it is
/// stuck, if it is).
///
/// # Errors
/// 403; 404 not opened.
#[utoipa::path(get, path = "/api/archive/filings/{county}/{month}", tag = "archive",
    params(("county" = String, Path), ("month" = String, Path)),
    responses((status = 200, description = "the filing", body = Filing),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn filing(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((county, month)): Path<(String, String)>,
) -> Result<axum::Json<Filing>, ApiError> {
    let county = may(&actor, Action::ReadArchive, &county)?;
    crate::filing::month_end(&month)?;
    load_filing(&p, &county, &month)
        .await?
        .map(|(f, _)| axum::Json(f))
        .ok_or_else(|| ApiError::not_found("该月尚未归档", "this month is not being filed"))
}

/// `?county=&month=` of the volume list.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct VolumesQuery {
    /// The county (or 360700).
    pub county: String,
    /// A month (`YYYY-MM`), or a year (`YYYY`); all when absent.
    pub month: Option<String>,
}

/// `GET /api/volumes?county=&month=`: a county's volumes by month, class and period.
///
/// # Errors
/// 400; 403.
#[utoipa::path(get, path = "/api/volumes", tag = "archive", params(VolumesQuery),
    responses((status = 200, description = "the volumes", body = [VolumeRecord]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn volumes(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<VolumesQuery>,
) -> Result<axum::Json<Vec<VolumeRecord>>, ApiError> {
    let county = may(&actor, Action::ReadArchive, &q.county)?;
    let mut query = swi_store::Query::partition(volumes_partition(&county)).limit(500);
    if let Some(m) = &q.month {
        let ok = (m.len() == 7 && crate::filing::month_end(m).is_ok())
            || (m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(ApiError::invalid(
                "月份须为 YYYY-MM 或 YYYY",
                "`month` is YYYY-MM or YYYY",
            ));
        }
        query = query.range(swi_store::SkRange::Prefix(m.clone()));
    }
    let all = p.state.query_index(Index::Gsi1, &query).await?;
    all.items
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<Vec<_>, _>>()
        .map(axum::Json)
}

/// A volume with its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VolumeView {
    /// The volume.
    pub volume: VolumeRecord,
    /// Its items, in order.
    pub items: Vec<ItemRecord>,
}

async fn readable(p: &Platform, actor: &Actor, id: &str) -> Result<VolumeRecord, ApiError> {
    let (v, _) = load_volume(&*p.state, id).await?.ok_or_else(|| {
        ApiError::not_found("未找到该案卷", format!("no volume {}", wire::clip(id)))
    })?;
    may(actor, Action::ReadArchive, &v.county)?;
    Ok(v)
}

/// `GET /api/volumes/{id}`: a volume and its items.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/volumes/{id}", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "the volume", body = VolumeView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn volume(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<VolumeView>, ApiError> {
    let v = readable(&p, &actor, &id).await?;
    let items = items(&*p.state, &id)
        .await?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    Ok(axum::Json(VolumeView { volume: v, items }))
}

/// `GET /api/volumes/{id}/package`: the volume's package (a tar of its BagIt tag files; its
/// documents by reference to their content addresses).
///
/// # Errors
/// 403; 404 no such volume, or not packed yet.
#[utoipa::path(get, path = "/api/volumes/{id}/package", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "the package", content_type = "application/x-tar", body = Vec<u8>),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn package(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let v = readable(&p, &actor, &id).await?;
    let sha = v
        .package
        .as_deref()
        .and_then(|s| Sha256::parse(s).ok())
        .ok_or_else(|| ApiError::not_found("该案卷尚未封装", "the volume is not packed yet"))?;
    let bytes = swi_platform::documents::load_bounded(
        &p,
        &sha,
        swi_archive::package::PACKAGE_LIMITS.total_bytes,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.tar\"", v.id),
            ),
        ],
        bytes,
    ))
}

/// A document's place in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentView {
    /// SHA-256.
    pub sha256: String,
    /// Its registrations to cases.
    pub registrations: Vec<swi_platform::dossier::Registration>,
    /// Its fixity, once hashed.
    pub fixity: Option<crate::model::Fixity>,
}

/// `GET /api/documents/{sha256}`: a document's registrations and fixity (never its bytes: those
/// are read through the case that holds it).
///
/// # Errors
/// 400; 403 not an archivist or supervisor; 404 registered to no case of the actor's county.
#[utoipa::path(get, path = "/api/documents/{sha256}", tag = "archive", params(("sha256" = String, Path)),
    responses((status = 200, description = "the document's registrations", body = DocumentView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn document(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(sha): Path<String>,
) -> Result<axum::Json<DocumentView>, ApiError> {
    let sha =
        Sha256::parse(&sha).map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    actor.may(Action::ReadArchive, None, Owner::Nobody)?;
    let registrations: Vec<_> = swi_platform::dossier::registrations(&p, &sha)
        .await?
        .into_iter()
        .filter(|r| may(&actor, Action::ReadArchive, &r.county).is_ok())
        .collect();
    // Whether a document exists elsewhere is not told to someone who may not see it.
    if registrations.is_empty() {
        return Err(ApiError::not_found(
            "本辖区没有登记该文件",
            "no registration of this document in your jurisdiction",
        ));
    }
    let fixity = p
        .state
        .get(&crate::model::fixity_key(&sha.hex()))
        .await?
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .transpose()?;
    Ok(axum::Json(DocumentView {
        sha256: sha.hex(),
        registrations,
        fixity,
    }))
}

/// Which checks to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunChecks {
    /// `filing`, `handover` or `preservation`.
    #[schema(value_type = String)]
    pub stage: swi_archive::checks::Stage,
}

/// `POST /api/volumes/{id}/checks`: runs the four checks (DA/T 70) on the volume now — every
/// document re-hashed, the package against the digests the state store and the audit chain
/// keep, each case's audit chain at the head recorded at filing — and keeps the report, a row
/// per check item.
///
/// # Errors
/// 403 not the county's archivist; 404.
#[utoipa::path(post, path = "/api/volumes/{id}/checks", tag = "archive", request_body = RunChecks,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 201, description = "the report", body = crate::checking::KeptReport),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn run_checks(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RunChecks>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint(&format!("POST /api/volumes/{id}/checks"), &req);
    let v = readable(&p, &actor, &id).await?;
    may(&actor, Action::KeepArchive, &v.county)?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let report = crate::checking::run(&p, &v, req.stage).await?;
        let kept = crate::checking::KeptReport {
            volume: v.id.clone(),
            at: p.clock.now().naive_local(),
            by: actor.name.clone(),
            passed: report.passed(),
            report,
        };
        let body = serde_json::to_value(&kept).map_err(|e| ApiError::internal(&e))?;
        let failed: Vec<&str> = kept.report.failed().map(|r| r.name.as_str()).collect();
        Ok(Change {
            ops: vec![crate::checking::keep_op(&kept)?],
            audit: vec![Audit {
                case: format!("archive#{}", v.county),
                command: "volume.check".into(),
                change: json!({ "volume": v.id, "stage": req.stage, "passed": kept.passed, "failed": failed, "basis": "DA/T 70" }),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/volumes/{id}/checks`: the volume's check reports, newest first.
///
/// # Errors
/// 403; 404.
#[utoipa::path(get, path = "/api/volumes/{id}/checks", tag = "archive", params(("id" = String, Path)),
    responses((status = 200, description = "the reports", body = [crate::checking::KeptReport]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn checks(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<crate::checking::KeptReport>>, ApiError> {
    readable(&p, &actor, &id).await?;
    Ok(axum::Json(crate::checking::reports(&p, &id, 50).await?))
}

/// `GET /api/volumes/{id}/sheets/{sheet}`: one of the volume's own sheets as filed — `cover`
/// (案卷封面), `contents` (卷内目录) or `notes` (备考表) — read through its package's manifest.
///
/// # Errors
/// 403; 404 no such volume or sheet, or not packed.
#[utoipa::path(get, path = "/api/volumes/{id}/sheets/{sheet}", tag = "archive",
    params(("id" = String, Path), ("sheet" = String, Path, description = "cover, contents or notes")),
    responses((status = 200, description = "the sheet", content_type = "application/pdf", body = Vec<u8>),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn sheet(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path((id, sheet)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let v = readable(&p, &actor, &id).await?;
    if !["cover", "contents", "notes"].contains(&sheet.as_str()) {
        return Err(ApiError::not_found(
            "没有该卷内表单",
            "a sheet is cover, contents or notes",
        ));
    }
    let missing = || ApiError::not_found("该案卷尚未封装", "the volume is not packed yet");
    let package = v
        .package
        .as_deref()
        .and_then(|s| Sha256::parse(s).ok())
        .ok_or_else(missing)?;
    let raw = swi_platform::documents::load_bounded(
        &p,
        &package,
        swi_archive::package::PACKAGE_LIMITS.total_bytes,
    )
    .await?;
    let (_, files) = swi_archive::package::unpack(&raw, swi_archive::package::PACKAGE_LIMITS)
        .map_err(|e| ApiError::internal(&e))?;
    let bag = swi_archive::bagit::parse(&files).map_err(|e| ApiError::internal(&e))?;
    let sha = bag
        .manifests
        .get("sha256")
        .and_then(|m| m.get(&format!("data/volume/{sheet}.pdf")))
        .and_then(|s| Sha256::parse(s).ok())
        .ok_or_else(missing)?;
    let bytes = swi_platform::documents::load_bounded(&p, &sha, 64 << 20).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-{sheet}.pdf\"", v.id),
            ),
        ],
        bytes,
    ))
}
