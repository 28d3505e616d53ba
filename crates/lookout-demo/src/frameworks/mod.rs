//! One module per framework, each serving the same routes (see
//! [`crate::routes`]) with the same middleware: lookout's layer, the demo
//! authentication, and (for the tour only) the journal.
//!
//! Adding a framework = one module here with a `serve` function, plus its
//! name in [`Framework::is_available`](crate::cli::Framework::is_available).

use std::future::Future;

use tokio::net::TcpListener;

use crate::cli::Framework;
use crate::journal::Journal;
use crate::routes::Orders;

pub(crate) mod actix;
pub(crate) mod axum;
pub(crate) mod warp;

/// How an instance of the demo service is set up.
#[derive(Clone, Debug)]
pub(crate) struct App {
    /// `false` for `--plain`: the same routes without lookout at all.
    pub(crate) lookout: bool,
    /// The tour's record of requests (never in `serve`).
    pub(crate) journal: Option<Journal>,
    /// The HTTP client `/hop` calls other services with.
    pub(crate) client: reqwest_middleware::ClientWithMiddleware,
    /// `GET /orders/{id}`'s database, seeded when the instance starts.
    pub(crate) orders: Orders,
}

impl App {
    pub(crate) async fn new(lookout: bool, journal: Option<Journal>) -> Result<Self, String> {
        Ok(Self {
            lookout,
            journal,
            client: outgoing_client(lookout),
            orders: Orders::seeded().await?,
        })
    }
}

/// The client `/hop` calls other services with: with lookout's `reqwest`
/// middleware (a span and trace headers per call), or plain for `--plain`.
fn outgoing_client(lookout: bool) -> reqwest_middleware::ClientWithMiddleware {
    let builder = reqwest_middleware::ClientBuilder::new(reqwest::Client::new());
    if lookout {
        builder.with(lookout::reqwest::Propagate::default()).build()
    } else {
        builder.build()
    }
}

/// Serves `app` with `framework` on `listener` until `shutdown` completes,
/// then finishes the requests in flight.
pub(crate) async fn serve(
    framework: Framework,
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match framework {
        Framework::Axum => axum::serve(listener, app, shutdown).await,
        Framework::Actix => actix::serve(listener, app, shutdown).await,
        Framework::Warp => warp::serve(listener, app, shutdown).await,
    }
}
