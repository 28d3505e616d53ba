//! Request ids (`x-request-id`): validation of incoming ids and generation
//! of new ones.
//!
//! This module owns what an acceptable id looks like. Which header carries it
//! and when to echo it are the caller's business.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::error::{RequestIdError, RequestIdErrorKind as Kind};

/// The longest accepted request id, in bytes (all accepted characters are ASCII).
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Ids up to this length live inline (a generated UUID is 36), so generating
/// or accepting a typical id allocates nothing; longer ones share one `Arc<str>`.
const INLINE_CAP: usize = 40;

/// A validated request id: 1 to 128 characters of `[A-Za-z0-9._:-]`.
///
/// Cheap to clone: ids up to 40 characters are stored inline (no heap at
/// all), longer ones in one shared allocation.
///
/// ```
/// use lookout_headers::RequestId;
///
/// let incoming = RequestId::parse("req-42.a:b_C")?;
/// assert_eq!(incoming.as_str(), "req-42.a:b_C");
///
/// // Bad or missing ids are replaced by a fresh UUID.
/// let id = RequestId::from_header_or_generate(Some("no spaces allowed"));
/// assert_eq!(id.len(), 36);
/// # Ok::<(), lookout_headers::RequestIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Shared(Arc<str>),
}

impl RequestId {
    /// Checks an incoming id without copying it.
    pub fn validate(value: &str) -> Result<&str, RequestIdError> {
        let len = value.len();
        if len == 0 {
            return Err(RequestIdError::new(Kind::Empty, 0, 0));
        }
        if let Some(pos) = value
            .bytes()
            .take(MAX_REQUEST_ID_LEN)
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-')))
        {
            return Err(RequestIdError::new(Kind::InvalidChar, len, pos));
        }
        if len > MAX_REQUEST_ID_LEN {
            return Err(RequestIdError::new(Kind::TooLong, len, MAX_REQUEST_ID_LEN));
        }
        Ok(value)
    }

    /// Validates an incoming id and keeps it.
    pub fn parse(value: &str) -> Result<Self, RequestIdError> {
        Self::validate(value).map(Self::from_valid)
    }

    /// A new random id: a lowercase hyphenated UUID v4 (36 characters), from
    /// the `uuid` crate's fast RNG. Never allocates.
    #[must_use]
    pub fn generate() -> Self {
        let mut buf = [0u8; INLINE_CAP];
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut buf[..uuid::fmt::Hyphenated::LENGTH]);
        Self(Repr::Inline {
            len: uuid::fmt::Hyphenated::LENGTH as u8,
            buf,
        })
    }

    /// The incoming id if there is one and it is valid, otherwise a new one.
    #[must_use]
    pub fn from_header_or_generate(value: Option<&str>) -> Self {
        value
            .and_then(|v| Self::parse(v).ok())
            .unwrap_or_else(Self::generate)
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, buf } => buf
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Repr::Shared(s) => s,
        }
    }

    fn from_valid(value: &str) -> Self {
        if value.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..value.len()].copy_from_slice(value.as_bytes());
            Self(Repr::Inline {
                len: value.len() as u8,
                buf,
            })
        } else {
            Self(Repr::Shared(Arc::from(value)))
        }
    }
}

impl Deref for RequestId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::str::FromStr for RequestId {
    type Err = RequestIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One named case per rule of [`RequestId`]'s grammar. `x-request-id` has
    /// no standard: the rules are lookout's own (1 to 128 of `[A-Za-z0-9._:-]`,
    /// nothing that could forge a log line).
    #[test]
    fn spec_table() {
        let max = "a".repeat(128);
        let over = "a".repeat(129);
        let cases: Vec<(&str, &str, Result<(), Kind>)> = vec![
            ("one character", "a", Ok(())),
            ("every allowed class", "AZaz09._:-", Ok(())),
            ("uuid", "67e55044-10b1-426f-9247-bb680e5fe0c8", Ok(())),
            ("128 characters", &max, Ok(())),
            ("129 characters", &over, Err(Kind::TooLong)),
            ("empty", "", Err(Kind::Empty)),
            ("space", "a b", Err(Kind::InvalidChar)),
            ("slash", "a/b", Err(Kind::InvalidChar)),
            ("newline (log forging)", "a\nb", Err(Kind::InvalidChar)),
            ("non-ascii", "é", Err(Kind::InvalidChar)),
            ("quote", "a\"b", Err(Kind::InvalidChar)),
        ];
        for (name, input, want) in cases {
            let got = RequestId::validate(input).map(|_| ()).map_err(|e| e.kind());
            assert_eq!(got, want, "case {name:?}");
            if want.is_ok() {
                assert_eq!(
                    RequestId::parse(input).map(|r| r.to_string()).as_deref(),
                    Ok(input)
                );
            }
        }
    }

    #[test]
    fn errors_never_echo_the_value() {
        let msg = RequestId::validate("evil\ninjected")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            msg.as_deref(),
            Some(
                "invalid request id: disallowed character at byte 4; expected 1 to 128 of [A-Za-z0-9._:-]"
            )
        );
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert!(RequestId::validate(&a).is_ok());
        assert_eq!(
            RequestId::from_header_or_generate(Some("keep-me")).as_str(),
            "keep-me"
        );
        assert_eq!(RequestId::from_header_or_generate(None).len(), 36);
        let long = "x".repeat(100);
        let shared = RequestId::parse(&long).ok();
        assert_eq!(shared.clone().map(|s| s.len()), Some(100));
        assert_eq!(shared.clone(), shared);
    }
}
