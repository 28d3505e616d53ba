//! Inline storage for a request id, so a request context is one allocation.
//!
//! Valid request ids are at most 128 bytes (see SPEC-NOTES, "Request ids");
//! they are copied into the context's own allocation instead of being boxed
//! separately. Longer ids (which core never produces) still work, boxed.

/// The longest request id stored without a separate allocation.
pub(crate) const INLINE_CAP: usize = 128;

pub(crate) enum RequestIdBuf {
    Inline { buf: [u8; INLINE_CAP], len: u8 },
    Boxed(Box<str>),
}

impl RequestIdBuf {
    pub(crate) fn new(id: &str) -> Self {
        match u8::try_from(id.len()) {
            Ok(len) if id.len() <= INLINE_CAP => {
                let mut buf = [0u8; INLINE_CAP];
                buf[..id.len()].copy_from_slice(id.as_bytes());
                Self::Inline { buf, len }
            }
            _ => Self::Boxed(id.into()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // The bytes were copied from a `&str` whole, so they are UTF-8.
            Self::Inline { buf, len } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
            Self::Boxed(id) => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_inline_and_long_ids_boxed() {
        let short = RequestIdBuf::new("req-1");
        assert!(matches!(short, RequestIdBuf::Inline { .. }));
        assert_eq!(short.as_str(), "req-1");

        let max = "a".repeat(INLINE_CAP);
        let at_cap = RequestIdBuf::new(&max);
        assert!(matches!(at_cap, RequestIdBuf::Inline { .. }));
        assert_eq!(at_cap.as_str(), max);

        let long = "b".repeat(INLINE_CAP + 1);
        let boxed = RequestIdBuf::new(&long);
        assert!(matches!(boxed, RequestIdBuf::Boxed(_)));
        assert_eq!(boxed.as_str(), long);
    }

    #[test]
    fn multibyte_ids_round_trip() {
        assert_eq!(RequestIdBuf::new("é-ü").as_str(), "é-ü");
        assert_eq!(RequestIdBuf::new("").as_str(), "");
    }
}
