//! lookout-core: the framework-agnostic request lifecycle every lookout adapter shares.
//!
//! (Being written: delivery first; the lifecycle follows once the building blocks land.)

pub mod delivery;
