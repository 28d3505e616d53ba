//! [`Job`] / [`run`]: a background job as its own unit of work.

use std::borrow::Cow;
use std::error::Error;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use lookout_classify::{Outcome, tags};
use lookout_scope::{Bound, RequestContext, User};
use sentry_core::protocol::{SpanStatus, Value};
use sentry_core::{TransactionContext, TransactionOrSpan};

use super::{Carried, JOB_ID_TAG, JOB_TAG, OP};
use crate::Engine;
use crate::continuation::Continuation;
use crate::head::names;
use crate::lifecycle::open_context;

/// The method a job's outcome is classified with (jobs have none; this
/// extension method keeps them apart from requests in classifiers).
const JOB_METHOD: &str = "JOB";

/// A background job to run as its own unit of work; see the
/// [module docs](crate::job). [`run`] is the short form.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use lookout_core::job::Job;
///
/// let outcome = Job::new("rebuild-index")
///     .id("7f3a")
///     .run(async { Ok::<_, std::io::Error>(3) })
///     .await;
/// assert_eq!(outcome.unwrap(), 3);
/// # });
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Job does nothing until run"]
pub struct Job {
    name: Cow<'static, str>,
    id: Option<String>,
    carried: Option<Carried>,
    engine: Option<Engine>,
    tags: Vec<(Cow<'static, str>, String)>,
}

impl Job {
    /// A job named `name` (its transaction's name and the `job` tag).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            id: None,
            carried: None,
            engine: None,
            tags: Vec::new(),
        }
    }

    /// A tag on the job's events and transaction.
    ///
    /// ```
    /// let job = lookout_core::job::Job::new("import").tag("tenant", "acme");
    /// # let _ = job;
    /// ```
    pub fn tag(mut self, key: impl Into<Cow<'static, str>>, value: impl ToString) -> Self {
        self.tags.push((key.into(), value.to_string()));
        self
    }

    /// The job's id (the `job.id` tag), e.g. the queue message id.
    ///
    /// ```
    /// let job = lookout_core::job::Job::new("send-welcome-email").id("msg-81");
    /// # let _ = job;
    /// ```
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// What the enqueueing request carried ([`carry`](super::carry)); without
    /// it the job starts a trace of its own.
    ///
    /// ```
    /// let carried = lookout_core::job::Carried::new("771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1", None);
    /// let job = lookout_core::job::Job::new("send-welcome-email").carried(Some(carried));
    /// # let _ = job;
    /// ```
    pub fn carried(mut self, carried: Option<Carried>) -> Self {
        self.carried = carried;
        self
    }

    /// The engine to run with (default: the engine of the request `run` is
    /// called in, else [`Engine::global`], the one `lookout::init`
    /// installed).
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// let job = lookout_core::job::Job::new("nightly").engine(&engine);
    /// # let _ = job;
    /// ```
    pub fn engine(mut self, engine: &Engine) -> Self {
        self.engine = Some(engine.clone());
        self
    }

    /// Runs `future` as this job: inside its own context (bound on every
    /// poll), with its transaction, its `Err` or panic classified and
    /// captured. A panic is captured and then resumed, so the caller (a
    /// `JoinHandle`, a scheduler) sees it as it would without lookout.
    pub fn run<F, T, E>(self, future: F) -> JobFuture<F>
    where
        F: Future<Output = Result<T, E>>,
        E: Error + Send + Sync + 'static,
    {
        let engine = self
            .engine
            .clone()
            .unwrap_or_else(|| match lookout_scope::current() {
                Some(ctx) => Engine {
                    engine: crate::propagation::engine_of(&ctx),
                },
                None => Engine::global(),
            });
        let state = open_job(&engine, &self);
        JobFuture {
            future: state.ctx.bind(future),
            state: Pending(Some(state)),
        }
    }
}

/// Runs `future` as the job `name`, continuing `carried` (see [`Job`]).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sent = lookout_core::job::run("send-welcome-email", None, async {
///     Ok::<_, std::io::Error>("sent")
/// })
/// .await;
/// assert_eq!(sent.unwrap(), "sent");
/// # });
/// ```
pub fn run<F, T, E>(
    name: impl Into<Cow<'static, str>>,
    carried: Option<Carried>,
    future: F,
) -> JobFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Error + Send + Sync + 'static,
{
    Job::new(name).carried(carried).run(future)
}

/// A job in flight: its context, transaction and classifiers.
struct JobState {
    engine: Engine,
    ctx: RequestContext,
    name: Cow<'static, str>,
    transaction: Option<sentry_core::Transaction>,
    started: Instant,
}

fn open_job(engine: &Engine, job: &Job) -> JobState {
    let (name, id, carried) = (job.name.as_ref(), job.id.as_deref(), job.carried.as_ref());
    let shared = &engine.engine;
    let mut headers = HeaderMap::new();
    if let Some(carried) = carried {
        if let Ok(value) = HeaderValue::from_str(&carried.sentry_trace) {
            headers.insert(names::SENTRY_TRACE, value);
        }
        if let Some(baggage) = carried
            .baggage
            .as_deref()
            .and_then(|b| HeaderValue::from_str(b).ok())
        {
            headers.insert(names::BAGGAGE, baggage);
        }
    }
    let continuation = Continuation::from_headers(&headers, &shared.org);
    let method = Method::from_bytes(JOB_METHOD.as_bytes()).unwrap_or_default();
    let (ctx, decision) = open_context(
        shared,
        // The enqueueing request's id when it is valid, else a new one.
        lookout_headers::RequestId::from_header_or_generate(
            carried.and_then(|c| c.request_id.as_deref()),
        ),
        continuation,
        &method,
        false,
        name,
    );
    ctx.insert_extension(super::JobName(Arc::from(name)));
    let mut transaction = None;
    if ctx.hub().is_some() {
        ctx.set_tag(JOB_TAG, name);
        if let Some(id) = id {
            ctx.set_tag(JOB_ID_TAG, id);
        }
        for (key, value) in &job.tags {
            ctx.set_tag(key, value);
        }
        if decision.sampled {
            let tx = start_transaction(&ctx, name, id);
            for (key, value) in &job.tags {
                tx.set_tag(key, value);
            }
            transaction = Some(tx);
        }
    }
    if let Some(user_id) = carried.and_then(|c| c.user_id.as_deref()) {
        ctx.identify(User::id(user_id));
    }
    JobState {
        engine: engine.clone(),
        ctx,
        name: Cow::Owned(name.to_owned()),
        transaction,
        started: Instant::now(),
    }
}

fn start_transaction(
    ctx: &RequestContext,
    name: &str,
    id: Option<&str>,
) -> sentry_core::Transaction {
    let trace = ctx.trace();
    let mut tx_ctx = TransactionContext::new_with_details(
        name,
        OP,
        trace.trace_id.into(),
        Some(trace.span_id.into()),
        trace.parent_span_id.map(Into::into),
    );
    tx_ctx.set_sampled(Some(true));
    let hub = ctx.hub().cloned().unwrap_or_else(sentry_core::Hub::current);
    let transaction = hub.start_transaction(tx_ctx);
    // A request's origin names its framework; a job names lookout's queue
    // integration.
    transaction.set_origin("auto.queue.lookout");
    transaction.set_tag(JOB_TAG, name);
    if let Some(id) = id {
        transaction.set_tag(JOB_ID_TAG, id);
    }
    transaction.set_tag(tags::TRANSACTION_SOURCE, "task");
    transaction.set_data("sentry.source", Value::from("task"));
    let span: TransactionOrSpan = transaction.clone().into();
    hub.configure_scope(|scope| scope.set_span(Some(span)));
    transaction
}

impl JobState {
    /// Classifies what the job ended with (an error or a panic), captures the
    /// event when the classifiers say so, and ends the transaction.
    fn finish<E: Error + 'static>(self, error: Option<&E>, panic: Option<&str>) {
        let failed = error.is_some() || panic.is_some();
        if let Some(hub) = self.ctx.hub()
            && failed
        {
            let method = Method::from_bytes(JOB_METHOD.as_bytes()).unwrap_or_default();
            let mut outcome = Outcome::new(&method, &self.name, StatusCode::INTERNAL_SERVER_ERROR)
                .with_route(&self.name)
                .with_latency(self.started.elapsed());
            if let Some(error) = error {
                // By its concrete type: `by_type` rules match it.
                outcome = outcome.with_error(error);
            }
            if let Some(panic) = panic {
                outcome = outcome.with_panic(panic);
            }
            let decision = self.engine.classifiers().decide(&outcome);
            if decision.is_capture()
                && let Some(mut event) = lookout_classify::event(&outcome, &decision)
            {
                // A job is no HTTP request: no request data, no status.
                event.request = None;
                event.tags.remove(tags::STATUS_CODE);
                event.tags.remove(tags::ROUTE);
                event.transaction = Some(self.name.to_string());
                if panic.is_some() {
                    // The panic site's frames (the job's future panicked on this thread).
                    crate::stacktrace::attach_to_exception(
                        &mut event,
                        crate::stacktrace::take_panic(),
                    );
                }
                crate::stacktrace::own_capture(|| self.ctx.enter(|| hub.capture_event(event)));
            }
        }
        if let Some(tx) = self.transaction {
            tx.set_status(if failed {
                SpanStatus::InternalError
            } else {
                SpanStatus::Ok
            });
            self.ctx.enter(|| tx.finish());
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a running [`Job`]: its output is the job's own.
    pub struct JobFuture<F> {
        #[pin]
        future: Bound<F>,
        state: Pending,
    }
}

/// The job's state until it completes; dropped before (the future was
/// dropped unfinished), its transaction ends as cancelled.
struct Pending(Option<JobState>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(state) = self.0.take()
            && let Some(tx) = state.transaction
        {
            tx.set_status(SpanStatus::Cancelled);
            state.ctx.enter(|| tx.finish());
        }
    }
}

impl<F> std::fmt::Debug for JobFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobFuture")
            .field("job", &self.state.0.as_ref().map(|s| s.name.as_ref()))
            .finish_non_exhaustive()
    }
}

impl<F, T, E> Future for JobFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Error + Send + Sync + 'static,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = this
            .future
            .in_context(|inner| catch_unwind(AssertUnwindSafe(|| inner.poll(cx))));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                if let Some(state) = this.state.0.take() {
                    match &output {
                        Ok(_) => state.finish::<E>(None, None),
                        Err(error) => state.finish(Some(error), None),
                    }
                }
                Poll::Ready(output)
            }
            Err(payload) => {
                if let Some(state) = this.state.0.take() {
                    state.finish::<E>(
                        None,
                        Some(lookout_classify::panic_message(payload.as_ref())),
                    );
                }
                resume_unwind(payload)
            }
        }
    }
}
