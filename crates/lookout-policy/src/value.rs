//! Parsers for setting values: one function per [`SettingKind`](crate::SettingKind).
//!
//! Each parser refuses what it does not accept with a [`ConfigError`] naming
//! the variable; none of them falls back to a default.

use std::borrow::Cow;

use regex::Regex;
use sentry_core::protocol::LogLevel;
use sentry_core::types::Dsn;

use crate::error::ConfigError;
use crate::table::{BOOL_ACCEPTED, RATE_ACCEPTED};

/// The Spotlight sidecar's default endpoint.
pub const SPOTLIGHT_DEFAULT_URL: &str = "http://localhost:8969/stream";

type Name = Cow<'static, str>;

pub(crate) fn parse_bool(name: &Name, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::invalid(name.clone(), raw, BOOL_ACCEPTED)),
    }
}

pub(crate) fn parse_rate(name: &Name, raw: &str) -> Result<f64, ConfigError> {
    match raw.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(ConfigError::invalid(name.clone(), raw, RATE_ACCEPTED)),
    }
}

pub(crate) fn check_rate(name: &Name, rate: f64) -> Result<f64, ConfigError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ConfigError::invalid(
            name.clone(),
            rate.to_string(),
            RATE_ACCEPTED,
        ))
    }
}

pub(crate) fn parse_dsn(name: &Name, raw: &str) -> Result<Dsn, ConfigError> {
    raw.trim().parse::<Dsn>().map_err(|e| {
        ConfigError::invalid(
            name.clone(),
            redact_url_secret(raw),
            format!("a Sentry DSN such as https://PUBLIC_KEY@o123.ingest.sentry.io/456 ({e})"),
        )
    })
}

/// Replaces the password part of `scheme://user:password@host` with `***`,
/// so an error message never carries a DSN's secret key.
pub(crate) fn redact_url_secret(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://") else {
        return raw.to_owned();
    };
    let rest = &raw[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return raw.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &raw[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => raw.to_owned(),
    }
}

/// Parses `SENTRY_SPOTLIGHT`: a boolean word, or an `http(s)` URL.
pub(crate) fn parse_spotlight(name: &Name, raw: &str) -> Result<Option<String>, ConfigError> {
    let value = raw.trim();
    match value.to_ascii_lowercase().as_str() {
        "true" | "t" | "y" | "yes" | "on" | "1" => return Ok(Some(SPOTLIGHT_DEFAULT_URL.into())),
        "false" | "f" | "n" | "no" | "off" | "0" => return Ok(None),
        _ => {}
    }
    let valid = value
        .parse::<http::Uri>()
        .ok()
        .filter(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.host().is_some_and(|h| !h.is_empty())
        })
        .is_some();
    if valid {
        Ok(Some(value.to_owned()))
    } else {
        Err(ConfigError::invalid(
            name.clone(),
            raw,
            "true/t/y/yes/on/1, false/f/n/no/off/0, or an http(s) URL",
        ))
    }
}

pub(crate) fn parse_integer(
    name: &Name,
    raw: &str,
    min: u64,
    max: u64,
    expected: &'static str,
) -> Result<u64, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::invalid(name.clone(), raw, expected)),
    }
}

pub(crate) fn parse_org_id(name: &Name, raw: &str) -> Result<u64, ConfigError> {
    raw.trim().parse::<u64>().map_err(|_| {
        ConfigError::invalid(name.clone(), raw, "a whole number (the organization id)")
    })
}

pub(crate) fn parse_regex_list(name: &Name, raw: &str) -> Result<Vec<Regex>, ConfigError> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let regex = Regex::new(item).map_err(|e| {
            let detail = e.to_string();
            let detail = detail.lines().last().unwrap_or_default().trim().to_owned();
            ConfigError::invalid(
                name.clone(),
                raw,
                format!("comma-separated regular expressions (`{item}`: {detail})"),
            )
        })?;
        out.push(regex);
    }
    Ok(out)
}

pub(crate) fn parse_routes(name: &Name, raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !item.starts_with('/') || item.chars().any(char::is_whitespace) {
            return Err(ConfigError::invalid(
                name.clone(),
                raw,
                "comma-separated paths starting with /",
            ));
        }
        out.push(item.to_owned());
    }
    Ok(out)
}

pub(crate) fn parse_environment(name: &Name, raw: &str) -> Result<String, ConfigError> {
    let value = raw.trim();
    // What Sentry accepts as an environment name.
    if value.is_empty()
        || value.len() > 64
        || value.contains(|c: char| c == '/' || c.is_whitespace() || c.is_control())
        || value.eq_ignore_ascii_case("none")
    {
        return Err(ConfigError::invalid(
            name.clone(),
            raw,
            "an environment name of 1 to 64 characters without spaces or /, not `None`",
        ));
    }
    Ok(value.to_owned())
}

pub(crate) fn parse_release(name: &Name, raw: &str) -> Result<String, ConfigError> {
    let value = raw.trim();
    // Relay refuses these in a release name.
    if value.is_empty()
        || value == "."
        || value == ".."
        || value.eq_ignore_ascii_case("latest")
        || value.contains(['/', '\\', '\n', '\r', '\t'])
        || value.len() > 200
    {
        return Err(ConfigError::invalid(
            name.clone(),
            raw,
            "a release name of 1 to 200 characters without /, \\, tabs or newlines, not `.`, `..` or `latest`",
        ));
    }
    Ok(value.to_owned())
}

/// The format of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// The word used in `LOOKOUT_LOG_FORMAT`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Human => "human",
            Self::Json => "json",
        }
    }
}

pub(crate) fn parse_log_format(name: &Name, raw: &str) -> Result<LogFormat, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "human" => Ok(LogFormat::Human),
        "json" => Ok(LogFormat::Json),
        _ => Err(ConfigError::invalid(name.clone(), raw, "human or json")),
    }
}

/// The words `LOOKOUT_LOGS_LEVEL` accepts, lowest first.
pub(crate) const LOGS_LEVEL_ACCEPTED: &str = "trace, debug, info, warn or error";

/// Parses `LOOKOUT_LOGS_LEVEL`: the lowest level sent as a Sentry Log.
pub(crate) fn parse_logs_level(name: &Name, raw: &str) -> Result<LogLevel, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "trace" => Ok(LogLevel::Trace),
        "debug" => Ok(LogLevel::Debug),
        "info" => Ok(LogLevel::Info),
        "warn" => Ok(LogLevel::Warn),
        "error" => Ok(LogLevel::Error),
        _ => Err(ConfigError::invalid(name.clone(), raw, LOGS_LEVEL_ACCEPTED)),
    }
}

/// A log level set in code: the same words as the variable, `fatal` excluded
/// (a level no `tracing` event has).
pub(crate) fn check_logs_level(name: &Name, level: LogLevel) -> Result<LogLevel, ConfigError> {
    match level {
        LogLevel::Fatal => Err(ConfigError::invalid(
            name.clone(),
            "fatal",
            LOGS_LEVEL_ACCEPTED,
        )),
        level => Ok(level),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_secret_key_only() {
        assert_eq!(
            redact_url_secret("https://pub:sekrit@o1.ingest.sentry.io/2"),
            "https://pub:***@o1.ingest.sentry.io/2"
        );
        assert_eq!(
            redact_url_secret("https://pub@o1.ingest.sentry.io/2"),
            "https://pub@o1.ingest.sentry.io/2"
        );
        assert_eq!(redact_url_secret("not a url"), "not a url");
    }
}
