//! lookout-core is the framework-agnostic request lifecycle every lookout
//! adapter shares: `begin(request head) -> InFlight`, `finish(response head,
//! error, panic) -> response headers`, with Sentry-correct distributed
//! tracing (continuation, frozen DSC, sampling), error classification,
//! outgoing propagation and delivery.
//!
//! (Crate docs with the full example land with the lifecycle tests.)

pub mod continuation;
pub mod delivery;
mod dsc;
mod engine;
pub mod events;
pub mod head;
mod in_flight;
mod propagation;

pub use continuation::{Continuation, OrgCheck, Rejection, TraceOrigin};
pub use engine::{DEFAULT_FLUSH_TIMEOUT, Lookout, LookoutBuilder, collecting_console};
pub use head::{Headers, RequestHead, ResponseHead};
pub use in_flight::{BodyEnd, Finished, InFlight, ResponseHeaders, TypedError};
pub use propagation::{OutgoingHeaders, inject_headers, outgoing_headers};
#[cfg(feature = "test")]
pub mod testing;
