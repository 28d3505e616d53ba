//! [`LookoutLayer`]: the options of the middleware (lookout-core's
//! [`MiddlewareOptions`](lookout_core::toolkit::MiddlewareOptions), defined by
//! `lookout_core::adapter_layer!`), and the three ways to put it in front of a warp
//! filter.

use crate::service::Lookout;
use lookout_core::toolkit::HttpService;
use tower_layer::Layer;

/// The `origin` lookout-warp gives its transactions.
pub const ORIGIN: &str = "auto.http.warp";

lookout_core::adapter_layer! {
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
    crate: "lookout_warp",
    origin: ORIGIN,
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
    fn layer;
}

impl<S> Layer<S> for LookoutLayer {
    type Service = Lookout<S>;

    fn layer(&self, inner: S) -> Lookout<S> {
        HttpService::new(inner, self.0.clone())
    }
}
