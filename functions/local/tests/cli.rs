//! The `swi` binary as an operator uses it: `swi quote` on standard input, `swi params`, and a
//! parameter file supplied at run time.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use swi_rules::ParamSet;

fn swi(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args(args)
        .env_remove("SWI_PARAMS")
        .env("SWI_TODAY", "2025-06-01")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn example() -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/quotes.jsonl")).unwrap()
}

fn answers(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn quote_answers_every_example_line_in_order_and_exits_zero() {
    let input = example();
    let out = swi(&["quote", "--today", "2025-06-01"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers = answers(&out);
    assert_eq!(
        answers.len(),
        input
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
    );
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["id"], i + 1, "answers keep the order of the requests");
    }
    assert_eq!(answers[0]["amount"], "20.36");
    assert_eq!(answers[17]["error"]["code"], "parameter_pending");
    // 2027's holidays are not loaded: the term counts Monday-Friday and says so.
    assert_eq!(answers[18]["date"], "2027-01-11");
    assert_eq!(answers[18]["assumptions"][0]["parameter"], "calendar.2027");
    assert_eq!(answers[19]["error"]["code"], "not_in_force");
}

#[test]
fn quote_exits_non_zero_only_when_standard_input_cannot_be_read() {
    let out = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args(["quote"])
        .stdin(std::fs::File::open("/").unwrap())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input"));
    let out = swi(&["quote"], b"garbage\n{\"kind\":\"x\"}\n");
    assert!(out.status.success());
    assert_eq!(answers(&out).len(), 2);
}

#[test]
fn params_lists_every_parameter_with_its_status() {
    let out = swi(&["params", "--on", "2025-06-01"], b"");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for (name, _) in ParamSet::builtin().unwrap().parameters() {
        assert!(text.contains(name), "{name} missing from swi params");
    }
    for word in [
        "confirmed",
        "secondary",
        "assumed",
        "pending",
        "retirement.male",
        "calendar.2025",
    ] {
        assert!(text.contains(word), "{word} missing");
    }
    assert!(text.contains("5 pending"), "{text}");
}

#[test]
fn params_as_json_lines_say_value_source_and_status() {
    let out = swi(&["params", "--on", "2025-06-01", "--json"], b"");
    let rows = answers(&out);
    let wage = rows
        .iter()
        .find(|r| r["parameter"] == "average_wage.jiangxi")
        .unwrap();
    assert_eq!(wage["status"], "secondary");
    assert!(wage["value"].as_str().unwrap().starts_with("6525"));
    let pending = rows.iter().filter(|r| r["status"] == "pending").count();
    assert_eq!(pending, 5);
    let before = answers(&swi(&["params", "--on", "2024-06-01", "--json"], b""));
    let rate = before
        .iter()
        .find(|r| r["parameter"] == "rate.special")
        .unwrap();
    assert_eq!(rate["status"], "not_in_force");
}

#[test]
fn a_parameter_file_sets_pending_figures_and_a_bad_one_is_refused_whole() {
    let dir = std::env::temp_dir().join(format!("swi-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("city.toml");
    std::fs::write(
        &good,
        r#"
[[param."benefit.wage_subsidy.ratio".values]]
from = "2025-01-01"
value = "0.5"
status = "confirmed"
source = { doc = "赣州市社会保险服务中心 设定", note = "test" }
"#,
    )
    .unwrap();
    let request = br#"{"kind":"benefit","item":"wage_subsidy","category":"employee","on":"2025-06-01","grade":7,"insured_wage":"5000","paid_leave_months":"3"}"#;
    let out = swi(&["--params", good.to_str().unwrap(), "quote"], request);
    assert!(out.status.success());
    assert_eq!(answers(&out)[0]["amount"], "7500.00");
    let listed = swi(
        &[
            "--params",
            good.to_str().unwrap(),
            "params",
            "--on",
            "2025-06-01",
        ],
        b"",
    );
    assert!(
        String::from_utf8(listed.stdout)
            .unwrap()
            .contains("4 pending")
    );

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[param.\"rate.specal\".values]]\nfrom = \"2025-01-01\"\nvalue = \"1\"\nstatus = \"confirmed\"\nsource = { doc = \"x\" }\n").unwrap();
    let out = swi(&["--params", bad.to_str().unwrap(), "quote"], request);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rate.specal") && err.contains("unknown parameter"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is answered with a refused parameter set"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_token_names_its_own_subject_and_lives_a_working_day_at_most() {
    let dir = tempfile::tempdir().unwrap();
    let token = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_swi"))
            .args(["token", "--role", "acceptor", "--county", "360702"])
            .args(args)
            .env("SWI_STORE", "embedded")
            .env("SWI_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    // Without --sub every clerk of a county was one identity to separation of duties.
    assert!(!token(&[]).status.success());
    assert!(
        !token(&["--sub", "clerk-wang", "--hours", "48"])
            .status
            .success()
    );
    let ok = token(&["--sub", "clerk-wang", "--hours", "12"]);
    assert!(ok.status.success(), "{ok:?}");
    assert_eq!(
        String::from_utf8(ok.stdout).unwrap().matches('.').count(),
        2
    );
}
