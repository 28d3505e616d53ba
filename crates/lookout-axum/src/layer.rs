//! [`LookoutLayer`]: the options of the middleware and the `tower::Layer`
//! that applies it.

use std::sync::{Arc, OnceLock};

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
/// let lookout = lookout_core::Lookout::builder().origin(lookout_axum::ORIGIN).build();
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(LookoutLayer::new(lookout).catch_panics(true));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct LookoutLayer {
    engine: Engine,
    catch_panics: bool,
}

/// The engine a layer uses: given, or the process-wide one looked up at the
/// first request (so `layer()` may be built before `lookout::init()` runs).
#[derive(Clone, Debug)]
pub(crate) enum Engine {
    Given(lookout_core::Lookout),
    Global(Arc<OnceLock<lookout_core::Lookout>>),
}

impl Engine {
    pub(crate) fn get(&self) -> &lookout_core::Lookout {
        match self {
            Engine::Given(lookout) => lookout,
            Engine::Global(cell) => {
                cell.get_or_init(|| lookout_core::Lookout::global().with_origin(ORIGIN))
            }
        }
    }
}

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
    LookoutLayer {
        engine: Engine::Global(Arc::new(OnceLock::new())),
        catch_panics: true,
    }
}

impl Default for LookoutLayer {
    fn default() -> Self {
        layer()
    }
}

impl LookoutLayer {
    /// A layer with this engine (tests pass one with a capturing client; give
    /// it the origin [`ORIGIN`] if you want transactions to say axum).
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder().origin(lookout_axum::ORIGIN).build();
    /// let layer = lookout_axum::LookoutLayer::new(lookout);
    /// # let _ = layer;
    /// ```
    pub fn new(lookout: lookout_core::Lookout) -> Self {
        Self {
            engine: Engine::Given(lookout),
            catch_panics: true,
        }
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
    pub fn catch_panics(mut self, on: bool) -> Self {
        self.catch_panics = on;
        self
    }
}

impl<S> Layer<S> for LookoutLayer {
    type Service = Lookout<S>;

    fn layer(&self, inner: S) -> Lookout<S> {
        Lookout::from_parts(inner, self.engine.clone(), self.catch_panics)
    }
}
