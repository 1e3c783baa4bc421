//! The demo's claims: a history seeded through the API on a clock set back in time — persons
//! covered five months ago, injured three months ago — so that there is a claim at every step
//! of the review (submitted, returned with a one-time notice, at handling, first review,
//! re-review, entry) and one approved with its two forms, each step done by its own demo clerk.
//! One more insured person's injury waits with no claim yet: her own account
//! (`citizen-claims`, verified at the window) files it from the portal.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::clock::{CHINA, SetClock};

use crate::seeder::Seeder;

/// The unit whose staff claim in the demo.
pub const UNIT: &str = "91360702MA35H7RM4A";

/// The demo clerks of the claim steps (subjects), one per step (Art. 5).
pub const CLERKS: [(&str, &str); 4] = [
    ("demo-acceptor-360702", "acceptor"),
    ("demo-handler-360702", "handler"),
    ("demo-first-reviewer-360702", "first_reviewer"),
    ("demo-re-reviewer-360702", "re_reviewer"),
];

/// How far a claim of the demo goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Until {
    Submitted,
    Returned,
    Handling,
    FirstReview,
    ReReview,
    Entry,
    Approved,
}

/// The demo citizen who claims for herself from the portal (subject), and her name.
pub const CLAIMANT: (&str, &str) = ("demo-citizen-claims", "林伤八");

/// The claims seeded, for the log: (status, id).
pub type Claims = Vec<(&'static str, String)>;

fn day(today: NaiveDate, back: u64) -> NaiveDate {
    today.checked_sub_days(Days::new(back)).unwrap_or(today)
}

fn at(d: NaiveDate) -> chrono::DateTime<chrono::FixedOffset> {
    d.and_hms_opt(9, 30, 0)
        .unwrap_or_default()
        .and_local_timezone(CHINA)
        .single()
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&CHINA))
}

/// Seeds the claims on `platform`'s stores, with a clock of its own moved through the story;
/// `today` is the server's business date.
///
/// # Errors
/// A request of the seed fails.
pub async fn seed(platform: &Platform) -> Result<Claims> {
    let today = platform.clock.today();
    let clock = Arc::new(SetClock::new(at(day(today, 150))));
    let past = Platform {
        clock: clock.clone(),
        ..platform.clone()
    };
    let s = Seeder::new(
        swi_platform::api::app(past.clone(), crate::steps::all()).0,
        past,
    );
    let token = |i: usize| -> Result<String> {
        let (sub, role) = CLERKS[i];
        s.token(sub, role, "360702", None)
    };
    let (acceptor, handler, first, second) = (token(0)?, token(1)?, token(2)?, token(3)?);
    let finance = s.token("demo-finance-360702", "finance", "360702", None)?;
    let unit = UNIT;
    let employer = &s.token("demo-employer-claims", "employer", "360702", Some(UNIT))?;
    // The unit was registered before its members' cover began.
    let evidence = s
        .scan("工伤保险参保登记证明（示范物流）", &acceptor)
        .await?;
    s.call(
        "POST",
        "/api/work-injury/facts",
        &acceptor,
        Some("demo-claims-facts"),
        json!({
            "code": UNIT, "name": "赣州市章贡区示范物流有限公司", "county": "360702",
            "registration_no": "GS-360702-2025-0002", "insured": true, "industry_class": 5,
            "rate_band": "1.0", "band_decided_on": "2025-01-01", "as_of": day(today, 151),
            "evidence_sha256": evidence
        }),
    )
    .await?;
    s.call(
        "POST",
        "/api/units",
        employer,
        Some("demo-claims-unit"),
        json!({
            "code": UNIT, "name": "赣州市章贡区示范物流有限公司", "county": "360702",
            "account": { "bank": "中国银行赣州分行", "number": "6216610100007654321", "holder": "赣州市章贡区示范物流有限公司" },
            "contact": { "name": "李四", "phone": "13907970002" }
        }),
    )
    .await?;
    let stages = [
        (Until::Submitted, "submitted"),
        (Until::Returned, "returned"),
        (Until::Handling, "handling"),
        (Until::FirstReview, "first_review"),
        (Until::ReReview, "re_review"),
        (Until::Entry, "entry"),
        (Until::Approved, "approved"),
    ];
    let names = [
        "陈伤一",
        "褚伤二",
        "卫伤三",
        "蒋伤四",
        "沈伤五",
        "韩伤六",
        "杨伤七",
    ];
    let mut out = Vec::new();
    for (n, ((until, status), name)) in stages.iter().zip(names).enumerate() {
        clock.set(at(day(today, 150)));
        let id = swi_rules::ids::ResidentId::with_check_character(&format!(
            "36070219{:02}0{}1503{n}",
            80 + n,
            n % 9 + 1
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .expose()
        .to_owned();
        let key = |what: &str| format!("demo-claim-{n}-{what}");
        let e = s
            .call(
                "POST",
                &format!("/api/units/{unit}/persons"),
                employer,
                Some(&key("enrol")),
                json!({
                    "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970150",
                    "category": "employee", "declared_wage": "5200.00", "start": day(today, 150)
                }),
            )
            .await?;
        let eid = e["id"].as_str().context("enrolment id")?.to_owned();
        // Its first month's bill, paid at the tax bureau that day (Art. 8).
        s.pay_first_bill(
            &eid,
            &day(today, 150).to_string(),
            &finance,
            &key("receipt"),
        )
        .await?;
        // Injured three months ago, recognised two months ago.
        clock.set(at(day(today, 45)));
        let scan = s.scan(&format!("认定书 {name}"), &acceptor).await?;
        let injury = s
            .call(
                "POST",
                "/api/injuries",
                &acceptor,
                Some(&key("injury")),
                json!({
                    "name": name, "id_number": id, "kind": "accident",
                    "decision_number": format!("赣市人社伤认〔{}〕演示{n:03}号", today.format("%Y")),
                    "decided_on": day(today, 60), "injured_on": day(today, 90),
                    "body_part": "左手", "sha256": scan
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
            json!({ "from": day(today, 90), "to": day(today, 50), "sha256": leave }),
        )
        .await?;
        clock.set(at(day(today, 30 - n as u64)));
        let claim = s
            .call(
                "POST",
                "/api/claims",
                employer,
                Some(&key("claim")),
                json!({ "injury": iid, "items": ["nursing_subsidy"] }),
            )
            .await?;
        let cid = claim["id"].as_str().context("claim id")?.to_owned();
        let step = |path: &'static str, token: &str, body: Value, k: &'static str| {
            let (cid, token, key) = (cid.clone(), token.to_owned(), key(k));
            let s = &s;
            async move {
                s.call(
                    "POST",
                    &format!("/api/claims/{cid}/{path}"),
                    &token,
                    Some(&key),
                    body,
                )
                .await
            }
        };
        if *until >= Until::Returned {
            step(
                "return",
                &acceptor,
                json!({ "problems": ["请补交住院病历和出院小结"] }),
                "return",
            )
            .await?;
        }
        if *until >= Until::Handling {
            let summary = s.scan(&format!("出院小结 {name}"), employer).await?;
            s.call(
                "PUT",
                &format!("/api/injuries/{iid}/materials/discharge_summary"),
                employer,
                Some(&key("summary")),
                json!({ "sha256": summary }),
            )
            .await?;
            step("resubmit", employer, Value::Null, "resubmit").await?;
            step("accept", &acceptor, Value::Null, "accept").await?;
        }
        if *until >= Until::FirstReview {
            step(
                "eligibility",
                &handler,
                json!({ "identity_confirmed": true, "contributions_confirmed": true, "recognition_consistent": true }),
                "eligibility",
            )
            .await?;
        }
        if *until >= Until::ReReview {
            step(
                "first-review",
                &first,
                json!({
                    "stays": [ { "admitted": day(today, 90), "discharged": day(today, 80 - n as u64) } ],
                    "opinion": "住院期间护理补助按日核定"
                }),
                "first",
            )
            .await?;
        }
        if *until >= Until::Entry {
            step(
                "re-review",
                &second,
                json!({ "opinion": "复核同意" }),
                "second",
            )
            .await?;
        }
        if *until >= Until::Approved {
            clock.set(at(day(today, 5)));
            match step("approve", &first, Value::Null, "approve").await {
                Ok(_) => {}
                Err(e)
                    if e.to_string()
                        .contains(swi_platform::ErrorCode::FormsUnavailable.as_str()) =>
                {
                    eprintln!(
                        "swi serve: the demo's last claim waits at entry: PDF forms need the CJK font (bash infra/fonts, then SWI_FONT)"
                    );
                    out.push(("entry", cid));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        out.push((*status, cid));
    }
    claimant(&s, &clock, today, employer, &finance, &acceptor, &handler).await?;
    billing_history(&s, &clock, today, &finance).await?;
    Ok(out)
}

/// The unit's premiums since its members joined: each later month billed by the monthly run on
/// its first day (Art. 16, 19), the tax bureau's receipts paying all but the last two months on
/// the 10th of the month after — so the month before last is overdue (Art. 21), and the unit's
/// bills page says since when.
async fn billing_history(
    s: &Seeder,
    clock: &SetClock,
    today: NaiveDate,
    finance: &str,
) -> Result<()> {
    use swi_rules::billing::{month_of, next_month};
    let operator = s.token("demo-operator", "operator", "360700", None)?;
    let this_month = month_of(today);
    let mut month = next_month(month_of(day(today, 150))).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut bills = Vec::new();
    while month < this_month {
        clock.set(at(month));
        let m = month.format("%Y-%m").to_string();
        s.call(
            "POST",
            "/api/bills/runs",
            &operator,
            Some(&format!("demo-billing-{m}")),
            json!({ "month": m }),
        )
        .await?;
        swi_premium_billing::run::work(
            &s.platform,
            month,
            std::time::Instant::now() + std::time::Duration::from_secs(60),
            &mut |_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.en))?;
        bills.push((month, swi_bills::bill::unit_bill_id(month, UNIT)));
        month = next_month(month).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let paid = bills.len().saturating_sub(2);
    for (n, (month, id)) in bills.iter().take(paid).enumerate() {
        let on = next_month(*month)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .with_day(10)
            .unwrap_or(*month);
        clock.set(at(on));
        s.pay_bill(id, &on.to_string(), finance, &format!("DEMO-M{n:04}"))
            .await?;
    }
    clock.set(at(today));
    // This year's re-rating from the work-injury side: the unit floats to 120 % from next
    // month, and gets its notice stating the old and the new rate (Art. 15).
    let officer = s.token("demo-officer-rates", "agency_officer", "360700", None)?;
    let file = s
        .upload(
            format!("统一社会信用代码,行业类别,浮动档次\n{UNIT},5,1.2\n").as_bytes(),
            &officer,
        )
        .await?;
    s.call(
        "POST",
        "/api/rates/reratings",
        &officer,
        Some("demo-rerating"),
        json!({
            "sha256": file, "effective_from": next_month(this_month).map_err(|e| anyhow::anyhow!("{e}"))?,
            "source": format!("赣州市章贡区工伤保险费率浮动决定（{}年）", today.year())
        }),
    )
    .await?;
    let report = swi_platform::jobs::Job::run(
        &swi_premium_billing::rates::ReratingApply,
        &s.platform,
        std::time::Instant::now() + std::time::Duration::from_secs(60),
    )
    .await;
    match report {
        Ok(_) => {}
        Err(e) if e.code == swi_platform::ErrorCode::FormsUnavailable => eprintln!(
            "swi serve: the demo's rate notice waits: PDF forms need the CJK font (bash infra/fonts, then SWI_FONT)"
        ),
        Err(e) => anyhow::bail!("demo seed: re-rating: {}: {}", e.code, e.en),
    }
    Ok(())
}

/// The insured person who files her own claim in the portal: covered, injured, her paid leave
/// over, her account linked to her ID number at the window; no claim yet.
async fn claimant(
    s: &Seeder,
    clock: &SetClock,
    today: NaiveDate,
    employer: &str,
    finance: &str,
    acceptor: &str,
    handler: &str,
) -> Result<()> {
    let (sub, name) = CLAIMANT;
    clock.set(at(day(today, 150)));
    let id = swi_rules::ids::ResidentId::with_check_character("36070219880808152")
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .expose()
        .to_owned();
    let e = s
        .call(
            "POST",
            &format!("/api/units/{UNIT}/persons"),
            employer,
            Some("demo-claimant-enrol"),
            json!({
                "name": name, "id_type": "resident_id", "id_number": id, "phone": "13907970158",
                "category": "employee", "declared_wage": "4800.00", "start": day(today, 150),
                "track": "female_55"
            }),
        )
        .await?;
    let eid = e["id"].as_str().context("enrolment id")?.to_owned();
    s.pay_first_bill(
        &eid,
        &day(today, 150).to_string(),
        finance,
        "demo-claimant-receipt",
    )
    .await?;
    let card = s.scan(&format!("居民身份证 {name}"), acceptor).await?;
    s.call(
        "POST",
        "/api/identities",
        acceptor,
        Some("demo-claimant-identity"),
        json!({ "sub": sub, "name": name, "id_number": id, "evidence_sha256": card }),
    )
    .await?;
    clock.set(at(day(today, 40)));
    let scan = s.scan(&format!("认定书 {name}"), acceptor).await?;
    let injury = s
        .call(
            "POST",
            "/api/injuries",
            acceptor,
            Some("demo-claimant-injury"),
            json!({
                "name": name, "id_number": id, "kind": "accident",
                "decision_number": format!("赣市人社伤认〔{}〕演示008号", today.format("%Y")),
                "decided_on": day(today, 45), "injured_on": day(today, 70),
                "body_part": "右足", "sha256": scan
            }),
        )
        .await?;
    let iid = injury["id"].as_str().context("injury id")?.to_owned();
    let leave = s.scan(&format!("停工留薪期确认 {name}"), handler).await?;
    s.call(
        "PUT",
        &format!("/api/injuries/{iid}/paid-leave"),
        handler,
        Some("demo-claimant-leave"),
        json!({ "from": day(today, 70), "to": day(today, 42), "sha256": leave }),
    )
    .await?;
    Ok(())
}
