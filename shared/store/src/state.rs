//! The state port: DynamoDB-shaped items and the operations both backends implement alike.
//!
//! An item is addressed by `(pk, sk)`, carries a `version` (1 when created, +1 on every
//! conditional put), optionally a key on the secondary index `gsi1`, and a JSON body. Access
//! patterns are keys designed up front: there is no scan.

use std::fmt;

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

/// The largest item either backend accepts, as DynamoDB's limit: 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The most operations in one transaction, as DynamoDB's limit.
pub const MAX_TRANSACTION_OPS: usize = 100;

/// The address of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    /// A key.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.pk, self.sk)
    }
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
    /// Version: set by the store on conditional puts (1 on create, +1 on each update).
    pub version: u64,
    /// Key on the secondary index `gsi1`, if the item is indexed.
    pub gsi1: Option<Key>,
    /// The body.
    pub body: Value,
    /// When the item expires (seconds since the Unix epoch, wall-clock time): from then on both
    /// backends read it as absent — `get` and queries skip it, and a condition sees it missing —
    /// and it is deleted later (DynamoDB's TTL on `expires_at`; the embedded store's
    /// `purge_expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// Seconds since the Unix epoch now, as expiry is measured (wall-clock, like DynamoDB's TTL;
/// business dates come from the platform's clock, never from here).
#[must_use]
pub fn epoch_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Item {
    /// An item with a body serialized from `body`.
    ///
    /// # Errors
    /// A body that does not serialize to JSON.
    pub fn new<T: Serialize>(
        pk: impl Into<String>,
        sk: impl Into<String>,
        body: &T,
    ) -> Result<Self, StateError> {
        Ok(Item {
            pk: pk.into(),
            sk: sk.into(),
            version: 0,
            gsi1: None,
            body: serde_json::to_value(body).map_err(|e| StateError::Body(e.to_string()))?,
            expires_at: None,
        })
    }

    /// The same item expiring at `at` (seconds since the Unix epoch).
    #[must_use]
    pub fn expiring_at(mut self, at: i64) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether it has expired at `now` (seconds since the Unix epoch).
    #[must_use]
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The same item indexed on `gsi1` under `(pk, sk)`.
    #[must_use]
    pub fn with_gsi1(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.gsi1 = Some(Key::new(pk, sk));
        self
    }

    /// Its key.
    #[must_use]
    pub fn key(&self) -> Key {
        Key::new(self.pk.clone(), self.sk.clone())
    }

    /// The body as a typed value.
    ///
    /// # Errors
    /// A body that is not of that type.
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, StateError> {
        // Deserialized from the value in place: no copy of the body.
        T::deserialize(&self.body).map_err(|e| StateError::Body(e.to_string()))
    }

    /// Its size as both backends measure it against [`MAX_ITEM_BYTES`]: keys, index keys and the
    /// body as compact JSON.
    #[must_use]
    pub fn size(&self) -> usize {
        self.size_with(self.body_len())
    }

    /// The size with a body of `body` bytes of compact JSON.
    fn size_with(&self, body: usize) -> usize {
        let keys = self.pk.len()
            + self.sk.len()
            + self.gsi1.as_ref().map_or(0, |k| k.pk.len() + k.sk.len());
        keys.saturating_add(8).saturating_add(body)
    }

    /// The body's length as compact JSON.
    fn body_len(&self) -> usize {
        /// Counts what is written to it, keeping nothing.
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut body = Counter(0);
        serde_json::to_writer(&mut body, &self.body).map_or(usize::MAX, |()| body.0)
    }

    /// Refuses an item that is too large or has an empty key part.
    ///
    /// # Errors
    /// `ItemTooLarge`, `InvalidKey`.
    pub fn check(&self) -> Result<(), StateError> {
        self.check_with_body(self.body_len())
    }

    /// [`Item::check`] for a body already serialized, `body` bytes long.
    ///
    /// # Errors
    /// As [`Item::check`].
    pub fn check_with_body(&self, body: usize) -> Result<(), StateError> {
        if self.pk.is_empty() || self.sk.is_empty() {
            return Err(StateError::InvalidKey(
                "partition and sort keys must not be empty".into(),
            ));
        }
        if let Some(g) = &self.gsi1
            && (g.pk.is_empty() || g.sk.is_empty())
        {
            return Err(StateError::InvalidKey(
                "index keys must not be empty".into(),
            ));
        }
        let size = self.size_with(body);
        if size > MAX_ITEM_BYTES {
            return Err(StateError::ItemTooLarge {
                key: self.key(),
                size,
            });
        }
        Ok(())
    }
}

/// A condition on the item an operation addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// No condition (a put overwrites and keeps the item's own version).
    None,
    /// The item must not exist (a put creates it at version 1).
    NotExists,
    /// The item must exist at this version (a put stores version + 1).
    VersionIs(u64),
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    /// Write an item.
    Put {
        /// The item.
        item: Item,
        /// Its condition.
        condition: Condition,
    },
    /// Delete an item.
    Delete {
        /// The item's key.
        key: Key,
        /// Its condition.
        condition: Condition,
    },
    /// Only check a condition on an item.
    Check {
        /// The item's key.
        key: Key,
        /// The condition (not `None`).
        condition: Condition,
    },
}

impl TxOp {
    /// The key the operation addresses.
    #[must_use]
    pub fn key(&self) -> Key {
        match self {
            TxOp::Put { item, .. } => item.key(),
            TxOp::Delete { key, .. } | TxOp::Check { key, .. } => key.clone(),
        }
    }

    /// The operation's condition.
    #[must_use]
    pub fn condition(&self) -> Condition {
        match self {
            TxOp::Put { condition, .. }
            | TxOp::Delete { condition, .. }
            | TxOp::Check { condition, .. } => *condition,
        }
    }

    /// The version a put stores under its condition.
    #[must_use]
    pub fn stored_version(item: &Item, condition: Condition) -> u64 {
        match condition {
            Condition::None => item.version,
            Condition::NotExists => 1,
            Condition::VersionIs(n) => n + 1,
        }
    }
}

/// Checks a transaction before either backend runs it: 1-100 operations, each key once, each
/// item within the size limit, checks conditional.
///
/// # Errors
/// `TooManyOperations`, `DuplicateKey`, `ItemTooLarge`, `InvalidKey`.
pub fn check_transaction(ops: &[TxOp]) -> Result<(), StateError> {
    check_operations(ops)?;
    for op in ops {
        if let TxOp::Put { item, .. } = op {
            item.check()?;
        }
    }
    Ok(())
}

/// [`check_transaction`] but for each put's size: how many operations, no key twice, every
/// check conditioned (a backend that serializes bodies itself measures them with
/// [`Item::check_with_body`]).
///
/// # Errors
/// As [`check_transaction`].
pub fn check_operations(ops: &[TxOp]) -> Result<(), StateError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
        return Err(StateError::TooManyOperations(ops.len()));
    }
    let mut keys: Vec<Key> = ops.iter().map(TxOp::key).collect();
    keys.sort();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(StateError::DuplicateKey(w[0].clone()));
    }
    for op in ops {
        if let TxOp::Check { condition, key } = op
            && *condition == Condition::None
        {
            return Err(StateError::InvalidKey(format!(
                "a check of {key} needs a condition"
            )));
        }
    }
    Ok(())
}

/// What a condition found instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The item exists (at this version, when known).
    Exists(Option<u64>),
    /// The item does not exist.
    Missing,
}

/// Which secondary index to query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// `gsi1`: `(gsi1pk, gsi1sk)`.
    Gsi1,
}

impl Index {
    /// The index's name in the table.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
        }
    }
}

/// Which sort keys a query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    /// Every sort key.
    All,
    /// Sort keys beginning with this prefix.
    Prefix(String),
    /// Sort keys between the two, both included.
    Between(String, String),
    /// Sort keys from this one on, included.
    From(String),
    /// Sort keys up to this one, included.
    To(String),
}

impl SkRange {
    /// Whether `sk` is in the range (the embedded backend's filter, and the tests' oracle).
    #[must_use]
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SkRange::All => true,
            SkRange::Prefix(p) => sk.starts_with(p.as_str()),
            SkRange::Between(a, b) => a.as_str() <= sk && sk <= b.as_str(),
            SkRange::From(a) => a.as_str() <= sk,
            SkRange::To(b) => sk <= b.as_str(),
        }
    }
}

/// An opaque position between pages: where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

/// The last item of a page, inside a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorKey {
    /// Table key of the last item.
    pub key: Key,
    /// Its index key, when the query was on an index.
    pub index: Option<Key>,
}

impl Cursor {
    /// The cursor after `last`.
    #[must_use]
    pub fn after(last: &CursorKey) -> Self {
        let json = serde_json::to_vec(last).unwrap_or_default();
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }

    /// The position it stands for.
    ///
    /// # Errors
    /// `BadCursor` for text that no store produced.
    pub fn position(&self) -> Result<CursorKey, StateError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.0)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(StateError::BadCursor)
    }

    /// The cursor as text, to hand to a client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A cursor from a client's text (checked when used).
    #[must_use]
    pub fn from_text(s: impl Into<String>) -> Self {
        Cursor(s.into())
    }
}

/// A query on one partition of the table or of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The partition key (of the index, for an index query).
    pub pk: String,
    /// The sort keys wanted.
    pub sk: SkRange,
    /// Ascending sort keys when true.
    pub forward: bool,
    /// At most this many items per page (1-1000).
    pub limit: u32,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl Query {
    /// Every item of a partition, ascending, 100 a page.
    pub fn partition(pk: impl Into<String>) -> Self {
        Query {
            pk: pk.into(),
            sk: SkRange::All,
            forward: true,
            limit: 100,
            cursor: None,
        }
    }

    /// The same query restricted to sort keys in `sk`.
    #[must_use]
    pub fn range(mut self, sk: SkRange) -> Self {
        self.sk = sk;
        self
    }

    /// The same query with page size `limit`.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// The same query, descending.
    #[must_use]
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    /// The same query from a cursor.
    #[must_use]
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Refuses a page size outside 1-1000.
    ///
    /// # Errors
    /// `InvalidQuery`.
    pub fn check(&self) -> Result<(), StateError> {
        if !(1..=1000).contains(&self.limit) {
            return Err(StateError::InvalidQuery(format!(
                "page size {} is outside 1-1000",
                self.limit
            )));
        }
        Ok(())
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items, in the order asked.
    pub items: Vec<Item>,
    /// Where to continue, when more items exist.
    pub next: Option<Cursor>,
}

impl Page {
    /// The page of a query that fetched up to `limit + 1` items: the first `limit`, and a cursor
    /// after the last of them exactly when more followed. Both backends cut pages this way, so
    /// that `next` means the same on each.
    #[must_use]
    pub fn cut(items: Vec<Item>, limit: u32, index: Option<Index>) -> Page {
        let (items, next) = cut(items, limit, |last| CursorKey {
            key: last.key(),
            index: index.and(last.gsi1.clone()),
        });
        Page { items, next }
    }
}

/// The first `limit` of up to `limit + 1` rows a query fetched, and a cursor after the last of
/// them (its keys as `position` gives them) exactly when more followed.
pub fn cut<T>(
    mut rows: Vec<T>,
    limit: u32,
    position: impl Fn(&T) -> CursorKey,
) -> (Vec<T>, Option<Cursor>) {
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| Cursor::after(&position(last)))
    } else {
        None
    };
    (rows, next)
}

/// An item with its body as JSON text, read for a caller that turns many items into its own
/// type (no generic JSON value is built for each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextItem {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
    /// Version.
    pub version: u64,
    /// Key on `gsi1`, if indexed.
    pub gsi1: Option<Key>,
    /// The body, compact JSON.
    pub body: String,
}

impl TextItem {
    /// The same item with its body as text.
    ///
    /// # Errors
    /// `Body` (a JSON value always serializes).
    pub fn from_item(item: Item) -> Result<Self, StateError> {
        Ok(TextItem {
            body: serde_json::to_string(&item.body).map_err(|e| StateError::Body(e.to_string()))?,
            pk: item.pk,
            sk: item.sk,
            version: item.version,
            gsi1: item.gsi1,
        })
    }

    /// The body as a typed value, parsed from its text.
    ///
    /// # Errors
    /// A body that is not of that type.
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, StateError> {
        serde_json::from_str(&self.body).map_err(|e| StateError::Body(e.to_string()))
    }
}

/// A page of a query with bodies as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPage {
    /// The items, in the order asked.
    pub items: Vec<TextItem>,
    /// Where to continue, when more items exist.
    pub next: Option<Cursor>,
}

/// Errors of the state port; both backends return the same variant for the same cause.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    /// A condition failed: the transaction (or write) changed nothing.
    #[error("condition {condition:?} failed on {key} (operation {index}): found {found:?}")]
    Conflict {
        /// Position of the operation in the transaction.
        index: usize,
        /// The item.
        key: Key,
        /// The condition asked.
        condition: Condition,
        /// What was found, when the backend says.
        found: Option<Found>,
    },
    /// The item exceeds 400 KB.
    #[error("item {key} is {size} bytes; the limit is {MAX_ITEM_BYTES}")]
    ItemTooLarge {
        /// The item.
        key: Key,
        /// Its size.
        size: usize,
    },
    /// A transaction of 0 or more than 100 operations.
    #[error("a transaction has 1 to {MAX_TRANSACTION_OPS} operations, not {0}")]
    TooManyOperations(usize),
    /// The same item twice in one transaction.
    #[error("item {0} appears twice in one transaction")]
    DuplicateKey(Key),
    /// An empty key part or a check without condition.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A query the store cannot run.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A cursor that no store produced.
    #[error("the page cursor is not valid")]
    BadCursor,
    /// A body that does not (de)serialize.
    #[error("item body: {0}")]
    Body(String),
    /// The backend is unavailable or failed; retrying may help.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

/// The state port. Both backends MUST behave identically; the contract suite checks it.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// The item at `key`, if any.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StateError>;

    /// A page of the items of partition `query.pk` whose sort keys are in `query.sk`, in sort-key
    /// order (descending when `!forward`), at most `limit`; `next` is set exactly when more
    /// items follow.
    ///
    /// # Errors
    /// `InvalidQuery`, `BadCursor`, `Unavailable`.
    async fn query(&self, query: &Query) -> Result<Page, StateError>;

    /// The same on a secondary index: `query.pk` and `query.sk` are index keys; items with equal
    /// index sort keys come in table-key order.
    ///
    /// # Errors
    /// `InvalidQuery`, `BadCursor`, `Unavailable`.
    async fn query_index(&self, index: Index, query: &Query) -> Result<Page, StateError>;

    /// [`StateStore::query`] with each body as JSON text: the same items, order and cursor. For a
    /// caller reading many items into its own type; a backend holding bodies as text gives them
    /// as they are.
    ///
    /// # Errors
    /// As [`StateStore::query`].
    async fn query_text(&self, query: &Query) -> Result<TextPage, StateError> {
        let page = self.query(query).await?;
        Ok(TextPage {
            items: page
                .items
                .into_iter()
                .map(TextItem::from_item)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Every item of a query, following the pages (for partitions known to be bounded).
    ///
    /// # Errors
    /// As [`StateStore::query`].
    async fn query_all(&self, query: &Query) -> Result<Vec<Item>, StateError> {
        let mut q = query.clone();
        let mut out = Vec::new();
        loop {
            let page = self.query(&q).await?;
            out.extend(page.items);
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Every item of an index query, following the pages.
    ///
    /// # Errors
    /// As [`StateStore::query_index`].
    async fn query_index_all(&self, index: Index, query: &Query) -> Result<Vec<Item>, StateError> {
        let mut q = query.clone();
        let mut out = Vec::new();
        loop {
            let page = self.query_index(index, &q).await?;
            out.extend(page.items);
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Applies every operation or none. A failed condition MUST return `Conflict` naming the
    /// first failing operation, and change nothing. Puts store the version their condition
    /// implies ([`TxOp::stored_version`]).
    ///
    /// # Errors
    /// `Conflict`, `TooManyOperations`, `DuplicateKey`, `ItemTooLarge`, `InvalidKey`,
    /// `Unavailable`.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StateError>;

    /// Writes many items unconditionally, as given (bulk loads, migrations). Not atomic as a
    /// whole; each item is written whole or not at all.
    ///
    /// # Errors
    /// `ItemTooLarge`, `InvalidKey`, `Unavailable`.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StateError>;

    /// A cheap round trip proving the store is reachable and its table exists.
    ///
    /// # Errors
    /// `Unavailable` with the cause.
    async fn health(&self) -> Result<String, StateError>;
}
