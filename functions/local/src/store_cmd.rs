//! Operators' commands on the stores, on whichever backend the configuration names:
//! `swi doc put|get|verify` and `swi store health`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use swi_store::config::StoreConfig;
use swi_store::docs::{Documents, Sha256};
use swi_store::state::StateStore;
use tokio::io::AsyncWriteExt;

/// Both stores, opened from configuration.
pub struct Stores {
    /// The state store.
    pub state: Arc<dyn StateStore>,
    /// The document store.
    pub docs: Arc<dyn Documents>,
    /// What was opened, for messages.
    pub description: String,
}

/// Where `swi serve` accepts uploads: presigned URLs of the embedded store point here.
fn public_url() -> String {
    std::env::var("SWI_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned())
}

/// Opens the stores named by the environment (`SWI_STORE`, `SWI_DATA_DIR`, `SWI_TABLE`,
/// `SWI_BUCKET`, `AWS_ENDPOINT_URL`).
///
/// # Errors
/// A configuration that cannot be used, or a data directory that cannot be opened.
pub async fn open() -> Result<Stores> {
    open_at(&public_url()).await.map(|(stores, _)| stores)
}

/// The same, with presigned uploads of the embedded store addressed to `public` (what `swi
/// serve` listens on); also the embedded documents themselves, for the upload route.
///
/// # Errors
/// As [`open`].
pub async fn open_at(
    public: &str,
) -> Result<(Stores, Option<Arc<swi_store_embedded::EmbeddedDocuments>>)> {
    match StoreConfig::from_env()? {
        StoreConfig::Embedded { data_dir } => {
            let (state, docs) = swi_store_embedded::open(&data_dir, public).with_context(|| {
                format!("cannot open the data directory {}", data_dir.display())
            })?;
            let embedded = docs.clone();
            Ok((
                Stores {
                    state,
                    docs,
                    description: format!("embedded store in {}", data_dir.display()),
                },
                Some(embedded),
            ))
        }
        StoreConfig::Aws {
            table,
            bucket,
            endpoint,
        } => {
            let (state, docs) = swi_store_aws::open(&table, &bucket, endpoint.as_deref()).await;
            Ok((
                Stores {
                    state: Arc::new(state),
                    docs: Arc::new(docs),
                    description: format!(
                        "DynamoDB table {table} and S3 bucket {bucket}{}",
                        endpoint.map(|e| format!(" at {e}")).unwrap_or_default()
                    ),
                },
                None,
            ))
        }
    }
}

/// The data directory of the embedded store the configuration names.
///
/// # Errors
/// The configuration names the AWS backend, whose backups are the table's point-in-time
/// recovery and the bucket's versions.
pub fn embedded_dir() -> Result<PathBuf> {
    match StoreConfig::from_env()? {
        StoreConfig::Embedded { data_dir } => Ok(data_dir),
        StoreConfig::Aws { .. } => bail!(
            "swi store backup and restore are for the embedded store; in AWS the table keeps 35 days of point-in-time recovery and the bucket every version (README, \"Backups and restore\")"
        ),
    }
}

/// The largest file `swi doc put` uploads (S3's largest single upload).
const MAX_PUT_BYTES: u64 = 5 << 30;

/// `swi doc put FILE --for SUB`: uploads a file (or standard input for `-`) on behalf of the
/// account `SUB`, as their own upload would be, and prints its hash: it waits in the incoming
/// area until one of their requests files it by that hash, and is swept after 7 days otherwise.
///
/// # Errors
/// The file cannot be read or the store refuses it.
pub async fn put(stores: &Stores, file: &Path, for_sub: &str) -> Result<()> {
    swi_platform::wire::subject(for_sub, "for").map_err(|e| anyhow::anyhow!("{}", e.en))?;
    let meta = if file == Path::new("-") {
        let mut stdin = tokio::io::stdin();
        stores.docs.receive(&mut stdin, MAX_PUT_BYTES).await?
    } else {
        let mut f = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot read {}", file.display()))?;
        stores.docs.receive(&mut f, MAX_PUT_BYTES).await?
    };
    let at = chrono::Utc::now().timestamp();
    stores
        .state
        .transact(vec![
            swi_platform::documents::possession_op(&meta.sha256, for_sub, at)
                .map_err(|e| anyhow::anyhow!("{}", e.en))?,
        ])
        .await?;
    println!(
        "{}\t{} bytes\t{}",
        meta.sha256,
        meta.size,
        if meta.created {
            "uploaded"
        } else {
            "uploaded already"
        }
    );
    Ok(())
}

/// `swi doc get HASH [-o FILE]`: writes a document, verified against its hash. With `-o`, the
/// file appears only if every byte checked out.
///
/// # Errors
/// An unknown or corrupt document.
pub async fn get(stores: &Stores, hash: &str, output: Option<&PathBuf>) -> Result<()> {
    let sha = Sha256::parse(hash)?;
    let mut reader = stores.docs.get(&sha).await?;
    match output {
        Some(path) => {
            let tmp = path.with_extension("partial");
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            let copied = tokio::io::copy(&mut reader, &mut f).await;
            if let Err(e) = copied {
                let _ = tokio::fs::remove_file(&tmp).await;
                bail!("document sha256/{sha} could not be read: {e}");
            }
            f.sync_all().await?;
            tokio::fs::rename(&tmp, path).await?;
        }
        None => {
            let mut out = tokio::io::stdout();
            tokio::io::copy(&mut reader, &mut out)
                .await
                .with_context(|| format!("document sha256/{sha} could not be read"))?;
            out.flush().await?;
        }
    }
    Ok(())
}

/// `swi doc verify`: re-hashes every document; fails on any mismatch.
///
/// # Errors
/// A mismatch, or a store that cannot be read.
pub async fn verify(stores: &Stores) -> Result<()> {
    let report = stores.docs.verify_all().await?;
    println!(
        "{} documents verified ({} bytes) in the {}",
        report.ok, report.bytes, stores.description
    );
    for f in &report.foreign {
        println!("not a document (ignored): {f}");
    }
    for (key, actual) in &report.mismatched {
        println!("MISMATCH {key}: the bytes hash to {actual}");
    }
    if !report.mismatched.is_empty() {
        bail!(
            "{} document(s) do not match their hash",
            report.mismatched.len()
        );
    }
    Ok(())
}

/// `swi store health`: a round trip to the state store and the document store.
///
/// # Errors
/// Either store unreachable.
pub async fn health(stores: &Stores) -> Result<()> {
    println!("{}", stores.description);
    let state = stores.state.health().await?;
    println!("state: {state}");
    let probe = Sha256::of(b"swi store health probe");
    let exists = stores.docs.exists(&probe).await?;
    println!("documents: reachable (probe lookup answered {exists})");
    Ok(())
}

/// `swi audit verify`: every anchor and every case's chain (`swi_supervision::verify`).
///
/// # Errors
/// The state store cannot be read.
pub async fn audit_verify(
    stores: &Stores,
    today: chrono::NaiveDate,
) -> Result<swi_supervision::verify::Verification> {
    swi_supervision::verify::verify_all(stores.state.as_ref(), stores.docs.as_ref(), today)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.en))
}

/// Prints what the verification found; an error when the ledger is broken.
///
/// # Errors
/// A broken chain or anchor.
pub fn print_audit(report: &swi_supervision::verify::Verification) -> Result<()> {
    println!(
        "audit: {} anchors, {} days, {} case-days, {} events checked; {} broken",
        report.anchors,
        report.days,
        report.cases,
        report.events,
        report.broken.len()
    );
    for b in &report.broken {
        println!("  broken: {} at event {}: {}", b.case, b.seq, b.reason);
    }
    if report.broken.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} audit chains are broken", report.broken.len())
    }
}
