//! Cross-crate test suites of the lookout workspace.
//!
//! Each suite is an integration target of this package (`interop/`, ...);
//! this library holds what they share, such as driving the official Python
//! SDK from a virtualenv under `target/`.

pub mod python;
