//! [`LookoutLayer`]: the options of the middleware, and the three ways to
//! put it in front of a warp filter.

use lookout_core::toolkit::EngineHandle;
use tower_layer::Layer;
use warp::{Filter, Rejection, Reply};

use crate::FilterError;
use crate::server::Server;
use crate::service::Lookout;

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
pub struct LookoutLayer {
    pub(crate) engine: EngineHandle,
    pub(crate) catch_panics: bool,
}

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
    LookoutLayer {
        engine: EngineHandle::global(ORIGIN),
        catch_panics: true,
    }
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
        Self {
            engine: EngineHandle::given(engine, ORIGIN),
            catch_panics: true,
        }
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
    pub fn catch_panics(mut self, on: bool) -> Self {
        self.catch_panics = on;
        self
    }

    /// A server for `filter` with lookout in front: the drop-in for
    /// `warp::serve(filter)` (see [`serve`](crate::serve())).
    ///
    /// ```
    /// use warp::Filter;
    ///
    /// let engine = lookout_core::Engine::builder().build();
    /// let server = lookout_warp::LookoutLayer::new(engine).serve(warp::any().map(|| "ok"));
    /// # let _ = server;
    /// ```
    pub fn serve<F, R>(&self, filter: F) -> Server<F>
    where
        F: Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
        F::Error: FilterError,
        R: Reply,
    {
        Server::new(self.clone(), filter)
    }

    /// `filter` instrumented, as a filter `warp::serve` accepts (see
    /// [`wrap`](crate::wrap())).
    ///
    /// ```
    /// use warp::Filter;
    ///
    /// let engine = lookout_core::Engine::builder().build();
    /// let app = lookout_warp::LookoutLayer::new(engine).wrap(warp::any().map(|| "ok"));
    /// let server = warp::serve(app);
    /// # let _ = server;
    /// ```
    pub fn wrap<F, R>(
        &self,
        filter: F,
    ) -> impl Filter<Extract = (impl Reply + use<F, R>,), Error = Rejection>
    + Clone
    + Send
    + Sync
    + 'static
    + use<F, R>
    where
        F: Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
        F::Error: FilterError,
        R: Reply,
    {
        crate::wrap::wrap(self, filter)
    }
}

impl<S> Layer<S> for LookoutLayer {
    type Service = Lookout<S>;

    fn layer(&self, inner: S) -> Lookout<S> {
        Lookout::from_parts(inner, self.engine.clone(), self.catch_panics)
    }
}
