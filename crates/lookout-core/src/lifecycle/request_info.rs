//! The path and query of a request, kept (only when a client is bound) for
//! classification at `finish`.

/// Paths and queries up to this many bytes are kept inside the request's
/// state itself; longer ones take one allocation.
const INLINE_PATH: usize = 80;

/// The path and query of one request.
pub(super) struct RequestInfo {
    text: PathText,
    path_len: usize,
    has_query: bool,
}

/// The bytes of the path and query: inline when short (most are), so a bound
/// client costs no allocation for them.
enum PathText {
    Inline { buf: [u8; INLINE_PATH], len: usize },
    Heap(Box<str>),
}

impl RequestInfo {
    pub(super) fn new(path: &str, query: Option<&str>) -> Self {
        let query_len = query.map_or(0, str::len);
        let len = path.len() + query_len;
        let text = if len <= INLINE_PATH {
            let mut buf = [0u8; INLINE_PATH];
            buf[..path.len()].copy_from_slice(path.as_bytes());
            buf[path.len()..len].copy_from_slice(query.unwrap_or_default().as_bytes());
            PathText::Inline { buf, len }
        } else {
            let mut text = String::with_capacity(len);
            text.push_str(path);
            text.push_str(query.unwrap_or_default());
            PathText::Heap(text.into_boxed_str())
        };
        Self {
            text,
            path_len: path.len(),
            has_query: query.is_some(),
        }
    }

    fn text(&self) -> &str {
        match &self.text {
            // Two whole `&str`s were copied in: valid UTF-8, split on their
            // boundary only.
            PathText::Inline { buf, len } => std::str::from_utf8(&buf[..*len]).unwrap_or_default(),
            PathText::Heap(text) => text,
        }
    }

    pub(super) fn path(&self) -> &str {
        self.text().get(..self.path_len).unwrap_or_default()
    }

    pub(super) fn query(&self) -> Option<&str> {
        self.has_query
            .then(|| self.text().get(self.path_len..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::{PathText, RequestInfo};

    #[test]
    fn short_paths_are_kept_inline_and_long_ones_whole() {
        for (path, query) in [
            ("/users/7", None),
            ("/users/7", Some("a=1&b=%C3%A9")),
            ("/ünïcode/päth", Some("q=ü")),
            ("", Some("")),
        ] {
            let info = RequestInfo::new(path, query);
            assert!(matches!(info.text, PathText::Inline { .. }));
            assert_eq!((info.path(), info.query()), (path, query));
        }
        let long_path = "/a".repeat(60);
        let info = RequestInfo::new(&long_path, Some("x=1"));
        assert!(matches!(info.text, PathText::Heap(_)));
        assert_eq!(
            (info.path(), info.query()),
            (long_path.as_str(), Some("x=1"))
        );
        let info = RequestInfo::new(&"/é".repeat(40), None);
        assert_eq!(info.path(), "/é".repeat(40));
    }
}
