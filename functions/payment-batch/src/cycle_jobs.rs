//! The cycle's scheduled jobs (Art. 37), one per step, each daily and idempotent: it does the
//! step's machine part and raises an alert, once, when the step's day has passed without it —
//! the supervisors see the alert (`GET /api/alerts`).
//!
//! - `cycle-summary`: opens the month's cycle for every county whose month before is closed
//!   (an alert when it is not); the summary late after the 5th.
//! - `cycle-request`: the payment request late after the 10th (or refused and not submitted
//!   again).
//! - `cycle-transfer`: the transfer late after the 15th.
//! - `cycle-periodic`: opens the month's periodic run from the transfer's day, so that the
//!   instalments are in the banks' hands before the 20th; late after the 20th.
//!
//! `payment-batch` (the daily batch) raises the alert of each line past its 10 working days
//! (Art. 38).

use std::time::Instant;

use chrono::NaiveDate;
use serde_json::json;
use swi_domain::payment::CycleStep;
use swi_platform::jobs::{self, Job, Report, Wake};
use swi_platform::mutation::audit_ops;
use swi_platform::{ApiError, Platform};
use swi_rules::billing::month_of;
use swi_store::StateError;

pub use crate::alerting::{Raise, alert};

use crate::cycle::{Cycle, load, may_not_open};
use crate::runs::{RunKind, counties, open as open_run};

/// Which step a job watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The summary (5th), and opening the month.
    Summary,
    /// The request (10th).
    Request,
    /// The transfer (15th).
    Transfer,
    /// The periodic benefits (20th), and opening their run.
    Periodic,
}

impl Watch {
    const fn name(self) -> &'static str {
        match self {
            Watch::Summary => "cycle-summary",
            Watch::Request => "cycle-request",
            Watch::Transfer => "cycle-transfer",
            Watch::Periodic => "cycle-periodic",
        }
    }

    /// The step's day in the cycle, and whether the cycle is past it.
    fn late(self, c: &Cycle, today: NaiveDate) -> Option<(NaiveDate, &'static str, &'static str)> {
        let (due, done, zh) = match self {
            Watch::Summary => (
                c.due.summary,
                c.step >= CycleStep::SummarySubmitted,
                "上月赔付资料",
            ),
            Watch::Request => (
                c.due.request,
                c.step >= CycleStep::RequestSubmitted && c.step != CycleStep::RequestRefused,
                "请款计划",
            ),
            Watch::Transfer => (
                c.due.transfer,
                c.step >= CycleStep::TransferRecorded,
                "拨付",
            ),
            Watch::Periodic => (
                c.due.periodic,
                c.step >= CycleStep::PeriodicPaid,
                "定期待遇发放",
            ),
        };
        (!done && today > due).then_some((due, zh, self.name()))
    }
}

/// Runs one cycle job for every county.
///
/// # Errors
/// The store is unavailable.
pub async fn watch(p: &Platform, w: Watch) -> Result<Report, ApiError> {
    let actor = jobs::job_actor(w.name(), "定时任务：月度资金周期");
    let today = p.clock.today();
    let month = month_of(today);
    let (mut opened, mut alerts, mut runs) = (0, 0, 0);
    for county in counties() {
        if w == Watch::Summary && load(p, county, month).await?.is_none() {
            match crate::cycle::open_change(p, county, month).await {
                Ok(Some((_, change))) => {
                    let mut ops = change.ops;
                    ops.extend(audit_ops(p, &actor, &change.audit).await?);
                    match p.state.transact(ops).await {
                        Ok(()) | Err(StateError::Conflict { .. }) => opened += 1,
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(None) => {}
                Err(e) if e.code == swi_platform::ErrorCode::PreviousCycleOpen => {
                    let why = may_not_open(p, county, month).await?.unwrap_or_default();
                    let r = Raise {
                        id: format!(
                            "payment_cycle_not_opened:{}:{}",
                            county.code(),
                            month.format("%Y-%m")
                        ),
                        kind: "payment_cycle_not_opened".into(),
                        county,
                        subject: format!("cycle#{}#{}", county.code(), month.format("%Y-%m")),
                        evidence: json!({ "month": month, "why": why }),
                        says: (
                            format!(
                                "{} {} 资金周期未能开启：{why}",
                                county.name(),
                                month.format("%Y年%m月")
                            ),
                            format!(
                                "the {} cycle of {} cannot open: the month before is not closed",
                                month.format("%Y-%m"),
                                county.code()
                            ),
                        ),
                    };
                    if alert(p, &actor, r).await? {
                        alerts += 1;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let Some((c, _)) = load(p, county, month).await? else {
            continue;
        };
        if w == Watch::Periodic
            && today >= c.due.transfer
            && c.step != CycleStep::Closed
            && open_run(p, &actor, county, RunKind::Periodic, month)
                .await?
                .1
        {
            runs += 1;
        }
        if let Some((due, zh, kind)) = w.late(&c, today) {
            let kind = format!("payment_{}_late", kind.replace('-', "_"));
            let r = Raise {
                id: format!("{kind}:{}:{}", county.code(), month.format("%Y-%m")),
                kind,
                county,
                subject: format!("cycle#{}#{}", county.code(), month.format("%Y-%m")),
                evidence: json!({ "month": month, "due": due, "step": c.step, "basis": "Art. 37" }),
                says: (
                    format!(
                        "{} {} 的{zh}应于 {due} 前完成，至今未完成（第三十七条）",
                        county.name(),
                        month.format("%Y年%m月")
                    ),
                    format!(
                        "{} {}: the step due by {due} is not done (Art. 37)",
                        county.code(),
                        month.format("%Y-%m")
                    ),
                ),
            };
            if alert(p, &actor, r).await? {
                alerts += 1;
            }
        }
    }
    Ok(Report {
        job: w.name(),
        done: opened + alerts + runs,
        pending: 0,
        errors: Vec::new(),
        summary: format!(
            "cycles opened {opened}, periodic runs opened {runs}, alerts raised {alerts}"
        ),
        detail: json!({ "opened": opened, "runs": runs, "alerts": alerts, "month": month }),
    })
}

macro_rules! cycle_job {
    ($name:ident, $watch:expr, $hour:expr, $describe:expr) => {
        /// A daily job of the cycle (see the module).
        pub struct $name;

        #[async_trait::async_trait]
        impl Job for $name {
            fn name(&self) -> &'static str {
                $watch.name()
            }

            fn describe(&self) -> &'static str {
                $describe
            }

            fn wake(&self) -> Wake {
                Wake::Daily { hour: $hour }
            }

            async fn run(&self, p: &Platform, _deadline: Instant) -> Result<Report, ApiError> {
                watch(p, $watch).await
            }
        }
    };
}

cycle_job!(
    CycleSummary,
    Watch::Summary,
    2,
    "opens each county's monthly fund cycle once the month before is closed; alerts when the payouts' summary is late after the 5th (Art. 37)"
);
cycle_job!(
    CycleRequest,
    Watch::Request,
    2,
    "alerts when a county's payment request is late after the 10th, or refused and not submitted again (Art. 37)"
);
cycle_job!(
    CycleTransfer,
    Watch::Transfer,
    2,
    "alerts when the agency's transfer to a county's contractor is late after the 15th (Art. 37)"
);
cycle_job!(
    CyclePeriodic,
    Watch::Periodic,
    2,
    "opens each county's run of the month's periodic benefits from the transfer's day; alerts when they are not paid after the 20th (Art. 37)"
);
