//! `swi serve`: every step's router in one local server, on the store the environment names, at
//! the same paths as in AWS; and `swi token`, which mints the bearer tokens it accepts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::{Clock, SystemClock};
use swi_platform::jobs::Wake;
use swi_rules::ParamSet;
use swi_store::config::StoreConfig;

/// Where local keys live: the embedded data directory (also when the stores are in AWS).
fn key_dir() -> Result<PathBuf> {
    Ok(match StoreConfig::from_env()? {
        StoreConfig::Embedded { data_dir } => data_dir,
        StoreConfig::Aws { .. } => {
            std::env::var("SWI_DATA_DIR").map_or_else(|_| PathBuf::from(".swi/data"), PathBuf::from)
        }
    })
}

/// The local token keys.
///
/// # Errors
/// The key cannot be read or created.
pub fn keys() -> Result<TokenKeys> {
    let dir = key_dir()?;
    TokenKeys::local(&dir)
        .with_context(|| format!("cannot read or create the token key in {}", dir.display()))
}

/// The local person keys (`person.key` beside the token key).
///
/// # Errors
/// The key cannot be read or created.
pub fn person_keys() -> Result<swi_platform::pseudonym::PersonKeys> {
    let dir = key_dir()?;
    swi_platform::pseudonym::PersonKeys::local(&dir)
        .with_context(|| format!("cannot read or create the person key in {}", dir.display()))
}

/// `swi token`: prints a signed bearer token.
///
/// # Errors
/// Unknown role or county, or no key.
pub fn token(
    role: &str,
    county: &str,
    name: &str,
    unit: Option<String>,
    sub: String,
    hours: i64,
) -> Result<()> {
    let keys = keys()?;
    let now = SystemClock.now().timestamp();
    let claims = Claims {
        sub,
        role: role.to_owned(),
        county: county.to_owned(),
        name: name.to_owned(),
        unit,
        iss: ISSUER.to_owned(),
        iat: now,
        exp: now + hours * 3600,
    };
    // Check the claims as the server will before handing the token out.
    swi_platform::auth::actor_of(claims.clone()).map_err(|e| anyhow::anyhow!("{}", e.en))?;
    let token = keys
        .mint(&claims)
        .map_err(|e| anyhow::anyhow!("{}", e.en))?;
    println!("{token}");
    Ok(())
}

/// The whole local application: the portal's pages at `/`, in front of every step's routes and
/// the one document (`swi_platform::api::app`), and in embedded mode the document directory's
/// upload route (the stand-in of S3's presigned PUT, not part of the API); sign-in through an
/// identity provider where `oidc` configures one.
pub fn app(
    platform: Platform,
    uploads: Option<Router>,
    oidc: Option<Arc<swi_portal::oidc::Oidc>>,
) -> Router {
    let (mut app, _) = swi_platform::api::app(platform.clone(), crate::steps::all());
    if let Some(u) = uploads {
        app = app.merge(u.layer(axum::middleware::from_fn(swi_platform::error::json_errors)));
    }
    // The portal's pages in front, every other path to the API.
    swi_portal::router(platform, app, oidc)
}

/// `swi serve`: serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// The stores cannot be opened or the address cannot be bound.
pub async fn serve(
    addr: SocketAddr,
    demo: bool,
    clock: Arc<dyn Clock>,
    params: Arc<ParamSet>,
) -> Result<()> {
    // Presigned uploads name the address this server listens on (or SWI_PUBLIC_URL): the
    // documents the handlers presign with and the upload route are one and the same.
    swi_platform::telemetry::init();
    // Bound first: port 0 asks the system for a free one, named in every line below (and a
    // client that connects while the demo is being seeded waits instead of being refused).
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener
        .local_addr()
        .with_context(|| format!("cannot listen on {addr}"))?;
    let public = std::env::var("SWI_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let (stores, embedded) = crate::store_cmd::open_at(&public).await?;
    let uploads = embedded.map(swi_store_embedded::upload_router);
    // Sign-in through an identity provider, where SWI_OIDC_ISSUER names one.
    let oidc = swi_portal::oidc::OidcConfig::from_env(&public)
        .map_err(anyhow::Error::msg)?
        .map(swi_portal::oidc::Oidc::new)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let platform = Platform {
        state: stores.state,
        docs: stores.docs,
        tokens: Arc::new(keys()?),
        persons: Arc::new(person_keys()?),
        clock,
        base_params: params,
        city_params: Default::default(),
        public_url: public.clone(),
    };
    if demo {
        let file = key_dir()?.join("demo-tokens.txt");
        let seeded = crate::demo::seed(
            swi_platform::api::app(platform.clone(), crate::steps::all()).0,
            platform.clone(),
            &file,
        )
        .await?;
        let base = format!("http://{addr}");
        eprintln!(
            "swi serve: demo data ready; tokens (12 hours) in {}",
            file.display()
        );
        eprintln!(
            "  TOKEN=$(grep ^supervisor_city {} | cut -d= -f2)",
            file.display()
        );
        eprintln!(
            "  curl -H \"Authorization: Bearer $TOKEN\" {base}/api/units/91360702MA35G6QL6T/roster     # covered members"
        );
        eprintln!(
            "  ACC=$(grep ^acceptor_360702 {} | cut -d= -f2)",
            file.display()
        );
        eprintln!(
            "  curl -H \"Authorization: Bearer $ACC\" {base}/api/counties/360702/declarations     # the review queue"
        );
        if let Some(d) = &seeded.declaration {
            eprintln!("  curl -H \"Authorization: Bearer $TOKEN\" {base}/api/declarations/{d}");
        }
        match &seeded.project {
            Some((p, true)) => eprintln!(
                "  curl -H \"Authorization: Bearer $TOKEN\" {base}/api/projects/{p}/certificate -o certificate.pdf"
            ),
            Some((p, false)) => eprintln!(
                "  project {p} is unpaid: PDF forms need the CJK font (SWI_FONT=$(bash infra/fonts))"
            ),
            None => {}
        }
        if !seeded.claims.is_empty() {
            eprintln!(
                "  curl -H \"Authorization: Bearer $ACC\" '{base}/api/counties/360702/claims?status=submitted'     # claims at the window (also handling, first_review, re_review, entry, approved)"
            );
        }
        for (status, id) in &seeded.claims {
            if *status == "approved" {
                eprintln!(
                    "  curl -H \"Authorization: Bearer $ACC\" {base}/api/claims/{id}/forms/assessment -o assessment.pdf     # 待遇核定表"
                );
            }
        }
        eprintln!(
            "  {base}/payments   # payments: this month's payment request (请款计划) {} — officer-360702 approves it; citizen-paid sees her nursing subsidy paid",
            seeded.payments
        );
        eprintln!("  {base}/api/openapi.json   # every route");
        let accounts = key_dir()?.join("demo-accounts.txt");
        let made = crate::demo_accounts::seed(&platform, &accounts).await?;
        eprintln!(
            "swi serve: the portal at {base}/ — sign in with a demo account (user name, password; also in {}):",
            accounts.display()
        );
        for (user, password, role) in &made {
            eprintln!("  {user:<24} {password}   ({})", role.as_str());
        }
        if made.is_empty() {
            eprintln!("  (made before: see the file)");
        }
    }
    eprintln!(
        "swi serve: listening on http://{addr} ({})",
        stores.description
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker(platform.clone(), stopped));
    let served = axum::serve(listener, app(platform, uploads, oidc))
        .with_graceful_shutdown(async {
            let ctrl_c = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            #[cfg(unix)]
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<()>();
            tokio::select! { () = ctrl_c => {}, () = term => {} }
            eprintln!("swi serve: shutting down");
        })
        .await
        .context("server error");
    // The job finishes its transaction in hand; what is left waits for the next start.
    let _ = stop.send(true);
    let _ = worker.await;
    served
}

/// The platform of a job run from the command line, on the configured store.
pub async fn job_platform(clock: Arc<dyn Clock>, params: Arc<ParamSet>) -> Result<Platform> {
    let stores = crate::store_cmd::open().await?;
    Ok(Platform {
        state: stores.state,
        docs: stores.docs,
        tokens: Arc::new(keys()?),
        persons: Arc::new(person_keys()?),
        clock,
        base_params: params,
        city_params: Default::default(),
        public_url: String::new(),
    })
}

/// `swi run` without a job: the jobs there are, with what wakes them.
pub fn list_jobs() {
    for job in swi_jobs::all() {
        let wake = match job.wake() {
            Wake::Pointer => "woken by its pointers".to_owned(),
            Wake::Ledger => "woken by every change".to_owned(),
            Wake::Daily { hour } => format!("daily at {hour:02}:00 China time"),
        };
        println!("{:<20} {} ({wake})", job.name(), job.describe());
    }
}

/// `swi run <job>`: runs one job on the configured store until it has nothing left, makes no
/// progress, or `seconds` have passed.
///
/// # Errors
/// No such job, the stores cannot be opened, or pieces of work failed.
pub async fn run_job(
    clock: Arc<dyn Clock>,
    params: Arc<ParamSet>,
    name: &str,
    seconds: Option<u64>,
) -> Result<()> {
    let all = swi_jobs::all();
    let job = all.iter().find(|j| j.name() == name).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|j| j.name()).collect();
        anyhow::anyhow!("no job is called `{name}` (jobs: {})", names.join(", "))
    })?;
    let platform = job_platform(clock, params).await?;
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut done = 0;
    loop {
        let report = job
            .run(
                &platform,
                deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.en))?;
        done += report.done;
        let out_of_time = deadline.is_some_and(|d| Instant::now() >= d);
        if report.pending == 0 || out_of_time || report.done == 0 {
            println!("{report} (in all: {done})");
            if report.errors.is_empty() {
                return Ok(());
            }
            anyhow::bail!("not done: {}", report.errors.join(", "));
        }
    }
}

/// The jobs inside `swi serve`: every second, each pointer-woken job works what it finds in a
/// run of a few seconds; each daily job runs at start and then once each China day. After a
/// failure a job waits half a minute before trying again, so that a stuck piece does not flood
/// the log. Stops when `stop` says so (the transaction in hand is finished first).
async fn worker(platform: Platform, mut stop: tokio::sync::watch::Receiver<bool>) {
    let jobs = swi_jobs::all();
    let mut resting: Vec<Option<Instant>> = vec![None; jobs.len()];
    let mut daily_done: Vec<Option<chrono::NaiveDate>> = vec![None; jobs.len()];
    loop {
        let mut busy = false;
        for (i, job) in jobs.iter().enumerate() {
            if resting[i].is_some_and(|until| Instant::now() < until) {
                continue;
            }
            let today = platform.clock.today();
            if matches!(job.wake(), Wake::Daily { .. }) && daily_done[i] == Some(today) {
                continue;
            }
            match job
                .run(&platform, Instant::now() + Duration::from_secs(5))
                .await
            {
                Ok(r) => {
                    if r.done > 0 || !r.errors.is_empty() {
                        tracing::info!(job = r.job, done = r.done, pending = r.pending, "{r}");
                    }
                    resting[i] =
                        (!r.errors.is_empty()).then(|| Instant::now() + Duration::from_secs(30));
                    daily_done[i] = Some(today);
                    busy |= r.pending > 0 && r.done > 0;
                }
                Err(e) => {
                    tracing::error!(job = job.name(), code = %e.code, "{}", e.en);
                    resting[i] = Some(Instant::now() + Duration::from_secs(30));
                }
            }
            if *stop.borrow() {
                return;
            }
        }
        if !busy {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// `swi jobs replay`: every message of the jobs' dead-letter queue worked again on the
/// configured store, as the jobs function would have (`swi_jobs::replayed`), and deleted once
/// worked; a message of no known shape, or whose work fails again, is left with why.
///
/// # Errors
/// The queue or the stores cannot be reached; messages were left.
pub async fn replay(clock: Arc<dyn Clock>, params: Arc<ParamSet>, queue: &str) -> Result<()> {
    let platform = job_platform(clock, params).await?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let letters = swi_store_aws::dead_letters::DeadLetters::open(queue, endpoint.as_deref()).await;
    let all = swi_jobs::all();
    let mut seen = std::collections::HashSet::new();
    let (mut worked, mut left) = (0, 0);
    loop {
        // Hidden for the run: a message left comes back to the queue afterwards, not now.
        let batch = letters
            .receive(900)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let fresh: Vec<_> = batch
            .into_iter()
            .filter(|m| seen.insert(m.id.clone()))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for m in fresh {
            let body: serde_json::Value = serde_json::from_str(&m.body).unwrap_or_default();
            let Some(event) = swi_jobs::replayed(&body) else {
                left += 1;
                println!("left {}: a message of no known shape", m.id);
                continue;
            };
            let deadline = Instant::now() + Duration::from_secs(600);
            match swi_jobs::handle(&platform, &all, &event, deadline).await {
                Ok(_) => {
                    letters
                        .delete(&m)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    worked += 1;
                    println!("worked {}: {event}", m.id);
                }
                Err(e) => {
                    left += 1;
                    println!("left {}: {e}", m.id);
                }
            }
        }
    }
    println!("dead letters: {worked} worked and deleted, {left} left");
    if left > 0 {
        anyhow::bail!("{left} dead letter(s) left in the queue");
    }
    Ok(())
}
