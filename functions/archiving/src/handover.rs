//! Handover (移交, Art. 47: at the end of its term the contractor hands the paper and electronic
//! archives to the agency): an export of a county's filed volumes as materialised BagIt bags —
//! each volume's tag files with its documents copied into `data/` (read through the store's
//! own hash check) — with the register (移交清册) and each volume's four-check report; and the
//! checks of such a directory, as the receiving side runs them: every file re-hashed, nothing
//! beside the archived files, the package rebuilt from the tag files to the digest the register
//! names, the audit chains handed over with it at the heads the volume recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use swi_archive::checks::{ChainNow, Evidence, Report, Seen, Stage, check, recorded_heads};
use swi_archive::package::{PACKAGE_LIMITS, pack, unpack};
use swi_archive::volume::Volume;
use swi_platform::{ApiError, Platform};
use swi_store::{Index, Query, Sha256};
use tokio::io::AsyncWriteExt;

use crate::model::{VolumeRecord, VolumeStatus, volumes_partition};

/// A volume as the register lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// Its directory (the archive number as a file name).
    pub id: String,
    /// 档号.
    pub archive_number: String,
    /// 案卷题名.
    pub title: String,
    /// 保管期限.
    pub period: String,
    /// Items.
    pub items: u32,
    /// Documents.
    pub documents: u32,
    /// Bytes of the documents.
    pub bytes: u64,
    /// The package's SHA-256 (its tag files packed the way swi packs them).
    pub package: String,
    /// Whether its four checks passed when exported.
    pub passed: bool,
}

/// The register of a handover (`handover.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// The county handed over.
    pub county: String,
    /// The day.
    pub on: chrono::NaiveDate,
    /// The volumes.
    pub volumes: Vec<Registered>,
}

fn io(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&format!("handover: {e}"))
}

/// The file name of a case's audit chain in a handover (`audit/<sha256 of the case>.json`: a
/// case id may hold characters no file name should).
#[must_use]
pub fn audit_file(case: &str) -> String {
    format!("{}.json", Sha256::of(case.as_bytes()).hex())
}

/// Exports the county's filed volumes into `dir` (created; must be empty): `<id>/` per volume
/// (a complete bag), `reports/<id>.json`, `audit/`, `handover.json` and `handover-register.csv`.
///
/// # Errors
/// A document that no longer hashes to its name; the store; the directory.
pub async fn export(p: &Platform, county: &str, dir: &Path) -> Result<Register, ApiError> {
    tokio::fs::create_dir_all(dir.join("reports"))
        .await
        .map_err(io)?;
    tokio::fs::create_dir_all(dir.join("audit"))
        .await
        .map_err(io)?;
    let mut vols = Vec::new();
    let mut cursor = None;
    loop {
        let page = p
            .state
            .query_index(
                Index::Gsi1,
                &Query::partition(volumes_partition(county))
                    .limit(500)
                    .after(cursor),
            )
            .await?;
        vols.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut register = Register {
        county: county.to_owned(),
        on: p.clock.today(),
        volumes: Vec::new(),
    };
    let mut cases = std::collections::BTreeSet::new();
    for item in vols {
        let v: VolumeRecord = item.body().map_err(|e| ApiError::internal(&e))?;
        if v.status != VolumeStatus::Filed {
            continue;
        }
        let Some(sha) = v.package.as_deref().and_then(|s| Sha256::parse(s).ok()) else {
            continue;
        };
        let raw =
            swi_platform::documents::load_bounded(p, &sha, PACKAGE_LIMITS.total_bytes).await?;
        let (_, files) = unpack(&raw, PACKAGE_LIMITS).map_err(io)?;
        let vdir = dir.join(&v.id);
        for (name, bytes) in &files {
            tokio::fs::create_dir_all(&vdir).await.map_err(io)?;
            tokio::fs::write(vdir.join(name), bytes).await.map_err(io)?;
        }
        let bag = swi_archive::bagit::parse(&files).map_err(io)?;
        for (path, digest) in bag.manifests.get("sha256").into_iter().flatten() {
            let doc = Sha256::parse(digest).map_err(io)?;
            // A document gone or changed is handed over as it is: the volume's report says so.
            if let Err(e) = copy_out(p, &doc, &vdir.join(path)).await {
                tracing::warn!(volume = %v.id, document = %doc, cause = %e.en, "handed over as it is");
            }
        }
        for head in recorded_heads(&files) {
            cases.insert(head.case);
        }
        // The volume's own chain too: its filing's event vouches for its package.
        cases.insert(crate::model::volume_case(&v.id));
        register.volumes.push(Registered {
            id: v.id.clone(),
            archive_number: v.archive_number.clone(),
            title: v.title.clone(),
            period: v.period.code(),
            items: v.items,
            documents: v.documents,
            bytes: v.bytes,
            package: sha.hex(),
            // Checked below, once the audit chains it needs are written.
            passed: false,
        });
    }
    for case in cases {
        let events = swi_platform::mutation::events(p, &case).await?;
        tokio::fs::write(
            dir.join("audit").join(audit_file(&case)),
            serde_json::to_vec_pretty(&events).map_err(io)?,
        )
        .await
        .map_err(io)?;
    }
    // Each volume checked as the receiving side will, with the audit chains handed over.
    for r in &mut register.volumes {
        let report = check_dir(&dir.join(&r.id), Some(&r.package), &dir.join("audit")).await;
        r.passed = report.as_ref().is_ok_and(Report::passed);
        tokio::fs::write(
            dir.join("reports").join(format!("{}.json", r.id)),
            serde_json::to_vec_pretty(&report.map_err(|e| e.en)).map_err(io)?,
        )
        .await
        .map_err(io)?;
    }
    tokio::fs::write(
        dir.join("handover.json"),
        serde_json::to_vec_pretty(&register).map_err(io)?,
    )
    .await
    .map_err(io)?;
    let mut csv =
        String::from("档号,案卷题名,保管期限,件数,文件数,字节数,信息包SHA-256,四性检测\n");
    for r in &register.volumes {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            r.archive_number,
            r.title.replace(',', "，"),
            r.period,
            r.items,
            r.documents,
            r.bytes,
            r.package,
            if r.passed { "通过" } else { "未通过" }
        ));
    }
    tokio::fs::write(dir.join("handover-register.csv"), csv)
        .await
        .map_err(io)?;
    Ok(register)
}

/// Copies a document out of the store to `to`, the store checking its hash as it reads.
async fn copy_out(p: &Platform, sha: &Sha256, to: &Path) -> Result<(), ApiError> {
    if let Some(parent) = to.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    let mut reader = match p.docs.get(sha).await {
        Ok(r) => r,
        Err(swi_store::DocError::NotFound(_)) => {
            return Err(ApiError::not_found(
                "文件不在文件库中",
                format!("{sha} is not stored"),
            ));
        }
        Err(e) => return Err(ApiError::unavailable(&e)),
    };
    let mut f = tokio::fs::File::create(to).await.map_err(io)?;
    tokio::io::copy(&mut reader, &mut f)
        .await
        .map_err(|e| ApiError::internal(&format!("{sha}: {e}")))?;
    f.flush().await.map_err(io)?;
    f.sync_all().await.map_err(io)?;
    Ok(())
}

fn hash_file(path: &Path) -> std::io::Result<(String, String, u64, Option<&'static str>)> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let (mut a, mut b) = (sha2::Sha256::new(), sha2::Sha512::new());
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let mut text = swi_archive::text::TextSniffer::default();
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < 8 {
            head.extend(buf[..n].iter().take(8 - head.len()));
        }
        a.update(&buf[..n]);
        b.update(&buf[..n]);
        text.feed(&buf[..n]);
        size += n as u64;
    }
    Ok((
        hex::encode(a.finalize()),
        hex::encode(b.finalize()),
        size,
        swi_platform::documents::sniff(&head).or_else(|| text.kind()),
    ))
}

/// Every file under `dir`, as paths relative to it with `/`.
fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, base, out)?;
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// The four checks of a materialised volume `vdir` as the receiving side runs them: its
/// package rebuilt from its tag files must be `expected` (the register's digest), every file
/// in `data/` re-hashed, nothing beside the archived files, the audit chains in `audit` at the
/// heads the volume recorded.
///
/// # Errors
/// The directory cannot be read.
pub async fn check_dir(
    vdir: &Path,
    expected: Option<&str>,
    audit: &Path,
) -> Result<Report, ApiError> {
    let (vdir, audit) = (vdir.to_owned(), audit.to_owned());
    let expected = expected.map(str::to_owned);
    tokio::task::spawn_blocking(move || check_dir_blocking(&vdir, expected, &audit))
        .await
        .map_err(|e| ApiError::internal(&e))?
}

fn check_dir_blocking(
    vdir: &Path,
    expected: Option<String>,
    audit: &Path,
) -> Result<Report, ApiError> {
    let mut tag_files = BTreeMap::new();
    let mut payload = Vec::new();
    walk(vdir, vdir, &mut payload).map_err(io)?;
    payload.sort();
    let mut data = Vec::new();
    for rel in payload {
        // Tag files lie at the top; everything below (`data/` or any other directory) is what
        // the carrier holds beside them, checked against the manifest.
        if rel.contains('/') {
            data.push(rel);
        } else {
            let bytes = std::fs::read(vdir.join(&rel)).map_err(io)?;
            tag_files.insert(rel, bytes);
        }
    }
    let volume: Option<Volume> = tag_files
        .get(swi_archive::volume::VOLUME_JSON)
        .and_then(|b| serde_json::from_slice(b).ok());
    // The package the register names, rebuilt from the tag files as swi packs them.
    let rebuilt = volume.as_ref().and_then(|v| {
        let base = v.archive_number.replace('·', ".");
        let mtime = v
            .filed_on
            .and_hms_opt(0, 0, 0)
            .map_or(0, |d| u64::try_from(d.and_utc().timestamp()).unwrap_or(0));
        let order: Vec<(String, Vec<u8>)> = ordered(&tag_files);
        pack(&base, mtime, &order).ok()
    });
    let package_sha256 = rebuilt
        .as_deref()
        .map(|b| Sha256::of(b).hex())
        .unwrap_or_default();
    let bag = swi_archive::bagit::parse(&tag_files).ok();
    let manifest: BTreeMap<String, String> = bag
        .as_ref()
        .and_then(|b| b.manifests.get("sha256").cloned())
        .unwrap_or_default();
    let mut seen = BTreeMap::new();
    for (path, digest) in &manifest {
        let s = match hash_file(&vdir.join(path)) {
            Ok((a, b, size, kind)) => Seen::Read {
                sha256: a,
                sha512: b,
                size,
                media_type: kind.map(str::to_owned),
                encrypted: false,
            },
            Err(_) => Seen::Missing,
        };
        // Two paths of one document: the first seen decides (they are the same bytes).
        seen.entry(digest.clone()).or_insert(s);
    }
    let strays = data
        .into_iter()
        .filter(|rel| !manifest.contains_key(rel))
        .collect();
    let mut chains = BTreeMap::new();
    for head in recorded_heads(&tag_files) {
        let events: Vec<swi_domain::audit::Event> =
            std::fs::read(audit.join(audit_file(&head.case)))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
        let at = events
            .iter()
            .find(|e| e.seq == head.seq)
            .map(|e| e.hash.clone());
        chains.insert(
            head.case.clone(),
            ChainNow {
                at_head: at,
                intact: swi_domain::audit::verify_chain(&events).is_ok(),
            },
        );
    }
    Ok(check(&Evidence {
        stage: Stage::Handover,
        archive_number: volume.map(|v| v.archive_number).unwrap_or_default(),
        package_sha256,
        recorded: vec![("register".into(), expected)],
        tag_files: Ok(tag_files),
        seen,
        strays,
        chains,
        // A directory handed over protects nothing: the receiving store does once imported.
        protection: BTreeMap::new(),
        required: BTreeMap::new(),
    }))
}

/// Tag files in the order a bag writes them (what `pack` was given when the volume was filed).
pub(crate) fn ordered(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, Vec<u8>)> {
    let fixed = [
        "bagit.txt",
        "bag-info.txt",
        "fetch.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
    ];
    let mut out: Vec<(String, Vec<u8>)> = fixed
        .iter()
        .filter_map(|n| files.get(*n).map(|b| ((*n).to_owned(), b.clone())))
        .collect();
    for (n, b) in files {
        if !fixed.contains(&n.as_str()) && !n.starts_with("tagmanifest-") {
            out.push((n.clone(), b.clone()));
        }
    }
    for n in ["tagmanifest-sha256.txt", "tagmanifest-sha512.txt"] {
        if let Some(b) = files.get(n) {
            out.push((n.to_owned(), b.clone()));
        }
    }
    out
}

/// A handover directory's volumes, from its register.
///
/// # Errors
/// No readable `handover.json`.
pub fn read_register(dir: &Path) -> Result<Register, ApiError> {
    let bytes = std::fs::read(dir.join("handover.json")).map_err(io)?;
    serde_json::from_slice(&bytes).map_err(io)
}

/// Where a volume of a handover lies.
#[must_use]
pub fn volume_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join(id)
}
