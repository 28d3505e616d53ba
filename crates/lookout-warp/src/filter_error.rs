//! [`FilterError`]: the error types of the filters lookout runs.

use std::convert::Infallible;

use warp::{Filter, Rejection};

mod sealed {
    pub trait Sealed {}
    impl Sealed for warp::Rejection {}
    impl Sealed for std::convert::Infallible {}
}

/// The error type of a filter lookout can run, as `warp::serve` can:
/// [`Rejection`], or [`Infallible`] for a filter that never rejects (such as
/// `warp::any().map(..)`). Implemented for those two only; warp's own bound
/// for them is private.
pub trait FilterError: sealed::Sealed + Send + Sync + 'static {
    /// `filter` as a filter that may reject (a never-rejecting one is boxed
    /// for it; a rejecting one is returned as it is).
    #[doc(hidden)]
    fn rejecting<F>(
        filter: F,
    ) -> impl Filter<Extract = F::Extract, Error = Rejection> + Clone + Send + Sync + 'static
    where
        F: Filter<Error = Self> + Clone + Send + Sync + 'static,
        F::Extract: Send;
}

impl FilterError for Rejection {
    fn rejecting<F>(
        filter: F,
    ) -> impl Filter<Extract = F::Extract, Error = Rejection> + Clone + Send + Sync + 'static
    where
        F: Filter<Error = Self> + Clone + Send + Sync + 'static,
        F::Extract: Send,
    {
        filter
    }
}

impl FilterError for Infallible {
    fn rejecting<F>(
        filter: F,
    ) -> impl Filter<Extract = F::Extract, Error = Rejection> + Clone + Send + Sync + 'static
    where
        F: Filter<Error = Self> + Clone + Send + Sync + 'static,
        F::Extract: Send,
    {
        filter.boxed()
    }
}
