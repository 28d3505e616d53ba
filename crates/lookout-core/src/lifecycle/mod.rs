//! One request's lifecycle: [`Engine::begin`](crate::Engine::begin) opens it,
//! [`InFlight::finish`] classifies the response, [`BodyEnd`] ends the
//! transaction when the body has been sent.
//!
//! Owns the per-request state between those calls; it does not own how a
//! framework's future or body is driven (that is the [`toolkit`](crate::toolkit)).

mod begin;
mod body_end;
mod finished;
mod in_flight;
pub(crate) mod request_data;
mod request_info;
pub(crate) mod span_context;
mod typed_error;

pub use body_end::BodyEnd;
pub use finished::{Finished, HeaderMerge, ResponseHeaders};
pub use in_flight::InFlight;
pub use typed_error::TypedError;

pub(crate) use begin::open_context;
pub(crate) use in_flight::traceparent_for;
