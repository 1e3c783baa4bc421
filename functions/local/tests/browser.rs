//! The portal in a real browser: headless Chromium driven through chromedriver (`fantoccini`),
//! against `swi serve --demo`. A claim goes from handling through three more clerks — each their
//! own person (Art. 5) — to its approved forms, which the unit's clerk then downloads; on every
//! page visited axe-core's WCAG 2.1 A/AA rules must find nothing; a screenshot of the page is
//! saved under `target/browser-screenshots/` when a step fails.
//!
//! Needs Chromium, chromedriver and axe-core: `infra/browser` installs them and prints their
//! paths; `infra/test` runs this with `--ignored` and those paths in `CHROMEDRIVER`, `CHROMIUM`
//! and `AXE`.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a test fails loudly on what it does not expect; a journey reads top to bottom"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

mod support;

use support::{Process, accounts, demo_server, free_port, wait_for};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A browser session with what it needs to check pages.
struct Browser {
    c: Client,
    base: String,
    axe: String,
    shots: std::path::PathBuf,
    visited: Vec<String>,
}

impl Browser {
    async fn open(driver: u16, base: &str) -> Self {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": env("CHROMIUM", "/usr/bin/chromium"),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                    "--lang=zh-CN"
                ]
            }),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver}"))
            .await
            .unwrap();
        let axe = std::fs::read_to_string(env(
            "AXE",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.swi/tools/axe/node_modules/axe-core/axe.min.js"
            ),
        ))
        .expect("axe-core: run infra/browser");
        let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/browser-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            c,
            base: base.to_owned(),
            axe,
            shots,
            visited: Vec::new(),
        }
    }

    /// Fails the test after saving a screenshot of the page as it is.
    async fn fail(&self, name: &str, why: String) -> ! {
        if let Ok(png) = self.c.screenshot().await {
            let path = self.shots.join(format!("{name}.png"));
            let _ = std::fs::write(&path, png);
            panic!("{why}\n(screenshot: {})", path.display());
        }
        panic!("{why}");
    }

    /// Saves a screenshot of the page as it is (the README's pictures come from here).
    async fn picture(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn ensure(&self, ok: bool, name: &str, why: impl Into<String>) {
        if !ok {
            self.fail(name, why.into()).await;
        }
    }

    async fn source(&self) -> String {
        self.c.source().await.unwrap()
    }

    /// axe-core's WCAG 2.1 A and AA rules on the page: no violation.
    async fn accessible(&mut self, name: &str) {
        let url = self.c.current_url().await.unwrap().to_string();
        self.c
            .execute(&format!("{}\nreturn true;", self.axe), vec![])
            .await
            .unwrap();
        let found = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' @ ' +
                     v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        let found: Vec<String> = serde_json::from_value(found).unwrap();
        self.visited.push(url.clone());
        self.ensure(
            found.is_empty(),
            name,
            format!("accessibility of {url}: {found:#?}"),
        )
        .await;
    }

    async fn go(&mut self, path: &str, name: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.accessible(name).await;
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.c.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str, name: &str) {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e.click().await.unwrap(),
            Err(e) => self.fail(name, format!("no {css}: {e}")).await,
        }
    }

    /// Submits a form by its button and waits for the page that answers.
    async fn submit(&self, css: &str, name: &str) {
        self.c
            .execute("window.__swiOld = true; return true;", vec![])
            .await
            .unwrap();
        self.click(css, name).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let fresh = self
                .c
                .execute(
                    "return window.__swiOld === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .unwrap_or(Value::Bool(false));
            if fresh == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                self.fail(name, format!("no page answered {css}")).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn sign_in(&mut self, user: &str, password: &str) {
        self.go("/signin", &format!("signin-{user}")).await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.submit("main button[type=submit]", &format!("signin-{user}"))
            .await;
        let page = self.source().await;
        self.ensure(
            page.contains("您好"),
            &format!("signed-in-{user}"),
            format!("{user} did not get home: {page}"),
        )
        .await;
        self.accessible(&format!("home-{user}")).await;
    }

    async fn sign_out(&mut self) {
        self.submit("header form button[type=submit]", "signout")
            .await;
    }

    /// The first claim the queue at `status` lists.
    async fn first_in_queue(&mut self, status: &str, name: &str) -> String {
        self.go(&format!("/work?status={status}"), name).await;
        let page = self.source().await;
        let Some(at) = page.find("href=\"/claims/c-") else {
            self.fail(name, format!("the {status} queue is empty: {page}"))
                .await;
        };
        let rest = &page[at + 14..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn a_claim_goes_through_four_clerks_to_its_forms_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = demo_server(dir.path(), port);
    let accounts = accounts(dir.path());
    let driver_port = free_port();
    let _driver = Process(
        Command::new(env("CHROMEDRIVER", "chromedriver"))
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver: run infra/browser"),
    );
    wait_for(driver_port, "chromedriver");
    let mut b = Browser::open(driver_port, &format!("http://127.0.0.1:{port}")).await;

    // Handling: the handler confirms eligibility.
    b.sign_in("handler-360702", &accounts["handler-360702"])
        .await;
    let id = b.first_in_queue("handling", "queue-handling").await;
    b.picture("page-queue").await;
    b.go(&format!("/claims/{id}"), "claim-handling").await;
    for check in ["#identity", "#contributions", "#recognition"] {
        b.click(check, "eligibility").await;
    }
    b.fill("#eligibility-text", "身份、缴费、认定一致").await;
    b.submit("form[action$='/act/eligibility'] button", "eligibility")
        .await;
    let page = b.source().await;
    b.ensure(page.contains("初审中"), "after-eligibility", page.clone())
        .await;
    b.accessible("after-eligibility").await;
    b.sign_out().await;

    // First review: a wrong date is said next to its field, what was typed stays; then sent.
    b.sign_in("first-reviewer-360702", &accounts["first-reviewer-360702"])
        .await;
    b.go(&format!("/claims/{id}"), "claim-first-review").await;
    b.fill("#stay1_admitted", "2026-03-32").await;
    b.fill("#stay1_discharged", "2026-03-30").await;
    b.fill("#opinion", "按住院天数核定护理补助").await;
    b.submit(
        "form[action$='/first-review'] button[type=submit]",
        "first-review",
    )
    .await;
    let page = b.source().await;
    b.ensure(
        page.contains("role=\"alert\"") && page.contains("请按 年-月-日 填写日期"),
        "first-review-invalid",
        page.clone(),
    )
    .await;
    b.ensure(
        page.contains("按住院天数核定护理补助") && page.contains("2026-03-30"),
        "first-review-kept",
        "what was typed is kept",
    )
    .await;
    b.accessible("first-review-invalid").await;
    b.fill("#stay1_admitted", "2026-03-20").await;
    b.submit(
        "form[action$='/first-review'] button[type=submit]",
        "first-review",
    )
    .await;
    let page = b.source().await;
    b.ensure(page.contains("复核中"), "after-first-review", page.clone())
        .await;
    b.ensure(
        page.contains("依据"),
        "after-first-review",
        "each amount explained",
    )
    .await;
    b.accessible("after-first-review").await;
    b.sign_out().await;

    // Re-review.
    b.sign_in("re-reviewer-360702", &accounts["re-reviewer-360702"])
        .await;
    b.go(&format!("/claims/{id}"), "claim-re-review").await;
    b.fill("#re-review-text", "同意初审意见").await;
    b.submit("form[action$='/act/re-review'] button", "re-review")
        .await;
    let page = b.source().await;
    b.ensure(page.contains("待录入"), "after-re-review", page.clone())
        .await;
    b.sign_out().await;

    // Entry and approval by the first-review post: the forms appear.
    b.sign_in("first-reviewer-360702", &accounts["first-reviewer-360702"])
        .await;
    b.go(&format!("/claims/{id}"), "claim-entry").await;
    b.submit("form[action$='/act/approve'] button", "approve")
        .await;
    let page = b.source().await;
    b.ensure(page.contains("已核定"), "after-approve", page.clone())
        .await;
    b.ensure(
        page.contains(&format!("/claims/{id}/forms/assessment")),
        "after-approve",
        "the assessment form is linked",
    )
    .await;
    b.accessible("after-approve").await;
    b.sign_out().await;

    // The unit's clerk follows the claim and downloads the form.
    b.sign_in("employer-claims", &accounts["employer-claims"])
        .await;
    b.go("/claims", "mine-employer").await;
    let page = b.source().await;
    b.ensure(page.contains(&id), "mine-employer", page.clone())
        .await;
    b.go("/unit", "unit").await;
    b.go(&format!("/claims/{id}"), "claim-employer").await;
    b.picture("page-claim").await;
    let pdf: Value = b
        .c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.arrayBuffer().then(a =>
               done([r.status, r.headers.get('content-type'), new TextDecoder('latin1').decode(new Uint8Array(a).slice(0, 5))])));",
            vec![json!(format!("/claims/{id}/forms/assessment"))],
        )
        .await
        .unwrap();
    b.ensure(
        pdf[0] == 200 && pdf[1] == "application/pdf" && pdf[2] == "%PDF-",
        "form-download",
        format!("{pdf}"),
    )
    .await;
    b.sign_out().await;

    // Oversight: the supervisor's alerts and queues, the parameters in force.
    b.sign_in("supervisor-city", &accounts["supervisor-city"])
        .await;
    b.go("/alerts", "alerts").await;
    b.go("/alerts?county=360702&status=closed", "alerts-closed")
        .await;
    b.go("/work?status=approved&county=360702", "queue-supervisor")
        .await;
    b.go("/parameters", "parameters").await;
    b.go("/verify", "verify").await;
    b.c.close().await.unwrap();
}
