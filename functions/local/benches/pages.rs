//! The portal's pages under a bounded local load (run `cargo bench -p swi --bench pages
//! [-- REQUESTS CONCURRENCY]`, release): `swi serve --demo` on a port it binds, the clerk's queue
//! page and a claim page requested by CONCURRENCY clients at once (one connection a request),
//! each beside the JSON API call behind the same page, measured in the same run: pages per
//! second, p50 and p99 latency, bytes per answer, and the page's cost as a ratio of the API's.
//! Figures are printed, never asserted.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::float_arithmetic,
    reason = "a benchmark prints its figures (in floating point, never money) and fails loudly"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

/// One request: (status, headers, body bytes).
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head, raw[split + 4..].to_vec())
}

fn cookie_of(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn field(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap();
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Latencies (sorted), wall time, bytes of one answer.
struct Run {
    latencies: Vec<Duration>,
    wall: Duration,
    bytes: usize,
}

fn load(port: u16, path: &str, headers: &str, total: usize, concurrency: usize) -> Run {
    let (status, _, body) = request(port, "GET", path, headers, "");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    let start = Instant::now();
    let per = (total / concurrency).max(1);
    let mut latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|_| {
                s.spawn(|| {
                    (0..per)
                        .map(|_| {
                            let t = Instant::now();
                            let (status, _, _) = request(port, "GET", path, headers, "");
                            assert_eq!(status, 200);
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let wall = start.elapsed();
    latencies.sort();
    Run {
        latencies,
        wall,
        bytes: body.len(),
    }
}

fn pct(l: &[Duration], p: f64) -> f64 {
    let i = ((l.len() as f64 - 1.0) * p).round() as usize;
    l[i].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(2000);
    let concurrency = args.get(1).copied().unwrap_or(4).max(1);
    let dir = tempfile::tempdir().unwrap();
    let server = support::demo_server(dir.path());
    let port = server.port;
    let password = support::accounts(dir.path())["acceptor-360702"].clone();
    let tokens = std::fs::read_to_string(dir.path().join("demo-tokens.txt")).unwrap();
    let token = tokens
        .lines()
        .find_map(|l| l.strip_prefix("acceptor_360702="))
        .unwrap()
        .to_owned();
    // Sign in through the form, as the window's clerk.
    let (_, head, body) = request(port, "GET", "/signin", "", "");
    let pre = cookie_of(&head, "swi_signin").unwrap();
    let csrf = field(&String::from_utf8_lossy(&body), "csrf");
    let form = format!("csrf={csrf}&next=%2F&username=acceptor-360702&password={password}");
    let (status, head, _) = request(
        port,
        "POST",
        "/signin",
        &format!("Cookie: {pre}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
        &form,
    );
    assert_eq!(status, 303);
    let session = cookie_of(&head, "swi_session").unwrap();
    let page_headers = format!("Cookie: {session}\r\n");
    let api_headers = format!("Authorization: Bearer {token}\r\n");
    let (_, _, queue) = request(
        port,
        "GET",
        "/api/counties/360702/claims?status=approved",
        &api_headers,
        "",
    );
    let queue: serde_json::Value = serde_json::from_slice(&queue).unwrap();
    let id = queue["claims"][0]["id"].as_str().unwrap().to_owned();

    println!(
        "portal pages under load: {total} requests a target, {concurrency} at once, one connection each (swi serve --demo, release)"
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "target", "req/s", "p50 ms", "p99 ms", "bytes", "vs API"
    );
    for (name, page, api) in [
        (
            "clerk queue (at the window)",
            "/work?status=submitted".to_owned(),
            "/api/counties/360702/claims?status=submitted&limit=50".to_owned(),
        ),
        (
            "claim page",
            format!("/claims/{id}"),
            format!("/api/claims/{id}"),
        ),
    ] {
        let a = load(port, &api, &api_headers, total, concurrency);
        let p = load(port, &page, &page_headers, total, concurrency);
        let rps = |r: &Run| r.latencies.len() as f64 / r.wall.as_secs_f64();
        println!(
            "{:<34} {:>9.0} {:>9.2} {:>9.2} {:>9} {:>10}",
            format!("API  {name}"),
            rps(&a),
            pct(&a.latencies, 0.5),
            pct(&a.latencies, 0.99),
            a.bytes,
            "1.00x"
        );
        println!(
            "{:<34} {:>9.0} {:>9.2} {:>9.2} {:>9} {:>9.2}x",
            format!("page {name}"),
            rps(&p),
            pct(&p.latencies, 0.5),
            pct(&p.latencies, 0.99),
            p.bytes,
            pct(&p.latencies, 0.5) / pct(&a.latencies, 0.5)
        );
    }
}
