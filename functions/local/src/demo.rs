//! `swi serve --demo`: seeds a small, realistic data set through the API itself (so that every
//! record has its audit events), idempotently: running it again changes nothing.

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use chrono::Datelike;
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER};
use swi_platform::clock::Clock;
use tower::ServiceExt;

struct Seeder {
    router: Router,
    platform: Platform,
}

impl Seeder {
    fn token(&self, sub: &str, role: &str, county: &str, unit: Option<&str>) -> Result<String> {
        // Tokens live in real time (the server checks them against the machine's clock), even
        // when the business date is set with SWI_TODAY.
        let now = swi_platform::clock::SystemClock.now().timestamp();
        self.platform
            .tokens
            .mint(&Claims {
                sub: sub.into(),
                role: role.into(),
                county: county.into(),
                name: format!("演示{role}"),
                unit: unit.map(str::to_owned),
                iss: ISSUER.into(),
                iat: now,
                exp: now + 12 * 3600,
            })
            .map_err(|e| anyhow::anyhow!("{}", e.en))
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: Value,
    ) -> Result<Value> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body.to_string()))?)
            .await?;
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("demo seed: {method} {path} answered {status}: {value}");
        }
        Ok(value)
    }

    async fn scan(&self, text: &str) -> Result<String> {
        let bytes = format!("%PDF-1.4\n% swi demo scan: {text}\n").into_bytes();
        Ok(self
            .platform
            .docs
            .put(&mut bytes.as_slice())
            .await?
            .sha256
            .hex())
    }
}

const UNIT: &str = "91360702MA35G6QL6T";

/// Seeds the demo data and writes ready-made tokens to `tokens_file`.
///
/// # Errors
/// A request of the seed fails.
pub async fn seed(router: Router, platform: Platform, tokens_file: &std::path::Path) -> Result<()> {
    let s = Seeder { router, platform };
    let clerk = s.token("demo-acceptor-360702", "acceptor", "360702", None)?;
    let employer = s.token("demo-employer", "employer", "360702", Some(UNIT))?;
    let citizen = s.token("demo-citizen", "citizen", "360703", None)?;
    let supervisor = s.token("demo-supervisor", "supervisor", "360700", None)?;

    let evidence = s.scan("工伤保险参保登记证明").await?;
    s.call(
        "POST",
        "/api/work-injury/facts",
        &clerk,
        Some("demo-facts-0001"),
        json!({
            "code": UNIT, "name": "赣州市章贡区示范建材有限公司", "county": "360702",
            "registration_no": "GS-360702-2025-0001", "insured": true, "industry_class": 4,
            "rate_band": "1.0", "band_decided_on": "2025-01-01", "as_of": "2025-05-31",
            "evidence_sha256": evidence
        }),
    )
    .await?;
    s.call("POST", "/api/units", &employer, Some("demo-unit-0001"), json!({
        "code": UNIT, "name": "赣州市章贡区示范建材有限公司", "county": "360702",
        "account": { "bank": "中国银行赣州分行", "number": "6216610100001234567", "holder": "赣州市章贡区示范建材有限公司" },
        "contact": { "name": "张三", "phone": "13907970001" }
    })).await?;
    // Dates relative to today, so that the demo is true whenever it runs.
    let now = s.platform.clock.now();
    let today = now.date_naive();
    let person = |name: &str, id: &str, category: &str| {
        json!({
            "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970101",
            "category": category, "declared_wage": "4500.00", "start": today
        })
    };
    let born = |years_ago: i32, seq: &str| -> Result<String> {
        let birth = today
            .with_year(today.year() - years_ago)
            .or_else(|| {
                today
                    .pred_opt()
                    .and_then(|d| d.with_year(d.year() - years_ago))
            })
            .context("birth date")?;
        let id = swi_rules::ids::ResidentId::with_check_character(&format!(
            "360702{}{seq}",
            birth.format("%Y%m%d")
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(id.expose().to_owned())
    };
    let employee = s
        .call(
            "POST",
            &format!("/api/units/{UNIT}/persons"),
            &employer,
            Some("demo-person-0001"),
            person("赵一", &born(40, "001")?, "employee"),
        )
        .await?;
    let paid = json!({ "paid_at": now.format("%Y-%m-%dT%H:%M").to_string() });
    let id = employee["id"].as_str().context("enrolment id")?;
    s.call(
        "POST",
        &format!("/api/enrolments/{id}/payments"),
        &clerk,
        Some("demo-pay-0001"),
        paid.clone(),
    )
    .await?;
    let over_age = s
        .call(
            "POST",
            &format!("/api/units/{UNIT}/persons"),
            &employer,
            Some("demo-person-0002"),
            person("冯九", &born(66, "011")?, "over_age"),
        )
        .await?;
    let id = over_age["id"].as_str().context("enrolment id")?.to_owned();
    for m in ["work_injury_payment_proof", "labour_service_contract"] {
        let sha = s.scan(&format!("{id} {m}")).await?;
        s.call(
            "PUT",
            &format!("/api/enrolments/{id}/materials/{m}"),
            &employer,
            Some(&format!("demo-mat-{m}")),
            json!({ "sha256": sha }),
        )
        .await?;
    }
    s.call(
        "POST",
        &format!("/api/enrolments/{id}/accept"),
        &clerk,
        Some("demo-accept-0002"),
        Value::Null,
    )
    .await?;
    s.call(
        "POST",
        &format!("/api/enrolments/{id}/payments"),
        &clerk,
        Some("demo-pay-0002"),
        paid,
    )
    .await?;
    let mut flexible = person("卫十二", "360703197211152049", "flexible");
    flexible["county"] = json!("360703");
    flexible["pays_basic_pension"] = json!(true);
    s.call(
        "POST",
        "/api/self/enrolments",
        &citizen,
        Some("demo-self-0001"),
        flexible,
    )
    .await?;

    let text = format!(
        "# swi demo tokens (valid 12 hours): use as `Authorization: Bearer <token>`\n\
         acceptor_360702={clerk}\nemployer_{UNIT}={employer}\ncitizen_360703={citizen}\nsupervisor_city={supervisor}\n"
    );
    // Bearer tokens are credentials: readable by their owner only (mode 0600), from the moment
    // the file exists.
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            if tokens_file.exists() {
                std::fs::set_permissions(tokens_file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        options.open(tokens_file)?.write_all(text.as_bytes())
    };
    write().with_context(|| format!("cannot write {}", tokens_file.display()))?;
    Ok(())
}
