//! Runs every golden regulation case of `tests/regulation/*.toml` through the quote handler.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use swi_quote::Quoter;
use swi_rules::ParamSet;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: toml::Table,
    expect: toml::Table,
    #[serde(default)]
    articles: Option<Vec<u64>>,
    #[serde(default)]
    assumptions: Option<Vec<String>>,
    #[serde(default)]
    today: Option<String>,
    #[serde(default)]
    params: Option<String>,
    #[serde(default)]
    absent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

fn regulation_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/regulation")
}

fn check(case: &Case, answer: &Value) -> Result<(), String> {
    let expect = serde_json::to_value(&case.expect).map_err(|e| e.to_string())?;
    for (key, want) in expect.as_object().into_iter().flatten() {
        let got = if key == "error" {
            &answer["error"]["code"]
        } else {
            &answer[key]
        };
        if got != want {
            return Err(format!("`{key}`: expected {want}, got {got}"));
        }
    }
    if expect.get("error").is_none() && answer.get("error").is_some() {
        return Err(format!("unexpected error {}", answer["error"]));
    }
    for key in &case.absent {
        if answer.get(key).is_some() {
            return Err(format!("`{key}` must be absent, got {}", answer[key]));
        }
    }
    if let Some(articles) = &case.articles {
        let want: BTreeSet<u64> = articles.iter().copied().collect();
        let got: BTreeSet<u64> = answer["basis"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["doc"] == "赣市人社字〔2025〕7号")
            .filter_map(|c| c["article"].as_u64())
            .collect();
        if want != got {
            return Err(format!("basis articles: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(assumptions) = &case.assumptions {
        let want: BTreeSet<&str> = assumptions.iter().map(String::as_str).collect();
        let got: BTreeSet<&str> = answer["assumptions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["parameter"].as_str())
            .collect();
        if want != got {
            return Err(format!("assumptions: expected {want:?}, got {got:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_golden_case_holds() {
    let params = ParamSet::builtin().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(regulation_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "golden files missing: {files:?}");
    let mut failures = Vec::new();
    let mut count = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in &file.case {
            count += 1;
            let today = case
                .today
                .as_deref()
                .map_or(NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(), |t| {
                    t.parse().unwrap()
                });
            let merged;
            let set = match &case.params {
                Some(overlay) => {
                    merged = params.merged(&case.name, overlay).unwrap_or_else(|e| {
                        panic!("{}: parameter overlay refused: {e}", case.name)
                    });
                    &merged
                }
                None => params,
            };
            let quoter = Quoter::new(set, today);
            let request = serde_json::to_string(&case.request).unwrap();
            let line = quoter.answer_str(&request);
            let answer: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{}: answer is not JSON ({e}): {line}", case.name));
            if let Err(why) = check(case, &answer) {
                let file = path.file_name().unwrap().to_string_lossy();
                failures.push(format!("{file}: {}: {why}\n    answer: {line}", case.name));
            }
        }
    }
    assert!(count >= 100, "only {count} golden cases");
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_successful_answer_carries_basis_and_assumptions() {
    let params = ParamSet::builtin().unwrap();
    let quoter = Quoter::new(params, NaiveDate::from_ymd_opt(2025, 6, 1).unwrap());
    for path in std::fs::read_dir(regulation_dir()).unwrap() {
        let path = path.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let file: File = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in file.case {
            let line = quoter.answer_str(&serde_json::to_string(&case.request).unwrap());
            let answer: Value = serde_json::from_str(&line).unwrap();
            if answer.get("error").is_none() {
                assert!(
                    answer["basis"].as_array().is_some_and(|b| !b.is_empty()),
                    "{}: no basis",
                    case.name
                );
                assert!(answer["assumptions"].is_array(), "{}", case.name);
            } else {
                assert!(
                    answer["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
                );
            }
        }
    }
}
