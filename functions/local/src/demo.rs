//! `swi serve --demo`: seeds a small, realistic data set through the API itself (so that every
//! record has its audit events), idempotently: running it again changes nothing.

use anyhow::{Context, Result};
use axum::Router;
use chrono::Datelike;
use serde_json::{Value, json};
use swi_platform::Platform;

use crate::seeder::Seeder;

/// The demo's first unit.
pub const UNIT: &str = "91360702MA35G6QL6T";

/// The county's archivist (档案管理).
pub const ARCHIVIST: &str = "demo-archivist-360702";

/// What the demo holds, for the log's "where to look".
#[derive(Debug, Default)]
pub struct Seeded {
    /// The queued declaration's id.
    pub declaration: Option<String>,
    /// The project's id, and whether its certificate was issued.
    pub project: Option<(String, bool)>,
    /// A claim at each step of the review: (status, id).
    pub claims: crate::demo_claims::Claims,
    /// Where this month's payment request stands (submitted, or why not).
    pub payments: &'static str,
}

/// Seeds the demo data (once: a store that has the demo unit is left as it is) and writes
/// ready-made tokens to `tokens_file`.
///
/// # Errors
/// A request of the seed fails.
pub async fn seed(
    router: Router,
    platform: Platform,
    tokens_file: &std::path::Path,
) -> Result<Seeded> {
    let s = Seeder::new(router, platform);
    let clerk = s.token("demo-acceptor-360702", "acceptor", "360702", None)?;
    let employer = s.token("demo-employer", "employer", "360702", Some(UNIT))?;
    let citizen = s.token("demo-citizen", "citizen", "360703", None)?;
    let supervisor = s.token("demo-supervisor", "supervisor", "360700", None)?;
    let seeded = if swi_registry::unit::load_unit(&s.platform, UNIT)
        .await
        .is_ok()
    {
        // Seeded before (idempotency records last a day; the data itself stays).
        Seeded::default()
    } else {
        s.data(&clerk, &employer, &citizen).await?
    };
    let mut tokens = vec![
        ("acceptor_360702".to_owned(), clerk),
        (format!("employer_{UNIT}"), employer),
        ("citizen_360703".to_owned(), citizen),
        ("supervisor_city".to_owned(), supervisor),
    ];
    // The claim steps' clerks, one person per step (Art. 5), and the claiming unit's clerk.
    for (sub, role) in &crate::demo_claims::CLERKS[1..] {
        tokens.push((
            format!("{role}_360702"),
            s.token(sub, role, "360702", None)?,
        ));
    }
    tokens.push((
        format!("employer_{}", crate::demo_claims::UNIT),
        s.token(
            "demo-employer-claims",
            "employer",
            "360702",
            Some(crate::demo_claims::UNIT),
        )?,
    ));
    write_tokens(tokens_file, &tokens)?;
    Ok(seeded)
}

impl Seeder {
    #[allow(clippy::too_many_lines, reason = "one story, told in order")]
    async fn data(&self, clerk: &str, employer: &str, citizen: &str) -> Result<Seeded> {
        let s = self;
        let (clerk, employer, citizen) =
            (clerk.to_owned(), employer.to_owned(), citizen.to_owned());

        let evidence = s.scan("工伤保险参保登记证明", &clerk).await?;
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
        // Billed for its first month when enrolled; the tax bureau's receipt starts the cover.
        let paid_on = now.format("%Y-%m-%d").to_string();
        let id = employee["id"].as_str().context("enrolment id")?;
        s.pay_first_bill(id, &paid_on, &clerk, "DEMO-T0001").await?;
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
            let sha = s.scan(&format!("{id} {m}"), &employer).await?;
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
        s.pay_first_bill(&id, &paid_on, &clerk, "DEMO-T0002")
            .await?;
        // The citizen's account is verified at the window before she enrols herself (Art. 6, 16).
        let id_scan = s.scan("居民身份证 卫十二", &clerk).await?;
        s.call(
        "POST",
        "/api/identities",
        &clerk,
        Some("demo-identity-0001"),
        json!({ "sub": "demo-citizen", "name": "卫十二", "id_number": "360703197211152049", "evidence_sha256": id_scan }),
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

        // This month's declaration of one joiner, waiting in the county's review queue (Art. 18).
        let csv = format!(
            "变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n增,钱十三,{},employee,4800.00,{today},13907970113\n",
            born(35, "021")?
        );
        let file = s.upload(csv.as_bytes(), &employer).await?;
        let declared = s
            .call(
                "POST",
                &format!("/api/units/{UNIT}/declarations"),
                &employer,
                Some("demo-declaration-0001"),
                json!({ "month": today.format("%Y-%m").to_string(), "sha256": file }),
            )
            .await?;
        let declaration = declared["id"].as_str().map(str::to_owned);

        // A construction project enrolled as a whole and paid: its certificate is issued (Art. 11-12).
        let end = today
            .checked_add_days(chrono::Days::new(364))
            .unwrap_or(today);
        let project = s
        .call(
            "POST",
            &format!("/api/units/{UNIT}/projects"),
            &employer,
            Some("demo-project-0001"),
            json!({
                "name": "章贡区示范安置房一期工程", "work_injury_project_no": "GSXM-360702-2025-0001",
                "cost": "12000000.00", "cost_kind": "total", "start": today, "end": end
            }),
        )
        .await?;
        let pid = project["id"].as_str().context("project id")?.to_owned();
        // Its premium, billed with its enrolment, paid at the tax bureau the same day: the
        // receipt covers the project and issues its certificate (Art. 11).
        let certified = match s
            .pay_bill(&format!("b-{pid}"), &paid_on, &clerk, "DEMO-P0001")
            .await
        {
            Ok(_) => true,
            Err(e)
                if e.to_string()
                    .contains(swi_platform::ErrorCode::FormsUnavailable.as_str()) =>
            {
                eprintln!(
                    "swi serve: the demo project stays unpaid: PDF forms need the CJK font (bash infra/fonts, then SWI_FONT)"
                );
                false
            }
            Err(e) => return Err(e),
        };
        let claims = crate::demo_claims::seed(&s.platform).await?;
        let payments = crate::demo_payments::seed(&s.platform).await?;
        crate::demo_supervision::seed(s, &claims).await?;
        // The county's archive: its fonds and the names every cover carries (Art. 46); each
        // month is filed after it ends by the scheduled job, or by the archivist on demand.
        let archivist = s.token(ARCHIVIST, "archivist", "360702", None)?;
        s.call(
            "PUT",
            "/api/archive/settings/360702",
            &archivist,
            Some("demo-archive-settings"),
            json!({
                "fonds": "J001", "archive_house_number": "136070",
                "filing_unit": "章贡区补充工伤保险承办机构", "classification_level": "内部",
                "compiled_by": "章贡区档案管理员"
            }),
        )
        .await?;
        Ok(Seeded {
            declaration,
            project: Some((pid, certified)),
            claims,
            payments,
        })
    }
}

fn write_tokens(tokens_file: &std::path::Path, tokens: &[(String, String)]) -> Result<()> {
    let mut text =
        "# swi demo tokens (valid 12 hours): use as `Authorization: Bearer <token>`\n".to_owned();
    for (name, token) in tokens {
        text.push_str(&format!("{name}={token}\n"));
    }
    write_private(tokens_file, &text)
        .with_context(|| format!("cannot write {}", tokens_file.display()))?;
    Ok(())
}

/// Writes credentials (tokens, passwords): readable by their owner only (mode 0600), from the
/// moment the file exists.
///
/// # Errors
/// The file cannot be written.
pub fn write_private(tokens_file: &std::path::Path, text: &str) -> std::io::Result<()> {
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
    write()
}
