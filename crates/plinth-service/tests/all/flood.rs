//! Floods: 100 000 events at ten times what the service handles, and every one accounted
//! for exactly: delivered + rejected + shed + dead-lettered = sent.

use std::time::{Duration, Instant};

use plinth_host::Host;
use plinth_service::{Overflow, Pushed, Service, ServiceConfig, ServiceError};

use crate::common::{ask, event, load, reply_text, run};

const SENT: u64 = 100_000;
/// Iterations each `work` event burns: enough that the producer outruns the service.
const WORK: &str = "2000";

/// Events a second the service handles, measured on its own instance.
async fn throughput(service: &Service) -> f64 {
    let n = 2_000;
    let started = Instant::now();
    for _ in 0..n {
        // The queue holds all of them: the measurement is not limited by it.
        service.push(event("work", WORK)).unwrap();
    }
    assert!(service.idle(Duration::from_secs(60)).await);
    f64::from(n) / started.elapsed().as_secs_f64()
}

/// Producer-side tallies.
#[derive(Debug, Default)]
struct Sent {
    queued: u64,
    rejected: u64,
    shed: u64,
}

/// Sends [`SENT`] events at `rate` a second, in batches, every 100th a `reject`.
async fn flood(service: &Service, rate: f64) -> Sent {
    let batch = 500u64;
    let period = Duration::from_secs_f64(batch as f64 / rate);
    let mut ticks = tokio::time::interval(period);
    let mut sent = Sent::default();
    for start in (0..SENT).step_by(batch as usize) {
        ticks.tick().await;
        for i in start..(start + batch).min(SENT) {
            let kind = if i % 100 == 0 { "reject" } else { "work" };
            match service.push(event(kind, WORK)) {
                Ok(Pushed::Queued { .. }) => sent.queued += 1,
                Ok(Pushed::Shed) => sent.shed += 1,
                Err(ServiceError::QueueFull { .. }) => sent.rejected += 1,
                Err(other) => panic!("unexpected refusal: {other}"),
            }
        }
    }
    sent
}

fn flood_with(overflow: Overflow) {
    run(Host::new().unwrap(), async move |host| {
        let plugin = load(&host, "test.service", "", "", &[]);
        let config = ServiceConfig::default()
            .with_queue(4_096)
            .with_overflow(overflow);
        let calibration =
            Service::spawn(plugin.clone(), config.clone(), Default::default()).unwrap();
        let rate = throughput(&calibration).await;
        calibration.stop().await;

        let service = Service::spawn(plugin, config.with_queue(256), Default::default()).unwrap();
        let sent = flood(&service, rate * 10.0).await;
        assert!(service.idle(Duration::from_secs(120)).await, "drained");
        let stats = service.stop().await;

        // The producer's view and the service's agree, and add up exactly.
        assert_eq!(sent.queued + sent.rejected + sent.shed, SENT);
        assert_eq!(stats.pushed, SENT);
        assert_eq!(stats.accepted, sent.queued);
        assert_eq!(stats.rejected, sent.rejected);
        assert_eq!(stats.shed, sent.shed);
        assert_eq!(
            stats.delivered + stats.rejected + stats.shed + stats.dead_lettered,
            SENT,
            "{stats:?}"
        );
        assert_eq!(stats.pending, 0);
        // The flood was one: most events did not get in.
        let refused = sent.rejected + sent.shed;
        assert!(refused > SENT / 2, "{rate:.0}/s: {sent:?}");
        assert!(stats.dead_lettered > 0, "the handler's rejects: {stats:?}");
        match overflow {
            Overflow::Reject => assert_eq!(sent.shed, 0),
            Overflow::Shed => assert_eq!(sent.rejected, 0),
        }
    });
}

#[test]
fn a_flood_with_policy_reject_is_counted_exactly() {
    flood_with(Overflow::Reject);
}

#[test]
fn a_flood_with_policy_shed_is_counted_exactly() {
    flood_with(Overflow::Shed);
}

#[test]
fn the_guest_sees_exactly_the_delivered_events_in_order() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "queue = 64", "", &[]);
        let config = ServiceConfig::for_plugin(&plugin).unwrap();
        assert_eq!(config.queue, 64);
        let service = Service::spawn(plugin, config, Default::default()).unwrap();
        let mut queued = 0u64;
        for _ in 0..5_000 {
            if service.push(event("count", "")).is_ok() {
                queued += 1;
            }
        }
        assert!(service.idle(Duration::from_secs(60)).await);
        let report = ask(&service, "report", "").await;
        assert_eq!(reply_text(&report), format!("{queued} in-order"));
        let stats = service.stop().await;
        assert_eq!(stats.delivered, queued + 1);
        assert_eq!(stats.rejected, 5_000 - queued);
    });
}
