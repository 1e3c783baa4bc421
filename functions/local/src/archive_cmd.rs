//! `swi run archive --month YYYY-MM`: opens the month's filing of every county whose archive has
//! settings (the scheduled `archive-open` does after each month), then files it — volumes,
//! hashes, sheets, packages, checks — showing each county's progress (a line rewritten on a
//! terminal, a line every few seconds otherwise). Killed, the next run goes on where it was.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use swi_archiving::filing::{self, Filing, Phase};
use swi_platform::clock::Clock;
use swi_rules::ParamSet;

fn line(f: &Filing) -> String {
    let phase = match f.phase {
        Phase::Collect => "collecting",
        Phase::Hash => "hashing",
        Phase::Pack => "packing",
        Phase::Done => "filed",
    };
    format!(
        "archive {} {}: {phase} — {} registrations, {} volumes, {} documents hashed, {} volumes packed, {} checked",
        f.county,
        f.month,
        f.registrations,
        f.volumes.len(),
        f.hashed,
        f.packed,
        f.checked
    )
}

/// `swi run archive --month`.
///
/// # Errors
/// A bad or unfinished month; the store; a filing that cannot go on (it says why).
pub async fn run_archive(
    clock: Arc<dyn Clock>,
    params: Arc<ParamSet>,
    month: &str,
    seconds: Option<u64>,
) -> Result<()> {
    let p = crate::serve_cmd::job_platform(clock, params).await?;
    let actor = swi_platform::jobs::job_actor(filing::NAME, "命令行：月度归档");
    let opened = filing::open_month(&p, month, &actor)
        .await
        .map_err(|e| anyhow!("{}: {}", e.code, e.en))?;
    println!(
        "archive {month}: opened for {}",
        if opened.is_empty() {
            "no county (none with settings, or opened before)".to_owned()
        } else {
            opened.join(", ")
        }
    );
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let terminal = std::io::stderr().is_terminal();
    let counties = swi_rules::ids::GANZHOU_COUNTIES
        .iter()
        .map(|(c, _)| c.to_string())
        .chain(std::iter::once(swi_domain::access::CITY_CODE.to_owned()));
    for county in counties {
        if filing::load_filing(&p, &county, month)
            .await
            .map_err(|e| anyhow!("{}", e.en))?
            .is_none()
        {
            continue;
        }
        let mut last = Instant::now();
        loop {
            let step_until = Instant::now() + Duration::from_secs(2);
            let until = deadline.map_or(step_until, |d| d.min(step_until));
            let (_, done) = filing::work(&p, &county, month, until)
                .await
                .map_err(|e| anyhow!("{county} {month}: {}: {}", e.code, e.en))?;
            if let Some((f, _)) = filing::load_filing(&p, &county, month)
                .await
                .map_err(|e| anyhow!("{}", e.en))?
            {
                if terminal {
                    eprint!("\r{}\x1b[K", line(&f));
                    if done {
                        eprintln!();
                    }
                    let _ = std::io::stderr().flush();
                } else if done || last.elapsed() >= Duration::from_secs(5) {
                    last = Instant::now();
                    eprintln!("{}", line(&f));
                }
            }
            if done {
                break;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                println!(
                    "archive {month}: stopped at the deadline; `swi run archive --month {month}` goes on"
                );
                return Ok(());
            }
        }
    }
    Ok(())
}
