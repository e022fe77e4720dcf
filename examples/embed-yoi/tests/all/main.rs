//! `examples/embed-yoi`'s end-to-end test: one binary, running the built example against a
//! chat gateway (WebSocket) and a webhook server on 127.0.0.1.

mod run;
