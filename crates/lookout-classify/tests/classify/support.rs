//! Error types shared by the suites: a four-level chain and an upstream-API error.

use std::error::Error;
use std::fmt;

/// Bottom of the chain, three levels below [`HandlerError`].
#[derive(Debug)]
pub(crate) struct DbTimeout {
    pub(crate) after_ms: u64,
}

#[derive(Debug)]
pub(crate) struct RepoError {
    pub(crate) source: DbTimeout,
}

#[derive(Debug)]
pub(crate) struct ServiceError {
    pub(crate) source: RepoError,
}

/// What the handler returns.
#[derive(Debug)]
pub(crate) struct HandlerError {
    pub(crate) source: ServiceError,
}

pub(crate) static DEEP: HandlerError = HandlerError {
    source: ServiceError {
        source: RepoError {
            source: DbTimeout { after_ms: 500 },
        },
    },
};

impl fmt::Display for DbTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database timed out after {} ms", self.after_ms)
    }
}
impl Error for DbTimeout {}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("loading the user failed")
    }
}
impl Error for RepoError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("user service failed")
    }
}
impl Error for ServiceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GET /users/{id} failed")
    }
}
impl Error for HandlerError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// An error from a third-party API the service calls.
#[derive(Debug)]
pub(crate) struct UpstreamError {
    pub(crate) service: &'static str,
    pub(crate) status: u16,
}

pub(crate) static UPSTREAM_503: UpstreamError = UpstreamError {
    service: "billing",
    status: 503,
};

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.service, self.status)
    }
}
impl Error for UpstreamError {}

/// A plain validation error a handler maps to 400.
#[derive(Debug)]
pub(crate) struct Invalid;

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("name must not be empty")
    }
}
impl Error for Invalid {}
