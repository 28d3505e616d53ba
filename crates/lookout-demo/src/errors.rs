//! The demo's typed errors and the classifiers that know them.
//!
//! Handlers return these errors; each framework module turns them into a
//! response with the framework's own error mechanism, wrapped so that
//! lookout's classifier still sees the typed error (axum: `Reported<E>`).

use std::fmt;

use lookout::classify::{Classifier, Classifiers, Level, Outcome, Verdict, by_type};

/// `GET /items/{id}`: the item does not exist (404, not an alert).
#[derive(Debug)]
pub(crate) struct NotFound {
    pub(crate) id: String,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {:?} not found", self.id)
    }
}

impl std::error::Error for NotFound {}

/// `GET /fail`: the service itself failed (500, `error_type=app_service`).
#[derive(Debug)]
pub(crate) struct ServiceError {
    source: std::io::Error,
}

impl ServiceError {
    pub(crate) fn database_down() -> Self {
        Self {
            source: std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "database connection refused",
            ),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not load the order")
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// `GET /upstream` (and a failed `/hop` call): a service we depend on
/// failed (502, `error_type=upstream`, chosen by [`UpstreamFailures`]).
#[derive(Debug)]
pub(crate) struct UpstreamError {
    pub(crate) service: String,
    pub(crate) detail: String,
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upstream {} failed: {}", self.service, self.detail)
    }
}

impl std::error::Error for UpstreamError {}

/// A custom classifier: upstream failures are alerts of their own kind,
/// grouped per upstream service, at `error` level.
pub(crate) struct UpstreamFailures;

impl Classifier for UpstreamFailures {
    fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict> {
        let error = outcome.find_error::<UpstreamError>()?;
        Some(
            Verdict::capture(Level::Error)
                .error_type("upstream")
                .fingerprint(["upstream".to_owned(), error.service.clone()])
                .tag("upstream.service", error.service.clone()),
        )
    }
}

/// `POST /jobs/welcome?fail=1`: the welcome mail could not be sent (the
/// job's error, `error_type=mail`).
#[derive(Debug)]
pub(crate) struct MailError;

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mail server refused the welcome mail")
    }
}

impl std::error::Error for MailError {}

/// The demo's classifiers: the built-ins plus the rules above.
pub(crate) fn classifiers() -> Classifiers {
    Classifiers::default()
        .with(UpstreamFailures)
        .with(by_type::<ServiceError>("app_service"))
        .with(by_type::<MailError>("mail"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Method, StatusCode};

    #[test]
    fn upstream_and_service_errors_get_their_error_type() {
        let upstream = UpstreamError {
            service: "inventory".into(),
            detail: "timeout".into(),
        };
        let outcome =
            Outcome::new(&Method::GET, "/upstream", StatusCode::BAD_GATEWAY).with_error(&upstream);
        let decision = classifiers().decide(&outcome);
        assert!(decision.is_capture());
        assert_eq!(decision.error_type(), Some("upstream"));

        let service = ServiceError::database_down();
        let outcome = Outcome::new(&Method::GET, "/fail", StatusCode::INTERNAL_SERVER_ERROR)
            .with_error(&service);
        assert_eq!(
            classifiers().decide(&outcome).error_type(),
            Some("app_service")
        );

        let missing = NotFound { id: "9".into() };
        let outcome =
            Outcome::new(&Method::GET, "/items/9", StatusCode::NOT_FOUND).with_error(&missing);
        assert!(!classifiers().decide(&outcome).is_capture());
    }
}
