//! One test per dashboard feature.

use fantoccini::Locator;
use std::collections::HashMap;

use plinth_host::{ConsentMode, ConsentState, ConsentStore, NetworkSettings};
use plinth_package::SecretKey;
use serde_json::json;

use super::Browser;
use crate::common::{
    RELOAD_ID, Served, entry_in, hello_dir, release, trust, with_index, write_index,
};
use crate::registry::StaticServer;

fn row(id: &str) -> String {
    format!("#plugins tr[data-id=\"{id}\"]")
}

async fn call_hello(served: &Served, name: &str) -> serde_json::Value {
    let (_, answer) = served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "run", "args": [[name]]}),
        )
        .await;
    answer
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_from_the_printed_url_is_kept_for_the_tab_and_installs_work() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    let browser = Browser::start().await;
    browser.open(&served).await;
    // The fragment left the address bar; the tab keeps the token.
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.fragment(), None, "{url}");
    let kept = browser
        .client
        .execute("return sessionStorage.getItem('plinth-token')", vec![])
        .await
        .unwrap();
    assert_eq!(kept, json!(served.token));
    browser
        .wait_text("#token-state", |t| t.contains("token set"))
        .await;

    let dir = hello_dir(plugins.path());
    browser
        .fill("#install-source", &dir.display().to_string())
        .await;
    browser.click("#install-unsigned").await;
    browser.click("#install button").await;
    browser
        .wait_text(&row("example.hello"), |t| t.contains("example.hello 0.1.0"))
        .await;
    assert!(
        home.path()
            .join("plugins/example.hello/plugin.toml")
            .is_file()
    );
    let lock = std::fs::read_to_string(home.path().join("plinth.lock")).unwrap();
    assert!(lock.contains("example.hello"), "{lock}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_show_status_and_signature_badges() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let alice = SecretKey::generate().unwrap();
    trust(&home, "alice", &alice);
    let signed = release(tmp.path(), "1.0.0", test_programs::RELOAD_V1, &alice);
    let package = tmp.path().join("reload.plinth");
    std::fs::write(&package, &signed.bytes).unwrap();
    std::fs::write(tmp.path().join("reload.plinth.sig"), &signed.signature).unwrap();
    let served = Served::start(&home).await;
    served
        .install_enabled(&hello_dir(tmp.path()), "example.hello")
        .await;
    let (status, body) = served
        .post("/api/plugins", json!({"source": package}))
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");

    let browser = Browser::start().await;
    browser.open(&served).await;
    let hello = row("example.hello");
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "ready")
        .await;
    browser
        .wait_text(&format!("{hello} .badge.signature"), |t| t == "unsigned")
        .await;
    let reload = row(RELOAD_ID);
    browser
        .wait_text(&format!("{reload} .badge.status"), |t| t == "disabled")
        .await;
    browser
        .wait_text(&format!("{reload} .badge.signature"), |t| t == "trusted")
        .await;
    browser.screenshot("plugins").await;

    // The operator stops trusting alice: the row says so.
    std::fs::remove_file(plinth_package::Home::new(&home).trust_store_path()).unwrap();
    browser.client.refresh().await.unwrap();
    browser
        .wait_text(&format!("{reload} .badge.signature"), |t| {
            t == "untrusted key"
        })
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grant_review_before_enable_grants_exactly_what_was_approved() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_dir(plugins.path())).await;
    served
        .put(
            "/api/plugins/example.hello/settings",
            json!({"greeting": "Howdy"}),
        )
        .await;

    let browser = Browser::start().await;
    browser.open(&served).await;
    browser
        .click(&format!("{} input.enable", row("example.hello")))
        .await;
    browser
        .wait_for("#review-list tr[data-grant=\"config\"]")
        .await;
    browser
        .wait_text("#review-list tr[data-grant=\"log\"] .usable", |t| {
            t == "yes"
        })
        .await;
    browser
        .wait_text("#review-list tr[data-grant=\"config\"] .usable", |t| {
            t == "yes"
        })
        .await;
    browser
        .click("#review-list tr[data-grant=\"log\"] input.approve-grant")
        .await;
    browser
        .click("#review-list tr[data-grant=\"config\"] input.refuse-grant")
        .await;
    browser.screenshot("review").await;
    browser.click("#review-approve").await;
    browser
        .wait_text(&format!("{} .badge.status", row("example.hello")), |t| {
            t == "ready"
        })
        .await;

    let entry = served.entry("example.hello").unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(true));
    assert_eq!(entry["grants"], toml::Value::Array(vec!["log".into()]));
    // Enforced: `config` was refused, so the plugin cannot read its greeting setting.
    let answer = call_hello(&served, "Ada").await;
    assert_eq!(answer["result"], json!({"ok": "Hello, Ada!"}), "{answer}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_toggle_disables_a_running_plugin() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served
        .install_enabled(&hello_dir(plugins.path()), "example.hello")
        .await;
    let browser = Browser::start().await;
    browser.open(&served).await;
    let hello = row("example.hello");
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "ready")
        .await;
    browser.click(&format!("{hello} input.enable")).await;
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "disabled")
        .await;
    let entry = served.entry("example.hello").unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(false));
    let toggle = browser.wait_for(&format!("{hello} input.enable")).await;
    assert!(!toggle.is_selected().await.unwrap());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_shows_its_message_and_retry_loads_again() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    // Files are not watched, so only the Retry click can load the fixed component.
    let served = Served::start_with(home.path(), |o| o.watch = false).await;
    served.install(&hello_dir(plugins.path())).await;
    let component = home.path().join("plugins/example.hello/hello.wasm");
    let good = std::fs::read(&component).unwrap();
    std::fs::write(&component, b"\0asm broken").unwrap();
    served
        .post("/api/plugins/example.hello/enable", json!({}))
        .await;

    let browser = Browser::start().await;
    browser.open(&served).await;
    let hello = row("example.hello");
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "error")
        .await;
    let message = browser
        .wait_text(&format!("{hello} .error-text"), |t| t.contains("Retry"))
        .await;
    let (_, shown) = served.get("/api/plugins/example.hello").await;
    let code = shown["status"]["diagnostic"]["code"].as_str().unwrap();
    assert!(message.starts_with(code), "{message} / {shown}");

    std::fs::write(&component, good).unwrap();
    let (_, shown) = served.get("/api/plugins/example.hello").await;
    assert_eq!(shown["status"]["state"], "error", "{shown}");
    browser.click(&format!("{hello} button.retry")).await;
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "ready")
        .await;
    browser.wait_gone(&format!("{hello} .error-text")).await;
    assert_eq!(
        call_hello(&served, "Ada").await["result"],
        json!({"ok": "Hello, Ada!"})
    );
    browser.close().await;
}

/// A plugin folder: the `http` test program as `example.fetcher`, whose manifest requests
/// `http` to each of `hosts` (so a request there waits for a person's consent).
fn fetcher_dir(root: &std::path::Path, hosts: &[String]) -> std::path::PathBuf {
    let dir = root.join("fetcher");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(test_programs::HTTP, dir.join("http.wasm")).unwrap();
    let allow = hosts
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "[plugin]\nid = \"example.fetcher\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"http.wasm\"\napi = \"0.1.0\"\nworld = \"plugin\"\n\n[capabilities]\nlog = true\nhttp = {{ allow = [{allow}] }}\n"
        ),
    )
    .unwrap();
    dir
}

async fn fetch(served: &Served, url: &str) -> serde_json::Value {
    let (_, answer) = served
        .post(
            "/api/plugins/example.fetcher/call",
            json!({"export": "run", "args": [["fetch", "GET", url]]}),
        )
        .await;
    answer["result"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_prompts_are_approved_and_denied() {
    let feeds = StaticServer::start(HashMap::from([("/feed".to_owned(), b"news".to_vec())]));
    let tracker = StaticServer::start(HashMap::from([("/ping".to_owned(), b"pong".to_vec())]));
    let hosts = [
        format!("127.0.0.1:{}", feeds.port),
        format!("127.0.0.1:{}", tracker.port),
    ];
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start_with(home.path(), |o| {
        o.config.network = [feeds.port, tracker.port]
            .into_iter()
            .fold(NetworkSettings::default().with_plain_http(true), |n, p| {
                n.allow_loopback_port(p)
            })
            .with_consent(ConsentMode::Ask);
    })
    .await;
    served
        .install_enabled(&fetcher_dir(plugins.path(), &hosts), "example.fetcher")
        .await;
    served
        .post(
            "/api/plugins/example.fetcher/grant",
            json!({"grants": ["log"]}),
        )
        .await;
    served.wait_ready("example.fetcher", "").await;
    // The plugin's requests are held back until a person decides.
    for url in [feeds.url("/feed"), tracker.url("/ping")] {
        let answer = fetch(&served, &url).await;
        let error = answer["err"].as_str().unwrap_or_default();
        assert!(error.starts_with("consent-pending: "), "{answer}");
    }

    let browser = Browser::start().await;
    browser.open(&served).await;
    let prompt = |host: &str| format!("#consent li[data-host=\"{host}\"]");
    browser
        .wait_text(&prompt(&hosts[0]), |t| {
            t.contains(&format!("example.fetcher wants to reach {}", hosts[0]))
        })
        .await;
    browser.wait_for(&prompt(&hosts[1])).await;
    browser.screenshot("consent").await;
    browser
        .click(&format!("{} button.approve", prompt(&hosts[0])))
        .await;
    browser.wait_gone(&prompt(&hosts[0])).await;
    browser
        .click(&format!("{} button.deny", prompt(&hosts[1])))
        .await;
    browser
        .wait_text("#consent li.none", |t| t == "None pending.")
        .await;
    let store = ConsentStore::open(home.path().join("consent.toml")).unwrap();
    assert_eq!(
        store.state("example.fetcher", &hosts[0]).unwrap(),
        Some(ConsentState::Approved)
    );
    assert_eq!(
        store.state("example.fetcher", &hosts[1]).unwrap(),
        Some(ConsentState::Denied)
    );
    // The host enforces both decisions on the plugin's next requests.
    assert_eq!(
        fetch(&served, &feeds.url("/feed")).await,
        json!({"ok": "200 news"})
    );
    let answer = fetch(&served, &tracker.url("/ping")).await;
    let error = answer["err"].as_str().unwrap_or_default();
    assert!(error.starts_with("denied: "), "{answer}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_view_follows_the_plugin_live() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served
        .install_enabled(&hello_dir(plugins.path()), "example.hello")
        .await;
    served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["log"]}),
        )
        .await;
    served.wait_ready("example.hello", "").await;
    let browser = Browser::start().await;
    browser.open(&served).await;
    browser
        .click(&format!("{} button.open", row("example.hello")))
        .await;
    browser.wait_for("#log").await;
    // The stream opens a moment after the click: call until a line shows.
    let deadline = std::time::Instant::now() + crate::common::DEADLINE;
    loop {
        call_hello(&served, "Ada").await;
        let text = browser
            .client
            .find(Locator::Css("#log"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("greeting Ada") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no log line: {text:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    call_hello(&served, "Grace").await;
    browser
        .wait_text("#log", |t| t.contains("greeting Grace"))
        .await;
    browser.close().await;
}

/// `hello` with a settings schema that has an enum, a bounded integer and a bounded string.
fn hello_with_schema(root: &std::path::Path) -> std::path::PathBuf {
    let dir = hello_dir(root);
    std::fs::write(
        dir.join("settings.schema.json"),
        r#"{
  "type": "object",
  "properties": {
    "greeting": {"type": "string", "title": "Greeting", "maxLength": 10, "default": "Hello"},
    "mode": {"enum": ["short", "long"], "title": "Mode", "default": "short"},
    "repeat": {"type": "integer", "title": "Repeat", "minimum": 1, "maximum": 5, "default": 1},
    "shout": {"type": "boolean", "title": "Shout", "default": false}
  },
  "additionalProperties": false
}"#,
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn the_settings_form_follows_the_schema_and_applies_live() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("plugins.toml"),
        "[plugins]\nschema_version = 1\n\n[[plugins.entries]]\nid = \"example.hello\"\ninstance = \"long-lived\"\n",
    )
    .unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_with_schema(plugins.path())).await;
    served
        .post(
            "/api/plugins/example.hello/grant",
            json!({"grants": ["log", "config"]}),
        )
        .await;
    served
        .post("/api/plugins/example.hello/enable", json!({}))
        .await;
    served.wait_ready("example.hello", "").await;

    let browser = Browser::start().await;
    browser.open(&served).await;
    browser
        .click(&format!("{} button.open", row("example.hello")))
        .await;
    let greeting = browser.wait_for("#setting-greeting").await;
    assert_eq!(
        greeting.prop("value").await.unwrap().as_deref(),
        Some("Hello")
    );
    let repeat = browser.wait_for("#setting-repeat").await;
    assert_eq!(
        repeat.prop("type").await.unwrap().as_deref(),
        Some("number")
    );
    assert_eq!(repeat.prop("value").await.unwrap().as_deref(), Some("1"));
    let options = browser
        .client
        .find_all(Locator::Css("#setting-mode option"))
        .await
        .unwrap();
    assert_eq!(options.len(), 2);
    let shout = browser.wait_for("#setting-shout").await;
    assert_eq!(
        shout.prop("type").await.unwrap().as_deref(),
        Some("checkbox")
    );

    browser.fill("#setting-greeting", "Salut").await;
    browser
        .wait_for("#setting-mode")
        .await
        .select_by_value("\"long\"")
        .await
        .unwrap();
    browser.fill("#setting-repeat", "3").await;
    browser.screenshot("settings").await;
    browser.click("#settings button").await;
    browser
        .wait_text("#settings-errors", |t| {
            t == "Saved and applied to the running plugin."
        })
        .await;
    let entry = served.entry("example.hello").unwrap();
    let config = entry["config"].as_table().unwrap();
    assert_eq!(config["greeting"].as_str(), Some("Salut"));
    assert_eq!(config["mode"].as_str(), Some("long"));
    assert_eq!(config["repeat"].as_integer(), Some(3));
    assert_eq!(config["shout"].as_bool(), Some(false));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_settings_form_explains_what_the_schema_refuses() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.install(&hello_with_schema(plugins.path())).await;
    let browser = Browser::start().await;
    browser.open(&served).await;
    browser
        .click(&format!("{} button.open", row("example.hello")))
        .await;
    browser.fill("#setting-repeat", "9").await;
    browser.fill("#setting-greeting", "Good morning").await;
    browser.click("#settings button").await;
    browser
        .wait_text("#setting-repeat-error", |t| t == "repeat must be at most 5")
        .await;
    browser
        .wait_text("#setting-greeting-error", |t| {
            t == "greeting must be at most 10 characters"
        })
        .await;
    browser
        .wait_text("#settings-errors", |t| t == "Fix the marked settings.")
        .await;
    let config = served
        .entry("example.hello")
        .and_then(|e| e.get("config").cloned());
    assert_eq!(config, None, "nothing was written");

    browser.fill("#setting-repeat", "2.5").await;
    browser.fill("#setting-greeting", "Hi").await;
    browser.click("#settings button").await;
    browser
        .wait_text("#setting-repeat-error", |t| {
            t == "repeat must be a whole number"
        })
        .await;
    browser.fill("#setting-repeat", "4").await;
    browser.click("#settings button").await;
    browser
        .wait_text("#settings-errors", |t| t.starts_with("Saved"))
        .await;
    let entry = served.entry("example.hello").unwrap();
    assert_eq!(entry["config"]["repeat"].as_integer(), Some(4));
    assert_eq!(entry["config"]["greeting"].as_str(), Some("Hi"));
    browser.close().await;
}

/// A home trusting alice, whose configured index lists the given releases of the reload
/// program.
struct Indexed {
    tmp: tempfile::TempDir,
    served: Served,
    index_dir: std::path::PathBuf,
    alice: SecretKey,
}

async fn indexed(versions: &[(&str, &str)]) -> Indexed {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let index_dir = tmp.path().join("index");
    std::fs::create_dir_all(&index_dir).unwrap();
    let alice = SecretKey::generate().unwrap();
    trust(&home, "alice", &alice);
    let releases: Vec<_> = versions
        .iter()
        .map(|(v, component)| release(tmp.path(), v, component, &alice))
        .collect();
    let index = write_index(&index_dir, &releases.iter().collect::<Vec<_>>());
    let served = Served::start_with(&home, |o| with_index(o, &index)).await;
    Indexed {
        tmp,
        served,
        index_dir,
        alice,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn installs_from_the_index_with_a_version_picker() {
    let setup = indexed(&[
        ("1.0.0", test_programs::RELOAD_V1),
        ("1.1.0", test_programs::RELOAD_V2),
    ])
    .await;
    let served = &setup.served;
    let browser = Browser::start().await;
    browser.open(served).await;
    let offered = format!("#index li[data-id=\"{RELOAD_ID}\"]");
    browser
        .wait_text(&offered, |t| t.contains("Says which version it is."))
        .await;
    browser.screenshot("index").await;
    browser
        .wait_for(&format!("{offered} select.version"))
        .await
        .select_by_value("1.0.0")
        .await
        .unwrap();
    browser.click(&format!("{offered} button.install")).await;
    browser
        .wait_text(&row(RELOAD_ID), |t| t.contains("test.reload 1.0.0"))
        .await;
    browser
        .wait_text(&offered, |t| t.contains("installed: 1.0.0"))
        .await;
    let lock = std::fs::read_to_string(served.home.join("plinth.lock")).unwrap();
    assert!(lock.contains("version = \"1.0.0\""), "{lock}");
    let manifest =
        std::fs::read_to_string(served.home.join("plugins/test.reload/plugin.toml")).unwrap();
    assert!(manifest.contains("version = \"1.0.0\""), "{manifest}");
    // Installed, not enabled: the operator reviews it first.
    let enabled = served
        .entry(RELOAD_ID)
        .and_then(|e| e.get("enabled").and_then(toml::Value::as_bool));
    assert_ne!(enabled, Some(true));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_available_is_shown_and_the_picked_version_is_swapped_in() {
    let setup = indexed(&[("1.0.0", test_programs::RELOAD_V1)]).await;
    let served = &setup.served;
    let (status, body) = served
        .post(
            "/api/plugins",
            json!({"source": format!("{RELOAD_ID}@1.0.0")}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    served
        .post(&format!("/api/plugins/{RELOAD_ID}/enable"), json!({}))
        .await;
    served.wait_ready(RELOAD_ID, "").await;
    let newer: Vec<_> = [
        ("1.0.0", test_programs::RELOAD_V1),
        ("1.1.0", test_programs::RELOAD_V2),
        ("1.2.0", test_programs::RELOAD_V2),
    ]
    .iter()
    .map(|(v, c)| release(setup.tmp.path(), v, c, &setup.alice))
    .collect();
    write_index(&setup.index_dir, &newer.iter().collect::<Vec<_>>());

    let browser = Browser::start().await;
    browser.open(served).await;
    let reload = row(RELOAD_ID);
    browser
        .wait_text(&format!("{reload} .badge.update"), |t| t == "update 1.2.0")
        .await;
    browser.click(&format!("{reload} button.open")).await;
    browser
        .wait_text("#update-version option:checked", |t| t.starts_with("1.2.0"))
        .await;
    browser
        .wait_for("#update-version")
        .await
        .select_by_value("1.1.0")
        .await
        .unwrap();
    browser.screenshot("update").await;
    browser.click("#update-button").await;
    browser
        .wait_text("#update-result", |t| t == "Updated 1.0.0 → 1.1.0.")
        .await;
    browser
        .wait_text(&reload, |t| t.contains("test.reload 1.1.0"))
        .await;
    browser
        .wait_text(&format!("{reload} .badge.update"), |t| t == "update 1.2.0")
        .await;
    browser
        .wait_text(&format!("{reload} .badge.status"), |t| t == "ready")
        .await;
    let lock = std::fs::read_to_string(served.home.join("plinth.lock")).unwrap();
    assert!(lock.contains("version = \"1.1.0\""), "{lock}");
    let (_, answer) = served
        .post(
            &format!("/api/plugins/{RELOAD_ID}/call"),
            json!({"export": "run", "args": [["version"]]}),
        )
        .await;
    assert_eq!(answer["result"]["ok"], "v2", "{answer}");
    assert_eq!(
        served.entry(RELOAD_ID).unwrap()["enabled"].as_bool(),
        Some(true)
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_view_shows_calls_latency_fuel_and_memory() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served
        .install_enabled(&hello_dir(plugins.path()), "example.hello")
        .await;
    for name in ["Ada", "Grace", "Linus", "Barbara", "Edsger"] {
        call_hello(&served, name).await;
    }
    let browser = Browser::start().await;
    browser.open(&served).await;
    browser
        .click(&format!("{} button.open", row("example.hello")))
        .await;
    browser
        .wait_text("#rt-calls", |t| t.ends_with("5 through the API"))
        .await;
    browser
        .wait_text("#rt-errors", |t| t.ends_with("0 through the API"))
        .await;
    browser.wait_text("#rt-p50", |t| t.starts_with('≤')).await;
    browser.wait_text("#rt-p99", |t| t.starts_with('≤')).await;
    browser
        .wait_text("#rt-fuel", |t| t.parse::<u64>().is_ok_and(|f| f > 0))
        .await;
    browser
        .wait_text("#rt-memory", |t| t != "0 B" && t != "–")
        .await;
    browser.screenshot("runtime").await;
    // A failing call counts as an error.
    served
        .post(
            "/api/plugins/example.hello/call",
            json!({"export": "nope", "args": []}),
        )
        .await;
    browser
        .click(&format!("{} button.open", row("example.hello")))
        .await;
    browser
        .wait_text("#rt-errors", |t| t.ends_with("1 through the API"))
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tenant_picker_shows_and_changes_each_tenants_plugins() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let served = Served::start(home.path()).await;
    served.post("/api/tenants", json!({"name": "acme"})).await;
    let (status, body) = served
        .post(
            "/api/plugins?tenant=acme",
            json!({"source": hello_dir(plugins.path()), "allow_unsigned": true}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let browser = Browser::start().await;
    browser.open(&served).await;
    browser
        .wait_text("#plugins tbody", |t| t.contains("No plugins installed."))
        .await;
    browser.wait_for("#tenant option[value=\"acme\"]").await;
    browser
        .wait_for("#tenant")
        .await
        .select_by_value("acme")
        .await
        .unwrap();
    let hello = row("example.hello");
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "disabled")
        .await;
    browser.click(&format!("{hello} input.enable")).await;
    browser
        .click("#review-list tr[data-grant=\"log\"] input.approve-grant")
        .await;
    browser.click("#review-approve").await;
    browser
        .wait_text(&format!("{hello} .badge.status"), |t| t == "ready")
        .await;
    let state: toml::Table = std::fs::read_to_string(home.path().join("tenants/acme/plugins.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let entry = entry_in(&state, "example.hello").unwrap();
    assert_eq!(entry["enabled"].as_bool(), Some(true));
    assert_eq!(entry["grants"], toml::Value::Array(vec!["log".into()]));
    assert!(
        served.entry("example.hello").is_none(),
        "the main home is untouched"
    );
    browser.close().await;
}
