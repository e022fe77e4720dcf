//! The reference `command` plugin: `greet [--shout] [NAME...]`.
//!
//! `run(["Ada"])` answers `Hello, Ada!`, `run([])` `Hello, world!`, `--shout` upper-cases
//! the answer and `--help` prints the usage. Any other argument starting with `-` is an
//! `err` with the usage, never a trap. The greeting word comes from the `greeting` setting,
//! read through `config` when granted (`Hello` otherwise).
//!
//! The Python and JavaScript twins (`examples/greet-py`, `examples/greet-js`) answer every
//! argument list alike.

use plinth_pdk::prelude::*;

const USAGE: &str = "usage: greet [--shout] [NAME...]";
const DEFAULT_GREETING: &str = "Hello";

struct Greet;

impl Plugin for Greet {}

impl Command for Greet {
    fn run(args: Vec<String>) -> Result<String, String> {
        greet(&args, &greeting())
    }
}

/// The answer to `args`, with `greeting` before the name.
fn greet(args: &[String], greeting: &str) -> Result<String, String> {
    let mut shout = false;
    let mut names = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--shout" => shout = true,
            "--help" => return Ok(USAGE.to_string()),
            option if option.starts_with('-') => {
                return Err(format!("unknown option `{option}`; {USAGE}"));
            }
            name => names.push(name),
        }
    }
    let name = if names.is_empty() {
        "world".to_string()
    } else {
        names.join(" ")
    };
    let answer = format!("{greeting}, {name}!");
    Ok(if shout { answer.to_uppercase() } else { answer })
}

/// The `greeting` setting, or the default when it is unset, not a string, or `config` is
/// not granted.
fn greeting() -> String {
    match config::get("greeting") {
        Ok(Some(Value::String(greeting))) => greeting,
        _ => DEFAULT_GREETING.to_string(),
    }
}

plinth_pdk::export!(Greet: command);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<String, String> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        greet(&args, DEFAULT_GREETING)
    }

    #[test]
    fn greets_by_name_or_the_world() {
        assert_eq!(run(&["Ada"]), Ok("Hello, Ada!".into()));
        assert_eq!(run(&[]), Ok("Hello, world!".into()));
        assert_eq!(
            run(&["--shout", "Ada", "Lovelace"]),
            Ok("HELLO, ADA LOVELACE!".into())
        );
        assert_eq!(run(&["--help", "x"]), Ok(USAGE.into()));
    }

    #[test]
    fn unknown_options_are_errors_with_the_usage() {
        assert_eq!(
            run(&["--bogus"]),
            Err(format!("unknown option `--bogus`; {USAGE}"))
        );
        assert!(run(&["-"]).is_err());
    }
}
