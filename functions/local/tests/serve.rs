//! `swi serve --demo` as a user starts it: it seeds, answers with the tokens it wrote, refuses
//! requests without one, and seeding again changes nothing; an approved declaration is applied
//! by the server's own job.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{Server, TODAY};

/// Starts `swi serve --demo` on a port it binds itself; its standard error goes to `log` when
/// given.
fn start_logged(data: &std::path::Path, log: Option<&std::path::Path>) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swi"));
    cmd.args(["serve", "--demo"])
        .env("SWI_TODAY", TODAY)
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", data);
    support::serve(cmd, log)
}

fn start(data: &std::path::Path) -> Server {
    start_logged(data, None)
}

fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    request(port, "GET", path, token, None)
}

/// One HTTP/1.1 request; `body` is JSON sent with an idempotency key.
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &str)>,
) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
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
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}{extra}Connection: close\r\n\r\n{payload}"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[test]
fn the_demo_server_seeds_once_and_answers_with_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let server = start(dir.path());
        let port = server.port;
        let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("demo-tokens.txt"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the demo tokens are the owner's only: {mode:o}"
            );
        }
        let supervisor = tokens
            .lines()
            .find_map(|l| l.strip_prefix("supervisor_city="))
            .unwrap();
        let path = "/api/units/91360702MA35G6QL6T/roster?on=2099-01-01";
        let (status, body) = get(port, path, Some(supervisor));
        assert_eq!(status, 200, "round {round}: {body}");
        assert_eq!(
            body.matches("\"status\":\"covered\"").count(),
            1,
            "the employee is covered for good; {body}"
        );
        let (status, _) = get(port, path, None);
        assert_eq!(status, 401);
    }
}

fn token(tokens: &str, name: &str) -> String {
    tokens
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

#[test]
fn an_approved_declaration_is_applied_by_the_server_itself() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let server = start_logged(dir.path(), Some(&log));
    let port = server.port;
    let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
    let unit = "91360702MA35G6QL6T";
    let (employer, acceptor) = (
        token(&tokens, &format!("employer_{unit}")),
        token(&tokens, "acceptor_360702"),
    );
    // The server's business date decides the month a declaration may cover.
    let today: chrono::NaiveDate = TODAY.parse().unwrap();
    let id = swi_rules::ids::ResidentId::with_check_character("36070219900615123")
        .unwrap()
        .expose()
        .to_owned();
    let csv = dir.path().join("declaration.csv");
    std::fs::write(
        &csv,
        format!(
            "变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n增,周八,{id},employee,5200.00,{today},13907970188\n"
        ),
    )
    .unwrap();
    let put = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args([
            "doc",
            "put",
            csv.to_str().unwrap(),
            "--for",
            "demo-employer",
        ])
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(put.status.success(), "{put:?}");
    let sha = String::from_utf8(put.stdout).unwrap()[..64].to_owned();
    let month = today.format("%Y-%m");
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/units/{unit}/declarations"),
        Some(&employer),
        Some((
            "serve-declaration",
            &format!(r#"{{"month":"{month}","sha256":"{sha}"}}"#),
        )),
    );
    assert_eq!(status, 201, "{body}");
    let did = body
        .split("\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/declarations/{did}/review"),
        Some(&acceptor),
        Some(("serve-review", r#"{"decision":"approve"}"#)),
    );
    assert_eq!(status, 202, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(port, &format!("/api/declarations/{did}"), Some(&employer));
        assert_eq!(status, 200, "{body}");
        if body.contains("\"status\":\"approved\"") {
            assert!(body.contains("\"applied\":1"), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server's job did not apply the declaration: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // A refused enrolment (wrong check digit) and a history query handle ID numbers too.
    let mut wrong = id.clone().into_bytes();
    wrong[17] = if wrong[17] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/units/{unit}/persons"),
        Some(&employer),
        Some((
            "serve-wrong-id",
            &format!(
                r#"{{"name":"吴九","id_type":"resident_id","id_number":"{wrong}","phone":"13907970199","category":"employee","declared_wage":"5000.00","start":"{today}"}}"#
            ),
        )),
    );
    assert_eq!(status, 400, "{body}");
    // The refusal names its request id, in the header and in the error body, and the log line
    // of that request carries it (with the route's pattern, not the values in the path).
    let header_id = body
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .map(str::trim)
        .expect("an x-request-id header")
        .to_owned();
    let answer: serde_json::Value = serde_json::from_str(body_of(&body)).unwrap();
    assert_eq!(
        answer["error"]["request_id"].as_str(),
        Some(header_id.as_str())
    );
    let wrong_request = header_id;
    let (status, body) = request(
        port,
        "POST",
        "/api/persons/history",
        Some(&acceptor),
        Some(("serve-history", &format!(r#"{{"id_number":"{id}"}}"#))),
    );
    assert_eq!(status, 200, "{body}");
    // What the server wrote to its log never holds a resident ID number.
    drop(server);
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.contains("declaration-apply: rows applied 1, declarations finished 1"),
        "the log says what the job did: {written}"
    );
    let line = written
        .lines()
        .find(|l| l.contains(&wrong_request) && l.contains("\"status\":400"))
        .unwrap_or_else(|| panic!("no log line of request {wrong_request}: {written}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["span"]["route"], "/api/units/{code}/persons", "{line}");
    for number in [&id, &wrong] {
        assert!(
            !written.contains(&number[..14]),
            "an ID number in the log: {written}"
        );
    }
}

/// The first number in `body` after `"field":`.
fn number(body: &str, field: &str) -> Option<u64> {
    body.split(&format!("\"{field}\":"))
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_cancellation_killed_mid_job_resumes_and_ends_every_member_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
    let unit = "91360702MA35G6QL6T";
    let (employer, acceptor) = (
        token(&tokens, &format!("employer_{unit}")),
        token(&tokens, "acceptor_360702"),
    );
    // 600 joiners by one declaration: twenty transactions of members for the cancellation.
    let today: chrono::NaiveDate = TODAY.parse().unwrap();
    let mut csv = String::from("变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n");
    for i in 0..600 {
        let id = swi_rules::ids::ResidentId::with_check_character(&format!(
            "3607021985{:02}{:02}{:03}",
            1 + i / 28 % 12,
            1 + i % 28,
            100 + i
        ))
        .unwrap();
        csv.push_str(&format!(
            "增,职工{i},{},employee,5000.00,{today},1390797{i:04}\n",
            id.expose()
        ));
    }
    let file = dir.path().join("joiners.csv");
    std::fs::write(&file, csv).unwrap();
    let put = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args([
            "doc",
            "put",
            file.to_str().unwrap(),
            "--for",
            "demo-employer",
        ])
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(put.status.success(), "{put:?}");
    let sha = String::from_utf8(put.stdout).unwrap()[..64].to_owned();
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/units/{unit}/declarations"),
        Some(&employer),
        Some((
            "kill-declaration",
            &format!(
                r#"{{"month":"{}","sha256":"{sha}"}}"#,
                today.format("%Y-%m")
            ),
        )),
    );
    assert_eq!(status, 201, "{body}");
    let did = body
        .split("\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/declarations/{did}/review"),
        Some(&acceptor),
        Some(("kill-review", r#"{"decision":"approve"}"#)),
    );
    assert_eq!(status, 202, "{body}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !get(port, &format!("/api/declarations/{did}"), Some(&employer))
        .1
        .contains("\"status\":\"approved\"")
    {
        assert!(Instant::now() < deadline, "the declaration was not applied");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Cancel, and kill the server with SIGKILL as soon as its job has ended some members.
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/units/{unit}/cancel"),
        Some(&acceptor),
        Some(("kill-cancel", r#"{"reason":"工伤保险登记注销"}"#)),
    );
    assert_eq!(status, 202, "{body}");
    let seen = loop {
        let (_, body) = get(port, &format!("/api/units/{unit}"), Some(&employer));
        let ended = number(&body, "members_ended").unwrap_or(0);
        if ended > 0 {
            break ended;
        }
        assert!(Instant::now() < deadline, "the job did not start: {body}");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(server);
    eprintln!("killed with {seen} members ended");

    // A restarted server resumes where the killed one stopped, and ends each member once.
    let server = start(dir.path());
    let port = server.port;
    let body = loop {
        let (_, body) = get(port, &format!("/api/units/{unit}"), Some(&employer));
        if body.contains("\"ending_members\":false") {
            break body;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The 600 joiners and the demo's two staff, each ended once: a batch counted twice or
    // missed would show here.
    let ended = number(&body, "members_ended").unwrap();
    assert_eq!(ended, 602, "{body}");
    let (status, roster) = get(
        port,
        &format!("/api/units/{unit}/roster?on={today}"),
        Some(&employer),
    );
    assert_eq!(status, 200);
    assert!(
        !roster.contains("\"status\":\"covered\""),
        "no member of a cancelled unit stays covered: {roster}"
    );
    assert_eq!(roster.matches("\"id\":\"e-").count(), 0, "{roster}");
}

#[test]
fn uploads_go_to_the_port_the_server_listens_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
    // The window's clerk uploads the unit's evidence, and files it.
    let acceptor = token(&tokens, "acceptor_360702");
    let scan = b"%PDF-1.4\n% a scan uploaded through swi serve\n";
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(scan))
    };
    let (status, body) = request(
        port,
        "POST",
        "/api/documents/uploads",
        Some(&acceptor),
        Some((
            "upload-port",
            &format!(
                r#"{{"sha256":"{sha}","size":{},"content_type":"application/pdf"}}"#,
                scan.len()
            ),
        )),
    );
    assert_eq!(status, 200, "{body}");
    let url = body
        .split("\"url\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    // It named port 8080 whatever --addr said.
    let origin = format!("http://127.0.0.1:{port}/");
    let path = url
        .strip_prefix(&origin)
        .unwrap_or_else(|| panic!("{url} is not on {origin}"));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "PUT /{path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        scan.len()
    )
    .unwrap();
    s.write_all(scan).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");

    // The upload waits, unlocked, under its own key in the incoming area; filing it as a case's
    // evidence registers it and moves it to the filed area.
    let id = body
        .split("\"upload_id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    let incoming = dir
        .path()
        .join("documents/incoming")
        .join(format!("upload-{id}"));
    let filed = dir
        .path()
        .join("documents/sha256")
        .join(&sha[..2])
        .join(&sha);
    assert!(incoming.exists() && !filed.exists());
    let (status, body) = request(
        port,
        "POST",
        "/api/work-injury/facts",
        Some(&acceptor),
        Some((
            "file-evidence-1",
            &format!(
                r#"{{"code":"91360702MA35G6QL6T","name":"赣州某某建材有限公司","county":"360702","registration_no":"GS-360702-0001","insured":true,"industry_class":4,"rate_band":"1.2","band_decided_on":"2025-01-01","as_of":"{TODAY}","evidence_sha256":"{sha}"}}"#
            ),
        )),
    );
    assert_eq!(status, 200, "{body}");
    assert!(filed.exists() && !incoming.exists(), "filed with the facts");
}

#[test]
fn an_altered_audit_event_is_found_by_audit_verify_and_health() {
    let dir = tempfile::tempdir().unwrap();
    drop(start(dir.path()));
    let swi = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_swi"))
            .args(args)
            .env("SWI_TODAY", TODAY)
            .env("SWI_STORE", "embedded")
            .env("SWI_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let ok = swi(&["audit", "verify"]);
    let text = String::from_utf8_lossy(&ok.stdout).into_owned();
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("; 0 broken"), "{text}");
    assert!(
        !text.contains(" 0 case-days"),
        "the demo's changes are on the ledger: {text}"
    );
    // Someone with the database file rewrites what an event says was done.
    let db = rusqlite::Connection::open(dir.path().join("state.sqlite3")).unwrap();
    let changed = db
        .execute(
            "UPDATE items SET body = json_set(body, '$.command', 'unit.nothing_happened') \
             WHERE pk LIKE 'audit#unit#%' AND sk = 'seq#000000000001'",
            [],
        )
        .unwrap();
    assert!(changed >= 1);
    drop(db);
    for args in [&["audit", "verify"][..], &["store", "health"][..]] {
        let out = swi(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !out.status.success(),
            "{args:?} passed an altered ledger: {text}"
        );
        assert!(text.contains("broken: unit#"), "{text}");
    }

    // The unit's last event altered too: no change of the unit is recorded on top of it, and the
    // city's supervisors find the alert; a county acceptor may not read alerts.
    let db = rusqlite::Connection::open(dir.path().join("state.sqlite3")).unwrap();
    let changed = db
        .execute(
            "UPDATE items SET body = json_set(body, '$.actor', 'nobody') WHERE pk = \
             'audit#unit#91360702MA35G6QL6T' AND sk = (SELECT max(sk) FROM items \
             WHERE pk = 'audit#unit#91360702MA35G6QL6T')",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    let server = start(dir.path());
    let port = server.port;
    let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
    let employer = token(&tokens, "employer_91360702MA35G6QL6T");
    let (status, body) = request(
        port,
        "PATCH",
        "/api/units/91360702MA35G6QL6T",
        Some(&employer),
        Some((
            "after-tamper-1",
            r#"{"name":"赣州某某建材有限公司（更名）"}"#,
        )),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("audit_chain_broken"), "{body}");
    let (status, body) = get(
        port,
        "/api/alerts?county=360700",
        Some(&token(&tokens, "supervisor_city")),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"subject\":\"unit#91360702MA35G6QL6T\""),
        "{body}"
    );
    let (status, body) = get(
        port,
        "/api/alerts?county=360702",
        Some(&token(&tokens, "acceptor_360702")),
    );
    assert_eq!(status, 403, "{body}");
}

/// The body of an HTTP answer.
fn body_of(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// Whether a schema names what it holds: a reference, an array of references, or a type other
/// than a bare object (a bare `{"type": "object"}` says nothing).
fn names_its_shape(schema: &serde_json::Value) -> bool {
    if schema.get("$ref").is_some() {
        return true;
    }
    match schema.get("type").and_then(|t| t.as_str()) {
        Some("array") => schema.get("items").is_some_and(names_its_shape),
        Some("object") => schema.get("properties").is_some(),
        Some(_) => true,
        None => schema.get("oneOf").or(schema.get("allOf")).is_some(),
    }
}

/// The one OpenAPI document covers the routes the running server has: every documented path
/// and method answers (401 before authentication, so every route is guarded, but the health and
/// the document), its other methods answer 405, a path not documented answers 404 — all in the
/// JSON error shape; every JSON body, asked or answered, has a schema that names its shape; and
/// no step registers a route outside `utoipa_axum::routes!` (which documents it).
#[test]
fn the_openapi_document_is_the_servers_routes() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let port = server.port;
    let (status, answer) = get(port, "/api/openapi.json", None);
    assert_eq!(status, 200, "{answer}");
    let doc: serde_json::Value = serde_json::from_str(body_of(&answer)).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    let public = ["/api/health", "/api/openapi.json"];
    // Open to anyone who holds a form (no sign-in): a made-up code is unknown, a check without
    // a hash is refused — in the JSON error shape, never 401.
    let anonymous = [
        "/api/verifications/{code}",
        "/api/verifications/{code}/check",
    ];
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut problems = Vec::new();
    for (path, ops) in paths {
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in methods {
            let documented = ops.get(method).is_some();
            let upper = method.to_ascii_uppercase();
            let body = (method != "get").then_some(("openapi-probe-1", "{}"));
            let (status, answer) = request(port, &upper, &concrete, None, body);
            let code = serde_json::from_str::<serde_json::Value>(body_of(&answer))
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
            match (documented, public.contains(&path.as_str())) {
                (true, false) if anonymous.contains(&path.as_str()) => {
                    if !matches!(status, 400 | 404) || code.is_none() {
                        problems.push(format!("{upper} {path}: {status} {code:?}, not 400/404"));
                    }
                }
                (true, true) => {
                    if status != 200 {
                        problems.push(format!("{upper} {path}: {status}"));
                    }
                }
                (true, false) => {
                    if status != 401 || code.as_deref() != Some("unauthenticated") {
                        problems.push(format!("{upper} {path}: {status} {code:?}, not 401"));
                    }
                }
                (false, _) => {
                    if status != 405 || code.is_none() {
                        problems.push(format!("{upper} {path}: {status} {code:?}, not 405"));
                    }
                }
            }
            let Some(op) = ops.get(method) else { continue };
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema")
                && !names_its_shape(schema)
            {
                problems.push(format!("{upper} {path}: request body {schema}"));
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                if let Some(schema) = response.pointer("/content/application~1json/schema")
                    && !names_its_shape(schema)
                {
                    problems.push(format!("{upper} {path} {status}: answer {schema}"));
                }
                if status.starts_with('2') && response.get("content").is_none() {
                    problems.push(format!("{upper} {path} {status}: no body documented"));
                }
            }
        }
    }
    // A path outside the document is no route.
    let (status, answer) = get(port, "/api/not-a-route", None);
    assert_eq!(status, 404, "{answer}");
    assert!(body_of(&answer).contains("\"not_found\""), "{answer}");
    assert!(problems.is_empty(), "{problems:#?}");

    // No route is registered but through `routes!` (which documents it): `.route(` appears only
    // where the document's own route and the embedded store's upload stand-in are made.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stack = vec![root.join("functions"), root.join("shared")];
    // (and the test support's stand-in of the Lambda Runtime API, which is no part of the API;
    // and the portal's HTML pages, which are no API either: they call the documented routes).
    let allowed = [
        "functions/portal/src/lib.rs",
        "shared/platform/src/api.rs",
        "shared/store-embedded/src/",
        "shared/testing/src/",
    ];
    let mut stray = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("tests") && !path.ends_with("target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().display().to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains(".route(") && !allowed.iter().any(|a| rel.starts_with(a)) {
                    stray.push(rel);
                }
            }
        }
    }
    assert!(stray.is_empty(), "routes outside routes!: {stray:?}");
}

/// The city sets a pending figure through the running server — one officer records it with the
/// notice, a second confirms — and `swi params --store` (as `swi quote --store`) reads it from
/// the store, naming the notice; without `--store` the figure stays pending.
#[test]
fn a_city_value_set_through_the_api_reaches_swi_params_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let swi = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_swi"))
            .args(args)
            .env("SWI_TODAY", TODAY)
            .env("SWI_STORE", "embedded")
            .env("SWI_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let officer = |sub: &str| {
        swi(&[
            "token",
            "--role",
            "agency_officer",
            "--county",
            "360700",
            "--sub",
            sub,
        ])
        .trim()
        .to_owned()
    };
    let (a, b) = (officer("city-officer-a"), officer("city-officer-b"));
    let scan = dir.path().join("notice.pdf");
    std::fs::write(&scan, "%PDF-1.7\n赣市人社字〔2026〕21号").unwrap();
    let put = swi(&[
        "doc",
        "put",
        scan.to_str().unwrap(),
        "--for",
        "city-officer-a",
    ]);
    let sha = put
        .split_whitespace()
        .find(|w| w.len() == 64)
        .unwrap()
        .to_owned();
    let body = format!(
        r#"{{"setting":{{"kind":"value","name":"benefit.wage_subsidy.ratio","from":"2026-01-01","value":"0.8"}},"document_no":"赣市人社字〔2026〕21号","scan_sha256":"{sha}"}}"#
    );
    let (status, answer) = request(
        port,
        "POST",
        "/api/parameters/city-values",
        Some(&a),
        Some(("city-value-1", &body)),
    );
    assert_eq!(status, 201, "{answer}");
    let recorded: serde_json::Value = serde_json::from_str(body_of(&answer)).unwrap();
    let id = recorded["id"].as_str().unwrap();
    let path = format!("/api/parameters/city-values/{id}/confirm");
    let (status, answer) = request(port, "POST", &path, Some(&b), Some(("city-value-2", "{}")));
    assert_eq!(status, 200, "{answer}");

    let row = |text: &str| {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|r| r["parameter"] == "benefit.wage_subsidy.ratio")
            .unwrap()
    };
    let plain = row(&swi(&["params", "--json"]));
    assert_eq!(plain["status"], "pending", "{plain}");
    let stored = row(&swi(&["params", "--json", "--store"]));
    assert_eq!(stored["status"], "confirmed", "{stored}");
    assert!(
        stored["source"]
            .as_str()
            .unwrap()
            .contains("赣市人社字〔2026〕21号"),
        "{stored}"
    );
}

/// A credit code of `seed` in county 360702, with its check character.
fn credit_code(seed: usize) -> String {
    let stem = format!("913607020{seed:08}");
    b"0123456789ABCDEFGHJKLMNPQRTUWXY"
        .iter()
        .map(|c| format!("{stem}{}", *c as char))
        .find(|code| swi_rules::ids::CreditCode::parse(code).is_ok())
        .unwrap()
}

/// A roster of 9,000 units, its import killed with SIGKILL once the job has written some: the
/// restarted server goes on from where the killed one stopped, and every unit's facts are
/// written exactly once (defect 7).
#[test]
fn a_roster_import_killed_mid_job_resumes_and_writes_every_unit_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
    let acceptor = token(&tokens, "acceptor_360702");
    let mut csv = String::from(
        "统一社会信用代码,单位名称,县区代码,工伤保险登记号,参保状态,行业类别,浮动档次,浮动决定日期,数据日期\n",
    );
    for i in 0..9000 {
        csv.push_str(&format!(
            "{},单位{i},360702,GS-{i:05},参保,4,1.2,2025-01-01,{TODAY}\n",
            credit_code(i)
        ));
    }
    let file = dir.path().join("roster.csv");
    std::fs::write(&file, csv).unwrap();
    let put = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args([
            "doc",
            "put",
            file.to_str().unwrap(),
            "--for",
            "demo-acceptor-360702",
        ])
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let sha = String::from_utf8(put.stdout).unwrap()[..64].to_owned();
    let (status, body) = request(
        port,
        "POST",
        "/api/work-injury/roster",
        Some(&acceptor),
        Some(("kill-roster", &format!(r#"{{"sha256":"{sha}"}}"#))),
    );
    assert_eq!(status, 202, "{body}");
    let import: serde_json::Value = serde_json::from_str(body_of(&body)).unwrap();
    let path = format!("/api/work-injury/roster/{}", import["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(240);
    let seen = loop {
        let (_, body) = get(port, &path, Some(&acceptor));
        let cursor = number(&body, "cursor").unwrap_or(0);
        if cursor > 0 {
            break cursor;
        }
        assert!(Instant::now() < deadline, "the job did not start: {body}");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(server);
    assert!(seen < 9000, "killed before the end ({seen} rows)");

    let server = start(dir.path());
    let port = server.port;
    let body = loop {
        let (_, body) = get(port, &path, Some(&acceptor));
        if body.contains("\"status\":\"imported\"") {
            break body;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(number(&body, "imported"), Some(9000), "{body}");
    // Each unit's facts written once: created at version 1, never written again.
    let db = rusqlite::Connection::open(dir.path().join("state.sqlite3")).unwrap();
    let (written, rewritten): (i64, i64) = db
        .query_row(
            "SELECT count(*), sum(version > 1) FROM items WHERE pk LIKE 'wi#913607020%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((written, rewritten), (9000, 0));
}
