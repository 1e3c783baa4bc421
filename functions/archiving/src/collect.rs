//! The filing's first step: the month's registrations, page by page in order of class and
//! case, into one volume per class and retention period (never mixing periods; a volume of
//! 9,999 items goes on in the next), one item per case numbered without gaps; each volume
//! numbered once in its fonds, class, year and period.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::json;
use swi_archive::number::{Fonds, VolumeNumber};
use swi_archive::retention::{self, Period, RecordClass};
use swi_archive::volume::FileRef;
use swi_platform::dossier::Registration;
use swi_platform::{ApiError, ErrorCode, Platform};
use swi_store::{Condition, Cursor, Index, Item, Query, TxOp};

use crate::model::{
    ItemRecord, VolumeRecord, VolumeStatus, allocation_key, item_key, item_put, load_volume,
    seq_key, settings, volume_put,
};
use crate::month::{Filing, Phase, conflict, filing_put, month_end, settings_missing};

/// The most items a volume holds (件号 has four digits).
pub const MAX_ITEMS: u32 = 9999;

/// Registrations taken per transaction (each may open a volume — three writes — write its
/// item and record which volume its document is filed in: five writes).
const PAGE: u32 = 16;

/// A volume met while collecting: as read (or new), with what this step changes.
struct Open {
    record: VolumeRecord,
    version: Option<u64>,
    changed: bool,
}

/// The title of an item: what its case is, in words.
fn item_title(case: &str) -> String {
    let (kind, id) = case.split_once('#').unwrap_or((case, ""));
    let what = match kind {
        "unit" => "参保单位登记",
        "enrolment" => "人员参保登记",
        "declaration" => "人员增减申报",
        "identity" => "实名核验",
        "project" => "建设项目参保",
        "injury" => "工伤认定及鉴定",
        "claim" => "待遇申领及核定",
        "batch" => "待遇支付批次",
        "cycle" => "月度资金周期",
        "recon" => "对账",
        "annual" => "财务年度报告",
        "exchange" | "receipt-import" => "税务征收数据交换",
        "rerating" | "rate-notice" => "费率浮动",
        "roster-import" => "工伤保险参保花名册",
        "city-param" => "城市参数依据",
        _ => "业务材料",
    };
    format!("{what} {id}").trim().to_owned()
}

/// One collect step: the next page of the month's registrations into volumes and items.
pub(crate) async fn collect(p: &Platform, mut f: Filing, version: u64) -> Result<(), ApiError> {
    let (s, _) = settings(&*p.state, &f.county)
        .await?
        .ok_or_else(|| settings_missing(&f.county))?;
    let fonds =
        Fonds::parse(&s.fonds).map_err(|e| ApiError::invalid("全宗号不正确", e.to_string()))?;
    let end = month_end(&f.month)?;
    let page = p
        .state
        .query_index(
            Index::Gsi1,
            &Query::partition(swi_platform::dossier::due_partition(&f.county, &f.month))
                .limit(PAGE)
                .after(f.cursor.clone().map(Cursor::from_text)),
        )
        .await?;
    let mut ops = Vec::new();
    let mut opened: BTreeMap<String, Open> = BTreeMap::new();
    let mut touched: BTreeMap<(String, u32), (ItemRecord, Option<u64>)> = BTreeMap::new();
    let mut filed_in: std::collections::BTreeSet<(String, String)> = Default::default();
    for it in &page.items {
        let r: Registration = it.body().map_err(|e| ApiError::internal(&e))?;
        let period = retention::period(r.class, end).map_err(|e| {
            ApiError::refused(
                ErrorCode::ParameterPending,
                format!("类别 {} 在 {end} 没有保管期限", r.class),
                e.to_string(),
            )
        })?;
        let slot = format!("{}#{}", r.class.code(), period.code());
        // A volume holds at most 9,999 items (件号 has four digits): a new case then opens the
        // next volume of the class and period.
        let full = f
            .volumes
            .get(&slot)
            .and_then(|id| f.open.get(id))
            .is_some_and(|o| o.n >= MAX_ITEMS && o.case != r.case);
        // The volume of this class and period: allocated once, numbered in its year.
        let id = match f.volumes.get(&slot).filter(|_| !full) {
            Some(id) => id.clone(),
            None => {
                let part = f.parts.get(&slot).copied().unwrap_or(0) + 1;
                let (id, allocation) = allocate(p, &f, &fonds, r.class, period, end, part).await?;
                ops.extend(allocation.1);
                opened.insert(
                    id.clone(),
                    Open {
                        record: allocation.0,
                        version: None,
                        changed: true,
                    },
                );
                f.parts.insert(slot.clone(), part);
                f.volumes.insert(slot, id.clone());
                f.sequence.push(id.clone());
                id
            }
        };
        if !opened.contains_key(&id) {
            let (record, v) = load_volume(&*p.state, &id)
                .await?
                .ok_or_else(|| ApiError::internal(&format!("volume {id} allocated but missing")))?;
            opened.insert(
                id.clone(),
                Open {
                    record,
                    version: Some(v),
                    changed: false,
                },
            );
        }
        let day = chrono::DateTime::parse_from_rfc3339(&r.at)
            .map(|d| d.date_naive())
            .unwrap_or(end);
        let file = FileRef {
            path: String::new(),
            sha256: r.sha256.clone(),
            sha512: String::new(),
            size: r.size,
            media_type: String::new(),
            material: r.material.clone(),
        };
        let open = opened
            .get_mut(&id)
            .ok_or_else(|| ApiError::internal(&"volume not opened"))?;
        let joins = f.open.get(&id).filter(|o| o.case == r.case).map(|o| o.n);
        match joins {
            Some(n) => {
                let slot = match touched.entry((id.clone(), n)) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        // The item was begun by an earlier page: joined under its version.
                        let item = p
                            .state
                            .get(&item_key(&id, n))
                            .await?
                            .ok_or_else(|| ApiError::internal(&"open item missing"))?;
                        e.insert((
                            item.body().map_err(|e| ApiError::internal(&e))?,
                            Some(item.version),
                        ))
                    }
                };
                let (item, _) = slot;
                if !item
                    .files
                    .iter()
                    .any(|x| x.sha256 == file.sha256 && x.material == file.material)
                {
                    filed_in.insert((file.sha256.clone(), id.clone()));
                    item.files.push(file);
                    item.first = item.first.min(day);
                    item.date = item.date.max(day);
                    open.record.documents += 1;
                    open.record.bytes += r.size;
                    open.changed = true;
                }
            }
            None => {
                let n = f.open.get(&id).map_or(1, |o| o.n + 1);
                filed_in.insert((file.sha256.clone(), id.clone()));
                touched.insert(
                    (id.clone(), n),
                    (
                        ItemRecord {
                            n,
                            case: r.case.clone(),
                            title: item_title(&r.case),
                            author: s.filing_unit.clone(),
                            first: day,
                            date: day,
                            files: vec![file],
                        },
                        None,
                    ),
                );
                f.open.insert(
                    id.clone(),
                    crate::month::OpenItem {
                        n,
                        case: r.case.clone(),
                    },
                );
                open.record.items = n;
                open.record.documents += 1;
                open.record.bytes += r.size;
                open.changed = true;
            }
        }
        f.registrations += 1;
    }
    for (sha, volume) in &filed_in {
        ops.push(TxOp::Put {
            item: Item::new(
                format!("doc#{sha}"),
                crate::model::filed_in_sk(volume),
                &json!({ "volume": volume }),
            )?,
            condition: Condition::None,
        });
    }
    for ((volume, _), (item, v)) in &touched {
        ops.push(item_put(
            volume,
            item,
            v.map_or(Condition::NotExists, Condition::VersionIs),
        )?);
    }
    for o in opened.values().filter(|o| o.changed) {
        ops.push(volume_put(
            &o.record,
            o.version.map_or(Condition::NotExists, Condition::VersionIs),
        )?);
    }
    match page.next {
        Some(c) => f.cursor = Some(c.as_str().to_owned()),
        None => {
            f.cursor = None;
            f.phase = Phase::Hash;
        }
    }
    ops.push(filing_put(&f, Condition::VersionIs(version))?);
    p.state.transact(ops).await.map_err(conflict)
}

/// A new volume of `class` and `period` for the filing's month: its number (the next of its
/// fonds, class, year and period) and the operations writing it, its allocation and the
/// number given.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site, every argument its own fact"
)]
async fn allocate(
    p: &Platform,
    f: &Filing,
    fonds: &Fonds,
    class: RecordClass,
    period: Period,
    end: NaiveDate,
    part: u32,
) -> Result<(String, (VolumeRecord, Vec<TxOp>)), ApiError> {
    let seq_k = seq_key(&f.county, end.year(), class, period);
    let read = p.state.get(&seq_k).await?;
    let last: u16 = match &read {
        Some(i) => i
            .body::<serde_json::Value>()
            .map_err(|e| ApiError::internal(&e))?["last"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(0),
        None => 0,
    };
    let number =
        VolumeNumber::new(fonds.clone(), class, end.year(), period, last + 1).map_err(|e| {
            ApiError::refused(
                ErrorCode::ParameterPending,
                "本年度该类案卷号已用尽",
                e.to_string(),
            )
        })?;
    let id = number.file_name();
    let entry = class.entry().map_err(|e| ApiError::internal(&e))?;
    let record = VolumeRecord {
        id: id.clone(),
        archive_number: number.to_string(),
        county: f.county.clone(),
        month: f.month.clone(),
        class,
        period,
        title: format!("{}年{}月 {}", end.year(), end.month(), entry.name),
        status: VolumeStatus::Filing,
        items: 0,
        documents: 0,
        bytes: 0,
        package: None,
        package_bytes: None,
        filed_on: None,
        compiled_by: f.compiled_by.clone(),
        paper: None,
        hold: None,
        extended_until: None,
        frozen: None,
    };
    let alloc = allocation_key(&f.county, &f.month, class, period, part);
    let ops = vec![
        TxOp::Put {
            item: Item::new(seq_k.pk, seq_k.sk, &json!({ "last": last + 1 }))?,
            condition: read.map_or(Condition::NotExists, |i| Condition::VersionIs(i.version)),
        },
        TxOp::Put {
            item: Item::new(alloc.pk, alloc.sk, &json!({ "volume": id }))?,
            condition: Condition::NotExists,
        },
    ];
    Ok((id, (record, ops)))
}
