//! What the tests (and the pages benchmark) that run servers as children share: the guard
//! that stops one by PID, starting one on a port it binds itself and waiting for the line that
//! names it, the demo server on a fixed business date, and the demo's accounts.

#![allow(dead_code, reason = "each test binary uses its own part")]
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The business date every demo server of these tests runs on (`SWI_TODAY`).
pub const TODAY: &str = "2026-06-15";

/// A running server, stopped by PID when dropped, what it announced on read to the end.
pub struct Server {
    child: Child,
    /// Where it listens (the port the system gave it).
    pub port: u16,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Everything it wrote is in the log once the server is dropped.
        if let Some(d) = self.drain.take() {
            let _ = d.join();
        }
    }
}

impl Server {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL, as a crash would (then reaps it).
    pub fn kill9(self) {
        drop(self);
    }
}

/// Which of a server's streams announces its port.
#[derive(Clone, Copy)]
pub enum Announces {
    OnStdout,
    OnStderr,
}

/// Starts `cmd`, a server told to listen on port 0 (one the system picks), and waits for the
/// line `port_of` reads its port from. No other test can take the port between choosing and
/// binding it, as it could with a port chosen first and bound later (the demo server binds
/// seconds after starting). The announcing stream goes on to `log` when given.
pub fn announced(
    mut cmd: Command,
    stream: Announces,
    port_of: fn(&str) -> Option<u16>,
    log: Option<&std::path::Path>,
) -> Server {
    use std::io::{BufRead, Write};
    let (out, err) = match stream {
        Announces::OnStdout => (Stdio::piped(), Stdio::null()),
        Announces::OnStderr => (Stdio::null(), Stdio::piped()),
    };
    let mut child = cmd.stdout(out).stderr(err).spawn().unwrap();
    let said: Box<dyn std::io::Read + Send> = match stream {
        Announces::OnStdout => Box::new(child.stdout.take().unwrap()),
        Announces::OnStderr => Box::new(child.stderr.take().unwrap()),
    };
    let mut log = log.map(|l| std::fs::File::create(l).unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || {
        let mut waiting = Some(tx);
        let mut before = Vec::new();
        for line in std::io::BufReader::new(said).lines() {
            let Ok(line) = line else { break };
            if let Some(f) = log.as_mut() {
                let _ = writeln!(f, "{line}");
            }
            if let Some(tx) = &waiting {
                match port_of(&line) {
                    Some(port) => {
                        let _ = tx.send(Ok(port));
                        waiting = None;
                    }
                    None => before.push(line),
                }
            }
        }
        if let Some(tx) = waiting {
            let _ = tx.send(Err(before.join("\n")));
        }
    });
    let what = format!("{:?}", cmd.get_program());
    let mut server = Server {
        child,
        port: 0,
        drain: Some(drain),
    };
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(port)) => server.port = port,
        Ok(Err(said)) => panic!("{what} stopped before listening:\n{said}"),
        Err(_) => panic!("{what} did not come up in 120 s"),
    }
    server
}

/// The port of `swi serve`'s "listening on http://ADDR" line, written once it serves.
fn serving_port(line: &str) -> Option<u16> {
    let rest = line.split("swi serve: listening on http://").nth(1)?;
    let addr = rest.split_whitespace().next()?;
    addr.parse::<std::net::SocketAddr>().ok().map(|a| a.port())
}

/// Starts `swi serve` as `cmd` (its subcommand and environment) on a port it binds itself, and
/// waits until it serves. Standard error goes on to `log` when given.
pub fn serve(mut cmd: Command, log: Option<&std::path::Path>) -> Server {
    cmd.args(["--addr", "127.0.0.1:0"]);
    announced(cmd, Announces::OnStderr, serving_port, log)
}

/// Starts `swi serve --demo` with its data in `data` on the fixed business date, and waits
/// until it serves (its demo accounts written).
/// With `SWI_TEST_SERVER_LOG=FILE`, the server logs every request to `FILE` (for debugging).
pub fn demo_server(data: &std::path::Path) -> Server {
    demo_server_on(data, TODAY)
}

/// `swi serve --demo` on `data` on the business date `today` (a store seeded before is left as
/// it is: the same data, days later).
pub fn demo_server_on(data: &std::path::Path, today: &str) -> Server {
    let log = std::env::var_os("SWI_TEST_SERVER_LOG");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swi"));
    cmd.args(["serve", "--demo"])
        .env("SWI_TODAY", today)
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", data)
        .env("SWI_LOG", if log.is_some() { "info" } else { "error" });
    let server = serve(cmd, log.as_deref().map(std::path::Path::new));
    assert!(data.join("demo-accounts.txt").exists(), "no demo accounts");
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
