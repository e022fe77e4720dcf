//! `plinth:host/http`: the grant check, the network policy ([`policy`]) and the SSRF guard
//! ([`guard`]) every outgoing request passes. The transport itself is not in this build
//! yet: a request the policy allows is answered with `denied` naming that.

mod guard;
mod policy;

use crate::bindings::http;
use crate::host_api::grant_hint;
use crate::state::StoreState;

use policy::{Policy, Refusal};

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
    /// Applies the network policy to a request URL, auditing the grant decision.
    fn check_http(&mut self, url: &str) -> Result<(), http::HttpError> {
        let policy = Policy::default();
        match policy.check(&self.plugin.grants, url) {
            Ok(target) => {
                super::audit(&self.plugin.id, &target.grant(), true);
                Ok(())
            }
            Err(Refusal::NotGranted(grant)) => {
                super::audit(&self.plugin.id, &grant, false);
                self.note_missing_grant(grant.clone());
                Err(http::HttpError::MissingGrant(grant_hint(
                    &self.plugin.id,
                    &grant,
                )))
            }
            Err(refusal @ Refusal::Invalid(_)) => {
                Err(http::HttpError::InvalidRequest(refusal.to_string()))
            }
            Err(refusal) => Err(http::HttpError::Denied(refusal.to_string())),
        }
    }
}
