//! A small HTTP/1.1 server on 127.0.0.1 for the network tests: one thread accepting, one
//! per connection, `connection: close` after each response. Stopped when dropped.
//!
//! | path | answer |
//! | --- | --- |
//! | `/echo` | 200, `METHOD PATH x-plinth=VALUE body=BODY` |
//! | `/big/N` | 200 with N bytes and a `content-length` |
//! | `/stream/N` | 200 with N bytes, chunked (no length up front) |
//! | `/binary` | 200 with the bytes `ff 00` |
//! | `/redirect/STATUS?URL` | STATUS with `location: URL` |
//! | `/slow` | never answers; holds the connection until the client closes it |
//!
//! [`Server::start_tls`] serves the same over https with the given certificate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// What `/cities.csv` answers.
pub const CITIES_CSV: &str = "city,population\nOslo,709000\nBergen,291000\nTromsø,78000\n";

/// A running server.
pub struct Server {
    pub port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        Server::serve(None)
    }

    /// The same server over TLS (rustls) with `config`'s certificate.
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Server {
        Server::serve(Some(config))
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                h.fetch_add(1, Ordering::SeqCst);
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = match tls {
                        None => handle(stream),
                        Some(config) => handle_tls(stream, config),
                    };
                });
            }
        });
        Server {
            port,
            hits,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Connections accepted so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request<S: Read>(stream: &mut S) -> std::io::Result<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

fn respond<S: Write>(stream: &mut S, status: u16, extra: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

fn handle_tls(stream: TcpStream, config: Arc<rustls::ServerConfig>) -> std::io::Result<()> {
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    handle(&mut tls)?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn handle<S: Read + Write>(mut stream: S) -> std::io::Result<()> {
    let request = read_request(&mut stream)?;
    let path = request.path.as_str();
    if path == "/echo" || path.starts_with("/echo?") {
        let header = request
            .headers
            .iter()
            .find(|(n, _)| n == "x-plinth")
            .map_or("-", |(_, v)| v.as_str());
        let host = request
            .headers
            .iter()
            .find(|(n, _)| n == "host")
            .map_or("-", |(_, v)| v.as_str());
        let body = format!(
            "{} {} x-plinth={header} host={host} body={}",
            request.method,
            request.path,
            String::from_utf8_lossy(&request.body)
        );
        respond(&mut stream, 200, "", body.as_bytes())
    } else if let Some(n) = path.strip_prefix("/big/") {
        respond(&mut stream, 200, "", &vec![b'a'; n.parse().unwrap_or(0)])
    } else if let Some(n) = path.strip_prefix("/stream/") {
        let n: usize = n.parse().unwrap_or(0);
        write!(
            stream,
            "HTTP/1.1 200 X\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )?;
        for chunk in vec![b'a'; n].chunks(256) {
            write!(stream, "{:x}\r\n", chunk.len())?;
            stream.write_all(chunk)?;
            stream.write_all(b"\r\n")?;
        }
        stream.write_all(b"0\r\n\r\n")
    } else if path == "/binary" {
        respond(&mut stream, 200, "", &[0xff, 0x00])
    } else if path == "/cities.csv" {
        respond(&mut stream, 200, "", CITIES_CSV.as_bytes())
    } else if let Some(rest) = path.strip_prefix("/redirect/") {
        let (status, to) = rest.split_once('?').unwrap_or((rest, "/"));
        respond(
            &mut stream,
            status.parse().unwrap_or(302),
            &format!("location: {to}\r\n"),
            b"",
        )
    } else if path == "/slow" {
        // Until the client gives up and closes the connection.
        let mut sink = [0u8; 64];
        while stream.read(&mut sink)? > 0 {}
        Ok(())
    } else {
        respond(&mut stream, 404, "", b"not found")
    }
}
