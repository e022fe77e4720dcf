//! A forwarding HTTP proxy on 127.0.0.1 for tests of the host's `[network] proxy`: it
//! takes requests in absolute form (`GET http://127.0.0.1:PORT/path HTTP/1.1`) and
//! `CONNECT host:PORT` tunnels and forwards them to the same port on 127.0.0.1, whatever
//! the host name (every name stands for the test's own servers: it reaches nothing else),
//! and records what it was asked, so a test can show a request went through it.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct HttpProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    asked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl HttpProxy {
    /// Starts the proxy on a free port.
    ///
    /// # Panics
    ///
    /// When no port on 127.0.0.1 can be bound.
    pub fn start() -> HttpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (asked.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let asked = a.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, &asked);
                });
            }
        });
        HttpProxy { port, asked, stop }
    }

    /// `http://127.0.0.1:PORT`, as `[network] proxy` takes it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request lines received so far (`GET http://… HTTP/1.1`, `CONNECT …`), in order.
    ///
    /// # Panics
    ///
    /// When a connection thread panicked holding the list.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("proxy log").clone()
    }
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One client connection: its request line decides between a tunnel and a forwarded
/// request; either way the bytes are then copied both ways until one side closes.
fn serve(mut client: TcpStream, asked: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let request_line = line.trim_end().to_owned();
    let mut head = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        let name = header.split(':').next().unwrap_or_default();
        // Each forwarded request ends its connection, so the copy below ends too.
        if !name.eq_ignore_ascii_case("connection") {
            head.push(header);
        }
    }
    if let Ok(mut log) = asked.lock() {
        log.push(request_line.clone());
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next());
    let Some((authority, path)) = target.and_then(|t| split_target(method, t)) else {
        client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")?;
        return Ok(());
    };
    let Some(mut server) = connect_local(&authority) else {
        client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")?;
        return Ok(());
    };
    if method == "CONNECT" {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        let mut forwarded = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
        forwarded.extend(head);
        forwarded.push_str("\r\n");
        server.write_all(forwarded.as_bytes())?;
    }
    // Bytes the reader already buffered past the head belong to the server.
    let buffered = reader.buffer().to_vec();
    server.write_all(&buffered)?;
    let mut upstream = reader.into_inner();
    let mut to_server = server.try_clone()?;
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut upstream, &mut to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

/// `(authority, origin-form path)` of a request target: `host:port` for `CONNECT`, the
/// parts of `http://host:port/path` otherwise.
fn split_target(method: &str, target: &str) -> Option<(String, String)> {
    if method == "CONNECT" {
        return Some((target.to_owned(), String::new()));
    }
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Some((authority, path.to_owned()))
}

/// A connection to the port of `authority` on 127.0.0.1: the proxy reaches nothing else.
fn connect_local(authority: &str) -> Option<TcpStream> {
    let (_host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = stream.set_nodelay(true);
    Some(stream)
}
