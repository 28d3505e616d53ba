//! `traceparent` and `tracestate` read together, as W3C Trace Context asks.
//!
//! The only rule owned here: without a valid `traceparent`, `tracestate` is
//! not read at all; an invalid `tracestate` is dropped whole while the
//! `traceparent` is kept.

use crate::error::TraceParentError;
use crate::traceparent::TraceParent;
use crate::tracestate::TraceState;

/// An incoming W3C trace context.
///
/// ```
/// use lookout_headers::TraceContext;
///
/// let tp = ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"];
/// let ctx = TraceContext::from_values(tp, ["rojo=00f067aa0ba902b7", "Bad=1"])?.expect("present");
/// assert!(ctx.traceparent.sampled());
/// assert!(ctx.tracestate.is_none()); // one invalid member dropped all of it
///
/// assert!(TraceContext::from_values([], ["rojo=1"])?.is_none());
/// # Ok::<(), lookout_headers::TraceParentError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TraceContext<I> {
    /// The caller's `traceparent`.
    pub traceparent: TraceParent,
    /// The combined `tracestate`, or `None` if absent-and-empty or invalid.
    pub tracestate: Option<TraceState<I>>,
}

impl<'a, I> TraceContext<I>
where
    I: Iterator<Item = &'a str> + Clone,
{
    /// Reads the `traceparent` values (none: `Ok(None)`; two or more, or an
    /// invalid one: an error) and, only when that succeeds, the `tracestate`
    /// values.
    pub fn from_values<P, S>(
        traceparent: P,
        tracestate: S,
    ) -> Result<Option<Self>, TraceParentError>
    where
        P: IntoIterator<Item = &'a str>,
        S: IntoIterator<IntoIter = I>,
    {
        let Some(traceparent) = TraceParent::from_values(traceparent)? else {
            return Ok(None);
        };
        let tracestate = TraceState::parse(tracestate)
            .ok()
            .filter(|ts| !ts.is_empty());
        Ok(Some(Self {
            traceparent,
            tracestate,
        }))
    }
}
