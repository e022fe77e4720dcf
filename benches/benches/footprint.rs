//! Memory per idle live instance: 1 000 live instances of the bench guest
//! (`crates/test-programs/guests/bench`), Plinth's `PluginInstance` beside raw Wasmtime
//! instances (Store + WASI context + instance), each side in a process of its own.
//!
//! ```text
//! cargo bench -p plinth-benches -j2 --bench footprint
//! ```
//!
//! Each line runs in a child process (this program again, with the line's name): it loads
//! the component, makes one instance (so everything shared is in place), reads `VmRSS`
//! from `/proc/self/status`, makes 1 000 more and keeps them alive, reads `VmRSS` again.
//! The difference ÷ 1 000 is the cost of one idle live instance. Lines:
//!
//! - `plinth_pooling`: a host with a pool of 1 024 slots (Plinth's pool configuration with
//!   `pooled_instances` raised, since the default 256 slots cannot hold 1 000);
//! - `plinth_ondemand`: a host with `pooled_instances = 0`;
//! - `raw_pooling` / `raw_ondemand`: raw Wasmtime with the same engine configurations.
//!
//! `scripts/bench` runs it after the criterion suite; the table goes into
//! `docs/performance.md`. With `FOOTPRINT_JSON=FILE` the figures are also written to FILE
//! as JSON (`scripts/bench` reads the scaling lines from there for its targets table).

use std::process::Command;

use plinth_benches::{RawState, instantiate_and_call};
use plinth_host::{EngineSettings, Host, Limits, LoadOptions, PluginInstance};
use plinth_manifest::Grant;
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtx;

/// Live instances per line.
const LIVE: usize = 1_000;
/// Pool slots for the pooling lines: room for `LIVE` + 1 instances.
const SLOTS: u32 = 1_024;
/// The export the scaling lines call, and its argument.
const ECHO: &str = "bench:guest/work#echo";
const ECHO_INPUT: &[u8; 16] = b"0123456789abcdef";

const LINES: &[&str] = &[
    "plinth_pooling",
    "raw_pooling",
    "plinth_ondemand",
    "raw_ondemand",
];

/// Resident set size of this process, in KiB (`VmRSS` of `/proc/self/status`).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

fn bench_bytes() -> Vec<u8> {
    std::fs::read(test_programs::BENCH).expect("read the bench guest")
}

/// One idle live instance's cost: RSS after `LIVE` more instances minus RSS before, per
/// instance, in bytes. `make` makes one live instance; all are kept until the end.
fn per_instance<T>(mut make: impl FnMut() -> T) -> u64 {
    let first = make();
    let before = rss_kib();
    let live: Vec<T> = (0..LIVE).map(|_| make()).collect();
    let after = rss_kib();
    drop((first, live));
    after.saturating_sub(before) * 1024 / LIVE as u64
}

fn plinth(pooled_instances: u32) -> u64 {
    let host = Host::builder()
        .engine_settings(EngineSettings {
            pooled_instances,
            ..EngineSettings::default()
        })
        .build()
        .expect("build a host");
    let plugin = host
        .load_bytes(
            "bench",
            &bench_bytes(),
            LoadOptions::default().with_grants([Grant::Log]),
        )
        .expect("load the bench guest");
    per_instance(|| -> PluginInstance { plugin.instantiate().expect("instantiate") })
}

/// Raw Wasmtime with Plinth's engine configuration (fuel, epochs, stack; the pool of
/// `engine.rs` when `pooled`), WASI linked, `plinth:host/log` left to trap (the guest's
/// `echo` and an idle instance never call it).
fn raw_setup(pooled: bool) -> (Engine, InstancePre<RawState>, Component) {
    let limits = Limits::default();
    let settings = EngineSettings::default();
    let mut config = Config::new();
    config
        .concurrency_support(false)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(limits.max_stack_bytes as usize)
        .async_stack_size(limits.max_stack_bytes as usize + (1 << 20));
    if pooled {
        let n = SLOTS;
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n * 4)
            .total_memories(n * 2)
            .total_tables(n * 2)
            .max_memories_per_component(8)
            .max_tables_per_component(8)
            .max_core_instances_per_component(64)
            .max_memory_size(settings.pooled_memory_bytes as usize)
            .total_stacks(n)
            .linear_memory_keep_resident(1 << 20)
            .table_keep_resident(64 << 10)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = Engine::new(&config).expect("engine");
    let component = Component::new(&engine, bench_bytes()).expect("compile");
    let mut linker: Linker<RawState> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI");
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("stub plinth:host/log");
    let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
    (engine, pre, component)
}

/// A new Store with a WASI context, fuel and an epoch deadline, as Plinth makes one.
fn raw_store(engine: &Engine) -> Store<RawState> {
    let state = RawState {
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(engine, state);
    store.epoch_deadline_trap();
    store.set_fuel(Limits::default().fuel_units).expect("fuel");
    store.set_epoch_deadline(2_501);
    store
}

fn raw(pooled: bool) -> u64 {
    let (engine, pre, _) = raw_setup(pooled);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    per_instance(|| {
        let mut store = raw_store(&engine);
        let instance = rt
            .block_on(pre.instantiate_async(&mut store))
            .expect("instantiate");
        (store, instance)
    })
}

/// Fresh-instance `echo` calls per thread in a scaling line.
const SCALING_CALLS: u64 = 20_000;

/// This thread's scheduler counters (`/proc/thread-self/schedstat`): nanoseconds on a CPU,
/// nanoseconds runnable but waiting for one.
fn schedstat() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("read schedstat");
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    (fields.next().unwrap_or(0), fields.next().unwrap_or(0))
}

/// Runs `call` `SCALING_CALLS` times on each of `threads` threads; prints calls/s (wall
/// clock), on-CPU ns per call, and the share of the time the threads were runnable but
/// waiting for a CPU (other processes on the machine).
fn scaling(threads: usize, call: &(dyn Fn() + Sync)) -> String {
    for _ in 0..1_000 {
        call(); // warm the pool slots
    }
    let started = std::time::Instant::now();
    let counters: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let (cpu0, wait0) = schedstat();
                    for _ in 0..SCALING_CALLS {
                        call();
                    }
                    let (cpu1, wait1) = schedstat();
                    (cpu1 - cpu0, wait1 - wait0)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let calls = (SCALING_CALLS * threads as u64) as f64;
    let cpu: u64 = counters.iter().map(|c| c.0).sum();
    let wait: u64 = counters.iter().map(|c| c.1).sum();
    format!(
        "{:.0} {:.0} {:.3}",
        calls / wall,
        cpu as f64 / calls,
        wait as f64 / (cpu + wait).max(1) as f64
    )
}

fn plinth_scaling(threads: usize) -> String {
    let host = Host::builder().build().expect("build a host");
    let plugin = host
        .load_bytes(
            "bench",
            &bench_bytes(),
            LoadOptions::default().with_grants([Grant::Log]),
        )
        .expect("load the bench guest");
    scaling(threads, &|| {
        let (out,): (Vec<u8>,) = plugin.call(ECHO, (ECHO_INPUT.to_vec(),)).expect("call");
        std::hint::black_box(out);
    })
}

fn raw_scaling(threads: usize) -> String {
    let (engine, pre, component) = raw_setup(true);
    let interface = component
        .get_export_index(None, "bench:guest/work")
        .expect("interface");
    let echo = component
        .get_export_index(Some(&interface), "echo")
        .expect("echo");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .expect("runtime");
    scaling(threads, &|| {
        let out = rt.block_on(async {
            let mut store = raw_store(&engine);
            let out: (Vec<u8>,) =
                instantiate_and_call(&mut store, &pre, echo, (ECHO_INPUT.to_vec(),)).await;
            out
        });
        std::hint::black_box(out);
    })
}

fn run_line(line: &str) -> String {
    match line {
        "plinth_pooling" => plinth(SLOTS).to_string(),
        "plinth_ondemand" => plinth(0).to_string(),
        "raw_pooling" => raw(true).to_string(),
        "raw_ondemand" => raw(false).to_string(),
        "scaling_plinth_1" => plinth_scaling(1),
        "scaling_plinth_2" => plinth_scaling(2),
        "scaling_raw_pooling_resident_1" => raw_scaling(1),
        "scaling_raw_pooling_resident_2" => raw_scaling(2),
        other => panic!("unknown line {other}"),
    }
}

/// Runs `line` in a child process (this program again); its one line of output.
fn child(line: &str) -> String {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .arg(format!("--line={line}"))
        .output()
        .expect("run a footprint line");
    assert!(
        output.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A child: measure one line, print bytes per instance.
    if let Some(line) = args.iter().find_map(|a| a.strip_prefix("--line=")) {
        println!("{}", run_line(line));
        return;
    }
    // `cargo bench` passes `--bench`; a filter (as criterion takes one) selects lines.
    let filter = args.iter().find(|a| !a.starts_with('-'));
    if args.iter().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let mut figures = serde_json::Map::new();
    let mut measured: Vec<(&str, u64)> = Vec::new();
    for line in LINES {
        let name = format!("footprint/{line}");
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let bytes: u64 = child(line).parse().expect("bytes per instance");
        figures.insert(format!("footprint/{line}"), serde_json::json!(bytes));
        measured.push((line, bytes));
    }
    if !measured.is_empty() {
        println!("\n| footprint ({LIVE} idle live instances) | RSS per instance | Plinth / raw |");
        println!("| --- | ---: | --- |");
    }
    for (line, bytes) in &measured {
        let ratio = line
            .strip_prefix("plinth_")
            .and_then(|kind| {
                measured
                    .iter()
                    .find(|(l, _)| l.strip_prefix("raw_") == Some(kind))
            })
            .map(|(raw, raw_bytes)| {
                format!("{:.2}× {raw}", *bytes as f64 / (*raw_bytes).max(1) as f64)
            })
            .unwrap_or_default();
        println!(
            "| `footprint/{line}` | {:.1} KiB | {ratio} |",
            *bytes as f64 / 1024.0
        );
    }

    if filter.is_some_and(|f| !"footprint/scaling".contains(f.as_str())) {
        write_json(figures);
        return;
    }
    println!(
        "\n| scaling ({SCALING_CALLS} fresh-instance `echo` calls a thread) | 1 thread | 2 threads | 2 / 1 | on-CPU per call, 1 → 2 threads | runnable but waiting, 2 threads |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for side in ["plinth", "raw_pooling_resident"] {
        let parse = |text: String| -> (f64, f64, f64) {
            let v: Vec<f64> = text
                .split_whitespace()
                .map(|f| f.parse().expect("a number"))
                .collect();
            (v[0], v[1], v[2])
        };
        let (rate1, cpu1, _) = parse(child(&format!("scaling_{side}_1")));
        let (rate2, cpu2, wait2) = parse(child(&format!("scaling_{side}_2")));
        println!(
            "| `footprint/scaling/{side}` | {rate1:.0} calls/s | {rate2:.0} calls/s | {:.2}× | {:.2} µs → {:.2} µs | {:.0}% |",
            rate2 / rate1,
            cpu1 / 1000.0,
            cpu2 / 1000.0,
            wait2 * 100.0
        );
        figures.insert(
            format!("footprint/scaling/{side}"),
            serde_json::json!({
                "calls_per_s_1": rate1,
                "calls_per_s_2": rate2,
                "cpu_ns_per_call_1": cpu1,
                "cpu_ns_per_call_2": cpu2,
                "waiting_2": wait2,
            }),
        );
    }
    write_json(figures);
}

/// Writes the figures to `$FOOTPRINT_JSON` when it is set.
fn write_json(figures: serde_json::Map<String, serde_json::Value>) {
    if let Some(path) = std::env::var_os("FOOTPRINT_JSON") {
        let text = serde_json::to_string_pretty(&figures).expect("JSON");
        std::fs::write(&path, text).expect("write $FOOTPRINT_JSON");
    }
}
