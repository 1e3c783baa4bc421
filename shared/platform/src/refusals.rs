//! Refused attempts at a second step of one case (Art. 5, 34: 一人不能同时操作同一项业务的受理、
//! 初审、复核业务; Art. 44: real-time monitoring of operations). The refusal itself changes
//! nothing of the case; this layer then records that it was tried — who, when, which request —
//! as a refusal (`refusal#<sub>` / `seq#<n>`) with its audit event (`duties.refused`), in a
//! transaction of its own, so that the supervision step's rules see it on the ledger and raise an
//! alert. A refusal that cannot be recorded is logged and the answer is unchanged.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use swi_domain::{Actor, Jurisdiction, Role};
use swi_rules::ids::County;
use swi_store::{Condition, Item, Key, TxOp};

use crate::ledger::Audit;
use crate::{ApiError, ErrorCode, Platform};

/// A refused attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Who tried (token subject).
    pub sub: String,
    /// Their name.
    pub name: String,
    /// In which role.
    pub role: Role,
    /// Their county (none: the city's staff).
    pub county: Option<County>,
    /// The request's method.
    pub method: String,
    /// The request's path (the case is in it).
    pub path: String,
    /// When.
    pub at: DateTime<FixedOffset>,
}

/// The audit case of a person's refusals.
#[must_use]
pub fn refusal_case(sub: &str) -> String {
    format!("refusal#{sub}")
}

/// The key of the refusal recorded with event `seq` of the person's refusals.
#[must_use]
pub fn refusal_key(sub: &str, seq: u64) -> Key {
    Key::new(refusal_case(sub), format!("seq#{seq:012}"))
}

async fn write(p: &Platform, actor: &Actor, method: &str, path: &str) -> Result<(), ApiError> {
    let refusal = Refusal {
        sub: actor.sub.clone(),
        name: actor.name.clone(),
        role: actor.role,
        county: match actor.jurisdiction {
            Jurisdiction::County(c) => Some(c),
            Jurisdiction::City => None,
        },
        method: method.to_owned(),
        path: path.chars().take(300).collect(),
        at: p.clock.now(),
    };
    let case = refusal_case(&actor.sub);
    let mut ops = crate::mutation::audit_ops(
        p,
        actor,
        &[Audit {
            case: case.clone(),
            command: "duties.refused".into(),
            change: serde_json::json!({ "method": refusal.method, "path": refusal.path }),
        }],
    )
    .await?;
    let seq = ops
        .first()
        .map(|op| op.key().sk)
        .and_then(|sk| sk.trim_start_matches("seq#").parse::<u64>().ok())
        .unwrap_or(1);
    // Found again by its event: the same number.
    let k = refusal_key(&actor.sub, seq);
    ops.push(TxOp::Put {
        item: Item::new(k.pk, k.sk, &refusal)?,
        condition: Condition::NotExists,
    });
    p.state.transact(ops).await?;
    Ok(())
}

/// The layer: records every answer `403 separation_of_duties` of an authenticated request.
pub async fn record(State(p): State<Platform>, req: Request, next: Next) -> Response {
    let actor = crate::auth::actor_from(&p, req.headers(), req.extensions()).ok();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    if response.status() == StatusCode::FORBIDDEN
        && response.extensions().get::<ErrorCode>() == Some(&ErrorCode::SeparationOfDuties)
        && let Some(actor) = actor
        && let Err(e) = write(&p, &actor, &method, &path).await
    {
        tracing::warn!(code = %e.code, "a refused attempt could not be recorded: {}", e.en);
    }
    response
}
