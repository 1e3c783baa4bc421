//! The state port on SQLite: table `items(pk, sk, gsi1pk, gsi1sk, version, body, expires_at)`
//! with a partial index for `gsi1`. An item past its `expires_at` is read as absent and removed by
//! [`EmbeddedState::purge_expired`]. Text compares byte-wise (BINARY collation on UTF-8), the same order
//! as DynamoDB's. Two connections, each behind a mutex: one writes, the other reads (WAL lets a
//! read run while a transaction commits, and every read sees what was committed before it
//! began); every call runs on a blocking thread.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use swi_store::state::{
    Condition, Cursor, CursorKey, Found, Index, Item, Key, Page, Query, SkRange, StateError,
    StateStore, TextItem, TextPage, TxOp,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk      TEXT NOT NULL,
    sk      TEXT NOT NULL,
    gsi1pk  TEXT,
    gsi1sk  TEXT,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
";

/// State in one SQLite file.
#[derive(Clone)]
pub struct EmbeddedState {
    /// Transactions, and what must see the file exactly as written (counts, health).
    conn: Arc<Mutex<Connection>>,
    /// Gets and queries.
    reader: Arc<Mutex<Connection>>,
}

fn unavailable(e: impl std::fmt::Display) -> StateError {
    StateError::Unavailable(e.to_string())
}

/// The smallest string greater than every string starting with `prefix`, if there is one:
/// the last character incremented (UTF-8 orders like code points).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Adds the sort-key range of `range` on `column` to a WHERE clause.
fn range_sql(column: &str, range: &SkRange, sql: &mut String, args: &mut Vec<String>) {
    let mut arg = |sql: &mut String, op: &str, v: String| {
        args.push(v);
        sql.push_str(&format!(" AND {column} {op} ?{}", args.len()));
    };
    match range {
        SkRange::All => {}
        SkRange::Prefix(p) => {
            arg(sql, ">=", p.clone());
            if let Some(end) = prefix_end(p) {
                arg(sql, "<", end);
            }
        }
        SkRange::Between(a, b) => {
            arg(sql, ">=", a.clone());
            arg(sql, "<=", b.clone());
        }
        SkRange::From(a) => arg(sql, ">=", a.clone()),
        SkRange::To(b) => arg(sql, "<=", b.clone()),
    }
}

fn row_to_text(row: &rusqlite::Row<'_>) -> rusqlite::Result<TextItem> {
    let gsi1pk: Option<String> = row.get(2)?;
    let gsi1sk: Option<String> = row.get(3)?;
    let version: i64 = row.get(4)?;
    Ok(TextItem {
        pk: row.get(0)?,
        sk: row.get(1)?,
        gsi1: gsi1pk.zip(gsi1sk).map(|(p, s)| Key::new(p, s)),
        version: u64::try_from(version).unwrap_or(0),
        body: row.get(5)?,
    })
}

fn row_to_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let t = row_to_text(row)?;
    Ok(Item {
        body: serde_json::from_str(&t.body).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
        })?,
        pk: t.pk,
        sk: t.sk,
        gsi1: t.gsi1,
        version: t.version,
        expires_at: row.get(6)?,
    })
}

/// Where a page read on `index` ends, from its last row's keys.
fn position(index: Option<Index>, key: Key, gsi1: Option<&Key>) -> CursorKey {
    CursorKey {
        key,
        index: index.and(gsi1.cloned()),
    }
}

fn version_of(conn: &Connection, key: &Key) -> rusqlite::Result<Option<u64>> {
    conn.query_row(
        "SELECT version FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
        params![key.pk, key.sk, swi_store::state::epoch_now()],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map(|v| v.map(|v| u64::try_from(v).unwrap_or(0)))
}

fn body_text(item: &Item) -> Result<String, StateError> {
    serde_json::to_string(&item.body).map_err(|e| StateError::Body(e.to_string()))
}

/// Each put's body as stored, serialized once: the transaction is checked as
/// [`swi_store::state::check_transaction`] does, an item's size measured on this text.
fn checked_bodies(ops: &[TxOp]) -> Result<Vec<Option<String>>, StateError> {
    swi_store::state::check_operations(ops)?;
    ops.iter()
        .map(|op| match op {
            TxOp::Put { item, .. } => {
                let text = body_text(item)?;
                item.check_with_body(text.len())?;
                Ok(Some(text))
            }
            _ => Ok(None),
        })
        .collect()
}

fn i64_version(v: u64) -> Result<i64, StateError> {
    i64::try_from(v).map_err(|_| StateError::InvalidKey(format!("version {v} is too large")))
}

const INSERT: &str = "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, version, body, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// The columns every read selects, in `row_to_item`'s order.
const COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, version, body, expires_at";

impl EmbeddedState {
    /// Deletes the items that expired before now (what DynamoDB's TTL does by itself); returns
    /// how many.
    ///
    /// # Errors
    /// The database cannot be written.
    pub async fn purge_expired(&self) -> Result<usize, StateError> {
        self.with(|conn| {
            conn.execute(
                "DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                params![swi_store::state::epoch_now()],
            )
            .map_err(unavailable)
        })
        .await
    }

    /// How many items the database holds, expired ones included (what a bulk job wrote, shown
    /// before and after it).
    ///
    /// # Errors
    /// The database cannot be read.
    pub async fn count(&self) -> Result<u64, StateError> {
        self.with(|conn| {
            conn.query_row("SELECT COUNT(*) FROM items", [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or_default())
                .map_err(unavailable)
        })
        .await
    }

    /// Opens (creating if needed) the database at `path`.
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be created.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let conn = Self::connect(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        // A store made before items could expire gains the column.
        let has_expiry: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('items') WHERE name = 'expires_at'")
            .and_then(|mut s| s.exists([]))
            .map_err(unavailable)?;
        if !has_expiry {
            conn.execute_batch("ALTER TABLE items ADD COLUMN expires_at INTEGER")
                .map_err(unavailable)?;
        }
        let reader = Self::connect(path)?;
        reader
            .pragma_update(None, "query_only", true)
            .map_err(unavailable)?;
        Ok(EmbeddedState {
            conn: Arc::new(Mutex::new(conn)),
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    /// A connection to the file, set up as both of ours are.
    fn connect(path: &Path) -> Result<Connection, StateError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        // Every committed transaction is on disk before `transact` returns.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(unavailable)?;
        // Every statement the port makes stays prepared (queries differ by range and limit).
        conn.set_prepared_statement_cache_capacity(64);
        // One plan per statement, whatever is bound: without this SQLite re-plans a cached
        // statement on every execution (its bindings are cleared when it goes back to the
        // cache, and the partial index makes every bound key a reason to re-plan).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(unavailable)?;
        Ok(conn)
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        Self::on(&self.conn, f).await
    }

    async fn reading<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        Self::on(&self.reader, f).await
    }

    async fn on<T: Send + 'static>(
        conn: &Arc<Mutex<Connection>>,
        f: impl FnOnce(&mut Connection) -> Result<T, StateError> + Send + 'static,
    ) -> Result<T, StateError> {
        let conn = Arc::clone(conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| unavailable("the state connection was poisoned by a panic"))?;
            f(&mut guard)
        })
        .await
        .map_err(unavailable)?
    }

    fn run_query(conn: &Connection, index: Option<Index>, q: &Query) -> Result<Page, StateError> {
        let (items, next) = Self::select(conn, index, q, row_to_item, |i: &Item| {
            position(index, i.key(), i.gsi1.as_ref())
        })?;
        Ok(Page { items, next })
    }

    fn run_text_query(conn: &Connection, q: &Query) -> Result<TextPage, StateError> {
        let (items, next) = Self::select(conn, None, q, row_to_text, |i: &TextItem| {
            position(None, Key::new(i.pk.clone(), i.sk.clone()), i.gsi1.as_ref())
        })?;
        Ok(TextPage { items, next })
    }

    /// The rows of a query, made by `row`, and the cursor after them.
    fn select<T>(
        conn: &Connection,
        index: Option<Index>,
        q: &Query,
        row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        last: impl Fn(&T) -> CursorKey,
    ) -> Result<(Vec<T>, Option<Cursor>), StateError> {
        q.check()?;
        let after = q.cursor.as_ref().map(Cursor::position).transpose()?;
        let mut args: Vec<String> = vec![q.pk.clone(), swi_store::state::epoch_now().to_string()];
        let live = "(expires_at IS NULL OR expires_at > CAST(?2 AS INTEGER))";
        let (mut sql, order) = match index {
            None => (
                format!("SELECT {COLUMNS} FROM items WHERE pk = ?1 AND {live}"),
                "sk",
            ),
            Some(Index::Gsi1) => (
                format!("SELECT {COLUMNS} FROM items WHERE gsi1pk = ?1 AND {live}"),
                "gsi1sk",
            ),
        };
        range_sql(order, &q.sk, &mut sql, &mut args);
        let cmp = if q.forward { ">" } else { "<" };
        let dir = if q.forward { "ASC" } else { "DESC" };
        if let Some(pos) = &after {
            match index {
                None => {
                    args.push(pos.key.sk.clone());
                    sql.push_str(&format!(" AND sk {cmp} ?{}", args.len()));
                }
                Some(_) => {
                    let ik = pos.index.clone().ok_or(StateError::BadCursor)?;
                    args.extend([ik.sk, pos.key.pk.clone(), pos.key.sk.clone()]);
                    let n = args.len();
                    sql.push_str(&format!(
                        " AND (gsi1sk, pk, sk) {cmp} (?{}, ?{}, ?{n})",
                        n - 2,
                        n - 1
                    ));
                }
            }
        }
        match index {
            None => sql.push_str(&format!(" ORDER BY sk {dir}")),
            Some(_) => sql.push_str(&format!(" ORDER BY gsi1sk {dir}, pk {dir}, sk {dir}")),
        }
        sql.push_str(&format!(" LIMIT {}", u64::from(q.limit) + 1));
        let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
        let rows: Vec<T> = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), row)
            .map_err(unavailable)?
            .collect::<rusqlite::Result<_>>()
            .map_err(unavailable)?;
        Ok(swi_store::state::cut(rows, q.limit, last))
    }
}

fn check(
    conn: &Connection,
    index: usize,
    key: &Key,
    condition: Condition,
) -> Result<(), StateError> {
    if condition == Condition::None {
        return Ok(());
    }
    let found = version_of(conn, key).map_err(unavailable)?;
    let ok = match condition {
        Condition::None => true,
        Condition::NotExists => found.is_none(),
        Condition::VersionIs(n) => found == Some(n),
    };
    if ok {
        Ok(())
    } else {
        Err(StateError::Conflict {
            index,
            key: key.clone(),
            condition,
            found: Some(found.map_or(Found::Missing, |v| Found::Exists(Some(v)))),
        })
    }
}

#[async_trait]
impl StateStore for EmbeddedState {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StateError> {
        let key = key.clone();
        self.reading(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)"
            ))
            .map_err(unavailable)?
            .query_row(
                params![key.pk, key.sk, swi_store::state::epoch_now()],
                row_to_item,
            )
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Page, StateError> {
        let q = query.clone();
        self.reading(move |conn| Self::run_query(conn, None, &q))
            .await
    }

    async fn query_index(&self, index: Index, query: &Query) -> Result<Page, StateError> {
        let q = query.clone();
        self.reading(move |conn| Self::run_query(conn, Some(index), &q))
            .await
    }

    async fn query_text(&self, query: &Query) -> Result<TextPage, StateError> {
        let q = query.clone();
        self.reading(move |conn| Self::run_text_query(conn, &q))
            .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StateError> {
        let bodies = checked_bodies(&ops)?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            for (i, op) in ops.iter().enumerate() {
                check(&tx, i, &op.key(), op.condition())?;
            }
            for (op, body) in ops.iter().zip(bodies) {
                match op {
                    TxOp::Put { item, condition } => {
                        let version = i64_version(TxOp::stored_version(item, *condition))?;
                        let (gpk, gsk) = item
                            .gsi1
                            .as_ref()
                            .map(|k| (k.pk.as_str(), k.sk.as_str()))
                            .unzip();
                        tx.prepare_cached(INSERT)
                            .map_err(unavailable)?
                            .execute(params![
                                item.pk,
                                item.sk,
                                gpk,
                                gsk,
                                version,
                                body.unwrap_or_default(),
                                item.expires_at
                            ])
                            .map_err(unavailable)?;
                    }
                    TxOp::Delete { key, .. } => {
                        tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
                            .map_err(unavailable)?
                            .execute(params![key.pk, key.sk])
                            .map_err(unavailable)?;
                    }
                    TxOp::Check { .. } => {}
                }
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StateError> {
        for item in &items {
            item.check()?;
        }
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            {
                let mut stmt = tx.prepare_cached(INSERT).map_err(unavailable)?;
                for item in &items {
                    let (gpk, gsk) = item
                        .gsi1
                        .as_ref()
                        .map(|k| (k.pk.as_str(), k.sk.as_str()))
                        .unzip();
                    stmt.execute(params![
                        item.pk,
                        item.sk,
                        gpk,
                        gsk,
                        i64_version(item.version)?,
                        body_text(item)?,
                        item.expires_at
                    ])
                    .map_err(unavailable)?;
                }
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn health(&self) -> Result<String, StateError> {
        self.with(|conn| {
            let n: i64 = conn
                .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
                .map_err(unavailable)?;
            let check: String = conn
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(unavailable)?;
            if check != "ok" {
                return Err(unavailable(format!("SQLite quick_check: {check}")));
            }
            Ok(format!("embedded state: {n} items, integrity ok"))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_string_after_every_extension() {
        assert_eq!(prefix_end("item#01").as_deref(), Some("item#02"));
        assert_eq!(prefix_end("人员#").as_deref(), Some("人员$"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end(""), None);
    }
}
