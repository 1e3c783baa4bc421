//! Checks an XLSX archive before any reader trusts it: the entry count its end records claim,
//! then every entry decompressed (into nothing) and counted against the uncompressed limits, so
//! that a zip bomb is refused having cost only a fixed buffer.

use std::io::{Cursor, Read};

use crate::{Limits, TableError};

const EOCD: &[u8; 4] = b"PK\x05\x06";
const ZIP64_EOCD: &[u8; 4] = b"PK\x06\x06";
/// The end record is 22 bytes and may be followed by a comment of up to 65,535.
const TAIL: usize = 22 + 65_535;

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2)
        .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
}

/// The largest entry count any end record of the archive claims (a reader may try each).
fn claimed_entries(bytes: &[u8]) -> u64 {
    let start = bytes.len().saturating_sub(TAIL);
    let tail = &bytes[start..];
    let mut most = 0;
    for at in (0..tail.len().saturating_sub(3)).filter(|&i| &tail[i..i + 4] == EOCD) {
        most = most.max(u16_at(tail, at + 10).unwrap_or(0));
    }
    // Zip64 end records (wherever they are): entry count at offset 32.
    for at in (0..bytes.len().saturating_sub(3)).rev().take(TAIL + 76) {
        if &bytes[at..at + 4] == ZIP64_EOCD {
            most = most.max(u64_at(bytes, at + 32).unwrap_or(u64::MAX));
        }
    }
    most
}

/// Refuses an archive that claims too many entries or inflates past the limits.
///
/// # Errors
/// `TooLarge`, or `Unreadable` for a damaged archive.
pub fn check(bytes: &[u8], limits: &Limits) -> Result<(), TableError> {
    if claimed_entries(bytes) > limits.max_entries as u64 {
        return Err(TableError::too_large("zip entries", limits.max_entries));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| TableError::Unreadable(format!("not a readable XLSX workbook: {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(TableError::too_large("zip entries", limits.max_entries));
    }
    let budget = limits.uncompressed_for(bytes.len() as u64);
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| TableError::Unreadable(format!("a damaged XLSX entry: {e}")))?;
        if entry.size() > budget {
            return Err(TableError::too_large("uncompressed size in bytes", budget));
        }
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| TableError::Unreadable(format!("a damaged XLSX entry: {e}")))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > budget {
                return Err(TableError::too_large("uncompressed size in bytes", budget));
            }
        }
    }
    Ok(())
}

/// Counts the shared strings (`<si>` elements) of the workbook, stopping past the limit.
///
/// # Errors
/// `TooLarge`, or `Unreadable` for damaged XML.
pub fn check_shared_strings(bytes: &[u8], limits: &Limits) -> Result<(), TableError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| TableError::Unreadable(format!("not a readable XLSX workbook: {e}")))?;
    let indices: Vec<usize> = archive
        .file_names_raw()
        .enumerate()
        .filter(|(_, n)| n.to_ascii_lowercase().ends_with(b"sharedstrings.xml"))
        .map(|(i, _)| i)
        .collect();
    let mut count = 0usize;
    for i in indices {
        let entry = archive
            .by_index(i)
            .map_err(|e| TableError::Unreadable(format!("a damaged XLSX entry: {e}")))?;
        count_strings(entry, &mut count, limits)?;
    }
    Ok(())
}

fn count_strings(entry: impl Read, count: &mut usize, limits: &Limits) -> Result<(), TableError> {
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e))
                if e.local_name().as_ref() == "si" =>
            {
                *count += 1;
                if *count > limits.max_shared_strings {
                    return Err(TableError::too_large(
                        "shared strings",
                        limits.max_shared_strings,
                    ));
                }
            }
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                return Err(TableError::Unreadable(format!(
                    "the workbook's shared strings are damaged: {e}"
                )));
            }
        }
    }
}
