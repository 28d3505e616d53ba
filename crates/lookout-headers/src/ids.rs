//! Trace and span identifiers: fixed-size byte arrays with lowercase-hex parse and format.
//!
//! These are the ids every other lookout crate passes around. Parsing accepts
//! exactly the lowercase hex the Sentry and W3C grammars allow; formatting never
//! allocates unless the caller asks for a `String`.

use std::fmt;
use std::str::FromStr;

use crate::error::IdError;

/// A 128-bit trace id, written as 32 lowercase hex digits.
///
/// ```
/// use lookout_headers::TraceId;
///
/// let id: TraceId = "771a43a4192642f0b136d5159a501700".parse()?;
/// assert_eq!(id.to_string(), "771a43a4192642f0b136d5159a501700");
/// assert!(!id.is_zero());
/// # Ok::<(), lookout_headers::IdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId([u8; 16]);

/// A 64-bit span id, written as 16 lowercase hex digits.
///
/// ```
/// use lookout_headers::SpanId;
///
/// let id: SpanId = "a8c2d5f4e3b21907".parse()?;
/// assert_eq!(id.to_string(), "a8c2d5f4e3b21907");
/// # Ok::<(), lookout_headers::IdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId([u8; 8]);

macro_rules! hex_id {
    ($ty:ident, $len:literal, $what:literal) => {
        impl $ty {
            /// The number of hex digits in the textual form.
            pub const HEX_LEN: usize = $len * 2;

            /// Wraps raw bytes.
            #[must_use]
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            #[must_use]
            pub const fn to_bytes(self) -> [u8; $len] {
                self.0
            }

            /// Whether every byte is zero (W3C Trace Context calls such an id invalid).
            #[must_use]
            pub fn is_zero(&self) -> bool {
                self.0.iter().all(|b| *b == 0)
            }

            /// A fresh random id (never all zero), from the `uuid` crate's fast RNG.
            #[must_use]
            pub fn random() -> Self {
                loop {
                    let bytes = uuid::Uuid::new_v4().into_bytes();
                    let mut out = [0u8; $len];
                    out.copy_from_slice(&bytes[..$len]);
                    let id = Self(out);
                    if !id.is_zero() {
                        return id;
                    }
                }
            }

            /// Parses exactly
            #[doc = concat!(stringify!($len), " bytes written as lowercase hex.")]
            ///
            /// Uppercase digits are rejected, as the Sentry and W3C grammars require.
            pub fn parse_hex(s: &str) -> Result<Self, IdError> {
                Self::parse_hex_bytes(s.as_bytes())
            }

            /// [`Self::parse_hex`] on bytes (no UTF-8 check needed: only
            /// ASCII hex digits are accepted).
            pub(crate) fn parse_hex_bytes(bytes: &[u8]) -> Result<Self, IdError> {
                if bytes.len() != Self::HEX_LEN {
                    return Err(IdError::new($what, Self::HEX_LEN));
                }
                let mut out = [0u8; $len];
                let mut bad = 0u8;
                for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    let (hi, lo) = (
                        HEX_VALUE[usize::from(pair[0])],
                        HEX_VALUE[usize::from(pair[1])],
                    );
                    // Invalid digits map to 0x10: one check after the loop.
                    bad |= hi | lo;
                    *o = (hi << 4) | (lo & 0x0f);
                }
                if bad & 0x10 != 0 {
                    return Err(IdError::new($what, Self::HEX_LEN));
                }
                Ok(Self(out))
            }

            /// Writes the id as lowercase hex into a stack buffer and returns it as `&str`.
            pub fn encode_hex<'b>(&self, buf: &'b mut [u8; $len * 2]) -> &'b str {
                for (i, b) in self.0.iter().enumerate() {
                    buf[2 * i] = HEX[(b >> 4) as usize];
                    buf[2 * i + 1] = HEX[(b & 0x0f) as usize];
                }
                // Only ASCII hex digits were written.
                std::str::from_utf8(buf).unwrap_or_default()
            }
        }

        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_hex(s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; $len * 2];
                f.write_str(self.encode_hex(&mut buf))
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self)
            }
        }

        impl From<[u8; $len]> for $ty {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }
    };
}

hex_id!(TraceId, 16, "trace id");
hex_id!(SpanId, 8, "span id");

impl TraceId {
    /// The id as a big-endian `u128` (handy for deterministic derivations).
    #[must_use]
    pub const fn to_u128(self) -> u128 {
        u128::from_be_bytes(self.0)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex digit values; every other byte maps to 0x10 (invalid).
static HEX_VALUE: [u8; 256] = {
    let mut table = [0x10u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(feature = "sentry")]
mod sentry_conv {
    use super::{SpanId, TraceId};

    impl From<TraceId> for sentry_types::protocol::v7::TraceId {
        fn from(id: TraceId) -> Self {
            id.to_bytes().into()
        }
    }

    impl From<sentry_types::protocol::v7::TraceId> for TraceId {
        fn from(id: sentry_types::protocol::v7::TraceId) -> Self {
            // sentry-types formats its ids as lowercase hex of the same width.
            TraceId::parse_hex(&id.to_string()).unwrap_or_default()
        }
    }

    impl From<SpanId> for sentry_types::protocol::v7::SpanId {
        fn from(id: SpanId) -> Self {
            id.to_bytes().into()
        }
    }

    impl From<sentry_types::protocol::v7::SpanId> for SpanId {
        fn from(id: sentry_types::protocol::v7::SpanId) -> Self {
            SpanId::parse_hex(&id.to_string()).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_id_round_trips_lowercase_hex() {
        let s = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            TraceId::parse_hex(s).map(|t| t.to_string()).as_deref(),
            Ok(s)
        );
    }

    #[test]
    fn uppercase_wrong_length_and_non_hex_are_rejected() {
        assert!(TraceId::parse_hex("0123456789ABCDEF0123456789abcdef").is_err());
        assert!(TraceId::parse_hex("0123456789abcdef").is_err());
        assert!(SpanId::parse_hex("0123456789abcdeg").is_err());
        assert!(SpanId::parse_hex("").is_err());
    }

    #[test]
    fn zero_ids_are_detected_and_random_ids_are_never_zero() {
        assert!(TraceId::default().is_zero());
        assert!(SpanId::parse_hex("0000000000000000").is_ok_and(|s| s.is_zero()));
        for _ in 0..100 {
            assert!(!TraceId::random().is_zero());
            assert!(!SpanId::random().is_zero());
        }
    }
}
