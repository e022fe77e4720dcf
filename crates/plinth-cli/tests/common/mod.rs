//! Running the real `plinth` binary from the CLI's integration tests.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// One finished `plinth` process.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout parsed as JSON (for `--json` runs).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    /// The code of the first diagnostic of a `--json` run.
    pub fn first_code(&self) -> String {
        self.json()["diagnostics"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Runs `plinth --home HOME ARGS`.
pub fn plinth(home: &Path, args: &[&str]) -> Run {
    run(Command::new(env!("CARGO_BIN_EXE_plinth")), home, args)
}

/// Runs `plinth --home HOME ARGS` in `cwd`, ignoring any `PLINTH_HOME` of the caller.
pub fn plinth_in(home: &Path, cwd: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plinth"));
    command.current_dir(cwd).env_remove("PLINTH_HOME");
    run(command, home, args)
}

fn run(mut command: Command, home: &Path, args: &[&str]) -> Run {
    let output = command
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("plinth runs");
    Run {
        code: output.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
