//! Sets of HTTP status codes written as ranges and single codes
//! (`LOOKOUT_TRACE_IGNORE_STATUS_CODES`: `401-404, 301-303, 305-399`).
//!
//! Owns the grammar and the membership test; what is done with a matching
//! request (its transaction is not sent) is lookout-core's.

use std::borrow::Cow;
use std::fmt;
use std::ops::RangeInclusive;

use crate::error::ConfigError;

type Name = Cow<'static, str>;

/// The words `LOOKOUT_TRACE_IGNORE_STATUS_CODES` accepts.
pub(crate) const STATUS_CODES_ACCEPTED: &str = "comma-separated status codes (100 to 599) and ranges such as 401-404; an empty value keeps every transaction";

/// A set of HTTP status codes: ranges and single codes.
///
/// ```
/// use lookout_policy::{Settings, StatusCodes};
///
/// let settings = Settings::from_vars([("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "404, 500-503")])?;
/// let ignored = &settings.trace_ignore_status_codes.value;
/// assert!(ignored.contains(404) && ignored.contains(502));
/// assert!(!ignored.contains(401));
/// assert_eq!(ignored.to_string(), "404, 500-503");
/// assert!(StatusCodes::none().is_empty());
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusCodes {
    ranges: Vec<RangeInclusive<u16>>,
}

impl StatusCodes {
    /// No status code.
    #[must_use]
    pub const fn none() -> Self {
        Self { ranges: Vec::new() }
    }

    /// These ranges (a single code is `n..=n`). Refused when a range is
    /// empty or outside 100..=599.
    ///
    /// ```
    /// let codes = lookout_policy::StatusCodes::ranges([404..=404, 301..=303]).unwrap();
    /// assert!(codes.contains(302));
    /// assert!(lookout_policy::StatusCodes::ranges([600..=700]).is_err());
    /// ```
    pub fn ranges(
        ranges: impl IntoIterator<Item = RangeInclusive<u16>>,
    ) -> Result<Self, ConfigError> {
        let ranges: Vec<_> = ranges.into_iter().collect();
        if let Some(bad) = ranges.iter().find(|r| !valid(r)) {
            return Err(ConfigError::invalid(
                "Overrides::trace_ignore_status_codes",
                format!("{}-{}", bad.start(), bad.end()),
                STATUS_CODES_ACCEPTED,
            ));
        }
        Ok(Self { ranges })
    }

    /// Whether `status` is in the set.
    #[must_use]
    pub fn contains(&self, status: u16) -> bool {
        self.ranges.iter().any(|range| range.contains(&status))
    }

    /// Whether the set holds no code.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

impl fmt::Display for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if range.start() == range.end() {
                write!(f, "{}", range.start())?;
            } else {
                write!(f, "{}-{}", range.start(), range.end())?;
            }
        }
        Ok(())
    }
}

fn valid(range: &RangeInclusive<u16>) -> bool {
    range.start() <= range.end() && *range.start() >= 100 && *range.end() <= 599
}

/// Parses `LOOKOUT_TRACE_IGNORE_STATUS_CODES` (an empty value is no code).
pub(crate) fn parse_status_codes(name: &Name, raw: &str) -> Result<StatusCodes, ConfigError> {
    let refuse = || ConfigError::invalid(name.clone(), raw, STATUS_CODES_ACCEPTED);
    let mut ranges = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (start, end) = match item.split_once('-') {
            Some((start, end)) => (start.trim(), end.trim()),
            None => (item, item),
        };
        let (Ok(start), Ok(end)) = (start.parse::<u16>(), end.parse::<u16>()) else {
            return Err(refuse());
        };
        let range = start..=end;
        if !valid(&range) {
            return Err(refuse());
        }
        ranges.push(range);
    }
    Ok(StatusCodes { ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<StatusCodes, ConfigError> {
        parse_status_codes(&Cow::Borrowed("V"), raw)
    }

    #[test]
    fn ranges_and_single_codes() {
        let codes = parse("401-404, 301-303,305-399 , 418").unwrap();
        for hit in [401, 402, 404, 301, 303, 305, 399, 418] {
            assert!(codes.contains(hit), "{hit}");
        }
        for miss in [400, 405, 300, 304, 200, 500] {
            assert!(!codes.contains(miss), "{miss}");
        }
        assert_eq!(codes.to_string(), "401-404, 301-303, 305-399, 418");
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_code_or_range() {
        for raw in [
            "abc",
            "404-",
            "-404",
            "99",
            "600",
            "404-401",
            "4o4",
            "401-404-405",
        ] {
            let err = parse(raw).unwrap_err();
            assert_eq!(err.value(), raw);
            assert_eq!(err.expected(), STATUS_CODES_ACCEPTED);
        }
    }
}
