//! City parameters through the API: a city-level agency officer records a value for a pending
//! figure and a year's calendar, each with its notice; a second officer confirms; from then the
//! platform's parameters carry them (named by their document number), and a value that breaks
//! the parameter files' rules, an officer of a county, or the recording officer confirming their
//! own value is refused.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, NaiveDate};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use swi_platform::Platform;
use swi_platform::auth::{Claims, ISSUER, TokenKeys};
use swi_platform::clock::FixedClock;
use tower::ServiceExt;

fn platform(dir: &std::path::Path) -> Platform {
    let (state, docs) = swi_store_embedded::open(dir, "http://127.0.0.1:1").unwrap();
    Platform {
        state,
        docs,
        tokens: Arc::new(TokenKeys::from_secret(b"0123456789abcdef0123456789abcdef")),
        persons: Arc::new(swi_platform::pseudonym::PersonKeys::from_secret(&[5; 32]).unwrap()),
        clock: Arc::new(FixedClock(
            DateTime::parse_from_rfc3339("2026-06-01T10:00:00+08:00").unwrap(),
        )),
        base_params: Arc::new(swi_rules::ParamSet::builtin().unwrap().clone()),
        city_params: Default::default(),
        public_url: String::new(),
    }
}

fn token(p: &Platform, sub: &str, county: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    p.tokens
        .mint(&Claims {
            sub: sub.into(),
            role: "agency_officer".into(),
            county: county.into(),
            name: format!("科员{sub}"),
            unit: None,
            iss: ISSUER.into(),
            iat: now - 60,
            exp: now + 3600,
        })
        .unwrap()
}

async fn call(
    p: &Platform,
    method: &str,
    path: &str,
    token: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (app, _) = swi_platform::api::app(p.clone(), vec![]);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", key);
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = app.oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const RATIO: &str = "benefit.wage_subsidy.ratio";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_sets_a_pending_figure_and_a_calendar_with_two_officers() {
    let dir = tempfile::tempdir().unwrap();
    let p = platform(dir.path());
    let scan = swi_platform::documents::received(
        &p,
        "officer-a",
        &mut "%PDF-1.7\n赣市人社字〔2026〕12号 扫描件".as_bytes(),
        1 << 30,
    )
    .await
    .unwrap()
    .hex();
    let (a, b) = (
        token(&p, "officer-a", "360700"),
        token(&p, "officer-b", "360700"),
    );
    let county = token(&p, "officer-c", "360702");
    let june = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    assert!(
        p.params().await.unwrap().value_on(RATIO, june).is_err(),
        "pending before"
    );

    let record = |name: &str, value: &str| {
        json!({
            "setting": { "kind": "value", "name": name, "from": "2026-01-01", "value": value },
            "document_no": "赣市人社字〔2026〕12号", "scan_sha256": scan,
        })
    };
    // Refused: a county's officer; a value the parameter files do not admit; an unknown name.
    let (status, body) = call(
        &p,
        "POST",
        "/api/parameters/city-values",
        &county,
        "cv-county-1",
        Some(record(RATIO, "0.75")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for (i, (name, value)) in [(RATIO, "three quarters"), ("benefit.no_such_thing", "0.75")]
        .iter()
        .enumerate()
    {
        let (status, body) = call(
            &p,
            "POST",
            "/api/parameters/city-values",
            &a,
            &format!("cv-bad-{i}"),
            Some(record(name, value)),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("parameter_refused")),
            "{body}"
        );
    }

    let (status, recorded) = call(
        &p,
        "POST",
        "/api/parameters/city-values",
        &a,
        "cv-ratio-1",
        Some(record(RATIO, "0.75")),
    )
    .await;
    assert_eq!(
        (status, recorded["status"].as_str()),
        (StatusCode::CREATED, Some("recorded")),
        "{recorded}"
    );
    assert!(
        p.params().await.unwrap().value_on(RATIO, june).is_err(),
        "not used before it is confirmed"
    );
    let id = recorded["id"].as_str().unwrap();
    // The notice is registered once, to the value's case in the city's archive (the refused
    // requests registered nothing), and its month's volume finds it.
    let sha = swi_store::Sha256::parse(&scan).unwrap();
    let regs = swi_platform::dossier::registrations(&p, &sha)
        .await
        .unwrap();
    assert_eq!(regs.len(), 1, "{regs:?}");
    let r = &regs[0];
    assert_eq!(
        (
            r.case.as_str(),
            r.county.as_str(),
            r.class.code(),
            r.material.as_str(),
            r.month.as_str(),
            r.by.as_str()
        ),
        (
            format!("city-param#{id}").as_str(),
            "360700",
            "GS15",
            "参数依据文件",
            "2026-06",
            "officer-a"
        )
    );
    let due = p
        .state
        .query_index(
            swi_store::Index::Gsi1,
            &swi_store::Query::partition(swi_platform::dossier::due_partition("360700", "2026-06")),
        )
        .await
        .unwrap();
    assert_eq!(due.items.len(), 1);
    let confirm = format!("/api/parameters/city-values/{id}/confirm");
    let (status, body) = call(&p, "POST", &confirm, &a, "cv-ratio-own", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("separation_of_duties")),
        "{body}"
    );
    let (status, body) = call(&p, "POST", &confirm, &b, "cv-ratio-2", None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("in_force")),
        "{body}"
    );

    let params = p.params().await.unwrap();
    let found = params.value_on(RATIO, june).unwrap();
    assert_eq!(found.value.to_string(), "0.75");
    let (status, rows) = call(
        &p,
        "GET",
        "/api/parameters?on=2026-06-01",
        &county,
        "x-read-1",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["parameter"] == RATIO)
        .unwrap();
    assert_eq!(row["status"], "confirmed");
    assert!(
        row["source"]
            .as_str()
            .unwrap()
            .contains("赣市人社字〔2026〕12号"),
        "{row}"
    );

    // A year's calendar: unloaded (weekends only) until the city records the State Council's
    // notice and a second officer confirms it.
    assert!(!params.calendar_year(2027).unwrap().is_loaded());
    let calendar = json!({
        "setting": { "kind": "calendar", "year": 2027, "holidays": ["2027-01-01", "2027-02-05..2027-02-11"], "workdays": ["2027-02-13"] },
        "document_no": "国办发明电〔2026〕9号", "scan_sha256": scan,
    });
    // Officer b names the scan officer a filed, without having uploaded it: knowing a hash is
    // not having the file.
    let (status, refused) = call(
        &p,
        "POST",
        "/api/parameters/city-values",
        &b,
        "cv-cal-0",
        Some(calendar.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "document_missing");
    swi_platform::documents::received(
        &p,
        "officer-b",
        &mut "%PDF-1.7\n赣市人社字〔2026〕12号 扫描件".as_bytes(),
        1 << 30,
    )
    .await
    .unwrap();
    let (status, recorded) = call(
        &p,
        "POST",
        "/api/parameters/city-values",
        &b,
        "cv-cal-1",
        Some(calendar),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let confirm = format!(
        "/api/parameters/city-values/{}/confirm",
        recorded["id"].as_str().unwrap()
    );
    let (status, _) = call(&p, "POST", &confirm, &a, "cv-cal-2", None).await;
    assert_eq!(status, StatusCode::OK);
    let params = p.params().await.unwrap();
    let cal = params.calendar_year(2027).unwrap();
    assert!(cal.is_loaded());
    assert!(
        !cal.is_working_day(NaiveDate::from_ymd_opt(2027, 2, 8).unwrap()),
        "a holiday"
    );
    assert!(
        cal.is_working_day(NaiveDate::from_ymd_opt(2027, 2, 13).unwrap()),
        "a make-up Saturday"
    );
    // Deadlines computed from then on use it (Art. 18: 3 working days).
    let due = swi_rules::calendar::review_by(&params, NaiveDate::from_ymd_opt(2027, 2, 4).unwrap())
        .unwrap();
    assert_eq!(due.value, NaiveDate::from_ymd_opt(2027, 2, 15).unwrap());
}
