//! The W3C `traceparent` header (Trace Context levels 1 and 2).
//!
//! This module owns the validity rules for incoming values and the format of
//! the value we send. Choosing between `sentry-trace` and `traceparent` is the
//! caller's decision.

use std::fmt;

use crate::error::{TraceParentError, TraceParentErrorKind as Kind};
use crate::ids::{SpanId, TraceId};
use crate::sentry_trace::trim_ows;

/// A valid `traceparent`: `VERSION-TRACE_ID-PARENT_ID-FLAGS`.
///
/// ```
/// use lookout_headers::{SpanId, TraceParent};
///
/// let tp = TraceParent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03")?;
/// assert!(tp.sampled());
/// assert!(tp.random_trace_id()); // level 2 flag, kept when we propagate
///
/// let ours: SpanId = "00f067aa0ba902b7".parse().unwrap();
/// let outgoing = tp.child(ours, false);
/// assert_eq!(outgoing.to_string(), "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-02");
/// # Ok::<(), lookout_headers::TraceParentError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The version (`00` for everything lookout writes).
    pub version: u8,
    /// The trace id (never all zeros).
    pub trace_id: TraceId,
    /// The caller's span id (never all zeros).
    pub parent_id: SpanId,
    /// The trace flags, as received.
    pub flags: u8,
}

impl TraceParent {
    /// The `sampled` flag.
    pub const FLAG_SAMPLED: u8 = 0x01;
    /// The level 2 `random-trace-id` flag.
    pub const FLAG_RANDOM: u8 = 0x02;

    /// A version `00` value with flags `01` or `00`.
    #[must_use]
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self {
        Self {
            version: 0,
            trace_id,
            parent_id: span_id,
            flags: if sampled { Self::FLAG_SAMPLED } else { 0 },
        }
    }

    /// Sets or clears the level 2 `random-trace-id` flag.
    #[must_use]
    pub const fn with_random_trace_id(mut self, random: bool) -> Self {
        if random {
            self.flags |= Self::FLAG_RANDOM;
        } else {
            self.flags &= !Self::FLAG_RANDOM;
        }
        self
    }

    /// The value to send downstream: same trace, our span, our decision, the
    /// random flag as received; version `00`, other flag bits cleared.
    #[must_use]
    pub const fn child(&self, span_id: SpanId, sampled: bool) -> Self {
        Self::new(self.trace_id, span_id, sampled).with_random_trace_id(self.random_trace_id())
    }

    /// Whether the caller sampled this trace.
    #[must_use]
    pub const fn sampled(&self) -> bool {
        self.flags & Self::FLAG_SAMPLED != 0
    }

    /// Whether the caller says the trace id is random (level 2).
    #[must_use]
    pub const fn random_trace_id(&self) -> bool {
        self.flags & Self::FLAG_RANDOM != 0
    }

    /// Parses one value. Spaces and tabs around it are ignored; everything
    /// else follows W3C Trace Context: lowercase hex, version `ff` invalid,
    /// version `00` exactly 55 characters, a higher version may continue after
    /// a `-`, all-zero ids invalid.
    pub fn parse(value: &str) -> Result<Self, TraceParentError> {
        let err = |kind| TraceParentError::new(kind, value);
        let v = trim_ows(value);
        let b = v.as_bytes();
        if b.is_empty() {
            return Err(err(Kind::Empty));
        }
        let version = hex_byte(b, 0).ok_or_else(|| err(Kind::Version))?;
        if version == 0xff {
            return Err(err(Kind::Version));
        }
        let len_ok = match version {
            0 => b.len() == 55,
            _ => b.len() == 55 || (b.len() > 55 && b[55] == b'-'),
        };
        if !len_ok || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return Err(err(Kind::Format));
        }
        let trace_id = b
            .get(3..35)
            .and_then(TraceId::from_hex)
            .ok_or_else(|| err(Kind::TraceId))?;
        if trace_id.is_zero() {
            return Err(err(Kind::ZeroTraceId));
        }
        let parent_id = b
            .get(36..52)
            .and_then(SpanId::from_hex)
            .ok_or_else(|| err(Kind::ParentId))?;
        if parent_id.is_zero() {
            return Err(err(Kind::ZeroParentId));
        }
        let flags = hex_byte(b, 53).ok_or_else(|| err(Kind::Flags))?;
        Ok(Self {
            version,
            trace_id,
            parent_id,
            flags,
        })
    }

    /// Reads the `traceparent` header values of a request: none gives
    /// `Ok(None)`, one is parsed, two or more are invalid
    /// ([`TraceParentErrorKind::Multiple`](crate::TraceParentErrorKind::Multiple)).
    pub fn from_values<'a, I>(values: I) -> Result<Option<Self>, TraceParentError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut values = values.into_iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if let Some(second) = values.next() {
            return Err(TraceParentError::new(Kind::Multiple, second));
        }
        Self::parse(first).map(Some)
    }
}

impl std::str::FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}-{}-{}-{:02x}",
            self.version, self.trace_id, self.parent_id, self.flags
        )
    }
}

fn hex_byte(b: &[u8], at: usize) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    Some((digit(*b.get(at)?)? << 4) | digit(*b.get(at + 1)?)?)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table tests read best as tuples
mod tests {
    use super::*;

    const T: &str = "0af7651916cd43dd8448eb211c80319c";
    const P: &str = "b7ad6b7169203331";

    fn kind(v: &str) -> Result<(u8, u8), Kind> {
        TraceParent::parse(v)
            .map(|t| (t.version, t.flags))
            .map_err(|e| e.kind())
    }

    /// One named case per `traceparent` rule of W3C Trace Context Level 2
    /// (<https://www.w3.org/TR/trace-context-2/>, "traceparent Header").
    #[test]
    fn spec_table() {
        let zeros32 = "0".repeat(32);
        let cases: Vec<(&str, String, Result<(u8, u8), Kind>)> = vec![
            ("sampled", format!("00-{T}-{P}-01"), Ok((0, 1))),
            ("not sampled", format!("00-{T}-{P}-00"), Ok((0, 0))),
            (
                "level 2 random flag kept",
                format!("00-{T}-{P}-03"),
                Ok((0, 3)),
            ),
            (
                "unknown flags kept as received",
                format!("00-{T}-{P}-ff"),
                Ok((0, 0xff)),
            ),
            (
                "spaces and tabs tolerated",
                format!(" \t00-{T}-{P}-01 \t"),
                Ok((0, 1)),
            ),
            (
                "version ff invalid",
                format!("ff-{T}-{P}-01"),
                Err(Kind::Version),
            ),
            (
                "uppercase version invalid",
                format!("0A-{T}-{P}-01"),
                Err(Kind::Version),
            ),
            (
                "version 00 with extra field invalid",
                format!("00-{T}-{P}-01-extra"),
                Err(Kind::Format),
            ),
            (
                "version 00 with trailing dash invalid",
                format!("00-{T}-{P}-01-"),
                Err(Kind::Format),
            ),
            (
                "higher version may carry more after -",
                format!("01-{T}-{P}-01-what-ever"),
                Ok((1, 1)),
            ),
            (
                "higher version exactly 4 fields",
                format!("cc-{T}-{P}-01"),
                Ok((0xcc, 1)),
            ),
            (
                "higher version needs - before more",
                format!("01-{T}-{P}-01x"),
                Err(Kind::Format),
            ),
            (
                "all-zero trace id invalid",
                format!("00-{zeros32}-{P}-01"),
                Err(Kind::ZeroTraceId),
            ),
            (
                "all-zero parent id invalid",
                format!("00-{T}-0000000000000000-01"),
                Err(Kind::ZeroParentId),
            ),
            (
                "uppercase trace id invalid",
                format!("00-{}-{P}-01", T.to_uppercase()),
                Err(Kind::TraceId),
            ),
            (
                "uppercase parent id invalid",
                format!("00-{T}-{}-01", P.to_uppercase()),
                Err(Kind::ParentId),
            ),
            (
                "uppercase flags invalid",
                format!("00-{T}-{P}-0A"),
                Err(Kind::Flags),
            ),
            (
                "short trace id invalid",
                format!("00-{}-{P}-01", &T[1..]),
                Err(Kind::Format),
            ),
            (
                "wrong delimiter invalid",
                format!("00_{T}-{P}-01"),
                Err(Kind::Format),
            ),
            ("empty invalid", String::new(), Err(Kind::Empty)),
            (
                "comma-joined pair invalid",
                format!("00-{T}-{P}-01,00-{T}-{P}-01"),
                Err(Kind::Format),
            ),
            (
                "non-ascii does not panic",
                format!("00-{}é-{P}-01", &T[2..]),
                Err(Kind::TraceId),
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(kind(&input), want, "case {name:?}: {input:?}");
        }
    }

    #[test]
    fn two_headers_are_invalid() {
        let v = format!("00-{T}-{P}-01");
        assert_eq!(
            TraceParent::from_values([v.as_str(), v.as_str()]).map_err(|e| e.kind()),
            Err(Kind::Multiple)
        );
        assert_eq!(TraceParent::from_values(std::iter::empty()), Ok(None));
        assert!(TraceParent::from_values([v.as_str()]).is_ok_and(|t| t.is_some()));
    }

    #[test]
    fn writes_version_00_with_our_span() {
        let tp = TraceParent::parse(&format!("01-{T}-{P}-ff-x")).ok();
        let span = SpanId::parse_hex("00f067aa0ba902b7").ok();
        let out = tp.zip(span).map(|(tp, s)| tp.child(s, true).to_string());
        assert_eq!(out, Some(format!("00-{T}-00f067aa0ba902b7-03")));
        let out = tp
            .zip(span)
            .map(|(tp, s)| tp.child(s, false).with_random_trace_id(false).to_string());
        assert_eq!(out, Some(format!("00-{T}-00f067aa0ba902b7-00")));
    }
}
