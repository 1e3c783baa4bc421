//! City parameters (GLOSSARY `city_parameter`): the values the city sets at run time for figures
//! the regulation leaves to it (`pending`) or that rest on an assumption (`assumed`), and a year's
//! calendar of holidays and make-up working days (State Council notice). A city-level (360700)
//! `agency_officer` records a value with its effective date, the notice's document number and
//! the notice's scan; a second city-level officer confirms it; from its date on every step uses
//! it (`Platform::params`) and every answer that rests on it names the document in its
//! assumptions. A value that fails the parameter file's checks is refused when recorded and when
//! confirmed. Decisions already made keep the values they used: each records its own.

use crate::ErrorCode;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_domain::access::Owner;
use swi_domain::{Action, Actor, Jurisdiction};
use swi_rules::ParamSet;
use swi_store::{Condition, Item, Key, Query as StoreQuery, Sha256, SkRange, StateStore, TxOp};

use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use crate::{ApiError, Platform};

const PARTITION: &str = "city-params";

fn version_key() -> Key {
    Key::new(PARTITION, "version")
}

fn value_key(id: &str) -> Key {
    Key::new(PARTITION, format!("value#{id}"))
}

/// A value as asked: one figure or a list (one per index), as the parameter files write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Figure {
    /// One figure (`"0.75"`).
    One(String),
    /// One figure per index (`["27", "25", …]`).
    Many(Vec<String>),
}

/// What the city sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Setting {
    /// A parameter's value from a date.
    Value {
        /// The parameter (`benefit.wage_subsidy.ratio`).
        name: String,
        /// In force from.
        from: NaiveDate,
        /// The value.
        value: Figure,
    },
    /// A year's working-day calendar.
    Calendar {
        /// The year.
        year: i32,
        /// Holidays (`YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`).
        holidays: Vec<String>,
        /// Weekend days worked instead (调休上班).
        workdays: Vec<String>,
    },
}

impl Setting {
    fn subject(&self) -> String {
        match self {
            Setting::Value { name, from, .. } => format!("{name} from {from}"),
            Setting::Calendar { year, .. } => format!("calendar.{year}"),
        }
    }
}

/// Where a recorded value stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CityValueStatus {
    /// Recorded by one officer; not used until a second confirms it.
    Recorded,
    /// Confirmed: in force from its date.
    InForce,
}

/// A value the city set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CityValue {
    /// Id (`cv-…`).
    pub id: String,
    /// What is set.
    pub setting: Setting,
    /// The notice's document number (文号).
    pub document_no: String,
    /// The notice's scan (SHA-256, filed).
    pub scan_sha256: String,
    /// Who recorded it (subject) and their name.
    pub recorded_by: String,
    /// Their display name.
    pub recorded_by_name: String,
    /// When.
    pub recorded_at: DateTime<FixedOffset>,
    /// Where it stands.
    pub status: CityValueStatus,
    /// Who confirmed it.
    #[serde(default)]
    pub confirmed_by: Option<String>,
    /// When.
    #[serde(default)]
    pub confirmed_at: Option<DateTime<FixedOffset>>,
}

/// A value to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordCityValue {
    /// What is set.
    pub setting: Setting,
    /// The notice's document number (文号).
    pub document_no: String,
    /// SHA-256 of the notice's uploaded scan.
    pub scan_sha256: String,
}

/// A TOML string (a JSON string literal is a valid TOML basic string).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The parameter-file text of `values` (the schema of `shared/rules/params`).
fn overlay(values: &[&CityValue]) -> String {
    let mut out = String::new();
    for v in values {
        let note = toml_str(&format!(
            "city value {} recorded by {}{}; notice scan sha256:{}",
            v.id,
            v.recorded_by_name,
            v.confirmed_by
                .as_ref()
                .map(|c| format!(", confirmed by {c}"))
                .unwrap_or_default(),
            v.scan_sha256
        ));
        let source = format!(
            "{{ doc = {}, note = {note}, city = true }}",
            toml_str(&v.document_no)
        );
        match &v.setting {
            Setting::Value { name, from, value } => {
                let value = match value {
                    Figure::One(f) => toml_str(f),
                    Figure::Many(fs) => format!(
                        "[{}]",
                        fs.iter()
                            .map(|f| toml_str(f))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                out.push_str(&format!(
                    "[[param.{}.values]]\nfrom = \"{from}\"\nvalue = {value}\nstatus = \"confirmed\"\nsource = {source}\n\n",
                    toml_str(name)
                ));
            }
            Setting::Calendar {
                year,
                holidays,
                workdays,
            } => {
                let list =
                    |l: &[String]| l.iter().map(|d| toml_str(d)).collect::<Vec<_>>().join(", ");
                out.push_str(&format!(
                    "[[calendar]]\nyear = {year}\nholidays = [{}]\nworkdays = [{}]\nstatus = \"confirmed\"\nsource = {source}\n\n",
                    list(holidays),
                    list(workdays)
                ));
            }
        }
    }
    out
}

/// `base` with `values` merged over it.
///
/// # Errors
/// The merged set breaks a rule of the parameter files (the message says which).
pub fn merged(base: &ParamSet, values: &[&CityValue]) -> Result<ParamSet, String> {
    if values.is_empty() {
        return Ok(base.clone());
    }
    base.merged("city parameters", &overlay(values))
        .map_err(|e| e.to_string())
}

/// Every recorded value, oldest first.
///
/// # Errors
/// The store is unavailable.
pub async fn recorded(state: &dyn StateStore) -> Result<Vec<CityValue>, ApiError> {
    let mut out: Vec<CityValue> = state
        .query_all(
            &StoreQuery::partition(PARTITION)
                .range(SkRange::Prefix("value#".into()))
                .limit(500),
        )
        .await?
        .iter()
        .map(|i| i.body().map_err(|e| ApiError::internal(&e)))
        .collect::<Result<_, _>>()?;
    out.sort_by_key(|v| v.recorded_at);
    Ok(out)
}

/// `base` with the values in force merged over it (what `swi quote --store` uses).
///
/// # Errors
/// The store is unavailable, or the stored values no longer merge (503).
pub async fn in_force(state: &dyn StateStore, base: &ParamSet) -> Result<ParamSet, ApiError> {
    let all = recorded(state).await?;
    let confirmed: Vec<&CityValue> = all
        .iter()
        .filter(|v| v.status == CityValueStatus::InForce)
        .collect();
    merged(base, &confirmed).map_err(|e| {
        tracing::error!(cause = %e, "the city's parameter values no longer merge");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ParametersUnavailable,
            "市级参数与参数文件不一致，暂停计算，请联系业务科室",
            "the city's parameter values no longer merge with the parameter files; nothing is computed until they do",
        )
    })
}

/// The process's copy of the parameters in force, rebuilt when the stored version moves.
#[derive(Debug, Default)]
pub struct Cache {
    slot: Mutex<Option<(u64, Arc<ParamSet>)>>,
}

impl Cache {
    /// The parameters in force: `base` with the confirmed city values, from the cache while the
    /// stored version is the one it was built at.
    ///
    /// # Errors
    /// As [`in_force`].
    pub async fn get(
        &self,
        state: &dyn StateStore,
        base: &ParamSet,
    ) -> Result<Arc<ParamSet>, ApiError> {
        let version = state.get(&version_key()).await?.map_or(0, |i| i.version);
        if let Some((v, set)) = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            && *v == version
        {
            return Ok(Arc::clone(set));
        }
        let set = Arc::new(in_force(state, base).await?);
        *self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((version, Arc::clone(&set)));
        Ok(set)
    }
}

fn city_officer(actor: &Actor) -> Result<(), ApiError> {
    actor.may(Action::SetParameters, None, Owner::Nobody)?;
    if actor.jurisdiction != Jurisdiction::City {
        return Err(ApiError::from(swi_domain::Denied::County {
            record: swi_domain::access::CITY_CODE.to_owned(),
            actor: actor.jurisdiction.code(),
        }));
    }
    Ok(())
}

fn refused(why: &str) -> ApiError {
    ApiError::refused(
        ErrorCode::ParameterRefused,
        "该参数值不符合参数文件的规则，未予记录",
        format!("the value breaks a rule of the parameter files: {why}"),
    )
}

fn value_put(v: &CityValue, condition: Condition) -> Result<TxOp, ApiError> {
    let k = value_key(&v.id);
    Ok(TxOp::Put {
        item: Item::new(k.pk, k.sk, v)?,
        condition,
    })
}

/// `POST /api/parameters/city-values`: a city-level agency officer records a value with its
/// notice; it takes effect once a second officer confirms it.
///
/// # Errors
/// 400 fields; 403 not a city-level agency officer; 422 the value breaks the parameter files'
/// rules, or the scan is not uploaded.
#[utoipa::path(post, path = "/api/parameters/city-values", tag = "parameters", request_body = RecordCityValue,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 201, description = "recorded, awaiting a second officer's confirmation", body = CityValue),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<RecordCityValue>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let fp = fingerprint("POST /api/parameters/city-values", &req);
    city_officer(&actor)?;
    crate::wire::name(&req.document_no, "document_no")?;
    let scan = Sha256::parse(&req.scan_sha256)
        .map_err(|e| ApiError::invalid("文件哈希不正确", e.to_string()))?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let id = format!(
            "cv-{}",
            &Sha256::of(format!("{}|{}|{}", req.setting.subject(), req.document_no, fp).as_bytes())
                .hex()[..16]
        );
        let v = CityValue {
            id,
            setting: req.setting.clone(),
            document_no: req.document_no.clone(),
            scan_sha256: scan.hex(),
            recorded_by: actor.sub.clone(),
            recorded_by_name: actor.name.clone(),
            recorded_at: p.clock.now(),
            status: CityValueStatus::Recorded,
            confirmed_by: None,
            confirmed_at: None,
        };
        // Checked as if in force with every value in force now.
        let all = recorded(&*p.state).await?;
        let mut with: Vec<&CityValue> = all
            .iter()
            .filter(|c| c.status == CityValueStatus::InForce)
            .collect();
        with.push(&v);
        merged(&p.base_params, &with).map_err(|e| refused(&e))?;
        crate::documents::require_scan(&p, &actor, &scan, "文件扫描件").await?;
        let case = format!("city-param#{}", v.id);
        let registered = crate::documents::file(
            &p,
            &actor,
            &scan,
            crate::dossier::Filing {
                case: &case,
                county: crate::dossier::CITY,
                class: swi_archive::retention::RecordClass::Procedures,
                material: "参数依据文件",
            },
        )
        .await?;
        let body = serde_json::to_value(&v).map_err(|e| ApiError::internal(&e))?;
        let mut ops = vec![value_put(&v, Condition::NotExists)?];
        ops.extend(registered);
        Ok(Change {
            ops,
            audit: vec![Audit {
                case,
                command: "city_parameter.record".into(),
                change: body.clone(),
            }],
            status: StatusCode::CREATED,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `POST /api/parameters/city-values/{id}/confirm`: a second city-level agency officer confirms a
/// recorded value; from its date on, every step uses it.
///
/// # Errors
/// 403 not a city-level agency officer, or the officer who recorded it; 404; 409 confirmed
/// already; 422 it no longer agrees with the parameter files.
#[utoipa::path(post, path = "/api/parameters/city-values/{id}/confirm", tag = "parameters",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, description = "in force from its date", body = CityValue),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let fp = fingerprint(
        &format!("POST /api/parameters/city-values/{id}/confirm"),
        &(),
    );
    city_officer(&actor)?;
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let item = p
            .state
            .get(&value_key(&id))
            .await?
            .ok_or_else(|| ApiError::not_found("未找到该市级参数值", "no such city value"))?;
        let mut v: CityValue = item.body().map_err(|e| ApiError::internal(&e))?;
        if v.status != CityValueStatus::Recorded {
            return Err(ApiError::conflict(
                ErrorCode::InvalidTransition,
                "该参数值已确认",
                "the value is confirmed already",
            ));
        }
        if v.recorded_by == actor.sub {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::SeparationOfDuties,
                "记录与确认须由两名市级业务科室人员分别办理",
                "a value is confirmed by another officer than the one who recorded it",
            ));
        }
        v.status = CityValueStatus::InForce;
        v.confirmed_by = Some(actor.name.clone());
        v.confirmed_at = Some(p.clock.now());
        let all = recorded(&*p.state).await?;
        let mut with: Vec<&CityValue> = all
            .iter()
            .filter(|c| c.status == CityValueStatus::InForce && c.id != v.id)
            .collect();
        with.push(&v);
        merged(&p.base_params, &with).map_err(|e| refused(&e))?;
        let version = p.state.get(&version_key()).await?;
        let body = serde_json::to_value(&v).map_err(|e| ApiError::internal(&e))?;
        Ok(Change {
            ops: vec![
                value_put(&v, Condition::VersionIs(item.version))?,
                // Every process rebuilds its parameters when this moves.
                TxOp::Put {
                    item: Item::new(PARTITION, "version", &json!({ "last": v.id }))?,
                    condition: version
                        .map_or(Condition::NotExists, |i| Condition::VersionIs(i.version)),
                },
            ],
            audit: vec![Audit {
                case: format!("city-param#{}", v.id),
                command: "city_parameter.confirm".into(),
                change: json!({ "confirmed_by": actor.sub, "subject": v.setting.subject() }),
            }],
            status: StatusCode::OK,
            response: body,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/parameters/city-values`: every value the city recorded, with where it stands.
///
/// # Errors
/// 403 not an agency officer or supervisor.
#[utoipa::path(get, path = "/api/parameters/city-values", tag = "parameters",
    responses((status = 200, description = "recorded values, oldest first", body = [CityValue]),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<Vec<CityValue>>, ApiError> {
    actor.may(Action::ReadAudit, None, Owner::Nobody)?;
    Ok(axum::Json(recorded(&*p.state).await?))
}

/// `?on=YYYY-MM-DD`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct OnQuery {
    /// The date (default today in China).
    #[serde(default, deserialize_with = "crate::wire::de::opt_date")]
    pub on: Option<NaiveDate>,
}

/// `GET /api/parameters?on=DATE`: every parameter in force on a date, with value, status and
/// source (the city's values name their document number).
///
/// # Errors
/// 401; 503 the city's values do not merge.
#[utoipa::path(get, path = "/api/parameters", tag = "parameters", params(OnQuery),
    responses((status = 200, description = "the parameters in force", body = [crate::params::Row]),
        (status = "4XX", description = "refused: see `code`", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn in_force_on(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Query(q): Query<OnQuery>,
) -> Result<axum::Json<Vec<crate::params::Row>>, ApiError> {
    actor.may(Action::Read, None, Owner::Nobody)?;
    let on = q.on.unwrap_or_else(|| p.clock.today());
    let set = p.params().await?;
    Ok(axum::Json(crate::params::rows(&set, on)))
}
