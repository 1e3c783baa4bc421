//! The portal in a real browser: headless Chromium driven through chromedriver (`fantoccini`),
//! against `swi serve --demo`, one journey per role:
//! - a citizen is verified at the window, enrols herself and uploads a scan;
//! - an employer uploads a month's declaration with one bad row, downloads the report, fixes
//!   the file and sees it reviewed and applied;
//! - a citizen files her own claim and its missing material; four clerks — each their own
//!   person (Art. 5) — take it to its approved forms, which she downloads;
//! - the archivist finds June filed by the scheduled job after the month ended, reads a
//!   volume's cover and contents, runs its checks, records its paper copy, holds it and
//!   extends its period, and the supervisor reads it;
//!
//! and the unit's clerk and the supervisor read theirs. Uploads run as the page's script does
//! them (hashed with WebCrypto, PUT to the store); the plain form path without script is
//! `tests/portal.rs`'s. On every page visited axe-core's WCAG 2.1 A/AA rules must find
//! nothing; a screenshot of the page is saved under `target/browser-screenshots/` when a step
//! fails.
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

use support::{Announces, Server, TODAY, accounts, announced, demo_server, demo_server_on};

/// A demo server, chromedriver and a browser on them; dropped together.
struct Setup {
    b: Browser,
    accounts: std::collections::BTreeMap<String, String>,
    dir: tempfile::TempDir,
    _server: Server,
    _driver: Server,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    browse(dir, server).await
}

/// A browser on `server`, whose data is in `dir`.
async fn browse(dir: tempfile::TempDir, server: Server) -> Setup {
    let port = server.port;
    let accounts = accounts(dir.path());
    let mut chromedriver = Command::new(env("CHROMEDRIVER", "chromedriver"));
    chromedriver.arg("--port=0");
    let driver = announced(chromedriver, Announces::OnStdout, driver_port, None);
    let b = Browser::open(driver.port, &format!("http://127.0.0.1:{port}")).await;
    Setup {
        b,
        accounts,
        dir,
        _server: server,
        _driver: driver,
    }
}

/// The port of chromedriver's "ChromeDriver was started successfully on port N." line.
fn driver_port(line: &str) -> Option<u16> {
    line.split("started successfully on port ")
        .nth(1)?
        .trim_end_matches('.')
        .trim()
        .parse()
        .ok()
}

/// A valid resident ID number from its first 17 digits.
fn id_number(first17: &str) -> String {
    swi_rules::ids::ResidentId::with_check_character(first17)
        .unwrap()
        .expose()
        .to_owned()
}

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

    /// Sets a date input's value as its picker would (typing into one follows the browser's
    /// locale).
    async fn pick_date(&self, css: &str, date: &str) {
        self.c
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1]; return true;",
                vec![json!(css), json!(date)],
            )
            .await
            .unwrap();
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

    /// Chooses `file` in the upload page's file input and sends it; waits for the page after.
    async fn upload(&mut self, file: &std::path::Path, name: &str) {
        let input = match self.c.find(Locator::Css("#file")).await {
            Ok(e) => e,
            Err(e) => self.fail(name, format!("no file input: {e}")).await,
        };
        input.send_keys(&file.display().to_string()).await.unwrap();
        self.submit("form[data-store-upload] button[type=submit]", name)
            .await;
    }

    /// Waits until the page, reloaded, contains `text`.
    async fn until(&mut self, path: &str, text: &str, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
            if self.source().await.contains(text) {
                return;
            }
            if Instant::now() > deadline {
                self.fail(name, format!("{path} never showed {text}")).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// What a same-origin fetch of `path` answers: status, content type, first bytes.
    async fn fetch(&self, path: &str) -> Value {
        self.c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0]).then(r => r.arrayBuffer().then(a =>
                   done([r.status, r.headers.get('content-type'), new TextDecoder('latin1').decode(new Uint8Array(a).slice(0, 5))])));",
                vec![json!(path)],
            )
            .await
            .unwrap()
    }

    /// The whole body of a same-origin fetch of `path`, as bytes.
    async fn fetch_bytes(&self, path: &str) -> Vec<u8> {
        let v = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0]).then(r => r.arrayBuffer().then(a => done(Array.from(new Uint8Array(a)))));",
                vec![json!(path)],
            )
            .await
            .unwrap();
        serde_json::from_value(v).unwrap()
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
async fn a_citizen_files_her_claim_and_four_clerks_take_it_to_its_forms() {
    // Every field bound: what is left out of a pattern is dropped (and its process stopped) at
    // once.
    let Setup {
        mut b,
        accounts,
        dir,
        _server,
        _driver,
    } = setup().await;
    let scan = dir.path().join("discharge-summary.pdf");
    std::fs::write(&scan, b"%PDF-1.4\n% discharge summary of the claimant\n").unwrap();

    // The citizen files her own claim from her injury's page: nothing chosen is said at its
    // place; then the nursing subsidy; the material it still needs is uploaded from the claim.
    b.sign_in("citizen-claims", &accounts["citizen-claims"])
        .await;
    b.go("/injuries", "injuries").await;
    let page = b.source().await;
    let Some(at) = page.find("href=\"/injuries/i-") else {
        b.fail("injuries", format!("no injury listed: {page}"))
            .await;
    };
    let injury = page[at + 6..][..page[at + 6..].find('"').unwrap()].to_owned();
    b.go(&injury, "injury").await;
    b.submit("form#claim button[type=submit]", "claim-empty")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("请至少选择一项待遇") && page.contains("id=\"items-error\""),
        "claim-empty",
        page.clone(),
    )
    .await;
    b.accessible("claim-empty").await;
    b.click("#item-nursing_subsidy", "claim").await;
    b.submit("form#claim button[type=submit]", "claim").await;
    let page = b.source().await;
    b.ensure(page.contains("待受理"), "claim-submitted", page.clone())
        .await;
    b.accessible("claim-submitted").await;
    let url = b.c.current_url().await.unwrap();
    let id = url.path().trim_start_matches("/claims/").to_owned();
    b.submit(
        "form[action='/uploads/new']:has(input[value*='discharge_summary']) button",
        "upload-start",
    )
    .await;
    b.accessible("upload-page").await;
    b.upload(&scan, "upload-discharge-summary").await;
    let page = b.source().await;
    b.ensure(
        page.contains("材料已上传") && !page.contains("<strong>尚未提交</strong>"),
        "after-upload",
        page.clone(),
    )
    .await;
    b.accessible("after-upload").await;
    b.sign_out().await;

    // The window accepts it.
    b.sign_in("acceptor-360702", &accounts["acceptor-360702"])
        .await;
    b.go(&format!("/claims/{id}"), "claim-accept").await;
    b.submit("form[action$='/act/accept'] button", "accept")
        .await;
    let page = b.source().await;
    b.ensure(page.contains("承办中"), "after-accept", page.clone())
        .await;
    b.sign_out().await;

    // Handling: the handler confirms eligibility.
    b.sign_in("handler-360702", &accounts["handler-360702"])
        .await;
    b.first_in_queue("handling", "queue-handling").await;
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
    b.fill("#stay1_admitted", "2026-04-32").await;
    b.fill("#stay1_discharged", "2026-04-20").await;
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
        page.contains("按住院天数核定护理补助") && page.contains("2026-04-20"),
        "first-review-kept",
        "what was typed is kept",
    )
    .await;
    b.accessible("first-review-invalid").await;
    b.fill("#stay1_admitted", "2026-04-08").await;
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

    // The citizen follows her claim and downloads its form.
    b.sign_in("citizen-claims", &accounts["citizen-claims"])
        .await;
    b.go("/claims", "mine-citizen").await;
    let page = b.source().await;
    b.ensure(page.contains(&id), "mine-citizen", page.clone())
        .await;
    b.go(&format!("/claims/{id}"), "claim-citizen").await;
    b.picture("page-claim").await;
    let pdf = b.fetch(&format!("/claims/{id}/forms/assessment")).await;
    b.ensure(
        pdf[0] == 200 && pdf[1] == "application/pdf" && pdf[2] == "%PDF-",
        "form-download",
        format!("{pdf}"),
    )
    .await;
    b.sign_out().await;

    // The unit's clerk sees it among the unit's claims.
    b.sign_in("employer-claims", &accounts["employer-claims"])
        .await;
    b.go("/claims", "mine-employer").await;
    let page = b.source().await;
    b.ensure(page.contains(&id), "mine-employer", page.clone())
        .await;
    b.go("/unit", "unit").await;
    b.go(&format!("/claims/{id}"), "claim-employer").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn a_citizen_verified_at_the_window_enrols_herself_and_uploads_a_scan() {
    // Every field bound: what is left out of a pattern is dropped (and its process stopped) at
    // once.
    let Setup {
        mut b,
        accounts,
        dir,
        _server,
        _driver,
    } = setup().await;
    // An administrator opens her account (the password on standard input).
    let mut add = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args([
            "user",
            "add",
            "--username",
            "lin-xiaofang",
            "--role",
            "citizen",
            "--county",
            "360702",
            "--name",
            "林小芳",
        ])
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(add.stdin.as_mut().unwrap(), b"lin-xiaofang-passw0rd\n").unwrap();
    drop(add.stdin.take());
    assert!(add.wait().unwrap().success());
    let id = id_number("36070219950303264");
    let card = dir.path().join("id-card.png");
    std::fs::write(&card, b"\x89PNG\r\n\x1a\n id card of lin xiaofang").unwrap();
    let contract = dir.path().join("platform-agreement.pdf");
    std::fs::write(&contract, b"%PDF-1.4\n% platform agreement\n").unwrap();

    // She has no verified ID number yet: her pages say where to go.
    b.sign_in("lin-xiaofang", "lin-xiaofang-passw0rd").await;
    b.go("/cover", "cover-unverified").await;
    let page = b.source().await;
    b.ensure(page.contains("实名核验"), "cover-unverified", page.clone())
        .await;
    b.sign_out().await;

    // The window checks her ID card: the scan first, then the form.
    b.sign_in("acceptor-360702", &accounts["acceptor-360702"])
        .await;
    b.go("/window/identities", "identity").await;
    b.submit("#scan button", "identity-upload-start").await;
    b.accessible("identity-upload").await;
    b.upload(&card, "identity-upload").await;
    b.accessible("identity-scanned").await;
    b.fill("#username", "lin-xiaofang").await;
    b.fill("#name", "林小芳").await;
    b.fill("#id_number", "360702199503032640").await;
    b.submit("form#verify button[type=submit]", "identity-wrong")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("id=\"id_number-error\"") && page.contains("林小芳"),
        "identity-wrong",
        page.clone(),
    )
    .await;
    b.accessible("identity-wrong").await;
    b.fill("#id_number", &id).await;
    b.submit("form#verify button[type=submit]", "identity")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("已完成实名核验"),
        "identity-done",
        page.clone(),
    )
    .await;
    b.sign_out().await;

    // She enrols herself: a wage that is not an amount is said next to it, the rest kept.
    b.sign_in("lin-xiaofang", "lin-xiaofang-passw0rd").await;
    b.go("/cover", "cover").await;
    b.go("/enrol", "enrol").await;
    b.fill("#name", "林小芳").await;
    b.fill("#id_number", &id).await;
    b.fill("#phone", "13907970123").await;
    b.click("#category-platform_food_delivery", "enrol").await;
    b.fill("#declared_wage", "四千二").await;
    b.pick_date("#start", TODAY).await;
    b.submit("form#enrol button[type=submit]", "enrol-invalid")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("id=\"declared_wage-error\"") && page.contains("13907970123"),
        "enrol-invalid",
        page.clone(),
    )
    .await;
    b.accessible("enrol-invalid").await;
    b.fill("#declared_wage", "4200.00").await;
    b.submit("form#enrol button[type=submit]", "enrol").await;
    let page = b.source().await;
    b.ensure(
        page.contains("参保登记已提交") && page.contains("待提交材料"),
        "enrolled",
        page.clone(),
    )
    .await;
    b.accessible("enrolled").await;
    b.submit(
        "form[action='/uploads/new']:has(input[value*='platform_worker_agreement']) button",
        "enrolment-upload-start",
    )
    .await;
    b.upload(&contract, "enrolment-upload").await;
    let page = b.source().await;
    b.ensure(
        page.contains("已上传：平台与从业人员的协议"),
        "enrolment-uploaded",
        page.clone(),
    )
    .await;
    b.accessible("enrolment-uploaded").await;
    for material in [
        "platform_qualification",
        "registration_info_sealed",
        "work_scope",
    ] {
        b.submit(
            &format!("form[action='/uploads/new']:has(input[value*='{material}']) button"),
            "enrolment-upload-start",
        )
        .await;
        b.upload(&contract, &format!("enrolment-upload-{material}"))
            .await;
    }
    let page = b.source().await;
    b.ensure(
        page.contains("待窗口受理"),
        "materials-complete",
        page.clone(),
    )
    .await;
    let enrolment = b.c.current_url().await.unwrap().path().to_owned();
    b.go("/cover", "cover-enrolled").await;
    b.sign_out().await;

    // The window finds it in its queue and returns it with a one-time notice.
    b.sign_in("acceptor-360702", &accounts["acceptor-360702"])
        .await;
    b.go("/work", "work-enrolments").await;
    let page = b.source().await;
    b.ensure(page.contains(&enrolment), "work-enrolments", page.clone())
        .await;
    b.go(&enrolment, "enrolment-window").await;
    b.click("#reject-platform_worker_agreement", "return").await;
    b.fill("#problems", "平台与从业人员的协议未加盖公章").await;
    b.submit("form[action$='/act/return'] button", "return")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("已退回补正") && page.contains("平台与从业人员的协议未加盖公章"),
        "returned",
        page.clone(),
    )
    .await;
    b.accessible("returned").await;
    b.go("/work", "work-after-return").await;
    let page = b.source().await;
    b.ensure(!page.contains(&enrolment), "left-the-queue", page.clone())
        .await;
    b.sign_out().await;

    // She reads the notice and downloads it.
    b.sign_in("lin-xiaofang", "lin-xiaofang-passw0rd").await;
    b.go(&enrolment, "enrolment-returned").await;
    let pdf = b.fetch(&format!("{enrolment}/notice.pdf")).await;
    b.ensure(
        pdf[0] == 200 && pdf[1] == "application/pdf" && pdf[2] == "%PDF-",
        "notice-download",
        format!("{pdf}"),
    )
    .await;
    b.c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn an_employer_fixes_a_refused_declaration_and_sees_it_applied() {
    // Every field bound: what is left out of a pattern is dropped (and its process stopped) at
    // once.
    let Setup {
        mut b,
        accounts,
        dir,
        _server,
        _driver,
    } = setup().await;
    let month = &TODAY[..7];
    let rows = |second: &str| {
        format!(
            "变动类型,姓名,公民身份号码,人员类别,申报工资,变动日期,手机号码\n增,赵一,{},employee,4800.00,{TODAY},13907970001\n增,钱二,{second},employee,4800.00,{TODAY},13907970002\n",
            id_number("36070219900101123")
        )
    };
    let bad = dir.path().join("declaration-bad.csv");
    let good = dir.path().join("declaration.csv");
    let wrong = id_number("36070219910202234").replace('X', "0");
    let wrong = format!(
        "{}{}",
        &wrong[..17],
        if wrong.ends_with('1') { '2' } else { '1' }
    );
    std::fs::write(&bad, rows(&wrong)).unwrap();
    std::fs::write(&good, rows(&id_number("36070219910202234"))).unwrap();

    b.sign_in("employer-360702", &accounts["employer-360702"])
        .await;
    b.go("/unit/declarations", "declarations").await;
    b.fill("#month", month).await;
    b.submit("form#declare button", "declare-start").await;
    b.upload(&bad, "declare-bad").await;
    let page = b.source().await;
    b.ensure(
        page.contains("申报未受理") && page.contains("第 3 行"),
        "declare-refused",
        page.clone(),
    )
    .await;
    b.accessible("declare-refused").await;
    let report = page[page.find("href=\"/reports/").unwrap() + 6..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let xlsx = b.fetch(&report).await;
    b.ensure(
        xlsx[0] == 200 && xlsx[2].as_str().is_some_and(|s| s.starts_with("PK")),
        "report",
        format!("{xlsx}"),
    )
    .await;
    b.go("/unit/declarations", "declarations-again").await;
    b.fill("#month", month).await;
    b.submit("form#declare button", "declare-start-2").await;
    b.upload(&good, "declare-good").await;
    let page = b.source().await;
    b.ensure(page.contains("待审核"), "declared", page.clone())
        .await;
    b.accessible("declared").await;
    let declaration = b.c.current_url().await.unwrap().path().to_owned();
    b.sign_out().await;

    // The county's window reviews it: a rejection needs its reason; then approved.
    b.sign_in("acceptor-360702", &accounts["acceptor-360702"])
        .await;
    b.go("/work", "work-declarations").await;
    let page = b.source().await;
    b.ensure(
        page.contains(&declaration),
        "work-declarations",
        page.clone(),
    )
    .await;
    b.go(&declaration, "declaration-review").await;
    b.submit("button[value=reject]", "reject-empty").await;
    let page = b.source().await;
    b.ensure(
        page.contains("id=\"note-error\""),
        "reject-empty",
        page.clone(),
    )
    .await;
    b.accessible("reject-empty").await;
    b.submit("button[value=approve]", "approve").await;
    b.sign_out().await;

    // The employer sees it applied, every row (its joiners then wait for the premium).
    b.sign_in("employer-360702", &accounts["employer-360702"])
        .await;
    b.until(&declaration, "已办结", "applied").await;
    b.accessible("applied").await;
    let page = b.source().await;
    b.ensure(page.contains("已办理 2 / 2 行"), "applied", page.clone())
        .await;
    b.go(&format!("/unit?on={TODAY}"), "roster").await;
    b.c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn an_employer_sees_a_bill_and_its_arrears() {
    let Setup {
        mut b,
        accounts,
        dir: _dir,
        _server,
        _driver,
    } = setup().await;
    // The demo's logistics unit: billed monthly since its staff joined in January, paid by the
    // tax bureau's receipts for February and March; April is overdue since 15 May (Art. 21).
    b.sign_in("employer-claims", &accounts["employer-claims"])
        .await;
    b.go("/unit", "unit-arrears").await;
    let page = b.source().await;
    b.ensure(
        page.contains("自 2026-04 起欠缴"),
        "unit-arrears",
        page.clone(),
    )
    .await;
    // This year's re-rating: the notice states the old and the new rate.
    let link =
        b.c.find(Locator::Css("a[href^='/rates/notices/']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
    let pdf = b.fetch_bytes(&link).await;
    let path = _dir.path().join("rate-notice.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).replace(char::is_whitespace, "");
    b.ensure(
        text.contains("补充工伤保险费率浮动（重核）告知书")
            && text.contains("浮动档次100%：参保职工0.33%，特定人员1.43%")
            && text.contains("浮动档次120%：参保职工0.396%，特定人员1.496%"),
        "rate-notice",
        text.clone(),
    )
    .await;
    b.click("a[href='/bills']", "to-bills").await;
    b.accessible("bills").await;
    let page = b.source().await;
    b.ensure(
        page.contains("欠费提醒") && page.contains("自 2026-04 起有 1 个月未缴"),
        "bills-arrears",
        page.clone(),
    )
    .await;
    b.ensure(
        page.contains("已缴费") && page.contains("2026-03") && page.contains(">欠费<"),
        "bills-rows",
        page.clone(),
    )
    .await;
    b.click("a[href='/bills/b-202604-91360702MA35H7RM4A']", "to-bill")
        .await;
    b.accessible("bill").await;
    let page = b.source().await;
    b.ensure(
        page.contains("2026-04 应缴额核定单")
            && page.contains("明细")
            && page.contains("第 5 类")
            && page.contains("欠费"),
        "bill",
        page.clone(),
    )
    .await;
    b.sign_out().await;

    // The county's window sees the arrears and can download them.
    b.sign_in("acceptor-360702", &accounts["acceptor-360702"])
        .await;
    b.go("/bills", "bills-clerk").await;
    let page = b.source().await;
    b.ensure(
        page.contains("赣州市章贡区示范物流有限公司") && page.contains("2026-04"),
        "bills-clerk",
        page.clone(),
    )
    .await;
    b.c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn the_agency_officer_approves_the_payment_request_and_the_citizen_sees_her_payment() {
    let Setup {
        mut b,
        accounts,
        dir: _dir,
        _server,
        _driver,
    } = setup().await;
    // The contractor's finance: the county's lines due, the month's cycle with its request.
    b.sign_in("finance-360702", &accounts["finance-360702"])
        .await;
    b.go("/payments", "payments-finance").await;
    let page = b.source().await;
    b.ensure(
        page.contains("待支付") && page.contains("月度资金周期") && page.contains("2026-06"),
        "payments-finance",
        page.clone(),
    )
    .await;
    b.sign_out().await;

    // The agency's officer opens this month's cycle, downloads the request and approves it.
    b.sign_in("officer-360702", &accounts["officer-360702"])
        .await;
    b.go("/payments", "payments-officer").await;
    b.click("a[href='/payments/cycles/360702/2026-06']", "to-cycle")
        .await;
    b.accessible("cycle").await;
    let page = b.source().await;
    b.ensure(
        page.contains("已提交请款计划") && page.contains("工伤医疗待遇支出"),
        "cycle-submitted",
        page.clone(),
    )
    .await;
    let pdf = b
        .fetch("/payments/cycles/360702/2026-06/requests/1?format=pdf")
        .await;
    b.ensure(
        pdf[0] == 200 && pdf[2] == "%PDF-",
        "request-pdf",
        pdf.to_string(),
    )
    .await;
    b.submit("#decide button[value=approve_request]", "approve")
        .await;
    b.accessible("cycle-approved").await;
    let page = b.source().await;
    b.ensure(
        page.contains("请款计划已批准") && page.contains("第 1 次请款：批准"),
        "cycle-approved",
        page.clone(),
    )
    .await;
    b.sign_out().await;

    // The citizen sees her nursing subsidy paid to her card, masked.
    b.sign_in("citizen-paid", &accounts["citizen-paid"]).await;
    b.click("a[href='/payments']", "to-payments").await;
    b.accessible("payments-citizen").await;
    let page = b.source().await;
    b.ensure(
        page.contains("停工留薪期护理补助")
            && page.contains("已支付")
            && page.contains("6218 **** ")
            && !page.contains("62188000000169"),
        "payments-citizen",
        page.clone(),
    )
    .await;
    b.c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn the_archivist_reads_the_month_filed_after_it_ended_and_keeps_a_volume() {
    // The demo's June, seeded on its day; then the same store on 2 July, when the daily
    // archive-open has filed June.
    let dir = tempfile::tempdir().unwrap();
    drop(demo_server(dir.path()));
    let server = demo_server_on(dir.path(), "2026-07-02");
    let Setup {
        mut b,
        accounts,
        dir: _dir,
        _server,
        _driver,
    } = browse(dir, server).await;
    b.sign_in("archivist-360702", &accounts["archivist-360702"])
        .await;
    b.click("a[href='/archive']", "to-archive").await;
    b.accessible("archive").await;
    let page = b.source().await;
    b.ensure(
        page.contains("全宗号 J001") && page.contains("立即归档"),
        "archive-settings",
        page.clone(),
    )
    .await;
    b.until("/archive?month=2026-06", "J001-SB", "archive-june")
        .await;
    b.accessible("archive-june").await;
    // Filed once: the archivist asking again is told so.
    b.go("/archive", "archive-again").await;
    b.c.execute(
        "document.querySelector('#month').value = '2026-06'; return true;",
        vec![],
    )
    .await
    .unwrap();
    b.submit("form[action='/archive/filings'] button", "file-again")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("该月已在归档或已归档"),
        "file-again",
        page.clone(),
    )
    .await;
    b.accessible("file-again").await;
    // A volume: its cover and contents, its sheets as PDFs, its package.
    b.go("/archive?month=2026-06", "archive-june").await;
    let page = b.source().await;
    // A volume of a fixed period (a permanent one is never appraised).
    let Some(at) = page.find("href=\"/archive/volumes/J001-SB%2E2026-D") else {
        b.fail("volume-link", page).await;
    };
    let rest = &page[at + 6..];
    let href = rest[..rest.find('"').unwrap()].to_owned();
    b.go(&href, "volume").await;
    let page = b.source().await;
    b.ensure(
        page.contains("案卷封面")
            && page.contains("卷内目录")
            && page.contains("章贡区补充工伤保险承办机构")
            && page.contains("0001"),
        "volume",
        page.clone(),
    )
    .await;
    for sheet in ["cover.pdf", "contents.pdf", "notes.pdf"] {
        let got = b.fetch(&format!("{href}/{sheet}")).await;
        b.ensure(got[0] == 200 && got[2] == "%PDF-", sheet, got.to_string())
            .await;
    }
    let tar = b.fetch_bytes(&format!("{href}/package.tar")).await;
    b.ensure(
        tar.len() > 512 && tar[257..262] == *b"ustar",
        "package",
        format!("{} bytes", tar.len()),
    )
    .await;
    // The four checks now: every row passes.
    b.submit("form[action$='/checks'] button", "checks").await;
    b.accessible("checks").await;
    let page = b.source().await;
    b.ensure(
        page.contains("长期保存环节") && page.contains("全部通过"),
        "checks",
        page.clone(),
    )
    .await;
    // Its paper copy's place; a hold and its release; an extension of its period.
    b.fill("#box", "2026-06-01").await;
    b.fill("#shelf", "A-03-2").await;
    b.submit("form[action$='/paper'] button", "paper").await;
    let page = b.source().await;
    b.ensure(
        page.contains("2026-06-01 盒 A-03-2 架（以纸质为准）"),
        "paper",
        page.clone(),
    )
    .await;
    b.fill("#hold-reason", "稽核调阅").await;
    b.submit("form[action$='/hold'] button", "hold").await;
    let page = b.source().await;
    b.ensure(page.contains("本卷已冻结：稽核调阅"), "hold", page.clone())
        .await;
    b.accessible("held").await;
    b.fill("#hold-reason", "调阅完毕").await;
    b.submit("form[action$='/release'] button", "release").await;
    let page = b.source().await;
    b.ensure(page.contains("未冻结"), "release", page.clone())
        .await;
    b.fill("#appraisal-reason", "涉及长期待遇，延长保管").await;
    b.fill("#years", "10").await;
    b.c.execute(
        "document.querySelector('#decision').value = 'extend'; return true;",
        vec![],
    )
    .await
    .unwrap();
    b.submit("form[action$='/appraisal'] button", "appraise")
        .await;
    b.until(&href, "延长保管期限：已执行", "extended").await;
    b.accessible("extended").await;
    // The handover register: the volume listed with its paper copy, to download and sign.
    b.click("a[href='/archive/handover']", "to-handover").await;
    b.accessible("handover").await;
    let page = b.source().await;
    b.ensure(
        page.contains("移交清册") && page.contains("A-03-2") && page.contains("swi archive import"),
        "handover",
        page.clone(),
    )
    .await;
    let xlsx = b.fetch("/archive/handover/register.xlsx").await;
    b.ensure(
        xlsx[0] == 200 && xlsx[2].as_str().is_some_and(|h| h.starts_with("PK")),
        "handover-xlsx",
        xlsx.to_string(),
    )
    .await;
    b.sign_out().await;

    // The supervisor reads it.
    b.sign_in("supervisor-city", &accounts["supervisor-city"])
        .await;
    b.go(&href, "volume-supervisor").await;
    let page = b.source().await;
    b.ensure(
        page.contains("案卷封面") && page.contains("延长保管期限：已执行"),
        "volume-supervisor",
        page.clone(),
    )
    .await;
    b.c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Chromium, chromedriver and axe-core: infra/test installs them (infra/browser) and runs it"]
async fn the_supervisor_works_an_alert_from_raised_to_closed_and_reads_the_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let Setup {
        mut b,
        accounts,
        dir: _dir,
        _server,
        _driver,
    } = browse(dir, server).await;
    b.sign_in("supervisor-360702", &accounts["supervisor-360702"])
        .await;
    // The demo's acceptor tried to handle a claim she accepted: refused, and raised.
    b.click("a[href='/alerts']", "to-alerts").await;
    b.accessible("alerts").await;
    let page = b.source().await;
    let Some(at) = page.find("href=\"/alerts/duties_refused") else {
        b.fail("alert-listed", page).await;
    };
    let rest = &page[at + 6..];
    let href = rest[..rest.find('"').unwrap()].to_owned();
    b.go(&href, "alert").await;
    b.accessible("alert").await;
    let page = b.source().await;
    b.ensure(
        page.contains("demo-acceptor-360702") && page.contains("第五条") && page.contains("待分派"),
        "alert",
        page.clone(),
    )
    .await;
    // Taken by the supervisor herself, investigated, closed with a finding.
    b.fill("#assign_text", "调取审核日志核查").await;
    b.submit("form[action$='/act/assign'] button", "assign")
        .await;
    let page = b.source().await;
    b.ensure(
        page.contains("核查中") && page.contains("已分派"),
        "assigned",
        page.clone(),
    )
    .await;
    b.fill(
        "#note_text",
        "经查：受理人员误用承办岗位账号，系统已拒绝，未造成办理。",
    )
    .await;
    b.submit("form[action$='/act/note'] button", "note").await;
    b.accessible("noted").await;
    b.c.execute(
        "document.querySelector('#outcome').value = 'confirmed'; return true;",
        vec![],
    )
    .await
    .unwrap();
    b.fill("#finding", "受理人员试图办理同一申领的承办环节")
        .await;
    b.fill("#measures", "约谈提醒，重申岗位分离要求").await;
    b.submit("form[action$='/act/close'] button", "close").await;
    b.accessible("closed").await;
    let page = b.source().await;
    b.ensure(
        page.contains("已办结") && page.contains("情况属实") && page.contains("重申岗位分离要求"),
        "closed",
        page.clone(),
    )
    .await;
    // The register of the year lists it, with its XLSX.
    b.click("a[href='/alerts/register']", "to-register").await;
    b.accessible("register").await;
    let page = b.source().await;
    b.ensure(page.contains("约谈提醒"), "register", page.clone())
        .await;
    let xlsx = b.fetch("/alerts/register.xlsx").await;
    b.ensure(
        xlsx[0] == 200 && xlsx[2].as_str().is_some_and(|h| h.starts_with("PK")),
        "register-xlsx",
        xlsx.to_string(),
    )
    .await;
    // The alert's case trail.
    b.go(
        "/audit?case=alert%23duties_refused%3Ademo-acceptor-360702%3A1",
        "trail",
    )
    .await;
    b.accessible("trail").await;
    let page = b.source().await;
    b.ensure(
        page.contains("alert.close") && page.contains("记录链完整"),
        "trail",
        page.clone(),
    )
    .await;
    // The statistics, with a chart drawn on the server.
    b.click("a[href='/statistics']", "to-statistics").await;
    b.accessible("statistics").await;
    let page = b.source().await;
    b.ensure(
        page.contains("月度统计") && page.contains("/statistics/charts/360702/persons_covered"),
        "statistics",
        page.clone(),
    )
    .await;
    let svg = b
        .fetch("/statistics/charts/360702/persons_covered?year=2026")
        .await;
    b.ensure(
        svg[0] == 200
            && svg[1]
                .as_str()
                .is_some_and(|t| t.starts_with("image/svg+xml"))
            && svg[2] == "<svg ",
        "chart",
        svg.to_string(),
    )
    .await;
    let drawn = b
        .c
        .execute(
            "return Array.from(document.querySelectorAll('figure img')).filter(i => i.complete && i.naturalWidth > 0).length;",
            vec![],
        )
        .await
        .unwrap();
    b.ensure(
        drawn.as_u64().unwrap_or(0) >= 1,
        "charts-drawn",
        drawn.to_string(),
    )
    .await;
    // The year's plan the demo recorded.
    b.click("a[href='/plans']", "to-plans").await;
    b.accessible("plans").await;
    let page = b.source().await;
    b.ensure(page.contains("审核环节岗位分离"), "plans", page.clone())
        .await;
    b.c.close().await.unwrap();
}
