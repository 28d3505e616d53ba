//! Trace continuation: which trace an incoming request belongs to.
//!
//! Reads `sentry-trace` + `baggage` first and, only when there is no
//! `sentry-trace` at all, `traceparent` + `tracestate`. Applies the org check
//! and strict continuation (Sentry developer documentation, "Trace
//! Propagation", section "Strict Trace Continuation", develop.sentry.dev) and
//! freezes the incoming Dynamic Sampling Context. Anything malformed starts a
//! new trace silently (one debug line) and never fails the request.

use lookout_headers::{
    DscView, DynamicSamplingContext, SentryTrace, SpanId, TraceContext, TraceId,
};

use crate::head::{Headers, names};

/// Where the request's trace came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceOrigin {
    /// Continued from `sentry-trace` (+ `baggage`).
    SentryTrace,
    /// Continued from W3C `traceparent` (+ `tracestate`).
    TraceParent,
    /// A new trace started here.
    New,
}

impl TraceOrigin {
    /// Whether the request continues a caller's trace.
    #[must_use]
    pub fn is_continued(self) -> bool {
        !matches!(self, Self::New)
    }

    /// A short name (`sentry-trace`, `traceparent`, `new`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SentryTrace => "sentry-trace",
            Self::TraceParent => "traceparent",
            Self::New => "new",
        }
    }
}

/// Why an incoming trace was not continued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// A trace header was present but malformed.
    Malformed,
    /// The caller's org id differs from ours (or strict continuation and only one side has one).
    OrgMismatch,
}

/// The org ids and strictness the check compares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgCheck {
    /// Our org id (from the DSN host or `SENTRY_ORG_ID`), as decimal text.
    pub org_id: Option<String>,
    /// `SENTRY_STRICT_TRACE_CONTINUATION`.
    pub strict: bool,
}

impl OrgCheck {
    /// Whether a trace carrying `incoming` may be continued.
    ///
    /// ```
    /// use lookout_core::OrgCheck;
    ///
    /// let ours = OrgCheck { org_id: Some("1".into()), strict: false };
    /// assert!(ours.allows(Some("1")));
    /// assert!(!ours.allows(Some("2")));
    /// assert!(ours.allows(None)); // lenient by default
    /// let strict = OrgCheck { strict: true, ..ours };
    /// assert!(!strict.allows(None));
    /// ```
    #[must_use]
    pub fn allows(&self, incoming: Option<&str>) -> bool {
        match (incoming.map(str::trim), self.org_id.as_deref()) {
            (Some(theirs), Some(ours)) => theirs == ours,
            (Some(_), None) | (None, Some(_)) => !self.strict,
            (None, None) => true,
        }
    }
}

/// The outcome of reading an incoming request's trace headers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Continuation {
    /// The trace the request belongs to.
    pub trace_id: TraceId,
    /// The caller's span, when continued.
    pub parent_span_id: Option<SpanId>,
    /// The caller's sampling decision (`-1`/`-0`, traceparent flag), if any.
    pub parent_sampled: Option<bool>,
    /// The caller's `sentry-sample_rate`, if any.
    pub parent_sample_rate: Option<f64>,
    /// The caller's `sentry-sample_rand`, if any.
    pub incoming_sample_rand: Option<f64>,
    /// The frozen incoming DSC, owned, when the caller's decision is
    /// sampled (its transaction will carry it). One of `dsc` and
    /// [`dsc_members`](Self::dsc_members) is `Some` whenever a `sentry-trace`
    /// was continued (empty when the caller sent no `sentry-*` baggage
    /// members); [`incoming_dsc`](Self::incoming_dsc) reads either.
    pub dsc: Option<DynamicSamplingContext>,
    /// The frozen incoming DSC as the caller's Sentry baggage members
    /// ([`DscView::members`]) when its decision is not sampled: kept as
    /// received and made owned only when something is sent.
    pub dsc_members: Option<String>,
    /// The W3C level-2 random-trace-id flag, as received.
    pub w3c_random: bool,
    /// The caller's `tracestate`, to pass on with our `traceparent`.
    pub tracestate: Option<String>,
    /// Where the trace came from.
    pub origin: TraceOrigin,
    /// Why a caller's trace was not continued, if it was not.
    pub rejection: Option<Rejection>,
}

impl Continuation {
    /// A new trace with a random id and no parent.
    #[must_use]
    pub fn new_trace() -> Self {
        Self {
            trace_id: TraceId::random(),
            parent_span_id: None,
            parent_sampled: None,
            parent_sample_rate: None,
            incoming_sample_rand: None,
            dsc: None,
            dsc_members: None,
            w3c_random: false,
            tracestate: None,
            origin: TraceOrigin::New,
            rejection: None,
        }
    }

    /// The frozen incoming DSC, owned: `Some` whenever a `sentry-trace` was
    /// continued ([`dsc`](Self::dsc) or [`dsc_members`](Self::dsc_members)).
    #[must_use]
    pub fn incoming_dsc(&self) -> Option<DynamicSamplingContext> {
        self.dsc.clone().or_else(|| {
            self.dsc_members
                .as_deref()
                .map(|members| DscView::from_baggage([members]).to_owned())
        })
    }

    fn rejected(rejection: Rejection) -> Self {
        Self {
            rejection: Some(rejection),
            ..Self::new_trace()
        }
    }

    /// Reads the trace headers of a request.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use lookout_core::{Continuation, OrgCheck, TraceOrigin};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("sentry-trace", "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1".parse().unwrap());
    /// headers.insert("baggage", "sentry-sample_rate=0.5,sentry-sample_rand=0.25,other=x".parse().unwrap());
    /// let c = Continuation::from_headers(&headers, &OrgCheck::default());
    /// assert_eq!(c.origin, TraceOrigin::SentryTrace);
    /// assert_eq!(c.parent_sampled, Some(true));
    /// assert_eq!(c.incoming_sample_rand, Some(0.25));
    /// assert_eq!(c.incoming_dsc().unwrap().sample_rate, Some(0.5));
    /// ```
    pub fn from_headers<H: Headers + ?Sized>(headers: &H, org: &OrgCheck) -> Self {
        let mut sentry_values = headers.values_of(names::SENTRY_TRACE).peekable();
        if sentry_values.peek().is_some() {
            return match SentryTrace::from_values(sentry_values) {
                Ok(Some(trace)) => Self::from_sentry_trace(trace, headers, org),
                // Only empty values: as if the header were absent.
                Ok(None) => Self::from_w3c(headers, org),
                Err(error) => {
                    tracing::debug!(target: "lookout::trace", "sentry-trace ignored, new trace: {error}");
                    Self::rejected(Rejection::Malformed)
                }
            };
        }
        Self::from_w3c(headers, org)
    }

    fn from_sentry_trace<H: Headers + ?Sized>(
        trace: SentryTrace,
        headers: &H,
        org: &OrgCheck,
    ) -> Self {
        let Some(trace_id) = trace.trace_id else {
            // A lone `0` (or flag without ids): a new trace carrying the caller's decision.
            return Self {
                parent_sampled: trace.sampled,
                ..Self::new_trace()
            };
        };
        let view = DscView::from_baggage(headers.values_of(names::BAGGAGE));
        // A sampled caller's DSC goes on its transaction: owned at once. An
        // unsampled one is needed only if something is sent.
        let sampled = trace.sampled == Some(true);
        if !org.allows(view.org_id().as_deref()) {
            tracing::debug!(target: "lookout::trace", "incoming trace from another org, new trace");
            return Self::rejected(Rejection::OrgMismatch);
        }
        Self {
            trace_id,
            parent_span_id: trace.parent_span_id,
            parent_sampled: trace.sampled,
            parent_sample_rate: view.sample_rate(),
            incoming_sample_rand: view.sample_rand(),
            dsc: sampled.then(|| view.to_owned()),
            dsc_members: (!sampled).then(|| view.members()),
            w3c_random: false,
            tracestate: None,
            origin: TraceOrigin::SentryTrace,
            rejection: None,
        }
    }

    fn from_w3c<H: Headers + ?Sized>(headers: &H, org: &OrgCheck) -> Self {
        let parsed = TraceContext::from_values(
            headers.values_of(names::TRACEPARENT),
            headers.values_of(names::TRACESTATE),
        );
        match parsed {
            Ok(None) => Self::new_trace(),
            Ok(Some(context)) => {
                // W3C carries no org id: only strict continuation with an org of ours refuses it.
                if !org.allows(None) {
                    return Self::rejected(Rejection::OrgMismatch);
                }
                let parent = context.traceparent;
                Self {
                    trace_id: parent.trace_id,
                    parent_span_id: Some(parent.parent_id),
                    parent_sampled: Some(parent.sampled()),
                    parent_sample_rate: None,
                    incoming_sample_rand: None,
                    dsc: None,
                    dsc_members: None,
                    w3c_random: parent.random_trace_id(),
                    tracestate: context.tracestate.map(|ts| ts.to_string()),
                    origin: TraceOrigin::TraceParent,
                    rejection: None,
                }
            }
            Err(error) => {
                tracing::debug!(target: "lookout::trace", "traceparent ignored, new trace: {error}");
                Self::rejected(Rejection::Malformed)
            }
        }
    }
}
