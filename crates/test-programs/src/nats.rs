//! A real NATS server for tests: Debian's `nats-server` (`scripts/install-nats`) on
//! 127.0.0.1 on a free port. Stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct Nats {
    child: Child,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Debian installs the server in `/usr/sbin`, which a user's `PATH` may lack.
fn binary() -> &'static str {
    if std::path::Path::new("/usr/sbin/nats-server").exists() {
        "/usr/sbin/nats-server"
    } else {
        "nats-server"
    }
}

impl Nats {
    /// Starts a server and waits until it greets a client with `INFO`.
    pub fn start() -> Nats {
        let port = free_port();
        let child = Command::new(binary())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is not installed: run scripts/install-nats");
        let nats = Nats { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !nats.greets() {
            assert!(Instant::now() < deadline, "NATS did not start in 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        nats
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn greets(&self) -> bool {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("INFO")
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
