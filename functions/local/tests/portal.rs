//! The portal as a person uses it, over HTTP against `swi serve --demo`: signing in with the
//! demo's accounts (and one made with `swi user add`), the clerk's queue, a claim page, a
//! decision taken through a form, and what must be refused — a form without its CSRF token, a
//! clerk of another county, a citizen opening someone else's claim, a session after sign-out,
//! guessing a password (the account locks) — with the cookie flags and the
//! Content-Security-Policy on every page.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a test fails loudly on what it does not expect; a journey reads top to bottom"
)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

mod support;

use support::{accounts, demo_server as start};

/// An answer: status, headers (lower-case names; repeated ones joined by `\n`), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
    bytes: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// A browser of sorts: one cookie jar, HTTP/1.1 requests with `Connection: close`.
struct Browser {
    port: u16,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new(port: u16) -> Self {
        Browser {
            port,
            cookies: BTreeMap::new(),
        }
    }

    fn request(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let body = form.map(|f| {
            f.iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        });
        self.raw(
            method,
            path,
            body.map(|b| ("application/x-www-form-urlencoded".to_owned(), b)),
            &[],
        )
    }

    /// A request with a body of any type, and extra header lines.
    fn raw(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        extra_headers: &[String],
    ) -> Answer {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let cookie = if self.cookies.is_empty() {
            String::new()
        } else {
            format!(
                "Cookie: {}\r\n",
                self.cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let mut extra = body.as_ref().map_or(String::new(), |(kind, b)| {
            format!("Content-Type: {kind}\r\nContent-Length: {}\r\n", b.len())
        });
        for h in extra_headers {
            extra.push_str(h);
            extra.push_str("\r\n");
        }
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}{extra}Connection: close\r\n\r\n"
        )
        .unwrap();
        if let Some((_, b)) = &body {
            s.write_all(b).unwrap();
        }
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let bytes = raw.get(split + 4..).unwrap_or_default().to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim().to_owned();
                if k == "set-cookie"
                    && let Some((name, rest)) = v.split_once('=')
                {
                    let value = rest.split(';').next().unwrap_or("").to_owned();
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_owned(), value);
                    }
                }
                headers
                    .entry(k)
                    .and_modify(|e| {
                        e.push('\n');
                        e.push_str(&v);
                    })
                    .or_insert(v);
            }
        }
        // Chunked bodies: good enough to search the page's text.
        Answer {
            status,
            headers,
            body,
            bytes,
        }
    }

    fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, None)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.request("POST", path, Some(form))
    }

    /// Signs in through the form, as a person would.
    fn sign_in(&mut self, user: &str, password: &str) -> Answer {
        let page = self.get("/signin");
        let csrf = field(&page.body, "csrf");
        self.post(
            "/signin",
            &[
                ("csrf", &csrf),
                ("next", "/"),
                ("username", user),
                ("password", password),
            ],
        )
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of a hidden field in a page.
fn field(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// Every claim id a page links to.
fn claim_links(page: &str) -> Vec<String> {
    page.match_indices("href=\"/claims/c-")
        .map(|(i, _)| {
            let rest = &page[i + 14..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[test]
fn clerks_and_claimants_work_through_the_portal_and_nothing_else_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let accounts = accounts(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("demo-accounts.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "passwords are for their owner only");
    }

    // Nobody signed in: the sign-in page, in Chinese, with the policy and no inline script.
    let mut anon = Browser::new(port);
    let home = anon.get("/");
    assert_eq!(home.status, 303, "{home:?}");
    assert_eq!(home.header("location"), "/signin?next=/");
    let signin = anon.get("/signin");
    assert_eq!(signin.status, 200);
    assert!(signin.body.contains("<html lang=\"zh-CN\">"));
    let csp = signin.header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(!signin.body.contains("<script>"), "no inline script");
    assert!(
        signin.body.contains("<label for=\"username\">")
            && signin.body.contains("<label for=\"password\">")
    );
    // A sign-in without the form's token is refused, and starts no session.
    let acceptor_pw = accounts["acceptor-360702"].clone();
    let mut forged = Browser::new(port);
    let r = forged.post(
        "/signin",
        &[
            ("username", "acceptor-360702"),
            ("password", &acceptor_pw),
            ("csrf", "x"),
        ],
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(!forged.cookies.contains_key("swi_session"));

    // The window signs in: the cookie carries the flags.
    let mut window = Browser::new(port);
    let r = window.sign_in("acceptor-360702", &acceptor_pw);
    assert_eq!((r.status, r.header("location")), (303, "/"), "{r:?}");
    let set = r.header("set-cookie");
    let session_cookie = set.lines().find(|l| l.starts_with("swi_session=")).unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session_cookie.contains(flag), "{session_cookie}");
    }
    let home = window.get("/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("受理队列"), "{}", home.body);

    // The queue: the county's claims at the window, oldest first.
    let queue = window.get("/work");
    assert_eq!(queue.status, 200, "{}", queue.body);
    let waiting = claim_links(&queue.body);
    assert!(!waiting.is_empty(), "{}", queue.body);
    let id = waiting[0].clone();
    let page = window.get(&format!("/claims/{id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("待受理"), "{}", page.body);
    assert!(page.body.contains("查看扫描件"), "{}", page.body);
    let csrf = field(&page.body, "csrf");
    let idem = field(&page.body, "idem");
    // A scan opens in the page, served by the API with its own type.
    let scan = page.body.find("href=\"/scans/").unwrap();
    let href = &page.body[scan + 6..];
    let href = &href[..href.find('"').unwrap()];
    let scan = window.get(href);
    assert_eq!(scan.status, 200, "{scan:?}");
    assert!(
        scan.header("content-type").starts_with("application/pdf"),
        "{scan:?}"
    );

    // A decision without the session's token changes nothing.
    let r = window.post(
        &format!("/claims/{id}/act/accept"),
        &[("csrf", "not-the-token"), ("idem", &idem)],
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(window.get(&format!("/claims/{id}")).body.contains("待受理"));
    // With it, the claim is accepted and goes to handling.
    if page.body.contains("/act/accept\"") {
        let r = window.post(
            &format!("/claims/{id}/act/accept"),
            &[("csrf", &csrf), ("idem", &format!("{idem}-accept"))],
        );
        assert_eq!(r.status, 303, "{r:?}");
        let after = window.get(&format!("/claims/{id}?done=accept"));
        assert!(after.body.contains("已受理"), "{}", after.body);
        assert!(after.body.contains("承办中"), "{}", after.body);
    } else {
        // Incomplete: returned with a one-time notice, a problem typed by the clerk.
        let r = window.post(
            &format!("/claims/{id}/act/return"),
            &[
                ("csrf", &csrf),
                ("idem", &format!("{idem}-return")),
                ("text", "票据须为原件"),
            ],
        );
        assert_eq!(r.status, 303, "{r:?}");
        let after = window.get(&format!("/claims/{id}"));
        assert!(after.body.contains("票据须为原件"), "{}", after.body);
    }

    // A form refused by the API keeps what was typed and says why next to the field.
    let handler_pw = accounts["handler-360702"].clone();
    let mut handler = Browser::new(port);
    assert_eq!(handler.sign_in("handler-360702", &handler_pw).status, 303);
    let q = handler.get("/work");
    if let Some(hid) = claim_links(&q.body).first().cloned() {
        let p = handler.get(&format!("/claims/{hid}"));
        let csrf = field(&p.body, "csrf");
        let idem = field(&p.body, "idem");
        let r = handler.post(
            &format!("/claims/{hid}/act/reject"),
            &[
                ("csrf", &csrf),
                ("idem", &format!("{idem}-reject")),
                ("text", "认定书与本人不符"),
                ("article", ""),
            ],
        );
        assert_eq!(r.status, 400, "{r:?}");
        assert!(r.body.contains("role=\"alert\""), "{}", r.body);
        assert!(r.body.contains("请填写所依据的条款"), "{}", r.body);
        assert!(
            r.body.contains("认定书与本人不符"),
            "what was typed is kept"
        );
        assert!(
            handler
                .get(&format!("/claims/{hid}"))
                .body
                .contains("承办中")
        );
    }

    // A clerk of another county, made with `swi user add`, cannot open the case.
    let mut add = Command::new(env!("CARGO_BIN_EXE_swi"))
        .args([
            "user",
            "add",
            "--username",
            "acceptor-360703",
            "--role",
            "acceptor",
            "--county",
            "360703",
            "--name",
            "南康窗口",
        ])
        .env("SWI_STORE", "embedded")
        .env("SWI_DATA_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"another county's password\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut elsewhere = Browser::new(port);
    assert_eq!(
        elsewhere
            .sign_in("acceptor-360703", "another county's password")
            .status,
        303
    );
    let r = elsewhere.get(&format!("/claims/{id}"));
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.body.contains("无权办理"), "{}", r.body);

    // A citizen opening someone else's claim gets nothing of it.
    let mut citizen = Browser::new(port);
    assert_eq!(
        citizen
            .sign_in("citizen-360703", &accounts["citizen-360703"])
            .status,
        303
    );
    let r = citizen.get(&format!("/claims/{id}"));
    assert!(matches!(r.status, 403 | 404), "{r:?}");
    assert!(!r.body.contains("查看扫描件"));

    // The employer's unit: who it covers on a date.
    let mut employer = Browser::new(port);
    assert_eq!(
        employer
            .sign_in("employer-360702", &accounts["employer-360702"])
            .status,
        303
    );
    let unit = employer.get("/unit?on=2026-06-20");
    assert_eq!(unit.status, 200, "{unit:?}");
    assert!(unit.body.contains("在保人员"), "{}", unit.body);
    assert!(unit.body.contains("保障中"), "{}", unit.body);
    // A clerk of another county cannot open it by its code.
    assert_eq!(elsewhere.get("/unit?code=91360702MA35G6QL6T").status, 403);

    // The parameters in force, every figure not confirmed marked; alerts are not a citizen's.
    let mut officer = Browser::new(port);
    assert_eq!(
        officer
            .sign_in("officer-city", &accounts["officer-city"])
            .status,
        303
    );
    let params = officer.get("/parameters?on=2026-06-15");
    assert_eq!(params.status, 200, "{params:?}");
    assert!(params.body.contains("待市里设定"), "{}", params.body);
    assert!(officer.get("/alerts").status == 200);
    assert_eq!(citizen.get("/alerts").status, 403);

    // Signing out ends the session: the same cookie no longer opens anything.
    let stolen = window.cookies.clone();
    let home = window.get("/");
    let csrf = field(&home.body, "csrf");
    let r = window.post("/signout", &[("csrf", &csrf)]);
    assert_eq!(r.status, 303, "{r:?}");
    let mut replay = Browser::new(port);
    replay.cookies = stolen;
    let r = replay.get("/work");
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.header("location").starts_with("/signin"));

    // Guessing a password: after five failures the account locks, the right password too.
    let mut guesser = Browser::new(port);
    for _ in 0..4 {
        let r = guesser.sign_in("supervisor-city", "wrong password 1");
        assert_eq!(r.status, 401, "{r:?}");
        assert!(r.body.contains("用户名或密码不正确"));
    }
    let r = guesser.sign_in("supervisor-city", "wrong password 1");
    assert_eq!(r.status, 429, "{r:?}");
    let r = guesser.sign_in("supervisor-city", &accounts["supervisor-city"]);
    assert_eq!(r.status, 429, "locked: {r:?}");
    assert!(r.body.contains("账户已锁定"), "{}", r.body);
    // An unknown name answers as a wrong password does.
    let r = guesser.sign_in("nobody-here", "wrong password 1");
    assert_eq!(r.status, 401, "{r:?}");
    // The API is still served beside the pages, with its JSON errors.
    let r = anon.get("/api/claims");
    assert_eq!(r.status, 401);
    assert!(r.header("content-type").starts_with("application/json"));
    let r = anon.get("/no-such-page");
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").starts_with("text/html"), "{r:?}");
}

/// The text a QR code in the first page of `pdf` carries (rendered by poppler's pdftoppm to a
/// greyscale image, read by `rqrr`).
fn qr_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("form.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-gray", "-r", "200", "-singlefile"])
        .arg(&file)
        .arg(&out)
        .status()
        .expect("pdftoppm (poppler-utils; infra/test installs it)");
    assert!(status.success());
    let pgm = std::fs::read(dir.path().join("page.pgm")).unwrap();
    // Binary PGM: "P5\n<w> <h>\n<max>\n" then one byte a pixel.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..at]).into_owned());
    }
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &pgm[at + 1..];
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    grids[0].decode().unwrap().1
}

fn multipart(name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "swi-test-boundary-7MA35G6QL6T";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"form.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn a_forms_qr_code_opens_its_verification_page_and_an_altered_copy_is_not_genuine() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let accounts = accounts(dir.path());
    // The unit's clerk downloads an approved claim's assessment form, as a person would.
    let mut clerk = Browser::new(port);
    assert_eq!(
        clerk
            .sign_in("employer-claims", &accounts["employer-claims"])
            .status,
        303
    );
    let mine = clerk.get("/claims");
    let approved = claim_links(&mine.body)
        .into_iter()
        .find(|id| clerk.get(&format!("/claims/{id}")).body.contains("已核定"))
        .expect("the demo has an approved claim");
    let pdf = clerk.get(&format!("/claims/{approved}/forms/assessment"));
    assert_eq!(pdf.status, 200);
    assert!(pdf.bytes.starts_with(b"%PDF-"), "{:?}", pdf.headers);
    // Its QR code carries the verification URL of this server.
    let url = qr_of(&pdf.bytes);
    let prefix = format!("http://127.0.0.1:{port}/verify/");
    assert!(url.starts_with(&prefix), "{url}");
    let path = &url["http://127.0.0.1:".len() + port.to_string().len()..];
    // Anyone (no sign-in) opens it: genuine, for this case, and nothing personal.
    let mut inspector = Browser::new(port);
    let page = inspector.get(path);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains("本系统确曾以此核验码出具"),
        "{}",
        page.body
    );
    assert!(page.body.contains("补充工伤保险待遇核定表"));
    assert!(page.body.contains(&approved));
    assert!(
        !page.body.contains("360702") || !page.body.contains("****"),
        "no ID number"
    );
    // The same bytes are genuine; one byte altered is not.
    let (kind, body) = multipart("file", &pdf.bytes);
    let r = inspector.raw("POST", path, Some((kind, body)), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("文件一致"), "{}", r.body);
    let mut altered = pdf.bytes.clone();
    let last = altered.len() - 10;
    altered[last] ^= 1;
    let (kind, body) = multipart("file", &altered);
    let r = inspector.raw("POST", path, Some((kind, body)), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("文件不一致"), "{}", r.body);
    // The one-time notice of a returned claim is issued the same way.
    let returned = claim_links(&mine.body)
        .into_iter()
        .find(|id| {
            clerk
                .get(&format!("/claims/{id}"))
                .body
                .contains("一次性告知（")
        })
        .expect("the demo has a returned claim");
    let notice = clerk.get(&format!("/claims/{returned}/notice.pdf"));
    assert!(notice.bytes.starts_with(b"%PDF-"), "{:?}", notice.headers);
    let url = qr_of(&notice.bytes);
    let page = inspector.get(&url["http://127.0.0.1:".len() + port.to_string().len()..]);
    assert!(page.body.contains("一次性告知书"), "{}", page.body);
    assert!(page.body.contains(&returned));
    // A made-up code is said plainly not to be ours.
    let r = inspector.get("/verify/7K3M-Q9TX-2HRB");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("并非本系统出具"), "{}", r.body);
}

/// Decodes the HTML entities askama writes in attribute values.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#43;", "+")
        .replace("&#x3d;", "=")
        .replace("&#x3D;", "=")
        .replace("&#61;", "=")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The upload page's form: where it posts, and its fields before the file.
fn store_form(page: &str) -> (String, Vec<(String, String)>) {
    let at = page.find("data-store-upload").expect("an upload form");
    let start = page[..at].rfind("<form").unwrap();
    let form = &page[start..start + page[start..].find("</form>").unwrap()];
    let action = form[form.find("action=\"").unwrap() + 8..]
        .split('"')
        .next()
        .unwrap();
    let fields = form
        .match_indices("<input type=\"hidden\" name=\"")
        .map(|(i, _)| {
            let rest = &form[i + 27..];
            let name = rest.split('"').next().unwrap();
            let value = rest[rest.find("value=\"").unwrap() + 7..]
                .split('"')
                .next()
                .unwrap();
            (unescape(name), unescape(value))
        })
        .collect();
    (unescape(action), fields)
}

/// A browser's multipart form: the fields, then the file.
fn store_post(fields: &[(String, String)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "swi-test-boundary-upload-4A";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Without script: a page's upload button, the form posted straight to the store, the store's
/// redirect registering and filing the file; a file of another type refused after the upload;
/// someone else's upload, a forged purpose and a missing CSRF token refused; another citizen's
/// injury and enrolment pages closed.
#[test]
fn a_scan_uploaded_without_script_is_filed_where_the_page_said_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let accounts = accounts(dir.path());
    let origin = format!("http://127.0.0.1:{port}");

    let mut citizen = Browser::new(port);
    assert_eq!(
        citizen
            .sign_in("citizen-claims", &accounts["citizen-claims"])
            .status,
        303
    );
    let list = citizen.get("/injuries");
    assert_eq!(list.status, 200);
    let injury = list.body[list.body.find("href=\"/injuries/i-").unwrap() + 6..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let page = citizen.get(&injury);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("尚未提交"));
    let csrf = field(&page.body, "csrf");
    let iid = injury.trim_start_matches("/injuries/");
    let to = format!("injury/{iid}/receipts");

    // The button needs its CSRF token.
    let refused = citizen.post("/uploads/new", &[("to", &to)]);
    assert_ne!(refused.status, 200, "no token, no form");
    let refused = citizen.post("/uploads/new", &[("csrf", "forged"), ("to", &to)]);
    assert_eq!(refused.status, 403);
    // A purpose that is not one.
    let refused = citizen.post(
        "/uploads/new",
        &[("csrf", &csrf), ("to", "injury/../../api/x/receipts")],
    );
    assert_eq!(refused.status, 404);

    // The upload page: a form to the store, allowed to post there by this page's policy.
    let upload = citizen.post("/uploads/new", &[("csrf", &csrf), ("to", &to)]);
    assert_eq!(upload.status, 200, "{}", upload.body);
    assert!(
        upload
            .header("content-security-policy")
            .contains(&format!("form-action 'self' {origin}")),
        "{}",
        upload.header("content-security-policy")
    );
    assert!(
        !upload
            .header("content-security-policy")
            .contains("'unsafe-inline'")
    );
    let (action, fields) = store_form(&upload.body);
    assert!(action.starts_with(&origin), "{action}");
    let path = &action[origin.len()..];

    // A file that is not a scan is stored, then refused at registration: nothing is filed.
    let mut other = Browser::new(port);
    let (kind, body) = store_post(&fields, b"<html><script>alert(1)</script></html>");
    let stored = other.raw("POST", path, Some((kind, body)), &[]);
    assert_eq!(stored.status, 303, "{}", stored.body);
    let back = &stored.header("location")[origin.len()..];
    // Someone else arriving at the redirect (signed out, then another citizen) gets nothing.
    let anonymous = other.get(back);
    assert_eq!(anonymous.status, 303, "to the sign-in page");
    other.sign_in("citizen-360703", &accounts["citizen-360703"]);
    let stranger = other.get(back);
    assert_eq!(stranger.status, 404, "{}", stranger.body);
    let refused = citizen.get(back);
    assert_eq!(refused.status, 415, "{}", refused.body);
    assert!(refused.body.contains("扫描件须为"), "{}", refused.body);
    // Said next to the file input of a fresh upload form, to choose another file.
    assert!(
        refused.body.contains("id=\"file-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("data-store-upload"));
    assert!(
        citizen
            .get(&injury)
            .body
            .contains("医疗（康复）机构收费票据原件</td>\n        <td>尚未提交")
    );

    // A scan: stored, registered as hers, filed to her injury; the page says so and shows it.
    let upload = citizen.post("/uploads/new", &[("csrf", &csrf), ("to", &to)]);
    let (_, fields) = store_form(&upload.body);
    let (kind, body) = store_post(&fields, b"%PDF-1.4\n% receipts of the claimant\n");
    let stored = citizen.raw("POST", path, Some((kind.clone(), body.clone())), &[]);
    assert_eq!(stored.status, 303, "{}", stored.body);
    // The form is used once.
    let again = citizen.raw("POST", path, Some((kind, body)), &[]);
    assert_eq!(again.status, 403, "{}", again.body);
    let back = stored.header("location")[origin.len()..].to_owned();
    let filed = citizen.get(&back);
    assert_eq!(filed.status, 303, "{}", filed.body);
    assert_eq!(
        filed.header("location"),
        format!("{injury}?uploaded=receipts")
    );
    let page = citizen.get(filed.header("location"));
    assert!(page.body.contains("已上传：医疗（康复）机构收费票据原件"));
    let scan = citizen.get(&format!("/scans/{iid}/receipts"));
    assert_eq!(scan.status, 200);
    assert_eq!(scan.bytes, b"%PDF-1.4\n% receipts of the claimant\n");
    // Coming back to the same redirect (a reload) registers and files nothing twice: the same
    // answer.
    let reload = citizen.get(&back);
    assert_eq!(reload.status, 303, "{}", reload.body);
    assert_eq!(
        reload.header("location"),
        format!("{injury}?uploaded=receipts")
    );

    // Another citizen cannot open her injury, nor upload to it.
    let mut stranger = Browser::new(port);
    stranger.sign_in("citizen-360703", &accounts["citizen-360703"]);
    let closed = stranger.get(&injury);
    assert!(matches!(closed.status, 403 | 404), "{}", closed.status);
    let csrf2 = field(&stranger.get("/cover").body, "csrf");
    let upload = stranger.post("/uploads/new", &[("csrf", &csrf2), ("to", &to)]);
    let (_, fields) = store_form(&upload.body);
    let (kind, body) = store_post(&fields, b"%PDF-1.4\n% not hers\n");
    let stored = stranger.raw("POST", path, Some((kind, body)), &[]);
    let back = stored.header("location")[origin.len()..].to_owned();
    let refused = stranger.get(&back);
    assert!(matches!(refused.status, 403 | 404), "{}", refused.body);
    // Nor her cover: her enrolment pages answer only her.
    let cover = citizen.get("/cover");
    assert_eq!(cover.status, 200);
    let own = stranger.get("/cover");
    let enrolment = own.body[own.body.find("href=\"/enrolments/").unwrap() + 6..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(stranger.get(&enrolment).status, 200);
    let closed = citizen.get(&enrolment);
    assert!(matches!(closed.status, 403 | 404), "{}", closed.status);
}

/// The employer's persons and projects: a person's cover ended with a reason (a missing one
/// said next to its field, the day typed kept; a crafted link shows nothing it brings), a
/// project's workers registered by real name and its certificate downloaded.
#[test]
fn an_employer_ends_a_persons_cover_and_registers_a_projects_worker() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let accounts = accounts(dir.path());
    let mut b = Browser::new(port);
    b.sign_in("employer-360702", &accounts["employer-360702"]);
    // Covered from the day after their premium (Art. 8): look the day after.
    let unit = b.get("/unit?on=2026-06-20");
    assert_eq!(unit.status, 200);
    let member = unit.body[unit.body.find("href=\"/enrolments/").unwrap() + 6..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let page = b.get(&member);
    assert!(page.body.contains("终止参保"), "{}", page.body);
    let csrf = field(&page.body, "csrf");
    let idem = field(&page.body, "idem");
    let refused = b.post(
        &format!("{member}/terminate"),
        &[
            ("csrf", &csrf),
            ("idem", &idem),
            ("end", "2026-06-30"),
            ("reason", ""),
        ],
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("id=\"reason-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"2026-06-30\""),
        "what was typed is kept"
    );
    let crafted = b.get(&format!(
        "{member}?end_error=%E8%AF%B7%E8%87%B4%E7%94%B5&end_field=end"
    ));
    assert!(
        !crafted.body.contains("请致电"),
        "a link's text is never shown as the page's"
    );
    let ended = b.post(
        &format!("{member}/terminate"),
        &[
            ("csrf", &csrf),
            ("idem", &idem),
            ("end", "2026-06-30"),
            ("reason", "解除劳动合同"),
        ],
    );
    assert_eq!(ended.status, 303);
    let page = b.get(ended.header("location"));
    assert!(page.body.contains("已终止"), "{}", page.body);
    assert!(page.body.contains("2026-06-30"));

    let projects = b.get("/unit/projects");
    assert_eq!(projects.status, 200);
    let project = projects.body[projects.body.find("href=\"/projects/p-").unwrap() + 6..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let page = b.get(&project);
    let csrf = field(&page.body, "csrf");
    let idem = field(&page.body, "idem");
    let wrong = b.post(
        &format!("{project}/workers"),
        &[
            ("csrf", &csrf),
            ("idem", &idem),
            ("name", "孙工"),
            ("id_number", "360702198505051230"),
            ("declared_wage", "6000"),
        ],
    );
    assert!(matches!(wrong.status, 400 | 422), "{}", wrong.status);
    assert!(
        wrong.body.contains("id=\"id_number-error\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("孙工"), "what was typed is kept");
    let id = swi_rules::ids::ResidentId::with_check_character("36070219850505123").unwrap();
    let ok = b.post(
        &format!("{project}/workers"),
        &[
            ("csrf", &csrf),
            ("idem", &idem),
            ("name", "孙工"),
            ("id_number", id.expose()),
            ("declared_wage", "6000"),
        ],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = b.get(&project);
    assert!(
        page.body.contains("孙工") && page.body.contains("360702****"),
        "{}",
        page.body
    );
    let certificate = b.get(&format!("{project}/certificate.pdf"));
    assert_eq!(certificate.status, 200);
    assert!(certificate.bytes.starts_with(b"%PDF-"));
}
