//! Payees' accounts: `POST /api/accounts` records one (the contractor's finance staff for the
//! payee of a line or schedule of their county; a citizen or unit for itself), `GET
//! /api/accounts/own` shows one's own, `GET /api/accounts/lines/{id}` the account of a line's
//! payee. Numbers are answered masked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use swi_domain::access::Owner;
use swi_domain::{Action, Actor, Role};
use swi_payables::account::{AccountKind, Bank, PayeeAccount};
use swi_platform::auth::Authenticated;
use swi_platform::json::ApiJson;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, fingerprint};
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Index, Query, SkRange};

use crate::accounts::{AccountView, load, record_op};
use crate::model::{load_line, payee_partition};
use crate::payroll::{self, PayrollEntry, entry_op};

/// `POST /api/accounts` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAccount {
    /// For finance: the payment line whose payee's account this is.
    pub line: Option<String>,
    /// For finance: the schedule whose payee's account this is.
    pub schedule: Option<String>,
    /// Kind.
    pub kind: AccountKind,
    /// Bank.
    pub bank: Bank,
    /// Branch (开户网点).
    pub branch: String,
    /// Number, as written (spaces and hyphens allowed).
    pub number: String,
    /// Holder (户名).
    pub holder: String,
}

/// Whose account a request records: the payee's index partition, the payee's name, the case
/// the audit event goes to, and the county (none for one's own).
struct Whose {
    payee: String,
    name: String,
    case: String,
}

fn rejected(zh: String, en: String) -> ApiError {
    ApiError::refused(ErrorCode::AccountRejected, zh, en)
}

async fn whose(p: &Platform, actor: &Actor, req: &RecordAccount) -> Result<Whose, ApiError> {
    match actor.role {
        Role::Citizen => {
            actor.may(Action::RecordAccount, None, Owner::Nobody)?;
            let id = swi_platform::identity::linked(p, &actor.sub)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::FORBIDDEN,
                        ErrorCode::NotOwnId,
                        "您的账号尚未完成实名核验，请持身份证到经办窗口办理",
                        "this account has no verified ID number yet",
                    )
                })?;
            Ok(Whose {
                payee: swi_registry::enrolment::person_partition(&id.person),
                name: id.name,
                case: format!("account-own#{}", actor.sub),
            })
        }
        Role::Employer => {
            let code = actor.unit.clone().unwrap_or_default();
            actor.may(Action::RecordAccount, None, Owner::Unit(&code))?;
            let (unit, _) = swi_registry::unit::load_unit(p, &code).await?;
            Ok(Whose {
                payee: format!("payee-unit#{code}"),
                name: unit.name,
                case: format!("unit#{code}"),
            })
        }
        _ => {
            if let Some(id) = &req.line {
                let (line, _) = load_line(p, id).await?.ok_or_else(|| {
                    ApiError::not_found("未找到该支付明细", "no such payment line")
                })?;
                actor.may(Action::RecordAccount, Some(line.county), Owner::Nobody)?;
                return Ok(Whose {
                    payee: payee_partition(p, &line.payee)?,
                    name: line.payee.name,
                    case: format!("payline#{id}"),
                });
            }
            if let Some(sid) = &req.schedule {
                let s = swi_payables::schedules(p, std::slice::from_ref(sid))
                    .await?
                    .pop()
                    .ok_or_else(|| ApiError::not_found("未找到该定期待遇", "no such schedule"))?;
                actor.may(Action::RecordAccount, Some(s.county), Owner::Nobody)?;
                return Ok(Whose {
                    payee: payee_partition(p, &s.payee)?,
                    name: s.payee.name,
                    case: format!("schedule#{sid}"),
                });
            }
            actor.may(Action::RecordAccount, None, Owner::Nobody)?;
            Err(ApiError::invalid(
                "须指明支付明细（line）或定期待遇（schedule）",
                "name the `line` or `schedule` whose payee's account this is",
            ))
        }
    }
}

/// `POST /api/accounts`: records a payee's account — valid (form, check digit) and held by the
/// payee — and copies it to the payee's periodic benefits; the daily run pays the payee's waiting
/// lines to it.
///
/// # Errors
/// 400 malformed; 403 not finance of the line's county, not one's own; 404 no such line or
/// schedule; 422 `account_rejected`: invalid, or its holder is not the payee (nothing written).
#[utoipa::path(post, path = "/api/accounts", tag = "payments", request_body = RecordAccount,
    params(("Idempotency-Key" = String, Header, description = "8-128 characters; a retry with the same key returns the first answer")),
    responses((status = 200, description = "recorded (number masked)", body = AccountView),
        (status = "4XX", description = "refused: see `code`", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    key: IdempotencyKey,
    ApiJson(req): ApiJson<RecordAccount>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let fp = fingerprint("POST /api/accounts", &req);
    let w = whose(&p, &actor, &req).await?;
    let account = PayeeAccount::parse(req.kind, req.bank, &req.branch, &req.number, &req.holder)
        .map_err(|e| rejected(e.zh(), e.to_string()))?;
    if !account.held_by(&w.name) {
        return Err(rejected(
            format!(
                "账户户名“{}”与收款人“{}”不符，不能登记",
                account.holder, w.name
            ),
            "the account's holder is not the payee (Art. 35, 37); nothing was recorded".into(),
        ));
    }
    let (status, body) = apply(&p, &actor, &key, &fp, async {
        let previous = load(&p, &w.payee).await?;
        let now = p.clock.now().naive_local();
        let (rec, op) = record_op(
            &w.payee,
            account.clone(),
            previous.as_ref().map(|(r, v)| (r, *v)),
            p.clock.today(),
            now,
            format!("{}（{}）", actor.name, actor.role.as_str()),
        )?;
        let mut ops = vec![op];
        // The payee's periodic benefits take the account from their next instalment.
        let entries = p
            .state
            .query_index(
                Index::Gsi1,
                &Query::partition(w.payee.clone())
                    .range(SkRange::Prefix("schedule#".into()))
                    .limit(40),
            )
            .await?;
        for item in &entries.items {
            let mut e: PayrollEntry = item.body().map_err(|e| ApiError::internal(&e))?;
            e.account = Some(account.clone());
            ops.push(entry_op(&e, &w.payee, Some(item.version))?);
        }
        let view = rec.view();
        Ok(Change {
            ops,
            audit: vec![Audit {
                case: w.case.clone(),
                command: "account.record".into(),
                change: json!({ "kind": view.kind, "bank": view.bank, "number": view.number, "holder": view.holder, "schedules": entries.items.len(), "basis": "Art. 35, 37" }),
            }],
            status: StatusCode::OK,
            response: serde_json::to_value(&view).map_err(|e| ApiError::internal(&e))?,
        })
    })
    .await?;
    Ok((status, axum::Json(body)))
}

/// `GET /api/accounts/own`: the signed-in citizen's or unit's account (number masked).
///
/// # Errors
/// 403 not a citizen or employer, or no verified ID number; 404 none recorded.
#[utoipa::path(get, path = "/api/accounts/own", tag = "payments",
    responses((status = 200, description = "the account (number masked)", body = AccountView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn own(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
) -> Result<axum::Json<AccountView>, ApiError> {
    if !matches!(actor.role, Role::Citizen | Role::Employer) {
        return Err(swi_domain::Denied::Role {
            role: actor.role,
            action: Action::RecordAccount,
        }
        .into());
    }
    let req = RecordAccount {
        line: None,
        schedule: None,
        kind: AccountKind::BankCard,
        bank: Bank::Boc,
        branch: String::new(),
        number: String::new(),
        holder: String::new(),
    };
    let w = whose(&p, &actor, &req).await?;
    let (rec, _) = load(&p, &w.payee)
        .await?
        .ok_or_else(|| ApiError::not_found("尚未登记收款账户", "no account recorded"))?;
    Ok(axum::Json(rec.view()))
}

/// `GET /api/accounts/lines/{id}`: the account of a line's payee (number masked).
///
/// # Errors
/// 403 not finance, agency officer or supervisor of the line's county; 404 no such line or no
/// account.
#[utoipa::path(get, path = "/api/accounts/lines/{id}", tag = "payments",
    params(("id" = String, Path, description = "the payment line")),
    responses((status = 200, description = "the account (number masked)", body = AccountView),
        (status = "4XX", description = "refused", body = swi_platform::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_line(
    State(p): State<Platform>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let (line, _) = load_line(&p, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("未找到该支付明细", "no such payment line"))?;
    actor.may(Action::ReadPayments, Some(line.county), Owner::Nobody)?;
    let (rec, _) = load(&p, &payee_partition(&p, &line.payee)?)
        .await?
        .ok_or_else(|| ApiError::not_found("收款人尚未登记收款账户", "no account recorded"))?;
    Ok(axum::Json(rec.view()))
}

/// The payroll entry of a schedule, as loaded for a change.
///
/// # Errors
/// The store is unavailable.
pub async fn entry_of(
    p: &Platform,
    schedule: &str,
) -> Result<Option<(PayrollEntry, u64)>, ApiError> {
    let Some(s) = swi_payables::schedules(p, &[schedule.to_owned()])
        .await?
        .pop()
    else {
        return Ok(None);
    };
    payroll::load(p, s.county, schedule).await
}
