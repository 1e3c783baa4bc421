//! Repository rules as tests: the rules crate stays pure and exact (no I/O, no clock, no async
//! runtime, no floats, no bare `round_dp`), every Rust module says what it is for, and no test
//! takes a business date from the wall clock (such a test turns red on some future day).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target")
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Dependencies the rules crate must never have: async runtimes, cloud SDKs, network, clocks,
/// randomness, databases.
const FORBIDDEN_DEPENDENCIES: [&str; 12] = [
    "tokio",
    "async-std",
    "futures",
    "aws-",
    "reqwest",
    "hyper",
    "rand",
    "rusqlite",
    "sqlx",
    "lambda",
    "axum",
    "std-fs",
];

/// Text that must not appear in the rules crate's sources (outside comments).
const FORBIDDEN_CODE: [(&str, &str); 12] = [
    ("f32", "floats"),
    ("f64", "floats"),
    (".round_dp(", "banker's rounding; use money::round_fen"),
    ("Utc::now", "the clock"),
    ("Local::now", "the clock"),
    ("SystemTime", "the clock"),
    ("Instant::now", "the clock"),
    ("std::fs", "file I/O"),
    ("std::net", "network I/O"),
    ("std::env", "the environment"),
    ("tokio", "an async runtime"),
    ("async fn", "async code"),
];

/// Strips `//` comments (so that a doc sentence may name what is forbidden).
fn code_of(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

fn contains_word(haystack: &str, needle: &str) -> bool {
    let bytes = haystack.as_bytes();
    haystack.match_indices(needle).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + needle.len()).copied();
        let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        needle.starts_with('.') || !(word(before) || word(after))
    })
}

#[test]
fn the_rules_crate_has_no_forbidden_dependency() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
    let table: toml::Table = toml::from_str(&manifest).unwrap();
    for section in ["dependencies", "build-dependencies"] {
        let Some(deps) = table.get(section).and_then(|d| d.as_table()) else {
            continue;
        };
        for name in deps.keys() {
            for bad in FORBIDDEN_DEPENDENCIES {
                assert!(
                    !name.starts_with(bad),
                    "shared/rules must stay pure: `{name}` in [{section}] is forbidden (no I/O, no clock, no async)"
                );
            }
        }
    }
    let features = table
        .get("dependencies")
        .and_then(|d| d.get("chrono"))
        .and_then(|c| c.get("features"));
    assert!(
        features.is_none_or(|f| !format!("{f:?}").contains("clock")),
        "chrono's `clock` feature would give the rules a clock"
    );
}

#[test]
fn the_rules_sources_have_no_float_clock_io_or_bare_round_dp() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    assert!(files.len() > 5);
    let mut hits = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line);
            for (bad, why) in FORBIDDEN_CODE {
                if contains_word(code, bad) {
                    hits.push(format!("{}:{}: `{bad}` ({why})", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "shared/rules must stay pure and exact:\n{}",
        hits.join("\n")
    );
}

#[test]
fn every_rust_module_of_the_workspace_opens_with_a_header() {
    let root = crate_dir().join("../..");
    let mut files = Vec::new();
    for dir in ["shared", "functions"] {
        let dir = root.join(dir);
        if dir.exists() {
            rust_files(&dir, &mut files);
        }
    }
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` header:\n{}",
        missing.join("\n")
    );
}

/// The machine's clock type of `swi_platform::clock`, spelt so that this file does not name it.
const SYSTEM_CLOCK: &str = concat!("System", "Clock");

/// The test code of a Rust file: all of it under `tests/` or `benches/`, else what follows its
/// first `#[cfg(test)]`; comments stripped.
fn test_code(path: &Path, text: &str) -> String {
    let whole = path
        .components()
        .any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "benches")));
    let from = if whole {
        0
    } else {
        text.find("#[cfg(test)]").unwrap_or(text.len())
    };
    text[from..]
        .lines()
        .filter(|l| !l.contains("tidy: wall clock"))
        .map(code_of)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Statements of test code that read a business date from the wall clock: a clock of the machine
/// (the system clock type, `Local`'s now), or `now()` turned into a date. Token lifetimes (`now()` as a
/// timestamp) are real time and allowed; a line marked `tidy: wall clock` is exempt (the clock's
/// own tests).
fn wall_clock_dates(code: &str) -> Vec<String> {
    code.split(';')
        .filter(|stmt| {
            stmt.contains(SYSTEM_CLOCK)
                || stmt.contains("Local::now")
                || stmt.contains("china_today")
                || (stmt.contains("::now()")
                    && ["date_naive", ".date()", "today", "NaiveDate"]
                        .iter()
                        .any(|d| stmt.contains(d)))
        })
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn no_test_takes_a_business_date_from_the_wall_clock() {
    let root = crate_dir().join("../..");
    let mut files = Vec::new();
    for dir in ["shared", "functions", "tests"] {
        let dir = root.join(dir);
        if dir.exists() {
            rust_files(&dir, &mut files);
        }
    }
    let this = crate_dir().join("tests/tidy.rs").canonicalize().unwrap();
    let mut hits = Vec::new();
    for file in &files {
        if file.canonicalize().unwrap() == this {
            continue; // it names what it forbids
        }
        let text = std::fs::read_to_string(file).unwrap();
        for stmt in wall_clock_dates(&test_code(file, &text)) {
            hits.push(format!("{}: {stmt}", file.display()));
        }
    }
    assert!(
        hits.is_empty(),
        "tests must take business dates from a fixed clock (FixedClock, SWI_TODAY), never today's date:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_tidy_checks_can_fail() {
    assert!(contains_word("let x: f64 = 1.0;", "f64"));
    assert!(!contains_word("let half64 = 1;", "f64"));
    assert!(contains_word("d.round_dp(2)", ".round_dp("));
    assert!(!contains_word(
        "d.round_dp_with_strategy(2, s)",
        ".round_dp("
    ));
    assert_eq!(code_of("let a = 1; // f64 in a comment"), "let a = 1; ");
    let lambda = concat!(
        "let today = (chrono::Utc::now() + chrono::TimeDelta::hours(8))",
        ".date_naive();"
    );
    assert_eq!(wall_clock_dates(lambda).len(), 1);
    assert_eq!(
        wall_clock_dates(&format!("let c = {SYSTEM_CLOCK};")).len(),
        1
    );
    assert!(wall_clock_dates("let exp = chrono::Utc::now().timestamp() + 600;").is_empty());
    let src =
        format!("fn f() {{ {SYSTEM_CLOCK}.now(); }}\n#[cfg(test)]\nmod tests {{ fn g() {{}} }}");
    let src = src.as_str();
    assert!(wall_clock_dates(&test_code(Path::new("src/a.rs"), src)).is_empty());
    assert_eq!(
        wall_clock_dates(&test_code(Path::new("x/tests/a.rs"), src)).len(),
        1
    );
}
