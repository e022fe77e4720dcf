//! Turning a plugin's request into an HTTP/1.1 request for one hop, and the redirect rules
//! between hops.

use bytes::Bytes;
use http_body_util::Full;

use super::error_code::Failure;
use super::policy::Target;

/// A response as read off the wire, its body complete.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// A request as the plugin asked for it.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: http::Method,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

/// Headers the host sets itself: a plugin's own values are dropped, so it cannot
/// misdirect the request (`host`) or desynchronise the framing.
const HOST_OWNED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// The request for one hop to `target`: origin-form URI, `host` from the URL, the
/// plugin's other headers in order.
pub(crate) fn build(
    target: &Target,
    request: &Outgoing,
) -> Result<http::Request<Full<Bytes>>, Failure> {
    let url = url::Url::parse(&request.url)
        .map_err(|e| Failure::Invalid(format!("{:?}: {e}", request.url)))?;
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    let mut builder = http::Request::builder()
        .method(request.method.clone())
        .uri(path)
        .header(http::header::HOST, host_header(target));
    for (name, value) in &request.headers {
        if HOST_OWNED.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(request.body.clone()))
        .map_err(|e| Failure::Invalid(format!("bad request: {e}")))
}

/// `host[:port]` as the `Host` header spells it, IPv6 literals in brackets.
fn host_header(target: &Target) -> String {
    let host = match target.addr {
        Some(std::net::IpAddr::V6(_)) => format!("[{}]", target.host),
        _ => target.host.clone(),
    };
    match target.explicit_port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The `location` of a redirect status the host follows (301, 302, 303, 307, 308).
pub(crate) fn redirect_location(reply: &Reply) -> Option<&str> {
    if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    reply.headers.get(http::header::LOCATION)?.to_str().ok()
}

/// Rewrites `request` for the hop to `next`: 303 (and 301/302 after a POST) becomes a GET
/// without body, as browsers do; 307/308 keep method and body. Credentials do not follow
/// a redirect to another host.
pub(crate) fn redirect(request: &mut Outgoing, status: u16, next: String, other_host: bool) {
    let to_get = (status == 303 && request.method != http::Method::HEAD)
        || (matches!(status, 301 | 302) && request.method == http::Method::POST);
    if to_get {
        request.method = http::Method::GET;
        request.body = Bytes::new();
        request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
    }
    if other_host {
        request.headers.retain(|(n, _)| {
            !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("cookie")
        });
    }
    request.url = next;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(method: http::Method) -> Outgoing {
        Outgoing {
            method,
            url: "https://a.example.com/x?y=1".into(),
            headers: vec![
                ("Authorization".into(), "secret".into()),
                ("Host".into(), "evil.example".into()),
                ("content-type".into(), "text/plain".into()),
                ("x-one".into(), "1".into()),
            ],
            body: Bytes::from_static(b"data"),
        }
    }

    #[test]
    fn builds_origin_form_with_the_urls_host() {
        let request = outgoing(http::Method::POST);
        let target = Target::parse(&request.url).unwrap();
        let built = build(&target, &request).unwrap();
        assert_eq!(built.uri(), "/x?y=1");
        assert_eq!(built.headers()["host"], "a.example.com");
        assert_eq!(built.headers().get_all("host").iter().count(), 1);
        assert_eq!(built.headers()["x-one"], "1");
        let v6 = Target::parse("http://[::1]:8080/").unwrap();
        assert_eq!(host_header(&v6), "[::1]:8080");
        let mut bad = outgoing(http::Method::GET);
        bad.headers.push(("bad header".into(), "v".into()));
        assert!(matches!(build(&target, &bad), Err(Failure::Invalid(_))));
    }

    #[test]
    fn redirect_rules() {
        let mut post = outgoing(http::Method::POST);
        redirect(&mut post, 302, "https://a.example.com/y".into(), false);
        assert_eq!(post.method, http::Method::GET);
        assert!(post.body.is_empty());
        assert!(post.headers.iter().any(|(n, _)| n == "Authorization"));

        let mut put = outgoing(http::Method::PUT);
        redirect(&mut put, 307, "https://b.example.com/".into(), true);
        assert_eq!(put.method, http::Method::PUT);
        assert_eq!(put.body, Bytes::from_static(b"data"));
        assert!(!put.headers.iter().any(|(n, _)| n == "Authorization"));

        let mut head = outgoing(http::Method::HEAD);
        redirect(&mut head, 303, "https://a.example.com/".into(), false);
        assert_eq!(head.method, http::Method::HEAD);
    }
}
