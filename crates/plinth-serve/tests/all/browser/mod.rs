//! The dashboard in a real browser: Debian's headless Chromium driven through
//! `chromedriver` (WebDriver, the `fantoccini` crate), against a real server with real
//! plugins. Each test clicks through the page as a person would, waits for what the page
//! shows (bounded by [`DEADLINE`]), and checks the state on disk as well.
//!
//! Browser tests take turns ([`TURN`]): two cores do not run several Chromiums well. With
//! `PLINTH_SCREENSHOTS=DIR` set, the tests that show a main view save it as
//! `DIR/serve-NAME.png` (`scripts/serve-screenshots` refreshes `docs/images/`).

mod features;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::common::{DEADLINE, Served};

/// One browser test at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium session, and the `chromedriver` it runs under.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Browser {
    /// Starts `chromedriver` on a free port of 127.0.0.1 and a headless Chromium session.
    pub async fn start() -> Browser {
        let turn = TURN.lock().await;
        let port = free_port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/install-test-servers installs chromium-driver)");
        let profile = tempfile::tempdir().unwrap();
        let capabilities: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--window-size=1280,1000",
                        format!("--user-data-dir={}", profile.path().display()),
                    ],
                },
            }))
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + DEADLINE;
        let client = loop {
            // The driver answers once it listens: until then, connecting fails at once.
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(client) => break client,
                Err(e) => {
                    if let Ok(Some(status)) = driver.try_wait() {
                        panic!("chromedriver exited ({status})");
                    }
                    assert!(Instant::now() < deadline, "no WebDriver session: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
            _turn: turn,
        }
    }

    /// Opens the dashboard of `served` as `plinth serve` prints it, the token in the
    /// fragment, and waits until the plugin list is drawn.
    pub async fn open(&self, served: &Served) {
        self.client
            .goto(&format!("{}/#token={}", served.base, served.token))
            .await
            .unwrap();
        self.wait_for("#plugins tbody tr").await;
    }

    /// The first element matching `css`, waiting for it.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    /// Waits until the text of the first element matching `css` satisfies `wanted`, and
    /// returns it.
    pub async fn wait_text(&self, css: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if wanted(&text) {
                    return text;
                }
                last = text;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never showed what was expected; last: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "`{css}` is still on the page");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the first element matching `css`, once it is there.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Replaces the value of the input matching `css` with `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.wait_for(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Saves the page as `serve-NAME.png` when `PLINTH_SCREENSHOTS` names a folder.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("PLINTH_SCREENSHOTS") else {
            return;
        };
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            std::path::Path::new(&dir).join(format!("serve-{name}.png")),
            png,
        )
        .unwrap();
    }

    /// Ends the session (Chromium exits) and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After `close` this finds the driver gone; after a panic it ends it.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
