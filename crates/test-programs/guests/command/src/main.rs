//! `command`: an ordinary WASI program that knows nothing about Plinth. Built as a `bin`
//! for `wasm32-wasip2`, its component exports only `wasi:cli/run`, so tests can show the
//! host runs plain WASI components (`wasi:cli/run#run`) with stdout captured into the log.

fn main() {
    println!("hello from command");
}
