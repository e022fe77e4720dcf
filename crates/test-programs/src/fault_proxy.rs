//! A fault-injecting TCP proxy on 127.0.0.1 for tests of network backends: it forwards
//! to a server, and the test can add latency, cut every open connection, refuse new ones
//! for a while, cut a connection right after it forwarded a chosen request (so the
//! server acts on it but the client never hears the answer), or silence the open
//! connections' requests while their answers still flow (a client that writes into a
//! connection that looks alive and reaches nobody).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the traffic now.
#[derive(Debug, Default)]
struct Faults {
    /// Milliseconds added before forwarding each chunk, both ways.
    latency_ms: AtomicU64,
    /// New connections are closed at once.
    refuse: AtomicBool,
    /// The next this-many requests containing [`Faults::marker`] lose their answer: the
    /// request reaches the server, its answer is swallowed and the connection cut.
    lose_answers: AtomicUsize,
    marker: Mutex<Vec<u8>>,
    /// Answers swallowed so far.
    lost: AtomicUsize,
    /// One flag per connection: while set, what the client sends is read and dropped.
    silenced: Mutex<Vec<Arc<AtomicBool>>>,
}

/// The proxy; stops accepting when dropped (open connections end when cut).
#[derive(Debug)]
pub struct FaultProxy {
    faults: Arc<Faults>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    /// The port on 127.0.0.1 to connect to instead of the server's.
    pub port: u16,
}

impl FaultProxy {
    /// A proxy forwarding to `127.0.0.1:target`.
    pub fn start(target: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let faults = Arc::new(Faults::default());
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, o, s) = (faults.clone(), open.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if f.refuse.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                {
                    let mut open = o.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                }
                let doomed = Arc::new(AtomicBool::new(false));
                let silent = Arc::new(AtomicBool::new(false));
                f.silenced.lock().unwrap().push(silent.clone());
                let (up, down) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                pump(
                    f.clone(),
                    up,
                    down,
                    Direction::Request(doomed.clone(), silent),
                );
                pump(f.clone(), server, client, Direction::Answer(doomed));
            }
        });
        FaultProxy {
            faults,
            open,
            stop,
            port,
        }
    }

    /// Adds `latency` before every forwarded chunk.
    pub fn set_latency(&self, latency: Duration) {
        self.faults
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    /// Closes new connections at once while `refuse` holds.
    pub fn set_refusing(&self, refuse: bool) {
        self.faults.refuse.store(refuse, Ordering::SeqCst);
    }

    /// For the next `n` requests whose bytes contain `marker` (`b"COMMIT"`, `b"EVALSHA"`):
    /// forwards the request, then swallows the server's answer and cuts the connection.
    pub fn lose_answers_to(&self, marker: &[u8], n: usize) {
        *self.faults.marker.lock().unwrap() = marker.to_vec();
        self.faults.lose_answers.store(n, Ordering::SeqCst);
    }

    /// Answers swallowed so far.
    pub fn lost_answers(&self) -> usize {
        self.faults.lost.load(Ordering::SeqCst)
    }

    /// From now on, drops what the clients of the connections open now send, and
    /// forwards what the server sends them: the connections stay open and look alive.
    /// Connections made later are not silenced.
    pub fn silence_requests(&self) {
        for silent in self.faults.silenced.lock().unwrap().drain(..) {
            silent.store(true, Ordering::SeqCst);
        }
    }

    /// Cuts every open connection (both sides).
    pub fn cut_all(&self) {
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.cut_all();
    }
}

/// Which way a pump copies; both share whether the pending answer is to be lost.
enum Direction {
    Request(Arc<AtomicBool>, Arc<AtomicBool>),
    Answer(Arc<AtomicBool>),
}

/// Copies `from` to `to` on a thread of its own, applying the faults.
fn pump(faults: Arc<Faults>, mut from: TcpStream, mut to: TcpStream, direction: Direction) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let latency = faults.latency_ms.load(Ordering::SeqCst);
            if latency > 0 {
                std::thread::sleep(Duration::from_millis(latency));
            }
            match &direction {
                Direction::Request(_, silent) if silent.load(Ordering::SeqCst) => continue,
                Direction::Request(doomed, _) => {
                    let marked = {
                        let marker = faults.marker.lock().unwrap();
                        !marker.is_empty() && buf[..n].windows(marker.len()).any(|w| w == *marker)
                    };
                    if marked
                        && faults
                            .lose_answers
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok()
                    {
                        doomed.store(true, Ordering::SeqCst);
                    }
                }
                Direction::Answer(doomed) => {
                    if doomed.load(Ordering::SeqCst) {
                        faults.lost.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                }
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}
