//! Shared by the host's integration tests.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, OnceLock};

use plinth_host::log::{LogRecord, LogSink};
use plinth_host::{Host, Limits};

/// Every log record of every plugin the test host ran.
pub fn records() -> &'static Mutex<Vec<LogRecord>> {
    static RECORDS: OnceLock<Mutex<Vec<LogRecord>>> = OnceLock::new();
    RECORDS.get_or_init(Default::default)
}

/// The records of plugin `id`.
pub fn records_of(id: &str) -> Vec<LogRecord> {
    records()
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.plugin == id)
        .cloned()
        .collect()
}

/// One host per test binary (one Engine per process), logging into [`records`].
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        let sink: LogSink = Arc::new(|record: &LogRecord| {
            records().lock().unwrap().push(record.clone());
        });
        Host::builder()
            .limits(Limits::default().with_fuel(u64::MAX / 2))
            .log_sink(sink)
            .build()
            .expect("host")
    })
}

/// The bytes of a test program.
pub fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub mod net;
pub mod postgres;
pub mod server;
