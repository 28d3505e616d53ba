//! Cross-crate test suites of the lookout workspace.
//!
//! Each suite is an integration target of this package (`interop/`, ...);
//! this library holds what they share: driving the official Python SDK from
//! a virtualenv under `target/` and the official JavaScript SDK from
//! `node_modules` under `target/` ([`node`]), the envelope [`receiver`], and for the
//! shutdown suites Sentry endpoints that fail ([`bad_sentry`]) and a
//! bounded wait for a process to exit ([`process_exit`]).

pub mod bad_sentry;
pub mod node;
pub mod process_exit;
pub mod python;
pub mod receiver;
