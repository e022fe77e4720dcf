//! The manager end to end: replay, status, backoff with a mock clock, lifecycle, counters,
//! and hot reload under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use plinth_manager::state::InstanceMode;
use plinth_manager::{Backoff, Manager, ManagerError, MockClock, Status, StatusEvent};
use plinth_manifest::Code;
use serde_json::{Value, json};

use crate::common::*;

#[test]
fn an_identical_replay_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let a = plugin_dir(tmp.path(), "test.a", "1.0.0", test_programs::RELOAD_V1);
    let b = plugin_dir(tmp.path(), "test.b", "1.0.0", test_programs::RELOAD_V1);
    let manager = Manager::builder(host()).build();
    let mut rx = manager.subscribe();
    let state = section(vec![
        entry("test.a", &a, InstanceMode::PerCall),
        entry("test.b", &b, InstanceMode::LongLived),
    ]);
    let report = manager.apply(&state);
    assert_eq!(report.loaded, ["test.a", "test.b"]);
    let stats = manager.stats();
    assert_eq!((stats.loads, stats.instantiations), (2, 1));
    assert_eq!(drain(&mut rx).len(), 4);

    let again = manager.apply(&state.clone());
    assert!(again.unchanged);
    assert_eq!(manager.stats(), stats, "no load, no instance, no unload");
    assert!(drain(&mut rx).is_empty(), "no status event either");
    // The long-lived instance is the same one: its state survived the replay.
    assert_eq!(run(&manager, "test.b", "count").unwrap(), "1");
    manager.apply(&state);
    assert_eq!(run(&manager, "test.b", "count").unwrap(), "2");
}

#[test]
fn replay_unloads_loads_and_reloads_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let a = plugin_dir(tmp.path(), "test.a", "1.0.0", test_programs::RELOAD_V1);
    let b = plugin_dir(tmp.path(), "test.b", "1.0.0", test_programs::RELOAD_V1);
    let manager = Manager::builder(host()).build();
    let mut rx = manager.subscribe();
    manager.apply(&section(vec![
        entry("test.a", &a, InstanceMode::PerCall),
        entry("test.b", &b, InstanceMode::PerCall),
    ]));
    drain(&mut rx);

    // b disabled, a's grants changed.
    let mut a2 = entry("test.a", &a, InstanceMode::PerCall);
    a2.grants.push("kv".into());
    let mut b2 = entry("test.b", &b, InstanceMode::PerCall);
    b2.enabled = false;
    let report = manager.apply(&section(vec![a2.clone(), b2.clone()]));
    assert_eq!(report.reloaded, ["test.a"]);
    assert_eq!(report.unloaded, ["test.b"]);
    assert_eq!(
        drain(&mut rx),
        [
            ("test.b".into(), "disabled".into()),
            ("test.a".into(), "loading".into()),
            ("test.a".into(), "ready".into()),
        ]
    );
    let error = manager
        .call_json("test.b", "run", &[json!(["version"])])
        .unwrap_err();
    assert_eq!(
        plinth_manifest::ToDiagnostic::to_diagnostic(&error).code,
        Code::Disabled
    );

    // A new entry that is disabled states it.
    let mut c = entry("test.c", &b, InstanceMode::PerCall);
    c.enabled = false;
    manager.apply(&section(vec![a2.clone(), b2.clone(), c]));
    assert_eq!(drain(&mut rx), [("test.c".into(), "disabled".into())]);

    // b removed entirely, a unchanged.
    let report = manager.apply(&section(vec![a2]));
    assert!(report.reloaded.is_empty() && report.loaded.is_empty());
    assert!(manager.status("test.b").is_none());
    assert_eq!(manager.status("test.a"), Some(Status::Ready));
}

#[test]
fn a_broken_component_is_an_error_status_and_others_still_load() {
    let tmp = tempfile::tempdir().unwrap();
    let good = plugin_dir(tmp.path(), "test.good", "1.0.0", test_programs::RELOAD_V1);
    let bad = plugin_dir(tmp.path(), "test.bad", "1.0.0", test_programs::RELOAD_V1);
    std::fs::write(bad.join("plugin.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let manager = Manager::builder(host()).build();
    let mut rx = manager.subscribe();
    manager.apply(&section(vec![
        entry("test.bad", &bad, InstanceMode::PerCall),
        entry("test.good", &good, InstanceMode::PerCall),
    ]));
    let events: Vec<StatusEvent> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    let bad_events: Vec<&Status> = events
        .iter()
        .filter(|e| e.id == "test.bad")
        .map(|e| &e.status)
        .collect();
    assert_eq!(bad_events[0], &Status::Loading);
    let Status::Error(diagnostic) = bad_events[1] else {
        panic!("{bad_events:?}")
    };
    assert_eq!(diagnostic.code, Code::NotAComponent);
    assert_eq!(diagnostic.plugin.as_deref(), Some("test.bad"));
    assert_eq!(manager.status("test.good"), Some(Status::Ready));
    // Sequence numbers are consecutive.
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
}

#[test]
fn load_failures_back_off_on_the_mock_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path(), "test.flaky", "1.0.0", test_programs::RELOAD_V1);
    let mut flaky = entry("test.flaky", &dir, InstanceMode::LongLived);
    flaky.config.insert("trap_on_load".into(), json!(true));
    let clock = Arc::new(MockClock::new());
    let manager = Manager::builder(host())
        .clock(clock.clone())
        .backoff(Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(4),
        })
        .build();
    manager.apply(&section(vec![flaky.clone()]));
    let Some(Status::Error(d)) = manager.status("test.flaky") else {
        panic!()
    };
    assert_eq!(d.code, Code::Trap, "{d}");
    let t0 = clock.now_for_tests();
    // Delays 1 s, 2 s, 4 s, 4 s (bounded): never retried early, always retried when due.
    for delay in [1, 2, 4, 4] {
        let due = manager.retry_at("test.flaky").unwrap();
        assert_eq!(due - clock.now_for_tests(), Duration::from_secs(delay));
        clock.advance(Duration::from_secs(delay) - Duration::from_millis(1));
        assert!(manager.retry_due().is_empty(), "retried before {delay} s");
        let refused = manager.call_json("test.flaky", "run", &[json!(["version"])]);
        assert!(matches!(refused, Err(ManagerError::Unavailable { .. })));
        clock.advance(Duration::from_millis(1));
        assert_eq!(manager.retry_due(), ["test.flaky"]);
    }
    assert!(clock.now_for_tests() - t0 == Duration::from_secs(11));
    // Fixed settings: the next retry loads it, and a good call resets the backoff.
    flaky.config.clear();
    manager.apply(&section(vec![flaky]));
    assert_eq!(manager.status("test.flaky"), Some(Status::Ready));
    assert_eq!(run(&manager, "test.flaky", "version").unwrap(), "v1");
}

/// `MockClock` has no public `now` besides the `Clock` trait.
trait NowForTests {
    fn now_for_tests(&self) -> Instant;
}
impl NowForTests for MockClock {
    fn now_for_tests(&self) -> Instant {
        plinth_manager::Clock::now(self)
    }
}

#[test]
fn repeated_traps_go_to_error_then_retry_after_the_backoff() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path(), "test.crashy", "1.0.0", test_programs::RELOAD_V1);
    let clock = Arc::new(MockClock::new());
    let manager = Manager::builder(host())
        .clock(clock.clone())
        .crash_threshold(3)
        .build();
    let mut rx = manager.subscribe();
    manager.apply(&section(vec![entry(
        "test.crashy",
        &dir,
        InstanceMode::PerCall,
    )]));
    drain(&mut rx);
    let crash_loop = |expected_delay: u64| {
        for _ in 0..2 {
            assert!(
                run(&manager, "test.crashy", "panic")
                    .unwrap_err()
                    .is_guest_failure()
            );
            assert_eq!(
                manager.status("test.crashy"),
                Some(Status::Ready),
                "tolerated"
            );
        }
        assert!(run(&manager, "test.crashy", "panic").is_err());
        let Some(Status::Error(d)) = manager.status("test.crashy") else {
            panic!("three traps in a row trip it")
        };
        assert_eq!(d.code, Code::Trap);
        let wait = manager.retry_at("test.crashy").unwrap() - clock.now_for_tests();
        assert_eq!(wait, Duration::from_secs(expected_delay));
        let refused = run(&manager, "test.crashy", "version").unwrap_err();
        assert!(
            matches!(refused, ManagerError::Unavailable { .. }),
            "{refused}"
        );
        clock.advance(wait);
    };
    crash_loop(1);
    // No success in between: the backoff doubles.
    crash_loop(2);
    // The call itself revives the plugin once the backoff expired; success resets it.
    assert_eq!(run(&manager, "test.crashy", "version").unwrap(), "v1");
    assert_eq!(manager.status("test.crashy"), Some(Status::Ready));
    crash_loop(1);
    let events = drain(&mut rx);
    assert!(events.contains(&("test.crashy".into(), "error".into())));
    let counters = manager.counters("test.crashy").unwrap();
    assert!(
        counters.errors >= 6 && counters.calls > counters.errors,
        "{counters:?}"
    );
    assert!(
        counters.fuel_used > 0 && counters.peak_memory_bytes > 0,
        "{counters:?}"
    );
    assert!(counters.duration_us > 0);
}

#[test]
fn a_long_lived_instance_gets_its_lifecycle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path(), "test.life", "1.0.0", test_programs::RELOAD_V1);
    let manager = Manager::builder(host()).build();
    let mut life = entry("test.life", &dir, InstanceMode::LongLived);
    life.config.insert("greeting".into(), json!("hi"));
    manager.apply(&section(vec![life.clone()]));
    let loads: Value = serde_json::from_str(&run(&manager, "test.life", "loads").unwrap()).unwrap();
    assert_eq!(
        loads,
        json!({"loads": 1, "changes": 0, "settings": {"greeting": "hi"}})
    );
    // The config host API answers with the state's settings too.
    let config: Value =
        serde_json::from_str(&run(&manager, "test.life", "config").unwrap()).unwrap();
    assert_eq!(config, json!({"greeting": "hi"}));

    life.config.insert("greeting".into(), json!("hello"));
    let report = manager.apply(&section(vec![life.clone()]));
    assert_eq!(report.settings_changed, ["test.life"]);
    let loads: Value = serde_json::from_str(&run(&manager, "test.life", "loads").unwrap()).unwrap();
    assert_eq!(
        loads,
        json!({"loads": 1, "changes": 1, "settings": {"greeting": "hello"}})
    );

    // A trap discards the instance; the next call gets a fresh one with on-load again.
    assert!(run(&manager, "test.life", "panic").is_err());
    assert_eq!(run(&manager, "test.life", "count").unwrap(), "1");

    life.enabled = false;
    manager.apply(&section(vec![life]));
    let logs = logs().lock().unwrap();
    let closes = logs
        .iter()
        .filter(|l| l.as_str() == "test.life: v1: on-close")
        .count();
    assert_eq!(closes, 1, "{logs:?}");
}

#[test]
fn a_refused_reload_leaves_the_old_version_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path(), "test.keep", "1.0.0", test_programs::RELOAD_V1);
    let manager = Manager::builder(host()).build();
    manager.apply(&section(vec![entry(
        "test.keep",
        &dir,
        InstanceMode::PerCall,
    )]));
    let mut rx = manager.subscribe();
    std::fs::write(dir.join("plugin.wasm"), b"not wasm").unwrap();
    assert!(!manager.reload("test.keep"));
    let events: Vec<StatusEvent> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    let last = events.last().unwrap();
    assert!(matches!(last.status, Status::Error(ref d) if d.code == Code::NotAComponent));
    assert_eq!(
        last.serving.as_deref(),
        Some("1.0.0"),
        "the old version serves"
    );
    assert_eq!(run(&manager, "test.keep", "version").unwrap(), "v1");
}

#[test]
fn hot_reload_under_load_never_fails_a_call_or_mixes_versions() {
    hot_reload_under_load(InstanceMode::PerCall);
}

#[test]
fn hot_reload_of_a_long_lived_instance_under_load() {
    hot_reload_under_load(InstanceMode::LongLived);
    // Every replaced long-lived version was closed once its last call finished (50), and
    // the last one when the manager was dropped.
    let logs = logs().lock().unwrap();
    let closes = logs
        .iter()
        .filter(|l| l.starts_with("test.hot-long-lived: v") && l.ends_with(": on-close"))
        .count();
    assert_eq!(closes, 51, "{closes}");
}

fn hot_reload_under_load(mode: InstanceMode) {
    let tmp = tempfile::tempdir().unwrap();
    let id = match mode {
        InstanceMode::PerCall => "test.hot",
        InstanceMode::LongLived => "test.hot-long-lived",
    };
    // The two versions differ in their manifest too: 1.0.0 is built from reload-v1, 2.0.0
    // from reload-v2. An answer is whole when the build that computed it and the version
    // the manager says served it agree.
    let dir = plugin_dir(tmp.path(), id, "1.0.0", test_programs::RELOAD_V1);
    let manager = Manager::builder(host()).build();
    manager.apply(&section(vec![entry(id, &dir, mode)]));
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let callers = spawn_callers(&manager, id, &stop, &tally);
    for i in 0..50 {
        let (version, component) = RELOAD_VERSIONS[(i + 1) % 2];
        plugin_dir(tmp.path(), id, version, component);
        assert!(manager.reload(id), "reload {i}");
        assert_eq!(manager.serving_version(id).as_deref(), Some(version));
        tally.wait_for_calls_on(version);
    }
    stop.store(true, Ordering::Relaxed);
    let calls: u64 = callers.into_iter().map(|c| c.join().unwrap()).sum();
    let [v1, v2] = tally.per_version();
    eprintln!("{id}: 50 swaps, {calls} calls ({v1} v1, {v2} v2), 0 failed, 0 mixed");
    assert!(calls >= 100, "{calls}");
    assert!(v1 > 0 && v2 > 0);
    // The last replacement was v1, and it is what answers now.
    assert_eq!(run(&manager, id, "version").unwrap(), "v1");
    assert_eq!(manager.counters(id).unwrap().errors, 0);
    assert!(manager.stats().loads >= 51);
}

#[test]
fn the_watcher_reloads_a_changed_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(
        tmp.path(),
        "test.watched",
        "1.0.0",
        test_programs::RELOAD_V1,
    );
    let manager = Manager::builder(host()).build();
    manager.apply(&section(vec![entry(
        "test.watched",
        &dir,
        InstanceMode::PerCall,
    )]));
    let mut rx = manager.subscribe();
    let _watcher = manager.watch(Duration::from_millis(50)).unwrap();
    replace(&dir.join("plugin.wasm"), test_programs::RELOAD_V2);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "no reload seen");
        match rx.try_recv() {
            Ok(event) if event.status == Status::Ready => break,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    assert_eq!(run(&manager, "test.watched", "version").unwrap(), "v2");
}

#[test]
fn the_watcher_covers_plugins_applied_after_it_started() {
    let tmp = tempfile::tempdir().unwrap();
    let early = plugin_dir(tmp.path(), "test.early", "1.0.0", test_programs::RELOAD_V1);
    let late = plugin_dir(tmp.path(), "test.late", "1.0.0", test_programs::RELOAD_V1);
    let manager = Manager::builder(host()).build();
    let early_entry = entry("test.early", &early, InstanceMode::PerCall);
    manager.apply(&section(vec![early_entry.clone()]));
    let watcher = manager.watch(Duration::from_millis(50)).unwrap();
    // The folder, and its parent (where a new folder renamed over it would show).
    let parent = tmp.path().to_path_buf();
    assert_eq!(watcher.watched(), [parent.clone(), early.clone()]);

    manager.apply(&section(vec![
        early_entry.clone(),
        entry("test.late", &late, InstanceMode::PerCall),
    ]));
    assert_eq!(
        watcher.watched(),
        [parent.clone(), early.clone(), late.clone()]
    );
    let mut rx = manager.subscribe();
    replace(&late.join("plugin.wasm"), test_programs::RELOAD_V2);
    wait_for(&mut rx, "test.late", |s| *s == Status::Ready);
    assert_eq!(run(&manager, "test.late", "version").unwrap(), "v2");

    // A removed plugin's folder is let go.
    manager.apply(&section(vec![early_entry]));
    assert_eq!(watcher.watched(), [parent, early]);
}

/// `wasi:cli/exit` through the manager: status 0 is success, any other status is
/// `exit-status` (not a crash: it never trips the plugin into `Error`), and a long-lived
/// instance that exited is replaced. Program arguments reach the guest's `argv`.
#[test]
fn an_exit_ends_the_call_and_replaces_a_long_lived_instance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugin_dir(tmp.path(), "test.exit", "1.0.0", test_programs::FIDELITY);
    let manager = Manager::builder(host())
        .crash_threshold(2)
        .program_args(["--flag"])
        .build();
    manager.apply(&section(vec![entry(
        "test.exit",
        &dir,
        InstanceMode::LongLived,
    )]));
    let call = |export: &str, args: &[Value]| {
        manager.call_json("test.exit", &format!("test:fidelity/probe#{export}"), args)
    };
    assert_eq!(call("count", &[]).unwrap(), json!(1));
    assert_eq!(call("count", &[]).unwrap(), json!(2));
    assert_eq!(call("exit-with", &[json!(0)]).unwrap(), json!(null));
    assert_eq!(call("count", &[]).unwrap(), json!(1), "a fresh instance");
    for _ in 0..3 {
        let Err(ManagerError::Call(error)) = call("exit-with", &[json!(4)]) else {
            panic!("a non-zero exit fails the call")
        };
        assert_eq!(
            (error.code(), error.exit_status()),
            (Code::ExitStatus, Some(1))
        );
        assert_eq!(call("count", &[]).unwrap(), json!(1), "a fresh instance");
    }
    assert_eq!(manager.status("test.exit"), Some(Status::Ready));
    assert_eq!(call("args", &[]).unwrap(), json!(["test.exit", "--flag"]));
}
