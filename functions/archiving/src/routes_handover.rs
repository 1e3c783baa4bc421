//! The handover register (移交清册, Art. 47: at the end of its term the contractor hands the
//! paper and electronic archives to the agency): every filed volume of a county with its
//! archive number, what it holds, its package's digest, where its paper copy is and which copy
//! is authoritative, and its last four-check report — as JSON for the portal, and as CSV or
//! XLSX for the two sides to sign. The electronic volumes themselves travel as the export
//! `swi archive export` writes (complete bags), which the receiving side checks against this
//! register and takes in with `swi archive import`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use swi_domain::Action;
use swi_platform::auth::Authenticated;
use swi_platform::{ApiError, Platform};
use swi_store::Index;

use crate::model::{Authoritative, VolumeRecord, VolumeStatus, volumes_partition};
use crate::routes_volumes::may;

/// A volume as the register lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterRow {
    /// The volume.
    pub id: String,
    /// 档号.
    pub archive_number: String,
    /// 案卷题名.
    pub title: String,
    /// The month filed.
    pub month: String,
    /// 保管期限.
    pub period: String,
    /// Items.
    pub items: u32,
    /// Documents.
    pub documents: u32,
    /// Bytes of its documents.
    pub bytes: u64,
    /// Its package's SHA-256.
    pub package: String,
    /// Where its paper copy is (盒号、架位), if recorded.
    pub paper: Option<String>,
    /// Which copy is authoritative, if recorded.
    pub authoritative: Option<Authoritative>,
    /// When its last four checks ran.
    #[schema(value_type = Option<String>)]
    pub checked_at: Option<NaiveDateTime>,
    /// Whether they passed.
    pub passed: Option<bool>,
}

/// `?format=` of the register.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct RegisterQuery {
    /// `json` (the default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// The register's rows: every filed volume of `county`, in the order of months and classes.
///
/// # Errors
/// 503 the store.
pub async fn rows(p: &Platform, county: &str) -> Result<Vec<RegisterRow>, ApiError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = p
            .state
            .query_index(
                Index::Gsi1,
                &swi_store::Query::partition(volumes_partition(county))
                    .limit(500)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            let v: VolumeRecord = item.body().map_err(|e| ApiError::internal(&e))?;
            if v.status != VolumeStatus::Filed {
                continue;
            }
            let last = crate::checking::reports(p, &v.id, 1).await?;
            let last = last.first();
            out.push(RegisterRow {
                id: v.id.clone(),
                archive_number: v.archive_number.clone(),
                title: v.title.clone(),
                month: v.month.clone(),
                period: v.period.label(),
                items: v.items,
                documents: v.documents,
                bytes: v.bytes,
                package: v.package.clone().unwrap_or_default(),
                paper: v
                    .paper
                    .as_ref()
                    .map(|p| format!("{} 盒 {} 架", p.box_no, p.shelf)),
                authoritative: v.paper.as_ref().map(|p| p.authoritative),
                checked_at: last.map(|r| r.at),
                passed: last.map(|r| r.passed),
            });
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

const COLUMNS: [(&str, &str); 11] = [
    ("archive_number", "档号"),
    ("title", "案卷题名"),
    ("month", "归档月份"),
    ("period", "保管期限"),
    ("items", "件数"),
    ("documents", "文件数"),
    ("bytes", "字节数"),
    ("package_sha256", "信息包SHA-256"),
    ("paper", "纸质案卷位置"),
    ("authoritative", "以何为准"),
    ("checks", "最近四性检测"),
];

/// `GET /api/archive/handover/{county}`: the county's handover register.
///
/// # Errors
/// 400 a format; 403.
#[utoipa::path(get, path = "/api/archive/handover/{county}", tag = "archive",
    params(("county" = String, Path), RegisterQuery),
    responses((status = 200, description = "the register (JSON, or CSV / XLSX to sign)", body = [RegisterRow]),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(county): Path<String>,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, ApiError> {
    let county = may(&actor, Action::ReadArchive, &county)?;
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => None,
        "csv" => Some(swi_tables::Format::Csv),
        "xlsx" => Some(swi_tables::Format::Xlsx),
        _ => {
            return Err(ApiError::invalid(
                "格式须为 json、csv 或 xlsx",
                "`format` is json, csv or xlsx",
            ));
        }
    };
    let rows = rows(&p, &county).await?;
    let Some(format) = format else {
        return Ok(axum::Json(rows).into_response());
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.archive_number.clone(),
                r.title.clone(),
                r.month.clone(),
                r.period.clone(),
                r.items.to_string(),
                r.documents.to_string(),
                r.bytes.to_string(),
                r.package.clone(),
                r.paper.clone().unwrap_or_default(),
                match r.authoritative {
                    Some(Authoritative::Paper) => "纸质".into(),
                    Some(Authoritative::Electronic) => "电子".into(),
                    None => String::new(),
                },
                match (r.checked_at, r.passed) {
                    (Some(at), Some(true)) => format!("{} 通过", at.format("%Y-%m-%d")),
                    (Some(at), Some(false)) => format!("{} 未通过", at.format("%Y-%m-%d")),
                    _ => String::new(),
                },
            ]
        })
        .collect();
    let bytes = swi_tables::render(&COLUMNS, &cells, format, &[(0, 28.0), (1, 40.0), (7, 66.0)])
        .map_err(|e| ApiError::internal(&e))?;
    let ext = format.extension();
    let kind = match format {
        swi_tables::Format::Csv => "text/csv; charset=utf-8",
        swi_tables::Format::Xlsx => swi_tables::XLSX_TYPE,
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"handover-{county}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
