//! What the handler answers: ok, reject, retry; and dead letters.

use std::time::Duration;

use plinth_host::Host;
use plinth_service::{DeadReason, Delivery, Service, ServiceConfig, Status};

use crate::common::{ask, event, load, reply_text, run};

#[test]
fn events_are_delivered_one_at_a_time_in_order_to_one_instance() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "", "", &[]);
        let service = Service::spawn(
            plugin.clone(),
            ServiceConfig::for_plugin(&plugin).unwrap(),
            Default::default(),
        )
        .unwrap();
        for _ in 0..200 {
            service.push(event("count", "")).unwrap();
        }
        // The report queues behind the 200 counts, so it sees all of them.
        let report = ask(&service, "report", "").await;
        assert_eq!(reply_text(&report), "200 in-order");
        assert_eq!(service.status(), Status::Ready);
        let stats = service.stop().await;
        assert_eq!(stats.accepted, 201);
        assert_eq!(stats.delivered, 201);
        assert_eq!(stats.dead_lettered, 0);
        assert_eq!(stats.restarts, 0);
    });
}

#[test]
fn a_rejected_event_is_dead_lettered_with_the_reason() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "", "", &[]);
        let service = Service::spawn(plugin, ServiceConfig::default(), Default::default()).unwrap();
        let delivery = ask(&service, "reject", "bad input").await;
        assert_eq!(
            delivery,
            Delivery::DeadLettered(DeadReason::Rejected("refused: bad input".into()))
        );
        let letters = service.take_dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].event.body, b"bad input");
        assert_eq!(letters[0].event.attempt, 1);
        assert!(service.take_dead_letters().is_empty(), "taken once");
        let stats = service.stop().await;
        assert_eq!((stats.delivered, stats.dead_lettered), (0, 1));
    });
}

#[test]
fn retries_are_bounded_and_then_dead_lettered() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "max_attempts = 4", "", &[]);
        let config = ServiceConfig::for_plugin(&plugin).unwrap();
        assert_eq!(config.max_attempts, 4);
        let service = Service::spawn(plugin, config, Default::default()).unwrap();
        let delivery = ask(&service, "retry", "").await;
        let Delivery::DeadLettered(DeadReason::AttemptsExhausted { attempts, .. }) = delivery
        else {
            panic!("expected exhausted attempts, got {delivery:?}");
        };
        assert_eq!(attempts, 4);
        // A handler that succeeds on its second attempt is delivered, once.
        assert_eq!(
            ask(&service, "flaky", "").await,
            Delivery::Handled { reply: None }
        );
        let stats = service.stop().await;
        assert_eq!(stats.delivered, 1);
        assert_eq!(stats.dead_lettered, 1);
        assert_eq!(stats.redeliveries, 3 + 1);
    });
}

#[test]
fn stopping_dead_letters_what_is_still_queued_and_refuses_more() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "", "", &[]);
        let config = ServiceConfig::default().with_deadline(Duration::from_secs(1));
        let service = Service::spawn(plugin, config, Default::default()).unwrap();
        // The first event holds the worker (blocked in a host import until its deadline)
        // while more queue.
        service.push(event("block", "")).unwrap();
        for _ in 0..5 {
            service.push(event("count", "")).unwrap();
        }
        let mut events = service.subscribe();
        let stats = tokio::time::timeout(Duration::from_secs(40), service.stop())
            .await
            .expect("stopped in time");
        assert_eq!(stats.accepted, 6);
        // The blocked event ends at its deadline and is not retried once stopping: six
        // events, none delivered, all dead-lettered as stopped.
        assert_eq!(stats.pending, 0, "{stats:?}");
        assert_eq!((stats.delivered, stats.dead_lettered), (0, 6), "{stats:?}");
        let mut stopped = 0;
        while let Ok(event) = events.try_recv() {
            if let plinth_service::ServiceEvent::DeadLettered {
                reason: DeadReason::Stopped,
                ..
            } = event
            {
                stopped += 1;
            }
        }
        assert_eq!(stopped, 6);
    });
}

#[test]
fn a_stopped_service_refuses_events_with_a_coded_error() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "", "", &[]);
        let service = Service::spawn(plugin, ServiceConfig::default(), Default::default()).unwrap();
        assert_eq!(reply_text(&ask(&service, "echo", "hi").await), "hi");
        service.stop().await;
        assert_eq!(service.status(), Status::Stopped);
        let err = service.push(event("echo", "late")).unwrap_err();
        assert_eq!(err.code(), plinth_manifest::Code::ServiceStopped, "{err}");
        let stats = service.stats();
        assert_eq!((stats.pushed, stats.accepted, stats.rejected), (2, 1, 1));
    });
}
