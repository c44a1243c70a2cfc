//! The e-Citizen portal in a real browser (issue 6 "tested in a real browser", G.2, WCAG 2.1 AA basics):
//! Debian's `chromium`, headless, driven through Debian's `chromedriver` over the W3C WebDriver protocol
//! spoken directly with `reqwest`. The pages have no JavaScript; the test reads the rendered page through
//! WebDriver's "execute script" and the browser's own accessibility tree (computed label and role).
//!
//! Covered: the login page's landmarks and accessible names, login by clicking the demo card (real cookies),
//! my data with the extra click for convictions, the language switch remembered by the browser, the first
//! Tab reaching the skip link, no horizontal scrolling on a phone-sized window, the contrast of every piece
//! of text, logout from the top bar, and a screenshot of the desk. A second test walks the citizen's flows
//! (an address declaration, e-mail and SMS verification through the demo's mail catcher, a notification, a
//! body's read in "who used my data") with the same accessibility checks and a screenshot of every page in
//! `target/browser-artifacts/`.
//!
//! Chromium and chromedriver are never downloaded and the test never skips: without them it fails and says
//! how to install them (`./scripts/test.sh` does). Both are killed when the test ends, whatever the outcome.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::common::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The conviction of the demo person, shown only after the extra click.
const CASE: &str = "ԵԴ/0001/01/24";

/// chromedriver in a process group of its own (so Chromium, its child, is in it too), killed with the whole
/// group on drop — also when the test panics.
struct Driver {
    child: Child,
    url: String,
    profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        for tool in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: the browser test needs Debian's chromium and chromium-driver \
                 (`apt-get install -y chromium chromium-driver`; ./scripts/test.sh installs them)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir().unwrap(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The negative id names the process group: chromedriver and every Chromium process it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session: the few commands the test needs.
struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// Wait for chromedriver, then start headless Chromium with a fresh profile that prefers Armenian.
    async fn open(driver: &Driver) -> Browser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .build()
            .unwrap();
        let started = Instant::now();
        loop {
            let ready = match http.get(format!("{}/status", driver.url)).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .ok()
                    .map(|v| v["value"]["ready"] == true),
                Err(_) => None,
            };
            if ready == Some(true) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not become ready at {}",
                driver.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = driver.profile.path().display().to_string();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30000, "script": 10000, "implicit": 0},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", "--window-size=1280,900",
                    format!("--user-data-dir={profile}"), "--lang=hy",
                ],
                "prefs": {"intl.accept_languages": "hy"},
            },
        }}});
        let r: Value = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver: new session")
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium did not start: {r}"));
        Browser {
            http,
            session: format!("{}/session/{id}", driver.url),
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut rq = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let r = rq
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let ok = r.status().is_success();
        let v: Value = r.json().await.unwrap();
        assert!(ok, "{method} {path}: {v}");
        v["value"].clone()
    }
    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }
    async fn get(&self, path: &str) -> Value {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }
    /// The page's path and query.
    async fn here(&self) -> String {
        self.js_str("return location.pathname + location.search")
            .await
    }
    async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }
    /// A script's string answer.
    async fn js_str(&self, script: &str) -> String {
        let v = self.js(script, json!([])).await;
        v.as_str()
            .unwrap_or_else(|| panic!("{script}: {v}"))
            .to_string()
    }
    async fn text(&self) -> String {
        self.js_str("return document.body.innerText").await
    }
    async fn page_lang(&self) -> String {
        self.js_str("return document.documentElement.lang").await
    }
    /// The elements matching a CSS selector (their WebDriver ids).
    async fn all(&self, css: &str) -> Vec<String> {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[ELEMENT].as_str().unwrap().to_string())
            .collect()
    }
    /// The one element matching `css`.
    async fn one(&self, css: &str) -> String {
        let mut all = self.all(css).await;
        assert_eq!(all.len(), 1, "exactly one {css} on {}", self.here().await);
        all.remove(0)
    }
    /// A real click (WebDriver scrolls the element into view and checks it is not covered) on something
    /// that leads to another page, and the wait until that page has loaded: the old document is marked, and
    /// the new one is the one without the mark.
    async fn click(&self, css: &str) {
        let el = self.one(css).await;
        self.js("window.__before_click = true", json!([])).await;
        self.post(&format!("/element/{el}/click"), json!({})).await;
        let started = Instant::now();
        loop {
            // A script may fail while the old document is being replaced: just ask again.
            let r = self
                .http
                .post(format!("{}/execute/sync", self.session))
                .json(&json!({"script": "return !window.__before_click && document.readyState === 'complete'", "args": []}))
                .send()
                .await;
            if let Ok(r) = r
                && let Ok(v) = r.json::<Value>().await
                && v["value"] == true
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "clicking {css} led to no new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    async fn displayed(&self, el: &str) -> bool {
        self.get(&format!("/element/{el}/displayed"))
            .await
            .as_bool()
            .unwrap()
    }
    async fn visible_text(&self, el: &str) -> String {
        self.get(&format!("/element/{el}/text"))
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
    /// The accessible name and role of an element, as Chromium's accessibility tree computes them.
    async fn label_and_role(&self, el: &str) -> (String, String) {
        let label = self.get(&format!("/element/{el}/computedlabel")).await;
        let role = self.get(&format!("/element/{el}/computedrole")).await;
        (
            label.as_str().unwrap_or("").trim().to_string(),
            role.as_str().unwrap_or("").to_string(),
        )
    }
    /// Press keys (e.g. "\u{E004}" Tab, "\u{E007}" Enter) on whatever has the focus.
    async fn keys(&self, keys: &str) {
        let mut actions = vec![];
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            actions.push(json!({"type": "keyUp", "value": k.to_string()}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.cmd(reqwest::Method::DELETE, "/actions", None).await;
    }
    async fn window(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }
    async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.get("/screenshot").await;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap()
    }
    async fn close(self) {
        self.cmd(reqwest::Method::DELETE, "", None).await;
    }
}

/// The WCAG 2.x contrast ratio of two `rgb(…)`/`rgba(…)` colours (opaque; alpha is composed in the page).
fn contrast(a: &str, b: &str) -> f64 {
    fn luminance(c: &str) -> f64 {
        let inner = c
            .trim()
            .trim_start_matches("rgba(")
            .trim_start_matches("rgb(")
            .trim_end_matches(')');
        let ch: Vec<f64> = inner
            .split(',')
            .take(3)
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("colour {c}"))
                    / 255.0
            })
            .map(|x| {
                if x <= 0.03928 {
                    x / 12.92
                } else {
                    ((x + 0.055) / 1.055).powf(2.4)
                }
            })
            .collect();
        0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]
    }
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Every element with text of its own on the page: its text, colour, the opaque background behind it (the
/// nearest ancestor's non-transparent `background-color`) and whether it counts as large text.
const TEXT_COLOURS: &str = r#"
const out = [];
const bg = (e) => {
  for (let n = e; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (c !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(c)) return c;
  }
  return 'rgb(255, 255, 255)';
};
for (const e of document.body.querySelectorAll('*')) {
  const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const s = getComputedStyle(e);
  const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
  out.push({tag: e.tagName, text: e.textContent.trim().slice(0, 40), fg: s.color, bg: bg(e),
            large: size >= 24 || (bold && size >= 18.66)});
}
return out;"#;

/// The elements that stick out of the window on the right, innermost first (with the page's widths).
const WIDER_THAN_THE_WINDOW: &str = r#"
const w = innerWidth, out = [];
for (const e of document.body.querySelectorAll('*')) {
  const r = e.getBoundingClientRect();
  if (r.right > w + 0.5 && ![...e.children].some(c => c.getBoundingClientRect().right > w + 0.5))
    out.push(e.tagName + (e.closest('table') ? ' in a table' : '') + ': ' + e.textContent.trim().slice(0, 30)
             + ' (' + Math.round(r.right) + ' px)');
}
return {scroll: document.documentElement.scrollWidth, inner: w, out: out};"#;

/// WCAG 1.4.3: every piece of text on the page has a contrast of 4.5:1 (3:1 when large) or better.
async fn assert_text_contrast(b: &Browser) {
    let items = b.js(TEXT_COLOURS, json!([])).await;
    let items = items.as_array().unwrap();
    assert!(!items.is_empty());
    for i in items {
        let (fg, bg) = (i["fg"].as_str().unwrap(), i["bg"].as_str().unwrap());
        let need = if i["large"] == true { 3.0 } else { 4.5 };
        let ratio = contrast(fg, bg);
        assert!(
            ratio >= need,
            "{} {:?} on {}: {fg} on {bg} is {ratio:.2}:1, needs {need}:1",
            i["tag"],
            i["text"],
            b.here().await
        );
    }
}

/// WCAG 1.3.1/4.1.2/2.4.1 basics of any portal page: a language, a skip link to the one `<main>` landmark,
/// and an accessible name on every form control and link.
async fn assert_page_basics(b: &Browser, lang: &str) {
    assert_named(b, lang).await;
    let skip = b.one("a.skip").await;
    assert_eq!(
        b.get(&format!("/element/{skip}/attribute/href")).await,
        "#main"
    );
    let main = b.one("main#main").await;
    assert_eq!(b.label_and_role(&main).await.1, "main");
    assert_eq!(b.all("header nav").await.len(), 1, "one navigation bar");
    assert_eq!(b.all("h1").await.len(), 1, "one h1");
}

/// WCAG 3.1.1/2.4.2/4.1.2: the page's language and title, and an accessible name and role on every form
/// control and link.
async fn assert_named(b: &Browser, lang: &str) {
    assert_eq!(b.page_lang().await, lang);
    let title = b.js("return document.title", json!([])).await;
    assert!(!title.as_str().unwrap().trim().is_empty(), "a page title");
    for el in b
        .all("button, input:not([type=hidden]), select, textarea, a[href]")
        .await
    {
        let (label, role) = b.label_and_role(&el).await;
        let html = b
            .js("return arguments[0].outerHTML", json!([{ ELEMENT: el }]))
            .await;
        assert!(!label.is_empty(), "no accessible name: {html}");
        assert!(!role.is_empty() && role != "generic", "role {role}: {html}");
    }
}

/// The whole scenario in one browser, started once (a few seconds on a busy two-core machine; every wait
/// is bounded: 20 s for chromedriver, 30 s for a page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_2_portal_in_a_real_browser_login_data_language_keyboard_phone_contrast_logout() {
    let db = TestDb::sqlite().await;
    let p = psn(4601);
    let app = crate::portal::demo_site(&db, p).await;
    let url = app.url();
    let driver = Driver::start();
    let b = Browser::open(&driver).await;

    // 1. My data without a session leads to the login page (in Armenian, the browser's language), whose
    // controls all have names; the demo card is chosen with a real click.
    b.goto(&format!("{url}/my/data")).await;
    assert_eq!(b.here().await, "/login?next=/my/data");
    assert_page_basics(&b, "hy").await;
    let card = b.one("form[action='/login/demo'] button").await;
    assert_eq!(
        b.label_and_role(&card).await,
        (
            "Մուտք որպես Անի Մելքոնյան".to_string(),
            "button".to_string()
        )
    );
    assert_text_contrast(&b).await;

    // 4. Keyboard: the first Tab reaches the skip link, which then shows on the screen; Enter moves the
    // focus to the main content.
    b.keys("\u{E004}").await;
    let focused = b
        .js(
            "const e = document.activeElement; const r = e.getBoundingClientRect(); \
             return {cls: e.className, left: r.left, width: r.width, text: e.textContent}",
            json!([]),
        )
        .await;
    assert_eq!(focused["cls"], "skip", "the first Tab focuses {focused}");
    assert!(
        focused["left"].as_f64().unwrap() >= 0.0 && focused["width"].as_f64().unwrap() > 0.0,
        "the focused skip link is on the screen: {focused}"
    );
    assert_eq!(focused["text"], "Անցնել հիմնական բովանդակությանը");
    b.keys("\u{E007}").await;
    let active = b.js("return document.activeElement.id", json!([])).await;
    assert_eq!(active, "main", "the skip link moves the focus to <main>");

    b.click("form[action='/login/demo'] button").await;

    // 2. Back at my data, logged in: the name in Armenian, the desk link in the top bar, convictions
    // behind the extra click.
    assert_eq!(b.here().await, "/my/data");
    assert_page_basics(&b, "hy").await;
    let page = b.text().await;
    assert!(page.contains("Անի") && page.contains("Մելքոնյան"), "{page}");
    let desk_link = b.one("header nav a[href='/my']").await;
    assert!(b.displayed(&desk_link).await);
    assert_eq!(b.visible_text(&desk_link).await, "ԳՐԱՍԵՂԱՆ");
    assert!(!page.contains(CASE), "convictions are hidden: {page}");
    b.click("a[href^='/my/data?reveal=convictions']").await;
    assert!(b.here().await.starts_with("/my/data?reveal=convictions"));
    assert!(b.text().await.contains(CASE), "the conviction is shown");
    assert_text_contrast(&b).await;

    // 5. A phone-sized window: my data (and the other pages) reflow without scrolling sideways.
    b.window(375, 800).await;
    let width = b.js("return innerWidth", json!([])).await;
    assert!(width.as_f64().unwrap() <= 400.0, "narrow window: {width}");
    // Wide data tables scroll inside their own region (WCAG 1.4.10), never the page.
    for path in [
        "/my/data",
        "/my",
        "/login",
        "/help",
        "/my/usage",
        "/my/data/history",
        "/my/sessions",
        "/my/inbox",
        "/my/forwarding",
        "/my/addresses",
        "/my/mobile-id",
        "/my/registries",
        "/my/companies",
        "/notices",
    ] {
        b.goto(&format!("{url}{path}")).await;
        let wide = b.js(WIDER_THAN_THE_WINDOW, json!([])).await;
        assert!(
            wide["scroll"].as_f64().unwrap() <= wide["inner"].as_f64().unwrap(),
            "{path} scrolls sideways at 375 px: {wide}"
        );
    }
    b.window(1280, 900).await;

    // 3. The language switch in the top bar: the page comes back in English, and the browser remembers it.
    b.goto(&format!("{url}/my/data")).await;
    b.click("header a[hreflang='en']").await;
    assert_eq!(b.here().await, "/my/data");
    assert_eq!(b.page_lang().await, "en");
    assert!(b.text().await.contains("My data"));
    // Who used my data (G.3.4) keeps the remembered language too.
    b.goto(&format!("{url}/my/usage")).await;
    assert_page_basics(&b, "en").await;
    assert_text_contrast(&b).await;
    b.goto(&format!("{url}/my")).await;
    assert_page_basics(&b, "en").await;
    assert!(b.text().await.contains("Welcome"), "{}", b.text().await);
    let current = b.one("header a[aria-current]").await;
    assert_eq!(b.visible_text(&current).await, "English");
    assert_text_contrast(&b).await;

    // 7. A screenshot of the desk: Chromium rendered the page.
    let png = b.screenshot().await;
    assert!(
        png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG screenshot ({} bytes)",
        png.len()
    );
    let shots = tempfile::tempdir().unwrap();
    std::fs::write(shots.path().join("desk.png"), &png).unwrap();
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert!(w >= 800 && h >= 400, "screenshot of {w}×{h}");

    // 6. Logout from the top bar: the login page with the note; the desk is closed afterwards.
    b.click("header form[action='/logout'] button").await;
    assert_eq!(b.here().await, "/login?ended=logout");
    let note = b.one("p.note[role=status]").await;
    assert_eq!(b.visible_text(&note).await, "You have logged out.");
    assert_page_basics(&b, "en").await;
    b.goto(&format!("{url}/my")).await;
    assert_eq!(b.here().await, "/login?next=/my");

    b.close().await;
    drop(driver);
    app.shutdown().await.unwrap();
}

/// Where the browser tests keep their screenshots (a test artifact: `target/browser-artifacts/`, kept after
/// the run so that a person can look at every page).
fn artifacts() -> std::path::PathBuf {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The accessibility checks of every page (landmarks, one h1, names and roles of every control and link,
/// the language, contrast of every text), then a screenshot of it saved as `name.png`.
async fn check_and_shoot(b: &Browser, lang: &str, name: &str) {
    assert_page_basics(b, lang).await;
    assert_text_contrast(b).await;
    let png = b.screenshot().await;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: a PNG");
    std::fs::write(artifacts().join(format!("{name}.png")), &png).unwrap();
}

/// Set a form field's value, as typing would (date fields take their value in ISO form whatever the
/// browser's locale, which typing would not).
async fn fill(b: &Browser, css: &str, value: &str) {
    let el = b.one(css).await;
    b.js(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
        json!([{ ELEMENT: el }, value]),
    )
    .await;
}

/// Issue 6's browser scenario beyond login: declaring an additional address (A1.21), adding an e-mail
/// address and following the verification link from the demo's mail catcher (G.5), adding a phone and
/// entering the SMS code (G.7), reading a notification (G.3.2), and seeing a body's read of the person's
/// data appear in "who used my data" (G.3.4). Every page visited passes the accessibility checks and is
/// saved as a screenshot in `target/browser-artifacts/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_3_portal_flows_in_a_real_browser_address_forwarding_notification_usage() {
    use popreg_domain::access::{BodyType, Caller, Function};
    let db = TestDb::sqlite().await;
    let s = &db.store;
    let p = psn(4701);
    // The links in the e-mails name the portal's public address; the test follows them to this server.
    let (app, caught) = crate::portal::catcher_site(&db, p, "https://e-citizen.test").await;
    let url = app.url();
    let driver = Driver::start();
    let b = Browser::open(&driver).await;
    b.goto(&format!("{url}/login?next=/my")).await;
    check_and_shoot(&b, "hy", "login").await;
    b.click("form[action='/login/demo'] button").await;
    assert_eq!(b.here().await, "/my");
    b.goto(&format!("{url}/lang?to=en&back=/my")).await;
    check_and_shoot(&b, "en", "desk").await;

    // A1.21: an additional address for official notices, declared in the form.
    b.goto(&format!("{url}/my/addresses")).await;
    check_and_shoot(&b, "en", "addresses").await;
    let today = s.clock().now().date_naive().to_string();
    let form = "form[action='/my/addresses/additional_address']";
    for (name, value) in [
        ("address.country", "AM"),
        ("address.marz", "AM-ER"),
        ("address.community", "AM-ER-001"),
        ("address.street", "Tumanyan"),
        ("valid_from", today.as_str()),
    ] {
        fill(&b, &format!("{form} [name='{name}']"), value).await;
    }
    b.click(&format!("{form} button[type=submit]")).await;
    assert_eq!(b.here().await, "/my/addresses?done=declared");
    let page = b.text().await;
    assert!(page.contains("Tumanyan"), "{page}");
    check_and_shoot(&b, "en", "addresses-declared").await;

    // G.5: an e-mail address; the verification e-mail is caught by the demo's catcher, whose link is
    // followed with a click.
    b.goto(&format!("{url}/my/forwarding")).await;
    check_and_shoot(&b, "en", "forwarding").await;
    fill(&b, "#new-email", "ani@example.am").await;
    b.click("form[action='/my/forwarding/email'] button[type=submit]")
        .await;
    assert_eq!(b.here().await, "/my/forwarding?done=added-email");
    assert!(b.text().await.contains("not verified"));
    fill(&b, "#new-phone", "091234567").await;
    b.click("form[action='/my/forwarding/phone'] button[type=submit]")
        .await;
    assert_eq!(b.here().await, "/my/forwarding?done=added-phone");
    let started = Instant::now();
    while caught.list().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing caught"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.goto(&format!("{url}/demo/mail")).await;
    check_and_shoot(&b, "en", "demo-mail").await;
    let code = caught
        .list()
        .iter()
        .find(|m| m.channel == "sms")
        .map(|m| crate::portal::secret_for_sms(&m.body))
        .expect("the SMS code");
    assert!(
        b.text().await.contains(&code),
        "the code is on the catcher's page"
    );
    let link = b
        .one("a[href^='https://e-citizen.test/my/forwarding/verify?token=']")
        .await;
    let href = b.get(&format!("/element/{link}/attribute/href")).await;
    let path = href
        .as_str()
        .unwrap()
        .trim_start_matches("https://e-citizen.test")
        .to_string();
    b.goto(&format!("{url}{path}")).await;
    assert!(b.here().await.starts_with("/my/forwarding"));
    assert!(
        b.text().await.contains("ani@example.am is verified"),
        "{}",
        b.text().await
    );
    check_and_shoot(&b, "en", "forwarding-verified").await;

    // G.7: the SMS code typed into the phone's form.
    let code_field = b.one("input[name='code']").await;
    b.post(
        &format!("/element/{code_field}/value"),
        json!({ "text": code }),
    )
    .await;
    b.click("form[action$='/verify'] button[type=submit]").await;
    assert_eq!(
        b.here().await,
        "/my/forwarding?done=verified",
        "{}",
        b.text().await
    );
    assert_eq!(
        b.all("input[name='code']").await.len(),
        0,
        "no number waits for a code any more"
    );

    // G.3.2: a body's notification, read in the inbox; opening it marks it read.
    crate::notifications_api::sender_body(s, "SRC-01").await;
    let sent = s
        .send_notification(
            &crate::notifications_api::caller("SRC-01"),
            &crate::notifications_api::notification(p, None),
            &popreg_store::ContactSettings::default(),
        )
        .await
        .unwrap();
    b.goto(&format!("{url}/my/inbox")).await;
    assert!(b.text().await.contains("unread: 1"), "{}", b.text().await);
    check_and_shoot(&b, "en", "inbox").await;
    b.click(&format!("a[href='/my/inbox/{}']", sent.id)).await;
    check_and_shoot(&b, "en", "message").await;
    b.goto(&format!("{url}/my/inbox")).await;
    assert!(b.text().await.contains("unread: 0"), "{}", b.text().await);

    // G.3.4: a body reads the person's data through the gate; the read appears in "who used my data".
    crate::notifications_api::sender_body(s, "USE-01").await;
    s.add_grant(
        "test",
        "USE-01",
        &["person.*".into()],
        "tax assessment",
        "law HO-1",
        None,
    )
    .await
    .unwrap();
    let reader = Caller {
        body_id: "USE-01".into(),
        body_type: BodyType::Other,
        user_uid: "USE-01-clerk".into(),
        functions: vec![Function::ReadPersons],
        channel: popreg_domain::Channel::Api,
        external: Default::default(),
    };
    s.read_person(&reader, p, popreg_store::View::Current)
        .await
        .unwrap()
        .unwrap();
    b.goto(&format!("{url}/my/usage")).await;
    let usage = b.text().await;
    assert!(usage.contains("tax assessment"), "{usage}");
    check_and_shoot(&b, "en", "usage").await;

    // The remaining pages pass the same checks, in Armenian and Russian too.
    for (lang, path, name) in [
        ("en", "/my/data", "data"),
        ("en", "/my/data/history", "history"),
        ("en", "/my/sessions", "sessions"),
        ("en", "/my/mobile-id", "mobile-id"),
        ("en", "/help", "help"),
        ("en", "/notices", "notices"),
        ("hy", "/my/data", "data-hy"),
        ("ru", "/my/forwarding", "forwarding-ru"),
    ] {
        b.goto(&format!("{url}/lang?to={lang}&back={path}")).await;
        check_and_shoot(&b, lang, name).await;
    }
    b.close().await;
    drop(driver);
    app.shutdown().await.unwrap();
}

/// The provider workspace in a real browser (A1.35, the web channel): a hospital's employee logs in with
/// the demo card chooser, opens the birth form from the workspace, submits a valid birth and sees the
/// newborn's PSN; a birth dated in the future comes back with the message next to the date and what was
/// typed kept. Every page has a language, a title and a name on every control, passes the contrast check,
/// and is saved as a screenshot (`target/browser-artifacts/workspace-*.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_35_workspace_in_a_real_browser_a_birth_answers_the_psn_and_errors_sit_by_their_fields()
{
    use popreg_domain::access::{BodyType, Function};
    let db = TestDb::sqlite().await;
    let s = &db.store;
    let clerk = psn(4801);
    let (mother, father) = (psn(4802), psn(4803));
    register_parents(s, mother, father, "Պետրոսյան").await;
    crate::admin::new_body(s, "MED-0001", BodyType::MedicalOrganization).await;
    let app = crate::portal::demo_site(&db, clerk).await;
    s.add_employee("test", "MED-0001", clerk, &[Function::Submit])
        .await
        .unwrap();
    let url = app.url();
    let driver = Driver::start();
    let b = Browser::open(&driver).await;
    let shoot = |name: &'static str| {
        let b = &b;
        async move {
            assert_named(b, "en").await;
            assert_text_contrast(b).await;
            let png = b.screenshot().await;
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: a PNG");
            std::fs::write(artifacts().join(format!("workspace-{name}.png")), &png).unwrap();
        }
    };

    b.goto(&format!("{url}/login?next=/workspace")).await;
    b.click("form[action='/login/demo'] button").await;
    assert_eq!(b.here().await, "/workspace");
    b.goto(&format!("{url}/workspace?lang=en")).await;
    assert!(b.text().await.contains("MED-0001"), "{}", b.text().await);
    shoot("home").await;
    b.click("a[href='/workspace/birth?lang=en']").await;
    assert_eq!(b.here().await, "/workspace/birth?lang=en");
    shoot("birth-form").await;

    let form = "form[action='/workspace/birth?lang=en']";
    let fill_birth = |date: &'static str| {
        let b = &b;
        let mother = mother.to_string();
        async move {
            for (name, value) in [
                ("first_name", "Արամ"),
                ("surname", "Պետրոսյան"),
                ("sex", "M"),
                ("birth_date", date),
                ("birth_place.country", "AM"),
                ("birth_place.marz", "AM-ER"),
                ("mother.psn", mother.as_str()),
            ] {
                fill(b, &format!("{form} [name='{name}']"), value).await;
            }
        }
    };
    // A birth in the future: the form comes back with the message next to the date, the values kept.
    fill_birth("2026-02-01").await;
    b.click(&format!("{form} button[type=submit]")).await;
    let err = b.one("#birth_date-error").await;
    assert!(
        b.visible_text(&err).await.contains("PSR-VAL-0002"),
        "{}",
        b.visible_text(&err).await
    );
    let kept = b
        .js(
            "return document.querySelector(\"[name='first_name']\").value",
            json!([]),
        )
        .await;
    assert_eq!(kept, "Արամ");
    let alert = b.one("p.err[role=alert]").await;
    assert!(b.displayed(&alert).await);
    shoot("birth-refused").await;
    assert_eq!(
        s.rejections(Some("MED-0001"), 0, 10).await.unwrap().len(),
        1
    );

    // A valid one: accepted, with the newborn's PSN on the page.
    fill_birth("2026-01-14").await;
    b.click(&format!("{form} button[type=submit]")).await;
    let shown = b.one("#psn").await;
    let child = popreg_domain::Psn::parse(b.visible_text(&shown).await.trim()).unwrap();
    let state = s.unaudited().person(child).await.unwrap().unwrap();
    assert_eq!(state.names.first.hy, "Արամ");
    assert_eq!(state.parents.len(), 1);
    let entry = &s.unaudited().entries(child).await.unwrap()[0];
    assert_eq!(entry.channel, popreg_domain::Channel::Web);
    assert_eq!(entry.user_uid, clerk.to_string());
    shoot("birth-accepted").await;

    b.close().await;
    drop(driver);
    app.shutdown().await.unwrap();
}

#[test]
fn g_2_contrast_ratios_are_those_of_wcag() {
    assert!((contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") - 21.0).abs() < 1e-9);
    assert!((contrast("rgb(255, 255, 255)", "rgb(255, 255, 255)") - 1.0).abs() < 1e-9);
    // #767676 on white is the classic just-passing grey (4.54:1).
    let grey = contrast("rgb(118, 118, 118)", "rgba(255, 255, 255, 1)");
    assert!((4.5..4.6).contains(&grey), "{grey}");
}
