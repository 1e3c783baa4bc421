//! Hostile files under a memory limit: each is read with the allocator capped a few MiB above
//! what the process already holds, so a reader that allocates to a file's claims aborts the test
//! (red) instead of passing. Cases run one after another in a single test, and this file holds
//! no other test: the cap is global.

use std::alloc::System;
use std::io::Write;

use cap::Cap;
use swi_tables::{Limits, TableError, read};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// What reading any file may cost: a fixed 4 MiB, and 40 bytes per byte of the file (a table's
/// rows and cells held as text), whatever the file claims to hold.
fn budget(len: usize) -> usize {
    (4 << 20) + 40 * len
}

fn capped<T>(what: &str, file: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
    let budget = budget(file.len());
    ALLOCATOR
        .set_limit(ALLOCATOR.allocated() + budget)
        .expect("the cap can be set");
    let out = f(file);
    ALLOCATOR
        .set_limit(usize::MAX)
        .expect("the cap can be lifted");
    eprintln!("{what} ({} bytes): within {} KiB", file.len(), budget >> 10);
    out
}

/// A workbook with these cells (row, column, text) on its first sheet.
fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for &(r, c, t) in cells {
        sheet.write_string(r, c, t).expect("cell written");
    }
    book.save_to_buffer().expect("workbook written")
}

/// A zip archive of these entries, deflated.
fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in entries {
        zip.start_file(*name, options).expect("entry started");
        zip.write_all(data).expect("entry written");
    }
    zip.finish().expect("archive finished").into_inner()
}

fn too_large(r: Result<swi_tables::Table, TableError>) -> String {
    match r {
        Err(TableError::TooLarge { what, .. }) => what,
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn hostile_tables_are_refused_within_a_few_mib() {
    let limits = Limits::DECLARATION;

    // The defect's file: only A1 and XFD1048576 (a dense reader allocates 512 GiB).
    let bomb = workbook(&[(0, 0, "x"), (1_048_575, 16_383, "y")]);
    assert!(bomb.len() < 8 << 10, "{} bytes", bomb.len());
    let what = capped("A1 + XFD1048576", &bomb, |f| too_large(read(f, &limits)));
    assert_eq!(what, "rows");

    // A1 + Z200000 (a dense reader spends 308 MB).
    let tall = workbook(&[(0, 0, "x"), (199_999, 25, "y")]);
    assert_eq!(
        capped("A1 + Z200000", &tall, |f| too_large(read(f, &limits))),
        "rows"
    );

    // A far column on the first row.
    let wide = workbook(&[(0, 0, "x"), (0, 16_383, "y")]);
    assert_eq!(
        capped("A1 + XFD1", &wide, |f| too_large(read(f, &limits))),
        "columns"
    );

    // Within the row limit, a sparse sheet still costs little.
    let sparse = workbook(&[(0, 0, "x"), (99_999, 3, "y")]);
    let table = capped("A1 + D100000", &sparse, |f| read(f, &limits)).expect("sparse sheet read");
    assert_eq!((table.len(), table[99_999][3].as_str()), (100_000, "y"));

    // A zip bomb: 68 MiB of shared strings in under 100 KiB.
    let strings: Vec<u8> = b"<sst>"
        .iter()
        .copied()
        .chain(b"<si><t>a</t></si>".repeat(4 << 20))
        .chain(b"</sst>".iter().copied())
        .collect();
    let zipped = archive(&[("xl/sharedStrings.xml", &strings)]);
    drop(strings);
    let what = capped("zip bomb", &zipped, |f| too_large(read(f, &limits)));
    assert_eq!(what, "uncompressed size in bytes");

    // An archive whose end record claims 65,535 entries.
    let mut claims = archive(&[("a.xml", b"<a/>")]);
    let eocd = claims
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("end record");
    claims[eocd + 8..eocd + 12].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert_eq!(
        capped("claimed entries", &claims, |f| too_large(read(f, &limits))),
        "zip entries"
    );

    // A truncated workbook.
    let whole = workbook(&[(0, 0, "姓名"), (1, 0, "张三")]);
    let cut = &whole[..whole.len() / 2];
    assert!(matches!(
        capped("truncated", cut, |f| read(f, &limits)),
        Err(TableError::Unreadable(_))
    ));

    // A huge string in one cell, CSV and XLSX.
    let csv = format!("name\n{}\n", "长".repeat(5_000));
    assert_eq!(
        capped("huge CSV cell", csv.as_bytes(), |f| too_large(read(
            f, &limits
        ))),
        "characters in one cell"
    );
    let long = "x".repeat(2_000);
    let book = workbook(&[(0, 0, &long)]);
    assert_eq!(
        capped("huge XLSX cell", &book, |f| too_large(read(f, &limits))),
        "characters in one cell"
    );

    // Too many CSV rows.
    let rows = "a,b\n".repeat(100_002);
    assert_eq!(
        capped("CSV rows", rows.as_bytes(), |f| too_large(read(f, &limits))),
        "rows"
    );
}
