//! The demo's payments: a flexible worker (孙伤九, her account `citizen-paid` verified at the
//! window) claims the nursing subsidy for her own injury, which is paid to her social-security
//! card (Art. 35) in last month's daily batch, once the contractor's finance recorded the card;
//! the bank's return marks it paid and posts its voucher. This month's fund cycle is open with
//! last month's summary submitted and the payment request (请款计划) waiting for the agency's
//! officer (Art. 37) — who approves it from the portal.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{Datelike, Days, NaiveDate};
use serde_json::json;
use swi_platform::Platform;
use swi_platform::clock::{CHINA, SetClock};
use swi_platform::jobs::Job;

use crate::seeder::Seeder;

/// The paid citizen (subject) and her name.
pub const PAID: (&str, &str) = ("demo-citizen-paid", "孙伤九");

/// The county's finance staff and agency officer of the demo (subjects).
pub const FINANCE: &str = "demo-finance-360702";
/// The county's agency officer of the demo.
pub const OFFICER: &str = "demo-officer-360702";

fn at(d: NaiveDate) -> chrono::DateTime<chrono::FixedOffset> {
    d.and_hms_opt(9, 30, 0)
        .unwrap_or_default()
        .and_local_timezone(CHINA)
        .single()
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&CHINA))
}

fn back(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(days)).unwrap_or(d)
}

fn on(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).unwrap_or(d)
}

async fn run(job: &dyn Job, p: &Platform) -> Result<()> {
    job.run(
        p,
        std::time::Instant::now() + std::time::Duration::from_secs(120),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo seed: {}: {}: {}", job.name(), e.code, e.en))?;
    Ok(())
}

/// Seeds the payments on `platform`'s stores, with a clock of its own; `today` is the
/// server's business date. Answers the request's state: submitted, or why not.
///
/// # Errors
/// A call the API refused.
pub async fn seed(platform: &Platform) -> Result<&'static str> {
    let today = platform.clock.today();
    let month = today.with_day(1).unwrap_or(today);
    // Approved twelve days before this month began: paid last month, settled this month.
    let approved = back(month, 12);
    let clock = Arc::new(SetClock::new(at(back(approved, 150))));
    let past = Platform {
        clock: clock.clone(),
        ..platform.clone()
    };
    let s = Seeder::new(
        swi_platform::api::app(past.clone(), crate::steps::all()).0,
        past.clone(),
    );
    let county = "360702";
    let t = |sub: &str, role: &str| s.token(sub, role, county, None);
    let (acceptor, handler, first, second) = (
        t(crate::demo_claims::CLERKS[0].0, "acceptor")?,
        t(crate::demo_claims::CLERKS[1].0, "handler")?,
        t(crate::demo_claims::CLERKS[2].0, "first_reviewer")?,
        t(crate::demo_claims::CLERKS[3].0, "re_reviewer")?,
    );
    let finance = t(FINANCE, "finance")?;
    let (sub, name) = PAID;
    let citizen = t(sub, "citizen")?;
    let key = |what: &str| format!("demo-paid-{what}");
    let id = swi_rules::ids::ResidentId::with_check_character("36070219900512163")
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .expose()
        .to_owned();

    // Verified at the window, enrolled as a flexible worker, her first month paid (Art. 6, 8).
    let start = back(approved, 150);
    let card = s.scan(&format!("居民身份证 {name}"), &acceptor).await?;
    s.call(
        "POST",
        "/api/identities",
        &acceptor,
        Some(&key("identity")),
        json!({ "sub": sub, "name": name, "id_number": id, "evidence_sha256": card }),
    )
    .await?;
    let e = s
        .call(
            "POST",
            "/api/self/enrolments",
            &citizen,
            Some(&key("enrol")),
            json!({
                "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970169",
                "category": "flexible", "declared_wage": "4600.00", "start": start,
                "county": county, "pays_basic_pension": true
            }),
        )
        .await?;
    let eid = e["id"].as_str().context("enrolment id")?.to_owned();
    for m in ["id_copy", "commitment_letter", "flexible_registration_form"] {
        let sha = s.scan(&format!("{name} {m}"), &citizen).await?;
        s.call(
            "PUT",
            &format!("/api/enrolments/{eid}/materials/{m}"),
            &citizen,
            Some(&key(&format!("material-{m}"))),
            json!({ "sha256": sha }),
        )
        .await?;
    }
    s.call(
        "POST",
        &format!("/api/enrolments/{eid}/accept"),
        &acceptor,
        Some(&key("accept")),
        serde_json::Value::Null,
    )
    .await?;
    s.pay_first_bill(&eid, &start.to_string(), &finance, &key("receipt"))
        .await?;

    // Injured, recognised, her paid leave over, in hospital for part of it.
    clock.set(at(back(approved, 45)));
    let scan = s.scan(&format!("认定书 {name}"), &acceptor).await?;
    let injury = s
        .call(
            "POST",
            "/api/injuries",
            &acceptor,
            Some(&key("injury")),
            json!({
                "name": name, "id_number": id, "kind": "accident",
                "decision_number": format!("赣市人社伤认〔{}〕演示009号", approved.format("%Y")),
                "decided_on": back(approved, 60), "injured_on": back(approved, 90),
                "body_part": "右手", "sha256": scan
            }),
        )
        .await?;
    let iid = injury["id"].as_str().context("injury id")?.to_owned();
    let leave = s.scan(&format!("停工留薪期确认 {name}"), &handler).await?;
    s.call(
        "PUT",
        &format!("/api/injuries/{iid}/paid-leave"),
        &handler,
        Some(&key("leave")),
        json!({ "from": back(approved, 90), "to": back(approved, 50), "sha256": leave }),
    )
    .await?;
    clock.set(at(back(approved, 20)));
    let summary = s.scan(&format!("出院小结 {name}"), &citizen).await?;
    s.call(
        "PUT",
        &format!("/api/injuries/{iid}/materials/discharge_summary"),
        &citizen,
        Some(&key("summary")),
        json!({ "sha256": summary }),
    )
    .await?;
    let claim = s
        .call(
            "POST",
            "/api/claims",
            &citizen,
            Some(&key("claim")),
            json!({ "injury": iid, "items": ["nursing_subsidy"] }),
        )
        .await?;
    let cid = claim["id"].as_str().context("claim id")?.to_owned();
    let step = |path: &'static str, token: String, body: serde_json::Value| {
        let (cid, k) = (cid.clone(), key(&format!("claim-{path}")));
        let s = &s;
        async move {
            s.call(
                "POST",
                &format!("/api/claims/{cid}/{path}"),
                &token,
                Some(&k),
                body,
            )
            .await
        }
    };
    step("accept", acceptor.clone(), serde_json::Value::Null).await?;
    step("eligibility", handler.clone(),
        json!({ "identity_confirmed": true, "contributions_confirmed": true, "recognition_consistent": true }))
        .await?;
    step(
        "first-review",
        first.clone(),
        json!({
            "stays": [ { "admitted": back(approved, 90), "discharged": back(approved, 78) } ],
            "opinion": "住院期间护理补助按日核定"
        }),
    )
    .await?;
    step(
        "re-review",
        second.clone(),
        json!({ "opinion": "复核同意" }),
    )
    .await?;
    clock.set(at(approved));
    match step("approve", first.clone(), serde_json::Value::Null).await {
        Ok(_) => {}
        Err(e)
            if e.to_string()
                .contains(swi_platform::ErrorCode::FormsUnavailable.as_str()) =>
        {
            return Ok("the claim waits at entry: PDF forms need the CJK font");
        }
        Err(e) => return Err(e),
    }

    // The next day's batch finds no account for her: finance records her card, and the day
    // after the line goes to the bank, which returns it paid.
    clock.set(at(on(approved, 1)));
    run(&swi_payment_batch::runs::PaymentBatch, &past).await?;
    let line = format!("ls:{cid}:nursing_subsidy");
    let payload = "62188000000169123";
    let number = format!(
        "{payload}{}",
        swi_payables::account::luhn_check_digit(payload).context("check digit")?
    );
    s.call(
        "POST",
        "/api/accounts",
        &finance,
        Some(&key("account")),
        json!({ "line": line, "kind": "social_security_card", "bank": "psbc",
            "branch": "中国邮政储蓄银行赣州市章贡区支行", "number": number, "holder": name }),
    )
    .await?;
    clock.set(at(on(approved, 2)));
    run(&swi_payment_batch::runs::PaymentBatch, &past).await?;
    let batch_id = format!("{county}-{}-D", on(approved, 2).format("%Y%m%d"));
    let (batch, _) = swi_payment_batch::model::load_batch(&past, &batch_id)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.en))?
        .context("the demo's batch")?;
    clock.set(at(on(approved, 3)));
    for bank in batch.banks.keys() {
        s.call(
            "POST",
            &format!("/api/payments/batches/{batch_id}/files"),
            &finance,
            Some(&key(&format!("file-{}", bank.code()))),
            json!({ "bank": bank, "format": "csv" }),
        )
        .await?;
        let parts = swi_payment_batch::bank_files::parts_of(&past, &batch_id, *bank)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.en))?;
        let file =
            swi_payment_batch::bank_files::payment_file(&batch, &parts, swi_tables::Format::Csv)
                .map_err(|e| anyhow::anyhow!("{}", e.en))?;
        let mut answer = String::new();
        for (i, row) in String::from_utf8(file)?.lines().enumerate() {
            answer.push_str(row);
            answer.push_str(if i == 0 {
                ",result,reason\n"
            } else {
                ",成功,\n"
            });
        }
        let sha =
            swi_platform::documents::received(&past, FINANCE, &mut answer.as_bytes(), 1 << 20)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.en))?;
        s.call(
            "POST",
            &format!("/api/payments/batches/{batch_id}/returns"),
            &finance,
            Some(&key(&format!("return-{}", bank.code()))),
            json!({ "bank": bank, "sha256": sha.hex() }),
        )
        .await?;
    }
    run(&swi_payment_batch::returns::PaymentReturns, &past).await?;

    // This month's cycle: opened, last month's payouts summarised, the request submitted.
    clock.set(at(today));
    run(&swi_payment_batch::cycle_jobs::CycleSummary, &past).await?;
    let cycle = format!(
        "/api/payment-cycles/{county}/{}/steps",
        today.format("%Y-%m")
    );
    s.call(
        "POST",
        &cycle,
        &finance,
        Some(&key("summary")),
        json!({ "command": "submit_summary" }),
    )
    .await?;
    match s
        .call(
            "POST",
            &cycle,
            &finance,
            Some(&key("request")),
            json!({ "command": "submit_request" }),
        )
        .await
    {
        Ok(_) => Ok("submitted"),
        Err(e)
            if e.to_string()
                .contains(swi_platform::ErrorCode::FormsUnavailable.as_str()) =>
        {
            Ok("the request waits: its PDF needs the CJK font")
        }
        Err(e) => Err(e),
    }
}
