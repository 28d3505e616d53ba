//! Error types of the header parsers.

use std::fmt;

/// A trace or span id that is not the exact number of lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdError {
    what: &'static str,
    hex_len: usize,
}

impl IdError {
    pub(crate) const fn new(what: &'static str, hex_len: usize) -> Self {
        Self { what, hex_len }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}: expected {} lowercase hex digits",
            self.what, self.hex_len
        )
    }
}

impl std::error::Error for IdError {}
