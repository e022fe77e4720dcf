//! `fidelity-cmd`: a plain WASI command (`wasi:cli/run`) that prints its arguments, one
//! per line, and exits as its first argument says: `exit N` calls
//! `std::process::exit(N)`, anything else returns from `main`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    for arg in &args {
        println!("arg: {arg}");
    }
    if args.get(1).map(String::as_str) == Some("exit") {
        let status = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        eprintln!("exiting with {status}");
        std::process::exit(status);
    }
}
