//! [`Lookout`]: the options of the middleware and the actix `Transform`
//! that applies it.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use lookout_core::toolkit::EngineHandle;

use crate::{LookoutMiddleware, ResponseBody};

/// The `origin` lookout-actix gives its transactions.
pub const ORIGIN: &str = "auto.http.actix";

/// The lookout middleware for an actix-web `App` (or a scope or resource):
/// `.wrap(lookout_actix::Lookout::default())`.
///
/// `Lookout::default()` uses the process-wide engine (the one
/// `lookout::init()` installed, looked up at the first request);
/// [`Lookout::new`] takes an explicit one. See the [crate docs](crate) for
/// where to put it.
///
/// ```
/// use actix_web::{App, web};
/// use lookout_actix::Lookout;
///
/// let engine = lookout_core::Engine::builder().build();
/// let app = App::new()
///     .route("/", web::get().to(|| async { "hello" }))
///     .wrap(Lookout::new(engine).catch_panics(true));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Lookout {
    engine: EngineHandle,
    catch_panics: bool,
}

impl Default for Lookout {
    /// The middleware with the process-wide engine and default options.
    ///
    /// ```
    /// use actix_web::{App, web};
    ///
    /// let app = App::new()
    ///     .route("/users/{id}", web::get().to(|| async { "ada" }))
    ///     .wrap(lookout_actix::Lookout::default());
    /// # let _ = app;
    /// ```
    fn default() -> Self {
        Self {
            engine: EngineHandle::global(ORIGIN),
            catch_panics: true,
        }
    }
}

impl Lookout {
    /// The middleware with this engine (tests pass one with a capturing
    /// client). Its transactions say [`ORIGIN`] unless the engine was built
    /// with an origin of its own.
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// let middleware = lookout_actix::Lookout::new(engine);
    /// # let _ = middleware;
    /// ```
    pub fn new(engine: lookout_core::Engine) -> Self {
        Self {
            engine: EngineHandle::given(engine, ORIGIN),
            catch_panics: true,
        }
    }

    /// Whether a panic in the inner service is caught, captured and answered
    /// with an empty `500` (default: true). Turn it off when another
    /// middleware outside this one handles panics: the request then ends as
    /// cancelled and the panic is not captured here.
    ///
    /// ```
    /// let middleware = lookout_actix::Lookout::default().catch_panics(false);
    /// # let _ = middleware;
    /// ```
    pub fn catch_panics(mut self, on: bool) -> Self {
        self.catch_panics = on;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Lookout
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<ResponseBody<B>>;
    type Error = Error;
    type Transform = LookoutMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<LookoutMiddleware<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(LookoutMiddleware::from_parts(
            service,
            self.engine.clone(),
            self.catch_panics,
        )))
    }
}
