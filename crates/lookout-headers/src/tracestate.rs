//! The W3C `tracestate` header: validated as a whole, read without allocating.
//!
//! This module owns the member grammar and the "any invalid member drops the
//! whole tracestate" rule. It does not interpret vendor values.

use std::fmt;

use crate::error::{TraceStateError, TraceStateErrorKind as Kind};
use crate::sentry_trace::trim_ows;

/// At most this many members across all `tracestate` headers.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// A valid `tracestate`, borrowed from its header values (repeated headers
/// are combined in order).
///
/// `I` is the (cloneable) iterator over the header values; the members are
/// re-read from it on demand, so nothing is copied.
///
/// ```
/// use lookout_headers::TraceState;
///
/// let ts = TraceState::parse(["congo=t61rcWkgMzE", "acme@vendor=x,  rojo=00f067aa0ba902b7"])?;
/// assert_eq!(ts.len(), 3);
/// assert_eq!(ts.get("rojo"), Some("00f067aa0ba902b7"));
/// assert_eq!(ts.to_string(), "congo=t61rcWkgMzE,acme@vendor=x,rojo=00f067aa0ba902b7");
///
/// // One bad member drops the whole tracestate.
/// assert!(TraceState::parse(["congo=ok,Bad=upper"]).is_err());
/// # Ok::<(), lookout_headers::TraceStateError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TraceState<I> {
    values: I,
    len: usize,
}

impl<'a, I> TraceState<I>
where
    I: Iterator<Item = &'a str> + Clone,
{
    /// Validates the combined `tracestate` values. Empty members are allowed
    /// and ignored; more than 32 members, a duplicate key, or any invalid
    /// member makes the whole tracestate invalid.
    pub fn parse<V>(values: V) -> Result<Self, TraceStateError>
    where
        V: IntoIterator<IntoIter = I>,
    {
        let values = values.into_iter();
        // A 64-bit filter over (length, first and last byte) of the keys seen
        // so far: only a hit pays for an exact re-scan of earlier members.
        let mut seen = 0u64;
        let mut len = 0;
        for raw in raw_members(values.clone()) {
            let (key, value) = raw
                .split_once('=')
                .ok_or_else(|| TraceStateError::new(Kind::MissingEquals, raw))?;
            if !valid_key(key) {
                return Err(TraceStateError::new(Kind::Key, raw));
            }
            if !valid_value(value) {
                return Err(TraceStateError::new(Kind::Value, raw));
            }
            if len == MAX_TRACESTATE_MEMBERS {
                return Err(TraceStateError::new(Kind::TooManyMembers, raw));
            }
            let b = key.as_bytes();
            let bit =
                1u64 << ((b.len() + 7 * usize::from(b[0]) + 13 * usize::from(b[b.len() - 1])) % 64);
            if seen & bit != 0
                && raw_members(values.clone())
                    .take(len)
                    .any(|m| m.split_once('=').is_some_and(|(k, _)| k == key))
            {
                return Err(TraceStateError::new(Kind::DuplicateKey, key));
            }
            seen |= bit;
            len += 1;
        }
        Ok(Self { values, len })
    }

    /// The members, `(key, value)`, in order.
    pub fn members(&self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + use<'a, I> {
        raw_members(self.values.clone()).filter_map(|m| m.split_once('='))
    }

    /// The value of `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no members (an empty `tracestate` is valid).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'a, I> fmt::Display for TraceState<I>
where
    I: Iterator<Item = &'a str> + Clone,
{
    /// The combined value to forward: members joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.members().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

fn raw_members<'a, I>(values: I) -> impl Iterator<Item = &'a str> + Clone
where
    I: Iterator<Item = &'a str> + Clone,
{
    values
        .flat_map(|v| v.split(','))
        .map(trim_ows)
        .filter(|m| !m.is_empty())
}

/// Byte classes: key characters, and value characters (printable ASCII
/// without `,` and `=`).
const KEY_CHAR: u8 = 1;
const VALUE_CHAR: u8 = 2;
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0x20;
    while c <= 0x7e {
        let b = c as u8;
        if b != b',' && b != b'=' {
            table[c] = VALUE_CHAR;
        }
        if matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/') {
            table[c] |= KEY_CHAR;
        }
        c += 1;
    }
    table
};

fn is_key_char(c: u8) -> bool {
    CLASS[usize::from(c)] & KEY_CHAR != 0
}

/// `first` then up to `max_rest` key characters.
fn key_part(s: &str, first: impl Fn(u8) -> bool, max_rest: usize) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(&c) if first(c))
        && b.len() <= max_rest + 1
        && b[1..].iter().all(|&c| is_key_char(c))
}

fn valid_key(key: &str) -> bool {
    let lc_digit = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match key.split_once('@') {
        None => key_part(key, lc_digit, 255),
        Some((tenant, system)) => {
            key_part(tenant, lc_digit, 240) && key_part(system, |c| c.is_ascii_lowercase(), 13)
        }
    }
}

fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.last() != Some(&b' ')
        && b.iter().all(|&c| CLASS[usize::from(c)] & VALUE_CHAR != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[&str]) -> Result<usize, Kind> {
        TraceState::parse(values.iter().copied())
            .map(|t| t.len())
            .map_err(|e| e.kind())
    }

    /// One named case per SPEC-NOTES tracestate rule.
    #[test]
    fn spec_table() {
        let k256 = format!("a{}", "b".repeat(255));
        let k257 = format!("a{}", "b".repeat(256));
        let v256 = "v".repeat(256);
        let v257 = "v".repeat(257);
        let tenant241 = format!("t{}@sys", "x".repeat(240));
        let tenant242 = format!("t{}@sys", "x".repeat(241));
        let m32: String = (0..32).map(|i| format!("k{i}=v,")).collect();
        let m33: String = (0..33).map(|i| format!("k{i}=v,")).collect();
        let h1: String = (0..16).map(|i| format!("k{i}=v,")).collect();
        let h2: String = (16..33).map(|i| format!("k{i}=v,")).collect();
        let cases: Vec<(&str, Vec<String>, Result<usize, Kind>)> = vec![
            ("single member", vec!["rojo=00f067aa0ba902b7".into()], Ok(1)),
            (
                "repeated headers combined in order",
                vec!["a=1".into(), "b=2,c=3".into()],
                Ok(3),
            ),
            ("empty header is valid", vec![String::new()], Ok(0)),
            ("empty members ignored", vec![" , a=1 ,, ".into()], Ok(1)),
            ("32 members allowed", vec![m32], Ok(32)),
            (
                "33 members drop all",
                vec![m33.clone()],
                Err(Kind::TooManyMembers),
            ),
            (
                "33 members across headers drop all",
                vec![h1, h2],
                Err(Kind::TooManyMembers),
            ),
            ("key may start with a digit", vec!["1abc=v".into()], Ok(1)),
            ("key special characters", vec!["a_b-c*d/e=v".into()], Ok(1)),
            ("key of 256 characters", vec![format!("{k256}=v")], Ok(1)),
            (
                "key of 257 characters",
                vec![format!("{k257}=v")],
                Err(Kind::Key),
            ),
            ("uppercase key", vec!["Rojo=v".into()], Err(Kind::Key)),
            ("key starting with _", vec!["_a=v".into()], Err(Kind::Key)),
            ("tenant@system key", vec!["fw529a3039@dt=v".into()], Ok(1)),
            (
                "tenant may start with digit",
                vec!["1t@sys=v".into()],
                Ok(1),
            ),
            (
                "tenant of 241 characters",
                vec![format!("{tenant241}=v")],
                Ok(1),
            ),
            (
                "tenant of 242 characters",
                vec![format!("{tenant242}=v")],
                Err(Kind::Key),
            ),
            (
                "system of 14 characters",
                vec!["t@abcdefghijklmn=v".into()],
                Ok(1),
            ),
            (
                "system of 15 characters",
                vec!["t@abcdefghijklmno=v".into()],
                Err(Kind::Key),
            ),
            (
                "system starting with digit",
                vec!["t@1sys=v".into()],
                Err(Kind::Key),
            ),
            ("two @", vec!["a@b@c=v".into()], Err(Kind::Key)),
            ("empty key", vec!["=v".into()], Err(Kind::Key)),
            ("space before =", vec!["a =v".into()], Err(Kind::Key)),
            ("value of 256 characters", vec![format!("a={v256}")], Ok(1)),
            (
                "value of 257 characters",
                vec![format!("a={v257}")],
                Err(Kind::Value),
            ),
            ("value with inner space", vec!["a=b c".into()], Ok(1)),
            ("value with =", vec!["a=b=c".into()], Err(Kind::Value)),
            ("empty value", vec!["a=".into()], Err(Kind::Value)),
            (
                "value with control char",
                vec!["a=b\u{1}".into()],
                Err(Kind::Value),
            ),
            ("value non-ascii", vec!["a=é".into()], Err(Kind::Value)),
            (
                "member without =",
                vec!["a=1,b".into()],
                Err(Kind::MissingEquals),
            ),
            (
                "one invalid member drops all",
                vec!["a=1".into(), "B=2".into()],
                Err(Kind::Key),
            ),
            (
                "duplicate key drops all",
                vec!["a=1,b=2".into(), "a=3".into()],
                Err(Kind::DuplicateKey),
            ),
        ];
        for (name, values, want) in cases {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            assert_eq!(check(&refs), want, "case {name:?}");
        }
    }

    #[test]
    fn display_joins_in_order() {
        let ts = TraceState::parse(["b=2 ", " a=1,c=3"]).map(|t| t.to_string());
        assert_eq!(ts.as_deref(), Ok("b=2,a=1,c=3"));
    }
}
