//! `swi`: the local host of every step of the supplementary work-injury insurance system.
//!
//! It serves every step's API (`swi serve`), runs the jobs (`swi run`), answers questions to the
//! rules (`swi quote`, JSON lines in and out), lists the parameters in force (`swi params`), and
//! gives operators the stores (`swi doc`, `swi store`) on the backend the environment names.
//! `--today`/`SWI_TODAY` sets the business date of every command (tests run on a fixed day).

mod archive_cmd;
mod billing_cmd;
mod demo;
mod demo_accounts;
mod demo_claims;
mod demo_payments;
mod demo_supervision;
mod params_cmd;
mod seeder;
mod serve_cmd;
mod steps;
mod store_cmd;
mod user_cmd;

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
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
    /// The business date (China) of the command: what "today" means to `serve`, `run`, `quote`
    /// and `params`; the time of day runs as usual. Defaults to today in China. Also from
    /// SWI_TODAY.
    #[arg(long, global = true, env = "SWI_TODAY", value_name = "YYYY-MM-DD")]
    today: Option<NaiveDate>,
    /// `quote` and `params`: also the values the city recorded and confirmed through the API
    /// (`/api/parameters/city-values`), read from the configured store. Also from
    /// SWI_CITY_PARAMS=1.
    #[arg(long, global = true, env = "SWI_CITY_PARAMS")]
    store: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer JSON-line questions to the rules from standard input, one answer line each
    /// (`--today` is the date used where a request omits one).
    Quote,
    /// List every parameter in force on a date, with value, source and status.
    Params {
        /// The date (China); defaults to today in China.
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<NaiveDate>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Scanned documents, named by their SHA-256 (store chosen by SWI_STORE and friends).
    Doc {
        #[command(subcommand)]
        command: DocCommand,
    },
    /// The state and document stores.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// The audit ledger: every change's event, chained by hash per case.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The jobs' dead letters (AWS): work again what could not be delivered.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// The archive (Art. 45-47): hand a county's volumes over, check a handover.
    Archive {
        #[command(subcommand)]
        command: ArchiveCommand,
    },
    /// Serve every step's API locally (same paths as in AWS) on the configured store.
    Serve {
        /// Address to listen on (port 0: one the system picks, named when serving starts).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Seed demo data (a unit and its staff, a self-enrolled worker) and write ready-made
        /// tokens to demo-tokens.txt in the data directory.
        #[arg(long)]
        demo: bool,
    },
    /// Run a job now, on the configured store (in AWS the JobsFunction runs them, woken by
    /// their pointers and the schedules; `swi serve` runs them by itself). Without a job, lists
    /// the jobs. The business date is the global --today.
    Run {
        /// The job: unit-cancel, declaration-apply, retirement-check (`swi run` lists them).
        job: Option<String>,
        /// Stop starting new transactions after this many seconds (default: run until done).
        #[arg(long, value_name = "SECONDS")]
        seconds: Option<u64>,
        /// For `billing`: the month to bill, `YYYY-MM` (opened once; run again, it writes nothing).
        /// For `archive`: the month to file, ended, for every county with archive settings.
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
    },
    /// Local accounts of the portal (the embedded deployment's sign-in).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Mint a bearer token for `swi serve`, signed with the local key of the data directory.
    Token {
        /// Role: citizen, employer, acceptor, handler, first_reviewer, re_reviewer, finance,
        /// agency_officer, supervisor, archivist, operator.
        #[arg(long)]
        role: String,
        /// County code (e.g. 360702), or 360700 for the city.
        #[arg(long)]
        county: String,
        /// Display name.
        #[arg(long, default_value = "本地用户")]
        name: String,
        /// Employers: the unit's unified social credit code.
        #[arg(long)]
        unit: Option<String>,
        /// Subject: the user's own stable id. Required, so that two clerks never share one
        /// identity (separation of duties, Art. 5, tells them apart by it).
        #[arg(long)]
        sub: String,
        /// Hours until it expires (1-12).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(i64).range(1..=12))]
        hours: i64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a local account of the portal (embedded sign-in); the password is read from
    /// standard input (10-128 characters), never given on the command line.
    Add {
        /// The name to sign in with (3-32 of a-z 0-9 . _ -).
        #[arg(long)]
        username: String,
        /// Role: citizen, employer, acceptor, handler, first_reviewer, re_reviewer, finance,
        /// agency_officer, supervisor, archivist, operator.
        #[arg(long)]
        role: String,
        /// County code (e.g. 360702), or 360700 for the city.
        #[arg(long)]
        county: String,
        /// Employers: the unit's unified social credit code.
        #[arg(long)]
        unit: Option<String>,
        /// Display name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum DocCommand {
    /// Upload a file (`-` for standard input) and print its SHA-256: a request of the account
    /// it is uploaded for files it by that hash within 7 days.
    Put {
        /// The file.
        file: PathBuf,
        /// The account (`sub`) the file is uploaded for: only that account's requests may name
        /// it, as with an upload of their own.
        #[arg(long = "for", value_name = "SUB")]
        for_sub: String,
    },
    /// Write a document, verified against its hash, to standard output or a file.
    Get {
        /// The document's SHA-256 (64 hex digits).
        hash: String,
        /// Write to this file instead (it appears only if every byte checks out).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Re-hash every document; exit non-zero if any does not match its name.
    Verify,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Check that the state and document stores answer, and that the audit ledger is intact.
    Health,
    /// Copy the embedded store whole into a new directory, consistently, while `swi serve` goes
    /// on (in AWS: the table's point-in-time recovery and the bucket's versions; README).
    Backup {
        /// A new (or empty) directory.
        dir: PathBuf,
    },
    /// Put a backup into the data directory (`SWI_DATA_DIR`, which must hold no store yet),
    /// every document checked against its name, then verify the restored store's documents
    /// and audit ledger.
    Restore {
        /// The backup's directory (with manifest.json).
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Work again every message of the jobs' dead-letter queue on the configured store (a
    /// schedule's job, an object the bucket reported, a stream batch as the sweep), deleting
    /// each one worked; exit non-zero if any is left, with why.
    Replay {
        /// The queue's URL (the stack's output `JobsDeadLetterQueueUrl`); default
        /// `SWI_DEAD_LETTERS`.
        #[arg(long)]
        queue: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every daily anchor and every case's chain of audit events against them; exit
    /// non-zero if any is broken.
    Verify,
}

#[derive(Subcommand)]
enum ArchiveCommand {
    /// Export a county's filed volumes as complete BagIt bags, with the register (移交清册),
    /// each volume's four-check report and its cases' audit chains (Art. 47).
    Export {
        /// County code (or 360700, the city's own archive).
        #[arg(long)]
        county: String,
        /// An empty directory to write to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the four checks on a handover directory, as the receiving side does; exit non-zero
    /// if any volume fails a row.
    Check {
        /// The handover directory (with handover.json).
        dir: PathBuf,
    },
    /// Take a handover in (移交接收): each volume checked as handed over, its documents,
    /// package, audit chains and items stored, then checked again on this store; run again, it
    /// takes nothing twice. Exit non-zero if any volume fails.
    Import {
        /// The handover directory (with handover.json).
        dir: PathBuf,
    },
}

fn load_params(path: Option<&PathBuf>) -> Result<ParamSet> {
    swi_platform::params::load(path.map(PathBuf::as_path)).map_err(anyhow::Error::msg)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e)
            if e.chain()
                .filter_map(|c| c.downcast_ref::<io::Error>())
                .any(|io| io.kind() == io::ErrorKind::BrokenPipe) =>
        {
            // The reader went away (`swi params | head`): not an error of ours.
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("swi: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let mut params = load_params(cli.params.as_ref())?;
    if cli.store && matches!(cli.command, Command::Quote | Command::Params { .. }) {
        params = runtime()?.block_on(async {
            let stores = store_cmd::open().await?;
            swi_platform::city::in_force(&*stores.state, &params)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.en))
        })?;
    }
    // The only place `swi` reads the clock.
    let clock = swi_platform::clock::from_env(cli.today).map_err(anyhow::Error::msg)?;
    let today = clock.today();
    match cli.command {
        Command::Quote => {
            let quoter = swi_quote::Quoter::new(&params, today);
            if io::stdin().is_terminal() {
                eprintln!("swi quote: reading JSON lines from standard input (Ctrl-D to end)");
            }
            let stdin = io::stdin().lock();
            let stdout = io::stdout().lock();
            swi_quote::run(&quoter, stdin, stdout).context("cannot read standard input")?;
        }
        Command::Params { on, json } => {
            let on = on.unwrap_or(today);
            let source = cli.params.as_ref().map(|p| p.display().to_string());
            params_cmd::print(
                &params,
                on,
                json,
                source.as_deref(),
                &mut io::stdout().lock(),
            )?;
        }
        Command::Doc { command } => runtime()?.block_on(async {
            let stores = store_cmd::open().await?;
            match command {
                DocCommand::Put { file, for_sub } => store_cmd::put(&stores, &file, &for_sub).await,
                DocCommand::Get { hash, output } => {
                    store_cmd::get(&stores, &hash, output.as_ref()).await
                }
                DocCommand::Verify => store_cmd::verify(&stores).await,
            }
        })?,
        Command::Store {
            command: StoreCommand::Health,
        } => runtime()?.block_on(async {
            let stores = store_cmd::open().await?;
            store_cmd::health(&stores).await?;
            let report = store_cmd::audit_verify(&stores, today).await?;
            store_cmd::print_audit(&report)
        })?,
        Command::Store {
            command: StoreCommand::Backup { dir },
        } => {
            let data = store_cmd::embedded_dir()?;
            let m = swi_store_embedded::backup::backup(&data, &dir)?;
            println!(
                "backup of {} in {}: state {} bytes (sha256 {}), {} document files ({} bytes), keys {}; taken at {}",
                data.display(),
                dir.display(),
                m.state_bytes,
                m.state_sha256,
                m.documents,
                m.document_bytes,
                m.keys.join(" "),
                m.taken_at
            );
        }
        Command::Store {
            command: StoreCommand::Restore { dir },
        } => {
            let data = store_cmd::embedded_dir()?;
            let m = swi_store_embedded::backup::restore(&dir, &data)?;
            println!(
                "restored the backup taken at {} into {}: {} document files, each true to its name",
                m.taken_at,
                data.display(),
                m.documents
            );
            runtime()?.block_on(async {
                let stores = store_cmd::open().await?;
                store_cmd::verify(&stores).await?;
                let report = store_cmd::audit_verify(&stores, today).await?;
                store_cmd::print_audit(&report)
            })?;
        }
        Command::Jobs {
            command: JobsCommand::Replay { queue },
        } => {
            let queue = queue
                .or_else(|| std::env::var("SWI_DEAD_LETTERS").ok())
                .ok_or_else(|| {
                    anyhow::anyhow!("name the queue: --queue URL or SWI_DEAD_LETTERS")
                })?;
            runtime()?.block_on(serve_cmd::replay(
                clock,
                std::sync::Arc::new(params),
                &queue,
            ))?;
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => runtime()?.block_on(async {
            let stores = store_cmd::open().await?;
            let report = store_cmd::audit_verify(&stores, today).await?;
            store_cmd::print_audit(&report)
        })?,
        Command::Archive {
            command: ArchiveCommand::Export { county, out },
        } => runtime()?.block_on(archive_cmd::export(
            clock,
            std::sync::Arc::new(params),
            &county,
            &out,
        ))?,
        Command::Archive {
            command: ArchiveCommand::Check { dir },
        } => runtime()?.block_on(archive_cmd::check(&dir))?,
        Command::Archive {
            command: ArchiveCommand::Import { dir },
        } => runtime()?.block_on(archive_cmd::import(
            clock,
            std::sync::Arc::new(params),
            &dir,
        ))?,
        Command::Run { job: None, .. } => serve_cmd::list_jobs(),
        Command::Run {
            job: Some(job),
            seconds,
            month: Some(month),
        } => {
            if job == swi_archiving::filing::NAME {
                return runtime()?.block_on(archive_cmd::run_archive(
                    clock,
                    std::sync::Arc::new(params),
                    &month,
                    seconds,
                ));
            }
            if job != swi_premium_billing::run::NAME {
                anyhow::bail!("--month is for `swi run billing` and `swi run archive`");
            }
            runtime()?.block_on(billing_cmd::run_billing(
                clock,
                std::sync::Arc::new(params),
                &month,
                seconds,
            ))?;
        }
        Command::Run {
            job: Some(job),
            seconds,
            month: None,
        } => runtime()?.block_on(serve_cmd::run_job(
            clock,
            std::sync::Arc::new(params),
            &job,
            seconds,
        ))?,
        Command::Serve { addr, demo } => {
            runtime()?.block_on(serve_cmd::serve(
                addr,
                demo,
                clock,
                std::sync::Arc::new(params),
            ))?;
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    county,
                    unit,
                    name,
                },
        } => runtime()?.block_on(async {
            let p = serve_cmd::job_platform(clock, std::sync::Arc::new(params)).await?;
            user_cmd::add(p, &username, &role, &county, unit, &name).await
        })?,
        Command::Token {
            role,
            county,
            name,
            unit,
            sub,
            hours,
        } => serve_cmd::token(&role, &county, &name, unit, sub, hours)?,
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
