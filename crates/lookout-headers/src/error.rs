//! Error types of the header parsers.
//!
//! Every parser returns one of these small, allocation-free types. Each has a
//! `kind()` for matching and a `Display` that says what was wrong, with which
//! value (an escaped, bounded excerpt), and what is accepted. Request ids are
//! the exception: their errors never repeat the rejected value, since an
//! unvalidated id must not reach a log line.

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

/// A bounded copy of the start of a rejected header value, kept on the stack
/// so that building an error never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Excerpt {
    buf: [u8; Excerpt::CAP],
    len: u8,
    truncated: bool,
}

impl Excerpt {
    const CAP: usize = 64;

    pub(crate) fn new(value: &str) -> Self {
        let mut end = value.len().min(Self::CAP);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let mut buf = [0u8; Self::CAP];
        buf[..end].copy_from_slice(&value.as_bytes()[..end]);
        Self {
            buf,
            len: end as u8,
            truncated: end < value.len(),
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or_default()
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:?}` escapes quotes and control characters, so a hostile value cannot
        // forge log lines.
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What was wrong with a `sentry-trace` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SentryTraceErrorKind {
    /// The value does not match
    /// `^[ \t]*([0-9a-f]{32})?-?([0-9a-f]{16})?-?([01])?[ \t]*$`.
    Malformed,
}

/// A `sentry-trace` value that does not follow the grammar the official SDKs accept.
///
/// The caller should start a new trace (see the crate docs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SentryTraceError {
    kind: SentryTraceErrorKind,
    value: Excerpt,
}

impl SentryTraceError {
    pub(crate) fn malformed(value: &str) -> Self {
        Self {
            kind: SentryTraceErrorKind::Malformed,
            value: Excerpt::new(value),
        }
    }

    /// What was wrong.
    #[must_use]
    pub fn kind(&self) -> SentryTraceErrorKind {
        self.kind
    }
}

impl fmt::Display for SentryTraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid sentry-trace {}: expected TRACE_ID-SPAN_ID[-SAMPLED] \
             (32 and 16 lowercase hex digits, SAMPLED 1 or 0; each part optional)",
            self.value
        )
    }
}

impl fmt::Debug for SentryTraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryTraceError")
            .field("kind", &self.kind)
            .field("value", &self.value)
            .finish()
    }
}

impl std::error::Error for SentryTraceError {}

/// What was wrong with a `traceparent` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceParentErrorKind {
    /// The value is empty (or only spaces and tabs).
    Empty,
    /// More than one `traceparent` header was received.
    Multiple,
    /// The version is not two lowercase hex digits, or is `ff`.
    Version,
    /// Wrong length or a missing `-` between fields (version `00` must have
    /// exactly four fields; a higher version may only continue after a `-`).
    Format,
    /// The trace id is not 32 lowercase hex digits.
    TraceId,
    /// The trace id is all zeros.
    ZeroTraceId,
    /// The parent id is not 16 lowercase hex digits.
    ParentId,
    /// The parent id is all zeros.
    ZeroParentId,
    /// The flags are not two lowercase hex digits.
    Flags,
}

/// A `traceparent` value (or set of values) that W3C Trace Context calls invalid.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceParentError {
    kind: TraceParentErrorKind,
    value: Excerpt,
}

impl TraceParentError {
    pub(crate) fn new(kind: TraceParentErrorKind, value: &str) -> Self {
        Self {
            kind,
            value: Excerpt::new(value),
        }
    }

    /// What was wrong.
    #[must_use]
    pub fn kind(&self) -> TraceParentErrorKind {
        self.kind
    }
}

impl fmt::Display for TraceParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TraceParentErrorKind::Empty => "empty value",
            TraceParentErrorKind::Multiple => "more than one traceparent header",
            TraceParentErrorKind::Version => "version must be 2 lowercase hex digits other than ff",
            TraceParentErrorKind::Format => {
                "expected VERSION-TRACE_ID-PARENT_ID-FLAGS (55 characters for version 00)"
            }
            TraceParentErrorKind::TraceId => "trace id must be 32 lowercase hex digits",
            TraceParentErrorKind::ZeroTraceId => "trace id must not be all zeros",
            TraceParentErrorKind::ParentId => "parent id must be 16 lowercase hex digits",
            TraceParentErrorKind::ZeroParentId => "parent id must not be all zeros",
            TraceParentErrorKind::Flags => "flags must be 2 lowercase hex digits",
        };
        write!(f, "invalid traceparent {}: {what}", self.value)
    }
}

impl fmt::Debug for TraceParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceParentError")
            .field("kind", &self.kind)
            .field("value", &self.value)
            .finish()
    }
}

impl std::error::Error for TraceParentError {}

/// What was wrong with a `tracestate` header set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceStateErrorKind {
    /// A member has no `=`.
    MissingEquals,
    /// A key is not `[a-z0-9][a-z0-9_\-*/@]{0,255}`: 1 to 256 characters,
    /// starting with a lowercase letter or a digit.
    Key,
    /// A value is empty, longer than 256 characters, ends in a space, or
    /// contains a character outside printable ASCII or `,` or `=`.
    Value,
    /// More than 32 members across all `tracestate` headers (a repeated key
    /// counted each time it appears).
    TooManyMembers,
}

/// A `tracestate` that must be dropped whole (W3C Trace Context).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceStateError {
    kind: TraceStateErrorKind,
    member: Excerpt,
}

impl TraceStateError {
    pub(crate) fn new(kind: TraceStateErrorKind, member: &str) -> Self {
        Self {
            kind,
            member: Excerpt::new(member),
        }
    }

    /// What was wrong.
    #[must_use]
    pub fn kind(&self) -> TraceStateErrorKind {
        self.kind
    }
}

impl fmt::Display for TraceStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TraceStateErrorKind::MissingEquals => "expected key=value",
            TraceStateErrorKind::Key => {
                "key must be 1 to 256 characters of a-z, 0-9, '_', '-', '*', '/' and '@', \
                 starting with a-z or 0-9"
            }
            TraceStateErrorKind::Value => {
                "value must be 1 to 256 printable ASCII characters without ',' or '=', \
                 not ending in a space"
            }
            TraceStateErrorKind::TooManyMembers => "at most 32 members are allowed",
        };
        write!(f, "invalid tracestate member {}: {what}", self.member)
    }
}

impl fmt::Debug for TraceStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceStateError")
            .field("kind", &self.kind)
            .field("member", &self.member)
            .finish()
    }
}

impl std::error::Error for TraceStateError {}

/// What was wrong with an incoming request id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestIdErrorKind {
    /// The id is empty.
    Empty,
    /// The id is longer than 128 characters.
    TooLong,
    /// The id contains a character outside `[A-Za-z0-9._:-]`.
    InvalidChar,
}

/// An incoming request id that must not be used (nor echoed anywhere).
///
/// The message gives the length and the position of the first bad character,
/// never the value itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestIdError {
    kind: RequestIdErrorKind,
    len: usize,
    position: usize,
}

impl RequestIdError {
    pub(crate) const fn new(kind: RequestIdErrorKind, len: usize, position: usize) -> Self {
        Self {
            kind,
            len,
            position,
        }
    }

    /// What was wrong.
    #[must_use]
    pub fn kind(&self) -> RequestIdErrorKind {
        self.kind
    }
}

impl fmt::Display for RequestIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RequestIdErrorKind::Empty => {
                f.write_str("invalid request id: empty; expected 1 to 128 of [A-Za-z0-9._:-]")
            }
            RequestIdErrorKind::TooLong => write!(
                f,
                "invalid request id: {} bytes long; expected 1 to 128 of [A-Za-z0-9._:-]",
                self.len
            ),
            RequestIdErrorKind::InvalidChar => write!(
                f,
                "invalid request id: disallowed character at byte {}; \
                 expected 1 to 128 of [A-Za-z0-9._:-]",
                self.position
            ),
        }
    }
}

impl std::error::Error for RequestIdError {}
