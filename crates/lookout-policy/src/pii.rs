//! The PII policy: whether personally identifying data may leave the process.

use sentry_core::protocol::User;

/// Whether personally identifying information (email, username, IP address,
/// cookies, ...) may be sent, from `send_default_pii` (`SENTRY_SEND_DEFAULT_PII`).
///
/// ```
/// use lookout_policy::PiiPolicy;
/// use sentry_core::protocol::User;
///
/// let mut user = User {
///     id: Some("42".into()),
///     email: Some("ada@example.com".into()),
///     username: Some("ada".into()),
///     ..Default::default()
/// };
/// PiiPolicy::Off.filter_user(&mut user);
/// assert_eq!(user.id.as_deref(), Some("42"));
/// assert_eq!(user.email, None);
/// assert_eq!(user.username, None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PiiPolicy {
    /// No PII leaves the process (the default, as in every Sentry SDK).
    #[default]
    Off,
    /// PII is sent (`send_default_pii = true`).
    On,
}

impl PiiPolicy {
    /// The policy for a `send_default_pii` value.
    #[must_use]
    pub const fn from_send_default_pii(send_default_pii: bool) -> Self {
        if send_default_pii {
            Self::On
        } else {
            Self::Off
        }
    }

    /// Whether PII may be sent.
    #[must_use]
    pub const fn allows_pii(self) -> bool {
        matches!(self, Self::On)
    }

    /// Removes the personal fields of `user` when PII is off: email, username
    /// and IP address are dropped; the id and non-personal extra fields
    /// (role, segment, ...) stay.
    pub fn filter_user(self, user: &mut User) {
        if self.allows_pii() {
            return;
        }
        user.email = None;
        user.username = None;
        user.ip_address = None;
    }
}
