//! [`serve`] and [`Server`]: `warp::serve` with lookout in front of the
//! filter.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_layer::Layer;
use tower_service::Service;
use warp::{Filter, Reply};

use crate::remote_addr::PeerAddr;
use crate::{FilterError, LookoutLayer};

/// Serves `filter` with lookout in front (the process-wide engine): the
/// drop-in for `warp::serve(filter)`, with warp's own connection handling
/// (HTTP/1 and HTTP/2 on one port, upgrades such as websockets, graceful
/// shutdown) and no cost beyond lookout's own. The recommended way to run a
/// warp app with lookout; see the [crate docs](crate) for the alternatives.
///
/// ```no_run
/// use warp::Filter;
///
/// # async fn run() -> std::io::Result<()> {
/// let routes = warp::path!("users" / u32)
///     .and(lookout_warp::route("/users/{id}"))
///     .map(|id| format!("user {id}"));
/// lookout_warp::serve(routes).run(([127, 0, 0, 1], 3030)).await
/// # }
/// ```
pub fn serve<F, R>(filter: F) -> Server<F>
where
    F: Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
    F::Error: FilterError,
    R: Reply,
{
    crate::layer().serve(filter)
}

impl LookoutLayer {
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
        Server {
            layer: self.clone(),
            filter,
            shutdown: None,
        }
    }
}

/// A warp filter served with lookout in front; made by [`serve`] or
/// [`LookoutLayer::serve`].
#[must_use = "a server does nothing until `run` or `run_incoming` is awaited"]
pub struct Server<F> {
    layer: LookoutLayer,
    filter: F,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<F> std::fmt::Debug for Server<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("layer", &self.layer)
            .field("graceful", &self.shutdown.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, R> Server<F>
where
    F: Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
    F::Error: FilterError,
    R: Reply,
{
    /// Stops accepting connections when `signal` completes, then lets the
    /// requests in flight finish (their bodies included) before `run`
    /// returns.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// use warp::Filter;
    ///
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let server = lookout_warp::serve(warp::any().map(|| "ok"))
    ///     .graceful(async {
    ///         let _ = stopped.await;
    ///     })
    ///     .run_incoming(listener);
    /// // ... later, from a signal handler: `stop.send(())`.
    /// # drop(stop);
    /// server.await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn graceful(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Binds `addr` and serves until the [`graceful`](Self::graceful) signal
    /// (or forever). Unlike warp's `run`, a failure to bind is returned,
    /// not a panic.
    pub async fn run(self, addr: impl Into<SocketAddr>) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr.into()).await?;
        self.run_incoming(listener).await;
        Ok(())
    }

    /// Serves the connections `listener` accepts, until the
    /// [`graceful`](Self::graceful) signal (or forever).
    pub async fn run_incoming(self, listener: TcpListener) {
        let service = self
            .layer
            .layer(warp::service(F::Error::rejecting(self.filter)));
        let mut signal = self
            .shutdown
            .unwrap_or_else(|| Box::pin(std::future::pending()));
        let graceful = GracefulShutdown::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        accept_failed(error).await;
                        continue;
                    }
                },
                () = &mut signal => break,
            };
            let service = service.clone();
            // One service per request, as hyper-util's tower adapter clones it.
            let service = hyper::service::service_fn(
                move |mut request: http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(PeerAddr(peer));
                    service.clone().call(request)
                },
            );
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                let connection =
                    builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                if let Err(error) = watcher.watch(connection).await {
                    tracing::debug!(target: "lookout_warp", %error, "connection error");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
    }
}

/// As warp does: connection errors surface at `accept` and are no reason to
/// stop; others (out of file descriptors) are logged, then accepting pauses.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        tracing::error!(target: "lookout_warp", %error, "accept error");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
