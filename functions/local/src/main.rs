//! `swi`: the local host of every step of the supplementary work-injury insurance system.
//!
//! Today it answers questions to the rules (`swi quote`, JSON lines in and out) and lists the
//! parameters in force (`swi params`). Later steps mount here on the embedded store.

mod params_cmd;

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::{Parser, Subcommand};
use swi_rules::ParamSet;

/// Ganzhou supplementary work-injury insurance (赣州市补充工伤保险).
#[derive(Parser)]
#[command(name = "swi", version, about)]
struct Cli {
    /// A parameter file (TOML, the schema of shared/rules/params) merged over the built-in set;
    /// the city sets pending figures and corrects others this way. Also from SWI_PARAMS.
    #[arg(long, global = true, env = "SWI_PARAMS", value_name = "FILE")]
    params: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer JSON-line questions to the rules from standard input, one answer line each.
    Quote {
        /// The date (China) used where a request omits one; defaults to today in China.
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
    },
    /// List every parameter in force on a date, with value, source and status.
    Params {
        /// The date (China); defaults to today in China.
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<NaiveDate>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Today's civil date in China (UTC+8): the only place `swi` reads the clock.
fn china_today() -> NaiveDate {
    (Utc::now() + chrono::TimeDelta::hours(8)).date_naive()
}

fn load_params(path: Option<&PathBuf>) -> Result<ParamSet> {
    let builtin = ParamSet::builtin().context("the built-in parameter set is broken")?;
    let Some(path) = path else {
        return Ok(builtin.clone());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read parameter file {}", path.display()))?;
    builtin
        .merged(&path.display().to_string(), &text)
        .with_context(|| format!("parameter file {} refused", path.display()))
}

fn main() -> Result<()> {
    match run() {
        Err(e)
            if e.chain()
                .filter_map(|c| c.downcast_ref::<io::Error>())
                .any(|io| io.kind() == io::ErrorKind::BrokenPipe) =>
        {
            // The reader went away (`swi params | head`): not an error of ours.
            Ok(())
        }
        other => other,
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let params = load_params(cli.params.as_ref())?;
    match cli.command {
        Command::Quote { today } => {
            let quoter = swi_quote::Quoter::new(&params, today.unwrap_or_else(china_today));
            if io::stdin().is_terminal() {
                eprintln!("swi quote: reading JSON lines from standard input (Ctrl-D to end)");
            }
            let stdin = io::stdin().lock();
            let stdout = io::stdout().lock();
            swi_quote::run(&quoter, stdin, stdout).context("cannot read standard input")?;
        }
        Command::Params { on, json } => {
            let on = on.unwrap_or_else(china_today);
            let source = cli.params.as_ref().map(|p| p.display().to_string());
            params_cmd::print(
                &params,
                on,
                json,
                source.as_deref(),
                &mut io::stdout().lock(),
            )?;
        }
    }
    Ok(())
}
