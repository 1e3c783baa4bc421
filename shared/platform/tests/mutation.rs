//! Idempotent, audited mutations on the embedded store.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::DateTime;
use serde_json::json;
use swi_domain::{Actor, Jurisdiction, Role};
use swi_platform::Platform;
use swi_platform::auth::TokenKeys;
use swi_platform::clock::FixedClock;
use swi_platform::mutation::{Audit, Change, IdempotencyKey, apply, audit_partition, verify_case};
use swi_store::{Condition, Item, Key, TxOp};

fn platform(dir: &std::path::Path) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(FixedClock(
            DateTime::parse_from_rfc3339("2025-06-01T10:00:00+08:00").unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

fn actor() -> Actor {
    Actor {
        sub: "clerk-1".into(),
        role: Role::Acceptor,
        jurisdiction: Jurisdiction::parse("360702").unwrap(),
        name: "李四".into(),
        unit: None,
    }
}

fn change(n: u32) -> Change {
    Change {
        ops: vec![TxOp::Put {
            item: Item::new("thing", format!("{n}"), &json!({ "n": n })).unwrap(),
            condition: Condition::NotExists,
        }],
        audit: vec![Audit {
            case: "thing#case".into(),
            command: "thing.create".into(),
            change: json!({ "n": n }),
        }],
        status: StatusCode::CREATED,
        response: json!({ "n": n }),
    }
}

#[tokio::test]
async fn a_retry_returns_the_first_answer_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let key = IdempotencyKey("request-0001".into());
    let first = apply(&p, &actor(), &key, "fp-1", async { Ok(change(1)) })
        .await
        .unwrap();
    let again = apply(&p, &actor(), &key, "fp-1", async {
        panic!("a replay must not run the command again")
    })
    .await
    .unwrap();
    assert_eq!(first, again);
    assert_eq!(first.0, StatusCode::CREATED);
    let other = apply(&p, &actor(), &key, "fp-2", async { Ok(change(2)) })
        .await
        .unwrap_err();
    assert_eq!(other.code, "idempotency_key_reused");
    assert!(
        p.state
            .get(&Key::new("thing", "2"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn every_change_has_its_event_and_an_altered_event_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    for n in 1..=3 {
        let key = IdempotencyKey(format!("request-{n:04}"));
        apply(&p, &actor(), &key, &format!("fp-{n}"), async move {
            Ok(change(n))
        })
        .await
        .unwrap();
    }
    assert_eq!(verify_case(&p, "thing#case").await.unwrap().unwrap(), 3);

    // Someone edits the stored second event behind the system's back.
    let k = Key::new(audit_partition("thing#case"), format!("seq#{:012}", 2));
    let mut item = p.state.get(&k).await.unwrap().unwrap();
    item.body["command"] = json!("thing.delete");
    p.state
        .transact(vec![TxOp::Put {
            item,
            condition: Condition::VersionIs(1),
        }])
        .await
        .unwrap();
    let broken = verify_case(&p, "thing#case").await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2);
    assert_eq!(broken.reason, "altered after it was written");
}

#[tokio::test]
async fn a_refused_command_writes_neither_change_nor_event() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let key = IdempotencyKey("request-0009".into());
    let err = apply(&p, &actor(), &key, "fp", async {
        Err(swi_platform::ApiError::invalid("错", "wrong"))
    })
    .await
    .unwrap_err();
    assert_eq!(err.code, "invalid_request");
    assert_eq!(verify_case(&p, "thing#case").await.unwrap().unwrap(), 0);
    // The key was not consumed: the corrected request can use it.
    apply(&p, &actor(), &key, "fp-fixed", async { Ok(change(9)) })
        .await
        .unwrap();
}

/// An answer is kept 24 hours (`expires_at`), then the key is free again; a refused request
/// gives its claim up, so that a corrected retry under the same key is worked.
#[tokio::test]
async fn answers_are_kept_a_day_and_a_refusal_frees_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let key = IdempotencyKey("request-kept".into());
    apply(&p, &actor(), &key, "fp-1", async { Ok(change(7)) })
        .await
        .unwrap();
    let record_key = Key::new("idem#clerk-1", "request-kept");
    let mut record = p.state.get(&record_key).await.unwrap().unwrap();
    let left = record.expires_at.unwrap() - swi_store::state::epoch_now();
    assert!(
        (24 * 3600 - 60..=24 * 3600).contains(&left),
        "kept {left} s"
    );
    // A day later the record has expired: the same key starts afresh.
    record.expires_at = Some(swi_store::state::epoch_now() - 1);
    p.state
        .transact(vec![TxOp::Put {
            item: record.clone(),
            condition: Condition::VersionIs(record.version),
        }])
        .await
        .unwrap();
    let again = apply(&p, &actor(), &key, "fp-2", async { Ok(change(8)) })
        .await
        .unwrap();
    assert_eq!(again.1, json!({ "n": 8 }));

    // Refused, then corrected under the same key: the correction is worked.
    let key = IdempotencyKey("request-refused".into());
    let refused = apply(&p, &actor(), &key, "fp-3", async {
        Err(swi_platform::ApiError::invalid("不对", "wrong"))
    })
    .await
    .unwrap_err();
    assert_eq!(refused.code, "invalid_request");
    let fixed = apply(&p, &actor(), &key, "fp-3", async { Ok(change(9)) })
        .await
        .unwrap();
    assert_eq!(fixed.1, json!({ "n": 9 }));
}

/// A change of a case whose last event was altered is refused — no new event chains onto an
/// altered one — nothing is written, and supervisors get one alert about the case.
#[tokio::test]
async fn no_event_chains_onto_an_altered_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    apply(
        &p,
        &actor(),
        &IdempotencyKey("request-a1".into()),
        "fp-a1",
        async { Ok(change(1)) },
    )
    .await
    .unwrap();
    let k = Key::new(audit_partition("thing#case"), format!("seq#{:012}", 1));
    let mut item = p.state.get(&k).await.unwrap().unwrap();
    item.body["actor"] = json!("someone-else");
    p.state
        .transact(vec![TxOp::Put {
            item,
            condition: Condition::VersionIs(1),
        }])
        .await
        .unwrap();
    for n in [2, 3] {
        let refused = apply(
            &p,
            &actor(),
            &IdempotencyKey(format!("request-a{n}")),
            &format!("fp-a{n}"),
            async move { Ok(change(n)) },
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code, "audit_chain_broken");
        assert!(
            p.state
                .get(&Key::new("thing", format!("{n}")))
                .await
                .unwrap()
                .is_none()
        );
    }
    let events = swi_platform::mutation::events(&p, "thing#case")
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "nothing chained on");
    let alert: swi_platform::alerts::Alert = p
        .state
        .get(&swi_platform::alerts::alert_key(
            "audit_chain_broken:thing#case",
        ))
        .await
        .unwrap()
        .unwrap()
        .body()
        .unwrap();
    assert_eq!(
        (alert.kind.as_str(), alert.subject.as_str()),
        ("audit_chain_broken", "thing#case")
    );
}
