//! End-to-end harness: a real headless Chromium driven over WebDriver (chromedriver, both from
//! Debian's packages, installed by scripts/test.sh). Each test gets its own chromedriver on a free
//! loopback port, and keeps screenshots of its key pages under `target/e2e-artifacts/<test>/`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// axe-core 4.14.1 (MPL-2.0, from the npm registry), injected into pages for accessibility checks.
const AXE: &str = include_str!("axe.min.js");

pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Child,
    artifacts: PathBuf,
    shots: usize,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("addr").port()
}

fn binary(names: &[&str]) -> String {
    for n in names {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
            let p = format!("{dir}/{n}");
            if std::path::Path::new(&p).exists() {
                return p;
            }
        }
    }
    panic!("none of {names:?} is installed: scripts/test.sh installs chromium and chromium-driver")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; `test` names the artifact folder.
    pub async fn start(base: &str, test: &str) -> Browser {
        Browser::start_sized(base, test, 1280, 900).await
    }

    pub async fn start_sized(base: &str, test: &str, width: u32, height: u32) -> Browser {
        Browser::start_with(base, test, width, height, true).await
    }

    /// `javascript: false` runs the page as a browser with scripts turned off.
    pub async fn start_with(base: &str, test: &str, width: u32, height: u32, javascript: bool) -> Browser {
        // lettre and fantoccini's TLS stacks enable both rustls providers; pick one for the process
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new(binary(&["chromedriver"]))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": binary(&["chromium", "chromium-browser"]),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions", "--lang=en-US",
                    format!("--window-size={width},{height}"),
                ],
                "prefs": {
                    "intl.accept_languages": "en-US,en",
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 }
                }
            }
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls().expect("tls").capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot start a Chromium session through chromedriver: {e}"),
            }
        };
        let artifacts =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("e2e-artifacts").join(test);
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).expect("artifact dir");
        Browser { client, base: base.to_string(), driver, artifacts, shots: 0 }
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{}", self.base, path)).await.expect("navigate");
    }

    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.expect("current url");
        let mut p = u.path().to_string();
        if let Some(q) = u.query() {
            p.push('?');
            p.push_str(q);
        }
        p
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} on {}: {e}", self.base))
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Clears a field and types into it, as a person (or a barcode scanner) does.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap_or_else(|err| panic!("clear {css}: {err}"));
        e.send_keys(text).await.unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    /// Chooses an option of a select by its visible text.
    pub async fn choose(&self, css: &str, label: &str) {
        let e = self.find(css).await;
        e.select_by_label(label).await.unwrap_or_else(|err| panic!("choose {label:?} in {css}: {err}"));
    }

    /// Chooses an option of a select by its value.
    pub async fn choose_value(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.select_by_value(value).await.unwrap_or_else(|err| panic!("choose {value:?} in {css}: {err}"));
    }

    /// Clicks and waits for the next page to load (WebDriver waits for navigation on click).
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        e.click().await.unwrap_or_else(|err| panic!("click {css}: {err}"));
    }

    /// Clicks the button or link whose text contains `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!(
            "//button[contains(normalize-space(.), {q})] | //a[contains(normalize-space(.), {q})]",
            q = xpath_literal(text)
        );
        let e = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|err| panic!("no button or link {text:?}: {err}"));
        e.click().await.unwrap_or_else(|err| panic!("click {text:?}: {err}"));
    }

    /// The page's visible text (retried while a navigation replaces the document).
    pub async fn text(&self) -> String {
        let mut last = None;
        for _ in 0..50 {
            match self.find("body").await.text().await {
                Ok(t) => return t,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot read the page text: {last:?}")
    }

    /// Waits until the page's text contains `needle`, failing with the page text otherwise.
    pub async fn see(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return;
            }
            if Instant::now() > deadline {
                panic!("expected {needle:?} on {}; the page says:\n{text}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn not_see(&self, needle: &str) {
        let text = self.text().await;
        assert!(!text.contains(needle), "did not expect {needle:?} on {}:\n{text}", self.path().await);
    }

    /// Keeps a screenshot of the page as an artifact.
    pub async fn shot(&mut self, name: &str) {
        self.shots += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let file = self.artifacts.join(format!("{:02}-{name}.png", self.shots));
        std::fs::write(&file, png).expect("write screenshot");
    }

    /// Which element has the keyboard focus (its id).
    pub async fn focused_id(&self) -> String {
        let v =
            self.client.execute("return document.activeElement && document.activeElement.id", vec![]).await;
        v.ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    /// Runs axe-core on the current page; returns the serious and critical violations.
    pub async fn axe_violations(&self) -> Vec<String> {
        self.client.execute(AXE, vec![]).await.expect("inject axe-core");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' -> '
                            + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                    .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        result
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("concat('{}')", s.replace('\'', "', \"'\", '"))
    }
}
