//! [`LookoutLayer`]: the options of the middleware (lookout-core's
//! [`MiddlewareOptions`](lookout_core::toolkit::MiddlewareOptions), defined by
//! `lookout_core::adapter_layer!`) and the actix `Transform` that applies it (actix's
//! word for a layer).

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};

use crate::{Lookout, ResponseBody};

/// The `origin` lookout-actix gives its transactions.
pub const ORIGIN: &str = "auto.http.actix";

lookout_core::adapter_layer! {
    /// The lookout middleware for an actix-web `App` (or a scope or resource):
    /// `.wrap(lookout_actix::layer())`.
    ///
    /// [`layer()`] (or `LookoutLayer::default()`) uses the process-wide engine
    /// (the one `lookout::init()` installed, looked up at the first request);
    /// [`LookoutLayer::new`] takes an explicit one. See the [crate docs](crate)
    /// for where to put it.
    ///
    /// ```
    /// use actix_web::{App, web};
    /// use lookout_actix::LookoutLayer;
    ///
    /// let engine = lookout_core::Engine::builder().build();
    /// let app = App::new()
    ///     .route("/", web::get().to(|| async { "hello" }))
    ///     .wrap(LookoutLayer::new(engine).catch_panics(true));
    /// # let _ = app;
    /// ```
    crate: "lookout_actix",
    origin: ORIGIN,
    /// The middleware with the process-wide engine (the one `lookout::init()`
    /// installed, looked up at the first request) and default options.
    ///
    /// ```
    /// use actix_web::{App, web};
    ///
    /// let app = App::new()
    ///     .route("/users/{id}", web::get().to(|| async { "ada" }))
    ///     .wrap(lookout_actix::layer());
    /// # let _ = app;
    /// ```
    fn layer;
}

impl<S, B> Transform<S, ServiceRequest> for LookoutLayer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<ResponseBody<B>>;
    type Error = Error;
    type Transform = Lookout<S>;
    type InitError = ();
    type Future = Ready<Result<Lookout<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(Lookout::new(service, self.0.clone())))
    }
}
