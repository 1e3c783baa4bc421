//! The state port on DynamoDB.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, PutRequest, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, WriteRequest,
};
use swi_store::state::{
    Condition, Found, Index, Item, Key, Page, Query, SkRange, StateError, StateStore, TxOp,
    check_transaction,
};

type Attrs = HashMap<String, AttributeValue>;

/// State in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoState {
    client: Client,
    table: String,
}

fn unavailable(e: impl std::fmt::Display) -> StateError {
    StateError::Unavailable(e.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn to_attrs(item: &Item, version: u64) -> Result<Attrs, StateError> {
    let mut a = key_attrs(&item.key());
    if let Some(g) = &item.gsi1 {
        a.insert("gsi1pk".into(), s(&g.pk));
        a.insert("gsi1sk".into(), s(&g.sk));
    }
    a.insert("version".into(), AttributeValue::N(version.to_string()));
    let body: AttributeValue = serde_dynamo::to_attribute_value(&item.body)
        .map_err(|e| StateError::Body(e.to_string()))?;
    a.insert("body".into(), body);
    if let Some(at) = item.expires_at {
        // The table's TTL attribute (template.yaml): DynamoDB deletes the item some time after.
        a.insert("expires_at".into(), AttributeValue::N(at.to_string()));
    }
    Ok(a)
}

fn string(a: &Attrs, name: &str) -> Option<String> {
    match a.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

fn version(a: &Attrs) -> Option<u64> {
    match a.get("version") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn from_attrs(mut a: Attrs) -> Result<Item, StateError> {
    let corrupt = |what: &str| StateError::Body(format!("stored item without {what}"));
    let pk = string(&a, "pk").ok_or_else(|| corrupt("pk"))?;
    let sk = string(&a, "sk").ok_or_else(|| corrupt("sk"))?;
    let gsi1 = string(&a, "gsi1pk")
        .zip(string(&a, "gsi1sk"))
        .map(|(p, s)| Key::new(p, s));
    let version = version(&a).ok_or_else(|| corrupt("version"))?;
    let expires_at = match a.get("expires_at") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    let body = a.remove("body").ok_or_else(|| corrupt("body"))?;
    let body: serde_json::Value =
        serde_dynamo::from_attribute_value(body).map_err(|e| StateError::Body(e.to_string()))?;
    Ok(Item {
        pk,
        sk,
        version,
        gsi1,
        body,
        expires_at,
    })
}

/// Condition expression and values for a condition, or `None` for no condition. An item past
/// its `expires_at` counts as missing, as every read sees it (DynamoDB's TTL deletes it later).
fn condition_expr(c: Condition) -> Option<(String, Vec<(String, AttributeValue)>)> {
    let now = (
        ":now".to_owned(),
        AttributeValue::N(swi_store::state::epoch_now().to_string()),
    );
    match c {
        Condition::None => None,
        Condition::NotExists => Some((
            "attribute_not_exists(pk) OR expires_at <= :now".into(),
            vec![now],
        )),
        Condition::VersionIs(n) => Some((
            "version = :expected AND (attribute_not_exists(expires_at) OR expires_at > :now)"
                .into(),
            vec![(":expected".into(), AttributeValue::N(n.to_string())), now],
        )),
    }
}

fn is_too_large(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("size") && m.contains("exceed"))
}

impl DynamoState {
    /// The client (tests read items behind the store's back with it).
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// State in `table`.
    #[must_use]
    pub fn new(client: Client, table: &str) -> Self {
        DynamoState {
            client,
            table: table.to_owned(),
        }
    }

    async fn run_query(&self, index: Option<Index>, q: &Query) -> Result<Page, StateError> {
        q.check()?;
        let (pk_name, sk_name) = match index {
            None => ("pk", "sk"),
            Some(Index::Gsi1) => ("gsi1pk", "gsi1sk"),
        };
        let mut values: Attrs = HashMap::from([(":pk".to_owned(), s(&q.pk))]);
        let mut expr = "#pk = :pk".to_owned();
        match &q.sk {
            SkRange::All => {}
            SkRange::Prefix(p) => {
                expr.push_str(" AND begins_with(#sk, :a)");
                values.insert(":a".into(), s(p));
            }
            SkRange::Between(a, b) => {
                expr.push_str(" AND #sk BETWEEN :a AND :b");
                values.insert(":a".into(), s(a));
                values.insert(":b".into(), s(b));
            }
            SkRange::From(a) => {
                expr.push_str(" AND #sk >= :a");
                values.insert(":a".into(), s(a));
            }
            SkRange::To(b) => {
                expr.push_str(" AND #sk <= :b");
                values.insert(":b".into(), s(b));
            }
        }
        let mut start: Option<Attrs> = match &q.cursor {
            None => None,
            Some(c) => {
                let pos = c.position()?;
                let mut k = key_attrs(&pos.key);
                if index.is_some() {
                    let ik = pos.index.ok_or(StateError::BadCursor)?;
                    k.insert("gsi1pk".into(), s(&ik.pk));
                    k.insert("gsi1sk".into(), s(&ik.sk));
                }
                Some(k)
            }
        };
        let want = q.limit as usize + 1;
        let mut items: Vec<Item> = Vec::new();
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&expr)
                .expression_attribute_names("#pk", pk_name)
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(q.forward)
                .limit(i32::try_from(want - items.len()).unwrap_or(1001))
                .set_exclusive_start_key(start.take());
            if !matches!(q.sk, SkRange::All) {
                req = req.expression_attribute_names("#sk", sk_name);
            }
            req = match index {
                None => req.consistent_read(true),
                Some(i) => req.index_name(i.name()),
            };
            let out = req.send().await.map_err(|e| match e.as_service_error() {
                Some(se) if se.code() == Some("ValidationException") => {
                    if q.cursor.is_some() {
                        StateError::BadCursor
                    } else {
                        StateError::InvalidQuery(se.message().unwrap_or_default().to_owned())
                    }
                }
                _ => unavailable(crate::describe(&e)),
            })?;
            let now = swi_store::state::epoch_now();
            for a in out.items.unwrap_or_default() {
                let item = from_attrs(a)?;
                if !item.expired(now) {
                    items.push(item);
                }
            }
            match out.last_evaluated_key {
                Some(k) if items.len() < want => start = Some(k),
                _ => break,
            }
        }
        Ok(Page::cut(items, q.limit, index))
    }

    fn transact_item(&self, op: &TxOp) -> Result<TransactWriteItem, StateError> {
        let cond = condition_expr(op.condition());
        let build = |e: aws_sdk_dynamodb::error::BuildError| unavailable(e);
        let fail_values = ReturnValuesOnConditionCheckFailure::AllOld;
        Ok(match op {
            TxOp::Put { item, condition } => {
                let mut b = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(
                        item,
                        TxOp::stored_version(item, *condition),
                    )?))
                    .return_values_on_condition_check_failure(fail_values);
                if let Some((expr, values)) = cond {
                    b = b.condition_expression(expr);
                    for (k, v) in values {
                        b = b.expression_attribute_values(k, v);
                    }
                }
                TransactWriteItem::builder()
                    .put(b.build().map_err(build)?)
                    .build()
            }
            TxOp::Delete { key, .. } => {
                let mut b = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .return_values_on_condition_check_failure(fail_values);
                if let Some((expr, values)) = cond {
                    b = b.condition_expression(expr);
                    for (k, v) in values {
                        b = b.expression_attribute_values(k, v);
                    }
                }
                TransactWriteItem::builder()
                    .delete(b.build().map_err(build)?)
                    .build()
            }
            TxOp::Check { key, .. } => {
                let (expr, values) = cond.ok_or_else(|| {
                    StateError::InvalidKey(format!("a check of {key} needs a condition"))
                })?;
                let mut b = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(expr)
                    .return_values_on_condition_check_failure(fail_values);
                for (k, v) in values {
                    b = b.expression_attribute_values(k, v);
                }
                TransactWriteItem::builder()
                    .condition_check(b.build().map_err(build)?)
                    .build()
            }
        })
    }
}

#[async_trait]
impl StateStore for DynamoState {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(crate::describe(&e)))?;
        let now = swi_store::state::epoch_now();
        Ok(out
            .item
            .map(from_attrs)
            .transpose()?
            .filter(|i| !i.expired(now)))
    }

    async fn query(&self, query: &Query) -> Result<Page, StateError> {
        self.run_query(None, query).await
    }

    async fn query_index(&self, index: Index, query: &Query) -> Result<Page, StateError> {
        self.run_query(Some(index), query).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StateError> {
        check_transaction(&ops)?;
        let items = ops
            .iter()
            .map(|op| self.transact_item(op))
            .collect::<Result<Vec<_>, _>>()?;
        let mut attempt = 0u32;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let Err(err) = result else { return Ok(()) };
            let retry_conflict = match &err {
                SdkError::ServiceError(se) => {
                    if let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) = se.err() {
                        let reasons = tc.cancellation_reasons();
                        if let Some((index, reason)) = reasons
                            .iter()
                            .enumerate()
                            .find(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        {
                            let op = &ops[index];
                            let found = Some(match reason.item() {
                                Some(old) if !old.is_empty() => Found::Exists(version(old)),
                                _ => Found::Missing,
                            });
                            return Err(StateError::Conflict {
                                index,
                                key: op.key(),
                                condition: op.condition(),
                                found,
                            });
                        }
                        if reasons.iter().any(|r| is_too_large(r.message())) {
                            let key = ops.first().map(TxOp::key).unwrap_or_else(|| Key::new("", ""));
                            return Err(StateError::ItemTooLarge { key, size: 0 });
                        }
                        reasons.iter().any(|r| r.code() == Some("TransactionConflict"))
                    } else {
                        if se.err().code() == Some("ValidationException") && is_too_large(se.err().message()) {
                            let key = ops.first().map(TxOp::key).unwrap_or_else(|| Key::new("", ""));
                            return Err(StateError::ItemTooLarge { key, size: 0 });
                        }
                        false
                    }
                }
                _ => false,
            };
            attempt += 1;
            if !retry_conflict || attempt >= 5 {
                return Err(unavailable(crate::describe(&err)));
            }
            // Another transaction held one of the items: back off and try again.
            tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
        }
    }

    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StateError> {
        for item in &items {
            item.check()?;
        }
        for chunk in items.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(to_attrs(item, item.version)?))
                        .build()
                        .map_err(unavailable)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StateError>>()?;
            let mut attempt = 0u32;
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| unavailable(crate::describe(&e)))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if !requests.is_empty() {
                    attempt += 1;
                    if attempt > 10 {
                        return Err(unavailable(
                            "batch write: items still unprocessed after 10 retries",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(25u64 << attempt.min(6))).await;
                }
            }
        }
        Ok(())
    }

    async fn health(&self) -> Result<String, StateError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| unavailable(crate::describe(&e)))?;
        let status = out
            .table
            .and_then(|t| t.table_status)
            .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned());
        Ok(format!("DynamoDB table {}: {status}", self.table))
    }
}
