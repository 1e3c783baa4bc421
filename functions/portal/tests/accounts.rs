//! Sign-in attempts against the embedded store: counted before any password is checked, so
//! that many guesses at once still lock the name after five; an unknown name locks the same way;
//! a success clears the count.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;

use swi_domain::Role;
use swi_platform::Platform;
use swi_portal::accounts::{self, MAX_FAILURES, NewAccount, SignIn};

fn platform(dir: &std::path::Path) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(swi_platform::auth::TokenKeys::from_secret(
            b"test secret: 32 bytes at least!!",
        )),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(swi_platform::clock::SetClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-06-15T09:30:00+08:00").unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

async fn with_account(p: &Platform) {
    accounts::add(
        p,
        NewAccount {
            username: "clerk-wang".into(),
            sub: None,
            role: Role::Acceptor,
            county: "360702".into(),
            unit: None,
            name: "王五".into(),
            password: "the right password".into(),
        },
        &swi_platform::jobs::job_actor("test", "测试"),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_sent_at_once_still_lock_the_name_after_five() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    with_account(&p).await;
    let now = 1_800_000_000;
    let guesses = (0..12).map(|i| {
        let p = p.clone();
        async move {
            accounts::sign_in(&p, "clerk-wang", &format!("guess {i} wrong"), now)
                .await
                .unwrap()
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    assert!(
        answers
            .iter()
            .filter(|a| matches!(a, SignIn::Locked(_)))
            .count()
            >= answers.len() - MAX_FAILURES as usize,
        "at most five passwords are tried: {answers:?}"
    );
    assert!(
        !answers.iter().any(|a| matches!(a, SignIn::Accepted(_))),
        "{answers:?}"
    );
    // The right password now finds the name locked.
    assert!(matches!(
        accounts::sign_in(&p, "clerk-wang", "the right password", now + 1)
            .await
            .unwrap(),
        SignIn::Locked(_)
    ));
    // After the lock, the right password works and clears the count.
    let later = now + accounts::LOCKED_SECS + 1;
    assert!(matches!(
        accounts::sign_in(&p, "clerk-wang", "the right password", later)
            .await
            .unwrap(),
        SignIn::Accepted(_)
    ));
    for i in 0..MAX_FAILURES - 1 {
        assert_eq!(
            accounts::sign_in(&p, "clerk-wang", "wrong again", later + i64::from(i))
                .await
                .unwrap(),
            SignIn::Refused
        );
    }
    assert!(matches!(
        accounts::sign_in(&p, "clerk-wang", "the right password", later + 10)
            .await
            .unwrap(),
        SignIn::Accepted(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_name_answers_and_locks_as_a_known_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let now = 1_800_000_000;
    for i in 0..MAX_FAILURES - 1 {
        assert_eq!(
            accounts::sign_in(&p, "nobody", "a password", now + i64::from(i))
                .await
                .unwrap(),
            SignIn::Refused
        );
    }
    assert!(matches!(
        accounts::sign_in(&p, "nobody", "a password", now + 9)
            .await
            .unwrap(),
        SignIn::Locked(_)
    ));
}
