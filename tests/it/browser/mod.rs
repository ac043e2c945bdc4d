//! The portal in a real browser: headless Chromium driven through chromedriver (WebDriver), axe-core
//! for accessibility, the Nu Html Checker for valid HTML, keyboard use, journeys and screenshots.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Java, and npm: axe-core and vnu-jar come from the
//! npm registry once into a cache directory outside the clone (see `tools`). A missing program fails
//! the test with the package to install; nothing is skipped.
//!
//! To add a page type, add a line to `page_types::public`; to add a journey, write a test that
//! starts a [`Browser`] against a `TestApp`.

mod audit;
mod html;
mod journeys;
mod keyboard;
mod page_types;
mod screenshots;
mod tools;

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::common::{PASSWORD, wait_until};

/// Phone and desktop widths, in CSS pixels.
pub const WIDTHS: [u32; 2] = [390, 1280];

/// Height of the viewport when a test does not ask for another.
const VIEWPORT_HEIGHT: u32 = 900;

/// A headless Chromium session, with the chromedriver that runs it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    base: String,
    driver: Driver,
}

/// The chromedriver process (in a process group of its own, with the browsers it starts) and the
/// browser profile directory. Dropping it kills the group, so a failing test leaves nothing behind.
struct Driver {
    child: Child,
    output: Arc<Mutex<String>>,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium, 1280 px wide, for the portal at `base`.
    pub async fn start(base: &str) -> Self {
        let chromium = tools::program("NDP_CHROMIUM", &["chromium", "chromium-browser"]).unwrap_or_else(|| {
            panic!("browser tests need Chromium: install the Debian packages chromium and chromium-driver (apt-get install chromium chromium-driver), or set NDP_CHROMIUM")
        });
        let chromedriver = tools::program("NDP_CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!("browser tests need chromedriver: install the Debian packages chromium and chromium-driver (apt-get install chromium chromium-driver), or set NDP_CHROMEDRIVER")
        });
        let (driver, port) = start_driver(&chromedriver).await;
        let client = connect(port, &chromium, &driver).await;
        let browser = Self { client, base: base.trim_end_matches('/').to_string(), driver };
        browser.set_viewport(WIDTHS[1], VIEWPORT_HEIGHT).await;
        browser
    }

    /// Ends the browser session, then chromedriver.
    pub async fn quit(self) {
        let _ = self.client.close().await;
        drop(self.driver);
    }

    /// The portal's address for a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Loads a page of the portal and waits for it to finish loading.
    pub async fn open(&self, path: &str) {
        let url = self.url(path);
        self.client.goto(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.wait_for_load().await;
    }

    /// Waits until the current document has loaded (after a click or a form submission).
    pub async fn wait_for_load(&self) {
        wait_until(Duration::from_secs(20), || async {
            self.client.execute("return document.readyState", vec![]).await.is_ok_and(|v| v == "complete")
        })
        .await
        .expect("the page finishes loading");
    }

    /// Waits until the address is `path` (with its query) on the portal, after a navigation.
    pub async fn wait_for_path(&self, path: &str) {
        let wanted = self.url(path);
        let outcome =
            wait_until(Duration::from_secs(20), || async { self.client.current_url().await.is_ok_and(|u| u.as_str() == wanted) }).await;
        if outcome.is_err() {
            let now = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let main = self.client.execute("return document.querySelector('main')?.innerText", vec![]).await.unwrap_or_default();
            panic!("expected to arrive at {wanted}, still at {now}, which says:\n{}", main.as_str().unwrap_or(""));
        }
        self.wait_for_load().await;
    }

    /// The current path and query, without the origin.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Runs a script in the page (with `arguments`) and decodes what it returns.
    pub async fn js<T: DeserializeOwned>(&self, script: &str, args: Vec<Value>) -> T {
        let value = self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
        serde_json::from_value(value).unwrap_or_else(|e| panic!("script result: {e}\n{script}"))
    }

    /// The visible text of the first element matching a CSS selector.
    pub async fn text(&self, css: &str) -> String {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"));
        element.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Clicks the first link whose visible text is `text` within the elements matching `css`.
    pub async fn click_link(&self, css: &str, text: &str) {
        let links = self.client.find_all(Locator::Css(css)).await.expect("find links");
        for link in links {
            if link.text().await.is_ok_and(|t| t.trim() == text) {
                link.click().await.unwrap_or_else(|e| panic!("click {text:?}: {e}"));
                return;
            }
        }
        panic!("no link {text:?} among {css} on {}", self.path().await);
    }

    /// Types `value` into the form control whose label reads `label` (as a person finds it), after
    /// clearing it; returns the control's `name`.
    pub async fn fill(&self, label: &str, value: &str) -> String {
        let id: Option<String> = self
            .js(
                "const label = [...document.querySelectorAll('label')].find(l => l.innerText.trim() === arguments[0]);
                 return label && label.control && label.control.id ? label.control.id : null;",
                vec![json!(label)],
            )
            .await;
        let Some(id) = id else { panic!("no form control labelled {label:?} on {}", self.path().await) };
        let control = self.client.find(Locator::Id(&id)).await.expect("the labelled control");
        control.clear().await.expect("clear");
        control.send_keys(value).await.unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
        control.attr("name").await.expect("name").unwrap_or_default()
    }

    /// Clicks the first button whose visible text is `text` within the elements matching `css`.
    pub async fn click_button(&self, css: &str, text: &str) {
        let buttons = self.client.find_all(Locator::Css(&format!("{css} button"))).await.expect("find buttons");
        for button in buttons {
            if button.text().await.is_ok_and(|t| t.trim() == text) {
                button.click().await.unwrap_or_else(|e| panic!("click {text:?}: {e}"));
                return;
            }
        }
        panic!("no button {text:?} in {css} on {}", self.path().await);
    }

    /// Signs in through the sign-in form (in Vietnamese) with the shared test password and waits
    /// for the next page: the account page, or the second-factor form for an account with TOTP.
    pub async fn sign_in(&self, email: &str) {
        self.open("/login?lang=vi").await;
        self.fill("Email", email).await;
        self.fill("Mật khẩu", PASSWORD).await;
        self.click_button("main form", "Đăng nhập").await;
        self.wait_for_path_leaving("/login").await;
    }

    /// Types a TOTP code into the second-factor form (in Vietnamese) and continues.
    pub async fn enter_code(&self, code: &str) {
        self.open("/login/second-factor?lang=vi").await;
        assert_eq!(self.path().await, "/login/second-factor?lang=vi", "the second-factor form is open");
        self.fill("Mã xác thực 6 chữ số", code).await;
        self.click_button("main form", "Tiếp tục").await;
        self.wait_for_path_leaving("/login/second-factor").await;
    }

    /// Signs out with the button in the header (in whichever language the page is).
    pub async fn sign_out(&self) {
        let button = self.client.find(Locator::Css(".account-links form[action='/logout'] button")).await.expect("the sign-out button");
        button.click().await.expect("click sign out");
        self.wait_for_path("/").await;
    }

    /// Waits until a form submitted from `path` has led to another page.
    async fn wait_for_path_leaving(&self, path: &str) {
        let left = wait_until(Duration::from_secs(20), || async {
            self.client.current_url().await.is_ok_and(|u| u.path() != path)
                && self.client.execute("return document.readyState", vec![]).await.is_ok_and(|v| v == "complete")
        })
        .await;
        if left.is_err() {
            let main = self.text("main").await;
            panic!("the form on {path} led nowhere; the page says:\n{main}");
        }
    }

    /// Waits until an element matching `css` is on the page (after a form submission that
    /// answers on the same address).
    pub async fn wait_for(&self, css: &str) {
        let found = wait_until(Duration::from_secs(20), || async {
            self.client.execute("return document.readyState", vec![]).await.is_ok_and(|v| v == "complete")
                && self.client.find(Locator::Css(css)).await.is_ok()
        })
        .await;
        if found.is_err() {
            panic!("no {css} appeared on {}; the page says:\n{}", self.path().await, self.text("main").await);
        }
    }

    /// Presses Tab until the focus is on the element matching `css` (at most 40 times), as a
    /// keyboard user moves through a page.
    pub async fn tab_to(&self, css: &str) {
        for _ in 0..40 {
            self.press(Key::Tab).await;
            if self.js::<bool>("return document.activeElement.matches(arguments[0])", vec![json!(css)]).await {
                return;
            }
        }
        panic!("40 presses of Tab never reached {css} on {}", self.path().await);
    }

    /// Types text into whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        let focused = self.client.active_element().await.expect("the focused element");
        focused.send_keys(text).await.unwrap_or_else(|e| panic!("type {text:?}: {e}"));
    }

    /// Presses and releases a key, as a keyboard user does.
    pub async fn press(&self, key: Key) {
        let keys = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: key.into() }).then(KeyAction::Up { value: key.into() });
        self.client.perform_actions(keys).await.expect("key press");
    }

    /// Sets the viewport (the page's layout area, not the window) to `width` × `height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let wanted = (width, height);
        self.client.set_window_size(width, height).await.expect("set window size");
        // The page learns of a resize a moment later, the more so on a busy machine.
        if wait_until(Duration::from_secs(2), || async { self.inner_size().await == wanted }).await.is_err() {
            // The window includes whatever frame the browser draws: grow it by the difference.
            let (inner_w, inner_h) = self.inner_size().await;
            let (w, h) = (width + width.saturating_sub(inner_w), height + height.saturating_sub(inner_h));
            self.client.set_window_size(w, h).await.expect("set window size");
        }
        if wait_until(Duration::from_secs(10), || async { self.inner_size().await == wanted }).await.is_err() {
            panic!("Chromium did not accept a viewport of {width}×{height}; it has {:?}", self.inner_size().await);
        }
    }

    async fn inner_size(&self) -> (u32, u32) {
        self.js("return [window.innerWidth, window.innerHeight]", vec![]).await
    }

    /// A PNG of the whole page at the given viewport width, or of its top 5000 px when it is longer
    /// (Chromium's window cannot grow much beyond that). The viewport grows to the page's height,
    /// then goes back to the usual height.
    pub async fn full_page_png(&self, width: u32) -> Vec<u8> {
        self.set_viewport(width, VIEWPORT_HEIGHT).await;
        let height: u32 = self.js("return Math.ceil(document.documentElement.scrollHeight)", vec![]).await;
        self.set_viewport(width, height.clamp(VIEWPORT_HEIGHT, 5000)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        self.set_viewport(width, VIEWPORT_HEIGHT).await;
        png
    }
}

/// Starts chromedriver on a port of its choosing and waits until it answers.
async fn start_driver(program: &std::path::Path) -> (Driver, u16) {
    use std::os::unix::process::CommandExt as _;
    let profile = tempfile::Builder::new().prefix("ndp-chromium-").tempdir().expect("profile dir");
    // Chromium's own temporary files too, since it is killed, not closed, at the end.
    let tmp = profile.path().join("tmp");
    std::fs::create_dir(&tmp).expect("browser temp dir");
    let mut child = Command::new(program)
        .arg("--port=0")
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    let output = Arc::new(Mutex::new(String::new()));
    let (port_tx, port_rx) = std::sync::mpsc::channel::<u16>();
    for stream in [child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>), child.stderr.take().map(|s| Box::new(s) as _)]
        .into_iter()
        .flatten()
    {
        let output = Arc::clone(&output);
        let port_tx = port_tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(Ok(port)) =
                    line.strip_prefix("ChromeDriver was started successfully on port ").map(|p| p.trim_end_matches('.').parse())
                {
                    let _ = port_tx.send(port);
                }
                let mut out = output.lock().expect("output lock");
                out.push_str(&line);
                out.push('\n');
            }
        });
    }
    drop(port_tx);
    let mut driver = Driver { child, output, profile };
    let port = tokio::task::spawn_blocking(move || port_rx.recv_timeout(Duration::from_secs(30))).await.expect("port reader");
    let Ok(port) = port else {
        let status = driver.child.try_wait().ok().flatten();
        panic!("chromedriver did not start (exit: {status:?}); its output:\n{}", driver.output.lock().expect("output lock"));
    };
    let status_url = format!("http://127.0.0.1:{port}/status");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("client");
    let ready = wait_until(Duration::from_secs(30), || async {
        match http.get(&status_url).send().await {
            Ok(response) => response
                .text()
                .await
                .ok()
                .and_then(|body| serde_json::from_str::<Value>(&body).ok())
                .is_some_and(|v| v["value"]["ready"] == true),
            Err(_) => false,
        }
    })
    .await;
    if ready.is_err() {
        panic!("chromedriver on port {port} never became ready; its output:\n{}", driver.output.lock().expect("output lock"));
    }
    (driver, port)
}

/// Opens a WebDriver session with a headless Chromium.
async fn connect(port: u16, chromium: &std::path::Path, driver: &Driver) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-extensions".into(),
        "--disable-background-networking".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--hide-scrollbars".into(),
        "--force-device-scale-factor=1".into(),
        "--lang=vi".into(),
        format!("--user-data-dir={}", driver.profile.path().display()),
    ];
    if nix::unistd::Uid::effective().is_root() {
        // Chromium refuses to run as root with its sandbox; the tests only load the local portal.
        args.push("--no-sandbox".into());
    }
    let capabilities = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": { "binary": chromium.display().to_string(), "args": args },
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(&format!("http://127.0.0.1:{port}")).await.unwrap_or_else(|e| {
        panic!("start a Chromium session ({}): {e}\nchromedriver said:\n{}", chromium.display(), driver.output.lock().expect("output lock"))
    })
}
