//! [`LookoutLayer`]: the options of the middleware (lookout-core's
//! [`MiddlewareOptions`](lookout_core::toolkit::MiddlewareOptions), defined by
//! `lookout_core::adapter_layer!`) and the `tower::Layer` that applies it.

use lookout_core::toolkit::HttpService;
use tower_layer::Layer;

use crate::service::Lookout;

/// The `origin` lookout-axum gives its transactions.
pub const ORIGIN: &str = "auto.http.axum";

lookout_core::adapter_layer! {
    /// The lookout middleware for an axum `Router` or any tower service over
    /// `http` 1.x requests: `.layer(lookout_axum::layer())`.
    ///
    /// See the [crate docs](crate) for where to put it.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use lookout_axum::LookoutLayer;
    ///
    /// let engine = lookout_core::Engine::builder().build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(LookoutLayer::new(engine).catch_panics(true));
    /// # let _ = app;
    /// ```
    crate: "lookout_axum",
    origin: ORIGIN,
    /// The layer with the process-wide engine (the one `lookout::init()`
    /// installed, looked up at the first request) and default options.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    ///
    /// let app: Router = Router::new()
    ///     .route("/users/{id}", get(|| async { "ada" }))
    ///     .layer(lookout_axum::layer());
    /// # let _ = app;
    /// ```
    fn layer;
}

impl<S> Layer<S> for LookoutLayer {
    type Service = Lookout<S>;

    fn layer(&self, inner: S) -> Lookout<S> {
        HttpService::new(inner, self.0.clone())
    }
}
