//! The hostile-plugin suite: every attack ends in its diagnostic code within bounded time
//! and memory, and the host then serves a normal call.

use crate::common;

use std::time::{Duration, Instant};

use plinth_host::{CallFailure, Limits, LoadOptions, Plugin};
use plinth_manifest::diagnostic::{Code, ToDiagnostic};
use plinth_manifest::grant::Grant;
use serde_json::json;

const ATTACKS: &str = "test:hostile/attacks";

fn hostile(id: &str, limits: Limits) -> Plugin {
    common::host()
        .load_bytes(
            id,
            &common::bytes(test_programs::HOSTILE),
            LoadOptions::default()
                .with_grants([Grant::Log])
                .with_limits(limits),
        )
        .expect("hostile guest loads")
}

fn small() -> Limits {
    Limits::default()
        .with_memory(32 * 1024 * 1024)
        .with_timeout_ms(2_000)
}

/// Asserts the failure's code, then that the same plugin still answers.
fn assert_contained(plugin: &Plugin, export: &str, args: &[serde_json::Value], code: Code) {
    let error = plugin
        .call_json(&format!("{ATTACKS}#{export}"), args)
        .expect_err("the attack must fail");
    assert_eq!(error.code(), code, "{export}: {error}");
    assert_eq!(error.to_diagnostic().plugin.as_deref(), Some(plugin.id()));
    assert!(error.is_guest_failure());
    let ok = plugin
        .call_json(&format!("{ATTACKS}#ok"), &[])
        .expect("host still serves");
    assert_eq!(ok, json!("ok"));
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let plugin = hostile("loop-fuel", small().with_fuel(50_000_000));
    assert_contained(&plugin, "spin", &[], Code::FuelExhausted);
}

#[test]
fn infinite_loop_times_out_by_the_wall_clock() {
    let plugin = hostile(
        "loop-clock",
        small().with_fuel(u64::MAX).with_timeout_ms(300),
    );
    let started = Instant::now();
    assert_contained(&plugin, "spin", &[], Code::Timeout);
    // Bounded: the epoch deadline stops it soon after 300 ms.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn allocation_bomb_hits_the_memory_limit() {
    let plugin = hostile("alloc-bomb", small());
    assert_contained(&plugin, "alloc-bomb", &[json!(256)], Code::MemoryLimit);
}

#[test]
fn memory_growth_stops_at_the_limit() {
    let limit = 32 * 1024 * 1024;
    let plugin = hostile("grow", small());
    let pages = plugin
        .call_json(&format!("{ATTACKS}#grow-memory"), &[json!(16)])
        .expect("growth is refused, not a trap");
    let bytes = pages.as_u64().expect("pages") * 65_536;
    assert!(bytes <= limit, "grew to {bytes} bytes over a {limit} limit");
    assert!(bytes > limit / 2, "stopped early at {bytes} bytes");
}

#[test]
fn unbounded_recursion_overflows_the_wasm_stack() {
    let plugin = hostile("recurse", small());
    assert_contained(&plugin, "recurse", &[json!(u64::MAX)], Code::StackOverflow);
}

#[test]
fn panic_is_a_trap_carrying_the_message() {
    let plugin = hostile("panic", small());
    let error = plugin
        .call_json(&format!("{ATTACKS}#panic"), &[json!("the sky fell")])
        .unwrap_err();
    assert_eq!(error.code(), Code::Trap);
    match &error.failure {
        CallFailure::Trap { guest_message, .. } => {
            let said = guest_message.as_deref().unwrap_or_default();
            assert!(said.contains("the sky fell"), "{said} in {error}");
        }
        other => panic!("{other:?}"),
    }
    assert_contained(&plugin, "trap-unreachable", &[], Code::Trap);
}

#[test]
fn huge_string_within_memory_is_returned_and_beyond_is_refused() {
    let plugin = hostile("huge", small());
    let one_mib = plugin
        .call_json(&format!("{ATTACKS}#huge-string"), &[json!(1)])
        .unwrap();
    assert_eq!(one_mib.as_str().map(str::len), Some(1024 * 1024));
    assert_contained(&plugin, "huge-string", &[json!(64)], Code::MemoryLimit);
}

#[test]
fn log_flood_is_capped_per_call() {
    let plugin = hostile("log-flood", small());
    plugin
        .call_json(&format!("{ATTACKS}#log-flood"), &[json!(20_000)])
        .expect("flooding the log is not an error");
    let kept = common::records_of("log-flood").len();
    assert_eq!(kept, Limits::default().log_lines as usize);
}

#[test]
fn print_flood_is_captured_and_capped() {
    let plugin = hostile("print-flood", small());
    plugin
        .call_json(&format!("{ATTACKS}#print-flood"), &[json!(10_000_000)])
        .expect("printing is never an error");
    let printed: usize = common::records_of("print-flood")
        .iter()
        .map(|r| r.message.len())
        .sum();
    assert!(printed > 0 && printed <= 64 * 1024, "{printed}");
}

#[test]
fn trap_during_instantiation_is_reported_and_contained() {
    let plugin = common::host()
        .load_bytes(
            "start-trap",
            &common::bytes(test_programs::START_TRAP),
            LoadOptions::default(),
        )
        .expect("a trapping start function still loads: nothing runs at load");
    for _ in 0..2 {
        let error = plugin.call_json("run", &[]).unwrap_err();
        assert_eq!(error.code(), Code::Trap);
        assert_eq!(error.export, "instantiate");
    }
}

#[test]
fn guest_blocked_in_a_host_import_times_out() {
    let plugin = common::host()
        .load_bytes(
            "sleepy",
            &common::bytes(test_programs::SLEEPY),
            LoadOptions::default().with_limits(small().with_timeout_ms(200)),
        )
        .unwrap();
    let started = Instant::now();
    let error = plugin
        .call_json("test:sleepy/sleep#sleep-ms", &[json!(60_000)])
        .unwrap_err();
    assert_eq!(error.code(), Code::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(plugin.call_json("ok", &[]).unwrap(), json!("ok"));
}

#[test]
fn live_instance_blocked_in_a_host_import_times_out() {
    // Warm calls arm no timer until the call waits on the host (docs/design/0006): the
    // wall clock must still stop a guest that blocks in an import, typed or dynamic.
    let plugin = common::host()
        .load_bytes(
            "sleepy-live",
            &common::bytes(test_programs::SLEEPY),
            LoadOptions::default().with_limits(small().with_timeout_ms(200)),
        )
        .unwrap();
    let mut live = plugin.instantiate().unwrap();
    assert_eq!(live.call_json("ok", &[]).unwrap(), json!("ok"));

    let started = Instant::now();
    let error = live
        .call::<(u64,), ()>("test:sleepy/sleep#sleep-ms", (60_000,))
        .unwrap_err();
    assert_eq!(error.code(), Code::Timeout);
    let error = live
        .call_json("test:sleepy/sleep#sleep-ms", &[json!(60_000)])
        .unwrap_err();
    assert_eq!(error.code(), Code::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // Each timed-out instance was dropped; the next call gets a fresh one.
    assert_eq!(live.call::<(), (String,)>("ok", ()).unwrap().0, "ok");
    assert_eq!(live.instantiations(), 3);
    // A short sleep within the limit still completes on the live instance.
    live.call::<(u64,), ()>("sleep-ms", (1,)).unwrap();
    assert_eq!(live.instantiations(), 3);
}

#[test]
fn one_plugins_failure_does_not_touch_another() {
    let victim = hostile("victim", small());
    let attacker = hostile("attacker", small().with_fuel(10_000_000));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let (victim, attacker) = (victim.clone(), attacker.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    if i == 0 {
                        assert!(attacker.call_json(&format!("{ATTACKS}#spin"), &[]).is_err());
                    } else {
                        let ok = victim.call_json(&format!("{ATTACKS}#ok"), &[]).unwrap();
                        assert_eq!(ok, json!("ok"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn output_past_the_capture_cap_closes_the_stream() {
    let plugin = common::host()
        .load_bytes(
            "fidelity.flood",
            &common::bytes(test_programs::FIDELITY),
            LoadOptions::default().with_limits(Limits::default().with_fuel(u64::MAX / 2)),
        )
        .unwrap();
    let started = Instant::now();
    // A guest writing until its stream fails: stopped by the cap, not by the wall clock.
    let written = plugin
        .call_json("test:fidelity/probe#flood", &[])
        .expect("the call ends normally");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Up to the 64 KiB cap: a write that fills it exactly is stored, but the flush check
    // after it already sees the stream closed (as with Wasmtime's own capture pipe).
    let written = written.as_u64().unwrap();
    assert!((60 * 1024..=64 * 1024).contains(&written), "{written}");
    let notes: Vec<String> = common::records_of("fidelity.flood")
        .into_iter()
        .map(|r| r.message)
        .filter(|m| m.contains("capture cap"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("stdout:"), "{notes:?}");
    assert!(notes[0].contains("reported closed"), "{notes:?}");
}

/// Set when this test binary is re-run as a child by [`measured`]: `SCENARIO:ARG`.
const CHILD_ENV: &str = "PLINTH_HOSTILE_CHILD";

/// Run as a child by [`measured`]: runs one attack, then a normal call, then prints the
/// outcomes and the process's peak RSS (the attack's, since the child does nothing else).
#[test]
fn hostile_child() {
    let Ok(scenario) = std::env::var(CHILD_ENV) else {
        return; // only does something when re-invoked by a parent test
    };
    let (attack, arg) = scenario.split_once(':').unwrap();
    let (plugin, export, args, next_export, next_args) = match attack {
        // Hoards `wasi:http` header sets of `arg` bytes with no grant at all.
        "hoard" => (
            common::host()
                .load_bytes(
                    "hoarder",
                    &common::bytes(test_programs::HTTP),
                    LoadOptions::default(),
                )
                .expect("the http guest loads"),
            "run".to_string(),
            vec![json!(["hoard-fields", "1000000", arg])],
            "run".to_string(),
            vec![json!(["hoard-fields", "10", "100"])],
        ),
        // Returns `arg` values of a `flags` type, each a few guest bytes.
        other => (
            hostile("child", small().with_memory(64 * 1024 * 1024)),
            format!("{ATTACKS}#{other}"),
            vec![json!(arg.parse::<u64>().unwrap())],
            format!("{ATTACKS}#ok"),
            vec![],
        ),
    };
    let outcome = match plugin.call_json(&export, &args) {
        Ok(value) => format!("OK {}", value.to_string().len()),
        Err(error) => format!("ERR {}", error.code()),
    };
    let next = plugin
        .call_json(&next_export, &next_args)
        .expect("the next call is served");
    let peak_kib: u64 = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    println!("OUTCOME {outcome}");
    println!("NEXT {next}");
    println!("PEAK_KIB {peak_kib}");
}

/// What [`hostile_child`] reported for `scenario`: the attack's outcome, the next call's
/// result, and the child's peak RSS in MiB.
fn measured(scenario: &str) -> (String, String, u64) {
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &format!("{module}::hostile_child"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, scenario)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    let line = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.split_once(key).map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_string()
    };
    let peak_mib = line("PEAK_KIB ").parse::<u64>().unwrap() / 1024;
    (line("OUTCOME "), line("NEXT "), peak_mib)
}

/// A plugin with no grants that keeps creating `wasi:http` header sets cannot make the host
/// allocate without bound: a header set over the per-set byte cap ends the call with
/// `too-large`, and holding more handles than one instance may ends it with
/// `memory-limit`. Before the caps, 127 KiB headers drove the host past 3 GiB in one call.
/// Measured in a child process, whose peak RSS is the call's alone.
#[test]
fn handles_a_plugin_hoards_are_bounded() {
    for (size, expected) in [("130000", "ERR too-large"), ("8000", "ERR memory-limit")] {
        let (outcome, next, peak_mib) = measured(&format!("hoard:{size}"));
        assert_eq!(outcome, expected, "{size}-byte headers");
        assert_eq!(next, "{\"ok\":\"10\"}");
        assert!(
            peak_mib < 400,
            "{size}-byte headers: the host peaked at {peak_mib} MiB"
        );
    }
}

/// A result that lifts into many times its guest size (three million `flags` values, 12 MB
/// of guest memory, were about 900 MiB of `Val`s and JSON) is refused with `too-large`
/// while the host stays within its result budget; a smaller one is returned whole.
#[test]
fn an_amplifying_result_is_too_large_within_the_budget() {
    let (outcome, next, peak_mib) = measured("flag-list:3000000");
    assert_eq!(outcome, "ERR too-large");
    assert_eq!(next, "\"ok\"");
    assert!(peak_mib < 400, "the host peaked at {peak_mib} MiB");

    let (outcome, _, _) = measured("flag-list:100000");
    // `[["a"],["a"],…]`: six bytes a value, less the last comma, plus the brackets.
    assert_eq!(outcome, format!("OK {}", 100_000 * 6 + 1));
}

/// A `list<u8>` result over the budget is `too-large`, not a trap; one within it returns.
#[test]
fn a_byte_list_over_the_result_budget_is_too_large() {
    let plugin = hostile("bytes", small().with_result_bytes(16 * 1024 * 1024));
    let small_list = plugin
        .call_json(&format!("{ATTACKS}#byte-list"), &[json!(0)])
        .unwrap();
    assert_eq!(small_list, json!([]));
    assert_contained(&plugin, "byte-list", &[json!(8)], Code::TooLarge);
    let error = plugin
        .call_json(&format!("{ATTACKS}#byte-list"), &[json!(8)])
        .unwrap_err();
    assert!(error.to_string().contains("16 MiB"), "{error}");
}

/// One log message is cut to the per-message cap, saying how much was cut.
#[test]
fn a_long_log_message_is_cut() {
    let plugin = hostile("log-long", small());
    plugin
        .call_json(&format!("{ATTACKS}#log-long"), &[json!(1024)])
        .unwrap();
    let records = common::records_of("log-long");
    assert_eq!(records.len(), 1);
    let message = &records[0].message;
    assert!(
        message.len() <= plinth_host::log::MAX_MESSAGE_BYTES + 64,
        "{} bytes",
        message.len()
    );
    assert!(
        message.ends_with("bytes cut]"),
        "{}",
        &message[message.len() - 40..]
    );
}

#[test]
fn only_plugins_that_cannot_wait_in_an_import_take_the_sync_path() {
    // The hostile guest imports its standard streams and the log: no call can wait.
    assert!(hostile("sync-hostile", small()).sync_calls());
    // The sleepy guest polls a clock: its calls must stay where the timer can end them.
    let sleepy = common::host()
        .load_bytes(
            "sync-sleepy",
            &common::bytes(test_programs::SLEEPY),
            LoadOptions::default(),
        )
        .unwrap();
    assert!(!sleepy.sync_calls());
}

#[test]
fn a_thread_short_of_stack_gets_the_async_path_and_the_same_answers() {
    // A sync call runs on the caller's stack; this thread has less than the wasm stack
    // limit (1 MiB by default), so its calls must go to the fiber, where the guest's
    // recursion ends in `stack-overflow`, not in the host's guard page.
    let plugin = hostile(
        "small-stack",
        small().with_fuel(u64::MAX).with_timeout_ms(300),
    );
    assert!(plugin.sync_calls());
    let thread = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let overflow = plugin
                .call_json(&format!("{ATTACKS}#recurse"), &[json!(u64::MAX)])
                .unwrap_err();
            let spin = plugin
                .call_json(&format!("{ATTACKS}#spin"), &[])
                .unwrap_err();
            let mut live = plugin.instantiate().unwrap();
            let ok = live
                .call::<(), (String,)>(&format!("{ATTACKS}#ok"), ())
                .unwrap();
            (overflow.code(), spin.code(), ok.0)
        })
        .unwrap();
    let (overflow, spin, ok) = thread.join().expect("the host thread survives");
    assert_eq!(overflow, Code::StackOverflow);
    assert_eq!(spin, Code::Timeout);
    assert_eq!(ok, "ok");
}

#[test]
fn a_sync_live_instance_keeps_its_state_and_its_limits() {
    // Warm calls on the sync path: the deadline is the epoch alone, and a failed call
    // replaces the instance as on the async path.
    let plugin = hostile(
        "sync-live",
        small().with_fuel(u64::MAX).with_timeout_ms(300),
    );
    assert!(plugin.sync_calls());
    let mut live = plugin.instantiate().unwrap();
    let started = Instant::now();
    let error = live
        .call::<(), ()>(&format!("{ATTACKS}#spin"), ())
        .unwrap_err();
    assert_eq!(error.code(), Code::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!live.is_live());
    let ok = live.call_json(&format!("{ATTACKS}#ok"), &[]).unwrap();
    assert_eq!(ok, json!("ok"));
    assert_eq!(live.instantiations(), 2);
}
