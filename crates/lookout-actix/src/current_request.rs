//! [`CurrentRequest`]: the extractor for the request lookout is handling.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

lookout_core::adapter_current_request! {
    /// The request lookout is handling: its id, its trace, and the user it acts
    /// for ([`lookout_core::toolkit::CurrentRequest`], whose methods it
    /// dereferences to). Extract it in handlers and in `middleware::from_fn`
    /// middleware registered inside lookout (for example right after
    /// authentication, to identify the user).
    ///
    /// ```
    /// use actix_web::body::MessageBody;
    /// use actix_web::dev::{ServiceRequest, ServiceResponse};
    /// use actix_web::middleware::{Next, from_fn};
    /// use actix_web::{App, Error, web};
    /// use lookout_actix::{CurrentRequest, User};
    ///
    /// async fn auth(
    ///     current: CurrentRequest,
    ///     request: ServiceRequest,
    ///     next: Next<impl MessageBody>,
    /// ) -> Result<ServiceResponse<impl MessageBody>, Error> {
    ///     // ... after checking the session:
    ///     current.identify(User::id("42").role("admin"));
    ///     next.call(request).await
    /// }
    ///
    /// async fn me(current: CurrentRequest) -> String {
    ///     format!("request {} in trace {}", current.request_id(), current.trace_id())
    /// }
    ///
    /// let app = App::new()
    ///     .route("/me", web::get().to(me))
    ///     .wrap(from_fn(auth)) // inside lookout: registered first
    ///     .wrap(lookout_actix::layer());
    /// # let _ = app;
    /// ```
    ///
    /// Without the lookout middleware in front, extraction fails with a `500`
    /// ([`NotInstrumented`]); extract `Option<CurrentRequest>` to tolerate that.
    crate: "lookout_actix",
    /// [`CurrentRequest`] was extracted where no lookout middleware handles
    /// the request; answered with a `500` naming the missing middleware.
    NotInstrumented: "lookout_actix::CurrentRequest needs the lookout middleware in front of this route: \
         add `.wrap(lookout_actix::layer())` to the App",
}

impl FromRequest for CurrentRequest {
    type Error = NotInstrumented;
    type Future = Ready<Result<Self, NotInstrumented>>;

    fn from_request(_req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // The middleware binds the request's context to every poll of the
        // service below it, extractors included. It learns the route from
        // the response (or looks it up when something inside needs it
        // first): no `RouteLearner` here.
        ready(Self::get().ok_or(NotInstrumented))
    }
}

impl ResponseError for NotInstrumented {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::InternalServerError().body(self.to_string())
    }
}
