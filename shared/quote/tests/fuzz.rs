//! Fuzz-style tests of the quote handler: malformed and random lines, random JSON objects built
//! from the protocol's own field names, random bytes. Every line gets exactly one JSON answer and
//! nothing panics.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use swi_quote::{KINDS, Quoter, run};
use swi_rules::ParamSet;

fn quoter() -> Quoter<'static> {
    Quoter::new(
        ParamSet::builtin().unwrap(),
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    )
}

const FIELDS: [&str; 30] = [
    "category",
    "month",
    "wage",
    "industry_class",
    "rate_band",
    "cost",
    "on",
    "paid_leave",
    "stays",
    "entered",
    "paid",
    "approved",
    "received",
    "value",
    "birth",
    "resident_id",
    "track",
    "agreement_end",
    "injury_date",
    "wages",
    "project",
    "item",
    "advanced_by_unit",
    "premium_income",
    "grade",
    "insured_wage",
    "fees",
    "days",
    "dependants",
    "retirement_on",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[0-9]{1,8}(\\.[0-9]{0,4})?".prop_map(Value::String),
        "20[0-9]{2}-[0-1][0-9](-[0-3][0-9])?(T[0-2][0-9]:[0-5][0-9](:00)?(Z|\\+08:00)?)?"
            .prop_map(Value::String),
        "[0-9X]{15,19}".prop_map(Value::String),
        prop::sample::select(vec![
            "employee",
            "flexible",
            "over_age",
            "intern",
            "medical",
            "nursing_subsidy",
            "male",
            "female_50",
            "spouse",
            "",
            "中文",
            "\u{0}",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        any::<String>().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "from",
                    "to",
                    "admitted",
                    "discharged",
                    "month",
                    "wage",
                    "relation",
                    "x"
                ]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn request() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(KINDS.to_vec())),
        prop::collection::btree_map(prop::sample::select(FIELDS.to_vec()), value(), 0..8),
        any::<bool>(),
    )
        .prop_map(|(kind, fields, with_id)| {
            let mut m = Map::new();
            if let Some(k) = kind {
                m.insert("kind".into(), json!(k));
            }
            if with_id {
                m.insert("id".into(), json!("req-1"));
            }
            for (k, v) in fields {
                m.insert(k.to_owned(), v);
            }
            Value::Object(m).to_string()
        })
}

fn assert_one_answer(line: &str, answer: &str) {
    assert!(!answer.contains('\n'), "answer spans lines for {line:?}");
    let v: Value = serde_json::from_str(answer)
        .unwrap_or_else(|e| panic!("answer is not JSON ({e}) for {line:?}: {answer}"));
    let obj = v.as_object().expect("answer is an object");
    if let Some(err) = obj.get("error") {
        assert!(err["code"].as_str().is_some_and(|c| !c.is_empty()));
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    } else {
        assert!(obj.contains_key("basis"), "success without basis: {answer}");
        assert!(
            obj.contains_key("assumptions"),
            "success without assumptions: {answer}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_requests_get_one_json_answer(line in request()) {
        let answer = quoter().answer_str(&line);
        assert_one_answer(&line, &answer);
    }

    #[test]
    fn arbitrary_text_gets_one_json_answer(line in "[^\n]{0,200}") {
        let answer = quoter().answer_str(&line);
        assert_one_answer(&line, &answer);
        prop_assert!(answer.contains("\"error\""));
    }

    #[test]
    fn random_bytes_get_one_answer_per_line(lines in prop::collection::vec(prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..80), 1..20)) {
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let mut output = Vec::new();
        let stats = run(&quoter(), input.as_slice(), &mut output).unwrap();
        prop_assert_eq!(stats.lines as usize, lines.len());
        let text = String::from_utf8(output).unwrap();
        prop_assert_eq!(text.lines().count(), lines.len());
        for answer in text.lines() {
            assert_one_answer("<bytes>", answer);
        }
    }
}

#[test]
fn malformed_lines_are_answered_in_order_and_the_rest_still_computed() {
    let input = concat!(
        "{\"kind\":\"premium\",\"category\":\"flexible\",\"month\":\"2025-03\",\"wage\":\"1\"}\n",
        "{\"kind\":\"premium\"\n",
        "\n",
        "[1,2,3]\n",
        "null\n",
        "{\"kind\":\"premium\",\"category\":\"flexible\",\"month\":\"2025-03\",\"wage\":1000}\n",
        "{\"kind\":\"pay_by\",\"approved\":\"2025-01-24\"}\r\n",
        "\u{feff}{\"kind\":\"pay_by\"}\n",
        "{\"kind\":\"pay_by\",\"approved\":\"2025-01-24\"}",
    );
    let mut output = Vec::new();
    run(&quoter(), input.as_bytes(), &mut output).unwrap();
    let answers: Vec<Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 9);
    assert_eq!(answers[0]["amount"], "20.36");
    for i in [1, 2, 3, 4, 5, 7] {
        assert_eq!(
            answers[i]["error"]["code"],
            "invalid_request",
            "line {}",
            i + 1
        );
    }
    assert_eq!(answers[6]["date"], "2025-02-13");
    assert_eq!(answers[8]["date"], "2025-02-13");
}

#[test]
fn the_id_is_echoed_on_answers_and_errors() {
    let q = quoter();
    let ok: Value = serde_json::from_str(
        &q.answer_str(r#"{"id":{"n":[1]},"kind":"pay_by","approved":"2025-01-24"}"#),
    )
    .unwrap();
    assert_eq!(ok["id"], json!({"n": [1]}));
    let err: Value =
        serde_json::from_str(&q.answer_str(r#"{"id":"a\"b","kind":"pay_by"}"#)).unwrap();
    assert_eq!(err["id"], "a\"b");
    assert_eq!(err["error"]["code"], "invalid_request");
}

#[test]
fn a_resident_id_is_never_echoed_in_an_error() {
    let q = quoter();
    let answer = q.answer_str(
        r#"{"kind":"eligibility","category":"flexible","resident_id":"360702198001011239","on":"2025-06-01"}"#,
    );
    assert!(!answer.contains("360702198001011239"), "{answer}");
}
