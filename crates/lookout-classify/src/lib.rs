//! lookout-classify: placeholder while the crate is written.
