//! lookout-policy: environment, settings, sampling and privacy decided in one place.
//!
//! (Crate docs are being written; see the policy issue.)

mod pii;

pub use pii::PiiPolicy;
