//! A `wasi:http` proxy component (it exports `wasi:http/incoming-handler` and nothing of
//! Plinth's) serving a service's HTTP routes, under the same queue, deadline and attempts.

use std::path::Path;
use std::sync::Arc;

use plinth_host::kinds::{IngressEvent, Service as ServiceKind};
use plinth_host::{Host, LoadOptions, Plugin};
use plinth_manifest::Manifest;
use plinth_service::{DeadReason, Delivery, HttpIngress, Service, ServiceConfig, bind_loopback};

use crate::common::run;

/// The `http-handler` component as a service plugin, with `service` in its
/// `[[provides.service]]` table.
fn load(host: &Host, service: &str) -> Plugin {
    let text = format!(
        "[plugin]\nid = \"test.proxy\"\nversion = \"0.1.0\"\n\n[runtime]\nkind = \"wasm-component\"\ncomponent = \"http-handler.wasm\"\n\n[[provides.service]]\n{service}\n"
    );
    let manifest = Manifest::parse(&text, Path::new("plugin.toml"))
        .unwrap()
        .manifest;
    let bytes = std::fs::read(test_programs::HTTP_HANDLER).unwrap();
    host.load_manifest_bytes(manifest, &bytes, LoadOptions::default())
        .unwrap()
}

/// Serves every route of the component from one service on 127.0.0.1.
async fn serve(service: Arc<Service>) -> String {
    let listener = bind_loopback("127.0.0.1:0".parse().unwrap(), false)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let mut ingress = HttpIngress::new();
    for route in [
        "/echo",
        "/big",
        "/none",
        "/error",
        "/trap",
        "/spin",
        "/elsewhere",
    ] {
        ingress = ingress.route(route, service.clone());
    }
    tokio::spawn(ingress.serve(listener, std::future::pending()));
    format!("http://{addr}")
}

#[test]
fn a_wasi_http_component_answers_its_routes() {
    run(Host::new().unwrap(), async |host| {
        let plugin = load(&host, "max_attempts = 1\ndeadline_ms = 1000");
        let kind = plugin.kind::<ServiceKind>().unwrap();
        assert!(kind.http_only());
        assert!(
            kind.http_handler()
                .unwrap()
                .starts_with("wasi:http/incoming-handler@0.2."),
            "{:?}",
            kind.http_handler()
        );
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
        let get = async |path: &str| client.get(format!("{base}{path}")).send().await.unwrap();

        let echo = client
            .post(format!("{base}/echo"))
            .header("x-test", "t1")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(echo.status(), 200);
        assert_eq!(echo.headers()["x-handler"], "wasi-http");
        assert_eq!(echo.headers()["x-test-echo"], "t1");
        assert_eq!(echo.text().await.unwrap(), "you sent: hello");
        let echo = get("/echo?x=1").await;
        assert_eq!(echo.text().await.unwrap(), "you sent: GET /echo?x=1");

        // More body than a pipe holds: read while the guest writes it.
        let big = get("/big?300000").await;
        assert_eq!(big.status(), 200);
        let body = big.bytes().await.unwrap();
        assert_eq!(body.len(), 300_000);
        assert!(body.iter().all(|b| *b == b'a'));

        let none = get("/none").await;
        assert_eq!(none.status(), 500);
        assert!(none.text().await.unwrap().contains("set no response"));
        let error = get("/error").await;
        assert_eq!(error.status(), 500);
        assert!(error.text().await.unwrap().contains("refused"));
        let missing = get("/elsewhere").await;
        assert_eq!(missing.status(), 404);

        // A trap, a deadline and a body over the cap each end one attempt (502); the next
        // request gets a new instance.
        for path in ["/trap", "/spin", "/big?9000000"] {
            let failed = get(path).await;
            assert_eq!(failed.status(), 502, "{path}");
            let again = get("/echo").await;
            assert_eq!(again.status(), 200, "after {path}");
        }

        // An event that is not an HTTP request is rejected, never handed to the guest.
        let (_, delivered) = service
            .request(IngressEvent::new("app", "count", b"1".to_vec()))
            .unwrap();
        match delivered.await.unwrap() {
            Delivery::DeadLettered(DeadReason::Rejected(reason)) => {
                assert!(reason.contains("HTTP requests only"), "{reason}")
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        let stats = service.stop().await;
        assert_eq!(stats.pushed, stats.accepted + stats.rejected + stats.shed);
        assert_eq!(stats.accepted, stats.delivered + stats.dead_lettered);
        assert_eq!(stats.dead_lettered, 4);
    });
}
