//! What the document bucket holds, as its object-created events tell (AWS; LocalStack runs no
//! Lambda, so recorded events test it): every object is recorded, so that nothing in the
//! bucket is unknown to the archive — a filed document under its content address
//! (`doc#<sha256>` / `stored`), an upload (`incoming#<key>` / `stored`, expiring with the
//! upload), and anything else as unknown, with an alert the supervisor sees. In embedded mode
//! documents are registered when filed (`swi_platform::dossier`).

use serde::{Deserialize, Serialize};
use serde_json::json;
use swi_platform::alerts::{Alert, AlertStatus, alert_key, raise};
use swi_platform::jobs::{StoredObject, job_actor};
use swi_platform::mutation::audit_ops;
use swi_platform::{ApiError, Platform};
use swi_store::{Condition, Item, Sha256, TxOp};

/// What a stored object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// A filed document, `sha256/<hex>`.
    Filed,
    /// An upload, `incoming/…`.
    Incoming,
    /// Anything else: not swi's.
    Unknown,
}

/// A stored object as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// Its key.
    pub key: String,
    /// What it is.
    pub area: Area,
    /// Its length.
    pub size: u64,
    /// The event that told.
    pub event: String,
    /// When.
    pub at: String,
    /// Its version.
    pub version: Option<String>,
}

/// The area of a key.
#[must_use]
pub fn area(key: &str) -> Area {
    match key.split_once('/') {
        Some(("sha256", hex)) if Sha256::parse(hex).is_ok() => Area::Filed,
        Some(("incoming", rest)) if !rest.is_empty() && !rest.contains('/') => Area::Incoming,
        _ => Area::Unknown,
    }
}

/// Records the objects an event says were created (a re-delivered event writes the same
/// again); answers how many.
///
/// # Errors
/// 503 the store.
pub async fn record(p: &Platform, objects: &[StoredObject]) -> Result<usize, ApiError> {
    for o in objects {
        let s = Stored {
            key: o.key.chars().take(1024).collect(),
            area: area(&o.key),
            size: o.size,
            event: o.event.chars().take(64).collect(),
            at: o.at.chars().take(40).collect(),
            version: o.version.clone(),
        };
        let mut ops = Vec::new();
        let mut audit = Vec::new();
        match s.area {
            Area::Filed => {
                let hex = s.key.trim_start_matches("sha256/").to_owned();
                ops.push(TxOp::Put {
                    item: Item::new(format!("doc#{hex}"), "stored", &s)?,
                    condition: Condition::None,
                });
            }
            Area::Incoming => {
                let expires = swi_store::state::epoch_now()
                    + i64::try_from(swi_store::docs::INCOMING_DAYS + 1).unwrap_or(8) * 86_400;
                ops.push(TxOp::Put {
                    item: Item::new(format!("incoming#{}", s.key), "stored", &s)?
                        .expiring_at(expires),
                    condition: Condition::None,
                });
            }
            Area::Unknown => {
                let id = format!(
                    "bucket_unknown:{}",
                    &Sha256::of(s.key.as_bytes()).hex()[..32]
                );
                ops.push(TxOp::Put {
                    item: Item::new("bucket-unknown", s.key.clone(), &s)?,
                    condition: Condition::None,
                });
                if p.state.get(&alert_key(&id)).await?.is_none() {
                    let (op, a) = raise(&Alert {
                        id,
                        kind: "bucket_unknown".into(),
                        subject: "bucket".into(),
                        county: None,
                        evidence: json!({ "key": s.key, "size": s.size, "event": s.event }),
                        raised_by: "job:documents".into(),
                        raised_at: p.clock.now(),
                        status: AlertStatus::Open,
                        assignee: None,
                        zh: "文件库中出现不属于本系统的对象".into(),
                        en: format!("an object swi does not know is in the bucket: {}", s.key),
                        ..Alert::default()
                    })?;
                    ops.push(op);
                    audit.push(a);
                }
            }
        }
        if !audit.is_empty() {
            ops.extend(audit_ops(p, &job_actor("documents", "文件库登记"), &audit).await?);
        }
        p.state.transact(ops).await?;
    }
    Ok(objects.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_told_apart() {
        let hex = "ab".repeat(32);
        assert_eq!(area(&format!("sha256/{hex}")), Area::Filed);
        assert_eq!(area("incoming/upload-0123"), Area::Incoming);
        assert_eq!(area("sha256/not-a-hash"), Area::Unknown);
        assert_eq!(area("incoming/a/b"), Area::Unknown);
        assert_eq!(area("elsewhere.txt"), Area::Unknown);
    }
}
