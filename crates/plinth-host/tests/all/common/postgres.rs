//! A real PostgreSQL on 127.0.0.1 (`test_programs::postgres`).

pub use test_programs::postgres::{PASSWORD, Postgres, USER};
