//! Cross-crate test suites of the lookout workspace.
//!
//! The suites live in `tests/<suite>/main.rs`-style integration targets of this
//! package; this library holds the helpers they share.
