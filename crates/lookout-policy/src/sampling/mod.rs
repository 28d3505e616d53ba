//! Trace sampling: `sample_rand`, parent inheritance, ignored routes and a
//! user sampler.
//!
//! Owns the decision for a request's trace and the values it leaves for the
//! Dynamic Sampling Context (rate used, `sample_rand`). It takes plain values
//! (parent flag, parent rate, incoming `sample_rand`) rather than parsed
//! headers, so it does not depend on how headers are parsed.

mod decision;
mod policy;
mod request;
mod sample_rand;
mod sampler;

pub use decision::{DecisionReason, SamplingDecision};
pub use policy::Sampling;
pub use request::SamplingRequest;
pub use sample_rand::SampleRand;
pub use sampler::{SamplerContext, TracesSampler};
