//! Idempotent, audited state changes.
//!
//! A mutating request carries an `Idempotency-Key`. [`apply`] runs a command once per (actor,
//! key): the change, its audit events (one per case touched, chained by hash per case) and the
//! record of the answer are written in **one** conditional transaction, so a retry returns the
//! first answer and changes nothing, and no change exists without its audit event.

use crate::ErrorCode;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use swi_domain::Actor;
use swi_domain::audit::{Event, verify_chain};
use swi_store::{Condition, Item, Key, Query, StateError, TxOp};

pub use crate::ledger::{Audit, audit_partition};
use crate::{ApiError, Platform};

/// The `Idempotency-Key` header of a mutating request (8-128 characters of `A-Z a-z 0-9 - _ . :`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::invalid(
                    "变更类请求须携带 Idempotency-Key 请求头",
                    "a changing request needs an Idempotency-Key header",
                )
            })?;
        let ok = (8..=128).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !ok {
            return Err(ApiError::invalid(
                "Idempotency-Key 须为 8-128 个字母、数字或 - _ . :",
                "Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 - _ . :",
            ));
        }
        Ok(IdempotencyKey(value.to_owned()))
    }
}

/// What a command does: the operations, the audit events, the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The state operations.
    pub ops: Vec<TxOp>,
    /// One event per case changed.
    pub audit: Vec<Audit>,
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// The answer's body.
    pub response: Value,
}

#[derive(Debug, Serialize, Deserialize)]
struct Recorded {
    fingerprint: String,
    status: u16,
    response: Value,
    at: String,
    /// True while the first request with the key is being worked (its claim); the answer
    /// replaces it.
    #[serde(default)]
    in_flight: bool,
}

/// How long an answer is kept for retries (`expires_at`; DynamoDB's TTL deletes it later).
pub const ANSWER_KEPT_SECS: i64 = 24 * 3600;

/// How long a claim on a key holds if its request never finishes (the process died): then a
/// retry is worked afresh.
pub const CLAIM_HOLDS_SECS: i64 = 120;

/// How long a duplicate waits for the first request's answer before it is told to retry.
const DUPLICATE_WAITS: std::time::Duration = std::time::Duration::from_secs(10);

/// Where a key stands.
enum Standing {
    /// No request has used it (or its answer expired).
    Free,
    /// Its first request is being worked.
    InFlight,
    /// Answered.
    Answered(StatusCode, Value),
}

fn idem_key(actor: &Actor, key: &IdempotencyKey) -> Key {
    Key::new(format!("idem#{}", actor.sub), key.0.clone())
}

/// The fingerprint of a request: what a retry must repeat exactly.
#[must_use]
pub fn fingerprint(route: &str, request: &impl Serialize) -> String {
    use sha2::Digest;
    let body = serde_json::to_vec(request).unwrap_or_default();
    let mut h = sha2::Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(&body);
    hex::encode(h.finalize())
}

async fn standing(p: &Platform, key: &Key, fingerprint: &str) -> Result<Standing, ApiError> {
    let Some(item) = p.state.get(key).await? else {
        return Ok(Standing::Free);
    };
    let rec: Recorded = item.body().map_err(|e| ApiError::internal(&e))?;
    if rec.fingerprint != fingerprint {
        return Err(ApiError::conflict(
            ErrorCode::IdempotencyKeyReused,
            "该 Idempotency-Key 已用于另一请求",
            "this Idempotency-Key was already used for a different request",
        ));
    }
    if rec.in_flight {
        return Ok(Standing::InFlight);
    }
    let status = StatusCode::from_u16(rec.status).unwrap_or(StatusCode::OK);
    Ok(Standing::Answered(status, rec.response))
}

/// Claims `key` for this request, or finds its answer: a duplicate sent while the first is
/// worked waits for the first answer (up to [`DUPLICATE_WAITS`]), then is told to retry.
/// Returns the claim's version, or the recorded answer.
async fn claim(
    p: &Platform,
    key: &Key,
    fingerprint: &str,
) -> Result<Result<u64, (StatusCode, Value)>, ApiError> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(20);
    loop {
        match standing(p, key, fingerprint).await? {
            Standing::Answered(status, body) => return Ok(Err((status, body))),
            Standing::Free => {
                let marker = Recorded {
                    fingerprint: fingerprint.to_owned(),
                    status: 0,
                    response: Value::Null,
                    at: p.clock.now().to_rfc3339(),
                    in_flight: true,
                };
                let put = TxOp::Put {
                    item: Item::new(key.pk.clone(), key.sk.clone(), &marker)?
                        .expiring_at(swi_store::state::epoch_now() + CLAIM_HOLDS_SECS),
                    condition: Condition::NotExists,
                };
                match p.state.transact(vec![put]).await {
                    Ok(()) => return Ok(Ok(1)),
                    // Another request with the key claimed it first: wait for its answer.
                    Err(StateError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Standing::InFlight => {}
        }
        if started.elapsed() >= DUPLICATE_WAITS {
            return Err(ApiError::conflict(
                ErrorCode::RequestInProgress,
                "同一请求正在处理中，请稍后用同一 Idempotency-Key 重试",
                "a request with this Idempotency-Key is still being worked; retry with the same key shortly",
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(250));
    }
}

/// Gives up a claim (the request was refused: nothing changed, and a retry is worked afresh).
async fn release(p: &Platform, key: &Key, version: u64) {
    let _ = p
        .state
        .transact(vec![TxOp::Delete {
            key: key.clone(),
            condition: Condition::VersionIs(version),
        }])
        .await;
}

/// The last event of a case, if any.
///
/// # Errors
/// The store is unavailable.
pub async fn last_event(p: &Platform, case: &str) -> Result<Option<Event>, ApiError> {
    let page = p
        .state
        .query(&Query::partition(audit_partition(case)).backward().limit(1))
        .await?;
    page.items
        .first()
        .map(|i| i.body::<Event>().map_err(|e| ApiError::internal(&e)))
        .transpose()
}

/// Every event of a case, in order.
///
/// # Errors
/// The store is unavailable.
pub async fn events(p: &Platform, case: &str) -> Result<Vec<Event>, ApiError> {
    let mut out = Vec::new();
    for item in &p
        .state
        .query_all(&Query::partition(audit_partition(case)).limit(500))
        .await?
    {
        out.push(item.body::<Event>().map_err(|e| ApiError::internal(&e))?);
    }
    Ok(out)
}

/// Checks a case's audit chain.
///
/// # Errors
/// The store is unavailable; `Ok(Err(…))` names the first broken event.
pub async fn verify_case(
    p: &Platform,
    case: &str,
) -> Result<Result<usize, swi_domain::audit::ChainBroken>, ApiError> {
    let events = events(p, case).await?;
    Ok(verify_chain(&events).map(|()| events.len()))
}

/// The operations writing `audit`'s events, each following the last event of its case (the
/// `NotExists` condition on the event's position makes a concurrent writer of the same case
/// conflict instead of forking the chain). Write them in the same transaction as the change.
///
/// # Errors
/// The store is unavailable.
pub async fn audit_ops(
    p: &Platform,
    actor: &Actor,
    audit: &[Audit],
) -> Result<Vec<TxOp>, ApiError> {
    let now = p.clock.now();
    let at = now.to_rfc3339();
    let mut ops = Vec::with_capacity(audit.len());
    for a in audit {
        let prev = last_event(p, &a.case).await?;
        if let Some(last) = prev.as_ref().filter(|e| !e.intact()) {
            return Err(chain_broken(p, &a.case, last).await);
        }
        let event = Event::next(prev.as_ref(), &a.case, &at, actor, &a.command, &a.change);
        ops.push(event_op(now.date_naive(), &at, &event)?);
    }
    Ok(ops)
}

fn event_op(day: chrono::NaiveDate, at: &str, event: &Event) -> Result<TxOp, ApiError> {
    let item = Item::new(
        audit_partition(&event.case),
        format!("seq#{:012}", event.seq),
        event,
    )?
    .with_gsi1(
        format!("audit-day#{day}"),
        format!("{at}#{}#{:012}", event.case, event.seq),
    );
    Ok(TxOp::Put {
        item,
        condition: Condition::NotExists,
    })
}

/// The operation writing an event handed over from another system's chain as it was (a
/// handover's audit chains): at its own position, indexed by its own day, never over an event
/// already there. The caller verifies the chain it comes from.
///
/// # Errors
/// The event's time is not RFC 3339.
pub fn handed_over_op(event: &Event) -> Result<TxOp, ApiError> {
    let day = chrono::DateTime::parse_from_rfc3339(&event.at)
        .map_err(|e| ApiError::invalid("审计事件时间有误", format!("event time: {e}")))?
        .date_naive();
    event_op(day, &event.at, event)
}

/// The operations writing the first event of cases that the same transaction creates (a bill
/// the monthly run issues): no read of an earlier event, since there is none; the `NotExists`
/// condition on the first position makes the transaction fail if the case had one after all.
/// For bulk jobs, where one read per case would cost as much as the writes.
///
/// # Errors
/// Serialization (it does not fail).
pub fn opening_ops(p: &Platform, actor: &Actor, audit: &[Audit]) -> Result<Vec<TxOp>, ApiError> {
    let now = p.clock.now();
    let at = now.to_rfc3339();
    audit
        .iter()
        .map(|a| {
            let event = Event::next(None, &a.case, &at, actor, &a.command, &a.change);
            event_op(now.date_naive(), &at, &event)
        })
        .collect()
}

/// The refusal of a change whose case's last audit event was altered after it was written: no
/// new event chains onto it. Supervisors are alerted (once per case), in a transaction of its
/// own, since the request's is refused.
async fn chain_broken(p: &Platform, case: &str, last: &Event) -> ApiError {
    let alert = crate::alerts::Alert {
        id: format!("audit_chain_broken:{case}"),
        kind: "audit_chain_broken".into(),
        subject: case.to_owned(),
        county: None,
        evidence: serde_json::json!({ "seq": last.seq, "reason": "altered after it was written" }),
        raised_by: "system:audit".into(),
        raised_at: p.clock.now(),
        status: crate::alerts::AlertStatus::Open,
        assignee: None,
        zh: format!("{case} 的审计记录第 {} 条在写入后被改动", last.seq),
        en: format!(
            "event {} of {case}'s audit trail was altered after it was written",
            last.seq
        ),
        basis: Some("Art. 44".into()),
        links: vec![case.to_owned()],
        ..crate::alerts::Alert::default()
    };
    let system = crate::jobs::job_actor("audit", "系统：审计链校验");
    if let Ok((op, audit)) = crate::alerts::raise(&alert) {
        // The alert's own trail starts afresh; its case is never the altered one.
        let prev = last_event(p, &audit.case).await.ok().flatten();
        let at = p.clock.now().to_rfc3339();
        let event = Event::next(
            prev.as_ref(),
            &audit.case,
            &at,
            &system,
            &audit.command,
            &audit.change,
        );
        if let Ok(item) = Item::new(
            audit_partition(&audit.case),
            format!("seq#{:012}", event.seq),
            &event,
        ) {
            let item = item.with_gsi1(
                format!("audit-day#{}", p.clock.now().date_naive()),
                format!("{at}#{}#{:012}", audit.case, event.seq),
            );
            // Raised already (a conflict) is as good as raised now.
            let _ = p
                .state
                .transact(vec![
                    op,
                    TxOp::Put {
                        item,
                        condition: Condition::NotExists,
                    },
                ])
                .await;
        }
    }
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::AuditChainBroken,
        "该业务的审计记录已被改动，暂停办理并已提示稽核内控",
        "this case's audit trail was altered; no change is recorded until it is examined (supervisors are alerted)",
    )
}

/// Runs a command once per idempotency key: replays the first answer for a repeated key (the
/// same request), refuses a reused key (another request), and otherwise writes the change, its
/// audit events and the answer in one transaction. The key is claimed first, so that duplicates
/// sent at once wait for the first answer instead of working the command again; the answer is
/// kept for [`ANSWER_KEPT_SECS`].
///
/// # Errors
/// What `build` refuses; 409 for a reused key, a duplicate still in flight after the wait, or a
/// concurrent change of the same case; 503 when the store is unavailable.
pub async fn apply<F>(
    p: &Platform,
    actor: &Actor,
    key: &IdempotencyKey,
    fingerprint: &str,
    build: F,
) -> Result<(StatusCode, Value), ApiError>
where
    F: std::future::Future<Output = Result<Change, ApiError>>,
{
    let ikey = idem_key(actor, key);
    let version = match claim(p, &ikey, fingerprint).await? {
        Ok(v) => v,
        Err(answer) => return Ok(answer),
    };
    let change = match build.await {
        Ok(c) => c,
        Err(e) => {
            release(p, &ikey, version).await;
            return Err(e);
        }
    };
    let mut ops = change.ops;
    match audit_ops(p, actor, &change.audit).await {
        Ok(a) => ops.extend(a),
        Err(e) => {
            release(p, &ikey, version).await;
            return Err(e);
        }
    }
    let recorded = Recorded {
        fingerprint: fingerprint.to_owned(),
        status: change.status.as_u16(),
        response: change.response.clone(),
        at: p.clock.now().to_rfc3339(),
        in_flight: false,
    };
    ops.push(TxOp::Put {
        item: Item::new(ikey.pk.clone(), ikey.sk.clone(), &recorded)?
            .expiring_at(swi_store::state::epoch_now() + ANSWER_KEPT_SECS),
        condition: Condition::VersionIs(version),
    });
    match p.state.transact(ops).await {
        Ok(()) => Ok((change.status, change.response)),
        Err(StateError::Conflict { key: k, .. }) if k == ikey => {
            // The claim lapsed and another request with the key took over: answer as it does.
            match standing(p, &ikey, fingerprint).await? {
                Standing::Answered(status, body) => Ok((status, body)),
                _ => Err(ApiError::conflict(
                    ErrorCode::RequestInProgress,
                    "同一请求正在处理中，请稍后用同一 Idempotency-Key 重试",
                    "a request with this Idempotency-Key is still being worked; retry with the same key shortly",
                )),
            }
        }
        Err(e) => {
            release(p, &ikey, version).await;
            Err(e.into())
        }
    }
}

/// Raises `alert` once, in a transaction of its own with its audit event by `actor`: answers
/// whether it was raised now (an alert of the same id raised before, or meanwhile, is left as
/// it is — it is being worked in the register).
///
/// # Errors
/// The store is unavailable.
pub async fn raise_once(
    p: &Platform,
    actor: &swi_domain::Actor,
    alert: &crate::alerts::Alert,
) -> Result<bool, ApiError> {
    if p.state
        .get(&crate::alerts::alert_key(&alert.id))
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let (op, audit) = crate::alerts::raise(alert)?;
    let mut ops = vec![op];
    ops.extend(audit_ops(p, actor, &[audit]).await?);
    match p.state.transact(ops).await {
        Ok(()) => Ok(true),
        Err(swi_store::StateError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
