//! Cross-crate test suites of the lookout workspace.
//!
//! Each suite is an integration target of this package (`interop/`, ...);
//! this library holds what they share: driving the official Python SDK from
//! a virtualenv under `target/`, and the envelope [`receiver`].

pub mod python;
pub mod receiver;
