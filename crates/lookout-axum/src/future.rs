//! [`ResponseFuture`]: runs the inner service's future with the request's
//! context bound, catches its panic, and finishes the request when the
//! response head is ready.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use lookout_core::{Finished, InFlight, ResponseHead};
use lookout_scope::Bound;

use crate::body::ResponseBody;
use crate::reported::ReportedError;
use crate::service::LearnedRoute;

pin_project_lite::pin_project! {
    /// The response future of [`Lookout`](crate::Lookout).
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Instrumented {
            #[pin]
            future: Bound<F>,
            state: Option<State>,
        },
        // An outer lookout layer instruments the request.
        Passthrough {
            #[pin]
            future: F,
        },
        // The inner service panicked in `call`, before there was a future.
        Panicked {
            state: Option<State>,
            message: String,
        },
    }
}

struct State {
    in_flight: InFlight,
    span: tracing::Span,
    route_known: bool,
    catch_panics: bool,
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Instrumented { .. } => "instrumented",
            Kind::Passthrough { .. } => "passthrough",
            Kind::Panicked { .. } => "panicked",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn instrumented(
        future: Bound<F>,
        in_flight: InFlight,
        route_known: bool,
        catch_panics: bool,
    ) -> Self {
        let span = in_flight.tracing_span();
        Self {
            kind: Kind::Instrumented {
                future,
                state: Some(State {
                    in_flight,
                    span,
                    route_known,
                    catch_panics,
                }),
            },
        }
    }

    pub(crate) fn passthrough(future: F) -> Self {
        Self {
            kind: Kind::Passthrough { future },
        }
    }

    pub(crate) fn panicked(in_flight: InFlight, payload: Box<dyn std::any::Any + Send>) -> Self {
        let span = in_flight.tracing_span();
        Self {
            kind: Kind::Panicked {
                state: Some(State {
                    in_flight,
                    span,
                    route_known: true,
                    catch_panics: true,
                }),
                message: lookout_classify::panic_message(payload.as_ref()).to_owned(),
            },
        }
    }
}

const POLLED_AFTER_READY: &str = "lookout_axum::ResponseFuture polled after it completed";

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Passthrough { future } => future
                .poll(cx)
                .map(|result| result.map(|response| response.map(ResponseBody::plain))),
            KindProj::Panicked { state, message } => {
                let state = state.take().expect(POLLED_AFTER_READY);
                Poll::Ready(Ok(panicked(state, message)))
            }
            KindProj::Instrumented { future, state } => {
                let current = state.as_ref().expect(POLLED_AFTER_READY);
                let polled = {
                    let _span = current.span.enter();
                    if current.catch_panics {
                        future.in_context(|inner| catch_unwind(AssertUnwindSafe(|| inner.poll(cx))))
                    } else {
                        Ok(future.poll(cx))
                    }
                };
                let result = match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(result)) => result,
                    Err(payload) => {
                        let state = state.take().expect(POLLED_AFTER_READY);
                        let message = lookout_classify::panic_message(payload.as_ref());
                        return Poll::Ready(Ok(panicked(state, message)));
                    }
                };
                let state = state.take().expect(POLLED_AFTER_READY);
                // An `Err` means no response is sent at all: dropping the
                // request in flight ends it as cancelled.
                Poll::Ready(result.map(|response| finish(state, response)))
            }
        }
    }
}

/// Classifies the response, adds lookout's headers and binds the body.
fn finish<B: http_body::Body>(state: State, response: Response<B>) -> Response<ResponseBody<B>> {
    let State {
        in_flight,
        span,
        route_known,
        ..
    } = state;
    let _span = span.enter();
    let (mut parts, body) = response.into_parts();
    let reported = parts.extensions.remove::<ReportedError>();
    let learned = if route_known {
        None
    } else {
        in_flight.context().extension::<LearnedRoute>()
    };
    let mut head = ResponseHead::new(parts.status);
    if let Some(learned) = &learned {
        head = head.with_route(learned.0.as_str());
    }
    let finished = match &reported {
        Some(reported) => in_flight.finish_typed(&head, Some(reported.error()), None),
        None => in_flight.finish(&head, None, None),
    };
    let end = set_headers(&mut parts.headers, finished);
    let body = if http_body::Body::is_end_stream(&body) {
        // hyper never polls a body that is already at its end.
        end.complete();
        ResponseBody::plain(body)
    } else {
        ResponseBody::bound(body, end)
    };
    Response::from_parts(parts, body)
}

/// The empty `500` a panic is answered with.
fn panicked<B>(state: State, message: &str) -> Response<ResponseBody<B>> {
    let _span = state.span.enter();
    let finished = state.in_flight.finish(
        &ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR),
        None,
        Some(message),
    );
    let mut response = Response::new(ResponseBody::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    set_headers(response.headers_mut(), finished).complete();
    response
}

/// Adds `Finished::headers` to the response (`x-request-id` replaces one the
/// handler set; `server-timing` is appended to the handler's own entries).
fn set_headers(headers: &mut HeaderMap, finished: Finished) -> lookout_core::BodyEnd {
    for (name, value) in finished.headers.iter() {
        // Core validated or generated every value; a failed conversion can
        // only drop a header, never send an unvalidated one.
        let Ok(value) = HeaderValue::from_str(value) else {
            continue;
        };
        if name == lookout_core::head::names::SERVER_TIMING {
            headers.append(HeaderName::from_static(name), value);
        } else {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    finished.body
}
