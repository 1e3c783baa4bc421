//! The supervision step in the running system: every claim, injury and payment line the demo
//! stored through the steps' own routes reads through supervision's views (a step renaming a
//! field the rules read fails here, not in silence); a clerk's attempt at a second step of one
//! claim is refused and, through the `swi serve` worker's watch over the ledger, becomes an
//! alert; and the ledger anchored by `swi run audit-anchor` shows a case's last event deleted.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::TODAY;

/// One HTTP/1.1 request; `body` is JSON sent with an idempotency key.
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: Option<(&str, &str)>,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (extra, payload) = body.map_or((String::new(), ""), |(key, json)| {
        (
            format!(
                "Content-Type: application/json\r\nIdempotency-Key: {key}\r\nContent-Length: {}\r\n",
                json.len()
            ),
            json,
        )
    });
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n{extra}Connection: close\r\n\r\n{payload}"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn swi(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_swi"))
        .args(args)
        .env("SWI_TODAY", TODAY)
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir)
        .output()
        .unwrap()
}

fn mint(dir: &std::path::Path, sub: &str, role: &str, county: &str) -> String {
    let out = swi(
        dir,
        &["token", "--sub", sub, "--role", role, "--county", county],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn bodies(dir: &std::path::Path, pk_like: &str, sk: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("state.sqlite3")).unwrap();
    let mut q = db
        .prepare("SELECT body FROM items WHERE pk LIKE ?1 AND sk = ?2")
        .unwrap();
    q.query_map([pk_like, sk], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_demos_records_read_through_the_views_and_a_refused_second_step_is_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::demo_server(dir.path());
    let port = server.port;

    // Every claim, injury and payment line the demo stored reads through the views.
    let claims = bodies(dir.path(), "claim#%", "profile");
    assert!(claims.len() >= 7, "{}", claims.len());
    for c in &claims {
        serde_json::from_str::<swi_supervision::views::ClaimView>(c)
            .unwrap_or_else(|e| panic!("a claim does not read: {e}: {c}"));
    }
    let injuries = bodies(dir.path(), "injury#%", "profile");
    assert!(!injuries.is_empty());
    for i in &injuries {
        serde_json::from_str::<swi_supervision::views::InjuryView>(i)
            .unwrap_or_else(|e| panic!("an injury does not read: {e}: {i}"));
    }
    let lines = bodies(dir.path(), "payline#%", "line");
    assert!(!lines.is_empty());
    for l in &lines {
        serde_json::from_str::<swi_supervision::views::PaylineView>(l)
            .unwrap_or_else(|e| panic!("a payment line does not read: {e}: {l}"));
    }

    // The demo's acceptor, signed in as a handler too, tries to handle a claim she accepted.
    let handler = mint(dir.path(), "demo-handler-360702", "handler", "360702");
    let (s, queue) = request(
        port,
        "GET",
        "/api/counties/360702/claims?status=handling",
        &handler,
        None,
    );
    assert_eq!(s, 200, "{queue}");
    let queue: serde_json::Value = serde_json::from_str(&queue).unwrap();
    let id = queue["claims"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{queue}"))
        .to_owned();
    let twice = mint(dir.path(), "demo-acceptor-360702", "handler", "360702");
    let (s, body) = request(
        port,
        "POST",
        &format!("/api/claims/{id}/eligibility"),
        &twice,
        Some((
            "second-step-1",
            r#"{"identity_confirmed":true,"contributions_confirmed":true,"recognition_consistent":true}"#,
        )),
    );
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("separation_of_duties"), "{body}");

    // The worker's watch raises it within its lag; the county's supervisor sees who, and where.
    let supervisor = mint(dir.path(), "sup-360702", "supervisor", "360702");
    let started = Instant::now();
    let alert = loop {
        let (s, body) = request(port, "GET", "/api/alerts?county=360702", &supervisor, None);
        assert_eq!(s, 200, "{body}");
        let all: serde_json::Value = serde_json::from_str(&body).unwrap();
        if let Some(a) = all
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "duties_refused")
        {
            break a.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no alert: {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(alert["subject"], format!("claim#{id}"), "{alert}");
    assert_eq!(alert["evidence"]["sub"], "demo-acceptor-360702");

    // The statistics the worker keeps from the ledger count every claim the demo submitted.
    let submitted = claims
        .iter()
        .filter(|c| c.contains("\"submitted_at\":\"2026-"))
        .count();
    let started = Instant::now();
    loop {
        let (s, body) = request(
            port,
            "GET",
            "/api/statistics/360702?year=2026",
            &supervisor,
            None,
        );
        assert_eq!(s, 200, "{body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        let counted = stats["year_total"]["claims_submitted"]
            .as_str()
            .and_then(|n| n.parse::<usize>().ok());
        if counted == Some(submitted) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{submitted} claims: {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(server);

    // The ledger anchored: intact; then a case's last event deleted is found.
    let out = swi(dir.path(), &["run", "audit-anchor"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = swi(dir.path(), &["audit", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    let db = rusqlite::Connection::open(dir.path().join("state.sqlite3")).unwrap();
    // A case whose last event was written on an ended day, so anchored.
    let (pk, sk): (String, String) = db
        .query_row(
            "SELECT pk, sk FROM items AS i WHERE pk LIKE 'audit#%' \
             AND sk = (SELECT max(sk) FROM items WHERE pk = i.pk) \
             AND json_extract(body, '$.at') < ?1 LIMIT 1",
            [TODAY],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        db.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", [&pk, &sk])
            .unwrap(),
        1
    );
    drop(db);
    let out = swi(dir.path(), &["audit", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "a deleted last event passed: {text}");
    let case = pk.trim_start_matches("audit#");
    assert!(text.contains(&format!("broken: {case} at event")), "{text}");
    assert!(text.contains("deleted"), "{text}");
}
