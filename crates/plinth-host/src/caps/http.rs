//! `plinth:host/http`.

use plinth_manifest::Grant;

use crate::bindings::http;
use crate::host_api::grant_hint;
use crate::state::StoreState;

impl http::Host for StoreState {
    fn fetch(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        self.check_http(&request.url)?;
        Err(http::HttpError::Denied(super::unavailable("http")))
    }

    fn submit(&mut self, request: http::Request) -> Result<u64, http::HttpError> {
        self.check_http(&request.url)?;
        Err(http::HttpError::Denied(super::unavailable("http")))
    }
}

impl StoreState {
    fn check_http(&mut self, url: &str) -> Result<(), http::HttpError> {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .to_string();
        let grant = Grant::Http(host);
        if self.plugin.grants.allows(&grant) {
            return Ok(());
        }
        self.note_missing_grant(grant.clone());
        Err(http::HttpError::MissingGrant(grant_hint(
            &self.plugin.id,
            &grant,
        )))
    }
}
