//! lookout-reqwest gives every HTTP call a service makes with `reqwest`
//! inside a lookout request its own span and the headers that carry the
//! trace: one `reqwest-middleware` middleware, [`Propagate`].
//!
//! Each call gets a fresh span id (the parent the callee sees in
//! `sentry-trace` and `traceparent`, never shared by two calls), the
//! request's frozen Dynamic Sampling Context in `baggage` (no third party's
//! members), `traceparent` when enabled, and only for URLs matching the
//! propagation targets. When the request is sampled the call is recorded as
//! an `http.client` span of its transaction (origin `auto.http.reqwest`)
//! that ends with the response: its status from the response status,
//! `internal_error` when no response came. Outside a request nothing is
//! added.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use lookout_core::{Engine, RequestHead};
//! use reqwest_middleware::ClientBuilder;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // A callee that echoes the `sentry-trace` it received.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let url = format!("http://{}/", listener.local_addr().unwrap());
//! tokio::spawn(async move {
//!     let app = axum::Router::new().route("/", axum::routing::get(|headers: HeaderMap| async move {
//!         headers.get("sentry-trace").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
//!     }));
//!     axum::serve(listener, app).await.unwrap();
//! });
//!
//! // Build the client once, with the middleware.
//! let client = ClientBuilder::new(reqwest::Client::new())
//!     .with(lookout_reqwest::Propagate::default())
//!     .build();
//!
//! // Inside a request (an adapter binds it to the handler's future):
//! let in_flight = Engine::builder().build().begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
//! let trace_id = in_flight.context().trace().trace_id.to_string();
//! let seen = in_flight
//!     .context()
//!     .bind(async { client.get(&url).send().await.unwrap().text().await.unwrap() })
//!     .await;
//! assert!(seen.starts_with(&trace_id), "the callee continues the trace: {seen}");
//!
//! // Outside a request: nothing extra is sent.
//! let seen = client.get(&url).send().await.unwrap().text().await.unwrap();
//! assert_eq!(seen, "");
//! # drop(in_flight);
//! # });
//! ```
//!
//! With the facade: `lookout::reqwest::Propagate` (feature `reqwest`).
//! Clients other than reqwest use [`lookout_core::OutgoingCall`] directly.
//!
//! # Supported Rust versions
//!
//! The workspace MSRV (Rust 1.89).

use http::Extensions;
use reqwest_middleware::{Middleware, Next, Result};

/// The `origin` of the spans this middleware records.
pub const ORIGIN: &str = "auto.http.reqwest";

/// The middleware: `ClientBuilder::new(client).with(Propagate::default())`.
/// See the [crate docs](crate).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Propagate;

impl Propagate {
    /// The middleware.
    ///
    /// ```
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(lookout_reqwest::Propagate::new())
    ///     .build();
    /// # let _ = client;
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

#[async_trait::async_trait]
impl Middleware for Propagate {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        let method = request.method().clone();
        let url = request.url().clone();
        let call =
            lookout_core::inject_headers(method.as_str(), url.as_str(), request.headers_mut());
        if let Some(call) = &call {
            call.set_origin(ORIGIN);
        }
        let response = next.run(request, extensions).await;
        if let Some(call) = call {
            match &response {
                Ok(response) => call.finish(response.status()),
                Err(_) => call.fail(),
            }
        }
        response
    }
}
