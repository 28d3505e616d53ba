//! [`begin`] and [`Instrumented`]: a request's handler future, run inside
//! the request.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::StatusCode;
use lookout_scope::Bound;

use super::RouteLearner;
use crate::head::Headers;
use crate::{Engine, InFlight, RequestHead, ResponseHead, ResponseHeaders};

/// Begins `head` on `engine`, or returns `None` when the request is
/// instrumented already and the middleware must pass it through:
///
/// - `learner` is the [`RouteLearner`] an outer lookout middleware (outside
///   routing) left in the request's extensions: it learns `head`'s route;
/// - or the call runs inside a request already (an outer middleware that
///   knew the route, or a lookout-instrumented service called in-process from
///   a handler): that request is the one being handled.
///
/// ```
/// use http::HeaderMap;
/// use lookout_core::{Engine, RequestHead, toolkit};
///
/// let engine = Engine::builder().build();
/// let headers = HeaderMap::new();
/// let head = RequestHead::new("GET", "/users/7", &headers);
/// let outer = toolkit::begin(&engine, &head, None).expect("a new request");
/// // Inside it, a second middleware passes through.
/// outer.context().enter(|| assert!(toolkit::begin(&engine, &head, None).is_none()));
/// # drop(outer);
/// ```
pub fn begin<H: Headers + ?Sized>(
    engine: &Engine,
    head: &RequestHead<'_, H>,
    learner: Option<&RouteLearner>,
) -> Option<InFlight> {
    if let Some(learner) = learner {
        learner.learn(head.route());
        return None;
    }
    if lookout_scope::current().is_some() {
        return None;
    }
    Some(engine.begin(head))
}

/// Finishes a request whose handler panicked, with the panic captured
/// (`error_type=panic`) and status 500, and ends its transaction: the
/// adapter answers an empty `500` with the returned headers.
///
/// ```
/// use lookout_core::{Engine, RequestHead, toolkit};
///
/// let engine = Engine::builder().build();
/// let in_flight = engine.begin(&RequestHead::new("GET", "/", &http::HeaderMap::new()));
/// let headers = toolkit::finish_panicked(in_flight, "boom");
/// assert_eq!(headers.iter().next().unwrap().0, "x-request-id");
/// ```
pub fn finish_panicked(in_flight: InFlight, message: &str) -> ResponseHeaders {
    let finished =
        in_flight.finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR).with_panic(message));
    finished.body.complete();
    finished.headers
}

/// How an adapter turns its inner service's output into its own: the
/// framework-specific half of [`Instrumented`].
///
/// [`HttpResponder`](super::HttpResponder) is the one for `http::Response`
/// results; an adapter for a framework with its own response type implements
/// this (reading the status and the [`ReportedError`](super::ReportedError),
/// calling [`InFlight::finish`], adding the headers, wrapping the body).
pub trait Respond<T> {
    /// The adapter's response type.
    type Output;

    /// The handler answered `output`: finish `in_flight` with it. Called with
    /// the request's span entered.
    fn respond(self, output: T, in_flight: InFlight) -> Self::Output;

    /// The handler panicked: answer an empty `500`, typically with the
    /// headers [`finish_panicked`] returns.
    fn panicked(self, in_flight: InFlight, message: &str) -> Self::Output;

    /// The request is instrumented by an outer middleware: only convert.
    fn passthrough(self, output: T) -> Self::Output;
}

pin_project_lite::pin_project! {
    /// The inner service's future, run inside its request: the request's
    /// context is current and its `tracing` span entered on every poll; a
    /// panic (in the call or in a poll) is caught and finishes the request
    /// as a 500; the output is handed to a [`Respond`] once.
    ///
    /// Dropped before it completes (client gone, timeout), the request ends
    /// as cancelled.
    pub struct Instrumented<F, R> {
        #[pin]
        state: State<F, R>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, R> {
        Running {
            #[pin]
            future: Bound<F>,
            request: Option<Request<R>>,
        },
        Passthrough {
            #[pin]
            future: F,
            respond: Option<R>,
        },
        // The inner service panicked in `call`, before there was a future.
        Panicked {
            request: Option<Request<R>>,
            message: String,
        },
    }
}

struct Request<R> {
    in_flight: InFlight,
    span: tracing::Span,
    respond: R,
    catch_panics: bool,
}

impl<F, R> std::fmt::Debug for Instrumented<F, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Running { .. } => "running",
            State::Passthrough { .. } => "passthrough",
            State::Panicked { .. } => "panicked",
        };
        f.debug_struct("Instrumented")
            .field("state", &state)
            .finish()
    }
}

const POLLED_AFTER_READY: &str = "lookout_core::toolkit::Instrumented polled after it completed";

impl<F, R> Instrumented<F, R> {
    /// Runs `call` (the inner service's `call`) inside the request, catching
    /// its panic when `catch_panics`, and instruments the future it returns.
    ///
    /// With `catch_panics` off a panic unwinds through the adapter as it
    /// would without lookout (another layer handles it); the request then
    /// ends as cancelled.
    pub fn call(
        in_flight: InFlight,
        respond: R,
        catch_panics: bool,
        call: impl FnOnce() -> F,
    ) -> Self {
        let ctx = in_flight.context().clone();
        let called = if catch_panics {
            ctx.enter(|| catch_unwind(AssertUnwindSafe(call)))
        } else {
            Ok(ctx.enter(call))
        };
        // Made inside the request: a filter deciding on the current request
        // (lookout's database spans want it only when sampled) sees it.
        let span = ctx.enter(|| in_flight.tracing_span());
        let request = Request {
            in_flight,
            span,
            respond,
            catch_panics,
        };
        let state = match called {
            Ok(future) => State::Running {
                future: ctx.bind(future),
                request: Some(request),
            },
            Err(payload) => State::Panicked {
                request: Some(request),
                message: lookout_classify::panic_message(payload.as_ref()).to_owned(),
            },
        };
        Self { state }
    }

    /// A future of a request an outer middleware instruments: polled as it
    /// is, its output converted by [`Respond::passthrough`].
    pub fn passthrough(future: F, respond: R) -> Self {
        Self {
            state: State::Passthrough {
                future,
                respond: Some(respond),
            },
        }
    }
}

impl<F, R> Future for Instrumented<F, R>
where
    F: Future,
    R: Respond<F::Output>,
{
    type Output = R::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R::Output> {
        match self.project().state.project() {
            StateProj::Passthrough { future, respond } => {
                let output = std::task::ready!(future.poll(cx));
                Poll::Ready(
                    respond
                        .take()
                        .expect(POLLED_AFTER_READY)
                        .passthrough(output),
                )
            }
            StateProj::Panicked { request, message } => {
                let request = request.take().expect(POLLED_AFTER_READY);
                let _span = request.span.enter();
                Poll::Ready(request.respond.panicked(request.in_flight, message))
            }
            StateProj::Running { future, request } => {
                let current = request.as_ref().expect(POLLED_AFTER_READY);
                let polled = {
                    let _span = current.span.enter();
                    if current.catch_panics {
                        future.in_context(|inner| catch_unwind(AssertUnwindSafe(|| inner.poll(cx))))
                    } else {
                        Ok(future.poll(cx))
                    }
                };
                let output = match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(output)) => Ok(output),
                    Err(payload) => Err(payload),
                };
                let request = request.take().expect(POLLED_AFTER_READY);
                let _span = request.span.enter();
                Poll::Ready(match output {
                    Ok(output) => request.respond.respond(output, request.in_flight),
                    Err(payload) => request.respond.panicked(
                        request.in_flight,
                        lookout_classify::panic_message(payload.as_ref()),
                    ),
                })
            }
        }
    }
}
