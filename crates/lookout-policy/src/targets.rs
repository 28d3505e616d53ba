//! Trace propagation targets: which outgoing URLs get trace headers.

use regex::Regex;

/// The outgoing URLs that get `sentry-trace`, `baggage` (and `traceparent`):
/// all of them, or those matching one of a list of regexes
/// (`LOOKOUT_TRACE_PROPAGATION_TARGETS`).
///
/// ```
/// use lookout_policy::PropagationTargets;
///
/// assert!(PropagationTargets::All.matches("https://anything.example/"));
/// let targets = PropagationTargets::patterns(["^https://api\\.internal/"]).unwrap();
/// assert!(targets.matches("https://api.internal/users"));
/// assert!(!targets.matches("https://thirdparty.example/"));
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum PropagationTargets {
    /// Every outgoing URL (the default).
    #[default]
    All,
    /// URLs matching at least one pattern (unanchored, as in other SDKs).
    Patterns(Vec<Regex>),
}

impl PropagationTargets {
    /// Compiles patterns; an empty list propagates nowhere.
    pub fn patterns<I, S>(patterns: I) -> Result<Self, regex::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        patterns
            .into_iter()
            .map(|p| Regex::new(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Patterns)
    }

    /// Whether trace headers go to `url`.
    #[must_use]
    pub fn matches(&self, url: &str) -> bool {
        match self {
            Self::All => true,
            Self::Patterns(patterns) => patterns.iter().any(|p| p.is_match(url)),
        }
    }
}

impl PartialEq for PropagationTargets {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::All, Self::All) => true,
            (Self::Patterns(a), Self::Patterns(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.as_str() == y.as_str())
            }
            _ => false,
        }
    }
}
