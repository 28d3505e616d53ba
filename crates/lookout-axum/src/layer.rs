//! [`LookoutLayer`]: the options of the middleware (lookout-core's
//! [`MiddlewareOptions`]) and the `tower::Layer` that applies it.

use lookout_core::toolkit::{HttpService, MiddlewareOptions};
use tower_layer::Layer;

use crate::service::Lookout;

/// The `origin` lookout-axum gives its transactions.
pub const ORIGIN: &str = "auto.http.axum";

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
#[derive(Clone, Debug)]
#[must_use]
pub struct LookoutLayer(MiddlewareOptions);

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
pub fn layer() -> LookoutLayer {
    LookoutLayer(MiddlewareOptions::global(ORIGIN))
}

impl Default for LookoutLayer {
    fn default() -> Self {
        layer()
    }
}

impl LookoutLayer {
    /// A layer with this engine (tests pass one with a capturing client).
    /// Its transactions say [`ORIGIN`] unless the engine was built with an
    /// origin of its own.
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// let layer = lookout_axum::LookoutLayer::new(engine);
    /// # let _ = layer;
    /// ```
    pub fn new(engine: lookout_core::Engine) -> Self {
        Self(MiddlewareOptions::given(engine, ORIGIN))
    }

    /// Whether a panic in the inner service is caught, captured and answered
    /// with an empty `500` (default: true). Turn it off when another layer
    /// (such as `tower_http::catch_panic`) outside this one handles panics:
    /// the request then ends as cancelled and the panic is not captured here.
    ///
    /// ```
    /// let layer = lookout_axum::layer().catch_panics(false);
    /// # let _ = layer;
    /// ```
    pub fn catch_panics(self, on: bool) -> Self {
        Self(self.0.catch_panics(on))
    }
}

impl<S> Layer<S> for LookoutLayer {
    type Service = Lookout<S>;

    fn layer(&self, inner: S) -> Lookout<S> {
        HttpService::new(inner, self.0.clone())
    }
}
