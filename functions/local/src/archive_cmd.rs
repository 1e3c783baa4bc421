//! The archive from the command line: `swi run archive --month YYYY-MM` opens the month's
//! filing of every county whose archive has settings (the scheduled `archive-open` does after
//! each month), then files it — volumes, hashes, sheets, packages, checks — showing each
//! county's progress (a line rewritten on a terminal, a line every few seconds otherwise);
//! killed, the next run goes on where it was. `swi archive export` hands a county's volumes over
//! as complete bags; `swi archive check` checks a handover as the receiving side does, and
//! `swi archive import` takes it in.

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
        Phase::Retain => "setting retention",
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
            let (steps, done) = filing::work(&p, &county, month, until)
                .await
                .map_err(|e| anyhow!("{county} {month}: {}: {}", e.code, e.en))?;
            if steps == 0 && !done {
                // Another run holds it: wait for it rather than spin.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
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

/// `swi archive export --county --out`.
///
/// # Errors
/// The directory is not empty; the store; a volume that cannot be read.
pub async fn export(
    clock: Arc<dyn Clock>,
    params: Arc<ParamSet>,
    county: &str,
    out: &std::path::Path,
) -> Result<()> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        anyhow::bail!("{} is not empty", out.display());
    }
    let p = crate::serve_cmd::job_platform(clock, params).await?;
    let register = swi_archiving::handover::export(&p, county, out)
        .await
        .map_err(|e| anyhow!("{}: {}", e.code, e.en))?;
    for v in &register.volumes {
        println!(
            "{}  {} items, {} documents, package {}  {}",
            v.archive_number,
            v.items,
            v.documents,
            &v.package[..16],
            if v.passed {
                "checks passed"
            } else {
                "CHECKS FAILED"
            }
        );
    }
    println!(
        "handed over: {} volumes of {county} to {} (register: handover-register.csv)",
        register.volumes.len(),
        out.display()
    );
    if register.volumes.iter().any(|v| !v.passed) {
        anyhow::bail!("some volumes failed their checks: see reports/");
    }
    Ok(())
}

/// `swi archive check DIR`.
///
/// # Errors
/// No register; a volume failing a row.
pub async fn check(dir: &std::path::Path) -> Result<()> {
    let register = swi_archiving::handover::read_register(dir).map_err(|e| anyhow!("{}", e.en))?;
    let mut failed = 0;
    for v in &register.volumes {
        let report = swi_archiving::handover::check_dir(
            &swi_archiving::handover::volume_dir(dir, &v.id),
            Some(&v.package),
            &dir.join("audit"),
        )
        .await
        .map_err(|e| anyhow!("{}", e.en))?;
        if report.passed() {
            println!(
                "{}  all {} rows passed",
                v.archive_number,
                report.rows.len()
            );
        } else {
            failed += 1;
            for row in report.failed() {
                println!(
                    "{}  FAILED {} ({}): {}",
                    v.archive_number,
                    row.name,
                    row.property.label(),
                    row.detail
                );
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} volumes failed", register.volumes.len());
    }
    Ok(())
}

/// `swi archive import DIR`.
///
/// # Errors
/// No register; the store; a volume that fails its checks, as handed over or once taken in.
pub async fn import(
    clock: Arc<dyn Clock>,
    params: Arc<ParamSet>,
    dir: &std::path::Path,
) -> Result<()> {
    let p = crate::serve_cmd::job_platform(clock, params).await?;
    let actor = swi_platform::jobs::job_actor("archive-import", "命令行：移交接收");
    let received = swi_archiving::import::import(&p, dir, &actor)
        .await
        .map_err(|e| anyhow!("{}: {}", e.code, e.en))?;
    let mut failed = 0;
    for r in &received {
        let what = if r.imported {
            "taken in"
        } else {
            "not taken in"
        };
        if r.report.passed() {
            println!("{}  {what}, all {} rows passed", r.id, r.report.rows.len());
        } else {
            failed += 1;
            for row in r.report.failed() {
                println!("{}  {what}, FAILED {}: {}", r.id, row.name, row.detail);
            }
        }
    }
    println!(
        "handover {}: {} volumes, {} taken in by this run",
        dir.display(),
        received.len(),
        received.iter().filter(|r| r.imported).count()
    );
    if failed > 0 {
        anyhow::bail!("{failed} of {} volumes failed", received.len());
    }
    Ok(())
}
