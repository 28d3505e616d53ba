//! [`LookoutLayer`]: the options of the middleware (lookout-core's
//! [`MiddlewareOptions`]), and the three ways to put it in front of a warp
//! filter.

use crate::service::Lookout;
use lookout_core::toolkit::{HttpService, MiddlewareOptions};
use tower_layer::Layer;

/// The `origin` lookout-warp gives its transactions.
pub const ORIGIN: &str = "auto.http.warp";

/// The lookout middleware for a warp filter: its engine and options, and
/// how it runs the filter.
///
/// - [`serve`](Self::serve): serves the filter with lookout in front
///   (`warp::serve`'s connection handling);
/// - [`wrap`](Self::wrap): a filter for `warp::serve`;
/// - as a `tower::Layer` around `warp::service(filter)` (or any tower service
///   over `http` 1.x requests), for your own hyper server.
///
/// See the [crate docs](crate) for how the three compare.
///
/// ```
/// use warp::Filter;
/// use lookout_warp::LookoutLayer;
///
/// let engine = lookout_core::Engine::builder().build();
/// let routes = warp::path!("hello").map(|| "hello");
/// let server = LookoutLayer::new(engine).catch_panics(true).serve(routes);
/// # let _ = server;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct LookoutLayer(MiddlewareOptions);

/// The middleware with the process-wide engine (the one `lookout::init()`
/// installed, looked up at the first request) and default options.
///
/// ```
/// use warp::Filter;
///
/// let routes = warp::path!("users" / u32).map(|id| format!("user {id}"));
/// let service = tower_layer::Layer::layer(&lookout_warp::layer(), warp::service(routes));
/// # let _ = service;
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
    /// The middleware with this engine (tests pass one with a capturing
    /// client). Its transactions say [`ORIGIN`] unless the engine was built
    /// with an origin of its own.
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// let layer = lookout_warp::LookoutLayer::new(engine);
    /// # let _ = layer;
    /// ```
    pub fn new(engine: lookout_core::Engine) -> Self {
        Self(MiddlewareOptions::given(engine, ORIGIN))
    }

    /// Whether a panic in a filter or handler is caught, captured and
    /// answered with an empty `500` (default: true). Turned off, a panic
    /// unwinds as it would without lookout and the request ends as
    /// cancelled.
    ///
    /// ```
    /// let layer = lookout_warp::layer().catch_panics(false);
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
