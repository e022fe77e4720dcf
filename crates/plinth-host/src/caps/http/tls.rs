//! The TLS client configuration every outgoing request uses.

use std::path::PathBuf;
use std::sync::Arc;

/// The rustls client configuration: the Mozilla roots from `webpki-roots` and the roots in
/// the `extra` PEM files, http/1.1 only.
pub(crate) fn config(extra: &[PathBuf]) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for path in extra {
        let bad = |why: &dyn std::fmt::Display| {
            format!("[network] ca_certificates: {}: {why}", path.display())
        };
        let before = roots.len();
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        }
        if roots.len() == before {
            return Err(bad(&"holds no PEM certificate"));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
