//! `swi serve --demo` as a user starts it: it seeds, answers with the tokens it wrote, refuses
//! requests without one, and seeding again changes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &std::path::Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")])
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(port, "/api/health", None).0 != 200 {
        assert!(Instant::now() < deadline, "swi serve did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
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
        let port = free_port();
        let _server = start(dir.path(), port);
        let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
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
