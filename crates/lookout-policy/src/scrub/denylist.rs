//! Which keys are filtered, what replaces their values, and how a key is
//! compared (ASCII case-insensitive, `-` read as `_`).

use std::borrow::Cow;

/// The replacement for a scrubbed value.
pub const FILTERED: &str = "[Filtered]";

/// Keys whose values are always filtered (normalized: lowercase, `_` for `-`).
pub(super) const DENYLIST: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "token",
    "session",
    "csrftoken",
    "sessionid",
    "x_csrftoken",
    "x_forwarded_for",
    "set_cookie",
    "cookie",
    "authorization",
    "proxy_authorization",
    "x_api_key",
    "connect.sid",
    "csrf_token",
    "csrf",
    "_csrf",
    "_csrf_token",
    "phpsessid",
    "_session",
    "user_session",
    "_xsrf",
    "xsrf_token",
];

/// Keys filtered too when PII is off.
pub(super) const PII_DENYLIST: &[&str] = &["x_real_ip", "ip_address", "remote_addr"];

/// Whether `key`, normalized (ASCII lowercase, `-` read as `_`), equals
/// `name` (already normalized), without allocating.
pub(super) fn normalized_eq(key: &str, name: &str) -> bool {
    key.len() == name.len()
        && key.bytes().zip(name.bytes()).all(|(k, n)| {
            let k = if k == b'-' {
                b'_'
            } else {
                k.to_ascii_lowercase()
            };
            k == n
        })
}

pub(super) fn normalize(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase() || b == b'-') {
        Cow::Owned(key.to_ascii_lowercase().replace('-', "_"))
    } else {
        Cow::Borrowed(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PiiPolicy, Scrubber};

    /// The allocation-free comparison agrees with normalizing first.
    #[test]
    fn normalized_comparison_matches_normalizing_first() {
        let names = DENYLIST
            .iter()
            .chain(PII_DENYLIST)
            .chain(&["query", "url.query"]);
        for name in names {
            for key in [
                name.to_string(),
                name.to_ascii_uppercase(),
                name.replace('_', "-"),
                name.replace('_', "-").to_ascii_uppercase(),
                format!("{name}x"),
                format!("x{name}"),
                name.replace('_', " "),
                "Ünïcödé-KEY".to_owned(),
            ] {
                assert_eq!(
                    normalized_eq(&key, name),
                    normalize(&key) == *name,
                    "{key} vs {name}"
                );
            }
        }
    }

    #[test]
    fn keys_normalize_dash_and_case() {
        let s = Scrubber::new(PiiPolicy::On);
        for key in [
            "X-CSRFToken",
            "XSRF-TOKEN",
            "Proxy-Authorization",
            "connect.sid",
            "PHPSESSID",
        ] {
            assert!(s.is_denylisted(key), "{key}");
        }
        assert!(!s.is_denylisted("author"));
    }
}
