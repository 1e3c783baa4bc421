//! `swi serve`: every step's router in one local server, on the store the environment names, at
//! the same paths as in AWS; and `swi token`, which mints the bearer tokens it accepts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::get;
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::{Clock, SystemClock};
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

/// The whole local application on `stores`.
pub fn app(platform: Platform, uploads: Option<Router>) -> Router {
    let mut app = Router::new()
        .route("/api/health", get(|| async { "ok\n" }))
        .merge(swi_enrollment::router(platform));
    if let Some(u) = uploads {
        app = app.merge(u);
    }
    app.layer(axum::middleware::from_fn(swi_platform::error::json_errors))
}

/// `swi serve`: serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// The stores cannot be opened or the address cannot be bound.
pub async fn serve(addr: SocketAddr, demo: bool, clock: Arc<dyn Clock>) -> Result<()> {
    // Presigned uploads name the address this server listens on (or SWI_PUBLIC_URL): the
    // documents the handlers presign with and the upload route are one and the same.
    let public = std::env::var("SWI_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let (stores, embedded) = crate::store_cmd::open_at(&public).await?;
    let uploads = embedded.map(swi_store_embedded::upload_router);
    let platform = Platform {
        state: stores.state,
        docs: stores.docs,
        tokens: Arc::new(keys()?),
        persons: Arc::new(person_keys()?),
        clock,
    };
    if demo {
        let file = key_dir()?.join("demo-tokens.txt");
        crate::demo::seed(
            swi_enrollment::router(platform.clone()),
            platform.clone(),
            &file,
        )
        .await?;
        eprintln!(
            "swi serve: demo data seeded; tokens in {} (try: curl -H \"Authorization: Bearer $TOKEN\" http://{addr}/api/units/91360702MA35G6QL6T)",
            file.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!(
        "swi serve: listening on http://{addr} ({})",
        stores.description
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(declaration_worker(platform.clone(), stopped));
    let served = axum::serve(listener, app(platform, uploads))
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
async fn job_platform(clock: Arc<dyn Clock>) -> Result<Platform> {
    let stores = crate::store_cmd::open().await?;
    Ok(Platform {
        state: stores.state,
        docs: stores.docs,
        tokens: Arc::new(keys()?),
        persons: Arc::new(person_keys()?),
        clock,
    })
}

/// `swi run declaration-apply`: applies approved declarations, on the configured store.
///
/// # Errors
/// The stores cannot be opened, or a declaration could not be applied.
pub async fn declaration_apply(clock: Arc<dyn Clock>, seconds: Option<u64>) -> Result<()> {
    let platform = job_platform(clock).await?;
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut total = swi_enrollment::jobs::ApplyReport::default();
    loop {
        let report = swi_enrollment::jobs::declaration_apply(
            &platform,
            deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.en))?;
        total.rows += report.rows;
        total.finished += report.finished;
        total.errors.extend(report.errors);
        total.pending = report.pending;
        let out_of_time = deadline.is_some_and(|d| Instant::now() >= d);
        if report.pending == 0 || out_of_time || report.rows == 0 {
            break;
        }
    }
    println!("declaration job: {total}");
    if total.errors.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("not applied: {}", total.errors.join(", "))
    }
}

/// The jobs inside `swi serve`: looks for cancelled units whose members are still being ended
/// and for approved declarations every second and works them in runs of a few seconds, until `stop` says otherwise. After a failure it waits
/// half a minute before trying again, so that a stuck declaration does not flood the log.
async fn declaration_worker(platform: Platform, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let mut pause = Duration::from_secs(1);
        let cancelling = match swi_enrollment::jobs::unit_cancel(
            &platform,
            Instant::now() + Duration::from_secs(5),
        )
        .await
        {
            Ok(r) => {
                if r.ended > 0 || r.finished > 0 {
                    eprintln!("swi serve: cancellation job: {r}");
                }
                r.pending > 0 && r.ended > 0
            }
            Err(e) => {
                eprintln!("swi serve: cancellation job: {}", e.en);
                pause = Duration::from_secs(30);
                false
            }
        };
        let run = swi_enrollment::jobs::declaration_apply(
            &platform,
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        let busy = match run {
            Ok(r) => {
                if r.rows > 0 || !r.errors.is_empty() {
                    eprintln!("swi serve: declaration job: {r}");
                }
                if !r.errors.is_empty() {
                    pause = Duration::from_secs(30);
                }
                r.pending > 0 && r.rows > 0
            }
            Err(e) => {
                eprintln!("swi serve: declaration job: {}", e.en);
                pause = Duration::from_secs(30);
                false
            }
        };
        if *stop.borrow() {
            return;
        }
        if !busy && !cancelling {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// `swi run unit-cancel`: ends the cover of cancelled units' members (Art. 10), on the
/// configured store, until done.
///
/// # Errors
/// The stores cannot be opened or written.
pub async fn unit_cancel(clock: Arc<dyn Clock>) -> Result<()> {
    let platform = job_platform(clock).await?;
    let mut total = swi_enrollment::jobs::CancelReport::default();
    loop {
        let report =
            swi_enrollment::jobs::unit_cancel(&platform, Instant::now() + Duration::from_secs(60))
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.en))?;
        total.ended += report.ended;
        total.finished += report.finished;
        total.pending = report.pending;
        if report.pending == 0 || report.ended == 0 {
            break;
        }
    }
    println!("cancellation job: {total}");
    Ok(())
}

/// `swi run retirement-check`: the daily job, on the configured store.
///
/// # Errors
/// The stores cannot be opened or read.
pub async fn retirement_check(
    clock: Arc<dyn Clock>,
    on: chrono::NaiveDate,
    months: u32,
) -> Result<()> {
    let platform = job_platform(clock).await?;
    let report = swi_enrollment::jobs::retirement_check(&platform, on, months)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.en))?;
    println!(
        "retirement check for {on}: {} months read, {} employees watched, {} new alerts",
        report.months, report.seen, report.alerted
    );
    Ok(())
}
