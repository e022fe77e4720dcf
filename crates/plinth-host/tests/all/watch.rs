//! `plinth:host/watch` end to end: the `caps` guest subscribes, file changes arrive as
//! `fs-change` events in the plugin's inbox.

use std::time::{Duration, Instant};

use plinth_host::manifest::grant::Grant;
use plinth_host::{Host, LoadOptions, Plugin, PluginEvent};
use serde_json::{Value, json};

fn run(plugin: &Plugin, args: &[&str]) -> Result<String, String> {
    match plugin.call_json("run", &[json!(args)]).unwrap() {
        Value::Object(map) if map.contains_key("ok") => Ok(map["ok"].as_str().unwrap().into()),
        Value::Object(map) => Err(map["err"].as_str().unwrap().into()),
        other => panic!("unexpected result {other}"),
    }
}

/// Waits (up to 20 s) until the inbox holds an `fs-change` naming `path`.
fn wait_for_change(plugin: &Plugin, path: &str) -> PluginEvent {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        for event in plugin.inbox().drain() {
            let payload: Value = serde_json::from_str(&event.payload).unwrap();
            if event.kind == "fs-change"
                && payload["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p == path)
            {
                return event;
            }
            seen.push(event);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no fs-change for {path}; saw {seen:?}");
}

#[test]
fn changes_arrive_as_fs_change_events() {
    let root = tempfile::tempdir().unwrap();
    let host = Host::builder().dir("inbox", root.path()).build().unwrap();
    let plugin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::Watch("inbox".into())]),
        )
        .unwrap();
    std::fs::create_dir(root.path().join("sub")).unwrap();
    let id = run(&plugin, &["watch", "inbox", "50"]).unwrap();
    assert_eq!(plugin.watch_subscriptions(), 1);
    std::fs::write(root.path().join("sub/new.txt"), "x").unwrap();
    let event = wait_for_change(&plugin, "sub/new.txt");
    assert_eq!(event.subject, id);
    let payload: Value = serde_json::from_str(&event.payload).unwrap();
    assert_eq!(payload["dir"], "inbox");

    // A watch grant gives no file access.
    let err = run(&plugin, &["fs-read", "inbox", "sub/new.txt"]).unwrap_err();
    assert!(err.starts_with("missing-grant"), "{err}");

    run(&plugin, &["unwatch", &id]).unwrap();
    assert_eq!(plugin.watch_subscriptions(), 0);
    run(&plugin, &["unwatch", "12345"]).unwrap();
}

#[test]
fn ungranted_directories_are_refused_and_drop_ends_subscriptions() {
    let root = tempfile::tempdir().unwrap();
    let host = Host::builder()
        .dir("a", root.path())
        .dir("b", root.path())
        .build()
        .unwrap();
    let plugin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::Watch("a".into())]),
        )
        .unwrap();
    let err = run(&plugin, &["watch", "a,b", "50"]).unwrap_err();
    assert!(
        err.starts_with("missing-grant") && err.contains("plinth grant caps watch:b"),
        "{err}"
    );
    assert_eq!(plugin.watch_subscriptions(), 0);

    run(&plugin, &["watch", "a", "50"]).unwrap();
    // A twin with the same debounce, subscribed before the drop, stays live.
    let twin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::Watch("a".into())]),
        )
        .unwrap();
    run(&twin, &["watch", "a", "50"]).unwrap();
    let inbox = plugin.inbox().clone();
    drop(plugin);
    // The subscription ended with the plugin: later changes reach nobody's inbox.
    std::fs::write(root.path().join("after-drop.txt"), "x").unwrap();
    wait_for_change(&twin, "after-drop.txt");
    // A second change, seen by the twin only after the first: a live subscription of the
    // dropped plugin would have delivered `after-drop.txt` by now.
    std::fs::write(root.path().join("second.txt"), "x").unwrap();
    wait_for_change(&twin, "second.txt");
    assert!(
        inbox
            .drain()
            .iter()
            .all(|e| !e.payload.contains("after-drop")),
        "a dropped plugin still received events"
    );
}

/// Hostile: a symlink inside the watched directory points at a directory outside it. On
/// main the watcher followed it (notify's default) and the plugin got `fs-change` events
/// naming `link/secret.txt` for changes outside its granted root; now links are not
/// followed and only the root's own changes arrive.
#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_root_is_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
    let host = Host::builder().dir("inbox", root.path()).build().unwrap();
    let plugin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_grants([Grant::Watch("inbox".into())]),
        )
        .unwrap();
    run(&plugin, &["watch", "inbox", "50"]).unwrap();
    std::fs::write(outside.path().join("secret.txt"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(root.path().join("marker.txt"), "x").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut paths = Vec::new();
    while !paths.iter().any(|p| p == "marker.txt") {
        assert!(
            Instant::now() < deadline,
            "no fs-change for marker.txt: {paths:?}"
        );
        for event in plugin.inbox().drain() {
            let payload: Value = serde_json::from_str(&event.payload).unwrap();
            for path in payload["paths"].as_array().unwrap() {
                paths.push(path.as_str().unwrap().to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for path in &paths {
        assert!(
            !path.starts_with("link/"),
            "an outside change leaked: {paths:?}"
        );
        assert!(!path.contains(".."), "a path outside the root: {paths:?}");
    }
}

/// `Plugin::watch` subscribes on the plugin's behalf, under its grants, to directories the
/// host maps or that were mapped for the plugin alone (`LoadOptions::with_dir`); a name the
/// host maps elsewhere cannot be mapped again.
#[test]
fn the_host_watches_on_a_plugins_behalf_under_its_grants() {
    let hosts = tempfile::tempdir().unwrap();
    let own = tempfile::tempdir().unwrap();
    let host = Host::builder().dir("shared", hosts.path()).build().unwrap();
    let plugin = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default()
                .with_dir("own", own.path())
                .with_grants([Grant::Watch("own".into()), Grant::Watch("shared".into())]),
        )
        .unwrap();
    let id = plugin
        .watch(&["own".into(), "shared".into()], Duration::from_millis(20))
        .unwrap();
    assert_eq!(plugin.watch_subscriptions(), 1);
    std::fs::write(own.path().join("a.txt"), "x").unwrap();
    let event = wait_for_change(&plugin, "a.txt");
    assert_eq!(event.subject, id.to_string());
    std::fs::write(hosts.path().join("b.txt"), "x").unwrap();
    wait_for_change(&plugin, "b.txt");
    plugin.unwatch(id);
    assert_eq!(plugin.watch_subscriptions(), 0);

    // Not granted: refused with the grant's hint, nothing watched.
    let ungranted = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default().with_dir("own", own.path()),
        )
        .unwrap();
    let refused = ungranted
        .watch(&["own".into()], Duration::from_millis(20))
        .unwrap_err();
    assert_eq!(refused.code, "missing-grant", "{refused}");
    assert!(refused.message.contains("watch:own"), "{refused}");
    assert_eq!(ungranted.watch_subscriptions(), 0);

    // A name the host maps to another directory.
    let clash = host
        .load_with(
            test_programs::CAPS,
            LoadOptions::default()
                .with_dir("shared", own.path())
                .with_grants([Grant::Watch("shared".into())]),
        )
        .unwrap_err();
    assert_eq!(
        plinth_host::manifest::diagnostic::ToDiagnostic::to_diagnostic(&clash).code,
        plinth_host::manifest::diagnostic::Code::FsDenied,
        "{clash}"
    );
}
