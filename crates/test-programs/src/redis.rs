//! A real Redis server for tests: `redis-server` (Debian's `redis-server` package;
//! `scripts/install-redis` installs it) on 127.0.0.1 on a free port, its data in a
//! temporary folder, every write appended and fsynced before it is acknowledged
//! (`appendonly yes`, `appendfsync always`). Stopped when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; stopped (and its folder removed) when dropped.
#[derive(Debug)]
pub struct Redis {
    dir: tempfile::TempDir,
    child: Child,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Redis {
    /// Starts a server and waits until it answers `PING`.
    pub fn start() -> Redis {
        Redis::start_with(None)
    }

    /// Starts a server that speaks TLS only (no plain port) on [`Redis::port`], with the
    /// PEM certificate chain `cert` and its private key `key`; clients need no
    /// certificate of their own. Waits until it accepts connections.
    pub fn start_tls(cert: &str, key: &str) -> Redis {
        Redis::start_with(Some((cert, key)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Redis {
        let dir = tempfile::Builder::new()
            .prefix("plinth-redis")
            .tempdir()
            .unwrap();
        let port = free_port();
        let mut command = Command::new("redis-server");
        match tls {
            None => command.args(["--bind", "127.0.0.1", "--port", &port.to_string()]),
            Some((cert, key)) => {
                let (cert_path, key_path) =
                    (dir.path().join("tls.crt"), dir.path().join("tls.key"));
                std::fs::write(&cert_path, cert).unwrap();
                std::fs::write(&key_path, key).unwrap();
                command
                    .args(["--bind", "127.0.0.1", "--port", "0"])
                    .args(["--tls-port", &port.to_string()])
                    .args(["--tls-cert-file".as_ref(), cert_path.as_os_str()])
                    .args(["--tls-key-file".as_ref(), key_path.as_os_str()])
                    // The server's own chain doubles as its (unused) client CA.
                    .args(["--tls-ca-cert-file".as_ref(), cert_path.as_os_str()])
                    .args(["--tls-auth-clients", "no"])
            }
        };
        let child = command
            .args(["--dir".as_ref(), dir.path().as_os_str()])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", "", "--protected-mode", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed: run scripts/install-redis");
        let mut redis = Redis { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = |redis: &Redis| match tls {
            None => redis.answers_ping(),
            // Listening; a client that comes while the server still loads is told to
            // retry (`LOADING`).
            Some(_) => TcpStream::connect(("127.0.0.1", redis.port)).is_ok(),
        };
        while !ready(&redis) {
            if let Ok(Some(status)) = redis.child.try_wait() {
                panic!("redis-server exited with {status} (built without TLS?)");
            }
            assert!(Instant::now() < deadline, "Redis did not start in 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The server's folder (its append-only file).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
