//! [`Outcome`]: the borrowed description of a finished request that classifiers look at.
//!
//! This module owns the view and the walk over an error's `source()` chain. It does not
//! own the extraction of these facts from a framework: adapters fill an `Outcome` in.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};

/// What a finished request looked like, borrowed from the adapter that served it.
///
/// Build one with [`Outcome::new`] and the `with_*` setters; each consumes and returns the
/// outcome, so an adapter fills in what it knows and leaves the rest at its default. The
/// getters carry the plain names (`route()`, `error()`, ...) because classifiers read them.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use http::{Method, StatusCode};
/// use lookout_classify::Outcome;
///
/// let err = std::io::Error::other("upstream closed the connection");
/// let outcome = Outcome::new(&Method::GET, "/users/42", StatusCode::BAD_GATEWAY)
///     .with_route("/users/{id}")
///     .with_query("verbose=1")
///     .with_error(&err)
///     .with_latency(Duration::from_millis(31));
///
/// assert_eq!(outcome.route(), Some("/users/{id}"));
/// assert!(outcome.find_error::<std::io::Error>().is_some());
/// ```
#[derive(Clone, Copy)]
#[must_use]
pub struct Outcome<'a> {
    method: &'a Method,
    origin: Option<&'a str>,
    route: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    status: StatusCode,
    error: Option<&'a (dyn Error + 'static)>,
    error_rust_type: Option<&'static str>,
    panic: Option<&'a str>,
    latency: Duration,
}

impl<'a> Outcome<'a> {
    /// An outcome for `method` on `path` that finished with `status`, without an error, a
    /// panic, a route template or a query, and with a latency of zero.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::Outcome;
    ///
    /// let outcome = Outcome::new(&Method::POST, "/orders", StatusCode::CREATED);
    /// assert_eq!(outcome.status(), StatusCode::CREATED);
    /// assert!(outcome.error().is_none());
    /// ```
    pub fn new(method: &'a Method, path: &'a str, status: StatusCode) -> Self {
        Outcome {
            method,
            origin: None,
            route: None,
            path,
            query: None,
            status,
            error: None,
            error_rust_type: None,
            panic: None,
            latency: Duration::ZERO,
        }
    }

    /// The route template the framework matched, such as `/users/{id}`.
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::OK).with_route("/users/{id}");
    /// assert_eq!(outcome.route(), Some("/users/{id}"));
    /// ```
    pub fn with_route(mut self, route: &'a str) -> Self {
        self.route = Some(route);
        self
    }

    /// The raw query string, without the leading `?`; an empty one is treated as absent.
    ///
    /// It is recorded unscrubbed: lookout-policy's scrubber runs on every event before it
    /// is sent.
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let outcome = Outcome::new(&Method::GET, "/search", StatusCode::OK).with_query("q=rust");
    /// assert_eq!(outcome.query(), Some("q=rust"));
    /// assert_eq!(outcome.with_query("").query(), None);
    /// ```
    pub fn with_query(mut self, query: &'a str) -> Self {
        self.query = (!query.is_empty()).then_some(query);
        self
    }

    /// Scheme and authority the request was addressed to, such as `https://api.example.com`.
    ///
    /// Only used to give the event's request an absolute URL; without it the event records
    /// the path alone.
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::OK).with_origin("https://api.example.com");
    /// assert_eq!(outcome.origin(), Some("https://api.example.com"));
    /// ```
    pub fn with_origin(mut self, origin: &'a str) -> Self {
        self.origin = Some(origin);
        self
    }

    /// The typed error the handler failed with.
    ///
    /// Taking the concrete type lets the event name it exactly
    /// ([`std::any::type_name`]); errors further down the `source()` chain are only known
    /// as `dyn Error`. Use [`Outcome::with_error_dyn`] when only a trait object is at hand:
    /// passing `&&dyn Error` here would make the reference the top-level type, and
    /// `downcast_ref` to the real type would miss it.
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let err: std::num::ParseIntError = "x".parse::<u8>().unwrap_err();
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_REQUEST).with_error(&err);
    /// assert!(outcome.error_rust_type().unwrap().ends_with("::ParseIntError"));
    /// ```
    pub fn with_error<E: Error + 'static>(mut self, error: &'a E) -> Self {
        self.error = Some(error);
        self.error_rust_type = Some(std::any::type_name::<E>());
        self
    }

    /// The error the handler failed with, when only a trait object is available.
    ///
    /// `downcast_ref` still works, but the event falls back to parsing the type name from
    /// the error's `Debug` output.
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = "boom".into();
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::INTERNAL_SERVER_ERROR)
    ///     .with_error_dyn(boxed.as_ref());
    /// assert_eq!(outcome.error().map(ToString::to_string).as_deref(), Some("boom"));
    /// assert_eq!(outcome.error_rust_type(), None);
    /// ```
    pub fn with_error_dyn(mut self, error: &'a (dyn Error + 'static)) -> Self {
        self.error = Some(error);
        self.error_rust_type = None;
        self
    }

    /// The handler panicked with this message (see [`panic_message`]).
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::INTERNAL_SERVER_ERROR)
    ///     .with_panic("index out of bounds");
    /// assert_eq!(outcome.panic(), Some("index out of bounds"));
    /// ```
    pub fn with_panic(mut self, message: &'a str) -> Self {
        self.panic = Some(message);
        self
    }

    /// How long the request took, from arrival to the end of the response.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::OK).with_latency(Duration::from_millis(5));
    /// assert_eq!(outcome.latency(), Duration::from_millis(5));
    /// ```
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

impl<'a> Outcome<'a> {
    /// The request method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// Scheme and authority, when the adapter knew them.
    pub fn origin(&self) -> Option<&'a str> {
        self.origin
    }

    /// The matched route template, when the framework knew one.
    pub fn route(&self) -> Option<&'a str> {
        self.route
    }

    /// The request path as received (no query).
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The top-level error, if the handler failed with one.
    pub fn error(&self) -> Option<&'a (dyn Error + 'static)> {
        self.error
    }

    /// The full Rust type name of the top-level error, when it was given by type
    /// ([`Outcome::with_error`]).
    pub fn error_rust_type(&self) -> Option<&'static str> {
        self.error_rust_type
    }

    /// The panic message, if the handler panicked.
    pub fn panic(&self) -> Option<&'a str> {
        self.panic
    }

    /// How long the request took.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// The top-level error followed by each of its `source()`s, outermost first.
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let err = std::io::Error::other("disk on fire");
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::INTERNAL_SERVER_ERROR).with_error(&err);
    /// assert_eq!(outcome.errors().count(), 1);
    /// ```
    pub fn errors(&self) -> Chain<'a> {
        Chain {
            next: self.error,
            remaining: MAX_CHAIN,
        }
    }

    /// The first error of type `E` in the chain (the top-level error included).
    ///
    /// ```
    /// # use http::{Method, StatusCode};
    /// # use lookout_classify::Outcome;
    /// let err = std::io::Error::other("disk on fire");
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::INTERNAL_SERVER_ERROR).with_error(&err);
    /// assert_eq!(outcome.find_error::<std::io::Error>().unwrap().to_string(), "disk on fire");
    /// assert!(outcome.find_error::<std::fmt::Error>().is_none());
    /// ```
    pub fn find_error<E: Error + 'static>(&self) -> Option<&'a E> {
        self.errors().find_map(|e| e.downcast_ref::<E>())
    }
}

impl fmt::Debug for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("method", self.method)
            .field("origin", &self.origin)
            .field("route", &self.route)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("status", &self.status)
            .field("error", &self.error.map(ToString::to_string))
            .field("error_rust_type", &self.error_rust_type)
            .field("panic", &self.panic)
            .field("latency", &self.latency)
            .finish()
    }
}

/// Longest chain walked: a `source()` that (wrongly) points back up the chain must not
/// hang the request.
const MAX_CHAIN: usize = 64;

/// Iterator over an error and its `source()` chain, outermost first, at most 64 errors;
/// see [`Outcome::errors`].
#[derive(Clone, Debug)]
pub struct Chain<'a> {
    next: Option<&'a (dyn Error + 'static)>,
    remaining: usize,
}

impl<'a> Iterator for Chain<'a> {
    type Item = &'a (dyn Error + 'static);

    fn next(&mut self) -> Option<Self::Item> {
        let current = self.next?;
        self.remaining -= 1;
        self.next = if self.remaining == 0 {
            None
        } else {
            current.source()
        };
        Some(current)
    }
}

/// The message of a caught panic payload (from `catch_unwind` or a `JoinError`).
///
/// Panics made with a literal or a formatted message carry `&str` or `String`; anything
/// else yields `"Box<dyn Any>"`, the same text the standard panic hook prints.
///
/// ```
/// use lookout_classify::panic_message;
///
/// let payload = std::panic::catch_unwind(|| panic!("bad index {}", 3)).unwrap_err();
/// assert_eq!(panic_message(payload.as_ref()), "bad index 3");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "Box<dyn Any>"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose `source()` is itself.
    #[derive(Debug)]
    struct Cycle;

    impl fmt::Display for Cycle {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cycle")
        }
    }

    impl Error for Cycle {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&Cycle)
        }
    }

    #[test]
    fn cyclic_chain_is_bounded() {
        let outcome =
            Outcome::new(&Method::GET, "/", StatusCode::INTERNAL_SERVER_ERROR).with_error(&Cycle);
        assert_eq!(outcome.errors().count(), MAX_CHAIN);
        assert!(outcome.find_error::<std::fmt::Error>().is_none());
    }

    #[test]
    fn panic_payloads() {
        let text = std::panic::catch_unwind(|| panic!("literal")).unwrap_err();
        assert_eq!(panic_message(text.as_ref()), "literal");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "Box<dyn Any>");
    }
}
