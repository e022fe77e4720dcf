//! One HTTP/1.1 exchange with one vetted address: resolve, guard every resolved address,
//! connect by address, TLS for https, send, read the body up to the cap.
//!
//! Redirects, limits and deadlines are the caller's ([`super::client`]); this module only
//! turns one request into one response or a [`Failure`].

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::AbortOnDrop;
use super::client::{Network, Proxy};
use super::error_code::{self, Failure};
use super::policy::Target;
use super::wire::Reply;

impl Network {
    /// The addresses `target` may be connected to: its literal address, or what the
    /// resolver returned, every one passed by the SSRF guard (one bad address refuses the
    /// whole name, so a rebinding answer mixing good and bad addresses gets nowhere).
    pub(crate) async fn vetted_addrs(&self, target: &Target) -> Result<Vec<SocketAddr>, Failure> {
        let addrs: Vec<SocketAddr> = match target.addr {
            Some(addr) => vec![SocketAddr::new(addr, target.port)],
            None => self
                .resolver
                .resolve(&target.host, target.port)
                .await
                .map_err(|e| error_code::dns(format!("resolving {}: {e}", target.host)))?,
        };
        if addrs.is_empty() {
            return Err(error_code::dns(format!(
                "{} resolves to no address",
                target.host
            )));
        }
        // An IPv4-mapped answer (`::ffff:127.0.0.1`) is checked as is: the guard refuses
        // the mapped form outright rather than unwrapping it.
        for addr in &addrs {
            self.policy
                .check_addr(&target.host, addr.ip(), addr.port())
                .map_err(|refusal| Failure::Denied(refusal.to_string()))?;
        }
        Ok(addrs)
    }

    /// Sends `request` to `target` and reads the response, its body at most `max_body`
    /// bytes.
    pub(crate) async fn exchange(
        &self,
        target: &Target,
        request: http::Request<Full<Bytes>>,
        max_body: u64,
    ) -> Result<Reply, Failure> {
        let addrs = self.vetted_addrs(target).await?;
        let (stream, request) = match &self.proxy {
            None => (connect(&addrs, &target.host).await?, request),
            Some(proxy) => self.via_proxy(proxy, target, request).await?,
        };
        if target.scheme == "https" {
            let name = server_name(target)?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, stream)
                .await
                .map_err(|e| error_code::tls(&e, format!("TLS with {}: {e}", target.host)))?;
            over(tls, request, max_body).await
        } else {
            over(stream, request, max_body).await
        }
    }
}

impl Network {
    /// A connection to `proxy` on which `request` reaches `target`: for plain http the
    /// request in absolute form (`GET http://host/path`), for https a `CONNECT` tunnel the
    /// TLS handshake then runs through, end to end with the destination.
    async fn via_proxy(
        &self,
        proxy: &Proxy,
        target: &Target,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<(TcpStream, http::Request<Full<Bytes>>), Failure> {
        let addrs = match proxy.host.parse::<std::net::IpAddr>() {
            Ok(addr) => vec![SocketAddr::new(addr, proxy.port)],
            Err(_) => self
                .resolver
                .resolve(&proxy.host, proxy.port)
                .await
                .map_err(|e| error_code::dns(format!("resolving the proxy {}: {e}", proxy.host)))?,
        };
        let mut stream = connect(&addrs, &proxy.host).await?;
        let authority = authority(target);
        if target.scheme == "https" {
            open_tunnel(&mut stream, &authority).await?;
            return Ok((stream, request));
        }
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str);
        let absolute = format!("http://{authority}{path}");
        *request.uri_mut() = absolute
            .parse()
            .map_err(|e| Failure::Invalid(format!("{absolute:?}: {e}")))?;
        Ok((stream, request))
    }
}

/// `host:port` of the destination, an IPv6 literal in brackets.
fn authority(target: &Target) -> String {
    match target.addr {
        Some(std::net::IpAddr::V6(_)) => format!("[{}]:{}", target.host, target.port),
        _ => format!("{}:{}", target.host, target.port),
    }
}

/// The longest `CONNECT` response head read from a proxy.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// Asks the proxy on `stream` for a tunnel to `authority`; a 2xx answer opens it.
async fn open_tunnel(stream: &mut TcpStream, authority: &str) -> Result<(), Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    let proxy_failed =
        |why: String| Failure::Denied(format!("the proxy refused a tunnel to {authority}: {why}"));
    stream
        .write_all(ask.as_bytes())
        .await
        .map_err(|e| proxy_failed(e.to_string()))?;
    // Read byte by byte up to the blank line: whatever follows belongs to the tunnel.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_HEAD {
            return Err(proxy_failed("its answer is too long".into()));
        }
        let byte = stream
            .read_u8()
            .await
            .map_err(|e| proxy_failed(e.to_string()))?;
        head.push(byte);
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or_default();
    let ok = status_line
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code.starts_with('2'));
    if ok {
        Ok(())
    } else {
        Err(proxy_failed(status_line.to_owned()))
    }
}

/// The TLS server name: the host name (SNI), or the literal address.
fn server_name(target: &Target) -> Result<rustls::pki_types::ServerName<'static>, Failure> {
    match target.addr {
        Some(addr) => Ok(rustls::pki_types::ServerName::IpAddress(addr.into())),
        None => rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|e| Failure::Invalid(format!("{}: {e}", target.host))),
    }
}

/// Connects to the first address that answers.
async fn connect(addrs: &[SocketAddr], host: &str) -> Result<TcpStream, Failure> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Small requests and responses: do not wait to fill a segment.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some((*addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) => {
            error_code::connect(&e, format!("cannot connect to {host} ({addr}: {e})"))
        }
        None => error_code::dns(format!("{host} resolves to no address")),
    })
}

/// One HTTP/1.1 exchange over an established connection.
async fn over<IO>(
    io: IO,
    request: http::Request<Full<Bytes>>,
    max_body: u64,
) -> Result<Reply, Failure>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(error_code::request)?;
    // The connection task ends with the exchange: dropped with it on a timeout.
    let _driver = AbortOnDrop(tokio::spawn(connection));
    let response = sender
        .send_request(request)
        .await
        .map_err(error_code::request)?;
    let (parts, mut body) = response.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body) {
        return Err(too_large(max_body));
    }
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(error_code::response)?;
        if let Ok(data) = frame.into_data() {
            if (collected.len() + data.len()) as u64 > max_body {
                return Err(too_large(max_body));
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: Bytes::from(collected),
    })
}

fn too_large(max_body: u64) -> Failure {
    Failure::TooLarge(format!(
        "the response body is over the host's cap of {max_body} bytes ([network] max_body_bytes)"
    ))
}
