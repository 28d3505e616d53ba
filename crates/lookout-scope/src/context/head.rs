//! The request's head as text, kept in the context's own allocation so that
//! an event captured inside the request can carry its URL and headers
//! without the request paying an allocation for them.
//!
//! What the text says and how it is laid out is the writer's business
//! (lookout-core writes the path, the query and the headers, one per line);
//! this module only stores it: up to [`HEAD_INLINE`] bytes inline, more in
//! one allocation of its own (a head that large is rare: a long `baggage`, a
//! big cookie), never more than [`HEAD_MAX`].

use std::sync::OnceLock;

use super::request_context::RequestContext;

/// How many bytes of a request's head are kept inside its context's
/// allocation; a longer head takes one allocation.
pub const HEAD_INLINE: usize = 1024;

/// The most bytes of a request's head that are kept; [`HeadWriter::push`]
/// refuses what would go past it.
pub const HEAD_MAX: usize = 64 * 1024;

/// A request's head as its writer wrote it; see [`RequestContext::set_head`].
pub struct HeadText {
    text: Text,
}

// Inline on purpose: the point is that a usual head costs no allocation.
#[allow(clippy::large_enum_variant)]
enum Text {
    Inline {
        len: usize,
        bytes: [u8; HEAD_INLINE],
    },
    Heap(String),
}

/// Writes a request's head into its context ([`RequestContext::set_head`]).
pub struct HeadWriter {
    text: Text,
}

impl HeadWriter {
    /// Appends `text`, unless the head would go past [`HEAD_MAX`] bytes
    /// (then nothing is appended and `false` returned).
    pub fn push(&mut self, text: &str) -> bool {
        match &mut self.text {
            Text::Inline { len, bytes } => {
                let end = *len + text.len();
                if end <= HEAD_INLINE {
                    bytes[*len..end].copy_from_slice(text.as_bytes());
                    *len = end;
                    return true;
                }
                if end > HEAD_MAX {
                    return false;
                }
                let mut heap = String::with_capacity(end.max(2 * HEAD_INLINE));
                heap.push_str(inline_str(bytes, *len));
                heap.push_str(text);
                self.text = Text::Heap(heap);
                true
            }
            Text::Heap(heap) => {
                if heap.len() + text.len() > HEAD_MAX {
                    return false;
                }
                heap.push_str(text);
                true
            }
        }
    }

    /// How many bytes were written.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.text {
            Text::Inline { len, .. } => *len,
            Text::Heap(heap) => heap.len(),
        }
    }

    /// Whether nothing was written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Only whole `&str`s are copied in, so the bytes are UTF-8.
fn inline_str(bytes: &[u8], len: usize) -> &str {
    std::str::from_utf8(&bytes[..len]).unwrap_or_default()
}

impl HeadText {
    fn as_str(&self) -> &str {
        match &self.text {
            Text::Inline { len, bytes } => inline_str(bytes, *len),
            Text::Heap(heap) => heap,
        }
    }
}

impl RequestContext {
    /// Keeps the request's head as text that `write` writes, for events
    /// captured inside the request. Set once: a second call changes nothing
    /// (and `write` is not called). Up to [`HEAD_INLINE`] bytes cost no
    /// allocation.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// assert_eq!(ctx.head(), None);
    /// ctx.set_head(|head| {
    ///     head.push("/users/7\n");
    ///     head.push("accept:text/html\n");
    /// });
    /// assert_eq!(ctx.head(), Some("/users/7\naccept:text/html\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_head(&self, write: impl FnOnce(&mut HeadWriter)) {
        if self.inner.head.get().is_some() {
            return;
        }
        let mut writer = HeadWriter {
            text: Text::Inline {
                len: 0,
                bytes: [0; HEAD_INLINE],
            },
        };
        write(&mut writer);
        let _ = self.inner.head.set(HeadText { text: writer.text });
    }

    /// The request's head as [`set_head`](Self::set_head) wrote it.
    #[must_use]
    pub fn head(&self) -> Option<&str> {
        self.inner.head.get().map(HeadText::as_str)
    }
}

/// An empty slot, for the builder.
pub(super) fn slot() -> OnceLock<HeadText> {
    OnceLock::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;

    fn ctx() -> RequestContext {
        RequestContext::new(RequestId::generate())
    }

    #[test]
    fn a_short_head_stays_inline_and_a_long_one_moves_whole() {
        let ctx = ctx();
        ctx.set_head(|head| {
            assert!(head.push("/a\n"));
            assert_eq!(head.len(), 3);
        });
        assert!(matches!(
            ctx.inner.head.get().unwrap().text,
            Text::Inline { .. }
        ));
        assert_eq!(ctx.head(), Some("/a\n"));
        // Set once.
        ctx.set_head(|_| unreachable!("a second head is not written"));

        let long = ctx_with(|head| {
            assert!(head.push("/b\n"));
            assert!(head.push(&"x".repeat(HEAD_INLINE)));
            assert!(head.push("\nend"));
        });
        let text = long.head().unwrap();
        assert!(
            text.starts_with("/b\nxxx") && text.ends_with("x\nend"),
            "{text}"
        );
        assert_eq!(text.len(), HEAD_INLINE + 7);
    }

    #[test]
    fn nothing_past_the_maximum_is_kept() {
        let ctx = ctx_with(|head| {
            assert!(head.push(&"y".repeat(HEAD_MAX - 1)));
            assert!(!head.push("zz"), "past the maximum");
            assert!(head.push("z"));
            assert!(!head.push("z"));
        });
        assert_eq!(ctx.head().unwrap().len(), HEAD_MAX);
        let inline = ctx_with(|head| assert!(!head.push(&"y".repeat(HEAD_MAX + 1))));
        assert_eq!(inline.head(), Some(""));
    }

    fn ctx_with(write: impl FnOnce(&mut HeadWriter)) -> RequestContext {
        let ctx = ctx();
        ctx.set_head(write);
        ctx
    }
}
