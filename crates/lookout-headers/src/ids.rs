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
                Self::from_hex(bytes).ok_or(IdError::new($what, Self::HEX_LEN))
            }

            /// [`Self::parse_hex_bytes`] without the error, for the hot
            /// paths (returned in registers, inlined).
            #[inline]
            pub(crate) fn from_hex(bytes: &[u8]) -> Option<Self> {
                let hex: &[u8; $len * 2] = bytes.try_into().ok()?;
                decode_hex(hex).map(Self)
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

/// Decodes `2 * N` lowercase hex digits into `N` bytes, or `None` if any
/// digit is not lowercase hex.
///
/// No table and no branch per digit: the check is a fixed-size loop the
/// compiler turns into a few vector compares, and the digits are then
/// combined eight at a time in a `u64` (SWAR). A trace id takes well under a
/// hundred instructions; this runs for every incoming request.
#[inline]
fn decode_hex<const N: usize, const M: usize>(hex: &[u8; M]) -> Option<[u8; N]> {
    let mut bad = 0u8;
    for &c in hex {
        let digit = c.wrapping_sub(b'0');
        let letter = c.wrapping_sub(b'a');
        // `|`, not `||`: no branch, so the loop vectorizes.
        bad |= u8::from(!((digit < 10) | (letter < 6)));
    }
    if bad != 0 || M != 2 * N || !M.is_multiple_of(8) {
        return None;
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut out = [0u8; N];
    for (out, chunk) in out.chunks_exact_mut(4).zip(hex.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Digit values, right for what passed the check: `0`-`9` are
        // 0x30-0x39, `a`-`f` are 0x61-0x66 (bit 6 set, low nibble 1-6).
        let nibbles = (w & (ONES * 0x0f)) + ((w >> 6) & ONES) * 9;
        // Byte 2k is the high nibble of output byte k, byte 2k+1 the low one.
        let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
        let quads = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
        out.copy_from_slice(&((quads | (quads >> 16)) as u32).to_le_bytes());
    }
    Some(out)
}

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
    fn every_byte_value_is_classified_like_a_lowercase_hex_digit() {
        for c in 0..=255u8 {
            let mut hex = *b"0123456789abcdef";
            hex[5] = c;
            let want = matches!(c, b'0'..=b'9' | b'a'..=b'f');
            let got = SpanId::parse_hex_bytes(&hex);
            assert_eq!(got.is_ok(), want, "byte {c:#04x}");
            if let Ok(id) = got {
                assert_eq!(id.to_string().as_bytes(), &hex[..], "byte {c:#04x}");
            }
        }
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
