//! [`ResponseFuture`]: the response future of [`Lookout`](crate::Lookout).

/// The response future of [`Lookout`](crate::Lookout): the inner service's
/// future run inside its request (lookout-core's
/// [`Instrumented`](lookout_core::toolkit::Instrumented)).
pub type ResponseFuture<F, B> =
    lookout_core::toolkit::Instrumented<F, lookout_core::toolkit::HttpResponder<B>>;
