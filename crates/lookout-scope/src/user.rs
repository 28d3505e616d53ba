//! The signed-in user of a request, as application code describes it.
//!
//! [`User`] is what auth code hands to `identify`; it stays complete inside the
//! process. Which of its fields may reach Sentry is decided by
//! [`PiiPolicy`](lookout_policy::PiiPolicy) when the user is put on a request's
//! scope, never here.

use std::collections::BTreeMap;
use std::net::IpAddr;

use lookout_policy::PiiPolicy;
use sentry_core::protocol::{self, IpAddress, Value};

/// A user, built with [`User::id`] (or [`User::new`]) and chained setters.
///
/// Fields are public for reading (a demo page can list who called);
/// outside this crate a `User` is only built through the builder.
///
/// ```
/// use lookout_scope::User;
///
/// let user = User::id("42")
///     .email("ada@example.com")
///     .username("ada")
///     .role("admin")
///     .segment("enterprise")
///     .extra("plan", "pro");
/// assert_eq!(user.id.as_deref(), Some("42"));
/// assert_eq!(user.role.as_deref(), Some("admin"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct User {
    /// The application's id for the user.
    pub id: Option<String>,
    /// Email address (PII: dropped before reaching Sentry unless PII is on).
    pub email: Option<String>,
    /// Username (PII: dropped before reaching Sentry unless PII is on).
    pub username: Option<String>,
    /// IP address (PII: dropped before reaching Sentry unless PII is on).
    pub ip_address: Option<IpAddr>,
    /// Role, e.g. `admin`; also tagged `user_role` on the request.
    pub role: Option<String>,
    /// Segment, e.g. a plan or cohort.
    pub segment: Option<String>,
    /// Further fields, sent as extra user data.
    pub extra: BTreeMap<String, Value>,
}

impl User {
    /// A user known by the application's id for it.
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// assert_eq!(User::id(42).id.as_deref(), Some("42"));
    /// ```
    #[must_use]
    pub fn id(id: impl ToString) -> Self {
        Self {
            id: Some(id.to_string()),
            ..Self::default()
        }
    }

    /// A user with no id yet (for example known only by email).
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// let user = User::new().email("ada@example.com");
    /// assert_eq!(user.id, None);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the email address.
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// let user = User::id("42").email("ada@example.com");
    /// assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    /// ```
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the username.
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// let user = User::id("42").username("ada");
    /// assert_eq!(user.username.as_deref(), Some("ada"));
    /// ```
    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the IP address.
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv4Addr};
    /// use lookout_scope::User;
    ///
    /// let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    /// let user = User::id("42").ip_address(ip);
    /// assert_eq!(user.ip_address, Some(ip));
    /// ```
    #[must_use]
    pub fn ip_address(mut self, ip: IpAddr) -> Self {
        self.ip_address = Some(ip);
        self
    }

    /// Sets the role; the request is then tagged `user_role=<role>`.
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// let user = User::id("42").role("admin");
    /// assert_eq!(user.role.as_deref(), Some("admin"));
    /// ```
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Sets the segment (a plan, a cohort, ...).
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// let user = User::id("42").segment("enterprise");
    /// assert_eq!(user.segment.as_deref(), Some("enterprise"));
    /// ```
    #[must_use]
    pub fn segment(mut self, segment: impl Into<String>) -> Self {
        self.segment = Some(segment.into());
        self
    }

    /// Adds a further field; a later call with the same key replaces the value.
    ///
    /// ```
    /// use lookout_scope::User;
    ///
    /// let user = User::id("42").extra("plan", "pro").extra("seats", 12);
    /// assert_eq!(user.extra["plan"], "pro");
    /// assert_eq!(user.extra["seats"], 12);
    /// ```
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The Sentry user for this user, with the personal fields `pii` does not
    /// allow removed.
    ///
    /// Role and segment travel as the extra user fields `role` and `segment`;
    /// they win over extra fields of the same name.
    ///
    /// ```
    /// use lookout_policy::PiiPolicy;
    /// use lookout_scope::User;
    ///
    /// let user = User::id("42").email("ada@example.com").role("admin");
    /// let off = user.to_sentry_user(PiiPolicy::Off);
    /// assert_eq!(off.id.as_deref(), Some("42"));
    /// assert_eq!(off.email, None);
    /// assert_eq!(off.other["role"], "admin");
    /// let on = user.to_sentry_user(PiiPolicy::On);
    /// assert_eq!(on.email.as_deref(), Some("ada@example.com"));
    /// ```
    #[must_use]
    pub fn to_sentry_user(&self, pii: PiiPolicy) -> protocol::User {
        let mut other = protocol::Map::new();
        for (key, value) in &self.extra {
            other.insert(key.clone(), value.clone());
        }
        if let Some(role) = &self.role {
            other.insert("role".to_owned(), Value::from(role.as_str()));
        }
        if let Some(segment) = &self.segment {
            other.insert("segment".to_owned(), Value::from(segment.as_str()));
        }
        let mut user = protocol::User {
            id: self.id.clone(),
            email: self.email.clone(),
            username: self.username.clone(),
            ip_address: self.ip_address.map(IpAddress::Exact),
            other,
        };
        pii.filter_user(&mut user);
        user
    }
}
