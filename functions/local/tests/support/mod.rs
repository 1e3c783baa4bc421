//! What the tests (and the pages benchmark) that run `swi serve --demo` as a child share: the
//! process guard that stops it by PID, a free port, starting the demo server on a fixed
//! business date and waiting for it, and the demo's accounts.

#![allow(dead_code, reason = "each test binary uses its own part")]
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed and reaped when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The business date every demo server of these tests runs on (`SWI_TODAY`).
pub const TODAY: &str = "2026-06-15";

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`.
pub fn wait_for(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `swi serve --demo` on `port` with its data in `data`, and waits until it serves and
/// its demo accounts are written.
/// With `SWI_TEST_SERVER_LOG=FILE`, the server logs every request to `FILE` (for debugging).
pub fn demo_server(data: &std::path::Path, port: u16) -> Process {
    let log = std::env::var_os("SWI_TEST_SERVER_LOG");
    let server = Process(
        Command::new(env!("CARGO_BIN_EXE_swi"))
            .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")])
            .env("SWI_TODAY", TODAY)
            .env("SWI_STORE", "embedded")
            .env("SWI_DATA_DIR", data)
            .env("SWI_LOG", if log.is_some() { "info" } else { "error" })
            .stdout(Stdio::null())
            .stderr(log.map_or_else(Stdio::null, |f| {
                Stdio::from(std::fs::File::create(f).unwrap())
            }))
            .spawn()
            .unwrap(),
    );
    wait_for(port, "swi serve");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !data.join("demo-accounts.txt").exists() {
        assert!(Instant::now() < deadline, "no demo accounts");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// The demo's accounts: user name → password (`demo-accounts.txt`).
pub fn accounts(data: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(data.join("demo-accounts.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.to_owned()))
        })
        .collect()
}
