//! `swi run billing --month YYYY-MM`: opens a month's billing run (once) and works it to the end
//! on the configured store, showing its progress — a line redrawn in place on a terminal
//! (persons billed, rate, time left), plain lines every five seconds otherwise.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use swi_platform::clock::Clock;
use swi_premium_billing::run::{self, Run, RunStatus};
use swi_rules::ParamSet;

/// What the progress shows: persons, their rate, and the time left from the share of units done.
fn line(run: &Run, started: Instant, persons_at_start: u64) -> String {
    let secs = started.elapsed().as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
    let rate = (run.persons - persons_at_start) as f64 / secs;
    let units = run.units_done.min(run.units_total);
    #[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
    let left = if units > 0 && run.units_total > units {
        let share = units as f64 / run.units_total as f64;
        format!("{:.0} s", secs / share * (1.0 - share))
    } else {
        "—".to_owned()
    };
    format!(
        "billing {}: {} persons, {} bills, units {}/{}, {:.0} persons/s, left {}",
        run.month.format("%Y-%m"),
        run.persons,
        run.bills,
        units,
        run.units_total,
        rate,
        left
    )
}

/// Runs `swi run billing --month`.
///
/// # Errors
/// A bad month, a month that cannot be billed, the store unavailable.
pub async fn run_billing(
    clock: Arc<dyn Clock>,
    params: Arc<ParamSet>,
    month: &str,
    seconds: Option<u64>,
) -> Result<()> {
    let m = swi_premium_billing::routes_runs::month_param(month, "month")
        .map_err(|e| anyhow!("{}", e.en))?;
    let p = crate::serve_cmd::job_platform(clock, params).await?;
    let actor = swi_platform::jobs::job_actor(run::NAME, "命令行：月度应缴额核定");
    let (opened, fresh) = run::open(&p, &actor, m)
        .await
        .map_err(|e| anyhow!("{}: {}", e.code, e.en))?;
    if opened.status == RunStatus::Done {
        println!(
            "billing {}: billed before ({} persons, {} bills, {} yuan); nothing written",
            m.format("%Y-%m"),
            opened.persons,
            opened.bills,
            opened.amount
        );
        return Ok(());
    }
    if !fresh {
        println!(
            "billing {}: resuming from {} persons billed",
            m.format("%Y-%m"),
            opened.persons
        );
    }
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let at_start = opened.persons;
    let terminal = std::io::stderr().is_terminal();
    let mut last_line: Option<Instant> = None;
    let mut show = move |run: &Run| {
        let done = run.status == RunStatus::Done;
        if terminal {
            eprint!("\r{}\x1b[K", line(run, started, at_start));
            if done {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else if done || last_line.is_none_or(|l| l.elapsed() >= Duration::from_secs(5)) {
            last_line = Some(Instant::now());
            eprintln!("{}", line(run, started, at_start));
        }
    };
    loop {
        let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let worked = run::work(&p, m, until, &mut show)
            .await
            .map_err(|e| anyhow!("{}: {}", e.code, e.en))?;
        if worked.finished {
            break;
        }
        if worked.contended {
            println!("billing {}: another run is billing it", m.format("%Y-%m"));
            return Ok(());
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            println!(
                "billing {}: stopped at the deadline; `swi run billing --month {}` goes on",
                m.format("%Y-%m"),
                m.format("%Y-%m")
            );
            return Ok(());
        }
    }
    let (done, _) = run::load_run(&p, m)
        .await
        .map_err(|e| anyhow!("{}", e.en))?
        .ok_or_else(|| anyhow!("the run is missing"))?;
    println!(
        "billing {}: done — {} persons, {} bills, {} yuan, {} exceptions, {} transactions",
        m.format("%Y-%m"),
        done.persons,
        done.bills,
        done.amount,
        done.exceptions.len() as u64 + done.exceptions_more,
        done.transactions
    );
    Ok(())
}
