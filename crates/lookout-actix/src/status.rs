//! The operator status route: lookout's configuration and delivery counters
//! as JSON ([`lookout_core::Status`]), built in lookout-core; this module
//! only makes it an actix-web resource.

use actix_web::{HttpResponse, Resource, web};
use lookout_core::status::STATUS_CONTENT_TYPE;
use lookout_core::{Engine, STATUS_PATH, Status};

/// A resource answering `GET /lookout/status` with the process-wide
/// engine's [`Status`] (the one `lookout::init` installed): environment,
/// release, DSN host and project id (never its keys), sample rates,
/// delivery mode, each with where it came from, and the delivery counters.
///
/// It is an operator endpoint: opt in by registering it, and keep it where
/// only operators reach it (an internal listener, or behind your auth
/// middleware).
///
/// ```
/// use actix_web::{App, web};
///
/// let app = App::new()
///     .service(web::resource("/health").get(|| async { "ok" }))
///     .service(lookout_actix::status_resource())
///     .wrap(lookout_actix::layer());
/// # let _ = app;
/// ```
pub fn status_resource() -> Resource {
    web::resource(STATUS_PATH).get(|| async { respond(&Engine::global().status()) })
}

/// [`status_resource`] reporting on `engine` instead of the global one.
///
/// ```
/// let engine = lookout_core::Engine::builder().build();
/// let app = actix_web::App::new().service(lookout_actix::status_resource_with(engine));
/// # let _ = app;
/// ```
pub fn status_resource_with(engine: Engine) -> Resource {
    web::resource(STATUS_PATH).get(move || {
        let status = engine.status();
        async move { respond(&status) }
    })
}

fn respond(status: &Status) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(STATUS_CONTENT_TYPE)
        .insert_header(("cache-control", "no-store"))
        .body(status.to_json())
}
