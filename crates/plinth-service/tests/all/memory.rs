//! Host memory per idle WebSocket connection, counted by allocator on the threads of the
//! runtime that runs the driver.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use plinth_host::Host;
use plinth_service::{Commands, Service, ServiceConfig, WebSocketDriver, bind_loopback};

use crate::common::load;

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting the bytes allocated minus freed on tracked threads.
pub struct Counting;

fn tracked() -> bool {
    TRACKED.try_with(Cell::get).unwrap_or(false)
}

// The one `unsafe` of the tests: an allocator must implement the unsafe trait. Each method
// forwards its arguments unchanged to the system allocator, so the caller's obligations
// pass straight through; the counting touches no memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if tracked() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if tracked() {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if tracked() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

const CONNECTIONS: usize = 1_000;

#[test]
fn an_idle_connection_costs_the_host_under_10_kib() {
    let host = Host::new().unwrap();
    // The driver's runtime counts; the clients' does not.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| TRACKED.set(true))
        .enable_all()
        .build()
        .unwrap();
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let driver = WebSocketDriver::new();
    let plugin = load(&host, "test.service", "", "", &[]);
    let (service, url) = server.block_on(async {
        let service = Arc::new(
            Service::spawn(
                plugin,
                ServiceConfig::default().with_queue(CONNECTIONS * 2),
                Commands::default().frames(Arc::new(driver.clone())),
            )
            .unwrap(),
        );
        let listener = bind_loopback("127.0.0.1:0".parse().unwrap(), false)
            .await
            .unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        driver.listen("chat", listener, service.clone());
        (service, url)
    });
    // One connection first, so one-time costs (the instance, the listener's buffers) are
    // paid before the baseline.
    let connect = |n: usize| {
        clients.block_on(async {
            let mut sockets = Vec::with_capacity(n);
            for _ in 0..n {
                let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
                    .await
                    .unwrap();
                sockets.push(socket);
            }
            sockets
        })
    };
    let wait_idle = |open: usize| {
        server.block_on(async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while driver.connections() != open || !service.idle(Duration::from_millis(10)).await {
                assert!(tokio::time::Instant::now() < deadline, "{open} connections");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let warm = connect(1);
    wait_idle(1);
    let before = LIVE.load(Ordering::Relaxed);
    let sockets = connect(CONNECTIONS);
    wait_idle(CONNECTIONS + 1);
    let after = LIVE.load(Ordering::Relaxed);
    let per_connection = (after - before) as f64 / CONNECTIONS as f64;
    eprintln!("idle WebSocket connections: {CONNECTIONS}, host bytes each: {per_connection:.0}");
    assert!(
        per_connection < 10.0 * 1024.0,
        "{per_connection:.0} bytes per idle connection"
    );
    drop(sockets);
    drop(warm);
    wait_idle(0);
    server.block_on(service.stop());
    drop(clients);
    drop(server);
    drop(host);
}
