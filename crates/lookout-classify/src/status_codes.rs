//! [`StatusCodes`]: the built-in rule that decides by HTTP status.
//!
//! Like tower-http's `StatusInRangeAsFailures`, but with three outcomes instead of two:
//! statuses in the capture set become events, other 4xx and 5xx become one Sentry Log
//! (`warn` for a 4xx, `error` for a 5xx), the rest is ignored. This module does not look at errors; [`by_type`](crate::by_type) and
//! the fallback of [`Classifiers`](crate::Classifiers) do.

use std::ops::{Bound, RangeBounds};

use sentry_core::Level;

use crate::verdict::default_log_level;
use crate::{Classifier, Outcome, Verdict};

/// Decide by status code: capture a configurable set, record any other status from 400 up
/// as a Sentry Log (`warn` for a 4xx, `error` for a 5xx), ignore the rest.
///
/// The default captures 500..=599 at [`Level::Error`], the same default as the official
/// SDKs' `failed_request_status_codes`.
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{Action, Classifier, Level, LogLevel, Outcome, StatusCodes};
///
/// let rule = StatusCodes::default();
/// let outcome = |status| Outcome::new(&Method::GET, "/", status);
/// let action = |status| rule.classify(&outcome(status)).and_then(|v| v.action());
///
/// assert_eq!(action(StatusCode::BAD_GATEWAY), Some(Action::Capture { level: Level::Error }));
/// assert_eq!(action(StatusCode::NOT_FOUND), Some(Action::Log { level: LogLevel::Warn }));
/// assert_eq!(action(StatusCode::OK), Some(Action::Ignore));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct StatusCodes {
    capture: Vec<(u16, u16)>,
    exclude: Vec<(u16, u16)>,
    level: Level,
}

impl Default for StatusCodes {
    fn default() -> Self {
        StatusCodes::none().capture(500..=599)
    }
}

impl StatusCodes {
    /// Capture no status at all: 4xx and 5xx become logs, nothing becomes an event
    /// unless another rule says so. Add ranges with [`StatusCodes::capture`].
    ///
    /// ```
    /// use lookout_classify::StatusCodes;
    ///
    /// let only_gateway_errors = StatusCodes::none().capture(502..=504);
    /// assert!(only_gateway_errors.captures(503));
    /// assert!(!only_gateway_errors.captures(500));
    /// ```
    pub fn none() -> Self {
        StatusCodes {
            capture: Vec::new(),
            exclude: Vec::new(),
            level: Level::Error,
        }
    }

    /// Also capture the statuses in `range` (`500..=599`, `429..=429`, `500..`, ...).
    ///
    /// ```
    /// use lookout_classify::StatusCodes;
    ///
    /// let rule = StatusCodes::default().capture(429..=429);
    /// assert!(rule.captures(429) && rule.captures(500));
    /// ```
    pub fn capture(mut self, range: impl RangeBounds<u16>) -> Self {
        self.capture.push(inclusive(&range));
        self
    }

    /// Never capture the statuses in `range`, even when a capture range contains them;
    /// they become a log instead (`error` for a 5xx).
    ///
    /// ```
    /// use lookout_classify::StatusCodes;
    ///
    /// // A load balancer answers 503 during deploys: not worth an alert.
    /// let rule = StatusCodes::default().exclude(503..=503);
    /// assert!(!rule.captures(503));
    /// assert!(rule.captures(502));
    /// ```
    pub fn exclude(mut self, range: impl RangeBounds<u16>) -> Self {
        self.exclude.push(inclusive(&range));
        self
    }

    /// The level of captured events (default [`Level::Error`]).
    ///
    /// ```
    /// use lookout_classify::{Level, StatusCodes};
    ///
    /// let rule = StatusCodes::default().level(Level::Warning);
    /// assert_eq!(rule.capture_level(), Level::Warning);
    /// ```
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Whether `status` is in the capture set and not excluded.
    pub fn captures(&self, status: u16) -> bool {
        let within = |ranges: &[(u16, u16)]| {
            ranges
                .iter()
                .any(|&(start, end)| (start..=end).contains(&status))
        };
        within(&self.capture) && !within(&self.exclude)
    }

    /// The level of captured events.
    pub fn capture_level(&self) -> Level {
        self.level
    }

    /// The verdict for `outcome`'s status; never open, so it can complete another
    /// verdict.
    pub(crate) fn verdict(&self, outcome: &Outcome<'_>) -> Verdict {
        let status = outcome.status().as_u16();
        if self.captures(status) {
            Verdict::capture(self.level)
        } else if status >= 400 {
            Verdict::log(default_log_level(status))
        } else {
            Verdict::ignore()
        }
    }
}

impl Classifier for StatusCodes {
    fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict> {
        Some(self.verdict(outcome))
    }
}

fn inclusive(range: &impl RangeBounds<u16>) -> (u16, u16) {
    let start = match range.start_bound() {
        Bound::Included(&start) => start,
        Bound::Excluded(&start) => start.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&end) => end,
        // `..0` is empty: (1, 0) contains nothing.
        Bound::Excluded(&0) => return (1, 0),
        Bound::Excluded(&end) => end - 1,
        Bound::Unbounded => u16::MAX,
    };
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_forms() {
        assert_eq!(inclusive(&(500..600)), (500, 599));
        assert_eq!(inclusive(&(500..=599)), (500, 599));
        assert_eq!(inclusive(&(500..)), (500, u16::MAX));
        assert_eq!(inclusive(&(..400)), (0, 399));
        let empty = inclusive(&(..0));
        assert!(!(empty.0..=empty.1).contains(&0));
    }

    #[test]
    fn exclusion_wins_over_capture() {
        let rule = StatusCodes::default().exclude(503..=503);
        assert!(rule.captures(500));
        assert!(!rule.captures(503));
        assert!(!rule.captures(404));
    }
}
