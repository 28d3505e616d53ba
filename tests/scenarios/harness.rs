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
/// | `GET /echo` | 200, body `app::echo()` (which logs N lines for a request id `lines-N`) |
/// | `GET /users/{id}` | 200, body `app::echo()` (the route template names it) |
/// | `GET /identify/{id}?role=R` | `app::identify(id, role).await`, answered 500 with that body |
/// | `GET /missing/{id}` | 404 whose streamed body calls `app::probe()` when first polled |
/// | `GET /db` | fails with `app::DbError` through the framework's typed-error path, 503 |
/// | `GET /orders/{id}` | 200, body `app::order(id).await`: two sqlx queries on the suite's in-memory SQLite database (seeded by `app::seed_orders()` before serving) and an `orders.lookup` metric |
/// | `GET /panic` | panics |
/// | `GET /call?url=U` | 200, body `app::call(U).await` |
/// | `GET /stream` | 200 whose body streams `app::STREAM_CHUNKS` chunks, chunk `i` being `app::chunk(i)`, each produced when polled |
/// | `GET /stall` | 200 whose body sends `app::chunk(0)`, then never ends |
/// | `GET /me?status=S` | behind an authentication middleware calling `app::authenticate(&current, authorization header)` with the framework's `CurrentRequest`; the handler extracts `CurrentRequest` too and answers `app::me(&current)` with status `S` (default 200) |
/// | `POST /jobs/welcome?user=U&fail=1` | 202, body `app::enqueue_welcome(U, fail).await` (identifies `U`, then enqueues a background job on a tokio task; it fails with `app::MailError` when `fail=1`) |
/// | `POST /submit` | reads the whole body (the framework's bytes extractor), answers 500 with `app::submitted(Some(body))` |
/// | `POST /submit/unread` | reads no body, answers 500 with `app::submitted(None)` |
/// | anything else | the framework's own 404 |
///
/// With [`Placement::OutsideRouting`] the adapter's middleware wraps the
/// app where the framework has not matched a route yet (axum: around the
/// whole `Router`), so the route template can only be learned from inside.
pub trait Harness {
    /// The framework's name in test output.
    const NAME: &'static str;

    /// Starts the app (called inside a multi-threaded tokio runtime).
    fn serve(
        engine: lookout_core::Engine,
        placement: Placement,
    ) -> impl std::future::Future<Output = Server> + Send;
}

/// Where the adapter's middleware sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Where the framework's docs put it (axum: `Router::layer` after the routes).
    Recommended,
    /// Before routing (axum: a layer around the whole `Router`); a framework
    /// whose middleware always knows the route serves as `Recommended`.
    OutsideRouting,
}

/// A running app; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub _stop: Box<dyn Send + Sync>,
}
