//! The demo's client: calls the application's router with tokens it mints, as a user of the
//! API would, so that every seeded record has its audit events.

use anyhow::{Result, bail};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER};
use swi_platform::clock::Clock;
use tower::ServiceExt;

/// Seeds through the API, as a client would.
pub(crate) struct Seeder {
    router: Router,
    pub(crate) platform: Platform,
}

impl Seeder {
    /// A seeder calling `router`, with `platform`'s stores and keys.
    pub(crate) fn new(router: Router, platform: Platform) -> Self {
        Seeder { router, platform }
    }

    pub(crate) fn token(
        &self,
        sub: &str,
        role: &str,
        county: &str,
        unit: Option<&str>,
    ) -> Result<String> {
        // Tokens live in real time (the server checks them against the machine's clock), even
        // when the business date is set with SWI_TODAY.
        let now = swi_platform::clock::SystemClock.now().timestamp();
        self.platform
            .tokens
            .mint(&Claims {
                sub: sub.into(),
                role: role.into(),
                county: county.into(),
                name: format!("演示{}", role_name(role)),
                unit: unit.map(str::to_owned),
                iss: ISSUER.into(),
                iat: now,
                exp: now + 12 * 3600,
            })
            .map_err(|e| anyhow::anyhow!("{}", e.en))
    }

    /// One request through the router, as a client sends it.
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: Value,
    ) -> Result<axum::response::Response> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        Ok(self
            .router
            .clone()
            .oneshot(req.body(Body::from(body.to_string()))?)
            .await?)
    }

    /// A request whose refusal is the point: answers its status.
    pub(crate) async fn status(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: Value,
    ) -> Result<u16> {
        Ok(self
            .send(method, path, token, key, body)
            .await?
            .status()
            .as_u16())
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: Value,
    ) -> Result<Value> {
        let res = self.send(method, path, token, key, body).await?;
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("demo seed: {method} {path} answered {status}: {value}");
        }
        Ok(value)
    }

    /// A demo scan, uploaded as the holder of `token` (who files it next).
    pub(crate) async fn scan(&self, text: &str, token: &str) -> Result<String> {
        let bytes = format!("%PDF-1.4\n% swi demo scan: {text}\n").into_bytes();
        self.upload(&bytes, token).await
    }

    /// Pays an enrolment's first bill as the tax bureau would: its receipt, paid on `paid_on`
    /// (`YYYY-MM-DD`), imported by the clerk of `token` (Art. 8: cover starts the next day).
    pub(crate) async fn pay_first_bill(
        &self,
        enrolment: &str,
        paid_on: &str,
        token: &str,
        receipt: &str,
    ) -> Result<()> {
        let e = self
            .call(
                "GET",
                &format!("/api/enrolments/{enrolment}"),
                token,
                None,
                Value::Null,
            )
            .await?;
        let month = e["bills_from"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("demo seed: {enrolment} has no bill"))?
            .replace('-', "");
        let id = format!("b-{}-{enrolment}", month.get(..6).unwrap_or_default());
        self.pay_bill(&id, paid_on, token, receipt).await
    }

    /// Pays bill `id` in full as the tax bureau would: its receipt, paid on `paid_on`, imported
    /// by the clerk of `token`.
    pub(crate) async fn pay_bill(
        &self,
        id: &str,
        paid_on: &str,
        token: &str,
        receipt: &str,
    ) -> Result<()> {
        let bill = self
            .call("GET", &format!("/api/bills/{id}"), token, None, Value::Null)
            .await?;
        let csv = format!(
            "receipt_no,bill_id,amount,paid_on\n{receipt},{id},{},{paid_on}\n",
            bill["amount"].as_str().unwrap_or_default()
        );
        let sha = self.upload(csv.as_bytes(), token).await?;
        self.call(
            "POST",
            "/api/tax-exchange/receipts",
            token,
            Some(&format!("demo-receipts-{receipt}")),
            serde_json::json!({ "county": bill["county"], "sha256": sha }),
        )
        .await?;
        Ok(())
    }

    /// A file uploaded as the holder of `token`: theirs to file.
    pub(crate) async fn upload(&self, bytes: &[u8], token: &str) -> Result<String> {
        let sub = self
            .platform
            .tokens
            .verify(token)
            .map_err(|e| anyhow::anyhow!("{}", e.en))?
            .sub;
        let mut body = bytes;
        Ok(
            swi_platform::documents::received(&self.platform, &sub, &mut body, 1 << 30)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.en))?
                .hex(),
        )
    }
}

/// A role's Chinese name, for the demo's display names.
fn role_name(role: &str) -> &'static str {
    match role {
        "citizen" => "参保人员",
        "employer" => "单位经办人",
        "acceptor" => "受理窗口",
        "handler" => "承办岗",
        "first_reviewer" => "初审岗",
        "re_reviewer" => "复核岗",
        "finance" => "财务",
        "agency_officer" => "业务科室",
        "supervisor" => "稽核内控",
        "archivist" => "档案管理",
        _ => "用户",
    }
}
