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
        let mut check = |raw: &'a str| -> Result<(), TraceStateError> {
            let (key, _) = split_member(raw)?;
            if len == MAX_TRACESTATE_MEMBERS {
                return Err(TraceStateError::new(Kind::TooManyMembers, raw));
            }
            let b = key.as_bytes();
            let (first, last) = (b.first().copied(), b.last().copied());
            let hash =
                b.len() + 7 * usize::from(first.unwrap_or(0)) + 13 * usize::from(last.unwrap_or(0));
            let bit = 1u64 << (hash % 64);
            if seen & bit != 0
                && raw_members(values.clone())
                    .take(len)
                    .any(|m| m.split_once('=').is_some_and(|(k, _)| k == key))
            {
                return Err(TraceStateError::new(Kind::DuplicateKey, key));
            }
            seen |= bit;
            len += 1;
            Ok(())
        };
        // Plain loops rather than the `raw_members` adapter chain: this is the
        // hot path of every traced request.
        for value in values.clone() {
            let mut rest = value;
            loop {
                let (raw, next) = match rest.bytes().position(|c| c == b',') {
                    Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
                    None => (rest, None),
                };
                let member = trim_ows(raw);
                if !member.is_empty() {
                    check(member)?;
                }
                match next {
                    Some(next) => rest = next,
                    None => break,
                }
            }
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

/// Splits and validates one trimmed, non-empty member in a single pass.
#[inline]
fn split_member(raw: &str) -> Result<(&str, &str), TraceStateError> {
    let b = raw.as_bytes();
    if b.first() == Some(&b'=') {
        return Err(TraceStateError::new(Kind::Key, raw));
    }
    let lc_digit = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    // Key: [a-z0-9] then key characters, with at most one `@` splitting
    // tenant (up to 241) from system (a letter, then up to 13 more).
    let mut key_ok = b.first().is_some_and(|&c| lc_digit(c));
    let mut at = None;
    let mut i = 1;
    let eq = loop {
        let Some(&c) = b.get(i) else {
            return Err(TraceStateError::new(Kind::MissingEquals, raw));
        };
        match c {
            b'=' => break i,
            b'@' if at.is_none() => {
                at = Some(i);
                key_ok &= b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            }
            _ => key_ok &= is_key_char(c),
        }
        i += 1;
    };
    key_ok &= match at {
        None => eq <= 256,
        Some(at) => at <= 241 && eq - at - 1 <= 14,
    };
    // `=` at position 0 leaves `key_ok` false through the first-byte check.
    let (Some(key), Some(value)) = (raw.get(..eq), raw.get(eq + 1..)) else {
        return Err(TraceStateError::new(Kind::Key, raw));
    };
    if !key_ok {
        return Err(TraceStateError::new(Kind::Key, raw));
    }
    if !valid_value(value) {
        return Err(TraceStateError::new(Kind::Value, raw));
    }
    Ok((key, value))
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
