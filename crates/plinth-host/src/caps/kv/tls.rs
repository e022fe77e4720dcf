//! TLS to the key-value servers (docs/design/0067): which URLs ask for it, the roots a
//! server's certificate is checked against, the rustls connector PostgreSQL connections go
//! through, and how a refused certificate reads in an error.
//!
//! TLS is on when the URL says so (`sslmode=require` or `verify-full` for PostgreSQL, the
//! `rediss://` scheme for Redis) and then never falls back to plain text. The server's
//! certificate is always checked, chain and name (libpq's `verify-full`): against the PEM
//! certificates of `[kv] ca_file` alone when it is set (a private CA), else against the
//! Mozilla roots of `webpki-roots`, as outgoing HTTP is.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use super::store::KvError;

/// How a PostgreSQL URL asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PgTlsMode {
    /// Plain TCP (`sslmode` absent or `disable`).
    Plain,
    /// TLS, the certificate checked (`sslmode=require` or `verify-full`).
    Verified,
}

/// The `sslmode` a PostgreSQL URL (`postgres://…?sslmode=…`, or `key=value` words) names.
fn sslmode(url: &str) -> Option<&str> {
    let at = url.find("sslmode=")?;
    let rest = &url[at + "sslmode=".len()..];
    let end = rest
        .find(|c: char| c == '&' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// What `url` asks for, and the URL the client library reads (`verify-full` spelled as
/// `require`, which the library knows; the check is the same). `prefer` and `allow`,
/// which fall back to plain text without saying so, are refused.
pub(crate) fn pg_mode(url: &str) -> Result<(PgTlsMode, String), KvError> {
    match sslmode(url) {
        None | Some("disable") => Ok((PgTlsMode::Plain, url.to_string())),
        Some("require") => Ok((PgTlsMode::Verified, url.to_string())),
        Some("verify-full") => Ok((
            PgTlsMode::Verified,
            url.replacen("sslmode=verify-full", "sslmode=require", 1),
        )),
        Some(other) => Err(KvError::Io(format!(
            "[kv] url: sslmode={other} is not supported: say `require` (TLS, the certificate \
             checked against the roots and the host name) or `disable` (plain TCP)"
        ))),
    }
}

/// The certificates in the PEM file `path`: at least one, or an error naming the file.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, KvError> {
    let bad = |why: &dyn std::fmt::Display| {
        KvError::Io(format!("[kv] ca_file {}: {why}", path.display()))
    };
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
        certs.push(cert.map_err(|e| bad(&e))?);
    }
    if certs.is_empty() {
        return Err(bad(&"holds no PEM certificate"));
    }
    Ok(certs)
}

/// The rustls client configuration: `ca` alone when given, else the Mozilla roots.
pub(crate) fn client_config(
    ca: Option<Vec<CertificateDer<'static>>>,
) -> Result<Arc<rustls::ClientConfig>, KvError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(certs) => {
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| KvError::Io(format!("[kv] ca_file: {e}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| KvError::Io(format!("[kv] TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Why a connection failed in its TLS handshake, when it did: the rustls error somewhere
/// in `error`'s chain (a certificate not signed by a trusted root, a name it does not
/// cover, a server that does not speak TLS).
pub(crate) fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = error
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls.to_string());
        }
        next = error.source();
    }
    // Some client errors (Redis's) keep their cause out of `source`; rustls's own words
    // in the message then tell a failed handshake.
    let text = error.to_string();
    RUSTLS_WORDS
        .iter()
        .any(|words| text.contains(words))
        .then_some(text)
}

/// How rustls's errors begin (`rustls::Error`'s `Display`) for a handshake that failed.
const RUSTLS_WORDS: [&str; 5] = [
    "invalid peer certificate",
    "received corrupt message",
    "received fatal alert",
    "peer is incompatible",
    "peer misbehaved",
];

/// Makes rustls connections for `tokio-postgres`, named by the host the URL gives.
#[derive(Clone)]
pub(crate) struct PgTls {
    config: Arc<rustls::ClientConfig>,
}

impl PgTls {
    pub(crate) fn new(config: Arc<rustls::ClientConfig>) -> PgTls {
        PgTls { config }
    }
}

impl<S> MakeTlsConnect<S> for PgTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type TlsConnect = PgTlsConnect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<PgTlsConnect, Self::Error> {
        Ok(PgTlsConnect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name: ServerName::try_from(domain.to_string())?,
        })
    }
}

/// One connection's handshake.
pub(crate) struct PgTlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for PgTlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PgTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let stream = self.connector.connect(self.name, stream).await?;
            Ok(PgTlsStream(stream))
        })
    }
}

/// A PostgreSQL connection inside TLS.
pub(crate) struct PgTlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PgTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PgTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for PgTlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding: the certificate check already ties the
        // connection to the server.
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_decides_tls() {
        let url = "postgres://u:p@db:5432/plinth";
        assert_eq!(pg_mode(url).unwrap().0, PgTlsMode::Plain);
        assert_eq!(
            pg_mode(&format!("{url}?sslmode=disable")).unwrap().0,
            PgTlsMode::Plain
        );
        assert_eq!(
            pg_mode(&format!("{url}?sslmode=require&application_name=x"))
                .unwrap()
                .0,
            PgTlsMode::Verified
        );
        let (mode, rewritten) = pg_mode(&format!("{url}?sslmode=verify-full")).unwrap();
        assert_eq!(mode, PgTlsMode::Verified);
        assert!(rewritten.ends_with("sslmode=require"), "{rewritten}");
        assert_eq!(
            pg_mode("host=db sslmode=require user=u").unwrap().0,
            PgTlsMode::Verified
        );
        for silent in ["prefer", "allow", "verify-ca"] {
            let err = pg_mode(&format!("{url}?sslmode={silent}")).unwrap_err();
            assert!(err.to_string().contains(silent), "{err}");
        }
    }
}
