//! The per-framework part of the scenario suite: start the scenario app,
//! instrumented by a given lookout engine, on a loopback port.

use std::net::SocketAddr;

/// One framework adapter under test.
///
/// `serve` starts, on `127.0.0.1:0`, an app with these routes (each calls
/// into [`crate::app`]) behind the adapter's middleware built from
/// `lookout`:
///
/// | route | behaviour |
/// |---|---|
/// | `GET /echo` | 200, body `app::echo()` |
/// | `GET /users/{id}` | 200, body `app::echo()` (the route template names it) |
/// | `GET /identify/{id}?role=R` | `app::identify(id, role).await`, answered 500 with that body |
/// | `GET /missing/{id}` | 404 whose streamed body calls `app::probe()` when first polled |
/// | `GET /db` | fails with `app::DbError` through the framework's typed-error path, 503 |
/// | `GET /panic` | panics |
/// | `GET /call?url=U` | 200, body `app::call(U).await` |
/// | anything else | the framework's own 404 |
pub trait Harness {
    /// The framework's name in test output.
    const NAME: &'static str;

    /// Starts the app (called inside a multi-threaded tokio runtime).
    fn serve(lookout: lookout_core::Lookout) -> impl std::future::Future<Output = Server> + Send;
}

/// A running app; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub _stop: Box<dyn Send + Sync>,
}
