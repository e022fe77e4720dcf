//! `examples/embed-bitvault`'s end-to-end test: one binary, running the built example
//! against a plugin registry (a static index server) on 127.0.0.1.

mod run;
