//! The `sentry-trace` header: `TRACE_ID-SPAN_ID[-SAMPLED]`.
//!
//! This module owns the accept/reject decision for one value and the choice
//! among several values. It deliberately does not decide what to do with a
//! result (continue, start a new trace, sample): that is the caller's policy.

use std::fmt;

use crate::error::SentryTraceError;
use crate::ids::{SpanId, TraceId};

/// The contents of a `sentry-trace` header.
///
/// Every part is optional, exactly as in the official SDKs' grammar
/// `^[ \t]*([0-9a-f]{32})?-?([0-9a-f]{16})?-?([01])?[ \t]*$`:
///
/// | value | meaning |
/// |---|---|
/// | `TRACE-SPAN-1` / `TRACE-SPAN-0` | continue, parent sampled / not sampled |
/// | `TRACE-SPAN` | continue, sampling decision deferred to us |
/// | `TRACE` | continue the trace without a parent span |
/// | `0` | no trace to continue: start a new, unsampled one |
/// | `-`, `` | accepted by the grammar, carries nothing: start a new trace |
///
/// ```
/// use lookout_headers::SentryTrace;
///
/// let st = SentryTrace::parse("771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1")?;
/// assert_eq!(st.sampled, Some(true));
/// assert!(st.continues_trace());
///
/// let lone_zero = SentryTrace::parse("0")?;
/// assert_eq!(lone_zero.trace_id, None);
/// assert_eq!(lone_zero.sampled, Some(false));
///
/// // Writing: Display gives back a value that parses to the same thing.
/// assert_eq!(st.to_string(), "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1");
/// # Ok::<(), lookout_headers::SentryTraceError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SentryTrace {
    /// The trace to continue; `None` means "start a new trace".
    pub trace_id: Option<TraceId>,
    /// The caller's span, parent of ours.
    pub parent_span_id: Option<SpanId>,
    /// The caller's sampling decision; `None` defers it to us.
    pub sampled: Option<bool>,
}

impl SentryTrace {
    /// A complete value for an outgoing request: our trace, our span, our decision.
    #[must_use]
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: Option<bool>) -> Self {
        Self {
            trace_id: Some(trace_id),
            parent_span_id: Some(span_id),
            sampled,
        }
    }

    /// Whether the value names a trace to continue.
    #[must_use]
    pub const fn continues_trace(&self) -> bool {
        self.trace_id.is_some()
    }

    /// Parses one value with exactly the accept/reject set (and the same
    /// captured parts) as the official SDKs' regular expression.
    ///
    /// Lowercase hex only; surrounding spaces and tabs are ignored. A trailing
    /// newline is rejected (HTTP header values cannot contain one), as in the
    /// JavaScript SDK. The Python SDK's legacy unwrapping of `00-…-00` values
    /// is not reproduced: the JavaScript SDK rejects such values too, and
    /// lookout follows the grammar both share.
    pub fn parse(value: &str) -> Result<Self, SentryTraceError> {
        let core = trim_ows(value).as_bytes();
        if let Some(st) = Self::parse_canonical(core) {
            return Ok(st);
        }
        let mut caps = Captures::default();
        if !walk(core, 0, 0, &mut caps) {
            return Err(SentryTraceError::malformed(value));
        }
        let trace_id = match caps.trace {
            Some(at) => Some(
                TraceId::parse_hex(slice(core, at, 32))
                    .map_err(|_| SentryTraceError::malformed(value))?,
            ),
            None => None,
        };
        let parent_span_id = match caps.span {
            Some(at) => Some(
                SpanId::parse_hex(slice(core, at, 16))
                    .map_err(|_| SentryTraceError::malformed(value))?,
            ),
            None => None,
        };
        Ok(Self {
            trace_id,
            parent_span_id,
            sampled: caps.flag.map(|f| f == b'1'),
        })
    }

    /// `TRACE-SPAN` or `TRACE-SPAN-F`, the shape SDKs send: when it fits, the
    /// regex's first choice (every group present) is the match, so the
    /// backtracking walk can be skipped.
    #[inline]
    fn parse_canonical(core: &[u8]) -> Option<Self> {
        let sampled = match core.len() {
            49 => None,
            51 if core[49] == b'-' => match core[50] {
                b'1' => Some(true),
                b'0' => Some(false),
                _ => return None,
            },
            _ => return None,
        };
        if core[32] != b'-' {
            return None;
        }
        let trace_id = TraceId::from_hex(&core[..32])?;
        let span_id = SpanId::from_hex(&core[33..49])?;
        Some(Self::new(trace_id, span_id, sampled))
    }

    /// Chooses among several `sentry-trace` values (repeated headers, each
    /// possibly comma-joined) as the Python SDK does: the first non-empty one
    /// decides. If it is invalid the result is an error; later values are never
    /// consulted, so two services receiving the same headers decide alike.
    ///
    /// Returns `Ok(None)` when there is no non-empty value at all. A value made
    /// only of spaces and tabs counts as empty (HTTP strips that whitespace).
    /// (sentry-python takes the first comma-separated part even when it is
    /// empty, which continues nothing; skipping empty parts is the rule lookout
    /// documents and every lookout service applies alike.)
    ///
    /// ```
    /// use lookout_headers::SentryTrace;
    ///
    /// let first = "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1";
    /// let joined = format!(" , {first}, 0123456789abcdef0123456789abcdef-0123456789abcdef-0");
    /// let st = SentryTrace::from_values([joined.as_str()])?.expect("a value");
    /// assert_eq!(st.to_string(), first);
    ///
    /// // An invalid first value is an error even when a later one is valid.
    /// assert!(SentryTrace::from_values(["NOT-VALID", first]).is_err());
    /// assert_eq!(SentryTrace::from_values(["", " "]), Ok(None));
    /// # Ok::<(), lookout_headers::SentryTraceError>(())
    /// ```
    pub fn from_values<'a, I>(values: I) -> Result<Option<Self>, SentryTraceError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        for value in values {
            // The shape SDKs send, alone in its header: it holds no comma, so
            // it is the first non-empty part (no split, no trim needed).
            if let Some(st) = Self::parse_canonical(value.as_bytes()) {
                return Ok(Some(st));
            }
            for part in value.split(',') {
                if !trim_ows(part).is_empty() {
                    return Self::parse(part).map(Some);
                }
            }
        }
        Ok(None)
    }
}

impl std::str::FromStr for SentryTrace {
    type Err = SentryTraceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SentryTrace {
    /// Writes the shortest value that parses back to `self`
    /// (`TRACE-SPAN[-1|-0]` for a complete value).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = self.sampled.map(|s| if s { "1" } else { "0" });
        let mut wrote = false;
        if let Some(trace_id) = &self.trace_id {
            write!(f, "{trace_id}")?;
            wrote = true;
        }
        if let Some(span_id) = &self.parent_span_id {
            if wrote {
                f.write_str("-")?;
            }
            write!(f, "{span_id}")?;
            wrote = true;
        }
        if let Some(flag) = flag {
            if wrote {
                f.write_str("-")?;
            }
            f.write_str(flag)?;
        }
        Ok(())
    }
}

/// Trims HTTP optional whitespace (spaces and tabs), nothing else.
pub(crate) fn trim_ows(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut start, mut end) = (0, b.len());
    while start < end && matches!(b[start], b' ' | b'\t') {
        start += 1;
    }
    while end > start && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    // Spaces and tabs are ASCII, so both ends are char boundaries.
    s.get(start..end).unwrap_or_default()
}

fn slice(b: &[u8], at: usize, len: usize) -> &str {
    b.get(at..at + len)
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or_default()
}

#[derive(Default)]
struct Captures {
    trace: Option<usize>,
    span: Option<usize>,
    flag: Option<u8>,
}

#[derive(Clone, Copy)]
enum Elem {
    Trace,
    Dash,
    Span,
    Flag,
}

/// The body of the regex after trimming: `T? -? S? -? F?`.
const ELEMS: [Elem; 5] = [Elem::Trace, Elem::Dash, Elem::Span, Elem::Dash, Elem::Flag];

fn lower_hex_run(b: &[u8], pos: usize, len: usize) -> bool {
    b.get(pos..pos + len)
        .is_some_and(|run| run.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
}

/// Backtracking match in the regex engine's order (each `?` is greedy: try the
/// element first, then without it), so the captured groups are the ones the
/// SDKs would see, not merely some valid split.
fn walk(b: &[u8], pos: usize, i: usize, caps: &mut Captures) -> bool {
    let Some(elem) = ELEMS.get(i) else {
        return pos == b.len();
    };
    let taken = match elem {
        Elem::Trace => lower_hex_run(b, pos, 32).then_some(32),
        Elem::Span => lower_hex_run(b, pos, 16).then_some(16),
        Elem::Dash => (b.get(pos) == Some(&b'-')).then_some(1),
        Elem::Flag => matches!(b.get(pos), Some(b'0' | b'1')).then_some(1),
    };
    if let Some(len) = taken {
        match elem {
            Elem::Trace => caps.trace = Some(pos),
            Elem::Span => caps.span = Some(pos),
            Elem::Flag => caps.flag = b.get(pos).copied(),
            Elem::Dash => {}
        }
        if walk(b, pos + len, i + 1, caps) {
            return true;
        }
        match elem {
            Elem::Trace => caps.trace = None,
            Elem::Span => caps.span = None,
            Elem::Flag => caps.flag = None,
            Elem::Dash => {}
        }
    }
    walk(b, pos, i + 1, caps)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table tests read best as tuples
mod tests {
    use super::*;

    const T: &str = "771a43a4192642f0b136d5159a501700";
    const S: &str = "a8c2d5f4e3b21907";

    fn parts(v: &str) -> Option<(Option<String>, Option<String>, Option<bool>)> {
        SentryTrace::parse(v).ok().map(|st| {
            (
                st.trace_id.map(|t| t.to_string()),
                st.parent_span_id.map(|s| s.to_string()),
                st.sampled,
            )
        })
    }

    fn some(
        t: Option<&str>,
        s: Option<&str>,
        f: Option<bool>,
    ) -> Option<(Option<String>, Option<String>, Option<bool>)> {
        Some((t.map(str::to_owned), s.map(str::to_owned), f))
    }

    /// One named case per rule of the `sentry-trace` header in the Sentry
    /// developer documentation ("Trace Propagation", develop.sentry.dev), and
    /// the corners of the SDKs' grammar, checked against its regex by hand.
    #[test]
    fn spec_table() {
        let full = format!("{T}-{S}");
        let cases: Vec<(
            &str,
            String,
            Option<(Option<String>, Option<String>, Option<bool>)>,
        )> = vec![
            (
                "sampled",
                format!("{full}-1"),
                some(Some(T), Some(S), Some(true)),
            ),
            (
                "not sampled",
                format!("{full}-0"),
                some(Some(T), Some(S), Some(false)),
            ),
            (
                "deferred: no flag",
                full.clone(),
                some(Some(T), Some(S), None),
            ),
            (
                "deferred: trailing dash",
                format!("{full}-"),
                some(Some(T), Some(S), None),
            ),
            (
                "trimmed spaces and tabs",
                format!(" \t{full}-1\t "),
                some(Some(T), Some(S), Some(true)),
            ),
            (
                "lone trace id continues without parent span",
                T.to_owned(),
                some(Some(T), None, None),
            ),
            (
                "trace id and flag, no span",
                format!("{T}--1"),
                some(Some(T), None, Some(true)),
            ),
            (
                "trace id and flag, one dash",
                format!("{T}-0"),
                some(Some(T), None, Some(false)),
            ),
            (
                "lone 0: new unsampled trace",
                "0".to_owned(),
                some(None, None, Some(false)),
            ),
            ("lone 1", "1".to_owned(), some(None, None, Some(true))),
            (
                "dashed lone 0",
                "-0".to_owned(),
                some(None, None, Some(false)),
            ),
            (
                "lone dash carries nothing",
                "-".to_owned(),
                some(None, None, None),
            ),
            (
                "double dash carries nothing",
                "--".to_owned(),
                some(None, None, None),
            ),
            (
                "empty matches the grammar",
                String::new(),
                some(None, None, None),
            ),
            ("lone span id", S.to_owned(), some(None, Some(S), None)),
            (
                "no dashes at all",
                format!("{T}{S}1"),
                some(Some(T), Some(S), Some(true)),
            ),
            (
                "uppercase rejected",
                format!("{}-{S}-1", T.to_uppercase()),
                None,
            ),
            (
                "uppercase span rejected",
                format!("{T}-{}-1", S.to_uppercase()),
                None,
            ),
            ("flag other than 0/1 rejected", format!("{full}-2"), None),
            ("flag `true` rejected", format!("{full}-true"), None),
            ("short trace id rejected", format!("{}-{S}", &T[..31]), None),
            ("long trace id rejected", format!("{T}a-{S}"), None),
            ("short span id rejected", format!("{T}-{}", &S[..15]), None),
            ("extra field rejected", format!("{full}-1-1"), None),
            ("three dashes rejected", "---".to_owned(), None),
            ("trailing newline rejected", format!("{full}\n"), None),
            ("inner space rejected", format!("{T} -{S}"), None),
            (
                "comma inside one parse rejected",
                format!("{full},{full}"),
                None,
            ),
            ("non-hex rejected", format!("{}g-{S}", &T[..31]), None),
            ("traceparent shape rejected", format!("00-{T}-{S}-01"), None),
        ];
        for (name, input, want) in cases {
            assert_eq!(parts(&input), want, "case {name:?}: {input:?}");
        }
    }

    #[test]
    fn first_non_empty_value_decides() {
        let a = format!("{T}-{S}-1");
        let b = "0123456789abcdef0123456789abcdef-0123456789abcdef-0";
        let joined = format!("{a}, {b}");
        let leading_empty = format!(" ,\t, {b}");
        let cases: Vec<(&str, Vec<&str>, Result<Option<String>, ()>)> = vec![
            ("no values", vec![], Ok(None)),
            ("only empty values", vec!["", " ", ","], Ok(None)),
            ("single", vec![a.as_str()], Ok(Some(a.clone()))),
            (
                "comma-joined: first wins",
                vec![joined.as_str()],
                Ok(Some(a.clone())),
            ),
            (
                "repeated headers: first wins",
                vec![b, a.as_str()],
                Ok(Some(b.to_owned())),
            ),
            (
                "empty header skipped",
                vec!["", a.as_str()],
                Ok(Some(a.clone())),
            ),
            (
                "empty segments skipped",
                vec![leading_empty.as_str()],
                Ok(Some(b.to_owned())),
            ),
            (
                "invalid first is an error, no fall-through",
                vec!["garbage", a.as_str()],
                Err(()),
            ),
            ("invalid first segment is an error", vec!["bad, 0"], Err(())),
            (
                "lone dash decides (new trace)",
                vec!["-", a.as_str()],
                Ok(Some(String::new())),
            ),
        ];
        for (name, values, want) in cases {
            let got = SentryTrace::from_values(values.iter().copied())
                .map(|o| o.map(|st| st.to_string()))
                .map_err(|_| ());
            assert_eq!(got, want, "case {name:?}");
        }
    }

    #[test]
    fn display_round_trips_every_shape() {
        let t = TraceId::parse_hex(T).ok();
        let s = SpanId::parse_hex(S).ok();
        for trace_id in [None, t] {
            for parent_span_id in [None, s] {
                for sampled in [None, Some(true), Some(false)] {
                    let st = SentryTrace {
                        trace_id,
                        parent_span_id,
                        sampled,
                    };
                    assert_eq!(SentryTrace::parse(&st.to_string()), Ok(st), "{st:?}");
                }
            }
        }
    }

    #[test]
    fn error_names_value_and_grammar() {
        let err = SentryTrace::parse("NOPE\n").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "invalid sentry-trace \"NOPE\\n\": expected TRACE_ID-SPAN_ID[-SAMPLED] \
                 (32 and 16 lowercase hex digits, SAMPLED 1 or 0; each part optional)"
            )
        );
    }
}
