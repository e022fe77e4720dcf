//! The part of the OCI distribution protocol Plinth speaks, on our own HTTP client
//! ([`crate::net`]) rather than oci-client's: that one buffers manifests and error bodies
//! without a cap, fetches a layer's foreign `urls` when the registry fails, sends its token
//! to an upload `Location` on any host, and cannot take a DNS resolver (design record 0033).
//!
//! - `GET /v2/<repo>/manifests/<tag|digest>`, read under the manifest cap;
//! - `GET /v2/<repo>/blobs/<digest>`, read under the blob's declared size; a descriptor's
//!   `urls` are never looked at;
//! - `POST /v2/<repo>/blobs/uploads/` then `PUT <Location>?digest=…` (a monolithic upload);
//! - `PUT /v2/<repo>/manifests/<tag>`;
//! - anonymous bearer tokens: on a `401` with a `Bearer` challenge, one token request to the
//!   challenge's realm (checked like any steered URL), then the request again. The token
//!   goes only to the registry's own scheme, host and port.

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};

use crate::error::{RegistryError, Result};
use crate::net::{Http, read_body};
use crate::progress::{Progress, Silent};
use crate::reference::{OciReference, Transport};

/// The most a token response may hold.
const TOKEN_CAP: u64 = 64 << 10;
/// How much of an error response is kept for the message.
const ERROR_BODY_CAP: u64 = 4 << 10;

/// What a session does, for the scope of its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Pull,
    Push,
}

/// One repository of one registry, and the token it gave us.
pub(crate) struct Session {
    http: Http,
    base: Url,
    repository: String,
    location: String,
    access: Access,
    token: Option<String>,
}

impl Session {
    /// A session with `reference`'s repository over `http`.
    pub(crate) fn new(
        http: Http,
        reference: &OciReference,
        transport: Transport,
        access: Access,
    ) -> Result<Session> {
        Ok(Session {
            http,
            base: registry_url(reference, transport)?,
            repository: reference.repository().to_owned(),
            location: reference.to_string(),
            access,
            token: None,
        })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(&format!("v2/{}/{path}", self.repository))
            .map_err(|e| RegistryError::transport(&self.location, e))
    }

    /// Whether `url` is the registry itself (same scheme, host and port): only then does the
    /// token go with a request.
    fn is_registry(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Sends a request, fetching a token and sending it again once when the registry asks
    /// for one.
    async fn send(
        &mut self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<reqwest::Response> {
        let response = self
            .send_once(method.clone(), url.clone(), headers.clone(), body.clone())
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED
            || self.token.is_some()
            || !self.is_registry(&url)
        {
            return Ok(response);
        }
        let Some(challenge) = bearer_challenge(response.headers()) else {
            return Ok(response);
        };
        self.token = Some(self.fetch_token(&challenge).await?);
        self.send_once(method, url, headers, body).await
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<reqwest::Response> {
        let mut request = self
            .http
            .client()
            .request(method, url.clone())
            .headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        if let Some(token) = &self.token
            && self.is_registry(&url)
        {
            request = request.bearer_auth(token);
        }
        self.http.send(request, &self.location).await
    }

    /// An anonymous token from the challenge's realm.
    async fn fetch_token(&self, challenge: &[(String, String)]) -> Result<String> {
        let param = |key: &str| {
            challenge
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        };
        let unusable = |reason: &str| {
            RegistryError::transport(
                &self.location,
                format!("the registry asks for a token: {reason}"),
            )
        };
        let realm = param("realm").ok_or_else(|| unusable("its challenge names no realm"))?;
        let mut url = Url::parse(realm).map_err(|_| unusable("its realm is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(unusable("its realm is not an http(s) URL"));
        }
        let actions = match self.access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        let scope = param("scope")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("repository:{}:{actions}", self.repository));
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = param("service") {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &scope);
        }
        let response = self
            .http
            .send(self.http.client().get(url), &self.location)
            .await?;
        if !response.status().is_success() {
            return Err(unusable(&format!(
                "the token request answered HTTP {}",
                response.status()
            )));
        }
        let body = read_body(
            &self.http,
            response,
            &self.location,
            "the token",
            TOKEN_CAP,
            &Silent,
        )
        .await?;
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| unusable("the token response is not JSON"))?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unusable("the token response holds no token"))
    }

    /// The response when its status is one of `ok`; else `missing-package` for a 404 and a
    /// transport error with the start of the body for anything else.
    async fn expect(
        &self,
        response: reqwest::Response,
        ok: &[StatusCode],
        what: &str,
    ) -> Result<reqwest::Response> {
        let status = response.status();
        if ok.contains(&status) {
            return Ok(response);
        }
        if status == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                what: format!(
                    "{what} of {} does not exist in the registry (404)",
                    self.location
                ),
                plugin: None,
            });
        }
        let body = read_body(
            &self.http,
            response,
            &self.location,
            "the error",
            ERROR_BODY_CAP,
            &Silent,
        )
        .await
        .unwrap_or_default();
        let excerpt = String::from_utf8_lossy(&body);
        Err(RegistryError::transport(
            &self.location,
            format!("{what}: HTTP {status} {}", excerpt.trim()),
        ))
    }

    /// The raw manifest at `target` (a tag or digest), at most `cap` bytes.
    pub(crate) async fn manifest(&mut self, target: &str, accept: &str, cap: u64) -> Result<Bytes> {
        let url = self.url(&format!("manifests/{target}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, header(accept)?);
        let response = self.send(Method::GET, url, headers, None).await?;
        let response = self
            .expect(response, &[StatusCode::OK], "the manifest")
            .await?;
        read_body(
            &self.http,
            response,
            &self.location,
            "the manifest",
            cap,
            &Silent,
        )
        .await
    }

    /// The blob `digest`, at most `size` bytes (its declared size), reported to `progress`.
    /// The caller checks its digest.
    pub(crate) async fn blob(
        &mut self,
        digest: &str,
        size: u64,
        label: &str,
        progress: &dyn Progress,
    ) -> Result<Bytes> {
        let url = self.url(&format!("blobs/{digest}"))?;
        let response = self.send(Method::GET, url, HeaderMap::new(), None).await?;
        let what = format!("blob {digest}");
        let response = self.expect(response, &[StatusCode::OK], &what).await?;
        read_body(&self.http, response, &self.location, label, size, progress).await
    }

    /// Uploads one blob: opens an upload, then sends it whole to the `Location` the registry
    /// names (with the token only when that is the registry itself).
    pub(crate) async fn upload(&mut self, digest: &str, data: Bytes) -> Result<()> {
        let start = self.url("blobs/uploads/")?;
        let response = self
            .send(Method::POST, start, HeaderMap::new(), Some(Bytes::new()))
            .await?;
        let response = self
            .expect(response, &[StatusCode::ACCEPTED], "starting an upload")
            .await?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                RegistryError::transport(&self.location, "the upload answer has no Location")
            })?;
        let mut target = response
            .url()
            .join(location)
            .map_err(|e| RegistryError::transport(&self.location, e))?;
        target.query_pairs_mut().append_pair("digest", digest);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, header("application/octet-stream")?);
        let response = self.send(Method::PUT, target, headers, Some(data)).await?;
        self.expect(
            response,
            &[StatusCode::CREATED],
            &format!("uploading {digest}"),
        )
        .await?;
        Ok(())
    }

    /// Puts a manifest under `tag`.
    pub(crate) async fn put_manifest(
        &mut self,
        tag: &str,
        body: Bytes,
        media_type: &str,
    ) -> Result<()> {
        let url = self.url(&format!("manifests/{tag}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, header(media_type)?);
        let response = self.send(Method::PUT, url, headers, Some(body)).await?;
        self.expect(
            response,
            &[StatusCode::CREATED, StatusCode::OK],
            "the manifest",
        )
        .await?;
        Ok(())
    }
}

/// `http(s)://REGISTRY/` for `reference` under `transport`.
pub(crate) fn registry_url(reference: &OciReference, transport: Transport) -> Result<Url> {
    let scheme = if reference.uses_plain_http(transport) {
        "http"
    } else {
        "https"
    };
    Url::parse(&format!("{scheme}://{}/", reference.registry())).map_err(|e| {
        RegistryError::BadReference {
            reference: reference.to_string(),
            reason: e.to_string(),
        }
    })
}

fn header(value: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| RegistryError::transport(value, e))
}

/// The parameters of a `Bearer` challenge in `WWW-Authenticate`, if there is one.
fn bearer_challenge(headers: &HeaderMap) -> Option<Vec<(String, String)>> {
    headers.get_all(WWW_AUTHENTICATE).iter().find_map(|value| {
        let text = value.to_str().ok()?;
        let (scheme, params) = text.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| challenge_params(params))
    })
}

/// `key="value", key=value, …` (quoted values may hold commas and `\"`).
fn challenge_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ',' || c.is_whitespace()).is_some() {}
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if chars.next().is_none() {
            return params;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| *c != ',')));
        }
        params.push((key.trim().to_owned(), value.trim().to_owned()));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_challenges() {
        let params = challenge_params(
            r#"realm="https://auth.example.org/token",service="registry.example.org",scope="repository:a/b:pull,push", error=insufficient_scope"#,
        );
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("realm"), Some("https://auth.example.org/token"));
        assert_eq!(get("service"), Some("registry.example.org"));
        assert_eq!(get("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(get("error"), Some("insufficient_scope"));

        let mut headers = HeaderMap::new();
        headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"x\""),
        );
        assert_eq!(bearer_challenge(&headers), None);
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="http://127.0.0.1:1/t""#),
        );
        assert_eq!(
            bearer_challenge(&headers),
            Some(vec![("realm".into(), "http://127.0.0.1:1/t".into())])
        );
    }
}
