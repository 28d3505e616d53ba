//! [`Scrubber`]: the PII policy and extra keys it scrubs with, and the one
//! question every other part asks, [`Scrubber::is_denylisted`].

use super::denylist::{DENYLIST, PII_DENYLIST, normalize, normalized_eq};
use crate::pii::PiiPolicy;

/// Removes secrets (always) and personal data (with PII off).
///
/// ```
/// use lookout_policy::{PiiPolicy, Scrubber};
/// use sentry_core::protocol::{Event, Request};
///
/// let scrubber = Scrubber::new(PiiPolicy::Off);
/// let mut event = Event::default();
/// event.request = Some(Request {
///     query_string: Some("page=2&token=abc".into()),
///     cookies: Some("sessionid=xyz".into()),
///     headers: [("Authorization".to_owned(), "Bearer abc".to_owned())].into_iter().collect(),
///     ..Default::default()
/// });
/// scrubber.scrub_event(&mut event);
/// let request = event.request.unwrap();
/// assert_eq!(request.query_string.as_deref(), Some("page=2&token=[Filtered]"));
/// assert_eq!(request.cookies, None);
/// assert_eq!(request.headers["Authorization"], "[Filtered]");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    pii: PiiPolicy,
    extra_keys: Vec<String>,
}

impl Scrubber {
    /// A scrubber with the built-in denylists for this PII policy (the
    /// defaults of the Sentry Python SDK's `EventScrubber`; the PII keys only
    /// with PII off).
    #[must_use]
    pub fn new(pii: PiiPolicy) -> Self {
        Self {
            pii,
            extra_keys: Vec::new(),
        }
    }

    /// Adds keys to the denylist (compared like the built-in ones).
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    ///
    /// let scrubber = Scrubber::new(PiiPolicy::On).with_keys(["Tenant-Secret-Id"]);
    /// assert!(scrubber.is_denylisted("tenant_secret_id"));
    /// ```
    #[must_use]
    pub fn with_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.extra_keys
            .extend(keys.into_iter().map(|k| normalize(k.as_ref()).into_owned()));
        self
    }

    /// The PII policy in force.
    #[must_use]
    pub fn pii(&self) -> PiiPolicy {
        self.pii
    }

    /// Whether values under `key` are filtered.
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    ///
    /// let off = Scrubber::new(PiiPolicy::Off);
    /// assert!(off.is_denylisted("X-API-Key"));
    /// assert!(off.is_denylisted("x-real-ip"));
    /// assert!(!off.is_denylisted("page"));
    /// assert!(!Scrubber::new(PiiPolicy::On).is_denylisted("X-Real-IP"));
    /// ```
    #[must_use]
    pub fn is_denylisted(&self, key: &str) -> bool {
        // Compared as normalized without building the normalized key: every
        // transaction and event runs this for each of its keys.
        let matches = |name: &str| normalized_eq(key, name);
        DENYLIST.iter().any(|name| matches(name))
            || (!self.pii.allows_pii() && PII_DENYLIST.iter().any(|name| matches(name)))
            || self.extra_keys.iter().any(|name| matches(name))
    }
}
