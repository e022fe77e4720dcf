//! Request bodies: JSON, read up to [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES), with every
//! failure a coded diagnostic.

use axum::extract::{FromRequest, Request};
use plinth_manifest::diagnostic::{Code, Diagnostic};
use serde::de::DeserializeOwned;

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;

/// A JSON body of type `T`. An empty body reads as `{}`.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                Diagnostic::new(
                    Code::TooLarge,
                    format!("the request body is over {MAX_BODY_BYTES} bytes"),
                )
                .with_hint("send a smaller body")
            })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text).map(JsonBody).map_err(|e| {
            Diagnostic::new(
                Code::BadArgument,
                format!("the request body does not fit: {e}"),
            )
            .with_hint("docs/openapi.json describes each request body")
            .into()
        })
    }
}
