//! The Dynamic Sampling Context (DSC): the `sentry-` members of `baggage`.
//!
//! [`DscView`] reads them without allocating; [`DynamicSamplingContext`] is the
//! owned form a request freezes, writes back into `baggage` and serializes
//! into the envelope `trace` header. Deciding when to freeze, and what to
//! sample, belongs to the caller.
//!
//! The members and their values follow the Sentry developer documentation,
//! "Dynamic Sampling Context" (develop.sentry.dev/sdk/telemetry/traces/dynamic-sampling-context/).
//!
//! - `keys`: the DSC keys and their order;
//! - `view`: [`DscView`], reading incoming baggage in place;
//! - `known_member`: the in-place recognition of a known `sentry-key=`;
//! - `typed_value`, `float`: what a typed value (`sample_rate`,
//!   `sample_rand`, `sampled`) accepts;
//! - `owned`: [`DynamicSamplingContext`] and its `baggage` members;
//! - `field_value`: how each field's value is written;
//! - `envelope`: the envelope `trace` header shape (serde);
//! - `sentry` (feature `sentry`): the `sentry-types` conversion.

mod envelope;
mod field_value;
mod float;
mod keys;
mod known_member;
mod owned;
#[cfg(feature = "sentry")]
mod sentry;
mod typed_value;
mod view;

#[cfg(test)]
mod fixtures;

pub use owned::DynamicSamplingContext;
pub use view::DscView;
