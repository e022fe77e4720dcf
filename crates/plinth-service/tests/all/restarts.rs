//! Traps, deadlines and failing starts: only the failing instance is replaced, with
//! backoff, and the status says so.

use std::time::{Duration, Instant};

use plinth_host::Host;
use plinth_service::{Backoff, DeadReason, Delivery, Service, ServiceConfig, ServiceEvent, Status};

use crate::common::{ask, event, load, reply_text, run};

fn quick_restarts() -> Backoff {
    Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(80),
    }
}

#[test]
fn a_trap_replaces_the_instance_and_the_event_is_retried_on_the_new_one() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "", "", &[]);
        let config = ServiceConfig::default().with_restart(quick_restarts());
        let service = Service::spawn(plugin, config, Default::default()).unwrap();
        for _ in 0..3 {
            service.push(event("count", "")).unwrap();
        }
        // Started and ready before anyone listens.
        assert_eq!(reply_text(&ask(&service, "report", "").await), "3 in-order");
        let mut events = service.subscribe();
        // Traps on its first attempt, succeeds on the second, in a new instance.
        assert_eq!(
            ask(&service, "trap-once", "").await,
            Delivery::Handled { reply: None }
        );
        // The new instance started from scratch: its counter is empty.
        assert_eq!(reply_text(&ask(&service, "report", "").await), "0 in-order");
        assert_eq!(reply_text(&ask(&service, "instances", "").await), "1");
        let mut statuses = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let ServiceEvent::Status { status, .. } = event {
                statuses.push(status.as_str());
            }
        }
        assert_eq!(statuses, ["degraded", "ready"]);
        let stats = service.stop().await;
        assert_eq!(stats.restarts, 1);
        assert_eq!(stats.delivered, 7);
    });
}

#[test]
fn an_event_that_always_traps_is_dead_lettered_and_the_service_recovers() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "max_attempts = 2", "", &[]);
        let config = ServiceConfig::for_plugin(&plugin)
            .unwrap()
            .with_restart(quick_restarts());
        let service = Service::spawn(plugin, config, Default::default()).unwrap();
        let delivery = ask(&service, "trap", "").await;
        let Delivery::DeadLettered(DeadReason::AttemptsExhausted { attempts, last }) = delivery
        else {
            panic!("expected exhausted attempts, got {delivery:?}");
        };
        assert_eq!(attempts, 2);
        assert!(last.contains("trap"), "{last}");
        // The next event is served by a fresh instance.
        assert_eq!(reply_text(&ask(&service, "echo", "after").await), "after");
        assert_eq!(service.status(), Status::Ready);
        assert_eq!(service.stop().await.restarts, 2);
    });
}

#[test]
fn a_deadline_ends_a_runaway_and_an_event_blocked_in_a_host_import() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(
            &host,
            "test.service",
            "deadline_ms = 300\nmax_attempts = 1",
            "",
            &[],
        );
        let config = ServiceConfig::for_plugin(&plugin)
            .unwrap()
            .with_restart(quick_restarts());
        assert_eq!(config.deadline, Some(Duration::from_millis(300)));
        let service = Service::spawn(plugin, config, Default::default()).unwrap();
        for kind in ["spin", "block"] {
            let started = Instant::now();
            let delivery = ask(&service, kind, "").await;
            let Delivery::DeadLettered(DeadReason::AttemptsExhausted { last, .. }) = delivery
            else {
                panic!("{kind}: expected a dead letter, got {delivery:?}");
            };
            assert!(last.contains("timed out after 300 ms"), "{kind}: {last}");
            // Ended by the deadline, not by the hour the guest asked for.
            assert!(started.elapsed() < Duration::from_secs(20), "{kind}");
            // And the service goes on.
            assert_eq!(reply_text(&ask(&service, "echo", kind).await), kind);
        }
        service.stop().await;
    });
}

#[test]
fn a_service_that_cannot_start_goes_from_degraded_to_error_and_keeps_its_queue() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service.failstart", "", "", &[]);
        let mut config = ServiceConfig::default().with_restart(quick_restarts());
        config.error_after = 3;
        let (service, mut events) =
            Service::spawn_with_events(plugin, config, Default::default()).unwrap();
        service.push(event("count", "")).unwrap();
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !seen.contains(&"error") {
            let event = tokio::time::timeout_at(deadline, events.recv())
                .await
                .expect("an error status within 30 s")
                .unwrap();
            if let ServiceEvent::Status { status, .. } = event {
                if let Status::Error { reason } | Status::Degraded { reason } = &status {
                    assert!(reason.contains("refusing to start"), "{reason}");
                }
                seen.push(status.as_str());
            }
        }
        assert_eq!(seen.first(), Some(&"degraded"), "{seen:?}");
        assert_eq!(
            service.queued(),
            1,
            "the event waits for a started instance"
        );
        let stats = service.stop().await;
        assert!(stats.restarts >= 3, "{stats:?}");
        assert_eq!(stats.dead_lettered, 1, "dead-lettered at the stop");
    });
}
