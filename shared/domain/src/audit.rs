//! Audit events: every state change writes one, in the same transaction as the change, with the
//! actor, role, time, command, a digest of the change and the hash of the previous event of the
//! same case: a hash chain per case that [`verify_chain`] checks. Events carry digests, never the
//! personal data itself.

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::access::{Actor, Role};

/// The `prev` of a case's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The case (e.g. `unit#91360702MA35G6QL6T`).
    pub case: String,
    /// Position in the case's chain, from 1.
    pub seq: u64,
    /// When, RFC 3339 with the China offset.
    pub at: String,
    /// Who (token subject).
    pub actor: String,
    /// Their display name.
    pub actor_name: String,
    /// In which role.
    pub role: Role,
    /// The command (e.g. `unit.register`).
    pub command: String,
    /// SHA-256 of the change as canonical JSON.
    pub digest: String,
    /// The previous event's hash ([`GENESIS`] for the first).
    pub prev: String,
    /// SHA-256 of this event's other fields as canonical JSON.
    pub hash: String,
}

#[derive(Serialize)]
struct Hashed<'a> {
    case: &'a str,
    seq: u64,
    at: &'a str,
    actor: &'a str,
    actor_name: &'a str,
    role: Role,
    command: &'a str,
    digest: &'a str,
    prev: &'a str,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

impl Event {
    fn computed_hash(&self) -> String {
        let h = Hashed {
            case: &self.case,
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            actor_name: &self.actor_name,
            role: self.role,
            command: &self.command,
            digest: &self.digest,
            prev: &self.prev,
        };
        sha256_hex(&serde_json::to_vec(&h).unwrap_or_default())
    }

    /// Whether the event is as it was written: its stored hash is the hash of its fields.
    #[must_use]
    pub fn intact(&self) -> bool {
        self.hash == self.computed_hash()
    }

    /// The event recording `change` by `actor` at `at`, following `prev` in `case`'s chain.
    #[must_use]
    pub fn next(
        prev: Option<&Event>,
        case: &str,
        at: &str,
        actor: &Actor,
        command: &str,
        change: &serde_json::Value,
    ) -> Event {
        let mut e = Event {
            case: case.to_owned(),
            seq: prev.map_or(1, |p| p.seq + 1),
            at: at.to_owned(),
            actor: actor.sub.clone(),
            actor_name: actor.name.clone(),
            role: actor.role,
            command: command.to_owned(),
            digest: digest(change),
            prev: prev.map_or_else(|| GENESIS.to_owned(), |p| p.hash.clone()),
            hash: String::new(),
        };
        e.hash = e.computed_hash();
        e
    }
}

/// SHA-256 of a change as canonical JSON (object keys sorted).
#[must_use]
pub fn digest(change: &serde_json::Value) -> String {
    sha256_hex(&serde_json::to_vec(change).unwrap_or_default())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain of {case} broken at event {seq}: {reason}")]
pub struct ChainBroken {
    /// The case.
    pub case: String,
    /// The first event that does not check.
    pub seq: u64,
    /// What is wrong.
    pub reason: &'static str,
}

/// Checks one case's events, in order: numbered from 1 without gaps, each hash true to its
/// content, each `prev` the previous hash.
///
/// # Errors
/// The first break.
pub fn verify_chain(events: &[Event]) -> Result<(), ChainBroken> {
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let broken = |reason| ChainBroken {
            case: e.case.clone(),
            seq: e.seq,
            reason,
        };
        if e.seq != i as u64 + 1 {
            return Err(broken("events missing or out of order"));
        }
        if e.prev != prev {
            return Err(broken("does not follow the previous event"));
        }
        if e.computed_hash() != e.hash {
            return Err(broken("altered after it was written"));
        }
        prev.clone_from(&e.hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Jurisdiction;
    use serde_json::json;

    fn actor() -> Actor {
        Actor {
            sub: "clerk-1".into(),
            role: Role::Acceptor,
            jurisdiction: Jurisdiction::parse("360702").unwrap(),
            name: "李四".into(),
            unit: None,
        }
    }

    fn chain() -> Vec<Event> {
        let a = actor();
        let e1 = Event::next(
            None,
            "unit#1",
            "2025-03-01T09:00:00+08:00",
            &a,
            "unit.register",
            &json!({"n": 1}),
        );
        let e2 = Event::next(
            Some(&e1),
            "unit#1",
            "2025-03-02T09:00:00+08:00",
            &a,
            "unit.change",
            &json!({"n": 2}),
        );
        let e3 = Event::next(
            Some(&e2),
            "unit#1",
            "2025-03-03T09:00:00+08:00",
            &a,
            "unit.cancel",
            &json!({}),
        );
        vec![e1, e2, e3]
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let c = chain();
        assert_eq!(c[0].prev, GENESIS);
        assert_eq!(c[1].prev, c[0].hash);
        verify_chain(&c).unwrap();
    }

    #[test]
    fn altering_removing_or_reordering_an_event_breaks_the_chain() {
        let mut c = chain();
        c[1].command = "unit.cancel".into();
        assert_eq!(verify_chain(&c).unwrap_err().seq, 2);
        let mut c = chain();
        c.remove(1);
        assert!(verify_chain(&c).is_err());
        let mut c = chain();
        c[1].digest = digest(&json!({"n": 99}));
        c[1].hash = c[1].computed_hash(); // re-hashed, but the next event no longer follows
        assert_eq!(verify_chain(&c).unwrap_err().seq, 3);
    }

    #[test]
    fn digests_do_not_depend_on_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":2,"b":1}"#).unwrap();
        assert_eq!(digest(&a), digest(&b));
    }
}
