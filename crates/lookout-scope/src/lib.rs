//! lookout-scope: placeholder while the crate is written.
