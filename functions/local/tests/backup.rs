//! `swi store backup` taken while `swi serve` takes enrolments from four clients at once, and
//! `swi store restore` into a fresh data directory: every enrolment acknowledged before the
//! backup began is in the restored store, whose documents and audit ledger verify; a restore
//! refuses a directory that has a store, and a backup whose document was altered.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use support::TODAY;

fn post(port: u16, path: &str, token: &str, key: &str, json: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nIdempotency-Key: {key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned(),
    )
}

fn swi(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_swi"))
        .args(args)
        .env("SWI_TODAY", TODAY)
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", data)
        .output()
        .unwrap()
}

/// A valid resident ID number, different for every `n`.
fn id_number(n: u64) -> String {
    swi_rules::ids::ResidentId::with_check_character(&format!(
        "36070219{:02}{:02}{:02}{:03}",
        80 + n % 15,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    ))
    .unwrap()
    .expose()
    .to_owned()
}

#[test]
fn a_backup_taken_under_load_restores_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = support::demo_server(&data);
    let port = server.port;
    let tokens = std::fs::read_to_string(data.join("demo-tokens.txt")).unwrap();
    let employer = tokens
        .lines()
        .find_map(|l| l.strip_prefix("employer_91360702MA35G6QL6T="))
        .unwrap()
        .to_owned();

    // Four clients enrol persons without pause; each acknowledgement is noted with its time.
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let acked: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, next, acked, employer) = (stop.clone(), next.clone(), acked.clone(), employer.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let body = format!(
                        r#"{{"name":"备份{n}","id_type":"resident_id","id_number":"{}","phone":"13907970150","category":"employee","declared_wage":"5200.00","start":"{TODAY}"}}"#,
                        id_number(n)
                    );
                    let (status, answer) = post(port, "/api/units/91360702MA35G6QL6T/persons", &employer, &format!("backup-load-{n:06}"), &body);
                    if status == 201 || status == 200 {
                        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                        acked.lock().unwrap().push((Instant::now(), v["id"].as_str().unwrap().to_owned()));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let began = Instant::now();
    let backup_dir = dir.path().join("backup");
    let out = swi(&data, &["store", "backup", backup_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    drop(server);
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(t, _)| *t < began)
        .map(|(_, id)| id)
        .collect();
    let after = acked.len() - before.len();
    assert!(
        before.len() >= 10,
        "only {} enrolments before the backup",
        before.len()
    );
    assert!(after >= 1, "the load went on during and after the backup");

    // Restored into a fresh directory: every enrolment acknowledged before the backup is there.
    let restored = dir.path().join("restored");
    let out = swi(
        &restored,
        &["store", "restore", backup_dir.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("; 0 broken"), "{text}");
    let db = rusqlite::Connection::open(restored.join("state.sqlite3")).unwrap();
    let missing: Vec<&String> = before
        .iter()
        .filter(|id| {
            db.query_row(
                "SELECT count(*) FROM items WHERE pk = ?1 AND sk = 'profile'",
                [format!("enrolment#{id}")],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
                == 0
        })
        .copied()
        .collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    println!(
        "backup under load: {} enrolments acknowledged before it, all restored; {after} after it",
        before.len()
    );

    // The restored store serves: the same person keys find the same people.
    drop(db);
    let out = swi(&restored, &["store", "health"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A restore into a directory with a store is refused; an altered document is found.
    let out = swi(
        &restored,
        &["store", "restore", backup_dir.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has a store already"));
    let doc = walk(&backup_dir.join("documents/sha256"))
        .into_iter()
        .next()
        .unwrap();
    let mut perms = std::fs::metadata(&doc).unwrap().permissions();
    #[allow(
        clippy::permissions_set_readonly_false,
        reason = "the test alters a backup on purpose"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(&doc, perms).unwrap();
    let mut bytes = std::fs::read(&doc).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&doc, bytes).unwrap();
    let out = swi(
        &dir.path().join("again"),
        &["store", "restore", backup_dir.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not hash to its name"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
