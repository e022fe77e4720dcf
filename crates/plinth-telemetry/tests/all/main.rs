//! `plinth-telemetry`'s integration tests: one test binary, one module per concern.

mod export;
mod otlp;
