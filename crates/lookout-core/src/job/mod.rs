//! Work outside requests: background jobs that continue the trace of the
//! request that enqueued them.
//!
//! A request hands its trace to a job through [`carry`] (what the job's
//! payload stores: `sentry-trace`, `baggage` with the frozen DSC, the user
//! id); the worker runs the job with [`run`] (or a [`Job`] for an id or an
//! explicit engine). The job is its own unit of work: an isolated context
//! with its own Hub (never the request's), a `queue.process` transaction
//! named after the job (source `task`) that continues the carried trace and
//! inherits its sampling decision, the tags `job` and `job.id`, the carried
//! user. Its `Err` and its panic go through the same classifiers as a
//! request's failures; the future itself is neither cancelled nor delayed.
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use lookout_core::testing::TestLookout;
//! use lookout_core::{RequestHead, ResponseHead, job};
//!
//! let test = TestLookout::new();
//! // In a request handler: enqueue the job with the carried trace.
//! let in_flight = test.engine().begin(&RequestHead::new("POST", "/signup", &HeaderMap::new()).with_route("/signup"));
//! let carried = in_flight.context().enter(job::carry).expect("inside a request");
//! let trace_id = in_flight.context().trace().trace_id;
//! in_flight.finish(&ResponseHead::new(StatusCode::ACCEPTED)).body.complete();
//!
//! // In the worker, later (here: on the same thread, blocking).
//! let sent = futures_executor_block_on(
//!     job::Job::new("send-welcome-email")
//!         .carried(Some(carried))
//!         .engine(test.engine())
//!         .run(async { Ok::<_, std::io::Error>("sent") }),
//! );
//! assert_eq!(sent.unwrap(), "sent");
//! let jobs: Vec<_> = test.transactions().into_iter().filter(|tx| tx.name.as_deref() == Some("send-welcome-email")).collect();
//! assert_eq!(jobs[0].tags["job"], "send-welcome-email");
//! # fn futures_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! # let _ = trace_id;
//! ```

mod carry;
mod run;

pub use carry::{Carried, carry};
pub use run::{Job, JobFuture, run};

/// The op of a job's transaction.
pub const OP: &str = "queue.process";
/// The op of the span a request records when it enqueues a job.
pub const PUBLISH_OP: &str = "queue.publish";
/// The tag naming the job on its events and transaction.
pub const JOB_TAG: &str = "job";
/// The tag carrying the job's id, when given.
pub const JOB_ID_TAG: &str = "job.id";

/// The name of the job a context runs (a Sentry Log inside it says it as
/// the `job` attribute).
pub(crate) struct JobName(pub(crate) std::sync::Arc<str>);
