//! HTTP ingress: requests become ingress events and the handler's answer the response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use plinth_host::Host;
use plinth_service::{HttpIngress, Service, ServiceConfig, bind_loopback};
use serde_json::Value;

use crate::common::{load, run};

/// A response's body as JSON.
async fn json(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// Serves `/echo`, `/none`, `/reject`, `/trap`, `/slow` and `/meta` of one service on
/// 127.0.0.1; returns the base URL.
async fn serve(service: Arc<Service>) -> String {
    let listener = bind_loopback("127.0.0.1:0".parse().unwrap(), false)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let mut ingress = HttpIngress::new();
    for route in ["/echo", "/none", "/reject", "/trap", "/slow", "/meta"] {
        ingress = ingress.route(route, service.clone());
    }
    tokio::spawn(ingress.serve(listener, std::future::pending()));
    format!("http://{addr}")
}

#[test]
fn a_route_answers_with_the_handlers_reply_or_a_coded_error() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "max_attempts = 1", "", &[]);
        let service = Arc::new(
            Service::spawn(
                plugin.clone(),
                ServiceConfig::for_plugin(&plugin).unwrap(),
                Default::default(),
            )
            .unwrap(),
        );
        let base = serve(service.clone()).await;
        let client = reqwest::Client::new();

        let echo = client
            .post(format!("{base}/echo"))
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(echo.status(), 200);
        assert_eq!(echo.headers()["x-plugin"], "test.service");
        assert_eq!(echo.text().await.unwrap(), "you sent: hello");

        let none = client.get(format!("{base}/none")).send().await.unwrap();
        assert_eq!(none.status(), 204);

        let meta = json(
            client
                .get(format!("{base}/meta?x=1"))
                .header("x-trace", "abc")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(meta["method"], "GET");
        assert_eq!(meta["path"], "/meta");
        assert_eq!(meta["query"], "x=1");
        assert!(
            meta["headers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h[0] == "x-trace" && h[1] == "abc"),
            "{meta}"
        );

        let reject = client.post(format!("{base}/reject")).send().await.unwrap();
        assert_eq!(reject.status(), 422);
        let body = json(reject).await;
        assert_eq!(body["code"], "plugin-failed");
        assert!(body["message"].as_str().unwrap().contains("not today"));

        let trap = client.post(format!("{base}/trap")).send().await.unwrap();
        assert_eq!(trap.status(), 502);
        let body = json(trap).await;
        assert!(body["message"].as_str().unwrap().contains("trap"), "{body}");

        let missing = client.get(format!("{base}/nowhere")).send().await.unwrap();
        assert_eq!(missing.status(), 404);

        // The service goes on after the trap.
        let again = client
            .post(format!("{base}/echo"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        service.stop().await;
    });
}

#[test]
fn a_full_queue_answers_503_with_queue_full() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "test.service", "queue = 1", "", &[]);
        let service = Arc::new(
            Service::spawn(
                plugin.clone(),
                ServiceConfig::for_plugin(&plugin).unwrap(),
                Default::default(),
            )
            .unwrap(),
        );
        let base = serve(service.clone()).await;
        let client = reqwest::Client::new();
        let wait_for = async |accepted: u64, queued: usize| {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while !(service.stats().accepted == accepted && service.queued() == queued) {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{:?}",
                    service.stats()
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        // One in the handler (300 ms), one waiting in the queue of one.
        let first = tokio::spawn(client.post(format!("{base}/slow")).send());
        wait_for(1, 0).await;
        let second = tokio::spawn(client.post(format!("{base}/slow")).send());
        wait_for(2, 1).await;
        let third = client.post(format!("{base}/slow")).send().await.unwrap();
        assert_eq!(third.status(), 503);
        assert_eq!(third.headers()["retry-after"], "1");
        let body = json(third).await;
        assert_eq!(body["code"], "queue-full");
        assert_eq!(first.await.unwrap().unwrap().status(), 204);
        assert_eq!(second.await.unwrap().unwrap().status(), 204);
        assert_eq!(service.stats().rejected, 1);
        service.stop().await;
    });
}

#[test]
fn ingress_binds_to_loopback_unless_told() {
    run(Host::new().unwrap(), async |_host| {
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        let err = bind_loopback(any, false).await.unwrap_err();
        assert_eq!(err.code, plinth_manifest::Code::Forbidden);
        let v6 = bind_loopback("[::1]:0".parse().unwrap(), false).await;
        // A machine without IPv6 cannot bind ::1; one with it may.
        if let Err(e) = v6 {
            assert_eq!(e.code, plinth_manifest::Code::HostSetup);
        }
    });
}
