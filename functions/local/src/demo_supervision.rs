//! The supervision part of the demo (Art. 42-44): the county's supervisor, the year's
//! supervision plan, and a risk to work — the acceptor of a claim trying to handle it too, which
//! the domain refuses and the risk rules raise as an alert for the supervisor's queue.

use anyhow::{Result, ensure};
use chrono::Datelike;
use serde_json::json;

use crate::seeder::Seeder;

/// The county's supervisor (稽核内控).
pub const SUPERVISOR: &str = "demo-supervisor-360702";

/// Seeds the plan and the refused second step, then runs the risk rules over what was done (as
/// the `swi serve` worker's watch does once its lag has passed).
///
/// # Errors
/// A request of the seed fails, or the refusal is not refused.
pub async fn seed(s: &Seeder, claims: &crate::demo_claims::Claims) -> Result<()> {
    let today = s.platform.clock.today();
    let year = today.year();
    let supervisor = s.token(SUPERVISOR, "supervisor", "360702", None)?;
    s.call(
        "PUT",
        &format!("/api/alerts/plans/360702/{year}"),
        &supervisor,
        Some("demo-supervision-plan"),
        json!({
            "aims": "按季度开展参保监督、待遇监督和业务操作内部监督，对异常业务进行风险提示，建立台账",
            "checks": [
                { "title": "工伤保险参保单位与补充工伤保险参保单位比对", "area": "enrolment",
                  "rules": ["unit_not_enrolled", "enrolment_overlap"], "due": format!("{year}-06-30") },
                { "title": "医疗费用票据重复报销与非协议机构就医专项检查", "area": "benefits",
                  "rules": ["invoice_reused", "fees_out_of_line", "non_agreement_treatment"], "due": format!("{year}-09-30") },
                { "title": "审核环节岗位分离与办理时间检查", "area": "internal",
                  "rules": ["duties_refused", "steps_too_quick", "step_out_of_hours"], "due": format!("{year}-12-31") }
            ]
        }),
    )
    .await?;
    if let Some((_, id)) = claims.iter().find(|(status, _)| *status == "handling") {
        let twice = s.token("demo-acceptor-360702", "handler", "360702", None)?;
        let status = s
            .status(
                "POST",
                &format!("/api/claims/{id}/eligibility"),
                &twice,
                Some("demo-second-step"),
                json!({ "identity_confirmed": true, "contributions_confirmed": true, "recognition_consistent": true }),
            )
            .await?;
        ensure!(
            status == 403,
            "the demo's second step was answered {status}, not refused"
        );
    }
    swi_supervision::watch::walk(
        &s.platform,
        swi_supervision::watch::WATCH,
        today,
        0,
        std::time::Instant::now() + std::time::Duration::from_secs(30),
        &swi_supervision::watch::Rules(swi_supervision::watch::WATCH),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.en))?;
    Ok(())
}
