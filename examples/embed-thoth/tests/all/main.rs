//! `examples/embed-thoth`'s end-to-end test: one binary (the workspace's `tests/all`
//! layout), running the built example against real servers on 127.0.0.1.

mod run;
