//! The contract suite: one set of `pub async fn` tests that every backend must pass, so that
//! nothing above the ports can tell the backends apart. Each backend's test binary builds a
//! [`Harness`] and calls [`run_all`] (or the tests one by one).
//!
//! Each test works in its own partitions (prefixed by the harness's run id), so the suite can run
//! against a shared table.

#![allow(
    clippy::unwrap_used,
    reason = "the contract suite is a test: it fails loudly on what it does not expect"
)]

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::docs::{DocError, Documents, Sha256};
use crate::state::{
    Condition, Index, Item, Key, MAX_ITEM_BYTES, Query, SkRange, StateError, StateStore, TxOp,
};

/// What a backend's test provides.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The state store under test.
    fn state(&self) -> &dyn StateStore;
    /// The document store under test.
    fn docs(&self) -> &dyn Documents;
    /// A prefix unique to this run, for keys.
    fn run_id(&self) -> &str;
    /// Replaces a stored document's bytes behind the store's back (disk rot, a tampered object).
    async fn corrupt(&self, sha256: &Sha256, bytes: &[u8]);
}

fn put(item: Item, condition: Condition) -> TxOp {
    TxOp::Put { item, condition }
}

fn item(pk: &str, sk: &str, body: serde_json::Value) -> Item {
    Item {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
        version: 0,
        gsi1: None,
        body,
        expires_at: None,
    }
}

/// Puts, gets, conditional updates and deletes round-trip with versions.
pub async fn round_trip(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#round", h.run_id());
    let key = Key::new(&pk, "A");
    assert_eq!(s.get(&key).await.unwrap(), None);
    let body = json!({"name": "赣州", "n": 3, "nested": {"list": [1, "two", null, true]}});
    s.transact(vec![put(
        item(&pk, "A", body.clone()),
        Condition::NotExists,
    )])
    .await
    .unwrap();
    let got = s.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (got.version, &got.body, got.gsi1.as_ref()),
        (1, &body, None)
    );

    let updated = json!({"name": "赣州市", "n": 4});
    s.transact(vec![put(
        item(&pk, "A", updated.clone()),
        Condition::VersionIs(1),
    )])
    .await
    .unwrap();
    let got = s.get(&key).await.unwrap().unwrap();
    assert_eq!((got.version, &got.body), (2, &updated));

    s.transact(vec![TxOp::Delete {
        key: key.clone(),
        condition: Condition::VersionIs(2),
    }])
    .await
    .unwrap();
    assert_eq!(s.get(&key).await.unwrap(), None);

    // Unconditional put keeps the caller's version.
    let mut free = item(&pk, "B", json!({}));
    free.version = 7;
    s.transact(vec![put(free, Condition::None)]).await.unwrap();
    assert_eq!(
        s.get(&Key::new(&pk, "B")).await.unwrap().unwrap().version,
        7
    );
}

/// Unicode in keys and bodies is stored and ordered byte-wise.
pub async fn unicode(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#单位#91360702MA35G6QL6T", h.run_id());
    let sks = ["人员#360702198001011238", "人员#灵活就业", "项目#🏗️ 章贡区"];
    for sk in sks {
        let body = json!({"名称": "赣州市章贡区某某有限公司", "emoji": "✅", "sk": sk});
        s.transact(vec![put(item(&pk, sk, body), Condition::NotExists)])
            .await
            .unwrap();
    }
    let page = s
        .query(&Query::partition(&pk).range(SkRange::Prefix("人员#".into())))
        .await
        .unwrap();
    let got: Vec<&str> = page.items.iter().map(|i| i.sk.as_str()).collect();
    assert_eq!(got, vec![sks[0], sks[1]]);
    assert_eq!(page.items[1].body["名称"], "赣州市章贡区某某有限公司");
}

/// Pages cover a partition exactly once, in order, both directions; ranges filter; `next` is set
/// exactly when items follow; a forged cursor is refused.
pub async fn pagination(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#pages", h.run_id());
    let items: Vec<Item> = (0..25)
        .map(|i| item(&pk, &format!("item#{i:03}"), json!({ "i": i })))
        .collect();
    s.batch_put(items).await.unwrap();

    let collect = |q: Query| async move {
        let mut all = Vec::new();
        let mut pages = 0;
        let mut cursor = None;
        loop {
            let page = s.query(&q.clone().after(cursor)).await.unwrap();
            pages += 1;
            assert!(page.items.len() <= q.limit as usize);
            all.extend(page.items.into_iter().map(|i| i.sk));
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        (all, pages)
    };
    let expected: Vec<String> = (0..25).map(|i| format!("item#{i:03}")).collect();
    let (all, pages) = collect(Query::partition(&pk).limit(10)).await;
    assert_eq!((all.clone(), pages), (expected.clone(), 3));
    let (all, pages) = collect(Query::partition(&pk).limit(5)).await;
    assert_eq!(
        (all.len(), pages),
        (25, 5),
        "an exact last page has no next"
    );
    let (back, _) = collect(Query::partition(&pk).limit(7).backward()).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(back, reversed);

    let between =
        Query::partition(&pk).range(SkRange::Between("item#005".into(), "item#009".into()));
    assert_eq!(collect(between.limit(2)).await.0, expected[5..=9].to_vec());
    let from = Query::partition(&pk).range(SkRange::From("item#020".into()));
    assert_eq!(collect(from).await.0, expected[20..].to_vec());
    let to = Query::partition(&pk)
        .range(SkRange::To("item#002".into()))
        .backward();
    assert_eq!(
        collect(to).await.0,
        vec!["item#002", "item#001", "item#000"]
    );
    let prefix = Query::partition(&pk).range(SkRange::Prefix("item#01".into()));
    assert_eq!(collect(prefix).await.0, expected[10..20].to_vec());
    // The same pages with bodies as text: the same items, bodies and cursors.
    for q in [
        Query::partition(&pk).limit(10),
        Query::partition(&pk).limit(4).backward(),
        Query::partition(&pk)
            .range(SkRange::Between("item#003".into(), "item#011".into()))
            .limit(3),
    ] {
        let mut cursor = None;
        loop {
            let q = q.clone().after(cursor);
            let (page, text) = (s.query(&q).await.unwrap(), s.query_text(&q).await.unwrap());
            assert_eq!(page.items.len(), text.items.len());
            for (i, t) in page.items.iter().zip(&text.items) {
                assert_eq!((&i.pk, &i.sk, i.version), (&t.pk, &t.sk, t.version));
                assert_eq!(i.body, t.body::<serde_json::Value>().unwrap());
            }
            assert_eq!(page.next, text.next);
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let none = Query::partition(format!("{}#empty", h.run_id()));
    let page = s.query(&none).await.unwrap();
    assert!(page.items.is_empty() && page.next.is_none());

    let forged = Query::partition(&pk).after(Some(crate::state::Cursor::from_text("not-a-cursor")));
    assert_eq!(s.query(&forged).await.unwrap_err(), StateError::BadCursor);
    assert!(matches!(
        s.query(&Query::partition(&pk).limit(0)).await,
        Err(StateError::InvalidQuery(_))
    ));
}

/// The secondary index answers by its own keys, in order, with pages.
pub async fn index_queries(h: &dyn Harness) {
    let s = h.state();
    let run = h.run_id();
    let by_county = format!("{run}#county#360702");
    let mut items = Vec::new();
    for i in 0..12 {
        let unit = format!("{run}#unit#{i:02}");
        let it = item(&unit, "PROFILE", json!({ "i": i }))
            .with_gsi1(&by_county, format!("2025-{:02}-01#{unit}", 12 - i));
        items.push(it);
    }
    // One item in another county, one not indexed at all.
    items.push(
        item(&format!("{run}#unit#x"), "PROFILE", json!({}))
            .with_gsi1(format!("{run}#county#360703"), "2025-01-01"),
    );
    items.push(item(&format!("{run}#unit#y"), "PROFILE", json!({})));
    for it in items {
        s.transact(vec![put(it, Condition::NotExists)])
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .query_index(
                Index::Gsi1,
                &Query::partition(&by_county).limit(5).after(cursor),
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.body["i"].as_i64().unwrap()));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, (0..12).rev().collect::<Vec<i64>>());
    let page = s
        .query_index(
            Index::Gsi1,
            &Query::partition(&by_county).range(SkRange::Prefix("2025-12".into())),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].gsi1.as_ref().unwrap().pk, by_county);
    assert_eq!(page.items[0].version, 1);
}

/// Failed conditions are typed conflicts naming the operation, and change nothing.
pub async fn conditional_conflicts(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#cond", h.run_id());
    s.transact(vec![put(
        item(&pk, "A", json!({"v": 1})),
        Condition::NotExists,
    )])
    .await
    .unwrap();
    let err = s
        .transact(vec![put(
            item(&pk, "A", json!({"v": 2})),
            Condition::NotExists,
        )])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StateError::Conflict { index: 0, key, condition: Condition::NotExists, .. } if key.sk == "A"),
        "{err:?}"
    );
    let err = s
        .transact(vec![put(
            item(&pk, "A", json!({"v": 2})),
            Condition::VersionIs(5),
        )])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StateError::Conflict { index: 0, .. }),
        "{err:?}"
    );
    let err = s
        .transact(vec![TxOp::Delete {
            key: Key::new(&pk, "A"),
            condition: Condition::VersionIs(2),
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err:?}");
    let err = s
        .transact(vec![TxOp::Check {
            key: Key::new(&pk, "missing"),
            condition: Condition::VersionIs(1),
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err:?}");
    let got = s.get(&Key::new(&pk, "A")).await.unwrap().unwrap();
    assert_eq!((got.version, got.body), (1, json!({"v": 1})));
}

/// A transaction whose last condition fails applies none of its operations.
pub async fn all_or_nothing(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#atomic", h.run_id());
    s.transact(vec![put(
        item(&pk, "existing", json!({})),
        Condition::NotExists,
    )])
    .await
    .unwrap();
    let ops = vec![
        put(item(&pk, "new-1", json!({})), Condition::NotExists),
        put(item(&pk, "new-2", json!({})), Condition::NotExists),
        TxOp::Delete {
            key: Key::new(&pk, "existing"),
            condition: Condition::VersionIs(1),
        },
        TxOp::Check {
            key: Key::new(&pk, "existing"),
            condition: Condition::NotExists,
        },
    ];
    // The same key twice is refused before anything runs.
    assert!(matches!(
        s.transact(ops.clone()).await,
        Err(StateError::DuplicateKey(_))
    ));
    let mut ops = ops;
    ops[3] = TxOp::Check {
        key: Key::new(&pk, "other"),
        condition: Condition::VersionIs(1),
    };
    let err = s.transact(ops).await.unwrap_err();
    assert!(
        matches!(err, StateError::Conflict { index: 3, .. }),
        "{err:?}"
    );
    assert_eq!(s.get(&Key::new(&pk, "new-1")).await.unwrap(), None);
    assert_eq!(s.get(&Key::new(&pk, "new-2")).await.unwrap(), None);
    assert!(s.get(&Key::new(&pk, "existing")).await.unwrap().is_some());
}

/// 100 operations pass, 101 are refused; items over 400 KB are refused by every write.
pub async fn limits(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#limits", h.run_id());
    let ops: Vec<TxOp> = (0..100)
        .map(|i| {
            put(
                item(&pk, &format!("{i:03}"), json!({ "i": i })),
                Condition::NotExists,
            )
        })
        .collect();
    s.transact(ops).await.unwrap();
    let page = s.query(&Query::partition(&pk).limit(1000)).await.unwrap();
    assert_eq!(page.items.len(), 100);
    let ops: Vec<TxOp> = (0..101)
        .map(|i| {
            put(
                item(&pk, &format!("x{i:03}"), json!({})),
                Condition::NotExists,
            )
        })
        .collect();
    assert_eq!(
        s.transact(ops).await.unwrap_err(),
        StateError::TooManyOperations(101)
    );
    assert_eq!(
        s.transact(vec![]).await.unwrap_err(),
        StateError::TooManyOperations(0)
    );

    let big = item(
        &pk,
        "big",
        json!({ "text": "字".repeat(MAX_ITEM_BYTES / 3 + 10) }),
    );
    assert!(big.size() > MAX_ITEM_BYTES);
    let err = s
        .transact(vec![put(big.clone(), Condition::NotExists)])
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::ItemTooLarge { .. }), "{err:?}");
    let err = s.batch_put(vec![big]).await.unwrap_err();
    assert!(matches!(err, StateError::ItemTooLarge { .. }), "{err:?}");
    assert_eq!(s.get(&Key::new(&pk, "big")).await.unwrap(), None);
    let fits = item(&pk, "fits", json!({ "text": "x".repeat(300 * 1024) }));
    s.transact(vec![put(fits, Condition::NotExists)])
        .await
        .unwrap();
    assert!(s.get(&Key::new(&pk, "fits")).await.unwrap().is_some());
}

/// Bulk loads land whole and are queryable.
pub async fn bulk_load(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#bulk", h.run_id());
    let items: Vec<Item> = (0..260)
        .map(|i| {
            let mut it = item(&pk, &format!("{i:04}"), json!({ "i": i }));
            it.version = 3;
            it
        })
        .collect();
    s.batch_put(items).await.unwrap();
    let page = s.query(&Query::partition(&pk).limit(1000)).await.unwrap();
    assert_eq!(page.items.len(), 260);
    assert!(page.items.iter().all(|i| i.version == 3));
    assert!(s.health().await.is_ok());
}

async fn read_all(docs: &dyn Documents, sha: &Sha256) -> std::io::Result<Vec<u8>> {
    let mut reader = docs
        .get(sha)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await?;
    Ok(out)
}

/// Documents are named by their hash, stored once, and read back verified.
pub async fn documents(h: &dyn Harness) {
    let d = h.docs();
    let body = format!("{} 扫描件 scan {}", h.run_id(), "x".repeat(200_000)).into_bytes();
    let sha = Sha256::of(&body);
    assert!(!d.exists(&sha).await.unwrap());
    let meta = d.put(&mut body.as_slice()).await.unwrap();
    assert_eq!(
        (meta.sha256, meta.size, meta.created),
        (sha, body.len() as u64, true)
    );
    let again = d.put(&mut body.as_slice()).await.unwrap();
    assert_eq!(
        (again.sha256, again.created),
        (sha, false),
        "create-only: a no-op"
    );
    assert_eq!(d.head(&sha).await.unwrap(), Some(body.len() as u64));
    assert!(d.exists(&sha).await.unwrap());
    assert_eq!(read_all(d, &sha).await.unwrap(), body);
    let empty = d.put(&mut &b""[..]).await.unwrap();
    assert_eq!(empty.size, 0);
    assert_eq!(read_all(d, &empty.sha256).await.unwrap(), b"");
    let missing = Sha256::of(format!("{} never stored", h.run_id()).as_bytes());
    assert!(matches!(d.get(&missing).await, Err(DocError::NotFound(_))));
    assert_eq!(d.head(&missing).await.unwrap(), None);
}

/// Retention as the store enforces it: a filed document is held; a lock is extended, never
/// shortened, and releases the hold; removal is refused while held or before the lock's day
/// (the store's own refusal where it has one: S3 Object Lock); a permanent document stays
/// held. `today` is the store's today (the lock is until tomorrow, China time).
pub async fn retention(h: &dyn Harness, today: chrono::NaiveDate) {
    use crate::docs::{Keep, Protection};
    let d = h.docs();
    let filed = d
        .put(&mut format!("{} kept for its period", h.run_id()).as_bytes())
        .await
        .unwrap()
        .sha256;
    let p = d.protection(&filed).await.unwrap().unwrap();
    assert!(p.held && p.read_only, "filed documents are held: {p:?}");
    assert!(matches!(
        d.destroy(&filed, today).await,
        Err(DocError::Retained { held: true, .. })
    ));
    // A hold is not released while nothing locks the document.
    assert!(matches!(
        d.release(&filed).await,
        Err(DocError::Retained {
            held: true,
            until: None,
            ..
        })
    ));
    // Locked until tomorrow: the hold stays until released, then the lock holds today.
    let tomorrow = today.succ_opt().unwrap();
    let p = d.keep(&filed, Keep::Until(tomorrow)).await.unwrap();
    assert_eq!(
        (p.held, p.until),
        (true, Some(tomorrow)),
        "a lock never releases a hold"
    );
    let p = d.release(&filed).await.unwrap();
    assert_eq!((p.held, p.until), (false, Some(tomorrow)), "released");
    // Never shortened.
    let p = d.keep(&filed, Keep::Until(today)).await.unwrap();
    assert_eq!(p.until, Some(tomorrow), "a lock is never shortened");
    assert!(matches!(
        d.destroy(&filed, today).await,
        Err(DocError::Retained { held: false, .. })
    ));
    assert!(d.exists(&filed).await.unwrap(), "refused: nothing removed");
    // A permanent document keeps its hold whatever day it is.
    let permanent = d
        .put(&mut format!("{} kept for ever", h.run_id()).as_bytes())
        .await
        .unwrap()
        .sha256;
    let p: Protection = d.keep(&permanent, Keep::Permanently).await.unwrap();
    assert!(p.held);
    let far = chrono::NaiveDate::from_ymd_opt(2999, 1, 1).unwrap();
    assert!(matches!(
        d.destroy(&permanent, far).await,
        Err(DocError::Retained { held: true, .. })
    ));
    let missing = Sha256::of(format!("{} never stored", h.run_id()).as_bytes());
    assert_eq!(d.protection(&missing).await.unwrap(), None);
    assert!(matches!(
        d.keep(&missing, Keep::Permanently).await,
        Err(DocError::NotFound(_))
    ));
}

/// A document whose stored bytes changed fails on read and is reported by `verify_all`.
pub async fn corruption_is_detected(h: &dyn Harness) {
    let d = h.docs();
    let body = format!("{} document to rot", h.run_id()).into_bytes();
    let sha = d.put(&mut body.as_slice()).await.unwrap().sha256;
    let before = d.verify_all().await.unwrap();
    assert!(
        !before
            .mismatched
            .iter()
            .any(|(k, _)| k.contains(&sha.hex()))
    );
    h.corrupt(&sha, b"tampered bytes").await;
    let err = read_all(d, &sha).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    let report = d.verify_all().await.unwrap();
    assert!(
        report
            .mismatched
            .iter()
            .any(|(k, _)| k.contains(&sha.hex())),
        "{report:?}"
    );
}

/// A presigned upload accepts exactly the announced bytes and nothing else, under its own key;
/// registering it moves it to its content address; filing consumes it.
pub async fn presigned_upload(h: &dyn Harness) {
    use crate::docs::UploadId;
    let d = h.docs();
    let good = format!("{} presigned upload 上传", h.run_id()).into_bytes();
    let sha = Sha256::of(&good);
    let id = UploadId::random().unwrap();
    let p = d
        .presign_put(&id, &sha, good.len() as u64, Duration::from_secs(300))
        .await
        .unwrap();
    let mut wrong = good.clone();
    wrong[0] ^= 1;
    let status = http_put(&p.url, &p.headers, &wrong).await;
    assert!(
        (400..500).contains(&status),
        "wrong bytes answered {status}"
    );
    assert!(
        matches!(d.register(&id, 1 << 20).await, Err(DocError::NotFound(_))),
        "wrong bytes must not be stored"
    );
    let status = http_put(&p.url, &p.headers, &good).await;
    assert!(
        (200..300).contains(&status),
        "right bytes answered {status}"
    );
    // Nothing under the content address until the upload is registered.
    assert!(!d.exists(&sha).await.unwrap());
    let meta = d.register(&id, 1 << 20).await.unwrap();
    assert_eq!((meta.sha256, meta.size), (sha, good.len() as u64));
    assert_eq!(read_all(d, &sha).await.unwrap(), good);

    // An upload is not filed until a case files it; then it is, and reads the same.
    assert!(
        !d.is_filed(&sha).await.unwrap(),
        "an upload is not filed by itself"
    );
    let filed = d.file(&sha).await.unwrap();
    assert_eq!((filed.size, filed.from_upload), (good.len() as u64, true));
    assert!(d.is_filed(&sha).await.unwrap());
    let again = d.file(&sha).await.unwrap();
    assert_eq!(
        (again.size, again.from_upload),
        (good.len() as u64, false),
        "filing twice is filing once, and the upload was consumed"
    );
    // The same bytes uploaded again (another case, another person): registered, then consumed
    // by its filing.
    let id2 = UploadId::random().unwrap();
    let p = d
        .presign_put(&id2, &sha, good.len() as u64, Duration::from_secs(300))
        .await
        .unwrap();
    assert!((200..300).contains(&http_put(&p.url, &p.headers, &good).await));
    d.register(&id2, 1 << 20).await.unwrap();
    assert!(d.file(&sha).await.unwrap().from_upload);
    assert!(!d.file(&sha).await.unwrap().from_upload);
    // Received server-side (what a seed or `swi doc put` does): incoming, then filed.
    let other = format!("{} received by the server", h.run_id()).into_bytes();
    let got = d.receive(&mut other.as_slice(), 1 << 20).await.unwrap();
    assert!(d.exists(&got.sha256).await.unwrap());
    assert!(!d.is_filed(&got.sha256).await.unwrap());
    assert!(d.file(&got.sha256).await.unwrap().from_upload);
    assert!(matches!(
        d.receive(&mut other.as_slice(), 4).await,
        Err(DocError::TooLarge { .. })
    ));
    // What the system stores itself is filed at once.
    let own = format!("{} made by the system", h.run_id()).into_bytes();
    let made = d.put(&mut own.as_slice()).await.unwrap();
    assert!(d.is_filed(&made.sha256).await.unwrap());

    // An upload never filed is swept; what is filed stays.
    let stray = format!("{} abandoned upload", h.run_id()).into_bytes();
    let stray_sha = Sha256::of(&stray);
    let stray_id = UploadId::random().unwrap();
    let p = d
        .presign_put(
            &stray_id,
            &stray_sha,
            stray.len() as u64,
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    assert!((200..300).contains(&http_put(&p.url, &p.headers, &stray).await));
    d.register(&stray_id, 1 << 20).await.unwrap();
    assert!(d.exists(&stray_sha).await.unwrap());
    assert!(d.sweep_incoming(Duration::ZERO).await.unwrap() >= 1);
    assert!(
        !d.exists(&stray_sha).await.unwrap(),
        "the abandoned upload is gone"
    );
    assert!(matches!(
        d.file(&stray_sha).await,
        Err(DocError::NotFound(_))
    ));
    assert_eq!(
        read_all(d, &sha).await.unwrap(),
        good,
        "the filed one stays"
    );
}

/// An item past its `expires_at` reads as absent everywhere: `get`, queries (and the index), and
/// conditions (a create over it succeeds; a version check on it fails). One not yet expired
/// reads as usual, with its expiry.
pub async fn expiry(h: &dyn Harness) {
    let s = h.state();
    let pk = format!("{}#expiry", h.run_id());
    let now = crate::state::epoch_now();
    let gone = item(&pk, "gone", json!({ "n": 1 }))
        .with_gsi1(format!("{pk}#index"), "a")
        .expiring_at(now - 60);
    let kept = item(&pk, "kept", json!({ "n": 2 }))
        .with_gsi1(format!("{pk}#index"), "b")
        .expiring_at(now + 3600);
    s.transact(vec![
        put(gone.clone(), Condition::NotExists),
        put(kept.clone(), Condition::NotExists),
    ])
    .await
    .unwrap();
    assert_eq!(s.get(&Key::new(&pk, "gone")).await.unwrap(), None);
    let read = s.get(&Key::new(&pk, "kept")).await.unwrap().unwrap();
    assert_eq!(read.expires_at, Some(now + 3600));
    let listed = s.query_all(&Query::partition(&pk)).await.unwrap();
    assert_eq!(
        listed.iter().map(|i| i.sk.as_str()).collect::<Vec<_>>(),
        ["kept"]
    );
    let indexed = s
        .query_index_all(Index::Gsi1, &Query::partition(format!("{pk}#index")))
        .await
        .unwrap();
    assert_eq!(indexed.len(), 1);
    let text = s.query_text(&Query::partition(&pk)).await.unwrap();
    assert_eq!(
        text.items.iter().map(|i| i.sk.as_str()).collect::<Vec<_>>(),
        ["kept"],
        "a query with bodies as text skips expired items too"
    );
    // A version check on the expired item fails: it is missing.
    assert!(matches!(
        s.transact(vec![TxOp::Check {
            key: Key::new(&pk, "gone"),
            condition: Condition::VersionIs(1),
        }])
        .await,
        Err(StateError::Conflict { .. })
    ));
    // A create over it succeeds, as over nothing, and starts at version 1.
    s.transact(vec![put(
        item(&pk, "gone", json!({ "n": 3 })),
        Condition::NotExists,
    )])
    .await
    .unwrap();
    let again = s.get(&Key::new(&pk, "gone")).await.unwrap().unwrap();
    assert_eq!((again.version, again.expires_at), (1, None));
}

/// Every test of the suite, in order.
pub async fn run_all(h: &dyn Harness) {
    round_trip(h).await;
    unicode(h).await;
    pagination(h).await;
    index_queries(h).await;
    conditional_conflicts(h).await;
    all_or_nothing(h).await;
    expiry(h).await;
    limits(h).await;
    bulk_load(h).await;
    documents(h).await;
    corruption_is_detected(h).await;
    presigned_upload(h).await;
    form_upload(h).await;
}

/// A form upload (the browser's POST, no JavaScript): only the policy's type and size under the
/// policy's key; the browser is sent to the redirect with the key; registering moves the file to
/// its content address once.
pub async fn form_upload(h: &dyn Harness) {
    use crate::docs::{FormPolicy, UploadId};
    let d = h.docs();
    let policy = FormPolicy {
        id: UploadId::random().unwrap(),
        content_type: "application/pdf".into(),
        max_len: 64,
        redirect: "http://portal.example/uploaded?to=claim".into(),
        expires_in: Duration::from_secs(300),
    };
    let form = d.presign_post(&policy).await.unwrap();
    let good = format!("%PDF {} form", &h.run_id()[..8.min(h.run_id().len())]).into_bytes();

    // Another declared type than the policy's: refused, nothing stored.
    let mut fields = form.fields.clone();
    for (k, v) in &mut fields {
        if k == "Content-Type" {
            *v = "text/html".into();
        }
    }
    let (status, _) = http_post_form(&form.url, &fields, &good).await;
    assert_eq!(status, 403, "another type is refused");
    // Larger than the policy allows: refused, nothing stored.
    let (status, _) = http_post_form(&form.url, &form.fields, &[b'x'; 65]).await;
    assert_eq!(status, 400, "too large is refused");
    assert!(matches!(
        d.register(&policy.id, policy.max_len).await,
        Err(DocError::NotFound(_))
    ));

    let (status, location) = http_post_form(&form.url, &form.fields, &good).await;
    assert_eq!(status, 303, "{location:?}");
    let location = location.unwrap();
    assert!(
        location.starts_with("http://portal.example/uploaded?to=claim&"),
        "{location}"
    );
    let key = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("key="))
        .unwrap()
        .replace("%2F", "/");
    assert_eq!(UploadId::parse(&key).unwrap(), policy.id);

    let meta = d.register(&policy.id, policy.max_len).await.unwrap();
    assert_eq!(meta.sha256, Sha256::of(&good));
    assert_eq!(meta.size, good.len() as u64);
    assert!(!d.is_filed(&meta.sha256).await.unwrap());
    assert_eq!(read_all(d, &meta.sha256).await.unwrap(), good);
    assert!(
        matches!(
            d.register(&policy.id, policy.max_len).await,
            Err(DocError::NotFound(_))
        ),
        "registered once"
    );
    assert!(d.file(&meta.sha256).await.unwrap().from_upload);

    // A file larger than the registration allows is removed, not registered.
    let small = FormPolicy {
        id: UploadId::random().unwrap(),
        ..policy.clone()
    };
    let form = d.presign_post(&small).await.unwrap();
    let (status, _) = http_post_form(&form.url, &form.fields, &good).await;
    assert_eq!(status, 303);
    assert!(matches!(
        d.register(&small.id, 4).await,
        Err(DocError::TooLarge { .. })
    ));
    assert!(matches!(
        d.register(&small.id, 64).await,
        Err(DocError::NotFound(_))
    ));
}

/// A minimal multipart/form-data POST over plain TCP, as a browser sends a form (the fields,
/// then the file): returns the status and the `Location` header.
pub async fn http_post_form(
    url: &str,
    fields: &[(String, String)],
    file: &[u8],
) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let boundary = "----swi-contract-boundary-7d1f";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("location")
            .then(|| v.trim().to_owned())
    });
    (status, location)
}

/// A minimal HTTP/1.1 PUT over plain TCP (the presigned URLs of the tests are `http://` on
/// loopback): returns the status code.
pub async fn http_put(url: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length") {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
